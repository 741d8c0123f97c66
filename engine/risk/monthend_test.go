package risk

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/seed-f1b503aa/foresight/calendar"
	"github.com/seed-f1b503aa/foresight/engine"
)

// meSynth is a synthetic load with known month-end closes: a business-day
// profile (08:30–18:30) over a night floor, and on the last closeDays
// business days a peak at 17:00 local over an evening plateau, weighted
// 1, 0.7, 0.45 from the last business day back, ×quarter at quarter-end
// and ×year at year-end, growing by growth per month.
type meSynth struct {
	cal           *calendar.Calendar
	closeDays     int
	floor, day    float64 // night level, business-day amplitude
	uplift        float64 // regular close peak uplift at month 0
	quarter, year float64 // multipliers
	growth        float64 // relative uplift growth per month
	month0        int     // MonthIndex where growth is 0
	noise         float64 // SD of white noise
	seed          uint64
	surprise      map[int]float64 // extra uplift multiplier by MonthIndex
}

func (g meSynth) kindScale(m time.Month) float64 {
	switch {
	case g.cal.IsYearEnd(m):
		return g.year
	case g.cal.IsQuarterEnd(m):
		return g.quarter
	}
	return 1
}

// mean is the noise-free value at t.
func (g meSynth) mean(t time.Time) float64 {
	lt := t.In(g.cal.Location())
	d := calendar.DateIn(lt, g.cal.Location())
	hr := float64(lt.Hour()) + float64(lt.Minute())/60
	sig := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	if !g.cal.IsBusinessDay(d) {
		return g.floor
	}
	v := g.floor + g.day*sig((hr-8.5)/0.4)*(1-sig((hr-18.5)/0.5))
	if k := g.cal.BusinessDaysBeforeMonthEnd(d); k >= 0 && k < g.closeDays {
		w := 1 - 0.55*float64(k)/float64(max(g.closeDays-1, 1))
		prof := math.Exp(-math.Pow((hr-17)/1.5, 2)) + 0.3*sig((hr-9)/0.4)*(1-sig((hr-22)/0.6))
		a := g.uplift * g.kindScale(d.Month) * (1 + g.growth*float64(d.MonthIndex()-g.month0))
		if f, ok := g.surprise[d.MonthIndex()]; ok {
			a *= f
		}
		v += a * w * prof
	}
	return v
}

// samples returns the series on [from, to) every step.
func (g meSynth) samples(from, to time.Time, step time.Duration) []engine.Sample {
	r := rand.New(rand.NewPCG(g.seed, 7))
	var out []engine.Sample
	for t := from; t.Before(to); t = t.Add(step) {
		out = append(out, engine.Sample{Time: t, Value: g.mean(t) + g.noise*r.NormFloat64()})
	}
	return out
}

// truePeak is the largest noise-free value of the window on the step grid.
func (g meSynth) truePeak(w *MonthEndWindow, step time.Duration) (float64, time.Time) {
	best, at := math.Inf(-1), time.Time{}
	for t := w.From; t.Before(w.End); t = t.Add(step) {
		if v := g.mean(t); v > best {
			best, at = v, t
		}
	}
	return best, at
}

// firstCrossing is the first grid time in the window at which the
// noise-free value reaches thr.
func (g meSynth) firstCrossing(w *MonthEndWindow, step time.Duration, thr float64) (time.Time, bool) {
	for t := w.From; t.Before(w.End); t = t.Add(step) {
		if g.mean(t) >= thr {
			return t, true
		}
	}
	return time.Time{}, false
}

func newSynth(cal *calendar.Calendar) meSynth {
	return meSynth{cal: cal, closeDays: 3, floor: 8, day: 35, uplift: 30, quarter: 1.5, year: 2.4, noise: 1, seed: 1}
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestPredictMonthEndAccuracy(t *testing.T) {
	cal := calendar.DefaultCalendar()
	tests := []struct {
		name       string
		from, now  string
		growth     float64
		wantMonth  string
		wantKind   MonthEndKind
		tolPercent float64
	}{
		// closes Jan, Feb, Mar (quarter-end), Apr in history; May is regular
		{"regular after a quarter", "2026-01-05T00:00:00Z", "2026-05-20T00:00:00Z", 0, "2026-05", MonthEndRegular, 4},
		// quarter-end learned from March
		{"quarter-end learned", "2026-01-05T00:00:00Z", "2026-06-20T00:00:00Z", 0, "2026-06", MonthEndQuarter, 5},
		// only regular closes seen (Apr, May): the June quarter-end uses the prior (1.5, as the truth)
		{"quarter-end from prior", "2026-04-06T00:00:00Z", "2026-06-20T00:00:00Z", 0, "2026-06", MonthEndQuarter, 8},
		// 6 % growth per month, 5 closes
		{"growing closes", "2026-01-05T00:00:00Z", "2026-07-20T00:00:00Z", 0.06, "2026-07", MonthEndRegular, 5},
		// prediction made two weeks ahead
		{"two weeks ahead", "2026-01-05T00:00:00Z", "2026-05-12T00:00:00Z", 0, "2026-05", MonthEndRegular, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := newSynth(cal)
			g.growth = tc.growth
			g.month0 = calendar.NewDate(2026, 1, 1).MonthIndex()
			step := 15 * time.Minute
			now := utc(tc.now)
			smp := g.samples(utc(tc.from), now, step)
			p, err := PredictMonthEnd(MonthEndInput{Series: "load", Samples: smp}, MonthEndOptions{Calendar: cal, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			if p.Status != MonthEndStatusOK {
				t.Fatalf("status %s: %s", p.Status, p.Reason)
			}
			if p.Window.Month != tc.wantMonth || p.Window.Kind != tc.wantKind {
				t.Fatalf("window %s %s, want %s %s", p.Window.Month, p.Window.Kind, tc.wantMonth, tc.wantKind)
			}
			want, wantAt := g.truePeak(p.Window, step)
			errPct := 100 * math.Abs(p.Peak.P50-want) / want
			t.Logf("peak %.2f [%.2f, %.2f] at %s; true %.2f at %s; err %.1f%%; trend %.2f%%/month; notes %q",
				p.Peak.P50, p.Peak.P10, p.Peak.P90, p.PeakTime.P50.In(cal.Location()).Format("01-02 15:04"), want,
				wantAt.In(cal.Location()).Format("01-02 15:04"), errPct, p.Evidence.Trend.UpliftPercentPerMonth, p.Evidence.Notes)
			if errPct > tc.tolPercent {
				t.Errorf("peak %.2f, true %.2f: error %.1f%% > %.0f%%", p.Peak.P50, want, errPct, tc.tolPercent)
			}
			if !(p.Peak.P10 <= want && want <= p.Peak.P90) {
				t.Errorf("true peak %.2f outside [%.2f, %.2f]", want, p.Peak.P10, p.Peak.P90)
			}
			if d := p.PeakTime.P50.Sub(wantAt); d < -time.Hour || d > time.Hour {
				t.Errorf("peak time %s, true %s", p.PeakTime.P50, wantAt)
			}
			if lt := p.PeakTime.P50.In(cal.Location()); lt.Hour() < 16 || lt.Hour() > 17 {
				t.Errorf("peak at %s local, want about 17:00", lt.Format("15:04"))
			}
			if !(p.PeakTime.P10.Compare(p.PeakTime.P50) <= 0 && p.PeakTime.P50.Compare(p.PeakTime.P90) <= 0) {
				t.Errorf("peak time quantiles out of order: %+v", p.PeakTime)
			}
			if tc.growth > 0 {
				tr := p.Evidence.Trend
				if !tr.Applied || math.Abs(tr.UpliftPercentPerMonth-100*tc.growth/(1+tc.growth*6)) > 2 {
					t.Errorf("trend %+v, want about %.1f%%/month", tr, 100*tc.growth/(1+tc.growth*6))
				}
			}
		})
	}
}

func TestPredictMonthEndOtherTimeZone(t *testing.T) {
	// New York: daylight saving starts 2026-03-08 inside the history and
	// ends 2026-11-01 just before the predicted close; hourly samples.
	cal, err := calendar.ParseCalendar([]byte("name: us\ntimezone: America/New_York\nholidays: [2026-11-26]\n"), "us.yaml")
	if err != nil {
		t.Fatal(err)
	}
	g := newSynth(cal)
	now := utc("2026-11-10T00:00:00Z")
	p, err := PredictMonthEnd(MonthEndInput{Samples: g.samples(utc("2026-02-01T00:00:00Z"), now, time.Hour)}, MonthEndOptions{Calendar: cal})
	if err != nil || p.Status != MonthEndStatusOK {
		t.Fatalf("%v %s", err, p.Reason)
	}
	// Thanksgiving (Thursday 26th) is off: the window is Nov 25, 27, 30.
	if got := strings.Join(p.Window.Days, " "); got != "2026-11-25 2026-11-27 2026-11-30" {
		t.Errorf("window %s", got)
	}
	want, wantAt := g.truePeak(p.Window, time.Hour)
	local := p.PeakTime.P50.In(cal.Location())
	if math.Abs(p.Peak.P50-want)/want > 0.05 || local.Format("2006-01-02") != "2026-11-30" || local.Hour() < 16 || local.Hour() > 17 {
		t.Errorf("peak %.1f at %s local; true %.1f at %s", p.Peak.P50, local, want, wantAt.In(cal.Location()))
	}
	for _, c := range p.Evidence.Closes {
		if lt := c.PeakTime.In(cal.Location()); c.Used && (lt.Hour() < 16 || lt.Hour() > 17) {
			t.Errorf("close %s peaked at %s local", c.Month, lt)
		}
	}
}

func TestPredictMonthEndInsufficientHistory(t *testing.T) {
	cal := calendar.DefaultCalendar()
	g := newSynth(cal)
	tests := []struct {
		name, from string
		want       []string // substrings of Reason
	}{
		{"one close", "2026-04-06T00:00:00Z", []string{"1 complete close window", "(2026-04)", "at least 2"}},
		{"history starts inside a close", "2026-04-29T00:00:00Z", []string{"0 complete close window", "2026-04 (the history starts inside or after it)"}},
		{"no close at all", "2026-05-04T00:00:00Z", []string{"0 complete close window"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			now := utc("2026-05-20T00:00:00Z")
			p, err := PredictMonthEnd(MonthEndInput{Samples: g.samples(utc(tc.from), now, time.Hour)}, MonthEndOptions{Calendar: cal})
			if err != nil {
				t.Fatal(err)
			}
			if p.Status != MonthEndStatusInsufficientHistory || p.Peak != nil || p.Profile != nil {
				t.Fatalf("status %q peak %v", p.Status, p.Peak)
			}
			for _, w := range tc.want {
				if !strings.Contains(p.Reason, w) {
					t.Errorf("reason %q lacks %q", p.Reason, w)
				}
			}
			if p.Window == nil || p.Window.Month != "2026-05" {
				t.Errorf("window %+v", p.Window)
			}
		})
	}
}

func TestPredictMonthEndWindowFollowsCalendar(t *testing.T) {
	custom, err := calendar.ParseCalendar([]byte(`
name: test
timezone: Asia/Shanghai
holidays:
  - {date: 2026-06-30, name: a Tuesday off}
workdays:
  - {date: 2026-05-30, name: a Saturday worked}
`), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	def := calendar.DefaultCalendar()
	tests := []struct {
		name      string
		cal       *calendar.Calendar
		closeDays int
		now       string
		want      []string
		kind      MonthEndKind
	}{
		{"holiday on the 30th moves the last business day", custom, 3, "2026-06-20T00:00:00Z", []string{"2026-06-25", "2026-06-26", "2026-06-29"}, MonthEndQuarter},
		{"make-up Saturday is the last business day", custom, 3, "2026-05-20T00:00:00Z", []string{"2026-05-28", "2026-05-29", "2026-05-30"}, MonthEndRegular},
		{"default: Feb 28 2026 is a make-up Saturday", def, 3, "2026-02-10T00:00:00Z", []string{"2026-02-26", "2026-02-27", "2026-02-28"}, MonthEndRegular},
		{"default: Oct 31 2026 is a Saturday", def, 2, "2026-10-20T00:00:00Z", []string{"2026-10-29", "2026-10-30"}, MonthEndRegular},
		{"default: year end", def, 5, "2026-12-01T00:00:00Z", []string{"2026-12-25", "2026-12-28", "2026-12-29", "2026-12-30", "2026-12-31"}, MonthEndYear},
		{"now inside the window", def, 3, "2026-03-30T05:00:00Z", []string{"2026-03-27", "2026-03-30", "2026-03-31"}, MonthEndQuarter},
		{"now after the last close day rolls over", def, 3, "2026-03-31T16:00:00Z", []string{"2026-04-28", "2026-04-29", "2026-04-30"}, MonthEndRegular},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := newSynth(tc.cal)
			now := utc(tc.now)
			p, err := PredictMonthEnd(MonthEndInput{Samples: g.samples(now.Add(-48*time.Hour), now, time.Hour)},
				MonthEndOptions{Calendar: tc.cal, CloseDays: tc.closeDays, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(p.Window.Days, " ") != strings.Join(tc.want, " ") || p.Window.Kind != tc.kind {
				t.Errorf("window %v %s, want %v %s", p.Window.Days, p.Window.Kind, tc.want, tc.kind)
			}
			loc := tc.cal.Location()
			if got := p.Window.Start.In(loc).Format(time.DateTime); got != tc.want[0]+" 00:00:00" {
				t.Errorf("start %s", got)
			}
			if got := p.Window.End.Add(-time.Hour).In(loc).Format(time.DateOnly); got != tc.want[len(tc.want)-1] {
				t.Errorf("end %s", p.Window.End)
			}
		})
	}

	// The predicted peak lands on the shifted last business day.
	g := newSynth(custom)
	now := utc("2026-06-20T00:00:00Z")
	p, err := PredictMonthEnd(MonthEndInput{Samples: g.samples(utc("2026-01-05T00:00:00Z"), now, 30*time.Minute)}, MonthEndOptions{Calendar: custom})
	if err != nil || p.Status != MonthEndStatusOK {
		t.Fatalf("%v %s %s", err, p.Status, p.Reason)
	}
	want, wantAt := g.truePeak(p.Window, 30*time.Minute)
	if got := p.PeakTime.P50.In(custom.Location()).Format("2006-01-02 15"); got != wantAt.In(custom.Location()).Format("2006-01-02 15") || !strings.HasPrefix(got, "2026-06-29") {
		t.Errorf("peak at %s, true %s", got, wantAt.In(custom.Location()))
	}
	if math.Abs(p.Peak.P50-want)/want > 0.05 {
		t.Errorf("peak %.1f, true %.1f", p.Peak.P50, want)
	}
}

func TestPredictMonthEndBreach(t *testing.T) {
	cal := calendar.DefaultCalendar()
	g := newSynth(cal)
	step := 15 * time.Minute
	now := utc("2026-05-20T00:00:00Z")
	smp := g.samples(utc("2026-01-05T00:00:00Z"), now, step)
	// May (regular) peaks near 80 (its second-to-last day near 70), June
	// (quarter-end) near 100.
	tests := []struct {
		threshold  float64
		likely     bool
		minProb    float64
		maxProb    float64
		first      bool // FirstTime set
		firstMonth string
	}{
		{75, true, 0.95, 1, true, "2026-05"},
		{90, false, 0, 0.05, false, "2026-06"},
		{130, false, 0, 0.01, false, ""},
	}
	for _, tc := range tests {
		p, err := PredictMonthEnd(MonthEndInput{Samples: smp}, MonthEndOptions{Calendar: cal, Now: now, Threshold: tc.threshold})
		if err != nil {
			t.Fatal(err)
		}
		b := p.Breach
		if b == nil {
			t.Fatal("no breach section")
		}
		t.Logf("threshold %.0f: prob %.3f first %v earliest %v month %q", tc.threshold, b.Probability, b.FirstTime, b.EarliestTime, b.FirstMonth)
		if b.Likely != tc.likely || b.Probability < tc.minProb || b.Probability > tc.maxProb || b.FirstMonth != tc.firstMonth {
			t.Errorf("threshold %.0f: %+v", tc.threshold, b)
		}
		if math.Abs(b.Headroom-(tc.threshold-p.Peak.P50)) > 1e-9 {
			t.Errorf("headroom %v", b.Headroom)
		}
		if (b.FirstTime != nil) != tc.first {
			t.Fatalf("threshold %.0f: first time %v", tc.threshold, b.FirstTime)
		}
		if b.FirstTime != nil {
			want, ok := g.firstCrossing(p.Window, step, tc.threshold)
			if !ok {
				t.Fatal("the truth never crosses")
			}
			if d := b.FirstTime.Sub(want); d < -time.Hour || d > time.Hour {
				t.Errorf("first breach %s, true %s", b.FirstTime, want)
			}
			if b.EarliestTime == nil || b.EarliestTime.After(*b.FirstTime) {
				t.Errorf("earliest %v after first %v", b.EarliestTime, b.FirstTime)
			}
		}
		for _, o := range p.Outlook {
			if o.BreachProbability == nil || *o.BreachProbability < 0 || *o.BreachProbability > 1 {
				t.Errorf("outlook %s: probability %v", o.Month, o.BreachProbability)
			}
		}
	}
}

func TestPredictMonthEndInsideWindow(t *testing.T) {
	cal := calendar.DefaultCalendar()
	g := newSynth(cal)
	may := calendar.NewDate(2026, 5, 1).MonthIndex()
	g.surprise = map[int]float64{may: 1.3} // this close runs 30 % hotter than any before
	step := 15 * time.Minute
	from := utc("2026-01-05T00:00:00Z")
	before := utc("2026-05-20T00:00:00Z")
	inside := time.Date(2026, 5, 28, 14, 0, 0, 0, cal.Location()) // second day of the window, 14:00
	var errs []float64
	for _, now := range []time.Time{before, inside} {
		p, err := PredictMonthEnd(MonthEndInput{Samples: g.samples(from, now, step)}, MonthEndOptions{Calendar: cal, Now: now})
		if err != nil || p.Status != MonthEndStatusOK {
			t.Fatalf("%v %s", err, p.Reason)
		}
		want, _ := g.truePeak(p.Window, step)
		errs = append(errs, math.Abs(p.Peak.P50-want)/want)
		if now.Equal(inside) {
			if !p.Window.From.Equal(inside) || p.Window.ObservedPeak == nil {
				t.Errorf("window %+v", p.Window)
			}
			if p.Profile[0].Time.Before(inside) {
				t.Errorf("profile starts at %s, before now", p.Profile[0].Time)
			}
			if !(p.Peak.P10 <= want && want <= p.Peak.P90) {
				t.Errorf("true peak %.1f outside [%.1f, %.1f]", want, p.Peak.P10, p.Peak.P90)
			}
		}
	}
	t.Logf("peak error before the window %.1f%%, inside %.1f%%", 100*errs[0], 100*errs[1])
	if errs[1] > 0.04 || errs[1] > errs[0]/2 {
		t.Errorf("inside the window the error %.3f should be small and at most half of %.3f", errs[1], errs[0])
	}
}

func TestPredictMonthEndGapsAndIrregularTimes(t *testing.T) {
	cal := calendar.DefaultCalendar()
	g := newSynth(cal)
	now := utc("2026-05-20T00:00:00Z")
	full := g.samples(utc("2026-01-05T00:00:00Z"), now, 5*time.Minute)
	r := rand.New(rand.NewPCG(3, 4))
	var smp []engine.Sample
	gapFrom, gapTo := utc("2026-04-29T02:00:00Z"), utc("2026-04-29T08:00:00Z") // six hours of the April close
	for i, s := range full {
		if r.Float64() < 0.15 || (!s.Time.Before(gapFrom) && s.Time.Before(gapTo)) {
			continue
		}
		s.Time = s.Time.Add(time.Duration(r.IntN(120)-60) * time.Second)
		if i%500 == 7 {
			s.Value = math.NaN()
		}
		if i%997 == 3 {
			s.Value += 200 // isolated outliers
		}
		smp = append(smp, s)
	}
	// reverse order: input order must not matter
	for i, j := 0, len(smp)-1; i < j; i, j = i+1, j-1 {
		smp[i], smp[j] = smp[j], smp[i]
	}
	p, err := PredictMonthEnd(MonthEndInput{Samples: smp}, MonthEndOptions{Calendar: cal, Now: now})
	if err != nil || p.Status != MonthEndStatusOK {
		t.Fatalf("%v %s", err, p.Reason)
	}
	if p.StepSeconds != 900 {
		t.Errorf("step %v s, want 900 (5-minute samples averaged to 15 minutes)", p.StepSeconds)
	}
	want, wantAt := g.truePeak(p.Window, 15*time.Minute)
	if e := math.Abs(p.Peak.P50-want) / want; e > 0.05 {
		t.Errorf("peak %.1f, true %.1f", p.Peak.P50, want)
	}
	if d := p.PeakTime.P50.Sub(wantAt); d < -time.Hour || d > time.Hour {
		t.Errorf("peak time %s, true %s", p.PeakTime.P50, wantAt)
	}
	for _, c := range p.Evidence.Closes {
		if c.Peak > 150 {
			t.Errorf("close %s peak %.1f: outlier not removed", c.Month, c.Peak)
		}
	}
}

func TestPredictMonthEndYearEndPrior(t *testing.T) {
	cal := calendar.DefaultCalendar()
	g := newSynth(cal)
	now := utc("2026-12-10T00:00:00Z")
	p, err := PredictMonthEnd(MonthEndInput{Samples: g.samples(utc("2026-07-01T00:00:00Z"), now, 30*time.Minute)}, MonthEndOptions{Calendar: cal})
	if err != nil || p.Status != MonthEndStatusOK {
		t.Fatalf("%v %s", err, p.Reason)
	}
	u := p.Evidence.Uplift
	if !strings.HasPrefix(u.QuarterSource, "learned from 2026-09") || !strings.HasPrefix(u.YearSource, "prior") {
		t.Errorf("sources %q %q", u.QuarterSource, u.YearSource)
	}
	if math.Abs(u.QuarterFactor-1.5) > 0.1 || math.Abs(u.YearFactor-1.5*u.QuarterFactor) > 1e-9 {
		t.Errorf("factors %v %v", u.QuarterFactor, u.YearFactor)
	}
	want, _ := g.truePeak(p.Window, 30*time.Minute)
	if !(p.Peak.P10 <= want && want <= p.Peak.P90) {
		t.Errorf("true year-end peak %.1f outside [%.1f, %.1f]", want, p.Peak.P10, p.Peak.P90)
	}
	noted := false
	for _, n := range p.Evidence.Notes {
		noted = noted || strings.Contains(n, "year-end") && strings.Contains(n, "prior")
	}
	if !noted {
		t.Errorf("notes %q do not say the year-end factor is a prior", p.Evidence.Notes)
	}
	// the year-end interval is wider than a regular close's (relative)
	rel := (p.Peak.P90 - p.Peak.P10) / p.Peak.P50
	jan := p.Outlook[0]
	if jan.Month != "2027-01" || jan.Kind != MonthEndRegular || (jan.Peak.P90-jan.Peak.P10)/jan.Peak.P50 >= rel {
		t.Errorf("outlook %+v vs year-end width %.3f", jan, rel)
	}
}

func TestPredictMonthEndNoUplift(t *testing.T) {
	cal := calendar.DefaultCalendar()
	g := newSynth(cal)
	g.uplift = 0
	now := utc("2026-05-20T00:00:00Z")
	p, err := PredictMonthEnd(MonthEndInput{Samples: g.samples(utc("2026-02-02T00:00:00Z"), now, time.Hour)}, MonthEndOptions{Calendar: cal})
	if err != nil || p.Status != MonthEndStatusOK {
		t.Fatalf("%v %s", err, p.Reason)
	}
	want, _ := g.truePeak(p.Window, time.Hour)
	if math.Abs(p.Peak.P50-want)/want > 0.05 || p.Evidence.Uplift.Applied > 0.05*want {
		t.Errorf("peak %.1f (uplift %.2f), true %.1f", p.Peak.P50, p.Evidence.Uplift.Applied, want)
	}
}

func TestPredictMonthEndErrors(t *testing.T) {
	cal := calendar.DefaultCalendar()
	g := newSynth(cal)
	smp := g.samples(utc("2026-04-01T00:00:00Z"), utc("2026-05-01T00:00:00Z"), time.Hour)
	twoHourly := g.samples(utc("2026-04-01T00:00:00Z"), utc("2026-05-01T00:00:00Z"), 2*time.Hour)
	tests := []struct {
		name string
		smp  []engine.Sample
		opt  MonthEndOptions
		want string
	}{
		{"no samples", nil, MonthEndOptions{}, "no samples"},
		{"nothing before now", smp, MonthEndOptions{Now: utc("2026-01-01T00:00:00Z")}, "no samples before now"},
		{"negative threshold", smp, MonthEndOptions{Threshold: -1}, "threshold -1"},
		{"step not dividing a day", smp, MonthEndOptions{Step: 7 * time.Minute}, "step 7m0s"},
		{"two-hourly samples", twoHourly, MonthEndOptions{}, "at least hourly"},
		{"close days", smp, MonthEndOptions{CloseDays: 40}, "close days 40"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.opt.Calendar = cal
			_, err := PredictMonthEnd(MonthEndInput{Samples: tc.smp}, tc.opt)
			if !errors.Is(err, ErrMonthEndInput) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want ErrMonthEndInput with %q", err, tc.want)
			}
		})
	}
}

func TestMonthEndPredictionJSON(t *testing.T) {
	cal := calendar.DefaultCalendar()
	g := newSynth(cal)
	now := utc("2026-05-20T00:00:00Z")
	p, err := PredictMonthEnd(MonthEndInput{Series: "cpu", Unit: "percent", Samples: g.samples(utc("2026-01-05T00:00:00Z"), now, time.Hour)},
		MonthEndOptions{Calendar: cal, Threshold: 95})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"series", "unit", "status", "now", "calendar", "time_zone", "close_days", "step_seconds",
		"window", "peak", "peak_time", "breach", "profile", "outlook", "evidence"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	ev := m["evidence"].(map[string]any)
	for _, k := range []string{"closes", "baseline", "uplift", "trend"} {
		if _, ok := ev[k]; !ok {
			t.Errorf("evidence lacks %q", k)
		}
	}
	peak := m["peak"].(map[string]any)
	if _, ok := peak["p90"]; !ok {
		t.Errorf("peak %v", peak)
	}
	if m["calendar"] != "cn-default" || m["time_zone"] != "Asia/Shanghai" {
		t.Errorf("calendar %v %v", m["calendar"], m["time_zone"])
	}
}
