package risk

import (
	"math"
	"sort"

	"github.com/seed-f1b503aa/foresight/models"
)

// This file holds the small robust statistics the disk and memory
// predictors share. Times are float64 days relative to the evaluation time
// (negative in the past) so that slopes come out per day.

// senMaxN bounds the number of points whose pairwise slopes are enumerated
// for the Theil–Sen confidence interval; longer inputs are thinned to senMaxN
// evenly spaced points (deterministically), which keeps one fit under a few
// milliseconds.
const senMaxN = 400

// z80, z95 are standard normal quantiles for central 80% and 95% intervals.
const (
	z80 = 1.2815515655446004
	z95 = 1.959963984540054
)

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// medianOf returns the median of v without modifying it (NaN when empty).
func medianOf(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	c := append([]float64(nil), v...)
	return medianInPlace(c)
}

// medianInPlace returns the median of v, reordering v.
func medianInPlace(v []float64) float64 {
	n := len(v)
	if n == 0 {
		return math.NaN()
	}
	if n%2 == 1 {
		return models.SelectKth(v, n/2)
	}
	a := models.SelectKth(v, n/2-1)
	b := math.Inf(1)
	for _, x := range v[n/2:] {
		if x < b {
			b = x
		}
	}
	return (a + b) / 2
}

// quantileOf returns the type-7 sample quantile of v at p in [0, 1]
// (v is not modified; NaN when empty).
func quantileOf(v []float64, p float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return quantileSorted(s, p)
}

// quantileSorted is the type-7 quantile of an ascending slice.
func quantileSorted(s []float64, p float64) float64 {
	n := len(s)
	if n == 0 {
		return math.NaN()
	}
	h := float64(n-1) * p
	lo := int(math.Floor(h))
	if lo < 0 {
		return s[0]
	}
	if lo >= n-1 {
		return s[n-1]
	}
	return s[lo] + (h-float64(lo))*(s[lo+1]-s[lo])
}

// madScale is the normal-consistent median absolute deviation
// 1.4826·median|v - median(v)| (0 for fewer than two values).
func madScale(v []float64) float64 {
	if len(v) < 2 {
		return 0
	}
	m := medianOf(v)
	d := make([]float64, len(v))
	for i, x := range v {
		d[i] = math.Abs(x - m)
	}
	return 1.4826 * medianInPlace(d)
}

// diffNoise estimates the standard deviation of white noise around a
// locally smooth signal from first differences: 1.4826·MAD(diff)/√2. It is
// robust to occasional jumps (steps, spikes) as long as they are a minority
// of the differences.
func diffNoise(v []float64) float64 {
	if len(v) < 3 {
		return 0
	}
	d := make([]float64, 0, len(v)-1)
	for i := 1; i < len(v); i++ {
		d = append(d, v[i]-v[i-1])
	}
	return madScale(d) / math.Sqrt2
}

// senResult is a Theil–Sen line y = Intercept + Slope·x with the
// rank-based confidence interval [Lo, Hi] of the slope (Sen 1968).
type senResult struct {
	Slope, Intercept float64
	Lo, Hi           float64 // slope interval at the requested level
	N                int     // points used
}

// thinIdx returns the indices of at most max evenly spaced elements of
// 0..n-1 (all of them when n <= max).
func thinIdx(n, max int) []int {
	if n <= max {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	idx := make([]int, max)
	for i := range idx {
		idx[i] = int(math.Round(float64(i) * float64(n-1) / float64(max-1)))
	}
	return idx
}

// senFit fits the Theil–Sen line to (x, y) (non-finite pairs dropped). The
// slope interval at the central level z (a normal quantile, e.g. z95) uses
// the Mann–Kendall variance of S multiplied by inflate (>= 1), which widens it
// for autocorrelated residuals. The slope and interval come from at most
// senMaxN evenly spaced points; the intercept median(y - slope·x) uses all.
// ok is false with fewer than two distinct x.
func senFit(x, y []float64, z, inflate float64) (senResult, bool) {
	var xs, ys []float64
	for i := range x {
		if finite(x[i]) && finite(y[i]) {
			xs = append(xs, x[i])
			ys = append(ys, y[i])
		}
	}
	n := len(xs)
	if n < 2 {
		return senResult{}, false
	}
	idx := thinIdx(n, senMaxN)
	m := len(idx)
	slopes := make([]float64, 0, m*(m-1)/2)
	for a := 0; a < m; a++ {
		xa, ya := xs[idx[a]], ys[idx[a]]
		for b := a + 1; b < m; b++ {
			dx := xs[idx[b]] - xa
			if dx != 0 {
				slopes = append(slopes, (ys[idx[b]]-ya)/dx)
			}
		}
	}
	N := len(slopes)
	if N == 0 {
		return senResult{}, false
	}
	r := senResult{N: n}
	r.Slope = medianInPlace(slopes)
	if inflate < 1 {
		inflate = 1
	}
	fm := float64(m)
	varS := fm * (fm - 1) * (2*fm + 5) / 18 * inflate
	c := z * math.Sqrt(varS)
	m1 := int(math.Floor((float64(N) - c) / 2))
	m2 := int(math.Ceil((float64(N) + c) / 2))
	m1 = min(max(m1, 0), N-1)
	m2 = min(max(m2, 0), N-1)
	r.Lo = models.SelectKth(slopes, m1)
	r.Hi = models.SelectKth(slopes, m2)
	if r.Lo > r.Slope {
		r.Lo = r.Slope
	}
	if r.Hi < r.Slope {
		r.Hi = r.Slope
	}
	res := make([]float64, n)
	for i := range xs {
		res[i] = ys[i] - r.Slope*xs[i]
	}
	r.Intercept = medianInPlace(res)
	return r, true
}

// lag1Autocorr returns the lag-1 autocorrelation of v (0 for fewer than
// three values or zero variance).
func lag1Autocorr(v []float64) float64 {
	n := len(v)
	if n < 3 {
		return 0
	}
	var m float64
	for _, x := range v {
		m += x
	}
	m /= float64(n)
	var num, den float64
	for i := range v {
		d := v[i] - m
		den += d * d
		if i > 0 {
			num += d * (v[i-1] - m)
		}
	}
	if den == 0 {
		return 0
	}
	return num / den
}

// inflation returns the variance inflation n/n_eff for autocorrelated
// residuals, n_eff = n(1-ρ)/(1+ρ) with ρ the lag-1 autocorrelation clamped
// to [0, 0.95] (so the factor is in [1, 39]).
func inflation(resid []float64) float64 {
	rho := lag1Autocorr(resid)
	rho = min(max(rho, 0), 0.95)
	return (1 + rho) / (1 - rho)
}

// senInflation is inflation computed on the residuals at the points senFit
// keeps after thinning (so the autocorrelation matches their spacing).
func senInflation(resid []float64) float64 {
	idx := thinIdx(len(resid), senMaxN)
	if len(idx) == len(resid) {
		return inflation(resid)
	}
	r := make([]float64, len(idx))
	for i, j := range idx {
		r[i] = resid[j]
	}
	return inflation(r)
}

// trendTest is a Mann–Kendall test with the variance of S inflated for
// autocorrelation.
type trendTest struct {
	Z, P, Tau float64
	N         int
	Inflate   float64
}

// mkTest runs models.MannKendall on y and corrects its Z score with the
// given variance inflation (>= 1): Z* = Z/√inflate, P = 2(1-Φ(|Z*|)).
// Fewer than three values give P = 1.
func mkTest(y []float64, inflate float64) trendTest {
	r, err := models.MannKendall(y)
	if err != nil {
		return trendTest{P: 1, Inflate: inflate}
	}
	if inflate < 1 {
		inflate = 1
	}
	z := r.Z / math.Sqrt(inflate)
	return trendTest{Z: z, P: math.Erfc(math.Abs(z) / math.Sqrt2), Tau: r.Tau, N: r.N, Inflate: inflate}
}

// olsFit solves the least-squares problem for the design columns cols
// (each len(y)) with optional weights w (nil = 1): it returns the
// coefficients, the residual variance s² = SSE/(n-k) and the unscaled
// covariance (XᵀWX)⁻¹ (k×k, row-major). ok is false for a singular design
// or n <= k. Columns are standardised internally for conditioning.
func olsFit(cols [][]float64, y, w []float64) (beta []float64, s2 float64, cov []float64, ok bool) {
	k := len(cols)
	n := len(y)
	if k == 0 || n <= k {
		return nil, 0, nil, false
	}
	// standardise non-constant columns
	mu := make([]float64, k)
	sd := make([]float64, k)
	for j, c := range cols {
		var m, s float64
		for _, v := range c {
			m += v
		}
		m /= float64(n)
		for _, v := range c {
			s += (v - m) * (v - m)
		}
		s = math.Sqrt(s / float64(n))
		if s == 0 { // constant column: keep as is
			mu[j], sd[j] = 0, 1
			if m != 0 {
				sd[j] = m
			}
			continue
		}
		mu[j], sd[j] = 0, s
	}
	a := make([]float64, k*k)
	b := make([]float64, k)
	row := make([]float64, k)
	for i := 0; i < n; i++ {
		wi := 1.0
		if w != nil {
			wi = w[i]
		}
		for j := range cols {
			row[j] = (cols[j][i] - mu[j]) / sd[j]
		}
		for p := 0; p < k; p++ {
			b[p] += wi * row[p] * y[i]
			for q := p; q < k; q++ {
				a[p*k+q] += wi * row[p] * row[q]
			}
		}
	}
	for p := 0; p < k; p++ {
		for q := 0; q < p; q++ {
			a[p*k+q] = a[q*k+p]
		}
	}
	inv, ok := invertSPD(a, k)
	if !ok {
		return nil, 0, nil, false
	}
	beta = make([]float64, k)
	for p := 0; p < k; p++ {
		for q := 0; q < k; q++ {
			beta[p] += inv[p*k+q] * b[q]
		}
	}
	var sse float64
	for i := 0; i < n; i++ {
		f := 0.0
		for j := range cols {
			f += beta[j] * (cols[j][i] - mu[j]) / sd[j]
		}
		r := y[i] - f
		wi := 1.0
		if w != nil {
			wi = w[i]
		}
		sse += wi * r * r
	}
	s2 = sse / float64(n-k)
	// back to the original column scale
	for j := range beta {
		beta[j] /= sd[j]
	}
	cov = make([]float64, k*k)
	for p := 0; p < k; p++ {
		for q := 0; q < k; q++ {
			cov[p*k+q] = inv[p*k+q] / (sd[p] * sd[q])
		}
	}
	return beta, s2, cov, true
}

// invertSPD inverts a symmetric positive definite k×k matrix by
// Gauss–Jordan elimination with partial pivoting; ok is false when it is
// (numerically) singular.
func invertSPD(a []float64, k int) ([]float64, bool) {
	m := make([]float64, k*2*k)
	var scale float64
	for i := 0; i < k; i++ {
		for j := 0; j < k; j++ {
			m[i*2*k+j] = a[i*k+j]
			scale = math.Max(scale, math.Abs(a[i*k+j]))
		}
		m[i*2*k+k+i] = 1
	}
	if scale == 0 {
		return nil, false
	}
	w := 2 * k
	for c := 0; c < k; c++ {
		p := c
		for r := c + 1; r < k; r++ {
			if math.Abs(m[r*w+c]) > math.Abs(m[p*w+c]) {
				p = r
			}
		}
		if math.Abs(m[p*w+c]) <= 1e-12*scale {
			return nil, false
		}
		if p != c {
			for j := 0; j < w; j++ {
				m[c*w+j], m[p*w+j] = m[p*w+j], m[c*w+j]
			}
		}
		piv := m[c*w+c]
		for j := 0; j < w; j++ {
			m[c*w+j] /= piv
		}
		for r := 0; r < k; r++ {
			if r == c {
				continue
			}
			f := m[r*w+c]
			if f == 0 {
				continue
			}
			for j := 0; j < w; j++ {
				m[r*w+j] -= f * m[c*w+j]
			}
		}
	}
	inv := make([]float64, k*k)
	for i := 0; i < k; i++ {
		copy(inv[i*k:(i+1)*k], m[i*w+k:(i+1)*w])
	}
	return inv, true
}

// huberFit is olsFit made robust by Huber IRLS (c = 1.345 residual scales,
// scale = MAD of the residuals), a fixed number of iterations.
func huberFit(cols [][]float64, y []float64) (beta []float64, s2 float64, cov []float64, ok bool) {
	beta, s2, cov, ok = olsFit(cols, y, nil)
	if !ok {
		return
	}
	n := len(y)
	w := make([]float64, n)
	res := make([]float64, n)
	for it := 0; it < 8; it++ {
		for i := 0; i < n; i++ {
			f := 0.0
			for j := range cols {
				f += beta[j] * cols[j][i]
			}
			res[i] = y[i] - f
		}
		s := madScale(res)
		if s == 0 {
			return
		}
		for i, r := range res {
			a := math.Abs(r / s)
			w[i] = 1
			if a > 1.345 {
				w[i] = 1.345 / a
			}
		}
		b2, s22, c2, ok2 := olsFit(cols, y, w)
		if !ok2 {
			return
		}
		beta, s2, cov = b2, s22, c2
	}
	return beta, s2, cov, true
}

// rSquared returns 1 - SSE/SST of fitted values against y (0 when y is
// constant).
func rSquared(y, fitted []float64) float64 {
	var m float64
	for _, v := range y {
		m += v
	}
	m /= float64(len(y))
	var sse, sst float64
	for i, v := range y {
		sse += (v - fitted[i]) * (v - fitted[i])
		sst += (v - m) * (v - m)
	}
	if sst == 0 {
		return 0
	}
	return 1 - sse/sst
}

func clamp01(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return min(max(v, 0), 1)
}
