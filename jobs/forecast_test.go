package jobs

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/seed-f1b503aa/foresight/engine"
)

// checkForecastPoints reads back the foresight_forecast series of job for
// the source series src and compares them with want: same times, equal
// mean and bounds, lo95 ≤ lo80 ≤ mean ≤ hi80 ≤ hi95, and the tags.
func checkForecastPoints(t *testing.T, ms engine.MetricStore, job, model string, src engine.SeriesKey, want engine.ForecastResult) {
	t.Helper()
	ctx := context.Background()
	tags := map[string]string{TagSourceMeasurement: src.Measurement, TagSourceField: src.Field, TagJob: job, TagModel: model}
	for k, v := range src.Tags {
		tags[k] = v
	}
	first, last := want.Points[0].Time, want.Points[len(want.Points)-1].Time
	keys, err := ms.ListSeries(ctx, engine.SeriesFilter{Measurement: "foresight_forecast", Tags: tags, Start: first, End: last.Add(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	var fields []string
	for _, k := range keys {
		if fmt.Sprint(k.Tags) != fmt.Sprint(tags) {
			t.Errorf("series %s: tags %v, want %v", k.ID(), k.Tags, tags)
		}
		fields = append(fields, k.Field)
	}
	if strings.Join(fields, ",") != "hi80,hi95,lo80,lo95,mean" {
		t.Fatalf("%s: forecast fields %v", src.ID(), fields)
	}
	series, err := ms.ReadMany(ctx, keys, engine.RangeQuery{Start: first, End: last.Add(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	byField := map[string][]engine.Sample{}
	for _, s := range series {
		byField[s.Key.Field] = s.Samples
	}
	for i, p := range want.Points {
		v := map[string]float64{}
		for f, ss := range byField {
			if len(ss) != len(want.Points) || !ss[i].Time.Equal(p.Time) {
				t.Fatalf("%s %s: %d samples, sample %d at %v, want %d at %s", src.ID(), f, len(ss), i, ss[min(i, len(ss)-1)].Time, len(want.Points), p.Time)
			}
			v[f] = ss[i].Value
		}
		if v["mean"] != p.Mean || v["lo80"] != p.Bounds[0].Lo || v["hi80"] != p.Bounds[0].Hi || v["lo95"] != p.Bounds[1].Lo || v["hi95"] != p.Bounds[1].Hi {
			t.Fatalf("%s step %d: stored %v, forecast %+v", src.ID(), i, v, p)
		}
		if !(v["lo95"] <= v["lo80"] && v["lo80"] <= v["mean"] && v["mean"] <= v["hi80"] && v["hi80"] <= v["hi95"]) || v["lo80"] == v["hi80"] {
			t.Fatalf("%s step %d: bounds out of order %v", src.ID(), i, v)
		}
	}
}

func TestForecastRunWritesBackAndCountsShortSeries(t *testing.T) {
	ctx := context.Background()
	ms := demoStore(t)
	st := sqliteState(t)
	// a new host with two hours of history: too little for a forecast
	var short []engine.Point
	for i := range 2 {
		short = append(short, engine.Point{Measurement: "cpu", Tags: map[string]string{"host": "new-01", "cpu": "cpu-total"},
			Fields: map[string]float64{"usage_active": 10 + float64(i)}, Time: end.Add(-time.Duration(2-i) * time.Hour)})
	}
	// and a series the where filter excludes
	short = append(short, engine.Point{Measurement: "cpu", Tags: map[string]string{"host": "db-01", "cpu": "cpu0"},
		Fields: map[string]float64{"usage_active": 1}, Time: end.Add(-time.Hour)})
	if err := ms.Write(ctx, short); err != nil {
		t.Fatal(err)
	}
	s, _ := newService(t, ms, st, newClock(end), jobsConfig(cpuForecastJob("forecast-cpu", "auto")), nil)
	rec, err := s.RunNow(ctx, "forecast-cpu")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Series != 4 || rec.Failures != 1 || rec.Error != "" {
		t.Fatalf("run %+v: want 4 series (3 demo hosts + new-01), 1 failure", rec)
	}
	runs := runsOf(t, st, "forecast-cpu")
	if len(runs) != 1 || runs[0].Series != 4 || runs[0].Failures != 1 || runs[0].Error != "" {
		t.Fatalf("recorded %+v", runs)
	}
	status, err := s.Get(ctx, "forecast-cpu")
	if err != nil {
		t.Fatal(err)
	}
	if len(status.Failures) != 1 || status.Failures[0].Series != "cpu,cpu=cpu-total,host=new-01#usage_active" ||
		!strings.Contains(status.Failures[0].Reason, "insufficient history") {
		t.Fatalf("failures %+v", status.Failures)
	}
	// each demo host's forecast is in the store, equal to the engine's
	// forecast of the same downsampled history
	q := engine.RangeQuery{Start: end.Add(-14 * 24 * time.Hour), End: end, Step: time.Hour, Agg: engine.AggMean}
	keys, err := ms.ListSeries(ctx, engine.SeriesFilter{Measurement: "cpu", Field: "usage_active", Tags: map[string]string{"cpu": "cpu-total"}, Start: q.Start, End: q.End})
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, k := range keys {
		if k.Tags["host"] == "new-01" {
			continue
		}
		sr, err := ms.Read(ctx, k, q)
		if err != nil {
			t.Fatal(err)
		}
		want, err := engine.ForecastSamples(k.ID(), sr.Samples, s.byName["forecast-cpu"].fspec)
		if err != nil {
			t.Fatal(err)
		}
		if len(want.Points) != 24 || !want.Points[0].Time.Equal(end) {
			t.Fatalf("reference forecast: %d points from %s", len(want.Points), want.Points[0].Time)
		}
		checkForecastPoints(t, ms, "forecast-cpu", "auto", k, want)
		checked++
	}
	if checked != 3 {
		t.Fatalf("checked %d demo hosts", checked)
	}
	// nothing was written for the short series
	none, err := ms.ListSeries(ctx, engine.SeriesFilter{Measurement: "foresight_forecast", Tags: map[string]string{"host": "new-01"}, Start: end, End: end.Add(48 * time.Hour)})
	if err != nil || len(none) != 0 {
		t.Fatalf("forecast of the short series: %v %v", none, err)
	}
	// a second run at the same time writes the same values (no error, the
	// store keeps one sample per timestamp)
	if _, err := s.RunNow(ctx, "forecast-cpu"); err != nil {
		t.Fatal(err)
	}
	if n := counter(t, s.metrics.writeRefused.WithLabelValues("forecast-cpu", "foresight_forecast")); n != 0 {
		t.Fatalf("%v refused write-backs re-writing identical forecasts", n)
	}
}
