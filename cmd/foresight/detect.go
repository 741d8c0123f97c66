package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/seed-f1b503aa/foresight/config"
	"github.com/seed-f1b503aa/foresight/datasets"
	"github.com/seed-f1b503aa/foresight/engine"
	"github.com/seed-f1b503aa/foresight/engine/anomaly"
)

const detectUsage = `usage: foresight detect -in FILE.csv [flags]

Scores every point of a series for how unusual it is, against a robust
seasonal baseline learned online: the score at time t uses only the data up
to t, so a score never changes when more data arrives. Score = 1 − the
two-sided p-value of the residual (0..1); a point is an anomaly when its
score reaches -threshold. The first two seasons (the warm-up) score 0.
After a level shift the first points are flagged, then the baseline moves.

Input layouts as for 'foresight forecast' (timestamp,value; series,timestamp,
value; timestamp,a,b,...; bare values with -start and -step). Irregular
timestamps are averaged onto a grid of -step (default: inferred); empty
buckets are written with an empty value and score 0.

Output (CSV): timestamp,value,score,anomaly — with a leading series column
when the file holds several series. -format json adds the baseline, the
band and flags per point.

Flags:
`

// cmdDetect runs "foresight detect": online anomaly scores for the series of
// a CSV file.
func cmdDetect(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("detect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, detectUsage); fs.PrintDefaults() }
	in := fs.String("in", "", "input CSV file (- for standard input)")
	seasonFlag := fs.String("season", "1d", "seasonal period: a number of grid steps (e.g. 24) or a duration (1d, 168h); 0 for none")
	threshold := fs.Float64("threshold", anomaly.DefaultThreshold, "score from which a point is an anomaly, between 0 and 1")
	warmup := fs.Int("warmup", 0, "samples before the first score (default two seasons)")
	stepFlag := fs.String("step", "", "grid step, e.g. 1h or 5m (required for bare values; default: inferred)")
	startFlag := fs.String("start", "1970-01-01T00:00:00Z", "time of the first bare value (RFC 3339)")
	format := fs.String("format", "csv", "csv or json")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *in == "" || fs.NArg() > 0 {
		fs.Usage()
		return usageError{"detect: -in is required and takes no positional arguments"}
	}
	if !(*threshold > 0 && *threshold < 1) {
		return usageError{fmt.Sprintf("detect: -threshold %v: use a score between 0 and 1, e.g. 0.99", *threshold)}
	}
	if *warmup < 0 {
		return usageError{"detect: -warmup must not be negative"}
	}
	if *format != "csv" && *format != "json" {
		return usageError{"detect: -format must be csv or json"}
	}
	var step time.Duration
	if *stepFlag != "" {
		d, err := config.ParseDuration(*stepFlag)
		if err != nil || d <= 0 {
			return usageError{fmt.Sprintf("detect: -step %q: use e.g. 1h, 5m or 1d", *stepFlag)}
		}
		step = d.D()
	}
	start, err := time.Parse(time.RFC3339, *startFlag)
	if err != nil {
		return usageError{"detect: -start: use RFC 3339, e.g. 2026-01-01T00:00:00Z"}
	}
	series, err := readCSVInput(*in, datasets.CSVOptions{Start: start, Step: step})
	if err != nil {
		return err
	}

	type result struct {
		name   string
		grid   engine.Grid
		points []anomaly.Point
		season int
	}
	var results []result
	for _, s := range series {
		if err := ctx.Err(); err != nil {
			return err
		}
		smp := make([]engine.Sample, len(s.Values))
		for i := range s.Values {
			smp[i] = engine.Sample{Time: s.Times[i], Value: s.Values[i]}
		}
		st := step
		if st == 0 {
			if st, err = engine.InferStep(s.Times); err != nil {
				return fmt.Errorf("detect: series %q: %w", s.Name, err)
			}
		}
		season, err := parseSeasonFlag(*seasonFlag, st)
		if err != nil {
			return usageError{"detect: -season: " + err.Error()}
		}
		grid, pts, err := anomaly.ScoreSamples(smp, st, anomaly.Options{Season: season, Threshold: *threshold, Warmup: *warmup})
		if err != nil {
			return fmt.Errorf("detect: series %q: %w", s.Name, err)
		}
		results = append(results, result{s.Name, grid, pts, season})
	}

	if *format == "json" {
		type jsonPoint struct {
			Time time.Time `json:"time"`
			anomaly.Point
		}
		type jsonSeries struct {
			Series      string      `json:"series"`
			StepSeconds float64     `json:"step_seconds"`
			Season      int         `json:"season"`
			Anomalies   int         `json:"anomalies"`
			Points      []jsonPoint `json:"points"`
		}
		out := struct {
			Threshold float64      `json:"threshold"`
			Series    []jsonSeries `json:"series"`
		}{Threshold: *threshold, Series: []jsonSeries{}}
		for _, r := range results {
			js := jsonSeries{Series: r.name, StepSeconds: r.grid.Step.Seconds(), Season: r.season, Points: make([]jsonPoint, len(r.points))}
			for i, p := range r.points {
				js.Points[i] = jsonPoint{Time: r.grid.At(i), Point: p}
				if p.Anomaly {
					js.Anomalies++
				}
			}
			out.Series = append(out.Series, js)
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}

	bw := bufio.NewWriter(stdout)
	cw := csv.NewWriter(bw)
	multi := len(results) > 1
	header := []string{"timestamp", "value", "score", "anomaly"}
	if multi {
		header = append([]string{"series"}, header...)
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	row := make([]string, 0, 5)
	for _, r := range results {
		for i, p := range r.points {
			row = row[:0]
			if multi {
				row = append(row, r.name)
			}
			v := ""
			if !math.IsNaN(p.Value) {
				v = strconv.FormatFloat(p.Value, 'g', 10, 64)
			}
			row = append(row, r.grid.At(i).UTC().Format(time.RFC3339), v,
				strconv.FormatFloat(p.Score, 'f', 6, 64), strconv.FormatBool(p.Anomaly))
			if err := cw.Write(row); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}

// parseSeasonFlag reads -season: a whole number of grid steps, or a duration
// that must be a whole multiple of the step.
func parseSeasonFlag(s string, step time.Duration) (int, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 {
			return 0, fmt.Errorf("%d is negative", n)
		}
		return n, nil
	}
	d, err := config.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q: give a number of steps (24) or a duration (1d, 168h)", s)
	}
	if d.D()%step != 0 {
		return 0, fmt.Errorf("%s is not a whole number of %s steps", d.D(), step)
	}
	return int(d.D() / step), nil
}

// readCSVInput reads every series of a CSV file (or standard input for
// "-") with datasets.ReadSeriesCSV; errors name the file.
func readCSVInput(path string, opt datasets.CSVOptions) ([]datasets.TimeSeries, error) {
	r, err := openFile(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	series, err := datasets.ReadSeriesCSV(bufio.NewReader(r), opt)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(series) == 0 {
		return nil, fmt.Errorf("%s: no series", path)
	}
	return series, nil
}
