package nb

import (
	"math"
	"time"
)

// PredictLinear is Prometheus' predict_linear: the least-squares line
// through the samples in (now-window, now], evaluated at now (value) with
// its slope per day. ok is false with fewer than two samples. It is the
// same peer the scenario benchmarks compute (package benchmark).
func PredictLinear(times []time.Time, vals []float64, now time.Time, window time.Duration) (value, slopePerDay float64, ok bool) {
	var n, st, sv, stt, stv float64
	for i := len(times) - 1; i >= 0 && times[i].After(now.Add(-window)); i-- {
		if times[i].After(now) || math.IsNaN(vals[i]) {
			continue
		}
		x := times[i].Sub(now).Hours() / 24
		n++
		st += x
		sv += vals[i]
		stt += x * x
		stv += x * vals[i]
	}
	den := n*stt - st*st
	if n < 2 || den == 0 {
		return 0, 0, false
	}
	b := (n*stv - st*sv) / den
	return (sv - b*st) / n, b, true
}

// LinearETA is the number of days until a predict_linear line reaches
// level (+Inf when it does not rise, 0 when it is already there).
func LinearETA(value, slopePerDay, level float64) float64 {
	if value >= level {
		return 0
	}
	if slopePerDay <= 0 {
		return math.Inf(1)
	}
	return (level - value) / slopePerDay
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
