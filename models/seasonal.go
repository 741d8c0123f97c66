package models

import (
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/dsp/fourier"
	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// SeasonalNaive is the seasonal naive method: the forecast for step h is the
// last observed value in the same phase of the cycle,
//
//	ŷ[T+h] = y[T+h-m(k+1)],  k = ⌊(h-1)/m⌋,
//
// with Period m. Period <= 1 gives the naive (random walk) method
// ŷ[T+h] = y[T].
//
// Prediction intervals follow FPP3 §5.5: ŷ ± z·σ̂·√(k+1), where
// σ̂² = Σ e²/(T-M) over the M = m missing residuals e[t] = y[t] - y[t-m]
// (for the naive method this is σ̂·√h). The minimum history is m+1
// observations. Fit is O(T), Forecast O(h·len(levels)).
//
// Missing interior values are linearly interpolated before fitting.
type SeasonalNaive struct {
	// Period is the seasonal period m in samples; values <= 1 mean naive.
	Period int

	p     prepared
	sigma float64 // residual standard deviation, scaled units
	fit   bool
}

// Name returns "snaive", or "naive" when Period <= 1.
func (s *SeasonalNaive) Name() string {
	if s.Period <= 1 {
		return "naive"
	}
	return "snaive"
}

func (s *SeasonalNaive) period() int {
	if s.Period <= 1 {
		return 1
	}
	return s.Period
}

// Fit estimates the residual standard deviation from y. It returns an
// *InsufficientHistoryError when fewer than Period+1 observations remain.
func (s *SeasonalNaive) Fit(y []float64) error {
	m := s.period()
	s.fit = false
	p, err := prepare(y, m+1, s.Name())
	if err != nil {
		return err
	}
	var sse float64
	for t := m; t < len(p.x); t++ {
		e := p.x[t] - p.x[t-m]
		sse += e * e
	}
	s.p = p
	s.sigma = math.Sqrt(sse / float64(len(p.x)-m))
	s.fit = true
	return nil
}

// Forecast returns h steps of seasonal naive forecasts with intervals.
func (s *SeasonalNaive) Forecast(h int, levels []float64) (Forecast, error) {
	if !s.fit {
		return Forecast{}, fmt.Errorf("%s: %w", s.Name(), ErrNotFitted)
	}
	if err := checkHorizon(h, s.Name()); err != nil {
		return Forecast{}, err
	}
	levels, err := checkLevels(levels)
	if err != nil {
		return Forecast{}, fmt.Errorf("%s: %w", s.Name(), err)
	}
	m := s.period()
	x := s.p.x
	T := len(x)
	hh := h + s.p.trail
	mean := make([]float64, hh)
	sd := make([]float64, hh)
	for i := 1; i <= hh; i++ {
		k := (i - 1) / m
		mean[i-1] = x[T+i-m*(k+1)-1]
		sd[i-1] = s.sigma * math.Sqrt(float64(k+1))
	}
	f := Forecast{
		Mean:      mean,
		Intervals: normalIntervals(mean, sd, levels),
		Model:     s.Name(),
		Params:    map[string]float64{"period": float64(m), "sigma": s.sigma * s.p.scale},
	}
	f.unscale(s.p.scale, s.p.trail)
	return f, nil
}

// Drift is the random walk with drift: ŷ[T+h] = y[T] + h·c with
// c = (y[T]-y[1])/(T-1), the slope of the line through the first and last
// observation.
//
// Prediction intervals follow FPP3 §5.5: ŷ ± z·σ̂·√(h(1+h/(T-1))), where σ̂² is
// the sum of squared residuals e[t] = y[t]-y[t-1]-c divided by T-K-M = T-2
// (K = 1 estimated parameter, M = 1 missing residual). It needs at least three
// observations. Fit is O(T).
type Drift struct {
	p         prepared
	c, sigma  float64
	fit       bool
	nObserved int
}

// Name returns "drift".
func (d *Drift) Name() string { return "drift" }

// Fit estimates the drift and residual standard deviation.
func (d *Drift) Fit(y []float64) error {
	d.fit = false
	p, err := prepare(y, 3, d.Name())
	if err != nil {
		return err
	}
	x := p.x
	T := len(x)
	c := (x[T-1] - x[0]) / float64(T-1)
	var sse float64
	for t := 1; t < T; t++ {
		e := x[t] - x[t-1] - c
		sse += e * e
	}
	d.p, d.c = p, c
	d.sigma = math.Sqrt(sse / float64(T-2))
	d.nObserved = T
	d.fit = true
	return nil
}

// Forecast returns h steps of drift forecasts with intervals.
func (d *Drift) Forecast(h int, levels []float64) (Forecast, error) {
	if !d.fit {
		return Forecast{}, fmt.Errorf("drift: %w", ErrNotFitted)
	}
	if err := checkHorizon(h, d.Name()); err != nil {
		return Forecast{}, err
	}
	levels, err := checkLevels(levels)
	if err != nil {
		return Forecast{}, fmt.Errorf("drift: %w", err)
	}
	x := d.p.x
	T := float64(d.nObserved)
	last := x[len(x)-1]
	hh := h + d.p.trail
	mean := make([]float64, hh)
	sd := make([]float64, hh)
	for i := 1; i <= hh; i++ {
		fh := float64(i)
		mean[i-1] = last + fh*d.c
		sd[i-1] = d.sigma * math.Sqrt(fh*(1+fh/(T-1)))
	}
	f := Forecast{
		Mean:      mean,
		Intervals: normalIntervals(mean, sd, levels),
		Model:     "drift",
		Params:    map[string]float64{"drift": d.c * d.p.scale, "sigma": d.sigma * d.p.scale},
	}
	f.unscale(d.p.scale, d.p.trail)
	return f, nil
}

// PeriodCandidate describes a seasonal period found by PeriodCandidates.
//
// Period is in samples. ACF is the autocorrelation at that lag of the series
// in which the peak was found (the linearly detrended or the differenced
// series), normalised for the number of overlapping pairs
// (Σ x[t]x[t+k]/(n-k) divided by Σ x²/n). Strength is the share of the
// variance of the locally detrended series (after removing the profiles of the
// shorter accepted periods) explained by the mean profile of this period, in
// [0, 1].
type PeriodCandidate struct {
	Period   int
	ACF      float64
	Strength float64
}

// DetectPeriods returns the seasonal periods found in y in increasing order,
// for example [24 168] for hourly data with daily and weekly cycles. See
// PeriodCandidates for the method; it returns nil (and no error) when y shows
// no seasonality.
func DetectPeriods(y []float64, maxPeriod int) ([]int, error) {
	c, err := PeriodCandidates(y, maxPeriod)
	if err != nil {
		return nil, err
	}
	var out []int
	for _, p := range c {
		out = append(out, p.Period)
	}
	return out, nil
}

// PeriodCandidates detects seasonal periods in y (NaN = missing, interpolated).
//
// Candidates. The autocorrelation functions of the linearly detrended series
// and of its first differences (winsorised at 5 MADs, so that a level shift
// is one clipped spike) are computed for lags k <= L = min(maxPeriod, n/3)
// through the periodogram (gonum dsp/fourier, zero-padded FFT). Their local
// maxima with r(k) >= 0.2 that rise at least 0.1 above the deepest trough at
// a shorter lag, and the lags next to them, are candidates. Differencing keeps
// cycles visible when level shifts or a wandering level dominate the variance.
//
// Test. Candidates are examined in increasing order. One that is within 2%
// (at least one sample) of a multiple k·q of an accepted period q is snapped
// to k·q; for the others the lags within ±2 are tried as well and the
// strongest is kept. For a candidate p the series is
//
//  1. detrended by a centred running median over about one cycle (this
//     follows trends, level shifts and drift but not cycles of period p) and
//     winsorised at 5 MADs;
//  2. cleared of the mean profiles of the accepted periods;
//  3. pre-whitened by e[t] = d[t] - φd[t-1], φ the lag-1 autocorrelation
//     once p's own profile is removed, clamped to [0, 0.99] (cycles stay
//     periodic, wandering noise becomes nearly white).
//
// The phase profile of p must then be significant in a one-way analysis of
// variance at the 1% level (F test whose numerator degrees of freedom count
// only the phase contrasts not already spanned by the accepted periods),
// explain at least 5% of the variance, correlate at least 0.3 between the
// profiles of the first and second half of the cycles (rejecting artefacts of
// a single shift or burst), and explain at least 1.5 times as much as the
// profiles of the detuned periods p±δ, δ = max(2, ⌈p/C⌉) for C cycles
// (rejecting the smooth wander that any long period fits).
//
// Nested periods. The divisors q of each accepted P are tested as well,
// against the accepted periods that q does not divide, which finds a weak
// daily cycle under a dominant weekly pattern. Any accepted q dividing a
// longer accepted P is kept only if the P-profile cut into P/q segments
// repeats one shape (mean pairwise correlation of the de-meaned segments >=
// 0.3): a daily cycle repeats across the days of the week even when weekends
// are flat, while 28 = 168/6, a harmonic of a weekend block, does not. Thus
// daily data yields [24] although r(48), r(168), ... peak too, and a weekly
// pattern on top of it adds 168.
//
// maxPeriod <= 0 means n/3 (at least three cycles are required). The result
// is in increasing order of Period, nil when nothing is found. It returns an
// *InsufficientHistoryError for fewer than 8 usable observations. Complexity:
// O(n log n) for the candidates plus O(n·p) per test of period p (running
// median), with a few tests per candidate and per divisor of an accepted
// period; about 0.05 s for eight weeks of hourly data.
func PeriodCandidates(y []float64, maxPeriod int) ([]PeriodCandidate, error) {
	const (
		minACF         = 0.2
		minProminence  = 0.1
		alpha          = 0.01
		minStrength    = 0.05
		minConsistency = 0.3
	)
	p, err := prepare(y, 8, "period detection")
	if err != nil {
		return nil, err
	}
	x := p.x
	n := len(x)
	L := n / 3
	if maxPeriod > 0 && maxPeriod < L {
		L = maxPeriod
	}
	if L < 2 {
		return nil, nil
	}
	lin := append([]float64(nil), x...)
	detrend(lin)
	diff := make([]float64, n-1)
	for i := range diff {
		diff[i] = x[i+1] - x[i]
	}
	detrend(diff)
	winsorize(diff, 5) // a level shift is a single huge difference
	acf := map[int]float64{}
	rLin := acfFFT(lin, L)
	for _, r := range [][]float64{rLin, acfFFT(diff, min(L, len(diff)-1))} {
		for _, k := range acfPeaks(r, minACF, minProminence) {
			// noise can split a peak, so the neighbours are tried too
			for j := max(k-1, 2); j <= min(k+1, len(r)-1); j++ {
				acf[j] = math.Max(acf[j], r[j])
			}
		}
	}
	cands := make([]int, 0, len(acf))
	for k := range acf {
		cands = append(cands, k)
	}
	sort.Ints(cands)

	var out []PeriodCandidate
	// test evaluates period c given the accepted periods; it reports whether
	// c passes and its strength.
	test := func(c int) (bool, float64) {
		d, off := medianDetrend(x, c)
		if len(d) < 2*c {
			return false, 0
		}
		winsorize(d, 5) // limit the influence of bursts
		// Remove the accepted profiles (two backfitting passes).
		for pass := 0; pass < 2 && len(out) > 0; pass++ {
			for _, acc := range out {
				removeProfile(d, off, acc.Period)
			}
		}
		// Pre-whiten with an AR(1) filter whose coefficient is estimated
		// without the candidate profile: a periodic profile stays periodic,
		// while wandering noise (whose phase means would look significant)
		// becomes nearly white.
		tmp := append([]float64(nil), d...)
		removeProfile(tmp, off, c)
		phi := math.Min(math.Max(lag1Corr(tmp), 0), 0.99)
		for t := len(d) - 1; t > 0; t-- {
			d[t] -= phi * d[t-1]
		}
		d = d[1:]
		off++
		// Degrees of freedom: the new directions that the phase profile of
		// c adds to those of the accepted periods.
		acc := make([]int, len(out))
		for i, a := range out {
			acc[i] = a.Period
		}
		dimAcc := profileDim(acc)
		dimAll := profileDim(append(acc, c))
		d1 := float64(dimAll - dimAcc)
		d2 := float64(len(d) - 1 - dimAll)
		if d1 < 1 || d2 < 1 {
			return false, 0
		}
		ssb, ssw := profileSS(d, off, c)
		if ssb+ssw <= 1e-300 {
			return false, 0
		}
		strength := ssb / (ssb + ssw)
		fstat := math.Inf(1)
		if ssw > 1e-300 {
			fstat = (ssb / d1) / (ssw / d2)
		}
		crit := distuv.F{D1: d1, D2: d2}.Quantile(1 - alpha)
		ok := fstat >= crit && strength >= minStrength && splitHalfCorr(d, off, c) >= minConsistency
		return ok, strength
	}
	seen := map[int]bool{}
	for _, k := range cands {
		cand, snapped := k, false
		for _, acc := range out {
			q := acc.Period
			mult := int(math.Round(float64(k) / float64(q)))
			if mult >= 2 && absInt(k-mult*q) <= max(1, int(math.Round(0.02*float64(k)))) {
				cand, snapped = mult*q, true
				break
			}
		}
		if cand > L || seen[cand] {
			continue
		}
		seen[cand] = true
		ok, strength := test(cand)
		if !ok || !beatsDetuned(cand, strength, n, test) {
			continue
		}
		if !snapped {
			// A nearby lag may fit the cycle better than the ACF peak.
			for c := max(cand-2, 2); c <= min(cand+2, L); c++ {
				if c == cand || seen[c] {
					continue
				}
				if ok2, s2 := test(c); ok2 && s2 > strength && beatsDetuned(c, s2, n, test) {
					cand, strength = c, s2
				}
			}
			for c := max(cand-2, 2); c <= min(cand+2, L); c++ {
				seen[c] = true
			}
		}
		out = append(out, PeriodCandidate{Period: cand, ACF: acf[k], Strength: strength})
	}
	// Cycles hidden inside a longer accepted period: a weak daily cycle under
	// a dominant weekly pattern has no ACF peak of its own. Try the divisors
	// q of each accepted P, tested against the accepted periods that q does
	// not divide, and require the P-profile to repeat with period q.
	for _, P := range append([]PeriodCandidate(nil), out...) {
		for q := 2; q < P.Period; q++ {
			if P.Period%q != 0 || P.Period/q < 2 || 2*q > n {
				continue
			}
			dup := false
			for _, a := range out {
				dup = dup || a.Period == q
			}
			if dup {
				continue
			}
			saved := out
			var others []PeriodCandidate
			for _, a := range saved {
				if a.Period%q != 0 {
					others = append(others, a)
				}
			}
			out = others
			ok, strength := test(q)
			ok = ok && beatsDetuned(q, strength, n, test)
			out = saved
			if ok && segmentsCoherent(x, P.Period, P.Period/q) {
				acfq := math.NaN()
				if rLin != nil && q < len(rLin) {
					acfq = rLin[q]
				}
				out = append(out, PeriodCandidate{Period: q, ACF: acfq, Strength: strength})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Period < out[j].Period })
	// Drop accepted periods that are only harmonics of a longer accepted
	// period (e.g. 28 = 168/6 from a weekend block).
	kept := out[:0]
	for i, q := range out {
		harmonic := false
		for _, P := range out[i+1:] {
			if P.Period%q.Period == 0 && !segmentsCoherent(x, P.Period, P.Period/q.Period) {
				harmonic = true
				break
			}
		}
		if !harmonic {
			kept = append(kept, q)
		}
	}
	return kept, nil
}

// segmentsCoherent reports whether period q = P/m describes a shape that
// repeats within the mean profile of period P (of the series detrended by a
// running median over P): the profile is cut into its m segments of length
// q, each segment's mean is removed, and the average pairwise correlation of
// the segments must be at least 0.3. A genuine daily cycle repeats across the
// days of a weekly profile (even if weekends are flatter); a harmonic of a
// non-sinusoidal weekly shape (a weekend block seen at 28 = 168/6) does not.
func segmentsCoherent(x []float64, P, m int) bool {
	d, off := medianDetrend(x, P)
	if len(d) < P {
		return true
	}
	winsorize(d, 5)
	prof := make([]float64, P)
	cnt := make([]float64, P)
	for t, v := range d {
		prof[(t+off)%P] += v
		cnt[(t+off)%P]++
	}
	for j := range prof {
		if cnt[j] > 0 {
			prof[j] /= cnt[j]
		}
	}
	q := P / m
	var sum float64
	var pairs int
	for i := 0; i < m; i++ {
		for j := i + 1; j < m; j++ {
			c := stat.Correlation(prof[i*q:(i+1)*q], prof[j*q:(j+1)*q], nil)
			if !math.IsNaN(c) {
				sum += c
				pairs++
			}
		}
	}
	if pairs == 0 {
		return true
	}
	return sum/float64(pairs) >= 0.3
}

// lag1Corr returns the lag-1 autocorrelation of x (0 for constant x).
func lag1Corr(x []float64) float64 {
	var m float64
	for _, v := range x {
		m += v
	}
	m /= float64(len(x))
	var num, den float64
	for t, v := range x {
		den += (v - m) * (v - m)
		if t > 0 {
			num += (v - m) * (x[t-1] - m)
		}
	}
	if den <= 1e-300 {
		return 0
	}
	return num / den
}

// beatsDetuned reports whether the profile of period c explains clearly more
// (1.5 times) than the profiles of the detuned periods c±δ, δ = max(2,
// ⌈c/C⌉) with C = n/c cycles, for which a true cycle of period c drifts by
// at least one full period over the series. Smooth wandering (a random walk
// left after detrending) is explained about equally well by any nearby
// period and is rejected.
func beatsDetuned(c int, strength float64, n int, test func(int) (bool, float64)) bool {
	cycles := max(n/c, 1)
	delta := max(2, (c+cycles-1)/cycles)
	var null float64
	for _, p := range []int{c - delta, c + delta} {
		if p < 2 || 2*p > n {
			continue
		}
		_, s := test(p)
		null = math.Max(null, s)
	}
	return strength >= 1.5*null
}

// acfPeaks returns the lags k >= 2 where r has a local maximum of at least
// minACF that rises minProminence above the lowest r at a shorter lag.
func acfPeaks(r []float64, minACF, minProminence float64) []int {
	if r == nil {
		return nil
	}
	L := len(r) - 1
	var out []int
	if L < 2 {
		return nil
	}
	trough := r[1]
	for k := 2; k <= L; k++ {
		if r[k-1] < trough {
			trough = r[k-1]
		}
		if r[k] < minACF || r[k] < r[k-1] || (k < L && r[k] < r[k+1]) {
			continue
		}
		if r[k]-trough < minProminence {
			continue
		}
		out = append(out, k)
	}
	return out
}

// winsorize clips x in place to median ± k·1.4826·MAD; it does nothing when
// the MAD is zero.
func winsorize(x []float64, k float64) {
	tmp := append([]float64(nil), x...)
	med := median(tmp)
	for i, v := range x {
		tmp[i] = math.Abs(v - med)
	}
	mad := 1.482602218505602 * median(tmp)
	if mad <= 0 {
		return
	}
	lo, hi := med-k*mad, med+k*mad
	for i, v := range x {
		x[i] = math.Min(math.Max(v, lo), hi)
	}
}

// medianDetrend returns x minus its centred running median over 2⌊m/2⌋+1
// samples, over the positions where the window is complete, and the index of
// the first such position. Unlike a moving average, the running median follows
// a level shift without leaving a ramp, and over a full cycle it does not
// follow the cycle. O(n·m) with a sorted window.
func medianDetrend(x []float64, m int) ([]float64, int) {
	n := len(x)
	h := m / 2
	w := 2*h + 1
	if n < w {
		return nil, 0
	}
	win := append([]float64(nil), x[:w]...)
	sort.Float64s(win)
	out := make([]float64, 0, n-2*h)
	for t := h; ; t++ {
		out = append(out, x[t]-win[h])
		if t+h+1 >= n {
			break
		}
		// slide: remove x[t-h], insert x[t+h+1]
		old, nw := x[t-h], x[t+h+1]
		i := sort.SearchFloat64s(win, old)
		copy(win[i:], win[i+1:])
		win = win[:w-1]
		j := sort.SearchFloat64s(win, nw)
		win = append(win, 0)
		copy(win[j+1:], win[j:])
		win[j] = nw
	}
	return out, h
}

func absInt(a int) int {
	if a < 0 {
		return -a
	}
	return a
}

// detrend removes the least-squares line from x in place.
func detrend(x []float64) {
	n := float64(len(x))
	tm := (n - 1) / 2
	var ym float64
	for _, v := range x {
		ym += v
	}
	ym /= n
	var sxy, sxx float64
	for i, v := range x {
		d := float64(i) - tm
		sxy += d * (v - ym)
		sxx += d * d
	}
	b := 0.0
	if sxx > 0 {
		b = sxy / sxx
	}
	for i := range x {
		x[i] -= ym + b*(float64(i)-tm)
	}
}

// acfFFT returns r[0..L] with r[k] = (Σ x[t]x[t+k]/(n-k)) / (Σ x²/n) for a
// zero-mean x, computed through the periodogram of the zero-padded series.
// It returns nil when x has zero variance.
func acfFFT(x []float64, L int) []float64 {
	n := len(x)
	N := 1
	for N < 2*n {
		N <<= 1
	}
	buf := make([]float64, N)
	copy(buf, x)
	fft := fourier.NewFFT(N)
	c := fft.Coefficients(nil, buf)
	for i, v := range c {
		re, im := real(v), imag(v)
		c[i] = complex(re*re+im*im, 0) // periodogram
	}
	ac := fft.Sequence(buf, c) // N × autocovariance sums
	if ac[0] <= 1e-300 {
		return nil
	}
	r := make([]float64, L+1)
	c0 := ac[0] / float64(n)
	for k := 0; k <= L; k++ {
		r[k] = ac[k] / float64(n-k) / c0
	}
	return r
}

// removeProfile subtracts from x the mean of each phase (t+off) mod m.
func removeProfile(x []float64, off, m int) {
	sum := make([]float64, m)
	cnt := make([]float64, m)
	for t, v := range x {
		sum[(t+off)%m] += v
		cnt[(t+off)%m]++
	}
	for t := range x {
		x[t] -= sum[(t+off)%m] / cnt[(t+off)%m]
	}
}

// profileSS returns the between-phase and within-phase sums of squares of x
// grouped by phase (t+off) mod m.
func profileSS(x []float64, off, m int) (ssb, ssw float64) {
	sum := make([]float64, m)
	cnt := make([]float64, m)
	var tot float64
	for t, v := range x {
		sum[(t+off)%m] += v
		cnt[(t+off)%m]++
		tot += v
	}
	gm := tot / float64(len(x))
	for j := range sum {
		if cnt[j] > 0 {
			d := sum[j]/cnt[j] - gm
			ssb += cnt[j] * d * d
		}
	}
	for t, v := range x {
		d := v - sum[(t+off)%m]/cnt[(t+off)%m]
		ssw += d * d
	}
	return ssb, ssw
}

// profileDim returns the dimension of the space spanned by the centred phase
// indicators of the given periods: the number of distinct frequencies k/q
// (0 < k < q, in lowest terms) over all periods q.
func profileDim(periods []int) int {
	seen := map[[2]int]bool{}
	for _, q := range periods {
		for k := 1; k < q; k++ {
			g := gcd(k, q)
			seen[[2]int{k / g, q / g}] = true
		}
	}
	return len(seen)
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// splitHalfCorr returns the correlation over phases of the phase means of x
// (phase (t+off) mod m) computed from the first and from the second half of
// the cycles; -1 when it is undefined.
func splitHalfCorr(x []float64, off, m int) float64 {
	cycles := (len(x) + off) / m
	if cycles < 2 {
		return -1
	}
	half := cycles / 2
	sa := make([]float64, m)
	sb := make([]float64, m)
	ca := make([]float64, m)
	cb := make([]float64, m)
	for t, v := range x {
		j := (t + off) % m
		if (t+off)/m < half {
			sa[j] += v
			ca[j]++
		} else {
			sb[j] += v
			cb[j]++
		}
	}
	var a, b []float64
	for j := 0; j < m; j++ {
		if ca[j] > 0 && cb[j] > 0 {
			a = append(a, sa[j]/ca[j])
			b = append(b, sb[j]/cb[j])
		}
	}
	if len(a) < 3 {
		return -1
	}
	c := stat.Correlation(a, b, nil)
	if math.IsNaN(c) {
		return -1
	}
	return c
}
