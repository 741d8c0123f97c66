package models

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// TestRegressionExactFit recovers known coefficients from a noise-free series
// and forecasts it exactly, also across a gap.
func TestRegressionExactFit(t *testing.T) {
	n := 24 * 5
	f := func(t int) float64 {
		a := 2 * math.Pi * float64(t) / 24
		return 10 + 0.5*float64(t) + 3*math.Sin(a) - 2*math.Cos(a) + 1.5*math.Sin(2*a)
	}
	y := make([]float64, n)
	for i := range y {
		y[i] = f(i)
	}
	y[7], y[50] = nan, nan
	r := &Regression{Periods: []int{24}, Harmonics: []int{2}}
	fc, err := FitForecast(r, y, Options{Horizon: 30})
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{10, 0.5, 3, -2, 1.5, 0}
	for i, c := range r.Coefficients() {
		assertClose(t, "coefficient", c, want[i], 1e-9)
	}
	for i, v := range fc.Mean {
		assertClose(t, "mean", v, f(n+i), 1e-9)
		if w := fc.Intervals[1].Hi[i] - fc.Intervals[1].Lo[i]; w > 1e-6 {
			t.Fatalf("exact fit interval width %v", w)
		}
	}
}

// TestRegressionIntervalByHand checks the interval formula on the
// intercept-only model, where x₀ᵀ(XᵀX)⁻¹x₀ = 1/n: ŷ ± t_{n-1}·s·√(1+1/n) with
// s = median|r|/0.6745 and the Huber location estimate as ŷ.
func TestRegressionIntervalByHand(t *testing.T) {
	y := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	r := &Regression{NoTrend: true}
	fc, err := FitForecast(r, y, Options{Horizon: 2, Levels: []float64{0.9}})
	if err != nil {
		t.Fatal(err)
	}
	// Symmetric data: the Huber location is the mean 5.5 and the residuals
	// are ±0.5, ±1.5, ..., ±4.5 with median |r| = 2.5.
	s := 2.5 / 0.6745
	tq := 1.8331129326536335 // qt(0.95, 9)
	half := tq * s * math.Sqrt(1+1.0/10)
	for i := 0; i < 2; i++ {
		assertClose(t, "mean", fc.Mean[i], 5.5, 1e-9)
		assertClose(t, "lo", fc.Intervals[0].Lo[i], 5.5-half, 1e-9)
		assertClose(t, "hi", fc.Intervals[0].Hi[i], 5.5+half, 1e-9)
	}
}

// TestRegressionRobustToOutliers compares Huber IRLS with ordinary least
// squares (HuberK huge) on data with gross outliers.
func TestRegressionRobustToOutliers(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	n := 200
	y := make([]float64, n)
	for i := range y {
		y[i] = 5 + 0.1*float64(i) + 0.3*r.NormFloat64()
		if i%20 == 3 {
			y[i] += 60
		}
	}
	huber := &Regression{}
	ols := &Regression{HuberK: 1e9}
	for _, m := range []*Regression{huber, ols} {
		if err := m.Fit(y); err != nil {
			t.Fatal(err)
		}
	}
	hc, oc := huber.Coefficients(), ols.Coefficients()
	if math.Abs(hc[0]-5) > 0.5 || math.Abs(hc[1]-0.1) > 0.005 {
		t.Fatalf("huber coefficients %v", hc)
	}
	if math.Abs(oc[0]-5) < 2 {
		t.Fatalf("OLS intercept %v should be pulled by the outliers", oc[0])
	}
}

func TestRegressionCalendarRegressors(t *testing.T) {
	start := time.Date(2024, 1, 29, 0, 0, 0, 0, time.UTC) // a Monday
	n, h := 24*7*4, 24*3
	times := make([]time.Time, n+h)
	for i := range times {
		times[i] = start.Add(time.Duration(i) * time.Hour)
	}
	cols, names := Calendar{DayOfWeek: true, MonthEndDays: 2}.Columns(times)
	if len(cols) != 7 || names[0] != "wday2" || names[5] != "wday7" || names[6] != "monthend" {
		t.Fatalf("names %v", names)
	}
	// Jan 30 and 31, Feb 28 and 29 (leap year) are month-end days.
	for i, tm := range times {
		d := tm.Day()
		want := (tm.Month() == 1 && d >= 30) || (tm.Month() == 2 && d >= 28)
		if (cols[6][i] == 1) != want {
			t.Fatalf("monthend at %v = %v", tm, cols[6][i])
		}
	}
	// Workload: +20 on Saturdays, +35 on month-end days, daily cycle.
	r := rand.New(rand.NewPCG(1, 1))
	y := make([]float64, n)
	signal := func(i int) float64 {
		v := 100 + 10*math.Sin(2*math.Pi*float64(i)/24)
		if times[i].Weekday() == time.Saturday {
			v += 20
		}
		if cols[6][i] == 1 {
			v += 35
		}
		return v
	}
	for i := range y {
		y[i] = signal(i) + r.NormFloat64()
	}
	reg := &Regression{Periods: []int{24}, Harmonics: []int{1}, NoTrend: true, Regressors: cols}
	fc, err := FitForecast(reg, y, Options{Horizon: h})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range fc.Mean {
		if math.Abs(v-signal(n+i)) > 1.0 {
			t.Fatalf("step %d (%v): forecast %v, signal %v", i, times[n+i], v, signal(n+i))
		}
	}
	if _, err := reg.Forecast(h+1, nil); !errors.Is(err, ErrLengthMismatch) {
		t.Fatalf("regressors too short for horizon: %v", err)
	}
	cols[0][n+2] = nan
	if _, err := reg.Forecast(h, nil); !errors.Is(err, ErrMissingRegressor) {
		t.Fatalf("missing future regressor: %v", err)
	}
	hcols, hnames := Calendar{HourOfDay: true, MonthStartDays: 1, Location: time.FixedZone("X", 3600)}.Columns(times[:3])
	if len(hcols) != 24 || hnames[0] != "hour1" || hnames[23] != "monthstart" {
		t.Fatalf("hour columns %v", hnames)
	}
	// 00:00 UTC is 01:00 in the zone, i.e. hour1.
	if hcols[0][0] != 1 || hcols[1][1] != 1 || hcols[23][0] != 0 {
		t.Fatal("hour dummies or location handling wrong")
	}
}

func TestRegressionRankDeficient(t *testing.T) {
	// A regressor identical to the intercept: the minimum-norm solution
	// still gives the right fitted values.
	n := 50
	one := make([]float64, n+5)
	y := make([]float64, n)
	for i := range one {
		one[i] = 1
	}
	for i := range y {
		y[i] = 3 + 0.2*float64(i)
	}
	r := &Regression{Regressors: [][]float64{one}}
	fc, err := FitForecast(r, y, Options{Horizon: 5})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range fc.Mean {
		assertClose(t, "mean", v, 3+0.2*float64(n+i), 1e-9)
	}
	if fc.Params["rank"] != 2 {
		t.Fatalf("rank %v", fc.Params["rank"])
	}
}
