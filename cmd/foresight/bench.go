package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/seed-f1b503aa/foresight/benchmark"
	"github.com/seed-f1b503aa/foresight/datasets"
)

// cmdBench runs a benchmark: "bench m4 -data DIR [flags]".
func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "scenarios" {
		return cmdBenchScenarios(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "jobs" {
		return cmdBenchJobs(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "api" {
		return cmdBenchAPI(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "ingest" {
		return cmdBenchIngest(ctx, args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] != "m4" {
		fmt.Fprintln(stderr, "usage: foresight bench m4 -data DIR [-models LIST] [-csv FILE] [-series-csv FILE] [-workers N] [-limit N] [-seed N] [-timeout D]")
		fmt.Fprintln(stderr, "       foresight bench scenarios [-seeds 1,2,3] [-only disk,memleak,monthend]")
		fmt.Fprintln(stderr, "       foresight bench jobs -influx-url URL [-series 5000] [-days 30] [-step 5m] [-load]")
		fmt.Fprintln(stderr, "       foresight bench api -server URL [-token T] [-clients 200] [-duration 30s] [-rate 0] [-paths default] [-json]")
		fmt.Fprintln(stderr, "       foresight bench ingest -server URL [-token T] [-duration 60s] [-clients 8] [-batch 5000] [-series 10000] [-rate 0] [-gzip]")
		if len(args) == 0 {
			return usageError{"bench: name a benchmark (m4, scenarios or api)"}
		}
		return usageError{fmt.Sprintf("bench: unknown benchmark %q (use m4, scenarios or api)", args[0])}
	}
	fs := flag.NewFlagSet("bench m4", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "directory with Hourly-train.csv and Hourly-test.csv (required)")
	modelList := fs.String("models", strings.Join(benchmark.DefaultM4Models(), ","),
		"comma-separated models: "+strings.Join(benchmark.KnownM4Models(), ", "))
	csvPath := fs.String("csv", "", "also write the table as CSV to this file")
	seriesPath := fs.String("series-csv", "", "also write every model's per-series scores as CSV to this file")
	workers := fs.Int("workers", 0, "series forecast concurrently (default GOMAXPROCS)")
	limit := fs.Int("limit", 0, "use only the first N series (0: all)")
	seed := fs.Uint64("seed", 1, "random seed passed to every model")
	timeout := fs.Duration("timeout", 30*time.Minute, "stop the benchmark after this long")
	quiet := fs.Bool("quiet", false, "do not report progress on stderr")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *data == "" || fs.NArg() > 0 {
		fs.Usage()
		return usageError{"bench m4: -data is required and takes no positional arguments"}
	}
	if *limit < 0 || *workers < 0 {
		return usageError{"bench m4: -limit and -workers must not be negative"}
	}
	var names []string
	for _, m := range strings.Split(*modelList, ",") {
		if m = strings.TrimSpace(m); m != "" {
			names = append(names, m)
		}
	}
	series, err := datasets.LoadM4(filepath.Join(*data, "Hourly-train.csv"), filepath.Join(*data, "Hourly-test.csv"))
	if err != nil {
		return err
	}
	if *limit > 0 && *limit < len(series) {
		series = series[:*limit]
	}
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	opts := benchmark.M4Options{Models: names, Workers: *workers, Seed: *seed}
	if !*quiet {
		opts.Progress = func(r benchmark.M4Row) {
			fmt.Fprintf(stderr, "bench m4: %-10s sMAPE %.3f MASE %.3f  %.1f series/s\n", r.Model, r.SMAPE, r.MASE, r.SeriesPerSec)
		}
	}
	rep, err := benchmark.RunM4(ctx, series, opts)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("%w (raise -timeout)", err)
		}
		return err
	}
	if _, err := io.WriteString(stdout, rep.Markdown()); err != nil {
		return err
	}
	if err := writeBenchFile(*csvPath, rep.CSV); err != nil {
		return err
	}
	return writeBenchFile(*seriesPath, rep.SeriesCSV)
}

// writeBenchFile writes path with write, doing nothing for an empty path.
func writeBenchFile(path string, write func(io.Writer) error) error {
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
