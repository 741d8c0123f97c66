package nb

import (
	"math"
	"time"

	"github.com/seed-f1b503aa/foresight/benchmark"
)

// PredictLinear is the scenario benchmarks' Prometheus predict_linear
// peer (benchmark.PredictLinear): the least-squares line through the
// samples in (now-window, now], its value at now and slope per day.
func PredictLinear(times []time.Time, vals []float64, now time.Time, window time.Duration) (value, slopePerDay float64, ok bool) {
	return benchmark.PredictLinear(times, vals, now, window)
}

// LinearETA is the days until a predict_linear line reaches level
// (benchmark.LinearETA).
func LinearETA(value, slopePerDay, level float64) float64 {
	return benchmark.LinearETA(value, slopePerDay, level)
}

// PeerETA is LinearETA of PredictLinear over the given window (+Inf when
// the line cannot be fitted).
func PeerETA(times []time.Time, vals []float64, now time.Time, window time.Duration, level float64) float64 {
	v, b, ok := PredictLinear(times, vals, now, window)
	if !ok {
		return math.Inf(1)
	}
	return LinearETA(v, b, level)
}
