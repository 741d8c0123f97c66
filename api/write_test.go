package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/seed-f1b503aa/foresight/engine"
	"github.com/seed-f1b503aa/foresight/storage/embedded"
)

// newClockedWriteServer serves a real embedded store whose clock, like the
// server's, is testNow.
func newClockedWriteServer(t *testing.T) (*httptest.Server, *embedded.Store) {
	t.Helper()
	store, err := embedded.Open(t.TempDir(), embedded.Options{Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	ts := httptest.NewServer(New(Options{Store: store, Now: func() time.Time { return testNow }}).Handler())
	t.Cleanup(ts.Close)
	return ts, store
}

type writeProblem struct {
	Status        int                `json:"status"`
	Code          string             `json:"code"`
	Detail        string             `json:"detail"`
	Lines         []engine.LineError `json:"lines"`
	RejectedLines int                `json:"rejected_lines"`
}

func postLines(t *testing.T, ts *httptest.Server, precision, body string) (*http.Response, writeProblem) {
	t.Helper()
	resp, b := do(t, "POST", ts.URL+"/api/v2/write?precision="+precision, strings.NewReader(body), nil)
	var p writeProblem
	if resp.StatusCode != http.StatusNoContent {
		if err := json.Unmarshal(b, &p); err != nil {
			t.Fatalf("%d %s: %v", resp.StatusCode, b, err)
		}
	}
	return resp, p
}

func countSamples(t *testing.T, store *embedded.Store, meas string, tags map[string]string, start, end time.Time) int {
	t.Helper()
	sr, err := store.Read(context.Background(), engine.SeriesKey{Measurement: meas, Field: "f", Tags: tags}, engine.RangeQuery{Start: start, End: end})
	if errors.Is(err, engine.ErrNotFound) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return len(sr.Samples)
}

// TestWriteFarFutureRefused: one point stamped in 2255 (a timestamp in
// seconds, 9000000000) used to be accepted and then make every
// present-time write "too old" (503 with Retry-After, forever). Now it is
// refused with 400 naming its line, nothing of its batch is written, and
// present-time writes keep working.
func TestWriteFarFutureRefused(t *testing.T) {
	ts, store := newClockedWriteServer(t)
	now := testNow.Unix()
	batch := fmt.Sprintf("m,host=a f=1 %d\n# the next line is 230 years ahead\nm,host=b f=1 9000000000\n", now)
	resp, p := postLines(t, ts, "s", batch)
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Retry-After") != "" {
		t.Fatalf("far-future batch: %d (Retry-After %q) %+v", resp.StatusCode, resp.Header.Get("Retry-After"), p)
	}
	if p.Code != "invalid" || p.RejectedLines != 1 || len(p.Lines) != 1 || p.Lines[0].Line != 3 ||
		!strings.Contains(p.Lines[0].Reason, "2255-03-14T16:00:00Z is more than 168h0m0s ahead of the store's clock (2026-10-02T00:00:00Z)") ||
		!strings.Contains(p.Detail, "nothing written: line 3: ") {
		t.Fatalf("problem %+v", p)
	}
	span := [2]time.Time{testNow.Add(-time.Hour), time.Unix(9000000001, 0)}
	if n := countSamples(t, store, "m", map[string]string{"host": "a"}, span[0], span[1]); n != 0 {
		t.Fatalf("the refused batch wrote %d samples of host=a", n)
	}
	if n := countSamples(t, store, "m", map[string]string{"host": "b"}, span[0], span[1]); n != 0 {
		t.Fatalf("the far-future point was stored (%d samples)", n)
	}
	// present-time writes are unaffected
	for i := range 3 {
		resp, p = postLines(t, ts, "s", fmt.Sprintf("m,host=a f=%d %d\n", i, now-int64(60*(3-i))))
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("present-time write %d after the refusal: %d %+v", i, resp.StatusCode, p)
		}
	}
	if n := countSamples(t, store, "m", map[string]string{"host": "a"}, span[0], span[1]); n != 3 {
		t.Fatalf("%d present-time samples, want 3", n)
	}
	// a week ahead is still accepted (forecasts written back)
	if resp, p = postLines(t, ts, "s", fmt.Sprintf("m,host=a f=9 %d\n", now+6*86400)); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("6 days ahead: %d %+v", resp.StatusCode, p)
	}
}

// TestWriteTooOldRefused: a point older than the retention behind the
// newest sample is the client's data, not a store outage: 400 naming the
// line (no Retry-After), nothing of the batch written.
func TestWriteTooOldRefused(t *testing.T) {
	ts, store := newClockedWriteServer(t)
	now := testNow.Unix()
	if resp, p := postLines(t, ts, "s", fmt.Sprintf("old,host=x f=1 %d\n", now)); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("seed: %d %+v", resp.StatusCode, p)
	}
	// 2001: far more than 400 days before the newest sample
	batch := fmt.Sprintf("old,host=y f=1 %d\nold,host=y f=2 1000000000\n", now-60)
	resp, p := postLines(t, ts, "s", batch)
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Retry-After") != "" {
		t.Fatalf("too-old batch: %d (Retry-After %q) %+v", resp.StatusCode, resp.Header.Get("Retry-After"), p)
	}
	if len(p.Lines) != 1 || p.Lines[0].Line != 2 || !strings.Contains(p.Lines[0].Reason, "2001-09-09T01:46:40Z is older than the retention (9600h0m0s) behind the newest sample (2026-10-02T00:00:00Z)") ||
		strings.Contains(p.Detail, "accepted") {
		t.Fatalf("problem %+v", p)
	}
	if n := countSamples(t, store, "old", map[string]string{"host": "y"}, time.Unix(0, 0), testNow.Add(time.Hour)); n != 0 {
		t.Fatalf("the refused batch wrote %d samples", n)
	}
}

// TestWriteConflictIs409: a different value at the time of a series'
// newest sample is not written (the store does not overwrite); the answer
// is 409, not a 503 inviting endless retries, and says the rest was written.
func TestWriteConflictIs409(t *testing.T) {
	ts, store := newClockedWriteServer(t)
	now := testNow.Unix()
	if resp, p := postLines(t, ts, "s", fmt.Sprintf("c f=1 %d\n", now)); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("seed: %d %+v", resp.StatusCode, p)
	}
	resp, p := postLines(t, ts, "s", fmt.Sprintf("c f=2 %d\nc,host=z f=3 %d\n", now, now))
	if resp.StatusCode != http.StatusConflict || resp.Header.Get("Retry-After") != "" || p.Code != "conflict" ||
		!strings.Contains(p.Detail, "1 of 2 samples not written") || !strings.Contains(p.Detail, "the rest of the batch was written") {
		t.Fatalf("conflicting write: %d (Retry-After %q) %+v", resp.StatusCode, resp.Header.Get("Retry-After"), p)
	}
	if n := countSamples(t, store, "c", map[string]string{"host": "z"}, testNow.Add(-time.Hour), testNow.Add(time.Hour)); n != 1 {
		t.Fatalf("the non-conflicting point: %d samples, want 1", n)
	}
	// the same batch again is idempotent for what was written, and still 409
	if resp, _ = postLines(t, ts, "s", fmt.Sprintf("c f=2 %d\nc,host=z f=3 %d\n", now, now)); resp.StatusCode != http.StatusConflict {
		t.Fatalf("retry: %d", resp.StatusCode)
	}
}

// refusingStore fails every Write with err.
type refusingStore struct {
	engine.MetricStore
	err error
}

func (r refusingStore) Write(context.Context, []engine.Point) error { return r.err }

type unrepresentable struct{}

func (unrepresentable) Error() string         { return "tag key \"$\" cannot be stored" }
func (unrepresentable) Unrepresentable() bool { return true }

// TestWriteStoreErrorMapping: only a store failure says 503 with
// Retry-After; refusals of the data itself (from any store) say 400/409.
func TestWriteStoreErrorMapping(t *testing.T) {
	_, store := newClockedWriteServer(t)
	for _, c := range []struct {
		err   error
		code  int
		retry string
	}{
		{fmt.Errorf("influx: write: %w", unrepresentable{}), http.StatusBadRequest, ""},
		{&engine.PointError{Index: 1, Err: errors.New("bad point")}, http.StatusBadRequest, ""},
		{fmt.Errorf("embedded: %w: 1 of 1 samples not written", engine.ErrConflict), http.StatusConflict, ""},
		{fmt.Errorf("influx: %w: connection refused", engine.ErrUnavailable), http.StatusServiceUnavailable, "10"},
	} {
		ts := httptest.NewServer(New(Options{Store: refusingStore{store, c.err}, Now: func() time.Time { return testNow }}).Handler())
		resp, p := postLines(t, ts, "s", "m f=1 1790000000\nm f=2 1790000001\n")
		ts.Close()
		if resp.StatusCode != c.code || resp.Header.Get("Retry-After") != c.retry {
			t.Errorf("%v: %d (Retry-After %q), want %d (%q)", c.err, resp.StatusCode, resp.Header.Get("Retry-After"), c.code, c.retry)
		}
		var pe *engine.PointError
		if errors.As(c.err, &pe) && (len(p.Lines) != 1 || p.Lines[0].Line != 2 || p.Lines[0].Reason != "bad point") {
			t.Errorf("point error: lines %+v, want line 2", p.Lines)
		}
	}
}
