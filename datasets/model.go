package datasets

import (
	"math"
	"time"

	"github.com/seed-f1b503aa/foresight/calendar"
)

// This file holds the noise-free generating processes of the demo fleet.
// Every series value is model.mean(clock) plus noise; ground truth is derived
// from model.mean alone, so it is exact for the process that made the data.

// dayInfo is what the load model needs to know about one local date.
type dayInfo struct {
	business bool
	wf       float64 // weekday activity factor on business days
	closeW   float64 // month-end close weight, quarter/year scaling included; 0 outside the window
	bdBefore int     // Calendar.BusinessDaysBeforeMonthEnd
	monthIdx int     // year*12 + month-1, for monthly events
	quarter  bool
	yearEnd  bool
}

// Close-window intensity for regular, quarter-end and year-end months
// (dimensionless, relative to a normal business-day peak of about 1).
const (
	closeScaleMonth   = 0.9
	closeScaleQuarter = 1.5
	closeScaleYear    = 2.4
)

// calTable caches dayInfo for a span of local dates.
type calTable struct {
	cal       *calendar.Calendar
	closeDays int
	day0      int64
	days      []dayInfo
}

func newCalTable(cal *calendar.Calendar, from, to calendar.Date, closeDays int) *calTable {
	ct := &calTable{cal: cal, closeDays: closeDays, day0: from.DayNumber()}
	n := int(to.DayNumber()-from.DayNumber()) + 1
	ct.days = make([]dayInfo, n)
	for i := range ct.days {
		ct.days[i] = ct.compute(calendar.DateFromDayNumber(ct.day0 + int64(i)))
	}
	return ct
}

func (ct *calTable) info(day int64) dayInfo {
	if i := day - ct.day0; i >= 0 && i < int64(len(ct.days)) {
		return ct.days[i]
	}
	return ct.compute(calendar.DateFromDayNumber(day))
}

func (ct *calTable) compute(d calendar.Date) dayInfo {
	c := ct.cal
	di := dayInfo{
		business: c.IsBusinessDay(d),
		monthIdx: d.MonthIndex(),
		quarter:  c.IsQuarterEnd(d.Month),
		yearEnd:  c.IsYearEnd(d.Month),
		bdBefore: -1,
	}
	if !di.business {
		return di
	}
	di.wf = 1
	if _, makeUp := c.IsMakeUpWorkday(d); makeUp {
		di.wf = 0.92
	} else {
		switch d.Weekday() {
		case time.Monday:
			di.wf = 1.06
		case time.Friday:
			di.wf = 0.94
		}
	}
	di.bdBefore = c.BusinessDaysBeforeMonthEnd(d)
	if di.bdBefore < ct.closeDays {
		w := 1.0
		if ct.closeDays > 1 {
			w = 1 - 0.55*float64(di.bdBefore)/float64(ct.closeDays-1)
		}
		scale := closeScaleMonth
		switch {
		case di.yearEnd:
			scale = closeScaleYear
		case di.quarter:
			scale = closeScaleQuarter
		}
		di.closeW = w * scale
	}
	return di
}

// clock is one instant as the models see it.
type clock struct {
	h     float64 // hours since the fleet's start
	hour  float64 // local hour of day, [0, 24)
	day   dayInfo
	base  float64 // business-activity profile: ~0.08 at night, ~1 at a business-day peak
	close float64 // month-end close add-on (0 outside the close window)
}

// clocker turns instants into clocks, caching the zone offset.
type clocker struct {
	ct       *calTable
	loc      *time.Location
	startNs  int64
	off      int64 // zone offset in seconds, valid for [zFrom, zTo)
	zFrom    int64 // unix seconds; math.MinInt64 = unbounded
	zTo      int64 // unix seconds; math.MaxInt64 = unbounded
	haveZone bool
}

func newClocker(ct *calTable, loc *time.Location, start time.Time) *clocker {
	return &clocker{ct: ct, loc: loc, startNs: start.UnixNano()}
}

func (k *clocker) at(ns int64, c *clock) {
	sec := floorDiv(ns, 1e9)
	if !k.haveZone || sec < k.zFrom || sec >= k.zTo {
		t := time.Unix(sec, 0).In(k.loc)
		_, off := t.Zone()
		k.off = int64(off)
		zs, ze := t.ZoneBounds()
		k.zFrom, k.zTo = math.MinInt64, math.MaxInt64
		if !zs.IsZero() {
			k.zFrom = zs.Unix()
		}
		if !ze.IsZero() {
			k.zTo = ze.Unix()
		}
		k.haveZone = true
	}
	local := sec + k.off
	day := floorDiv(local, 86400)
	sod := float64(local-day*86400) + float64(ns-sec*1e9)/1e9
	c.h = float64(ns-k.startNs) / float64(time.Hour)
	c.hour = sod / 3600
	c.day = k.ct.info(day)
	if c.day.business {
		c.base = businessProfile(c.hour, c.day.wf)
	} else {
		c.base = offProfile(c.hour)
	}
	c.close = 0
	if c.day.closeW > 0 {
		c.close = c.day.closeW * closeProfile(c.hour)
	}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func sigm(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func sq(x float64) float64 { return x * x }

// businessProfile is the activity of a business day by local hour: logins
// from 08:30, a lunch dip around 12:30, a mild mid-afternoon rise, home time
// after 18:00.
func businessProfile(hour, wf float64) float64 {
	day := sigm((hour-8.6)/0.35) * (1 - sigm((hour-18.4)/0.45))
	lunch := 1 - 0.38*math.Exp(-sq((hour-12.45)/0.45))
	aft := 1 + 0.08*math.Exp(-sq((hour-15.5)/1.5))
	return 0.08 + 0.92*wf*day*lunch*aft
}

// offProfile is the activity of a weekend day or holiday.
func offProfile(hour float64) float64 {
	return 0.07 + 0.06*math.Exp(-sq((hour-11)/2.5))
}

// closeProfile is the month-end close add-on by local hour: a peak around
// 17:00 (posting deadlines) over a raised plateau from 09:00 to late
// evening.
func closeProfile(hour float64) float64 {
	return math.Exp(-sq((hour-17)/1.5)) + 0.3*sigm((hour-9)/0.4)*(1-sigm((hour-22)/0.6))
}

// trapezoid is 1 inside [from, to) local hours with 10-minute linear edges
// (rising before from, falling after to), 0 elsewhere. from < to.
func trapezoid(hour, from, to float64) float64 {
	const edge = 1.0 / 6
	switch {
	case hour < from-edge || hour >= to+edge:
		return 0
	case hour < from:
		return (hour - (from - edge)) / edge
	case hour < to:
		return 1
	default:
		return 1 - (hour-to)/edge
	}
}

// ramp rises linearly from 0 at local hour from to 1 just before to, then
// drops to 0 (a temporary file written, then removed).
func ramp(hour, from, to float64) float64 {
	if hour < from || hour >= to {
		return 0
	}
	return (hour - from) / (to - from)
}

// stepChange is a one-off level change at hour h (since fleet start).
type stepChange struct {
	h, amount float64
}

// model is a sum of optional components; a zero component costs one branch.
// Times are hours since the fleet's start; rates are per hour.
type model struct {
	off float64 // level at the fleet's start

	// piecewise-linear trend: r1 per hour until hc, r2 after.
	r1, r2, hc float64

	// load: loadScale × (base + boost × close)
	loadScale, boost float64

	// nightly window: nightAmp inside [nightFrom, nightTo) local hours
	nightAmp, nightFrom, nightTo float64

	// daily temporary file: grows to spikeAmp over [spikeFrom, spikeTo), then removed
	spikeAmp, spikeFrom, spikeTo float64

	// daily log rotation at local midnight: grows sawBiz (business day) or
	// sawOff per hour since midnight
	sawBiz, sawOff float64

	// monthly purge at local midnight on the 1st: -purgeAmp per month since month0
	purgeAmp float64
	month0   int

	// one-off level changes (cleanups < 0, resizes > 0)
	steps []stepChange

	// process restarts (sorted hours; the first is at or before 0). Age is
	// the time since the last restart.
	restarts []float64
	leak     float64 // per hour of age
	plateau  float64 // warm-up: plateau × (1 - exp(-age/tau))
	tau      float64

	// garbage-collector sawtooth: gcAmp × frac(h/gcPeriod + gcPhase)
	gcAmp, gcPeriod, gcPhase float64
}

func (m *model) mean(c *clock) float64 {
	v := m.off
	h := c.h
	if m.r1 != 0 || m.r2 != 0 {
		if h < m.hc {
			v += m.r1 * h
		} else {
			v += m.r1*m.hc + m.r2*(h-m.hc)
		}
	}
	if m.loadScale != 0 {
		v += m.loadScale * (c.base + m.boost*c.close)
	}
	if m.nightAmp != 0 {
		v += m.nightAmp * trapezoid(c.hour, m.nightFrom, m.nightTo)
	}
	if m.spikeAmp != 0 {
		v += m.spikeAmp * ramp(c.hour, m.spikeFrom, m.spikeTo)
	}
	if m.sawBiz != 0 || m.sawOff != 0 {
		if c.day.business {
			v += m.sawBiz * c.hour
		} else {
			v += m.sawOff * c.hour
		}
	}
	if m.purgeAmp != 0 {
		v -= m.purgeAmp * float64(c.day.monthIdx-m.month0)
	}
	for _, s := range m.steps {
		if h >= s.h {
			v += s.amount
		}
	}
	if len(m.restarts) > 0 {
		last := m.restarts[0]
		for i := len(m.restarts) - 1; i >= 0; i-- {
			if m.restarts[i] <= h {
				last = m.restarts[i]
				break
			}
		}
		age := h - last
		v += m.leak * age
		if m.plateau != 0 {
			v += m.plateau * (1 - math.Exp(-age/m.tau))
		}
	}
	if m.gcAmp != 0 {
		x := h/m.gcPeriod + m.gcPhase
		v += m.gcAmp * (x - math.Floor(x))
	}
	return v
}

// trendAt is the slope of the non-periodic part of the model at hour h, per
// hour: the linear trend, the leak, and the average monthly purge.
func (m *model) trendAt(h float64) float64 {
	r := m.r1
	if h >= m.hc {
		r = m.r2
	}
	r += m.leak
	if m.purgeAmp != 0 {
		r -= m.purgeAmp / (365.2425 * 24 / 12)
	}
	return r
}

// riseBound is an upper bound on mean(t+d) - mean(t) for 0 <= d <= hours,
// leaving out the load term (see loadRange). Every other component's
// largest possible increase is added up: growth over the interval, nightly
// windows, temporary files, GC sawtooth, warm-up and upward level changes.
func (m *model) riseBound(hours float64) float64 {
	r := math.Max(0, math.Max(m.r1, m.r2)) * hours
	r += math.Abs(m.nightAmp) + math.Abs(m.spikeAmp) + math.Abs(m.gcAmp)
	r += math.Max(0, math.Max(m.sawBiz, m.sawOff)) * hours
	if m.purgeAmp < 0 {
		r -= m.purgeAmp * (1 + hours/(28*24))
	}
	for _, s := range m.steps {
		if s.amount > 0 {
			r += s.amount
		}
	}
	// Between restarts the leak and warm-up terms grow by at most
	// leak×d + plateau×(1-exp(-d/tau)) <= leak×d + plateau×d/tau; across a
	// restart they start again from 0, which is no higher.
	r += math.Max(0, m.leak) * hours
	if m.plateau > 0 {
		r += m.plateau * math.Min(1, hours/m.tau)
	} else {
		r -= m.plateau
	}
	return r
}

// loadRange bounds the swing of the load term over any interval.
func (m *model) loadRange() float64 {
	// base <= 0.08 + 0.92*1.06*1.08 < 1.15; close <= closeScaleYear*1.3
	return math.Abs(m.loadScale) * (1.15 + math.Abs(m.boost)*closeScaleYear*1.3)
}
