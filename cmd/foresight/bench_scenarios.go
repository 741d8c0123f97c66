package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/seed-f1b503aa/foresight/benchmark"
)

// cmdBenchScenarios runs every risk predictor over generated demo fleets
// against their ground truth, each beside a naive peer, and prints one
// Markdown table set per predictor.
func cmdBenchScenarios(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench scenarios", flag.ContinueOnError)
	fs.SetOutput(stderr)
	seedsFlag := fs.String("seeds", "", "comma-separated fleet seeds (default: each benchmark's own set)")
	only := fs.String("only", "disk,memleak,monthend", "which predictors to run")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var seeds []uint64
	if *seedsFlag != "" {
		for _, p := range strings.Split(*seedsFlag, ",") {
			n, err := strconv.ParseUint(strings.TrimSpace(p), 10, 64)
			if err != nil {
				return usageError{fmt.Sprintf("bench scenarios: -seeds: %q is not a number", p)}
			}
			seeds = append(seeds, n)
		}
	}
	for _, kind := range strings.Split(*only, ",") {
		var md string
		switch strings.TrimSpace(kind) {
		case "disk":
			r, err := benchmark.ScenariosDisk(ctx, benchmark.DiskScenarioOptions{Seeds: seeds})
			if err != nil {
				return fmt.Errorf("disk scenarios: %w", err)
			}
			md = r.Markdown()
		case "memleak":
			r, err := benchmark.ScenariosMemLeak(ctx, benchmark.MemLeakScenarioOptions{Seeds: seeds})
			if err != nil {
				return fmt.Errorf("memleak scenarios: %w", err)
			}
			md = r.Markdown()
		case "monthend":
			r, err := benchmark.ScenariosMonthEnd(ctx, benchmark.MonthEndScenarioOptions{Seeds: seeds})
			if err != nil {
				return fmt.Errorf("monthend scenarios: %w", err)
			}
			md = r.Markdown()
		default:
			return usageError{fmt.Sprintf("bench scenarios: -only: unknown predictor %q", kind)}
		}
		fmt.Fprintln(stdout, md)
	}
	return nil
}
