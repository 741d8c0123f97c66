package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/seed-f1b503aa/foresight/config"
	"github.com/seed-f1b503aa/foresight/datasets"
	"github.com/seed-f1b503aa/foresight/engine"
	"github.com/seed-f1b503aa/foresight/engine/fleet"
	"github.com/seed-f1b503aa/foresight/jobs"
	"github.com/seed-f1b503aa/foresight/storage/influx"
	"github.com/seed-f1b503aa/foresight/storage/state"
)

// benchMeasurement holds the generated series.
const benchMeasurement = "bench_load"

// cmdBenchJobs measures one forecast job end to end against InfluxDB:
// "bench jobs -influx-url URL [-series 5000 -days 30 -step 5m -load]".
// With -load it first writes the generated history (series × days at
// step) in large batches; then it runs a forecast job over every series
// (list, batched reads downsampled in the store, forecasts on a bounded
// pool, write-back) and prints load time, run wall time, series/s, points
// read and written, failures and the peak resident memory.
func cmdBenchJobs(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench jobs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	influxURL := fs.String("influx-url", "", "InfluxDB URL (required), e.g. http://127.0.0.1:18086")
	bucket := fs.String("bucket", "foresight_bench", "database (1.8; created with -load) or bucket (2.x)")
	token := fs.String("token", "", "InfluxDB token (1.8: user:password, or empty)")
	org := fs.String("org", "", "InfluxDB 2.x organisation (empty for 1.8)")
	nSeries := fs.Int("series", 5000, "number of series")
	days := fs.Int("days", 30, "days of history per series")
	step := fs.Duration("step", 5*time.Minute, "sampling interval of the generated history")
	load := fs.Bool("load", false, "generate and write the history first")
	writers := fs.Int("writers", 2, "concurrent writers while loading")
	endFlag := fs.String("end", datasets.DefaultEnd.Format(time.RFC3339), "end of the generated history and the job's \"now\"")
	fstep := fs.Duration("forecast-step", time.Hour, "the job's step: the history is downsampled to it in the store")
	horizon := fs.Int("horizon", 48, "forecast horizon in steps")
	model := fs.String("model", "auto", "forecast model")
	workers := fs.Int("workers", 0, "forecast workers (0: GOMAXPROCS)")
	readBatch := fs.Int("read-batch", jobs.DefaultReadBatch, "series per ReadMany")
	timeout := fs.Duration("timeout", 30*time.Minute, "the job's timeout")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *influxURL == "" || fs.NArg() > 0 {
		fs.Usage()
		return usageError{"bench jobs: -influx-url is required and takes no positional arguments"}
	}
	if *nSeries <= 0 || *days <= 0 || *step <= 0 || *fstep <= 0 || *horizon <= 0 || *writers <= 0 {
		return usageError{"bench jobs: -series, -days, -step, -forecast-step, -horizon and -writers must be positive"}
	}
	end, err := time.Parse(time.RFC3339, *endFlag)
	if err != nil {
		return usageError{"bench jobs: -end: " + err.Error()}
	}
	end = end.UTC().Truncate(*step)
	store, err := influx.New(influx.Config{URL: *influxURL, Token: *token, Org: *org, Bucket: *bucket, WriteBatchSize: 10000,
		Timeouts: influx.Timeouts{Write: 2 * time.Minute, Query: 5 * time.Minute}})
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.Ping(ctx); err != nil {
		return err
	}
	perSeries := int(time.Duration(*days) * 24 * time.Hour / *step)
	var loadTime time.Duration
	var loadRSS int64
	if *load {
		if *org == "" || *org == "-" {
			db, _, _ := strings.Cut(*bucket, "/")
			if err := influxCreateDB(ctx, *influxURL, *token, db); err != nil {
				return err
			}
		}
		start := time.Now()
		if err := benchLoad(ctx, store, *nSeries, perSeries, end, *step, *writers, stderr); err != nil {
			return err
		}
		loadTime = time.Since(start)
		loadRSS = peakRSS()
		resetPeakRSS()
	}

	dir, err := os.MkdirTemp("", "foresight-bench-jobs-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	st, err := state.Open(ctx, state.Config{Driver: state.DriverSQLite, Path: filepath.Join(dir, "state.db")})
	if err != nil {
		return err
	}
	defer st.Close(context.Background())
	counting := &countingStore{MetricStore: store}
	spec := config.JobSpec{Name: "bench-forecast", Type: jobs.TypeForecast, Schedule: "@every 1h", Timeout: config.Duration(*timeout),
		Forecast: config.ForecastJobSpec{Measurement: benchMeasurement, Field: "value",
			History: config.Duration(time.Duration(*days) * 24 * time.Hour), Step: config.Duration(*fstep), Horizon: *horizon,
			Model: *model, Levels: []float64{80, 95}}}
	svc, err := jobs.New(jobs.Options{Store: counting, State: st, Rules: fleet.DefaultRules(), Now: func() time.Time { return end },
		Workers: *workers, ReadBatch: *readBatch,
		Config: config.JobsConfig{StoreRetries: 3, RetryBackoff: config.Duration(time.Second),
			Writeback: config.WritebackConfig{Enabled: true, Predictions: "foresight_prediction", Forecasts: "foresight_forecast"},
			Run:       []config.JobSpec{spec}}})
	if err != nil {
		return err
	}
	defer svc.Stop(context.Background()) //nolint:errcheck // nothing left running
	fmt.Fprintf(stderr, "bench jobs: forecasting %d series (%d days at %s, downsampled to %s in the store, horizon %d, model %s)...\n",
		*nSeries, *days, *step, *fstep, *horizon, *model)
	start := time.Now()
	rec, err := svc.RunNow(ctx, spec.Name)
	wall := time.Since(start)
	if err != nil {
		return err
	}
	status, _ := svc.Get(ctx, spec.Name)
	runRSS := peakRSS()

	rows := [][2]string{
		{"series", strconv.Itoa(rec.Series)},
		{"raw points per series (" + step.String() + ")", strconv.Itoa(perSeries)},
	}
	if *load {
		rows = append(rows,
			[2]string{"points loaded", strconv.Itoa(perSeries * *nSeries)},
			[2]string{"load time", loadTime.Round(time.Millisecond).String()},
			[2]string{"load rate (points/s)", fmt.Sprintf("%.0f", float64(perSeries**nSeries)/loadTime.Seconds())},
			[2]string{"peak RSS while loading", fmtMiB(loadRSS)})
	}
	rows = append(rows,
		[2]string{"run wall time", wall.Round(time.Millisecond).String()},
		[2]string{"series/s", fmt.Sprintf("%.1f", float64(rec.Series)/wall.Seconds())},
		[2]string{"points read (downsampled to " + fstep.String() + ")", strconv.FormatInt(counting.read.Load(), 10)},
		[2]string{"raw points aggregated in the store", strconv.Itoa(perSeries * rec.Series)},
		[2]string{"forecast points written back", strconv.FormatInt(counting.written.Load(), 10)},
		[2]string{"failures", strconv.Itoa(rec.Failures)},
		[2]string{"peak RSS of the run (VmHWM)", fmtMiB(runRSS)},
	)
	w := bufio.NewWriter(stdout)
	fmt.Fprintln(w, "| bench jobs | |")
	fmt.Fprintln(w, "|---|---|")
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %s |\n", r[0], r[1])
	}
	for i, f := range status.Failures {
		if i == 5 {
			break
		}
		fmt.Fprintf(w, "\nfailure: %s: %s", f.Series, f.Reason)
	}
	if len(status.Failures) > 0 {
		fmt.Fprintln(w)
	}
	return w.Flush()
}

// benchValue is the deterministic generator: a daily cycle with a
// per-series amplitude and phase, a linear trend and AR(1) noise.
type benchValue struct {
	base, amp, phase, trend, noise float64
	rng                            *rand.Rand
	last                           float64
}

func newBenchValue(i int) *benchValue {
	rng := rand.New(rand.NewPCG(uint64(i)+1, 0x5eed))
	return &benchValue{base: 20 + 60*rng.Float64(), amp: 2 + 15*rng.Float64(), phase: 2 * math.Pi * rng.Float64(),
		trend: (rng.Float64() - 0.3) * 0.5, noise: 0.5 + 2*rng.Float64(), rng: rng}
}

func (b *benchValue) at(t time.Time, day float64) float64 {
	b.last = 0.7*b.last + b.rng.NormFloat64()*b.noise
	hour := float64(t.Hour()) + float64(t.Minute())/60
	return b.base + b.amp*math.Sin(2*math.Pi*hour/24+b.phase) + b.trend*day + b.last
}

// benchKey names series i: 4 instances per host.
func benchKey(i int) map[string]string {
	return map[string]string{"host": fmt.Sprintf("host-%04d", i/4), "instance": "i" + strconv.Itoa(i%4)}
}

// benchLoad writes n series of perSeries points ending before end, in
// batches of about 50,000 points, with writers concurrent writers.
func benchLoad(ctx context.Context, store engine.MetricStore, n, perSeries int, end time.Time, step time.Duration, writers int, stderr io.Writer) error {
	start := end.Add(-time.Duration(perSeries) * step)
	const batchPoints = 50000
	next := make(chan int)
	var done atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, writers)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range writers {
		wg.Go(func() {
			batch := make([]engine.Point, 0, batchPoints+perSeries)
			flush := func() error {
				if len(batch) == 0 {
					return nil
				}
				err := store.Write(ctx, batch)
				batch = batch[:0]
				return err
			}
			for i := range next {
				g := newBenchValue(i)
				tags := benchKey(i)
				for k := range perSeries {
					t := start.Add(time.Duration(k) * step)
					v := g.at(t, t.Sub(start).Hours()/24)
					batch = append(batch, engine.Point{Measurement: benchMeasurement, Tags: tags, Fields: map[string]float64{"value": v}, Time: t})
				}
				if len(batch) >= batchPoints {
					if err := flush(); err != nil {
						errc <- err
						cancel()
						return
					}
				}
				done.Add(1)
			}
			if err := flush(); err != nil {
				errc <- err
				cancel()
			}
		})
	}
	t0 := time.Now()
	lastReport := t0
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
		if time.Since(lastReport) > 5*time.Second {
			lastReport = time.Now()
			d := done.Load()
			fmt.Fprintf(stderr, "bench jobs: loaded %d of %d series (%.0f points/s)\n", d, n, float64(d)*float64(perSeries)/time.Since(t0).Seconds())
		}
	}
	close(next)
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return fmt.Errorf("loading: %w", err)
	}
	return ctx.Err()
}

// influxCreateDB creates an InfluxDB 1.x database (a no-op when it exists).
func influxCreateDB(ctx context.Context, base, token, db string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(base, "/")+"/query",
		strings.NewReader(url.Values{"q": {`CREATE DATABASE "` + strings.ReplaceAll(db, `"`, `\"`) + `"`}}.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user, pass, ok := strings.Cut(token, ":"); ok {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("create database %s: %w", db, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || strings.Contains(string(body), `"error"`) {
		return fmt.Errorf("create database %s: %s %s", db, resp.Status, body)
	}
	return nil
}

// countingStore counts the samples read and the points written.
type countingStore struct {
	engine.MetricStore
	read, written atomic.Int64
}

func (c *countingStore) ReadMany(ctx context.Context, keys []engine.SeriesKey, q engine.RangeQuery) ([]engine.Series, error) {
	ss, err := c.MetricStore.ReadMany(ctx, keys, q)
	for _, s := range ss {
		c.read.Add(int64(len(s.Samples)))
	}
	return ss, err
}

func (c *countingStore) Write(ctx context.Context, points []engine.Point) error {
	err := c.MetricStore.Write(ctx, points)
	if err == nil {
		c.written.Add(int64(len(points)))
	}
	return err
}

// peakRSS reads the process's peak resident set size (VmHWM) in bytes; 0
// where /proc is not available.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// resetPeakRSS resets VmHWM to the current RSS (Linux: clear_refs 5), so
// the run's peak is measured apart from the load's.
func resetPeakRSS() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

func fmtMiB(b int64) string {
	if b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20))
}
