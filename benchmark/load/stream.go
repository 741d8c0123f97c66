package load

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"
)

// Abandoned is the status Stream.Answered receives for a request cut short
// because the run's context ended: its fate on the server is unknown, and
// it is not in the Result.
const Abandoned = -1

// Stream is one kind of request whose bodies are made on the fly, one
// stream per worker (foresight bench ingest: every worker posts its own
// line-protocol batches). Run with RunStream.
type Stream struct {
	// Name labels the stream in the results; default "METHOD /path?query".
	Name string
	// Method defaults to POST.
	Method string
	// URL is absolute (http or https).
	URL string
	// Header is sent with every request (e.g. Content-Encoding,
	// Authorization); it is shared by concurrent requests and must not be
	// modified during a run.
	Header http.Header
	// Expect is the status code counted as success; 0 means 200.
	Expect int
	// Next returns worker w's next body (0 ≤ w < workers). It is called
	// from worker w's goroutine only, and before the request's clock
	// starts: in the closed loop just before the send, in the open loop
	// right after the worker's previous answer (the worker's slot is held
	// meanwhile), so a cheap generator costs no latency. An error stops the
	// run and is returned by RunStream.
	Next func(w int) ([]byte, error)
	// Answered, when not nil, is told the outcome of the body Next last
	// returned for worker w, from worker w's goroutine: the status code, 0
	// for a transport error (no complete answer), or Abandoned. A body
	// made when the run was already ending is never sent and never
	// answered.
	Answered func(w int, status int)
}

// RunStream generates load with bodies from s.Next, in the closed loop
// (opts.Clients workers) or, with opts.Rate, the open loop (opts.MaxInFlight
// workers), with the same accounting and results as Run: one target, named
// after the stream. opts.Targets must be empty, and Warmup is not supported
// (every body made is part of the measured stream).
func RunStream(ctx context.Context, s Stream, opts Options) (*Result, error) {
	if len(opts.Targets) > 0 {
		return nil, errors.New("load: RunStream takes its one target from the Stream, not Options.Targets")
	}
	if opts.Warmup > 0 {
		return nil, errors.New("load: RunStream has no warm-up")
	}
	if s.Next == nil {
		return nil, errors.New("load: Stream.Next is required")
	}
	if s.Method == "" {
		s.Method = http.MethodPost
	}
	opts.Targets = []Target{{Name: s.Name, Method: s.Method, URL: s.URL, Header: s.Header, Expect: s.Expect}}
	r, err := newRunner(opts, hooks{})
	if err != nil {
		return nil, err
	}
	if opts.Transport == nil {
		defer r.client.Transport.(*http.Transport).CloseIdleConnections()
	}
	answered := s.Answered
	if answered == nil {
		answered = func(int, int) {}
	}
	st := &streamRun{runner: r, next: s.Next, answered: answered}
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	st.cancel = cancel
	var res *Result
	if opts.Rate > 0 {
		res = st.openLoop(runCtx)
	} else {
		res = st.closedLoop(runCtx)
	}
	if err := st.err(); err != nil {
		return res, err
	}
	return res, ctx.Err()
}

// streamRun is one RunStream's state.
type streamRun struct {
	*runner
	next     func(int) ([]byte, error)
	answered func(int, int)
	cancel   context.CancelCauseFunc

	mu       sync.Mutex
	firstErr error
}

// fail records a generator error and stops the run.
func (s *streamRun) fail(err error) {
	s.mu.Lock()
	if s.firstErr == nil {
		s.firstErr = err
	}
	s.mu.Unlock()
	s.cancel(err)
}

func (s *streamRun) err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.firstErr
}

// doBody sends body to the stream's target and records it with its latency
// counted from start, as do does; it returns the status, 0 for a transport
// error or Abandoned.
func (s *streamRun) doBody(ctx context.Context, rec *recorder, body []byte, start time.Time) int {
	tg := &s.targets[0]
	req, err := http.NewRequestWithContext(ctx, tg.method, tg.url, bytes.NewReader(body))
	if err != nil { // validated before the run; cannot happen
		panic(err)
	}
	req.Header = tg.header
	c := &rec.counts[0]
	resp, err := s.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return Abandoned
		}
		c.requests++
		c.transport++
		return 0
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	lat := time.Since(start)
	if err != nil {
		if ctx.Err() != nil {
			return Abandoned
		}
		c.requests++
		c.transport++
		return 0
	}
	c.requests++
	c.bytes += n
	rec.lat[0] = append(rec.lat[0], lat)
	if resp.StatusCode == tg.expect {
		c.ok++
		return resp.StatusCode
	}
	if c.status == nil {
		c.status = map[int]int64{}
	}
	c.status[resp.StatusCode]++
	return resp.StatusCode
}

func (s *streamRun) closedLoop(ctx context.Context) *Result {
	start := time.Now()
	recs, capped := runClosed(ctx, s.opts, s.newRecorder, func(w int, rec *recorder) func(time.Time) bool {
		return func(time.Time) bool {
			body, err := s.next(w)
			if err != nil {
				s.fail(err)
				return false
			}
			// Latency counts from the send, after the body is made.
			s.answered(w, s.doBody(ctx, rec, body, time.Now()))
			return true
		}
	})
	res := s.result(recs, nil, time.Since(start))
	res.Mode, res.Clients = ModeClosed, s.opts.Clients
	res.Truncated = capped
	return res
}

func (s *streamRun) openLoop(ctx context.Context) *Result {
	o := s.opts
	n := o.arrivals()
	slots := make(chan struct{}, o.MaxInFlight)
	jobs := make(chan job, o.MaxInFlight)
	recs := make([]*recorder, o.MaxInFlight)
	// Every worker makes its first body before it takes a slot's job: the
	// slots start taken and each worker frees its own once its body is
	// ready (and again after each answer and the next body).
	for range o.MaxInFlight {
		slots <- struct{}{}
	}
	var wg sync.WaitGroup
	for w := range o.MaxInFlight {
		rec := s.newRecorder(n/o.MaxInFlight + 1)
		recs[w] = rec
		wg.Go(func() {
			body, err := s.next(w)
			if err != nil {
				s.fail(err)
			}
			<-slots
			for j := range jobs {
				// After a generator error or the end of the run the
				// remaining jobs are not sent, only their slots freed.
				if err != nil || ctx.Err() != nil {
					<-slots
					continue
				}
				s.answered(w, s.doBody(ctx, rec, body, j.at))
				if ctx.Err() == nil {
					if body, err = s.next(w); err != nil {
						s.fail(err)
					}
				}
				<-slots
			}
		})
	}
	sched := &recorder{counts: make([]counts, 1)}
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
		if ctx.Err() != nil {
			break
		}
		select {
		case slots <- struct{}{}:
			if time.Since(at) > o.LateAfter {
				sched.counts[0].late++
			}
			jobs <- job{target: 0, at: at}
		default:
			sched.counts[0].dropped++
		}
	}
	close(jobs)
	wg.Wait()
	res := s.result(recs, sched, time.Since(start))
	res.Mode, res.Rate, res.MaxInFlight = ModeOpen, o.Rate, o.MaxInFlight
	return res
}
