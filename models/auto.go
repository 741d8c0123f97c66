package models

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Candidate model names understood by Auto.
const (
	CandidateSNaive     = "snaive"
	CandidateETS        = "ets"
	CandidateMSTL       = "mstl"
	CandidateTheta      = "theta"
	CandidateRegression = "regression"
)

// AllCandidates returns every candidate name Auto and New understand.
func AllCandidates() []string {
	return []string{CandidateSNaive, CandidateETS, CandidateMSTL, CandidateTheta, CandidateRegression}
}

// DefaultCandidates returns the candidate names Auto tries by default:
// snaive, ets, mstl and theta. Regression is left out: on the M4 Hourly
// benchmark it was the slowest candidate (Huber IRLS over SVDs, about ten
// times the cost of all others together) and among the least accurate.
func DefaultCandidates() []string {
	return []string{CandidateSNaive, CandidateETS, CandidateMSTL, CandidateTheta}
}

// AutoETSModels returns the ETS models of the ets candidate: the damped
// trend models ETS(A,Ad,N) and ETS(A,Ad,A). The candidate uses the seasonal
// ones when it has a seasonal period and the others otherwise. Both are
// linear models, whose initial level and slope are concentrated out of the
// likelihood, so each fit is a search over three or four smoothing
// parameters; multiplicative seasonality is covered by the log-scale mstl
// candidate instead. (On the M4 Hourly benchmark, selecting by AICc among
// ETS(A,N,A) and ETS(A,Ad,A) instead was no more accurate and cost twice as
// much.)
func AutoETSModels() []ETSModel {
	return []ETSModel{
		{Error: ErrorAdditive, Trend: TrendDamped, Season: SeasonNone},
		{Error: ErrorAdditive, Trend: TrendDamped, Season: SeasonAdditive},
	}
}

// CandidateScore is the backtest score of one Auto candidate. Err is non-nil
// when the candidate could not be evaluated (then the metrics are NaN).
// Weight is its weight in the final forecast (0 if unused).
type CandidateScore struct {
	Name     string
	MASE     float64
	MSIS     float64
	Coverage float64
	Weight   float64
	Err      error
}

// Auto selects or combines forecasting models by backtest.
//
// Fit works on the last MaxHistory observations of y (default
// max(10·longest period, 1000)), which bounds its cost on long series; older
// observations hardly matter for the forecasts. The seasonal periods are
// Periods, or, when nil, those found by DetectPeriods (maximum period n/3);
// a period p is usable when there are more than two cycles (n > 2p). Each
// candidate of Candidates (default DefaultCandidates) contributes one or more
// models:
//
//   - snaive: a seasonal naive model per usable period (naive if none), named
//     "snaive(p)" when there are several;
//   - ets: ETS selected by AICc among ETSModels (default AutoETSModels),
//     seasonal with the shortest usable period p <= MaxETSPeriod having
//     n >= 3p (non-seasonal otherwise), using the seasonal models of
//     ETSModels when there is such a period and the non-seasonal ones
//     otherwise;
//   - mstl: MSTLForecaster over all usable periods (one MSTL iteration,
//     Theta for the adjusted series, WidenSeasonal), on the log scale when
//     the data are strictly positive;
//   - theta: Theta with the longest usable period;
//   - regression: Regression with Fourier terms for all usable periods.
//
// Every model is scored with Backtest (Origins origins, default 1, i.e. a
// single hold-out of the last Horizon observations; step and horizon Horizon,
// default min(max(2·shortest usable period, 8), n/5) but at least 1), using
// MASE. Models that fail are skipped. Then Auto keeps the model with the
// smallest mean MASE, or, with Combine, the Top (default 3) best ones with
// weights proportional to 1/MASE (a model with MASE 0 takes all the weight).
// All chosen models are refitted on the full series; ETS starts that fit from
// the model and smoothing parameters it estimated on the hold-out part.
//
// Combination: the mean forecast is Σ w_i·ŷ_i, and each interval bound is the
// same weighted average of the candidates' bounds (Lo = Σ w_i Lo_i,
// Hi = Σ w_i Hi_i), i.e. quantile averaging. Combining makes the point
// forecast more accurate than its members while the averaged bounds keep
// their width, so the intervals come out too wide (on M4 Hourly the 95%
// intervals covered 97.4% of the test points). Auto therefore calibrates the
// half-widths on the hold-out: with c the root mean square of the combined
// hold-out errors in units of the standard deviation implied by the combined
// 95% interval, every half-width is multiplied by c^Calibrate (default
// exponent 0.5, a compromise between trusting the single hold-out and the
// models; a negative Calibrate disables it), limited to [0.5, 2]. This
// brought the M4 Hourly coverage to 81% and 94.5% for the 80% and 95%
// intervals and lowered the MSIS by 17%.
//
// The forecast's Model is "auto(name)" or "auto(a+b+…)", in decreasing
// weight; Params holds "weight:<name>" and "mase:<name>" for every scored
// model, "widen" (the calibration factor, when not 1) and the chosen models'
// parameters prefixed by "<name>.".
// Cost: about (Origins+1) fits of every model; on the M4 Hourly series (700–
// 960 observations, periods 24 and 168) about 3 ms in all.
type Auto struct {
	Periods    []int
	Candidates []string
	Combine    bool
	Top        int
	Origins    int
	Horizon    int
	MaxHistory int
	ETSModels  []ETSModel
	Calibrate  float64
	Seed       uint64

	scores   []CandidateScore
	chosen   []Forecaster
	names    []string
	weights  []float64
	widen    float64 // interval half-width factor from the hold-out
	periods  []int
	isFitted bool
}

// Name returns "auto".
func (a *Auto) Name() string { return "auto" }

// Scores returns the backtest scores of the last Fit, best first.
func (a *Auto) Scores() []CandidateScore { return append([]CandidateScore(nil), a.scores...) }

// DetectedPeriods returns the periods used by the last Fit.
func (a *Auto) DetectedPeriods() []int { return append([]int(nil), a.periods...) }

// warmStarter is implemented by models that can start their estimation
// from a model of the same kind fitted to an earlier part of the series (the
// hold-out fit of the backtest), which makes the final fit cheaper.
type warmStarter interface {
	warmStart(from Forecaster)
}

// member is one model contributed by a candidate.
type member struct {
	name string
	mk   func() Forecaster
}

// usablePeriods returns the sorted distinct periods p >= 2 with n > 2p.
func usablePeriods(periods []int, n int) []int {
	var out []int
	for _, p := range periods {
		if p >= 2 && n > 2*p {
			out = append(out, p)
		}
	}
	sort.Ints(out)
	k := 0
	for i, p := range out {
		if i == 0 || p != out[k-1] {
			out[k] = p
			k++
		}
	}
	return out[:k]
}

// members returns the models of the named candidate for n observations with
// the given periods (nil when it does not apply). positive tells whether the
// data are strictly positive.
func (a *Auto) members(name string, n int, periods []int, positive bool) []member {
	ps := usablePeriods(periods, n)
	longest := 0
	if len(ps) > 0 {
		longest = ps[len(ps)-1]
	}
	switch name {
	case CandidateSNaive:
		if len(ps) <= 1 {
			return []member{{name, func() Forecaster { return &SeasonalNaive{Period: longest} }}}
		}
		var out []member
		for _, p := range ps {
			out = append(out, member{name + "(" + strconv.Itoa(p) + ")", func() Forecaster { return &SeasonalNaive{Period: p} }})
		}
		return out
	case CandidateETS:
		period := 0
		for _, p := range ps {
			if p <= MaxETSPeriod && n >= 3*p {
				period = p
				break
			}
		}
		all := a.ETSModels
		if all == nil {
			all = AutoETSModels()
		}
		// seasonal models with a period, the others without (all of them
		// if none fits that rule)
		var cands []ETSModel
		for _, c := range all {
			if (c.Season != SeasonNone) == (period >= 2) {
				cands = append(cands, c)
			}
		}
		if len(cands) == 0 {
			cands = append(cands, all...)
		}
		return []member{{name, func() Forecaster { return &ETS{Period: period, Candidates: cands, Seed: a.Seed} }}}
	case CandidateMSTL:
		if len(ps) == 0 {
			return nil
		}
		return []member{{name, func() Forecaster {
			return &MSTLForecaster{MSTL: MSTL{Periods: ps, Iterations: 1}, Adjusted: AdjustedTheta,
				Log: positive, WidenSeasonal: true, Seed: a.Seed}
		}}}
	case CandidateTheta:
		return []member{{name, func() Forecaster { return &Theta{Period: longest} }}}
	case CandidateRegression:
		return []member{{name, func() Forecaster { return &Regression{Periods: ps} }}}
	}
	return nil
}

// calibrate returns the exponent of the interval calibration (0: none).
func (a *Auto) calibrate() float64 {
	switch {
	case a.Calibrate < 0:
		return 0
	case a.Calibrate == 0:
		return 0.5
	}
	return a.Calibrate
}

// maxHistory returns the number of observations Fit uses.
func (a *Auto) maxHistory(periods []int) int {
	if a.MaxHistory > 0 {
		return a.MaxHistory
	}
	longest := 0
	for _, p := range periods {
		longest = max(longest, p)
	}
	return max(10*longest, 1000)
}

// Fit detects periods if needed, backtests the candidates and refits the
// chosen ones on y. It returns an error wrapping ErrNoModel when no candidate
// could be evaluated (wrapping ErrInsufficientHistory too when that was the
// reason for all of them).
func (a *Auto) Fit(y []float64) error {
	a.isFitted = false
	if a.Periods != nil {
		if k := a.maxHistory(a.Periods); len(y) > k {
			y = y[len(y)-k:]
		}
	}
	x, _, _ := Clean(y)
	n := len(x)
	if n < 3 {
		return &InsufficientHistoryError{Need: 3, Have: n, Model: "auto"}
	}
	periods := a.Periods
	if periods == nil {
		var err error
		periods, err = DetectPeriods(y, n/3)
		if err != nil && !errors.Is(err, ErrInsufficientHistory) {
			return fmt.Errorf("auto: %w", err)
		}
		if k := a.maxHistory(periods); len(y) > k {
			y = y[len(y)-k:]
			x, _, _ = Clean(y)
			n = len(x)
		}
	}
	a.periods = append([]int(nil), periods...)
	ps := usablePeriods(periods, n)
	shortest := 0
	if len(ps) > 0 {
		shortest = ps[0]
	}
	h := a.Horizon
	if h <= 0 {
		h = min(max(2*shortest, 8), n/5)
		h = max(h, 1)
	}
	origins := a.Origins
	if origins <= 0 {
		origins = 1
	}
	names := a.Candidates
	if names == nil {
		names = DefaultCandidates()
	}
	scalePeriod := 1
	if len(ps) > 0 {
		scalePeriod = ps[len(ps)-1]
	}
	positive := positive(x)
	type cand struct {
		score CandidateScore
		mk    func() Forecaster
		last  lastOrigin // fit at the latest backtest origin
	}
	var cands []cand
	allInsufficient := true
	var lastErr error
	for _, name := range names {
		for _, mb := range a.members(name, n, periods, positive) {
			cs := CandidateScore{Name: mb.name, MASE: math.NaN(), MSIS: math.NaN(), Coverage: math.NaN()}
			res, last, err := backtest(mb.mk, y, BacktestOptions{Horizon: h, Origins: origins, Period: scalePeriod})
			if err == nil && math.IsNaN(res.MASE) {
				err = fmt.Errorf("%s: no scorable origin", mb.name)
			}
			if err != nil {
				cs.Err = err
				lastErr = err
				if !errors.Is(err, ErrInsufficientHistory) {
					allInsufficient = false
				}
			} else {
				cs.MASE, cs.MSIS, cs.Coverage = res.MASE, res.MSIS, res.Coverage
			}
			cands = append(cands, cand{cs, mb.mk, last})
		}
	}
	sort.SliceStable(cands, func(i, j int) bool {
		ci, cj := cands[i].score, cands[j].score
		if (ci.Err == nil) != (cj.Err == nil) {
			return ci.Err == nil
		}
		return ci.MASE < cj.MASE
	})
	top := 1
	if a.Combine {
		top = a.Top
		if top <= 0 {
			top = 3
		}
	}
	a.chosen, a.names, a.weights = nil, nil, nil
	var chosenIdx []int
	for i := range cands {
		if len(a.chosen) >= top || cands[i].score.Err != nil {
			break
		}
		f := cands[i].mk()
		if ws, ok := f.(warmStarter); ok && cands[i].last.model != nil {
			ws.warmStart(cands[i].last.model)
		}
		if err := f.Fit(y); err != nil {
			cands[i].score.Err = err
			lastErr = err
			continue
		}
		a.chosen = append(a.chosen, f)
		a.names = append(a.names, cands[i].score.Name)
		chosenIdx = append(chosenIdx, i)
	}
	if len(a.chosen) == 0 {
		if lastErr == nil {
			return fmt.Errorf("auto: %w", ErrNoModel)
		}
		if allInsufficient {
			return fmt.Errorf("auto: %w: %w", ErrNoModel, lastErr)
		}
		return fmt.Errorf("auto: %w: last error: %v", ErrNoModel, lastErr)
	}
	// inverse-MASE weights
	w := make([]float64, len(chosenIdx))
	zero := 0
	for _, i := range chosenIdx {
		if cands[i].score.MASE <= 0 {
			zero++
		}
	}
	var tot float64
	for k, i := range chosenIdx {
		m := cands[i].score.MASE
		switch {
		case zero > 0 && m <= 0:
			w[k] = 1
		case zero > 0:
			w[k] = 0
		default:
			w[k] = 1 / m
		}
		tot += w[k]
	}
	for k, i := range chosenIdx {
		w[k] /= tot
		cands[i].score.Weight = w[k]
	}
	a.weights = w
	a.widen = 1
	if shrink := a.calibrate(); shrink > 0 {
		var lasts []lastOrigin
		for _, i := range chosenIdx {
			lasts = append(lasts, cands[i].last)
		}
		a.widen = calibration(lasts, w, y, shrink)
	}
	a.scores = make([]CandidateScore, len(cands))
	for i := range cands {
		a.scores[i] = cands[i].score
	}
	a.isFitted = true
	return nil
}

// Forecast returns the selected or combined forecast.
func (a *Auto) Forecast(h int, levels []float64) (Forecast, error) {
	if !a.isFitted {
		return Forecast{}, fmt.Errorf("auto: %w", ErrNotFitted)
	}
	if err := checkHorizon(h, "auto"); err != nil {
		return Forecast{}, err
	}
	levels, err := checkLevels(levels)
	if err != nil {
		return Forecast{}, fmt.Errorf("auto: %w", err)
	}
	out := Forecast{Mean: make([]float64, h), Params: map[string]float64{}}
	out.Intervals = make([]Interval, len(levels))
	for k, l := range levels {
		out.Intervals[k] = Interval{Level: l, Lo: make([]float64, h), Hi: make([]float64, h)}
	}
	var used []string
	for ci, f := range a.chosen {
		w := a.weights[ci]
		if w == 0 {
			continue
		}
		fc, err := f.Forecast(h, levels)
		if err != nil {
			return Forecast{}, fmt.Errorf("auto: %s: %w", a.names[ci], err)
		}
		used = append(used, a.names[ci])
		for i := range out.Mean {
			out.Mean[i] += w * fc.Mean[i]
		}
		for k := range levels {
			for i := 0; i < h; i++ {
				out.Intervals[k].Lo[i] += w * fc.Intervals[k].Lo[i]
				out.Intervals[k].Hi[i] += w * fc.Intervals[k].Hi[i]
			}
		}
		for key, v := range fc.Params {
			out.Params[a.names[ci]+"."+key] = v
		}
	}
	for _, s := range a.scores {
		out.Params["weight:"+s.Name] = s.Weight
		if s.Err == nil {
			out.Params["mase:"+s.Name] = s.MASE
		}
	}
	if a.widen != 1 && a.widen > 0 {
		for k := range out.Intervals {
			for i := range out.Mean {
				iv := &out.Intervals[k]
				iv.Lo[i] = out.Mean[i] - a.widen*(out.Mean[i]-iv.Lo[i])
				iv.Hi[i] = out.Mean[i] + a.widen*(iv.Hi[i]-out.Mean[i])
			}
		}
		out.Params["widen"] = a.widen
	}
	out.Model = "auto(" + strings.Join(used, "+") + ")"
	return out, nil
}

// calibration returns the factor for the combined interval half-widths
// from the hold-out forecasts of the chosen models (weights w): the root
// mean square of the combined hold-out errors in units of the combined
// standard deviation implied by the intervals, raised to the power shrink
// (1: full correction; 0.5: geometric mean with 1) and limited to [0.5, 2].
func calibration(lasts []lastOrigin, w []float64, y []float64, shrink float64) float64 {
	if len(lasts) == 0 || lasts[0].model == nil {
		return 1
	}
	o := lasts[0].origin
	h := len(lasts[0].fc.Mean)
	var ss float64
	var cnt int
	for t := 0; t < h && o+t < len(y); t++ {
		var mean, lo, hi float64
		for k, l := range lasts {
			if l.origin != o || len(l.fc.Mean) != h || len(l.fc.Intervals) == 0 {
				return 1
			}
			mean += w[k] * l.fc.Mean[t]
			lo += w[k] * l.fc.Intervals[0].Lo[t]
			hi += w[k] * l.fc.Intervals[0].Hi[t]
		}
		v := y[o+t]
		if !isFinite(v) {
			continue
		}
		z := zQuantile(lasts[0].fc.Intervals[0].Level)
		var sd float64
		if v >= mean {
			sd = (hi - mean) / z
		} else {
			sd = (mean - lo) / z
		}
		if !(sd > 0) {
			continue
		}
		r := (v - mean) / sd
		ss += r * r
		cnt++
	}
	if cnt == 0 {
		return 1
	}
	c := math.Pow(math.Sqrt(ss/float64(cnt)), shrink)
	return math.Min(math.Max(c, 0.5), 2)
}

// AutoForecast is a convenience wrapper: it fits an Auto with opts.Periods,
// opts.Seed, the backtest horizon opts.Horizon and the given combination
// settings, and forecasts opts.Horizon steps at opts.Levels.
func AutoForecast(y []float64, opts Options, combine bool) (Forecast, error) {
	a := &Auto{Periods: opts.Periods, Horizon: opts.Horizon, Seed: opts.Seed, Combine: combine}
	return FitForecast(a, y, opts)
}
