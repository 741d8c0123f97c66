package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"time"

	"github.com/seed-f1b503aa/foresight/config"
	"github.com/seed-f1b503aa/foresight/datasets"
	"github.com/seed-f1b503aa/foresight/engine"
	"github.com/seed-f1b503aa/foresight/storage/embedded"
)

// cmdDemo writes the demo fleet as files.
func cmdDemo(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "output directory (required): fleet.lp, fleet.csv, truth.json")
	hosts := fs.Int("hosts", 20, "number of hosts")
	days := fs.Int("days", 120, "days of history")
	step := fs.Duration("step", time.Minute, "sampling interval")
	seed := fs.Uint64("seed", 42, "random seed")
	end := fs.String("end", "", "end of the history, RFC 3339 (default: the fixed reference date "+datasets.DefaultEnd.Format(time.RFC3339)+"; \"now\" for the current minute)")
	noCSV := fs.Bool("no-csv", false, "skip the CSV file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		fs.Usage()
		return usageError{"demo: -out is required"}
	}
	cfg := datasets.FleetConfig{Hosts: *hosts, Days: *days, Step: *step, Seed: *seed}
	switch *end {
	case "":
	case "now":
		cfg.End = time.Now().UTC().Truncate(time.Minute)
	default:
		t, err := time.Parse(time.RFC3339, *end)
		if err != nil {
			return usageError{fmt.Sprintf("demo: -end %q: use RFC 3339 or now", *end)}
		}
		cfg.End = t
	}
	fleet, err := datasets.GenerateFleet(cfg)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	files := []struct {
		name  string
		write func(io.Writer) error
	}{
		{"fleet.lp", fleet.WriteLineProtocol},
		{"fleet.csv", fleet.WriteCSV},
		{"truth.json", fleet.WriteGroundTruth},
	}
	for _, f := range files {
		if *noCSV && f.name == "fleet.csv" {
			continue
		}
		if err := writeFile(filepath.Join(*out, f.name), f.write); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s\n", filepath.Join(*out, f.name))
	}
	fmt.Fprintf(stdout, "%d hosts, %d series, %d steps of %s from %s to %s\n", len(fleet.Hosts()), fleet.NumSeries(), fleet.Steps(), fleet.Step(),
		fleet.Start().Format(time.RFC3339), fleet.End().Format(time.RFC3339))
	return nil
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := write(bw); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// preloadDemo writes the demo fleet, ending now, into an empty store. It
// does nothing when the store already holds series of the last demo span.
func preloadDemo(ctx context.Context, store engine.MetricStore, c config.DemoConfig, log *slog.Logger, progress func(done, total int64)) error {
	end := time.Now().UTC().Truncate(c.Step.D())
	span := time.Duration(c.Days) * 24 * time.Hour
	existing, err := store.ListSeries(ctx, engine.SeriesFilter{Start: end.Add(-span), End: end.Add(time.Hour), Limit: 1})
	if err != nil {
		return fmt.Errorf("check for existing data: %w", err)
	}
	if len(existing) > 0 {
		log.Info("store already holds data; demo preload skipped")
		return nil
	}
	fleet, err := datasets.GenerateFleet(datasets.FleetConfig{Hosts: c.Hosts, Days: c.Days, Step: c.Step.D(), Seed: c.Seed, End: end})
	if err != nil {
		return err
	}
	start := time.Now()
	total := int64(fleet.Steps())
	log.Info("preloading the demo fleet", "hosts", c.Hosts, "days", c.Days, "step", c.Step.D(), "series", fleet.NumSeries())
	const batchSize = 20000
	batch := make([]engine.Point, 0, batchSize)
	var written int64
	// The embedded store loads history in bulk far faster than through
	// Write (finished blocks, no compaction afterwards); the data becomes
	// visible at the final Commit.
	write := store.Write
	var loader *embedded.Loader
	if es, ok := store.(*embedded.Store); ok {
		if loader, err = es.NewLoader(); err != nil {
			return err
		}
		defer loader.Close()
		write = loader.Add
	}
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := write(ctx, batch); err != nil {
			return err
		}
		written += int64(len(batch))
		progress(int64(batch[len(batch)-1].Time.Sub(fleet.Start())/fleet.Step()), total)
		batch = batch[:0]
		return nil
	}
	err = fleet.Each(func(p engine.Point) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// Each reuses the Fields map: copy it, the batch outlives the call.
		p.Fields = maps.Clone(p.Fields)
		batch = append(batch, p)
		if len(batch) == batchSize {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err == nil && loader != nil {
		err = loader.Commit(ctx)
	}
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return err
		}
		return fmt.Errorf("demo preload after %d points: %w", written, err)
	}
	log.Info("demo fleet loaded", "points", written, "duration", time.Since(start).Round(time.Millisecond))
	return nil
}
