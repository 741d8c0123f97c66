package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/seed-f1b503aa/foresight/calendar"
	"github.com/seed-f1b503aa/foresight/config"
	"github.com/seed-f1b503aa/foresight/datasets"
	"github.com/seed-f1b503aa/foresight/engine"
)

const forecastUsage = `usage: foresight forecast -in FILE.csv -horizon H [flags]

Forecasts every series of a CSV file. Layouts (told apart by the first row;
a header row is optional):
  timestamp,value               one series
  series,timestamp,value        long form, many series
  value                         bare values, placed in time by -start and -step
  timestamp,a,b,...             one series per value column
Timestamps are RFC 3339 or Unix seconds. Empty cells and NaN are missing.

Irregular timestamps are put on a regular grid of -step (default: inferred
from the median spacing): each grid value is the mean of the samples in
[t, t+step); empty buckets are gaps, which the models interpolate.

Output rows: series,timestamp,mean,lo80,hi80,lo95,hi95,model (one lo/hi pair
per -level). A series too short for an honest forecast gets no rows and an
"insufficient history" line on standard error; the exit code is then 1.

Flags:
`

func cmdForecast(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("forecast", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, forecastUsage); fs.PrintDefaults() }
	in := fs.String("in", "", "input CSV file (- for standard input)")
	horizon := fs.Int("horizon", 0, "number of steps to forecast (required)")
	season := fs.String("season", "", "seasonal periods in steps, e.g. 24,168 (default: detected)")
	model := fs.String("model", "auto", "auto, snaive, ets, mstl, theta or regression")
	level := fs.String("level", "80,95", "interval levels in percent")
	format := fs.String("format", "csv", "csv or json")
	stepFlag := fs.String("step", "", "grid step, e.g. 1h or 5m (required for bare values; default: inferred)")
	startFlag := fs.String("start", "1970-01-01T00:00:00Z", "time of the first bare value (RFC 3339)")
	workers := fs.Int("workers", 0, "parallel fits (default: number of CPUs)")
	seed := fs.Uint64("seed", 1, "seed for simulated intervals")
	calFile := fs.String("calendar", "", "business calendar YAML for the regression model's calendar regressors (default: built-in)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *in == "" || *horizon <= 0 {
		fs.Usage()
		return usageError{"forecast: -in and a positive -horizon are required"}
	}
	spec := engine.ForecastSpec{Horizon: *horizon, Model: *model, Seed: *seed, Calendar: calendar.DefaultCalendar()}
	var err error
	if *calFile != "" {
		if spec.Calendar, err = calendar.LoadCalendar(*calFile); err != nil {
			return err
		}
	}
	if spec.Periods, err = parseInts(*season); err != nil {
		return usageError{"forecast: -season: " + err.Error()}
	}
	if spec.Levels, err = parseLevels(*level); err != nil {
		return usageError{"forecast: -level: " + err.Error()}
	}
	if *stepFlag != "" {
		d, err := config.ParseDuration(*stepFlag)
		if err != nil || d <= 0 {
			return usageError{fmt.Sprintf("forecast: -step %q: use e.g. 1h, 5m or 1d", *stepFlag)}
		}
		spec.Step = d.D()
	}
	if err := spec.Validate(); err != nil {
		return usageError{"forecast: " + err.Error()}
	}
	if *format != "csv" && *format != "json" {
		return usageError{"forecast: -format must be csv or json"}
	}
	start, err := time.Parse(time.RFC3339, *startFlag)
	if err != nil {
		return usageError{"forecast: -start: use RFC 3339"}
	}
	r, err := openFile(*in)
	if err != nil {
		return err
	}
	defer r.Close()
	series, err := datasets.ReadSeriesCSV(bufio.NewReader(r), datasets.CSVOptions{Start: start, Step: spec.Step})
	if err != nil {
		return fmt.Errorf("%s: %w", *in, err)
	}
	inputs := make([]engine.ForecastInput, len(series))
	for i, s := range series {
		smp := make([]engine.Sample, len(s.Values))
		for j := range s.Values {
			smp[j] = engine.Sample{Time: s.Times[j], Value: s.Values[j]}
		}
		inputs[i] = engine.ForecastInput{Name: s.Name, Samples: smp}
	}
	outcomes := engine.ForecastMany(ctx, inputs, spec, *workers)
	failed := 0
	var results []engine.ForecastResult
	for _, o := range outcomes {
		if o.Err != nil {
			failed++
			fmt.Fprintln(stderr, "foresight forecast:", o.Err)
			continue
		}
		results = append(results, o.Result)
	}
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if results == nil {
			results = []engine.ForecastResult{}
		}
		if err := enc.Encode(map[string]any{"forecasts": results}); err != nil {
			return err
		}
	} else if err := writeForecastCSV(stdout, results, spec.Levels); err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d series could not be forecast", failed, len(outcomes))
	}
	return nil
}

func writeForecastCSV(w io.Writer, results []engine.ForecastResult, levels []float64) error {
	cw := csv.NewWriter(w)
	header := []string{"series", "timestamp", "mean"}
	for _, l := range levels {
		n := engine.LevelName(l)
		header = append(header, "lo"+n, "hi"+n)
	}
	header = append(header, "model")
	if err := cw.Write(header); err != nil {
		return err
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', 10, 64) }
	for _, r := range results {
		for _, p := range r.Points {
			row := []string{r.Series, p.Time.UTC().Format(time.RFC3339), f(p.Mean)}
			for _, b := range p.Bounds {
				row = append(row, f(b.Lo), f(b.Hi))
			}
			row = append(row, r.Model)
			if err := cw.Write(row); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

func parseInts(s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []int
	for _, part := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil {
			return nil, fmt.Errorf("%q is not an integer", part)
		}
		out = append(out, n)
	}
	return out, nil
}

// parseLevels accepts percent (80,95) or fractions (0.8,0.95).
func parseLevels(s string) ([]float64, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("empty")
	}
	var out []float64
	for _, part := range strings.Split(s, ",") {
		x, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", part)
		}
		if x >= 1 {
			x /= 100
		}
		if !(x > 0 && x < 1) {
			return nil, fmt.Errorf("%q: use a level between 0 and 100", part)
		}
		out = append(out, x)
	}
	return out, nil
}
