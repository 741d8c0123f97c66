package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/seed-f1b503aa/foresight/calendar"
	"github.com/seed-f1b503aa/foresight/models"
)

// Limits of one forecast.
const (
	// MaxHorizon is the largest number of steps a forecast may ask for.
	MaxHorizon = 10000
	// MaxFitPoints is the most recent grid points a model is fitted on;
	// older history is not used (the API downsamples stored series so that
	// a long range fits).
	MaxFitPoints = 20000
)

// ErrBadRequest marks errors in what the caller asked for (HTTP 400).
var ErrBadRequest = errors.New("bad forecast request")

// ForecastSpec says what to forecast.
type ForecastSpec struct {
	// Horizon is the number of future steps (1..MaxHorizon).
	Horizon int
	// Step is the grid step; 0 infers it from the timestamps (InferStep).
	Step time.Duration
	// Periods are seasonal periods in steps (e.g. 24, 168 for hourly
	// data); nil detects them from the data.
	Periods []int
	// Model is auto (default), snaive, ets, mstl, theta or regression.
	Model string
	// Levels are interval levels in (0, 1); nil means 0.8 and 0.95.
	Levels []float64
	// Seed makes simulated intervals reproducible.
	Seed uint64
	// Calendar, when set, gives the regression model business-calendar
	// regressors (business day, holiday, month-end close days, quarter and
	// year end; see calendar.Regressors) for grids of a day or finer.
	Calendar *calendar.Calendar
	// CloseDays is the number of close days for those regressors (default 3).
	CloseDays int
}

// Validate checks the spec without data.
func (s ForecastSpec) Validate() error {
	if s.Horizon < 1 || s.Horizon > MaxHorizon {
		return fmt.Errorf("%w: horizon %d: use 1 to %d steps", ErrBadRequest, s.Horizon, MaxHorizon)
	}
	if s.Step < 0 {
		return fmt.Errorf("%w: negative step %s", ErrBadRequest, s.Step)
	}
	for _, p := range s.Periods {
		if p < 2 || p > MaxFitPoints/2 {
			return fmt.Errorf("%w: seasonal period %d: use 2 to %d steps", ErrBadRequest, p, MaxFitPoints/2)
		}
	}
	for _, l := range s.Levels {
		if !(l > 0 && l < 1) {
			return fmt.Errorf("%w: level %g: use a value in (0, 1), e.g. 0.8 or 80", ErrBadRequest, l)
		}
	}
	if s.Model != "" {
		ok := false
		for _, n := range models.ModelNames() {
			ok = ok || n == s.Model
		}
		if !ok {
			return fmt.Errorf("%w: model %q: use one of %v", ErrBadRequest, s.Model, models.ModelNames())
		}
	}
	return nil
}

func (s ForecastSpec) levels() []float64 {
	if len(s.Levels) == 0 {
		return models.DefaultLevels()
	}
	return s.Levels
}

// Bound is one prediction interval at one step.
type Bound struct {
	Level  float64
	Lo, Hi float64
}

// ForecastPoint is the forecast at one future time.
type ForecastPoint struct {
	Time   time.Time
	Mean   float64
	Bounds []Bound
}

// MarshalJSON writes {"t":…, "mean":…, "lo80":…, "hi80":…, …}: bound names
// carry the level in percent, as dashboards expect flat fields.
func (p ForecastPoint) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 128)
	b = append(b, `{"t":`...)
	t, _ := json.Marshal(p.Time)
	b = append(b, t...)
	b = append(b, `,"mean":`...)
	b = appendFloat(b, p.Mean)
	for _, bd := range p.Bounds {
		pct := LevelName(bd.Level)
		b = append(b, `,"lo`+pct+`":`...)
		b = appendFloat(b, bd.Lo)
		b = append(b, `,"hi`+pct+`":`...)
		b = appendFloat(b, bd.Hi)
	}
	return append(b, '}'), nil
}

func appendFloat(b []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(b, "null"...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

// LevelName formats a level as percent without trailing zeros: 0.8 → "80",
// 0.995 → "99.5".
func LevelName(l float64) string {
	return strconv.FormatFloat(math.Round(l*1e6)/1e4, 'f', -1, 64)
}

// ForecastResult is a forecast of one series.
type ForecastResult struct {
	Series string          `json:"series"`
	Model  string          `json:"model"`
	Step   time.Duration   `json:"-"`
	StepS  string          `json:"step"`
	Levels []float64       `json:"levels"`
	Points []ForecastPoint `json:"points"`
	// FitPoints is the number of grid points the model saw (after
	// resampling, gaps included).
	FitPoints int `json:"fit_points"`
	// Missing is how many of them were gaps.
	Missing int `json:"missing"`
	// Params are the fitted model's parameters.
	Params map[string]float64 `json:"params,omitempty"`
}

// InsufficientHistory reports that a series is too short for an honest
// forecast; it wraps models.ErrInsufficientHistory.
type InsufficientHistory struct {
	Series     string
	Need, Have int
	Step       time.Duration
	Reason     string
}

func (e *InsufficientHistory) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("insufficient history for %s: %s", e.Series, e.Reason)
	}
	return fmt.Sprintf("insufficient history for %s: need at least %d points at step %s, have %d", e.Series, e.Need, e.Step, e.Have)
}

// Unwrap lets errors.Is(err, models.ErrInsufficientHistory) match.
func (e *InsufficientHistory) Unwrap() error { return models.ErrInsufficientHistory }

// ForecastSamples resamples samples (any order and spacing) onto a grid
// (see ResampleLast: the model sees the last MaxFitPoints grid points) and
// forecasts spec.Horizon steps after the last grid point.
//
// Input it cannot use is refused with an error wrapping ErrBadRequest that
// names the sample: a time outside [MinTime, MaxTime], a value whose
// magnitude is MaxAbsValue or more, or a horizon that would end after
// MaxTime. Too few usable values give *InsufficientHistory; values no model
// can fit give *UnfittableError.
func ForecastSamples(name string, samples []Sample, spec ForecastSpec) (ForecastResult, error) {
	if err := spec.Validate(); err != nil {
		return ForecastResult{}, err
	}
	finite := 0
	for i, s := range samples {
		if err := CheckTime(s.Time); err != nil {
			return ForecastResult{}, fmt.Errorf("%w: %s: sample %d: %v", ErrBadRequest, name, i, err)
		}
		if math.IsNaN(s.Value) || math.IsInf(s.Value, 0) {
			continue
		}
		if err := checkValue(s.Value); err != nil {
			return ForecastResult{}, fmt.Errorf("%w: %s: sample %d: %v", ErrBadRequest, name, i, err)
		}
		finite++
	}
	if finite < 3 {
		return ForecastResult{}, &InsufficientHistory{Series: name, Need: 3, Have: finite, Step: spec.Step,
			Reason: fmt.Sprintf("%d usable value(s); a forecast needs at least 3", finite)}
	}
	step := spec.Step
	if step == 0 {
		times := make([]time.Time, len(samples))
		for i, s := range samples {
			times[i] = s.Time
		}
		sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
		var err error
		if step, err = InferStep(times); err != nil {
			return ForecastResult{}, fmt.Errorf("%w: %s: %v", ErrBadRequest, name, err)
		}
	}
	// Older history than the last MaxFitPoints grid points is never
	// fitted: do not allocate it, however long the samples span.
	grid, values, span, err := ResampleLast(samples, step, MaxFitPoints)
	if err != nil {
		return ForecastResult{}, fmt.Errorf("%w: %s: %v", ErrBadRequest, name, err)
	}
	if span > uint64(len(values)) {
		usable := 0
		for _, v := range values {
			if !math.IsNaN(v) {
				usable++
			}
		}
		if usable < 3 {
			return ForecastResult{}, &InsufficientHistory{Series: name, Need: 3, Have: usable, Step: step,
				Reason: fmt.Sprintf("the samples span %d grid points at step %s and only the last %d are fitted; they hold %d usable value(s), a forecast needs at least 3: use a larger step",
					span, FormatStep(step), len(values), usable)}
		}
	}
	spec.Step = step
	return ForecastGrid(name, grid, values, spec)
}

// MaxAbsValue bounds the magnitude of the values a forecast accepts. Beyond
// it the models' sums of squares and products overflow float64, so no
// model could be fitted; no metric comes near it.
const MaxAbsValue = 1e150

func checkValue(v float64) error {
	if math.Abs(v) >= MaxAbsValue {
		return fmt.Errorf("value %g is too large to forecast: |value| must stay below %g", v, MaxAbsValue)
	}
	return nil
}

// UnfittableError reports that no model could be fitted to a series'
// values (numerically degenerate data, or data the model asked for cannot
// take, such as non-positive values for a multiplicative model). The input
// is at fault, not the server (HTTP 422). It wraps the model's error
// (models.ErrNoModel or models.ErrNonPositive).
type UnfittableError struct {
	Series, Model string
	Err           error
}

func (e *UnfittableError) Error() string {
	return fmt.Sprintf("no model could be fitted to %s (model %s): %v", e.Series, e.Model, e.Err)
}

// Unwrap returns the model's error.
func (e *UnfittableError) Unwrap() error { return e.Err }

// ForecastGrid forecasts values on a regular grid (NaN = missing). It uses
// the last MaxFitPoints values. The grid and the horizon after it must lie
// in [MinTime, MaxTime] and finite values must stay below MaxAbsValue in
// magnitude; otherwise the error wraps ErrBadRequest.
func ForecastGrid(name string, grid Grid, values []float64, spec ForecastSpec) (ForecastResult, error) {
	if err := spec.Validate(); err != nil {
		return ForecastResult{}, err
	}
	if err := grid.Check(len(values)); err != nil {
		return ForecastResult{}, fmt.Errorf("%w: %s: %v", ErrBadRequest, name, err)
	}
	if err := grid.Check(len(values) + spec.Horizon); err != nil {
		last := grid.At(max(len(values)-1, 0))
		return ForecastResult{}, fmt.Errorf("%w: %s: a horizon of %d steps of %s after the last point (%s) ends after %s, the latest time supported",
			ErrBadRequest, name, spec.Horizon, FormatStep(grid.Step), last.Format(time.RFC3339Nano), MaxTime.Format(time.RFC3339Nano))
	}
	if len(values) > MaxFitPoints {
		drop := len(values) - MaxFitPoints
		grid.Start = grid.At(drop)
		values = values[drop:]
	}
	missing := 0
	for i, v := range values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			missing++
			continue
		}
		if err := checkValue(v); err != nil {
			return ForecastResult{}, fmt.Errorf("%w: %s: grid point %d (%s): %v", ErrBadRequest, name, i, grid.At(i).Format(time.RFC3339Nano), err)
		}
	}
	model := spec.Model
	if model == "" {
		model = models.ModelAuto
	}
	f, err := models.New(model, values, spec.Periods, spec.Seed)
	if r, ok := f.(*models.Regression); ok && err == nil && spec.Calendar != nil && grid.Step <= 24*time.Hour {
		times := make([]time.Time, len(values)+spec.Horizon)
		for i := range times {
			times[i] = grid.At(i)
		}
		closeDays := spec.CloseDays
		if closeDays <= 0 {
			closeDays = 3
		}
		r.Regressors, _ = spec.Calendar.Regressors(times, closeDays)
	}
	if err == nil {
		var fc models.Forecast
		fc, err = models.FitForecast(f, values, models.Options{Horizon: spec.Horizon, Periods: spec.Periods, Levels: spec.levels(), Seed: spec.Seed})
		if err == nil {
			return buildResult(name, grid, len(values), missing, spec, fc), nil
		}
	}
	var ih *models.InsufficientHistoryError
	if errors.As(err, &ih) {
		return ForecastResult{}, &InsufficientHistory{Series: name, Need: ih.Need, Have: ih.Have, Step: grid.Step}
	}
	if errors.Is(err, models.ErrInsufficientHistory) {
		return ForecastResult{}, &InsufficientHistory{Series: name, Have: len(values) - missing, Step: grid.Step, Reason: err.Error()}
	}
	if errors.Is(err, models.ErrNoModel) || errors.Is(err, models.ErrNonPositive) {
		return ForecastResult{}, &UnfittableError{Series: name, Model: model, Err: err}
	}
	return ForecastResult{}, fmt.Errorf("forecast %s with %s: %w", name, model, err)
}

func buildResult(name string, grid Grid, n, missing int, spec ForecastSpec, fc models.Forecast) ForecastResult {
	levels := spec.levels()
	r := ForecastResult{Series: name, Model: fc.Model, Step: grid.Step, StepS: FormatStep(grid.Step), Levels: levels,
		FitPoints: n, Missing: missing, Params: finiteParams(fc.Params)}
	r.Points = make([]ForecastPoint, len(fc.Mean))
	for i, m := range fc.Mean {
		p := ForecastPoint{Time: grid.At(n + i), Mean: m, Bounds: make([]Bound, 0, len(levels))}
		for _, l := range levels {
			if iv, ok := fc.Interval(l); ok {
				p.Bounds = append(p.Bounds, Bound{Level: l, Lo: iv.Lo[i], Hi: iv.Hi[i]})
			}
		}
		r.Points[i] = p
	}
	return r
}

func finiteParams(p map[string]float64) map[string]float64 {
	out := make(map[string]float64, len(p))
	for k, v := range p {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			out[k] = v
		}
	}
	return out
}

// ForecastInput is one named series for ForecastMany.
type ForecastInput struct {
	Name    string
	Samples []Sample
}

// ForecastOutcome is ForecastMany's answer for one input: a result or an
// error (never both).
type ForecastOutcome struct {
	Result ForecastResult
	Err    error
}

// ForecastMany forecasts every input with a bounded pool of workers
// (workers <= 0 means GOMAXPROCS) and returns outcomes in input order. It
// stops starting new fits when ctx is done; unstarted inputs get ctx's
// error. A fit that panics fails its own input with a *PanicError (a
// server fault) and does not affect the others.
func ForecastMany(ctx context.Context, inputs []ForecastInput, spec ForecastSpec, workers int) []ForecastOutcome {
	out := make([]ForecastOutcome, len(inputs))
	errs := ForEach(ctx, len(inputs), workers, func(i int) error {
		r, err := ForecastSamples(inputs[i].Name, inputs[i].Samples, spec)
		if err == nil {
			out[i].Result = r
		}
		return err
	})
	for i, err := range errs {
		if err != nil {
			out[i] = ForecastOutcome{Err: err}
		}
	}
	return out
}

// FormatStep writes a duration without zero units: 1h, 90s, 1h30m, 1d.
func FormatStep(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
