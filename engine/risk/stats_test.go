package risk

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/seed-f1b503aa/foresight/models"
)

// senFit's point estimate is the Theil–Sen estimator of package models.
func TestSenFitMatchesModels(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	x := make([]float64, 300)
	y := make([]float64, 300)
	for i := range x {
		x[i] = float64(i) + r.Float64()
		y[i] = 3 - 0.7*x[i] + r.NormFloat64()*5
		if i%37 == 0 {
			y[i] = math.NaN()
		}
	}
	s, ok := senFit(x, y, z95, 1)
	slope, icept, err := models.TheilSen(x, y)
	if !ok || err != nil || math.Abs(s.Slope-slope) > 1e-12 || math.Abs(s.Intercept-icept) > 1e-9 {
		t.Fatalf("senFit %+v, models.TheilSen %v %v (%v)", s, slope, icept, err)
	}
	if !(s.Lo < s.Slope && s.Slope < s.Hi) || s.Hi-s.Lo > 0.05 {
		t.Errorf("95%% interval [%v, %v] around %v", s.Lo, s.Hi, s.Slope)
	}
	// autocorrelation widens the interval
	w, _ := senFit(x, y, z95, 4)
	if !(w.Hi-w.Lo > 1.5*(s.Hi-s.Lo)) {
		t.Errorf("inflated interval [%v, %v] not wider than [%v, %v]", w.Lo, w.Hi, s.Lo, s.Hi)
	}
}

func TestTrendModelCross(t *testing.T) {
	for _, c := range []struct {
		m    trendModel
		thr  float64
		want float64
	}{
		{trendModel{kind: fitLinear, a: 10, b: 2}, 20, 5},
		{trendModel{kind: fitLinear, a: 10, b: -2}, 20, math.Inf(1)},
		{trendModel{kind: fitLinear, a: 30, b: -2}, 20, 0},
		{trendModel{kind: fitQuadratic, a: 10, b: 0, c: 0.4}, 20, 5},
		{trendModel{kind: fitExponential, a: math.Log(10), b: math.Log(2) / 5}, 20, 5},
		// +2/day, purge of 5 every 4 days starting in 1 day: peaks 12, 15, 18, 21
		{trendModel{kind: fitPeriodic, a: 10, b: 2, c: 5, period: 4, next: 1}, 20, 13 - 0.5},
		{trendModel{kind: fitLinear, a: 10, b: 2}, 1000, math.Inf(1)}, // beyond the horizon
	} {
		got := c.m.cross(c.thr, 100)
		if math.Abs(got-c.want) > 1e-9 && !(math.IsInf(got, 1) && math.IsInf(c.want, 1)) {
			t.Errorf("%+v cross %v = %v, want %v", c.m, c.thr, got, c.want)
		}
	}
}
