package datasets

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"runtime"
	"sync"
	"time"

	"github.com/seed-f1b503aa/foresight/calendar"
	"github.com/seed-f1b503aa/foresight/engine"
)

// Kind names the generating process of a series.
type Kind string

// Series kinds of the demo fleet.
const (
	// KindMonthEndLoad: business-hours load with weekly and holiday
	// seasonality and month-end close peaks (cpu, requests, sessions,
	// connections).
	KindMonthEndLoad Kind = "monthend_load"
	// KindDiskFill: disk usage growing linearly.
	KindDiskFill Kind = "disk_fill"
	// KindDiskFillAccelerating: linear growth whose rate jumps at a change
	// point (EventChangePoint).
	KindDiskFillAccelerating Kind = "disk_fill_accelerating"
	// KindDiskSawtooth: log volume with daily rotation at local midnight;
	// the floor may creep up.
	KindDiskSawtooth Kind = "disk_sawtooth"
	// KindDiskBackup: nightly temporary backup files (01:00-02:00 local)
	// over slow growth, possibly with a manual cleanup (EventCleanup).
	KindDiskBackup Kind = "disk_backup"
	// KindDiskPurge: steady growth with a monthly purge (EventPurge) on the
	// 1st at local midnight.
	KindDiskPurge Kind = "disk_purge"
	// KindDiskGrown: linear growth on a volume whose total was increased
	// online (EventResize on the total series).
	KindDiskGrown Kind = "disk_grown"
	// KindDiskStable: flat disk usage.
	KindDiskStable Kind = "disk_stable"
	// KindDiskShrinking: slowly decreasing disk usage (possibly with nightly
	// temporary files).
	KindDiskShrinking Kind = "disk_shrinking"
	// KindMemLeak: memory growing linearly at LeakRateBytesPerHour under a
	// garbage-collector sawtooth, reset by restarts (EventRestart).
	KindMemLeak Kind = "memleak"
	// KindWarmup: a cache that fills after each restart and plateaus.
	KindWarmup Kind = "warmup"
	// KindLoadDriven: memory tracking the host's request load.
	KindLoadDriven Kind = "load_driven"
	// KindStable: flat memory under a small GC sawtooth.
	KindStable Kind = "stable"
	// KindCapacity: a capacity series (disk total, memory limit); constant
	// unless an EventResize changes it.
	KindCapacity Kind = "capacity"
)

// EventType names a one-off change in a series' generating process.
type EventType string

// Event types.
const (
	EventRestart     EventType = "restart"      // process restarted (memory reset)
	EventCleanup     EventType = "cleanup"      // files deleted: level drops by -Change
	EventPurge       EventType = "purge"        // scheduled purge: level drops by -Change
	EventResize      EventType = "resize"       // capacity increased by Change
	EventChangePoint EventType = "change_point" // growth rate increased by Change per hour
)

// Event is a one-off change in a series' generating process.
type Event struct {
	Time time.Time `json:"time"`
	Type EventType `json:"type"`
	// Change is the level change in the series' unit (cleanup, purge,
	// resize) or the change of slope per hour (change_point); 0 for a
	// restart.
	Change float64 `json:"change,omitempty"`
	Note   string  `json:"note,omitempty"`
}

// Interval is a half-open time range [Start, End).
type Interval struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// ClosePeak is the largest noise-free value of a series within one
// month-end close window (the last CloseDays business days of a month, from
// 00:00 local time of the first to 24:00 of the last), evaluated on the
// fleet's sampling grid.
type ClosePeak struct {
	// Month is the closed month, "YYYY-MM".
	Month string `json:"month"`
	// QuarterEnd and YearEnd tell whether the month closes a fiscal quarter
	// or year (year-end months are quarter-ends too).
	QuarterEnd bool `json:"quarter_end"`
	YearEnd    bool `json:"year_end"`
	// WindowStart and WindowEnd bound the close window (UTC).
	WindowStart time.Time `json:"window_start"`
	WindowEnd   time.Time `json:"window_end"`
	// PeakTime is when the noise-free value is largest; PeakValue is that
	// value in the series' unit.
	PeakTime  time.Time `json:"peak_time"`
	PeakValue float64   `json:"peak_value"`
}

// GroundTruth describes how one series was generated. Values are in the
// series' Unit; times are UTC.
type GroundTruth struct {
	// ID is Key.ID().
	ID  string           `json:"id"`
	Key engine.SeriesKey `json:"key"`
	// Kind is the generating process.
	Kind Kind `json:"kind"`
	// Unit is one of the Unit* constants.
	Unit string `json:"unit"`
	// Capacity is the limit the series is measured against at End (disk
	// total, memory limit, 100 % CPU, max_connections); nil if none.
	Capacity *float64 `json:"capacity,omitempty"`
	// CapacitySeries is the ID of the series holding the capacity over time
	// (disk total, memory limit_bytes), if it is a series.
	CapacitySeries string `json:"capacity_series,omitempty"`
	// ValueAtEnd is the noise-free value at End.
	ValueAtEnd float64 `json:"value_at_end"`
	// TrendPerHour is the slope of the non-periodic part of the process at
	// End, per hour: linear growth plus leak minus the average monthly
	// purge. Daily cycles, GC sawtooth and load are excluded.
	TrendPerHour float64 `json:"trend_per_hour"`
	// LeakRateBytesPerHour is the true leak rate of a memleak series.
	LeakRateBytesPerHour *float64 `json:"leak_rate_bytes_per_hour,omitempty"`
	// FillTime is the first instant on the scan grid (max(Step, 1 min),
	// from Start to End+Horizon) at which the noise-free process reaches
	// the capacity series' noise-free value, assuming no restart, cleanup
	// or resize after End (scheduled rotations and purges continue). Null
	// when the series has no capacity series or does not reach it within
	// the horizon.
	FillTime *time.Time `json:"fill_time"`
	// NextClose is the peak of the first close window ending after End
	// (only the part after End counts), for series whose process includes
	// load.
	NextClose *ClosePeak `json:"next_close,omitempty"`
	// LastClose is the peak of the last close window entirely inside
	// [Start, End), for series whose process includes load.
	LastClose *ClosePeak `json:"last_close,omitempty"`
	// Events lists one-off changes inside [Start, End).
	Events []Event `json:"events,omitempty"`
	// Gaps lists the stretches with no samples.
	Gaps []Interval `json:"gaps,omitempty"`
	// Outliers lists the instants whose sample was replaced by an outlier.
	Outliers []time.Time `json:"outliers,omitempty"`
}

// TruthFile is the ground-truth sidecar written by WriteGroundTruth.
type TruthFile struct {
	// Version of the format (currently 1).
	Version int `json:"version"`
	// Seed, Hosts, Days and CloseDays echo the fleet's configuration.
	Seed      uint64 `json:"seed"`
	Hosts     int    `json:"hosts"`
	Days      int    `json:"days"`
	CloseDays int    `json:"close_days"`
	// Start is the first sample time and End the exclusive end (UTC).
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// StepSeconds is the sampling interval in seconds.
	StepSeconds float64 `json:"step_seconds"`
	// HorizonHours is how far past End fill times were searched.
	HorizonHours float64 `json:"horizon_hours"`
	// Calendar is the calendar's name and TimeZone its IANA zone.
	Calendar string `json:"calendar"`
	TimeZone string `json:"time_zone"`
	// Series maps series ID to its ground truth.
	Series map[string]GroundTruth `json:"series"`
}

// GroundTruth returns the ground truth of every series keyed by series ID.
// It is computed on first use (about a second for the default fleet) and
// shared: callers must not modify the returned values' slices or pointers.
func (f *Fleet) GroundTruth() map[string]GroundTruth {
	f.truthOnce.Do(f.computeTruth)
	out := make(map[string]GroundTruth, len(f.truth))
	for k, v := range f.truth {
		out[k] = v
	}
	return out
}

// TruthFile returns the ground truth with the fleet's metadata.
func (f *Fleet) TruthFile() TruthFile {
	return TruthFile{
		Version:      1,
		Seed:         f.cfg.Seed,
		Hosts:        f.cfg.Hosts,
		Days:         f.cfg.Days,
		CloseDays:    f.cfg.CloseDays,
		Start:        f.start,
		End:          f.cfg.End,
		StepSeconds:  f.cfg.Step.Seconds(),
		HorizonHours: f.cfg.Horizon.Hours(),
		Calendar:     f.cfg.Calendar.Name(),
		TimeZone:     f.cfg.Calendar.TimeZone(),
		Series:       f.GroundTruth(),
	}
}

// WriteGroundTruth writes TruthFile as indented JSON (keys sorted, so the
// output is byte-identical for identical configurations).
func (f *Fleet) WriteGroundTruth(w io.Writer) error {
	tf := f.TruthFile()
	return tf.Write(w)
}

// Write encodes tf as indented JSON, the format of WriteGroundTruth.
func (tf *TruthFile) Write(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(tf); err != nil {
		return fmt.Errorf("write ground truth: %w", err)
	}
	return nil
}

// ReadGroundTruth parses a file written by WriteGroundTruth.
func ReadGroundTruth(r io.Reader) (*TruthFile, error) {
	var tf TruthFile
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&tf); err != nil {
		return nil, fmt.Errorf("read ground truth: %w", err)
	}
	if tf.Version != 1 {
		return nil, fmt.Errorf("read ground truth: unsupported version %d (want 1)", tf.Version)
	}
	for id, g := range tf.Series {
		if g.ID != id {
			return nil, fmt.Errorf("read ground truth: entry %q has id %q", id, g.ID)
		}
	}
	return &tf, nil
}

func (f *Fleet) stepTime(i int) time.Time {
	return f.start.Add(time.Duration(i) * f.cfg.Step)
}

func (f *Fleet) computeTruth() {
	f.truth = make(map[string]GroundTruth, f.fields)
	loc := f.cfg.Calendar.Location()
	endNs := f.cfg.End.UnixNano()
	ck := newClocker(f.ct, loc, f.start)
	var cEnd clock
	ck.at(endNs, &cEnd)
	H := cEnd.h

	var fillers []*field
	var loaders []*field
	all := map[*field]*GroundTruth{}
	for _, s := range f.sources {
		for _, fl := range s.fields {
			g := fl.truth
			g.ValueAtEnd = fl.m.mean(&cEnd)
			g.TrendPerHour = fl.m.trendAt(H)
			if fl.capModel != nil {
				c := fl.capModel.mean(&cEnd)
				g.Capacity = &c
				fillers = append(fillers, fl)
			}
			if fl.m.loadScale != 0 {
				loaders = append(loaders, fl)
			}
			for _, sp := range s.gaps {
				g.Gaps = append(g.Gaps, Interval{Start: f.stepTime(sp.from), End: f.stepTime(sp.to)})
			}
			gi := 0
			for _, o := range fl.outliers {
				for gi < len(s.gaps) && s.gaps[gi].to <= o.step {
					gi++
				}
				if gi < len(s.gaps) && s.gaps[gi].from <= o.step {
					continue // hidden by a gap
				}
				g.Outliers = append(g.Outliers, f.stepTime(o.step))
			}
			all[fl] = &g
		}
	}
	f.fillTimes(fillers, all)
	f.closePeaks(loaders, all)
	for _, g := range all {
		f.truth[g.ID] = *g
	}
}

// fillGrid is the grid on which fill times are searched: every scanNs
// from the fleet's start through End+Horizon, grouped in blocks of about an
// hour. For each block it keeps the clock at the block's first point and the
// largest load profile values at any of its points.
type fillGrid struct {
	startNs, scanNs, lastNs int64
	block                   int
	coarse                  []clock
	maxBase, maxClose       []float64
}

func (f *Fleet) newFillGrid() *fillGrid {
	step := f.cfg.Step
	mult := int64(1)
	if step < time.Minute {
		mult = int64((time.Minute + step - 1) / step)
	}
	g := &fillGrid{
		startNs: f.start.UnixNano(),
		scanNs:  mult * int64(step),
		lastNs:  f.cfg.End.Add(f.cfg.Horizon).UnixNano(),
	}
	g.block = int((int64(time.Hour) + g.scanNs - 1) / g.scanNs)
	ck := newClocker(f.ct, f.cfg.Calendar.Location(), f.start)
	var c clock
	for k := 0; ; k++ {
		ns := g.startNs + int64(k)*g.scanNs
		if ns > g.lastNs {
			break
		}
		ck.at(ns, &c)
		if k%g.block == 0 {
			g.coarse = append(g.coarse, c)
			g.maxBase = append(g.maxBase, c.base)
			g.maxClose = append(g.maxClose, c.close)
			continue
		}
		b := len(g.coarse) - 1
		g.maxBase[b] = math.Max(g.maxBase[b], c.base)
		g.maxClose[b] = math.Max(g.maxClose[b], c.close)
	}
	return g
}

// fillTimes finds the fill time of each field, spreading fields over the
// available CPUs.
func (f *Fleet) fillTimes(fields []*field, truth map[*field]*GroundTruth) {
	if len(fields) == 0 {
		return
	}
	g := f.newFillGrid()
	workers := runtime.GOMAXPROCS(0)
	if workers > len(fields) {
		workers = len(fields)
	}
	found := make([]*time.Time, len(fields))
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(fields); i += workers {
				found[i] = f.fillTime(g, fields[i])
			}
		}()
	}
	wg.Wait()
	for i, fl := range fields {
		truth[fl].FillTime = found[i]
	}
}

// fillTime returns the first grid instant at which fl's noise-free value
// reaches its capacity's, or nil. A block is skipped when the value at its
// start plus the most the value can rise within the block stays below the
// capacity at its start; capacities never decrease, so the skip is exact
// (TestFillTimeMatchesExhaustiveScan checks it).
func (f *Fleet) fillTime(g *fillGrid, fl *field) *time.Time {
	m := &fl.m
	rise := m.riseBound(float64(g.block) * float64(g.scanNs) / float64(time.Hour))
	exactLoad := m.loadScale > 0 && m.boost >= 0
	if m.loadScale != 0 && !exactLoad {
		rise += m.loadRange()
	}
	ck := newClocker(f.ct, f.cfg.Calendar.Location(), f.start)
	var c clock
	for b := range g.coarse {
		cc := &g.coarse[b]
		r := rise
		if exactLoad {
			// the load term at any point of the block is at most this
			r += m.loadScale * (g.maxBase[b] + m.boost*g.maxClose[b] - cc.base - m.boost*cc.close)
		}
		if m.mean(cc)+r < fl.capModel.mean(cc) {
			continue
		}
		k0 := b * g.block
		for k := k0; k < k0+g.block; k++ {
			ns := g.startNs + int64(k)*g.scanNs
			if ns > g.lastNs {
				return nil
			}
			ck.at(ns, &c)
			if fl.m.mean(&c) >= fl.capModel.mean(&c) {
				t := time.Unix(0, ns).UTC()
				return &t
			}
		}
	}
	return nil
}

// fillTimeExhaustive is fillTime without skipping (for tests).
func (f *Fleet) fillTimeExhaustive(g *fillGrid, fl *field) *time.Time {
	ck := newClocker(f.ct, f.cfg.Calendar.Location(), f.start)
	var c clock
	for ns := g.startNs; ns <= g.lastNs; ns += g.scanNs {
		ck.at(ns, &c)
		if fl.m.mean(&c) >= fl.capModel.mean(&c) {
			t := time.Unix(0, ns).UTC()
			return &t
		}
	}
	return nil
}

// closeWindow returns the close window of month index mi (year*12+month-1)
// as local dates [first, last]; ok is false if the month has no business day.
func (f *Fleet) closeWindow(mi int) (first, last calendar.Date, ok bool) {
	return f.cfg.Calendar.CloseWindow(mi/12, time.Month(mi%12+1), f.cfg.CloseDays)
}

func (f *Fleet) closePeaks(fields []*field, truth map[*field]*GroundTruth) {
	if len(fields) == 0 {
		return
	}
	loc := f.cfg.Calendar.Location()
	end := f.cfg.End
	endMonth := calendar.DateIn(end, loc).MonthIndex()

	var next, last *ClosePeak
	var nextFrom, lastFrom time.Time
	for mi := endMonth; mi < endMonth+24 && next == nil; mi++ {
		first, lastDay, ok := f.closeWindow(mi)
		if !ok {
			continue
		}
		ws, we := first.In(loc), lastDay.AddDays(1).In(loc)
		if we.After(end) {
			next = newClosePeak(mi, f.cfg.Calendar, ws, we)
			nextFrom = ws
			if nextFrom.Before(end) {
				nextFrom = end
			}
		}
	}
	for mi := endMonth; mi > endMonth-24 && last == nil; mi-- {
		first, lastDay, ok := f.closeWindow(mi)
		if !ok {
			continue
		}
		ws, we := first.In(loc), lastDay.AddDays(1).In(loc)
		if !we.After(end) {
			if !ws.Before(f.start) {
				last = newClosePeak(mi, f.cfg.Calendar, ws, we)
				lastFrom = ws
			}
			break
		}
	}
	for _, w := range []struct {
		p    *ClosePeak
		from time.Time
		next bool
	}{{next, nextFrom, true}, {last, lastFrom, false}} {
		if w.p == nil {
			continue
		}
		peaks := f.scanPeaks(fields, w.from, w.p.WindowEnd)
		for i, fl := range fields {
			p := *w.p
			p.PeakTime, p.PeakValue = peaks[i].t, peaks[i].v
			if w.next {
				truth[fl].NextClose = &p
			} else {
				truth[fl].LastClose = &p
			}
		}
	}
}

func newClosePeak(mi int, cal *calendar.Calendar, ws, we time.Time) *ClosePeak {
	m := time.Month(mi%12 + 1)
	return &ClosePeak{
		Month:       fmt.Sprintf("%04d-%02d", mi/12, int(m)),
		QuarterEnd:  cal.IsQuarterEnd(m),
		YearEnd:     cal.IsYearEnd(m),
		WindowStart: ws.UTC(),
		WindowEnd:   we.UTC(),
	}
}

type peak struct {
	t time.Time
	v float64
}

// scanPeaks evaluates fields on the sampling grid within [from, to).
func (f *Fleet) scanPeaks(fields []*field, from, to time.Time) []peak {
	step := f.cfg.Step
	// first grid point at or after from
	k := int64(0)
	if d := from.Sub(f.start); d > 0 {
		k = int64((d + step - 1) / step)
	}
	out := make([]peak, len(fields))
	for i := range out {
		out[i].v = math.Inf(-1)
	}
	ck := newClocker(f.ct, f.cfg.Calendar.Location(), f.start)
	var c clock
	startNs := f.start.UnixNano()
	toNs := to.UnixNano()
	for ns := startNs + k*int64(step); ns < toNs; ns += int64(step) {
		ck.at(ns, &c)
		for i, fl := range fields {
			if v := fl.m.mean(&c); v > out[i].v {
				out[i] = peak{t: time.Unix(0, ns).UTC(), v: v}
			}
		}
	}
	return out
}
