package api

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/seed-f1b503aa/foresight/engine"
	"github.com/seed-f1b503aa/foresight/storage/embedded"
)

var testNow = time.Date(2026, 10, 2, 0, 0, 0, 0, time.UTC)

// newTestServer serves a real embedded store in a temporary directory.
func newTestServer(t *testing.T, maxBody int64) (*httptest.Server, engine.MetricStore) {
	t.Helper()
	store, err := embedded.Open(t.TempDir(), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	srv := New(Options{Store: store, MaxBodyBytes: maxBody, Now: func() time.Time { return testNow }})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts, store
}

func do(t *testing.T, method, u string, body io.Reader, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func lp(n int, host string) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "disk,host=%s,path=/data used=%di,total=1000i %d\n", host, 100+i, testNow.Add(-time.Duration(n-i)*time.Minute).Unix())
	}
	return b.String()
}

func TestWriteThenListAndRead(t *testing.T) {
	ts, _ := newTestServer(t, 0)
	resp, body := do(t, "POST", ts.URL+"/api/v2/write?org=x&bucket=y&precision=s", strings.NewReader(lp(120, "db-01")), nil)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("write: %d %s", resp.StatusCode, body)
	}
	resp, body = do(t, "GET", ts.URL+"/api/v1/series?measurement=disk&tag=host:db-01&start=-1d", nil, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("list: %d %s", resp.StatusCode, body)
	}
	var list struct {
		Series []seriesItem `json:"series"`
		Total  int          `json:"total"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatal(err)
	}
	if list.Total != 2 || list.Series[0].ID != "disk,host=db-01,path=/data#total" || list.Series[1].ID != "disk,host=db-01,path=/data#used" {
		t.Fatalf("list: %s", body)
	}
	id := url.PathEscape(list.Series[1].ID)
	resp, body = do(t, "GET", ts.URL+"/api/v1/series/"+id+"/data?start=-2h&step=1h&agg=max", nil, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("data: %d %s", resp.StatusCode, body)
	}
	var data struct {
		Samples []engine.Sample `json:"samples"`
	}
	if err := json.Unmarshal(body, &data); err != nil {
		t.Fatal(err)
	}
	if len(data.Samples) != 2 || data.Samples[1].Value != 219 {
		t.Fatalf("data: %s", body)
	}
}

func TestWriteGzip(t *testing.T) {
	ts, store := newTestServer(t, 0)
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	_, _ = zw.Write([]byte(lp(10, "gz")))
	_ = zw.Close()
	resp, body := do(t, "POST", ts.URL+"/api/v2/write?precision=s", &zb, map[string]string{"Content-Encoding": "gzip"})
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("gzip write: %d %s", resp.StatusCode, body)
	}
	sr, err := store.Read(context.Background(), engine.SeriesKey{Measurement: "disk", Field: "used", Tags: map[string]string{"host": "gz", "path": "/data"}},
		engine.RangeQuery{Start: testNow.Add(-time.Hour), End: testNow})
	if err != nil || len(sr.Samples) != 10 {
		t.Fatalf("read back: %v %v", sr, err)
	}
}

func TestWriteMalformedRejectsWholeBatch(t *testing.T) {
	ts, store := newTestServer(t, 0)
	batch := lp(5, "bad") + "disk,host=bad used= 1\n" + lp(3, "bad2") + "disk,host=bad used=\"x\" notatime\n"
	resp, body := do(t, "POST", ts.URL+"/api/v2/write?precision=s", strings.NewReader(batch), nil)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Errorf("content type %q", ct)
	}
	var p struct {
		Status int                `json:"status"`
		Lines  []engine.LineError `json:"lines"`
		Detail string             `json:"detail"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Status != 400 || len(p.Lines) != 2 || p.Lines[0].Line != 6 || p.Lines[1].Line != 10 {
		t.Fatalf("problem %s", body)
	}
	// nothing of the batch was written
	_, err := store.Read(context.Background(), engine.SeriesKey{Measurement: "disk", Field: "used", Tags: map[string]string{"host": "bad", "path": "/data"}},
		engine.RangeQuery{Start: testNow.Add(-time.Hour), End: testNow})
	if !errors.Is(err, engine.ErrNotFound) {
		t.Fatalf("a rejected batch was partly written: %v", err)
	}
	// an earlier, accepted batch is untouched by a later rejected one
	resp, _ = do(t, "POST", ts.URL+"/api/v2/write?precision=s", strings.NewReader(lp(5, "good")), nil)
	if resp.StatusCode != 204 {
		t.Fatal(resp.Status)
	}
	do(t, "POST", ts.URL+"/api/v2/write?precision=s", strings.NewReader("garbage\n"), nil)
	sr, err := store.Read(context.Background(), engine.SeriesKey{Measurement: "disk", Field: "used", Tags: map[string]string{"host": "good", "path": "/data"}},
		engine.RangeQuery{Start: testNow.Add(-time.Hour), End: testNow})
	if err != nil || len(sr.Samples) != 5 {
		t.Fatalf("accepted data lost: %v %v", sr, err)
	}
}

func TestWriteLimitsAndBadParams(t *testing.T) {
	ts, _ := newTestServer(t, 1000)
	resp, body := do(t, "POST", ts.URL+"/api/v2/write", strings.NewReader(lp(100, "big")), nil)
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversize: %d %s", resp.StatusCode, body)
	}
	// a gzip bomb: small on the wire, large decoded
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	_, _ = zw.Write([]byte(strings.Repeat("m f=1 1\n", 10000)))
	_ = zw.Close()
	resp, body = do(t, "POST", ts.URL+"/api/v2/write", &zb, map[string]string{"Content-Encoding": "gzip"})
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("gzip bomb: %d %s", resp.StatusCode, body)
	}
	for _, c := range []struct {
		q, enc, body string
		status       int
	}{
		{"precision=h", "", "m f=1 1\n", 400},
		{"", "br", "m f=1 1\n", 415},
		{"", "gzip", "not gzip", 400},
	} {
		resp, body := do(t, "POST", ts.URL+"/api/v2/write?"+c.q, strings.NewReader(c.body), map[string]string{"Content-Encoding": c.enc})
		if resp.StatusCode != c.status {
			t.Errorf("%+v: %d %s", c, resp.StatusCode, body)
		}
	}
}

func TestSeriesErrors(t *testing.T) {
	ts, _ := newTestServer(t, 0)
	for _, c := range []struct {
		path   string
		status int
	}{
		{"/api/v1/series?tag=nocolon", 400},
		{"/api/v1/series?limit=0", 400},
		{"/api/v1/series?start=yesterday", 400},
		{"/api/v1/series/" + url.PathEscape("nofield") + "/data", 400},
		{"/api/v1/series/" + url.PathEscape("disk,host=x#used") + "/data", 404},
		{"/api/v1/series/" + url.PathEscape("disk#used") + "/data?step=-1m", 400},
		{"/api/v1/series/" + url.PathEscape("disk#used") + "/data?agg=median", 400},
		{"/api/v1/series/" + url.PathEscape("disk#used") + "/data?start=-300d&step=1s", 400},
		{"/nope", 404},
	} {
		resp, body := do(t, "GET", ts.URL+c.path, nil, nil)
		if resp.StatusCode != c.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
			t.Errorf("%s: %d %q %s", c.path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		if resp.Header.Get(RequestIDHeader) == "" {
			t.Errorf("%s: no request id", c.path)
		}
	}
	resp, _ := do(t, "DELETE", ts.URL+"/api/v1/series", nil, nil)
	if resp.StatusCode != 405 {
		t.Errorf("DELETE: %d", resp.StatusCode)
	}
}

func TestHealthReadyMetrics(t *testing.T) {
	ts, store := newTestServer(t, 0)
	resp, _ := do(t, "GET", ts.URL+"/healthz", nil, nil)
	if resp.StatusCode != 200 {
		t.Fatal(resp.Status)
	}
	resp, body := do(t, "GET", ts.URL+"/readyz", nil, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("%s %s", resp.Status, body)
	}
	do(t, "POST", ts.URL+"/api/v2/write?precision=s", strings.NewReader(lp(3, "m")), nil)
	resp, body = do(t, "GET", ts.URL+"/metrics", nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(string(body), "foresight_ingest_points_total 3") ||
		!strings.Contains(string(body), `foresight_http_requests_total{code="204",method="POST",route="/api/v2/write"} 1`) {
		t.Fatalf("metrics: %s", body)
	}
	// a closed store makes the server unready, with the reason
	_ = store.Close()
	resp, body = do(t, "GET", ts.URL+"/readyz", nil, nil)
	if resp.StatusCode != 503 || !strings.Contains(string(body), "store") {
		t.Fatalf("readyz on a closed store: %d %s", resp.StatusCode, body)
	}
}

func TestReadyHook(t *testing.T) {
	store, err := embedded.Open(t.TempDir(), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	srv := New(Options{Store: store, Ready: func() error { return errors.New("demo fleet preload in progress: 40%") }})
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != 503 || !strings.Contains(rec.Body.String(), "40%") {
		t.Fatalf("%d %s", rec.Code, rec.Body.String())
	}
}
