package engine

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/seed-f1b503aa/foresight/calendar"
	"github.com/seed-f1b503aa/foresight/models"
)

// hourlySine is 10 days of an hourly daily cycle, sampled irregularly
// (jitter within the hour, some hours missing, a NaN).
func hourlySine(days int) []Sample {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var s []Sample
	for i := 0; i < days*24; i++ {
		if i%37 == 5 {
			continue // gap
		}
		v := 50 + 20*math.Sin(2*math.Pi*float64(i)/24)
		if i == 100 {
			v = math.NaN()
		}
		jitter := time.Duration((i*7)%13) * time.Minute
		s = append(s, Sample{Time: t0.Add(time.Duration(i)*time.Hour + jitter), Value: v})
	}
	return s
}

func TestForecastSamplesIrregularHourly(t *testing.T) {
	for _, model := range []string{"snaive", "ets", "theta", "mstl", "regression"} {
		r, err := ForecastSamples("cpu", hourlySine(10), ForecastSpec{Horizon: 24, Model: model, Periods: []int{24}})
		if err != nil {
			t.Fatalf("%s: %v", model, err)
		}
		if r.Step != time.Hour || r.FitPoints != 240 || r.Missing == 0 || len(r.Points) != 24 {
			t.Fatalf("%s: step %v fit %d missing %d points %d", model, r.Step, r.FitPoints, r.Missing, len(r.Points))
		}
		wantStart := time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC)
		if !r.Points[0].Time.Equal(wantStart) {
			t.Fatalf("%s: first forecast at %v, want %v", model, r.Points[0].Time, wantStart)
		}
		for i, p := range r.Points {
			want := 50 + 20*math.Sin(2*math.Pi*float64(240+i)/24)
			if math.Abs(p.Mean-want) > 4 {
				t.Fatalf("%s step %d: mean %.2f, want %.2f", model, i, p.Mean, want)
			}
			if len(p.Bounds) != 2 || !(p.Bounds[1].Lo <= p.Bounds[0].Lo && p.Bounds[0].Lo <= p.Mean+1e-9 && p.Mean <= p.Bounds[0].Hi+1e-9 && p.Bounds[0].Hi <= p.Bounds[1].Hi) {
				t.Fatalf("%s step %d: bounds not nested around the mean: %+v", model, i, p)
			}
		}
	}
}

func TestForecastInsufficientHistory(t *testing.T) {
	s := hourlySine(10)
	_, err := ForecastSamples("short", s[:2], ForecastSpec{Horizon: 5})
	var ih *InsufficientHistory
	if !errors.As(err, &ih) || !errors.Is(err, models.ErrInsufficientHistory) || !strings.Contains(err.Error(), "insufficient history") {
		t.Fatalf("two samples: %v", err)
	}
	_, err = ForecastSamples("short", s[:30], ForecastSpec{Horizon: 5, Model: "mstl", Periods: []int{24}})
	if !errors.As(err, &ih) || ih.Need != 49 {
		t.Fatalf("mstl on 30 points: %v", err)
	}
}

func TestForecastSpecErrors(t *testing.T) {
	for _, spec := range []ForecastSpec{
		{Horizon: 0}, {Horizon: MaxHorizon + 1}, {Horizon: 1, Model: "prophet"},
		{Horizon: 1, Levels: []float64{95}}, {Horizon: 1, Periods: []int{1}},
	} {
		if _, err := ForecastSamples("x", hourlySine(3), spec); !errors.Is(err, ErrBadRequest) {
			t.Errorf("%+v: %v", spec, err)
		}
	}
}

func TestForecastPointJSON(t *testing.T) {
	p := ForecastPoint{Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Mean: 1.5, Bounds: []Bound{{0.8, 1, 2}, {0.995, 0, math.Inf(1)}}}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"t":"2026-01-01T00:00:00Z","mean":1.5,"lo80":1,"hi80":2,"lo99.5":0,"hi99.5":null}`
	if string(b) != want {
		t.Fatalf("%s\nwant %s", b, want)
	}
}

func TestForecastManyOrderAndCancel(t *testing.T) {
	in := []ForecastInput{{"a", hourlySine(5)}, {"b", hourlySine(5)[:1]}, {"c", hourlySine(6)}}
	out := ForecastMany(context.Background(), in, ForecastSpec{Horizon: 3, Model: "snaive", Periods: []int{24}}, 2)
	if out[0].Err != nil || out[0].Result.Series != "a" || out[1].Err == nil || out[2].Result.Series != "c" {
		t.Fatalf("%+v", out)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out = ForecastMany(ctx, in, ForecastSpec{Horizon: 3, Model: "snaive"}, 1)
	for _, o := range out {
		if o.Err == nil {
			// the first may have been handed out before the cancel was seen
			continue
		}
		if !errors.Is(o.Err, context.Canceled) && !errors.Is(o.Err, models.ErrInsufficientHistory) {
			t.Fatalf("cancelled: %v", o.Err)
		}
	}
}

// TestRegressionLearnsMonthEndFromCalendar: hourly load with a close-day
// afternoon uplift; with the calendar regressors the regression forecast
// of the next close is far closer than without them.
func TestRegressionLearnsMonthEndFromCalendar(t *testing.T) {
	cal := calendar.DefaultCalendar()
	loc := cal.Location()
	start := time.Date(2026, 6, 1, 0, 0, 0, 0, loc)
	end := time.Date(2026, 11, 20, 0, 0, 0, 0, loc)
	load := func(tm time.Time) float64 {
		v := 20 + 10*math.Sin(2*math.Pi*float64(tm.In(loc).Hour())/24)
		d := cal.DateOf(tm)
		if k := cal.BusinessDaysBeforeMonthEnd(d); k >= 0 && k < 3 {
			if h := tm.In(loc).Hour(); h >= 13 && h < 20 {
				v += 40
			}
		}
		return v
	}
	var s []Sample
	for tm := start; tm.Before(end); tm = tm.Add(time.Hour) {
		s = append(s, Sample{Time: tm, Value: load(tm)})
	}
	// the forecast reaches the last business day of November (the 30th), 17:00
	target := time.Date(2026, 11, 30, 17, 0, 0, 0, loc)
	h := int(target.Sub(end)/time.Hour) + 1
	errAt := func(spec ForecastSpec) float64 {
		r, err := ForecastSamples("load", s, spec)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range r.Points {
			if p.Time.Equal(target) {
				return math.Abs(p.Mean - load(target))
			}
		}
		t.Fatalf("no forecast at %v", target)
		return 0
	}
	with := errAt(ForecastSpec{Horizon: h, Model: "regression", Periods: []int{24}, Step: time.Hour, Calendar: cal})
	without := errAt(ForecastSpec{Horizon: h, Model: "regression", Periods: []int{24}, Step: time.Hour})
	if with > 3 || without < 20 {
		t.Fatalf("close-afternoon error with calendar %.2f (want < 3), without %.2f (want > 20)", with, without)
	}
}
