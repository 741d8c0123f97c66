package risk

import (
	"math"
	"time"

	"github.com/seed-f1b503aa/foresight/models"
	"gonum.org/v1/gonum/stat/distuv"
)

// Small robust statistics for the month-end predictor. Names carry the me
// prefix because other predictors share the package.

// meZ90 is the standard normal 90th percentile: an 80 % central interval
// is ±meZ90 standard deviations.
const meZ90 = 1.2815515655446004

// meT90 is the 90th percentile of Student's t with df degrees of freedom.
func meT90(df float64) float64 {
	if df < 1 {
		df = 1
	}
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Quantile(0.9)
}

// meExceedProb is P(X >= thr) for X normal with median q.P50 and the
// spread of q.P10..q.P90.
func meExceedProb(q MonthEndQuantiles, thr float64) float64 {
	sd := (q.P90 - q.P10) / (2 * meZ90)
	if !(sd > 0) {
		if q.P50 >= thr {
			return 1
		}
		return 0
	}
	z := (thr - q.P50) / sd
	return 0.5 * math.Erfc(z/math.Sqrt2)
}

// meMedianMAD returns the median of v and the normal-consistent median
// absolute deviation 1.4826×median|v−median| (NaN, NaN for none); v is
// reordered.
func meMedianMAD(v []float64) (float64, float64) {
	med := models.Median(v)
	if math.IsNaN(med) {
		return med, med
	}
	dev := make([]float64, len(v))
	for i, x := range v {
		dev[i] = math.Abs(x - med)
	}
	return med, 1.4826 * models.Median(dev)
}

// meHampel replaces isolated outliers in y in place: a finite value more
// than k robust SDs from the median of the finite values within half
// samples on either side (at least three of them) becomes that median.
// When the neighbourhood's MAD is 0, any deviating value is replaced.
func meHampel(y []float64, half int, k float64) {
	orig := append([]float64(nil), y...)
	win := make([]float64, 0, 2*half+1)
	for i, v := range orig {
		if math.IsNaN(v) {
			continue
		}
		win = win[:0]
		for j := max(0, i-half); j <= min(len(orig)-1, i+half); j++ {
			if !math.IsNaN(orig[j]) {
				win = append(win, orig[j])
			}
		}
		if len(win) < 3 {
			continue
		}
		med, sd := meMedianMAD(win)
		if math.Abs(v-med) > k*sd {
			y[i] = med
		}
	}
}

// meFillNaN replaces NaN entries by the nearest finite one (the earlier on
// ties); an all-NaN slice becomes zeros.
func meFillNaN(v []float64) {
	last := -1
	for i, x := range v {
		if math.IsNaN(x) {
			continue
		}
		for j := last + 1; j < i; j++ {
			if last < 0 || j-last > i-j {
				v[j] = x
			} else {
				v[j] = v[last]
			}
		}
		last = i
	}
	for j := last + 1; j < len(v); j++ {
		if last < 0 {
			v[j] = 0
		} else {
			v[j] = v[last]
		}
	}
}

// meSmooth121 returns v smoothed with weights 1, 2, 1 (ends use their own
// value for the missing neighbour).
func meSmooth121(v []float64) []float64 {
	out := make([]float64, len(v))
	for i := range v {
		l, r := v[max(i-1, 0)], v[min(i+1, len(v)-1)]
		out[i] = (l + 2*v[i] + r) / 4
	}
	return out
}

// meNaNs returns n NaNs.
func meNaNs(n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = math.NaN()
	}
	return v
}

// meQuantileTime returns the nearest-rank p-quantile of sorted times: one of
// the times themselves (interpolating between peaks on different days
// would invent times outside business hours).
func meQuantileTime(ts []time.Time, p float64) time.Time {
	k := int(math.Ceil(p*float64(len(ts)))) - 1
	return ts[min(max(k, 0), len(ts)-1)]
}
