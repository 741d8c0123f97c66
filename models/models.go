// Package models implements univariate forecasting models for regularly
// sampled operational metrics (CPU, memory, disk, session counts, ...).
//
// Everything in this package is pure numerics: no I/O, no logging, no
// package-level mutable state and no goroutines. Given the same inputs (and
// the same explicit random seed where simulation is used) every function
// returns bit-identical results.
//
// Series are []float64 on a regular grid. NaN (and ±Inf) mark missing
// observations. Models that need a complete series trim leading and trailing
// missing values and fill interior gaps by linear interpolation between the
// nearest observed neighbours (see Clean). Forecasts are always aligned to the
// original grid: step 1 of a forecast is the sample immediately after the last
// element of the input slice, even when trailing values were missing.
//
// Internally every model divides the series by its largest absolute value
// before fitting and multiplies results back, so values such as 1e15 or
// -1e12 neither overflow nor lose the conditioning of the optimisers.
//
// The models are:
//
//   - Naive, Drift and SeasonalNaive benchmarks with the prediction intervals
//     of Hyndman & Athanasopoulos, Forecasting: Principles and Practice (3rd
//     ed.), §5.5, and the M4 competition's Naive2;
//   - ETS, the exponential smoothing state space models of Hyndman, Koehler,
//     Ord & Snyder (2008), with automatic model selection by AICc;
//   - STL and MSTL decompositions (Cleveland et al. 1990; Bandara, Hyndman &
//     Bergmeir 2021) and the MSTLForecaster built on them;
//   - Theta, the standard Theta method (Assimakopoulos & Nikolopoulos 2000,
//     Hyndman & Billah 2003);
//   - Regression on trend, Fourier terms and caller-supplied calendar columns,
//     fitted by Huber IRLS;
//   - TheilSen and MannKendall trend statistics;
//   - Backtest (rolling origin evaluation) and Auto (selection or
//     combination of the above, scored on a hold-out).
//
// On the 414 hourly series of the M4 competition (see package benchmark and
// "foresight bench m4") Auto reaches an OWA of about 0.48 (the seasonal naive
// method 0.63, the best competition entries 0.41–0.45) in about 3 ms of
// processor time per series.
package models

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/stat/distuv"
)

// Sentinel errors. Errors returned by this package wrap one of these (test
// with errors.Is) and add context.
var (
	// ErrInsufficientHistory reports a series too short (after removing
	// leading and trailing missing values) for the requested model. It is
	// carried by *InsufficientHistoryError, which states the minimum.
	ErrInsufficientHistory = errors.New("models: insufficient history")

	// ErrInvalidHorizon reports a forecast horizon < 1.
	ErrInvalidHorizon = errors.New("models: forecast horizon must be at least 1")

	// ErrInvalidLevel reports a prediction interval level outside (0, 1).
	ErrInvalidLevel = errors.New("models: interval level must be in (0, 1)")

	// ErrInvalidPeriod reports a seasonal period < 2 where one is required, or
	// one larger than a model supports.
	ErrInvalidPeriod = errors.New("models: invalid seasonal period")

	// ErrNotFitted reports Forecast called before a successful Fit.
	ErrNotFitted = errors.New("models: model has not been fitted")

	// ErrNonPositive reports a model that needs strictly positive data (for
	// example ETS with multiplicative components) given data <= 0.
	ErrNonPositive = errors.New("models: model requires strictly positive data")

	// ErrLengthMismatch reports paired inputs of different lengths, or
	// regressor columns shorter than the series plus the horizon.
	ErrLengthMismatch = errors.New("models: length mismatch")

	// ErrNoModel reports that no candidate model could be fitted.
	ErrNoModel = errors.New("models: no candidate model could be fitted")

	// ErrMissingRegressor reports a regressor without a finite value for a
	// forecast step.
	ErrMissingRegressor = errors.New("models: missing regressor value in the forecast horizon")
)

// InsufficientHistoryError is returned when a model needs more observations
// than it was given. Need is the minimum number of usable observations (the
// span between the first and last non-missing value), Have the number
// available. It matches ErrInsufficientHistory under errors.Is.
type InsufficientHistoryError struct {
	Need, Have int
	Model      string
}

// Error implements error. The message states the minimum needed.
func (e *InsufficientHistoryError) Error() string {
	return fmt.Sprintf("models: %s needs at least %d observations, have %d: insufficient history", e.Model, e.Need, e.Have)
}

// Unwrap returns ErrInsufficientHistory.
func (e *InsufficientHistoryError) Unwrap() error { return ErrInsufficientHistory }

// Interval is a central prediction interval. Level is the nominal coverage
// probability in (0, 1), e.g. 0.8; Lo and Hi have one element per forecast
// step, in the units of the series, with Lo[i] <= Mean[i] <= Hi[i] for the
// symmetric intervals and Lo[i] <= Hi[i] always.
type Interval struct {
	Level  float64
	Lo, Hi []float64
}

// Forecast is the result of a forecasting model.
//
// Mean[i] is the point forecast i+1 steps after the last input sample.
// Intervals holds one entry per requested level, in the order requested.
// Model names the fitted model, e.g. "ETS(A,Ad,N)" or "auto(ets+theta)";
// Params holds the estimated parameters keyed by name (for example "alpha",
// "sigma", "weight:ets"); it is never nil.
type Forecast struct {
	Mean      []float64
	Intervals []Interval
	Model     string
	Params    map[string]float64
}

// Interval returns the interval with the given level (compared to within
// 1e-9) and whether it was found.
func (f *Forecast) Interval(level float64) (Interval, bool) {
	for _, iv := range f.Intervals {
		if math.Abs(iv.Level-level) < 1e-9 {
			return iv, true
		}
	}
	return Interval{}, false
}

// DefaultLevels are the interval levels used when none are requested.
func DefaultLevels() []float64 { return []float64{0.8, 0.95} }

// Options are the options shared by the convenience functions and Auto.
//
// Horizon is the number of steps to forecast (>= 1). Periods lists seasonal
// periods in samples (e.g. 24 and 168 for hourly data); nil asks functions that
// need periods to detect them with DetectPeriods. Levels are prediction
// interval levels in (0, 1); nil means DefaultLevels. Seed seeds the
// simulations used for some prediction intervals (equal seeds give equal
// results); it is used by AutoForecast, while the individual models take
// their seed from their own Seed field.
type Options struct {
	Horizon int
	Periods []int
	Levels  []float64
	Seed    uint64
}

func (o Options) levels() []float64 {
	if len(o.Levels) == 0 {
		return DefaultLevels()
	}
	return o.Levels
}

// Forecaster is a model that is first fitted to a series and then forecasts
// it.
//
// Fit estimates the model from y (NaN = missing); it may be called again to
// refit. Forecast returns h >= 1 steps with intervals at the given levels
// (each in (0, 1); nil means DefaultLevels). Name returns a short identifier of
// the model family, e.g. "ets".
//
// Implementations in this package are not safe for concurrent use by several
// goroutines while Fit is running; a fitted model may be forecast
// concurrently.
type Forecaster interface {
	Name() string
	Fit(y []float64) error
	Forecast(h int, levels []float64) (Forecast, error)
}

// FitForecast fits f to y and forecasts opts.Horizon steps at opts.Levels.
func FitForecast(f Forecaster, y []float64, opts Options) (Forecast, error) {
	if opts.Horizon < 1 {
		return Forecast{}, fmt.Errorf("%s: %w (got %d)", f.Name(), ErrInvalidHorizon, opts.Horizon)
	}
	if err := f.Fit(y); err != nil {
		return Forecast{}, err
	}
	return f.Forecast(opts.Horizon, opts.levels())
}

// Clean returns the usable part of y: leading and trailing missing values
// (NaN or ±Inf) are dropped and interior missing values are replaced by
// linear interpolation between the nearest observed neighbours. lead and
// trail are the numbers of samples dropped at each end, so
// y[lead:len(y)-trail] corresponds to x. If y has no finite value, x is nil
// and lead == len(y), trail == 0. Complexity O(len(y)).
func Clean(y []float64) (x []float64, lead, trail int) {
	n := len(y)
	first := -1
	for i, v := range y {
		if isFinite(v) {
			first = i
			break
		}
	}
	if first < 0 {
		return nil, n, 0
	}
	last := first
	for i := n - 1; i >= first; i-- {
		if isFinite(y[i]) {
			last = i
			break
		}
	}
	x = make([]float64, last-first+1)
	copy(x, y[first:last+1])
	prev := 0
	for i := 1; i < len(x); i++ {
		if !isFinite(x[i]) {
			continue
		}
		if i-prev > 1 {
			a, b := x[prev], x[i]
			d := float64(i - prev)
			for j := prev + 1; j < i; j++ {
				t := float64(j-prev) / d
				x[j] = a + (b-a)*t
			}
		}
		prev = i
	}
	return x, first, n - 1 - last
}

func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// prepared is a cleaned and scaled series.
type prepared struct {
	x           []float64 // cleaned series divided by scale
	lead, trail int
	scale       float64 // > 0
}

// prepare cleans y, checks that at least need observations remain and scales
// the result by its maximum absolute value.
func prepare(y []float64, need int, model string) (prepared, error) {
	x, lead, trail := Clean(y)
	if len(x) < need || len(x) == 0 {
		if need < 1 {
			need = 1
		}
		return prepared{}, &InsufficientHistoryError{Need: need, Have: len(x), Model: model}
	}
	s := 0.0
	for _, v := range x {
		if a := math.Abs(v); a > s {
			s = a
		}
	}
	if s == 0 || math.IsInf(s, 0) {
		s = 1
	}
	for i := range x {
		x[i] /= s
	}
	return prepared{x: x, lead: lead, trail: trail, scale: s}, nil
}

// zQuantile returns the standard normal quantile for a central interval of
// the given level: Φ⁻¹((1+level)/2).
func zQuantile(level float64) float64 {
	return distuv.UnitNormal.Quantile(0.5 + level/2)
}

// checkLevels validates levels and returns the defaults for an empty slice.
func checkLevels(levels []float64) ([]float64, error) {
	if len(levels) == 0 {
		return DefaultLevels(), nil
	}
	for _, l := range levels {
		if !(l > 0 && l < 1) {
			return nil, fmt.Errorf("%w (got %v)", ErrInvalidLevel, l)
		}
	}
	return levels, nil
}

func checkHorizon(h int, model string) error {
	if h < 1 {
		return fmt.Errorf("%s: %w (got %d)", model, ErrInvalidHorizon, h)
	}
	return nil
}

// normalIntervals builds symmetric intervals mean ± z·sd for each level.
func normalIntervals(mean, sd []float64, levels []float64) []Interval {
	out := make([]Interval, len(levels))
	for k, l := range levels {
		z := zQuantile(l)
		lo := make([]float64, len(mean))
		hi := make([]float64, len(mean))
		for i := range mean {
			w := z * sd[i]
			lo[i] = mean[i] - w
			hi[i] = mean[i] + w
		}
		out[k] = Interval{Level: l, Lo: lo, Hi: hi}
	}
	return out
}

// unscale multiplies the forecast mean and intervals by s in place and drops
// the first skip steps (used to realign forecasts when trailing samples of the
// input were missing).
func (f *Forecast) unscale(s float64, skip int) {
	f.Mean = scaleSkip(f.Mean, s, skip)
	for i := range f.Intervals {
		f.Intervals[i].Lo = scaleSkip(f.Intervals[i].Lo, s, skip)
		f.Intervals[i].Hi = scaleSkip(f.Intervals[i].Hi, s, skip)
	}
}

func scaleSkip(v []float64, s float64, skip int) []float64 {
	v = v[skip:]
	for i := range v {
		v[i] *= s
	}
	return v
}

// Median returns the median of v (NaN for empty v, the mean of the two
// middle values for even lengths). v is reordered. O(n log n).
func Median(v []float64) float64 { return median(v) }

// median returns the median of v (NaN for empty v). v is reordered.
func median(v []float64) float64 {
	n := len(v)
	if n == 0 {
		return math.NaN()
	}
	sort.Float64s(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// quantile7 returns the type-7 (linear interpolation) sample quantile of the
// sorted slice s at probability p in [0, 1].
func quantile7(s []float64, p float64) float64 {
	n := len(s)
	if n == 0 {
		return math.NaN()
	}
	h := float64(n-1) * p
	lo := int(math.Floor(h))
	if lo >= n-1 {
		return s[n-1]
	}
	if lo < 0 {
		return s[0]
	}
	return s[lo] + (h-float64(lo))*(s[lo+1]-s[lo])
}

func copyParams(p map[string]float64) map[string]float64 {
	out := make(map[string]float64, len(p))
	for k, v := range p {
		out[k] = v
	}
	return out
}
