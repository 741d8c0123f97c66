// Package disk renders the disk-exhaustion notebook: a volume that a
// fixed-window predict_linear alert pages on and Foresight's disk predictor
// does not, and a volume that really fills, on which both warn.
package disk

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg/draw"

	"github.com/seed-f1b503aa/foresight/datasets"
	"github.com/seed-f1b503aa/foresight/engine/risk"
	"github.com/seed-f1b503aa/foresight/notebooks/internal/nb"
)

// The scenario.
const (
	hosts       = 4
	seed        = 0
	step        = 15 * time.Minute
	history     = 30 * 24 * time.Hour // what the server reads per volume (predictors.disk.history)
	replay      = 14 * 24 * time.Hour // how far back the alert replays go
	alarmDays   = 7.0                 // Foresight's ticket policy: < 7 days to full is a (minor) ticket
	quietNows   = 14                  // fleet table: evaluations 25 h apart, as the scenario benchmark
	etaEvery    = 3 * time.Hour       // the filling disk's replay step
	pagedHost   = "erp-app-02"
	pagedPath   = "/var/log"
	fillingHost = "erp-app-01"
	fillingPath = "/opt/erp"
)

// rule is a Prometheus-style alert on predict_linear.
type rule struct {
	name   string
	window time.Duration
	within float64 // days
}

var rules = []rule{
	{"predict_linear 6 h → full within 24 h", 6 * time.Hour, 1},
	{"predict_linear 6 h → full within 7 d", 6 * time.Hour, 7},
	{"predict_linear 24 h → full within 7 d", 24 * time.Hour, 7},
}

type disk struct {
	src   *nb.Source
	id    string
	gt    datasets.GroundTruth
	used  []float64
	total []float64
}

func (d *disk) name() string { return d.src.Tags["host"] + " " + d.src.Tags["path"] }

// predict runs Foresight's disk predictor on the server's window before now.
func (d *disk) predict(now time.Time, totalBytes float64) (risk.DiskPrediction, error) {
	lo, hi := d.src.Window(now.Add(-history), now)
	in := risk.DiskInput{Times: d.src.Times[lo:hi], Used: d.used[lo:hi]}
	if totalBytes > 0 {
		in.TotalBytes = totalBytes
	} else {
		in.Total = d.total[lo:hi]
	}
	return risk.PredictDisk(in, risk.DiskOptions{Now: now})
}

// peer is the predict_linear ETA in days over a window before now.
func (d *disk) peer(now time.Time, window time.Duration, level float64) float64 {
	lo, hi := d.src.Window(now.Add(-window), now)
	return nb.PeerETA(d.src.Times[lo:hi], d.used[lo:hi], now, window, level)
}

func (d *disk) totalAt(now time.Time) float64 {
	_, hi := d.src.Window(now.Add(-history), now)
	return d.total[hi-1]
}

// Render writes README.md and the PNG files of the notebook into dir.
func Render(dir string) error {
	f, err := datasets.GenerateFleet(datasets.FleetConfig{Hosts: hosts, Step: step, Seed: seed})
	if err != nil {
		return err
	}
	srcs, err := nb.Collect(f, func(m string, _ map[string]string) bool { return m == "disk" })
	if err != nil {
		return err
	}
	truth := f.GroundTruth()
	var disks []*disk
	for _, s := range srcs {
		d := &disk{src: s, id: s.ID("used"), used: s.Values["used"], total: s.Values["total"]}
		d.gt = truth[d.id]
		disks = append(disks, d)
	}
	r := &report{dir: dir, fleet: f, disks: disks, end: f.End(), last: f.End().Add(-step)}
	return r.write()
}

type report struct {
	dir       string
	fleet     *datasets.Fleet
	disks     []*disk
	end, last time.Time
}

func (r *report) find(host, path string) *disk {
	for _, d := range r.disks {
		if d.src.Tags["host"] == host && d.src.Tags["path"] == path {
			return d
		}
	}
	return nil
}

func (r *report) write() error {
	d := &nb.Doc{}
	d.H1("Disk exhaustion: when predict_linear pages and Foresight does not")
	d.P("*An executed notebook: every number, table and figure below is computed by `go run ./notebooks/disk -out notebooks/disk` " +
		"(or `make notebooks`) from Foresight's own code on deterministic demo data; `go test ./notebooks/` fails if this page is stale.*")
	d.P("The usual disk alert is Prometheus' `predict_linear`: fit a least-squares line to the last few hours of usage and page when it reaches the "+
		"volume's size within some horizon. It is simple and it is fooled by anything that is not a straight line — the daily sawtooth of log rotation, "+
		"nightly dumps, batch temp files, cleanups. This notebook replays such alerts and Foresight's disk predictor (`risk.PredictDisk`, as the server "+
		"runs it: the last %d days of each volume at %s resolution) over the demo fleet, whose ground truth says when each volume really fills.",
		int(history.Hours()/24), "15-minute")
	d.H2("The data and the rules")
	var rn []string
	for _, ru := range rules {
		rn = append(rn, fmt.Sprintf("`%s` — least squares over the last %s of raw samples, page when the line reaches the volume's total within %s",
			ru.name, fmtDur(ru.window), fmtDur(time.Duration(ru.within*24)*time.Hour)))
	}
	d.Bullets(append([]string{
		fmt.Sprintf("Demo fleet (`datasets.GenerateFleet`, seed %d, its first %d hosts, %d days ending %s, one sample every 15 minutes): %d volumes "+
			"with used and total bytes; times below are local (Asia/Shanghai), where log rotation and backups happen.",
			seed, hosts, r.fleet.Config().Days, r.end.Format("2006-01-02 15:04 MST"), len(r.disks)),
		fmt.Sprintf("Foresight pages (opens a disk ticket) when its median ETA to full is under %.0f days — the ticket policy's lowest severity; "+
			"`< 72 h` is major and `< 24 h` critical.", alarmDays),
	}, rn...)...)

	if err := r.fleetSection(d); err != nil {
		return err
	}
	if err := r.pagedSection(d); err != nil {
		return err
	}
	if err := r.fillingSection(d); err != nil {
		return err
	}
	d.H2("Rerun")
	d.Code("sh", "make notebooks                           # all notebooks\ngo run ./notebooks/disk -out notebooks/disk   # this one")
	return d.WriteFile(r.dir)
}

func fmtDur(d time.Duration) string {
	if d >= 48*time.Hour && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d d", int(d.Hours()/24))
	}
	return fmt.Sprintf("%d h", int(d.Hours()))
}

func fmtETA(p risk.DiskPrediction) string {
	switch {
	case p.Full.Reached:
		return "full now"
	case p.Full.P50 == nil && p.Full.P10 != nil:
		return fmt.Sprintf("> %.0f d (p10 %s)", p.HorizonDays, nb.Days(nb.DaysUntil(p.Full.P10, p.Now)))
	case p.Full.P50 == nil:
		return "none"
	}
	p90 := fmt.Sprintf("> %.0f d", p.HorizonDays)
	if p.Full.P90 != nil {
		p90 = nb.Days(nb.DaysUntil(p.Full.P90, p.Now))
	}
	return fmt.Sprintf("%s (p10 %s – p90 %s)", nb.Days(nb.DaysUntil(p.Full.P50, p.Now)), nb.Days(nb.DaysUntil(p.Full.P10, p.Now)), p90)
}

// --- the whole fleet ------------------------------------------------------------------

func (r *report) fleetSection(d *nb.Doc) error {
	d.H2("The fleet at a glance")
	var rows [][]string
	var totPL [3]int
	totOurs, evals := 0, 0
	inHorizon, withETA, pagedCyclic := 0, 0, 0
	var paged, insufficient []string
	others := map[risk.DiskStatus]int{}
	for _, dk := range r.disks {
		var pl [3]int
		ours := 0
		for k := 0; k < quietNows; k++ {
			now := r.last.Add(-time.Duration(k) * 25 * time.Hour)
			total := dk.totalAt(now)
			for i, ru := range rules {
				if dk.peer(now, ru.window, total) <= ru.within {
					pl[i]++
				}
			}
			p, err := dk.predict(now, 0)
			if err != nil {
				return err
			}
			if p.Full.Within(now.Add(time.Duration(alarmDays * 24 * float64(time.Hour)))) {
				ours++
			}
		}
		for i := range pl {
			totPL[i] += pl[i]
		}
		totOurs += ours
		evals += quietNows
		p, err := dk.predict(r.last, 0)
		if err != nil {
			return err
		}
		if dk.gt.FillTime != nil && dk.gt.FillTime.Sub(r.last).Hours()/24 <= p.HorizonDays {
			inHorizon++
			if p.Full.P50 != nil {
				withETA++
			}
		} else {
			others[p.Status]++
			if p.Status == risk.DiskInsufficientHistory {
				why := p.Reason
				for _, e := range dk.gt.Events {
					if (e.Type == datasets.EventPurge || e.Type == datasets.EventCleanup) && r.last.Sub(e.Time) < 48*time.Hour && !e.Time.After(r.last) {
						why += fmt.Sprintf("; the ground truth has a %s at %s, just before", e.Type, nb.When(e.Time))
					}
				}
				insufficient = append(insufficient, fmt.Sprintf("`%s` (%s)", dk.name(), why))
			}
		}
		if pl[0]+pl[1]+pl[2] > 0 {
			paged = append(paged, "`"+dk.name()+"`")
			if p.Evidence.DailyCycle {
				pagedCyclic++
			}
		}
		fill := "not within 365 d"
		if dk.gt.FillTime != nil {
			fill = fmt.Sprintf("%s (in %s)", dk.gt.FillTime.In(nb.Loc).Format("2006-01-02"), nb.Days(nb.DaysUntil(dk.gt.FillTime, r.last)))
		}
		rows = append(rows, []string{"`" + dk.name() + "`", string(dk.gt.Kind), fill, string(p.Status), fmtETA(p),
			fmt.Sprint(ours), fmt.Sprint(pl[0]), fmt.Sprint(pl[1]), fmt.Sprint(pl[2])})
	}
	rows = append(rows, []string{"**all**", "", "", "", "", fmt.Sprint(totOurs), fmt.Sprint(totPL[0]), fmt.Sprint(totPL[1]), fmt.Sprint(totPL[2])})
	d.P("Every volume of the first %d hosts, predicted at the end of the data, and the alerts each method raises at %d evaluation times "+
		"25 hours apart before it (so that they fall at every hour of the day, backups and rotations included; the same design as "+
		"`foresight bench scenarios`). \"True fill\" is the ground truth: when the noise-free process reaches the total.", hosts, quietNows)
	d.Table("lllllrrrr", []string{"volume", "kind (ground truth)", "true fill", "Foresight status at the end", "Foresight full ETA at the end",
		fmt.Sprintf("Foresight pages (of %d)", quietNows), "6 h → 24 h pages", "6 h → 7 d pages", "24 h → 7 d pages"}, rows)
	var st []string
	for _, s := range []risk.DiskStatus{risk.DiskStable, risk.DiskShrinking, risk.DiskFilling, risk.DiskInsufficientHistory} {
		if others[s] > 0 {
			name := "`" + string(s) + "`"
			if s == risk.DiskFilling {
				name = "`filling` without an ETA inside the horizon"
			}
			st = append(st, fmt.Sprintf("%s %d", name, others[s]))
		}
	}
	ins := ""
	if len(insufficient) > 0 {
		ins = " The `insufficient_history` answer: " + strings.Join(insufficient, "; ") + "."
	}
	d.P("Over these %d evaluations the predict_linear rules page %d, %d and %d times; Foresight pages %d times. "+
		"%d of the %d volumes that the ground truth fills within Foresight's 180-day horizon get a full ETA at the end of the data; the other volumes get %s.%s "+
		"The predict_linear pages come from %s — %d of them with a daily cycle in Foresight's evidence (log rotation, nightly dumps, batch temp files). "+
		"The next section looks at the one that pages most.",
		evals, totPL[0], totPL[1], totPL[2], totOurs, withETA, inHorizon, strings.Join(st, ", "), ins, strings.Join(paged, ", "), pagedCyclic)
	return nil
}

// --- the paged volume ------------------------------------------------------------------

type pageEval struct {
	now   time.Time
	fires [3]bool
}

// ourEval is one hourly evaluation of Foresight on the paged volume.
type ourEval struct {
	now    time.Time
	p      risk.DiskPrediction
	page   bool
	status risk.DiskStatus
}

func (r *report) pagedSection(d *nb.Doc) error {
	dk := r.find(pagedHost, pagedPath)
	if dk == nil {
		return fmt.Errorf("disk: no %s %s", pagedHost, pagedPath)
	}
	// every 15 minutes over the replay span: the rules
	var evs []pageEval
	for now := r.last.Add(-replay).Add(step); !now.After(r.last); now = now.Add(step) {
		total := dk.totalAt(now)
		e := pageEval{now: now}
		for i, ru := range rules {
			e.fires[i] = dk.peer(now, ru.window, total) <= ru.within
		}
		evs = append(evs, e)
	}
	// every hour: Foresight
	var ours []ourEval
	statuses := map[risk.DiskStatus]int{}
	for now := r.last.Add(-replay).Add(time.Hour); !now.After(r.last); now = now.Add(time.Hour) {
		p, err := dk.predict(now, 0)
		if err != nil {
			return err
		}
		page := p.Full.Within(now.Add(time.Duration(alarmDays * 24 * float64(time.Hour))))
		ours = append(ours, ourEval{now, p, page, p.Status})
		statuses[p.Status]++
	}
	oursPages := 0
	for _, o := range ours {
		if o.page {
			oursPages++
		}
	}
	// the page moment: the last firing of the strictest rule that fired
	var pageAt time.Time
	pageRule := -1
	for i := range rules {
		for _, e := range evs {
			if e.fires[i] {
				pageAt, pageRule = e.now, i
			}
		}
		if pageRule >= 0 {
			break
		}
	}
	if pageRule < 0 {
		return fmt.Errorf("disk: no predict_linear rule fires on %s", dk.name())
	}
	total := dk.totalAt(pageAt)
	p, err := dk.predict(pageAt, 0)
	if err != nil {
		return err
	}
	if p.Status != risk.DiskFilling || p.Full.P50 == nil || p.GrowthBytesPerDay == nil {
		return fmt.Errorf("disk: %s at %s: %s (%s)", dk.name(), pageAt, p.Status, p.Reason)
	}
	lo, hi := dk.src.Window(pageAt.Add(-24*time.Hour), pageAt)
	v6, b6, _ := nb.PredictLinear(dk.src.Times[lo:hi], dk.used[lo:hi], pageAt, 6*time.Hour)
	v24, b24, _ := nb.PredictLinear(dk.src.Times[lo:hi], dk.used[lo:hi], pageAt, 24*time.Hour)
	eta6, eta24 := nb.LinearETA(v6, b6, total), nb.LinearETA(v24, b24, total)

	d.H2(fmt.Sprintf("A log volume predict_linear pages on: `%s %s`", pagedHost, pagedPath))
	var rows [][]string
	for i, ru := range rules {
		n := 0
		for _, e := range evs {
			if e.fires[i] {
				n++
			}
		}
		rows = append(rows, []string{"`" + ru.name + "`", fmt.Sprintf("%d of %d (%.0f %%)", n, len(evs), 100*float64(n)/float64(len(evs))),
			fmt.Sprint(episodes(evs, func(e pageEval) bool { return e.fires[i] }))})
	}
	rows = append(rows, []string{fmt.Sprintf("Foresight: median ETA < %.0f d", alarmDays), fmt.Sprintf("%d of %d (%.0f %%)", oursPages, len(ours), 100*float64(oursPages)/float64(len(ours))),
		fmt.Sprint(episodes(ours, func(o ourEval) bool { return o.page }))})
	d.P("`%s` holds application logs on a %s volume. Logs are rotated at local midnight, so usage climbs through each day (fast on "+
		"business days, slowly on weekends and holidays) and drops back every night; the retention keeps a little more than it deletes, so the nightly floor creeps up. "+
		"The ground truth: the volume fills on %s, %s after the end of the data. Replaying the last %d days — the rules every 15 minutes, "+
		"Foresight every hour:", pagedPath, nb.Bytes(total), nb.WhenY(*dk.gt.FillTime), nb.Days(nb.DaysUntil(dk.gt.FillTime, r.last)), int(replay.Hours()/24))
	d.Table("lrr", []string{"rule", "evaluations that page", "episodes (runs of consecutive pages)"}, rows)

	if err := r.plotPaged(filepath.Join(r.dir, "varlog_pages.png"), dk, evs, ours, pageAt, v6, b6, v24, b24, total); err != nil {
		return err
	}
	d.Image("varlog_pages.png", "Usage of the log volume with the predict_linear projections at the moment it pages, and when each rule pages")
	d.P("The top panel is the moment of the last page of `%s`: **%s**, a quarter of an hour before the nightly rotation. Over the last 6 hours usage "+
		"grew at %s/day, so the line reaches the %s total in **%s**; the 24-hour line (%s/day) in %s. At midnight the rotation frees %s and the "+
		"line the alert drew is gone. The bottom panel shows how regularly that happens: the 6-hour rule with a 7-day horizon is on %.0f %% of the time, the 24-hour one "+
		"through most evenings, and the 24-hour-horizon rule late on business days.",
		rules[pageRule].name, nb.When(pageAt), nb.Bytes(b6), nb.Bytes(total), nb.Days(eta6), nb.Bytes(b24), nb.Days(eta24), nb.Bytes(rotationDrop(dk, pageAt)), 100*firing(evs, 1))

	// Foresight's view
	ev := p.Evidence
	if err := r.plotForesightView(filepath.Join(r.dir, "varlog_foresight.png"), dk, p); err != nil {
		return err
	}
	d.H3("What Foresight sees instead")
	d.Image("varlog_foresight.png", "The thirty days Foresight reads, the daily peaks it fits, and its ETA band against the true fill")
	growth := *p.GrowthBytesPerDay
	nonBiz := 0
	for day := p.Now.Add(-history); day.Before(p.Now); day = day.Add(24 * time.Hour) {
		if !nb.Cal.IsBusinessDay(nb.Cal.DateOf(day)) {
			nonBiz++
		}
	}
	d.P("At the same moment Foresight answers **%s**: %s", p.Status, p.Reason+".")
	d.Bullets(
		fmt.Sprintf("It finds a daily cycle (`daily_cycle: %t`, median within-day range %s) and so fits the **peak envelope** — the highest value of "+
			"each 24-hour window, %d of them — rather than the raw samples (`basis: %s`): the volume fills when a daily peak reaches the total, and the "+
			"rise within a day is not growth.", ev.DailyCycle, nb.Bytes(ev.DailyCycleRange), ev.Points, ev.Basis),
		fmt.Sprintf("Model: %s; growth %s/day (95 %% interval of the slope %s to %s per day), Mann–Kendall p = %s.",
			ev.Model, nb.Bytes(growth), nb.Bytes(ev.SlopeCI95[0]), nb.Bytes(ev.SlopeCI95[1]), nb.P(ev.MannKendallP)),
		fmt.Sprintf("Full: **%s** from now; the warning level (%.0f %%): %s.", fmtETA(p), p.WarnPercent, fmtWarn(p)),
		fmt.Sprintf("Ground truth: full on %s, %s after this moment — %s the p10–p90 band.", nb.WhenY(*dk.gt.FillTime), nb.Days(nb.DaysUntil(dk.gt.FillTime, pageAt)),
			insideBand(p.Full, *dk.gt.FillTime)),
	)
	d.P("So the honest answer is \"this volume fills in about %s, give or take weeks\" — a capacity ticket for next quarter, not a page tonight. "+
		"The band is wide and the confidence low (%.2f; the line explains none of the variance of the peaks, R² %.2f) because the peaks are far from a line: "+
		"%d of the %d days in the window are weekends or public holidays (the National Day week among them), when little is logged and the daily peak stays low.",
		nb.Days(nb.DaysUntil(p.Full.P50, pageAt)), p.Confidence, ev.R2, nonBiz, int(history.Hours()/24))

	// the hourly statuses
	var st []string
	for _, s := range []risk.DiskStatus{risk.DiskFilling, risk.DiskStable, risk.DiskShrinking, risk.DiskInsufficientHistory} {
		if statuses[s] > 0 {
			st = append(st, fmt.Sprintf("`%s` %d", s, statuses[s]))
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Foresight never pages on this volume, but its hourly answers over the %d days are not all the same: %s (bottom row of the first figure). ",
		int(replay.Hours()/24), strings.Join(st, ", "))
	if statuses[risk.DiskStable] > 0 {
		var ps []float64
		for _, o := range ours {
			if o.status == risk.DiskStable {
				ps = append(ps, o.p.Evidence.MannKendallP)
			}
		}
		sort.Float64s(ps)
		fmt.Fprintf(&b, "The `stable` hours are the same trend judged not significant: in those hours the Mann–Kendall p-value of the peaks is above "+
			"the 0.01 level (%s to %s), and it moves as weekend days enter and leave the window. ", nb.P(ps[0]), nb.P(ps[len(ps)-1]))
	}
	if statuses[risk.DiskInsufficientHistory] > 0 {
		first, last := -1, -1
		for i, o := range ours {
			if o.status == risk.DiskInsufficientHistory {
				if first < 0 {
					first = i
				}
				last = i
			}
		}
		o := ours[first]
		fmt.Fprintf(&b, "The `insufficient_history` hours run from %s to %s: %s",
			nb.When(o.now), nb.When(ours[last].now), o.p.Reason)
		if cs := o.p.Evidence.Changepoints; len(cs) > 0 {
			fmt.Fprintf(&b, ". It had read a rise of the daily floors by %s around %s as a %s (a cleanup or resize) and restarted its regime there, "+
				"and a regime with a daily cycle needs four full days before it answers again", nb.Bytes(cs[0].After-cs[0].Before), nb.When(cs[0].Time),
				strings.ReplaceAll(cs[0].Kind, "_", " "))
		}
		real := 0
		for _, e := range dk.gt.Events {
			if e.Type == datasets.EventCleanup || e.Type == datasets.EventResize {
				real++
			}
		}
		if real == 0 {
			b.WriteString(". The ground truth has no cleanup or resize on this volume, so that shift is spurious")
		}
		var gaps []string
		for _, g := range dk.gt.Gaps {
			if g.End.After(o.now.Add(-72*time.Hour)) && g.Start.Before(ours[last].now) {
				gaps = append(gaps, fmt.Sprintf("%s to %s", nb.When(g.Start), nb.When(g.End)))
			}
		}
		if len(gaps) > 0 {
			fmt.Fprintf(&b, "; those days also hold agent outages (ground truth `gaps`: %s)", strings.Join(gaps, ", "))
		}
		b.WriteString(". It never produces a page, but it suspends the prediction for days: a weakness to know about.")
	}
	d.P("%s", b.String())
	return nil
}

// firing is the share of evaluations at which rule i fires.
func firing(evs []pageEval, i int) float64 {
	n := 0
	for _, e := range evs {
		if e.fires[i] {
			n++
		}
	}
	return float64(n) / float64(len(evs))
}

// insideBand says whether t lies in the ETA's p10–p90 band (a missing p90
// is beyond the horizon).
func insideBand(e risk.ETA, t time.Time) string {
	if e.P10 == nil || t.Before(*e.P10) || (e.P90 != nil && t.After(*e.P90)) {
		return "outside"
	}
	return "inside"
}

func fmtWarn(p risk.DiskPrediction) string {
	if p.Warning.Reached {
		return "already reached"
	}
	if p.Warning.P50 == nil {
		return "not within the horizon"
	}
	return nb.Days(nb.DaysUntil(p.Warning.P50, p.Now))
}

func episodes[T any](xs []T, on func(T) bool) int {
	n := 0
	for i, x := range xs {
		if on(x) && (i == 0 || !on(xs[i-1])) {
			n++
		}
	}
	return n
}

// rotationDrop is the fall of usage across the first local midnight after t.
func rotationDrop(dk *disk, t time.Time) float64 {
	lt := t.In(nb.Loc)
	mid := time.Date(lt.Year(), lt.Month(), lt.Day()+1, 0, 0, 0, 0, nb.Loc)
	lo, hi := dk.src.Window(mid.Add(-time.Hour), mid.Add(time.Hour))
	before, after := math.Inf(-1), math.Inf(1)
	for i := lo; i < hi; i++ {
		if dk.src.Times[i].Before(mid) {
			before = math.Max(before, dk.used[i])
		} else {
			after = math.Min(after, dk.used[i])
		}
	}
	if math.IsInf(before, 0) || math.IsInf(after, 0) {
		return math.NaN()
	}
	return before - after
}

func gibXY(dk *disk, from, to time.Time) ([]float64, []float64) {
	lo, hi := dk.src.Window(from, to)
	xs, ys := make([]float64, 0, hi-lo), make([]float64, 0, hi-lo)
	for i := lo; i < hi; i++ {
		xs, ys = append(xs, nb.X(dk.src.Times[i])), append(ys, dk.used[i]/nb.GiB)
	}
	return xs, ys
}

func (r *report) plotPaged(path string, dk *disk, evs []pageEval, ours []ourEval, pageAt time.Time, v6, b6, v24, b24, total float64) error {
	from, to := pageAt.Add(-3*24*time.Hour), pageAt.Add(36*time.Hour)
	if to.After(r.end) {
		to = r.end
	}
	top := nb.NewPlot(fmt.Sprintf("%s %s at the last page (%s)", pagedHost, pagedPath, nb.When(pageAt)), "used (GiB)")
	xs, ys := gibXY(dk, from, to)
	nb.HLine(top, total/nb.GiB, nb.LineStyle{Color: nb.Black, Width: 2}, "volume size")
	nb.Shade(top, nb.X(pageAt.Add(-6*time.Hour)), nb.X(pageAt), nb.Alpha(nb.Orange, 0.18), "the 6-hour window")
	nb.Line(top, xs, ys, nb.LineStyle{Color: nb.Blue, Width: 1.2}, "used, 15-minute samples")
	proj := func(v, b float64, w time.Duration, c nb.LineStyle, name string) {
		// the least-squares line from the window start to where it meets the total (or the axis end)
		t0 := pageAt.Add(-w)
		end := to
		if eta := nb.LinearETA(v, b, total); !math.IsInf(eta, 1) {
			if e := pageAt.Add(time.Duration(eta * 24 * float64(time.Hour))); e.Before(end) {
				end = e
			}
		}
		at := func(t time.Time) float64 { return (v + b*t.Sub(pageAt).Hours()/24) / nb.GiB }
		nb.Line(top, []float64{nb.X(t0), nb.X(end)}, []float64{at(t0), at(end)}, c, name)
	}
	proj(v24, b24, 24*time.Hour, nb.LineStyle{Color: nb.Green, Width: 3, Dotted: true}, fmt.Sprintf("predict_linear over 24 h: full in %s", nb.Days(nb.LinearETA(v24, b24, total))))
	proj(v6, b6, 6*time.Hour, nb.LineStyle{Color: nb.Orange, Width: 2, Dashed: true}, fmt.Sprintf("predict_linear over 6 h: full in %s", nb.Days(nb.LinearETA(v6, b6, total))))
	_, hi := dk.src.Window(from, pageAt)
	nb.Points(top, []float64{nb.X(pageAt)}, []float64{dk.used[hi-1] / nb.GiB}, nb.Red, 6, draw.CrossGlyph{}, "page")
	nb.TimeAxis(top, from, to)
	top.Y.Min, top.Y.Max = 0, math.Ceil(total/nb.GiB*1.25)

	bot := nb.NewPlot(fmt.Sprintf("who pages over the last %d days (rules every 15 minutes, Foresight every hour)", int(replay.Hours()/24)), "")
	colors := []color.NRGBA{nb.Orange, nb.Red, nb.Green}
	var ticks []plot.Tick
	for i, ru := range rules {
		var px, py []float64
		for _, e := range evs {
			if e.fires[i] {
				px, py = append(px, nb.X(e.now)), append(py, float64(len(rules)-i+1))
			}
		}
		nb.Points(bot, px, py, colors[i], 1.6, draw.BoxGlyph{}, "")
		ticks = append(ticks, plot.Tick{Value: float64(len(rules) - i + 1), Label: fmt.Sprintf("%s: %d", strings.TrimPrefix(ru.name, "predict_linear "), len(px))})
	}
	var px, py []float64
	stCol := map[risk.DiskStatus]color.NRGBA{risk.DiskFilling: nb.Purple, risk.DiskStable: nb.Sky, risk.DiskInsufficientHistory: nb.Gray, risk.DiskShrinking: nb.Green}
	byStatus := map[risk.DiskStatus][2][]float64{}
	for _, o := range ours {
		if o.page {
			px, py = append(px, nb.X(o.now)), append(py, 1)
		}
		b := byStatus[o.status]
		b[0], b[1] = append(b[0], nb.X(o.now)), append(b[1], 0)
		byStatus[o.status] = b
	}
	nb.Points(bot, px, py, nb.Purple, 2, draw.BoxGlyph{}, "")
	for _, s := range []risk.DiskStatus{risk.DiskFilling, risk.DiskStable, risk.DiskInsufficientHistory, risk.DiskShrinking} {
		if b, ok := byStatus[s]; ok {
			nb.Points(bot, b[0], b[1], stCol[s], 2.2, draw.BoxGlyph{}, "Foresight "+string(s))
		}
	}
	ticks = append(ticks, plot.Tick{Value: 1, Label: fmt.Sprintf("Foresight (median ETA < %.0f d): %d", alarmDays, len(px))},
		plot.Tick{Value: 0, Label: "Foresight status"})
	bot.Y.Tick.Marker = plot.ConstantTicks(ticks)
	nb.TimeAxis(bot, r.last.Add(-replay), r.end)
	bot.Y.Min, bot.Y.Max = -0.7, float64(len(rules))+1.6
	bot.Legend.Top, bot.Legend.Left = true, false
	return nb.SavePNG(path, 12, 3.8, top, bot)
}

// dailyPeaks returns the highest sample of each 24-hour window (−(k+1)
// days, −k days] before now, as the disk predictor's peak envelope is
// built.
func dailyPeaks(dk *disk, now time.Time, from time.Time) ([]float64, []float64) {
	type pk struct{ t, v float64 }
	byK := map[int]pk{}
	lo, hi := dk.src.Window(from, now)
	for i := lo; i < hi; i++ {
		t := dk.src.Times[i]
		k := int(math.Floor(now.Sub(t).Hours() / 24))
		if c, ok := byK[k]; !ok || dk.used[i] > c.v {
			byK[k] = pk{nb.X(t), dk.used[i]}
		}
	}
	var ks []int
	for k := range byK {
		ks = append(ks, k)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(ks)))
	var xs, ys []float64
	for _, k := range ks {
		xs, ys = append(xs, byK[k].t), append(ys, byK[k].v/nb.GiB)
	}
	return xs, ys
}

func (r *report) plotForesightView(path string, dk *disk, p risk.DiskPrediction) error {
	now := p.Now
	from := now.Add(-history)
	total := *p.TotalBytes
	g := *p.GrowthBytesPerDay
	line := func(t time.Time) float64 { return (total - g*p.Full.P50.Sub(t).Hours()/24) / nb.GiB }
	t0 := p.Evidence.RegimeStart

	// top: the thirty days
	top := nb.NewPlot(fmt.Sprintf("what Foresight reads: %s %s, the %d days before %s", pagedHost, pagedPath, int(history.Hours()/24), nb.When(now)), "used (GiB)")
	fd, td := nb.Cal.DateOf(from), nb.Cal.DateOf(now)
	legend := "weekend or public holiday"
	for day := fd; !day.After(td); day = day.AddDays(1) {
		if !nb.Cal.IsBusinessDay(day) {
			nb.Shade(top, nb.X(day.In(nb.Loc)), nb.X(day.AddDays(1).In(nb.Loc)), nb.Alpha(nb.Gray, 0.15), legend)
			legend = ""
		}
	}
	xs, ys := gibXY(dk, from, now)
	nb.Line(top, xs, ys, nb.LineStyle{Color: nb.Alpha(nb.Blue, 0.6), Width: 0.7}, "used, 15-minute samples")
	px, py := dailyPeaks(dk, now, t0.Add(-time.Nanosecond))
	nb.Points(top, px, py, nb.Black, 3, draw.CircleGlyph{}, "daily peaks (the fitted envelope)")
	nb.Line(top, []float64{nb.X(t0), nb.X(now)}, []float64{line(t0), line(now)}, nb.LineStyle{Color: nb.Purple, Width: 2},
		fmt.Sprintf("fitted growth of the peaks: %s/day", nb.Bytes(g)))
	nb.HLine(top, total/nb.GiB, nb.LineStyle{Color: nb.Black, Width: 2}, "volume size")
	nb.TimeAxis(top, from, now.Add(12*time.Hour))
	top.Y.Min, top.Y.Max = 0, math.Ceil(total/nb.GiB*1.25)
	top.Legend.Top = false

	// bottom: the projection
	horizonEnd := now.Add(time.Duration(p.HorizonDays * 24 * float64(time.Hour)))
	to := horizonEnd.Add(7 * 24 * time.Hour)
	bot := nb.NewPlot(fmt.Sprintf("the projection: full in %s", fmtETA(p)), "used (GiB)")
	if p.Full.P10 != nil {
		b90, label := horizonEnd, fmt.Sprintf("full ETA p10 – p90 (p90 beyond the %.0f-day horizon)", p.HorizonDays)
		if p.Full.P90 != nil {
			b90, label = *p.Full.P90, "full ETA p10 – p90"
		}
		nb.Shade(bot, nb.X(*p.Full.P10), nb.X(b90), nb.Alpha(nb.Purple, 0.18), label)
	}
	pxs, pys := gibXY(dk, from, now)
	nb.Line(bot, pxs, pys, nb.LineStyle{Color: nb.Alpha(nb.Blue, 0.6), Width: 0.6}, "")
	nb.Points(bot, px, py, nb.Black, 1.8, draw.CircleGlyph{}, "")
	nb.Line(bot, []float64{nb.X(t0), nb.X(*p.Full.P50)}, []float64{line(t0), line(*p.Full.P50)}, nb.LineStyle{Color: nb.Purple, Width: 2},
		"fitted growth, reaching the total at the median ETA")
	nb.VLine(bot, nb.X(*p.Full.P50), nb.LineStyle{Color: nb.Purple, Width: 1.3, Dashed: true}, fmt.Sprintf("median ETA (%s)", nb.Date(*p.Full.P50)))
	if dk.gt.FillTime != nil {
		nb.VLine(bot, nb.X(*dk.gt.FillTime), nb.LineStyle{Color: nb.Black, Width: 1.5, Dotted: true}, fmt.Sprintf("true fill (%s)", nb.Date(*dk.gt.FillTime)))
	}
	nb.VLine(bot, nb.X(now), nb.LineStyle{Color: nb.Gray, Width: 1, Dashed: true}, "now")
	nb.HLine(bot, total/nb.GiB, nb.LineStyle{Color: nb.Black, Width: 2}, "")
	nb.TimeAxis(bot, from, to)
	bot.Y.Min, bot.Y.Max = 0, math.Ceil(total/nb.GiB*1.25)
	bot.Legend.Top, bot.Legend.Left = false, false
	return nb.SavePNG(path, 12, 4, top, bot)
}

// --- the filling volume ------------------------------------------------------------------

type fillEval struct {
	now           time.Time
	trueDays      float64
	p             risk.DiskPrediction
	e10, e50, e90 float64
	pl6, pl24     float64
}

func (r *report) fillingSection(d *nb.Doc) error {
	dk := r.find(fillingHost, fillingPath)
	if dk == nil {
		return fmt.Errorf("disk: no %s %s", fillingHost, fillingPath)
	}
	gt := dk.gt
	var change *datasets.Event
	for i := range gt.Events {
		if gt.Events[i].Type == datasets.EventChangePoint {
			change = &gt.Events[i]
		}
	}
	if change == nil || gt.TrendPerHour <= 0 {
		return fmt.Errorf("disk: %s has no change point", dk.name())
	}
	// What-if size: the noise-free line after the change reaches it at End.
	full := r.end
	size := gt.ValueAtEnd + gt.TrendPerHour*full.Sub(r.end).Hours()
	var evs []fillEval
	n := int(replay / etaEvery)
	for j := n; j >= 0; j-- {
		now := r.last.Add(-time.Duration(j) * etaEvery)
		p, err := dk.predict(now, size)
		if err != nil {
			return err
		}
		evs = append(evs, fillEval{now: now, trueDays: full.Sub(now).Hours() / 24, p: p,
			e10: nb.DaysUntil(p.Full.P10, now), e50: nb.DaysUntil(p.Full.P50, now), e90: nb.DaysUntil(p.Full.P90, now),
			pl6: dk.peer(now, 6*time.Hour, size), pl24: dk.peer(now, 24*time.Hour, size)})
	}

	d.H2(fmt.Sprintf("A volume that really fills: `%s %s`", fillingHost, fillingPath))
	d.P("`%s` holds ERP documents and attachments. On %s its growth rate jumped from %s/day to %s/day (document scanning switched on; "+
		"ground truth `change_point`). With its real %s it fills %s after the end of the data, so to watch both methods approach a real fill "+
		"we do what the scenario benchmark's lead cases do: keep the data and set the volume's size to **%s**, the level the noise-free line "+
		"reaches at the end of the data (%s). Then we replay both methods every %d hours over the last %d days.",
		fillingPath, nb.When(change.Time), nb.Bytes((gt.TrendPerHour-change.Change)*24), nb.Bytes(gt.TrendPerHour*24),
		nb.Bytes(dk.total[len(dk.total)-1]), nb.Days(nb.DaysUntil(gt.FillTime, r.last)), nb.Bytes(size), nb.When(full),
		int(etaEvery.Hours()), int(replay.Hours()/24))
	if err := r.plotFilling(filepath.Join(r.dir, "opt_erp.png"), dk, evs, size, change.Time, full); err != nil {
		return err
	}
	d.Image("opt_erp.png", "Usage of the filling volume and the ETA each method gives as the fill approaches")

	// ETA at given leads
	var rows [][]string
	for _, lead := range []float64{14, 10, 7, 3, 1} {
		for _, e := range evs {
			if math.Abs(e.trueDays-lead-step.Hours()/24) < 1e-6 {
				ours := "none (" + string(e.p.Status) + ")"
				if !math.IsInf(e.e50, 1) {
					ours = fmt.Sprintf("%s (%s – %s)", nb.Days(e.e50), nb.Days(e.e10), nb.Days(e.e90))
				}
				rows = append(rows, []string{nb.When(e.now), nb.Days(e.trueDays), ours, nb.Days(e.pl6), nb.Days(e.pl24)})
			}
		}
	}
	d.Table("lrrrr", []string{"now", "true time to full", "Foresight p50 (p10 – p90)", "predict_linear 6 h", "predict_linear 24 h"}, rows)

	// warnings and lead times
	type warn struct {
		name string
		on   func(fillEval) bool
	}
	warns := []warn{
		{fmt.Sprintf("Foresight ticket, minor (median ETA < %.0f d)", alarmDays), func(e fillEval) bool { return e.e50 < alarmDays }},
		{"Foresight ticket, major (median ETA < 72 h)", func(e fillEval) bool { return e.e50 < 3 }},
		{"Foresight ticket, critical (median ETA < 24 h)", func(e fillEval) bool { return e.e50 < 1 }},
		{"predict_linear 24 h → full within 7 d", func(e fillEval) bool { return e.pl24 <= 7 }},
		{"predict_linear 6 h → full within 7 d", func(e fillEval) bool { return e.pl6 <= 7 }},
		{"predict_linear 6 h → full within 24 h", func(e fillEval) bool { return e.pl6 <= 1 }},
	}
	rows = nil
	for _, w := range warns {
		first, cont := -1, -1
		for i, e := range evs {
			if w.on(e) && first < 0 {
				first = i
			}
		}
		for i := len(evs) - 1; i >= 0 && w.on(evs[i]); i-- {
			cont = i
		}
		f, c := "never", "never"
		if first >= 0 {
			f = fmt.Sprintf("%s (%s before full)", nb.When(evs[first].now), nb.Days(evs[first].trueDays))
		}
		if cont >= 0 {
			c = fmt.Sprintf("%s (**%s** before full)", nb.When(evs[cont].now), nb.Days(evs[cont].trueDays))
		}
		rows = append(rows, []string{w.name, f, c})
	}
	d.P("When each warning first fires, and from when it stays on until the volume is full (the lead time an operator can count on):")
	d.Table("lll", []string{"warning", "first fires", "on without interruption from"}, rows)

	// honesty: Foresight's answers after the change
	firstFill := -1
	for i, e := range evs {
		if e.p.Status == risk.DiskFilling && !math.IsInf(e.e50, 1) && math.Abs(e.e50-e.trueDays) < 0.2*e.trueDays {
			firstFill = i
			break
		}
	}
	var gaps []string
	var maxP float64
	longestRun, run := 0, 0
	if firstFill >= 0 {
		for _, e := range evs[firstFill:] {
			if e.p.Status != risk.DiskFilling {
				gaps = append(gaps, nb.When(e.now))
				maxP = math.Max(maxP, e.p.Evidence.MannKendallP)
				run++
				longestRun = max(longestRun, run)
			} else {
				run = 0
			}
		}
	}
	var b strings.Builder
	pre := evs[0]
	fmt.Fprintf(&b, "Before the change both methods see the slow growth: at %s Foresight says full in %s and the 24-hour line %s, against %s in truth. ",
		nb.When(pre.now), nb.Days(pre.e50), nb.Days(pre.pl24), nb.Days(pre.trueDays))
	if firstFill >= 0 {
		e := evs[firstFill]
		fmt.Fprintf(&b, "predict_linear reacts within a day of the change, because it forgets everything older than its window. Foresight keeps its 30-day "+
			"regime until the slope change is significant and then restarts the fit there (`evidence.changepoints`): from %s (%s after the change) its "+
			"median ETA is within 20 %% of the truth, %s against %s. ", nb.When(e.now), nb.Days(e.now.Sub(change.Time).Hours()/24), nb.Days(e.e50), nb.Days(e.trueDays))
	}
	if len(gaps) > 0 {
		fmt.Fprintf(&b, "It is not yet steady then: at %d later evaluation(s) (%s; at most %d in a row) the new regime is still only two to three days long "+
			"and its autocorrelation-corrected Mann–Kendall test misses the 0.01 level (p up to %s), so the status falls back to `stable` without an ETA. "+
			"Here that costs nothing, as the ETA was still above the 7-day ticket threshold; but the server runs every 15 minutes and a ticket auto-resolves "+
			"after three consecutive runs in which the predictor says the risk is gone (`tickets.clear_runs`), so the same wobble closer to the fill would close a ticket that should stay open. It is the predictor's weakest "+
			"moment: right after a regime change. ", len(gaps), strings.Join(gaps, ", "), longestRun, nb.P(maxP))
	}
	f50, f6, f24 := medAPE(evs, 7, func(e fillEval) float64 { return e.e50 }), medAPE(evs, 7, func(e fillEval) float64 { return e.pl6 }),
		medAPE(evs, 7, func(e fillEval) float64 { return e.pl24 })
	fmt.Fprintf(&b, "In the last week before full, where the warnings matter, all three follow the straight line: the median error of the ETA is %s for "+
		"Foresight, %s for the 24-hour line and %s for the 6-hour line, which swings with every noisy stretch of six hours. Foresight adds an interval "+
		"(p10–p90 %s at one week before full), and the same predictor stayed quiet on the log volume above.",
		f50, f24, f6, bandAt(evs, 7))
	d.P("%s", b.String())
	last := evs[len(evs)-1].p
	d.P("Foresight's evidence at the end: %s; changepoints: %s.", last.Evidence.Model, fmtChanges(last.Evidence.Changepoints))
	return nil
}

// medAPE is the median |ETA - truth| / truth over the evaluations with at
// most `within` days to full (no ETA counts as an infinite error).
func medAPE(evs []fillEval, within float64, eta func(fillEval) float64) string {
	var v []float64
	for _, e := range evs {
		if e.trueDays <= within {
			v = append(v, math.Abs(eta(e)-e.trueDays)/e.trueDays)
		}
	}
	if len(v) == 0 {
		return "–"
	}
	sort.Float64s(v)
	m := v[len(v)/2]
	if len(v)%2 == 0 {
		m = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	if math.IsInf(m, 1) {
		return "∞"
	}
	return fmt.Sprintf("%.1f %%", 100*m)
}

func bandAt(evs []fillEval, lead float64) string {
	for _, e := range evs {
		if math.Abs(e.trueDays-lead-step.Hours()/24) < 1e-6 && !math.IsInf(e.e90, 1) {
			return fmt.Sprintf("%s – %s", nb.Days(e.e10), nb.Days(e.e90))
		}
	}
	return "–"
}

func fmtChanges(cs []risk.Changepoint) string {
	if len(cs) == 0 {
		return "none"
	}
	var out []string
	for _, c := range cs {
		switch c.Kind {
		case risk.ChangeSlope:
			out = append(out, fmt.Sprintf("slope change at %s (%s/day → %s/day)", nb.When(c.Time), nb.Bytes(c.Before), nb.Bytes(c.After)))
		case risk.ChangeLevelShift:
			out = append(out, fmt.Sprintf("level shift at %s (%s → %s)", nb.When(c.Time), nb.Bytes(c.Before), nb.Bytes(c.After)))
		default:
			out = append(out, fmt.Sprintf("%s at %s", c.Kind, nb.When(c.Time)))
		}
	}
	return strings.Join(out, "; ")
}

func (r *report) plotFilling(path string, dk *disk, evs []fillEval, size float64, change, full time.Time) error {
	from := r.end.Add(-history)
	top := nb.NewPlot(fmt.Sprintf("%s %s, sized so that it fills at %s", fillingHost, fillingPath, nb.When(full)), "used (GiB)")
	lo, hi := dk.src.Window(from, r.end)
	xs, ys := make([]float64, 0, hi-lo), make([]float64, 0, hi-lo)
	for i := lo; i < hi; i++ {
		xs, ys = append(xs, nb.X(dk.src.Times[i])), append(ys, dk.used[i]/nb.GiB)
	}
	nb.Shade(top, nb.X(evs[0].now), nb.X(r.end), nb.Alpha(nb.Gray, 0.12), "replayed span")
	nb.Line(top, xs, ys, nb.LineStyle{Color: nb.Blue, Width: 1}, "used, 15-minute samples")
	nb.HLine(top, size/nb.GiB, nb.LineStyle{Color: nb.Black, Width: 2}, fmt.Sprintf("volume size (what-if: %s)", nb.Bytes(size)))
	nb.VLine(top, nb.X(change), nb.LineStyle{Color: nb.Black, Width: 1.2, Dotted: true}, "growth-rate change (ground truth)")
	nb.TimeAxis(top, from, r.end.Add(12*time.Hour))
	top.Y.Min, top.Y.Max = 0, math.Ceil(size/nb.GiB*1.15)

	const ymax = 16.0
	bot := nb.NewPlot(fmt.Sprintf("predicted time to full at each evaluation (every %d hours)", int(etaEvery.Hours())), "days until full")
	var ex, tr, e10, e50, e90, p6, p24, nx, ny, ox, oy []float64
	clip := func(v float64) float64 {
		if math.IsInf(v, 1) || v > ymax {
			return math.NaN()
		}
		return v
	}
	for _, e := range evs {
		x := nb.X(e.now)
		ex, tr = append(ex, x), append(tr, e.trueDays)
		e50 = append(e50, clip(e.e50))
		lo10, hi90 := e.e10, e.e90
		switch {
		case math.IsInf(e.e50, 1):
			lo10, hi90 = math.NaN(), math.NaN()
			nx, ny = append(nx, x), append(ny, ymax-0.5)
		case e.e50 > ymax:
			lo10, hi90 = math.NaN(), math.NaN()
			ox, oy = append(ox, x), append(oy, ymax-0.5)
		}
		e10, e90 = append(e10, math.Min(lo10, ymax)), append(e90, math.Min(hi90, ymax))
		p6, p24 = append(p6, clip(e.pl6)), append(p24, clip(e.pl24))
	}
	nb.HLine(bot, alarmDays, nb.LineStyle{Color: nb.Gray, Width: 1, Dashed: true}, "")
	nb.Label(bot, ex[0], alarmDays, "7 days: minor ticket", nb.Gray, 2, 2)
	nb.Band(bot, ex, e10, e90, nb.Alpha(nb.Purple, 0.25), "Foresight p10–p90")
	nb.Line(bot, ex, p6, nb.LineStyle{Color: nb.Orange, Width: 1.2}, "predict_linear 6 h")
	nb.Line(bot, ex, p24, nb.LineStyle{Color: nb.Green, Width: 1.2}, "predict_linear 24 h")
	nb.Line(bot, ex, e50, nb.LineStyle{Color: nb.Purple, Width: 2}, "Foresight p50")
	nb.Line(bot, ex, tr, nb.LineStyle{Color: nb.Black, Width: 1.5, Dashed: true}, "truth")
	nb.Points(bot, ox, oy, nb.Purple, 4, draw.TriangleGlyph{}, fmt.Sprintf("Foresight p50 above %.0f days (old regime)", ymax))
	nb.Points(bot, nx, ny, nb.Red, 4.5, draw.CrossGlyph{}, "Foresight: no ETA (status stable)")
	nb.VLine(bot, nb.X(change), nb.LineStyle{Color: nb.Black, Width: 1.2, Dotted: true}, "")
	nb.TimeAxis(bot, evs[0].now.Add(-6*time.Hour), r.end.Add(6*time.Hour))
	bot.Y.Min, bot.Y.Max = 0, ymax
	bot.Legend.Left = false
	return nb.SavePNG(path, 12, 4, top, bot)
}
