package models

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

const (
	z80 = 1.2815515655446004
	z95 = 1.959963984540054
)

func assertClose(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol*math.Max(1, math.Abs(want)) {
		t.Fatalf("%s = %.15g, want %.15g", what, got, want)
	}
}

// TestBenchmarkIntervalsByHand checks the FPP3 §5.5 formulas on series small
// enough to work out on paper.
func TestBenchmarkIntervalsByHand(t *testing.T) {
	tests := []struct {
		name string
		f    Forecaster
		y    []float64
		mean []float64
		sd   []float64
	}{
		{
			// residuals y[t]-y[t-4] are all 1, so σ = √(8/8) = 1 and
			// σ_h = √(⌊(h-1)/4⌋+1).
			name: "snaive",
			f:    &SeasonalNaive{Period: 4},
			y:    []float64{1, 2, 3, 4, 2, 3, 4, 5, 3, 4, 5, 6},
			mean: []float64{3, 4, 5, 6, 3, 4},
			sd:   []float64{1, 1, 1, 1, math.Sqrt2, math.Sqrt2},
		},
		{
			// residuals 2, -1, 2: σ² = 9/3; σ_h = √(3h).
			name: "naive",
			f:    &SeasonalNaive{},
			y:    []float64{1, 3, 2, 4},
			mean: []float64{4, 4, 4},
			sd:   []float64{math.Sqrt(3), math.Sqrt(6), 3},
		},
		{
			// c = (4-1)/3 = 1, residuals 1, -2, 1: σ² = 6/(4-2) = 3;
			// σ_h = √(3h(1+h/3)).
			name: "drift",
			f:    &Drift{},
			y:    []float64{1, 3, 2, 4},
			mean: []float64{5, 6, 7},
			sd:   []float64{2, math.Sqrt(10), math.Sqrt(18)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := len(tc.mean)
			fc, err := FitForecast(tc.f, tc.y, Options{Horizon: h})
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < h; i++ {
				assertClose(t, "mean", fc.Mean[i], tc.mean[i], 1e-12)
				assertClose(t, "lo80", fc.Intervals[0].Lo[i], tc.mean[i]-z80*tc.sd[i], 1e-12)
				assertClose(t, "hi95", fc.Intervals[1].Hi[i], tc.mean[i]+z95*tc.sd[i], 1e-12)
			}
		})
	}
}

// TestSeasonalNaiveTrailingGap checks that trailing missing values keep the
// forecast aligned with the calendar of the input.
func TestSeasonalNaiveTrailingGap(t *testing.T) {
	y := []float64{1, 2, 3, 4, 2, 3, 4, 5, 3, 4, 5, nan}
	fc, err := FitForecast(&SeasonalNaive{Period: 4}, y, Options{Horizon: 4})
	if err != nil {
		t.Fatal(err)
	}
	// steps are indices 12..15 (phases 0..3): last observed values of those
	// phases are y[8], y[9], y[10], y[7].
	want := []float64{3, 4, 5, 5}
	for i := range want {
		assertClose(t, "mean", fc.Mean[i], want[i], 1e-12)
	}
	var ih *InsufficientHistoryError
	if _, err := FitForecast(&SeasonalNaive{Period: 24}, y, Options{Horizon: 1}); !errors.As(err, &ih) || ih.Need != 25 || ih.Have != 11 {
		t.Fatalf("short: %v", err)
	}
}

func TestDetectPeriods(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	n := 24 * 7 * 8
	daily := make([]float64, n)
	weekly := make([]float64, n)
	noise := make([]float64, n)
	walk := make([]float64, n)
	minutely := make([]float64, 60*48)
	w := 0.0
	for i := 0; i < n; i++ {
		e := r.NormFloat64()
		// business-hours shaped daily cycle (not a pure sinusoid)
		hour := i % 24
		bh := 0.0
		if hour >= 8 && hour < 18 {
			bh = 20
		}
		daily[i] = 30 + bh + 3*math.Sin(2*math.Pi*float64(i)/24) + 2*e
		weekend := 0.0
		if (i/24)%7 >= 5 {
			weekend = -12
		}
		weekly[i] = daily[i] + weekend + 0.01*float64(i)
		noise[i] = e
		w += e
		walk[i] = w
	}
	for i := range minutely {
		minutely[i] = 5*math.Sin(2*math.Pi*float64(i)/60) + r.NormFloat64()
	}
	weekendDominant := make([]float64, n) // weak daily cycle under a weekend drop
	officeHours := make([]float64, n)     // activity on weekday office hours only
	shifted := make([]float64, n)         // daily cycle with two level shifts
	drifting := make([]float64, n)        // daily cycle on a random walk
	w = 0
	for i := 0; i < n; i++ {
		day, hour := (i/24)%7, i%24
		sine := math.Sin(2 * math.Pi * float64(i) / 24)
		weekendDominant[i] = 50 + 3*sine + 2*r.NormFloat64()
		if day >= 5 {
			weekendDominant[i] -= 30
		}
		officeHours[i] = 10 + 3*r.NormFloat64()
		if day < 5 && hour >= 8 && hour < 18 {
			officeHours[i] += 50
		}
		shifted[i] = 50 + 10*sine + r.NormFloat64()
		if i > n/2 {
			shifted[i] += 200
		}
		if i > 3*n/4 {
			shifted[i] -= 100
		}
		w += 2 * r.NormFloat64()
		drifting[i] = 50 + 10*sine + r.NormFloat64() + w
	}
	tests := []struct {
		name string
		y    []float64
		max  int
		want []int
	}{
		{"daily", daily, 0, []int{24}},
		{"daily+weekly", weekly, 0, []int{24, 168}},
		{"daily+weekly, capped", weekly, 100, []int{24}},
		{"hourly cycle in minutes", minutely, 0, []int{60}},
		{"weak daily under weekend drop", weekendDominant, 0, []int{24, 168}},
		{"weekday office hours", officeHours, 0, []int{24, 168}},
		{"level shifts", shifted, 0, []int{24}},
		{"random walk plus daily", drifting, 0, []int{24}},
		{"white noise", noise, 0, nil},
		{"random walk", walk, 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DetectPeriods(tc.y, tc.max)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
	c, err := PeriodCandidates(weekly, 0)
	if err != nil || len(c) != 2 || !(c[0].Strength > 0.5 && c[1].Strength > 0.3 && c[0].ACF > 0.3) {
		t.Fatalf("candidates %+v, %v", c, err)
	}
	constant := make([]float64, 100)
	if got, err := DetectPeriods(constant, 0); err != nil || got != nil {
		t.Fatalf("constant: %v %v", got, err)
	}
	if _, err := DetectPeriods([]float64{1, 2, 3}, 0); !errors.Is(err, ErrInsufficientHistory) {
		t.Fatalf("short: %v", err)
	}
}
