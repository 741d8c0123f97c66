package models

import (
	"fmt"
	"math"
)

// STL is the Seasonal-Trend decomposition by LOESS of Cleveland, Cleveland,
// McRae & Terpenning (1990, J. Official Statistics 6:3-73), following the
// reference Fortran implementation used by R's stats::stl.
//
// The series is split as y = T + S + R. The inner loop (Inner passes) does:
// detrend y - T; smooth each cycle-subseries with LOESS (window
// SeasonalWindow, degree 0 or 1), extending it by one cycle at each end;
// low-pass filter the result with moving averages of lengths m, m, 3 and a
// LOESS of window LowPassWindow; S = smoothed cycle-subseries - low-pass; T =
// LOESS (window TrendWindow) of y - S. The outer loop (Outer passes, robust
// fits only) computes bisquare robustness weights B((|R|)/(6·median|R|)) that
// down-weight outliers in the next inner loop. LOESS fits are evaluated every
// Jump points and linearly interpolated in between, as in the reference code.
//
// Defaults (zero values) follow R: SeasonalWindow 11 (made odd and >= 3),
// SeasonalDegree 0, TrendWindow = nextodd(1.5m/(1-1.5/ns)), LowPassWindow =
// nextodd(m), trend and low-pass degree 1, jumps ceil(window/10), Inner 2 and
// Outer 0, or Inner 1 and Outer 15 when Robust. Periodic replaces the seasonal
// smoother by the mean of each cycle-subseries (R's s.window = "periodic").
//
// The series needs more than two full periods (n > 2m). Missing values are
// interpolated and leading/trailing ones trimmed (see Clean). Complexity
// O((Inner·(Outer+1))·n·(ns/js + nt/jt + nl/jl)), i.e. linear in n.
type STL struct {
	// Period is the seasonal period m in samples (>= 2).
	Period int
	// SeasonalWindow is the LOESS span (in cycles) of the cycle-subseries
	// smoother; <= 0 means 11.
	SeasonalWindow int
	// Periodic forces a fixed seasonal pattern.
	Periodic bool
	// SeasonalLinear uses locally linear instead of locally constant
	// seasonal smoothing.
	SeasonalLinear bool
	// TrendWindow is the trend LOESS span in samples; <= 0 means the default.
	TrendWindow int
	// TrendConstant uses locally constant trend and low-pass smoothing.
	TrendConstant bool
	// LowPassWindow is the low-pass LOESS span; <= 0 means nextodd(m).
	LowPassWindow int
	// SeasonalJump, TrendJump, LowPassJump are the LOESS evaluation strides;
	// <= 0 means ceil(window/10).
	SeasonalJump, TrendJump, LowPassJump int
	// Inner and Outer are the loop counts; <= 0 means the defaults (Outer
	// < 0 means no robustness pass even when Robust).
	Inner, Outer int
	// Robust enables the outer robustness iterations.
	Robust bool
}

// Decomposition is the result of STL or MSTL.
//
// All slices have the length of the input. Positions of trimmed leading and
// trailing missing values are NaN; interior missing values were interpolated
// before decomposing. Seasonal[i] is the component for Periods[i]. Weights
// are the final robustness weights in [0, 1] (all 1 for non-robust fits).
// Data = Trend + Σ Seasonal + Remainder at every non-NaN position.
type Decomposition struct {
	Periods   []int
	Trend     []float64
	Seasonal  [][]float64
	Remainder []float64
	Weights   []float64
}

// nextOdd rounds x and adds one if the result is even.
func nextOdd(x float64) int {
	v := int(math.Round(x))
	if v%2 == 0 {
		v++
	}
	return v
}

// resolved parameters
type stlParams struct {
	np, ns, nt, nl         int
	isdeg, itdeg, ildeg    int
	nsjump, ntjump, nljump int
	ni, no                 int
	periodic               bool
}

func (s STL) params(n int) stlParams {
	p := stlParams{np: s.Period}
	ns := s.SeasonalWindow
	if ns <= 0 {
		ns = 11
	}
	if s.SeasonalLinear {
		p.isdeg = 1
	}
	if s.Periodic {
		ns = 10*n + 1
		p.isdeg = 0
		p.periodic = true
	}
	p.ns = ns
	p.nt = s.TrendWindow
	if p.nt <= 0 {
		p.nt = nextOdd(math.Ceil(1.5 * float64(p.np) / (1 - 1.5/float64(ns))))
	}
	p.nl = s.LowPassWindow
	if p.nl <= 0 {
		p.nl = nextOdd(float64(p.np))
	}
	p.itdeg = 1
	if s.TrendConstant {
		p.itdeg = 0
	}
	p.ildeg = p.itdeg
	jump := func(j, w int) int {
		if j > 0 {
			return j
		}
		return int(math.Ceil(float64(w) / 10))
	}
	p.nsjump = jump(s.SeasonalJump, p.ns)
	p.ntjump = jump(s.TrendJump, p.nt)
	p.nljump = jump(s.LowPassJump, p.nl)
	if s.Robust {
		p.ni, p.no = 1, 15
	} else {
		p.ni, p.no = 2, 0
	}
	if s.Inner > 0 {
		p.ni = s.Inner
	}
	if s.Outer > 0 {
		p.no = s.Outer
	} else if s.Outer < 0 {
		p.no = 0
	}
	// as in the Fortran driver: windows at least 3 and odd, period >= 2
	fix := func(w int) int {
		w = max(3, w)
		if w%2 == 0 {
			w++
		}
		return w
	}
	p.ns, p.nt, p.nl = fix(p.ns), fix(p.nt), fix(p.nl)
	return p
}

// Decompose runs STL on y. Errors: ErrInvalidPeriod for Period < 2, an
// *InsufficientHistoryError when the usable span has <= 2·Period samples.
func (s STL) Decompose(y []float64) (Decomposition, error) {
	if s.Period < 2 {
		return Decomposition{}, fmt.Errorf("stl: %w: %d", ErrInvalidPeriod, s.Period)
	}
	x, lead, _ := Clean(y)
	if len(x) <= 2*s.Period {
		return Decomposition{}, &InsufficientHistoryError{Need: 2*s.Period + 1, Have: len(x), Model: "stl"}
	}
	season, trend, rw := s.run(x)
	d := Decomposition{Periods: []int{s.Period}}
	d.Trend = embed(trend, len(y), lead)
	d.Seasonal = [][]float64{embed(season, len(y), lead)}
	rem := make([]float64, len(x))
	for i := range x {
		rem[i] = x[i] - trend[i] - season[i]
	}
	d.Remainder = embed(rem, len(y), lead)
	d.Weights = embed(rw, len(y), lead)
	return d, nil
}

// embed places v at offset lead in a NaN-filled slice of length n.
func embed(v []float64, n, lead int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = math.NaN()
	}
	copy(out[lead:], v)
	return out
}

// run decomposes the complete series x and returns season, trend and
// robustness weights.
func (s STL) run(x []float64) (season, trend, rw []float64) {
	n := len(x)
	p := s.params(n)
	season = make([]float64, n)
	trend = make([]float64, n)
	rw = make([]float64, n)
	ws := newSTLWork(n, p.np)
	userw := false
	for k := 0; ; k++ {
		stlStep(x, p, userw, rw, season, trend, ws)
		if k >= p.no {
			break
		}
		fit := ws.w[0][:n]
		for i := range fit {
			fit[i] = trend[i] + season[i]
		}
		stlRobustWeights(x, fit, rw, ws.w[1][:n])
		userw = true
	}
	if p.no <= 0 {
		for i := range rw {
			rw[i] = 1
		}
	}
	if p.periodic {
		m := p.np
		sum := make([]float64, m)
		cnt := make([]float64, m)
		for i, v := range season {
			sum[i%m] += v
			cnt[i%m]++
		}
		for i := range season {
			season[i] = sum[i%m] / cnt[i%m]
		}
	}
	return season, trend, rw
}

type stlWork struct {
	w              [5][]float64 // each n+2np
	s1, s2, s3, s4 []float64    // cycle-subseries work, n/np+3
	kern           []float64    // interior LOESS kernel (see stlESS)
}

func newSTLWork(n, np int) *stlWork {
	w := &stlWork{}
	for i := range w.w {
		w.w[i] = make([]float64, n+2*np)
	}
	k := n/np + 3
	w.s1 = make([]float64, k)
	w.s2 = make([]float64, k)
	w.s3 = make([]float64, k)
	w.s4 = make([]float64, k)
	return w
}

// stlStep is the inner loop (stlstp).
func stlStep(y []float64, p stlParams, userw bool, rw, season, trend []float64, ws *stlWork) {
	n := len(y)
	w1, w2, w3, w4 := ws.w[0], ws.w[1], ws.w[2], ws.w[3]
	for j := 0; j < p.ni; j++ {
		for i := 0; i < n; i++ {
			w1[i] = y[i] - trend[i]
		}
		stlSS(w1[:n], p.np, p.ns, p.isdeg, p.nsjump, userw, rw, w2, ws)
		stlFTS(w2[:n+2*p.np], p.np, w3, w1)
		stlESS(w3[:n], p.nl, p.ildeg, p.nljump, false, nil, w1[:n], w4, ws)
		for i := 0; i < n; i++ {
			season[i] = w2[p.np+i] - w1[i]
		}
		for i := 0; i < n; i++ {
			w1[i] = y[i] - season[i]
		}
		stlESS(w1[:n], p.nt, p.itdeg, p.ntjump, userw, rw, trend, w3, ws)
	}
}

// The reference Fortran writes these thresholds as single-precision
// literals; using the same values keeps results identical to it, also for
// points that fall right at a threshold.
var (
	f999 = float64(float32(0.999))
	f001 = float64(float32(0.001))
)

// stlRobustWeights computes bisquare weights from the residuals y - fit
// (stlrwt); r is scratch of length n.
func stlRobustWeights(y, fit, rw, r []float64) {
	n := len(y)
	for i := range y {
		r[i] = math.Abs(y[i] - fit[i])
	}
	mid1 := n/2 + 1
	mid2 := n - mid1 + 1
	tmp := append([]float64(nil), r...)
	a := selectKth(tmp, mid1-1)
	b := selectKth(tmp, mid2-1)
	cmad := 3 * (a + b)
	c9 := f999 * cmad
	c1 := f001 * cmad
	for i := range y {
		ri := r[i]
		switch {
		case ri <= c1:
			rw[i] = 1
		case ri <= c9:
			u := ri / cmad
			u = 1 - u*u
			rw[i] = u * u
		default:
			rw[i] = 0
		}
	}
}

// stlSS smooths the cycle-subseries of y (stlss). season receives n+2np
// values: the smoothed subseries extended by one cycle at each end.
func stlSS(y []float64, np, ns, isdeg, nsjump int, userw bool, rw, season []float64, ws *stlWork) {
	n := len(y)
	work1, work2, work3, work4 := ws.s1, ws.s2, ws.s3, ws.s4
	for j := 1; j <= np; j++ {
		k := (n-j)/np + 1
		for i := 1; i <= k; i++ {
			work1[i-1] = y[(i-1)*np+j-1]
		}
		if userw {
			for i := 1; i <= k; i++ {
				work3[i-1] = rw[(i-1)*np+j-1]
			}
		}
		stlESS(work1[:k], ns, isdeg, nsjump, userw, work3, work2[1:k+1], work4, ws)
		nright := min(ns, k)
		if v, ok := stlEst(work1[:k], ns, isdeg, 0, 1, nright, work4, userw, work3); ok {
			work2[0] = v
		} else {
			work2[0] = work2[1]
		}
		nleft := max(1, k-ns+1)
		if v, ok := stlEst(work1[:k], ns, isdeg, float64(k+1), nleft, k, work4, userw, work3); ok {
			work2[k+1] = v
		} else {
			work2[k+1] = work2[k]
		}
		for m := 1; m <= k+2; m++ {
			season[(m-1)*np+j-1] = work2[m-1]
		}
	}
}

// stlFTS applies moving averages of lengths np, np and 3 (stlfts): x has
// n+2np values, trend receives n.
func stlFTS(x []float64, np int, trend, work []float64) {
	n := len(x)
	stlMA(x, np, trend)
	stlMA(trend[:n-np+1], np, work)
	stlMA(work[:n-2*np+2], 3, trend)
}

// stlMA writes the len(x)-length+1 moving averages of x into ave.
func stlMA(x []float64, length int, ave []float64) {
	n := len(x)
	newn := n - length + 1
	fl := float64(length)
	var v float64
	for i := 0; i < length; i++ {
		v += x[i]
	}
	ave[0] = v / fl
	k, m := length, 0
	for j := 1; j < newn; j++ {
		k++
		m++
		v = v - x[m-1] + x[k-1]
		ave[j] = v / fl
	}
}

// stlESS is the LOESS smoother (stless): ys[i] is the fit at position i+1 of
// y with span length and degree ideg, evaluated every njump points and
// linearly interpolated. res is scratch of length len(y).
//
// Without robustness weights, every point whose window lies inside the
// series (nleft = i-h, nright = i+h) has the same normalised tricube weights,
// and for them the locally linear fit reduces to the weighted mean (the
// weights are symmetric about the point, so the slope term vanishes). Those
// fits use one kernel computed once per call, which is several times cheaper
// than stlEst; they agree with it to rounding (about 1e-13 relative).
func stlESS(y []float64, length, ideg, njump int, userw bool, rw, ys, res []float64, ws *stlWork) {
	n := len(y)
	if n < 2 {
		ys[0] = y[0]
		return
	}
	newnj := min(njump, n-1)
	var nleft, nright int
	var kern []float64
	nsh := (length + 1) / 2
	if !userw && length < n && length%2 == 1 {
		kern = ws.kernel(length, n)
	}
	set := func(i int) {
		if kern != nil && nleft == i-nsh+1 && nright == i+nsh-1 {
			var v float64
			for k, w := range kern {
				v += w * y[nleft-1+k]
			}
			ys[i-1] = v
			return
		}
		if v, ok := stlEst(y, length, ideg, float64(i), nleft, nright, res, userw, rw); ok {
			ys[i-1] = v
		} else {
			ys[i-1] = y[i-1]
		}
	}
	switch {
	case length >= n:
		nleft, nright = 1, n
		for i := 1; i <= n; i += newnj {
			set(i)
		}
	case newnj == 1:
		nsh := (length + 1) / 2
		nleft, nright = 1, length
		for i := 1; i <= n; i++ {
			if i > nsh && nright != n {
				nleft++
				nright++
			}
			set(i)
		}
	default:
		nsh := (length + 1) / 2
		for i := 1; i <= n; i += newnj {
			switch {
			case i < nsh:
				nleft, nright = 1, length
			case i >= n-nsh+1:
				nleft, nright = n-length+1, n
			default:
				nleft, nright = i-nsh+1, length+i-nsh
			}
			set(i)
		}
	}
	if newnj != 1 {
		for i := 1; i <= n-newnj; i += newnj {
			delta := (ys[i+newnj-1] - ys[i-1]) / float64(newnj)
			for j := i + 1; j <= i+newnj-1; j++ {
				ys[j-1] = ys[i-1] + delta*float64(j-i)
			}
		}
		k := ((n-1)/newnj)*newnj + 1
		if k != n {
			set(n)
			if k != n-1 {
				delta := (ys[n-1] - ys[k-1]) / float64(n-k)
				for j := k + 1; j <= n-1; j++ {
					ys[j-1] = ys[k-1] + delta*float64(j-k)
				}
			}
		}
	}
}

// kernel returns the normalised tricube weights stlEst uses at a point whose
// window of odd length reaches length/2 points to either side, for a series
// of n > length points.
func (ws *stlWork) kernel(length, n int) []float64 {
	if cap(ws.kern) < length {
		ws.kern = make([]float64, length)
	}
	k := ws.kern[:length]
	h := float64(length / 2)
	h9, h1 := f999*h, f001*h
	var a float64
	for j := range k {
		r := math.Abs(float64(j) - h)
		k[j] = 0
		if r <= h9 {
			if r <= h1 {
				k[j] = 1
			} else {
				q := r / h
				q = 1 - q*q*q
				k[j] = q * q * q
			}
			a += k[j]
		}
	}
	for j := range k {
		k[j] /= a
	}
	return k
}

// stlEst computes one LOESS fit at position xs (1-based) from the points
// nleft..nright (stlest): tricube weights (times robustness weights when
// userw), locally constant or locally linear. w is scratch. ok is false when
// all weights vanish.
func stlEst(y []float64, length, ideg int, xs float64, nleft, nright int, w []float64, userw bool, rw []float64) (float64, bool) {
	n := len(y)
	rng := float64(n) - 1
	h := math.Max(xs-float64(nleft), float64(nright)-xs)
	if length > n {
		h += float64((length - n) / 2)
	}
	h9 := f999 * h
	h1 := f001 * h
	a := 0.0
	for j := nleft; j <= nright; j++ {
		w[j-1] = 0
		r := math.Abs(float64(j) - xs)
		if r <= h9 {
			if r <= h1 {
				w[j-1] = 1
			} else {
				q := r / h
				q = 1 - q*q*q
				w[j-1] = q * q * q
			}
			if userw {
				w[j-1] *= rw[j-1]
			}
			a += w[j-1]
		}
	}
	if a <= 0 {
		return 0, false
	}
	for j := nleft; j <= nright; j++ {
		w[j-1] /= a
	}
	if h > 0 && ideg > 0 {
		a = 0
		for j := nleft; j <= nright; j++ {
			a += w[j-1] * float64(j)
		}
		b := xs - a
		c := 0.0
		for j := nleft; j <= nright; j++ {
			d := float64(j) - a
			c += w[j-1] * d * d
		}
		if math.Sqrt(c) > f001*rng {
			b /= c
			for j := nleft; j <= nright; j++ {
				w[j-1] *= b*(float64(j)-a) + 1
			}
		}
	}
	var ys float64
	for j := nleft; j <= nright; j++ {
		ys += w[j-1] * y[j-1]
	}
	return ys, true
}
