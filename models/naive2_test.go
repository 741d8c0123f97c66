package models

import (
	"errors"
	"math"
	"testing"
)

// TestNaive2ByHand checks Naive2 on series simple enough to work out by hand.
func TestNaive2ByHand(t *testing.T) {
	// A constant level times a fixed pattern: the centred 2×4 moving average
	// of one full cycle of s (mean 1) is the level 50 exactly, so the ratios
	// and hence the indices are s itself, the adjusted series is constant 50,
	// and Naive2 repeats the last cycle with zero-width intervals. The lag-4
	// autocorrelation of a periodic series is large, so the 90% test passes.
	s := []float64{0.6, 1.4, 1.2, 0.8}
	y := make([]float64, 12)
	for i := range y {
		y[i] = 50 * s[i%4]
	}
	nv := &Naive2{Period: 4}
	fc, err := FitForecast(nv, y, Options{Horizon: 6, Levels: []float64{0.8, 0.95}})
	if err != nil {
		t.Fatal(err)
	}
	if !nv.Seasonal() || fc.Model != "naive2" || fc.Params["period"] != 4 {
		t.Fatalf("seasonal %v, %+v", nv.Seasonal(), fc)
	}
	for i, v := range fc.Mean {
		assertClose(t, "mean", v, 50*s[(12+i)%4], 1e-12)
		assertClose(t, "lo95", fc.Intervals[1].Lo[i], v, 1e-9)
	}

	// T1 of the M4 fixture with m = 2: n = 6 >= 3m, but r_1 = 0.2735 and
	// r_2 = -0.4995 give |r_2|/√((1+2r_1²)/6) = 1.14 < 1.645, so no
	// adjustment: the naive forecast 9.5 with σ² = (2²+2²+1²+2²+1.5²)/5 =
	// 3.05 and sd σ√h.
	y = []float64{10, 12, 14, 13, 11, 9.5}
	nv = &Naive2{Period: 2}
	fc, err = FitForecast(nv, y, Options{Horizon: 2, Levels: []float64{0.8}})
	if err != nil {
		t.Fatal(err)
	}
	if nv.Seasonal() {
		t.Fatal("T1 judged seasonal")
	}
	sd := math.Sqrt(3.05)
	for i, v := range fc.Mean {
		assertClose(t, "mean", v, 9.5, 1e-12)
		assertClose(t, "hi80", fc.Intervals[0].Hi[i], 9.5+z80*sd*math.Sqrt(float64(i+1)), 1e-12)
	}

	// Non-positive data: no multiplicative decomposition, plain naive.
	y = []float64{-1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1}
	nv = &Naive2{Period: 2}
	if fc, err = FitForecast(nv, y, Options{Horizon: 2}); err != nil || nv.Seasonal() || fc.Mean[0] != 1 || fc.Mean[1] != 1 {
		t.Fatalf("non-positive: %v %v %+v", err, nv.Seasonal(), fc.Mean)
	}
	var ih *InsufficientHistoryError
	if _, err := FitForecast(&Naive2{Period: 24}, []float64{3}, Options{Horizon: 1}); err == nil || !errors.As(err, &ih) || ih.Need != 2 {
		t.Fatalf("short: %v", err)
	}
}

// TestAutoCalibration checks the interval calibration factor on a hold-out
// worked out by hand: two models with weights ¾ and ¼, hold-out forecasts 10
// and 14 (combined 11) with 95% bounds ±2z and ±6z around them (combined
// half-width 3z, i.e. sd 3), and actual values 11+3, 11-6, 11, 11+3: errors
// in units of the sd are 1, -2, 0, 1, RMS √(6/4) = 1.2247. With shrink 1 the
// factor is that, with 0.5 its square root, and it is clamped to [0.5, 2].
func TestAutoCalibration(t *testing.T) {
	z := zQuantile(0.95)
	mk := func(mean, half float64) lastOrigin {
		fc := Forecast{Mean: make([]float64, 4), Intervals: []Interval{{Level: 0.95, Lo: make([]float64, 4), Hi: make([]float64, 4)}}}
		for i := range fc.Mean {
			fc.Mean[i] = mean
			fc.Intervals[0].Lo[i] = mean - half*z
			fc.Intervals[0].Hi[i] = mean + half*z
		}
		return lastOrigin{model: &SeasonalNaive{}, fc: fc, origin: 2}
	}
	lasts := []lastOrigin{mk(10, 2), mk(14, 6)}
	w := []float64{0.75, 0.25}
	y := []float64{0, 0, 14, 5, 11, 14}
	assertClose(t, "full", calibration(lasts, w, y, 1), math.Sqrt(1.5), 1e-12)
	assertClose(t, "shrunk", calibration(lasts, w, y, 0.5), math.Pow(1.5, 0.25), 1e-12)
	// errors far beyond the intervals: clamped at 2
	assertClose(t, "clamped", calibration(lasts, w, []float64{0, 0, 1000, -1000, 1000, -1000}, 1), 2, 0)
	if got := calibration(nil, nil, y, 1); got != 1 {
		t.Fatalf("no models: %v", got)
	}
}

// TestMSTLLog checks the log-scale MSTL forecaster on a series with a
// multiplicative daily pattern that dips close to zero at night: forecasts
// stay positive and follow the pattern, and non-positive data are refused.
func TestMSTLLog(t *testing.T) {
	n, h := 24*7*6, 48
	y := make([]float64, n+h)
	for i := range y {
		day := 1 + 0.95*math.Sin(2*math.Pi*float64(i)/24)
		week := 1.0
		if (i/24)%7 >= 5 {
			week = 0.5
		}
		y[i] = 200 * day * week * (1 + 0.02*math.Sin(float64(i*i%101)))
	}
	for _, adj := range []AdjustedModel{AdjustedTheta, AdjustedETS} {
		f := &MSTLForecaster{MSTL: MSTL{Periods: []int{24, 168}, Iterations: 1}, Log: true, Adjusted: adj, WidenSeasonal: true}
		fc, err := FitForecast(f, y[:n], Options{Horizon: h})
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range fc.Mean {
			if !(v > 0) || fc.Intervals[1].Lo[i] <= 0 || fc.Intervals[1].Lo[i] > v || fc.Intervals[1].Hi[i] < v {
				t.Fatalf("step %d: mean %v, 95%% [%v, %v]", i, v, fc.Intervals[1].Lo[i], fc.Intervals[1].Hi[i])
			}
		}
		// relative errors of a few percent (the noise is ±2%, the pattern
		// spans a factor of 80)
		var mape float64
		for i, v := range fc.Mean {
			mape += math.Abs(v-y[n+i]) / y[n+i] / float64(h)
		}
		if mape > 0.1 {
			t.Errorf("adjusted %d: mean relative error %v", adj, mape)
		}
		if fc.Model[:9] != "mstl(log)" {
			t.Errorf("model %q", fc.Model)
		}
	}
	y[10] = 0
	if err := (&MSTLForecaster{MSTL: MSTL{Periods: []int{24}}, Log: true}).Fit(y[:n]); !errors.Is(err, ErrNonPositive) {
		t.Fatalf("zero in log-scale data: %v", err)
	}
}

// TestETSWarmStart checks that a fit started from the parameters of a fit on
// a shorter part of the series reaches the same likelihood as a cold fit (to
// the optimiser's tolerance) and keeps the model that fit selected.
func TestETSWarmStart(t *testing.T) {
	y := seasonalSeries(24*30, 24, false, 9)
	n := len(y) - 48
	first := &ETS{Period: 24, Candidates: AutoETSModels()}
	if err := first.Fit(y[:n]); err != nil {
		t.Fatal(err)
	}
	cold := &ETS{Period: 24, Candidates: AutoETSModels()}
	if err := cold.Fit(y); err != nil {
		t.Fatal(err)
	}
	warm := &ETS{Period: 24, Candidates: AutoETSModels()}
	warm.warmStart(first)
	if err := warm.Fit(y); err != nil {
		t.Fatal(err)
	}
	rf, _ := first.Result()
	rc, _ := cold.Result()
	rw, _ := warm.Result()
	if rw.Model != rf.Model {
		t.Fatalf("warm model %v, first %v", rw.Model, rf.Model)
	}
	if rc.Model == rw.Model && math.Abs(rc.LogLik-rw.LogLik) > 0.5 {
		t.Fatalf("log-likelihood warm %v, cold %v", rw.LogLik, rc.LogLik)
	}
	if warm.warm != nil {
		t.Fatal("warm start not consumed")
	}
}
