package risk

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/seed-f1b503aa/foresight/calendar"
	"github.com/seed-f1b503aa/foresight/engine"
)

// This file is the month-end close load predictor: its options, its result
// and PredictMonthEnd, which strings the steps together. The model itself
// (baseline, uplift, amplitudes, trend) is in monthend_model.go.

// MonthEndKind classifies a month by the size of its close.
type MonthEndKind string

// Kinds of close.
const (
	// MonthEndRegular is a month that closes neither a fiscal quarter nor
	// the fiscal year.
	MonthEndRegular MonthEndKind = "regular"
	// MonthEndQuarter closes a fiscal quarter (but not the year).
	MonthEndQuarter MonthEndKind = "quarter_end"
	// MonthEndYear closes the fiscal year.
	MonthEndYear MonthEndKind = "year_end"
)

// Status values of a MonthEndPrediction.
const (
	// MonthEndStatusOK: the prediction is complete.
	MonthEndStatusOK = "ok"
	// MonthEndStatusInsufficientHistory: fewer than two complete past
	// close windows (or no usable baseline) in the history; Reason says
	// what was found.
	MonthEndStatusInsufficientHistory = "insufficient_history"
)

// Defaults of MonthEndOptions.
const (
	// DefaultMonthEndCloseDays is the length of the close window in
	// business days.
	DefaultMonthEndCloseDays = 3
	// DefaultMonthEndOutlookMonths is how many closes after the coming one
	// the outlook covers (capacity planning six months ahead).
	DefaultMonthEndOutlookMonths = 6
	// DefaultMonthEndQuarterPrior is the quarter-end uplift as a multiple
	// of a regular close's uplift, used while the history holds no
	// quarter-end close. An assumption, not a measurement: quarter closes
	// add accruals, reconciliations and quarterly reports on top of the
	// monthly work.
	DefaultMonthEndQuarterPrior = 1.5
	// DefaultMonthEndYearPrior is the year-end uplift as a multiple of the
	// quarter-end uplift (learned or prior), used while the history holds
	// no year-end close. An assumption: year-end adds annual closing
	// entries, audit adjustments and consolidation.
	DefaultMonthEndYearPrior = 1.5
	// DefaultMonthEndPriorSpread is the relative standard deviation given
	// to a prior factor; it widens the interval of a close whose kind was
	// never seen.
	DefaultMonthEndPriorSpread = 0.25
	// DefaultMonthEndBaselineDays is the number of non-close days of the
	// same type (weekday, make-up workday, or day off) whose median makes
	// the baseline.
	DefaultMonthEndBaselineDays = 6
	// DefaultMonthEndWarnProbability is the breach probability at which a
	// breach counts as likely.
	DefaultMonthEndWarnProbability = 0.5
	// MonthEndMinStep is the finest grid the predictor works on: finer
	// samples are averaged into buckets of this size.
	MonthEndMinStep = 15 * time.Minute
	// MonthEndMaxStep is the coarsest sampling the predictor accepts: the
	// afternoon peak needs at least hourly data.
	MonthEndMaxStep = time.Hour
)

// MonthEndInput is one load series: CPU percent, active sessions, database
// connections, request rate or any other quantity that rises at month-end
// close. Samples may be in any order, irregular and with gaps; NaN values
// are missing.
type MonthEndInput struct {
	// Series names the series in the result (e.g. its ID); optional.
	Series string
	// Unit is the series' unit (e.g. "percent"), echoed in the result;
	// optional.
	Unit string
	// Samples are the observations. Only those before the prediction time
	// (MonthEndOptions.Now) are used.
	Samples []engine.Sample
}

// MonthEndOptions configure PredictMonthEnd. Zero values take the
// defaults noted.
type MonthEndOptions struct {
	// Calendar defines business days, time zone and fiscal quarters
	// (default calendar.DefaultCalendar()).
	Calendar *calendar.Calendar
	// CloseDays is the close window: the last CloseDays business days of
	// each month, counted back from its last business day (default 3).
	CloseDays int
	// Now is the prediction time: samples at or after it are ignored, and
	// the coming close is the first window that ends after it (default:
	// the end of the last sample's bucket).
	Now time.Time
	// Step is the grid the samples are averaged onto (default: the
	// sampling interval, at least MonthEndMinStep). It must divide 24 h
	// and be at most MonthEndMaxStep.
	Step time.Duration
	// Threshold is the capacity the load is compared with, in the series'
	// unit (e.g. 90 for 90 % CPU, 500 connections). 0 means none; it must
	// not be negative.
	Threshold float64
	// OutlookMonths is the number of closes after the coming one to
	// forecast (default 6; negative: none).
	OutlookMonths int
	// QuarterPrior and YearPrior are the prior uplift multipliers used
	// while the history holds no close of that kind: quarter-end relative
	// to a regular close (default 1.5), year-end relative to a quarter-end
	// (default 1.5).
	QuarterPrior, YearPrior float64
	// PriorSpread is the relative standard deviation of a prior multiplier
	// (default 0.25).
	PriorSpread float64
	// BaselineDays is the number of same-type non-close days in each
	// baseline median (default 6).
	BaselineDays int
	// WarnProbability is the breach probability from which a breach is
	// reported as likely (default 0.5, i.e. the median peak reaches the
	// threshold).
	WarnProbability float64
}

// MonthEndQuantiles are the 10th, 50th and 90th percentiles of a predicted
// value, in the series' unit (an 80 % central interval around the median).
type MonthEndQuantiles struct {
	P10 float64 `json:"p10"`
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
}

// MonthEndTimeQuantiles are the 10th, 50th and 90th percentiles of a
// predicted instant (UTC).
type MonthEndTimeQuantiles struct {
	P10 time.Time `json:"p10"`
	P50 time.Time `json:"p50"`
	P90 time.Time `json:"p90"`
}

// MonthEndWindow is a close window: the last CloseDays business days of a
// month.
type MonthEndWindow struct {
	// Month is the closed month, "YYYY-MM".
	Month string `json:"month"`
	// Kind says whether the month closes a fiscal quarter or year.
	Kind MonthEndKind `json:"kind"`
	// Days are the window's business days (local civil dates, YYYY-MM-DD),
	// first to last; the last is the month's last business day.
	Days []string `json:"days"`
	// Start is 00:00 local time of the first day and End 24:00 of the last
	// (UTC).
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// From is where the predicted part begins: Start, or Now when the
	// window has begun.
	From time.Time `json:"from"`
	// ObservedPeak is the largest value observed in the window before Now
	// (only when the window has begun).
	ObservedPeak *float64 `json:"observed_peak,omitempty"`
}

// MonthEndBreach compares the coming close with the capacity threshold.
type MonthEndBreach struct {
	// Threshold is the capacity, in the series' unit.
	Threshold float64 `json:"threshold"`
	// Probability is the predicted probability that the window's peak
	// (from From to End) reaches Threshold, in [0, 1].
	Probability float64 `json:"probability"`
	// Likely is Probability >= MonthEndOptions.WarnProbability.
	Likely bool `json:"likely"`
	// Headroom is Threshold minus the median peak (negative: the median
	// peak is over the threshold).
	Headroom float64 `json:"headroom"`
	// FirstTime is the first instant at which the median profile reaches
	// Threshold; null if it does not.
	FirstTime *time.Time `json:"first_time"`
	// EarliestTime is the first instant at which the 90th-percentile
	// profile reaches Threshold (the pessimistic case); null if it does
	// not.
	EarliestTime *time.Time `json:"earliest_time"`
	// FirstMonth is the first close (this one or one of the outlook,
	// "YYYY-MM") whose median peak reaches Threshold; "" if none does.
	FirstMonth string `json:"first_month,omitempty"`
}

// MonthEndProfilePoint is the predicted load at one grid bucket of the
// window (Time is the bucket's start, UTC).
type MonthEndProfilePoint struct {
	Time time.Time `json:"time"`
	MonthEndQuantiles
	// Baseline is the load expected at this time on a day without close.
	Baseline float64 `json:"baseline"`
}

// MonthEndOutlook is the predicted peak of a later close.
type MonthEndOutlook struct {
	Month string            `json:"month"`
	Kind  MonthEndKind      `json:"kind"`
	Peak  MonthEndQuantiles `json:"peak"`
	// BreachProbability is the probability that the peak reaches the
	// threshold (only with a threshold).
	BreachProbability *float64 `json:"breach_probability,omitempty"`
}

// MonthEndClose is one past close window and what was learned from it.
type MonthEndClose struct {
	Month string       `json:"month"`
	Kind  MonthEndKind `json:"kind"`
	Start time.Time    `json:"start"`
	End   time.Time    `json:"end"`
	// Peak and PeakTime are the largest observed value in the window (after
	// removing isolated outliers) and when it happened.
	Peak     float64   `json:"peak"`
	PeakTime time.Time `json:"peak_time"`
	// Uplift is the close's peak uplift over the baseline, in the series'
	// unit (the amplitude of the common uplift shape fitted to it); absent
	// when no model was fitted (insufficient history, close not used).
	Uplift *float64 `json:"uplift,omitempty"`
	// Used is false when the close was left out; Why says why.
	Used bool   `json:"used"`
	Why  string `json:"why,omitempty"`
}

// MonthEndBaseline describes the load expected without a close.
type MonthEndBaseline struct {
	// Method states how the baseline is computed.
	Method string `json:"method"`
	// Days is the number of non-close days behind the baseline of the
	// coming window (summed over its days' types, without repeats).
	Days int `json:"days"`
	// Peak is the largest baseline value over the coming window's days and
	// PeakTimeOfDay its local time of day ("HH:MM").
	Peak          float64 `json:"peak"`
	PeakTimeOfDay string  `json:"peak_time_of_day"`
	// Noise is the robust standard deviation of the baseline days around
	// their median at that time of day, in the series' unit.
	Noise float64 `json:"noise"`
}

// MonthEndOffsetUplift is the uplift on one business day of the window.
type MonthEndOffsetUplift struct {
	// Offset is the number of business days before the month's last
	// business day (0 = the last business day).
	Offset int `json:"offset"`
	// Share is the day's largest uplift as a fraction of the window's
	// largest (1 on the peak day).
	Share float64 `json:"share"`
	// PeakTimeOfDay is the local time of day of the day's largest uplift
	// ("HH:MM").
	PeakTimeOfDay string `json:"peak_time_of_day"`
}

// MonthEndUplift describes the close uplift over the baseline.
type MonthEndUplift struct {
	// Method states how the uplift is measured.
	Method string `json:"method"`
	// Regular is the peak uplift of a regular close at the coming window's
	// month (trend included), in the series' unit.
	Regular float64 `json:"regular"`
	// QuarterFactor and YearFactor multiply Regular for quarter-end and
	// year-end closes; the *Source fields say whether they were learned
	// (and from which closes) or are priors.
	QuarterFactor float64 `json:"quarter_factor"`
	QuarterSource string  `json:"quarter_source"`
	YearFactor    float64 `json:"year_factor"`
	YearSource    string  `json:"year_source"`
	// Applied is the peak uplift used for the coming window (Regular ×
	// its kind's factor, updated with the window's own data when it has
	// begun).
	Applied float64 `json:"applied"`
	// Dispersion is the relative standard deviation of past closes' uplift
	// around the fitted level (the basis of the intervals).
	Dispersion float64 `json:"dispersion"`
	// ByOffset is the uplift's shape per business day of the window.
	ByOffset []MonthEndOffsetUplift `json:"by_offset"`
}

// MonthEndTrend is the month-over-month growth of close load.
type MonthEndTrend struct {
	// Method names the estimator.
	Method string `json:"method"`
	// UpliftPerMonth is the Theil–Sen slope of the closes' uplift (after
	// dividing out the quarter and year factors), in the series' unit per
	// month, and UpliftPercentPerMonth the same relative to the regular
	// uplift at the coming window.
	UpliftPerMonth        float64 `json:"uplift_per_month"`
	UpliftPercentPerMonth float64 `json:"uplift_percent_per_month"`
	// PeakPerMonth is the Theil–Sen slope of the observed peaks of regular
	// closes (unit per month); null with fewer than two regular closes.
	PeakPerMonth *float64 `json:"peak_per_month"`
	// Closes is the number of closes in the fit.
	Closes int `json:"closes"`
	// Applied tells whether the slope was used in the forecast (it needs
	// three closes or more).
	Applied bool `json:"applied"`
	// MannKendallP is the two-sided p-value of the Mann–Kendall test on
	// the closes' uplift (three closes or more).
	MannKendallP *float64 `json:"mann_kendall_p,omitempty"`
}

// MonthEndEvidence is what the prediction rests on.
type MonthEndEvidence struct {
	// Closes lists the past close windows found in the history, oldest
	// first.
	Closes   []MonthEndClose  `json:"closes"`
	Baseline MonthEndBaseline `json:"baseline"`
	Uplift   MonthEndUplift   `json:"uplift"`
	Trend    MonthEndTrend    `json:"trend"`
	// Notes are caveats in plain words (priors used, calendar coverage,
	// gaps).
	Notes []string `json:"notes,omitempty"`
}

// MonthEndPrediction is the result of PredictMonthEnd. Values are in the
// series' unit, times UTC. With Status "insufficient_history" only Series,
// Unit, Status, Reason, Now, the calendar fields, Window and
// Evidence.Closes are filled.
type MonthEndPrediction struct {
	Series string `json:"series,omitempty"`
	Unit   string `json:"unit,omitempty"`
	// Status is MonthEndStatusOK or MonthEndStatusInsufficientHistory.
	Status string `json:"status"`
	// Reason explains a status other than ok.
	Reason string `json:"reason,omitempty"`
	// Now is the prediction time.
	Now time.Time `json:"now"`
	// Calendar and TimeZone name the business calendar used.
	Calendar string `json:"calendar"`
	TimeZone string `json:"time_zone"`
	// CloseDays is the window length in business days and StepSeconds the
	// grid step in seconds.
	CloseDays   int     `json:"close_days"`
	StepSeconds float64 `json:"step_seconds"`
	// Window is the coming close window.
	Window *MonthEndWindow `json:"window,omitempty"`
	// Peak is the predicted largest value in the window (from Window.From
	// on) and PeakTime when it happens.
	Peak     *MonthEndQuantiles     `json:"peak,omitempty"`
	PeakTime *MonthEndTimeQuantiles `json:"peak_time,omitempty"`
	// Breach is present when a threshold was given.
	Breach *MonthEndBreach `json:"breach,omitempty"`
	// Profile is the predicted load over the window from Window.From, one
	// point per grid step.
	Profile []MonthEndProfilePoint `json:"profile,omitempty"`
	// Outlook predicts the peaks of the following closes.
	Outlook  []MonthEndOutlook `json:"outlook,omitempty"`
	Evidence MonthEndEvidence  `json:"evidence"`
}

// BreachProbability returns the predicted probability that the window's
// peak reaches threshold, treating the peak as normal with median Peak.P50
// and the spread of Peak.P10..P90. It is 0 without a peak.
func (p *MonthEndPrediction) BreachProbability(threshold float64) float64 {
	if p.Peak == nil {
		return 0
	}
	return meExceedProb(*p.Peak, threshold)
}

// ErrMonthEndInput reports unusable input or options (no samples, a step
// that does not divide a day, a negative threshold, ...). Errors returned by
// PredictMonthEnd for such problems wrap it.
var ErrMonthEndInput = errors.New("month-end prediction: invalid input")

// PredictMonthEnd forecasts the coming month-end close window of a load
// series: the peak value and time with p10/p50/p90, the load profile over
// the window, whether and when it reaches the capacity threshold, and the
// peaks of the following closes.
//
// The method (details in README and monthend_model.go):
//
//  1. Samples before Now are averaged onto a grid (Step) and isolated
//     outliers are removed (Hampel filter, 5 robust SDs).
//  2. The baseline for a day is the per-time-of-day median of the nearest
//     BaselineDays non-close days of its type (same weekday for business
//     days, make-up workdays, days off).
//  3. Each complete past close window gives its uplift over the baseline
//     per business-day offset (0 = last business day) × time of day. The
//     common shape is the median of the closes' normalised uplifts; each
//     close's amplitude is its least-squares fit to that shape.
//  4. Amplitudes are divided by their kind's factor (quarter-end, year-end:
//     learned when the history holds such a close, otherwise a prior with a
//     wider interval) and a Theil–Sen line over months gives the growth.
//  5. Prediction = baseline of the window's days + amplitude × shape;
//     intervals from the dispersion of past closes (Student t) and the
//     baseline noise. Inside a started window the amplitude is updated
//     with the observed part.
//
// Fewer than two usable past closes give Status "insufficient_history"
// with the reason (and a nil error). Errors wrap ErrMonthEndInput.
func PredictMonthEnd(in MonthEndInput, opt MonthEndOptions) (MonthEndPrediction, error) {
	o, err := opt.withDefaults()
	if err != nil {
		return MonthEndPrediction{}, err
	}
	h, err := meBuildHistory(in.Samples, o)
	if err != nil {
		return MonthEndPrediction{}, err
	}
	o.Now = h.now
	cal := o.Calendar
	pred := MonthEndPrediction{
		Series:      in.Series,
		Unit:        in.Unit,
		Now:         h.now,
		Calendar:    cal.Name(),
		TimeZone:    cal.TimeZone(),
		CloseDays:   o.CloseDays,
		StepSeconds: h.step.Seconds(),
	}
	target, ok := meNextWindow(cal, o.CloseDays, h.now)
	if !ok {
		return MonthEndPrediction{}, fmt.Errorf("%w: the calendar has no business day in the 24 months after %s", ErrMonthEndInput, h.now.Format(time.RFC3339))
	}
	pred.Window = target.public(h.now)

	closes := h.pastCloses(o)
	used := 0
	for _, c := range closes {
		if c.used {
			used++
		}
	}
	fitted := used >= 2
	var m *meModel
	if fitted {
		m = meFit(h, closes, target.mi, o)
	}
	pred.Evidence.Closes = make([]MonthEndClose, len(closes))
	for i, c := range closes {
		pred.Evidence.Closes[i] = c.evidence(h, fitted)
	}
	if !fitted {
		pred.Status = MonthEndStatusInsufficientHistory
		pred.Reason = meInsufficientReason(h, closes, used)
		return pred, nil
	}
	pred.Status = MonthEndStatusOK
	m.predictWindow(h, target, o, &pred)
	m.outlook(h, target, o, &pred)
	if !cal.Covers(target.first) || !cal.Covers(target.last) {
		m.notes = append(m.notes, fmt.Sprintf("the calendar %q does not list holidays for %s: only its weekends are known there", cal.Name(), target.month))
	}
	pred.Evidence.Notes = m.notes
	return pred, nil
}

// withDefaults validates the options and fills in the defaults.
func (o MonthEndOptions) withDefaults() (MonthEndOptions, error) {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf(format, args...))
	}
	if o.Calendar == nil {
		o.Calendar = calendar.DefaultCalendar()
	}
	if o.CloseDays == 0 {
		o.CloseDays = DefaultMonthEndCloseDays
	}
	if o.CloseDays < 1 || o.CloseDays > 15 {
		bad("close days %d: use 1 to 15", o.CloseDays)
	}
	if o.Step != 0 && (o.Step < time.Minute || o.Step > MonthEndMaxStep || (24*time.Hour)%o.Step != 0) {
		bad("step %s: use a divisor of 24h between 1m and %s (e.g. 15m, 30m, 1h)", o.Step, MonthEndMaxStep)
	}
	if o.Threshold < 0 || math.IsNaN(o.Threshold) || math.IsInf(o.Threshold, 0) {
		bad("threshold %v: use a positive capacity, or 0 for none", o.Threshold)
	}
	if o.OutlookMonths == 0 {
		o.OutlookMonths = DefaultMonthEndOutlookMonths
	}
	if o.OutlookMonths < 0 {
		o.OutlookMonths = 0
	}
	if o.OutlookMonths > 60 {
		bad("outlook of %d months: use at most 60", o.OutlookMonths)
	}
	def := func(v *float64, d float64, name string, min float64) {
		if *v == 0 {
			*v = d
		}
		if !(*v >= min) || math.IsInf(*v, 0) {
			bad("%s %v: must be at least %v", name, *v, min)
		}
	}
	def(&o.QuarterPrior, DefaultMonthEndQuarterPrior, "quarter prior", 0)
	def(&o.YearPrior, DefaultMonthEndYearPrior, "year prior", 0)
	def(&o.PriorSpread, DefaultMonthEndPriorSpread, "prior spread", 0)
	def(&o.WarnProbability, DefaultMonthEndWarnProbability, "warn probability", 0)
	if o.WarnProbability > 1 {
		bad("warn probability %v: must be at most 1", o.WarnProbability)
	}
	if o.BaselineDays == 0 {
		o.BaselineDays = DefaultMonthEndBaselineDays
	}
	if o.BaselineDays < 1 || o.BaselineDays > 60 {
		bad("baseline days %d: use 1 to 60", o.BaselineDays)
	}
	if len(errs) > 0 {
		return o, fmt.Errorf("%w: %w", ErrMonthEndInput, errors.Join(errs...))
	}
	return o, nil
}

// meInsufficientReason explains why fewer than two closes could be used.
func meInsufficientReason(h *meHistory, closes []*meClose, used int) string {
	span := fmt.Sprintf("the history from %s to %s", h.firstTime.Format(time.DateOnly), h.now.Format(time.DateOnly))
	var names, skipped []string
	for _, c := range closes {
		if c.used {
			names = append(names, c.month)
		} else {
			skipped = append(skipped, c.month+" ("+c.why+")")
		}
	}
	msg := fmt.Sprintf("%s holds %d complete close window(s) usable for learning", span, used)
	if len(names) > 0 {
		msg += fmt.Sprintf(" (%s)", names[0])
	}
	msg += "; at least 2 are needed"
	if len(skipped) > 0 {
		msg += "; left out: " + strings.Join(skipped, ", ")
	}
	return msg
}
