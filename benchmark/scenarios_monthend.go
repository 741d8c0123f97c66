package benchmark

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/seed-f1b503aa/foresight/calendar"
	"github.com/seed-f1b503aa/foresight/datasets"
	"github.com/seed-f1b503aa/foresight/engine"
	"github.com/seed-f1b503aa/foresight/engine/risk"
)

// This file is the month-end close scenario benchmark: the month-end
// predictor (risk.PredictMonthEnd) against the ground truth of the demo
// fleet, beside a seasonal-naive peer computed in the same run.
//
// For every seed, history group and target close month, the history is cut
// at several "now" points before the close window (LeadDays before its
// first day, at local midnight): the demo fleet is generated with End =
// now, so its ground truth (NextClose) is the noise-free peak of exactly
// the close that is predicted. Every monthend_load series (CPU, request
// rate, sessions, database connections) is predicted.
//
// The naive peer is the seasonal naive of close windows: the value at the
// same business-day offset and time of day of the previous month's close
// window. Its peak is the window's predicted peak.
//
// Breach warnings: for each series and history group the capacity
// threshold is ThresholdFraction (0.9) of the largest true peak among the
// group's target closes, so the biggest close (the year-end when the group
// has one) crosses it and the others do not. A method warns when it gives
// the breach at least a 50 % probability (the naive peer: when its peak
// reaches the threshold). The lead time of a true breach is measured from
// the earliest cut from which every later cut warned to the true peak time
// (the first crossing of a 90 % threshold is within about an hour of the
// peak in this data). Warnings for closes that do not cross are false
// warnings.

// MonthEndScenarioGroup is a set of target closes evaluated with one
// history length.
type MonthEndScenarioGroup struct {
	// Name labels the group in the report.
	Name string
	// Days is the length of the history before each cut, in days.
	Days int
	// Months are the target closes, "YYYY-MM".
	Months []string
}

// DefaultMonthEndScenarioGroups returns the default groups: 120 days of
// history (the demo fleet's default length: quarter-end learned, year-end
// from the prior) and 400 days (every kind of close learned from the
// previous year).
func DefaultMonthEndScenarioGroups() []MonthEndScenarioGroup {
	return []MonthEndScenarioGroup{
		{Name: "120-day history", Days: 120, Months: []string{"2026-09", "2026-10", "2026-11", "2026-12"}},
		{Name: "400-day history", Days: 400, Months: []string{"2026-03", "2026-06", "2026-08", "2026-11", "2026-12"}},
	}
}

// MonthEndScenarioOptions configure ScenariosMonthEnd. Zero values take
// the defaults noted.
type MonthEndScenarioOptions struct {
	// Seeds of the demo fleets (default 1 and 2).
	Seeds []uint64
	// Hosts per fleet (default 10: 24 load series).
	Hosts int
	// Step is the fleet's sampling interval (default 15 minutes).
	Step time.Duration
	// CloseDays is the close window in business days (default 3).
	CloseDays int
	// Groups are the history lengths and target closes (default
	// DefaultMonthEndScenarioGroups()).
	Groups []MonthEndScenarioGroup
	// LeadDays are the cut points in days before the close window's first
	// day (default 10, 5, 3 and 1).
	LeadDays []float64
	// ThresholdFraction sets each series' capacity threshold as a fraction
	// of its largest true peak in the group (default 0.9).
	ThresholdFraction float64
	// WarnProbability is the breach probability from which the predictor
	// warns (default 0.5).
	WarnProbability float64
	// Workers bounds the fleets generated and predicted concurrently
	// (default GOMAXPROCS).
	Workers int
	// Progress, when set, is called after each cut with a short note.
	Progress func(string)
}

func (o MonthEndScenarioOptions) withDefaults() (MonthEndScenarioOptions, error) {
	if len(o.Seeds) == 0 {
		o.Seeds = []uint64{1, 2}
	}
	if o.Hosts == 0 {
		o.Hosts = 10
	}
	if o.Step == 0 {
		o.Step = 15 * time.Minute
	}
	if o.CloseDays == 0 {
		o.CloseDays = datasets.DefaultCloseDays
	}
	if len(o.Groups) == 0 {
		o.Groups = DefaultMonthEndScenarioGroups()
	}
	if len(o.LeadDays) == 0 {
		o.LeadDays = []float64{10, 5, 3, 1}
	}
	if o.ThresholdFraction == 0 {
		o.ThresholdFraction = 0.9
	}
	if o.WarnProbability == 0 {
		o.WarnProbability = risk.DefaultMonthEndWarnProbability
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.Hosts < 3 || o.Step < time.Minute || o.Step > time.Hour || o.ThresholdFraction <= 0 || o.ThresholdFraction > 1 {
		return o, fmt.Errorf("month-end scenarios: need at least 3 hosts, a step of 1m to 1h and a threshold fraction in (0, 1]")
	}
	for _, l := range o.LeadDays {
		if l <= 0 {
			return o, fmt.Errorf("month-end scenarios: lead %v days must be positive", l)
		}
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(o.LeadDays)))
	return o, nil
}

// MonthEndScenarioCase is one prediction of one series at one cut.
type MonthEndScenarioCase struct {
	Seed     uint64
	Group    string
	Month    string
	Kind     risk.MonthEndKind
	LeadDays float64
	Now      time.Time
	Series   string
	// Status is the predictor's status; the other predicted fields are
	// zero unless it is "ok".
	Status string
	// TruePeak and TrueTime are the ground truth (noise-free) peak.
	TruePeak float64
	TrueTime time.Time
	// Peak is the predictor's p10/p50/p90 peak and PeakTime its median
	// peak time.
	Peak     risk.MonthEndQuantiles
	PeakTime time.Time
	// NaivePeak and NaiveTime are the seasonal-naive peer's (NaN when the
	// previous close was not observed).
	NaivePeak float64
	NaiveTime time.Time
	// Threshold is the capacity threshold of the series in its group;
	// Breach tells whether the true peak reaches it; Warn and NaiveWarn
	// whether each method warned.
	Threshold       float64
	Breach          bool
	Warn, NaiveWarn bool
	// Millis is the predictor's run time in milliseconds.
	Millis float64
}

// MonthEndScenarioRow aggregates cases (one group and kind, or all).
type MonthEndScenarioRow struct {
	Group string
	Kind  string
	// Cases counts predictions with status ok; Insufficient those without.
	Cases, Insufficient int
	// MedianAPE and P90APE are the absolute percentage errors of the peak
	// value (median and 90th percentile), in percent; Naive* the peer's.
	MedianAPE, P90APE, NaiveMedianAPE float64
	// MedianTimeErrHours is the median absolute peak-time error in hours,
	// WithinHour the share within one hour (percent); Naive* the peer's.
	MedianTimeErrHours, NaiveMedianTimeErrHours float64
	WithinHour, NaiveWithinHour                 float64
	// Coverage80 is the share of true peaks inside p10..p90 (percent;
	// nominal 80).
	Coverage80 float64
}

// MonthEndBreachRow summarises breach warnings for one group (or all).
type MonthEndBreachRow struct {
	Group string
	// Breaches counts (seed, series, close) whose true peak reaches the
	// threshold. Warned3d counts those warned continuously from at least 3
	// days before the true peak; Missed those never warned by the last
	// cut. MinLeadDays and MedianLeadDays summarise the lead times of the
	// warned ones (days).
	Breaches, Warned3d, Missed  int
	MinLeadDays, MedianLeadDays float64
	// NaiveWarned3d and NaiveMissed are the peer's.
	NaiveWarned3d, NaiveMissed int
	// Quiet counts predictions of closes that do not breach;
	// FalseWarnings and NaiveFalseWarnings the warnings among them.
	Quiet, FalseWarnings, NaiveFalseWarnings int
}

// MonthEndScenarioReport is the result of ScenariosMonthEnd.
type MonthEndScenarioReport struct {
	Options MonthEndScenarioOptions
	Cases   []MonthEndScenarioCase
	// Rows: per group and kind, then per group, then all.
	Rows     []MonthEndScenarioRow
	Breaches []MonthEndBreachRow
	// MeanMillis is the predictor's mean run time per series.
	MeanMillis float64
	Elapsed    time.Duration
}

// monthEndJob is one cut: a seed, a group, a target month and a lead.
type monthEndJob struct {
	seed  uint64
	group MonthEndScenarioGroup
	month string
	lead  float64
}

// ScenariosMonthEnd runs the month-end scenario benchmark (see the top of
// this file). It is deterministic apart from the timings.
func ScenariosMonthEnd(ctx context.Context, opts MonthEndScenarioOptions) (*MonthEndScenarioReport, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	begin := time.Now()
	var jobs []monthEndJob
	for _, seed := range o.Seeds {
		for _, g := range o.Groups {
			for _, m := range g.Months {
				for _, l := range o.LeadDays {
					jobs = append(jobs, monthEndJob{seed, g, m, l})
				}
			}
		}
	}
	results := make([][]MonthEndScenarioCase, len(jobs))
	errs := engine.ForEach(ctx, len(jobs), o.Workers, func(i int) error {
		var err error
		results[i], err = runMonthEndJob(ctx, jobs[i], o)
		if o.Progress != nil && err == nil {
			j := jobs[i]
			o.Progress(fmt.Sprintf("seed %d, %s, %s, %.0f days ahead: %d series", j.seed, j.group.Name, j.month, j.lead, len(results[i])))
		}
		return err
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rep := &MonthEndScenarioReport{Options: o}
	for i, r := range results {
		if errs[i] != nil {
			return nil, errs[i]
		}
		rep.Cases = append(rep.Cases, r...)
	}
	rep.score(o)
	rep.Elapsed = time.Since(begin)
	return rep, nil
}

// runMonthEndJob generates the fleet ending at the cut and predicts every
// load series.
func runMonthEndJob(ctx context.Context, j monthEndJob, o MonthEndScenarioOptions) ([]MonthEndScenarioCase, error) {
	cal := calendar.DefaultCalendar()
	loc := cal.Location()
	var y, mo int
	if _, err := fmt.Sscanf(j.month, "%d-%d", &y, &mo); err != nil || mo < 1 || mo > 12 {
		return nil, fmt.Errorf("month-end scenarios: month %q: use YYYY-MM", j.month)
	}
	first, last, ok := cal.CloseWindow(y, time.Month(mo), o.CloseDays)
	if !ok {
		return nil, fmt.Errorf("month-end scenarios: %s has no business day", j.month)
	}
	now := first.In(loc).Add(-time.Duration(j.lead * float64(24*time.Hour))).UTC()
	f, err := datasets.GenerateFleet(datasets.FleetConfig{
		Hosts: o.Hosts, Days: j.group.Days, Step: o.Step, End: now, Seed: j.seed, Calendar: cal, CloseDays: o.CloseDays,
	})
	if err != nil {
		return nil, err
	}
	truth := f.GroundTruth()
	type tracked struct {
		id   string
		gt   datasets.GroundTruth
		vals []float64 // on the fleet's grid, NaN = missing
	}
	byKey := map[string]*tracked{}
	var ids []string
	for id, g := range truth {
		if g.Kind != datasets.KindMonthEndLoad || g.NextClose == nil {
			continue
		}
		if g.NextClose.Month != j.month {
			return nil, fmt.Errorf("month-end scenarios: cut %s: the next close is %s, not %s", now, g.NextClose.Month, j.month)
		}
		vals := make([]float64, f.Steps())
		for i := range vals {
			vals[i] = math.NaN()
		}
		byKey[g.Key.Measurement+"\x00"+g.Key.Field+"\x00"+g.Key.Tags["host"]] = &tracked{id: id, gt: g, vals: vals}
		ids = append(ids, id)
	}
	sort.Strings(ids)
	start, step := f.Start(), f.Step()
	err = f.Each(func(p engine.Point) error {
		for field, v := range p.Fields {
			if tr, ok := byKey[p.Measurement+"\x00"+field+"\x00"+p.Tags["host"]]; ok {
				tr.vals[int(p.Time.Sub(start)/step)] = v
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	index := map[string]*tracked{}
	for _, tr := range byKey {
		index[tr.id] = tr
	}
	prevMI := calendar.NewDate(y, time.Month(mo), 1).MonthIndex() - 1
	pFirst, pLast, _ := cal.CloseWindow(prevMI/12, time.Month(prevMI%12+1), o.CloseDays)
	target := monthEndCloseDates(cal, first, last)
	prev := monthEndCloseDates(cal, pFirst, pLast)

	out := make([]MonthEndScenarioCase, 0, len(ids))
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		tr := index[id]
		smp := make([]engine.Sample, 0, len(tr.vals))
		for i, v := range tr.vals {
			if !math.IsNaN(v) {
				smp = append(smp, engine.Sample{Time: start.Add(time.Duration(i) * step), Value: v})
			}
		}
		c := MonthEndScenarioCase{
			Seed: j.seed, Group: j.group.Name, Month: j.month, LeadDays: j.lead, Now: now, Series: id,
			TruePeak: tr.gt.NextClose.PeakValue, TrueTime: tr.gt.NextClose.PeakTime,
			Kind: risk.MonthEndRegular,
		}
		switch {
		case tr.gt.NextClose.YearEnd:
			c.Kind = risk.MonthEndYear
		case tr.gt.NextClose.QuarterEnd:
			c.Kind = risk.MonthEndQuarter
		}
		t0 := time.Now()
		p, err := risk.PredictMonthEnd(risk.MonthEndInput{Series: id, Samples: smp},
			risk.MonthEndOptions{Calendar: cal, CloseDays: o.CloseDays, Now: now, Step: max(o.Step, risk.MonthEndMinStep), OutlookMonths: -1})
		c.Millis = float64(time.Since(t0).Microseconds()) / 1000
		if err != nil {
			return nil, fmt.Errorf("month-end scenarios: %s at %s: %w", id, now.Format(time.RFC3339), err)
		}
		c.Status = p.Status
		if p.Status == risk.MonthEndStatusOK {
			c.Peak, c.PeakTime = *p.Peak, p.PeakTime.P50
		}
		c.NaivePeak, c.NaiveTime = monthEndNaivePeak(tr.vals, start, step, loc, target, prev)
		out = append(out, c)
	}
	return out, nil
}

// monthEndCloseDates lists the business days from first to last, by offset from
// the last (index 0 = last business day).
func monthEndCloseDates(cal *calendar.Calendar, first, last calendar.Date) []calendar.Date {
	var out []calendar.Date
	for d := last; !d.Before(first); d = d.AddDays(-1) {
		if cal.IsBusinessDay(d) {
			out = append(out, d)
		}
	}
	return out
}

// monthEndNaivePeak is the seasonal-naive peak of the target window: the
// largest observed value of the previous close window, placed at the same
// business-day offset and time of day of the target window.
func monthEndNaivePeak(vals []float64, start time.Time, step time.Duration, loc *time.Location, target, prev []calendar.Date) (float64, time.Time) {
	best, at := math.NaN(), time.Time{}
	for k, d := range prev {
		if k >= len(target) {
			break
		}
		day0 := d.In(loc)
		for off := time.Duration(0); off < 24*time.Hour; off += step {
			i := int(day0.Add(off).Sub(start) / step)
			if i < 0 || i >= len(vals) || math.IsNaN(vals[i]) {
				continue
			}
			if math.IsNaN(best) || vals[i] > best {
				best, at = vals[i], target[k].In(loc).Add(off).UTC()
			}
		}
	}
	return best, at
}

// score sets thresholds and warnings and aggregates the cases.
func (r *MonthEndScenarioReport) score(o MonthEndScenarioOptions) {
	type sKey struct {
		seed   uint64
		group  string
		series string
	}
	thr := map[sKey]float64{}
	for _, c := range r.Cases {
		k := sKey{c.Seed, c.Group, c.Series}
		thr[k] = math.Max(thr[k], o.ThresholdFraction*c.TruePeak)
	}
	var ms []float64
	for i := range r.Cases {
		c := &r.Cases[i]
		c.Threshold = thr[sKey{c.Seed, c.Group, c.Series}]
		c.Breach = c.TruePeak >= c.Threshold
		if c.Status == risk.MonthEndStatusOK {
			p := risk.MonthEndPrediction{Peak: &c.Peak}
			c.Warn = p.BreachProbability(c.Threshold) >= o.WarnProbability
		}
		c.NaiveWarn = !math.IsNaN(c.NaivePeak) && c.NaivePeak >= c.Threshold
		ms = append(ms, c.Millis)
	}
	r.MeanMillis = monthEndMean(ms)

	var groups []string
	for _, g := range o.Groups {
		groups = append(groups, g.Name)
	}
	kinds := []risk.MonthEndKind{risk.MonthEndRegular, risk.MonthEndQuarter, risk.MonthEndYear}
	for _, g := range groups {
		for _, k := range kinds {
			if row, ok := r.row(g, string(k), func(c *MonthEndScenarioCase) bool { return c.Group == g && c.Kind == k }); ok {
				r.Rows = append(r.Rows, row)
			}
		}
		if row, ok := r.row(g, "all", func(c *MonthEndScenarioCase) bool { return c.Group == g }); ok {
			r.Rows = append(r.Rows, row)
		}
	}
	if row, ok := r.row("all", "all", func(c *MonthEndScenarioCase) bool { return true }); ok {
		r.Rows = append(r.Rows, row)
	}
	for _, g := range groups {
		r.Breaches = append(r.Breaches, r.breachRow(g, func(c *MonthEndScenarioCase) bool { return c.Group == g }))
	}
	r.Breaches = append(r.Breaches, r.breachRow("all", func(c *MonthEndScenarioCase) bool { return true }))
}

func (r *MonthEndScenarioReport) row(group, kind string, sel func(*MonthEndScenarioCase) bool) (MonthEndScenarioRow, bool) {
	row := MonthEndScenarioRow{Group: group, Kind: kind}
	var ape, napr, te, nte []float64
	within, nwithin, cover := 0, 0, 0
	for i := range r.Cases {
		c := &r.Cases[i]
		if !sel(c) {
			continue
		}
		if c.Status != risk.MonthEndStatusOK {
			row.Insufficient++
			continue
		}
		row.Cases++
		ape = append(ape, 100*math.Abs(c.Peak.P50-c.TruePeak)/math.Abs(c.TruePeak))
		h := math.Abs(c.PeakTime.Sub(c.TrueTime).Hours())
		te = append(te, h)
		if h <= 1 {
			within++
		}
		if c.Peak.P10 <= c.TruePeak && c.TruePeak <= c.Peak.P90 {
			cover++
		}
		if !math.IsNaN(c.NaivePeak) {
			napr = append(napr, 100*math.Abs(c.NaivePeak-c.TruePeak)/math.Abs(c.TruePeak))
			nh := math.Abs(c.NaiveTime.Sub(c.TrueTime).Hours())
			nte = append(nte, nh)
			if nh <= 1 {
				nwithin++
			}
		}
	}
	if row.Cases == 0 && row.Insufficient == 0 {
		return row, false
	}
	row.MedianAPE, row.P90APE = monthEndQuantile(ape, 0.5), monthEndQuantile(ape, 0.9)
	row.NaiveMedianAPE = monthEndQuantile(napr, 0.5)
	row.MedianTimeErrHours, row.NaiveMedianTimeErrHours = monthEndQuantile(te, 0.5), monthEndQuantile(nte, 0.5)
	if row.Cases > 0 {
		row.WithinHour = 100 * float64(within) / float64(row.Cases)
		row.Coverage80 = 100 * float64(cover) / float64(row.Cases)
	}
	if len(nte) > 0 {
		row.NaiveWithinHour = 100 * float64(nwithin) / float64(len(nte))
	}
	return row, true
}

func (r *MonthEndScenarioReport) breachRow(group string, sel func(*MonthEndScenarioCase) bool) MonthEndBreachRow {
	row := MonthEndBreachRow{Group: group}
	type bKey struct {
		seed          uint64
		group, series string
		month         string
	}
	byClose := map[bKey][]*MonthEndScenarioCase{}
	var order []bKey
	for i := range r.Cases {
		c := &r.Cases[i]
		if !sel(c) {
			continue
		}
		if !c.Breach {
			row.Quiet++
			if c.Warn {
				row.FalseWarnings++
			}
			if c.NaiveWarn {
				row.NaiveFalseWarnings++
			}
			continue
		}
		k := bKey{c.Seed, c.Group, c.Series, c.Month}
		if _, ok := byClose[k]; !ok {
			order = append(order, k)
		}
		byClose[k] = append(byClose[k], c)
	}
	// lead: from the earliest cut after which every cut warned
	lead := func(cs []*MonthEndScenarioCase, warned func(*MonthEndScenarioCase) bool) (float64, bool) {
		sort.Slice(cs, func(i, j int) bool { return cs[i].Now.Before(cs[j].Now) })
		from := -1
		for i := len(cs) - 1; i >= 0 && warned(cs[i]); i-- {
			from = i
		}
		if from < 0 {
			return 0, false
		}
		return cs[from].TrueTime.Sub(cs[from].Now).Hours() / 24, true
	}
	var leads []float64
	for _, k := range order {
		cs := byClose[k]
		row.Breaches++
		if l, ok := lead(cs, func(c *MonthEndScenarioCase) bool { return c.Warn }); ok {
			leads = append(leads, l)
			if l >= 3 {
				row.Warned3d++
			}
		} else {
			row.Missed++
		}
		if l, ok := lead(cs, func(c *MonthEndScenarioCase) bool { return c.NaiveWarn }); ok {
			if l >= 3 {
				row.NaiveWarned3d++
			}
		} else {
			row.NaiveMissed++
		}
	}
	if len(leads) > 0 {
		sort.Float64s(leads)
		row.MinLeadDays, row.MedianLeadDays = leads[0], monthEndQuantile(leads, 0.5)
	}
	return row
}

// Markdown renders the report as Markdown tables with the settings and the
// targets.
func (r *MonthEndScenarioReport) Markdown() string {
	var b strings.Builder
	o := r.Options
	leads := make([]string, len(o.LeadDays))
	for i, l := range o.LeadDays {
		leads[i] = fmt.Sprintf("%g", l)
	}
	fmt.Fprintf(&b, "## Month-end close scenarios\n\n")
	fmt.Fprintf(&b, "Demo fleet, seeds %v, %d hosts (%d load series per cut), step %s, close window %d business days, cuts %s days before each window; calendar %s. ",
		o.Seeds, o.Hosts, r.seriesPerCut(), o.Step, o.CloseDays, strings.Join(leads, ", "), calendar.DefaultCalendar().Name())
	fmt.Fprintf(&b, "%d predictions, %.1f ms each on average, %s in all. Peer: seasonal naive (same business-day offset and time of day of the previous close).\n\n",
		len(r.Cases), r.MeanMillis, r.Elapsed.Round(time.Second))
	b.WriteString("| history | close | n | APE median % | APE p90 % | naive APE median % | peak time err median h | within 1 h % | naive time err median h | naive within 1 h % | p10–p90 coverage % |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, w := range r.Rows {
		n := fmt.Sprint(w.Cases)
		if w.Insufficient > 0 {
			n += fmt.Sprintf(" (+%d insufficient)", w.Insufficient)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %.1f | %.1f | %.1f | %.2f | %.0f | %.2f | %.0f | %.0f |\n",
			w.Group, w.Kind, n, w.MedianAPE, w.P90APE, w.NaiveMedianAPE, w.MedianTimeErrHours, w.WithinHour,
			w.NaiveMedianTimeErrHours, w.NaiveWithinHour, w.Coverage80)
	}
	fmt.Fprintf(&b, "\nCapacity threshold per series: %.0f %% of its largest true close peak in the group (warn at breach probability ≥ %.0f %%).\n\n",
		100*o.ThresholdFraction, 100*o.WarnProbability)
	b.WriteString("| history | true breaches | warned ≥ 3 days ahead | missed | lead min d | lead median d | naive warned ≥ 3 d | naive missed | non-breach predictions | false warnings | naive false warnings |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, w := range r.Breaches {
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %.1f | %.1f | %d | %d | %d | %d | %d |\n",
			w.Group, w.Breaches, w.Warned3d, w.Missed, w.MinLeadDays, w.MedianLeadDays, w.NaiveWarned3d, w.NaiveMissed,
			w.Quiet, w.FalseWarnings, w.NaiveFalseWarnings)
	}
	if len(r.Rows) > 0 {
		all := r.Rows[len(r.Rows)-1]
		br := r.Breaches[len(r.Breaches)-1]
		check := func(ok bool) string {
			if ok {
				return "met"
			}
			return "NOT met"
		}
		fmt.Fprintf(&b, "\nTargets: median peak error ≤ 8 %%: %.1f %% (%s); median peak time within 1 h: %.2f h (%s); every breach warned ≥ 3 days ahead: %d of %d (%s).\n",
			all.MedianAPE, check(all.MedianAPE <= 8), all.MedianTimeErrHours, check(all.MedianTimeErrHours <= 1),
			br.Warned3d, br.Breaches, check(br.Warned3d == br.Breaches))
	}
	return b.String()
}

func (r *MonthEndScenarioReport) seriesPerCut() int {
	seen := map[string]bool{}
	for _, c := range r.Cases {
		if c.Seed == r.Options.Seeds[0] {
			seen[c.Series] = true
		}
	}
	return len(seen)
}

// monthEndQuantile is the type-7 quantile of v (NaN for none); v is not changed.
func monthEndQuantile(v []float64, p float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	h := p * float64(len(s)-1)
	lo := int(math.Floor(h))
	if lo >= len(s)-1 {
		return s[len(s)-1]
	}
	return s[lo] + (h-float64(lo))*(s[lo+1]-s[lo])
}

func monthEndMean(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}
