package load

import (
	"math"
	"slices"
	"time"
)

// Modes of a Result.
const (
	ModeClosed = "closed"
	ModeOpen   = "open"
)

// Result is one measured run.
type Result struct {
	// Mode is ModeClosed or ModeOpen.
	Mode string `json:"mode"`
	// Clients is the closed loop's concurrency.
	Clients int `json:"clients,omitempty"`
	// Rate and MaxInFlight are the open loop's arrival rate (per second)
	// and bound on outstanding requests.
	Rate        float64 `json:"rate,omitempty"`
	MaxInFlight int     `json:"max_in_flight,omitempty"`
	// Elapsed runs from the first send to the last answer.
	Elapsed time.Duration `json:"elapsed_ns"`
	// Truncated says a closed loop stopped at Options.MaxSamples requests
	// before its Duration was up.
	Truncated bool `json:"truncated,omitempty"`
	// Total sums every target; its Name is "all".
	Total Stats `json:"total"`
	// Targets are in the order of Options.Targets.
	Targets []Stats `json:"targets"`
}

// Stats are the counts and latencies of one target (or of all).
type Stats struct {
	Name string `json:"name"`
	// Requests were sent and answered or failed: OK + TransportErrors +
	// StatusErrors.
	Requests int64 `json:"requests"`
	// OK answered with the expected status.
	OK int64 `json:"ok"`
	// TransportErrors got no complete answer: connection refused or reset,
	// timeout, body cut short.
	TransportErrors int64 `json:"transport_errors"`
	// StatusErrors answered with another status; ByStatus counts them by
	// code.
	StatusErrors int64         `json:"status_errors"`
	ByStatus     map[int]int64 `json:"status_errors_by_code,omitempty"`
	// Dropped (open loop) arrivals were not sent: MaxInFlight requests
	// were outstanding at their scheduled time. They are not in Requests.
	Dropped int64 `json:"dropped"`
	// Late (open loop) requests were sent more than Options.LateAfter after
	// their scheduled time; they are in Requests.
	Late int64 `json:"late"`
	// Bytes of response bodies, as received.
	Bytes int64 `json:"bytes"`
	// Throughput is Requests per second of Result.Elapsed.
	Throughput float64 `json:"throughput_rps"`
	// Latency covers every answered request (OK or status error), not the
	// transport errors.
	Latency Latency `json:"latency"`
}

// Errors is TransportErrors + StatusErrors.
func (s Stats) Errors() int64 { return s.TransportErrors + s.StatusErrors }

// ErrorRate is Errors / Requests (0 without requests).
func (s Stats) ErrorRate() float64 {
	if s.Requests == 0 {
		return 0
	}
	return float64(s.Errors()) / float64(s.Requests)
}

// Latency summarises a set of latencies.
type Latency struct {
	// N is the number of latencies.
	N    int           `json:"n"`
	Mean time.Duration `json:"mean_ns"`
	P50  time.Duration `json:"p50_ns"`
	P90  time.Duration `json:"p90_ns"`
	P99  time.Duration `json:"p99_ns"`
	P999 time.Duration `json:"p999_ns"`
	Max  time.Duration `json:"max_ns"`
}

// Percentile returns the q-quantile (0 ≤ q ≤ 1) of sorted latencies by the
// nearest-rank method: the smallest value with at least q·n values at or
// below it, so every percentile is an observed latency. It returns 0 for an
// empty slice.
func Percentile(sorted []time.Duration, q float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	// The epsilon keeps q·n = 999.0000000001 (for 0.999 × 1000) at rank 999.
	rank := int(math.Ceil(q*float64(n) - 1e-9))
	rank = min(max(rank, 1), n)
	return sorted[rank-1]
}

// Summarize returns the latency summary of sorted latencies.
func Summarize(sorted []time.Duration) Latency {
	l := Latency{N: len(sorted)}
	if l.N == 0 {
		return l
	}
	var sum float64
	for _, d := range sorted {
		sum += float64(d)
	}
	l.Mean = time.Duration(sum / float64(l.N))
	l.P50 = Percentile(sorted, 0.50)
	l.P90 = Percentile(sorted, 0.90)
	l.P99 = Percentile(sorted, 0.99)
	l.P999 = Percentile(sorted, 0.999)
	l.Max = sorted[l.N-1]
	return l
}

// result merges the workers' recorders (and the open-loop scheduler's
// counts, when sched is not nil), freeing the workers' slices as it goes.
func (r *runner) result(recs []*recorder, sched *recorder, elapsed time.Duration) *Result {
	res := &Result{Elapsed: elapsed, Targets: make([]Stats, len(r.targets))}
	total := Stats{Name: "all"}
	var all []time.Duration
	var allN int
	for _, rec := range recs {
		for _, l := range rec.lat {
			allN += len(l)
		}
	}
	all = make([]time.Duration, 0, allN)
	for t, tg := range r.targets {
		s := Stats{Name: tg.name}
		n := 0
		for _, rec := range recs {
			n += len(rec.lat[t])
		}
		lat := make([]time.Duration, 0, n)
		add := func(c counts) {
			s.Requests += c.requests
			s.OK += c.ok
			s.TransportErrors += c.transport
			s.Dropped += c.dropped
			s.Late += c.late
			s.Bytes += c.bytes
			for code, k := range c.status {
				if s.ByStatus == nil {
					s.ByStatus = map[int]int64{}
				}
				s.ByStatus[code] += k
				s.StatusErrors += k
			}
		}
		for _, rec := range recs {
			lat = append(lat, rec.lat[t]...)
			rec.lat[t] = nil
			add(rec.counts[t])
		}
		if sched != nil {
			add(sched.counts[t])
		}
		slices.Sort(lat)
		s.Latency = Summarize(lat)
		all = append(all, lat...)
		res.Targets[t] = s

		total.Requests += s.Requests
		total.OK += s.OK
		total.TransportErrors += s.TransportErrors
		total.StatusErrors += s.StatusErrors
		total.Dropped += s.Dropped
		total.Late += s.Late
		total.Bytes += s.Bytes
		for code, k := range s.ByStatus {
			if total.ByStatus == nil {
				total.ByStatus = map[int]int64{}
			}
			total.ByStatus[code] += k
		}
	}
	slices.Sort(all)
	total.Latency = Summarize(all)
	res.Total = total
	if secs := elapsed.Seconds(); secs > 0 {
		for i := range res.Targets {
			res.Targets[i].Throughput = float64(res.Targets[i].Requests) / secs
		}
		res.Total.Throughput = float64(total.Requests) / secs
	}
	return res
}
