package models

import (
	"errors"
	"fmt"
	"math"
)

// MASE is the mean absolute scaled error (Hyndman & Koehler 2006) of
// forecast against actual: mean|y-ŷ| divided by the in-sample mean absolute
// error of the seasonal naive method with lag period on train (lag 1 when
// period <= 1 or train has no more than period values). Pairs with a missing
// value are skipped. A zero scale (constant training data) is replaced by
// 1e-12·max(1, max|train|), so perfect forecasts give 0 and imperfect ones a
// large finite value. It returns NaN when no pair is usable.
func MASE(actual, forecast, train []float64, period int) float64 {
	var s float64
	var c int
	for i := range actual {
		if i < len(forecast) && isFinite(actual[i]) && isFinite(forecast[i]) {
			s += math.Abs(actual[i] - forecast[i])
			c++
		}
	}
	if c == 0 {
		return math.NaN()
	}
	return s / float64(c) / naiveScale(train, period)
}

// naiveScale is the in-sample MAE of the (seasonal) naive method.
func naiveScale(train []float64, period int) float64 {
	m := period
	if m < 1 || len(train) <= m {
		m = 1
	}
	var s, mx float64
	var c int
	for t := m; t < len(train); t++ {
		if isFinite(train[t]) && isFinite(train[t-m]) {
			s += math.Abs(train[t] - train[t-m])
			c++
		}
	}
	for _, v := range train {
		if isFinite(v) {
			mx = math.Max(mx, math.Abs(v))
		}
	}
	floor := 1e-12 * math.Max(1, mx)
	if c == 0 {
		return floor
	}
	return math.Max(s/float64(c), floor)
}

// SMAPE is the symmetric mean absolute percentage error in percent (M4
// definition): 200/h·Σ|y-ŷ|/(|y|+|ŷ|), a term being 0 when y = ŷ = 0. Pairs
// with a missing value are skipped; NaN when none is usable. Range [0, 200].
func SMAPE(actual, forecast []float64) float64 {
	var s float64
	var c int
	for i := range actual {
		if i >= len(forecast) || !isFinite(actual[i]) || !isFinite(forecast[i]) {
			continue
		}
		d := math.Abs(actual[i]) + math.Abs(forecast[i])
		if d > 0 {
			s += 2 * math.Abs(actual[i]-forecast[i]) / d
		}
		c++
	}
	if c == 0 {
		return math.NaN()
	}
	return 100 * s / float64(c)
}

// MSIS is the mean scaled interval score (M4 competition) of the central
// interval [lo, hi] with nominal level: mean of
// (hi-lo) + (2/a)(lo-y)·[y<lo] + (2/a)(y-hi)·[y>hi], a = 1-level, divided
// by the same seasonal naive scale as MASE. Lower is better; NaN when no
// usable point.
func MSIS(actual, lo, hi, train []float64, period int, level float64) float64 {
	a := 1 - level
	var s float64
	var c int
	for i, y := range actual {
		if i >= len(lo) || i >= len(hi) || !isFinite(y) {
			continue
		}
		v := hi[i] - lo[i]
		if y < lo[i] {
			v += 2 / a * (lo[i] - y)
		}
		if y > hi[i] {
			v += 2 / a * (y - hi[i])
		}
		s += v
		c++
	}
	if c == 0 {
		return math.NaN()
	}
	return s / float64(c) / naiveScale(train, period)
}

// Coverage is the fraction of non-missing actual values inside [lo, hi]
// (NaN when none).
func Coverage(actual, lo, hi []float64) float64 {
	var in, c int
	for i, y := range actual {
		if i >= len(lo) || i >= len(hi) || !isFinite(y) {
			continue
		}
		c++
		if y >= lo[i] && y <= hi[i] {
			in++
		}
	}
	if c == 0 {
		return math.NaN()
	}
	return float64(in) / float64(c)
}

// BacktestOptions configure a rolling-origin evaluation.
//
// Horizon is the forecast length at each origin (>= 1). Origins is the number
// of forecast origins (default 3), Step the distance between consecutive
// origins in samples (default Horizon). MinTrain is the smallest training
// length allowed (default 1; models also enforce their own minimum, and
// origins where a model reports insufficient history are skipped). Period is
// the seasonal lag used to scale MASE and MSIS (<= 1: lag 1). Level is the
// interval level scored by MSIS and Coverage (default 0.95).
type BacktestOptions struct {
	Horizon  int
	Origins  int
	Step     int
	MinTrain int
	Period   int
	Level    float64
}

// OriginScore holds the accuracy at one origin: the training length (the
// forecast starts at index Origin of the series) and the metrics over the
// Horizon steps that follow it.
type OriginScore struct {
	Origin                      int
	MASE, SMAPE, MSIS, Coverage float64
}

// BacktestResult summarises a rolling-origin evaluation: Model is the
// Forecast.Model reported at the latest origin, the metrics are means over
// the evaluated origins (NaN metrics of an origin are skipped), Origins holds
// the per-origin scores in chronological order.
type BacktestResult struct {
	Model                       string
	MASE, SMAPE, MSIS, Coverage float64
	Origins                     []OriginScore
}

// Backtest evaluates a model by rolling-origin forecasting: for each origin o
// (latest o = n-Horizon, then o-Step, o-2·Step, …) a fresh model from
// newModel is fitted to y[:o] only and forecasts y[o:o+Horizon]. No
// information after the origin is used. newModel must return a new,
// independent Forecaster each call.
//
// It returns an error wrapping ErrInsufficientHistory when no origin could
// be evaluated, and the first other error a model returns.
// Cost: Origins × (fit + forecast).
func Backtest(newModel func() Forecaster, y []float64, opts BacktestOptions) (BacktestResult, error) {
	res, _, err := backtest(newModel, y, opts)
	return res, err
}

// lastOrigin is the model fitted at the latest evaluated origin of a
// backtest, with its forecast (one interval, at the backtest level).
type lastOrigin struct {
	model  Forecaster
	fc     Forecast
	origin int
}

// backtest is Backtest that also returns the fit at the latest evaluated
// origin.
func backtest(newModel func() Forecaster, y []float64, opts BacktestOptions) (BacktestResult, lastOrigin, error) {
	h := opts.Horizon
	if h < 1 {
		return BacktestResult{}, lastOrigin{}, fmt.Errorf("backtest: %w (got %d)", ErrInvalidHorizon, h)
	}
	k := opts.Origins
	if k <= 0 {
		k = 3
	}
	step := opts.Step
	if step <= 0 {
		step = h
	}
	level := opts.Level
	if level == 0 {
		level = 0.95
	}
	if !(level > 0 && level < 1) {
		return BacktestResult{}, lastOrigin{}, fmt.Errorf("backtest: %w (got %v)", ErrInvalidLevel, level)
	}
	minTrain := max(opts.MinTrain, 1)
	var origins []int
	for i := k - 1; i >= 0; i-- {
		o := len(y) - h - i*step
		if o >= minTrain {
			origins = append(origins, o)
		}
	}
	var res BacktestResult
	var last lastOrigin
	var lastInsufficient error
	sums := [4]float64{}
	counts := [4]int{}
	for _, o := range origins {
		m := newModel()
		train := y[:o]
		if err := m.Fit(train); err != nil {
			if errors.Is(err, ErrInsufficientHistory) {
				lastInsufficient = err
				continue
			}
			return BacktestResult{}, lastOrigin{}, fmt.Errorf("backtest origin %d: %w", o, err)
		}
		f, err := m.Forecast(h, []float64{level})
		if err != nil {
			return BacktestResult{}, lastOrigin{}, fmt.Errorf("backtest origin %d: %w", o, err)
		}
		actual := y[o : o+h]
		iv := f.Intervals[0]
		sc := OriginScore{
			Origin:   o,
			MASE:     MASE(actual, f.Mean, train, opts.Period),
			SMAPE:    SMAPE(actual, f.Mean),
			MSIS:     MSIS(actual, iv.Lo, iv.Hi, train, opts.Period, level),
			Coverage: Coverage(actual, iv.Lo, iv.Hi),
		}
		for i, v := range []float64{sc.MASE, sc.SMAPE, sc.MSIS, sc.Coverage} {
			if !math.IsNaN(v) {
				sums[i] += v
				counts[i]++
			}
		}
		res.Origins = append(res.Origins, sc)
		res.Model = f.Model
		last = lastOrigin{model: m, fc: f, origin: o}
	}
	if len(res.Origins) == 0 {
		if lastInsufficient != nil {
			return BacktestResult{}, lastOrigin{}, fmt.Errorf("backtest: no origin could be evaluated: %w", lastInsufficient)
		}
		return BacktestResult{}, lastOrigin{}, &InsufficientHistoryError{Need: minTrain + h, Have: len(y), Model: "backtest"}
	}
	out := [4]float64{}
	for i := range out {
		out[i] = math.NaN()
		if counts[i] > 0 {
			out[i] = sums[i] / float64(counts[i])
		}
	}
	res.MASE, res.SMAPE, res.MSIS, res.Coverage = out[0], out[1], out[2], out[3]
	return res, last, nil
}
