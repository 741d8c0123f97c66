package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/seed-f1b503aa/foresight/config"
	"github.com/seed-f1b503aa/foresight/datasets"
	"github.com/seed-f1b503aa/foresight/engine/risk"
)

const predictUsage = `usage: foresight predict disk|memleak|monthend --in FILE.csv [flags]

Predicts one risk from one CSV file (header optional; timestamps RFC 3339 or
Unix seconds; empty cells and NaN are missing; rows need not be sorted or
evenly spaced).

  disk     when a volume fills up. Columns:
             timestamp,used,total        bytes (total may change: a resize)
             timestamp,used_percent      percent of the volume
           With a header, columns are found by name (used, total,
           used_percent); without one, one value column is used_percent and
           two are used,total.
  memleak  whether a process leaks memory, and when it runs out. Columns:
             timestamp,memory[,limit][,load]
           memory and limit in bytes; load in any unit (requests/s,
           sessions). With a header, columns are found by name (memory,
           limit, load); without one they are taken in this order.
  monthend the month-end close load peak.

Output: --format table (a summary) or json (the full prediction with its
evidence). A series too short for an honest answer gets the status
insufficient_history and the minimum it needs; that is not an error.

Flags:
`

// cmdPredict runs "foresight predict KIND --in FILE [flags]".
func cmdPredict(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprint(stderr, predictUsage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			return flag.ErrHelp
		}
		return usageError{"predict: name what to predict: disk, memleak or monthend"}
	}
	kind := args[0]
	switch kind {
	case "disk", "memleak":
	case "monthend":
		return cmdPredictMonthEnd(ctx, args[1:], stdout, stderr)
	default:
		fmt.Fprint(stderr, predictUsage)
		return usageError{fmt.Sprintf("predict: unknown kind %q (use disk, memleak or monthend)", kind)}
	}
	fs := flag.NewFlagSet("predict "+kind, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, predictUsage); fs.PrintDefaults() }
	in := fs.String("in", "", "input CSV file (- for standard input)")
	format := fs.String("format", "table", "table or json")
	nowFlag := fs.String("now", "", "evaluation time, RFC 3339 or Unix seconds (default: the last timestamp)")
	horizon := fs.String("horizon", "180d", "how far ahead ETAs are reported, e.g. 90d or 2160h")
	seed := fs.Uint64("seed", 1, "seed of the simulated ETA intervals")
	minHistory := fs.String("min-history", "", "minimum history of the current regime (disk) or of one process lifetime (memleak); default 24h")
	warn := fs.Float64("warn", risk.DefaultWarnPercent, "disk: warning level in percent of the total")
	limit := fs.String("limit", "", "memleak: memory limit when the file has no limit column, e.g. 16GiB or 17179869184")
	trough := fs.String("trough-window", "", "memleak: window whose minimum is one GC trough (default: 1h, at least 8 samples)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *in == "" || fs.NArg() > 0 {
		fs.Usage()
		return usageError{fmt.Sprintf("predict %s: --in is required and takes no positional arguments", kind)}
	}
	if *format != "table" && *format != "json" {
		return usageError{fmt.Sprintf("predict %s: --format must be table or json", kind)}
	}
	var now time.Time
	if *nowFlag != "" {
		t, err := datasets.ParseTimestamp(*nowFlag)
		if err != nil {
			return usageError{fmt.Sprintf("predict %s: --now: %v", kind, err)}
		}
		now = t
	}
	hz, err := config.ParseDuration(*horizon)
	if err != nil || hz <= 0 {
		return usageError{fmt.Sprintf("predict %s: --horizon %q: use e.g. 180d or 72h", kind, *horizon)}
	}
	var minHist time.Duration
	if *minHistory != "" {
		d, err := config.ParseDuration(*minHistory)
		if err != nil || d <= 0 {
			return usageError{fmt.Sprintf("predict %s: --min-history %q: use e.g. 24h or 3d", kind, *minHistory)}
		}
		minHist = d.D()
	}
	frame, err := readPredictCSV(*in)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if kind == "disk" {
		if *warn <= 0 || *warn > 100 {
			return usageError{"predict disk: --warn must be in (0, 100]"}
		}
		din, err := diskInputFrom(frame)
		if err != nil {
			return fmt.Errorf("%s: %w", *in, err)
		}
		p, err := risk.PredictDisk(din, risk.DiskOptions{Now: now, WarnPercent: *warn, Horizon: hz.D(), MinHistory: minHist, Seed: *seed})
		if err != nil {
			return fmt.Errorf("%s: %w", *in, err)
		}
		if *format == "json" {
			return writeJSON(stdout, p)
		}
		writeDiskTable(stdout, p)
		return nil
	}
	var lim float64
	if *limit != "" {
		if lim, err = parseBytes(*limit); err != nil || lim <= 0 {
			return usageError{fmt.Sprintf("predict memleak: --limit %q: use bytes, e.g. 16GiB, 512MiB or 17179869184", *limit)}
		}
	}
	var tw time.Duration
	if *trough != "" {
		d, err := config.ParseDuration(*trough)
		if err != nil || d <= 0 {
			return usageError{fmt.Sprintf("predict memleak: --trough-window %q: use e.g. 1h or 30m", *trough)}
		}
		tw = d.D()
	}
	mi, err := memInputFrom(frame, lim)
	if err != nil {
		return fmt.Errorf("%s: %w", *in, err)
	}
	p, err := risk.PredictMemLeak(mi, risk.MemOptions{Now: now, Horizon: hz.D(), MinHistory: minHist, TroughWindow: tw, Seed: *seed})
	if err != nil {
		return fmt.Errorf("%s: %w", *in, err)
	}
	if *format == "json" {
		return writeJSON(stdout, p)
	}
	writeMemTable(stdout, p, hz.D().Hours()/24)
	return nil
}

func readPredictCSV(path string) (*datasets.Frame, error) {
	r, err := openFile(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	fr, err := datasets.ReadColumnsCSV(bufio.NewReader(r))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return fr, nil
}

// column finds a column by one of its names (case-insensitive).
func column(fr *datasets.Frame, names ...string) ([]float64, bool) {
	for _, want := range names {
		for i, n := range fr.Names {
			if strings.EqualFold(strings.TrimSpace(n), want) {
				return fr.Columns[i], true
			}
		}
	}
	return nil, false
}

// headerless reports whether the frame's columns carry the default names
// col1, col2, ... (the file had no header).
func headerless(fr *datasets.Frame) bool {
	for i, n := range fr.Names {
		if n != "col"+strconv.Itoa(i+1) {
			return false
		}
	}
	return true
}

func diskInputFrom(fr *datasets.Frame) (risk.DiskInput, error) {
	in := risk.DiskInput{Times: fr.Times}
	if headerless(fr) {
		switch len(fr.Columns) {
		case 1:
			in.UsedPercent = fr.Columns[0]
		case 2:
			in.Used, in.Total = fr.Columns[0], fr.Columns[1]
		default:
			return in, fmt.Errorf("%d value columns: want used,total or used_percent", len(fr.Columns))
		}
		return in, nil
	}
	if u, ok := column(fr, "used", "used_bytes"); ok {
		t, ok := column(fr, "total", "total_bytes", "size")
		if !ok {
			return in, fmt.Errorf("column used needs a total column (or give used_percent)")
		}
		in.Used, in.Total = u, t
		return in, nil
	}
	if p, ok := column(fr, "used_percent", "percent", "used_pct", "pct"); ok {
		in.UsedPercent = p
		return in, nil
	}
	return in, fmt.Errorf("columns %v: want used,total or used_percent", fr.Names)
}

func memInputFrom(fr *datasets.Frame, limit float64) (risk.MemInput, error) {
	in := risk.MemInput{Times: fr.Times, LimitBytes: limit}
	if headerless(fr) {
		if len(fr.Columns) > 3 {
			return in, fmt.Errorf("%d value columns: want memory[,limit][,load]", len(fr.Columns))
		}
		in.Memory = fr.Columns[0]
		if len(fr.Columns) > 1 {
			in.Limit = fr.Columns[1]
		}
		if len(fr.Columns) > 2 {
			in.Load = fr.Columns[2]
		}
	} else {
		m, ok := column(fr, "memory", "mem", "used_bytes", "used", "rss", "value")
		if !ok {
			return in, fmt.Errorf("columns %v: want memory[,limit][,load]", fr.Names)
		}
		in.Memory = m
		in.Limit, _ = column(fr, "limit", "limit_bytes", "memory_limit")
		in.Load, _ = column(fr, "load", "rate", "requests", "sessions")
	}
	if in.Limit != nil && limit > 0 {
		// an explicit --limit wins over the column
		in.Limit = nil
	}
	return in, nil
}

// parseBytes parses a byte count with an optional unit: B, KiB/MiB/GiB/TiB
// and bare K/M/G/T (powers of 1024), KB/MB/GB/TB (powers of 1000).
func parseBytes(s string) (float64, error) {
	s = strings.TrimSpace(s)
	i := len(s)
	for i > 0 && (s[i-1] < '0' || s[i-1] > '9') && s[i-1] != '.' {
		i--
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(s[:i]), 64)
	if err != nil {
		return 0, err
	}
	mult := map[string]float64{"": 1, "b": 1,
		"k": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mib": 1 << 20, "g": 1 << 30, "gib": 1 << 30, "t": 1 << 40, "tib": 1 << 40,
		"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12}
	m, ok := mult[strings.ToLower(strings.TrimSpace(s[i:]))]
	if !ok {
		return 0, fmt.Errorf("unknown unit %q", s[i:])
	}
	return v * m, nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// etaLine renders "in 2.4 days (p10 1.9 – p90 3.1), 2026-11-03 10:00 UTC".
func etaLine(e risk.ETA, now time.Time, horizonDays float64) string {
	if e.Reached {
		return "already reached"
	}
	if !e.Set() {
		return fmt.Sprintf("not within %s", humanDays(horizonDays))
	}
	q := func(t *time.Time) string {
		if t == nil {
			return "> " + humanDays(horizonDays)
		}
		return humanDays(t.Sub(now).Hours() / 24)
	}
	s := fmt.Sprintf("in %s (p10 %s – p90 %s)", q(e.P50), q(e.P10), q(e.P90))
	if e.P50 != nil {
		s += ", around " + e.P50.UTC().Format("2006-01-02 15:04 UTC")
	}
	return s
}

func humanDays(d float64) string {
	switch {
	case d < 2.0/24:
		return fmt.Sprintf("%.0f minutes", d*1440)
	case d < 2:
		return fmt.Sprintf("%.1f hours", d*24)
	}
	return fmt.Sprintf("%.1f days", d)
}

func writeDiskTable(w io.Writer, p risk.DiskPrediction) {
	fmt.Fprintf(w, "disk: %s\n", p.Status)
	if p.Status == risk.DiskFilling {
		fmt.Fprintf(w, "  full (100%%)        %s\n", etaLine(p.Full, p.Now, p.HorizonDays))
		fmt.Fprintf(w, "  warning (%g%%)      %s\n", p.WarnPercent, etaLine(p.Warning, p.Now, p.HorizonDays))
	}
	if p.UsedBytes != nil {
		fmt.Fprintf(w, "  used               %s of %s (%.1f%%) at %s\n", risk.FormatBytes(*p.UsedBytes), risk.FormatBytes(*p.TotalBytes), p.UsedPercent, p.Now.UTC().Format(time.RFC3339))
	} else {
		fmt.Fprintf(w, "  used               %.1f%% at %s\n", p.UsedPercent, p.Now.UTC().Format(time.RFC3339))
	}
	if p.Status != risk.DiskInsufficientHistory {
		if p.GrowthBytesPerDay != nil {
			fmt.Fprintf(w, "  growth             %s/day (%+.3g%% of the total per day)\n", risk.FormatBytesSigned(*p.GrowthBytesPerDay), p.GrowthPercentPerDay)
		} else {
			fmt.Fprintf(w, "  growth             %+.3g percentage points/day\n", p.GrowthPercentPerDay)
		}
		fmt.Fprintf(w, "  confidence         %.2f\n", p.Confidence)
		e := p.Evidence
		fmt.Fprintf(w, "  model              %s\n", e.Model)
		fmt.Fprintf(w, "  evidence           %d points, R² %.3f, Mann–Kendall p=%.2g, daily cycle %v, %d outliers removed\n",
			e.Points, e.R2, e.MannKendallP, e.DailyCycle, e.OutliersRemoved)
	}
	for _, c := range p.Evidence.Changepoints {
		fmt.Fprintf(w, "  change             %s %s: %s\n", c.Time.UTC().Format("2006-01-02 15:04"), c.Kind, describeChange(c, p.Unit))
	}
	fmt.Fprintf(w, "  reason             %s\n", p.Reason)
}

func describeChange(c risk.Changepoint, unit string) string {
	amount := func(v float64) string {
		if unit == "percent" && c.Kind != risk.ChangeCapacity {
			return fmt.Sprintf("%.2f%%", v)
		}
		return risk.FormatBytes(v)
	}
	if c.Kind == risk.ChangeSlope {
		return amount(c.Before) + "/day → " + amount(c.After) + "/day"
	}
	return amount(c.Before) + " → " + amount(c.After)
}

func writeMemTable(w io.Writer, p risk.MemPrediction, horizonDays float64) {
	fmt.Fprintf(w, "memleak: %s (score %.2f, leak score %.2f)\n", p.Verdict, p.Score, p.LeakScore)
	if p.LeakRateBytesPerHour != nil && p.Verdict != risk.MemInsufficientHistory {
		ci := ""
		if p.LeakRateCI95 != nil {
			ci = fmt.Sprintf(" (95%% %s – %s)", risk.FormatBytesSigned(p.LeakRateCI95[0]), risk.FormatBytesSigned(p.LeakRateCI95[1]))
		}
		fmt.Fprintf(w, "  floor trend        %s/hour%s\n", risk.FormatBytesSigned(*p.LeakRateBytesPerHour), ci)
	}
	if p.Verdict == risk.MemLeak && p.LimitBytes != nil {
		fmt.Fprintf(w, "  out of memory      %s if not restarted\n", etaLine(p.OOM, p.Now, horizonDays))
	}
	lim := "no limit known"
	if p.LimitBytes != nil {
		lim = "limit " + risk.FormatBytes(*p.LimitBytes)
	}
	fmt.Fprintf(w, "  memory             %s (%s) at %s\n", risk.FormatBytes(p.CurrentBytes), lim, p.Now.UTC().Format(time.RFC3339))
	e := p.Evidence
	if p.Verdict != risk.MemInsufficientHistory {
		last := ""
		if n := len(e.Restarts); n > 0 {
			last = ", last " + e.Restarts[n-1].UTC().Format("2006-01-02 15:04")
		}
		classes := map[string]int{}
		for _, s := range e.Segments {
			classes[s.Class]++
		}
		var parts []string
		for _, c := range []string{risk.SegmentRising, risk.SegmentSaturating, risk.SegmentFlat, risk.SegmentFalling, risk.SegmentShort} {
			if classes[c] > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", classes[c], c))
			}
		}
		fmt.Fprintf(w, "  lifetimes          %d restart(s)%s; %s\n", len(e.Restarts), last, strings.Join(parts, ", "))
		fmt.Fprintf(w, "  evidence           %s of %d troughs (%s windows), combined Mann–Kendall p=%.2g, GC amplitude %s",
			strings.ReplaceAll(e.Basis, "_", " "), e.Troughs, humanDays(e.TroughWindowSeconds/86400), e.MannKendallP, risk.FormatBytes(e.GCAmplitudeBytes))
		if e.LoadR2 != nil {
			fmt.Fprintf(w, ", load explains %.0f%%", 100**e.LoadR2)
		}
		if e.DailyCycle {
			fmt.Fprintf(w, ", daily cycle %s", risk.FormatBytes(e.DailyCycleAmplitude))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "  reason             %s\n", p.Reason)
}
