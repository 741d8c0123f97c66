package api

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-f1b503aa/foresight/engine"
	"github.com/seed-f1b503aa/foresight/models"
)

func sineValues(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%.4f", 50+20*math.Sin(2*math.Pi*float64(i)/24))
	}
	return out
}

type forecastAnswer struct {
	Forecasts []struct {
		Series string           `json:"series"`
		Model  string           `json:"model"`
		Step   string           `json:"step"`
		Points []map[string]any `json:"points"`
		Error  *struct {
			Status int    `json:"status"`
			Detail string `json:"detail"`
			Need   int    `json:"need"`
		} `json:"error"`
	} `json:"forecasts"`
	Failed int `json:"failed"`
}

func TestPostForecast(t *testing.T) {
	ts, _ := newTestServer(t, 0)
	vals := strings.Join(sineValues(240), ",")
	body := `{"horizon":6,"step":"1h","model":"snaive","season":[24],"levels":[80,95],"series":[
		{"name":"cpu","start":"2026-01-01T00:00:00Z","values":[` + vals + `]},
		{"name":"short","start":"2026-01-01T00:00:00Z","values":[1,2]},
		{"name":"stamped","timestamps":[1767225600,"2026-01-01T01:00:00Z",1767232800,1767236400],"values":[1,null,3,4]}]}`
	resp, b := do(t, "POST", ts.URL+"/api/v1/forecast", strings.NewReader(body), nil)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	var a forecastAnswer
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	if len(a.Forecasts) != 3 || a.Failed != 1 {
		t.Fatalf("%s", b)
	}
	cpu := a.Forecasts[0]
	if cpu.Model != "snaive(24)" && !strings.HasPrefix(cpu.Model, "snaive") {
		t.Errorf("model %q", cpu.Model)
	}
	if len(cpu.Points) != 6 || cpu.Points[0]["t"] != "2026-01-11T00:00:00Z" {
		t.Fatalf("cpu points %v", cpu.Points)
	}
	if m := cpu.Points[0]["mean"].(float64); math.Abs(m-50) > 1e-3 {
		t.Errorf("mean %v, want 50 (one season back)", m)
	}
	for _, k := range []string{"lo80", "hi80", "lo95", "hi95"} {
		if _, ok := cpu.Points[0][k]; !ok {
			t.Errorf("no %s in %v", k, cpu.Points[0])
		}
	}
	if e := a.Forecasts[1].Error; e == nil || e.Status != 422 || !strings.Contains(e.Detail, "insufficient history") {
		t.Errorf("short series: %+v", a.Forecasts[1])
	}
	if a.Forecasts[2].Error != nil || len(a.Forecasts[2].Points) != 6 {
		t.Errorf("stamped: %+v", a.Forecasts[2])
	}
}

func TestPostForecastErrors(t *testing.T) {
	ts, _ := newTestServer(t, 0)
	for _, c := range []struct {
		body, want string
		status     int
	}{
		{``, "empty body", 400},
		{`{"horizon":`, "truncated JSON", 400},
		{`{"horizon":"x"}`, `expected int`, 400},
		{`{"horizon":5,"bogus":1}`, "bogus", 400},
		{`{"horizon":0,"series":[{"values":[1,2,3],"timestamps":[1,2,3]}]}`, "horizon 0", 400},
		{`{"horizon":5,"series":[]}`, "give 1 to", 400},
		{`{"horizon":5,"series":[{"values":[1,2,3]}]}`, "give timestamps", 400},
		{`{"horizon":5,"series":[{"values":[1,2],"timestamps":[1]}]}`, "1 timestamps but 2 values", 400},
		{`{"horizon":5,"series":[{"values":[1],"timestamps":["yesterday"]}]}`, "yesterday", 400},
		{`{"horizon":5,"model":"prophet","series":[{"values":[1],"timestamps":[1]}]}`, "prophet", 400},
		{`{"horizon":5,"series":[{"name":"tiny","values":[1,2],"timestamps":[1,2]}]}`, "insufficient history", 422},
		{`{"horizon":5} {}`, "trailing", 400},
	} {
		resp, b := do(t, "POST", ts.URL+"/api/v1/forecast", strings.NewReader(c.body), nil)
		if resp.StatusCode != c.status || !strings.Contains(string(b), c.want) || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
			t.Errorf("%s: %d %s (want %d mentioning %q)", c.body, resp.StatusCode, b, c.status, c.want)
		}
	}
}

func TestSeriesForecastFromStore(t *testing.T) {
	ts, _ := newTestServer(t, 0)
	// 10 days of hourly values ending at testNow
	var lpb strings.Builder
	for i := 0; i < 240; i++ {
		tm := testNow.Add(-time.Duration(240-i) * time.Hour)
		fmt.Fprintf(&lpb, "cpu,host=app-01 usage=%.4f %d\n", 50+20*math.Sin(2*math.Pi*float64(i)/24), tm.Unix())
	}
	resp, b := do(t, "POST", ts.URL+"/api/v2/write?precision=s", strings.NewReader(lpb.String()), nil)
	if resp.StatusCode != 204 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	id := url.PathEscape("cpu,host=app-01#usage")
	resp, b = do(t, "GET", ts.URL+"/api/v1/series/"+id+"/forecast?horizon=12&model=ets&season=24&history=10d&include_history=true", nil, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	var a struct {
		Forecast struct {
			Model  string           `json:"model"`
			Points []map[string]any `json:"points"`
		} `json:"forecast"`
		History []any `json:"history"`
	}
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	if len(a.Forecast.Points) != 12 || len(a.History) != 240 || !strings.HasPrefix(a.Forecast.Model, "ETS") {
		t.Fatalf("%s", b)
	}
	if a.Forecast.Points[0]["t"] != testNow.Format(time.RFC3339) {
		t.Errorf("first forecast at %v, want %v", a.Forecast.Points[0]["t"], testNow)
	}
	if m := a.Forecast.Points[0]["mean"].(float64); math.Abs(m-50) > 3 {
		t.Errorf("mean %v, want about 50", m)
	}
	for _, c := range []struct {
		q      string
		status int
	}{
		{"?horizon=0", 400}, {"?history=2d&step=1s", 400}, {"?level=abc", 400}, {"?season=x", 400},
		{"?history=3h&model=mstl&season=24", 422},
	} {
		resp, b := do(t, "GET", ts.URL+"/api/v1/series/"+id+"/forecast"+c.q, nil, nil)
		if resp.StatusCode != c.status {
			t.Errorf("%s: %d %s", c.q, resp.StatusCode, b)
		}
	}
	resp, _ = do(t, "GET", ts.URL+"/api/v1/series/"+url.PathEscape("cpu,host=nope#usage")+"/forecast", nil, nil)
	if resp.StatusCode != 404 {
		t.Errorf("missing series: %d", resp.StatusCode)
	}
}

// TestForecastCacheAndGzip: the same forecast asked twice is fitted once
// (X-Cache: miss, then hit, same body); 20 concurrent askers of a new
// query share one fit; answers are gzip-compressed when asked for.
func TestForecastCacheAndGzip(t *testing.T) {
	ts, _ := newTestServer(t, 0)
	var lpb strings.Builder
	for i := 0; i < 240; i++ {
		tm := testNow.Add(-time.Duration(240-i) * time.Hour)
		fmt.Fprintf(&lpb, "cpu,host=app-01 usage=%.4f %d\n", 50+20*math.Sin(2*math.Pi*float64(i)/24), tm.Unix())
	}
	if resp, b := do(t, "POST", ts.URL+"/api/v2/write?precision=s", strings.NewReader(lpb.String()), nil); resp.StatusCode != 204 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	u := ts.URL + "/api/v1/series/" + url.PathEscape("cpu,host=app-01#usage") + "/forecast?horizon=12&model=ets&season=24&history=10d"
	r1, b1 := do(t, "GET", u, nil, nil)
	r2, b2 := do(t, "GET", u, nil, nil)
	if r1.Header.Get("X-Cache") != "miss" || r2.Header.Get("X-Cache") != "hit" || !bytes.Equal(b1, b2) || r2.StatusCode != 200 {
		t.Fatalf("%q %q equal=%v", r1.Header.Get("X-Cache"), r2.Header.Get("X-Cache"), bytes.Equal(b1, b2))
	}
	if r1.Header.Get(RequestIDHeader) == r2.Header.Get(RequestIDHeader) {
		t.Fatal("a cached answer must carry its own request id")
	}
	// An error is not cached.
	bad := ts.URL + "/api/v1/series/" + url.PathEscape("cpu,host=nope#usage") + "/forecast"
	for i := 0; i < 2; i++ {
		if resp, _ := do(t, "GET", bad, nil, nil); resp.StatusCode != 404 || resp.Header.Get("X-Cache") == "hit" {
			t.Fatalf("error answer: %d %q", resp.StatusCode, resp.Header.Get("X-Cache"))
		}
	}
	var wg sync.WaitGroup
	caches := make([]string, 20)
	bodies := make([][]byte, 20)
	for i := range caches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(u + "&level=90")
			if err != nil {
				return
			}
			defer resp.Body.Close()
			bodies[i], _ = io.ReadAll(resp.Body)
			caches[i] = resp.Header.Get("X-Cache")
		}()
	}
	wg.Wait()
	misses := 0
	for i, c := range caches {
		if c == "miss" {
			misses++
		}
		if !bytes.Equal(bodies[i], bodies[0]) || len(bodies[i]) == 0 {
			t.Fatalf("answer %d differs", i)
		}
	}
	if misses != 1 {
		t.Fatalf("%d fits for 20 concurrent identical requests (%v), want 1", misses, caches)
	}

	// gzip when asked (the transport does not decode when we set the header).
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding %q", resp.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(plain, b1) {
		t.Fatalf("gzip body differs: %v", err)
	}
}

func TestListPaginationHeaders(t *testing.T) {
	ts, _ := newTestServer(t, 0)
	if resp, b := do(t, "POST", ts.URL+"/api/v2/write?precision=s", strings.NewReader(lp(3, "a")+lp(3, "b")+lp(3, "c")), nil); resp.StatusCode != 204 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	resp, _ := do(t, "GET", ts.URL+"/api/v1/series?measurement=disk&limit=2", nil, nil)
	// 3 hosts × 2 fields = 6 series.
	if resp.Header.Get("X-Total-Count") != "6" || resp.Header.Get("Link") != `</api/v1/series?limit=2&measurement=disk&offset=2>; rel="next"` {
		t.Fatalf("%v", resp.Header)
	}
	resp, _ = do(t, "GET", ts.URL+"/api/v1/series?measurement=disk&limit=2&offset=4", nil, nil)
	if resp.Header.Get("Link") != "" {
		t.Fatalf("last page has a next link: %v", resp.Header)
	}
}

// postForecastProblem posts body and decodes the problem answer.
func postForecastProblem(t *testing.T, url, body string) (int, string) {
	t.Helper()
	resp, b := do(t, "POST", url+"/api/v1/forecast", strings.NewReader(body), nil)
	var p struct {
		Detail string `json:"detail"`
	}
	_ = json.Unmarshal(b, &p)
	return resp.StatusCode, p.Detail
}

// TestPostForecastTimesOutOfRange: a request whose times fall outside the
// int64-nanosecond range used to panic in a forecast worker goroutine and
// take the whole server down. It gets a 400 naming the series, the sample
// or field and the bound, and the server keeps serving.
func TestPostForecastTimesOutOfRange(t *testing.T) {
	ts, _ := newTestServer(t, 0)
	for _, c := range []struct{ body, detail string }{
		{`{"horizon":1,"series":[{"timestamps":[99999999999,99999999999,99999999998],"values":[1,2,3]}]}`,
			"series0: sample 0: time 5138-11-16T09:46:39Z is after 2262-04-11T23:47:16.854775807Z, the latest time supported"},
		{`{"horizon":2,"step":"1h","model":"snaive","season":[2],"series":[{"start":"2262-04-12T00:00:00Z","values":[1,2,3,4]}]}`,
			"series[0] (series0): start and step: grid start: time 2262-04-12T00:00:00Z is after 2262-04-11T23:47:16.854775807Z"},
		{`{"horizon":2,"step":"1h","model":"snaive","season":[2],"series":[{"name":"late","start":"2262-04-11T20:00:00Z","values":[1,2,3,4]}]}`,
			"late: a horizon of 2 steps of 1h after the last point (2262-04-11T23:00:00Z) ends after 2262-04-11T23:47:16.854775807Z"},
		{`{"horizon":2,"step":"36500d","series":[{"start":"2026-01-01T00:00:00Z","values":[1,2,3,4]}]}`,
			"series[0] (series0): start and step: 4 points at step 36500d from 2026-01-01T00:00:00Z end after 2262-04-11T23:47:16.854775807Z"},
		{`{"horizon":1,"series":[{"timestamps":[-99999999999,1767225600,1767229200],"values":[1,2,3]}]}`,
			"series0: sample 0: time -1199-02-15T14:13:21Z is before 1677-09-21T00:12:43.145224192Z, the earliest time supported"},
	} {
		code, detail := postForecastProblem(t, ts.URL, c.body)
		if code != http.StatusBadRequest || !strings.Contains(detail, c.detail) {
			t.Errorf("%s:\n got %d %q\nwant 400 %q", c.body, code, detail, c.detail)
		}
	}
	// one bad series among good ones fails alone
	body := `{"horizon":2,"step":"1h","model":"snaive","season":[2],"series":[
		{"name":"ok","start":"2026-01-01T00:00:00Z","values":[1,2,1,2,1,2]},
		{"name":"late","start":"2262-04-11T20:00:00Z","values":[1,2,1,2]}]}`
	resp, b := do(t, "POST", ts.URL+"/api/v1/forecast", strings.NewReader(body), nil)
	var a forecastAnswer
	if err := json.Unmarshal(b, &a); err != nil || resp.StatusCode != 200 || a.Failed != 1 || a.Forecasts[0].Error != nil ||
		len(a.Forecasts[0].Points) != 2 || a.Forecasts[1].Error == nil || a.Forecasts[1].Error.Status != 400 {
		t.Fatalf("mixed request: %d %s", resp.StatusCode, b)
	}
	// the server is still up
	if resp, _ := do(t, "GET", ts.URL+"/healthz", nil, nil); resp.StatusCode != 200 {
		t.Fatalf("healthz after the requests: %d", resp.StatusCode)
	}
}

// TestPostForecastHugeValues: values no model can fit used to answer 500
// "no candidate model could be fitted"; it is the input's fault: 400
// naming the sample and the bound.
func TestPostForecastHugeValues(t *testing.T) {
	ts, _ := newTestServer(t, 0)
	alt := make([]string, 10)
	for i := range alt {
		alt[i] = []string{"1e308", "-1e308"}[i%2]
	}
	for body, detail := range map[string]string{
		`{"horizon":1,"step":"1h","model":"auto","series":[{"start":"2000-01-01T00:00:00Z","values":[0,1e292,-1.7976931348623157e308,1e292]}]}`: "series0: sample 1: value 1e+292 is too large to forecast: |value| must stay below 1e+150",
		`{"horizon":1,"step":"1h","model":"auto","series":[{"start":"2000-01-01T00:00:00Z","values":[` + strings.Join(alt, ",") + `]}]}`:        "series0: sample 0: value 1e+308 is too large to forecast",
	} {
		if code, got := postForecastProblem(t, ts.URL, body); code != http.StatusBadRequest || !strings.Contains(got, detail) {
			t.Errorf("%s: %d %q, want 400 %q", body, code, got, detail)
		}
	}
}

// TestForecastStatus maps each kind of forecast failure to its status: the
// caller's request 400, the data's fault 422 (too short, or no model can
// fit it), a panic in a model 500 (a server bug, logged with its stack).
func TestForecastStatus(t *testing.T) {
	for _, c := range []struct {
		err  error
		want int
	}{
		{fmt.Errorf("%w: x", engine.ErrBadRequest), 400},
		{&engine.InsufficientHistory{Series: "s", Need: 3, Have: 1}, 422},
		{&engine.UnfittableError{Series: "s", Model: "auto", Err: fmt.Errorf("auto: %w", models.ErrNoModel)}, 422},
		{fmt.Errorf("wrapped: %w", &engine.UnfittableError{Series: "s", Model: "ets", Err: models.ErrNonPositive}), 422},
		{&engine.PanicError{Index: 0, Value: "bug"}, 500},
		{context.DeadlineExceeded, 503},
	} {
		if got := forecastStatus(c.err); got != c.want {
			t.Errorf("%v: %d, want %d", c.err, got, c.want)
		}
	}
}
