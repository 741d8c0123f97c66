package benchmark

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/seed-f1b503aa/foresight/datasets"
)

func loadM4Tiny(t *testing.T) []datasets.M4Series {
	t.Helper()
	s, err := datasets.LoadM4("../datasets/testdata/m4/Tiny-train.csv", "../datasets/testdata/m4/Tiny-test.csv")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func m4Near(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-6*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %.9g, want %.9g", what, got, want)
	}
}

// TestRunM4Tiny checks the measures on the three-series fixture (period 2,
// horizon 2) against values worked out by hand:
//
//	T1 train 10 12 14 13 11 9.5, test 8 7
//	T2 train 100 110,           test 120 130
//	T3 train -1.5 0 1000 7,     test 8 9
//
// snaive (m = 2) forecasts T1 with 11, 9.5 and T3 with 1000, 7; it needs
// three observations, so on T2 the runner falls back to the naive forecast
// 110, 110. The MASE scales (mean |y_t - y_{t-2}|) are 11.5/4 = 2.875 for T1,
// (1001.5+7)/2 = 504.25 for T3 and, as T2 is too short for lag 2, the lag-1
// value 10.
//
//	sMAPE  T1 100·(3/19 + 2.5/16.5) = 30.940989, T2 100·(10/230 + 20/240) =
//	       12.681159, T3 100·(992/1008 + 2/16) = 110.912698
//	MASE   T1 2.75/2.875, T2 15/10, T3 497/504.25
//
// naive2 (m = 2): T1 has n = 6 >= 3m but fails the seasonality test
// (r_1 = 0.2735, r_2 = -0.4995, |r_2|/√((1+2r_1²)/6) = 1.14 < 1.645); T2 and
// T3 are shorter than 3m. So it is the naive method everywhere: T1 9.5 9.5,
// T2 110 110, T3 7 7.
//
//	sMAPE  T1 100·(1.5/17.5 + 2.5/16.5) = 23.722944, T3 100·(1/15 + 2/16) =
//	       19.166667
//	MASE   T1 2/2.875, T3 1.5/504.25
//
// Intervals (normal, FPP3 §5.5): snaive σ is √(38.25/4) = 3.0923 for T1
// (both steps inside its 80% half-width 3.963), √((1001.5²+7²)/2) = 708.19
// for T3 (|8-1000| = 992 is outside the 80% half-width 907.6 but inside the
// 95% one, 1388.0); the naive fallback on T2 has σ = 10, so 130 is outside
// the 80% half-width 18.12 at step 2 but inside the 95% one. The 95%
// intervals contain every test point, so MSIS is the mean width over the
// scale: T1 2·6.060854/2.875, T2 (2·19.59964+2·27.71808)/2/10, T3
// 2·1388.0166/504.25.
func TestRunM4Tiny(t *testing.T) {
	series := loadM4Tiny(t)
	var progress []string
	rep, err := RunM4(context.Background(), series, M4Options{
		Models: []string{"snaive", "naive2"}, Horizon: 2, Period: 2, Workers: 2,
		Progress: func(r M4Row) { progress = append(progress, r.Model) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(progress, ",") != "snaive,naive2" || len(rep.Rows) != 2 || rep.Series != 3 {
		t.Fatalf("rows %+v, progress %v", rep.Rows, progress)
	}
	sn, _ := rep.Row("snaive")
	n2, _ := rep.Row("naive2")

	snSMAPE := (30.940988836 + 12.681159420 + 110.912698413) / 3
	snMASE := (2.75/2.875 + 15.0/10 + 497/504.25) / 3
	m4Near(t, "snaive sMAPE", sn.SMAPE, snSMAPE)
	m4Near(t, "snaive MASE", sn.MASE, snMASE)
	m4Near(t, "snaive coverage80", sn.Cov80, 4.0/6)
	m4Near(t, "snaive coverage95", sn.Cov95, 1)
	m4Near(t, "snaive MSIS", sn.MSIS, (2*6.060853898/2.875+(2*19.599639845+2*27.718076)/2/10+2*1388.016583460/504.25)/3)
	if sn.Fallbacks != 1 || !sn.Scores[1].Fallback || sn.Scores[1].Err == nil || sn.Scores[0].Fallback {
		t.Errorf("snaive fallbacks: %+v", sn.Scores)
	}

	n2SMAPE := (23.722943723 + 12.681159420 + 19.166666667) / 3
	n2MASE := (2/2.875 + 15.0/10 + 1.5/504.25) / 3
	m4Near(t, "naive2 sMAPE", n2.SMAPE, n2SMAPE)
	m4Near(t, "naive2 MASE", n2.MASE, n2MASE)
	m4Near(t, "naive2 coverage80", n2.Cov80, 5.0/6)
	m4Near(t, "naive2 coverage95", n2.Cov95, 1)
	if n2.Fallbacks != 0 {
		t.Errorf("naive2 fallbacks %d", n2.Fallbacks)
	}

	// OWA against the published Naive2 and against this run's naive2
	m4Near(t, "OWA", sn.OWA, 0.5*(snSMAPE/PublishedNaive2SMAPE+snMASE/PublishedNaive2MASE))
	m4Near(t, "OWA own", sn.OWAOwn, 0.5*(snSMAPE/n2SMAPE+snMASE/n2MASE))
	m4Near(t, "naive2 OWA own", n2.OWAOwn, 1)

	// The accuracy does not depend on the number of workers.
	rep1, err := RunM4(context.Background(), series, M4Options{Models: []string{"snaive", "naive2"}, Horizon: 2, Period: 2, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i := range rep.Rows {
		a, b := rep.Rows[i], rep1.Rows[i]
		if a.SMAPE != b.SMAPE || a.MASE != b.MASE || a.MSIS != b.MSIS || a.Cov80 != b.Cov80 {
			t.Errorf("%s differs between 2 and 1 workers", a.Model)
		}
	}

	md := rep.Markdown()
	for _, want := range []string{"| model | series | sMAPE |", "| snaive | 3 | 51.512 | 1.147 |", "| naive2 | 3 |"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	var buf bytes.Buffer
	if err := rep.CSV(&buf); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(recs) != 3 || recs[0][0] != "model" || recs[1][0] != "snaive" || recs[2][0] != "naive2" {
		t.Fatalf("csv %v %v", recs, err)
	}
	buf.Reset()
	if err := rep.SeriesCSV(&buf); err != nil {
		t.Fatal(err)
	}
	recs, err = csv.NewReader(&buf).ReadAll()
	if err != nil || len(recs) != 1+2*3 || recs[2][1] != "T2" || recs[2][8] == "" {
		t.Fatalf("series csv %v %v", recs, err)
	}
}

func TestRunM4Errors(t *testing.T) {
	series := loadM4Tiny(t)
	if _, err := RunM4(context.Background(), series, M4Options{Models: []string{"prophet"}}); err == nil || !strings.Contains(err.Error(), "unknown model") {
		t.Errorf("unknown model: %v", err)
	}
	if _, err := RunM4(context.Background(), nil, M4Options{}); err == nil {
		t.Error("no series accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := RunM4(ctx, series, M4Options{Models: []string{"snaive"}, Horizon: 2, Period: 2}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// TestRunM4AllModels runs every model on a few synthetic hourly series: no
// model may fail or fall back, and auto must beat the seasonal naive method.
func TestRunM4AllModels(t *testing.T) {
	var series []datasets.M4Series
	for k := 0; k < 4; k++ {
		n := 700 + 48
		y := make([]float64, n)
		for i := range y {
			day := math.Sin(2 * math.Pi * float64(i) / 24)
			week := 0.0
			if (i/24)%7 >= 5 {
				week = -15
			}
			// deterministic pseudo-noise
			noise := math.Sin(float64(i*i%97+k)) * 2
			y[i] = 100 + 0.02*float64(i) + 20*day + week + noise + 10*float64(k)
		}
		series = append(series, datasets.M4Series{ID: "S" + string(rune('0'+k)), Train: y[:700], Test: y[700:]})
	}
	rep, err := RunM4(context.Background(), series, M4Options{Models: KnownM4Models(), Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Rows {
		if r.Fallbacks != 0 || math.IsNaN(r.SMAPE) || math.IsNaN(r.Cov95) {
			t.Errorf("%s: %+v", r.Model, r.Scores[0])
		}
	}
	auto, _ := rep.Row("auto")
	sn, _ := rep.Row("snaive")
	if auto.MASE >= sn.MASE {
		t.Errorf("auto MASE %.3f not below snaive %.3f", auto.MASE, sn.MASE)
	}
}
