package engine

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"
)

// Grid is a regular time grid: sample i is at Start + i×Step.
type Grid struct {
	Start time.Time
	Step  time.Duration
}

// At returns the time of sample i.
func (g Grid) At(i int) time.Time { return g.Start.Add(time.Duration(i) * g.Step) }

// niceSteps are the steps InferStep rounds to, so a series sampled every
// 59–61 s gets a one-minute grid.
var niceSteps = []time.Duration{
	time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour,
}

// InferStep returns the sampling interval of irregularly stamped samples:
// the median of the positive gaps between consecutive times, rounded to the
// nearest of a list of usual steps (1s … 1 week, on a log scale). It fails
// with fewer than two distinct times.
func InferStep(times []time.Time) (time.Duration, error) {
	gaps := make([]float64, 0, len(times))
	for i := 1; i < len(times); i++ {
		if d := times[i].Sub(times[i-1]); d > 0 {
			gaps = append(gaps, float64(d))
		}
	}
	if len(gaps) == 0 {
		return 0, fmt.Errorf("cannot infer the sampling step from %d distinct timestamp(s): give the step explicitly", min(len(times), 1))
	}
	sort.Float64s(gaps)
	med := gaps[len(gaps)/2]
	best, bestDist := niceSteps[0], math.Inf(1)
	for _, s := range niceSteps {
		if d := math.Abs(math.Log(med / float64(s))); d < bestDist {
			best, bestDist = s, d
		}
	}
	return best, nil
}

// MinTime and MaxTime bound the instants the engine works with: those
// whose Unix time in nanoseconds fits an int64, 1677-09-21T00:12:43.145224192Z
// to 2262-04-11T23:47:16.854775807Z. Inside this range grid arithmetic and
// time.Duration differences are exact; sample times, grids and forecast
// horizons outside it are refused (see CheckTime and Grid.Check).
var (
	MinTime = time.Unix(0, math.MinInt64).UTC()
	MaxTime = time.Unix(0, math.MaxInt64).UTC()
)

// CheckTime returns nil when t lies in [MinTime, MaxTime] and otherwise an
// error that says which bound t passes.
func CheckTime(t time.Time) error {
	switch {
	case t.Before(MinTime):
		return fmt.Errorf("time %s is before %s, the earliest time supported", t.Format(time.RFC3339Nano), MinTime.Format(time.RFC3339Nano))
	case t.After(MaxTime):
		return fmt.Errorf("time %s is after %s, the latest time supported", t.Format(time.RFC3339Nano), MaxTime.Format(time.RFC3339Nano))
	}
	return nil
}

// Check reports whether the n grid points g.At(0) … g.At(n-1) lie in
// [MinTime, MaxTime] (so that At computes them without overflow); the
// error says which limit is passed.
func (g Grid) Check(n int) error {
	if n <= 0 {
		return nil
	}
	if err := CheckTime(g.Start); err != nil {
		return fmt.Errorf("grid start: %w", err)
	}
	if n == 1 {
		return nil
	}
	if g.Step <= 0 {
		return fmt.Errorf("grid step %s must be positive", g.Step)
	}
	steps, step := uint64(n-1), uint64(g.Step)
	// Exact in uint64: MaxInt64 - start lies in [0, 2^64).
	room := uint64(math.MaxInt64) - uint64(g.Start.UnixNano())
	if steps > room/step {
		return fmt.Errorf("%d points at step %s from %s end after %s, the latest time supported",
			n, FormatStep(g.Step), g.Start.Format(time.RFC3339Nano), MaxTime.Format(time.RFC3339Nano))
	}
	if steps > math.MaxInt64/step {
		return fmt.Errorf("%d points at step %s span more than %s", n, FormatStep(g.Step), time.Duration(math.MaxInt64))
	}
	return nil
}

// maxResamplePoints caps the grid Resample builds.
const maxResamplePoints = 10_000_000

// Resample puts samples (any order, any spacing) on a regular grid of the
// given step, aligned to the Unix epoch: the value of the bucket
// [t, t+step) is the mean of the finite samples inside it, and a bucket
// without samples is NaN (missing). Models fill interior gaps by linear
// interpolation and never invent values before the first or after the last
// sample. The grid runs from the bucket of the earliest sample to the
// bucket of the latest. Non-finite values count as missing.
//
// This is the documented rule for irregular timestamps: averaging within a
// bucket (not picking the nearest sample) keeps the level of bursty,
// oversampled stretches from dominating, and empty buckets stay visible as
// gaps instead of being silently carried forward.
//
// Sample times must lie in [MinTime, MaxTime]; a grid of more than ten
// million points is refused before anything is allocated.
func Resample(samples []Sample, step time.Duration) (Grid, []float64, error) {
	g, v, _, err := resample(samples, step, maxResamplePoints, false)
	return g, v, err
}

// ResampleLast is Resample keeping only the last n grid points: the grid
// ends at the bucket of the latest sample and starts at most n-1 steps
// before it; samples before its start are ignored. It allocates at most n
// points however long the samples span, which is all a forecast needs (a
// model sees the last MaxFitPoints points only). span is the number of
// points the whole grid would have (saturating at math.MaxUint64), so a
// caller can tell that history was cut off.
func ResampleLast(samples []Sample, step time.Duration, n int) (g Grid, values []float64, span uint64, err error) {
	if n < 1 {
		return Grid{}, nil, 0, fmt.Errorf("resample: keep at least one point, not %d", n)
	}
	return resample(samples, step, n, true)
}

func resample(samples []Sample, step time.Duration, limit int, keepLast bool) (Grid, []float64, uint64, error) {
	if step <= 0 {
		return Grid{}, nil, 0, fmt.Errorf("resample: step %s must be positive", step)
	}
	if len(samples) == 0 {
		return Grid{}, nil, 0, errors.New("resample: no samples")
	}
	var lo, hi int64
	for i, s := range samples {
		if err := CheckTime(s.Time); err != nil {
			return Grid{}, nil, 0, fmt.Errorf("resample: sample %d: %w", i, err)
		}
		ns := s.Time.UnixNano()
		if i == 0 || ns < lo {
			lo = ns
		}
		if i == 0 || ns > hi {
			hi = ns
		}
	}
	st := int64(step)
	first, ok := floorNanos(lo, st)
	if !ok {
		return Grid{}, nil, 0, fmt.Errorf("resample: the earliest sample, at %s, falls in a bucket of step %s that starts before %s, the earliest time supported",
			time.Unix(0, lo).UTC().Format(time.RFC3339Nano), FormatStep(step), MinTime.Format(time.RFC3339Nano))
	}
	last, _ := floorNanos(hi, st) // hi >= lo, so it cannot underflow either
	// All in uint64, where last-first (up to 2^64-1) is exact.
	span := (uint64(last)-uint64(first))/uint64(st) + 1
	if span == 0 { // wrapped: 2^64 points at a 1 ns step
		span = math.MaxUint64
	}
	n := limit
	if span <= uint64(limit) {
		n = int(span)
	} else if !keepLast {
		return Grid{}, nil, span, fmt.Errorf("resample: %d grid points at step %s is more than %d: use a larger step", span, FormatStep(step), limit)
	}
	start := int64(uint64(last) - uint64(n-1)*uint64(st)) // >= first
	sum := make([]float64, n)
	cnt := make([]int32, n)
	for _, s := range samples {
		if math.IsNaN(s.Value) || math.IsInf(s.Value, 0) {
			continue
		}
		ns := s.Time.UnixNano()
		if ns < start {
			continue // before the kept window (start is a bucket boundary)
		}
		i := (uint64(ns) - uint64(start)) / uint64(st)
		sum[i] += s.Value
		cnt[i]++
	}
	for i := range sum {
		if cnt[i] == 0 {
			sum[i] = math.NaN()
		} else {
			sum[i] /= float64(cnt[i])
		}
	}
	return Grid{Start: time.Unix(0, start).UTC(), Step: step}, sum, span, nil
}

// floorNanos rounds ns down to a multiple of step (> 0) since the Unix
// epoch; ok is false when the result is below math.MinInt64.
func floorNanos(ns, step int64) (int64, bool) {
	r := ns % step
	if r < 0 {
		r += step
	}
	if ns < math.MinInt64+r {
		return 0, false
	}
	return ns - r, true
}

// SortSamples sorts samples by time in place (stable for equal times).
func SortSamples(s []Sample) {
	slices.SortStableFunc(s, func(a, b Sample) int { return a.Time.Compare(b.Time) })
}
