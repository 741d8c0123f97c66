package engine

import (
	"math"
	"testing"
	"time"
)

func TestInferStep(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var ts []time.Time
	for i, jitter := range []int{0, 59, 61, 60, 58, 62, 60} {
		_ = i
		if len(ts) == 0 {
			ts = append(ts, t0)
			continue
		}
		ts = append(ts, ts[len(ts)-1].Add(time.Duration(jitter)*time.Second))
	}
	if got, err := InferStep(ts); err != nil || got != time.Minute {
		t.Fatalf("jittered minutes: %v %v", got, err)
	}
	hourly := []time.Time{t0, t0.Add(time.Hour), t0.Add(3 * time.Hour), t0.Add(4 * time.Hour)}
	if got, _ := InferStep(hourly); got != time.Hour {
		t.Fatalf("hourly with a gap: %v", got)
	}
	if _, err := InferStep([]time.Time{t0, t0}); err == nil {
		t.Fatal("one distinct time inferred a step")
	}
}

func TestResample(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	s := []Sample{
		{t0.Add(150 * time.Minute), 8}, // out of order
		{t0.Add(5 * time.Minute), 1},
		{t0.Add(50 * time.Minute), 3},
		{t0.Add(61 * time.Minute), math.NaN()},
		{t0.Add(130 * time.Minute), 6},
	}
	g, v, err := Resample(s, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !g.Start.Equal(t0) || g.Step != time.Hour || len(v) != 3 {
		t.Fatalf("grid %+v values %v", g, v)
	}
	if v[0] != 2 || !math.IsNaN(v[1]) || v[2] != 7 {
		t.Fatalf("values %v, want [2 NaN 7]", v)
	}
	if !g.At(2).Equal(t0.Add(2 * time.Hour)) {
		t.Fatal(g.At(2))
	}
	if _, _, err := Resample(nil, time.Hour); err == nil {
		t.Fatal("empty input resampled")
	}
	if _, _, err := Resample(s, 0); err == nil {
		t.Fatal("zero step accepted")
	}
	if _, _, err := Resample([]Sample{{t0, 1}, {t0.Add(1000 * 24 * time.Hour), 1}}, time.Second); err == nil {
		t.Fatal("huge grid accepted")
	}
	// negative Unix times floor correctly
	g, _, _ = Resample([]Sample{{time.Unix(-30, 0), 1}}, time.Minute)
	if g.Start.Unix() != -60 {
		t.Fatalf("pre-epoch floor: %v", g.Start.Unix())
	}
}

func TestFormatStep(t *testing.T) {
	for d, want := range map[time.Duration]string{time.Hour: "1h", 90 * time.Minute: "1h30m", 5 * time.Minute: "5m", 30 * time.Second: "30s", 48 * time.Hour: "2d", 61 * time.Second: "1m1s"} {
		if got := FormatStep(d); got != want {
			t.Errorf("%v: %q, want %q", d, got, want)
		}
	}
}
