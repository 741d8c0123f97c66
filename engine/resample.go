package engine

import (
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
func Resample(samples []Sample, step time.Duration) (Grid, []float64, error) {
	if step <= 0 {
		return Grid{}, nil, fmt.Errorf("resample: step %s must be positive", step)
	}
	if len(samples) == 0 {
		return Grid{}, nil, fmt.Errorf("resample: no samples")
	}
	lo, hi := samples[0].Time, samples[0].Time
	for _, s := range samples[1:] {
		if s.Time.Before(lo) {
			lo = s.Time
		}
		if s.Time.After(hi) {
			hi = s.Time
		}
	}
	start := floorTime(lo, step)
	n := int(floorTime(hi, step).Sub(start)/step) + 1
	const maxPoints = 10_000_000
	if n > maxPoints {
		return Grid{}, nil, fmt.Errorf("resample: %d grid points at step %s is more than %d: use a larger step", n, step, maxPoints)
	}
	sum := make([]float64, n)
	cnt := make([]int32, n)
	for _, s := range samples {
		if math.IsNaN(s.Value) || math.IsInf(s.Value, 0) {
			continue
		}
		i := int(s.Time.Sub(start) / step)
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
	return Grid{Start: start, Step: step}, sum, nil
}

// floorTime rounds t down to a multiple of step since the Unix epoch.
func floorTime(t time.Time, step time.Duration) time.Time {
	ns := t.UnixNano()
	r := ns % int64(step)
	if r < 0 {
		r += int64(step)
	}
	return time.Unix(0, ns-r).UTC()
}

// SortSamples sorts samples by time in place (stable for equal times).
func SortSamples(s []Sample) {
	slices.SortStableFunc(s, func(a, b Sample) int { return a.Time.Compare(b.Time) })
}
