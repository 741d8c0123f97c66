package models

import (
	"errors"
	"math"
	"testing"
)

// spy records what it was fitted on and forecasts naively.
type spy struct {
	SeasonalNaive
	seen *[][]float64
}

func (s *spy) Fit(y []float64) error {
	*s.seen = append(*s.seen, append([]float64(nil), y...))
	return s.SeasonalNaive.Fit(y)
}

func TestBacktestUsesOnlyThePast(t *testing.T) {
	y := make([]float64, 20)
	for i := range y {
		y[i] = float64(i + 1)
	}
	var seen [][]float64
	res, err := Backtest(func() Forecaster { return &spy{seen: &seen} }, y,
		BacktestOptions{Horizon: 2, Origins: 3, Step: 3})
	if err != nil {
		t.Fatal(err)
	}
	wantOrigins := []int{12, 15, 18}
	if len(seen) != 3 || len(res.Origins) != 3 {
		t.Fatalf("origins %v", res.Origins)
	}
	for i, o := range wantOrigins {
		if res.Origins[i].Origin != o || len(seen[i]) != o || seen[i][o-1] != float64(o) {
			t.Fatalf("origin %d: trained on %d values", o, len(seen[i]))
		}
	}
	// Naive on y = t: errors 1 and 2, in-sample naive MAE 1, so MASE 1.5.
	// sMAPE at origin 18: 100·(2/37 + 4/38)/2. 95% intervals 18 ± 1.96·√h
	// contain 19 and 20, so MSIS is the mean width 1.96(1+√2)·2/2.
	last := res.Origins[2]
	assertClose(t, "MASE", last.MASE, 1.5, 1e-12)
	assertClose(t, "sMAPE", last.SMAPE, 50*(2.0/37+4.0/38), 1e-12)
	assertClose(t, "MSIS", last.MSIS, z95*(1+math.Sqrt2), 1e-12)
	assertClose(t, "coverage", last.Coverage, 1, 0)
	assertClose(t, "mean MASE", res.MASE, 1.5, 1e-12)
	if res.Model != "naive" {
		t.Fatalf("model %q", res.Model)
	}
}

func TestMetrics(t *testing.T) {
	train := []float64{1, 3, 2, 4, 3, 5} // seasonal lag 2 diffs: 1,1,1,1 -> scale 1
	assertClose(t, "MASE seasonal", MASE([]float64{6, 4}, []float64{5, 6}, train, 2), 1.5, 1e-12)
	// lag 1: |2|,|1|,|2|,|1|,|2| -> 8/5
	assertClose(t, "MASE lag 1", MASE([]float64{6, 4}, []float64{5, 6}, train, 1), 1.5/1.6, 1e-12)
	assertClose(t, "sMAPE zeros", SMAPE([]float64{0, 1}, []float64{0, 1}), 0, 0)
	assertClose(t, "sMAPE", SMAPE([]float64{100, nan}, []float64{50, 1}), 200*50/150.0, 1e-12)
	// below lo by 1 at level 0.8 -> width 2 + 2/0.2·1 = 12
	assertClose(t, "MSIS", MSIS([]float64{0, 5}, []float64{1, 4}, []float64{3, 6}, train, 2, 0.8), (12+2)/2.0, 1e-12)
	assertClose(t, "coverage", Coverage([]float64{0, 5, nan}, []float64{1, 4, 0}, []float64{3, 6, 0}), 0.5, 0)
	if v := MASE([]float64{2}, []float64{2}, []float64{7, 7, 7}, 1); v != 0 {
		t.Fatalf("perfect forecast on constant training data: %v", v)
	}
	if v := MASE([]float64{3}, []float64{2}, []float64{7, 7, 7}, 1); math.IsInf(v, 0) || v < 1e9 {
		t.Fatalf("imperfect forecast on constant training data: %v", v)
	}
	if !math.IsNaN(MASE([]float64{nan}, []float64{1}, train, 1)) {
		t.Fatal("no usable pair should give NaN")
	}
}

func TestBacktestErrors(t *testing.T) {
	y := []float64{1, 2, 3, 4, 5}
	mk := func() Forecaster { return &SeasonalNaive{Period: 24} }
	if _, err := Backtest(mk, y, BacktestOptions{Horizon: 2}); !errors.Is(err, ErrInsufficientHistory) {
		t.Fatalf("insufficient: %v", err)
	}
	if _, err := Backtest(mk, y, BacktestOptions{}); !errors.Is(err, ErrInvalidHorizon) {
		t.Fatalf("horizon: %v", err)
	}
	if _, err := Backtest(mk, y, BacktestOptions{Horizon: 1, Level: 2}); !errors.Is(err, ErrInvalidLevel) {
		t.Fatalf("level: %v", err)
	}
}
