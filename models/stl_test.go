package models

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// TestSTLRecoversKnownComponents decomposes trend + sine season + noise and
// checks each component against the truth.
func TestSTLRecoversKnownComponents(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	const n, m = 24 * 20, 24
	y := make([]float64, n)
	trend := make([]float64, n)
	season := make([]float64, n)
	for i := range y {
		trend[i] = 100 + 0.05*float64(i) + 3*math.Sin(2*math.Pi*float64(i)/400)
		season[i] = 8*math.Sin(2*math.Pi*float64(i)/m) + 3*math.Cos(4*math.Pi*float64(i)/m)
		y[i] = trend[i] + season[i] + 0.5*r.NormFloat64()
	}
	// outliers for the robust variant
	yo := append([]float64(nil), y...)
	for _, i := range []int{50, 133, 300, 301, 420} {
		yo[i] += 40
	}
	tests := []struct {
		name       string
		s          STL
		y          []float64
		tolS, tolT float64
	}{
		{"default", STL{Period: m}, y, 0.25, 0.2},
		{"periodic", STL{Period: m, Periodic: true}, y, 0.15, 0.2},
		{"robust with outliers", STL{Period: m, Robust: true}, yo, 0.25, 0.2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := tc.s.Decompose(tc.y)
			if err != nil {
				t.Fatal(err)
			}
			// skip the first and last cycle where LOESS extrapolates
			var maxS, maxT, ssS, ssT float64
			for i := m; i < n-m; i++ {
				es, et := d.Seasonal[0][i]-season[i], d.Trend[i]-trend[i]
				maxS = math.Max(maxS, math.Abs(es))
				maxT = math.Max(maxT, math.Abs(et))
				ssS += es * es
				ssT += et * et
			}
			rmsS := math.Sqrt(ssS / float64(n-2*m))
			rmsT := math.Sqrt(ssT / float64(n-2*m))
			// noise sd is 0.5; the seasonal amplitude 8, the trend range 30
			if rmsS > tc.tolS || rmsT > tc.tolT || maxS > 3*tc.tolS || maxT > 3*tc.tolT {
				t.Fatalf("seasonal error rms %.3f max %.3f, trend error rms %.3f max %.3f (tol %.2f, %.2f)", rmsS, maxS, rmsT, maxT, tc.tolS, tc.tolT)
			}
			if tc.s.Robust {
				for _, i := range []int{50, 133, 300, 301, 420} {
					if d.Weights[i] > 0.01 {
						t.Fatalf("outlier %d has weight %v", i, d.Weights[i])
					}
				}
			}
		})
	}
}

// TestSTLRobustWeightsExactMedian checks the bisquare weights with the exact
// median |r| for an even number of residuals (the midpoint of the two middle
// values).
func TestSTLRobustWeightsExactMedian(t *testing.T) {
	y := []float64{1, -2, 3, -4, 0.5, 100}
	fit := make([]float64, len(y))
	rw := make([]float64, len(y))
	stlRobustWeights(y, fit, rw, make([]float64, len(y)))
	// |r| sorted: 0.5 1 2 3 4 100; median = 2.5, h = 6·2.5 = 15.
	for i, v := range y {
		u := math.Abs(v) / 15
		want := 0.0
		if u < 1 {
			want = (1 - u*u) * (1 - u*u)
		}
		assertClose(t, "weight", rw[i], want, 1e-12)
	}
}

func TestSTLMissingAndErrors(t *testing.T) {
	y := hourly(24*6, 2)
	y[0], y[40], y[41], y[len(y)-1] = nan, nan, nan, nan
	d, err := STL{Period: 24}.Decompose(y)
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(d.Trend[0]) || !math.IsNaN(d.Seasonal[0][len(y)-1]) || math.IsNaN(d.Trend[40]) {
		t.Fatal("padding of trimmed ends wrong")
	}
	for i := 1; i < len(y)-1; i++ {
		if !math.IsNaN(y[i]) {
			if r := y[i] - d.Trend[i] - d.Seasonal[0][i] - d.Remainder[i]; math.Abs(r) > 1e-9 {
				t.Fatalf("components do not add up at %d", i)
			}
		}
	}
	if _, err := (STL{Period: 1}).Decompose(y); !errors.Is(err, ErrInvalidPeriod) {
		t.Fatalf("period 1: %v", err)
	}
	var ih *InsufficientHistoryError
	if _, err := (STL{Period: 24}).Decompose(y[:48]); !errors.As(err, &ih) || ih.Need != 49 {
		t.Fatalf("short: %v", err)
	}
	if _, err := (MSTL{Periods: []int{24, 168}}).Decompose(y[:40]); !errors.As(err, &ih) || ih.Need != 49 {
		t.Fatalf("mstl short: %v", err)
	}
	// MSTL drops periods without two full cycles and keeps the others.
	d, err = MSTL{Periods: []int{168, 24}}.Decompose(hourly(24*10, 3))
	if err != nil || len(d.Periods) != 1 || d.Periods[0] != 24 {
		t.Fatalf("periods %v, %v", d.Periods, err)
	}
}

// TestMSTLForecaster checks the decomposition forecast on series with daily
// and weekly cycles against the known signal, and the calibration of the
// widened intervals on held-out data.
func TestMSTLForecaster(t *testing.T) {
	n, h := 24*7*6, 168
	signal := func(i int) float64 {
		wk := 0.0
		if (i/24)%7 >= 5 {
			wk = -10
		}
		return 200 + 0.01*float64(i) + 15*math.Sin(2*math.Pi*float64(i)/24) + wk
	}
	var cover80, cover95, plain95 float64
	const seeds = 3
	for seed := uint64(1); seed <= seeds; seed++ {
		r := rand.New(rand.NewPCG(seed, 9))
		y := make([]float64, n+h)
		for i := range y {
			y[i] = signal(i) + r.NormFloat64()
		}
		f := &MSTLForecaster{MSTL: MSTL{Periods: []int{24, 168}}}
		fc, err := FitForecast(f, y[:n], Options{Horizon: h, Levels: []float64{0.95}})
		if err != nil {
			t.Fatal(err)
		}
		var mae float64
		for i, v := range fc.Mean {
			mae += math.Abs(v - signal(n+i))
		}
		if mae /= float64(h); mae > 1.0 {
			t.Fatalf("MAE against the signal %v", mae)
		}
		if d := f.Decomposition(); len(d.Seasonal) != 2 || len(d.Trend) != n {
			t.Fatal("decomposition not exposed")
		}
		wide := &MSTLForecaster{MSTL: MSTL{Periods: []int{24, 168}}, WidenSeasonal: true}
		fw, err := FitForecast(wide, y[:n], Options{Horizon: h, Levels: []float64{0.8, 0.95}})
		if err != nil {
			t.Fatal(err)
		}
		for i := range fw.Mean {
			assertClose(t, "widened mean", fw.Mean[i], fc.Mean[i], 1e-12)
			if fw.Intervals[1].Hi[i]-fw.Intervals[1].Lo[i] < fc.Intervals[0].Hi[i]-fc.Intervals[0].Lo[i] {
				t.Fatal("widened interval is narrower")
			}
		}
		plain95 += Coverage(y[n:], fc.Intervals[0].Lo, fc.Intervals[0].Hi) / seeds
		cover80 += Coverage(y[n:], fw.Intervals[0].Lo, fw.Intervals[0].Hi) / seeds
		cover95 += Coverage(y[n:], fw.Intervals[1].Lo, fw.Intervals[1].Hi) / seeds
	}
	// 3×168 held-out points: nominal ± about 3 standard errors.
	if cover80 < 0.74 || cover80 > 0.88 || cover95 < 0.91 || cover95 > 0.99 || plain95 >= cover95 {
		t.Fatalf("coverage: widened 80%% %.3f, 95%% %.3f; plain 95%% %.3f", cover80, cover95, plain95)
	}
	y := make([]float64, n)
	for i := range y {
		y[i] = signal(i)
	}
	damped := &MSTLForecaster{MSTL: MSTL{Periods: []int{24, 168}}, Damped: true}
	fd, err := FitForecast(damped, y, Options{Horizon: 24})
	if err != nil || fd.Model != "mstl+ETS(A,Ad,N)" {
		t.Fatalf("damped: %v %v", fd.Model, err)
	}
}
