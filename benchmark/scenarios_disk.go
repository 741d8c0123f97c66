package benchmark

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/seed-f1b503aa/foresight/datasets"
	"github.com/seed-f1b503aa/foresight/engine"
	"github.com/seed-f1b503aa/foresight/engine/risk"
)

// This file is the disk-exhaustion scenario benchmark: the disk predictor
// (risk.PredictDisk) against the ground truth of the demo fleet, beside
// Prometheus-style predict_linear peers (ordinary least squares over a
// fixed 6 h and 24 h window of raw samples) computed in the same run.
//
// Three kinds of cases:
//
//   - Lead cases ("days before full"). The demo fleet places every fill at
//     least two weeks after its End, so a disk cannot be observed days
//     before full with its own total. For the disks whose used space is a
//     noise-free straight line after its last change (kinds disk_fill,
//     disk_fill_accelerating and disk_grown without a load component), the
//     ground truth gives that line exactly: value_at_end +
//     trend_per_hour·(t − End). The history is cut at "now" (End, or
//     earlier, but at least MinRegimeDays after the last change point) and
//     the volume's total is set to the line's value at now + lead, so the
//     volume becomes full exactly lead days after now. Error: the absolute
//     ETA error as a percentage of the true remaining time.
//   - Natural cases: every disk at End with its real total and a true fill
//     time within the horizon (any kind: daily load, sawtooth, backups,
//     purges included); same error measure.
//   - False-alarm cases: every disk evaluated at several "now" points
//     spaced 25 h apart (so they fall at every hour of the day, backup
//     windows included), wherever its true fill time is more than
//     QuietMarginDays away (or never, within the ground truth's 365-day
//     horizon). An alarm is a median ETA within AlarmDays.

// DiskScenarioOptions configure ScenariosDisk. Zero values take the
// defaults noted.
type DiskScenarioOptions struct {
	// Seeds of the demo fleets (default 1, 2, 3, 4).
	Seeds []uint64
	// Hosts per fleet (default 20).
	Hosts int
	// Days of generated history (default 120).
	Days int
	// Step is the fleet's sampling interval (default 15 minutes).
	Step time.Duration
	// Lookback is the history given to each prediction (default 60 days).
	Lookback time.Duration
	// LeadDays are the true times to full of the lead cases (default 14,
	// 7, 3, 1).
	LeadDays []float64
	// CutDays place "now" for the lead cases this many days before End
	// (default 0 and 5).
	CutDays []float64
	// MinRegimeDays is the least time between the last change point and
	// a lead case's cut (default 3).
	MinRegimeDays float64
	// AlarmDays: a median ETA within this many days is an alarm (default 7).
	AlarmDays float64
	// QuietNows is the number of "now" points per disk for the false-alarm
	// cases (default 14, 25 hours apart back from End).
	QuietNows int
	// QuietMarginDays: a disk is quiet at a "now" when it does not fill
	// within this many days after it (default 30).
	QuietMarginDays float64
	// Horizon of the predictor (default risk.DefaultDiskHorizon).
	Horizon time.Duration
	// Workers bounds the fleets evaluated concurrently (default GOMAXPROCS).
	Workers int
	// Progress, when set, is called after each fleet with a short note.
	Progress func(string)
}

func (o DiskScenarioOptions) withDefaults() (DiskScenarioOptions, error) {
	if len(o.Seeds) == 0 {
		o.Seeds = []uint64{1, 2, 3, 4}
	}
	if o.Hosts == 0 {
		o.Hosts = 20
	}
	if o.Days == 0 {
		o.Days = 120
	}
	if o.Step == 0 {
		o.Step = 15 * time.Minute
	}
	if o.Lookback == 0 {
		o.Lookback = 60 * 24 * time.Hour
	}
	if len(o.LeadDays) == 0 {
		o.LeadDays = []float64{14, 7, 3, 1}
	}
	if len(o.CutDays) == 0 {
		o.CutDays = []float64{0, 5}
	}
	if o.MinRegimeDays == 0 {
		o.MinRegimeDays = 3
	}
	if o.AlarmDays == 0 {
		o.AlarmDays = 7
	}
	if o.QuietNows == 0 {
		o.QuietNows = 14
	}
	if o.QuietMarginDays == 0 {
		o.QuietMarginDays = 30
	}
	if o.Horizon == 0 {
		o.Horizon = risk.DefaultDiskHorizon
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.Hosts < 3 || o.Days < 7 || o.Step < time.Minute || o.Step > time.Hour || o.Lookback < 24*time.Hour {
		return o, fmt.Errorf("disk scenarios: need at least 3 hosts, 7 days, a step of 1m to 1h and a lookback of at least a day")
	}
	for _, l := range o.LeadDays {
		if l <= 0 {
			return o, fmt.Errorf("disk scenarios: lead %v days must be positive", l)
		}
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(o.LeadDays)))
	return o, nil
}

// DiskCase is one prediction of one disk.
type DiskCase struct {
	Seed   uint64
	Series string
	Kind   datasets.Kind
	// Type is "lead", "natural" or "quiet" (never fills).
	Type string
	Now  time.Time
	// LeadDays is the true time to full (lead and natural cases).
	LeadDays float64
	// Status is the predictor's status; ETA10/50/90 its full ETA in days
	// after Now (+Inf when none within the horizon).
	Status              risk.DiskStatus
	ETA10, ETA50, ETA90 float64
	// PL6, PL24 are the predict_linear ETAs in days (+Inf when none).
	PL6, PL24 float64
	Millis    float64
}

// DiskLeadRow summarises the lead cases at one lead time. Errors are
// absolute ETA errors as a percentage of the true remaining time; a case
// without an ETA counts as an infinite error.
type DiskLeadRow struct {
	LeadDays                  float64
	Cases                     int
	MedianAPE, P90APE         float64
	NoETA                     int
	Coverage80                float64 // % of cases with the truth in [p10, p90]
	MedianWidth               float64 // median p90−p10 width in % of the true remaining time
	PL6MedianAPE, PL6P90APE   float64
	PL24MedianAPE, PL24P90APE float64
}

// DiskQuietRow counts alarms on disks of one kind at times when they do not
// fill within the quiet margin.
type DiskQuietRow struct {
	Kind                  string
	Evaluations           int
	Alarms, PL6, PL24     int
	Stable, Shrinking     int // our statuses
	Filling, Insufficient int
}

// DiskScenarioReport is the result of ScenariosDisk.
type DiskScenarioReport struct {
	Options    DiskScenarioOptions
	Cases      []DiskCase
	Leads      []DiskLeadRow // one per lead, then "all" (LeadDays 0)
	Natural    DiskLeadRow   // natural cases (LeadDays = median lead)
	Quiet      []DiskQuietRow
	MeanMillis float64
	Elapsed    time.Duration
}

// riskSeries is one disk or process of a generated fleet.
type riskSeries struct {
	id          string
	host        string
	measurement string
	times       []time.Time
	value, capv []float64
	load        []float64 // host request rate (process_mem of app hosts), NaN where missing
}

// collectRiskFleet gathers the disk and/or process_mem series of a fleet,
// keyed by the used series' ID; with load, process series get their host's
// http request rate aligned by time.
func collectRiskFleet(ctx context.Context, f *datasets.Fleet, wantDisk, wantMem bool) (map[string]*riskSeries, error) {
	out := map[string]*riskSeries{}
	rates := map[string]map[int64]float64{}
	n := 0
	err := f.Each(func(p engine.Point) error {
		if n++; n%100000 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		var field, capField string
		switch {
		case p.Measurement == "disk" && wantDisk:
			field, capField = "used", "total"
		case p.Measurement == "process_mem" && wantMem:
			field, capField = "used_bytes", "limit_bytes"
		case p.Measurement == "http_requests" && wantMem:
			h := p.Tags["host"]
			if rates[h] == nil {
				rates[h] = map[int64]float64{}
			}
			rates[h][p.Time.UnixNano()] = p.Fields["rate"]
			return nil
		default:
			return nil
		}
		id := engine.SeriesKey{Measurement: p.Measurement, Field: field, Tags: p.Tags}.ID()
		s := out[id]
		if s == nil {
			s = &riskSeries{id: id, host: p.Tags["host"], measurement: p.Measurement}
			out[id] = s
		}
		s.times = append(s.times, p.Time)
		s.value = append(s.value, p.Fields[field])
		s.capv = append(s.capv, p.Fields[capField])
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, s := range out {
		r, ok := rates[s.host]
		if !ok || s.measurement != "process_mem" {
			continue
		}
		s.load = make([]float64, len(s.times))
		for i, t := range s.times {
			v, ok := r[t.UnixNano()]
			if !ok {
				v = math.NaN()
			}
			s.load[i] = v
		}
	}
	return out, nil
}

// window returns the index range [lo, hi) of samples in (now-lookback, now].
func (s *riskSeries) window(now time.Time, lookback time.Duration) (int, int) {
	lo := sort.Search(len(s.times), func(i int) bool { return s.times[i].After(now.Add(-lookback)) })
	hi := sort.Search(len(s.times), func(i int) bool { return s.times[i].After(now) })
	return lo, hi
}

func sortedRiskIDs(m map[string]*riskSeries) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// PredictLinear is Prometheus' predict_linear: the least-squares line
// through the samples in (now-window, now], evaluated at now (value) with
// its slope per day. ok is false with fewer than two samples.
func PredictLinear(times []time.Time, vals []float64, now time.Time, window time.Duration) (value, slopePerDay float64, ok bool) {
	var n, st, sv, stt, stv float64
	for i := len(times) - 1; i >= 0 && times[i].After(now.Add(-window)); i-- {
		if times[i].After(now) || math.IsNaN(vals[i]) {
			continue
		}
		x := times[i].Sub(now).Hours() / 24
		n++
		st += x
		sv += vals[i]
		stt += x * x
		stv += x * vals[i]
	}
	den := n*stt - st*st
	if n < 2 || den == 0 {
		return 0, 0, false
	}
	b := (n*stv - st*sv) / den
	return (sv - b*st) / n, b, true
}

// LinearETA is the days until the predict_linear line reaches level
// (+Inf when it does not rise; 0 when already there).
func LinearETA(value, slope, level float64) float64 {
	if value >= level {
		return 0
	}
	if slope <= 0 {
		return math.Inf(1)
	}
	return (level - value) / slope
}

// ScenariosDisk runs the disk scenario benchmark (see the top of this
// file). It is deterministic apart from the timings.
func ScenariosDisk(ctx context.Context, opts DiskScenarioOptions) (*DiskScenarioReport, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	begin := time.Now()
	results := make([][]DiskCase, len(o.Seeds))
	errs := engine.ForEach(ctx, len(o.Seeds), o.Workers, func(i int) error {
		var err error
		results[i], err = runDiskFleet(ctx, o.Seeds[i], o)
		if o.Progress != nil && err == nil {
			o.Progress(fmt.Sprintf("disk scenarios: seed %d: %d cases", o.Seeds[i], len(results[i])))
		}
		return err
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rep := &DiskScenarioReport{Options: o}
	for i, r := range results {
		if errs[i] != nil {
			return nil, errs[i]
		}
		rep.Cases = append(rep.Cases, r...)
	}
	rep.score()
	rep.Elapsed = time.Since(begin)
	return rep, nil
}

// runDiskFleet generates one fleet and evaluates every case of it.
func runDiskFleet(ctx context.Context, seed uint64, o DiskScenarioOptions) ([]DiskCase, error) {
	f, err := datasets.GenerateFleet(datasets.FleetConfig{Hosts: o.Hosts, Days: o.Days, Step: o.Step, Seed: seed})
	if err != nil {
		return nil, err
	}
	truth := f.GroundTruth()
	all, err := collectRiskFleet(ctx, f, true, false)
	if err != nil {
		return nil, err
	}
	end := f.End()
	last := end.Add(-o.Step) // the last sample
	var out []DiskCase
	eval := func(c DiskCase, s *riskSeries, total float64) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		lo, hi := s.window(c.Now, o.Lookback)
		in := risk.DiskInput{Times: s.times[lo:hi], Used: s.value[lo:hi]}
		if total > 0 {
			in.TotalBytes = total
		} else {
			in.Total = s.capv[lo:hi]
			total = s.capv[hi-1]
		}
		t0 := time.Now()
		p, err := risk.PredictDisk(in, risk.DiskOptions{Now: c.Now, Horizon: o.Horizon})
		if err != nil {
			return fmt.Errorf("disk scenarios: %s at %s: %w", s.id, c.Now.Format(time.RFC3339), err)
		}
		c.Millis = float64(time.Since(t0).Microseconds()) / 1000
		c.Status = p.Status
		c.ETA10, c.ETA50, c.ETA90 = riskETADays(p.Full.P10, c.Now), riskETADays(p.Full.P50, c.Now), riskETADays(p.Full.P90, c.Now)
		c.PL6, c.PL24 = math.Inf(1), math.Inf(1)
		if v, b, ok := PredictLinear(s.times[lo:hi], s.value[lo:hi], c.Now, 6*time.Hour); ok {
			c.PL6 = LinearETA(v, b, total)
		}
		if v, b, ok := PredictLinear(s.times[lo:hi], s.value[lo:hi], c.Now, 24*time.Hour); ok {
			c.PL24 = LinearETA(v, b, total)
		}
		out = append(out, c)
		return nil
	}
	for _, id := range sortedRiskIDs(all) {
		s := all[id]
		g, ok := truth[id]
		if !ok || len(s.times) == 0 {
			continue
		}
		base := DiskCase{Seed: seed, Series: id, Kind: g.Kind}
		// lead cases
		if linearAfterChange(g) && g.TrendPerHour > 0 {
			lastChange := time.Time{}
			for _, e := range g.Events {
				if e.Type == datasets.EventChangePoint && e.Time.After(lastChange) {
					lastChange = e.Time
				}
			}
			for _, cut := range o.CutDays {
				now := last.Add(-time.Duration(cut * 24 * float64(time.Hour)))
				if !lastChange.IsZero() && now.Sub(lastChange).Hours()/24 < o.MinRegimeDays {
					continue
				}
				for _, lead := range o.LeadDays {
					full := now.Add(time.Duration(lead * 24 * float64(time.Hour)))
					level := g.ValueAtEnd + g.TrendPerHour*full.Sub(end).Hours()
					c := base
					c.Type, c.Now, c.LeadDays = "lead", now, lead
					if err := eval(c, s, level); err != nil {
						return nil, err
					}
				}
			}
		}
		// natural case
		if g.FillTime != nil {
			if lead := g.FillTime.Sub(last).Hours() / 24; lead > 0 && lead <= o.Horizon.Hours()/24 {
				c := base
				c.Type, c.Now, c.LeadDays = "natural", last, lead
				if err := eval(c, s, 0); err != nil {
					return nil, err
				}
			}
		}
		// false-alarm cases: "now" points from which the disk does not fill
		// within the margin
		for k := 0; k < o.QuietNows; k++ {
			c := base
			c.Type, c.Now = "quiet", last.Add(-time.Duration(k)*25*time.Hour)
			if g.FillTime != nil && g.FillTime.Sub(c.Now).Hours()/24 <= o.QuietMarginDays {
				continue
			}
			if err := eval(c, s, 0); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// linearAfterChange reports whether a disk's used space is a noise-free
// straight line after its last change point, so that its future level is
// known exactly from the ground truth.
func linearAfterChange(g datasets.GroundTruth) bool {
	switch g.Kind {
	case datasets.KindDiskFill, datasets.KindDiskFillAccelerating, datasets.KindDiskGrown:
		return g.NextClose == nil && g.LastClose == nil // no load component
	}
	return false
}

func riskETADays(t *time.Time, now time.Time) float64 {
	if t == nil {
		return math.Inf(1)
	}
	return t.Sub(now).Hours() / 24
}

// riskAPE is the absolute ETA error in percent of the true remaining time
// (+Inf without an ETA).
func riskAPE(eta, truth float64) float64 {
	if math.IsInf(eta, 1) || math.IsNaN(eta) {
		return math.Inf(1)
	}
	return 100 * math.Abs(eta-truth) / truth
}

// riskQuantile is the type-7 quantile of v (NaN for none; +Inf values
// sort last); v is not changed.
func riskQuantile(v []float64, p float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	h := float64(len(s)-1) * p
	lo := int(math.Floor(h))
	if lo >= len(s)-1 {
		return s[len(s)-1]
	}
	if math.IsInf(s[lo+1], 1) {
		if h == float64(lo) {
			return s[lo]
		}
		return math.Inf(1)
	}
	return s[lo] + (h-float64(lo))*(s[lo+1]-s[lo])
}

func (r *DiskScenarioReport) leadRow(lead float64, cases []DiskCase) DiskLeadRow {
	row := DiskLeadRow{LeadDays: lead, Cases: len(cases)}
	var a, a6, a24, wd []float64
	covered := 0
	for _, c := range cases {
		wd = append(wd, 100*(c.ETA90-c.ETA10)/c.LeadDays)
		e := riskAPE(c.ETA50, c.LeadDays)
		a = append(a, e)
		if math.IsInf(e, 1) {
			row.NoETA++
		}
		a6 = append(a6, riskAPE(c.PL6, c.LeadDays))
		a24 = append(a24, riskAPE(c.PL24, c.LeadDays))
		if c.ETA10 <= c.LeadDays && c.LeadDays <= c.ETA90 {
			covered++
		}
	}
	row.MedianAPE, row.P90APE = riskQuantile(a, 0.5), riskQuantile(a, 0.9)
	row.MedianWidth = riskQuantile(wd, 0.5)
	row.PL6MedianAPE, row.PL6P90APE = riskQuantile(a6, 0.5), riskQuantile(a6, 0.9)
	row.PL24MedianAPE, row.PL24P90APE = riskQuantile(a24, 0.5), riskQuantile(a24, 0.9)
	if len(cases) > 0 {
		row.Coverage80 = 100 * float64(covered) / float64(len(cases))
	}
	return row
}

func (r *DiskScenarioReport) score() {
	var ms float64
	for _, c := range r.Cases {
		ms += c.Millis
	}
	if len(r.Cases) > 0 {
		r.MeanMillis = ms / float64(len(r.Cases))
	}
	var allLead, natural []DiskCase
	for _, lead := range r.Options.LeadDays {
		var sel []DiskCase
		for _, c := range r.Cases {
			if c.Type == "lead" && c.LeadDays == lead {
				sel = append(sel, c)
			}
		}
		allLead = append(allLead, sel...)
		r.Leads = append(r.Leads, r.leadRow(lead, sel))
	}
	r.Leads = append(r.Leads, r.leadRow(0, allLead))
	var leads []float64
	for _, c := range r.Cases {
		if c.Type == "natural" {
			natural = append(natural, c)
			leads = append(leads, c.LeadDays)
		}
	}
	r.Natural = r.leadRow(riskQuantile(leads, 0.5), natural)
	byKind := map[string]*DiskQuietRow{}
	total := &DiskQuietRow{Kind: "all"}
	alarm := func(eta float64) bool { return eta <= r.Options.AlarmDays }
	for _, c := range r.Cases {
		if c.Type != "quiet" {
			continue
		}
		q := byKind[string(c.Kind)]
		if q == nil {
			q = &DiskQuietRow{Kind: string(c.Kind)}
			byKind[string(c.Kind)] = q
		}
		for _, row := range []*DiskQuietRow{q, total} {
			row.Evaluations++
			if alarm(c.ETA50) {
				row.Alarms++
			}
			if alarm(c.PL6) {
				row.PL6++
			}
			if alarm(c.PL24) {
				row.PL24++
			}
			switch c.Status {
			case risk.DiskStable:
				row.Stable++
			case risk.DiskShrinking:
				row.Shrinking++
			case risk.DiskFilling:
				row.Filling++
			default:
				row.Insufficient++
			}
		}
	}
	kinds := make([]string, 0, len(byKind))
	for k := range byKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		r.Quiet = append(r.Quiet, *byKind[k])
	}
	r.Quiet = append(r.Quiet, *total)
}

func riskPct(v float64) string {
	switch {
	case math.IsNaN(v):
		return "–"
	case math.IsInf(v, 1):
		return "∞"
	case v >= 1000:
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// Markdown renders the report as Markdown tables with the settings and the
// targets.
func (r *DiskScenarioReport) Markdown() string {
	var b strings.Builder
	o := r.Options
	fmt.Fprintf(&b, "## Disk exhaustion scenarios\n\n")
	fmt.Fprintf(&b, "Demo fleet, seeds %v, %d hosts, %d days at %s; each prediction sees the last %s. %d predictions, %.1f ms each on average, %s in all. "+
		"Peers: predict_linear (least squares over the last 6 h and 24 h of raw samples, as Prometheus' `predict_linear`).\n\n",
		o.Seeds, o.Hosts, o.Days, o.Step, riskDur(o.Lookback), len(r.Cases), r.MeanMillis, r.Elapsed.Round(time.Second))
	fmt.Fprintf(&b, "**ETA error** (absolute error of the median full ETA, in %% of the true remaining time; no ETA = ∞). Lead cases: linear-growth disks cut at End or %v days earlier (at least %g days after their last change point) with the total set so that they fill exactly *lead* days later.\n\n",
		o.CutDays[1:], o.MinRegimeDays)
	b.WriteString("| days before full | cases | median % | p90 % | no ETA | p10–p90 coverage % | p10–p90 width % | predict_linear 6h median % | 6h p90 % | predict_linear 24h median % | 24h p90 % |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	rows := append(append([]DiskLeadRow{}, r.Leads...), r.Natural)
	for i, w := range rows {
		label := fmt.Sprintf("%g", w.LeadDays)
		switch {
		case i == len(rows)-2:
			label = "all lead cases"
		case i == len(rows)-1:
			label = fmt.Sprintf("natural (real totals; median %.0f days)", w.LeadDays)
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %d | %.0f | %s | %s | %s | %s | %s |\n", label, w.Cases, riskPct(w.MedianAPE), riskPct(w.P90APE), w.NoETA,
			w.Coverage80, riskPct(w.MedianWidth), riskPct(w.PL6MedianAPE), riskPct(w.PL6P90APE), riskPct(w.PL24MedianAPE), riskPct(w.PL24P90APE))
	}
	fmt.Fprintf(&b, "\n**False alarms** (median ETA within %g days) on disks that do not fill within %g days, %d \"now\" points per disk 25 h apart:\n\n", o.AlarmDays, o.QuietMarginDays, o.QuietNows)
	b.WriteString("| kind | evaluations | alarms | predict_linear 6h alarms | predict_linear 24h alarms | stable | shrinking | filling (no alarm) | insufficient history |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, q := range r.Quiet {
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d | %d | %d | %d |\n", q.Kind, q.Evaluations, q.Alarms, q.PL6, q.PL24,
			q.Stable, q.Shrinking, q.Filling-q.Alarms, q.Insufficient)
	}
	if len(r.Leads) > 0 && len(r.Quiet) > 0 {
		check := func(ok bool) string {
			if ok {
				return "met"
			}
			return "NOT met"
		}
		var at3 DiskLeadRow
		for _, w := range r.Leads {
			if w.LeadDays == 3 {
				at3 = w
			}
		}
		q := r.Quiet[len(r.Quiet)-1]
		fewer := "∞"
		if q.Alarms > 0 {
			fewer = fmt.Sprintf("%.1f", float64(min(q.PL6, q.PL24))/float64(q.Alarms))
		}
		fmt.Fprintf(&b, "\nTargets: median ETA error ≤ 10 %% at 3 days before full: %s %% (%s); no false alarm on never-filling disks: %d (%s); "+
			"≥ 5× fewer false alarms than predict_linear: %s× fewer than the better peer (%s).\n",
			riskPct(at3.MedianAPE), check(at3.Cases > 0 && at3.MedianAPE <= 10), q.Alarms, check(q.Alarms == 0), fewer,
			check(q.Alarms*5 <= min(q.PL6, q.PL24) && min(q.PL6, q.PL24) > 0))
	}
	return b.String()
}

func riskDur(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	}
	return d.String()
}
