package models

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// ErrorType is the error component of an ETS model.
type ErrorType int

// Error components.
const (
	ErrorAdditive       ErrorType = iota // A: y = ŷ + ε
	ErrorMultiplicative                  // M: y = ŷ(1 + ε)
)

// TrendType is the trend component of an ETS model.
type TrendType int

// Trend components.
const (
	TrendNone     TrendType = iota // N
	TrendAdditive                  // A: ŷ[T+h] = l + h·b
	TrendDamped                    // Ad: ŷ[T+h] = l + (φ+…+φ^h)·b
)

// SeasonType is the seasonal component of an ETS model.
type SeasonType int

// Seasonal components.
const (
	SeasonNone           SeasonType = iota // N
	SeasonAdditive                         // A: ŷ = level part + s
	SeasonMultiplicative                   // M: ŷ = level part · s
)

// ETSModel names one model of the taxonomy of Hyndman et al. (2008):
// error A/M × trend N/A/Ad × season N/A/M.
type ETSModel struct {
	Error  ErrorType
	Trend  TrendType
	Season SeasonType
}

// String returns the conventional name, e.g. "ETS(M,Ad,A)".
func (m ETSModel) String() string {
	e := [...]string{"A", "M"}[m.Error]
	t := [...]string{"N", "A", "Ad"}[m.Trend]
	s := [...]string{"N", "A", "M"}[m.Season]
	return "ETS(" + e + "," + t + "," + s + ")"
}

// multiplicative reports whether the model has a multiplicative component and
// therefore needs strictly positive data.
func (m ETSModel) multiplicative() bool {
	return m.Error == ErrorMultiplicative || m.Season == SeasonMultiplicative
}

// MaxETSPeriod is the largest seasonal period ETS accepts (one week of hourly
// data). Seasonal states are kept in a ring buffer, so one likelihood
// evaluation costs O(n) whatever the period, but the heuristic initial
// seasonal states need two full cycles, the state count enters the AICc
// penalty, and class-3 simulation copies m states per sample path.
const MaxETSPeriod = 24 * 7

// DefaultETSModels returns the candidate models tried by automatic selection,
// in the order tried: ANN, AAN, AAdN, MNN, MAN, MAdN, ANA, AAA, AAdA, MNA,
// MAA, MAdA, MNM, MAM, MAdM. Additive-error models with a multiplicative
// season are excluded as numerically unstable (Hyndman et al. 2008, §7.4),
// and so are multiplicative trends.
func DefaultETSModels() []ETSModel {
	var out []ETSModel
	for _, s := range []SeasonType{SeasonNone, SeasonAdditive, SeasonMultiplicative} {
		for _, e := range []ErrorType{ErrorAdditive, ErrorMultiplicative} {
			if s == SeasonMultiplicative && e == ErrorAdditive {
				continue
			}
			for _, t := range []TrendType{TrendNone, TrendAdditive, TrendDamped} {
				out = append(out, ETSModel{Error: e, Trend: t, Season: s})
			}
		}
	}
	return out
}

// ETSParams are the smoothing parameters and initial states of an ETS model,
// in the units of the data.
//
// Alpha, Beta, Gamma are the level, trend and seasonal smoothing parameters in
// the error-correction form (so b[t] = φb[t-1] + β·ε[t] for additive models);
// Phi is the damping parameter (1 for undamped trends). Level and Slope are
// the initial states l[0] and b[0] (the state one step before the first
// observation). Seasonal[j] is the initial seasonal state for phase j, i.e.
// for observations t with t mod m == j (counting from the first usable
// observation): an additive offset, or a ratio for multiplicative seasons.
// Unused fields are zero (Phi is 1 without trend).
type ETSParams struct {
	Alpha, Beta, Gamma, Phi float64
	Level, Slope            float64
	Seasonal                []float64
}

// ETSResult describes a fitted ETS model.
//
// Sigma2 is the innovation variance estimate Σε²/(n-k) with k the number of
// estimated smoothing parameters and initial states (data units² for additive
// errors, a relative variance for multiplicative errors). LogLik is the
// concentrated log-likelihood up to a constant shared by all models fitted to
// the same data: -½(n·log Σε² + 2Σlog|ŷ|) (the second term for multiplicative
// errors only). AIC = -2·LogLik + 2K and AICc = AIC + 2K(K+1)/(n-K-1) with K =
// k + 1 (σ counted). Fitted holds the one-step-ahead fitted values ŷ[t|t-1]
// for the usable part of the input (after trimming).
type ETSResult struct {
	Model  ETSModel
	Period int
	Params ETSParams
	Sigma2 float64
	LogLik float64
	AIC    float64
	AICc   float64
	NObs   int
	NParam int
	Fitted []float64
}

// ETS fits exponential smoothing state space models (Hyndman, Koehler, Ord &
// Snyder, Forecasting with Exponential Smoothing, 2008).
//
// With additive error the state recursions are, for the most general model
// (Ad,A) with q = l[t-1] + φb[t-1] and ε = y[t] - q - s[t-m]:
//
//	l[t] = q + αε,  b[t] = φb[t-1] + βε,  s[t] = s[t-m] + γε.
//
// The multiplicative components use the corresponding error-correction forms
// (Hyndman et al. 2008, Table 2.3). Parameters are restricted to the usual
// region 1e-4 <= α <= 0.9999, 1e-4 <= β <= α, 1e-4 <= γ <= 1-α,
// 0.8 <= φ <= 0.98 (for non-seasonal models this region lies inside the
// admissible one) and, for seasonal models, checked for admissibility (the
// characteristic-root condition of Hyndman et al. 2008 ch. 10, as in R's
// forecast package, tested with the Schur–Cohn recursion in O(m²); it is
// applied for m <= 24 only, larger periods rely on the usual region and the
// simple inequalities). α, β, γ, φ and the initial level and slope are
// estimated by maximum likelihood, minimising n·log Σε² (+2Σlog|ŷ| for
// multiplicative error) with a Nelder–Mead search (see nelderMead) that
// starts from the best of a few smoothing levels and stops when the
// simplex's values agree to 1e-8 relative; the initial seasonal states come
// from a classical decomposition of the first three cycles (the first two
// are required) and are not re-estimated. For the linear models (additive
// error, no multiplicative season) the one-step errors are affine in the
// initial level and slope, which are therefore solved by least squares
// rather than searched: on short series (fewer than 20 cycles, or 200
// observations without season) inside every likelihood evaluation, on
// longer ones once after the search, which then keeps the heuristic initial
// states (their influence fades long before the end of the series).
//
// Model selection: when Model is nil every model of Candidates (default
// DefaultETSModels) that the data support is fitted and the one with the
// smallest AICc is kept; models with a multiplicative component are only
// tried on strictly positive data, seasonal ones only with Period >= 2 and
// at least two full cycles, and each model needs NParam + 3 observations.
//
// Prediction intervals: for additive error and no multiplicative season
// (class 1) the exact variance σ²(1 + Σ_{j<h} c_j²) with
// c_j = α + β(φ+…+φ^j) + γ·[j mod m = 0]; for multiplicative error with
// additive components (class 2) the recursion
// v_h = (1+σ²)θ_h - μ_h², θ_h = μ_h² + σ²Σ_{j<h} c_j²θ_{h-j} (Hyndman et al.
// 2008, §6.3), both with normal quantiles. Models with a multiplicative season
// (class 3) use the empirical quantiles of Paths simulated sample paths drawn
// with a PCG generator seeded with Seed. Point forecasts are always the
// recursion forecasts ŷ[T+h|T] (for class 3 these differ slightly from the
// mean of the forecast distribution beyond the first cycle).
//
// Complexity: each likelihood evaluation is O(n) (plus O(m²) for the root
// test); a fit performs at most 200 evaluations per estimated parameter,
// typically 100–400 in all; automatic selection fits every candidate.
type ETS struct {
	// Period is the seasonal period m in samples (<= 1: non-seasonal). It
	// must not exceed MaxETSPeriod.
	Period int
	// Model fixes the model; nil selects automatically.
	Model *ETSModel
	// Candidates restricts automatic selection; nil means DefaultETSModels.
	Candidates []ETSModel
	// Params, when non-nil, fixes all parameters and initial states (in data
	// units) instead of estimating them; Model must then be set.
	Params *ETSParams
	// Seed seeds the simulation of class-3 prediction intervals.
	Seed uint64
	// Paths is the number of simulated paths (default 2000).
	Paths int

	p    prepared
	fit  *etsFit
	warm *etsCore // model and smoothing parameters to start from (see warmStart)
}

// warmStart makes the next Fit (with automatic selection) estimate only the
// model that from selected, starting the likelihood search at its smoothing
// parameters with a smaller initial simplex. Auto uses it to refit on the
// full series the model chosen on the hold-out part.
func (e *ETS) warmStart(from Forecaster) {
	f, ok := from.(*ETS)
	if !ok || f.fit == nil || e.Model != nil || e.Params != nil || f.period() != e.period() {
		return
	}
	c := f.fit.core
	e.warm = &c
}

// etsFit is a fitted model in scaled units.
type etsFit struct {
	core   etsCore
	state  etsState
	n      int
	sigma2 float64
	lik    float64
	nparam int // estimated parameters incl. sigma
	aicc   float64
	fitted []float64
}

// etsCore holds a model and its parameters (scaled units).
type etsCore struct {
	model                   ETSModel
	m                       int
	alpha, beta, gamma, phi float64
	l0, b0                  float64
	s0                      []float64
}

type etsState struct {
	l, b float64
	s    []float64 // ring buffer indexed by phase t mod m
}

// Name returns "ets".
func (e *ETS) Name() string { return "ets" }

// Result returns the fitted model in data units and whether the model has been
// fitted.
func (e *ETS) Result() (ETSResult, bool) {
	if e.fit == nil {
		return ETSResult{}, false
	}
	f := e.fit
	c := f.core
	sc := e.p.scale
	r := ETSResult{
		Model:  c.model,
		Period: c.m,
		Params: ETSParams{Alpha: c.alpha, Beta: c.beta, Gamma: c.gamma, Phi: c.phi,
			Level: c.l0 * sc, Slope: c.b0 * sc},
		Sigma2: f.sigma2,
		NObs:   f.n,
		NParam: f.nparam,
	}
	if c.model.Season != SeasonNone {
		r.Params.Seasonal = make([]float64, c.m)
		for j, v := range c.s0 {
			if c.model.Season == SeasonAdditive {
				v *= sc
			}
			r.Params.Seasonal[j] = v
		}
	}
	if c.model.Error == ErrorAdditive {
		r.Sigma2 *= sc * sc
	}
	// Undo the scaling in the likelihood: every ŷ and additive error is
	// divided by sc, which shifts n·log Σε² (or 2Σlog|ŷ|) by 2n·log(sc).
	shift := 2 * float64(f.n) * math.Log(sc)
	r.LogLik = -0.5 * (f.lik + shift)
	k := float64(f.nparam)
	r.AIC = -2*r.LogLik + 2*k
	r.AICc = r.AIC + aiccCorrection(k, float64(f.n))
	r.Fitted = make([]float64, len(f.fitted))
	for i, v := range f.fitted {
		r.Fitted[i] = v * sc
	}
	return r, true
}

func aiccCorrection(k, n float64) float64 {
	if n-k-1 <= 0 {
		return math.Inf(1)
	}
	return 2 * k * (k + 1) / (n - k - 1)
}

func (e *ETS) period() int {
	if e.Period <= 1 {
		return 1
	}
	return e.Period
}

// etsNeed returns the number of estimated parameters (incl. σ) and the
// minimum sample size for a model.
func etsNeed(mod ETSModel, m int) (k, need int) {
	k = 2 + 1 // alpha, l0, sigma
	if mod.Trend != TrendNone {
		k += 2
	}
	if mod.Trend == TrendDamped {
		k++
	}
	if mod.Season != SeasonNone {
		k += 1 + m - 1
	}
	need = k + 3
	if mod.Season != SeasonNone && need < 2*m {
		need = 2 * m
	}
	return k, need
}

// Fit estimates the model (or selects one) from y. Errors: an
// *InsufficientHistoryError when no candidate has enough data,
// ErrInvalidPeriod for Period > MaxETSPeriod, ErrNonPositive when a fixed
// multiplicative model meets data <= 0.
func (e *ETS) Fit(y []float64) error {
	e.fit = nil
	m := e.period()
	if m > MaxETSPeriod {
		return fmt.Errorf("ets: %w: period %d exceeds MaxETSPeriod %d", ErrInvalidPeriod, m, MaxETSPeriod)
	}
	if e.Params != nil && e.Model == nil {
		return errors.New("ets: fixed Params require Model to be set")
	}
	var cands []ETSModel
	switch {
	case e.Model != nil:
		cands = []ETSModel{*e.Model}
	case e.Candidates != nil:
		cands = e.Candidates
	default:
		cands = DefaultETSModels()
	}
	warm := e.warm
	e.warm = nil
	if warm != nil {
		found := false
		for _, c := range cands {
			found = found || c == warm.model
		}
		if found {
			cands = []ETSModel{warm.model}
		} else {
			warm = nil
		}
	}
	x, _, trail := Clean(y)
	positive := len(x) > 0
	for _, v := range x {
		if v <= 0 {
			positive = false
			break
		}
	}
	minNeed := math.MaxInt
	var usable []ETSModel
	for _, c := range cands {
		if c.Season != SeasonNone && m < 2 {
			if e.Model != nil {
				return fmt.Errorf("ets: %w: seasonal model %v needs Period >= 2", ErrInvalidPeriod, c)
			}
			continue
		}
		if c.multiplicative() && !positive {
			if e.Model != nil {
				return fmt.Errorf("ets: %v: %w", c, ErrNonPositive)
			}
			continue
		}
		_, need := etsNeed(c, m)
		if e.Params != nil {
			need = 1
			if c.Season != SeasonNone && len(e.Params.Seasonal) != m {
				return fmt.Errorf("ets: %w: %d initial seasonal states for period %d", ErrLengthMismatch, len(e.Params.Seasonal), m)
			}
		}
		if need < minNeed {
			minNeed = need
		}
		if len(x) >= need {
			usable = append(usable, c)
		}
	}
	if len(usable) == 0 {
		if minNeed == math.MaxInt {
			if !positive && len(x) > 0 {
				return fmt.Errorf("ets: %w", ErrNonPositive)
			}
			return fmt.Errorf("ets: %w: no candidate model applies", ErrNoModel)
		}
		return &InsufficientHistoryError{Need: minNeed, Have: len(x), Model: "ets"}
	}
	p, err := prepare(y, 1, "ets")
	if err != nil {
		return err
	}
	p.trail = trail
	e.p = p
	var best *etsFit
	for _, c := range usable {
		var f *etsFit
		if e.Params != nil {
			f = e.fixedFit(c, m)
		} else {
			f = fitETSModel(p.x, c, m, warm)
		}
		if f == nil {
			continue
		}
		if best == nil || f.aicc < best.aicc {
			best = f
		}
	}
	if best == nil {
		return fmt.Errorf("ets: %w", ErrNoModel)
	}
	e.fit = best
	return nil
}

func (e *ETS) fixedFit(c ETSModel, m int) *etsFit {
	sc := e.p.scale
	pr := e.Params
	core := etsCore{model: c, m: m, alpha: pr.Alpha, beta: pr.Beta, gamma: pr.Gamma, phi: pr.Phi,
		l0: pr.Level / sc, b0: pr.Slope / sc}
	if c.Trend != TrendDamped {
		core.phi = 1
	}
	if c.Season != SeasonNone {
		core.s0 = make([]float64, m)
		for j, v := range pr.Seasonal {
			if c.Season == SeasonAdditive {
				v /= sc
			}
			core.s0[j] = v
		}
	}
	return finishFit(e.p.x, core, 1)
}

// finishFit runs the filter with final parameters and computes σ² and AICc.
// kEst is the number of estimated parameters including σ.
func finishFit(x []float64, core etsCore, kEst int) *etsFit {
	n := len(x)
	fitted := make([]float64, n)
	st := core.newState()
	sse, slog, ok := core.filter(x, &st, fitted)
	if !ok {
		return nil
	}
	lik := etsLik(core.model, n, sse, slog)
	df := n - (kEst - 1)
	if df < 1 {
		df = n
	}
	k := float64(kEst)
	aicc := lik + 2*k + aiccCorrection(k, float64(n))
	return &etsFit{core: core, state: st, n: n, sigma2: sse / float64(df), lik: lik,
		nparam: kEst, aicc: aicc, fitted: fitted}
}

// etsLik is -2·log-likelihood up to a constant: n·log Σε² (+2Σlog|ŷ|).
// Σε² is floored so that perfect fits (constant series) stay finite.
func etsLik(mod ETSModel, n int, sse, slog float64) float64 {
	floor := float64(n) * 1e-24
	if sse < floor {
		sse = floor
	}
	l := float64(n) * math.Log(sse)
	if mod.Error == ErrorMultiplicative {
		l += 2 * slog
	}
	return l
}

func (c *etsCore) newState() etsState {
	st := etsState{l: c.l0, b: c.b0}
	if c.model.Season != SeasonNone {
		st.s = append([]float64(nil), c.s0...)
	}
	return st
}

// filter runs the state recursions over x starting from st, updating st. It
// returns Σε² (relative errors for multiplicative error), Σlog|ŷ| and false
// when the recursion leaves the valid region (non-positive ŷ or states for
// multiplicative components, or non-finite values). fitted, if non-nil,
// receives ŷ[t|t-1].
func (c *etsCore) filter(x []float64, st *etsState, fitted []float64) (sse, slog float64, ok bool) {
	if c.model.Error == ErrorAdditive && c.model.Season != SeasonMultiplicative {
		return c.filterAdditive(x, st, fitted)
	}
	mod := c.model
	m := c.m
	l, b := st.l, st.b
	s := st.s
	alpha, beta, gamma, phi := c.alpha, c.beta, c.gamma, c.phi
	ba := 0.0
	if mod.Trend != TrendNone {
		ba = beta / alpha
	}
	const big = 1e12
	j := 0
	for t, y := range x {
		var phib float64
		switch mod.Trend {
		case TrendAdditive:
			phib = b
		case TrendDamped:
			phib = phi * b
		}
		q := l + phib
		var so, yhat, p float64
		switch mod.Season {
		case SeasonNone:
			yhat, p = q, y
		case SeasonAdditive:
			so = s[j]
			yhat, p = q+so, y-so
		case SeasonMultiplicative:
			so = s[j]
			if so <= 1e-10 || q <= 1e-12 {
				return 0, 0, false
			}
			yhat, p = q*so, y/so
		}
		if fitted != nil {
			fitted[t] = yhat
		}
		var e float64
		if mod.Error == ErrorAdditive {
			e = y - yhat
		} else {
			if yhat <= 1e-12 {
				return 0, 0, false
			}
			e = (y - yhat) / yhat
			slog += math.Log(yhat)
		}
		sse += e * e
		ln := q + alpha*(p-q)
		if mod.Trend != TrendNone {
			b = phib + ba*(ln-l-phib)
		}
		switch mod.Season {
		case SeasonAdditive:
			s[j] = so + gamma*(y-q-so)
		case SeasonMultiplicative:
			s[j] = so + gamma*(y/q-so)
		}
		l = ln
		if !(math.Abs(l) < big && math.Abs(b) < big) {
			return 0, 0, false
		}
		if j++; j == m {
			j = 0
		}
	}
	if math.IsNaN(sse) || math.IsInf(sse, 0) {
		return 0, 0, false
	}
	st.l, st.b = l, b
	return sse, slog, true
}

// filterAdditive is filter for the linear models (additive error, trend and
// season). In error-correction form every update is linear in the one-step
// error e = y - ŷ:
//
//	ŷ = l + φb + s,  l' = l + φb + αe,  b' = φb + βe,  s' = s + γe,
//
// which needs no branch inside the loop (φ = 1 for an undamped trend; b = β
// = 0 without trend). The divergence check of filter is replaced by a test
// of the final states, which become non-finite on divergence.
func (c *etsCore) filterAdditive(x []float64, st *etsState, fitted []float64) (sse, slog float64, ok bool) {
	alpha, beta, gamma, phi := c.alpha, c.beta, c.gamma, c.phi
	if c.model.Trend == TrendNone {
		beta, phi = 0, 0
	} else if c.model.Trend == TrendAdditive {
		phi = 1
	}
	// With d = φb the recursions read q = l + d, l' = (1-α)q + α(y-s),
	// d' = φd + φβ(y-s) - φβq: written so, the dependency chain from one
	// step to the next is a multiplication and two additions, which is
	// what bounds the speed of this loop.
	oma, pb := 1-alpha, phi*beta
	l, d := st.l, phi*st.b
	if c.model.Season == SeasonNone {
		for t, y := range x {
			q := l + d
			e := y - q
			if fitted != nil {
				fitted[t] = q
			}
			sse += e * e
			l = oma*q + alpha*y
			d = (phi*d + pb*y) - pb*q
		}
	} else {
		s := st.s
		m := len(s)
		j := 0
		for t, y := range x {
			q := l + d
			so := s[j]
			ys := y - so
			e := ys - q
			if fitted != nil {
				fitted[t] = q + so
			}
			sse += e * e
			l = oma*q + alpha*ys
			d = (phi*d + pb*ys) - pb*q
			s[j] = so + gamma*e
			if j++; j == m {
				j = 0
			}
		}
	}
	b := st.b
	if phi != 0 {
		b = d / phi
	}
	const big = 1e12
	if !(math.Abs(l) < big && math.Abs(b) < big) || math.IsNaN(sse) || math.IsInf(sse, 0) {
		return 0, 0, false
	}
	st.l, st.b = l, b
	return sse, 0, true
}

// phase returns the ring-buffer index of step t (0-based from the first
// usable observation).
func (c *etsCore) phase(t int) int { return t % c.m }

// point writes the h point forecasts following the state st reached after n
// observations.
func (c *etsCore) point(dst []float64, st *etsState, n int) {
	phiSum, phiPow := 0.0, 1.0
	for i := 1; i <= len(dst); i++ {
		var v float64
		switch c.model.Trend {
		case TrendNone:
			v = st.l
		case TrendAdditive:
			v = st.l + float64(i)*st.b
		case TrendDamped:
			phiPow *= c.phi
			phiSum += phiPow
			v = st.l + phiSum*st.b
		}
		switch c.model.Season {
		case SeasonAdditive:
			v += st.s[c.phase(n+i-1)]
		case SeasonMultiplicative:
			v *= st.s[c.phase(n+i-1)]
		}
		dst[i-1] = v
	}
}

// cCoef returns c_j = α + β(φ+…+φ^j) + γ·[j mod m = 0] for j = 1..h-1 (index
// j-1).
func (c *etsCore) cCoef(h int) []float64 {
	out := make([]float64, max(h-1, 0))
	phiSum, phiPow := 0.0, 1.0
	for j := 1; j < h; j++ {
		v := c.alpha
		if c.model.Trend != TrendNone {
			phi := c.phi
			if c.model.Trend == TrendAdditive {
				phi = 1
			}
			phiPow *= phi
			phiSum += phiPow
			v += c.beta * phiSum
		}
		if c.model.Season != SeasonNone && j%c.m == 0 {
			v += c.gamma
		}
		out[j-1] = v
	}
	return out
}

// Forecast returns h point forecasts with prediction intervals at levels.
func (e *ETS) Forecast(h int, levels []float64) (Forecast, error) {
	if e.fit == nil {
		return Forecast{}, fmt.Errorf("ets: %w", ErrNotFitted)
	}
	if err := checkHorizon(h, "ets"); err != nil {
		return Forecast{}, err
	}
	levels, err := checkLevels(levels)
	if err != nil {
		return Forecast{}, fmt.Errorf("ets: %w", err)
	}
	f := e.fit
	hh := h + e.p.trail
	mean := make([]float64, hh)
	st := f.state
	f.core.point(mean, &st, f.n)
	var ivs []Interval
	switch {
	case f.core.model.Season == SeasonMultiplicative:
		paths := e.Paths
		if paths <= 0 {
			paths = 2000
		}
		ivs = f.simulateIntervals(mean, levels, paths, e.Seed)
	default:
		sd := f.analyticSD(mean)
		ivs = normalIntervals(mean, sd, levels)
	}
	c := f.core
	params := map[string]float64{"alpha": c.alpha, "period": float64(c.m)}
	if c.model.Trend != TrendNone {
		params["beta"] = c.beta
		params["b0"] = c.b0 * e.p.scale
	}
	if c.model.Trend == TrendDamped {
		params["phi"] = c.phi
	}
	if c.model.Season != SeasonNone {
		params["gamma"] = c.gamma
	}
	params["l0"] = c.l0 * e.p.scale
	r, _ := e.Result()
	params["sigma2"] = r.Sigma2
	params["aicc"] = r.AICc
	out := Forecast{Mean: mean, Intervals: ivs, Model: c.model.String(), Params: params}
	out.unscale(e.p.scale, e.p.trail)
	return out, nil
}

// analyticSD returns forecast standard deviations for classes 1 and 2.
func (f *etsFit) analyticSD(mean []float64) []float64 {
	h := len(mean)
	cj := f.core.cCoef(h)
	s2 := f.sigma2
	sd := make([]float64, h)
	if f.core.model.Error == ErrorAdditive {
		acc := 1.0
		for i := 0; i < h; i++ {
			if i > 0 {
				acc += cj[i-1] * cj[i-1]
			}
			sd[i] = math.Sqrt(s2 * acc)
		}
		return sd
	}
	theta := make([]float64, h)
	for i := 0; i < h; i++ {
		t := mean[i] * mean[i]
		for j := 1; j <= i; j++ {
			t += s2 * cj[j-1] * cj[j-1] * theta[i-j]
		}
		theta[i] = t
		v := (1+s2)*t - mean[i]*mean[i]
		if v < 0 {
			v = 0
		}
		sd[i] = math.Sqrt(v)
	}
	return sd
}

// simulateIntervals draws paths future sample paths and returns empirical
// quantile intervals.
func (f *etsFit) simulateIntervals(mean []float64, levels []float64, paths int, seed uint64) []Interval {
	h := len(mean)
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	sigma := math.Sqrt(f.sigma2)
	sims := make([][]float64, h)
	for i := range sims {
		sims[i] = make([]float64, paths)
	}
	c := f.core
	st := etsState{s: make([]float64, len(f.state.s))}
	for k := 0; k < paths; k++ {
		st.l, st.b = f.state.l, f.state.b
		copy(st.s, f.state.s)
		for i := 0; i < h; i++ {
			// One-step forecast from the current state at absolute step n+i.
			yhat := c.oneStep(&st, f.n+i)
			eps := sigma * rng.NormFloat64()
			var y float64
			if c.model.Error == ErrorAdditive {
				y = yhat + eps
			} else {
				y = yhat * (1 + eps)
			}
			sims[i][k] = y
			c.stepAt(&st, y, f.n+i)
		}
	}
	out := make([]Interval, len(levels))
	for li, lv := range levels {
		out[li] = Interval{Level: lv, Lo: make([]float64, h), Hi: make([]float64, h)}
	}
	for i := 0; i < h; i++ {
		sort.Float64s(sims[i])
		for li, lv := range levels {
			out[li].Lo[i] = quantile7(sims[i], (1-lv)/2)
			out[li].Hi[i] = quantile7(sims[i], (1+lv)/2)
		}
	}
	return out
}

// oneStep returns ŷ for absolute step t from state st.
func (c *etsCore) oneStep(st *etsState, t int) float64 {
	q := st.l
	switch c.model.Trend {
	case TrendAdditive:
		q += st.b
	case TrendDamped:
		q += c.phi * st.b
	}
	switch c.model.Season {
	case SeasonAdditive:
		return q + st.s[c.phase(t)]
	case SeasonMultiplicative:
		return q * st.s[c.phase(t)]
	}
	return q
}

// stepAt updates st with observation y at absolute step t, without validity
// checks (used by simulation).
func (c *etsCore) stepAt(st *etsState, y float64, t int) {
	var phib float64
	switch c.model.Trend {
	case TrendAdditive:
		phib = st.b
	case TrendDamped:
		phib = c.phi * st.b
	}
	q := st.l + phib
	p := y
	j := 0
	var so float64
	if c.model.Season != SeasonNone {
		j = c.phase(t)
		so = st.s[j]
		if c.model.Season == SeasonAdditive {
			p = y - so
		} else if so != 0 {
			p = y / so
		}
	}
	ln := q + c.alpha*(p-q)
	if c.model.Trend != TrendNone {
		st.b = phib + c.beta/c.alpha*(ln-st.l-phib)
	}
	switch c.model.Season {
	case SeasonAdditive:
		st.s[j] = so + c.gamma*(y-q-so)
	case SeasonMultiplicative:
		if q != 0 {
			st.s[j] = so + c.gamma*(y/q-so)
		}
	}
	st.l = ln
}

// Settings of the likelihood search (see nelderMead): the search stops when
// the -2·log-likelihood values of the simplex agree to etsFTol relative (for
// a series of 1000 points about 1e-4 absolute, far below any difference
// that matters for AICc or forecasts), or after etsMaxEvalPerDim
// evaluations per parameter. On the M4 Hourly series these reach the
// likelihood of a search to 1e-10 with a simplex-size test (the previous
// setting) to within 0.1 on average, with 2–4 times fewer evaluations.
const (
	etsFTol          = 1e-8
	etsMaxEvalPerDim = 200
)

// Parameter bounds of the usual region.
const (
	etsLower = 1e-4
	etsUpper = 0.9999
	phiLower = 0.8
	phiUpper = 0.98
)

func sigmoid(u float64) float64 { return 1 / (1 + math.Exp(-u)) }

func logit(p float64) float64 {
	p = math.Min(math.Max(p, 1e-9), 1-1e-9)
	return math.Log(p / (1 - p))
}

// fitETSModel estimates one model on the scaled series x. It returns nil if
// the model cannot be fitted (invalid initial states or no admissible
// parameters).
// etsProblem is the likelihood search of one model on one series: obj maps
// the unconstrained parameter vector (logits of the smoothing parameters,
// then the initial-state offsets of the non-linear models) to -2·log-
// likelihood (+Inf outside the admissible region); u0 and step are the
// default start and initial simplex.
type etsProblem struct {
	x                  []float64
	mod                ETSModel
	m, k, dim          int
	core               etsCore
	linear             bool
	hasB, hasG, hasP   bool
	iA, iB, iG, iP, iL int
	decode             func(u []float64, c *etsCore)
	obj                func(u []float64) float64
	u0, step           []float64
	ws                 etsWork
}

func newETSProblem(x []float64, mod ETSModel, m int) (*etsProblem, bool) {
	if mod.Season == SeasonNone {
		m = 1
	}
	l0, b0, s0, ok := etsInitStates(x, mod, m)
	if !ok {
		return nil, false
	}
	k, _ := etsNeed(mod, m)
	// Linear models: the initial level and slope are solved by least
	// squares instead of searched, so the search runs over the smoothing
	// parameters only. On short series they are concentrated out of every
	// likelihood evaluation; on long ones (20 cycles, or 200 observations
	// without season) their influence fades long before the end, so the
	// search keeps the heuristic initial states (half the cost per
	// evaluation) and they are solved once at the end.
	linear := mod.Error == ErrorAdditive && mod.Season != SeasonMultiplicative
	concentrate := linear && len(x) < 20*max(m, 10)
	// Scale of the free initial-state offsets.
	sl := stddev(x)
	if sl < 1e-8 {
		sl = 1e-8
	}
	sb := sl / float64(max(m, 10))

	hasB := mod.Trend != TrendNone
	hasG := mod.Season != SeasonNone
	hasP := mod.Trend == TrendDamped
	// Index layout of the unconstrained vector.
	idx := 0
	iA := idx
	idx++
	iB, iG, iP := -1, -1, -1
	if hasB {
		iB = idx
		idx++
	}
	if hasG {
		iG = idx
		idx++
	}
	if hasP {
		iP = idx
		idx++
	}
	iL, iB0 := -1, -1
	if !linear {
		iL = idx
		idx++
		if hasB {
			iB0 = idx
			idx++
		}
	}
	dim := idx

	core := etsCore{model: mod, m: m, phi: 1, s0: s0, l0: l0, b0: b0}
	decode := func(u []float64, c *etsCore) {
		c.alpha = etsLower + (etsUpper-etsLower)*sigmoid(u[iA])
		c.beta, c.gamma, c.phi = 0, 0, 1
		if hasB {
			c.beta = etsLower + (c.alpha-etsLower)*sigmoid(u[iB])
		}
		if hasG {
			c.gamma = etsLower + (1-c.alpha-etsLower)*sigmoid(u[iG])
		}
		if hasP {
			c.phi = phiLower + (phiUpper-phiLower)*sigmoid(u[iP])
		}
		if !linear {
			c.l0 = l0 + sl*u[iL]
			c.b0 = 0
			if hasB {
				c.b0 = b0 + sb*u[iB0]
			}
		}
	}
	// The characteristic-root test costs O(m²) per evaluation with the
	// Schur–Cohn recursion; it is applied for m <= 24 (as documented).
	checkRoots := hasG && m <= 24
	st := etsState{s: make([]float64, len(s0))}
	var ws etsWork
	if linear {
		ws = newETSWork(len(s0))
	}
	var scratch []float64
	if checkRoots {
		scratch = make([]float64, 2*(m+2))
	}
	obj := func(u []float64) float64 {
		c := core
		decode(u, &c)
		if hasG && !etsAdmissible(&c, checkRoots, scratch) {
			return math.Inf(1)
		}
		if concentrate {
			sse, _, _, ok := c.concentrated(x, &ws)
			if !ok {
				return math.Inf(1)
			}
			return etsLik(mod, len(x), sse, 0)
		}
		st.l, st.b = c.l0, c.b0
		copy(st.s, s0)
		sse, slog, ok := c.filter(x, &st, nil)
		if !ok {
			return math.Inf(1)
		}
		return etsLik(mod, len(x), sse, slog)
	}
	alpha0 := 0.2
	if hasG {
		alpha0 = 0.1
	}
	u0 := make([]float64, dim)
	u0[iA] = logit((alpha0 - etsLower) / (etsUpper - etsLower))
	if hasB {
		u0[iB] = logit(0.1)
	}
	if hasG {
		u0[iG] = logit(0.05)
	}
	if hasP {
		u0[iP] = logit((0.97 - phiLower) / (phiUpper - phiLower))
	}
	step := make([]float64, dim)
	for i := range step {
		step[i] = 1
	}
	if iL >= 0 {
		step[iL] = 0.5
	}
	if iB0 >= 0 {
		step[iB0] = 0.5
	}
	return &etsProblem{x: x, mod: mod, m: m, k: k, dim: dim, core: core, linear: linear,
		hasB: hasB, hasG: hasG, hasP: hasP, iA: iA, iB: iB, iG: iG, iP: iP, iL: iL,
		decode: decode, obj: obj, u0: u0, step: step, ws: ws}, true
}

func fitETSModel(x []float64, mod ETSModel, m int, start *etsCore) *etsFit {
	p, ok := newETSProblem(x, mod, m)
	if !ok {
		return nil
	}
	obj, u0, step, dim := p.obj, p.u0, p.step, p.dim
	hasB, hasG, hasP := p.hasB, p.hasG, p.hasP
	iA, iB, iG, iP := p.iA, p.iB, p.iG, p.iP
	core, ws := p.core, &p.ws

	warmed := false
	u1 := append([]float64(nil), u0...)
	if start != nil && start.model == mod {
		// Start at the given smoothing parameters (inverting decode) with
		// a quarter of the usual simplex; fall back to the default start
		// if that point is infeasible here.
		w := make([]float64, dim)
		w[iA] = logit((start.alpha - etsLower) / (etsUpper - etsLower))
		if hasB {
			w[iB] = logit((start.beta - etsLower) / (start.alpha - etsLower))
		}
		if hasG {
			w[iG] = logit((start.gamma - etsLower) / (1 - start.alpha - etsLower))
		}
		if hasP {
			w[iP] = logit((start.phi - phiLower) / (phiUpper - phiLower))
		}
		if !math.IsInf(obj(w), 1) {
			warmed = true
			copy(u0, w)
			for i := range step {
				if p.iL < 0 || i < p.iL {
					step[i] = 0.25 // smoothing parameters only
				}
			}
		}
	}
	if !warmed {
		// Coarse start: the best of a few smoothing levels (the optimum
		// often lies near a bound, which the simplex reaches slowly).
		best := obj(u0)
		cand := make([]float64, dim)
		for _, a := range []float64{0.1, 0.5, 0.9} {
			for _, gf := range []float64{0.05, 0.5, 0.95} {
				if !hasG && gf != 0.05 {
					continue
				}
				copy(cand, u0)
				cand[iA] = logit((a - etsLower) / (etsUpper - etsLower))
				if hasG {
					cand[iG] = logit(gf)
				}
				if v := obj(cand); v < best {
					best = v
					copy(u1, cand)
				}
			}
		}
		if !math.IsInf(best, 1) {
			copy(u0, u1)
		}
	}
	if math.IsInf(obj(u0), 1) {
		// Try a more conservative start before giving up.
		u0[iA] = logit(0.5)
		if math.IsInf(obj(u0), 1) {
			return nil
		}
	}
	u, _ := nelderMead(obj, u0, step, etsMaxEvalPerDim*dim, etsFTol)
	p.decode(u, &core)
	if p.linear {
		_, dl, db, ok := core.concentrated(x, ws)
		if !ok {
			return nil
		}
		core.l0 += dl
		core.b0 += db
	}
	return finishFit(x, core, p.k)
}

// etsWork is scratch for concentrated.
type etsWork struct {
	s, sl, sb []float64
}

func newETSWork(m int) etsWork {
	return etsWork{s: make([]float64, m), sl: make([]float64, m), sb: make([]float64, m)}
}

// concentrated runs the linear (additive error and components) recursions
// from the initial states c.l0, c.b0, c.s0 and returns the smallest sum of
// squared one-step errors over all shifts (dl, db) of the initial level and
// slope, and the minimising shift.
//
// In a linear model the one-step errors are affine in the initial states:
// e_t(l0+dl, b0+db) = e_t - a_t·dl - c_t·db, where a_t and c_t are the
// responses of ŷ_t to a unit change of l0 and b0. They follow the same
// error-correction recursions as the states, driven by their own errors
// -a_t and -c_t, and are computed in the same pass; the shift then solves a
// 1×1 or 2×2 least-squares problem. Cost: one pass over x, about twice the
// work of filter (the extra recursions are independent of the state
// recursion and run in parallel with it). No allocation.
func (c *etsCore) concentrated(x []float64, ws *etsWork) (sse, dl, db float64, ok bool) {
	alpha, beta, gamma, phi := c.alpha, c.beta, c.gamma, c.phi
	hasB := c.model.Trend != TrendNone
	if !hasB {
		beta, phi = 0, 0
	} else if c.model.Trend == TrendAdditive {
		phi = 1
	}
	l, b := c.l0, c.b0
	if !hasB {
		b = 0
	}
	// responses to a unit change of l0 (suffix l) and b0 (suffix b)
	Ll, Bl := 1.0, 0.0
	Lb, Bb := 0.0, 1.0
	var see, saa, sac, scc, sae, sce float64
	hasS := c.model.Season != SeasonNone
	switch {
	case !hasS && !hasB:
		// ŷ = l; the response to l0 is (1-α)^t
		a := 1.0
		oma := 1 - alpha
		for _, y := range x {
			e := y - l
			see += e * e
			saa += a * a
			sae += a * e
			l += alpha * e
			a *= oma
		}
	case !hasS:
		for _, y := range x {
			q := l + phi*b
			e := y - q
			al := Ll + phi*Bl
			ab := Lb + phi*Bb
			see += e * e
			saa += al * al
			sae += al * e
			sac += al * ab
			scc += ab * ab
			sce += ab * e
			l = q + alpha*e
			b = phi*b + beta*e
			Ll = al - alpha*al
			Bl = phi*Bl - beta*al
			Lb = ab - alpha*ab
			Bb = phi*Bb - beta*ab
		}
	default:
		m := len(c.s0)
		s, sl, sb := ws.s[:m], ws.sl[:m], ws.sb[:m]
		copy(s, c.s0)
		for i := range sl {
			sl[i], sb[i] = 0, 0
		}
		j := 0
		if !hasB {
			for _, y := range x {
				so := s[j]
				e := y - l - so
				al := Ll + sl[j]
				see += e * e
				saa += al * al
				sae += al * e
				l += alpha * e
				s[j] = so + gamma*e
				Ll -= alpha * al
				sl[j] -= gamma * al
				if j++; j == m {
					j = 0
				}
			}
			break
		}
		for _, y := range x {
			q := l + phi*b
			so := s[j]
			e := y - q - so
			ql := Ll + phi*Bl
			al := ql + sl[j]
			qb := Lb + phi*Bb
			ab := qb + sb[j]
			see += e * e
			saa += al * al
			sae += al * e
			sac += al * ab
			scc += ab * ab
			sce += ab * e
			l = q + alpha*e
			b = phi*b + beta*e
			s[j] = so + gamma*e
			Ll = ql - alpha*al
			Bl = phi*Bl - beta*al
			sl[j] -= gamma * al
			Lb = qb - alpha*ab
			Bb = phi*Bb - beta*ab
			sb[j] -= gamma * ab
			if j++; j == m {
				j = 0
			}
		}
	}
	const big = 1e12
	if !(math.Abs(l) < big && math.Abs(b) < big) || math.IsNaN(see) || math.IsInf(see, 0) {
		return 0, 0, 0, false
	}
	if saa <= 0 {
		return see, 0, 0, true
	}
	det := saa*scc - sac*sac
	if hasB && det > 1e-12*saa*scc {
		dl = (scc*sae - sac*sce) / det
		db = (saa*sce - sac*sae) / det
	} else {
		dl = sae / saa
	}
	sse = see - dl*sae - db*sce
	if !(sse >= 0) || math.IsNaN(dl) || math.IsNaN(db) {
		// rounding at a perfect fit
		sse = math.Max(see-dl*sae-db*sce, 0)
		if math.IsNaN(sse) {
			return 0, 0, 0, false
		}
	}
	return sse, dl, db, true
}

// etsAdmissible tests the admissibility conditions of the seasonal models
// (Hyndman et al. 2008, ch. 10, as implemented in the R forecast package):
// simple inequalities, and, when roots is true, that all roots of
// φ(1-α-γ) + (α+β-αφ+γ-1)z + Σ_{k=2}^{m-1}(α+β-αφ)z^k + (α+β-φ)z^m + z^{m+1}
// lie in the closed unit disc (modulus <= 1+1e-10, R's tolerance), tested
// with the Schur–Cohn recursion in O(m²). scratch, if it has room for
// 2(m+2) values, avoids allocating.
func etsAdmissible(c *etsCore, roots bool, scratch []float64) bool {
	alpha, beta, gamma, phi := c.alpha, c.beta, c.gamma, c.phi
	m := float64(c.m)
	if gamma < math.Max(1-1/phi-alpha, 0) || gamma > 1+1/phi-alpha {
		return false
	}
	if alpha < 1-1/phi-gamma*(1-m+phi+phi*m)/(2*phi*m) {
		return false
	}
	if beta < -(1-phi)*(gamma/m+alpha) {
		return false
	}
	if !roots {
		return true
	}
	// Coefficients in increasing powers; leading coefficient 1.
	deg := c.m + 1
	if len(scratch) < 2*(deg+1) {
		scratch = make([]float64, 2*(deg+1))
	}
	coef := scratch[:deg+1]
	coef[0] = phi * (1 - alpha - gamma)
	coef[1] = alpha + beta - alpha*phi + gamma - 1
	for k := 2; k <= c.m-1; k++ {
		coef[k] = alpha + beta - alpha*phi
	}
	coef[c.m] = alpha + beta - phi
	coef[deg] = 1
	return rootsInDisc(coef, 1+1e-10, scratch[deg+1:2*(deg+1)])
}

// rootsInDisc reports whether every root of the polynomial Σ coef[k] z^k
// (coef[len-1] != 0) has modulus below r, by the Schur–Cohn (Jury)
// recursion: with a(z) = Σ a_k z^k the polynomial of the roots divided by r,
// made monic, all roots lie inside the unit circle if and only if the
// reflection coefficient k = a_0 satisfies |k| < 1 and the same holds for
// the degree-reduced polynomial (a(z) - k·z^n·a(1/z))/(z(1-k²)), down to
// degree 0. coef is overwritten; work needs len(coef) values. O(deg²), no
// allocation.
func rootsInDisc(coef []float64, r float64, work []float64) bool {
	d := len(coef) - 1
	a, b := coef, work[:d+1]
	lead := coef[d]
	if lead == 0 || math.IsNaN(lead) {
		return false
	}
	rk := 1.0
	for k := 0; k <= d; k++ {
		a[k] = a[k] * rk / lead
		rk *= r
	}
	// a[d] is now r^d; renormalise to a monic polynomial
	ld := a[d]
	for k := range a {
		a[k] /= ld
	}
	for n := d; n >= 1; n-- {
		k := a[0]
		if !(math.Abs(k) < 1) {
			return false
		}
		den := 1 - k*k
		for i := 1; i <= n; i++ {
			b[i-1] = (a[i] - k*a[n-i]) / den
		}
		a, b = b, a
	}
	return true
}

// etsInitStates computes heuristic initial states: seasonal indices from a
// classical decomposition of the first min(n, 3m) observations, then the
// level (mean) or level and slope (least-squares line, intercept at t = 0) of
// the first max(10, 2m) seasonally adjusted observations.
func etsInitStates(x []float64, mod ETSModel, m int) (l0, b0 float64, s0 []float64, ok bool) {
	n := len(x)
	sa := x
	if mod.Season != SeasonNone {
		if n < 2*m {
			return 0, 0, nil, false
		}
		nn := min(n, 3*m)
		mult := mod.Season == SeasonMultiplicative
		s0 = classicalSeasonal(x[:nn], m, mult)
		if s0 == nil {
			return 0, 0, nil, false
		}
		sa = make([]float64, n)
		for t, v := range x {
			if mult {
				sa[t] = v / s0[t%m]
			} else {
				sa[t] = v - s0[t%m]
			}
		}
	}
	maxn := min(max(10, 2*m), n)
	if mod.Trend == TrendNone {
		var s float64
		for _, v := range sa[:maxn] {
			s += v
		}
		return s / float64(maxn), 0, s0, true
	}
	a, b := lineFit(sa[:maxn])
	// lineFit uses t = 0..maxn-1 for the first observation; the initial
	// state is one step earlier.
	l0, b0 = a-b, b
	if mod.Error == ErrorMultiplicative && math.Abs(l0+b0) < 1e-8 {
		l0 *= 1 + 1e-3
		b0 *= 1 - 1e-3
	}
	return l0, b0, s0, true
}

// classicalSeasonal returns seasonal indices by phase t mod m from a
// classical decomposition (centred moving average of order m, or 2×m for even
// m), normalised to sum to zero (additive) or average one (multiplicative).
// It returns nil if fewer than one full set of detrended values exists or a
// multiplicative decomposition meets a non-positive trend.
func classicalSeasonal(x []float64, m int, mult bool) []float64 {
	n := len(x)
	trend := centredMA(x, m)
	sum := make([]float64, m)
	cnt := make([]float64, m)
	for t := 0; t < n; t++ {
		if math.IsNaN(trend[t]) {
			continue
		}
		var d float64
		if mult {
			if trend[t] <= 0 {
				return nil
			}
			d = x[t] / trend[t]
		} else {
			d = x[t] - trend[t]
		}
		sum[t%m] += d
		cnt[t%m]++
	}
	s := make([]float64, m)
	var tot float64
	for j := range s {
		if cnt[j] == 0 {
			return nil
		}
		s[j] = sum[j] / cnt[j]
		tot += s[j]
	}
	avg := tot / float64(m)
	for j := range s {
		if mult {
			if avg <= 0 {
				return nil
			}
			s[j] /= avg
			if s[j] <= 1e-6 {
				s[j] = 1e-6
			}
		} else {
			s[j] -= avg
		}
	}
	return s
}

// centredMA returns the centred moving average of order m (2×m for even m);
// positions without a full window are NaN.
func centredMA(x []float64, m int) []float64 {
	n := len(x)
	out := make([]float64, n)
	for i := range out {
		out[i] = math.NaN()
	}
	if m%2 == 1 {
		h := m / 2
		for t := h; t < n-h; t++ {
			var s float64
			for k := t - h; k <= t+h; k++ {
				s += x[k]
			}
			out[t] = s / float64(m)
		}
		return out
	}
	h := m / 2
	for t := h; t < n-h; t++ {
		s := 0.5*x[t-h] + 0.5*x[t+h]
		for k := t - h + 1; k < t+h; k++ {
			s += x[k]
		}
		out[t] = s / float64(m)
	}
	return out
}

// lineFit returns the least-squares intercept a (at t = 0) and slope b of x
// against t = 0..len(x)-1.
func lineFit(x []float64) (a, b float64) {
	n := float64(len(x))
	if len(x) == 1 {
		return x[0], 0
	}
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
	b = sxy / sxx
	return ym - b*tm, b
}

func stddev(x []float64) float64 {
	if len(x) < 2 {
		return 0
	}
	var m float64
	for _, v := range x {
		m += v
	}
	m /= float64(len(x))
	var s float64
	for _, v := range x {
		s += (v - m) * (v - m)
	}
	return math.Sqrt(s / float64(len(x)-1))
}
