package risk

import (
	"math"
	"math/rand/v2"
	"time"
)

// Synthetic series for the tests. Everything is seeded, so the tests are
// deterministic.

const gib = float64(1 << 30)

// testNow is the evaluation time of the synthetic series.
var testNow = time.Date(2026, 10, 20, 6, 0, 0, 0, time.UTC)

// grid returns n times spaced step apart, ending at end.
func grid(end time.Time, step time.Duration, n int) []time.Time {
	ts := make([]time.Time, n)
	for i := range ts {
		ts[i] = end.Add(-time.Duration(n-1-i) * step)
	}
	return ts
}

// synth evaluates f (days relative to end, <= 0) on a grid and adds AR(1)
// noise with standard deviation sd and coefficient phi.
func synth(ts []time.Time, end time.Time, f func(d float64) float64, sd, phi float64, seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, 7))
	out := make([]float64, len(ts))
	e := r.NormFloat64()
	for i, t := range ts {
		e = phi*e + math.Sqrt(1-phi*phi)*r.NormFloat64()
		out[i] = f(toDays(t, end)) + sd*e
	}
	return out
}

func constant(n int, v float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// hourOfDay returns the hour (UTC) of a time given in days relative to end.
func hourOfDay(d float64, end time.Time) float64 {
	t := end.Add(time.Duration(d * float64(dayDur)))
	return float64(t.Hour()) + float64(t.Minute())/60 + float64(t.Second())/3600
}
