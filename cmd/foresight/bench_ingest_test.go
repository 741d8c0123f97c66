package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-f1b503aa/foresight/engine"
)

// TestBenchIngestGenerator: exactly the series asked for, batches of whole
// lines within the batch size, every series with one client and increasing
// timestamps.
func TestBenchIngestGenerator(t *testing.T) {
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	g, err := newIngestGen(300, 3, 500, "t1", start, time.Second, false, 1)
	if err != nil {
		t.Fatal(err)
	}
	series := 0
	for _, l := range g.linesAll {
		series += len(l.fields)
	}
	if series != 300 || g.series != 300 {
		t.Fatalf("%d series (g.series %d), want 300", series, g.series)
	}
	owner := map[string]int{}
	last := map[string]time.Time{}
	for round := 0; round < 4; round++ {
		for w := range g.clients {
			body, err := g.next(w)
			if err != nil {
				t.Fatal(err)
			}
			pts, _, err := engine.ParseLineProtocol(bytes.NewReader(body), time.Nanosecond, start)
			if err != nil {
				t.Fatalf("client %d batch %d: %v", w, round, err)
			}
			n := 0
			for _, p := range pts {
				if p.Tags["run"] != "t1" || p.Tags["host"] == "" {
					t.Fatalf("tags %v", p.Tags)
				}
				for f := range p.Fields {
					n++
					id := engine.SeriesKey{Measurement: p.Measurement, Field: f, Tags: p.Tags}.ID()
					if o, ok := owner[id]; ok && o != w {
						t.Fatalf("%s written by clients %d and %d", id, o, w)
					}
					owner[id] = w
					if !p.Time.After(last[id]) {
						t.Fatalf("%s: %s after %s", id, p.Time, last[id])
					}
					last[id] = p.Time
				}
			}
			if int64(n) != g.clients[w].lastPoints || n > 500 || n < 500-maxIngestFields+1 {
				t.Fatalf("client %d batch %d: %d points, booked %d", w, round, n, g.clients[w].lastPoints)
			}
			g.answered(w, http.StatusNoContent)
		}
	}
	s := g.summary()
	if s.ackedBatches != 12 || s.seriesAcked != 300 || len(owner) != 300 {
		t.Fatalf("summary %+v, %d series seen", s, len(owner))
	}
}

// fakeWrite is a write endpoint that stores per series point counts and
// answers every fourth batch 503 without storing it.
type fakeWrite struct {
	mu      sync.Mutex
	calls   int
	refused int
	points  int64
	lines   int64
	series  map[string]int
}

func (f *fakeWrite) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/api/v2/write":
		pts, _, err := engine.ParseLineProtocol(r.Body, time.Nanosecond, time.Now())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		f.calls++
		if f.calls%4 == 0 {
			f.refused++
			w.Header().Set("Retry-After", "10")
			http.Error(w, "store down", http.StatusServiceUnavailable)
			return
		}
		for _, p := range pts {
			f.lines++
			for fl := range p.Fields {
				f.points++
				f.series[engine.SeriesKey{Measurement: p.Measurement, Field: fl, Tags: p.Tags}.ID()]++
			}
		}
		w.WriteHeader(http.StatusNoContent)
	case "/api/v1/series":
		f.mu.Lock()
		defer f.mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]any{"series": []any{}, "total": len(f.series)})
	case "/metrics":
		f.mu.Lock()
		defer f.mu.Unlock()
		fmt.Fprintf(w, "# TYPE foresight_ingest_points_total counter\nforesight_ingest_points_total %d\n", f.lines)
	default:
		http.NotFound(w, r)
	}
}

func TestBenchIngestReports503s(t *testing.T) {
	f := &fakeWrite{series: map[string]int{}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	var out, errOut strings.Builder
	err := run(context.Background(), []string{"bench", "ingest", "-server", srv.URL, "-clients", "2", "-requests", "20",
		"-batch", "400", "-series", "500", "-verify-reads", "0"}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "5 of 20 batches failed (503×5)") {
		t.Fatalf("err = %v\n%s", err, out.String())
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.calls != 20 || f.refused != 5 {
		t.Fatalf("server saw %d batches, refused %d", f.calls, f.refused)
	}
	table := out.String()
	if !strings.Contains(table, "| 5 (25.00%: 503×5; ") {
		t.Errorf("the 503s are not in the table:\n%s", table)
	}
	if m := regexp.MustCompile(`(?m)^\| ([0-9,]+) \| [0-9,]+ \| 20 \|`).FindStringSubmatch(table); m == nil {
		t.Errorf("no result row with 20 batches:\n%s", table)
	} else if got, _ := strconv.ParseInt(strings.ReplaceAll(m[1], ",", ""), 10, 64); got != f.points {
		t.Errorf("table says %d points acknowledged, the server stored %d", got, f.points)
	}
	want := fmt.Sprintf("| lines counted by the server (foresight_ingest_points_total delta, counts lines; any writer) | %s | %s | ok |",
		thousands(f.lines), thousands(f.lines))
	if !strings.Contains(table, want) {
		t.Errorf("missing %q in\n%s", want, table)
	}
}

// TestBenchIngestEmbeddedServer runs the benchmark briefly against an
// in-process server on an embedded store: every acknowledged point must be
// read back.
func TestBenchIngestEmbeddedServer(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("FORESIGHT_SERVER_LISTEN", "127.0.0.1:0")
	t.Setenv("FORESIGHT_STORE_BACKEND", "embedded")
	t.Setenv("FORESIGHT_STORE_EMBEDDED_DIR", filepath.Join(dir, "tsdb"))
	t.Setenv("FORESIGHT_DEMO_PRELOAD", "false")
	t.Setenv("FORESIGHT_JOBS_ENABLED", "false")
	t.Setenv("FORESIGHT_AUTH_RATE_LIMIT", "0")
	t.Setenv("FORESIGHT_LOG_LEVEL", "warn")
	base := startServe(t)

	var out, errOut strings.Builder
	err := run(context.Background(), []string{"bench", "ingest", "-server", base, "-clients", "3", "-requests", "30",
		"-batch", "250", "-series", "400", "-verify-reads", "-1", "-run-id", "e2e", "-gzip"}, &out, &errOut)
	if err != nil {
		t.Fatalf("%v\n%s\n%s", err, out.String(), errOut.String())
	}
	table := out.String()
	m := regexp.MustCompile(`(?m)^\| ([0-9,]+) \| [0-9,]+ \| 30 \| [0-9.]+ \| 0 \|`).FindStringSubmatch(table)
	if m == nil {
		t.Fatalf("no result row with 30 batches and no failure:\n%s", table)
	}
	acked := m[1]
	for _, want := range []string{
		"| series listed (GET /api/v1/series total, run=e2e) | 400 | 400 | ok |",
		"| points read back one by one (GET /api/v1/series/{id}/data, 400 series) | " + acked + " | " + acked + " | ok |",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("missing %q in\n%s", want, table)
		}
	}
	// 30 batches of 247 to 250 points.
	n, _ := strconv.Atoi(strings.ReplaceAll(acked, ",", ""))
	if n < 30*(250-maxIngestFields+1) || n > 30*250 {
		t.Errorf("%d points acknowledged for 30 batches of at most 250", n)
	}
}
