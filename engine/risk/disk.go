package risk

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/seed-f1b503aa/foresight/models"
)

// DiskStatus is the verdict of PredictDisk.
type DiskStatus string

// Disk statuses.
const (
	// DiskFilling: usage has a significant upward trend in its current
	// regime; Full and Warning hold the ETAs when within the horizon.
	DiskFilling DiskStatus = "filling"
	// DiskStable: no significant trend (flat, noisy, or cycling around a
	// constant level). No ETA.
	DiskStable DiskStatus = "stable"
	// DiskShrinking: a significant downward trend. No ETA.
	DiskShrinking DiskStatus = "shrinking"
	// DiskInsufficientHistory: too little data in the current regime for an
	// honest answer; Reason states the minimum needed. No ETA, confidence 0.
	DiskInsufficientHistory DiskStatus = "insufficient_history"
)

// Defaults of DiskOptions.
const (
	DefaultWarnPercent    = 90.0                 // percent of the current total
	DefaultDiskHorizon    = 180 * 24 * time.Hour // how far ahead ETAs are reported
	DefaultDiskMinHistory = 24 * time.Hour       // minimum span of the current regime
	DefaultMinCycles      = 4                    // full days needed when usage has a daily cycle
	DefaultAlpha          = 0.01                 // significance level of trend tests
	DefaultSimulations    = 2000                 // draws for ETA intervals
)

// Tuning of the disk predictor.
const (
	maxAnalysisBuckets  = 1000      // bucket count the history is reduced to
	levelShiftFloorFrac = 0.01      // smallest level shift, as a fraction of the total
	cycleFloorFrac      = 0.005     // smallest daily cycle amplitude, as a fraction of the total
	minDiskBuckets      = 12        // minimum buckets in a non-cyclic regime
	maxDiskChangepoints = 3         // slope changes searched per call
	diskSNR             = 3.0       // trend rise over the regime in residual scales
	nonlinearWin        = 0.6       // nonlinear MAE must be below this × linear MAE
	minNonlinearDays    = 7.0       // shortest regime a nonlinear model is chosen on
	minCyclicTestPoints = 12        // daily peaks below which the trend test uses bucket medians
	driftWeight         = 0.5       // weight of the within-regime slope spread in ETA draws
	percentUnit         = "percent" // Unit of percent inputs
	bytesUnit           = "bytes"   // Unit of byte inputs
)

// ErrInvalidInput is wrapped by the errors PredictDisk and PredictMemLeak
// return for malformed input (mismatched lengths, no values, negative
// options). Too little data is not an error: it gives an
// insufficient_history result.
var ErrInvalidInput = errors.New("risk: invalid input")

// DiskInput is one volume's history. Give Used with Total (or TotalBytes),
// or UsedPercent alone. Times and the value slices have equal lengths;
// NaN marks a missing value. Times need not be sorted or regular.
type DiskInput struct {
	// Times of the samples.
	Times []time.Time
	// Used is the used space in bytes.
	Used []float64
	// Total is the volume size in bytes at each sample (optional when
	// TotalBytes is set). A change in Total is a resize: ETAs are computed
	// against the latest total.
	Total []float64
	// TotalBytes is a constant volume size in bytes, used when Total is nil.
	TotalBytes float64
	// UsedPercent is the used space in percent (0–100), the alternative to
	// Used and Total when only a percentage is collected. A resize then
	// shows as a level shift and starts a new regime.
	UsedPercent []float64
}

// DiskOptions tune PredictDisk. Zero values take the defaults.
type DiskOptions struct {
	// Now is the evaluation time; samples after it are ignored (default:
	// the last timestamp with a value).
	Now time.Time
	// WarnPercent is the warning level in percent of the current total
	// (default 90).
	WarnPercent float64
	// Horizon is how far ahead ETAs are reported (default 180 days).
	Horizon time.Duration
	// MinHistory is the minimum time span of the current regime (default
	// 24 h).
	MinHistory time.Duration
	// MinCycles is the number of full days the current regime needs when
	// usage has a daily cycle (default 4).
	MinCycles int
	// Alpha is the significance level of the Mann–Kendall trend test
	// (default 0.01).
	Alpha float64
	// Seed seeds the ETA interval simulation (any value, 0 included).
	Seed uint64
	// Simulations is the number of draws for ETA intervals (default 2000).
	Simulations int
}

func (o DiskOptions) withDefaults() (DiskOptions, error) {
	if o.WarnPercent < 0 || o.WarnPercent > 100 || o.Horizon < 0 || o.MinHistory < 0 ||
		o.MinCycles < 0 || o.Alpha < 0 || o.Alpha >= 1 || o.Simulations < 0 {
		return o, fmt.Errorf("%w: disk options out of range (warn %% in 0..100, alpha in 0..1, durations and counts >= 0)", ErrInvalidInput)
	}
	if o.WarnPercent == 0 {
		o.WarnPercent = DefaultWarnPercent
	}
	if o.Horizon == 0 {
		o.Horizon = DefaultDiskHorizon
	}
	if o.MinHistory == 0 {
		o.MinHistory = DefaultDiskMinHistory
	}
	if o.MinCycles == 0 {
		o.MinCycles = DefaultMinCycles
	}
	if o.Alpha == 0 {
		o.Alpha = DefaultAlpha
	}
	if o.Simulations == 0 {
		o.Simulations = DefaultSimulations
	}
	return o, nil
}

// DiskPrediction is the answer of PredictDisk. Levels are in Unit ("bytes"
// or "percent"); rates are per day.
type DiskPrediction struct {
	// Status is filling, stable, shrinking or insufficient_history.
	Status DiskStatus `json:"status"`
	// Reason explains the status in one sentence (with the minimum needed
	// for insufficient_history).
	Reason string `json:"reason"`
	// Now is the evaluation time.
	Now time.Time `json:"now"`
	// Unit is "bytes" (Used/Total input) or "percent" (UsedPercent input).
	Unit string `json:"unit"`
	// Full is when usage reaches 100% of the current total; Warning when it
	// reaches WarnPercent. Both are empty unless Status is filling or the
	// latest sample is already at that level (Reached).
	Full    ETA `json:"full"`
	Warning ETA `json:"warning"`
	// WarnPercent is the warning level used, in percent.
	WarnPercent float64 `json:"warn_percent"`
	// HorizonDays is the horizon used, in days.
	HorizonDays float64 `json:"horizon_days"`
	// GrowthBytesPerDay is the fitted growth rate now in bytes per day (nil
	// for percent input and for insufficient_history).
	GrowthBytesPerDay *float64 `json:"growth_bytes_per_day"`
	// GrowthPercentPerDay is the fitted growth rate now in percentage points
	// of the current total per day.
	GrowthPercentPerDay float64 `json:"growth_percent_per_day"`
	// UsedBytes and TotalBytes are the latest observed values (nil for
	// percent input); UsedPercent is the latest used percentage.
	UsedBytes   *float64 `json:"used_bytes"`
	TotalBytes  *float64 `json:"total_bytes"`
	UsedPercent float64  `json:"used_percent"`
	// Confidence in [0, 1] summarises how much the answer can be trusted:
	// trend significance, fit quality, how far the ETA extrapolates beyond
	// the regime and how wide its interval is (0 for insufficient_history).
	Confidence float64 `json:"confidence"`
	// Evidence is what the answer rests on.
	Evidence DiskEvidence `json:"evidence"`
}

// DiskEvidence lets an operator check a disk prediction.
type DiskEvidence struct {
	// RegimeStart is the start of the data the trend was fitted on: after
	// the last level shift (cleanup, resize in percent input) and slope
	// change; for periodic purges, the first purge. Absent for
	// insufficient_history.
	RegimeStart time.Time `json:"regime_start,omitzero"`
	// Model describes the fit, e.g. "theil-sen linear on daily peaks since
	// 2026-10-12T08:00:00Z".
	Model string `json:"model"`
	// Fit is the model kind: linear, quadratic or exponential.
	Fit string `json:"fit"`
	// Basis is "level" (bucket medians) or "daily_peaks" (the peak
	// envelope of a daily cycle: rotation sawtooth, nightly backups,
	// batch temp files).
	Basis string `json:"basis"`
	// DailyCycle reports a daily cycle; DailyCycleRange is its median
	// within-day range in Unit.
	DailyCycle      bool    `json:"daily_cycle"`
	DailyCycleRange float64 `json:"daily_cycle_range"`
	// Points is the number of points in the regime fit; Samples the input
	// samples used; OutliersRemoved the isolated bad readings dropped.
	Points          int `json:"points"`
	Samples         int `json:"samples"`
	OutliersRemoved int `json:"outliers_removed"`
	// BucketSeconds is the aggregation bucket width in seconds.
	BucketSeconds float64 `json:"bucket_seconds"`
	// R2 is the coefficient of determination of the fit on the regime;
	// ResidualSD the robust residual scale (Unit).
	R2         float64 `json:"r2"`
	ResidualSD float64 `json:"residual_sd"`
	// SlopeCI95 is the 95% interval of the linear growth rate (Unit per
	// day), Sen's rank interval widened for autocorrelation.
	SlopeCI95 [2]float64 `json:"slope_ci95_per_day"`
	// MannKendallP is the two-sided p-value of the Mann–Kendall test on the
	// regime (corrected for lag-1 autocorrelation); MannKendallTau is
	// Kendall's tau.
	MannKendallP   float64 `json:"mann_kendall_p"`
	MannKendallTau float64 `json:"mann_kendall_tau"`
	// BacktestMAE is the mean absolute error (Unit) of each candidate model
	// on held-out ends of the regime, when the regime was long enough.
	BacktestMAE map[string]float64 `json:"backtest_mae,omitempty"`
	// Changepoints lists the level shifts, slope changes and capacity
	// changes found, oldest first.
	Changepoints []Changepoint `json:"changepoints"`
}

// Changepoint kinds.
const (
	ChangeLevelShift = "level_shift"     // Before/After: level (Unit)
	ChangeSlope      = "slope_change"    // Before/After: growth rate (Unit per day)
	ChangeCapacity   = "capacity_change" // Before/After: total (bytes)
)

// Changepoint is one detected change.
type Changepoint struct {
	// Time of the change (for a level shift, the middle of the bucket
	// boundary where it happened).
	Time time.Time `json:"time"`
	// Kind is level_shift, slope_change or capacity_change.
	Kind string `json:"kind"`
	// Before and After: the level (Unit) for a level shift, the growth
	// rate (Unit per day) for a slope change, the total (bytes) for a
	// capacity change.
	Before float64 `json:"before"`
	After  float64 `json:"after"`
}

// fitPoint is a point of the series a regime is fitted on.
type fitPoint struct{ t, y float64 }

// PredictDisk predicts when a volume fills up. It is a pure function:
// deterministic for equal inputs and options, no I/O.
//
// The history is cleaned of isolated bad readings and reduced to buckets
// (median per bucket, at most ~1500 buckets aligned on Now). If usage has a
// daily cycle (log-rotation sawtooth, nightly backups or batch temp files:
// a within-day range well above the day-to-day change and the noise), the
// fit uses the daily peak envelope (the highest value of each 24 h window),
// because the volume fills when a peak reaches the total; otherwise the
// bucket medians. Level shifts (cleanups, purges, resizes in percent input)
// start a new regime; so do significant slope changes (a continuous
// two-piece fit whose pieces have non-overlapping Theil–Sen intervals and
// rates differing by at least a third). The trend of the final regime is
// the Theil–Sen line unless a quadratic or exponential fit beats it by a
// wide margin on held-out ends of the regime and accelerates. A disk is
// filling only if the Mann–Kendall test is significant and the rise over
// the regime exceeds three residual scales; ETAs are then simulated from
// the slope and level uncertainty with a fixed seed.
func PredictDisk(in DiskInput, opt DiskOptions) (DiskPrediction, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return DiskPrediction{}, err
	}
	pct := in.Used == nil
	vals, capv, capC, unit := in.Used, in.Total, in.TotalBytes, bytesUnit
	switch {
	case in.Used != nil:
		if in.Total == nil && !(in.TotalBytes > 0) {
			return DiskPrediction{}, fmt.Errorf("%w: disk: Used needs Total or a positive TotalBytes", ErrInvalidInput)
		}
		if in.Total != nil && len(in.Total) != len(in.Times) {
			return DiskPrediction{}, fmt.Errorf("%w: disk: %d totals for %d times", ErrInvalidInput, len(in.Total), len(in.Times))
		}
	case in.UsedPercent != nil:
		vals, capv, capC, unit = in.UsedPercent, nil, 100, percentUnit
	default:
		return DiskPrediction{}, fmt.Errorf("%w: disk: give Used (with Total) or UsedPercent", ErrInvalidInput)
	}
	if len(vals) != len(in.Times) {
		return DiskPrediction{}, fmt.Errorf("%w: disk: %d values for %d times", ErrInvalidInput, len(vals), len(in.Times))
	}
	now, ok := resolveNow(in.Times, vals, opt.Now)
	p := DiskPrediction{Now: now, Unit: unit, WarnPercent: opt.WarnPercent, HorizonDays: opt.Horizon.Hours() / 24,
		Evidence: DiskEvidence{Changepoints: []Changepoint{}}}
	if !ok {
		p.Status, p.Reason = DiskInsufficientHistory, fmt.Sprintf("no usable samples: need at least %s of history", fmtDur(opt.MinHistory))
		return p, nil
	}
	o := collect(in.Times, vals, capv, capC, nil, now)
	if len(o) == 0 {
		p.Status, p.Reason = DiskInsufficientHistory, fmt.Sprintf("no usable samples at or before %s: need at least %s of history", now.Format(time.RFC3339), fmtDur(opt.MinHistory))
		return p, nil
	}
	fillCapacity(o)
	if !finite(o[len(o)-1].c) {
		return DiskPrediction{}, fmt.Errorf("%w: disk: no finite positive total", ErrInvalidInput)
	}
	d := &diskRun{opt: opt, now: now, pct: pct, p: &p}
	// capacity changes
	for i := 1; i < len(o); i++ {
		if math.Abs(o[i].c-o[i-1].c) > 1e-3*o[i-1].c {
			p.Evidence.Changepoints = append(p.Evidence.Changepoints, Changepoint{
				Time: fromDays(o[i].t, now), Kind: ChangeCapacity, Before: o[i-1].c, After: o[i].c})
		}
	}
	o, p.Evidence.OutliersRemoved = dropIsolated(o)
	d.cap = o[len(o)-1].c
	last := o[len(o)-1]
	p.UsedPercent = 100 * last.v / d.cap
	if !pct {
		u, c := last.v, last.c
		p.UsedBytes, p.TotalBytes = &u, &c
	}
	p.Evidence.Samples = len(o)
	d.run(o)
	// a level already reached is a fact whatever the trend
	if p.UsedPercent >= 100 && !p.Full.Reached {
		p.Full = reachedETA(now)
	}
	if p.UsedPercent >= opt.WarnPercent && !p.Warning.Reached {
		p.Warning = reachedETA(now)
	}
	if len(p.Evidence.Changepoints) > 1 {
		sortChangepoints(p.Evidence.Changepoints)
	}
	return p, nil
}

// diskRun carries the state of one PredictDisk call.
type diskRun struct {
	opt DiskOptions
	now time.Time
	pct bool
	cap float64 // current total in Unit (100 for percent)
	p   *DiskPrediction
}

func (d *diskRun) insufficient(format string, args ...any) {
	d.p.Status = DiskInsufficientHistory
	d.p.Reason = fmt.Sprintf(format, args...)
	d.p.Confidence = 0
}

func (d *diskRun) run(o []obs) {
	p, opt := d.p, d.opt
	minHist := opt.MinHistory.Hours() / 24
	span := -o[0].t
	if len(o) < 3 || span < minHist {
		d.insufficient("%d samples over %s: need at least %s of history", len(o), fmtDays(span), fmtDur(opt.MinHistory))
		return
	}
	bw := bucketWidth(medianStep(o), span, maxAnalysisBuckets)
	p.Evidence.BucketSeconds = math.Round(bw * 86400)
	bs := makeBuckets(o, bw)
	med := make([]float64, len(bs))
	bt := make([]float64, len(bs))
	for i, b := range bs {
		med[i], bt[i] = b.med, b.t
	}
	sigma := diffNoise(med)

	// daily cycle: a stable hour-of-day profile well above the rest
	days := makeWindows(bs, bw, 1, 0.6)
	amp, rest := dailyProfile(bs, days, bw)
	p.Evidence.DailyCycleRange = amp
	cyclic := amp > 5*rest && amp > cycleFloorFrac*d.cap
	p.Evidence.DailyCycle = cyclic
	thrFloor := levelShiftFloorFrac * d.cap

	// level shifts: on daily floors for cyclic usage (a rotation or nightly
	// spike is not a shift), on bucket medians otherwise
	regimeStart := bt[0] - bw/2
	var shifts []levelShift
	if cyclic {
		ft := make([]float64, len(days))
		fv := make([]float64, len(days))
		for i, w := range days {
			ft[i], fv[i] = w.minT, w.min
		}
		thr := math.Max(5*diffNoise(fv), thrFloor)
		for _, s := range findLevelShifts(ft, fv, 3, 6, 1, thr) {
			// locate the jump among the buckets of the two windows
			lo, hi := days[s.at-1].start, days[s.at].end
			at := refineJump(bt, med, lo, hi, s.delta)
			shifts = append(shifts, levelShift{at: at, t: bt[at] - bw/2, delta: s.delta})
		}
	} else {
		win := max(3, int(math.Round(0.25/bw)))
		thr := math.Max(5*sigma, thrFloor)
		shifts = findLevelShifts(bt, med, win, 3*win, 2, thr)
		for i := range shifts {
			shifts[i].t = bt[shifts[i].at] - bw/2
		}
	}
	for _, s := range shifts {
		before := med[max(s.at-1, 0)]
		p.Evidence.Changepoints = append(p.Evidence.Changepoints, Changepoint{
			Time: fromDays(s.t, d.now), Kind: ChangeLevelShift, Before: before, After: before + s.delta})
		regimeStart = s.t
	}
	if d.periodic(shifts, bs, days, cyclic) {
		return
	}

	// the series the trend is fitted on
	var F []fitPoint
	if cyclic {
		for _, w := range days {
			if w.start >= regimeStart-1e-9 {
				F = append(F, fitPoint{w.tMax, w.max})
			}
		}
		if len(F) < opt.MinCycles {
			d.insufficient("usage has a daily cycle and the regime since %s has %d full day(s): need at least %d",
				fromDays(regimeStart, d.now).Format(time.RFC3339), len(F), opt.MinCycles)
			return
		}
		p.Evidence.Basis = "daily_peaks"
	} else {
		for _, b := range bs {
			if b.t >= regimeStart {
				F = append(F, fitPoint{b.t, b.med})
			}
		}
		rs := -regimeStart
		if rs < minHist || len(F) < minDiskBuckets {
			d.insufficient("the regime since %s spans %s with %d points: need at least %s and %d points",
				fromDays(regimeStart, d.now).Format(time.RFC3339), fmtDays(rs), len(F), fmtDur(opt.MinHistory), minDiskBuckets)
			return
		}
		p.Evidence.Basis = "level"
	}

	// slope changes inside the regime
	minPostSpan := math.Max(minHist, 2)
	minPost, minPre := 8, 6
	if cyclic {
		minPostSpan = float64(opt.MinCycles)
		minPost, minPre = opt.MinCycles, 4
	}
	for it := 0; it < maxDiskChangepoints; it++ {
		k, before, after, ok := acceptHinge(F, minPre, minPost, minPostSpan)
		if !ok {
			break
		}
		p.Evidence.Changepoints = append(p.Evidence.Changepoints, Changepoint{
			Time: fromDays(F[k].t, d.now), Kind: ChangeSlope, Before: before, After: after})
		regimeStart = F[k].t
		F = F[k:]
	}
	p.Evidence.RegimeStart = fromDays(regimeStart, d.now)
	p.Evidence.Points = len(F)
	var lt, ly []float64 // bucket medians of the regime, for a short cyclic regime's trend test
	if cyclic && len(F) < minCyclicTestPoints {
		for _, b := range bs {
			if b.t >= regimeStart {
				lt = append(lt, b.t)
				ly = append(ly, b.med)
			}
		}
	}
	d.fitAndProject(F, regimeStart, lt, ly)
}

// dailyProfile measures the daily cycle of the bucket maxima (maxima, so
// that a spike shorter than a bucket still shows): each bucket is taken
// relative to its day (the median of its 24 h window, and the day-to-day
// trend within the day), the median per time-of-day bin over the days is
// the profile, and amp is its range; rest is the robust scale of what the
// profile leaves. Both are 0 with fewer than three days or buckets of six
// hours or longer.
func dailyProfile(bs []bucket, days []window, bw float64) (amp, rest float64) {
	nb := int(math.Round(1 / bw))
	if len(days) < 3 || nb < 4 {
		return 0, 0
	}
	type dayStat struct{ med, mid float64 }
	stat := map[int]dayStat{}
	var moves []float64
	for _, w := range days {
		var v []float64
		for _, b := range bs {
			if bucketIndex(b.t, 1) == w.k {
				v = append(v, b.max)
			}
		}
		stat[w.k] = dayStat{med: medianOf(v), mid: (w.start + w.end) / 2}
		if prev, ok := stat[w.k+1]; ok {
			moves = append(moves, stat[w.k].med-prev.med)
		}
	}
	slope := 0.0
	if len(moves) > 0 {
		slope = medianOf(moves)
	}
	bins := make([][]float64, nb)
	var res []float64
	var bin []int
	for _, b := range bs {
		ds, ok := stat[bucketIndex(b.t, 1)]
		if !ok {
			continue
		}
		r := b.max - ds.med - slope*(b.t-ds.mid)
		k := min(int((b.t-math.Floor(b.t))*float64(nb)), nb-1)
		bins[k] = append(bins[k], r)
		res = append(res, r)
		bin = append(bin, k)
	}
	prof := make([]float64, nb)
	lo, hi := math.Inf(1), math.Inf(-1)
	for k := range bins {
		if len(bins[k]) < 3 {
			prof[k] = math.NaN()
			continue
		}
		prof[k] = medianOf(bins[k])
		lo, hi = math.Min(lo, prof[k]), math.Max(hi, prof[k])
	}
	if math.IsInf(lo, 0) {
		return 0, 0
	}
	var left []float64
	for i, r := range res {
		if finite(prof[bin[i]]) {
			left = append(left, r-prof[bin[i]])
		}
	}
	return hi - lo, madScale(left)
}

// refineJump returns the index of the first bucket after the largest
// consecutive jump of the given sign within (lo, hi].
func refineJump(bt, med []float64, lo, hi, sign float64) int {
	best, bestAt := 0.0, -1
	for i := 1; i < len(bt); i++ {
		if bt[i] <= lo || bt[i-1] <= lo || bt[i] > hi {
			continue
		}
		j := med[i] - med[i-1]
		if sign < 0 {
			j = -j
		}
		if j > best {
			best, bestAt = j, i
		}
	}
	if bestAt < 0 {
		for i := range bt {
			if bt[i] > lo {
				return i
			}
		}
		return len(bt) - 1
	}
	return bestAt
}

// acceptHinge looks for one significant slope change in F and returns the
// index of the kink and the Theil–Sen rates before and after it.
func acceptHinge(F []fitPoint, minPre, minPost int, minPostSpan float64) (int, float64, float64, bool) {
	t, y := splitFit(F)
	h, ok := bestHinge(t, y, minPre, minPost, minPostSpan)
	if !ok || h.sse1 <= 0 {
		return 0, 0, 0, false
	}
	k := h.idx
	s1, ok1 := senFit(t[:k+1], y[:k+1], z95, 1)
	s2, ok2 := senFit(t[k:], y[k:], z95, 1)
	if !ok1 || !ok2 {
		return 0, 0, 0, false
	}
	// widen both intervals for autocorrelation of their residuals
	inf1 := senInflation(residuals(t[:k+1], y[:k+1], s1))
	inf2 := senInflation(residuals(t[k:], y[k:], s2))
	s1, _ = senFit(t[:k+1], y[:k+1], z95, inf1)
	s2, _ = senFit(t[k:], y[k:], z95, inf2)
	disjoint := s2.Lo > s1.Hi || s2.Hi < s1.Lo
	big := math.Abs(s2.Slope-s1.Slope) > math.Max(math.Abs(s1.Slope), math.Abs(s2.Slope))/3
	// the kink must also explain a good part of the variance left by the line
	n := float64(len(t))
	neff := n / math.Max(inf1, inf2)
	gain := neff*math.Log(h.sse0/h.sse1) > 2*math.Log(math.Max(neff, 2))+6
	if !(disjoint && big && gain) {
		return 0, 0, 0, false
	}
	return k, s1.Slope, s2.Slope, true
}

func splitFit(F []fitPoint) ([]float64, []float64) {
	t := make([]float64, len(F))
	y := make([]float64, len(F))
	for i, f := range F {
		t[i], y[i] = f.t, f.y
	}
	return t, y
}

func residuals(t, y []float64, s senResult) []float64 {
	r := make([]float64, len(t))
	for i := range t {
		r[i] = y[i] - s.Intercept - s.Slope*t[i]
	}
	return r
}

// fitAndProject fits the regime, decides the status and computes ETAs.
//
// When lt, ly are given (a cyclic regime with few daily peaks), the
// Mann–Kendall test runs on those bucket medians instead of the peaks: a
// week of daily peaks is too few points for a test, while the medians
// carry the same trend with many more points (their daily pattern only
// widens the test through the autocorrelation correction).
func (d *diskRun) fitAndProject(F []fitPoint, regimeStart float64, lt, ly []float64) {
	p, opt := d.p, d.opt
	t, y := splitFit(F)
	lin, ok := senFit(t, y, z95, 1)
	if !ok {
		d.insufficient("the regime since %s has no two distinct times", fromDays(regimeStart, d.now).Format(time.RFC3339))
		return
	}
	res := residuals(t, y, lin)
	infl := inflation(res)
	lin, _ = senFit(t, y, z95, senInflation(res))
	res = residuals(t, y, lin)
	sdRes := madScale(res)
	mk := mkTest(y, infl)
	if len(lt) >= minDiskBuckets {
		if ls, ok := senFit(lt, ly, z95, 1); ok {
			mk = mkTest(ly, inflation(residuals(lt, ly, ls)))
		}
	}
	p.Evidence.MannKendallP = mk.P
	p.Evidence.MannKendallTau = mk.Tau
	p.Evidence.SlopeCI95 = [2]float64{lin.Lo, lin.Hi}
	p.Evidence.ResidualSD = sdRes

	span := -regimeStart
	model := trendModel{kind: fitLinear, a: lin.Intercept, b: lin.Slope}
	var draw sampler
	tc := meanOf(t)
	neff := float64(len(t)) / infl
	seB := (lin.Hi - lin.Lo) / (2 * z95)
	seLevel := 1.2533 * sdRes / math.Sqrt(math.Max(neff, 1))
	draw = linearSampler(model, seB, tc, seLevel, slopeDrift(t, y))

	// nonlinear candidates, chosen only by a clear backtest win
	if alt, altDraw, mae := chooseNonlinear(t, y, lin); alt.kind != "" {
		model, draw = alt, altDraw
		p.Evidence.BacktestMAE = mae
	} else if mae != nil {
		p.Evidence.BacktestMAE = mae
	}
	fitted := make([]float64, len(t))
	for i := range t {
		fitted[i] = model.at(t[i])
	}
	p.Evidence.R2 = rSquared(y, fitted)
	p.Evidence.Fit = model.kind
	basis := "level"
	if p.Evidence.Basis == "daily_peaks" {
		basis = "daily peaks"
	}
	name := map[string]string{fitLinear: "theil-sen linear", fitQuadratic: "robust quadratic", fitExponential: "exponential (theil-sen on log)"}[model.kind]
	p.Evidence.Model = fmt.Sprintf("%s on %s since %s", name, basis, fromDays(regimeStart, d.now).Format(time.RFC3339))

	rate := model.rate(0)
	p.GrowthPercentPerDay = 100 * rate / d.cap
	if !d.pct {
		r := rate
		p.GrowthBytesPerDay = &r
	}
	rise := math.Abs(lin.Slope) * span
	snr := rise / math.Max(sdRes, 1e-12*math.Max(math.Abs(y[len(y)-1]), 1))
	sig := mk.P < opt.Alpha
	switch {
	case sig && lin.Slope > 0 && rate > 0 && snr >= diskSNR:
		p.Status = DiskFilling
	case sig && lin.Slope < 0 && snr >= diskSNR:
		p.Status = DiskShrinking
	default:
		p.Status = DiskStable
	}
	sigConf := clamp01(-math.Log10(math.Max(mk.P, 1e-300)) / (-2 * math.Log10(opt.Alpha)))
	fitConf := math.Sqrt(clamp01(p.Evidence.R2))
	dataConf := clamp01(float64(len(F)) / float64(3*minDiskBuckets))
	rateStr := d.fmtRate(rate)
	since := fromDays(regimeStart, d.now).Format("2006-01-02 15:04")
	switch p.Status {
	case DiskStable:
		p.Confidence = dataConf * (1 - 0.5*sigConf)
		why := "no significant trend"
		if sig {
			why = fmt.Sprintf("trend too small against the noise (rise %.1f residual scales)", snr)
		}
		p.Reason = fmt.Sprintf("stable since %s: %s (Mann–Kendall p=%.2g, rate %s)", since, why, mk.P, rateStr)
		return
	case DiskShrinking:
		p.Confidence = dataConf * sigConf * fitConf
		p.Reason = fmt.Sprintf("shrinking since %s at %s (Mann–Kendall p=%.2g)", since, rateStr, mk.P)
		return
	}
	H := opt.Horizon.Hours() / 24
	seed := opt.Seed
	full := d.cap
	warn := opt.WarnPercent / 100 * d.cap
	var snap func(float64) float64
	if p.Evidence.Basis == "daily_peaks" {
		if ph, ok := peakPhase(t); ok {
			snap = snapToPhase(ph)
		}
	}
	f10, f50, f90 := etaQuantiles(model, draw, full, H, opt.Simulations, seed, snap)
	w10, w50, w90 := etaQuantiles(model, draw, warn, H, opt.Simulations, seed, snap)
	p.Full = makeETA(f10, f50, f90, d.now)
	p.Warning = makeETA(w10, w50, w90, d.now)

	// confidence: significance × fit × extrapolation × interval width
	lead := f50
	if math.IsInf(lead, 1) {
		lead = H
	}
	ext := 1 / (1 + math.Max(0, lead/math.Max(span, 1e-9)-1)/3)
	width := 1.0
	if !math.IsInf(f90, 1) && lead > 0 {
		width = 1 / (1 + (f90-f10)/(2*lead))
	} else if math.IsInf(f90, 1) {
		width = 0.5
	}
	p.Confidence = clamp01(sigConf * fitConf * ext * width * math.Max(dataConf, 0.5))
	if p.Full.Reached {
		p.Confidence = clamp01(sigConf * math.Max(dataConf, 0.5))
	}
	p.Reason = fmt.Sprintf("filling since %s at %s (Mann–Kendall p=%.2g); %s", since, rateStr, mk.P, describeETA("full", p.Full, d.now, H))
}

// chooseNonlinear backtests quadratic and exponential fits against the
// Theil–Sen line on the held-out last 30% and 15% of the regime. A
// nonlinear model is chosen only if the regime spans at least
// minNonlinearDays with 16 points or more, its MAE is below nonlinearWin ×
// the linear MAE at both origins, and the regime is significantly convex
// (the robust quadratic's curvature is positive by more than two standard
// errors). Decelerating curves are never extrapolated: the line is the
// conservative choice. It returns the chosen model (kind "" if none), its
// sampler, and the summed MAE of every candidate (nil when not backtested).
func chooseNonlinear(t, y []float64, lin senResult) (trendModel, sampler, map[string]float64) {
	n := len(t)
	if n < 16 || t[n-1]-t[0] < minNonlinearDays {
		return trendModel{}, nil, nil
	}
	positive := true
	for _, v := range y {
		if v <= 0 {
			positive = false
			break
		}
	}
	mae := map[string]float64{}
	wins := map[string]int{}
	origins := 0
	for _, frac := range []float64{0.7, 0.85} {
		o := int(math.Round(frac * float64(n)))
		if o < 8 || n-o < 3 {
			continue
		}
		origins++
		tr, yr := t[:o], y[:o]
		var ml float64
		if l, ok := senFit(tr, yr, z95, 1); ok {
			ml = maeOf(t[o:], y[o:], trendModel{kind: fitLinear, a: l.Intercept, b: l.Slope})
			mae[fitLinear] += ml
		}
		if q, ok := fitQuad(tr, yr); ok {
			mq := maeOf(t[o:], y[o:], q.m)
			mae[fitQuadratic] += mq
			if mq < nonlinearWin*ml {
				wins[fitQuadratic]++
			}
		}
		if positive {
			if e, ok := fitExp(tr, yr); ok {
				me := maeOf(t[o:], y[o:], e.m)
				mae[fitExponential] += me
				if me < nonlinearWin*ml {
					wins[fitExponential]++
				}
			}
		}
	}
	if len(mae) == 0 {
		return trendModel{}, nil, nil
	}
	best := ""
	for _, k := range []string{fitQuadratic, fitExponential} {
		if wins[k] == origins && origins > 0 && (best == "" || mae[k] < mae[best]) {
			best = k
		}
	}
	if best == "" {
		return trendModel{}, nil, mae
	}
	q, ok := fitQuad(t, y)
	if !ok || !(q.m.c > 2*math.Sqrt(q.cov[8])) || q.m.rate(0) <= 0 {
		return trendModel{}, nil, mae
	}
	if best == fitQuadratic {
		return q.m, mvnSampler(q.m, q.cov, 3), mae
	}
	if e, ok := fitExp(t, y); ok && e.lo > 0 {
		return e.m, e.draw, mae
	}
	return trendModel{}, nil, mae
}

type quadFit struct {
	m   trendModel
	cov []float64
}

// fitQuad fits a + b·t + c·t² by Huber IRLS; the covariance is widened
// by the autocorrelation inflation of the residuals.
func fitQuad(t, y []float64) (quadFit, bool) {
	t2 := make([]float64, len(t))
	one := make([]float64, len(t))
	for i, v := range t {
		t2[i] = v * v
		one[i] = 1
	}
	beta, s2, cov, ok := huberFit([][]float64{one, t, t2}, y)
	if !ok {
		return quadFit{}, false
	}
	// widen for autocorrelated residuals
	res := make([]float64, len(t))
	for i := range t {
		res[i] = y[i] - beta[0] - beta[1]*t[i] - beta[2]*t2[i]
	}
	infl := inflation(res)
	for i := range cov {
		cov[i] *= s2 * infl
	}
	return quadFit{m: trendModel{kind: fitQuadratic, a: beta[0], b: beta[1], c: beta[2]}, cov: cov}, true
}

type expFit struct {
	m    trendModel
	lo   float64 // lower 95% bound of the log-slope
	draw sampler
}

// fitExp fits log y = a + b·t by Theil–Sen.
func fitExp(t, y []float64) (expFit, bool) {
	ly := make([]float64, len(y))
	for i, v := range y {
		ly[i] = math.Log(v)
	}
	s, ok := senFit(t, ly, z95, 1)
	if !ok {
		return expFit{}, false
	}
	res := residuals(t, ly, s)
	infl := inflation(res)
	s, _ = senFit(t, ly, z95, senInflation(res))
	m := trendModel{kind: fitExponential, a: s.Intercept, b: s.Slope}
	seB := (s.Hi - s.Lo) / (2 * z95)
	seL := 1.2533 * madScale(res) / math.Sqrt(math.Max(float64(len(t))/infl, 1))
	return expFit{m: m, lo: s.Lo, draw: linearSampler(m, seB, meanOf(t), seL, 0)}, true
}

// slopeDrift measures how much the growth rate wanders inside the regime:
// the standard deviation of the Theil–Sen slopes of its three equal-time
// thirds, times √driftWeight (0 when a third has fewer than 6 points). ETA
// draws add it as a change of rate from now on, so a regime whose rate
// varies gets wider intervals, the more so the further ahead.
func slopeDrift(t, y []float64) float64 {
	n := len(t)
	if n < 18 {
		return 0
	}
	t0, t1 := t[0], t[n-1]
	var slopes []float64
	lo := 0
	for part := 1; part <= 3; part++ {
		edge := t0 + (t1-t0)*float64(part)/3
		hi := lo
		for hi < n && (t[hi] <= edge || part == 3) {
			hi++
		}
		if hi-lo < 6 {
			return 0
		}
		s, ok := senFit(t[lo:hi], y[lo:hi], z95, 1)
		if !ok {
			return 0
		}
		slopes = append(slopes, s.Slope)
		lo = hi
	}
	m := meanOf(slopes)
	var v float64
	for _, s := range slopes {
		v += (s - m) * (s - m)
	}
	return math.Sqrt(v / 2 * driftWeight)
}

func maeOf(t, y []float64, m trendModel) float64 {
	var s float64
	for i := range t {
		s += math.Abs(y[i] - m.at(t[i]))
	}
	return s / float64(len(t))
}

func meanOf(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// fmtRate formats a rate in the prediction's unit per day.
func (d *diskRun) fmtRate(r float64) string {
	if d.pct {
		return fmt.Sprintf("%+.3g percentage points/day", r)
	}
	return fmt.Sprintf("%s/day (%+.3g%% of the total)", FormatBytesSigned(r), 100*r/d.cap)
}

// describeETA renders an ETA as "full in 2.4 days (p10 1.9 – p90 3.1)".
func describeETA(what string, e ETA, now time.Time, horizonDays float64) string {
	if e.Reached {
		return what + " already reached"
	}
	f := func(t *time.Time) string {
		if t == nil {
			return fmt.Sprintf("> %s", fmtDays(horizonDays))
		}
		return fmtDays(t.Sub(now).Hours() / 24)
	}
	if !e.Set() {
		return fmt.Sprintf("%s not within %s", what, fmtDays(horizonDays))
	}
	return fmt.Sprintf("%s in %s (p10 %s – p90 %s)", what, f(e.P50), f(e.P10), f(e.P90))
}

// fmtDays renders a duration given in days.
func fmtDays(d float64) string {
	switch {
	case d < 2.0/24:
		return fmt.Sprintf("%.0f minutes", d*1440)
	case d < 2:
		return fmt.Sprintf("%.1f hours", d*24)
	default:
		return fmt.Sprintf("%.1f days", d)
	}
}

func fmtDur(d time.Duration) string { return fmtDays(d.Hours() / 24) }

// FormatBytes renders a byte count with binary units, e.g. "12.3 GiB".
func FormatBytes(b float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	a := math.Abs(b)
	i := 0
	for a >= 1024 && i < len(units)-1 {
		a /= 1024
		b /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f B", b)
	}
	return fmt.Sprintf("%.3g %s", b, units[i])
}

// FormatBytesSigned is FormatBytes with an explicit sign.
func FormatBytesSigned(b float64) string {
	s := FormatBytes(b)
	if b >= 0 && !strings.HasPrefix(s, "+") {
		return "+" + s
	}
	return s
}

func sortChangepoints(c []Changepoint) {
	for i := 1; i < len(c); i++ {
		for j := i; j > 0 && c[j].Time.Before(c[j-1].Time); j-- {
			c[j], c[j-1] = c[j-1], c[j]
		}
	}
}

// periodic handles recurring purges: at least two downward level shifts,
// at least three days apart, at regular intervals (each within 20% of their
// median) and of similar size (within a factor of two), the last one no
// longer ago than 1.5 intervals. Usage then grows between purges at the
// rate pooled over the segments between them, and the projection assumes
// purges continue at the same interval and size. It reports whether it
// applied (and filled in the prediction).
func (d *diskRun) periodic(shifts []levelShift, bs []bucket, days []window, cyclic bool) bool {
	var down []levelShift
	for _, s := range shifts {
		if s.delta < 0 {
			down = append(down, s)
		}
	}
	if len(down) < 2 {
		return false
	}
	var iv, mag []float64
	for i := 1; i < len(down); i++ {
		iv = append(iv, down[i].t-down[i-1].t)
	}
	for _, s := range down {
		mag = append(mag, -s.delta)
	}
	P, M := medianOf(iv), medianOf(mag)
	if P < 3 {
		return false
	}
	for _, v := range iv {
		if math.Abs(v-P) > 0.2*P {
			return false
		}
	}
	for _, v := range mag {
		if v > 2*M || v < M/2 {
			return false
		}
	}
	lastT := down[len(down)-1].t
	if -lastT > 1.5*P {
		return false
	}
	// points by segment between shifts (all shifts, not only purges)
	var pts []fitPoint
	if cyclic {
		for _, w := range days {
			pts = append(pts, fitPoint{w.tMax, w.max})
		}
	} else {
		for _, b := range bs {
			pts = append(pts, fitPoint{b.t, b.med})
		}
	}
	segOf := func(t float64) int {
		k := 0
		for _, s := range shifts {
			if t >= s.t {
				k++
			}
		}
		return k
	}
	segs := make([][]fitPoint, len(shifts)+1)
	for _, q := range pts {
		k := segOf(q.t)
		segs[k] = append(segs[k], q)
	}
	// pooled within-segment Theil–Sen growth and a combined trend test
	var slopes []float64
	var varS, zNum, zDen float64
	minPts := 8
	if cyclic {
		minPts = 4
	}
	used := 0
	for _, sg := range segs {
		if len(sg) < minPts {
			continue
		}
		t, y := splitFit(sg)
		idx := thinIdx(len(t), 120)
		for a := 0; a < len(idx); a++ {
			for b := a + 1; b < len(idx); b++ {
				if dt := t[idx[b]] - t[idx[a]]; dt != 0 {
					slopes = append(slopes, (y[idx[b]]-y[idx[a]])/dt)
				}
			}
		}
		s, _ := senFit(t, y, z95, 1)
		infl := inflation(residuals(t, y, s))
		k := float64(len(idx))
		varS += k * (k - 1) * (2*k + 5) / 18 * infl
		mk := mkTest(y, infl)
		w := math.Sqrt(t[len(t)-1] - t[0])
		zNum += w * mk.Z
		zDen += w * w
		used++
	}
	if used < 2 || len(slopes) == 0 {
		return false
	}
	p, opt := d.p, d.opt
	N := len(slopes)
	g := medianOf(slopes)
	c := z95 * math.Sqrt(varS)
	lo := models.SelectKth(slopes, min(max(int(math.Floor((float64(N)-c)/2)), 0), N-1))
	hi := models.SelectKth(slopes, min(max(int(math.Ceil((float64(N)+c)/2)), 0), N-1))
	zc := zNum / math.Sqrt(zDen)
	pc := math.Erfc(math.Abs(zc) / math.Sqrt2)
	// the level now: the current segment on the pooled rate, or the
	// previous segment's level plus the last purge
	cur := segs[len(segs)-1]
	var a float64
	if len(cur) >= 3 {
		var r []float64
		for _, q := range cur {
			r = append(r, q.y-g*q.t)
		}
		a = medianOf(r)
	} else {
		prev := segs[len(segs)-2]
		var r []float64
		for _, q := range prev {
			r = append(r, q.y-g*q.t)
		}
		a = medianOf(r) + down[len(down)-1].delta
	}
	next := lastT + P
	for next <= 0 {
		next += P
	}
	net := g - M/P
	p.Evidence.Basis = "level"
	if cyclic {
		p.Evidence.Basis = "daily_peaks"
	}
	p.Evidence.Fit = fitPeriodic
	p.Evidence.RegimeStart = fromDays(down[0].t, d.now)
	p.Evidence.Points = len(pts)
	p.Evidence.MannKendallP = pc
	p.Evidence.SlopeCI95 = [2]float64{lo, hi}
	p.Evidence.Model = fmt.Sprintf("theil-sen growth of %s/day between purges every %.1f days of %s (last %s), pooled over %d segments",
		d.fmtAmount(g), P, d.fmtAmount(M), fromDays(lastT, d.now).Format(time.RFC3339), used)
	p.GrowthPercentPerDay = 100 * net / d.cap
	if !d.pct {
		r := net
		p.GrowthBytesPerDay = &r
	}
	rateStr := d.fmtRate(net)
	sig := pc < opt.Alpha && g > 0
	switch {
	case sig && net > 0.05*g:
		p.Status = DiskFilling
	case sig && net < -0.05*g:
		p.Status = DiskShrinking
	default:
		p.Status = DiskStable
	}
	if p.Status != DiskFilling {
		p.Confidence = clamp01(math.Min(float64(used)/3, 1) * 0.8)
		p.Reason = fmt.Sprintf("%s: purges every %.1f days remove about what grows in between (net %s)", p.Status, P, rateStr)
		return true
	}
	model := trendModel{kind: fitPeriodic, a: a, b: g, c: M, period: P, next: next}
	seB := (hi - lo) / (2 * z95)
	seM := madScale(mag) / math.Sqrt(float64(len(mag)))
	draw := func(r *rand.Rand) trendModel {
		m := model
		m.b += seB * r.NormFloat64()
		m.c = math.Max(0, m.c+seM*r.NormFloat64())
		return m
	}
	H := opt.Horizon.Hours() / 24
	f10, f50, f90 := etaQuantiles(model, draw, d.cap, H, opt.Simulations, opt.Seed, nil)
	w10, w50, w90 := etaQuantiles(model, draw, opt.WarnPercent/100*d.cap, H, opt.Simulations, opt.Seed, nil)
	p.Full = makeETA(f10, f50, f90, d.now)
	p.Warning = makeETA(w10, w50, w90, d.now)
	lead := f50
	if math.IsInf(lead, 1) {
		lead = H
	}
	span := -pts[0].t
	ext := 1 / (1 + math.Max(0, lead/math.Max(span, 1e-9)-1)/3)
	p.Confidence = clamp01(clamp01(-math.Log10(math.Max(pc, 1e-300))/(-2*math.Log10(opt.Alpha))) * ext * math.Min(float64(used)/3, 1))
	p.Reason = fmt.Sprintf("filling: grows %s/day between purges every %.1f days that remove %s (net %s, Mann–Kendall p=%.2g); %s",
		d.fmtAmount(g), P, d.fmtAmount(M), rateStr, pc, describeETA("full", p.Full, d.now, H))
	return true
}

// fmtAmount formats a level or rate magnitude in the prediction's unit.
func (d *diskRun) fmtAmount(v float64) string {
	if d.pct {
		return fmt.Sprintf("%.3g percentage points", v)
	}
	return FormatBytes(v)
}
