package models

import (
	"strconv"
	"testing"
)

// Benchmarks use eight weeks of hourly data with daily and weekly cycles.
var benchSeries = dailyWeekly(24*7*8, 42)

func BenchmarkETSFitAuto24(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := (&ETS{Period: 24}).Fit(benchSeries); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkETSFitAuto168(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := (&ETS{Period: 168}).Fit(benchSeries); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkETSFitAAA168(b *testing.B) {
	b.ReportAllocs()
	m := ETSModel{Trend: TrendAdditive, Season: SeasonAdditive}
	for i := 0; i < b.N; i++ {
		if err := (&ETS{Period: 168, Model: &m}).Fit(benchSeries); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMSTLDecompose(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := (MSTL{Periods: []int{24, 168}}).Decompose(benchSeries); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMSTLFitRobust(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		f := &MSTLForecaster{MSTL: MSTL{Periods: []int{24, 168}, Robust: true}, WidenSeasonal: true}
		if err := f.Fit(benchSeries); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRegressionFit(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := (&Regression{Periods: []int{24, 168}}).Fit(benchSeries); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAutoFit(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := (&Auto{Combine: true}).Fit(benchSeries); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDetectPeriods(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := DetectPeriods(benchSeries, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTheilSen5000(b *testing.B) {
	x := make([]float64, 5000)
	for i := range x {
		x[i] = float64(i)
	}
	y := dailyWeekly(5000, 1)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := TheilSen(x, y); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMannKendall(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := MannKendall(benchSeries); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFitForecast fits each model (configured by New as Auto configures
// it, with periods 24 and 168; naive2 with period 24) and forecasts 48 steps
// with 80% and 95% intervals, on synthetic hourly series (daily and weekly
// cycles, trend, Gaussian noise; fixed seed) of 168, 720, 2000 and 10000
// observations.
func BenchmarkFitForecast(b *testing.B) {
	names := append(ModelNames(), "naive2")
	for _, n := range []int{168, 720, 2000, 10000} {
		y := dailyWeekly(n, 7)
		for _, name := range names {
			b.Run(name+"/n="+strconv.Itoa(n), func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					var f Forecaster
					if name == "naive2" {
						f = &Naive2{Period: 24}
					} else {
						var err error
						if f, err = New(name, y, []int{24, 168}, 1); err != nil {
							b.Fatal(err)
						}
					}
					if _, err := FitForecast(f, y, Options{Horizon: 48}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
