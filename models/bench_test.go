package models

import "testing"

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
