package engine

import (
	"errors"
	"math"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/seed-f1b503aa/foresight/models"
)

func samplesAt(times []time.Time, values ...float64) []Sample {
	s := make([]Sample, len(times))
	for i := range s {
		s[i] = Sample{Time: times[i], Value: values[i%len(values)]}
	}
	return s
}

func unix(secs ...int64) []time.Time {
	t := make([]time.Time, len(secs))
	for i, s := range secs {
		t[i] = time.Unix(s, 0).UTC()
	}
	return t
}

// wantBadRequest asserts err wraps ErrBadRequest and mentions every part.
func wantBadRequest(t *testing.T, what string, err error, parts ...string) {
	t.Helper()
	if !errors.Is(err, ErrBadRequest) {
		t.Fatalf("%s: %v, want ErrBadRequest", what, err)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("%s: %q does not mention %q", what, err, p)
		}
	}
}

// TestForecastTimeRange: times outside the int64-nanosecond range
// (after 2262-04-11, before 1677-09-21) used to overflow floorTime and
// crash a worker goroutine (index out of range, makeslice). They are
// refused, naming the sample and the bound.
func TestForecastTimeRange(t *testing.T) {
	spec := ForecastSpec{Horizon: 1}
	// the reported crash: three timestamps in the year 5138
	_, err := ForecastSamples("s", samplesAt(unix(99999999999, 99999999999, 99999999998), 1, 2, 3), spec)
	wantBadRequest(t, "year 5138", err, "s: sample 0: time 5138-11-16T09:46:39Z is after 2262-04-11T23:47:16.854775807Z, the latest time supported")
	_, err = ForecastSamples("s", samplesAt(unix(1767225600, 1767229200, -99999999999), 1, 2, 3), spec)
	wantBadRequest(t, "year -1199", err, "sample 2: time", "is before 1677-09-21T00:12:43.145224192Z, the earliest time supported")
	// the last supported instant is fine as data …
	last := MaxTime.Truncate(time.Hour)
	hist := []time.Time{last.Add(-3 * time.Hour), last.Add(-2 * time.Hour), last.Add(-time.Hour), last}
	if _, err := ForecastSamples("s", samplesAt(hist, 1, 2, 3, 4), ForecastSpec{Horizon: 1, Step: 15 * time.Minute, Model: "snaive", Periods: []int{2}}); err != nil {
		t.Fatalf("history up to %s, 15 min ahead: %v", last, err)
	}
	// … but a horizon ending after it is refused, not wrapped around
	_, err = ForecastSamples("s", samplesAt(hist, 1, 2, 3, 4), ForecastSpec{Horizon: 2, Step: time.Hour, Model: "snaive", Periods: []int{2}})
	wantBadRequest(t, "horizon past 2262", err, "a horizon of 2 steps of 1h after the last point (2262-04-11T23:00:00Z) ends after 2262-04-11T23:47:16.854775807Z")
	// a sample at the very first instant has no bucket start in range
	_, err = ForecastSamples("s", samplesAt([]time.Time{MinTime, MinTime.Add(time.Hour), MinTime.Add(2 * time.Hour)}, 1), ForecastSpec{Horizon: 1, Step: time.Hour})
	wantBadRequest(t, "bucket before 1677", err, "starts before 1677-09-21T00:12:43.145224192Z")
	// a step so large that the horizon overflows a Duration
	_, err = ForecastSamples("s", samplesAt(unix(0, 1, 2), 1, 2, 3), ForecastSpec{Horizon: MaxHorizon, Step: time.Duration(math.MaxInt64 / 2)})
	wantBadRequest(t, "step × horizon", err, "a horizon of 10000 steps")
}

// TestForecastHugeSpanIsNotAllocated: samples spanning the whole supported
// range (584 years) at a 1 s step imply 1.8e10 grid points; only the last
// MaxFitPoints are built, and with too few values among them the forecast
// is refused with the reason.
func TestForecastHugeSpanIsNotAllocated(t *testing.T) {
	s := samplesAt([]time.Time{MinTime.Add(time.Hour), MinTime.Add(2 * time.Hour), MaxTime.Add(-time.Hour)}, 1, 2, 3)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := ForecastSamples("s", s, ForecastSpec{Horizon: 1, Step: time.Second})
	runtime.ReadMemStats(&after)
	var ih *InsufficientHistory
	if !errors.As(err, &ih) || ih.Have != 1 || !strings.Contains(err.Error(), "the samples span 18446736874 grid points at step 1s and only the last 20000 are fitted; they hold 1 usable value(s)") {
		t.Fatalf("huge span: %v", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
		t.Fatalf("allocated %d bytes for a 20000-point window", alloc)
	}
	// Resample, which builds the whole grid, refuses it before allocating
	if _, _, err := Resample(s, time.Nanosecond); err == nil || !strings.Contains(err.Error(), "grid points at step 1ns is more than 10000000") {
		t.Fatalf("Resample of 2^64 points: %v", err)
	}
}

// TestResampleLast: the kept window equals the tail of the full grid.
func TestResampleLast(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var s []Sample
	for i := range 50 {
		s = append(s, Sample{Time: t0.Add(time.Duration(i*7) * time.Minute), Value: float64(i)})
	}
	fg, fv, err := Resample(s, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	g, v, span, err := ResampleLast(s, 15*time.Minute, 10)
	if err != nil {
		t.Fatal(err)
	}
	if span != uint64(len(fv)) || len(v) != 10 || !g.Start.Equal(fg.At(len(fv)-10)) {
		t.Fatalf("span %d (full %d), %d values from %s", span, len(fv), len(v), g.Start)
	}
	for i := range v {
		if w := fv[len(fv)-10+i]; v[i] != w && !(math.IsNaN(v[i]) && math.IsNaN(w)) {
			t.Fatalf("value %d = %v, full grid has %v", i, v[i], w)
		}
	}
	// a window larger than the span is the whole grid
	g, v, span, err = ResampleLast(s, 15*time.Minute, 1000)
	if err != nil || span != uint64(len(fv)) || len(v) != len(fv) || !g.Start.Equal(fg.Start) {
		t.Fatalf("wide window: %v %d %d", err, span, len(v))
	}
}

// TestGridCheck covers the grid bounds used for inline series (start +
// k×step) and forecast horizons.
func TestGridCheck(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		g    Grid
		n    int
		want string // "" = ok
	}{
		{Grid{start, time.Hour}, 1000, ""},
		{Grid{start, time.Hour}, 0, ""},
		{Grid{time.Date(2262, 4, 12, 0, 0, 0, 0, time.UTC), time.Hour}, 4, "grid start: time 2262-04-12T00:00:00Z is after"},
		{Grid{time.Date(2262, 4, 11, 0, 0, 0, 0, time.UTC), time.Hour}, 24, ""},
		{Grid{time.Date(2262, 4, 11, 0, 0, 0, 0, time.UTC), time.Hour}, 25, "25 points at step 1h from 2262-04-11T00:00:00Z end after 2262-04-11T23:47:16.854775807Z"},
		{Grid{MinTime, time.Duration(math.MaxInt64)}, 2, ""},
		{Grid{MinTime, time.Duration(math.MaxInt64)}, 3, "3 points at step"},
		{Grid{MinTime, 200 * 365 * 24 * time.Hour}, 3, "span more than 2562047h47m16.854775807s"},
		{Grid{start, 0}, 2, "grid step 0s must be positive"},
	} {
		err := c.g.Check(c.n)
		if (err == nil) != (c.want == "") || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%+v.Check(%d) = %v, want %q", c.g, c.n, err, c.want)
		}
		if err == nil && c.n > 0 {
			if last := c.g.At(c.n - 1); last.Before(c.g.Start) || last.After(MaxTime) {
				t.Errorf("%+v: At(%d) = %s wrapped around", c.g, c.n-1, last)
			}
		}
	}
}

// TestForecastValueMagnitude: values so large that every model overflows
// used to end in a 500 "no candidate model could be fitted"; they are
// refused up front, naming the sample, and values just below the bound
// still forecast with every model.
func TestForecastValueMagnitude(t *testing.T) {
	t0 := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	hourly := func(vals ...float64) []Sample {
		s := make([]Sample, len(vals))
		for i, v := range vals {
			s[i] = Sample{t0.Add(time.Duration(i) * time.Hour), v}
		}
		return s
	}
	spec := ForecastSpec{Horizon: 1, Step: time.Hour, Model: "auto"}
	_, err := ForecastSamples("s", hourly(0, 1e292, -1.7976931348623157e308, 1e292), spec)
	wantBadRequest(t, "1e292", err, "s: sample 1: value 1e+292 is too large to forecast: |value| must stay below 1e+150")
	alt := make([]float64, 10)
	for i := range alt {
		alt[i] = 1e308 * float64(1-2*(i%2))
	}
	_, err = ForecastSamples("s", hourly(alt...), spec)
	wantBadRequest(t, "±1e308", err, "sample 0: value 1e+308")
	_, err = ForecastGrid("g", Grid{t0, time.Hour}, []float64{1, 2, math.NaN(), -MaxAbsValue}, spec)
	wantBadRequest(t, "grid", err, "g: grid point 3 (2000-01-01T03:00:00Z): value -1e+150")

	big := make([]float64, 48)
	for i := range big {
		big[i] = 9.9e149 * math.Sin(float64(i))
	}
	for _, m := range append([]string{""}, models.AllCandidates()...) {
		r, err := ForecastSamples("s", hourly(big...), ForecastSpec{Horizon: 3, Step: time.Hour, Model: m, Periods: []int{6}})
		if err != nil {
			t.Errorf("model %q, |values| < 1e150: %v", m, err)
			continue
		}
		for _, p := range r.Points {
			if math.IsNaN(p.Mean) || math.IsInf(p.Mean, 0) {
				t.Errorf("model %q: mean %v", m, p.Mean)
			}
		}
	}
}

// TestUnfittableError: models.ErrNoModel and ErrNonPositive become an
// *UnfittableError (the input's fault) that still matches the model error.
func TestUnfittableError(t *testing.T) {
	for _, cause := range []error{models.ErrNoModel, models.ErrNonPositive} {
		err := error(&UnfittableError{Series: "s", Model: "auto", Err: cause})
		var ue *UnfittableError
		if !errors.As(err, &ue) || !errors.Is(err, cause) || errors.Is(err, ErrBadRequest) ||
			err.Error() != "no model could be fitted to s (model auto): "+cause.Error() {
			t.Errorf("%v: %q", cause, err)
		}
	}
}
