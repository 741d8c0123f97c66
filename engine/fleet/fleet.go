package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/seed-f1b503aa/foresight/calendar"
	"github.com/seed-f1b503aa/foresight/engine"
	"github.com/seed-f1b503aa/foresight/engine/risk"
)

// Kind is a predictor.
type Kind string

// The predictors.
const (
	KindDisk     Kind = "disk"
	KindMemLeak  Kind = "memleak"
	KindMonthEnd Kind = "monthend"
)

// ParseKind validates a kind name ("" is allowed by callers meaning all).
func ParseKind(s string) (Kind, error) {
	switch Kind(s) {
	case KindDisk, KindMemLeak, KindMonthEnd:
		return Kind(s), nil
	}
	return "", fmt.Errorf("kind %q: use disk, memleak or monthend", s)
}

// Prediction is one predictor's answer for one entity.
type Prediction struct {
	Kind Kind `json:"kind"`
	// ID is stable across runs: kind plus the entity's tags.
	ID string `json:"id"`
	// Entity holds the tags naming what is at risk (host, path, service…).
	Entity map[string]string `json:"entity"`
	// Series are the ids of the series the answer rests on.
	Series []string `json:"series"`
	// Status is the predictor's status or verdict (filling, leak, breach, ok…).
	Status string `json:"status"`
	// AtRisk is true when the answer warns of a failure within the horizon.
	AtRisk bool `json:"at_risk"`
	// BreachAt is the median time of the predicted failure (disk full, out
	// of memory, capacity breach), nil when none is predicted; BreachP10
	// and BreachP90 bound it.
	BreachAt  *time.Time `json:"breach_at"`
	BreachP10 *time.Time `json:"breach_p10"`
	BreachP90 *time.Time `json:"breach_p90"`
	// Summary is one line a person can act on.
	Summary string `json:"summary"`
	// Confidence in [0, 1].
	Confidence float64 `json:"confidence"`
	// Detail is the predictor's full answer with its evidence.
	Detail any `json:"detail"`
	// Error is set when the predictor failed for this entity.
	Error string `json:"error,omitempty"`
}

// Snapshot is the result of one run over the fleet.
type Snapshot struct {
	ComputedAt  time.Time     `json:"computed_at"`
	Duration    time.Duration `json:"-"`
	Predictions []Prediction  `json:"predictions"`
	// Errors lists failures that prevented whole sources from running.
	Errors []string `json:"errors,omitempty"`
}

// Runner computes predictions for the fleet.
type Runner struct {
	Store   engine.MetricStore
	Rules   Rules
	Logger  *slog.Logger
	Workers int
	// Calendar for month-end (nil: the built-in default or Rules.MonthEnd.CalendarFile).
	Calendar *calendar.Calendar
	// Kinds restricts the run to these predictors (empty: all of them).
	Kinds []Kind
	// Only, when not nil, restricts the run to these main series (by
	// engine.SeriesKey.ID: a disk source's used field, a memory source's
	// memory field, a month-end source's field); MainSeries lists them.
	// Several processes can so split one fleet run.
	Only map[string]bool
}

// runs reports whether the runner runs predictor k.
func (r *Runner) runs(k Kind) bool {
	return len(r.Kinds) == 0 || slices.Contains(r.Kinds, k)
}

// Run reads every matching series and runs the predictors at now. A store
// failure for one source is recorded in Snapshot.Errors; the other sources
// still run. It returns an error only when nothing could be read at all.
func (r *Runner) Run(ctx context.Context, now time.Time) (Snapshot, error) {
	start := time.Now()
	rules := r.Rules.withDefaults()
	log := r.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cal := r.Calendar
	if cal == nil && r.runs(KindMonthEnd) {
		if rules.MonthEnd.CalendarFile != "" {
			var err error
			if cal, err = calendar.LoadCalendar(rules.MonthEnd.CalendarFile); err != nil {
				return Snapshot{}, err
			}
		} else {
			cal = calendar.DefaultCalendar()
		}
	}
	var tasks []task
	var errs []string
	sources := 0
	if !r.runs(KindDisk) {
		rules.Disk.Sources = nil
	}
	if !r.runs(KindMemLeak) {
		rules.Memory.Sources = nil
	}
	if !r.runs(KindMonthEnd) {
		rules.MonthEnd.Sources = nil
	}
	for _, src := range rules.Disk.Sources {
		t, err := r.diskTasks(ctx, src, rules.Disk, now)
		if err != nil {
			errs = append(errs, fmt.Sprintf("disk %s: %v", src.Measurement, err))
			continue
		}
		sources++
		tasks = append(tasks, t...)
	}
	for _, src := range rules.Memory.Sources {
		t, err := r.memTasks(ctx, src, rules.Memory, now)
		if err != nil {
			errs = append(errs, fmt.Sprintf("memory %s: %v", src.Measurement, err))
			continue
		}
		sources++
		tasks = append(tasks, t...)
	}
	for _, src := range rules.MonthEnd.Sources {
		t, err := r.monthEndTasks(ctx, src, rules.MonthEnd, cal, now)
		if err != nil {
			errs = append(errs, fmt.Sprintf("monthend %s: %v", src.Measurement, err))
			continue
		}
		sources++
		tasks = append(tasks, t...)
	}
	if sources == 0 && len(errs) > 0 {
		return Snapshot{Errors: errs}, fmt.Errorf("no source could be read: %s", errs[0])
	}
	preds := runTasks(ctx, tasks, r.Workers, log)
	if err := ctx.Err(); err != nil {
		return Snapshot{}, fmt.Errorf("fleet run interrupted: %w", err)
	}
	SortByUrgency(preds)
	snap := Snapshot{ComputedAt: now, Duration: time.Since(start), Predictions: preds, Errors: errs}
	log.Info("fleet predictions computed", "predictions", len(preds), "errors", len(errs), "duration", snap.Duration.Round(time.Millisecond))
	return snap, nil
}

// MainSeries lists the ids of the main series Run at now would predict
// from (see Only), sorted and without repeats. A source that cannot be
// listed is an error.
func (r *Runner) MainSeries(ctx context.Context, now time.Time) ([]string, error) {
	rules := r.Rules.withDefaults()
	type src struct {
		meas, field string
		history     time.Duration
	}
	var srcs []src
	if r.runs(KindDisk) {
		for _, s := range rules.Disk.Sources {
			srcs = append(srcs, src{s.Measurement, s.UsedField, rules.Disk.History})
		}
	}
	if r.runs(KindMemLeak) {
		for _, s := range rules.Memory.Sources {
			srcs = append(srcs, src{s.Measurement, s.MemoryField, rules.Memory.History})
		}
	}
	if r.runs(KindMonthEnd) {
		for _, s := range rules.MonthEnd.Sources {
			srcs = append(srcs, src{s.Measurement, s.Field, rules.MonthEnd.History})
		}
	}
	var ids []string
	for _, s := range srcs {
		keys, err := r.Store.ListSeries(ctx, engine.SeriesFilter{Measurement: s.meas, Field: s.field, Start: now.Add(-s.history), End: now})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.meas, err)
		}
		for _, k := range keys {
			ids = append(ids, k.ID())
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

// CompareUrgency orders two predictions by urgency alone: at risk before
// not at risk, then a known breach time before none, then the earlier
// median breach first. It returns -1 when a is more urgent, 1 when b is,
// and 0 when urgency does not tell them apart (callers add their own tie
// break).
func CompareUrgency(a, b Prediction) int {
	if a.AtRisk != b.AtRisk {
		if a.AtRisk {
			return -1
		}
		return 1
	}
	if (a.BreachAt != nil) != (b.BreachAt != nil) {
		if a.BreachAt != nil {
			return -1
		}
		return 1
	}
	if a.BreachAt != nil {
		return a.BreachAt.Compare(*b.BreachAt)
	}
	return 0
}

// SortByUrgency orders at-risk answers first, by median breach time, then
// the rest by kind and ID.
func SortByUrgency(p []Prediction) {
	sort.SliceStable(p, func(i, j int) bool {
		a, b := p[i], p[j]
		if c := CompareUrgency(a, b); c != 0 {
			return c < 0
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.ID < b.ID
	})
}

func entityOf(tags map[string]string, names []string) map[string]string {
	e := map[string]string{}
	if len(names) == 0 {
		for k, v := range tags {
			e[k] = v
		}
		return e
	}
	for _, n := range names {
		if v, ok := tags[n]; ok {
			e[n] = v
		}
	}
	return e
}

func predictionID(kind Kind, src string, entity map[string]string) string {
	k := engine.SeriesKey{Measurement: string(kind) + ":" + src, Field: "entity", Tags: entity}
	return strings.TrimSuffix(k.ID(), "#entity")
}

// readPairs lists the series of measurement/field and reads them together
// with the sibling field (same tags) when sibling is set.
func (r *Runner) readPairs(ctx context.Context, meas, field, sibling string, q engine.RangeQuery) ([]engine.Series, map[string]engine.Series, error) {
	keys, err := r.Store.ListSeries(ctx, engine.SeriesFilter{Measurement: meas, Field: field, Start: q.Start, End: q.End})
	if err != nil {
		return nil, nil, err
	}
	if r.Only != nil {
		keys = slices.DeleteFunc(keys, func(k engine.SeriesKey) bool { return !r.Only[k.ID()] })
	}
	if len(keys) == 0 {
		return nil, nil, nil
	}
	main, err := r.Store.ReadMany(ctx, keys, q)
	if err != nil {
		return nil, nil, err
	}
	sib := map[string]engine.Series{}
	if sibling != "" {
		sk := make([]engine.SeriesKey, len(keys))
		for i, k := range keys {
			sk[i] = engine.SeriesKey{Measurement: k.Measurement, Field: sibling, Tags: k.Tags}
		}
		ss, err := r.Store.ReadMany(ctx, sk, q)
		if err != nil {
			return nil, nil, err
		}
		for _, s := range ss {
			k := s.Key
			k.Field = field
			sib[k.ID()] = s
		}
	}
	return main, sib, nil
}

// align returns the sibling's values at the main series' times (NaN where absent).
func align(times []time.Time, sib engine.Series) []float64 {
	out := make([]float64, len(times))
	m := make(map[int64]float64, len(sib.Samples))
	for _, s := range sib.Samples {
		m[s.Time.UnixNano()] = s.Value
	}
	for i, t := range times {
		v, ok := m[t.UnixNano()]
		if !ok {
			v = math.NaN()
		}
		out[i] = v
	}
	return out
}

func split(s engine.Series) ([]time.Time, []float64) {
	t := make([]time.Time, len(s.Samples))
	v := make([]float64, len(s.Samples))
	for i, smp := range s.Samples {
		t[i], v[i] = smp.Time, smp.Value
	}
	return t, v
}

// task is one prediction to compute. It names its entity so that a task
// whose predictor panics still yields an error prediction for it.
type task struct {
	kind   Kind
	id     string
	entity map[string]string
	series []string
	run    func() Prediction
}

// runTasks runs tasks on a pool of workers. A task whose predictor panics
// yields an error prediction for its entity (the panic is logged with its
// stack); the others are unaffected.
func runTasks(ctx context.Context, tasks []task, workers int, log *slog.Logger) []Prediction {
	preds := make([]Prediction, len(tasks))
	errs := engine.ForEach(ctx, len(tasks), workers, func(i int) error {
		preds[i] = tasks[i].run()
		return nil
	})
	for i, err := range errs {
		var pe *engine.PanicError
		if !errors.As(err, &pe) {
			continue // nil, or never started: the caller checks ctx
		}
		t := tasks[i]
		preds[i] = failed(t.kind, t.id, t.entity, t.series, err)
		log.Error("fleet predictor panicked", "kind", t.kind, "prediction", t.id, "err", err, "stack", string(pe.Stack))
	}
	return preds
}

func failed(kind Kind, id string, entity map[string]string, series []string, err error) Prediction {
	return Prediction{Kind: kind, ID: id, Entity: entity, Series: series, Status: "error", Error: err.Error(), Summary: "prediction failed: " + err.Error()}
}

func (r *Runner) diskTasks(ctx context.Context, src DiskSource, rules DiskRules, now time.Time) ([]task, error) {
	q := engine.RangeQuery{Start: now.Add(-rules.History), End: now, Step: rules.Step, Agg: engine.AggMax}
	used, totals, err := r.readPairs(ctx, src.Measurement, src.UsedField, src.TotalField, q)
	if err != nil {
		return nil, err
	}
	var tasks []task
	for _, s := range used {
		entity := entityOf(s.Key.Tags, src.EntityTags)
		id := predictionID(KindDisk, src.Measurement, entity)
		series := []string{s.Key.ID()}
		times, u := split(s)
		in := risk.DiskInput{Times: times, Used: u}
		if tot, ok := totals[s.Key.ID()]; ok {
			in.Total = align(times, tot)
			series = append(series, tot.Key.ID())
		} else {
			// Without a total there is nothing to fill: treat used as percent.
			in = risk.DiskInput{Times: times, UsedPercent: u}
		}
		tasks = append(tasks, task{kind: KindDisk, id: id, entity: entity, series: series, run: func() Prediction {
			p, err := risk.PredictDisk(in, risk.DiskOptions{Now: now, WarnPercent: rules.WarnPercent})
			if err != nil {
				return failed(KindDisk, id, entity, series, err)
			}
			return diskPrediction(id, entity, series, p)
		}})
	}
	return tasks, nil
}

func (r *Runner) memTasks(ctx context.Context, src MemorySource, rules MemoryRules, now time.Time) ([]task, error) {
	q := engine.RangeQuery{Start: now.Add(-rules.History), End: now, Step: rules.Step, Agg: engine.AggMean}
	mem, limits, err := r.readPairs(ctx, src.Measurement, src.MemoryField, src.LimitField, q)
	if err != nil || len(mem) == 0 {
		return nil, err
	}
	loads := map[string]engine.Series{}
	if src.LoadMeasurement != "" {
		keys, err := r.Store.ListSeries(ctx, engine.SeriesFilter{Measurement: src.LoadMeasurement, Field: src.LoadField, Start: q.Start, End: q.End})
		if err != nil {
			return nil, err
		}
		ls, err := r.Store.ReadMany(ctx, keys, q)
		if err != nil {
			return nil, err
		}
		for _, s := range ls {
			loads[joinKey(s.Key.Tags, src.LoadJoinTags)] = s
		}
	}
	var tasks []task
	for _, s := range mem {
		entity := entityOf(s.Key.Tags, src.EntityTags)
		id := predictionID(KindMemLeak, src.Measurement, entity)
		series := []string{s.Key.ID()}
		times, m := split(s)
		in := risk.MemInput{Times: times, Memory: m}
		if lim, ok := limits[s.Key.ID()]; ok {
			in.Limit = align(times, lim)
			series = append(series, lim.Key.ID())
		}
		if len(src.LoadJoinTags) > 0 {
			if ld, ok := loads[joinKey(s.Key.Tags, src.LoadJoinTags)]; ok {
				in.Load = align(times, ld)
				series = append(series, ld.Key.ID())
			}
		}
		tasks = append(tasks, task{kind: KindMemLeak, id: id, entity: entity, series: series, run: func() Prediction {
			p, err := risk.PredictMemLeak(in, risk.MemOptions{Now: now})
			if err != nil {
				return failed(KindMemLeak, id, entity, series, err)
			}
			return memPrediction(id, entity, series, p)
		}})
	}
	return tasks, nil
}

func joinKey(tags map[string]string, names []string) string {
	var b strings.Builder
	for _, n := range names {
		b.WriteString(n + "=" + tags[n] + "\x00")
	}
	return b.String()
}

func (r *Runner) monthEndTasks(ctx context.Context, src MonthEndSource, rules MonthEndRules, cal *calendar.Calendar, now time.Time) ([]task, error) {
	q := engine.RangeQuery{Start: now.Add(-rules.History), End: now, Step: rules.Step, Agg: engine.AggMean}
	series, _, err := r.readPairs(ctx, src.Measurement, src.Field, "", q)
	if err != nil {
		return nil, err
	}
	var tasks []task
	for _, s := range series {
		entity := entityOf(s.Key.Tags, src.EntityTags)
		entity["metric"] = src.Measurement + "." + src.Field
		id := predictionID(KindMonthEnd, src.Measurement+"."+src.Field, entity)
		ids := []string{s.Key.ID()}
		in := risk.MonthEndInput{Series: s.Key.ID(), Samples: s.Samples}
		tasks = append(tasks, task{kind: KindMonthEnd, id: id, entity: entity, series: ids, run: func() Prediction {
			p, err := risk.PredictMonthEnd(in, risk.MonthEndOptions{Calendar: cal, CloseDays: rules.CloseDays, Now: now, Step: rules.Step, Threshold: src.Threshold})
			if err != nil {
				return failed(KindMonthEnd, id, entity, ids, err)
			}
			return monthEndPrediction(id, entity, ids, p)
		}})
	}
	return tasks, nil
}

// ErrNoSnapshot is returned before the first run has finished.
var ErrNoSnapshot = errors.New("predictions not computed yet")
