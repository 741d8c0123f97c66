package jobs

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/seed-f1b503aa/foresight/engine"
	"github.com/seed-f1b503aa/foresight/engine/fleet"
)

func TestWritebackPointShapes(t *testing.T) {
	at := end
	breach := at.Add(90 * time.Minute)
	lo, hi := at.Add(time.Hour), at.Add(3*time.Hour)
	snap := fleet.Snapshot{ComputedAt: at, Predictions: []fleet.Prediction{
		// an entity tag named like one of ours loses; empty values are dropped
		{Kind: fleet.KindMemLeak, ID: "memleak:x", Entity: map[string]string{"host": "app-01", "job": "etl", "service": ""},
			Status: "leak", AtRisk: true, Confidence: 0.75, BreachAt: &breach, BreachP10: &lo, BreachP90: &hi},
		// no breach: no breach fields; a NaN confidence is left out
		{Kind: fleet.KindDisk, ID: "disk:y", Entity: map[string]string{"host": "db-01", "path": "/"}, Status: "stable", Confidence: math.NaN()},
	}}
	pts := predictionPoints("foresight_prediction", "memory", snap)
	if len(pts) != 2 {
		t.Fatalf("%d points", len(pts))
	}
	want := []string{
		"foresight_prediction map[host:app-01 job:memory kind:memleak prediction_id:memleak:x status:leak] " +
			"map[at_risk:1 breach_in_hours:1.5 breach_p10_hours:1 breach_p90_hours:3 confidence:0.75]",
		"foresight_prediction map[host:db-01 job:memory kind:disk path:/ prediction_id:disk:y status:stable] map[at_risk:0]",
	}
	for i, p := range pts {
		if got := fmt.Sprint(p.Measurement, " ", p.Tags, " ", p.Fields); got != want[i] || !p.Time.Equal(at) {
			t.Errorf("point %d:\n got  %s at %s\n want %s", i, got, p.Time, want[i])
		}
	}

	src := engine.SeriesKey{Measurement: "cpu", Field: "usage_user", Tags: map[string]string{"host": "db-01", "model": "x"}}
	r := engine.ForecastResult{Points: []engine.ForecastPoint{
		{Time: at, Mean: 10, Bounds: []engine.Bound{{Level: 0.8, Lo: 8, Hi: 12}, {Level: 0.995, Lo: 1, Hi: math.Inf(1)}}},
		{Time: at.Add(time.Hour), Mean: math.NaN()},
	}}
	fpts := appendForecastPoints(nil, "foresight_forecast", "forecast-cpu", "auto", src, r)
	if len(fpts) != 1 {
		t.Fatalf("%d forecast points (a step without any finite value is skipped)", len(fpts))
	}
	got := fmt.Sprint(fpts[0].Tags, " ", fpts[0].Fields)
	if w := "map[host:db-01 job:forecast-cpu model:auto source_field:usage_user source_measurement:cpu] " +
		"map[hi80:12 lo80:8 lo99.5:1 mean:10]"; got != w || !fpts[0].Time.Equal(at) {
		t.Errorf("forecast point %s, want %s", got, w)
	}
}
