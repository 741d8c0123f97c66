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

// This file is the memory-leak scenario benchmark: the leak predictor
// (risk.PredictMemLeak) against the ground truth of the demo fleet, beside
// Prometheus-style predict_linear peers on the raw memory (least squares
// over the last 6 h and 24 h; a leak when the line reaches the memory limit
// within PeerHorizonDays) computed in the same run.
//
// Every process_mem series of every fleet is predicted at several "now"
// points (End and NowDays earlier), each with the last Lookback of history;
// application servers get their host's request rate as the load series.
// Positives are the series of kind memleak. Also measured: the leak rate
// error on detected leaks; the out-of-memory ETA error against the ground
// truth's fill time (at End, and at every "now" for leaking processes that
// are never restarted, whose fill time does not depend on "now"); and the
// detection delay: the history is replayed from the fleet's start in
// DelayStep increments until the first leak verdict (the leaks of the demo
// fleet start before its first sample, so the delay is counted from it).

// MemLeakScenarioOptions configure ScenariosMemLeak. Zero values take the
// defaults noted.
type MemLeakScenarioOptions struct {
	// Seeds of the demo fleets (default 1, 2, 3, 4).
	Seeds []uint64
	// Hosts per fleet (default 20).
	Hosts int
	// Days of generated history (default 120).
	Days int
	// Step is the fleet's sampling interval (default 15 minutes).
	Step time.Duration
	// Lookback is the history given to each prediction (default 28 days).
	Lookback time.Duration
	// NowDays place the "now" points this many days before End (default
	// 0, 14, 28, 42).
	NowDays []float64
	// PeerHorizonDays: predict_linear flags a leak when its line reaches
	// the limit within this many days (default 30).
	PeerHorizonDays float64
	// DelayStep is the replay increment of the detection delay (default
	// 6 h) and MaxDelay where the replay stops (default 14 days).
	DelayStep, MaxDelay time.Duration
	// Workers bounds the fleets evaluated concurrently (default GOMAXPROCS).
	Workers int
	// Progress, when set, is called after each fleet with a short note.
	Progress func(string)
}

func (o MemLeakScenarioOptions) withDefaults() (MemLeakScenarioOptions, error) {
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
		o.Lookback = 28 * 24 * time.Hour
	}
	if len(o.NowDays) == 0 {
		o.NowDays = []float64{0, 14, 28, 42}
	}
	if o.PeerHorizonDays == 0 {
		o.PeerHorizonDays = 30
	}
	if o.DelayStep == 0 {
		o.DelayStep = 6 * time.Hour
	}
	if o.MaxDelay == 0 {
		o.MaxDelay = 14 * 24 * time.Hour
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.Hosts < 3 || o.Days < 7 || o.Step < time.Minute || o.Step > time.Hour || o.Lookback < 24*time.Hour || o.DelayStep <= 0 {
		return o, fmt.Errorf("memory-leak scenarios: need at least 3 hosts, 7 days, a step of 1m to 1h, a lookback of a day or more and a positive delay step")
	}
	for _, d := range o.NowDays {
		if d < 0 || d >= float64(o.Days) {
			return o, fmt.Errorf("memory-leak scenarios: now %v days before End is outside the %d-day history", d, o.Days)
		}
	}
	return o, nil
}

// MemLeakCase is one prediction of one process.
type MemLeakCase struct {
	Seed    uint64
	Series  string
	Kind    datasets.Kind
	Now     time.Time
	Verdict risk.MemVerdict
	Score   float64
	// LeakRate is the predicted rate in bytes per hour (NaN unless the
	// verdict is leak); TrueRate the ground truth's (NaN if none).
	LeakRate, TrueRate float64
	// OOM10/50/90 are the predicted out-of-memory ETAs in days after Now
	// (+Inf when none); TrueOOM the ground truth's (NaN when not
	// applicable at this "now"); PL24OOM the 24 h predict_linear ETA.
	OOM10, OOM50, OOM90 float64
	TrueOOM, PL24OOM    float64
	// PL6, PL24 report the predict_linear leak flags.
	PL6, PL24 bool
	Millis    float64
}

// MemLeakDetection is the detection delay of one leaking process, in hours
// after the first sample (+Inf when not detected within MaxDelay).
type MemLeakDetection struct {
	Seed           uint64
	Series         string
	Delay          float64
	PL6, PL24      float64
	RestartsInside int // restarts within the replayed span
}

// MemLeakConfusion scores one method's leak flags.
type MemLeakConfusion struct {
	Method                string
	TP, FP, FN, TN        int
	Precision, Recall, F1 float64
}

// MemLeakKindRow counts verdicts on the series of one true kind.
type MemLeakKindRow struct {
	Kind        string
	Evaluations int
	// Leak, PL6, PL24 count leak flags of each method.
	Leak, PL6, PL24 int
	// Verdicts counts our verdicts.
	Verdicts map[risk.MemVerdict]int
}

// MemLeakScenarioReport is the result of ScenariosMemLeak.
type MemLeakScenarioReport struct {
	Options    MemLeakScenarioOptions
	Cases      []MemLeakCase
	Detections []MemLeakDetection
	Confusion  []MemLeakConfusion // ours, predict_linear 6h, 24h
	Kinds      []MemLeakKindRow   // one per kind, then "all"
	// RateMedianAPE, RateP90APE: leak-rate error in % on true leaks
	// detected as leaks.
	RateMedianAPE, RateP90APE float64
	// OOM ETA: cases, median and p90 error in % of the true remaining
	// time, p10–p90 coverage in %, and the 24 h predict_linear peer's
	// median and p90 error.
	OOMCases                     int
	OOMMedianAPE, OOMP90APE      float64
	OOMCoverage80                float64
	PL24OOMMedianAPE, PL24OOMP90 float64
	MeanMillis                   float64
	Elapsed                      time.Duration
}

// ScenariosMemLeak runs the memory-leak scenario benchmark (see the top of
// this file). It is deterministic apart from the timings.
func ScenariosMemLeak(ctx context.Context, opts MemLeakScenarioOptions) (*MemLeakScenarioReport, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	begin := time.Now()
	cases := make([][]MemLeakCase, len(o.Seeds))
	dets := make([][]MemLeakDetection, len(o.Seeds))
	errs := engine.ForEach(ctx, len(o.Seeds), o.Workers, func(i int) error {
		var err error
		cases[i], dets[i], err = runMemLeakFleet(ctx, o.Seeds[i], o)
		if o.Progress != nil && err == nil {
			o.Progress(fmt.Sprintf("memory-leak scenarios: seed %d: %d cases", o.Seeds[i], len(cases[i])))
		}
		return err
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rep := &MemLeakScenarioReport{Options: o}
	for i := range o.Seeds {
		if errs[i] != nil {
			return nil, errs[i]
		}
		rep.Cases = append(rep.Cases, cases[i]...)
		rep.Detections = append(rep.Detections, dets[i]...)
	}
	rep.score()
	rep.Elapsed = time.Since(begin)
	return rep, nil
}

// memInput cuts one series to (now-lookback, now].
func memInput(s *riskSeries, now time.Time, lookback time.Duration) (risk.MemInput, int, int) {
	lo, hi := s.window(now, lookback)
	in := risk.MemInput{Times: s.times[lo:hi], Memory: s.value[lo:hi], Limit: s.capv[lo:hi]}
	if s.load != nil {
		in.Load = s.load[lo:hi]
	}
	return in, lo, hi
}

// peerLeak applies the predict_linear rule: the line over the window
// reaches the limit within horizon days. It also returns the ETA in days.
func peerLeak(s *riskSeries, lo, hi int, now time.Time, window time.Duration, horizon float64) (bool, float64) {
	if hi <= lo {
		return false, math.Inf(1)
	}
	v, b, ok := PredictLinear(s.times[lo:hi], s.value[lo:hi], now, window)
	if !ok {
		return false, math.Inf(1)
	}
	eta := LinearETA(v, b, s.capv[hi-1])
	return eta <= horizon, eta
}

// runMemLeakFleet generates one fleet and evaluates its processes.
func runMemLeakFleet(ctx context.Context, seed uint64, o MemLeakScenarioOptions) ([]MemLeakCase, []MemLeakDetection, error) {
	f, err := datasets.GenerateFleet(datasets.FleetConfig{Hosts: o.Hosts, Days: o.Days, Step: o.Step, Seed: seed})
	if err != nil {
		return nil, nil, err
	}
	truth := f.GroundTruth()
	all, err := collectRiskFleet(ctx, f, false, true)
	if err != nil {
		return nil, nil, err
	}
	last := f.End().Add(-o.Step)
	var out []MemLeakCase
	var dets []MemLeakDetection
	for _, id := range sortedRiskIDs(all) {
		s := all[id]
		g, ok := truth[id]
		if !ok || len(s.times) == 0 {
			continue
		}
		restarts := 0
		for _, e := range g.Events {
			if e.Type == datasets.EventRestart {
				restarts++
			}
		}
		for _, nd := range o.NowDays {
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
			now := last.Add(-time.Duration(nd * 24 * float64(time.Hour)))
			in, lo, hi := memInput(s, now, o.Lookback)
			t0 := time.Now()
			p, err := risk.PredictMemLeak(in, risk.MemOptions{Now: now})
			if err != nil {
				return nil, nil, fmt.Errorf("memory-leak scenarios: %s at %s: %w", id, now.Format(time.RFC3339), err)
			}
			c := MemLeakCase{Seed: seed, Series: id, Kind: g.Kind, Now: now, Verdict: p.Verdict, Score: p.Score,
				Millis: float64(time.Since(t0).Microseconds()) / 1000, LeakRate: math.NaN(), TrueRate: math.NaN(), TrueOOM: math.NaN()}
			if p.Verdict == risk.MemLeak && p.LeakRateBytesPerHour != nil {
				c.LeakRate = *p.LeakRateBytesPerHour
			}
			if g.LeakRateBytesPerHour != nil {
				c.TrueRate = *g.LeakRateBytesPerHour
			}
			c.OOM10, c.OOM50, c.OOM90 = riskETADays(p.OOM.P10, now), riskETADays(p.OOM.P50, now), riskETADays(p.OOM.P90, now)
			if g.Kind == datasets.KindMemLeak && g.FillTime != nil && (nd == 0 || restarts == 0) {
				c.TrueOOM = g.FillTime.Sub(now).Hours() / 24
			}
			c.PL6, _ = peerLeak(s, lo, hi, now, 6*time.Hour, o.PeerHorizonDays)
			c.PL24, c.PL24OOM = peerLeak(s, lo, hi, now, 24*time.Hour, o.PeerHorizonDays)
			out = append(out, c)
		}
		if g.Kind != datasets.KindMemLeak {
			continue
		}
		d := MemLeakDetection{Seed: seed, Series: id, Delay: math.Inf(1), PL6: math.Inf(1), PL24: math.Inf(1)}
		start := s.times[0]
		for k := 1; time.Duration(k)*o.DelayStep <= o.MaxDelay; k++ {
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
			now := start.Add(time.Duration(k) * o.DelayStep)
			hours := now.Sub(start).Hours()
			in, lo, hi := memInput(s, now, o.Lookback)
			if math.IsInf(d.Delay, 1) {
				p, err := risk.PredictMemLeak(in, risk.MemOptions{Now: now})
				if err != nil {
					return nil, nil, err
				}
				if p.Verdict == risk.MemLeak {
					d.Delay = hours
				}
			}
			if leak, _ := peerLeak(s, lo, hi, now, 6*time.Hour, o.PeerHorizonDays); leak && math.IsInf(d.PL6, 1) {
				d.PL6 = hours
			}
			if leak, _ := peerLeak(s, lo, hi, now, 24*time.Hour, o.PeerHorizonDays); leak && math.IsInf(d.PL24, 1) {
				d.PL24 = hours
			}
			if !math.IsInf(d.Delay, 1) && !math.IsInf(d.PL6, 1) && !math.IsInf(d.PL24, 1) {
				break
			}
		}
		for _, e := range g.Events {
			if e.Type == datasets.EventRestart && e.Time.Before(start.Add(o.MaxDelay)) {
				d.RestartsInside++
			}
		}
		dets = append(dets, d)
	}
	return out, dets, nil
}

func confusion(method string, cases []MemLeakCase, flag func(MemLeakCase) bool) MemLeakConfusion {
	m := MemLeakConfusion{Method: method}
	for _, c := range cases {
		pos := c.Kind == datasets.KindMemLeak
		switch f := flag(c); {
		case pos && f:
			m.TP++
		case pos:
			m.FN++
		case f:
			m.FP++
		default:
			m.TN++
		}
	}
	if m.TP+m.FP > 0 {
		m.Precision = float64(m.TP) / float64(m.TP+m.FP)
	}
	if m.TP+m.FN > 0 {
		m.Recall = float64(m.TP) / float64(m.TP+m.FN)
	}
	if m.Precision+m.Recall > 0 {
		m.F1 = 2 * m.Precision * m.Recall / (m.Precision + m.Recall)
	}
	return m
}

func (r *MemLeakScenarioReport) score() {
	var ms float64
	for _, c := range r.Cases {
		ms += c.Millis
	}
	if len(r.Cases) > 0 {
		r.MeanMillis = ms / float64(len(r.Cases))
	}
	r.Confusion = []MemLeakConfusion{
		confusion("foresight", r.Cases, func(c MemLeakCase) bool { return c.Verdict == risk.MemLeak }),
		confusion("predict_linear 6h", r.Cases, func(c MemLeakCase) bool { return c.PL6 }),
		confusion("predict_linear 24h", r.Cases, func(c MemLeakCase) bool { return c.PL24 }),
	}
	byKind := map[string]*MemLeakKindRow{}
	total := &MemLeakKindRow{Kind: "all", Verdicts: map[risk.MemVerdict]int{}}
	var rateErr, oomErr, plErr []float64
	covered := 0
	for _, c := range r.Cases {
		k := byKind[string(c.Kind)]
		if k == nil {
			k = &MemLeakKindRow{Kind: string(c.Kind), Verdicts: map[risk.MemVerdict]int{}}
			byKind[string(c.Kind)] = k
		}
		for _, row := range []*MemLeakKindRow{k, total} {
			row.Evaluations++
			row.Verdicts[c.Verdict]++
			if c.Verdict == risk.MemLeak {
				row.Leak++
			}
			if c.PL6 {
				row.PL6++
			}
			if c.PL24 {
				row.PL24++
			}
		}
		if c.Kind == datasets.KindMemLeak && c.Verdict == risk.MemLeak && !math.IsNaN(c.TrueRate) {
			rateErr = append(rateErr, 100*math.Abs(c.LeakRate-c.TrueRate)/c.TrueRate)
		}
		if !math.IsNaN(c.TrueOOM) && c.TrueOOM > 0 {
			oomErr = append(oomErr, riskAPE(c.OOM50, c.TrueOOM))
			plErr = append(plErr, riskAPE(c.PL24OOM, c.TrueOOM))
			if c.OOM10 <= c.TrueOOM && c.TrueOOM <= c.OOM90 {
				covered++
			}
		}
	}
	kinds := make([]string, 0, len(byKind))
	for k := range byKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		r.Kinds = append(r.Kinds, *byKind[k])
	}
	r.Kinds = append(r.Kinds, *total)
	r.RateMedianAPE, r.RateP90APE = riskQuantile(rateErr, 0.5), riskQuantile(rateErr, 0.9)
	r.OOMCases = len(oomErr)
	r.OOMMedianAPE, r.OOMP90APE = riskQuantile(oomErr, 0.5), riskQuantile(oomErr, 0.9)
	r.PL24OOMMedianAPE, r.PL24OOMP90 = riskQuantile(plErr, 0.5), riskQuantile(plErr, 0.9)
	if len(oomErr) > 0 {
		r.OOMCoverage80 = 100 * float64(covered) / float64(len(oomErr))
	}
}

func fmtHours(v float64) string {
	if math.IsInf(v, 1) || math.IsNaN(v) {
		return "never"
	}
	return fmt.Sprintf("%.0f", v)
}

// Markdown renders the report as Markdown tables with the settings and the
// targets.
func (r *MemLeakScenarioReport) Markdown() string {
	var b strings.Builder
	o := r.Options
	fmt.Fprintf(&b, "## Memory-leak scenarios\n\n")
	fmt.Fprintf(&b, "Demo fleet, seeds %v, %d hosts, %d days at %s; \"now\" at End and %v days earlier, each prediction sees the last %s (application servers with their request rate as load). "+
		"%d predictions, %.1f ms each on average, %s in all. Peers: predict_linear on raw memory over the last 6 h and 24 h, a leak when the line reaches the limit within %g days.\n\n",
		o.Seeds, o.Hosts, o.Days, o.Step, o.NowDays[1:], riskDur(o.Lookback), len(r.Cases), r.MeanMillis, r.Elapsed.Round(time.Second), o.PeerHorizonDays)
	b.WriteString("| method | TP | FP | FN | TN | precision | recall | F1 |\n|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, c := range r.Confusion {
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %.3f | %.3f | %.3f |\n", c.Method, c.TP, c.FP, c.FN, c.TN, c.Precision, c.Recall, c.F1)
	}
	verdicts := []risk.MemVerdict{risk.MemLeak, risk.MemWarmupPlateau, risk.MemLoadDriven, risk.MemStable, risk.MemInsufficientHistory}
	b.WriteString("\n| true kind | evaluations | leak | warmup_plateau | load_driven | stable | insufficient_history | predict_linear 6h leaks | predict_linear 24h leaks |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, k := range r.Kinds {
		fmt.Fprintf(&b, "| %s | %d |", k.Kind, k.Evaluations)
		for _, v := range verdicts {
			fmt.Fprintf(&b, " %d |", k.Verdicts[v])
		}
		fmt.Fprintf(&b, " %d | %d |\n", k.PL6, k.PL24)
	}
	fmt.Fprintf(&b, "\nLeak rate error on detected leaks: median %s %%, p90 %s %%. ", riskPct(r.RateMedianAPE), riskPct(r.RateP90APE))
	fmt.Fprintf(&b, "Out-of-memory ETA (%d cases, error in %% of the true remaining time): median %s %%, p90 %s %%, p10–p90 coverage %.0f %%; predict_linear 24h: median %s %%, p90 %s %%.\n\n",
		r.OOMCases, riskPct(r.OOMMedianAPE), riskPct(r.OOMP90APE), r.OOMCoverage80, riskPct(r.PL24OOMMedianAPE), riskPct(r.PL24OOMP90))
	b.WriteString("| detection delay (hours after the first sample) | leaking processes | median | max | not detected within " + riskDur(o.MaxDelay) + " |\n|---|---:|---:|---:|---:|\n")
	for _, m := range []struct {
		name string
		get  func(MemLeakDetection) float64
	}{
		{"foresight", func(d MemLeakDetection) float64 { return d.Delay }},
		{"predict_linear 6h", func(d MemLeakDetection) float64 { return d.PL6 }},
		{"predict_linear 24h", func(d MemLeakDetection) float64 { return d.PL24 }},
	} {
		var v []float64
		miss := 0
		for _, d := range r.Detections {
			x := m.get(d)
			v = append(v, x)
			if math.IsInf(x, 1) {
				miss++
			}
		}
		mx := math.NaN()
		if len(v) > 0 {
			sort.Float64s(v)
			mx = v[len(v)-1]
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %d |\n", m.name, len(v), fmtHours(riskQuantile(v, 0.5)), fmtHours(mx), miss)
	}
	if len(r.Confusion) > 0 {
		ours := r.Confusion[0]
		bad := 0
		for _, k := range r.Kinds {
			if k.Kind == string(datasets.KindWarmup) || k.Kind == string(datasets.KindLoadDriven) {
				bad += k.Leak
			}
		}
		check := func(ok bool) string {
			if ok {
				return "met"
			}
			return "NOT met"
		}
		fmt.Fprintf(&b, "\nTargets: leak F1 ≥ 0.95: %.3f (%s); no leak verdict on warm-up or load-driven services: %d (%s).\n",
			ours.F1, check(ours.F1 >= 0.95), bad, check(bad == 0))
	}
	return b.String()
}
