package models

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat/distuv"
)

// Regression forecasts with a linear model on an intercept, a linear trend,
// K Fourier pairs sin(2πkt/p), cos(2πkt/p) (k = 1..K) for each seasonal period
// p, and optional caller-supplied regressor columns (for example from
// Calendar.Columns):
//
//	y[t] = β₀ + β₁t + Σ_p Σ_k (a_pk sin(2πkt/p) + b_pk cos(2πkt/p)) + Σ_j γ_j x_j[t] + ε[t].
//
// t is the index in the input slice, so leading missing values keep the phase
// of the Fourier terms and the alignment of the regressors. Missing
// observations are simply left out of the fit (no interpolation).
//
// The coefficients are estimated robustly by iteratively reweighted least
// squares with Huber weights w = min(1, c/|r/s|) (c = HuberK, default 1.345),
// with s = median|r|/0.6745 recomputed from the residuals before every step
// (MASS::rlm's "MAD" scale), until the coefficients change by less than 1e-9
// relative; every
// weighted least-squares step uses a thin SVD of the weighted design (gonum
// mat), so rank-deficient designs (e.g. collinear dummies) get the
// minimum-norm solution instead of failing.
//
// Prediction intervals: ŷ₀ ± t_{ν,(1+L)/2}·s·√(1 + x₀ᵀ(XᵀWX)⁺x₀) with s the
// final residual scale median|r|/0.6745 (falling back to the root mean square residual when more
// than half of the residuals are exactly zero), ν = n - rank(X), and (XᵀWX)⁺
// from the SVD. A constant series gives zero-width intervals.
//
// Needs at least (number of columns + 2) observations. Fit costs O(I·n·c²)
// for I IRLS iterations (at most 50) and c columns.
type Regression struct {
	// Periods are the seasonal periods for Fourier terms, in samples.
	Periods []int
	// Harmonics gives K for each period (same order); missing or
	// non-positive entries mean min(⌊p/2⌋, 5). K is capped at ⌊p/2⌋ and the
	// identically zero sine at k = p/2 is dropped.
	Harmonics []int
	// NoTrend drops the linear trend column.
	NoTrend bool
	// Regressors are extra design columns indexed like y and continuing into
	// the future: Forecast(h) needs every column to have at least len(y)+h
	// elements, finite from index len(y) on. NaN in the history part drops
	// that observation.
	Regressors [][]float64
	// HuberK is the Huber tuning constant in units of the residual scale;
	// <= 0 means 1.345 (95% efficiency under normal errors).
	HuberK float64

	nY       int // len(y) at Fit
	scale    float64
	beta     []float64
	v        *mat.Dense // right singular vectors of the final weighted design
	sv       []float64  // singular values
	rank     int
	sigma    float64 // residual scale (scaled units)
	nObs     int
	iters    int
	isFitted bool
}

// Name returns "regression".
func (r *Regression) Name() string { return "regression" }

// Coefficients returns the fitted coefficients in data units, in design
// order: intercept, trend (per sample), then for each period sin/cos pairs
// for k = 1..K, then the extra regressors. It returns nil before Fit.
func (r *Regression) Coefficients() []float64 {
	if !r.isFitted {
		return nil
	}
	out := make([]float64, len(r.beta))
	for i, b := range r.beta {
		out[i] = b * r.scale
	}
	if !r.NoTrend {
		out[1] /= r.trendDen()
	}
	return out
}

func (r *Regression) harmonics() []int {
	ks := make([]int, len(r.Periods))
	for i, p := range r.Periods {
		k := 0
		if i < len(r.Harmonics) {
			k = r.Harmonics[i]
		}
		if k <= 0 {
			k = min(p/2, 5)
		}
		k = min(k, p/2)
		ks[i] = k
	}
	return ks
}

func (r *Regression) trendDen() float64 { return float64(max(r.nY, 1)) }

// row fills the design row for index t.
func (r *Regression) row(dst []float64, t int, ks []int) []float64 {
	dst = dst[:0]
	dst = append(dst, 1)
	if !r.NoTrend {
		dst = append(dst, float64(t)/r.trendDen())
	}
	for i, p := range r.Periods {
		for k := 1; k <= ks[i]; k++ {
			a := 2 * math.Pi * float64(k) * float64(t%p) / float64(p)
			if 2*k != p {
				dst = append(dst, math.Sin(a))
			}
			dst = append(dst, math.Cos(a))
		}
	}
	for _, c := range r.Regressors {
		dst = append(dst, c[t])
	}
	return dst
}

func (r *Regression) ncols(ks []int) int {
	c := 1
	if !r.NoTrend {
		c++
	}
	for i, p := range r.Periods {
		for k := 1; k <= ks[i]; k++ {
			if 2*k != p {
				c++
			}
			c++
		}
	}
	return c + len(r.Regressors)
}

// Fit estimates the coefficients by Huber IRLS.
func (r *Regression) Fit(y []float64) error {
	r.isFitted = false
	for _, p := range r.Periods {
		if p < 2 {
			return fmt.Errorf("regression: %w: %d", ErrInvalidPeriod, p)
		}
	}
	for j, c := range r.Regressors {
		if len(c) < len(y) {
			return fmt.Errorf("regression: %w: regressor %d has %d values, series %d", ErrLengthMismatch, j, len(c), len(y))
		}
	}
	ks := r.harmonics()
	r.nY = len(y)
	nc := r.ncols(ks)
	var rows []int
	scale := 0.0
	for t, v := range y {
		if !isFinite(v) {
			continue
		}
		ok := true
		for _, c := range r.Regressors {
			if !isFinite(c[t]) {
				ok = false
				break
			}
		}
		if ok {
			rows = append(rows, t)
			scale = math.Max(scale, math.Abs(v))
		}
	}
	need := nc + 2
	if len(rows) < need {
		return &InsufficientHistoryError{Need: need, Have: len(rows), Model: "regression"}
	}
	if scale == 0 {
		scale = 1
	}
	n := len(rows)
	X := mat.NewDense(n, nc, nil)
	yv := make([]float64, n)
	buf := make([]float64, 0, nc)
	for i, t := range rows {
		X.SetRow(i, r.row(buf, t, ks))
		yv[i] = y[t] / scale
	}
	k := r.HuberK
	if k <= 0 {
		k = 1.345
	}
	w := make([]float64, n)
	for i := range w {
		w[i] = 1
	}
	beta, svd, rank := weightedLS(X, yv, w)
	if beta == nil {
		return fmt.Errorf("regression: SVD failed to converge")
	}
	resid := make([]float64, n)
	iters := 0
	for iters = 0; iters < 50; iters++ {
		residuals(resid, X, yv, beta)
		s := madScale(resid)
		if s <= 1e-12 {
			break
		}
		for i, e := range resid {
			u := math.Abs(e) / s
			if u <= k {
				w[i] = 1
			} else {
				w[i] = k / u
			}
		}
		nb, nsvd, nrank := weightedLS(X, yv, w)
		if nb == nil {
			break
		}
		delta, size := 0.0, 0.0
		for j := range nb {
			delta = math.Max(delta, math.Abs(nb[j]-beta[j]))
			size = math.Max(size, math.Abs(nb[j]))
		}
		beta, svd, rank = nb, nsvd, nrank
		if delta <= 1e-9*(1+size) {
			iters++
			break
		}
	}
	residuals(resid, X, yv, beta)
	sigma := madScale(resid)
	if sigma <= 1e-12 {
		var ss float64
		for _, e := range resid {
			ss += e * e
		}
		df := n - rank
		if df < 1 {
			df = 1
		}
		sigma = math.Sqrt(ss / float64(df))
	}
	var v mat.Dense
	svd.VTo(&v)
	r.beta, r.v, r.sv, r.rank = beta, &v, svd.Values(nil), rank
	r.sigma, r.scale, r.nObs, r.iters = sigma, scale, n, iters
	r.isFitted = true
	return nil
}

// weightedLS solves min Σ w_i (y_i - x_iᵀβ)² by a thin SVD of diag(√w)X,
// truncating singular values below 1e-10 of the largest.
func weightedLS(X *mat.Dense, y, w []float64) ([]float64, *mat.SVD, int) {
	n, c := X.Dims()
	A := mat.NewDense(n, c, nil)
	b := mat.NewDense(n, 1, nil)
	for i := 0; i < n; i++ {
		sw := math.Sqrt(w[i])
		for j := 0; j < c; j++ {
			A.Set(i, j, X.At(i, j)*sw)
		}
		b.Set(i, 0, y[i]*sw)
	}
	var svd mat.SVD
	if !svd.Factorize(A, mat.SVDThin) {
		return nil, nil, 0
	}
	rank := svd.Rank(1e-10)
	if rank == 0 {
		return make([]float64, c), &svd, 0
	}
	var sol mat.Dense
	svd.SolveTo(&sol, b, rank)
	beta := make([]float64, c)
	for j := range beta {
		beta[j] = sol.At(j, 0)
	}
	return beta, &svd, rank
}

func residuals(dst []float64, X *mat.Dense, y, beta []float64) {
	_, c := X.Dims()
	for i := range y {
		var f float64
		for j := 0; j < c; j++ {
			f += X.At(i, j) * beta[j]
		}
		dst[i] = y[i] - f
	}
}

// madScale returns median(|r|)/0.6745, the residual scale used by Huber
// M-estimation (as in MASS::rlm with scale.est = "MAD").
func madScale(r []float64) float64 {
	tmp := make([]float64, len(r))
	for i, v := range r {
		tmp[i] = math.Abs(v)
	}
	return median(tmp) / 0.6745
}

// Forecast returns h steps with prediction intervals. Every regressor column
// must have at least len(y)+h values.
func (r *Regression) Forecast(h int, levels []float64) (Forecast, error) {
	if !r.isFitted {
		return Forecast{}, fmt.Errorf("regression: %w", ErrNotFitted)
	}
	if err := checkHorizon(h, "regression"); err != nil {
		return Forecast{}, err
	}
	levels, err := checkLevels(levels)
	if err != nil {
		return Forecast{}, fmt.Errorf("regression: %w", err)
	}
	for j, c := range r.Regressors {
		if len(c) < r.nY+h {
			return Forecast{}, fmt.Errorf("regression: %w: regressor %d has %d values, need %d for horizon %d", ErrLengthMismatch, j, len(c), r.nY+h, h)
		}
		for i := r.nY; i < r.nY+h; i++ {
			if !isFinite(c[i]) {
				return Forecast{}, fmt.Errorf("regression: %w: regressor %d at future step %d", ErrMissingRegressor, j, i-r.nY+1)
			}
		}
	}
	ks := r.harmonics()
	nc := len(r.beta)
	mean := make([]float64, h)
	sd := make([]float64, h)
	buf := make([]float64, 0, nc)
	proj := make([]float64, r.rank)
	for i := 0; i < h; i++ {
		x0 := r.row(buf, r.nY+i, ks)
		var f float64
		for j, b := range r.beta {
			f += b * x0[j]
		}
		mean[i] = f
		// leverage x0ᵀ V Σ⁻² Vᵀ x0 over the retained singular values
		var lev float64
		for k := 0; k < r.rank; k++ {
			var d float64
			for j := 0; j < nc; j++ {
				d += r.v.At(j, k) * x0[j]
			}
			proj[k] = d / r.sv[k]
			lev += proj[k] * proj[k]
		}
		sd[i] = r.sigma * math.Sqrt(1+lev)
	}
	df := float64(r.nObs - r.rank)
	if df < 1 {
		df = 1
	}
	ivs := make([]Interval, len(levels))
	for k, l := range levels {
		q := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Quantile(0.5 + l/2)
		lo := make([]float64, h)
		hi := make([]float64, h)
		for i := range mean {
			lo[i] = mean[i] - q*sd[i]
			hi[i] = mean[i] + q*sd[i]
		}
		ivs[k] = Interval{Level: l, Lo: lo, Hi: hi}
	}
	f := Forecast{Mean: mean, Intervals: ivs, Model: "regression", Params: map[string]float64{
		"sigma": r.sigma * r.scale,
		"rank":  float64(r.rank),
		"iters": float64(r.iters),
	}}
	for i, c := range r.Coefficients() {
		f.Params["beta"+strconv.Itoa(i)] = c
	}
	f.unscale(r.scale, 0)
	return f, nil
}

// Calendar builds dummy-variable columns from timestamps for use as
// Regression.Regressors.
//
// HourOfDay adds 23 indicators for hours 1..23 (hour 0 is the reference
// level), DayOfWeek adds 6 indicators for Tuesday..Sunday (Monday is the
// reference). MonthEndDays > 0 adds one indicator that is 1 on the last
// MonthEndDays calendar days of each month (month-end close), MonthStartDays
// > 0 one that is 1 on the first MonthStartDays days. Fields are read in
// Location (nil: each time's own location). Reference levels are omitted so
// the columns are not collinear with the intercept; note that hour-of-day
// dummies and Fourier terms for period 24 describe the same effect and should
// not be combined.
type Calendar struct {
	HourOfDay      bool
	DayOfWeek      bool
	MonthEndDays   int
	MonthStartDays int
	Location       *time.Location
}

// Columns returns the regressor columns (one slice per column, each
// len(times) long) and their names, e.g. "hour13", "wday2" (Tuesday),
// "monthend", "monthstart". Pass times covering both the history and the
// forecast horizon. Complexity O(len(times)·columns).
func (c Calendar) Columns(times []time.Time) (cols [][]float64, names []string) {
	n := len(times)
	newCol := func(name string) []float64 {
		col := make([]float64, n)
		cols = append(cols, col)
		names = append(names, name)
		return col
	}
	var hours [24][]float64
	if c.HourOfDay {
		for h := 1; h < 24; h++ {
			hours[h] = newCol("hour" + strconv.Itoa(h))
		}
	}
	var days [7][]float64 // index by days since Monday
	if c.DayOfWeek {
		for d := 1; d < 7; d++ {
			days[d] = newCol("wday" + strconv.Itoa(d+1))
		}
	}
	var me, ms []float64
	if c.MonthEndDays > 0 {
		me = newCol("monthend")
	}
	if c.MonthStartDays > 0 {
		ms = newCol("monthstart")
	}
	for i, t := range times {
		if c.Location != nil {
			t = t.In(c.Location)
		}
		if c.HourOfDay {
			if h := t.Hour(); h > 0 {
				hours[h][i] = 1
			}
		}
		if c.DayOfWeek {
			d := (int(t.Weekday()) + 6) % 7 // Monday = 0
			if d > 0 {
				days[d][i] = 1
			}
		}
		if me != nil {
			y, m, d := t.Date()
			last := time.Date(y, m+1, 0, 0, 0, 0, 0, t.Location()).Day()
			if d > last-c.MonthEndDays {
				me[i] = 1
			}
		}
		if ms != nil && t.Day() <= c.MonthStartDays {
			ms[i] = 1
		}
	}
	return cols, names
}
