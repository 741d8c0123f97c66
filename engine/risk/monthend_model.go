package risk

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/seed-f1b503aa/foresight/calendar"
	"github.com/seed-f1b503aa/foresight/engine"
	"github.com/seed-f1b503aa/foresight/models"
)

// The month-end model. Times of day are grid slots: slot j of a local date
// covers [j×step, (j+1)×step) after local midnight; P slots make a day.
// Window days are indexed by their business-day offset k: 0 is the month's
// last business day, 1 the business day before, and so on.

// Day types for the baseline: 0..6 are business days by weekday (Sunday =
// 0), then make-up workdays and days off (weekends and holidays).
const (
	meTypeMakeUp = 7
	meTypeOff    = 8
)

// meDay is one local date of the history.
type meDay struct {
	date        calendar.Date
	vals        []float64 // P slots, NaN = missing (outliers removed)
	obs         int       // finite slots
	complete    bool      // the whole day lies before now
	typ         int       // 0..6 weekday, meTypeMakeUp, meTypeOff
	closeOffset int       // business-day offset inside its month's close window; -1 outside
}

// meHistory is the series laid out by local date and time of day.
type meHistory struct {
	cal       *calendar.Calendar
	loc       *time.Location
	step      time.Duration
	P         int
	now       time.Time
	firstTime time.Time
	day0      int64 // DayNumber of days[0]
	days      []meDay

	futureBase map[int]*meBase // baselines for dates after the history, by type
}

// meBuildHistory resamples the samples before o.Now onto the grid, removes
// isolated outliers and splits the result into local days.
func meBuildHistory(samples []engine.Sample, o MonthEndOptions) (*meHistory, error) {
	var use []engine.Sample
	for _, s := range samples {
		if !o.Now.IsZero() && !s.Time.Before(o.Now) {
			continue
		}
		use = append(use, s)
	}
	if len(use) == 0 {
		if o.Now.IsZero() {
			return nil, fmt.Errorf("%w: no samples", ErrMonthEndInput)
		}
		return nil, fmt.Errorf("%w: no samples before now (%s)", ErrMonthEndInput, o.Now.UTC().Format(time.RFC3339))
	}
	step := o.Step
	if step == 0 {
		engine.SortSamples(use) // use is our own copy
		times := make([]time.Time, len(use))
		for i, s := range use {
			times[i] = s.Time
		}
		inferred, err := engine.InferStep(times)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMonthEndInput, err)
		}
		if inferred > MonthEndMaxStep {
			return nil, fmt.Errorf("%w: samples are %s apart; the afternoon peak needs at least hourly data", ErrMonthEndInput, inferred)
		}
		step = max(inferred, MonthEndMinStep) // every step InferStep returns divides a day
	}
	grid, y, err := engine.Resample(use, step)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMonthEndInput, err)
	}
	meHampel(y, 2, 5)
	now := o.Now
	if now.IsZero() {
		now = grid.At(len(y))
	}
	loc := o.Calendar.Location()
	h := &meHistory{
		cal:        o.Calendar,
		loc:        loc,
		step:       step,
		P:          int(24 * time.Hour / step),
		now:        now.UTC(),
		firstTime:  grid.Start,
		futureBase: map[int]*meBase{},
	}
	first := calendar.DateIn(grid.Start, loc)
	last := calendar.DateIn(now.Add(-time.Nanosecond), loc)
	h.day0 = first.DayNumber()
	n := int(last.DayNumber()-h.day0) + 1
	h.days = make([]meDay, n)
	for i := range h.days {
		d := calendar.DateFromDayNumber(h.day0 + int64(i))
		vals := make([]float64, h.P)
		for j := range vals {
			vals[j] = math.NaN()
		}
		h.days[i] = meDay{
			date:        d,
			vals:        vals,
			complete:    !d.AddDays(1).In(loc).After(h.now),
			typ:         meDayType(o.Calendar, d),
			closeOffset: meCloseOffset(o.Calendar, d, o.CloseDays),
		}
	}
	stepSec := int(step / time.Second)
	for i, v := range y {
		if math.IsNaN(v) {
			continue
		}
		lt := grid.At(i).In(loc)
		di := h.index(calendar.DateIn(lt, loc))
		if di < 0 || di >= n {
			continue
		}
		j := (lt.Hour()*3600 + lt.Minute()*60 + lt.Second()) / stepSec
		day := &h.days[di]
		if math.IsNaN(day.vals[j]) {
			day.vals[j] = v
			day.obs++
		} else { // a repeated local hour (daylight saving ends)
			day.vals[j] = (day.vals[j] + v) / 2
		}
	}
	return h, nil
}

func (h *meHistory) index(d calendar.Date) int { return int(d.DayNumber() - h.day0) }

// slotTime is the start of slot j of date d (UTC), by local wall clock so
// that days with a daylight-saving change keep their times of day.
func (h *meHistory) slotTime(d calendar.Date, j int) time.Time {
	sec := j * int(h.step/time.Second)
	return time.Date(d.Year, d.Month, d.Day, 0, 0, sec, 0, h.loc).UTC()
}

// clock formats slot j as local "HH:MM".
func (h *meHistory) clock(j int) string {
	m := int(time.Duration(j) * h.step / time.Minute)
	return fmt.Sprintf("%02d:%02d", m/60, m%60)
}

func meDayType(cal *calendar.Calendar, d calendar.Date) int {
	if !cal.IsBusinessDay(d) {
		return meTypeOff
	}
	if _, ok := cal.IsMakeUpWorkday(d); ok {
		return meTypeMakeUp
	}
	return int(d.Weekday())
}

func meCloseOffset(cal *calendar.Calendar, d calendar.Date, closeDays int) int {
	if k := cal.BusinessDaysBeforeMonthEnd(d); k >= 0 && k < closeDays {
		return k
	}
	return -1
}

func meKind(cal *calendar.Calendar, m time.Month) MonthEndKind {
	switch {
	case cal.IsYearEnd(m):
		return MonthEndYear
	case cal.IsQuarterEnd(m):
		return MonthEndQuarter
	}
	return MonthEndRegular
}

// --- windows -------------------------------------------------------------------

// meWindow is a close window; dates[k] is the day with offset k.
type meWindow struct {
	month       string
	mi          int // calendar.Date.MonthIndex of the month
	kind        MonthEndKind
	first, last calendar.Date
	dates       []calendar.Date // by offset: dates[0] = last business day
	start, end  time.Time
}

func meWindowOf(cal *calendar.Calendar, mi, closeDays int) (meWindow, bool) {
	y, m := mi/12, time.Month(mi%12+1)
	first, last, ok := cal.CloseWindow(y, m, closeDays)
	if !ok {
		return meWindow{}, false
	}
	w := meWindow{
		month: fmt.Sprintf("%04d-%02d", y, int(m)),
		mi:    mi,
		kind:  meKind(cal, m),
		first: first,
		last:  last,
		start: first.In(cal.Location()).UTC(),
		end:   last.AddDays(1).In(cal.Location()).UTC(),
	}
	for d := last; !d.Before(first); d = d.AddDays(-1) {
		if cal.IsBusinessDay(d) {
			w.dates = append(w.dates, d)
		}
	}
	return w, true
}

// meNextWindow returns the first close window that ends after now.
func meNextWindow(cal *calendar.Calendar, closeDays int, now time.Time) (meWindow, bool) {
	mi := calendar.DateIn(now, cal.Location()).MonthIndex()
	for k := 0; k < 24; k++ {
		if w, ok := meWindowOf(cal, mi+k, closeDays); ok && w.end.After(now) {
			return w, true
		}
	}
	return meWindow{}, false
}

func (w meWindow) public(now time.Time) *MonthEndWindow {
	out := &MonthEndWindow{Month: w.month, Kind: w.kind, Start: w.start, End: w.end, From: w.start}
	for k := len(w.dates) - 1; k >= 0; k-- {
		out.Days = append(out.Days, w.dates[k].String())
	}
	if now.After(w.start) {
		out.From = now
	}
	return out
}

// --- baseline ------------------------------------------------------------------

// meBase is the baseline of one day type: per-slot median and robust SD of
// the chosen days.
type meBase struct {
	mid, noise []float64
	days       []int // indices into meHistory.days
}

// baseline returns the baseline for a date of type typ: the nearest
// BaselineDays complete non-close days of the same type (by distance in
// days, the earlier first on ties), or, with fewer than three of them for a
// business day, the nearest business days of any type. nil if none.
func (h *meHistory) baseline(d calendar.Date, typ, want int) *meBase {
	ok := func(x *meDay, t int) bool {
		if !x.complete || x.closeOffset >= 0 || 2*x.obs < h.P {
			return false
		}
		if t < 0 {
			return x.typ != meTypeOff
		}
		return x.typ == t
	}
	pick := func(t, want int) []int {
		var out []int
		c := h.index(d)
		for r := 0; len(out) < want; r++ {
			lo, hi := c-r, c+r
			if lo < 0 && hi >= len(h.days) {
				break
			}
			if lo >= 0 && lo < len(h.days) && ok(&h.days[lo], t) {
				out = append(out, lo)
			}
			if r > 0 && len(out) < want && hi >= 0 && hi < len(h.days) && ok(&h.days[hi], t) {
				out = append(out, hi)
			}
		}
		return out
	}
	idx := pick(typ, want)
	if len(idx) < 3 && typ != meTypeOff {
		idx = pick(-1, 2*want)
	}
	if len(idx) == 0 {
		return nil
	}
	b := &meBase{mid: make([]float64, h.P), noise: make([]float64, h.P), days: idx}
	col := make([]float64, 0, len(idx))
	for j := 0; j < h.P; j++ {
		col = col[:0]
		for _, i := range idx {
			if v := h.days[i].vals[j]; !math.IsNaN(v) {
				col = append(col, v)
			}
		}
		b.mid[j], b.noise[j] = meMedianMAD(col)
	}
	meFillNaN(b.mid)
	meFillNaN(b.noise)
	return b
}

// baseFor returns the baseline of a date after the history (cached by
// type) or inside it.
func (h *meHistory) baseFor(d calendar.Date, want int) *meBase {
	typ := meDayType(h.cal, d)
	if h.index(d) < len(h.days) {
		return h.baseline(d, typ, want)
	}
	if b, ok := h.futureBase[typ]; ok {
		return b
	}
	b := h.baseline(d, typ, want)
	h.futureBase[typ] = b
	return b
}

// --- past closes ------------------------------------------------------------

// meClose is one complete past close window in the history.
type meClose struct {
	meWindow
	used     bool
	why      string
	uplift   [][]float64 // by offset, P slots: observed minus baseline (NaN = missing)
	peak     float64
	peakK    int
	peakJ    int
	amp      float64 // amplitude of the shape fitted to uplift
	observed bool    // peak is defined
}

// pastCloses lists the close windows that lie wholly before now, from the
// first month of the history, with their uplift over the baseline.
func (h *meHistory) pastCloses(o MonthEndOptions) []*meClose {
	var out []*meClose
	firstMI := h.days[0].date.MonthIndex()
	lastMI := h.days[len(h.days)-1].date.MonthIndex()
	for mi := firstMI; mi <= lastMI; mi++ {
		w, ok := meWindowOf(h.cal, mi, o.CloseDays)
		if !ok || w.end.After(h.now) {
			continue
		}
		c := &meClose{meWindow: w, peak: math.Inf(-1), peakK: -1}
		out = append(out, c)
		if h.index(w.first) < 0 {
			c.why = "the history starts inside or after it"
			continue
		}
		obs, total := 0, 0
		for k, d := range w.dates {
			day := &h.days[h.index(d)]
			obs += day.obs
			total += h.P
			for j, v := range day.vals {
				if v > c.peak {
					c.peak, c.peakK, c.peakJ = v, k, j
				}
			}
		}
		c.observed = c.peakK >= 0
		if 10*obs < 7*total {
			c.why = fmt.Sprintf("only %.0f%% of it was observed", 100*float64(obs)/float64(total))
			continue
		}
		c.uplift = make([][]float64, o.CloseDays)
		for k := range c.uplift {
			c.uplift[k] = meNaNs(h.P)
		}
		for k, d := range w.dates {
			if k >= o.CloseDays {
				break
			}
			b := h.baseline(d, meDayType(h.cal, d), o.BaselineDays)
			if b == nil {
				c.why = "no non-close business days near it for a baseline"
				break
			}
			for j, v := range h.days[h.index(d)].vals {
				c.uplift[k][j] = v - b.mid[j]
			}
		}
		if c.why == "" {
			c.used = true
		}
	}
	return out
}

// evidence describes the close; fitted tells whether its uplift was
// estimated.
func (c *meClose) evidence(h *meHistory, fitted bool) MonthEndClose {
	e := MonthEndClose{Month: c.month, Kind: c.kind, Start: c.start, End: c.end, Used: c.used, Why: c.why}
	if fitted && c.used {
		a := c.amp
		e.Uplift = &a
	}
	if c.observed {
		e.Peak = c.peak
		e.PeakTime = h.slotTime(c.dates[c.peakK], c.peakJ)
	}
	return e
}

// --- fit ------------------------------------------------------------------

// meModel is the fitted uplift model.
type meModel struct {
	P, K        int
	targetMonth int         // MonthIndex of the coming window
	shape       [][]float64 // K × P, largest value 1; all 0 when no uplift was found

	// level of a regular close's amplitude at month x (months after the
	// coming window): level0 + slope×x.
	level0, slope float64
	trend         bool
	xbar, sxx     float64
	n             int

	fq, fy       float64 // quarter-end and year-end factors
	sfq, sfy     float64 // their relative SDs
	fqSrc, fySrc string

	sigma float64 // relative dispersion of closes around the level
	df    float64 // degrees of freedom behind sigma

	notes  []string
	uplift MonthEndUplift
	trendE MonthEndTrend
	closes []*meClose
}

// meFit learns the uplift shape, the amplitudes, the kind factors and the
// trend from the usable closes.
func meFit(h *meHistory, all []*meClose, targetMonth int, o MonthEndOptions) *meModel {
	m := &meModel{P: h.P, K: o.CloseDays, targetMonth: targetMonth}
	var cs []*meClose
	for _, c := range all {
		if c.used {
			cs = append(cs, c)
		}
	}
	m.closes = cs

	// Shape: elementwise median of the uplifts, then of the uplifts divided
	// by their amplitudes.
	m.shape = meShape(cs, nil, m.K, m.P)
	if m.shape != nil {
		for _, c := range cs {
			c.amp = meProject(c.uplift, m.shape)
		}
		if s := meShape(cs, func(c *meClose) float64 { return c.amp }, m.K, m.P); s != nil {
			m.shape = s
		}
		for _, c := range cs {
			c.amp = meProject(c.uplift, m.shape)
		}
	}
	amps := make([]float64, len(cs))
	for i, c := range cs {
		amps[i] = c.amp
	}
	if m.shape == nil || models.Median(amps) <= 0 {
		m.shape = make([][]float64, m.K)
		for k := range m.shape {
			m.shape[k] = make([]float64, m.P)
		}
		for _, c := range cs {
			c.amp = 0
		}
		m.notes = append(m.notes, "no month-end uplift found in the past closes: the prediction is the baseline")
	}

	m.fitLevels(cs, o)
	m.describe(h, cs)
	return m
}

// meShape returns the K×P median of the closes' uplift (each divided by
// scale(c) when scale is given; closes with scale <= 0 are left out),
// smoothed along the day and normalised to a largest value of 1, or nil
// when that largest value is not positive.
func meShape(cs []*meClose, scale func(*meClose) float64, K, P int) [][]float64 {
	s := make([][]float64, K)
	col := make([]float64, 0, len(cs))
	peak := 0.0
	for k := range s {
		s[k] = make([]float64, P)
		for j := range s[k] {
			col = col[:0]
			for _, c := range cs {
				v := c.uplift[k][j]
				if scale != nil {
					a := scale(c)
					if a <= 0 {
						continue
					}
					v /= a
				}
				if !math.IsNaN(v) {
					col = append(col, v)
				}
			}
			s[k][j] = models.Median(col)
		}
		meFillNaN(s[k])
		if P >= 48 {
			s[k] = meSmooth121(s[k])
		}
		for _, v := range s[k] {
			peak = math.Max(peak, v)
		}
	}
	if !(peak > 0) {
		return nil
	}
	for k := range s {
		for j := range s[k] {
			s[k][j] /= peak
		}
	}
	return s
}

// meProject returns the least-squares amplitude a of u ≈ a×s over the
// finite cells of u.
func meProject(u, s [][]float64) float64 {
	num, den := 0.0, 0.0
	for k := range u {
		for j, v := range u[k] {
			if !math.IsNaN(v) {
				num += v * s[k][j]
				den += s[k][j] * s[k][j]
			}
		}
	}
	if den == 0 {
		return 0
	}
	return num / den
}

// fitLevels estimates the kind factors and the level (with trend) of a
// regular close's amplitude, and their dispersion. x is months relative to
// the target window's month.
func (m *meModel) fitLevels(cs []*meClose, o MonthEndOptions) {
	n := len(cs)
	m.n = n
	x := make([]float64, n)
	a := make([]float64, n)
	var regular []float64
	nq, ny := 0, 0
	for i, c := range cs {
		x[i] = float64(c.mi - m.targetMonth)
		a[i] = c.amp
		switch c.kind {
		case MonthEndRegular:
			regular = append(regular, c.amp)
		case MonthEndQuarter:
			nq++
		case MonthEndYear:
			ny++
		}
	}
	m.fq, m.fy = o.QuarterPrior, o.QuarterPrior*o.YearPrior
	levelAt := func(xi float64) float64 { return m.level0 + m.slope*xi }
	if len(regular) > 0 {
		m.level0 = models.Median(regular)
	} else {
		d := make([]float64, n)
		for i, c := range cs {
			d[i] = a[i] / m.factor(c.kind)
		}
		m.level0 = models.Median(d)
	}
	learned := 0
	if nq > 0 {
		learned++
	}
	if ny > 0 {
		learned++
	}
	// Two rounds: factors from the current level, then the level (and its
	// trend) from the amplitudes divided by the factors.
	for round := 0; round < 2; round++ {
		m.learnFactors(cs, levelAt, o)
		d := make([]float64, n)
		for i, c := range cs {
			d[i] = a[i] / m.factor(c.kind)
		}
		m.trend = n-learned >= 3 && m.level0 > 0
		if m.trend {
			slope, icpt, err := models.TheilSen(x, d)
			if err == nil {
				m.slope, m.level0 = slope, icpt
			} else {
				m.trend = false
			}
		}
		if !m.trend {
			m.slope, m.level0 = 0, models.Median(d)
		}
	}
	// Dispersion: relative residuals, with degrees of freedom net of the
	// parameters fitted (level, slope, learned factors).
	p := 1.0
	if m.trend {
		p = 2
	}
	ss := 0.0
	for i, c := range cs {
		lv := levelAt(x[i])
		if lv <= 0 {
			continue
		}
		r := a[i]/m.factor(c.kind)/lv - 1
		ss += r * r
	}
	df := float64(n) - p - float64(learned)
	const minSigma, unknownSigma = 0.02, 0.10
	if df >= 1 {
		m.sigma, m.df = math.Sqrt(ss/df), df
	} else {
		m.sigma, m.df = math.Max(math.Sqrt(ss/float64(n)), unknownSigma), 1
		m.notes = append(m.notes, fmt.Sprintf("too few closes to measure how much closes vary: %.0f%% assumed", 100*m.sigma))
	}
	if m.sigma < minSigma {
		m.sigma = minSigma
	}
	for i := range x {
		m.xbar += x[i] / float64(n)
	}
	for i := range x {
		m.sxx += (x[i] - m.xbar) * (x[i] - m.xbar)
	}
	if nq > 0 {
		m.sfq = m.sigma / math.Sqrt(float64(nq))
	} else {
		m.sfq = o.PriorSpread
	}
	if ny > 0 {
		m.sfy = m.sigma / math.Sqrt(float64(ny))
	} else {
		m.sfy = math.Hypot(m.sfq, o.PriorSpread)
	}
}

// learnFactors sets the quarter-end and year-end factors from closes of
// those kinds (median of amplitude over the regular level at their month),
// or to the priors.
func (m *meModel) learnFactors(cs []*meClose, levelAt func(float64) float64, o MonthEndOptions) {
	var q, y []float64
	var qm, ym []string
	for _, c := range cs {
		lv := levelAt(float64(c.mi - m.targetMonth))
		if lv <= 0 {
			continue
		}
		switch c.kind {
		case MonthEndQuarter:
			q = append(q, c.amp/lv)
			qm = append(qm, c.month)
		case MonthEndYear:
			y = append(y, c.amp/lv)
			ym = append(ym, c.month)
		}
	}
	m.fq, m.fqSrc = o.QuarterPrior, fmt.Sprintf("prior (no quarter-end close in the history): ×%.2g of a regular close, ±%.0f%%", o.QuarterPrior, 100*o.PriorSpread)
	if len(q) > 0 {
		m.fq, m.fqSrc = models.Median(q), "learned from "+strings.Join(qm, ", ")
	}
	m.fy, m.fySrc = m.fq*o.YearPrior, fmt.Sprintf("prior (no year-end close in the history): ×%.2g of a quarter-end close, ±%.0f%%", o.YearPrior, 100*o.PriorSpread)
	if len(y) > 0 {
		m.fy, m.fySrc = models.Median(y), "learned from "+strings.Join(ym, ", ")
	}
}

func (m *meModel) factor(k MonthEndKind) float64 {
	switch k {
	case MonthEndQuarter:
		return m.fq
	case MonthEndYear:
		return m.fy
	}
	return 1
}

// factorSD is the relative SD of kind k's factor.
func (m *meModel) factorSD(k MonthEndKind) float64 {
	switch k {
	case MonthEndQuarter:
		return m.sfq
	case MonthEndYear:
		return m.sfy
	}
	return 0
}

// amplitude returns the median amplitude of a close of kind k at month x
// (relative to the target) and the relative half-width of its 80 %
// interval.
func (m *meModel) amplitude(k MonthEndKind, x float64) (float64, float64) {
	lv := math.Max(m.level0+m.slope*x, 0)
	v := 1 + 1/float64(m.n)
	if m.trend && m.sxx > 0 {
		v += (x - m.xbar) * (x - m.xbar) / m.sxx
	}
	sa := m.sigma * math.Sqrt(v)
	t90 := meT90(m.df)
	hw := math.Hypot(t90*sa, meZ90*m.factorSD(k))
	return lv * m.factor(k), hw
}

// describe fills the parts of the evidence that do not depend on the
// target window.
func (m *meModel) describe(h *meHistory, cs []*meClose) {
	m.uplift = MonthEndUplift{
		Method: "additive: observed load minus the baseline, per business-day offset × time of day; " +
			"shape = median of past closes' normalised uplift, amplitude = least-squares fit per close",
		QuarterFactor: m.fq, QuarterSource: m.fqSrc,
		YearFactor: m.fy, YearSource: m.fySrc,
		Dispersion: m.sigma,
	}
	for k := 0; k < m.K; k++ {
		best, bj := 0.0, 0
		for j, v := range m.shape[k] {
			if v > best {
				best, bj = v, j
			}
		}
		m.uplift.ByOffset = append(m.uplift.ByOffset, MonthEndOffsetUplift{Offset: k, Share: best, PeakTimeOfDay: h.clock(bj)})
	}
	m.trendE = MonthEndTrend{
		Method:         "Theil–Sen slope over months of the closes' uplift divided by their quarter/year factor",
		UpliftPerMonth: m.slope,
		Closes:         len(cs),
		Applied:        m.trend,
	}
	if m.level0 > 0 {
		m.trendE.UpliftPercentPerMonth = 100 * m.slope / m.level0
	}
	if !m.trend {
		m.trendE.UpliftPerMonth, m.trendE.UpliftPercentPerMonth = 0, 0
		m.notes = append(m.notes, "growth over months not estimated: it needs three closes beyond those that teach the quarter/year factors")
	}
	var d []float64
	var rx, ry []float64
	for _, c := range cs {
		d = append(d, c.amp/m.factor(c.kind))
		if c.kind == MonthEndRegular && c.observed {
			rx = append(rx, float64(c.mi))
			ry = append(ry, c.peak)
		}
	}
	if mk, err := models.MannKendall(d); err == nil {
		p := mk.P
		m.trendE.MannKendallP = &p
	}
	if slope, _, err := models.TheilSen(rx, ry); err == nil {
		m.trendE.PeakPerMonth = &slope
	}
}

// profile predicts the window w from `from` on with amplitude a (relative
// 80 % half-width hw). It returns nil when a window day has no baseline.
func (m *meModel) profile(h *meHistory, w meWindow, from time.Time, a, hw float64, want int) ([]MonthEndProfilePoint, []*meBase) {
	bases := make([]*meBase, len(w.dates))
	for k, d := range w.dates {
		if bases[k] = h.baseFor(d, want); bases[k] == nil {
			return nil, nil
		}
	}
	var out []MonthEndProfilePoint
	for k := len(w.dates) - 1; k >= 0; k-- {
		b := bases[k]
		for j := 0; j < h.P; j++ {
			t := h.slotTime(w.dates[k], j)
			if t.Before(from) {
				continue
			}
			s := 0.0
			if k < m.K {
				s = m.shape[k][j]
			}
			p50 := b.mid[j] + a*s
			half := math.Hypot(a*math.Abs(s)*hw, meZ90*b.noise[j])
			out = append(out, MonthEndProfilePoint{
				Time:              t,
				MonthEndQuantiles: MonthEndQuantiles{P10: p50 - half, P50: p50, P90: p50 + half},
				Baseline:          b.mid[j],
			})
		}
	}
	return out, bases
}

// mePeakOf returns the largest p10, p50 and p90 of a profile and the time
// of the largest p50.
func mePeakOf(pts []MonthEndProfilePoint) (MonthEndQuantiles, time.Time) {
	q := MonthEndQuantiles{P10: math.Inf(-1), P50: math.Inf(-1), P90: math.Inf(-1)}
	var at time.Time
	for _, p := range pts {
		q.P10 = math.Max(q.P10, p.P10)
		q.P90 = math.Max(q.P90, p.P90)
		if p.P50 > q.P50 {
			q.P50, at = p.P50, p.Time
		}
	}
	return q, at
}

// update combines the predicted amplitude a (relative 80 % half-width hw)
// with the part of the window observed before now, by precision weighting.
// It also returns the largest observed value (NaN if none).
func (m *meModel) update(h *meHistory, w meWindow, a, hw float64, want int) (float64, float64, float64) {
	obsPeak := math.NaN()
	num, den, noise2, cnt := 0.0, 0.0, 0.0, 0
	for k, d := range w.dates {
		i := h.index(d)
		if i < 0 || i >= len(h.days) || k >= m.K {
			continue
		}
		b := h.baseline(d, meDayType(h.cal, d), want)
		if b == nil {
			continue
		}
		for j, v := range h.days[i].vals {
			if math.IsNaN(v) {
				continue
			}
			if math.IsNaN(obsPeak) || v > obsPeak {
				obsPeak = v
			}
			s := m.shape[k][j]
			if s < 0.05 {
				continue
			}
			num += s * (v - b.mid[j])
			den += s * s
			noise2 += b.noise[j] * b.noise[j]
			cnt++
		}
	}
	if den == 0 || a <= 0 {
		return a, hw, obsPeak
	}
	obs := num / den
	sdPrior := a * hw / meZ90
	n2 := math.Max(noise2/float64(cnt), 1e-4*a*a)
	varObs, varPrior := n2/den, math.Max(sdPrior*sdPrior, 1e-12)
	post := (a/varPrior + obs/varObs) / (1/varPrior + 1/varObs)
	sd := math.Sqrt(1 / (1/varPrior + 1/varObs))
	m.notes = append(m.notes, fmt.Sprintf("the window has begun: %d observed points put its uplift at %.3g against %.3g predicted; combined %.3g",
		cnt, obs, a, post))
	if post <= 0 {
		return 0, 0, obsPeak
	}
	return post, sd * meZ90 / post, obsPeak
}

// predictWindow fills the prediction of the coming window.
func (m *meModel) predictWindow(h *meHistory, w meWindow, o MonthEndOptions, pred *MonthEndPrediction) {
	a, hw := m.amplitude(w.kind, 0)
	m.uplift.Regular = m.level0
	if h.now.After(w.start) {
		var obsPeak float64
		a, hw, obsPeak = m.update(h, w, a, hw, o.BaselineDays)
		if !math.IsNaN(obsPeak) {
			pred.Window.ObservedPeak = &obsPeak
		}
	}
	m.uplift.Applied = a
	if w.kind != MonthEndRegular {
		src := m.fqSrc
		if w.kind == MonthEndYear {
			src = m.fySrc
		}
		if strings.HasPrefix(src, "prior") {
			m.notes = append(m.notes, fmt.Sprintf("the coming close is a %s; its uplift factor ×%.2f is a %s, so the interval is wider",
				strings.ReplaceAll(string(w.kind), "_", "-"), m.factor(w.kind), src))
		}
	}
	pts, bases := m.profile(h, w, pred.Window.From, a, hw, o.BaselineDays)
	if pts == nil {
		pred.Status = MonthEndStatusInsufficientHistory
		pred.Reason = "no non-close business days in the history to build the baseline of the coming window"
		return
	}
	pred.Profile = pts
	peak, at := mePeakOf(pts)
	pred.Peak = &peak

	// Peak time: the median profile's peak, spread by where past closes
	// peaked (same offset and time of day, mapped onto this window).
	times := []time.Time{at}
	for _, c := range m.closes {
		if c.observed && c.peakK < len(w.dates) {
			if t := h.slotTime(w.dates[c.peakK], c.peakJ); !t.Before(pred.Window.From) {
				times = append(times, t)
			}
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	pred.PeakTime = &MonthEndTimeQuantiles{P10: meQuantileTime(times, 0.1), P50: at, P90: meQuantileTime(times, 0.9)}

	// Baseline evidence.
	seen := map[int]bool{}
	be := MonthEndBaseline{
		Method: fmt.Sprintf("per time-of-day median of the nearest %d non-close days of the same type (weekday, make-up workday, day off)", o.BaselineDays),
		Peak:   math.Inf(-1),
	}
	for _, b := range bases {
		for _, i := range b.days {
			seen[i] = true
		}
		for j, v := range b.mid {
			if v > be.Peak {
				be.Peak, be.PeakTimeOfDay, be.Noise = v, h.clock(j), b.noise[j]
			}
		}
	}
	be.Days = len(seen)
	pred.Evidence.Baseline = be
	pred.Evidence.Uplift = m.uplift
	pred.Evidence.Trend = m.trendE

	if o.Threshold > 0 {
		br := &MonthEndBreach{Threshold: o.Threshold, Headroom: o.Threshold - peak.P50}
		br.Probability = meExceedProb(peak, o.Threshold)
		br.Likely = br.Probability >= o.WarnProbability
		for _, p := range pts {
			if br.FirstTime == nil && p.P50 >= o.Threshold {
				t := p.Time
				br.FirstTime = &t
			}
			if br.EarliestTime == nil && p.P90 >= o.Threshold {
				t := p.Time
				br.EarliestTime = &t
			}
		}
		if peak.P50 >= o.Threshold {
			br.FirstMonth = w.month
		}
		pred.Breach = br
	}
}

// outlook predicts the peaks of the closes after the coming one.
func (m *meModel) outlook(h *meHistory, target meWindow, o MonthEndOptions, pred *MonthEndPrediction) {
	if pred.Status != MonthEndStatusOK {
		return
	}
	for mi := target.mi + 1; mi <= target.mi+o.OutlookMonths; mi++ {
		w, ok := meWindowOf(h.cal, mi, o.CloseDays)
		if !ok {
			continue
		}
		a, hw := m.amplitude(w.kind, float64(mi-target.mi))
		pts, _ := m.profile(h, w, w.start, a, hw, o.BaselineDays)
		if pts == nil {
			continue
		}
		peak, _ := mePeakOf(pts)
		out := MonthEndOutlook{Month: w.month, Kind: w.kind, Peak: peak}
		if o.Threshold > 0 {
			p := meExceedProb(peak, o.Threshold)
			out.BreachProbability = &p
			if pred.Breach != nil && pred.Breach.FirstMonth == "" && peak.P50 >= o.Threshold {
				pred.Breach.FirstMonth = w.month
			}
		}
		pred.Outlook = append(pred.Outlook, out)
	}
}
