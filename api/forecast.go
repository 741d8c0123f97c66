package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/seed-f1b503aa/foresight/engine"
)

// Limits of POST /api/v1/forecast.
const (
	maxForecastSeries = 100
	maxSeriesPoints   = 200_000
)

// forecastRequest is the body of POST /api/v1/forecast.
type forecastRequest struct {
	Horizon int       `json:"horizon"`
	Step    string    `json:"step,omitempty"`
	Model   string    `json:"model,omitempty"`
	Levels  []float64 `json:"levels,omitempty"`
	Season  []int     `json:"season,omitempty"`
	Seed    uint64    `json:"seed,omitempty"`
	Series  []struct {
		Name string `json:"name"`
		// Either timestamps (RFC 3339 strings or Unix seconds) with values,
		Timestamps []flexTime `json:"timestamps,omitempty"`
		// or values alone, placed at start + k×step.
		Values []*float64 `json:"values"`
		Start  *flexTime  `json:"start,omitempty"`
	} `json:"series"`
}

// flexTime decodes an RFC 3339 string or a number of Unix seconds.
type flexTime struct{ time.Time }

func (f *flexTime) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if strings.HasPrefix(s, `"`) {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return err
		}
		t, err := time.Parse(time.RFC3339Nano, str)
		if err != nil {
			if n, perr := strconv.ParseFloat(str, 64); perr == nil {
				return f.fromUnix(n)
			}
			return fmt.Errorf("timestamp %q: use RFC 3339 or Unix seconds", str)
		}
		f.Time = t
		return nil
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("timestamp %s: use RFC 3339 or Unix seconds", s)
	}
	return f.fromUnix(n)
}

func (f *flexTime) fromUnix(n float64) error {
	if math.IsNaN(n) || n < -1e11 || n > 1e11 {
		return fmt.Errorf("timestamp %g: out of range for Unix seconds", n)
	}
	sec := math.Floor(n)
	f.Time = time.Unix(int64(sec), int64((n-sec)*1e9)).UTC()
	return nil
}

// postForecast answers POST /api/v1/forecast: forecasts inline series.
func (s *Server) postForecast(c *gin.Context) {
	body := http.MaxBytesReader(c.Writer, c.Request.Body, s.opts.MaxBodyBytes)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	var req forecastRequest
	if err := dec.Decode(&req); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			abortProblem(c, http.StatusRequestEntityTooLarge, fmt.Sprintf("body exceeds %d bytes", s.opts.MaxBodyBytes), nil)
			return
		}
		abortProblem(c, http.StatusBadRequest, "request body: "+jsonErrorDetail(err), nil)
		return
	}
	if dec.More() {
		abortProblem(c, http.StatusBadRequest, "request body: trailing data after the JSON object", nil)
		return
	}
	spec, err := specFrom(req.Horizon, req.Step, req.Model, req.Levels, req.Season, req.Seed)
	if err != nil {
		abortProblem(c, http.StatusBadRequest, err.Error(), nil)
		return
	}
	spec.Calendar = s.opts.Calendar
	if len(req.Series) == 0 || len(req.Series) > maxForecastSeries {
		abortProblem(c, http.StatusBadRequest, fmt.Sprintf("series: give 1 to %d series (got %d)", maxForecastSeries, len(req.Series)), nil)
		return
	}
	inputs := make([]engine.ForecastInput, len(req.Series))
	for i, sr := range req.Series {
		name := sr.Name
		if name == "" {
			name = "series" + strconv.Itoa(i)
		}
		where := fmt.Sprintf("series[%d] (%s)", i, name)
		if len(sr.Values) > maxSeriesPoints {
			abortProblem(c, http.StatusBadRequest, fmt.Sprintf("%s: %d values, the limit is %d", where, len(sr.Values), maxSeriesPoints), nil)
			return
		}
		smp := make([]engine.Sample, len(sr.Values))
		switch {
		case len(sr.Timestamps) > 0:
			if len(sr.Timestamps) != len(sr.Values) {
				abortProblem(c, http.StatusBadRequest, fmt.Sprintf("%s: %d timestamps but %d values", where, len(sr.Timestamps), len(sr.Values)), nil)
				return
			}
			for j := range smp {
				smp[j].Time = sr.Timestamps[j].Time
			}
		case sr.Start != nil && spec.Step > 0:
			if err := (engine.Grid{Start: sr.Start.Time, Step: spec.Step}).Check(len(smp)); err != nil {
				abortProblem(c, http.StatusBadRequest, fmt.Sprintf("%s: start and step: %v", where, err), nil)
				return
			}
			for j := range smp {
				smp[j].Time = sr.Start.Add(time.Duration(j) * spec.Step)
			}
		default:
			abortProblem(c, http.StatusBadRequest, where+": give timestamps, or start together with the request's step", nil)
			return
		}
		for j, v := range sr.Values {
			if v == nil {
				smp[j].Value = math.NaN() // null = missing
			} else {
				smp[j].Value = *v
			}
		}
		inputs[i] = engine.ForecastInput{Name: name, Samples: smp}
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), s.opts.RequestTimeout)
	defer cancel()
	outcomes := engine.ForecastMany(ctx, inputs, spec, 0)
	type item struct {
		*engine.ForecastResult
		Error *forecastError `json:"error,omitempty"`
	}
	items := make([]item, len(outcomes))
	failed := 0
	for i := range outcomes {
		if outcomes[i].Err != nil {
			failed++
			items[i] = item{ForecastResult: &engine.ForecastResult{Series: inputs[i].Name}, Error: toForecastError(outcomes[i].Err)}
			if items[i].Error.Status == http.StatusInternalServerError && len(outcomes) > 1 {
				s.logForecastFailure(c, outcomes[i].Err)
			}
			continue
		}
		items[i] = item{ForecastResult: &outcomes[i].Result}
	}
	// One series: its failure is the request's failure. Several: 200 with
	// an error per failed series, so one short series does not hide the rest.
	if len(items) == 1 && failed == 1 {
		s.forecastProblem(c, outcomes[0].Err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"forecasts": items, "failed": failed})
}

// forecastError is a per-series failure inside a multi-series answer.
type forecastError struct {
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Need   int    `json:"need,omitempty"`
	Have   int    `json:"have,omitempty"`
}

func toForecastError(err error) *forecastError {
	fe := &forecastError{Status: forecastStatus(err), Detail: err.Error()}
	var ih *engine.InsufficientHistory
	if errors.As(err, &ih) {
		fe.Need, fe.Have = ih.Need, ih.Have
	}
	return fe
}

func forecastStatus(err error) int {
	var ih *engine.InsufficientHistory
	var ue *engine.UnfittableError
	switch {
	case errors.As(err, &ih), errors.As(err, &ue):
		return http.StatusUnprocessableEntity
	case errors.Is(err, engine.ErrBadRequest):
		return http.StatusBadRequest
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

func (s *Server) forecastProblem(c *gin.Context, err error) {
	fe := toForecastError(err)
	extra := map[string]any{}
	if fe.Need > 0 {
		extra["need"], extra["have"] = fe.Need, fe.Have
	}
	if fe.Status == http.StatusInternalServerError {
		s.logForecastFailure(c, err)
	}
	abortProblem(c, fe.Status, fe.Detail, extra)
}

// logForecastFailure logs a server-side forecast failure, with the stack
// when a model panicked.
func (s *Server) logForecastFailure(c *gin.Context, err error) {
	attrs := []any{"err", err, "request_id", c.GetString(requestIDKey)}
	var pe *engine.PanicError
	if errors.As(err, &pe) {
		attrs = append(attrs, "stack", string(pe.Stack))
	}
	s.log.Error("forecast failed", attrs...)
}

// seriesForecast answers GET /api/v1/series/{id}/forecast: reads the
// series' recent history from the store, downsampled to step, and
// forecasts it. Query: horizon (steps, default 24), step (default 1h),
// history (default 28d), model, level (80,95), season (default: detected),
// include_history (true to return the history used).
//
// Answers are cached for up to a minute per (series, query), and
// concurrent identical requests share one fit (X-Cache says which).
func (s *Server) seriesForecast(c *gin.Context) {
	bucket := s.opts.Now().Truncate(time.Minute).Unix()
	key := fmt.Sprintf("forecast\x00%s\x00%s\x00%d", c.Param("id"), c.Request.URL.RawQuery, bucket)
	s.cache.serve(c, key, s.computeSeriesForecast)
}

func (s *Server) computeSeriesForecast(c *gin.Context) {
	key, err := engine.ParseSeriesID(c.Param("id"))
	if err != nil {
		abortProblem(c, http.StatusBadRequest, err.Error()+" (URL-encode the id: measurement,tag=value#field)", nil)
		return
	}
	horizon, err := intParam(c, "horizon", 24, 1, engine.MaxHorizon)
	if err != nil {
		abortProblem(c, http.StatusBadRequest, err.Error(), nil)
		return
	}
	var levels []float64
	if l := c.Query("level"); l != "" {
		if levels, err = parseLevelList(l); err != nil {
			abortProblem(c, http.StatusBadRequest, "level: "+err.Error(), nil)
			return
		}
	}
	var season []int
	if v := c.Query("season"); v != "" {
		for _, part := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(part))
			if err != nil {
				abortProblem(c, http.StatusBadRequest, fmt.Sprintf("season=%q: use integers such as 24,168", v), nil)
				return
			}
			season = append(season, n)
		}
	}
	stepS := c.DefaultQuery("step", "1h")
	spec, err := specFrom(horizon, stepS, c.Query("model"), levels, season, 1)
	if err != nil {
		abortProblem(c, http.StatusBadRequest, err.Error(), nil)
		return
	}
	spec.Calendar = s.opts.Calendar
	history, ok := parseRelative(c.DefaultQuery("history", "28d"))
	if !ok || history <= 0 {
		abortProblem(c, http.StatusBadRequest, "history: use a duration such as 28d or 72h", nil)
		return
	}
	if history/spec.Step > engine.MaxFitPoints {
		abortProblem(c, http.StatusBadRequest, fmt.Sprintf("history %s at step %s is more than %d points: use a larger step", history, spec.Step, engine.MaxFitPoints), nil)
		return
	}
	end := s.opts.Now().Truncate(spec.Step)
	q := engine.RangeQuery{Start: end.Add(-history), End: end, Step: spec.Step, Agg: engine.AggMean}
	ctx, cancel := context.WithTimeout(c.Request.Context(), s.opts.RequestTimeout)
	defer cancel()
	sr, err := s.opts.Store.Read(ctx, key, q)
	if err != nil {
		s.storeError(c, err)
		return
	}
	res, err := engine.ForecastSamples(key.ID(), sr.Samples, spec)
	if err != nil {
		s.forecastProblem(c, err)
		return
	}
	out := gin.H{"forecast": res, "id": key.ID(), "history_start": q.Start, "history_end": q.End}
	if c.Query("include_history") == "true" {
		out["history"] = sr.Samples
	}
	c.JSON(http.StatusOK, out)
}

// specFrom builds and validates a forecast spec from request fields.
func specFrom(horizon int, step, model string, levels []float64, season []int, seed uint64) (engine.ForecastSpec, error) {
	spec := engine.ForecastSpec{Horizon: horizon, Model: model, Periods: season, Seed: seed}
	if step != "" {
		d, ok := parseRelative(step)
		if !ok || d <= 0 {
			return spec, fmt.Errorf("step %q: use a positive duration such as 5m, 1h or 1d", step)
		}
		spec.Step = d
	}
	for _, l := range levels {
		if l >= 1 {
			l /= 100 // percent
		}
		spec.Levels = append(spec.Levels, l)
	}
	return spec, spec.Validate()
}

func parseLevelList(s string) ([]float64, error) {
	var out []float64
	for _, part := range strings.Split(s, ",") {
		x, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", part)
		}
		out = append(out, x)
	}
	return out, nil
}

// jsonErrorDetail makes encoding/json errors say where the problem is.
func jsonErrorDetail(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON at byte %d: %v", se.Offset, se)
	case errors.As(err, &te):
		return fmt.Sprintf("field %q: expected %s, got JSON %s (byte %d)", te.Field, te.Type, te.Value, te.Offset)
	case errors.Is(err, io.EOF):
		return "empty body: send a JSON object"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated JSON: the body ends inside a value"
	}
	return err.Error()
}
