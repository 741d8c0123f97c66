package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/seed-f1b503aa/foresight/calendar"
	"github.com/seed-f1b503aa/foresight/config"
	"github.com/seed-f1b503aa/foresight/datasets"
	"github.com/seed-f1b503aa/foresight/engine"
	"github.com/seed-f1b503aa/foresight/engine/risk"
)

const predictMonthEndUsage = `usage: foresight predict monthend -in FILE.csv [flags]

Predicts the coming month-end close of a load series (CPU %, sessions,
database connections, request rate): the peak value and time with
p10/p50/p90, whether and when it reaches -threshold, and the peaks of the
following closes. The close window is the last -close-days business days of
the month, counted back from its last business day in the business calendar
(weekends, public holidays, make-up workdays, time zone); quarter and year
ends are bigger. It needs at least two complete past closes in the history;
with fewer the status is "insufficient_history" and the exit code 1.

Input: timestamp,value (or any layout 'foresight forecast' reads; every
series of the file is predicted, or only -series). Samples at or after -now
are ignored.

Flags:
`

// cmdPredictMonthEnd runs "foresight predict monthend".
func cmdPredictMonthEnd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("predict monthend", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, predictMonthEndUsage); fs.PrintDefaults() }
	in := fs.String("in", "", "input CSV file (- for standard input)")
	closeDays := fs.Int("close-days", risk.DefaultMonthEndCloseDays, "business days in the close window")
	threshold := fs.Float64("threshold", 0, "capacity in the series' unit (e.g. 90 for 90 % CPU); 0 for none")
	calPath := fs.String("calendar", "", "business calendar YAML file (default: the built-in cn-default; format in calendar/README.md)")
	nowFlag := fs.String("now", "", "prediction time, RFC 3339 or Unix seconds (default: the end of the data)")
	format := fs.String("format", "table", "table or json")
	stepFlag := fs.String("step", "", "grid step: 15m, 30m or 1h (default: the sampling interval, at least 15m)")
	outlook := fs.Int("outlook", risk.DefaultMonthEndOutlookMonths, "later closes to forecast (0 for none)")
	only := fs.String("series", "", "predict only this series of the file")
	unit := fs.String("unit", "", "unit shown in the output (e.g. percent)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *in == "" || fs.NArg() > 0 {
		fs.Usage()
		return usageError{"predict monthend: -in is required and takes no positional arguments"}
	}
	if *format != "table" && *format != "json" {
		return usageError{"predict monthend: -format must be table or json"}
	}
	if *closeDays < 1 || *closeDays > 15 {
		return usageError{fmt.Sprintf("predict monthend: -close-days %d: use 1 to 15", *closeDays)}
	}
	if *threshold < 0 {
		return usageError{"predict monthend: -threshold must not be negative"}
	}
	if *outlook < 0 || *outlook > 60 {
		return usageError{"predict monthend: -outlook: use 0 to 60 months"}
	}
	opt := risk.MonthEndOptions{CloseDays: *closeDays, Threshold: *threshold, OutlookMonths: *outlook}
	if *outlook == 0 {
		opt.OutlookMonths = -1
	}
	if *stepFlag != "" {
		d, err := config.ParseDuration(*stepFlag)
		if err != nil || d <= 0 {
			return usageError{fmt.Sprintf("predict monthend: -step %q: use 15m, 30m or 1h", *stepFlag)}
		}
		opt.Step = d.D()
	}
	if *nowFlag != "" {
		t, err := datasets.ParseTimestamp(*nowFlag)
		if err != nil {
			return usageError{fmt.Sprintf("predict monthend: -now %q: use RFC 3339 (2026-11-20T09:00:00+08:00) or Unix seconds", *nowFlag)}
		}
		opt.Now = t
	}
	if *calPath != "" {
		cal, err := calendar.LoadCalendar(*calPath)
		if err != nil {
			return err
		}
		opt.Calendar = cal
	}
	series, err := readCSVInput(*in, datasets.CSVOptions{})
	if err != nil {
		return err
	}
	var preds []risk.MonthEndPrediction
	insufficient := 0
	for _, s := range series {
		if *only != "" && s.Name != *only {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		smp := make([]engine.Sample, len(s.Values))
		for i := range s.Values {
			smp[i] = engine.Sample{Time: s.Times[i], Value: s.Values[i]}
		}
		p, err := risk.PredictMonthEnd(risk.MonthEndInput{Series: s.Name, Unit: *unit, Samples: smp}, opt)
		if err != nil {
			return fmt.Errorf("predict monthend: series %q: %w", s.Name, err)
		}
		if p.Status != risk.MonthEndStatusOK {
			insufficient++
		}
		preds = append(preds, p)
	}
	if len(preds) == 0 {
		names := make([]string, len(series))
		for i, s := range series {
			names[i] = s.Name
		}
		return usageError{fmt.Sprintf("predict monthend: no series %q in %s (it has: %s)", *only, *in, strings.Join(names, ", "))}
	}
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(map[string]any{"predictions": preds}); err != nil {
			return err
		}
	} else if err := writeMonthEndTable(stdout, preds, opt); err != nil {
		return err
	}
	if insufficient > 0 {
		return fmt.Errorf("predict monthend: %d of %d series have insufficient history", insufficient, len(preds))
	}
	return nil
}

// writeMonthEndTable prints predictions for people: one block per series,
// times in the calendar's zone.
func writeMonthEndTable(w io.Writer, preds []risk.MonthEndPrediction, opt risk.MonthEndOptions) error {
	cal := opt.Calendar
	if cal == nil {
		cal = calendar.DefaultCalendar()
	}
	loc := cal.Location()
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	num := func(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }
	at := func(t time.Time) string { return t.In(loc).Format("2006-01-02 15:04") }
	q := func(x risk.MonthEndQuantiles) string {
		return fmt.Sprintf("%s  (p10 %s, p90 %s)", num(x.P50), num(x.P10), num(x.P90))
	}
	line := func(k, format string, a ...any) { fmt.Fprintf(tw, "%s\t%s\n", k, fmt.Sprintf(format, a...)) }
	for i, p := range preds {
		if i > 0 {
			fmt.Fprintln(tw)
		}
		name := p.Series
		if p.Unit != "" {
			name += " (" + p.Unit + ")"
		}
		line("series", "%s", name)
		line("status", "%s", p.Status)
		if p.Reason != "" {
			line("reason", "%s", p.Reason)
		}
		line("now", "%s %s", at(p.Now), p.TimeZone)
		line("calendar", "%s; close = the last %d business days", p.Calendar, p.CloseDays)
		if p.Window != nil {
			line("window", "%s %s: %s", p.Window.Month, p.Window.Kind, strings.Join(p.Window.Days, ", "))
			if p.Window.ObservedPeak != nil {
				line("", "begun: observed peak so far %s; predicting from %s", num(*p.Window.ObservedPeak), at(p.Window.From))
			}
		}
		if p.Peak != nil {
			line("peak", "%s", q(*p.Peak))
			line("peak time", "%s  (p10 %s, p90 %s)", at(p.PeakTime.P50), at(p.PeakTime.P10), at(p.PeakTime.P90))
		}
		if b := p.Breach; b != nil {
			s := fmt.Sprintf("probability %.0f%%, headroom %s", 100*b.Probability, num(b.Headroom))
			if b.Likely {
				s = "LIKELY BREACH: " + s
			}
			if b.FirstTime != nil {
				s += ", reached at " + at(*b.FirstTime)
			}
			if b.EarliestTime != nil {
				s += ", at worst from " + at(*b.EarliestTime)
			}
			if b.FirstMonth != "" {
				s += ", first close over it: " + b.FirstMonth
			}
			line("threshold "+num(b.Threshold), "%s", s)
		}
		for j, o := range p.Outlook {
			k := ""
			if j == 0 {
				k = "outlook"
			}
			s := fmt.Sprintf("%s %-11s peak %s", o.Month, o.Kind, q(o.Peak))
			if o.BreachProbability != nil {
				s += fmt.Sprintf("  P(breach) %.0f%%", 100**o.BreachProbability)
			}
			line(k, "%s", s)
		}
		ev := p.Evidence
		for j, c := range ev.Closes {
			k := ""
			if j == 0 {
				k = "past closes"
			}
			if !c.Used {
				line(k, "%s %-11s not used: %s", c.Month, c.Kind, c.Why)
				continue
			}
			s := fmt.Sprintf("%s %-11s peak %s at %s", c.Month, c.Kind, num(c.Peak), at(c.PeakTime))
			if c.Uplift != nil {
				s += ", uplift " + num(*c.Uplift)
			}
			line(k, "%s", s)
		}
		if p.Status != risk.MonthEndStatusOK {
			continue
		}
		b := ev.Baseline
		line("baseline", "peak %s at %s local, noise %s, from %d non-close days", num(b.Peak), b.PeakTimeOfDay, num(b.Noise), b.Days)
		u := ev.Uplift
		line("uplift", "regular %s, applied %s, dispersion %.0f%%", num(u.Regular), num(u.Applied), 100*u.Dispersion)
		line("", "quarter-end ×%.2f: %s", u.QuarterFactor, u.QuarterSource)
		line("", "year-end ×%.2f: %s", u.YearFactor, u.YearSource)
		for _, o := range u.ByOffset {
			line("", "last business day -%d: %.0f%% of the peak uplift, largest at %s", o.Offset, 100*o.Share, o.PeakTimeOfDay)
		}
		t := ev.Trend
		s := fmt.Sprintf("uplift %+.3g per month (%+.1f%%/month) over %d closes", t.UpliftPerMonth, t.UpliftPercentPerMonth, t.Closes)
		if !t.Applied {
			s += ", not applied"
		}
		if t.MannKendallP != nil {
			s += fmt.Sprintf(", Mann–Kendall p %.2f", *t.MannKendallP)
		}
		if t.PeakPerMonth != nil {
			s += fmt.Sprintf("; regular close peaks %+.3g per month", *t.PeakPerMonth)
		}
		line("trend", "%s", s)
		for j, n := range ev.Notes {
			k := ""
			if j == 0 {
				k = "notes"
			}
			line(k, "%s", n)
		}
	}
	return tw.Flush()
}
