// Package load is an HTTP load generator for loopback benchmarks of
// Foresight's API (foresight bench api). It has two modes.
//
// Closed loop (Options.Rate == 0): Clients workers each send a request, read
// its whole answer and send the next, until Duration has passed or Requests
// requests were sent. Throughput is what the server sustains at that
// concurrency; a request's latency runs from just before it is sent to the
// end of its body.
//
// Open loop (Options.Rate > 0): arrival i is scheduled at start + i/Rate,
// whatever the server does, for Duration (or Requests arrivals), with at most
// MaxInFlight requests outstanding. To avoid coordinated omission, latency is
// measured from the scheduled send time, not from when the request actually
// left: a stall of the server (or of this client) shows in the percentiles
// instead of being hidden by sending fewer requests. No arrival is skipped
// silently: one that finds MaxInFlight requests outstanding is not sent and
// counted as Dropped, one sent more than LateAfter after its scheduled time
// is counted as Late (its latency includes the wait), and Requests + Dropped
// is always the number of scheduled arrivals. A nonzero Dropped means the
// rate was not sustained and the percentiles, which cover the requests sent,
// are a lower bound.
//
// Latencies are recorded exactly: one slice per worker, merged and sorted at
// the end (about 24 bytes per request at the peak). MaxSamples bounds that
// memory: an open loop or a counted run asking for more is refused, and a
// closed loop run for a duration stops at MaxSamples requests and says so
// (Result.Truncated).
//
// All requests of a run share one http.Transport keeping at least as many
// idle connections per host as there are workers, so connections are reused;
// redirects are not followed (a 3xx is a status like any other).
package load

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of Options.
const (
	DefaultMaxSamples = 4_000_000
	DefaultTimeout    = 30 * time.Second
	DefaultLateAfter  = time.Millisecond
)

// Target is one kind of request. Targets are picked at random in proportion
// to their weights (the sequence is fixed by Options.Seed per worker).
type Target struct {
	// Name labels the target in the results; default "METHOD /path?query".
	Name string
	// Method defaults to GET.
	Method string
	// URL is absolute (http or https).
	URL string
	// Header is sent with every request (e.g. Authorization); it is shared
	// by concurrent requests and must not be modified during a run.
	Header http.Header
	// Body is sent with every request (nil: none).
	Body []byte
	// Weight is the target's share of the requests relative to the others;
	// 0 means 1.
	Weight int
	// Expect is the status code counted as success; 0 means 200. Any other
	// answer counts as a status error.
	Expect int
}

// Options configures a run.
type Options struct {
	Targets []Target
	// Clients is the number of closed-loop workers (required without Rate).
	Clients int
	// Duration bounds the run (the measured part, without Warmup). In the
	// open loop it also sets the number of arrivals, Rate × Duration,
	// unless Requests is set.
	Duration time.Duration
	// Requests, when positive, is the number of requests (closed loop) or
	// scheduled arrivals (open loop); a closed loop with both stops at
	// whichever comes first.
	Requests int
	// Rate, when positive, selects the open loop: arrivals per second.
	Rate float64
	// MaxInFlight bounds outstanding requests in the open loop (required
	// with Rate).
	MaxInFlight int
	// LateAfter is how late an open-loop send may be before it counts as
	// Late; default DefaultLateAfter.
	LateAfter time.Duration
	// Warmup, when positive, first runs the same load for this long and
	// throws its results away, so connections and server caches are warm.
	Warmup time.Duration
	// Timeout bounds one request, body included (a timeout is a transport
	// error); default DefaultTimeout.
	Timeout time.Duration
	// Gzip sends Accept-Encoding: gzip; bodies are then read as they come,
	// compressed, and not decoded. Without it no Accept-Encoding is sent.
	Gzip bool
	// Transport carries the requests; nil makes one with NewTransport for
	// the run (closed at its end). Pass one to share warm connections
	// between runs.
	Transport *http.Transport
	// Seed fixes the target sequence of every worker.
	Seed uint64
	// MaxSamples caps the recorded latencies; default DefaultMaxSamples.
	MaxSamples int
}

// NewTransport returns a transport for conns concurrent requests to one
// host: it keeps conns idle connections per host (so none is closed and
// reopened between requests), does not negotiate HTTP/2, and never adds
// Accept-Encoding itself.
func NewTransport(conns int) *http.Transport {
	conns = max(conns, 1)
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		MaxIdleConns:          conns,
		MaxIdleConnsPerHost:   conns,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
		ForceAttemptHTTP2:     false,
	}
}

// Run generates the load and returns the results. When ctx ends first it
// returns what was measured so far together with ctx's error.
func Run(ctx context.Context, opts Options) (*Result, error) {
	return run(ctx, opts, hooks{})
}

// hooks let tests observe a run at fixed points.
type hooks struct {
	// scheduled runs after the open loop scheduled its last arrival.
	scheduled func()
}

// target is a validated Target.
type target struct {
	name   string
	method string
	url    string
	header http.Header
	body   []byte
	expect int
}

// runner is one run's shared state.
type runner struct {
	opts    Options
	targets []target
	cum     []int // cumulative weights
	client  *http.Client
	hooks   hooks
}

func run(ctx context.Context, opts Options, h hooks) (*Result, error) {
	r, err := newRunner(opts, h)
	if err != nil {
		return nil, err
	}
	if opts.Transport == nil {
		defer r.client.Transport.(*http.Transport).CloseIdleConnections()
	}
	if opts.Warmup > 0 {
		w := *r
		w.opts.Duration, w.opts.Requests = opts.Warmup, 0
		w.hooks = hooks{}
		if _, err := w.measure(ctx); err != nil {
			return nil, fmt.Errorf("warm-up: %w", err)
		}
	}
	return r.measure(ctx)
}

func newRunner(opts Options, h hooks) (*runner, error) {
	if len(opts.Targets) == 0 {
		return nil, errors.New("load: no targets")
	}
	if opts.MaxSamples <= 0 {
		opts.MaxSamples = DefaultMaxSamples
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.LateAfter <= 0 {
		opts.LateAfter = DefaultLateAfter
	}
	if opts.Requests < 0 || opts.Duration < 0 || opts.Rate < 0 || math.IsNaN(opts.Rate) || math.IsInf(opts.Rate, 0) {
		return nil, errors.New("load: Requests, Duration and Rate must not be negative")
	}
	if opts.Requests == 0 && opts.Duration == 0 {
		return nil, errors.New("load: set Duration or Requests")
	}
	workers := opts.Clients
	if opts.Rate > 0 {
		if opts.MaxInFlight <= 0 {
			return nil, errors.New("load: the open loop (Rate) needs MaxInFlight")
		}
		if n := opts.arrivals(); n > opts.MaxSamples {
			return nil, fmt.Errorf("load: %d arrivals is more than MaxSamples (%d): lower the rate or the duration", n, opts.MaxSamples)
		} else if n == 0 {
			return nil, errors.New("load: Rate × Duration is less than one request")
		}
		workers = opts.MaxInFlight
	} else {
		if opts.Clients <= 0 {
			return nil, errors.New("load: the closed loop needs Clients")
		}
		if opts.Requests > opts.MaxSamples {
			return nil, fmt.Errorf("load: %d requests is more than MaxSamples (%d)", opts.Requests, opts.MaxSamples)
		}
	}
	r := &runner{opts: opts, hooks: h}
	total := 0
	for i, t := range opts.Targets {
		tg, err := validTarget(t, opts.Gzip)
		if err != nil {
			return nil, fmt.Errorf("load: target %d: %w", i, err)
		}
		if t.Weight < 0 {
			return nil, fmt.Errorf("load: target %s: negative weight", tg.name)
		}
		total += max(t.Weight, 1)
		r.targets = append(r.targets, tg)
		r.cum = append(r.cum, total)
	}
	tr := opts.Transport
	if tr == nil {
		tr = NewTransport(workers)
	}
	r.client = &http.Client{
		Transport:     tr,
		Timeout:       opts.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return r, nil
}

// arrivals is the number of open-loop arrivals.
func (o Options) arrivals() int {
	if o.Requests > 0 {
		return o.Requests
	}
	n := o.Rate * o.Duration.Seconds()
	if n > math.MaxInt32 {
		return math.MaxInt32
	}
	return int(math.Floor(n + 1e-9))
}

func validTarget(t Target, gzip bool) (target, error) {
	u, err := url.Parse(t.URL)
	if err != nil {
		return target{}, err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return target{}, fmt.Errorf("URL %q: use an absolute http or https URL", t.URL)
	}
	tg := target{name: t.Name, method: t.Method, url: t.URL, body: t.Body, expect: t.Expect}
	if tg.method == "" {
		tg.method = http.MethodGet
	}
	if tg.expect == 0 {
		tg.expect = http.StatusOK
	}
	if tg.name == "" {
		tg.name = tg.method + " " + u.RequestURI()
	}
	tg.header = t.Header.Clone()
	if tg.header == nil {
		tg.header = http.Header{}
	}
	if gzip {
		tg.header.Set("Accept-Encoding", "gzip")
	}
	return tg, nil
}

// pick returns the index of the target whose cumulative weight first
// exceeds x, for x in [0, total).
func pick(cum []int, x int) int {
	return sort.SearchInts(cum, x+1)
}

func (r *runner) newRNG(worker int) *rand.Rand {
	return rand.New(rand.NewPCG(r.opts.Seed, uint64(worker)+1))
}

func (r *runner) next(rng *rand.Rand) int {
	if len(r.cum) == 1 {
		return 0
	}
	return pick(r.cum, rng.IntN(r.cum[len(r.cum)-1]))
}

// recorder is one worker's results, per target.
type recorder struct {
	lat    [][]time.Duration
	counts []counts
}

// counts are one target's counters.
type counts struct {
	requests, ok, transport, dropped, late, bytes int64
	status                                        map[int]int64
}

func (r *runner) newRecorder(expected int) *recorder {
	rec := &recorder{lat: make([][]time.Duration, len(r.targets)), counts: make([]counts, len(r.targets))}
	total := float64(r.cum[len(r.cum)-1])
	prev := 0
	for i, c := range r.cum {
		share := float64(c-prev) / total
		prev = c
		rec.lat[i] = make([]time.Duration, 0, int(float64(expected)*share*1.1)+16)
	}
	return rec
}

// do sends one request to target t and records it with its latency counted
// from start. A request cut short because ctx ended is not recorded.
func (r *runner) do(ctx context.Context, rec *recorder, t int, start time.Time) {
	tg := &r.targets[t]
	var body io.Reader
	if tg.body != nil {
		body = bytes.NewReader(tg.body)
	}
	req, err := http.NewRequestWithContext(ctx, tg.method, tg.url, body)
	if err != nil { // validated before the run; cannot happen
		panic(err)
	}
	req.Header = tg.header
	c := &rec.counts[t]
	resp, err := r.client.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			c.requests++
			c.transport++
		}
		return
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	lat := time.Since(start)
	if err != nil {
		if ctx.Err() == nil {
			c.requests++
			c.transport++
		}
		return
	}
	c.requests++
	c.bytes += n
	rec.lat[t] = append(rec.lat[t], lat)
	if resp.StatusCode == tg.expect {
		c.ok++
		return
	}
	if c.status == nil {
		c.status = map[int]int64{}
	}
	c.status[resp.StatusCode]++
}

// measure runs one measured pass (closed or open loop).
func (r *runner) measure(ctx context.Context) (*Result, error) {
	if r.opts.Rate > 0 {
		return r.openLoop(ctx)
	}
	return r.closedLoop(ctx)
}

func (r *runner) closedLoop(ctx context.Context) (*Result, error) {
	start := time.Now()
	recs, capped := runClosed(ctx, r.opts, r.newRecorder, func(w int, rec *recorder) func(time.Time) bool {
		rng := r.newRNG(w)
		return func(now time.Time) bool {
			r.do(ctx, rec, r.next(rng), now)
			return true
		}
	})
	res := r.result(recs, nil, time.Since(start))
	res.Mode, res.Clients = ModeClosed, r.opts.Clients
	res.Truncated = capped
	return res, ctx.Err()
}

// runClosed is the closed loop of Run and RunStream: o.Clients workers,
// each made by worker, send one request after the other until the
// duration or the request count is used up, ctx ends, or a request
// function returns false. It reports whether the sample cap cut a
// duration-bound run short.
func runClosed(ctx context.Context, o Options, newRecorder func(int) *recorder, worker func(w int, rec *recorder) func(now time.Time) bool) ([]*recorder, bool) {
	limit := int64(o.MaxSamples)
	if o.Requests > 0 {
		limit = int64(o.Requests)
	}
	var issued atomic.Int64
	var capped atomic.Bool
	expected := o.Requests / o.Clients
	if o.Requests == 0 {
		expected = 4096
	}
	recs := make([]*recorder, o.Clients)
	var end time.Time
	if o.Duration > 0 {
		end = time.Now().Add(o.Duration)
	}
	var wg sync.WaitGroup
	for w := range o.Clients {
		rec := newRecorder(expected + 1)
		recs[w] = rec
		send := worker(w, rec)
		wg.Go(func() {
			for ctx.Err() == nil {
				now := time.Now()
				if !end.IsZero() && !now.Before(end) {
					return
				}
				if issued.Add(1) > limit {
					if o.Requests == 0 {
						capped.Store(true)
					}
					return
				}
				if !send(now) {
					return
				}
			}
		})
	}
	wg.Wait()
	return recs, capped.Load()
}

// job is one open-loop arrival handed to a worker.
type job struct {
	target int
	at     time.Time
}

func (r *runner) openLoop(ctx context.Context) (*Result, error) {
	o := r.opts
	n := o.arrivals()
	slots := make(chan struct{}, o.MaxInFlight)
	jobs := make(chan job, o.MaxInFlight)
	recs := make([]*recorder, o.MaxInFlight)
	var wg sync.WaitGroup
	for w := range o.MaxInFlight {
		rec := r.newRecorder(n/o.MaxInFlight + 1)
		recs[w] = rec
		wg.Go(func() {
			for j := range jobs {
				r.do(ctx, rec, j.target, j.at)
				<-slots
			}
		})
	}
	sched := &recorder{counts: make([]counts, len(r.targets))}
	rng := r.newRNG(-1)
	interval := float64(time.Second) / o.Rate
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	start := time.Now()
loop:
	for i := range n {
		at := start.Add(time.Duration(float64(i) * interval))
		if d := time.Until(at); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-ctx.Done():
				timer.Stop()
				break loop
			}
		}
		t := r.next(rng)
		select {
		case slots <- struct{}{}:
			if time.Since(at) > o.LateAfter {
				sched.counts[t].late++
			}
			jobs <- job{target: t, at: at}
		default:
			sched.counts[t].dropped++
		}
	}
	if r.hooks.scheduled != nil {
		r.hooks.scheduled()
	}
	close(jobs)
	wg.Wait()
	res := r.result(recs, sched, time.Since(start))
	res.Mode, res.Rate, res.MaxInFlight = ModeOpen, o.Rate, o.MaxInFlight
	return res, ctx.Err()
}
