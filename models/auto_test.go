package models

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func dailyWeekly(n int, seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, 5))
	y := make([]float64, n)
	for i := range y {
		wk := 0.0
		if (i/24)%7 >= 5 {
			wk = -12
		}
		y[i] = 60 + 0.01*float64(i) + 10*math.Sin(2*math.Pi*float64(i)/24) + wk + r.NormFloat64()
	}
	return y
}

func TestAutoCombination(t *testing.T) {
	n, h := 24*7*5, 48
	full := dailyWeekly(n+h, 1)
	y := full[:n]
	a := &Auto{Combine: true, Top: 2}
	fc, err := FitForecast(a, y, Options{Horizon: h})
	if err != nil {
		t.Fatal(err)
	}
	if p := a.DetectedPeriods(); len(p) != 2 || p[0] != 24 || p[1] != 168 {
		t.Fatalf("detected periods %v", p)
	}
	scores := a.Scores()
	if len(scores) != 5 {
		t.Fatalf("scores %+v", scores)
	}
	// Best first, weights ∝ 1/MASE over the two best, summing to one.
	var wsum float64
	for i, s := range scores {
		if s.Err != nil {
			t.Fatalf("%s failed: %v", s.Name, s.Err)
		}
		if i > 0 && s.MASE < scores[i-1].MASE {
			t.Fatal("scores not sorted")
		}
		wsum += s.Weight
		if (i < 2) != (s.Weight > 0) {
			t.Fatalf("weight of %s = %v", s.Name, s.Weight)
		}
	}
	assertClose(t, "weight sum", wsum, 1, 1e-12)
	assertClose(t, "weight ratio", scores[0].Weight/scores[1].Weight, scores[1].MASE/scores[0].MASE, 1e-12)
	name := "auto(" + scores[0].Name + "+" + scores[1].Name + ")"
	if fc.Model != name {
		t.Fatalf("model %q, want %q", fc.Model, name)
	}
	// The combination is the weighted average of the members' forecasts
	// (means and bounds alike), with the half-widths then scaled by the
	// hold-out calibration factor.
	widen, ok := fc.Params["widen"]
	if !ok {
		widen = 1
	}
	if !(widen >= 0.5 && widen <= 2) || widen != a.widen {
		t.Fatalf("widen %v (%v)", widen, a.widen)
	}
	var members []Forecast
	for _, f := range a.chosen {
		m, err := f.Forecast(h, nil)
		if err != nil {
			t.Fatal(err)
		}
		members = append(members, m)
	}
	for i := 0; i < h; i++ {
		var m, lo float64
		for k := range members {
			m += a.weights[k] * members[k].Mean[i]
			lo += a.weights[k] * members[k].Intervals[1].Lo[i]
		}
		assertClose(t, "combined mean", fc.Mean[i], m, 1e-12)
		assertClose(t, "combined lo95", fc.Intervals[1].Lo[i], m-widen*(m-lo), 1e-12)
	}
	if got := MASE(full[n:], fc.Mean, y, 168); got > 0.8 {
		t.Fatalf("held-out MASE %v", got)
	}
	for _, key := range []string{"weight:" + scores[0].Name, "mase:snaive(168)"} {
		if _, ok := fc.Params[key]; !ok {
			t.Fatalf("missing param %s in %v", key, fc.Params)
		}
	}
}

func TestAutoSelectAndFallbacks(t *testing.T) {
	// Best-only selection on a non-seasonal series with explicit candidates.
	y := make([]float64, 80)
	for i := range y {
		y[i] = 5 + 0.3*float64(i) + math.Sin(float64(i))
	}
	a := &Auto{Periods: []int{}, Candidates: []string{CandidateSNaive, CandidateETS, CandidateTheta}}
	fc, err := FitForecast(a, y, Options{Horizon: 5})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(fc.Model, "+") != 0 || !strings.HasPrefix(fc.Model, "auto(") {
		t.Fatalf("model %q", fc.Model)
	}
	if a.Scores()[0].Name == CandidateSNaive {
		t.Fatal("naive beat trend models on a trending series")
	}
	// Constant series: a perfect candidate takes all the weight.
	c := make([]float64, 60)
	for i := range c {
		c[i] = 3
	}
	fc, err = AutoForecast(c, Options{Horizon: 4}, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range fc.Mean {
		assertClose(t, "constant", v, 3, 1e-9)
	}
	var ih *InsufficientHistoryError
	if _, err := AutoForecast([]float64{1, 2}, Options{Horizon: 1}, false); !errors.As(err, &ih) {
		t.Fatalf("short: %v", err)
	}
}
