package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/seed-f1b503aa/foresight/benchmark/load"
)

var benchAPIIDs = []string{
	"cpu,cpu=cpu-total,host=app-01#usage_active",
	"cpu,cpu=cpu-total,host=app-02#usage_active",
	"cpu,cpu=cpu-total,host=db-01#usage_active",
}

// fakeAPI answers the routes bench api uses, counting what it sees.
type fakeAPI struct {
	mu          sync.Mutex
	predictions int
	forecasts   map[string]int // by unescaped series id
	listQueries []string
	auth        map[string]int
	bad         []string // requests it did not expect
	predStatus  int
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.auth[r.Header.Get("Authorization")]++
	p := r.URL.EscapedPath()
	switch {
	case p == "/api/v1/series":
		f.listQueries = append(f.listQueries, r.URL.RawQuery)
		n := len(benchAPIIDs)
		if l := r.URL.Query().Get("limit"); l == "2" {
			n = 2
		}
		var items []map[string]any
		for _, id := range benchAPIIDs[:n] {
			items = append(items, map[string]any{"id": id, "measurement": "cpu", "field": "usage_active"})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"series": items, "total": len(benchAPIIDs)})
	case p == "/api/v1/predictions" && r.URL.RawQuery == "":
		if f.predStatus != 0 {
			http.Error(w, `{"detail":"predictions not computed yet"}`, f.predStatus)
			return
		}
		f.predictions++
		_, _ = w.Write([]byte(`{"predictions":[],"total":0}`))
	case strings.HasPrefix(p, "/api/v1/series/") && strings.HasSuffix(p, "/forecast") && r.URL.RawQuery == "horizon=48":
		// The id must arrive as one escaped path segment.
		seg := strings.TrimSuffix(strings.TrimPrefix(p, "/api/v1/series/"), "/forecast")
		id, err := url.PathUnescape(seg)
		if err != nil || strings.Contains(seg, "/") || strings.Contains(seg, ",") || strings.Contains(seg, "#") {
			f.bad = append(f.bad, p)
			http.Error(w, "bad id", http.StatusBadRequest)
			return
		}
		f.forecasts[id]++
		_, _ = w.Write([]byte(`{"forecast":{}}`))
	default:
		f.bad = append(f.bad, r.URL.String())
		http.NotFound(w, r)
	}
}

func newFakeAPI() *fakeAPI { return &fakeAPI{forecasts: map[string]int{}, auth: map[string]int{}} }

func TestBenchAPIClosedLoopAgainstAFakeServer(t *testing.T) {
	f := newFakeAPI()
	srv := httptest.NewServer(f)
	defer srv.Close()
	var out, errOut strings.Builder
	err := run(context.Background(), []string{"bench", "api", "-server", srv.URL + "/", "-token", "s3cret",
		"-clients", "3", "-requests", "120", "-warmup", "0", "-series", "2", "-json"}, &out, &errOut)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	var res load.Result
	if err := json.Unmarshal([]byte(out.String()), &res); err != nil {
		t.Fatalf("stdout is not the JSON result: %v\n%s", err, out.String())
	}
	if res.Mode != load.ModeClosed || res.Clients != 3 || res.Total.Requests != 120 || res.Total.OK != 120 || res.Total.Errors() != 0 {
		t.Fatalf("result: %+v", res)
	}
	wantNames := []string{"GET /api/v1/predictions",
		"GET /api/v1/series/" + benchAPIIDs[0] + "/forecast?horizon=48",
		"GET /api/v1/series/" + benchAPIIDs[1] + "/forecast?horizon=48"}
	if len(res.Targets) != len(wantNames) {
		t.Fatalf("%d targets, want %d", len(res.Targets), len(wantNames))
	}
	for i, s := range res.Targets {
		if s.Name != wantNames[i] {
			t.Errorf("target %d is %q, want %q", i, s.Name, wantNames[i])
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.bad) > 0 {
		t.Errorf("unexpected requests: %v", f.bad)
	}
	if len(f.listQueries) != 1 || f.listQueries[0] != "field=usage_active&limit=2&measurement=cpu" {
		t.Errorf("series listed with %v", f.listQueries)
	}
	// Each target was probed once before the load, then loaded.
	if got, want := f.predictions, int(res.Targets[0].Requests)+1; got != want {
		t.Errorf("server saw %d predictions requests, want %d", got, want)
	}
	for i, id := range benchAPIIDs[:2] {
		if got, want := f.forecasts[id], int(res.Targets[i+1].Requests)+1; got != want {
			t.Errorf("server saw %d forecasts of %s, want %d", got, id, want)
		}
	}
	// 1 listing + 3 probes + 120 measured requests, all with the token.
	if f.auth["Bearer s3cret"] != 124 || len(f.auth) != 1 {
		t.Errorf("Authorization headers seen: %v", f.auth)
	}
	if !strings.Contains(errOut.String(), "| **all** | 120 | 0 |") {
		t.Errorf("no table on stderr:\n%s", errOut.String())
	}
}

func TestBenchAPIOpenLoopPrintsTheTable(t *testing.T) {
	f := newFakeAPI()
	srv := httptest.NewServer(f)
	defer srv.Close()
	var out, errOut strings.Builder
	err := run(context.Background(), []string{"bench", "api", "-server", srv.URL, "-paths", "/api/v1/predictions",
		"-rate", "1000", "-requests", "20", "-clients", "20", "-warmup", "0"}, &out, &errOut)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	if !strings.HasPrefix(out.String(), "Open loop: 1000 req/s offered (at most 20 in flight)") ||
		!strings.Contains(out.String(), "| GET /api/v1/predictions |") {
		t.Errorf("table:\n%s", out.String())
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.listQueries) != 0 {
		t.Errorf("listed series without %s in -paths", seriesPlaceholder)
	}
	if f.auth[""] != f.predictions {
		t.Errorf("Authorization sent without -token: %v", f.auth)
	}
}

func TestBenchAPIStopsWhenATargetIsNotReady(t *testing.T) {
	f := newFakeAPI()
	f.predStatus = http.StatusServiceUnavailable
	srv := httptest.NewServer(f)
	defer srv.Close()
	var out, errOut strings.Builder
	err := run(context.Background(), []string{"bench", "api", "-server", srv.URL, "-warmup", "0", "-requests", "10"}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "503") || !strings.Contains(err.Error(), "/api/v1/predictions") {
		t.Fatalf("err = %v", err)
	}
	if f.predictions != 0 || out.Len() != 0 {
		t.Errorf("load was sent anyway: %d predictions, output %q", f.predictions, out.String())
	}
}

func TestBenchAPINoSeriesFound(t *testing.T) {
	empty := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"series":[],"total":0}`))
	}))
	defer empty.Close()
	_, err := discoverSeries(context.Background(), http.DefaultClient, empty.URL, http.Header{}, "disk", "used", 4)
	if err == nil || !strings.Contains(err.Error(), "no disk#used series") {
		t.Fatalf("err = %v", err)
	}
}

func TestBenchAPIUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"-server", "127.0.0.1:8080"},
		{"-server", "http://x", "-clients", "0"},
		{"-server", "http://x", "-paths", "api/v1/predictions"},
		{"-server", "http://x", "-paths", "/a*0"},
		{"-server", "http://x", "-duration", "0s"},
		{"-server", "http://x", "extra"},
	} {
		var out, errOut strings.Builder
		err := run(context.Background(), append([]string{"bench", "api"}, args...), &out, &errOut)
		var ue usageError
		if !errors.As(err, &ue) || exitCode(err) != 2 {
			t.Errorf("bench api %v: err = %v, want a usage error", args, err)
		}
	}
}

func TestBenchAPITargetsFromPaths(t *testing.T) {
	specs, err := parseBenchPaths("default")
	if err != nil {
		t.Fatal(err)
	}
	hdr := http.Header{"Authorization": {"Bearer x"}}
	ids := []string{"cpu,cpu=cpu-total,host=a#usage_active", "disk,host=a,path=/data#used"}
	got := benchTargets("http://h:1", specs, ids, hdr)
	want := []load.Target{
		{Name: "GET /api/v1/predictions", URL: "http://h:1/api/v1/predictions", Weight: 2},
		{Name: "GET /api/v1/series/cpu,cpu=cpu-total,host=a#usage_active/forecast?horizon=48",
			URL: "http://h:1/api/v1/series/cpu%2Ccpu=cpu-total%2Chost=a%23usage_active/forecast?horizon=48", Weight: 1},
		{Name: "GET /api/v1/series/disk,host=a,path=/data#used/forecast?horizon=48",
			URL: "http://h:1/api/v1/series/disk%2Chost=a%2Cpath=%2Fdata%23used/forecast?horizon=48", Weight: 1},
	}
	if len(got) != len(want) {
		t.Fatalf("%d targets, want %d", len(got), len(want))
	}
	for i := range want {
		g := got[i]
		if g.Name != want[i].Name || g.URL != want[i].URL || g.Weight != want[i].Weight || g.Header.Get("Authorization") != "Bearer x" {
			t.Errorf("target %d = %+v, want %+v", i, g, want[i])
		}
	}

	specs, err = parseBenchPaths(" /a*3 , /b?x=1%2C2 ,/s/{series}*2")
	if err != nil {
		t.Fatal(err)
	}
	got = benchTargets("http://h", specs, []string{"m#f"}, http.Header{})
	if len(got) != 3 || got[0].Weight != 3 || got[1].URL != "http://h/b?x=1%2C2" || got[1].Weight != 1 ||
		got[2].URL != "http://h/s/m%23f" || got[2].Weight != 2 {
		t.Errorf("targets: %+v", got)
	}
}
