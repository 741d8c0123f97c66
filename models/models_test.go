package models

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

var nan = math.NaN()

func TestClean(t *testing.T) {
	inf := math.Inf(1)
	tests := []struct {
		name        string
		y, want     []float64
		lead, trail int
	}{
		{"complete", []float64{1, 2, 3}, []float64{1, 2, 3}, 0, 0},
		{"ends trimmed", []float64{nan, 1, nan, 3, nan, nan}, []float64{1, 2, 3}, 1, 2},
		{"long gap", []float64{1, nan, nan, 4, 5}, []float64{1, 2, 3, 4, 5}, 0, 0},
		{"two gaps", []float64{10, nan, 20, nan, nan, nan, 0}, []float64{10, 15, 20, 15, 10, 5, 0}, 0, 0},
		{"inf is missing", []float64{inf, 2, -inf, 4}, []float64{2, 3, 4}, 1, 0},
		{"single", []float64{nan, 7, nan}, []float64{7}, 1, 1},
		{"all missing", []float64{nan, nan}, nil, 2, 0},
		{"empty", nil, nil, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x, lead, trail := Clean(tc.y)
			if lead != tc.lead || trail != tc.trail {
				t.Fatalf("lead, trail = %d, %d; want %d, %d", lead, trail, tc.lead, tc.trail)
			}
			if len(x) != len(tc.want) {
				t.Fatalf("x = %v, want %v", x, tc.want)
			}
			for i := range x {
				if math.Abs(x[i]-tc.want[i]) > 1e-12 {
					t.Fatalf("x = %v, want %v", x, tc.want)
				}
			}
		})
	}
	// Clean must not modify its input.
	y := []float64{1, nan, 3}
	Clean(y)
	if !math.IsNaN(y[1]) {
		t.Fatal("Clean modified its input")
	}
}

func TestInsufficientHistoryError(t *testing.T) {
	var err error = &InsufficientHistoryError{Need: 25, Have: 3, Model: "snaive"}
	if !errors.Is(err, ErrInsufficientHistory) {
		t.Fatal("errors.Is failed")
	}
	if msg := err.Error(); !strings.Contains(msg, "at least 25") || !strings.Contains(msg, "have 3") {
		t.Fatalf("message %q does not state the minimum", msg)
	}
	wrapped := errors.Join(errors.New("context"), err)
	var ih *InsufficientHistoryError
	if !errors.As(wrapped, &ih) || ih.Need != 25 {
		t.Fatal("errors.As failed")
	}
}

func TestForecastInterval(t *testing.T) {
	f := Forecast{Intervals: []Interval{{Level: 0.8}, {Level: 0.95}}}
	if iv, ok := f.Interval(0.95); !ok || iv.Level != 0.95 {
		t.Fatal("0.95 not found")
	}
	if _, ok := f.Interval(0.9); ok {
		t.Fatal("0.9 found")
	}
}

func TestInvalidArguments(t *testing.T) {
	y := make([]float64, 60)
	for i := range y {
		y[i] = float64(i % 7)
	}
	for _, f := range []Forecaster{&SeasonalNaive{Period: 7}, &Drift{}, &ETS{}, &Theta{}, &Regression{},
		&MSTLForecaster{MSTL: MSTL{Periods: []int{7}}}} {
		if _, err := f.Forecast(3, nil); !errors.Is(err, ErrNotFitted) {
			t.Errorf("%s: unfitted Forecast: %v", f.Name(), err)
		}
		if err := f.Fit(y); err != nil {
			t.Fatalf("%s: %v", f.Name(), err)
		}
		if _, err := f.Forecast(0, nil); !errors.Is(err, ErrInvalidHorizon) {
			t.Errorf("%s: h=0: %v", f.Name(), err)
		}
		for _, l := range []float64{0, 1, -0.5, 1.5, nan} {
			if _, err := f.Forecast(3, []float64{l}); !errors.Is(err, ErrInvalidLevel) {
				t.Errorf("%s: level %v: %v", f.Name(), l, err)
			}
		}
		// Intervals at any level in (0, 1), in the order requested.
		fc, err := f.Forecast(3, []float64{0.99, 0.5, 0.123})
		if err != nil {
			t.Fatalf("%s: %v", f.Name(), err)
		}
		if len(fc.Intervals) != 3 || fc.Intervals[0].Level != 0.99 || fc.Intervals[2].Level != 0.123 {
			t.Fatalf("%s: intervals %v", f.Name(), fc.Intervals)
		}
		for i := range fc.Mean {
			if !(fc.Intervals[0].Lo[i] <= fc.Intervals[1].Lo[i] && fc.Intervals[1].Lo[i] <= fc.Intervals[2].Lo[i] &&
				fc.Intervals[2].Hi[i] <= fc.Intervals[1].Hi[i] && fc.Intervals[1].Hi[i] <= fc.Intervals[0].Hi[i]) {
				t.Fatalf("%s: intervals not nested at %d", f.Name(), i)
			}
		}
	}
	if _, err := FitForecast(&Drift{}, y, Options{}); !errors.Is(err, ErrInvalidHorizon) {
		t.Fatalf("FitForecast with zero horizon: %v", err)
	}
}

// hourly returns n hourly samples with a daily cycle, mild trend and noise.
func hourly(n int, seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, 99))
	y := make([]float64, n)
	for i := range y {
		y[i] = 50 + 0.02*float64(i) + 10*math.Sin(2*math.Pi*float64(i)/24) + r.NormFloat64()
	}
	return y
}

func checkFinite(t *testing.T, name string, f Forecast, h int) {
	t.Helper()
	if len(f.Mean) != h {
		t.Fatalf("%s: %d means, want %d", name, len(f.Mean), h)
	}
	for i, m := range f.Mean {
		if !isFinite(m) {
			t.Fatalf("%s: mean[%d] = %v", name, i, m)
		}
		for _, iv := range f.Intervals {
			if !isFinite(iv.Lo[i]) || !isFinite(iv.Hi[i]) || iv.Lo[i] > iv.Hi[i] {
				t.Fatalf("%s: interval %v at %d: [%v, %v]", name, iv.Level, i, iv.Lo[i], iv.Hi[i])
			}
		}
	}
	if f.Params == nil || f.Model == "" {
		t.Fatalf("%s: missing Model or Params", name)
	}
}

// TestRobustness runs every model over awkward inputs and checks values, not
// only the absence of errors.
func TestRobustness(t *testing.T) {
	const n, h = 24 * 12, 24
	base := hourly(n, 1)
	models := []struct {
		name string
		mk   func() Forecaster
	}{
		{"snaive", func() Forecaster { return &SeasonalNaive{Period: 24} }},
		{"drift", func() Forecaster { return &Drift{} }},
		{"ets", func() Forecaster { return &ETS{Period: 24} }},
		{"theta", func() Forecaster { return &Theta{Period: 24} }},
		{"regression", func() Forecaster { return &Regression{Periods: []int{24}} }},
		{"mstl", func() Forecaster { return &MSTLForecaster{MSTL: MSTL{Periods: []int{24}}} }},
		{"auto", func() Forecaster { return &Auto{Periods: []int{24}, Origins: 2, Combine: true} }},
	}
	scale := func(c float64) []float64 {
		y := make([]float64, n)
		for i, v := range base {
			y[i] = v * c
		}
		return y
	}
	withNaN := append([]float64(nil), base...)
	for i := 5; i < n; i += 17 {
		withNaN[i] = nan
	}
	withNaN[0], withNaN[1], withNaN[n-1] = nan, nan, nan
	gaps := append([]float64(nil), base...)
	for i := 100; i < 110; i++ {
		gaps[i] = nan
	}
	for i := 200; i < 203; i++ {
		gaps[i] = nan
	}
	constant := make([]float64, n)
	for i := range constant {
		constant[i] = 42
	}
	shift := append([]float64(nil), base...)
	for i := 2 * n / 3; i < n; i++ {
		shift[i] += 100
	}
	// models whose forecasts are exactly equivariant under y -> -3y
	exactSign := map[string]bool{"snaive": true, "drift": true, "regression": true}
	for _, m := range models {
		m := m
		t.Run(m.name, func(t *testing.T) {
			fit := func(y []float64) Forecast {
				t.Helper()
				f, err := FitForecast(m.mk(), y, Options{Horizon: h})
				if err != nil {
					t.Fatal(err)
				}
				checkFinite(t, m.name, f, h)
				return f
			}
			ref := fit(base)
			// Missing values: scattered NaNs and trailing NaN keep the
			// forecast on the original grid (still close to the reference).
			for _, y := range [][]float64{withNaN, gaps} {
				f := fit(y)
				for i := range f.Mean {
					if math.Abs(f.Mean[i]-ref.Mean[i]) > 6 {
						t.Fatalf("gappy series forecast[%d] = %v, complete %v", i, f.Mean[i], ref.Mean[i])
					}
				}
			}
			// Constant series: exact forecast, degenerate finite intervals.
			f := fit(constant)
			for i := range f.Mean {
				if math.Abs(f.Mean[i]-42) > 1e-6 {
					t.Fatalf("constant: mean[%d] = %v", i, f.Mean[i])
				}
				for _, iv := range f.Intervals {
					if iv.Hi[i]-iv.Lo[i] > 1e-4 {
						t.Fatalf("constant: interval width %v", iv.Hi[i]-iv.Lo[i])
					}
				}
			}
			// Level shift of +100 over the last third: the forecast follows
			// the new level (regression with a global trend is the
			// exception and is only required to move most of the way).
			f = fit(shift)
			var avg float64
			for _, v := range f.Mean {
				avg += v
			}
			avg /= float64(h)
			if lo := 50 + 0.02*n + 60.0; avg < lo {
				t.Fatalf("level shift: mean forecast %v below %v", avg, lo)
			}
			// Huge and negative values: scale equivariance.
			for _, c := range []float64{1e15, -3} {
				f := fit(scale(c))
				for i := range f.Mean {
					if d := math.Abs(f.Mean[i] - c*ref.Mean[i]); d > 1e-6*math.Abs(c)*math.Abs(ref.Mean[i]) && (c > 0 || exactSign[m.name]) {
						t.Fatalf("scale %g: mean[%d] = %v, want %v", c, i, f.Mean[i], c*ref.Mean[i])
					}
					// Models with multiplicative variants (ETS, Theta's
					// seasonal adjustment, the combinations) switch to
					// additive forms for negative data; they must still be
					// close.
					if d := math.Abs(f.Mean[i] - c*ref.Mean[i]); d > 0.1*math.Abs(c)*math.Abs(ref.Mean[i]) {
						t.Fatalf("scale %g: mean[%d] = %v, want about %v", c, i, f.Mean[i], c*ref.Mean[i])
					}
				}
			}
			// Too short: InsufficientHistoryError with Need set.
			_, err := FitForecast(m.mk(), base[:2], Options{Horizon: h})
			var ih *InsufficientHistoryError
			if !errors.As(err, &ih) || ih.Need <= ih.Have || ih.Have != 2 {
				t.Fatalf("short series: %v", err)
			}
			_, err = FitForecast(m.mk(), []float64{nan, nan, nan}, Options{Horizon: h})
			if !errors.Is(err, ErrInsufficientHistory) {
				t.Fatalf("all-NaN series: %v", err)
			}
		})
	}
}
