package jobs

// Write-back to a real InfluxDB (1.8 with Flux). Start one with
//
//	bash scripts/influxdb.sh start && eval "$(bash scripts/influxdb.sh env)"
//
// Without FORESIGHT_INFLUX_URL the test skips, except when CI=true or
// FORESIGHT_REQUIRE_INFLUX is set: then it fails.

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/seed-f1b503aa/foresight/engine"
	"github.com/seed-f1b503aa/foresight/storage/influx"
)

// influxStore returns a store on a fresh database of the test InfluxDB,
// dropped at the end unless the test failed.
func influxStore(t *testing.T) *influx.Store {
	t.Helper()
	base := strings.TrimRight(os.Getenv("FORESIGHT_INFLUX_URL"), "/")
	if base == "" {
		if os.Getenv("CI") == "true" || os.Getenv("FORESIGHT_REQUIRE_INFLUX") != "" {
			t.Fatal("FORESIGHT_INFLUX_URL is not set but InfluxDB is required (CI=true or FORESIGHT_REQUIRE_INFLUX set); " +
				"run: bash scripts/influxdb.sh start && eval \"$(bash scripts/influxdb.sh env)\"")
		}
		t.Skip("FORESIGHT_INFLUX_URL not set; start a server with: bash scripts/influxdb.sh start && eval \"$(bash scripts/influxdb.sh env)\"")
	}
	db := fmt.Sprintf("foresight_jobs_test_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9)
	influxQL(t, base, "CREATE DATABASE "+db)
	t.Cleanup(func() {
		if !t.Failed() {
			influxQL(t, base, "DROP DATABASE "+db)
		}
	})
	s, err := influx.New(influx.Config{URL: base, Bucket: db})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func influxQL(t *testing.T, base, q string) {
	t.Helper()
	resp, err := http.PostForm(base+"/query", url.Values{"q": {q}})
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || strings.Contains(string(body), `"error"`) {
		t.Fatalf("%s: %s %s", q, resp.Status, body)
	}
}

func TestInfluxWriteBack(t *testing.T) {
	ctx := context.Background()
	ms := influxStore(t)
	// 14 days of hourly load on three hosts (daily cycle, trend, noise),
	// and one volume filling up over 30 days
	rng := rand.New(rand.NewPCG(1, 2))
	var points []engine.Point
	hosts := []string{"app-01", "app-02", "db-01"}
	for h, host := range hosts {
		for i := range 14 * 24 {
			at := end.Add(-time.Duration(14*24-i) * time.Hour)
			v := 40 + 10*float64(h) + 15*math.Sin(2*math.Pi*float64(at.Hour())/24) + 0.02*float64(i) + rng.NormFloat64()
			points = append(points, engine.Point{Measurement: "load", Tags: map[string]string{"host": host, "dc": "eu west"},
				Fields: map[string]float64{"value": v}, Time: at})
		}
	}
	for i := range 30 * 24 {
		at := end.Add(-time.Duration(30*24-i) * time.Hour)
		points = append(points, engine.Point{Measurement: "disk", Tags: map[string]string{"host": "db-01", "path": "/data"},
			Fields: map[string]float64{"used": 400e9 + 15e9*float64(i)/24 + 2e8*rng.Float64(), "total": 1000e9}, Time: at})
	}
	if err := ms.Write(ctx, points); err != nil {
		t.Fatal(err)
	}
	spec := cpuForecastJob("forecast-load", "auto")
	spec.Forecast.Measurement, spec.Forecast.Field, spec.Forecast.Where = "load", "value", map[string]string{"dc": "eu west"}
	s, _ := newService(t, ms, sqliteState(t), newClock(end), jobsConfig(spec, diskJob("disk")), func(o *Options) { o.ReadBatch = 2 })
	rec, err := s.RunNow(ctx, "forecast-load")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Series != 3 || rec.Failures != 0 {
		t.Fatalf("run %+v", rec)
	}
	q := engine.RangeQuery{Start: end.Add(-14 * 24 * time.Hour), End: end, Step: time.Hour, Agg: engine.AggMean}
	reference := func() map[string]engine.ForecastResult {
		t.Helper()
		out := map[string]engine.ForecastResult{}
		for _, host := range hosts {
			k := engine.SeriesKey{Measurement: "load", Field: "value", Tags: map[string]string{"host": host, "dc": "eu west"}}
			sr, err := ms.Read(ctx, k, q)
			if err != nil {
				t.Fatal(err)
			}
			r, err := engine.ForecastSamples(k.ID(), sr.Samples, s.byName["forecast-load"].fspec)
			if err != nil {
				t.Fatal(err)
			}
			out[host] = r
		}
		return out
	}
	want := reference()
	for _, host := range hosts {
		k := engine.SeriesKey{Measurement: "load", Field: "value", Tags: map[string]string{"host": host, "dc": "eu west"}}
		checkForecastPoints(t, ms, "forecast-load", "auto", k, want[host])
	}

	// late data changes the history: the next run at the same time
	// overwrites the same timestamps (one value each, the new forecast)
	var late []engine.Point
	for _, host := range hosts {
		late = append(late, engine.Point{Measurement: "load", Tags: map[string]string{"host": host, "dc": "eu west"},
			Fields: map[string]float64{"value": 90}, Time: end.Add(-time.Hour)})
	}
	if err := ms.Write(ctx, late); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RunNow(ctx, "forecast-load"); err != nil {
		t.Fatal(err)
	}
	want2 := reference()
	if want2["db-01"].Points[0].Mean == want["db-01"].Points[0].Mean {
		t.Fatal("the late data did not change the forecast; the overwrite check would prove nothing")
	}
	for _, host := range hosts {
		k := engine.SeriesKey{Measurement: "load", Field: "value", Tags: map[string]string{"host": host, "dc": "eu west"}}
		checkForecastPoints(t, ms, "forecast-load", "auto", k, want2[host])
	}

	// predictions too, with their entity tags
	if _, err := s.RunNow(ctx, "disk"); err != nil {
		t.Fatal(err)
	}
	served, err := s.Predictions(ctx)
	if err != nil || len(served.Snapshot.Predictions) != 1 {
		t.Fatalf("%v %+v", err, served.Snapshot.Predictions)
	}
	p := served.Snapshot.Predictions[0]
	if !p.AtRisk || p.BreachAt == nil {
		t.Fatalf("the filling volume is not at risk: %s", p.Summary)
	}
	keys, err := ms.ListSeries(ctx, engine.SeriesFilter{Measurement: "foresight_prediction", Start: end.Add(-time.Minute), End: end.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	series, err := ms.ReadMany(ctx, keys, engine.RangeQuery{Start: end.Add(-time.Minute), End: end.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, sr := range series {
		wantTags := map[string]string{"kind": "disk", "job": "disk", "prediction_id": p.ID, "status": "filling", "host": "db-01", "path": "/data"}
		if fmt.Sprint(sr.Key.Tags) != fmt.Sprint(wantTags) || len(sr.Samples) != 1 || !sr.Samples[0].Time.Equal(end) {
			t.Fatalf("prediction series %s: %v", sr.Key.ID(), sr.Samples)
		}
		got[sr.Key.Field] = sr.Samples[0].Value
	}
	wantFields := map[string]float64{"at_risk": 1, "confidence": p.Confidence, "breach_in_hours": p.BreachAt.Sub(end).Hours(),
		"breach_p10_hours": p.BreachP10.Sub(end).Hours(), "breach_p90_hours": p.BreachP90.Sub(end).Hours()}
	if fmt.Sprint(got) != fmt.Sprint(wantFields) {
		t.Fatalf("prediction fields %v, want %v", got, wantFields)
	}
}
