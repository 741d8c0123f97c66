// This file is the M4 Hourly benchmark of the forecasting models of package
// models (Makridakis, Spiliotis & Assimakopoulos, "The M4 Competition:
// 100,000 time series and 61 forecasting methods", International Journal of
// Forecasting 36(1), 2020).
//
// Everything is deterministic: every model gets the same explicit seed, each
// series is forecast independently, and the per-series results are reduced in
// series order, so the accuracy columns do not depend on the number of
// workers. Only the speed columns (wall-clock and processor time) vary
// between runs.

package benchmark

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/seed-f1b503aa/foresight/datasets"
	"github.com/seed-f1b503aa/foresight/models"
)

// Published M4 Hourly results of the two benchmarks the runner reproduces
// (sMAPE, MASE), from the competition's results table.
const (
	PublishedNaive2SMAPE = 18.383
	PublishedNaive2MASE  = 2.395
	PublishedSNaiveSMAPE = 13.912
	PublishedSNaiveMASE  = 1.193
	PublishedSNaiveOWA   = 0.627
)

// Model names understood by RunM4 in addition to models.ModelNames().
const (
	M4ModelNaive2     = "naive2"    // M4 Naive2 benchmark (models.Naive2)
	M4ModelNaive      = "naive"     // random walk
	M4ModelSNaiveWeek = "snaive168" // seasonal naive with the long period
)

// DefaultM4Models returns the models RunM4 evaluates by default, in report
// order.
func DefaultM4Models() []string {
	return []string{models.ModelAuto, models.CandidateSNaive, M4ModelNaive2, models.CandidateETS,
		models.CandidateMSTL, models.CandidateTheta, models.CandidateRegression}
}

// KnownM4Models returns every model name RunM4 accepts.
func KnownM4Models() []string {
	return append(DefaultM4Models(), M4ModelNaive, M4ModelSNaiveWeek)
}

// M4Options configure RunM4. Zero values take the M4 Hourly defaults.
type M4Options struct {
	// Models to evaluate, in report order (default DefaultM4Models()).
	Models []string
	// Horizon is the forecast length (default 48). Series whose test part is
	// shorter are scored on the test values they have.
	Horizon int
	// Period is the seasonal period of the data: the lag of the MASE and
	// MSIS scale and the period of the snaive and naive2 benchmarks
	// (default 24).
	Period int
	// Periods are the seasonal periods given to the other models (default
	// Period and 7·Period, i.e. daily and weekly cycles of hourly data).
	Periods []int
	// Workers bounds the number of series forecast concurrently (default
	// GOMAXPROCS).
	Workers int
	// Seed is passed to every model.
	Seed uint64
	// Naive2SMAPE and Naive2MASE are the reference averages of the OWA
	// (default the published M4 Hourly values).
	Naive2SMAPE, Naive2MASE float64
	// Progress, if non-nil, is called after each model with its row.
	Progress func(M4Row)
}

func (o M4Options) withDefaults() (M4Options, error) {
	if len(o.Models) == 0 {
		o.Models = DefaultM4Models()
	}
	known := map[string]bool{}
	for _, m := range KnownM4Models() {
		known[m] = true
	}
	seen := map[string]bool{}
	for _, m := range o.Models {
		if !known[m] {
			return o, fmt.Errorf("benchmark: unknown model %q (use one of %s)", m, strings.Join(KnownM4Models(), ", "))
		}
		if seen[m] {
			return o, fmt.Errorf("benchmark: model %q listed twice", m)
		}
		seen[m] = true
	}
	if o.Horizon <= 0 {
		o.Horizon = 48
	}
	if o.Period <= 0 {
		o.Period = 24
	}
	if o.Periods == nil {
		o.Periods = []int{o.Period, 7 * o.Period}
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.Naive2SMAPE <= 0 {
		o.Naive2SMAPE = PublishedNaive2SMAPE
	}
	if o.Naive2MASE <= 0 {
		o.Naive2MASE = PublishedNaive2MASE
	}
	return o, nil
}

// M4SeriesScore is the accuracy of one model on one series. Fallback is true
// when the model failed on the series (Err says why) and the scores are those
// of the naive forecast that replaced it, as every method must forecast every
// series.
type M4SeriesScore struct {
	ID                 string
	SMAPE, MASE        float64
	Cov80, Cov95, MSIS float64
	Model              string
	Fallback           bool
	Err                error
}

// M4Row is the summary of one model over all series. SMAPE, MASE and MSIS (95%)
// are means over series; Cov80 and Cov95 are the fractions of all test points
// inside the 80% and 95% intervals. OWA is relative to the published Naive2
// averages (M4Options), OWAOwn relative to the Naive2 row of the same run (NaN
// when naive2 was not run). Elapsed is the wall-clock time of fitting and
// forecasting all series with Workers goroutines; SeriesPerSec = Series /
// Elapsed. CPU is the processor time the whole process used meanwhile (user +
// system, where the platform reports it; 0 otherwise): unlike Elapsed it does
// not grow when other programs compete for the processors. Fallbacks counts
// the series where the model failed.
type M4Row struct {
	Model        string
	Series       int
	SMAPE, MASE  float64
	OWA, OWAOwn  float64
	Cov80, Cov95 float64
	MSIS         float64
	Elapsed      time.Duration
	CPU          time.Duration
	SeriesPerSec float64
	Fallbacks    int
	Scores       []M4SeriesScore
}

// M4Report is the result of RunM4: one row per model, in the order requested.
type M4Report struct {
	Series                  int
	Horizon, Period         int
	Periods                 []int
	Workers                 int
	Naive2SMAPE, Naive2MASE float64
	Rows                    []M4Row
}

// Row returns the row of the named model.
func (r *M4Report) Row(model string) (M4Row, bool) {
	for _, row := range r.Rows {
		if row.Model == model {
			return row, true
		}
	}
	return M4Row{}, false
}

// newM4Model returns a fresh model for one series.
func newM4Model(name string, train []float64, o M4Options) (models.Forecaster, error) {
	switch name {
	case models.CandidateSNaive:
		return &models.SeasonalNaive{Period: o.Period}, nil
	case M4ModelSNaiveWeek:
		p := 0
		for _, q := range o.Periods {
			p = max(p, q)
		}
		return &models.SeasonalNaive{Period: p}, nil
	case M4ModelNaive:
		return &models.SeasonalNaive{Period: 1}, nil
	case M4ModelNaive2:
		return &models.Naive2{Period: o.Period}, nil
	case models.ModelAuto:
		// Auto is told the forecast horizon, so that its hold-out matches
		// the task (as models.AutoForecast does).
		return &models.Auto{Periods: o.Periods, Combine: true, Horizon: o.Horizon, Seed: o.Seed}, nil
	}
	return models.New(name, train, o.Periods, o.Seed)
}

// RunM4 forecasts every series with every model of opts and scores the
// forecasts against the held-out test values with the M4 measures: sMAPE,
// MASE (scale: in-sample seasonal naive with lag Period), OWA, the coverage
// of the 80% and 95% intervals and the MSIS of the 95% interval. Models are
// run one after the other, each over all series with a pool of Workers
// goroutines, so each row's speed is measured alone. It stops early with
// ctx's error when ctx is done.
func RunM4(ctx context.Context, series []datasets.M4Series, opts M4Options) (M4Report, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return M4Report{}, err
	}
	if len(series) == 0 {
		return M4Report{}, errors.New("benchmark: no series")
	}
	for _, s := range series {
		if len(s.Test) == 0 {
			return M4Report{}, fmt.Errorf("benchmark: series %s has no test values", s.ID)
		}
	}
	rep := M4Report{Series: len(series), Horizon: o.Horizon, Period: o.Period, Periods: o.Periods,
		Workers: o.Workers, Naive2SMAPE: o.Naive2SMAPE, Naive2MASE: o.Naive2MASE}
	for _, name := range o.Models {
		row, err := runM4Model(ctx, name, series, o)
		if err != nil {
			return rep, err
		}
		rep.Rows = append(rep.Rows, row)
		if o.Progress != nil {
			o.Progress(row)
		}
	}
	own, haveOwn := rep.Row(M4ModelNaive2)
	for i := range rep.Rows {
		r := &rep.Rows[i]
		r.OWA = 0.5 * (r.SMAPE/o.Naive2SMAPE + r.MASE/o.Naive2MASE)
		r.OWAOwn = math.NaN()
		if haveOwn {
			r.OWAOwn = 0.5 * (r.SMAPE/own.SMAPE + r.MASE/own.MASE)
		}
	}
	return rep, nil
}

func runM4Model(ctx context.Context, name string, series []datasets.M4Series, o M4Options) (M4Row, error) {
	scores := make([]M4SeriesScore, len(series))
	// per-series counts of test points inside the intervals
	in80 := make([]int, len(series))
	in95 := make([]int, len(series))
	npts := make([]int, len(series))
	jobs := make(chan int)
	var wg sync.WaitGroup
	cpu0 := processCPU()
	start := time.Now()
	for w := 0; w < o.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				scores[i], in80[i], in95[i], npts[i] = scoreM4Series(name, series[i], o)
			}
		}()
	}
	var ctxErr error
feed:
	for i := range series {
		select {
		case jobs <- i:
		case <-ctx.Done():
			ctxErr = ctx.Err()
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	cpu := processCPU() - cpu0
	if ctxErr != nil {
		return M4Row{}, fmt.Errorf("benchmark: %s: %w", name, ctxErr)
	}
	row := M4Row{Model: name, Series: len(series), Elapsed: elapsed, CPU: cpu, Scores: scores}
	var sm, ms, msis float64
	var c80, c95, pts int
	for i, s := range scores {
		sm += s.SMAPE
		ms += s.MASE
		msis += s.MSIS
		c80 += in80[i]
		c95 += in95[i]
		pts += npts[i]
		if s.Fallback {
			row.Fallbacks++
		}
	}
	n := float64(len(series))
	row.SMAPE, row.MASE, row.MSIS = sm/n, ms/n, msis/n
	row.Cov80 = float64(c80) / float64(pts)
	row.Cov95 = float64(c95) / float64(pts)
	if elapsed > 0 {
		row.SeriesPerSec = n / elapsed.Seconds()
	}
	return row, nil
}

// scoreM4Series forecasts one series and scores it. It also returns the
// numbers of test points inside the 80% and 95% intervals and the number of
// test points scored.
func scoreM4Series(name string, s datasets.M4Series, o M4Options) (M4SeriesScore, int, int, int) {
	h := min(o.Horizon, len(s.Test))
	test := s.Test[:h]
	levels := []float64{0.8, 0.95}
	sc := M4SeriesScore{ID: s.ID}
	fc, err := forecastM4(name, s.Train, h, levels, o)
	if err != nil {
		sc.Fallback, sc.Err = true, err
		fb := &models.SeasonalNaive{Period: 1}
		fc, err = models.FitForecast(fb, s.Train, models.Options{Horizon: h, Levels: levels})
		if err != nil {
			// Not even the naive method applies (no finite value): a
			// zero forecast with empty intervals.
			fc = models.Forecast{Mean: make([]float64, h), Intervals: []models.Interval{
				{Level: 0.8, Lo: make([]float64, h), Hi: make([]float64, h)},
				{Level: 0.95, Lo: make([]float64, h), Hi: make([]float64, h)}}}
		}
	}
	sc.Model = fc.Model
	sc.SMAPE = models.SMAPE(test, fc.Mean)
	sc.MASE = models.MASE(test, fc.Mean, s.Train, o.Period)
	iv80, iv95 := fc.Intervals[0], fc.Intervals[1]
	sc.MSIS = models.MSIS(test, iv95.Lo, iv95.Hi, s.Train, o.Period, 0.95)
	sc.Cov80 = models.Coverage(test, iv80.Lo, iv80.Hi)
	sc.Cov95 = models.Coverage(test, iv95.Lo, iv95.Hi)
	var in80, in95 int
	for i, y := range test {
		if y >= iv80.Lo[i] && y <= iv80.Hi[i] {
			in80++
		}
		if y >= iv95.Lo[i] && y <= iv95.Hi[i] {
			in95++
		}
	}
	return sc, in80, in95, h
}

// forecastM4 fits the named model to train and forecasts h steps, turning a
// panic of a model into an error so that one series cannot stop the run.
func forecastM4(name string, train []float64, h int, levels []float64, o M4Options) (fc models.Forecast, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s panicked: %v", name, r)
		}
	}()
	m, err := newM4Model(name, train, o)
	if err != nil {
		return models.Forecast{}, err
	}
	fc, err = models.FitForecast(m, train, models.Options{Horizon: h, Levels: levels, Seed: o.Seed})
	if err != nil {
		return models.Forecast{}, err
	}
	if len(fc.Mean) != h || len(fc.Intervals) != 2 {
		return models.Forecast{}, fmt.Errorf("%s returned %d steps and %d intervals", name, len(fc.Mean), len(fc.Intervals))
	}
	for _, v := range fc.Mean {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return models.Forecast{}, fmt.Errorf("%s returned a non-finite forecast", name)
		}
	}
	return fc, nil
}

// columns of the Markdown table and the CSV file
var m4Header = []string{"model", "series", "sMAPE", "MASE", "OWA", "OWA_own_naive2",
	"coverage80", "coverage95", "MSIS95", "seconds", "series_per_s", "cpu_ms_per_series", "fallbacks"}

func (r *M4Report) cells(row M4Row, prec int) []string {
	f := func(v float64, p int) string {
		if math.IsNaN(v) {
			return "NaN"
		}
		return strconv.FormatFloat(v, 'f', p, 64)
	}
	ms := math.NaN()
	if row.Series > 0 && row.CPU > 0 {
		ms = row.CPU.Seconds() * 1000 / float64(row.Series)
	}
	return []string{row.Model, strconv.Itoa(row.Series), f(row.SMAPE, prec), f(row.MASE, prec),
		f(row.OWA, prec), f(row.OWAOwn, prec), f(row.Cov80, prec), f(row.Cov95, prec), f(row.MSIS, prec),
		f(row.Elapsed.Seconds(), 2), f(row.SeriesPerSec, 1), f(ms, 2), strconv.Itoa(row.Fallbacks)}
}

// Markdown renders the report as a Markdown table preceded by a line that
// states the set-up and followed by the published reference values.
func (r *M4Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "M4: %d series, horizon %d, period %d, model periods %v, %d workers; OWA relative to Naive2 %.3f / %.3f (published) and to this run's naive2 row (OWA_own_naive2); series_per_s is wall-clock, cpu_ms_per_series the process CPU time per series.\n\n",
		r.Series, r.Horizon, r.Period, r.Periods, r.Workers, r.Naive2SMAPE, r.Naive2MASE)
	b.WriteString("| " + strings.Join(m4Header, " | ") + " |\n")
	b.WriteString("|" + strings.Repeat("---|", len(m4Header)) + "\n")
	for _, row := range r.Rows {
		b.WriteString("| " + strings.Join(r.cells(row, 3), " | ") + " |\n")
	}
	fmt.Fprintf(&b, "\nPublished M4 Hourly: Naive2 sMAPE %.3f MASE %.3f; sNaive sMAPE %.3f MASE %.3f OWA %.3f.\n",
		PublishedNaive2SMAPE, PublishedNaive2MASE, PublishedSNaiveSMAPE, PublishedSNaiveMASE, PublishedSNaiveOWA)
	return b.String()
}

// CSV writes the report rows with a m4Header line (full precision).
func (r *M4Report) CSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(m4Header); err != nil {
		return err
	}
	for _, row := range r.Rows {
		if err := cw.Write(r.cells(row, 6)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// SeriesCSV writes one line per model and series: the model, the series id,
// the model name the forecast reported, the scores, and the error that made
// the runner fall back to the naive forecast (empty if none).
func (r *M4Report) SeriesCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"model", "id", "fitted", "sMAPE", "MASE", "coverage80", "coverage95", "MSIS95", "error"}); err != nil {
		return err
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', 8, 64) }
	for _, row := range r.Rows {
		for _, s := range row.Scores {
			e := ""
			if s.Err != nil {
				e = s.Err.Error()
			}
			if err := cw.Write([]string{row.Model, s.ID, s.Model, f(s.SMAPE), f(s.MASE), f(s.Cov80), f(s.Cov95), f(s.MSIS), e}); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}
