package risk

import (
	"fmt"
	"math"
	"time"

	"github.com/seed-f1b503aa/foresight/models"
)

// MemVerdict is the verdict of PredictMemLeak.
type MemVerdict string

// Memory verdicts.
const (
	// MemLeak: the memory floor (GC troughs) rises linearly within process
	// lifetimes, in most of them, and does not level off or follow load.
	MemLeak MemVerdict = "leak"
	// MemWarmupPlateau: the floor rises after a (re)start and levels off —
	// a cache or buffer pool warming up.
	MemWarmupPlateau MemVerdict = "warmup_plateau"
	// MemLoadDriven: memory follows the load series (or, without one, a
	// daily cycle) and has no trend of its own.
	MemLoadDriven MemVerdict = "load_driven"
	// MemStable: no significant trend of the floor (flat or decreasing).
	MemStable MemVerdict = "stable"
	// MemInsufficientHistory: no process lifetime long enough to judge;
	// Reason states the minimum.
	MemInsufficientHistory MemVerdict = "insufficient_history"
)

// Defaults of MemOptions.
const (
	DefaultMemHorizon    = 180 * 24 * time.Hour // how far ahead the OOM ETA is reported
	DefaultMemMinHistory = 24 * time.Hour       // minimum length of a usable process lifetime
	DefaultTroughWindow  = time.Hour            // minimum trough window (at least 8 samples)
)

// Segment classes of MemSegment.Class.
const (
	SegmentRising     = "rising"     // floor rises linearly (leak-like)
	SegmentSaturating = "saturating" // floor rises and levels off (warm-up)
	SegmentFlat       = "flat"       // no significant trend
	SegmentFalling    = "falling"    // floor decreases
	SegmentShort      = "short"      // too short to judge
)

// Tuning of the memory predictor.
const (
	minTroughs        = 12    // troughs needed in a usable lifetime (fine troughs)
	minDailyTroughs   = 4     // daily troughs needed when using daily minima
	lateAlpha         = 0.05  // significance of the late-half trend of a rising lifetime
	lateRatio         = 0.4   // a rising lifetime's late slope is at least this × its early slope
	minLeakPerDayFrac = 0.001 // smallest leak, per day, as a fraction of the floor
	restartDropFrac   = 0.05  // a restart drops memory by at least this fraction
	loadMinR2         = 0.3   // share of trough variance load must explain for load_driven
)

// MemInput is one process's (or container's) memory history. Times and the
// value slices have equal lengths (Limit and Load may be nil); NaN marks a
// missing value. Times need not be sorted or regular.
type MemInput struct {
	// Times of the samples.
	Times []time.Time
	// Memory is the resident memory in bytes.
	Memory []float64
	// Limit is the memory limit in bytes at each sample (optional).
	Limit []float64
	// LimitBytes is a constant limit in bytes, used when Limit is nil (0 =
	// unknown: no OOM ETA).
	LimitBytes float64
	// Load is an optional load series (requests/s, sessions, ...) in any
	// unit; when given, growth explained by it is not a leak.
	Load []float64
}

// MemOptions tune PredictMemLeak. Zero values take the defaults.
type MemOptions struct {
	// Now is the evaluation time; samples after it are ignored (default:
	// the last timestamp with a value).
	Now time.Time
	// Horizon is how far ahead the OOM ETA is reported (default 180 days).
	Horizon time.Duration
	// MinHistory is the minimum length of a process lifetime that can be
	// judged (default 24 h).
	MinHistory time.Duration
	// TroughWindow is the window whose minimum is one GC trough; it should
	// span at least one garbage-collection cycle (default: the larger of
	// 1 h and eight sampling intervals).
	TroughWindow time.Duration
	// Alpha is the significance level of the trend tests (default 0.01).
	Alpha float64
	// Seed seeds the OOM ETA simulation (any value, 0 included).
	Seed uint64
	// Simulations is the number of draws for the OOM ETA (default 2000).
	Simulations int
}

func (o MemOptions) withDefaults() (MemOptions, error) {
	if o.Horizon < 0 || o.MinHistory < 0 || o.TroughWindow < 0 || o.Alpha < 0 || o.Alpha >= 1 || o.Simulations < 0 {
		return o, fmt.Errorf("%w: memory options out of range (alpha in 0..1, durations and counts >= 0)", ErrInvalidInput)
	}
	if o.Horizon == 0 {
		o.Horizon = DefaultMemHorizon
	}
	if o.MinHistory == 0 {
		o.MinHistory = DefaultMemMinHistory
	}
	if o.Alpha == 0 {
		o.Alpha = DefaultAlpha
	}
	if o.Simulations == 0 {
		o.Simulations = DefaultSimulations
	}
	return o, nil
}

// MemPrediction is the answer of PredictMemLeak. Memory is in bytes.
type MemPrediction struct {
	// Verdict is leak, warmup_plateau, load_driven, stable or
	// insufficient_history.
	Verdict MemVerdict `json:"verdict"`
	// Reason explains the verdict in one sentence (with the minimum needed
	// for insufficient_history).
	Reason string `json:"reason"`
	// Now is the evaluation time.
	Now time.Time `json:"now"`
	// Score in [0, 1] is the confidence in the verdict.
	Score float64 `json:"score"`
	// LeakScore in [0, 1] is the strength of the evidence for a leak: the
	// share of lifetime time whose floor rises like a leak times the
	// combined significance of the trend.
	LeakScore float64 `json:"leak_score"`
	// LeakRateBytesPerHour is the pooled within-lifetime Theil–Sen slope of
	// the floor in bytes per hour (set for every verdict but
	// insufficient_history; the leak rate when Verdict is leak), and
	// LeakRateCI95 its 95% interval.
	LeakRateBytesPerHour *float64    `json:"leak_rate_bytes_per_hour"`
	LeakRateCI95         *[2]float64 `json:"leak_rate_ci95_bytes_per_hour"`
	// OOM is when the memory peaks reach the limit if the leak continues
	// and the process is not restarted (empty unless Verdict is leak and a
	// limit is known).
	OOM ETA `json:"oom"`
	// CurrentBytes is the latest observed memory; LimitBytes the latest
	// limit (nil if unknown).
	CurrentBytes float64  `json:"current_bytes"`
	LimitBytes   *float64 `json:"limit_bytes"`
	// Evidence is what the verdict rests on.
	Evidence MemEvidence `json:"evidence"`
}

// MemEvidence lets an operator check a memory verdict.
type MemEvidence struct {
	// TroughWindowSeconds is the GC trough window; Troughs the number of
	// troughs; Samples the input samples used; OutliersRemoved the isolated
	// spikes dropped.
	TroughWindowSeconds float64 `json:"trough_window_seconds"`
	Troughs             int     `json:"troughs"`
	Samples             int     `json:"samples"`
	OutliersRemoved     int     `json:"outliers_removed"`
	// Basis is what the trend tests ran on: "troughs", "daily_troughs"
	// (daily minima, when the floor has a daily cycle and no load is
	// given) or "load_adjusted_troughs".
	Basis string `json:"basis"`
	// Restarts are the detected process restarts (sudden drops below the
	// previous day's floor).
	Restarts []time.Time `json:"restarts"`
	// Segments are the process lifetimes between restarts.
	Segments []MemSegment `json:"segments"`
	// DailyCycle reports a 24-hour cycle in the troughs and
	// DailyCycleAmplitude its size in bytes.
	DailyCycle          bool    `json:"daily_cycle"`
	DailyCycleAmplitude float64 `json:"daily_cycle_amplitude_bytes"`
	// LoadBytesPerUnit is the fitted trough increase per unit of load and
	// LoadR2 the share of trough variance (beyond per-lifetime lines) that
	// load explains; nil without a load series.
	LoadBytesPerUnit *float64 `json:"load_bytes_per_unit"`
	LoadR2           *float64 `json:"load_r2"`
	// GCAmplitudeBytes is the height of the GC sawtooth above the floor
	// recently (90th percentile of the peak-over-trough range of the trough
	// windows of the last two days), added to the floor for the OOM ETA.
	GCAmplitudeBytes float64 `json:"gc_amplitude_bytes"`
	// MannKendallP combines the lifetimes' trend tests (Stouffer).
	MannKendallP float64 `json:"mann_kendall_p"`
	// RisingShare is the share of usable lifetime time classified rising.
	RisingShare float64 `json:"rising_share"`
}

// MemSegment is one process lifetime. Slopes are Theil–Sen slopes of the
// test series in bytes per hour; P values are Mann–Kendall p-values
// corrected for autocorrelation.
type MemSegment struct {
	// Start and End are the first and last sample of the lifetime.
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Troughs is the number of trough windows.
	Troughs int `json:"troughs"`
	// Class is rising, saturating, flat, falling or short (too short to
	// judge: no slopes).
	Class string `json:"class"`
	// SlopeBytesPerHour is the slope over the lifetime; EarlySlope and
	// LateSlope those of its first and second half (bytes per hour).
	SlopeBytesPerHour float64 `json:"slope_bytes_per_hour"`
	EarlySlope        float64 `json:"early_slope_bytes_per_hour"`
	LateSlope         float64 `json:"late_slope_bytes_per_hour"`
	// P is the trend test's p-value over the lifetime, LateP over its
	// second half.
	P     float64 `json:"p"`
	LateP float64 `json:"late_p"`
	// SaturationHours is the time constant of the saturating fit when it
	// clearly beats a line (warm-up), else nil.
	SaturationHours *float64 `json:"saturation_hours"`
}

// trough is the minimum of one trough window.
type trough struct {
	t, v   float64 // time of the minimum (days), value
	hi     float64 // window maximum
	load   float64 // mean load in the window (NaN if none)
	seg    int
	window int
}

// memSeg is the working state of one lifetime.
type memSeg struct {
	lo, hi int // observations [lo, hi)
	tr     []trough
	zt, zv []float64 // the test series
	class  string
	slope  senResult
	p      float64
	z      float64
	span   float64 // days
	level  float64 // median trough
	usable bool
	satTau float64 // days, 0 if not saturating
	early  float64
	late   float64
	lateP  float64
	infl   float64
}

// PredictMemLeak tells a memory leak from warm-up, load and stable memory,
// and projects the out-of-memory time of a leak. It is a pure function:
// deterministic for equal inputs and options, no I/O.
//
// Isolated spikes are dropped; restarts are sudden drops below the lowest
// memory of the previous day (or of the lifetime so far) and split the
// history into process lifetimes. Within each lifetime the GC sawtooth is
// reduced to its troughs (the minimum of each TroughWindow). When a load
// series is given, the troughs are regressed on load (with a line per
// lifetime) and the load effect removed; otherwise, when the troughs follow
// a 24-hour cycle, each lifetime is tested on its daily minima. Each usable
// lifetime is then classified by its Theil–Sen slope and Mann–Kendall test:
// rising (significant, material, still rising in its second half, and not
// better fitted by a saturating exponential), saturating, flat or falling.
// A leak needs rising lifetimes for at least half of the usable lifetime
// time; its rate is the Theil–Sen slope pooled over within-lifetime pairs.
func PredictMemLeak(in MemInput, opt MemOptions) (MemPrediction, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return MemPrediction{}, err
	}
	n := len(in.Times)
	if in.Memory == nil || len(in.Memory) != n || (in.Limit != nil && len(in.Limit) != n) || (in.Load != nil && len(in.Load) != n) {
		return MemPrediction{}, fmt.Errorf("%w: memory: Memory (and Limit, Load when given) must have one value per time (%d times)", ErrInvalidInput, n)
	}
	if in.LimitBytes < 0 {
		return MemPrediction{}, fmt.Errorf("%w: memory: negative LimitBytes", ErrInvalidInput)
	}
	now, ok := resolveNow(in.Times, in.Memory, opt.Now)
	p := MemPrediction{Now: now, Evidence: MemEvidence{Restarts: []time.Time{}, Segments: []MemSegment{}}}
	minHist := opt.MinHistory.Hours() / 24
	if !ok {
		p.Verdict, p.Reason = MemInsufficientHistory, fmt.Sprintf("no usable samples: need at least %s within one process lifetime", fmtDur(opt.MinHistory))
		return p, nil
	}
	o := collect(in.Times, in.Memory, in.Limit, in.LimitBytes, in.Load, now)
	if len(o) == 0 {
		p.Verdict, p.Reason = MemInsufficientHistory, fmt.Sprintf("no usable samples at or before %s: need at least %s within one process lifetime", now.Format(time.RFC3339), fmtDur(opt.MinHistory))
		return p, nil
	}
	fillCapacity(o)
	o, p.Evidence.OutliersRemoved = dropIsolated(o)
	last := o[len(o)-1]
	p.CurrentBytes = last.v
	if finite(last.c) {
		c := last.c
		p.LimitBytes = &c
	}
	p.Evidence.Samples = len(o)
	m := &memRun{opt: opt, now: now, p: &p, o: o, minHist: minHist}
	m.run()
	return p, nil
}

type memRun struct {
	opt     MemOptions
	now     time.Time
	p       *MemPrediction
	o       []obs
	minHist float64
	win     float64 // trough window, days
	segs    []*memSeg
	hasLoad bool
	// load regression: trough bytes per unit of load and its t statistic
	loadBeta, loadT float64
	gcSD            float64 // uncertainty of the GC amplitude (bytes)
}

func (m *memRun) insufficient(format string, args ...any) {
	m.p.Verdict = MemInsufficientHistory
	m.p.Reason = fmt.Sprintf(format, args...)
	m.p.Score = 0
}

func (m *memRun) run() {
	o, p := m.o, m.p
	span := -o[0].t
	if len(o) < 4 || span < m.minHist {
		m.insufficient("%d samples over %s: need at least %s within one process lifetime", len(o), fmtDays(span), fmtDur(m.opt.MinHistory))
		return
	}
	step := medianStep(o)
	m.win = math.Max(DefaultTroughWindow.Hours()/24, 8*step)
	if m.opt.TroughWindow > 0 {
		m.win = math.Max(m.opt.TroughWindow.Hours()/24, step)
	}
	p.Evidence.TroughWindowSeconds = math.Round(m.win * 86400)

	// restarts and lifetimes
	starts := m.restarts()
	for _, i := range starts {
		p.Evidence.Restarts = append(p.Evidence.Restarts, fromDays(o[i].t, m.now))
	}
	bounds := append([]int{0}, starts...)
	bounds = append(bounds, len(o))
	nLoad := 0
	for s := 0; s+1 < len(bounds); s++ {
		sg := &memSeg{lo: bounds[s], hi: bounds[s+1]}
		m.troughs(sg, s)
		m.segs = append(m.segs, sg)
		for _, tr := range sg.tr {
			p.Evidence.Troughs++
			if finite(tr.load) {
				nLoad++
			}
		}
	}
	m.hasLoad = nLoad >= 12 && float64(nLoad) >= 0.8*float64(p.Evidence.Troughs)
	p.Evidence.GCAmplitudeBytes, m.gcSD = m.gcAmplitude()

	// which lifetimes can be judged
	longest := 0.0
	usable := 0
	for _, sg := range m.segs {
		if len(sg.tr) > 0 {
			sg.span = sg.tr[len(sg.tr)-1].t - sg.tr[0].t
		}
		longest = math.Max(longest, m.o[sg.hi-1].t-m.o[sg.lo].t)
		sg.usable = sg.span >= m.minHist && len(sg.tr) >= minTroughs
		if sg.usable {
			usable++
		}
	}
	if usable == 0 {
		m.insufficient("no process lifetime spans %s with %d troughs of %s: need at least that much (the longest lifetime here is %s)",
			fmtDur(m.opt.MinHistory), minTroughs, fmtDays(m.win), fmtDays(longest))
		return
	}

	// the series the trend tests run on
	m.dailyCycle()
	switch {
	case m.hasLoad:
		p.Evidence.Basis = "load_adjusted_troughs"
		m.loadAdjust()
	case p.Evidence.DailyCycle:
		p.Evidence.Basis = "daily_troughs"
		for _, sg := range m.segs {
			m.dailyMinima(sg)
		}
	default:
		p.Evidence.Basis = "troughs"
		for _, sg := range m.segs {
			for _, tr := range sg.tr {
				sg.zt = append(sg.zt, tr.t)
				sg.zv = append(sg.zv, tr.v)
			}
		}
	}
	for _, sg := range m.segs {
		m.classify(sg)
	}
	m.verdict()
}

// restarts returns the indices of observations that start a new process
// lifetime: memory falls by at least restartDropFrac (and four noise
// scales) from the previous two samples, to below the lowest value of the
// previous day (or of the lifetime so far, whichever is shorter) by a margin,
// and stays there for the next samples.
func (m *memRun) restarts() []int {
	o := m.o
	n := len(o)
	v := make([]float64, n)
	for i := range o {
		v[i] = o[i].v
	}
	sigma := diffNoise(v)
	var out []int
	segStart := 0
	// monotonic deque of indices with increasing values: the sliding min
	dq := make([]int, 0, 64)
	next := 0 // next index to push
	for i := 2; i < n; i++ {
		from := math.Max(o[i].t-1, o[segStart].t)
		for next < i {
			for len(dq) > 0 && v[dq[len(dq)-1]] >= v[next] {
				dq = dq[:len(dq)-1]
			}
			dq = append(dq, next)
			next++
		}
		for len(dq) > 0 && (o[dq[0]].t < from || dq[0] < segStart) {
			dq = dq[1:]
		}
		if len(dq) == 0 || o[i].t-from < 2*m.win {
			continue
		}
		prev := math.Max(v[i-1], v[i-2])
		if prev-v[i] < math.Max(4*sigma, restartDropFrac*prev) {
			continue
		}
		priorMin := v[dq[0]]
		margin := math.Max(3*sigma, 0.03*math.Abs(priorMin))
		if v[i] >= priorMin-margin {
			continue
		}
		// confirm with the following samples
		var after []float64
		for j := i; j < min(n, i+4); j++ {
			after = append(after, v[j])
		}
		if medianOf(after) >= priorMin-margin {
			continue
		}
		out = append(out, i)
		segStart = i
		dq = dq[:0]
		next = i
	}
	return out
}

// troughs fills sg.tr with the minimum of each trough window of the
// lifetime (windows aligned on its first sample).
func (m *memRun) troughs(sg *memSeg, seg int) {
	o := m.o[sg.lo:sg.hi]
	if len(o) == 0 {
		return
	}
	t0 := o[0].t
	cur := -1
	var tr trough
	var ls float64
	var ln int
	flush := func() {
		if cur < 0 {
			return
		}
		tr.load = math.NaN()
		if ln > 0 {
			tr.load = ls / float64(ln)
		}
		sg.tr = append(sg.tr, tr)
	}
	for _, x := range o {
		w := int(math.Floor((x.t - t0) / m.win))
		if w != cur {
			flush()
			cur = w
			tr = trough{t: x.t, v: x.v, hi: x.v, seg: seg, window: w}
			ls, ln = 0, 0
		}
		if x.v < tr.v {
			tr.v, tr.t = x.v, x.t
		}
		tr.hi = math.Max(tr.hi, x.v)
		if finite(x.l) {
			ls += x.l
			ln++
		}
	}
	flush()
}

// gcAmplitude is the height of the GC sawtooth above the troughs in the
// last lifetime with at least four trough windows: the 90th percentile of
// the window ranges (max - min) over its last two days (sampling often
// misses a cycle's peak, so a high quantile is closer to the true height
// than the median), and its uncertainty: the distance from the median
// range to it, as a normal standard deviation.
func (m *memRun) gcAmplitude() (amp, sd float64) {
	for s := len(m.segs) - 1; s >= 0; s-- {
		tr := m.segs[s].tr
		if len(tr) < 4 {
			continue
		}
		end := tr[len(tr)-1].t
		var r []float64
		for i := len(tr) - 1; i >= 0 && end-tr[i].t < 2; i-- {
			r = append(r, tr[i].hi-tr[i].v)
		}
		hi := quantileOf(r, 0.9)
		return hi, (hi - medianOf(r)) / z80
	}
	return 0, 0
}

// dailyCycle looks for a 24-hour cycle in the troughs: the range of the
// median hour-of-day profile of troughs detrended per lifetime, against the
// residual noise and the floor.
func (m *memRun) dailyCycle() {
	var ph []int
	var res, lvl []float64
	for _, sg := range m.segs {
		if len(sg.tr) < 6 {
			continue
		}
		t := make([]float64, len(sg.tr))
		y := make([]float64, len(sg.tr))
		for i, tr := range sg.tr {
			t[i], y[i] = tr.t, tr.v
		}
		s, ok := senFit(t, y, z95, 1)
		if !ok {
			continue
		}
		for i := range t {
			res = append(res, y[i]-s.Intercept-s.Slope*t[i])
			ph = append(ph, min(int((t[i]-math.Floor(t[i]))*24), 23))
			lvl = append(lvl, y[i])
		}
	}
	if len(res) < 48 || -m.o[0].t < 2 {
		return
	}
	var bins [24][]float64
	for i, r := range res {
		bins[ph[i]] = append(bins[ph[i]], r)
	}
	var prof [24]float64
	lo, hi := math.Inf(1), math.Inf(-1)
	for b := range bins {
		if len(bins[b]) < 3 {
			prof[b] = math.NaN()
			continue
		}
		prof[b] = medianOf(bins[b])
		lo, hi = math.Min(lo, prof[b]), math.Max(hi, prof[b])
	}
	if math.IsInf(lo, 0) {
		return
	}
	var rest []float64
	for i, r := range res {
		if finite(prof[ph[i]]) {
			rest = append(rest, r-prof[ph[i]])
		}
	}
	amp := hi - lo
	m.p.Evidence.DailyCycleAmplitude = amp
	m.p.Evidence.DailyCycle = amp > 4*madScale(rest) && amp > 0.02*math.Abs(medianOf(lvl))
}

// dailyMinima sets the test series of a lifetime to its daily minima (24 h
// windows aligned on its start) when it has at least minDailyTroughs full
// days, and to its troughs otherwise.
func (m *memRun) dailyMinima(sg *memSeg) {
	if len(sg.tr) == 0 {
		return
	}
	t0 := m.o[sg.lo].t
	perDay := int(math.Round(1 / m.win))
	cur, cnt := -1, 0
	var bt, bv float64
	flush := func() {
		if cur >= 0 && cnt*2 >= perDay {
			sg.zt = append(sg.zt, bt)
			sg.zv = append(sg.zv, bv)
		}
	}
	for _, tr := range sg.tr {
		d := int(math.Floor(tr.t - t0))
		if d != cur {
			flush()
			cur, cnt, bt, bv = d, 0, tr.t, tr.v
		}
		cnt++
		if tr.v < bv {
			bt, bv = tr.t, tr.v
		}
	}
	flush()
	if len(sg.zt) < minDailyTroughs {
		sg.zt, sg.zv = sg.zt[:0], sg.zv[:0]
		for _, tr := range sg.tr {
			sg.zt = append(sg.zt, tr.t)
			sg.zv = append(sg.zv, tr.v)
		}
	}
}

// loadAdjust regresses the troughs of all lifetimes on load with an
// intercept and a slope per lifetime, records the load effect, and sets each
// lifetime's test series to its troughs minus the load effect.
func (m *memRun) loadAdjust() {
	var y, L []float64
	var segIdx []int
	var tt []float64
	for s, sg := range m.segs {
		for _, tr := range sg.tr {
			if finite(tr.load) {
				y = append(y, tr.v)
				L = append(L, tr.load)
				tt = append(tt, tr.t)
				segIdx = append(segIdx, s)
			}
		}
	}
	// design: per-lifetime intercept and time slope (lifetimes with too few
	// troughs share nothing but still get their own columns), then load
	var base [][]float64
	for s := range m.segs {
		c1 := make([]float64, len(y))
		c2 := make([]float64, len(y))
		cnt := 0
		for i := range y {
			if segIdx[i] == s {
				c1[i] = 1
				c2[i] = tt[i]
				cnt++
			}
		}
		if cnt == 0 {
			continue
		}
		base = append(base, c1)
		if cnt >= 3 {
			base = append(base, c2)
		}
	}
	full := append(append([][]float64{}, base...), L)
	beta, s2, cov, ok := olsFit(full, y, nil)
	_, s2b, _, okb := olsFit(base, y, nil)
	if ok && okb {
		k := len(full) - 1
		b := beta[k]
		se := math.Sqrt(math.Max(s2*cov[k*len(full)+k], 0))
		dfFull := float64(len(y) - len(full))
		dfBase := float64(len(y) - len(base))
		r2 := clamp01(1 - s2*dfFull/(s2b*dfBase))
		m.p.Evidence.LoadBytesPerUnit = &b
		m.p.Evidence.LoadR2 = &r2
		m.loadT = b / math.Max(se, 1e-300)
		m.loadBeta = b
	}
	for _, sg := range m.segs {
		for _, tr := range sg.tr {
			if finite(tr.load) {
				sg.zt = append(sg.zt, tr.t)
				sg.zv = append(sg.zv, tr.v-m.loadBeta*tr.load)
			}
		}
	}
}

// classify tests one lifetime's series.
func (m *memRun) classify(sg *memSeg) {
	sg.class = SegmentShort
	sg.p, sg.lateP = 1, 1
	n := len(sg.zt)
	if n == 0 {
		return
	}
	sg.span = sg.zt[n-1] - sg.zt[0]
	var tv []float64
	for _, tr := range sg.tr {
		tv = append(tv, tr.v)
	}
	sg.level = medianOf(tv)
	need := minTroughs
	if m.p.Evidence.Basis == "daily_troughs" && n < minTroughs {
		need = minDailyTroughs + 1
	}
	sg.usable = sg.span >= m.minHist && n >= need
	if !sg.usable {
		return
	}
	alpha := m.opt.Alpha
	s, _ := senFit(sg.zt, sg.zv, z95, 1)
	res := residuals(sg.zt, sg.zv, s)
	sg.infl = inflation(res)
	s, _ = senFit(sg.zt, sg.zv, z95, senInflation(res))
	sg.slope = s
	mk := mkTest(sg.zv, sg.infl)
	sg.p, sg.z = mk.P, mk.Z
	sdRes := madScale(residuals(sg.zt, sg.zv, s))

	// halves by time
	tm := (sg.zt[0] + sg.zt[n-1]) / 2
	h := 0
	for h < n && sg.zt[h] < tm {
		h++
	}
	var lateOK bool
	if h >= 3 && n-h >= 3 {
		e, _ := senFit(sg.zt[:h], sg.zv[:h], z95, 1)
		l, _ := senFit(sg.zt[h:], sg.zv[h:], z95, 1)
		sg.early, sg.late = e.Slope, l.Slope
		lmk := mkTest(sg.zv[h:], inflation(residuals(sg.zt[h:], sg.zv[h:], l)))
		sg.lateP = lmk.P
		lateOK = true
	}
	// saturating exponential against a line
	tau, satBeats := saturating(sg.zt, sg.zv, m.o[sg.lo].t)
	if satBeats {
		sg.satTau = tau
	}
	material := s.Slope*sg.span >= 3*sdRes && s.Slope >= minLeakPerDayFrac*math.Abs(sg.level)
	earlyMaterial := lateOK && sg.early*sg.span/2 >= 3*sdRes && sg.early >= minLeakPerDayFrac*math.Abs(sg.level)
	stillRising := lateOK && sg.late > 0 && sg.lateP < lateAlpha && (sg.early <= 0 || sg.late >= lateRatio*sg.early)
	switch {
	case sg.p < alpha && s.Slope > 0 && material && stillRising && !satBeats:
		sg.class = SegmentRising
	case (satBeats && (material || earlyMaterial)) || (earlyMaterial && sg.p < alpha && !stillRising):
		sg.class = SegmentSaturating
	case sg.p < alpha && s.Slope < 0 && -s.Slope*sg.span >= 3*sdRes:
		sg.class = SegmentFalling
	default:
		sg.class = SegmentFlat
	}
}

// saturating fits y = a + b·(1 - exp(-(t - t0)/τ)) over a log grid of τ
// (linear least squares in a, b for each) and reports the best τ (days)
// and whether it clearly beats a straight line: b > 0, τ below a third of
// the span, and less than half the line's squared error.
func saturating(t, y []float64, t0 float64) (float64, bool) {
	n := len(t)
	if n < 8 {
		return 0, false
	}
	span := t[n-1] - t0
	if span <= 0 {
		return 0, false
	}
	one := make([]float64, n)
	for i := range one {
		one[i] = 1
	}
	_, s2l, _, ok := olsFit([][]float64{one, t}, y, nil)
	if !ok {
		return 0, false
	}
	sseLin := s2l * float64(n-2)
	bestSSE, bestTau, bestB := math.Inf(1), 0.0, 0.0
	x := make([]float64, n)
	for k := 0; k < 24; k++ {
		tau := span / 200 * math.Pow(400, float64(k)/23) // span/200 … 2·span
		for i := range t {
			x[i] = 1 - math.Exp(-(t[i]-t0)/tau)
		}
		beta, s2, _, ok := olsFit([][]float64{one, x}, y, nil)
		if !ok {
			continue
		}
		if sse := s2 * float64(n-2); sse < bestSSE {
			bestSSE, bestTau, bestB = sse, tau, beta[1]
		}
	}
	return bestTau, bestB > 0 && bestTau < span/3 && bestSSE < 0.5*sseLin
}

// verdict combines the lifetimes.
func (m *memRun) verdict() {
	p := m.p
	var wAll, wRise, wSat, wFlat float64
	var zs, ws []float64
	for _, sg := range m.segs {
		ev := MemSegment{
			Start: fromDays(m.o[sg.lo].t, m.now), End: fromDays(m.o[sg.hi-1].t, m.now),
			Troughs: len(sg.tr), Class: sg.class, SlopeBytesPerHour: sg.slope.Slope / 24,
			EarlySlope: sg.early / 24, LateSlope: sg.late / 24, P: sg.p, LateP: sg.lateP,
		}
		if sg.satTau > 0 {
			h := sg.satTau * 24
			ev.SaturationHours = &h
		}
		p.Evidence.Segments = append(p.Evidence.Segments, ev)
		if !sg.usable {
			continue
		}
		w := sg.span
		wAll += w
		switch sg.class {
		case SegmentRising:
			wRise += w
		case SegmentSaturating:
			wSat += w
		case SegmentFlat:
			wFlat += w
		}
		zs = append(zs, sg.z)
		ws = append(ws, math.Sqrt(w))
	}
	if wAll == 0 {
		m.insufficient("no process lifetime has enough troughs to test: need at least %s and %d troughs in one lifetime", fmtDur(m.opt.MinHistory), minTroughs)
		return
	}
	// Stouffer's combination of the lifetimes' Mann–Kendall scores
	var num, den float64
	for i := range zs {
		num += ws[i] * zs[i]
		den += ws[i] * ws[i]
	}
	zc := num / math.Sqrt(den)
	pc := math.Erfc(math.Abs(zc) / math.Sqrt2)
	p.Evidence.MannKendallP = pc
	p.Evidence.RisingShare = wRise / wAll

	pooled, ok := m.pooledSlope()
	if ok {
		r := pooled.Slope / 24
		ci := [2]float64{pooled.Lo / 24, pooled.Hi / 24}
		p.LeakRateBytesPerHour, p.LeakRateCI95 = &r, &ci
	}
	strength := 0.0
	if zc > 0 {
		strength = clamp01(-math.Log10(math.Max(pc, 1e-300)) / (-2 * math.Log10(m.opt.Alpha)))
	}
	p.LeakScore = clamp01(wRise / wAll * strength)
	rate := ""
	if ok {
		rate = FormatBytesSigned(pooled.Slope/24) + "/hour"
	}
	nLife := fmt.Sprintf("%d of %d lifetime(s)", m.countClass(SegmentRising), m.countUsable())
	loadR2 := 0.0
	if p.Evidence.LoadR2 != nil {
		loadR2 = *p.Evidence.LoadR2
	}
	loadExplains := m.hasLoad && m.loadBeta > 0 && m.loadT > 4 && loadR2 >= loadMinR2
	switch {
	case wRise >= 0.5*wAll && ok && pooled.Slope > 0:
		p.Verdict = MemLeak
		p.Score = p.LeakScore
		p.Reason = fmt.Sprintf("leak: the memory floor rises %s in %s (combined Mann–Kendall p=%.2g)", rate, nLife, pc)
		m.oom(pooled)
	case loadExplains:
		p.Verdict = MemLoadDriven
		p.Score = clamp01(loadR2 * (1 - p.LeakScore))
		p.Reason = fmt.Sprintf("load-driven: load explains %.0f%% of the trough variance (%s per unit) and the load-adjusted floor has no leak trend (%s)",
			100*loadR2, FormatBytes(m.loadBeta), rate)
	case wSat > 0 && wSat+wFlat >= 0.5*wAll:
		p.Verdict = MemWarmupPlateau
		p.Score = clamp01((wSat + wFlat) / wAll * (1 - p.LeakScore))
		p.Reason = fmt.Sprintf("warm-up then plateau: the floor rises after a start and levels off in %d of %d lifetime(s)", m.countClass(SegmentSaturating), m.countUsable())
	case p.Evidence.DailyCycle && !m.hasLoad:
		p.Verdict = MemLoadDriven
		p.Score = clamp01(0.6 * (1 - p.LeakScore))
		p.Reason = fmt.Sprintf("load-driven: memory follows a daily cycle (%s) with no trend in the daily minima (%s); no load series given", FormatBytes(p.Evidence.DailyCycleAmplitude), rate)
	default:
		p.Verdict = MemStable
		p.Score = clamp01((1 - p.LeakScore) * math.Min(1, wAll/3))
		why := "no significant trend of the floor"
		if m.countClass(SegmentFalling) > 0 {
			why = "the floor is flat or decreasing"
		}
		if wRise > 0 {
			why = fmt.Sprintf("the floor rises in only %s", nLife)
		}
		p.Reason = fmt.Sprintf("stable: %s (%s, combined p=%.2g)", why, rate, pc)
	}
}

func (m *memRun) countClass(c string) int {
	k := 0
	for _, sg := range m.segs {
		if sg.usable && sg.class == c {
			k++
		}
	}
	return k
}

func (m *memRun) countUsable() int {
	k := 0
	for _, sg := range m.segs {
		if sg.usable {
			k++
		}
	}
	return k
}

// pooledSlope is the Theil–Sen slope over pairs within the same usable
// lifetime (per day), with Sen's interval from the summed variances of S.
func (m *memRun) pooledSlope() (senResult, bool) {
	var slopes []float64
	var varS float64
	per := 0
	for _, sg := range m.segs {
		if sg.usable {
			per++
		}
	}
	if per == 0 {
		return senResult{}, false
	}
	maxPer := max(40, int(math.Sqrt(float64(2*200000/per))))
	for _, sg := range m.segs {
		if !sg.usable {
			continue
		}
		idx := thinIdx(len(sg.zt), maxPer)
		k := float64(len(idx))
		res := make([]float64, len(idx))
		for i, j := range idx {
			res[i] = sg.zv[j] - sg.slope.Intercept - sg.slope.Slope*sg.zt[j]
		}
		for a := 0; a < len(idx); a++ {
			for b := a + 1; b < len(idx); b++ {
				if dt := sg.zt[idx[b]] - sg.zt[idx[a]]; dt != 0 {
					slopes = append(slopes, (sg.zv[idx[b]]-sg.zv[idx[a]])/dt)
				}
			}
		}
		varS += k * (k - 1) * (2*k + 5) / 18 * inflation(res)
	}
	N := len(slopes)
	if N == 0 {
		return senResult{}, false
	}
	r := senResult{Slope: medianOf(slopes), N: N}
	c := z95 * math.Sqrt(varS)
	m1 := min(max(int(math.Floor((float64(N)-c)/2)), 0), N-1)
	m2 := min(max(int(math.Ceil((float64(N)+c)/2)), 0), N-1)
	r.Lo = math.Min(models.SelectKth(slopes, m1), r.Slope)
	r.Hi = math.Max(models.SelectKth(slopes, m2), r.Slope)
	return r, true
}

// oom projects when the peaks of the current lifetime reach the limit.
func (m *memRun) oom(rate senResult) {
	p := m.p
	if p.LimitBytes == nil {
		p.Reason += "; no limit known, so no out-of-memory ETA"
		return
	}
	limit := *p.LimitBytes
	cur := m.segs[len(m.segs)-1]
	var t, y []float64
	for _, tr := range cur.tr {
		t = append(t, tr.t)
		y = append(y, tr.v)
	}
	if len(t) == 0 {
		return
	}
	// the floor now: median of troughs projected to now along the pooled rate
	proj := make([]float64, len(t))
	for i := range t {
		proj[i] = y[i] - rate.Slope*t[i]
	}
	level := medianOf(proj)
	res := make([]float64, len(t))
	for i := range t {
		res[i] = proj[i] - level
	}
	infl := inflation(res)
	seLevel := 1.2533 * madScale(res) / math.Sqrt(math.Max(float64(len(t))/infl, 1))
	if len(t) < 3 {
		seLevel = math.Max(seLevel, p.Evidence.GCAmplitudeBytes)
	}
	// the peaks are the floor plus the GC amplitude: its uncertainty
	// moves the level the limit is compared with
	seLevel = math.Hypot(seLevel, m.gcSD)
	model := trendModel{kind: fitLinear, a: level, b: rate.Slope}
	seB := (rate.Hi - rate.Lo) / (2 * z95)
	draw := linearSampler(model, seB, meanOf(t), seLevel, 0)
	thr := limit - p.Evidence.GCAmplitudeBytes
	H := m.opt.Horizon.Hours() / 24
	a, b, c := etaQuantiles(model, draw, thr, H, m.opt.Simulations, m.opt.Seed, nil)
	p.OOM = makeETA(a, b, c, m.now)
	p.Reason += "; " + describeETA("out of memory", p.OOM, m.now, H) + " if not restarted"
}
