package load

import (
	"context"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestLoadPercentileKnownSet(t *testing.T) {
	// 1..1000 ms, shuffled then sorted as Run does.
	lat := make([]time.Duration, 1000)
	for i := range lat {
		lat[i] = time.Duration(i+1) * time.Millisecond
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(lat), func(i, j int) { lat[i], lat[j] = lat[j], lat[i] })
	slices.Sort(lat)
	got := Summarize(lat)
	want := Latency{N: 1000, Mean: 500500 * time.Microsecond, P50: 500 * time.Millisecond, P90: 900 * time.Millisecond,
		P99: 990 * time.Millisecond, P999: 999 * time.Millisecond, Max: 1000 * time.Millisecond}
	if got != want {
		t.Fatalf("Summarize(1..1000 ms) = %+v, want %+v", got, want)
	}

	small := []time.Duration{10, 20, 30, 40}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0, 10}, {0.25, 10}, {0.26, 20}, {0.5, 20}, {0.75, 30}, {0.9, 40}, {0.999, 40}, {1, 40}} {
		if got := Percentile(small, c.q); got != c.want {
			t.Errorf("Percentile(%v, %v) = %v, want %v", small, c.q, got, c.want)
		}
	}
	if got := Percentile(nil, 0.5); got != 0 {
		t.Errorf("Percentile(nil) = %v, want 0", got)
	}
	if got := Summarize([]time.Duration{7}); got.P50 != 7 || got.P999 != 7 || got.Max != 7 || got.Mean != 7 || got.N != 1 {
		t.Errorf("Summarize of one value = %+v", got)
	}
	// A tail that only p99.9 and max see: 1997 fast, 3 slow; p99.9 is the
	// 1998th value.
	tail := make([]time.Duration, 2000)
	for i := range tail {
		tail[i] = time.Millisecond
	}
	tail[1997], tail[1998], tail[1999] = time.Second, time.Second, 2*time.Second
	if l := Summarize(tail); l.P99 != time.Millisecond || l.P999 != time.Second || l.Max != 2*time.Second {
		t.Errorf("tail: %+v", l)
	}
}

func TestLoadPickFollowsWeights(t *testing.T) {
	cum := []int{1, 4, 6} // weights 1, 3, 2
	want := []int{0, 1, 1, 1, 2, 2}
	for x, w := range want {
		if got := pick(cum, x); got != w {
			t.Errorf("pick(%v, %d) = %d, want %d", cum, x, got, w)
		}
	}
}

// counter is a test server counting requests per path.
type counter struct {
	mu      sync.Mutex
	byPath  map[string]int
	headers map[string]int // value of X-Check per request
	gzip    int
}

func (c *counter) handler(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.byPath[r.URL.Path]++
		c.headers[r.Header.Get("Authorization")]++
		if r.Header.Get("Accept-Encoding") == "gzip" {
			c.gzip++
		}
		c.mu.Unlock()
		_, _ = w.Write([]byte(body))
	}
}

func newCounter() *counter { return &counter{byPath: map[string]int{}, headers: map[string]int{}} }

func TestLoadClosedLoopCountsAddUp(t *testing.T) {
	c := newCounter()
	srv := httptest.NewServer(c.handler("hello"))
	defer srv.Close()
	hdr := http.Header{"Authorization": {"Bearer t0k"}}
	res, err := Run(context.Background(), Options{
		Targets: []Target{
			{URL: srv.URL + "/a?x=1", Header: hdr, Weight: 1},
			{Name: "bee", URL: srv.URL + "/b", Header: hdr, Weight: 3},
		},
		Clients:  8,
		Requests: 2000,
		Seed:     7,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Mode != ModeClosed || res.Clients != 8 || res.Truncated {
		t.Errorf("mode %q clients %d truncated %v", res.Mode, res.Clients, res.Truncated)
	}
	tot := res.Total
	if tot.Name != "all" || tot.Requests != 2000 || tot.OK != 2000 || tot.Errors() != 0 || tot.Latency.N != 2000 || tot.Bytes != 2000*5 {
		t.Fatalf("total = %+v", tot)
	}
	if res.Targets[0].Name != "GET /a?x=1" || res.Targets[1].Name != "bee" {
		t.Errorf("names %q, %q", res.Targets[0].Name, res.Targets[1].Name)
	}
	var sum int64
	for i, path := range []string{"/a", "/b"} {
		s := res.Targets[i]
		if s.Requests != int64(c.byPath[path]) || s.OK != s.Requests || s.Latency.N != int(s.Requests) {
			t.Errorf("%s: result %d requests (%d ok, %d latencies), server saw %d", path, s.Requests, s.OK, s.Latency.N, c.byPath[path])
		}
		if s.Throughput <= 0 || s.Latency.Max < s.Latency.P50 {
			t.Errorf("%s: throughput %v latency %+v", path, s.Throughput, s.Latency)
		}
		sum += s.Requests
	}
	if sum != 2000 {
		t.Errorf("targets sum to %d", sum)
	}
	// Weights 1:3 with a fixed seed: about a quarter to /a (not exact, as
	// workers race for the shared request budget).
	if a := res.Targets[0].Requests; a < 400 || a > 600 {
		t.Errorf("/a got %d of 2000 requests, want about 500", a)
	}
	if c.headers["Bearer t0k"] != 2000 {
		t.Errorf("Authorization on %d of 2000 requests", c.headers["Bearer t0k"])
	}
	if c.gzip != 0 {
		t.Errorf("Accept-Encoding: gzip sent %d times without Gzip", c.gzip)
	}
	if res.Elapsed <= 0 || tot.Throughput != float64(tot.Requests)/res.Elapsed.Seconds() {
		t.Errorf("elapsed %v throughput %v", res.Elapsed, tot.Throughput)
	}
}

func TestLoadEveryTenthRequestFailsIsTenPercent(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%10 == 0 {
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()
	res, err := Run(context.Background(), Options{Targets: []Target{{URL: srv.URL}}, Clients: 10, Requests: 1000})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Total
	if s.Requests != 1000 || s.OK != 900 || s.StatusErrors != 100 || s.TransportErrors != 0 || s.ByStatus[500] != 100 || len(s.ByStatus) != 1 {
		t.Fatalf("total = %+v", s)
	}
	if s.ErrorRate() != 0.1 {
		t.Errorf("error rate %v, want 0.1", s.ErrorRate())
	}
	// Status errors are answered requests: their latencies are recorded.
	if s.Latency.N != 1000 {
		t.Errorf("%d latencies, want 1000", s.Latency.N)
	}
	if res.Targets[0].StatusErrors != 100 {
		t.Errorf("target: %+v", res.Targets[0])
	}
}

func TestLoadOpenLoopSendsTheScheduledCount(t *testing.T) {
	c := newCounter()
	srv := httptest.NewServer(c.handler("x"))
	defer srv.Close()
	// 100 requests/s for 0.5 s: 50 arrivals. Room for all 50 in flight, so
	// none is dropped however slow a loaded machine answers.
	res, err := Run(context.Background(), Options{
		Targets:     []Target{{URL: srv.URL + "/p"}},
		Rate:        100,
		Duration:    500 * time.Millisecond,
		MaxInFlight: 50,
	})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Total
	if res.Mode != ModeOpen || res.Rate != 100 || res.MaxInFlight != 50 {
		t.Errorf("mode %q rate %v in flight %d", res.Mode, res.Rate, res.MaxInFlight)
	}
	if s.Requests+s.Dropped != 50 {
		t.Fatalf("sent %d + dropped %d, want 50 arrivals", s.Requests, s.Dropped)
	}
	if s.Requests != 50 || s.Dropped != 0 {
		t.Errorf("sent %d of 50, dropped %d", s.Requests, s.Dropped)
	}
	if int(s.Requests) != c.byPath["/p"] || s.OK != s.Requests {
		t.Errorf("result %d requests (%d ok), server saw %d", s.Requests, s.OK, c.byPath["/p"])
	}
}

func TestLoadOpenLoopCountsDroppedArrivals(t *testing.T) {
	release := make(chan struct{})
	var seen atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Add(1)
		<-release
		_, _ = w.Write([]byte("late"))
	}))
	defer srv.Close()
	// Two slots, both held by requests the server answers only once every
	// arrival was scheduled: the other 8 arrivals find no slot.
	res, err := run(context.Background(), Options{
		Targets:     []Target{{URL: srv.URL}},
		Rate:        1000,
		Requests:    10,
		MaxInFlight: 2,
	}, hooks{scheduled: func() { close(release) }})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Total
	if s.Requests != 2 || s.OK != 2 || s.Dropped != 8 || seen.Load() != 2 || s.Latency.N != 2 {
		t.Fatalf("total = %+v, server saw %d", s, seen.Load())
	}
	if res.Targets[0].Dropped != 8 {
		t.Errorf("target dropped %d", res.Targets[0].Dropped)
	}
}

func TestLoadTransportErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now: connection refused
	res, err := Run(context.Background(), Options{Targets: []Target{{URL: "http://" + addr + "/"}}, Clients: 2, Requests: 6})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Total
	if s.Requests != 6 || s.TransportErrors != 6 || s.OK != 0 || s.StatusErrors != 0 || s.Latency.N != 0 || s.ErrorRate() != 1 {
		t.Fatalf("total = %+v", s)
	}
}

func TestLoadReusesConnectionsAndSendsGzip(t *testing.T) {
	c := newCounter()
	srv := httptest.NewUnstartedServer(c.handler(strings.Repeat("z", 1000)))
	var conns atomic.Int64
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	tr := NewTransport(1)
	defer tr.CloseIdleConnections()
	opts := Options{Targets: []Target{{URL: srv.URL}}, Clients: 1, Requests: 50, Gzip: true, Transport: tr}
	for range 2 {
		res, err := Run(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		if res.Total.OK != 50 {
			t.Fatalf("total = %+v", res.Total)
		}
	}
	// One client, one shared transport: one connection for both runs.
	if conns.Load() != 1 {
		t.Errorf("%d connections for 100 sequential requests, want 1", conns.Load())
	}
	if c.gzip != 100 {
		t.Errorf("Accept-Encoding: gzip on %d of 100 requests", c.gzip)
	}
}

func TestLoadWarmupIsNotCounted(t *testing.T) {
	c := newCounter()
	srv := httptest.NewServer(c.handler("w"))
	defer srv.Close()
	res, err := Run(context.Background(), Options{Targets: []Target{{URL: srv.URL}}, Clients: 2, Requests: 100, Warmup: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total.Requests != 100 {
		t.Errorf("measured %d requests, want 100", res.Total.Requests)
	}
	if c.byPath["/"] <= 100 {
		t.Errorf("server saw %d requests: no warm-up", c.byPath["/"])
	}
}

func TestLoadClosedLoopStopsAtSampleCap(t *testing.T) {
	c := newCounter()
	srv := httptest.NewServer(c.handler("c"))
	defer srv.Close()
	res, err := Run(context.Background(), Options{Targets: []Target{{URL: srv.URL}}, Clients: 4, Duration: time.Hour, MaxSamples: 50})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Truncated || res.Total.Requests != 50 || c.byPath["/"] != 50 {
		t.Fatalf("truncated %v, %d requests, server saw %d", res.Truncated, res.Total.Requests, c.byPath["/"])
	}
}

func TestLoadCancelReturnsPartialResults(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 20 {
			// Cancel the run and never answer: the client gives up.
			cancel()
			<-r.Context().Done()
			return
		}
		_, _ = w.Write([]byte("k"))
	}))
	defer srv.Close()
	res, err := Run(ctx, Options{Targets: []Target{{URL: srv.URL}}, Clients: 1, Duration: time.Hour})
	if err != context.Canceled {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	// The 20th request was cut short by the cancel and is not counted.
	if res.Total.Requests != 19 || res.Total.Errors() != 0 {
		t.Errorf("total = %+v", res.Total)
	}
}

func TestLoadOptionsValidation(t *testing.T) {
	u := "http://127.0.0.1:1/"
	for name, o := range map[string]Options{
		"no targets":           {Clients: 1, Requests: 1},
		"no clients":           {Targets: []Target{{URL: u}}, Requests: 1},
		"no bound":             {Targets: []Target{{URL: u}}, Clients: 1},
		"relative URL":         {Targets: []Target{{URL: "/x"}}, Clients: 1, Requests: 1},
		"negative weight":      {Targets: []Target{{URL: u, Weight: -1}}, Clients: 1, Requests: 1},
		"open, no in-flight":   {Targets: []Target{{URL: u}}, Rate: 10, Duration: time.Second},
		"open, over the cap":   {Targets: []Target{{URL: u}}, Rate: 1000, Duration: time.Second, MaxInFlight: 1, MaxSamples: 999},
		"open, no arrival":     {Targets: []Target{{URL: u}}, Rate: 1, Duration: 500 * time.Millisecond, MaxInFlight: 1},
		"closed, over the cap": {Targets: []Target{{URL: u}}, Clients: 1, Requests: 11, MaxSamples: 10},
	} {
		if _, err := Run(context.Background(), o); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if n := (Options{Rate: 1000, Duration: 60 * time.Second}).arrivals(); n != 60000 {
		t.Errorf("1000/s for 60 s: %d arrivals", n)
	}
	if n := (Options{Rate: 0.3, Duration: 10 * time.Second}).arrivals(); n != 3 {
		t.Errorf("0.3/s for 10 s: %d arrivals", n)
	}
}

func TestLoadTable(t *testing.T) {
	r := &Result{
		Mode: ModeClosed, Clients: 4, Elapsed: 2 * time.Second,
		Targets: []Stats{
			{Name: "GET /a|b", Requests: 300, OK: 300, Throughput: 150,
				Latency: Latency{N: 300, P50: 1500 * time.Microsecond, P90: 2 * time.Millisecond, P99: 3 * time.Millisecond, P999: 4 * time.Millisecond, Max: 5 * time.Millisecond}},
			{Name: "GET /c", Requests: 100, OK: 88, StatusErrors: 10, ByStatus: map[int]int64{500: 7, 404: 3}, TransportErrors: 2, Throughput: 50,
				Latency: Latency{N: 98, P50: time.Millisecond, P90: time.Millisecond, P99: time.Millisecond, P999: time.Millisecond, Max: time.Millisecond}},
		},
		Total: Stats{Name: "all", Requests: 400, OK: 388, StatusErrors: 10, ByStatus: map[int]int64{500: 7, 404: 3}, TransportErrors: 2, Throughput: 200,
			Latency: Latency{N: 398, P50: time.Millisecond, P90: 2 * time.Millisecond, P99: 3 * time.Millisecond, P999: 4 * time.Millisecond, Max: 5 * time.Millisecond}},
	}
	var b strings.Builder
	if err := r.Table(&b); err != nil {
		t.Fatal(err)
	}
	want := "Closed loop: 4 clients for 2.0 s: 400 requests, 200 req/s, 12 errors (3.00%: transport×2, 404×3, 500×7).\n\n" +
		"| target | requests | errors | req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms |\n" +
		"|---|---:|---|---:|---:|---:|---:|---:|---:|\n" +
		"| GET /a\\|b | 300 | 0 | 150 | 1.50 | 2.00 | 3.00 | 4.00 | 5.00 |\n" +
		"| GET /c | 100 | 12 (12.00%: transport×2, 404×3, 500×7) | 50.0 | 1.00 | 1.00 | 1.00 | 1.00 | 1.00 |\n" +
		"| **all** | 400 | 12 (3.00%: transport×2, 404×3, 500×7) | 200 | 1.00 | 2.00 | 3.00 | 4.00 | 5.00 |\n"
	if b.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", b.String(), want)
	}

	open := &Result{Mode: ModeOpen, Rate: 1000, MaxInFlight: 200, Elapsed: 60 * time.Second,
		Targets: []Stats{{Name: "GET /p", Requests: 59990, OK: 59990, Dropped: 10, Late: 3, Throughput: 999.8}},
		Total:   Stats{Name: "all", Requests: 59990, OK: 59990, Dropped: 10, Late: 3, Throughput: 999.8}}
	b.Reset()
	if err := open.Table(&b); err != nil {
		t.Fatal(err)
	}
	want = "Open loop: 1000 req/s offered (at most 200 in flight) for 60.0 s: 59990 sent, 10 dropped, 3 late, 1000 req/s answered, no errors.\n\n" +
		"| target | requests | errors | dropped | late | req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms |\n" +
		"|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n" +
		"| GET /p | 59990 | 0 | 10 | 3 | 1000 | - | - | - | - | - |\n" +
		"| **all** | 59990 | 0 | 10 | 3 | 1000 | - | - | - | - | - |\n"
	if b.String() != want {
		t.Errorf("open table:\n%s\nwant:\n%s", b.String(), want)
	}
}
