package models

import (
	"math"
	"testing"
)

// TestThetaEquivalence checks the Hyndman–Billah form: the Theta forecast is
// the SES forecast plus b/2·((h-1) + (1-(1-α)^n)/α), b the OLS slope.
func TestThetaEquivalence(t *testing.T) {
	y := make([]float64, 40)
	for i := range y {
		y[i] = 10 + 0.7*float64(i) + 2*math.Sin(float64(i))
	}
	th := &Theta{}
	fc, err := FitForecast(th, y, Options{Horizon: 6, Levels: []float64{0.8}})
	if err != nil {
		t.Fatal(err)
	}
	if th.Seasonal() || fc.Model != "theta" {
		t.Fatalf("model %s", fc.Model)
	}
	ses, err := th.ses.Forecast(6, []float64{0.8})
	if err != nil {
		t.Fatal(err)
	}
	_, b := lineFit(y)
	a := fc.Params["alpha"]
	n := float64(len(y))
	r, _ := th.ses.Result()
	sc := th.p.scale // the SES model works on the internally scaled series
	for i := range fc.Mean {
		want := ses.Mean[i]*sc + b/2*(float64(i)+(1-math.Pow(1-a, n))/a)
		assertClose(t, "mean", fc.Mean[i], want, 1e-12)
		half := z80 * math.Sqrt(r.Sigma2*sc*sc*(1+float64(i)*a*a))
		assertClose(t, "hi80", fc.Intervals[0].Hi[i], want+half, 1e-12)
	}
	assertClose(t, "drift", fc.Params["drift"], b, 1e-12)
}

func TestThetaSeasonalTest(t *testing.T) {
	// Multiplicative seasonal pattern with period 12: detected, and the
	// forecast follows it.
	y := seasonalSeries(96, 12, true, 11)
	th := &Theta{Period: 12}
	fc, err := FitForecast(th, y, Options{Horizon: 12})
	if err != nil {
		t.Fatal(err)
	}
	if !th.Seasonal() || fc.Model != "theta(seasonal)" {
		t.Fatalf("model %s", fc.Model)
	}
	for i, v := range fc.Mean {
		tt := 96 + i
		truth := (100 + 0.8*float64(tt)) * (1 + 0.25*math.Sin(2*math.Pi*float64(tt%12)/12))
		if math.Abs(v-truth) > 0.05*truth {
			t.Fatalf("step %d: %v vs %v", i+1, v, truth)
		}
	}
	// No seasonality at lag 12 in a trend + noise series.
	flat := hourly(96, 4)
	for i := range flat {
		flat[i] = 10 + 0.1*float64(i) + math.Sin(float64(i)*1.3)
	}
	th2 := &Theta{Period: 12}
	if err := th2.Fit(flat); err != nil || th2.Seasonal() {
		t.Fatalf("spurious seasonality: %v %v", th2.Seasonal(), err)
	}
}
