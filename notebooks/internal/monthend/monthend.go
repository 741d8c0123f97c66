// Package monthend renders the month-end close notebook: how Foresight's
// seasonal baseline, its regression with business-calendar regressors and
// its month-end predictor see a close, on the demo fleet with ground truth.
package monthend

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg/draw"

	"github.com/seed-f1b503aa/foresight/calendar"
	"github.com/seed-f1b503aa/foresight/datasets"
	"github.com/seed-f1b503aa/foresight/engine"
	"github.com/seed-f1b503aa/foresight/engine/risk"
	"github.com/seed-f1b503aa/foresight/notebooks/internal/nb"
)

// The scenario. Everything below is derived from these values.
const (
	host        = "erp-app-01"
	measurement = "cpu"
	field       = "usage_active"
	threshold   = 80.0 // CPU capacity threshold, percent
	closeDays   = 3
	step        = 15 * time.Minute
	historyDays = 120
	fleetDays   = 132
	seed        = 0
	fcSeed      = 1
	stepName    = "15 minutes"
)

var (
	// The fleet ends after the November close and before December's, so
	// its ground truth holds both peaks (LastClose, NextClose).
	fleetEnd = time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	// "Now": local midnight four days before the November close window.
	now = time.Date(2026, 11, 22, 0, 0, 0, 0, nb.Loc)
	// The seasonal periods in 15-minute steps: a day and a week.
	periods = []int{96, 672}
)

// method is one forecast of the coming close window.
type method struct {
	name, label string
	times       []time.Time
	mean        []float64
	lo80, hi80  []float64
	lo95, hi95  []float64
	model       string
	params      map[string]float64
	// peak over the window
	peak, peakLo80, peakHi80 float64
	peakTime                 time.Time
}

// Render writes README.md and the PNG files of the notebook into dir.
func Render(dir string) error {
	cal := nb.Cal
	f, err := datasets.GenerateFleet(datasets.FleetConfig{Hosts: 3, Days: fleetDays, Step: step, End: fleetEnd, Seed: seed, Calendar: cal, CloseDays: closeDays})
	if err != nil {
		return err
	}
	srcs, err := nb.Collect(f, func(m string, tags map[string]string) bool { return m == measurement && tags["host"] == host })
	if err != nil {
		return err
	}
	if len(srcs) != 1 {
		return fmt.Errorf("monthend: %d sources for %s on %s", len(srcs), measurement, host)
	}
	src := srcs[0]
	id := src.ID(field)
	gt, ok := f.GroundTruth()[id]
	if !ok || gt.LastClose == nil || gt.NextClose == nil || gt.LastClose.Month != "2026-11" || gt.NextClose.Month != "2026-12" {
		return fmt.Errorf("monthend: ground truth of %s lacks the November and December closes", id)
	}
	histFrom := now.Add(-historyDays * 24 * time.Hour)
	var hist, after []engine.Sample
	for _, s := range src.Samples(field) {
		switch {
		case s.Time.Before(histFrom):
		case s.Time.Before(now):
			hist = append(hist, s)
		default:
			after = append(after, s)
		}
	}
	first, last, ok := cal.CloseWindow(2026, time.November, closeDays)
	if !ok {
		return errors.New("monthend: no November close window")
	}
	wStart, wEnd := first.In(nb.Loc), last.AddDays(1).In(nb.Loc)
	horizon := int(wEnd.Sub(now) / step)

	// The forecasts the API serves (engine.ForecastSamples is what
	// /api/v1/series/{id}/forecast and POST /api/v1/forecast call).
	var ms []*method
	for _, m := range []struct{ name, label string }{
		{"snaive", "seasonal naive (weekly)"},
		{"mstl", "MSTL (daily + weekly seasons)"},
		{"regression", "regression + business-calendar regressors"},
		{"auto", "auto (the API's default model)"},
	} {
		res, err := engine.ForecastSamples(id, hist, engine.ForecastSpec{
			Horizon: horizon, Step: step, Periods: periods, Model: m.name, Levels: []float64{0.8, 0.95},
			Seed: fcSeed, Calendar: cal, CloseDays: closeDays,
		})
		if err != nil {
			return fmt.Errorf("monthend: %s: %w", m.name, err)
		}
		ms = append(ms, newMethod(m.name, m.label, res, wStart, wEnd))
	}
	pred, err := risk.PredictMonthEnd(risk.MonthEndInput{Series: id, Unit: "percent", Samples: hist},
		risk.MonthEndOptions{Calendar: cal, CloseDays: closeDays, Now: now, Step: step, Threshold: threshold})
	if err != nil {
		return err
	}
	if pred.Status != risk.MonthEndStatusOK || pred.Window == nil || pred.Window.Month != "2026-11" {
		return fmt.Errorf("monthend: predictor answered %s (%s) for window %v", pred.Status, pred.Reason, pred.Window)
	}

	r := &report{dir: dir, cal: cal, id: id, gt: gt, hist: hist, after: after, histFrom: histFrom,
		wStart: wStart, wEnd: wEnd, methods: ms, pred: pred}
	return r.write()
}

func newMethod(name, label string, res engine.ForecastResult, wStart, wEnd time.Time) *method {
	m := &method{name: name, label: label, model: res.Model, params: res.Params, peak: math.Inf(-1)}
	for _, p := range res.Points {
		m.times = append(m.times, p.Time)
		m.mean = append(m.mean, p.Mean)
		lo80, hi80, lo95, hi95 := math.NaN(), math.NaN(), math.NaN(), math.NaN()
		for _, b := range p.Bounds {
			switch b.Level {
			case 0.8:
				lo80, hi80 = b.Lo, b.Hi
			case 0.95:
				lo95, hi95 = b.Lo, b.Hi
			}
		}
		m.lo80, m.hi80 = append(m.lo80, lo80), append(m.hi80, hi80)
		m.lo95, m.hi95 = append(m.lo95, lo95), append(m.hi95, hi95)
		if !p.Time.Before(wStart) && p.Time.Before(wEnd) && p.Mean > m.peak {
			m.peak, m.peakLo80, m.peakHi80, m.peakTime = p.Mean, lo80, hi80, p.Time
		}
	}
	return m
}

// at returns the index of the forecast step at t (-1 if none).
func (m *method) at(t time.Time) int {
	for i, x := range m.times {
		if x.Equal(t) {
			return i
		}
	}
	return -1
}

type report struct {
	dir          string
	cal          *calendar.Calendar
	id           string
	gt           datasets.GroundTruth
	hist, after  []engine.Sample
	histFrom     time.Time
	wStart, wEnd time.Time
	methods      []*method
	pred         risk.MonthEndPrediction
}

func (r *report) method(name string) *method {
	for _, m := range r.methods {
		if m.name == name {
			return m
		}
	}
	return nil
}

// windowDays describes a close window's business days, e.g. "Thu 26 – Mon 30 Nov".
func (r *report) windowDays(mi int) string {
	first, last, _ := r.cal.CloseWindow(mi/12, time.Month(mi%12+1), closeDays)
	var wd []string
	for d := first; !d.After(last); d = d.AddDays(1) {
		if r.cal.IsBusinessDay(d) {
			wd = append(wd, d.Weekday().String()[:3])
		}
	}
	f, l := first.In(nb.Loc), last.In(nb.Loc)
	return fmt.Sprintf("%s – %s (%s)", f.Format("02 Jan"), l.Format("02 Jan"), strings.Join(wd, ", "))
}

func monthIndex(month string) int {
	var y, m int
	fmt.Sscanf(month, "%d-%d", &y, &m)
	return y*12 + m - 1
}

func kindName(k risk.MonthEndKind) string {
	switch k {
	case risk.MonthEndQuarter:
		return "quarter end"
	case risk.MonthEndYear:
		return "year end"
	}
	return "regular"
}

func (r *report) write() error {
	d := &nb.Doc{}
	gt := r.gt
	truth, truthT := gt.LastClose.PeakValue, gt.LastClose.PeakTime
	pr := r.pred
	mstl, reg, sn, auto := r.method("mstl"), r.method("regression"), r.method("snaive"), r.method("auto")

	d.H1("Month-end close: what the seasonal baseline, the regression and the month-end predictor see")
	d.P("*An executed notebook: every number, table and figure below is computed by `go run ./notebooks/monthend -out notebooks/monthend` " +
		"(or `make notebooks`) from Foresight's own code on deterministic demo data; `go test ./notebooks/` fails if this page is stale.*")
	d.P("On the last business days of a month the finance department closes the books and the ERP servers carry their heaviest load. "+
		"This notebook takes one ERP application server, cuts its history %d days before the November 2026 close and asks three of "+
		"Foresight's tools what that close will look like: the **seasonal baseline** (MSTL with daily and weekly seasons, beside the seasonal naive forecast and `auto`), "+
		"the **regression forecast with business-calendar regressors**, and the **month-end predictor** (`engine/risk`). The demo fleet's "+
		"ground truth says what really happens.", int(math.Round(r.wStart.Sub(now).Hours()/24)))

	d.H2("The data")
	d.Bullets(
		fmt.Sprintf("Series `%s`: CPU of `%s`, from the demo fleet generator (`datasets.GenerateFleet`, seed %d, the fleet's first three hosts, %d days sampled every %s, ending %s). "+
			"Its load follows the business calendar: office hours with a lunch dip, quiet nights, weekends and public holidays, and a close-window peak around 17:00 local.",
			r.id, host, seed, fleetDays, stepName, fleetEnd.Format("2006-01-02 15:04 MST")),
		fmt.Sprintf("Calendar: `%s` (%s). A close window is the last %d business days of a month.", r.cal.Name(), r.cal.TimeZone(), closeDays),
		fmt.Sprintf("Now: **%s** (local time, as everywhere below). Every model sees the %d days before it (%d samples), as the server's month-end job does (`predictors.monthend.history`).",
			nb.When(now), historyDays, len(r.hist)),
		fmt.Sprintf("The coming close window: **%s**. Ground truth (the generator's noise-free process): the peak is **%.1f %%** at %s.",
			r.windowDays(monthIndex("2026-11")), truth, nb.When(truthT)),
		fmt.Sprintf("Capacity threshold for the breach check: %.0f %% CPU.", threshold),
	)

	// --- history ---------------------------------------------------------------
	if err := r.plotHistory(filepath.Join(r.dir, "history.png")); err != nil {
		return err
	}
	d.H2("History")
	d.Image("history.png", "120 days of CPU with the close windows and holidays shaded")
	var rows [][]string
	for _, c := range pr.Evidence.Closes {
		used := "yes"
		if !c.Used {
			used = "no: " + c.Why
		}
		up := "–"
		if c.Uplift != nil {
			up = fmt.Sprintf("%+.1f", *c.Uplift)
		}
		rows = append(rows, []string{c.Month, kindName(c.Kind), r.windowDays(monthIndex(c.Month)), nb.F(c.Peak, 1), nb.When(c.PeakTime), up, used})
	}
	d.P("The past close windows in the history, as the month-end predictor found them (`evidence.closes`): the observed peak and its uplift over "+
		"the baseline of ordinary days of the same type (the amplitude of the common close shape fitted to that window). %s", r.kindsSeen())
	d.Table("lllrlrl", []string{"month", "kind", "window (business days)", "observed peak %", "when", "uplift (points)", "used"}, rows)

	// --- why weekly seasonality misses ------------------------------------------
	d.H2("Why a weekly season cannot see the close")
	wk := r.weekdayCounts()
	d.P("A seasonal model repeats what it saw at the same phase of its periods: here the same time of day (period %d = one day in steps of %s) and "+
		"the same time of the week (period %d = one week). A month is not a whole number of weeks: 30 or 31 days are 4 weeks and 2 or 3 days, "+
		"and the close is counted in *business* days back from the month's last business day, so it lands on different weekdays every month "+
		"(the table above: %s). In the weekly profile each weekday slot averages over all the weeks in the history, and close days are a small minority of them:",
		periods[0], stepName, periods[1], r.closeWeekdaySummary())
	var wrows [][]string
	for _, w := range wk {
		wrows = append(wrows, []string{w.day, fmt.Sprint(w.total), fmt.Sprint(w.close)})
	}
	d.Table("lrr", []string{"weekday", "days in the history", "of which close days"}, wrows)
	maxShare, maxDay := 0.0, ""
	for _, w := range wk {
		if f := float64(w.close) / float64(w.total); f > maxShare {
			maxShare, maxDay = f, w.day
		}
	}
	d.P("So in the weekly season a close is averaged with ordinary days: at most %.0f %% of the days behind any weekday slot were close days (%s), "+
		"and they are smoothed together with the ordinary weeks around them. The seasonal naive forecast copies last week, which had no close at all. Both forecast "+
		"the close window like any other week.", 100*maxShare, maxDay)

	// --- forecasts ----------------------------------------------------------------
	if err := r.plotForecasts(filepath.Join(r.dir, "forecasts.png")); err != nil {
		return err
	}
	d.H2("The forecasts over the November close")
	d.P("Each model forecast %d steps of %s from now to the end of the window, with 80 %% and 95 %% intervals (the month-end predictor gives "+
		"p10–p90, an 80 %% interval, over the window only). Black is what the server then really did.", horizonOf(r), stepName)
	d.Image("forecasts.png", "Forecasts of the three methods against the realised CPU over the close window")
	type row struct {
		name         string
		peak, lo, hi float64
		at           time.Time
		in95         string
	}
	var prow []row
	for _, m := range []*method{sn, mstl, auto, reg} {
		in := "–"
		if i := m.at(truthT); i >= 0 && !math.IsNaN(m.hi95[i]) {
			in = fmt.Sprintf("no (%.1f–%.1f)", m.lo95[i], m.hi95[i])
			if m.lo95[i] <= truth && truth <= m.hi95[i] {
				in = fmt.Sprintf("yes (%.1f–%.1f)", m.lo95[i], m.hi95[i])
			}
		}
		prow = append(prow, row{m.label + " — `" + m.model + "`", m.peak, m.peakLo80, m.peakHi80, m.peakTime, in})
	}
	prow = append(prow, row{"month-end predictor — `risk.PredictMonthEnd`", pr.Peak.P50, pr.Peak.P10, pr.Peak.P90, pr.PeakTime.P50, "(80 % only)"})
	rows = nil
	for _, p := range prow {
		rows = append(rows, []string{p.name, nb.F(p.peak, 1), fmt.Sprintf("%.1f–%.1f", p.lo, p.hi), nb.Pct(100 * (p.peak - truth) / truth),
			nb.When(p.at), fmt.Sprintf("%+.2f h", p.at.Sub(truthT).Hours()), p.in95})
	}
	obsPeak, obsT := r.observedPeak()
	rows = append(rows, []string{"**ground truth** (noise-free peak)", nb.F(truth, 1), "", "", nb.When(truthT), "", ""},
		[]string{"observed maximum in the window (with noise)", nb.F(obsPeak, 1), "", "", nb.When(obsT), "", ""})
	d.Table("lrrrlrl", []string{"method", "predicted peak %", "80 % interval at the peak", "peak error", "peak time", "time error", "truth inside its 95 % interval at the true peak time?"}, rows)
	d.P("%s", r.forecastProse(truth, truthT))

	// --- calendar regressors ----------------------------------------------------------
	d.H2("What the calendar regressors add")
	coefs := r.calendarCoefficients(reg)
	rows = nil
	for _, c := range coefs {
		rows = append(rows, []string{"`" + c.name + "`", c.meaning, nb.F(c.value, 2)})
	}
	d.P("`calendar.Regressors` gives the regression one column per calendar fact (the engine adds them whenever a calendar is configured and the grid " +
		"is a day or finer). Beside an intercept, a trend and five Fourier pairs for each season, the fitted coefficients (Huber IRLS, in CPU " +
		"percentage points; from the forecast's `params`) are:")
	d.Table("llr", []string{"regressor", "1 when", "coefficient (points)"}, rows)
	d.P("%s", r.regressorProse(coefs))

	// --- outlook -----------------------------------------------------------------------
	if err := r.plotOutlook(filepath.Join(r.dir, "outlook.png")); err != nil {
		return err
	}
	d.H2("The month-end predictor's outlook")
	b := pr.Breach
	first := "no close in the outlook"
	if b.FirstMonth != "" {
		first = b.FirstMonth
	}
	d.P("For the coming window the predictor answers: peak **%.1f %%** (p10 %.1f – p90 %.1f) at **%s** (p10 %s – p90 %s). Against the %.0f %% "+
		"threshold the breach probability of this close is %.2f (headroom %.1f points), %s. Looking further, the first close whose "+
		"median peak reaches the threshold is **%s**.",
		pr.Peak.P50, pr.Peak.P10, pr.Peak.P90, nb.When(pr.PeakTime.P50), nb.When(pr.PeakTime.P10), nb.When(pr.PeakTime.P90),
		threshold, b.Probability, b.Headroom, map[bool]string{true: "likely: a breach the ticket rules act on", false: "not likely: nothing to act on for this close"}[b.Likely], first)
	d.Image("outlook.png", "Predicted peak of each coming close with its p10–p90 interval, the threshold and the true peaks")
	rows = [][]string{{pr.Window.Month, kindName(pr.Window.Kind), nb.F(pr.Peak.P10, 1), nb.F(pr.Peak.P50, 1), nb.F(pr.Peak.P90, 1),
		nb.F(b.Probability, 2), fmt.Sprintf("%.1f (%s)", gt.LastClose.PeakValue, nb.Pct(100*(pr.Peak.P50-gt.LastClose.PeakValue)/gt.LastClose.PeakValue))}}
	for _, o := range pr.Outlook {
		prob := "–"
		if o.BreachProbability != nil {
			prob = nb.F(*o.BreachProbability, 2)
		}
		tv := "–"
		if o.Month == gt.NextClose.Month {
			tv = fmt.Sprintf("%.1f (%s)", gt.NextClose.PeakValue, nb.Pct(100*(o.Peak.P50-gt.NextClose.PeakValue)/gt.NextClose.PeakValue))
		}
		rows = append(rows, []string{o.Month, kindName(o.Kind), nb.F(o.Peak.P10, 1), nb.F(o.Peak.P50, 1), nb.F(o.Peak.P90, 1), prob, tv})
	}
	d.Table("llrrrrr", []string{"close", "kind", "p10 %", "p50 %", "p90 %", fmt.Sprintf("P(peak ≥ %.0f %%)", threshold), "true peak % (p50 error)"}, rows)
	u := pr.Evidence.Uplift
	var shares []string
	for _, o := range u.ByOffset {
		shares = append(shares, fmt.Sprintf("%d business day(s) before the last: %.2f at %s", o.Offset, o.Share, o.PeakTimeOfDay))
	}
	sort.Strings(shares)
	d.P("How it gets there (`evidence`):")
	items := []string{
		fmt.Sprintf("**Baseline**: %s; on the window's days it peaks at %.1f %% at %s local (robust SD %.2f).", pr.Evidence.Baseline.Method,
			pr.Evidence.Baseline.Peak, pr.Evidence.Baseline.PeakTimeOfDay, pr.Evidence.Baseline.Noise),
		fmt.Sprintf("**Uplift**: %s. A regular close adds %.1f points at its peak; relative dispersion of past closes %.2f.", u.Method, u.Regular, u.Dispersion),
		fmt.Sprintf("**Shape over the window** (share of the largest uplift, time of day): %s.", strings.Join(shares, "; ")),
		fmt.Sprintf("**Quarter-end factor** %.2f (%s); **year-end factor** %.2f (%s).", u.QuarterFactor, u.QuarterSource, u.YearFactor, u.YearSource),
	}
	tr := pr.Evidence.Trend
	trend := fmt.Sprintf("**Trend**: %s over %d closes, %+.2f points per month", tr.Method, tr.Closes, tr.UpliftPerMonth)
	if tr.Applied {
		trend += " (applied)."
	} else {
		trend += " (not applied)."
	}
	items = append(items, trend)
	for _, n := range pr.Evidence.Notes {
		items = append(items, "Note: "+n)
	}
	d.Bullets(items...)
	var dec risk.MonthEndOutlook
	for _, o := range pr.Outlook {
		if o.Month == gt.NextClose.Month {
			dec = o
		}
	}
	decProb := 0.0
	if dec.BreachProbability != nil {
		decProb = *dec.BreachProbability
	}
	verdict := "outside that interval"
	if dec.Peak.P10 <= gt.NextClose.PeakValue && gt.NextClose.PeakValue <= dec.Peak.P90 {
		verdict = "inside that interval"
	}
	if gt.NextClose.PeakValue >= threshold {
		verdict += " and above the threshold: a capacity warning that the seasonal baseline, which sees no close at all, could never give"
	} else {
		verdict += " and below the threshold"
	}
	d.P("The December close is the fiscal year end. With no year-end close in %d days of history the predictor multiplies the quarter-end uplift it "+
		"*did* learn (September) by its year-end prior and widens the interval for the unseen kind: %.1f %% (p10 %.1f – p90 %.1f), breach probability "+
		"%.2f. The ground truth for December is %.1f %% (%s), %s.",
		historyDays, dec.Peak.P50, dec.Peak.P10, dec.Peak.P90, decProb, gt.NextClose.PeakValue, nb.When(gt.NextClose.PeakTime), verdict)

	d.H2("Rerun")
	d.Code("sh", "make notebooks                                   # all notebooks\ngo run ./notebooks/monthend -out notebooks/monthend   # this one")
	return d.WriteFile(r.dir)
}

// forecastProse explains the forecast table from its numbers.
func (r *report) forecastProse(truth float64, truthT time.Time) string {
	mstl, reg, sn, auto := r.method("mstl"), r.method("regression"), r.method("snaive"), r.method("auto")
	pr := r.pred
	err := func(v float64) string { return nb.Pct(100 * (v - truth) / truth) }
	var b strings.Builder
	fmt.Fprintf(&b, "The seasonal baseline (MSTL) puts the window's highest point at %.1f %% on %s — the height of an ordinary working day (the month-end "+
		"predictor's baseline for the same days, which leaves the close out, peaks at %.1f %%): %s against the true close peak. ",
		mstl.peak, nb.When(mstl.peakTime), pr.Evidence.Baseline.Peak, err(mstl.peak))
	if i := mstl.at(truthT); i >= 0 {
		lo, hi := mstl.lo95[i], mstl.hi95[i]
		switch {
		case truth < lo || truth > hi:
			fmt.Fprintf(&b, "Its 95 %% interval at the true peak time (%.1f–%.1f %%) does not reach the truth, so it cannot even flag the close as unusual. ", lo, hi)
		case hi > 3*truth:
			fmt.Fprintf(&b, "Its 95 %% interval at the true peak time, %.1f–%.1f %% CPU, contains the truth only because it has stopped saying anything: "+
				"the model works on the log of the series and its interval grows without bound over a horizon of %d steps, so it could not flag the close either. ", lo, hi, len(mstl.times))
		default:
			fmt.Fprintf(&b, "Its 95 %% interval at the true peak time (%.1f–%.1f %%) contains the truth, but its mean does not move. ", lo, hi)
		}
	}
	fmt.Fprintf(&b, "The seasonal naive forecast (%s) and `auto` (`%s`, %s) do no better. ", err(sn.peak), auto.model, err(auto.peak))
	fmt.Fprintf(&b, "The regression with calendar regressors lifts the close days and reaches %.1f %% (%s, at %s): the calendar columns tell it *when* the close is, "+
		"but as one level per close day and one 13:00–20:00 block they cannot draw the sharp late-afternoon peak, and its daily Fourier terms are shared with every ordinary day. ",
		reg.peak, err(reg.peak), nb.When(reg.peakTime))
	fmt.Fprintf(&b, "The month-end predictor, which learns the close's own shape from the past windows, forecasts %.1f %% (p10–p90 %.1f–%.1f) at %s: "+
		"%s against the true peak and %s from its time.",
		pr.Peak.P50, pr.Peak.P10, pr.Peak.P90, nb.When(pr.PeakTime.P50), err(pr.Peak.P50), fmtHours(pr.PeakTime.P50.Sub(truthT)))
	return b.String()
}

// regressorProse explains the calendar coefficients from their values.
func (r *report) regressorProse(cs []coef) string {
	val := map[string]float64{}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, c := range cs {
		val[c.name] = c.value
		if strings.HasPrefix(c.name, "close_day_") {
			lo, hi = math.Min(lo, c.value), math.Max(hi, c.value)
		}
	}
	var shares []string
	for k := closeDays - 1; k >= 0; k-- {
		for _, o := range r.pred.Evidence.Uplift.ByOffset {
			if o.Offset == k {
				shares = append(shares, nb.F(o.Share, 2))
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Most of what the regression knows about the close is in `close_afternoon`: %+.1f points from 13:00 to 20:00 on every close day, "+
		"against %+.1f to %+.1f for the close-day levels themselves (and %+.1f more on quarter-end close days). ", val["close_afternoon"], lo, hi, val["quarter_close"])
	fmt.Fprintf(&b, "One block of the same height on all %d days cannot represent a close that builds up over the window (the month-end predictor measures shares of %s "+
		"from its first to its last day) and peaks sharply in the late afternoon, which is why the regression ends %s below the true peak. ",
		closeDays, strings.Join(shares, ", "), nb.Pct(100 * (r.method("regression").peak - r.gt.LastClose.PeakValue) / r.gt.LastClose.PeakValue)[1:])
	if val["year_close"] == 0 {
		fmt.Fprintf(&b, "`year_close` is exactly zero: no year-end close is in the history, so the column never varied and nothing could be learned from it; "+
			"the regression would forecast December like a quarter-end close. The month-end predictor handles that case with an explicit prior (next section).")
	}
	return b.String()
}

func horizonOf(r *report) int { return len(r.methods[0].times) }

func fmtHours(d time.Duration) string {
	h := math.Abs(d.Hours())
	if h < 1 {
		return fmt.Sprintf("%.0f minutes", h*60)
	}
	return fmt.Sprintf("%.1f hours", h)
}

func (r *report) observedPeak() (float64, time.Time) {
	best, at := math.Inf(-1), time.Time{}
	for _, s := range r.after {
		if !s.Time.Before(r.wStart) && s.Time.Before(r.wEnd) && s.Value > best {
			best, at = s.Value, s.Time
		}
	}
	return best, at
}

type weekdayCount struct {
	day          string
	total, close int
}

// weekdayCounts counts, per weekday, the days of the history and how many
// of them were close days.
func (r *report) weekdayCounts() []weekdayCount {
	out := make([]weekdayCount, 7)
	for i := range out {
		out[i].day = time.Weekday((i + 1) % 7).String()
	}
	from := calendar.DateIn(r.histFrom, nb.Loc)
	to := calendar.DateIn(now.Add(-time.Nanosecond), nb.Loc)
	for d := from; !d.After(to); d = d.AddDays(1) {
		i := (int(d.Weekday()) + 6) % 7
		out[i].total++
		if k := r.cal.BusinessDaysBeforeMonthEnd(d); k >= 0 && k < closeDays {
			out[i].close++
		}
	}
	return out
}

func (r *report) closeWeekdaySummary() string {
	var parts []string
	for _, c := range r.pred.Evidence.Closes {
		mi := monthIndex(c.Month)
		first, last, _ := r.cal.CloseWindow(mi/12, time.Month(mi%12+1), closeDays)
		var wd []string
		for d := first; !d.After(last); d = d.AddDays(1) {
			if r.cal.IsBusinessDay(d) {
				wd = append(wd, d.Weekday().String()[:3])
			}
		}
		parts = append(parts, fmt.Sprintf("%s %s", first.In(nb.Loc).Format("Jan"), strings.Join(wd, "/")))
	}
	first, last, _ := r.cal.CloseWindow(now.Year(), now.In(nb.Loc).Month(), closeDays)
	var wd []string
	for d := first; !d.After(last); d = d.AddDays(1) {
		if r.cal.IsBusinessDay(d) {
			wd = append(wd, d.Weekday().String()[:3])
		}
	}
	return strings.Join(parts, ", ") + fmt.Sprintf(", and the coming %s close %s", first.In(nb.Loc).Format("January"), strings.Join(wd, "/"))
}

// kindsSeen says which kinds of close the history holds.
func (r *report) kindsSeen() string {
	var q, y []string
	for _, c := range r.pred.Evidence.Closes {
		switch c.Kind {
		case risk.MonthEndQuarter:
			q = append(q, c.Month)
		case risk.MonthEndYear:
			y = append(y, c.Month)
		}
	}
	s := "No close in the history ends a fiscal quarter"
	if len(q) > 0 {
		s = strings.Join(q, ", ") + " closes a fiscal quarter"
	}
	if len(y) == 0 {
		return s + "; no fiscal year-end close has been seen."
	}
	return s + "; " + strings.Join(y, ", ") + " closes the fiscal year."
}

type coef struct {
	name, meaning string
	value         float64
}

var regressorMeaning = map[string]string{
	"business_day":    "business day (make-up workdays included)",
	"holiday":         "public holiday",
	"close_afternoon": "13:00–20:00 local on a close day",
	"quarter_close":   "close day of a fiscal quarter-end month",
	"year_close":      "close day of the fiscal year-end month",
}

// calendarCoefficients reads the calendar regressors' coefficients from the
// regression's parameters: they are the last columns of the design
// (models.Regression.Coefficients: intercept, trend, Fourier pairs, then
// the extra regressors).
func (r *report) calendarCoefficients(m *method) []coef {
	_, names := r.cal.Regressors(nil, closeDays)
	nBeta := 0
	for k := range m.params {
		if strings.HasPrefix(k, "beta") {
			nBeta++
		}
	}
	var out []coef
	for j, n := range names {
		meaning := regressorMeaning[n]
		if strings.HasPrefix(n, "close_day_") {
			k := strings.TrimPrefix(n, "close_day_")
			if k == "0" {
				meaning = "the month's last business day"
			} else {
				meaning = k + " business day(s) before the last"
			}
		}
		out = append(out, coef{n, meaning, m.params[fmt.Sprintf("beta%d", nBeta-len(names)+j)]})
	}
	return out
}

// --- plots ---------------------------------------------------------------------------

func (r *report) shadeCalendar(p *plot.Plot, from, to time.Time, legend bool) {
	fd, td := calendar.DateIn(from, nb.Loc), calendar.DateIn(to, nb.Loc)
	closeLegend, holLegend := legend, legend
	for d := fd; !d.After(td); d = d.AddDays(1) {
		x0, x1 := nb.X(d.In(nb.Loc)), nb.X(d.AddDays(1).In(nb.Loc))
		if _, ok := r.cal.IsHoliday(d); ok {
			l := ""
			if holLegend {
				l, holLegend = "public holiday", false
			}
			nb.Shade(p, x0, x1, nb.Alpha(nb.Gray, 0.22), l)
		}
		k := r.cal.BusinessDaysBeforeMonthEnd(d)
		if k < 0 || k >= closeDays {
			continue
		}
		l := ""
		if closeLegend {
			l, closeLegend = "close window (last 3 business days)", false
		}
		nb.Shade(p, x0, x1, nb.Alpha(nb.Orange, 0.28), l)
	}
}

func sampleXY(s []engine.Sample) ([]float64, []float64) {
	xs, ys := make([]float64, len(s)), make([]float64, len(s))
	for i, v := range s {
		xs[i], ys[i] = nb.X(v.Time), v.Value
	}
	return xs, ys
}

func (r *report) plotHistory(path string) error {
	p := nb.NewPlot(fmt.Sprintf("%s CPU: the %d days of history the models see", host, historyDays), "CPU usage (%)")
	r.shadeCalendar(p, r.histFrom, r.wEnd, true)
	xs, ys := sampleXY(r.hist)
	nb.Line(p, xs, ys, nb.LineStyle{Color: nb.Blue, Width: 0.5}, "CPU usage, 15-minute samples")
	nb.VLine(p, nb.X(now), nb.LineStyle{Color: nb.Black, Width: 1.2, Dashed: true}, "now")
	nb.Label(p, nb.X(r.wStart), 74, "coming\nclose", nb.Red, 2, 0)
	nb.TimeAxis(p, r.histFrom, r.wEnd.Add(24*time.Hour))
	p.Y.Min, p.Y.Max = 0, 85
	return nb.SavePNG(path, 12, 4.4, p)
}

func (r *report) plotForecasts(path string) error {
	from := now.Add(-4 * 24 * time.Hour)
	to := r.wEnd.Add(6 * time.Hour)
	var hx, hy []float64
	for _, s := range r.hist {
		if s.Time.After(from) {
			hx, hy = append(hx, nb.X(s.Time)), append(hy, s.Value)
		}
	}
	ax, ay := sampleXY(r.after)
	var keep []int
	for i := range ax {
		if ax[i] <= nb.X(to) {
			keep = append(keep, i)
		}
	}
	ax, ay = ax[:len(keep)], ay[:len(keep)]
	truth, truthT := r.gt.LastClose.PeakValue, r.gt.LastClose.PeakTime
	panel := func(title string, first bool) *plot.Plot {
		p := nb.NewPlot(title, "CPU usage (%)")
		legend := func(s string) string {
			if first {
				return s
			}
			return ""
		}
		r.shadeCalendar(p, from, to, first)
		nb.Line(p, hx, hy, nb.LineStyle{Color: nb.Gray, Width: 0.7}, legend("history"))
		nb.Line(p, ax, ay, nb.LineStyle{Color: nb.Black, Width: 0.7}, legend("what really happened"))
		nb.VLine(p, nb.X(now), nb.LineStyle{Color: nb.Black, Width: 1.2, Dashed: true}, legend("now"))
		return p
	}
	finish := func(p *plot.Plot) {
		nb.Points(p, []float64{nb.X(truthT)}, []float64{truth}, nb.Red, 4.5, draw.PyramidGlyph{}, "true peak (noise-free)")
		nb.TimeAxis(p, from, to)
		p.Y.Min, p.Y.Max = 0, 80
	}
	var plots []*plot.Plot
	colors := map[string]color.NRGBA{"mstl": nb.Blue, "regression": nb.Green}
	for i, name := range []string{"mstl", "regression"} {
		m := r.method(name)
		title := fmt.Sprintf("%s: peak %.1f %% (truth %.1f %%)", m.label, m.peak, truth)
		if j := m.at(truthT); j >= 0 && m.hi95[j] > 80 {
			title = fmt.Sprintf("%s: peak %.1f %% (truth %.1f %%); its 95 %% interval reaches %.0f %%", m.label, m.peak, truth, maxOf(m.hi95))
		}
		p := panel(title, i == 0)
		xs := make([]float64, len(m.times))
		for i, t := range m.times {
			xs[i] = nb.X(t)
		}
		c := colors[name]
		nb.Band(p, xs, m.lo95, m.hi95, nb.Alpha(c, 0.15), "95 % interval")
		nb.Band(p, xs, m.lo80, m.hi80, nb.Alpha(c, 0.30), "80 % interval")
		nb.Line(p, xs, m.mean, nb.LineStyle{Color: c, Width: 1.3}, "forecast (mean)")
		finish(p)
		plots = append(plots, p)
	}
	pr := r.pred
	p := panel(fmt.Sprintf("month-end predictor: peak %.1f %% (p10–p90 %.1f–%.1f), truth %.1f %%", pr.Peak.P50, pr.Peak.P10, pr.Peak.P90, truth), false)
	var xs, p10, p50, p90, base []float64
	for _, q := range pr.Profile {
		xs = append(xs, nb.X(q.Time))
		p10, p50, p90, base = append(p10, q.P10), append(p50, q.P50), append(p90, q.P90), append(base, q.Baseline)
	}
	nb.Band(p, xs, p10, p90, nb.Alpha(nb.Purple, 0.35), "p10–p90 (80 % interval)")
	nb.Line(p, xs, base, nb.LineStyle{Color: nb.Purple, Width: 1, Dotted: true}, "baseline (the same days without a close)")
	nb.Line(p, xs, p50, nb.LineStyle{Color: nb.Purple, Width: 1.3}, "p50")
	finish(p)
	plots = append(plots, p)
	return nb.SavePNG(path, 12, 3.7, plots...)
}

func maxOf(v []float64) float64 {
	m := math.Inf(-1)
	for _, x := range v {
		if !math.IsNaN(x) && x > m {
			m = x
		}
	}
	return m
}

func (r *report) plotOutlook(path string) error {
	pr := r.pred
	type bar struct {
		label         string
		p10, p50, p90 float64
		truth         float64
	}
	bars := []bar{{pr.Window.Month + "\n" + kindName(pr.Window.Kind), pr.Peak.P10, pr.Peak.P50, pr.Peak.P90, r.gt.LastClose.PeakValue}}
	for _, o := range pr.Outlook {
		t := math.NaN()
		if o.Month == r.gt.NextClose.Month {
			t = r.gt.NextClose.PeakValue
		}
		bars = append(bars, bar{o.Month + "\n" + kindName(o.Kind), o.Peak.P10, o.Peak.P50, o.Peak.P90, t})
	}
	p := nb.NewPlot("month-end outlook: predicted peak CPU of each close (from "+nb.Date(now)+")", "peak CPU usage (%)")
	p.X.Label.Text = "close (month, kind)"
	var ticks []plot.Tick
	var xs, p50s, truths []float64
	for i, b := range bars {
		x := float64(i)
		ticks = append(ticks, plot.Tick{Value: x, Label: b.label})
		nb.Line(p, []float64{x, x}, []float64{b.p10, b.p90}, nb.LineStyle{Color: nb.Alpha(nb.Purple, 0.45), Width: 14}, map[bool]string{true: "p10–p90"}[i == 0])
		xs, p50s, truths = append(xs, x), append(p50s, b.p50), append(truths, b.truth)
	}
	nb.HLine(p, threshold, nb.LineStyle{Color: nb.Red, Width: 1.2, Dashed: true}, fmt.Sprintf("threshold %.0f %%", threshold))
	nb.Points(p, xs, p50s, nb.Purple, 4, draw.CircleGlyph{}, "p50")
	nb.Points(p, xs, truths, nb.Black, 4.5, draw.PyramidGlyph{}, "ground truth (noise-free peak)")
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.X.Min, p.X.Max = -0.6, float64(len(bars))-0.4
	p.Y.Min, p.Y.Max = 0, 120
	return nb.SavePNG(path, 10, 4.4, p)
}
