package models

import (
	"errors"
	"fmt"
	"math"
	"sort"
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

// DefaultCandidates returns the candidate names Auto tries by default.
func DefaultCandidates() []string {
	return []string{CandidateSNaive, CandidateETS, CandidateMSTL, CandidateTheta, CandidateRegression}
}

// CandidateScore is the rolling-origin score of one Auto candidate. Err is
// non-nil when the candidate could not be evaluated (then the metrics are
// NaN). Weight is its weight in the final forecast (0 if unused).
type CandidateScore struct {
	Name     string
	MASE     float64
	MSIS     float64
	Coverage float64
	Weight   float64
	Err      error
}

// Auto selects or combines forecasting models by rolling-origin backtest.
//
// At Fit the seasonal periods are Periods, or, when nil, those found by
// DetectPeriods (maximum period n/3). Each candidate (default
// DefaultCandidates) is configured from them:
//
//   - snaive: seasonal naive with the longest period p having n > 2p (naive
//     if none);
//   - ets: ETS with automatic selection, seasonal with the longest period
//     p <= MaxETSPeriod having n >= 3p (non-seasonal otherwise);
//   - mstl: MSTLForecaster over all periods (robust STL, WidenSeasonal);
//   - theta: Theta with the same period as ets;
//   - regression: Regression with Fourier terms for all periods.
//
// Every candidate is scored with Backtest (Origins origins, default 3, step
// and horizon Horizon, default min(max(longest period, 8), n/5) but at least
// 1), using MASE. Candidates that fail are skipped. Then Auto keeps the
// candidate with the smallest mean MASE, or, with Combine, the Top (default
// 3) best ones with weights proportional to 1/MASE (a candidate with MASE 0
// takes all the weight). All chosen models are refitted on the full series.
//
// Combination: the mean forecast is Σ w_i·ŷ_i, and each interval bound is the
// same weighted average of the candidates' bounds (Lo = Σ w_i Lo_i,
// Hi = Σ w_i Hi_i), i.e. quantile averaging; this keeps the nominal level
// exact when the candidates agree on the spread and is a pragmatic
// approximation otherwise (it is not the quantile of the mixture).
//
// The forecast's Model is "auto(name)" or "auto(a+b+…)", in decreasing
// weight; Params holds "weight:<name>" and "mase:<name>" for every scored
// candidate and the chosen models' parameters prefixed by "<name>.".
// Cost: about (Origins+1) fits of every candidate.
type Auto struct {
	Periods    []int
	Candidates []string
	Combine    bool
	Top        int
	Origins    int
	Horizon    int
	Seed       uint64

	scores   []CandidateScore
	chosen   []Forecaster
	weights  []float64
	periods  []int
	isFitted bool
}

// Name returns "auto".
func (a *Auto) Name() string { return "auto" }

// Scores returns the backtest scores of the last Fit, best first.
func (a *Auto) Scores() []CandidateScore { return append([]CandidateScore(nil), a.scores...) }

// DetectedPeriods returns the periods used by the last Fit.
func (a *Auto) DetectedPeriods() []int { return append([]int(nil), a.periods...) }

// newCandidate returns a constructor for the named candidate, or nil when it
// does not apply to n observations with the given periods.
func (a *Auto) newCandidate(name string, n int, periods []int) func() Forecaster {
	longest := func(ok func(p int) bool) int {
		best := 0
		for _, p := range periods {
			if ok(p) && p > best {
				best = p
			}
		}
		return best
	}
	etsPeriod := longest(func(p int) bool { return p <= MaxETSPeriod && n >= 3*p })
	switch name {
	case CandidateSNaive:
		p := longest(func(p int) bool { return n > 2*p })
		return func() Forecaster { return &SeasonalNaive{Period: p} }
	case CandidateETS:
		return func() Forecaster { return &ETS{Period: etsPeriod, Seed: a.Seed} }
	case CandidateMSTL:
		if longest(func(p int) bool { return n > 2*p }) == 0 {
			return nil
		}
		ps := append([]int(nil), periods...)
		return func() Forecaster {
			return &MSTLForecaster{MSTL: MSTL{Periods: ps, Robust: true}, WidenSeasonal: true, Seed: a.Seed}
		}
	case CandidateTheta:
		return func() Forecaster { return &Theta{Period: etsPeriod} }
	case CandidateRegression:
		var ps []int
		for _, p := range periods {
			if n > 2*p {
				ps = append(ps, p)
			}
		}
		return func() Forecaster { return &Regression{Periods: ps} }
	}
	return nil
}

// Fit detects periods if needed, backtests the candidates and refits the
// chosen ones on y. It returns an error wrapping ErrNoModel when no candidate
// could be evaluated (wrapping ErrInsufficientHistory too when that was the
// reason for all of them).
func (a *Auto) Fit(y []float64) error {
	a.isFitted = false
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
	}
	a.periods = append([]int(nil), periods...)
	maxP := 0
	for _, p := range periods {
		maxP = max(maxP, p)
	}
	h := a.Horizon
	if h <= 0 {
		h = min(max(maxP, 8), n/5)
		h = max(h, 1)
	}
	origins := a.Origins
	if origins <= 0 {
		origins = 3
	}
	names := a.Candidates
	if names == nil {
		names = DefaultCandidates()
	}
	scalePeriod := 1
	if maxP > 0 && n > 2*maxP {
		scalePeriod = maxP
	}
	type cand struct {
		score CandidateScore
		mk    func() Forecaster
	}
	var cands []cand
	allInsufficient := true
	var lastErr error
	for _, name := range names {
		mk := a.newCandidate(name, n, periods)
		if mk == nil {
			continue
		}
		cs := CandidateScore{Name: name, MASE: math.NaN(), MSIS: math.NaN(), Coverage: math.NaN()}
		res, err := Backtest(mk, y, BacktestOptions{Horizon: h, Origins: origins, Period: scalePeriod})
		if err == nil && math.IsNaN(res.MASE) {
			err = fmt.Errorf("%s: no scorable origin", name)
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
		cands = append(cands, cand{cs, mk})
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
	a.chosen, a.weights = nil, nil
	var chosenIdx []int
	for i := range cands {
		if len(a.chosen) >= top || cands[i].score.Err != nil {
			break
		}
		f := cands[i].mk()
		if err := f.Fit(y); err != nil {
			cands[i].score.Err = err
			lastErr = err
			continue
		}
		a.chosen = append(a.chosen, f)
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
			return Forecast{}, fmt.Errorf("auto: %s: %w", f.Name(), err)
		}
		used = append(used, f.Name())
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
			out.Params[f.Name()+"."+key] = v
		}
	}
	for _, s := range a.scores {
		out.Params["weight:"+s.Name] = s.Weight
		if s.Err == nil {
			out.Params["mase:"+s.Name] = s.MASE
		}
	}
	out.Model = "auto(" + strings.Join(used, "+") + ")"
	return out, nil
}

// AutoForecast is a convenience wrapper: it fits an Auto with opts.Periods,
// opts.Seed, the backtest horizon opts.Horizon and the given combination
// settings, and forecasts opts.Horizon steps at opts.Levels.
func AutoForecast(y []float64, opts Options, combine bool) (Forecast, error) {
	a := &Auto{Periods: opts.Periods, Horizon: opts.Horizon, Seed: opts.Seed, Combine: combine}
	return FitForecast(a, y, opts)
}
