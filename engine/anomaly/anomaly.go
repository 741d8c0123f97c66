// Package anomaly scores every point of a series for how unusual it is,
// online and causally: the score at time t uses only the values up to t, so
// a score once given never changes when more data arrives.
//
// The baseline is a robust seasonal one. For a seasonal period P (in
// samples) the expected value at t is
//
//	expected(t) = level(t-1) + seasonal[t mod P]
//
// where seasonal[s] is the median of the last Cycles deseasonalised values
// seen in slot s, and level is an exponentially weighted level updated with
// residuals clipped at Clip standard deviations (so single spikes barely
// move it). The residual variance is an exponentially weighted mean of
// squared clipped residuals, kept globally (weight ScaleAlpha) and per
// slot (weight 0.1 per cycle: night hours are often much quieter than
// business hours); a slot's estimate is pooled with its neighbours and
// shrunk toward the global one while it rests on few cycles (see
// Detector.scale).
//
// The score is 1 − p, p the two-sided p-value of the standardised residual
// z = (x − expected)/σ under Student's t with the effective degrees of
// freedom ν of the variance estimate (so a scale learned from few cycles
// does not over-flag): score = 1 − 2·(1 − F_ν(|z|)). A point is an anomaly when score >= Threshold. On
// Gaussian noise the scores of normal points are close to uniform on
// [0, 1], so about 1 − Threshold of them are flagged.
//
// Level shifts: when ShiftRun consecutive points lie more than ShiftZ
// standard deviations away on the same side, the level jumps by the median
// of their residuals. The first points after a shift are flagged (they are
// anomalous), the later ones are not: the detector adapts instead of
// flagging forever.
//
// Warm-up: the first Warmup samples (and until at least half of them were
// observed) are scored 0 with WarmingUp set; at the end of warm-up the
// seasonal profile, level and scale are initialised from them.
//
// Missing values (NaN, ±Inf) are scored 0 with Missing set and change
// nothing. Irregular timestamps go through engine.Resample first
// (ScoreSamples), which turns holes into missing values.
package anomaly

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/seed-f1b503aa/foresight/engine"
	"github.com/seed-f1b503aa/foresight/models"
)

// Defaults of Options.
const (
	DefaultThreshold  = 0.99
	DefaultCycles     = 5
	DefaultLevelAlpha = 0.1
	DefaultScaleAlpha = 0.02
	DefaultShiftRun   = 3
	DefaultShiftZ     = 3.5
	DefaultClip       = 3.0
)

// Options configure a Detector. Zero values take the defaults noted.
type Options struct {
	// Season is the seasonal period in samples (e.g. 24 for hourly data
	// with a daily cycle, 168 for a weekly one); 0 or 1 means none.
	Season int
	// Threshold is the score from which a point is an anomaly, in (0, 1)
	// (default 0.99).
	Threshold float64
	// Warmup is the number of samples before the first score (default two
	// seasons, or 24 samples without a season). Warm-up also lasts until
	// at least half of its samples were observed.
	Warmup int
	// Cycles is the number of past values per seasonal slot whose median
	// is the seasonal profile (default 5).
	Cycles int
	// LevelAlpha is the weight of a new (clipped) residual in the level,
	// in (0, 1] (default 0.1).
	LevelAlpha float64
	// ScaleAlpha is the weight of a new squared (clipped) residual in the
	// global variance, in (0, 1] (default 0.02); the per-slot variance
	// uses 0.1.
	ScaleAlpha float64
	// ShiftRun and ShiftZ declare a level shift: ShiftRun consecutive
	// residuals beyond ShiftZ standard deviations on the same side
	// (defaults 3 and 3.5).
	ShiftRun int
	ShiftZ   float64
	// Clip bounds the residuals used to update level, profile and scale,
	// in standard deviations (default 3).
	Clip float64
}

// ErrOptions reports invalid Options; errors from NewDetector wrap it.
var ErrOptions = errors.New("anomaly: invalid options")

func (o Options) withDefaults() (Options, error) {
	if o.Season < 0 || o.Season > 1_000_000 {
		return o, fmt.Errorf("%w: season %d (use 0 for none, or a period in samples)", ErrOptions, o.Season)
	}
	if o.Season == 1 {
		o.Season = 0
	}
	if o.Threshold == 0 {
		o.Threshold = DefaultThreshold
	}
	if !(o.Threshold > 0 && o.Threshold < 1) {
		return o, fmt.Errorf("%w: threshold %v must be between 0 and 1 (e.g. 0.99)", ErrOptions, o.Threshold)
	}
	if o.Warmup == 0 {
		o.Warmup = 2 * o.Season
		if o.Season == 0 {
			o.Warmup = 24
		}
	}
	if o.Warmup < 3 {
		return o, fmt.Errorf("%w: warm-up %d must be at least 3 samples", ErrOptions, o.Warmup)
	}
	if o.Cycles == 0 {
		o.Cycles = DefaultCycles
	}
	if o.Cycles < 1 || o.Cycles > 1000 {
		return o, fmt.Errorf("%w: cycles %d (use 1 to 1000)", ErrOptions, o.Cycles)
	}
	for _, f := range []struct {
		v    *float64
		d    float64
		name string
		max  float64
	}{
		{&o.LevelAlpha, DefaultLevelAlpha, "level alpha", 1},
		{&o.ScaleAlpha, DefaultScaleAlpha, "scale alpha", 1},
		{&o.ShiftZ, DefaultShiftZ, "shift z", math.MaxFloat64},
		{&o.Clip, DefaultClip, "clip", math.MaxFloat64},
	} {
		if *f.v == 0 {
			*f.v = f.d
		}
		if !(*f.v > 0 && *f.v <= f.max) {
			return o, fmt.Errorf("%w: %s %v out of range", ErrOptions, f.name, *f.v)
		}
	}
	if o.ShiftRun == 0 {
		o.ShiftRun = DefaultShiftRun
	}
	if o.ShiftRun < 1 {
		return o, fmt.Errorf("%w: shift run %d must be at least 1", ErrOptions, o.ShiftRun)
	}
	return o, nil
}

// Point is the score of one sample.
type Point struct {
	// Value is the observed value (NaN when missing).
	Value float64 `json:"value"`
	// Expected is the baseline at this point, and Lo and Hi the band
	// Expected ± q·Scale outside which a point is an anomaly (q the
	// quantile of the threshold under the point's t distribution); NaN
	// during warm-up.
	Expected float64 `json:"expected"`
	Lo       float64 `json:"lo"`
	Hi       float64 `json:"hi"`
	// Scale is the robust standard deviation of the residual (NaN during
	// warm-up).
	Scale float64 `json:"scale"`
	// Z is the standardised residual (Value − Expected)/Scale (0 during
	// warm-up and for missing values).
	Z float64 `json:"z"`
	// Score is in [0, 1]: 1 − the two-sided p-value of Z under Student's
	// t with DF degrees of freedom; 0 during warm-up and for missing
	// values.
	Score float64 `json:"score"`
	// DF is the effective degrees of freedom of the scale estimate (0
	// during warm-up).
	DF float64 `json:"df"`
	// Anomaly is Score >= Options.Threshold.
	Anomaly bool `json:"anomaly"`
	// WarmingUp marks points before the baseline exists.
	WarmingUp bool `json:"warming_up,omitempty"`
	// Missing marks a missing value.
	Missing bool `json:"missing,omitempty"`
	// LevelShift marks the point at which the baseline was moved to a new
	// level.
	LevelShift bool `json:"level_shift,omitempty"`
}

// MarshalJSON writes NaN values as null.
func (p Point) MarshalJSON() ([]byte, error) {
	type plain Point
	b, err := json.Marshal(struct {
		plain
		Value    *float64 `json:"value"`
		Expected *float64 `json:"expected"`
		Lo       *float64 `json:"lo"`
		Hi       *float64 `json:"hi"`
		Scale    *float64 `json:"scale"`
	}{plain(p), finite(p.Value), finite(p.Expected), finite(p.Lo), finite(p.Hi), finite(p.Scale)})
	return b, err
}

func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// Detector scores a stream of equally spaced samples one at a time. It is
// not safe for concurrent use.
type Detector struct {
	o Options

	n   int // samples seen
	obs int // observed samples seen

	warm   bool
	buf    []float64 // warm-up samples
	level  float64
	rings  [][]float64 // per slot: last Cycles deseasonalised values (oldest first)
	slotV  []float64   // per-slot residual variance
	slotN  []float64   // per-slot effective number of updates
	varG   float64     // global residual variance
	nG     float64     // its effective number of updates
	runSgn int
	runRes []float64
	tmp    []float64
}

// NewDetector returns a Detector; it fails with an error wrapping
// ErrOptions for invalid options.
func NewDetector(o Options) (*Detector, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	P := max(o.Season, 1)
	d := &Detector{
		o:     o,
		rings: make([][]float64, P),
		slotV: make([]float64, P),
		slotN: make([]float64, P),
	}
	return d, nil
}

// Options returns the options with defaults filled in.
func (d *Detector) Options() Options { return d.o }

func (d *Detector) slot(i int) int {
	if d.o.Season == 0 {
		return 0
	}
	return i % d.o.Season
}

// Update scores the next sample (NaN or ±Inf = missing) and then learns
// from it. Samples must be equally spaced; pass missing ones as NaN so the
// seasonal phase stays right.
func (d *Detector) Update(x float64) Point {
	i := d.n
	d.n++
	missing := math.IsNaN(x) || math.IsInf(x, 0)
	if !d.warm {
		d.buf = append(d.buf, x)
		if !missing {
			d.obs++
		}
		p := Point{Value: x, Expected: math.NaN(), Lo: math.NaN(), Hi: math.NaN(), Scale: math.NaN(), WarmingUp: true, Missing: missing}
		if missing {
			p.Value = math.NaN()
		}
		if d.n >= d.o.Warmup && 2*d.obs >= d.o.Warmup && d.obs >= 3 {
			d.initialise()
		}
		return p
	}
	s := d.slot(i)
	e := d.level + d.seasonal(s)
	sd, df := d.scale(s, e)
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}
	q := t.Quantile(0.5 + d.o.Threshold/2)
	p := Point{Value: x, Expected: e, Scale: sd, Lo: e - q*sd, Hi: e + q*sd, DF: df}
	if missing {
		p.Value, p.Missing = math.NaN(), true
		return p
	}
	r := x - e
	z := r / sd
	p.Z = z
	p.Score = math.Max(0, 1-2*t.Survival(math.Abs(z)))
	p.Anomaly = p.Score >= d.o.Threshold

	// The scale learns from every point (clipped), so it can grow when the
	// noise does.
	c := d.o.Clip * sd
	rc := math.Max(-c, math.Min(c, r))
	d.learnScale(s, rc)

	// Level shift: a run of large residuals on one side. Such points are
	// not learned from otherwise (a spike must not drag the baseline); when
	// the run is long enough the level jumps instead.
	if math.Abs(z) > d.o.ShiftZ {
		sgn := 1
		if z < 0 {
			sgn = -1
		}
		if sgn != d.runSgn {
			d.runSgn, d.runRes = sgn, d.runRes[:0]
		}
		d.runRes = append(d.runRes, r)
		if len(d.runRes) >= d.o.ShiftRun {
			d.level += d.median(d.runRes)
			d.runSgn, d.runRes = 0, d.runRes[:0]
			p.LevelShift = true
		}
		return p
	}
	d.runSgn, d.runRes = 0, d.runRes[:0]

	// Level and seasonal profile learn from the clipped residual.
	d.level += d.o.LevelAlpha * rc
	if d.o.Season > 0 {
		d.push(s, e+rc-d.level)
	}
	return p
}

// seasonal is the median of slot s's ring (0 without a season or values).
func (d *Detector) seasonal(s int) float64 {
	if d.o.Season == 0 || len(d.rings[s]) == 0 {
		return 0
	}
	return d.median(d.rings[s])
}

// median is the median of v computed in the detector's scratch space.
func (d *Detector) median(v []float64) float64 {
	d.tmp = append(d.tmp[:0], v...)
	return models.Median(d.tmp)
}

// learnScale updates the global and slot variances with the clipped
// residual rc.
func (d *Detector) learnScale(s int, rc float64) {
	d.varG += d.o.ScaleAlpha * (rc*rc - d.varG)
	d.nG = math.Min(d.nG+1, 2/d.o.ScaleAlpha-1)
	if d.o.Season > 0 {
		d.slotV[s] += slotAlpha * (rc*rc - d.slotV[s])
		d.slotN[s] = math.Min(d.slotN[s]+1, 2/slotAlpha-1)
	}
}

// Scale constants: slotAlpha is the weight of a new squared residual in a
// slot's variance (one update per cycle); shrinkN is the number of
// effective slot updates at which the slot and the global variance weigh
// equally; dfFactor scales the nominal degrees of freedom of the
// exponentially weighted variances (2/α − 1), which overstate them for
// clipped, pooled estimates: with 0.5 the share of flagged points on
// simulated Gaussian noise matched 1 − Threshold (see the tests).
const (
	slotAlpha = 0.1
	shrinkN   = 5.0
	dfFactor  = 0.5
)

// scale returns the residual SD at slot s and its effective degrees of
// freedom. The slot variance is pooled with its neighbours (weights 1, 2,
// 1: adjacent times of day have similar noise) and shrunk toward the
// global variance geometrically, log σ² = w·log σ²_slot + (1−w)·log
// σ²_global with w = n/(n+shrinkN), so a quiet night slot keeps its small
// variance. The degrees of freedom follow Satterthwaite,
// 1/ν = w²/ν_slot + (1−w)²/ν_global, times dfFactor. The SD is floored
// relative to the expected value so a constant series does not divide by
// zero.
func (d *Detector) scale(s int, e float64) (float64, float64) {
	vs, n := d.slotV[s], d.slotN[s]
	if P := len(d.slotV); P >= 3 && d.o.Season > 0 {
		l, r := (s-1+P)%P, (s+1)%P
		vs = (d.slotV[l] + 2*d.slotV[s] + d.slotV[r]) / 4
		sum := d.slotN[l] + 2*d.slotN[s] + d.slotN[r]
		n = sum * sum / (d.slotN[l] + 4*d.slotN[s] + d.slotN[r] + 1e-12)
	}
	w := n / (n + shrinkN)
	v := w*vs + (1-w)*d.varG
	if vs > 0 && d.varG > 0 {
		v = math.Exp(w*math.Log(vs) + (1-w)*math.Log(d.varG))
	}
	inv := (1 - w) * (1 - w) / math.Max(d.nG, 1)
	if n > 0 {
		inv += w * w / n
	}
	floor := 1e-6*math.Abs(e) + 1e-9
	return math.Max(math.Sqrt(v), floor), math.Max(dfFactor/inv, 1)
}

func (d *Detector) push(s int, v float64) {
	r := d.rings[s]
	if len(r) >= d.o.Cycles {
		copy(r, r[1:])
		r = r[:len(r)-1]
	}
	d.rings[s] = append(r, v)
}

// initialise sets level, seasonal profile and scale from the warm-up
// buffer.
func (d *Detector) initialise() {
	var vals []float64
	for _, v := range d.buf {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			vals = append(vals, v)
		}
	}
	lvl := models.Median(append([]float64(nil), vals...))
	P := max(d.o.Season, 1)
	seas := make([]float64, P)
	if d.o.Season > 0 {
		for s := 0; s < P; s++ {
			var col []float64
			for i := s; i < len(d.buf); i += P {
				if v := d.buf[i]; !math.IsNaN(v) && !math.IsInf(v, 0) {
					col = append(col, v-lvl)
				}
			}
			seas[s] = math.NaN()
			if len(col) > 0 {
				seas[s] = models.Median(col)
			}
		}
		fillCircular(seas)
		for i, v := range d.buf {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				d.push(i%P, v-lvl)
			}
		}
		for s := range d.rings {
			if len(d.rings[s]) == 0 {
				d.rings[s] = append(d.rings[s], seas[s])
			}
		}
	}
	// The level is that of the last season (or the last few samples) of the
	// buffer. The scale comes from differences one season apart (one sample
	// apart without a season), which estimate √2·σ without the bias of
	// in-sample residuals.
	var diffs, recent []float64
	slotSS := make([]float64, P)
	slotCnt := make([]float64, P)
	lastFrom := len(d.buf) - max(P, 5)
	lag := P
	if d.o.Season == 0 {
		lag = 1
	}
	for i, v := range d.buf {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		if i >= lastFrom {
			recent = append(recent, v-seas[i%P])
		}
		if j := i - lag; j >= 0 && !math.IsNaN(d.buf[j]) && !math.IsInf(d.buf[j], 0) {
			diffs = append(diffs, v-d.buf[j])
			slotSS[i%P] += (v - d.buf[j]) * (v - d.buf[j]) / 2
			slotCnt[i%P]++
		}
	}
	if len(recent) > 0 {
		d.level = models.Median(recent)
	} else {
		d.level = lvl
	}
	sd := 1.4826 * mad(diffs) / math.Sqrt2
	if len(diffs) < 3 {
		var res []float64
		for i, v := range d.buf {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				res = append(res, v-lvl-seas[i%P])
			}
		}
		sd = 1.4826 * mad(res)
	}
	if sd == 0 {
		sd = 1e-6*math.Abs(lvl) + 1e-9
	}
	d.varG = sd * sd
	d.nG = math.Max(float64(len(diffs)), 1)
	for s := range d.slotV {
		d.slotV[s] = d.varG
		if d.o.Season > 0 && slotCnt[s] > 0 {
			d.slotV[s], d.slotN[s] = slotSS[s]/slotCnt[s], slotCnt[s]
		}
	}
	d.warm = true
	d.buf = nil
}

// ScoreValues scores equally spaced values (NaN = missing) from the first
// to the last; the result has one Point per value. Because scoring is
// online, ScoreValues(v[:k]) equals the first k points of ScoreValues(v).
func ScoreValues(values []float64, o Options) ([]Point, error) {
	d, err := NewDetector(o)
	if err != nil {
		return nil, err
	}
	out := make([]Point, len(values))
	for i, v := range values {
		out[i] = d.Update(v)
	}
	return out, nil
}

// ScoreSamples puts samples (any order and spacing) on a regular grid of
// step with engine.Resample (step 0: engine.InferStep) and scores the grid;
// empty buckets are missing points. It returns the grid and one Point per
// grid bucket.
func ScoreSamples(samples []engine.Sample, step time.Duration, o Options) (engine.Grid, []Point, error) {
	if step == 0 {
		times := make([]time.Time, len(samples))
		for i, s := range samples {
			times[i] = s.Time
		}
		sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
		st, err := engine.InferStep(times)
		if err != nil {
			return engine.Grid{}, nil, fmt.Errorf("anomaly: %w", err)
		}
		step = st
	}
	grid, y, err := engine.Resample(samples, step)
	if err != nil {
		return engine.Grid{}, nil, fmt.Errorf("anomaly: %w", err)
	}
	pts, err := ScoreValues(y, o)
	return grid, pts, err
}

// mad returns median|v − models.Median(v)| (0 for none).
func mad(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	m := models.Median(append([]float64(nil), v...))
	dev := make([]float64, len(v))
	for i, x := range v {
		dev[i] = math.Abs(x - m)
	}
	return models.Median(dev)
}

// fillCircular replaces NaN entries by the nearest finite one on a circle;
// an all-NaN slice becomes zeros.
func fillCircular(v []float64) {
	n := len(v)
	src := append([]float64(nil), v...)
	for i := range v {
		if !math.IsNaN(src[i]) {
			continue
		}
		v[i] = 0
		for r := 1; r <= n/2; r++ {
			if a := src[(i-r+n)%n]; !math.IsNaN(a) {
				v[i] = a
				break
			}
			if b := src[(i+r)%n]; !math.IsNaN(b) {
				v[i] = b
				break
			}
		}
	}
}
