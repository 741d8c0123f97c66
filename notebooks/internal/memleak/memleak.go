// Package memleak renders the memory-leak notebook: a leak, a warm-up and
// load-driven memory on the demo fleet, and how Foresight's memory predictor
// tells them apart from its own evidence.
package memleak

import (
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg/draw"

	"github.com/seed-f1b503aa/foresight/datasets"
	"github.com/seed-f1b503aa/foresight/engine"
	"github.com/seed-f1b503aa/foresight/engine/risk"
	"github.com/seed-f1b503aa/foresight/notebooks/internal/nb"
)

// The scenario.
const (
	hosts      = 7
	seed       = 0
	step       = 5 * time.Minute
	history    = 14 * 24 * time.Hour // what the server reads per process (predictors.memory.history)
	replayStep = 6 * time.Hour
	peerDays   = 30.0 // predict_linear flags a leak when the line reaches the limit within this many days
	warmDays   = 5    // the warm-up case is evaluated this many days after the restart
)

// service is one process of the fleet with its history.
type service struct {
	host, name string
	src        *nb.Source
	id         string
	gt         datasets.GroundTruth
	mem, limit []float64
	load       []float64 // the host's request rate, nil for hosts without one
}

func (s *service) input(now time.Time) risk.MemInput {
	lo, hi := s.src.Window(now.Add(-history), now)
	in := risk.MemInput{Times: s.src.Times[lo:hi], Memory: s.mem[lo:hi], Limit: s.limit[lo:hi]}
	if s.load != nil {
		in.Load = s.load[lo:hi]
	}
	return in
}

func (s *service) predict(now time.Time) (risk.MemPrediction, error) {
	return risk.PredictMemLeak(s.input(now), risk.MemOptions{Now: now})
}

// theCase is one service evaluated at one time.
type theCase struct {
	title, file string
	svc         *service
	now         time.Time
	p           risk.MemPrediction
	troughs     []trough
}

// trough is the minimum of one trough window of a lifetime, as the
// predictor defines them (window length and lifetimes from its evidence).
type trough struct {
	t    time.Time
	v    float64
	load float64
	seg  int
}

// Render writes README.md and the PNG files of the notebook into dir.
func Render(dir string) error {
	f, err := datasets.GenerateFleet(datasets.FleetConfig{Hosts: hosts, Step: step, Seed: seed})
	if err != nil {
		return err
	}
	want := map[string]bool{"erp-app-01": true, "db-01": true, "erp-app-04": true}
	srcs, err := nb.Collect(f, func(m string, tags map[string]string) bool {
		return want[tags["host"]] && (m == "process_mem" || m == "http_requests")
	})
	if err != nil {
		return err
	}
	truth := f.GroundTruth()
	get := func(host, name string) (*service, error) {
		src := nb.Find(srcs, "process_mem", map[string]string{"host": host, "service": name})
		if src == nil {
			return nil, fmt.Errorf("memleak: no %s on %s", name, host)
		}
		s := &service{host: host, name: name, src: src, id: src.ID("used_bytes"), mem: src.Values["used_bytes"], limit: src.Values["limit_bytes"]}
		s.gt = truth[s.id]
		// the server joins the host's request rate as load (predictors.memory.sources[].load_*)
		if rq := nb.Find(srcs, "http_requests", map[string]string{"host": host}); rq != nil {
			s.load = nb.Align(src.Times, rq.Times, rq.Values["rate"])
		}
		return s, nil
	}
	leak, err := get("erp-app-01", "erp-app")
	if err != nil {
		return err
	}
	warm, err := get("db-01", "postgres")
	if err != nil {
		return err
	}
	load, err := get("erp-app-04", "erp-app")
	if err != nil {
		return err
	}
	last := f.End().Add(-step)
	var restart time.Time
	for _, e := range warm.gt.Events {
		if e.Type == datasets.EventRestart && e.Time.Before(last.Add(-warmDays*24*time.Hour)) {
			restart = e.Time
		}
	}
	if restart.IsZero() {
		return fmt.Errorf("memleak: %s has no restart to warm up from", warm.id)
	}
	cases := []*theCase{
		{title: "a leak", file: "leak.png", svc: leak, now: last},
		{title: "a warm-up", file: "warmup.png", svc: warm, now: restart.Add(warmDays * 24 * time.Hour)},
		{title: "load-driven memory", file: "load.png", svc: load, now: last},
	}
	for _, c := range cases {
		if c.p, err = c.svc.predict(c.now); err != nil {
			return err
		}
		c.troughs = troughsOf(c.svc, c.p)
		if len(c.troughs) != c.p.Evidence.Troughs {
			return fmt.Errorf("memleak: %s: %d troughs recomputed, the predictor reports %d", c.svc.id, len(c.troughs), c.p.Evidence.Troughs)
		}
	}
	r := &report{dir: dir, fleet: f, cases: cases, restart: restart}
	return r.write()
}

// troughsOf recomputes the troughs the predictor worked on: the minimum of
// each TroughWindowSeconds window of each lifetime, windows aligned on the
// lifetime's first sample.
func troughsOf(s *service, p risk.MemPrediction) []trough {
	win := time.Duration(p.Evidence.TroughWindowSeconds) * time.Second
	var out []trough
	for k, sg := range p.Evidence.Segments {
		lo, hi := s.src.Window(sg.Start.Add(-time.Nanosecond), sg.End)
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
			out = append(out, tr)
		}
		for i := lo; i < hi; i++ {
			v := s.mem[i]
			if math.IsNaN(v) {
				continue
			}
			w := int(s.src.Times[i].Sub(sg.Start) / win)
			if w != cur {
				flush()
				cur, tr, ls, ln = w, trough{t: s.src.Times[i], v: v, seg: k}, 0, 0
			}
			if v < tr.v {
				tr.v, tr.t = v, s.src.Times[i]
			}
			if s.load != nil && !math.IsNaN(s.load[i]) {
				ls += s.load[i]
				ln++
			}
		}
		flush()
	}
	return out
}

type report struct {
	dir     string
	fleet   *datasets.Fleet
	cases   []*theCase
	restart time.Time
}

func mib(b float64) string { return fmt.Sprintf("%.1f MiB", b/(1<<20)) }

// rate formats bytes per hour as Foresight does ("+39 MiB/h", "-15.4 KiB/h").
func rate(b float64) string { return risk.FormatBytesSigned(b) + "/h" }

// dur formats a trough window ("1 h", "30 min").
func dur(seconds float64) string {
	d := time.Duration(seconds) * time.Second
	if d%time.Hour == 0 {
		return fmt.Sprintf("%d h", int(d.Hours()))
	}
	return fmt.Sprintf("%d min", int(d.Minutes()))
}

func ptrF(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

func (r *report) write() error {
	d := &nb.Doc{}
	leak, warm, load := r.cases[0], r.cases[1], r.cases[2]
	d.H1("Memory: a leak, a warm-up and load-driven growth")
	d.P("*An executed notebook: every number, table and figure below is computed by `go run ./notebooks/memleak -out notebooks/memleak` " +
		"(or `make notebooks`) from Foresight's own code on deterministic demo data; `go test ./notebooks/` fails if this page is stale.*")
	d.P("Memory that grows is not necessarily leaking. A cache fills after a restart and then stops; an application server holds more while more users " +
		"are logged in. Alerting on growth (or on a `predict_linear` line reaching the limit) pages on all three; restarting the process helps only with " +
		"the first. This notebook runs Foresight's memory predictor (`risk.PredictMemLeak`) on three services of the demo fleet whose ground truth says which " +
		"is which, and reads its verdicts back from its own evidence.")
	d.H2("The data")
	d.Bullets(
		fmt.Sprintf("Demo fleet (`datasets.GenerateFleet`, seed %d, its first %d hosts, %d days ending %s, one sample every 5 minutes); times are local "+
			"(Asia/Shanghai).", seed, hosts, r.fleet.Config().Days, r.fleet.End().Format("2006-01-02 15:04 MST")),
		fmt.Sprintf("Each prediction sees the last %d days of `process_mem` `used_bytes` with `limit_bytes`, and on application servers the host's "+
			"`http_requests` rate as load — what the server's memory job reads by default.", int(history.Hours()/24)),
		fmt.Sprintf("The three services: `%s` on `%s` (ground truth `%s`), `%s` on `%s` (`%s`), `%s` on `%s` (`%s`).",
			leak.svc.name, leak.svc.host, leak.svc.gt.Kind, warm.svc.name, warm.svc.host, warm.svc.gt.Kind, load.svc.name, load.svc.host, load.svc.gt.Kind),
	)

	d.H2("The verdicts side by side")
	d.P("How the predictor works, in one paragraph: it splits the history into process lifetimes at restarts (sudden drops below the previous day's floor), " +
		"reduces each lifetime's garbage-collection sawtooth to its **troughs** (the minimum of each window, long enough to hold a GC cycle), removes the " +
		"effect of load when a load series is given (a regression of the troughs on load with a line per lifetime), and classifies each lifetime by the " +
		"trend of what is left: `rising` (significant, material and still rising in its second half, and not better fitted by a saturating curve), " +
		"`saturating`, `flat` or `falling`. A leak needs rising lifetimes for at least half of the usable lifetime time.")
	rows := r.evidenceTable()
	d.Table("llll", []string{"evidence field", fmt.Sprintf("`%s` `%s`", leak.svc.host, leak.svc.name),
		fmt.Sprintf("`%s` `%s`", warm.svc.host, warm.svc.name), fmt.Sprintf("`%s` `%s`", load.svc.host, load.svc.name)}, rows)

	if err := r.leakSection(d, leak); err != nil {
		return err
	}
	if err := r.warmSection(d, warm); err != nil {
		return err
	}
	if err := r.loadSection(d, load); err != nil {
		return err
	}
	if err := r.replaySection(d); err != nil {
		return err
	}
	d.H2("Rerun")
	d.Code("sh", "make notebooks                                 # all notebooks\ngo run ./notebooks/memleak -out notebooks/memleak   # this one")
	return d.WriteFile(r.dir)
}

func classes(p risk.MemPrediction) string {
	n := map[string]int{}
	for _, s := range p.Evidence.Segments {
		n[s.Class]++
	}
	var out []string
	for _, c := range []string{risk.SegmentRising, risk.SegmentSaturating, risk.SegmentFlat, risk.SegmentFalling, risk.SegmentShort} {
		if n[c] > 0 {
			out = append(out, fmt.Sprintf("%d %s", n[c], c))
		}
	}
	return strings.Join(out, ", ")
}

func fmtOOM(p risk.MemPrediction) string {
	if p.OOM.P50 == nil {
		return "none"
	}
	return fmt.Sprintf("%s (p10 %s – p90 %s)", nb.Days(nb.DaysUntil(p.OOM.P50, p.Now)), nb.Days(nb.DaysUntil(p.OOM.P10, p.Now)), nb.Days(nb.DaysUntil(p.OOM.P90, p.Now)))
}

func (r *report) evidenceTable() [][]string {
	row := func(name string, f func(c *theCase) string) []string {
		out := []string{name}
		for _, c := range r.cases {
			out = append(out, f(c))
		}
		return out
	}
	return [][]string{
		row("evaluated at", func(c *theCase) string { return nb.When(c.now) }),
		row("**verdict**", func(c *theCase) string { return "**" + string(c.p.Verdict) + "**" }),
		row("score (confidence in the verdict)", func(c *theCase) string { return nb.F(c.p.Score, 2) }),
		row("leak_score", func(c *theCase) string { return nb.F(c.p.LeakScore, 2) }),
		row("basis of the trend tests", func(c *theCase) string { return "`" + c.p.Evidence.Basis + "`" }),
		row("troughs (window)", func(c *theCase) string {
			return fmt.Sprintf("%d (one per %s)", c.p.Evidence.Troughs, dur(c.p.Evidence.TroughWindowSeconds))
		}),
		row("restarts found", func(c *theCase) string { return fmt.Sprint(len(c.p.Evidence.Restarts)) }),
		row("lifetimes by class", func(c *theCase) string { return classes(c.p) }),
		row("rising_share", func(c *theCase) string { return nb.F(c.p.Evidence.RisingShare, 2) }),
		row("combined Mann–Kendall p", func(c *theCase) string { return nb.P(c.p.Evidence.MannKendallP) }),
		row("floor slope, pooled (95 % CI)", func(c *theCase) string {
			if c.p.LeakRateBytesPerHour == nil {
				return "–"
			}
			ci := c.p.LeakRateCI95
			return fmt.Sprintf("%s (%s to %s)", rate(*c.p.LeakRateBytesPerHour), rate(ci[0]), rate(ci[1]))
		}),
		row("load effect (share of trough variance)", func(c *theCase) string {
			if c.p.Evidence.LoadBytesPerUnit == nil {
				return "no load series"
			}
			return fmt.Sprintf("%s per request/s (R² %.2f)", mib(*c.p.Evidence.LoadBytesPerUnit), ptrF(c.p.Evidence.LoadR2))
		}),
		row("daily cycle of the troughs", func(c *theCase) string {
			return fmt.Sprintf("%t (%s)", c.p.Evidence.DailyCycle, nb.Bytes(c.p.Evidence.DailyCycleAmplitude))
		}),
		row("GC amplitude", func(c *theCase) string { return nb.Bytes(c.p.Evidence.GCAmplitudeBytes) }),
		row("current / limit", func(c *theCase) string {
			return fmt.Sprintf("%s / %s", nb.Bytes(c.p.CurrentBytes), nb.Bytes(ptrF(c.p.LimitBytes)))
		}),
		row("out-of-memory ETA", func(c *theCase) string { return fmtOOM(c.p) }),
		row("ground truth", func(c *theCase) string {
			g := c.svc.gt
			s := "`" + string(g.Kind) + "`"
			if g.LeakRateBytesPerHour != nil {
				s += fmt.Sprintf(", leak %s", rate(*g.LeakRateBytesPerHour))
			}
			if g.FillTime != nil {
				s += fmt.Sprintf(", reaches the limit %s", nb.WhenY(*g.FillTime))
			}
			return s
		}),
	}
}

func segTable(d *nb.Doc, p risk.MemPrediction) {
	var rows [][]string
	for _, s := range p.Evidence.Segments {
		sat := "–"
		if s.SaturationHours != nil {
			sat = fmt.Sprintf("%.1f h", *s.SaturationHours)
		}
		rows = append(rows, []string{nb.When(s.Start), nb.When(s.End), fmt.Sprint(s.Troughs), "`" + s.Class + "`",
			rate(s.SlopeBytesPerHour), rate(s.EarlySlope), rate(s.LateSlope), nb.P(s.P), nb.P(s.LateP), sat})
	}
	d.Table("llrlrrrrrr", []string{"lifetime from", "to", "troughs", "class", "floor slope", "first half", "second half", "p", "second-half p", "saturation τ"}, rows)
}

// --- the leak ---------------------------------------------------------------------------

func (r *report) leakSection(d *nb.Doc, c *theCase) error {
	p, g := c.p, c.svc.gt
	d.H2(fmt.Sprintf("A leak: `%s` on `%s`", c.svc.name, c.svc.host))
	if err := r.plotLeak(filepath.Join(r.dir, c.file), c); err != nil {
		return err
	}
	d.Image(c.file, "Memory of the leaking service with its GC troughs, restarts, the fitted leak line and the out-of-memory ETA")
	d.P("The predictor's reason: *%s*", p.Reason+".")
	segTable(d, p)
	lr := ptrF(p.LeakRateBytesPerHour)
	var b strings.Builder
	fmt.Fprintf(&b, "This application server is redeployed every week or so, and every lifetime starts low and climbs: the troughs under the GC sawtooth "+
		"rise by about %s an hour, the same in every lifetime (the per-lifetime slopes above), in both halves of each (so it is not a warm-up levelling off), "+
		"with p-values no test could mistake. The request rate is given as load, and the predictor regresses it out before testing (`basis: %s`); ",
		mib(lr), p.Evidence.Basis)
	if p.Evidence.LoadR2 != nil {
		fmt.Fprintf(&b, "load explains %.0f %% of the trough variance here, so the rise is not load. ", 100**p.Evidence.LoadR2)
	}
	fmt.Fprintf(&b, "The pooled leak rate is %s", rate(lr))
	if g.LeakRateBytesPerHour != nil {
		fmt.Fprintf(&b, " against a true %s (%s)", rate(*g.LeakRateBytesPerHour), nb.Pct(100*(lr-*g.LeakRateBytesPerHour) / *g.LeakRateBytesPerHour))
	}
	fmt.Fprintf(&b, ". The out-of-memory ETA projects the current lifetime's floor along that rate until floor plus GC amplitude (%s) reaches the %s limit: "+
		"**%s** if the process is not restarted", nb.Bytes(p.Evidence.GCAmplitudeBytes), nb.Bytes(ptrF(p.LimitBytes)), fmtOOM(p))
	if g.FillTime != nil {
		fmt.Fprintf(&b, "; the ground truth reaches the limit on %s, %s after now", nb.WhenY(*g.FillTime), nb.Days(nb.DaysUntil(g.FillTime, c.now)))
	}
	b.WriteString(". A leak ticket carries that ETA; the redeploys have been hiding the leak, not fixing it.")
	d.P("%s", b.String())
	return nil
}

func gib(v float64) float64 { return v / nb.GiB }

func memXY(s *service, from, to time.Time) ([]float64, []float64) {
	lo, hi := s.src.Window(from, to)
	xs, ys := make([]float64, 0, hi-lo), make([]float64, 0, hi-lo)
	for i := lo; i < hi; i++ {
		xs, ys = append(xs, nb.X(s.src.Times[i])), append(ys, gib(s.mem[i]))
	}
	return xs, ys
}

func troughXY(ts []trough, value func(trough) float64) ([]float64, []float64) {
	xs, ys := make([]float64, len(ts)), make([]float64, len(ts))
	for i, t := range ts {
		xs[i], ys[i] = nb.X(t.t), gib(value(t))
	}
	return xs, ys
}

// segLine is a lifetime's Theil–Sen slope drawn through its troughs: the
// slope from the evidence, the intercept the median of trough − slope·t.
func segLine(ts []trough, seg int, slopePerHour float64, value func(trough) float64) ([]float64, []float64) {
	var res []float64
	var first, last time.Time
	for _, t := range ts {
		if t.seg != seg {
			continue
		}
		if first.IsZero() {
			first = t.t
		}
		last = t.t
		res = append(res, value(t)-slopePerHour*t.t.Sub(first).Hours())
	}
	if len(res) == 0 {
		return nil, nil
	}
	sort.Float64s(res)
	a := res[len(res)/2]
	return []float64{nb.X(first), nb.X(last)}, []float64{gib(a), gib(a + slopePerHour*last.Sub(first).Hours())}
}

func raw(t trough) float64 { return t.v }

func (r *report) plotLeak(path string, c *theCase) error {
	p, s := c.p, c.svc
	from := c.now.Add(-history)
	to := c.now.Add(24 * time.Hour)
	if p.OOM.P90 != nil && p.OOM.P90.After(to) {
		to = p.OOM.P90.Add(24 * time.Hour)
	}
	if s.gt.FillTime != nil && s.gt.FillTime.After(to) {
		to = s.gt.FillTime.Add(24 * time.Hour)
	}
	pl := nb.NewPlot(fmt.Sprintf("%s %s: %s, out of memory in %s", s.host, s.name, p.Verdict, fmtOOM(p)), "resident memory (GiB)")
	if p.OOM.P10 != nil && p.OOM.P90 != nil {
		nb.Shade(pl, nb.X(*p.OOM.P10), nb.X(*p.OOM.P90), nb.Alpha(nb.Red, 0.25), "out-of-memory ETA p10–p90")
	}
	xs, ys := memXY(s, from, c.now)
	nb.Line(pl, xs, ys, nb.LineStyle{Color: nb.Alpha(nb.Blue, 0.45), Width: 0.5}, "memory, 5-minute samples")
	tx, ty := troughXY(c.troughs, raw)
	nb.Points(pl, tx, ty, nb.Black, 1.6, draw.CircleGlyph{}, fmt.Sprintf("GC troughs (minimum per %s)", dur(p.Evidence.TroughWindowSeconds)))
	for i, rs := range p.Evidence.Restarts {
		l := ""
		if i == 0 {
			l = "restart found by the predictor"
		}
		nb.VLine(pl, nb.X(rs), nb.LineStyle{Color: nb.Gray, Width: 1.2, Dashed: true}, l)
	}
	for k, sg := range p.Evidence.Segments {
		if sg.Class == risk.SegmentShort || k == len(p.Evidence.Segments)-1 {
			continue
		}
		lx, ly := segLine(c.troughs, k, sg.SlopeBytesPerHour, raw)
		l := ""
		if k == 0 {
			l = "per-lifetime slope of the floor"
		}
		nb.Line(pl, lx, ly, nb.LineStyle{Color: nb.Green, Width: 2}, l)
	}
	limit := ptrF(p.LimitBytes)
	if p.OOM.P50 != nil && p.LeakRateBytesPerHour != nil {
		lr, gc := *p.LeakRateBytesPerHour, p.Evidence.GCAmplitudeBytes
		cur := p.Evidence.Segments[len(p.Evidence.Segments)-1].Start
		floor := func(t time.Time) float64 { return gib(limit - gc - lr*p.OOM.P50.Sub(t).Hours()) }
		nb.Line(pl, []float64{nb.X(cur), nb.X(*p.OOM.P50)}, []float64{floor(cur), floor(*p.OOM.P50)}, nb.LineStyle{Color: nb.Red, Width: 2.2},
			fmt.Sprintf("fitted floor of this lifetime, %s", rate(lr)))
		nb.Line(pl, []float64{nb.X(c.now), nb.X(*p.OOM.P50)}, []float64{floor(c.now) + gib(gc), floor(*p.OOM.P50) + gib(gc)},
			nb.LineStyle{Color: nb.Red, Width: 1.3, Dashed: true}, "floor + GC amplitude: the peaks")
	}
	if s.gt.FillTime != nil {
		nb.VLine(pl, nb.X(*s.gt.FillTime), nb.LineStyle{Color: nb.Black, Width: 1.5, Dotted: true}, "ground truth: reaches the limit")
	}
	nb.HLine(pl, gib(limit), nb.LineStyle{Color: nb.Black, Width: 2}, fmt.Sprintf("limit (%s)", nb.Bytes(limit)))
	nb.VLine(pl, nb.X(c.now), nb.LineStyle{Color: nb.Black, Width: 1, Dashed: true}, "now")
	nb.TimeAxis(pl, from, to)
	pl.Y.Min, pl.Y.Max = 0, math.Ceil(gib(limit)*1.35)
	pl.Legend.Top, pl.Legend.Left = false, false
	return nb.SavePNG(path, 12, 5, pl)
}

// --- the warm-up ---------------------------------------------------------------------------

func (r *report) warmSection(d *nb.Doc, c *theCase) error {
	p := c.p
	d.H2(fmt.Sprintf("A warm-up: `%s` on `%s`, %d days after a restart", c.svc.name, c.svc.host, warmDays))
	fit, err := r.plotWarm(filepath.Join(r.dir, c.file), c)
	if err != nil {
		return err
	}
	d.Image(c.file, "Memory of the database after a restart with its troughs and the saturating fit")
	d.P("The predictor's reason: *%s*", p.Reason+".")
	segTable(d, p)
	var b strings.Builder
	fmt.Fprintf(&b, "The database was restarted on %s (found by the predictor; ground truth: %s). Its shared buffers and page cache then fill: the floor climbs "+
		"steeply at first and flattens. ", nb.When(p.Evidence.Restarts[len(p.Evidence.Restarts)-1]), nb.When(r.restart))
	if fit.ok {
		sg := p.Evidence.Segments[fit.seg]
		fmt.Fprintf(&b, "In the lifetime since, the floor rises %s in its first half and %s in its second; a saturating curve "+
			"a + b·(1 − e^(−t/τ)) with the predictor's τ = %.1f h (a = %s, b = %s fitted here by least squares for that τ) leaves %.0f %% of the squared error of "+
			"a straight line, and the predictor requires less than half to call a lifetime `saturating`. ",
			rate(sg.EarlySlope), rate(sg.LateSlope), *sg.SaturationHours, nb.Bytes(fit.a), nb.Bytes(fit.b), 100*fit.sseSat/fit.sseLin)
	}
	fmt.Fprintf(&b, "It plateaus at %s of the %s limit — no ticket, and no out-of-memory ETA (`oom` is empty unless the verdict is `leak`).", nb.Bytes(fit.a+fit.b), nb.Bytes(ptrF(p.LimitBytes)))
	d.P("%s", b.String())
	return nil
}

type satFit struct {
	ok             bool
	seg            int
	a, b           float64
	sseSat, sseLin float64
}

// fitSat fits a + b·(1 − exp(−(t−t0)/τ)) and a + c·t by least squares.
func fitSat(ts []trough, seg int, t0 time.Time, tau float64) satFit {
	var x, xl, y []float64
	for _, t := range ts {
		if t.seg == seg {
			h := t.t.Sub(t0).Hours()
			x, xl, y = append(x, 1-math.Exp(-h/tau)), append(xl, h), append(y, t.v)
		}
	}
	ls := func(x []float64) (float64, float64, float64) {
		n := float64(len(x))
		var sx, sy, sxx, sxy float64
		for i := range x {
			sx, sy, sxx, sxy = sx+x[i], sy+y[i], sxx+x[i]*x[i], sxy+x[i]*y[i]
		}
		b := (n*sxy - sx*sy) / (n*sxx - sx*sx)
		a := (sy - b*sx) / n
		var sse float64
		for i := range x {
			e := y[i] - a - b*x[i]
			sse += e * e
		}
		return a, b, sse
	}
	if len(y) < 3 {
		return satFit{}
	}
	a, b, sse := ls(x)
	_, _, sseL := ls(xl)
	return satFit{ok: true, seg: seg, a: a, b: b, sseSat: sse, sseLin: sseL}
}

func (r *report) plotWarm(path string, c *theCase) (satFit, error) {
	p, s := c.p, c.svc
	from := c.now.Add(-history)
	pl := nb.NewPlot(fmt.Sprintf("%s %s: %s", s.host, s.name, p.Verdict), "resident memory (GiB)")
	xs, ys := memXY(s, from, c.now)
	nb.Line(pl, xs, ys, nb.LineStyle{Color: nb.Alpha(nb.Blue, 0.45), Width: 0.5}, "memory, 5-minute samples")
	tx, ty := troughXY(c.troughs, raw)
	nb.Points(pl, tx, ty, nb.Black, 1.6, draw.CircleGlyph{}, fmt.Sprintf("GC troughs (minimum per %s)", dur(p.Evidence.TroughWindowSeconds)))
	for i, rs := range p.Evidence.Restarts {
		l := ""
		if i == 0 {
			l = "restart found by the predictor"
		}
		nb.VLine(pl, nb.X(rs), nb.LineStyle{Color: nb.Gray, Width: 1.2, Dashed: true}, l)
	}
	var fit satFit
	for k, sg := range p.Evidence.Segments {
		if sg.SaturationHours == nil {
			continue
		}
		fit = fitSat(c.troughs, k, sg.Start, *sg.SaturationHours)
		if !fit.ok {
			continue
		}
		var cx, cy, lx, ly []float64
		for t := sg.Start; !t.After(sg.End); t = t.Add(30 * time.Minute) {
			h := t.Sub(sg.Start).Hours()
			cx, cy = append(cx, nb.X(t)), append(cy, gib(fit.a+fit.b*(1-math.Exp(-h / *sg.SaturationHours))))
		}
		nb.Line(pl, cx, cy, nb.LineStyle{Color: nb.Red, Width: 2.2}, fmt.Sprintf("saturating fit, τ = %.1f h (evidence)", *sg.SaturationHours))
		lx, ly = segLine(c.troughs, k, sg.SlopeBytesPerHour, raw)
		nb.Line(pl, lx, ly, nb.LineStyle{Color: nb.Green, Width: 1.5, Dashed: true}, "the straight line it beats (lifetime slope)")
		nb.HLine(pl, gib(fit.a+fit.b), nb.LineStyle{Color: nb.Red, Width: 1, Dotted: true}, fmt.Sprintf("plateau %s", nb.Bytes(fit.a+fit.b)))
	}
	limit := ptrF(p.LimitBytes)
	nb.HLine(pl, gib(limit), nb.LineStyle{Color: nb.Black, Width: 2}, fmt.Sprintf("limit (%s)", nb.Bytes(limit)))
	nb.TimeAxis(pl, from, c.now.Add(6*time.Hour))
	pl.Y.Min, pl.Y.Max = 0, math.Ceil(gib(limit)*1.3)
	pl.Legend.Top = false
	return fit, nb.SavePNG(path, 12, 5, pl)
}

// --- load-driven ---------------------------------------------------------------------------

func (r *report) loadSection(d *nb.Doc, c *theCase) error {
	p, s := c.p, c.svc
	d.H2(fmt.Sprintf("Load-driven: `%s` on `%s`", s.name, s.host))
	beta := ptrF(p.Evidence.LoadBytesPerUnit)
	if err := r.plotLoad(filepath.Join(r.dir, c.file), c, beta); err != nil {
		return err
	}
	d.Image(c.file, "Memory of the load-driven service, its request rate, and its troughs before and after the load is regressed out")
	d.P("The predictor's reason: *%s*", p.Reason+".")
	segTable(d, p)
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, t := range c.troughs {
		lo, hi = math.Min(lo, t.v), math.Max(hi, t.v)
	}
	var ad []float64
	for _, t := range c.troughs {
		if !math.IsNaN(t.load) {
			ad = append(ad, t.v-beta*t.load)
		}
	}
	sort.Float64s(ad)
	d.P("The troughs of this application server move between %s and %s over the two weeks — more during office hours, most at the October close "+
		"(%s, shaded) — and the request rate moves with them. Regressing the troughs on the request rate (with a line per lifetime) gives %s per request/s and "+
		"explains %.0f %% of their variance; what is left (bottom panel) spans %s and has no trend (%s, combined p = %s). So the verdict is `%s` with score "+
		"%.2f, and no ticket: restarting it would change nothing.",
		nb.Bytes(lo), nb.Bytes(hi), r.closeDays(), mib(beta), 100*ptrF(p.Evidence.LoadR2), nb.Bytes(ad[len(ad)-1]-ad[0]),
		rate(ptrF(p.LeakRateBytesPerHour)), nb.P(p.Evidence.MannKendallP), p.Verdict, p.Score)

	// the capacity question this service does have
	me, err := r.monthEnd(s)
	if err != nil {
		return err
	}
	var dec *risk.MonthEndOutlook
	for i := range me.Outlook {
		if me.Outlook[i].Kind == risk.MonthEndYear {
			dec = &me.Outlook[i]
			break
		}
	}
	if dec != nil {
		var b strings.Builder
		fmt.Fprintf(&b, "Its real risk is capacity at month end, which is the month-end predictor's question, not the leak detector's. Run on the same memory series "+
			"(the full %d days, 15-minute grid) with the %s limit as threshold, it predicts the %s close (%s) to peak at %s (p10 %s – p90 %s), breach "+
			"probability %.2f",
			r.fleet.Config().Days, nb.Bytes(ptrF(p.LimitBytes)), dec.Month, strings.ReplaceAll(string(dec.Kind), "_", " "),
			nb.Bytes(dec.Peak.P50), nb.Bytes(dec.Peak.P10), nb.Bytes(dec.Peak.P90), ptrF(dec.BreachProbability))
		if s.gt.FillTime != nil {
			fmt.Fprintf(&b, "; the ground truth reaches the limit on %s, during that close", nb.WhenY(*s.gt.FillTime))
		}
		b.WriteString(".")
		d.P("%s", b.String())
	}
	return nil
}

func (r *report) closeDays() string {
	first, last, _ := nb.Cal.CloseWindow(2026, time.October, 3)
	return fmt.Sprintf("%s – %s", first.In(nb.Loc).Format("02 Jan"), last.In(nb.Loc).Format("02 Jan"))
}

// monthEnd runs the month-end predictor on the whole memory series.
func (r *report) monthEnd(s *service) (risk.MonthEndPrediction, error) {
	var smp []engine.Sample
	for i, t := range s.src.Times {
		if !math.IsNaN(s.mem[i]) {
			smp = append(smp, engine.Sample{Time: t, Value: s.mem[i]})
		}
	}
	limit := s.limit[len(s.limit)-1]
	return risk.PredictMonthEnd(risk.MonthEndInput{Series: s.id, Unit: "bytes", Samples: smp},
		risk.MonthEndOptions{Calendar: nb.Cal, Now: r.fleet.End(), Step: 15 * time.Minute, Threshold: limit})
}

func (r *report) plotLoad(path string, c *theCase, beta float64) error {
	p, s := c.p, c.svc
	from := c.now.Add(-history)
	to := c.now.Add(6 * time.Hour)
	shade := func(pl *plot.Plot, legend bool) {
		first, last, _ := nb.Cal.CloseWindow(2026, time.October, 3)
		l := ""
		if legend {
			l = "month-end close"
		}
		nb.Shade(pl, nb.X(first.In(nb.Loc)), nb.X(last.AddDays(1).In(nb.Loc)), nb.Alpha(nb.Orange, 0.25), l)
	}
	top := nb.NewPlot(fmt.Sprintf("%s %s: memory and its GC troughs", s.host, s.name), "resident memory (GiB)")
	shade(top, true)
	xs, ys := memXY(s, from, c.now)
	nb.Line(top, xs, ys, nb.LineStyle{Color: nb.Alpha(nb.Blue, 0.45), Width: 0.5}, "memory, 5-minute samples")
	tx, ty := troughXY(c.troughs, raw)
	nb.Points(top, tx, ty, nb.Black, 1.5, draw.CircleGlyph{}, "GC troughs")
	limit := ptrF(p.LimitBytes)
	nb.HLine(top, gib(limit), nb.LineStyle{Color: nb.Black, Width: 2}, fmt.Sprintf("limit (%s)", nb.Bytes(limit)))
	nb.TimeAxis(top, from, to)
	top.Y.Min, top.Y.Max = 0, math.Ceil(gib(limit)*1.75)

	mid := nb.NewPlot("the load the predictor is given: the host's request rate", "requests/s")
	shade(mid, false)
	lo, hi := s.src.Window(from, c.now)
	var lx, ly []float64
	for i := lo; i < hi; i++ {
		lx, ly = append(lx, nb.X(s.src.Times[i])), append(ly, s.load[i])
	}
	nb.Line(mid, lx, ly, nb.LineStyle{Color: nb.Green, Width: 0.6}, "")
	nb.TimeAxis(mid, from, to)
	mid.Y.Min = 0

	bot := nb.NewPlot(fmt.Sprintf("troughs minus %s × request rate: the floor without load", mib(beta)), "GiB")
	shade(bot, false)
	ax, ay := troughXY(c.troughs, func(t trough) float64 { return t.v - beta*t.load })
	nb.Points(bot, ax, ay, nb.Black, 1.5, draw.CircleGlyph{}, "load-adjusted troughs")
	if len(p.Evidence.Segments) > 0 {
		k := len(p.Evidence.Segments) - 1
		for k > 0 && p.Evidence.Segments[k].Class == risk.SegmentShort {
			k--
		}
		sx, sy := segLine(c.troughs, k, p.Evidence.Segments[k].SlopeBytesPerHour, func(t trough) float64 { return t.v - beta*t.load })
		nb.Line(bot, sx, sy, nb.LineStyle{Color: nb.Red, Width: 2}, fmt.Sprintf("lifetime slope %s", rate(p.Evidence.Segments[k].SlopeBytesPerHour)))
	}
	nb.TimeAxis(bot, from, to)
	var minY, maxY = math.Inf(1), math.Inf(-1)
	for _, v := range ay {
		if !math.IsNaN(v) {
			minY, maxY = math.Min(minY, v), math.Max(maxY, v)
		}
	}
	span := math.Max(maxY-minY, 0.5)
	bot.Y.Min, bot.Y.Max = minY-0.6*span, maxY+0.9*span
	return nb.SavePNG(path, 12, 3.3, top, mid, bot)
}

// --- replays ---------------------------------------------------------------------------

func (r *report) replaySection(d *nb.Doc) error {
	d.H2("Over two weeks, not just one moment")
	d.P("One evaluation could be lucky. The table replays the predictor every %d hours over the %d days before each case's evaluation time, beside the "+
		"`predict_linear` rule of the scenario benchmark (least squares over the last 24 h of raw memory; a leak when the line reaches the limit within %.0f days).",
		int(replayStep.Hours()), int(history.Hours()/24), peerDays)
	var rows [][]string
	counts := make([]map[risk.MemVerdict]int, len(r.cases))
	peers := make([]int, len(r.cases))
	for ci, c := range r.cases {
		verdicts := map[risk.MemVerdict]int{}
		counts[ci] = verdicts
		n, peer := 0, 0
		for now := c.now.Add(-history).Add(replayStep); !now.After(c.now); now = now.Add(replayStep) {
			p, err := c.svc.predict(now)
			if err != nil {
				return err
			}
			verdicts[p.Verdict]++
			n++
			in := c.svc.input(now)
			if len(in.Times) > 0 {
				lim := in.Limit[len(in.Limit)-1]
				if nb.PeerETA(in.Times, in.Memory, now, 24*time.Hour, lim) <= peerDays {
					peer++
				}
			}
		}
		var vs []string
		for _, v := range []risk.MemVerdict{risk.MemLeak, risk.MemWarmupPlateau, risk.MemLoadDriven, risk.MemStable, risk.MemInsufficientHistory} {
			if verdicts[v] > 0 {
				vs = append(vs, fmt.Sprintf("`%s` %d", v, verdicts[v]))
			}
		}
		peers[ci] = peer
		rows = append(rows, []string{fmt.Sprintf("`%s` `%s`", c.svc.host, c.svc.name), "`" + string(c.svc.gt.Kind) + "`", fmt.Sprint(n), strings.Join(vs, ", "), fmt.Sprintf("%d of %d", peer, n)})
	}
	d.Table("llrll", []string{"service", "ground truth", "evaluations", "Foresight verdicts", "predict_linear 24 h flags a leak"}, rows)
	d.P("%s", replayProse(r.cases, counts, peers))
	return nil
}

// replayProse sums up the replay table from its counts.
func replayProse(cases []*theCase, counts []map[risk.MemVerdict]int, peers []int) string {
	var b strings.Builder
	wrongLeaks := 0
	var flags []string
	for i, c := range cases {
		if c.svc.gt.Kind != datasets.KindMemLeak {
			wrongLeaks += counts[i][risk.MemLeak]
			flags = append(flags, fmt.Sprintf("%d of %d", peers[i], sum(counts[i])))
		}
	}
	if wrongLeaks == 0 {
		fmt.Fprintf(&b, "The predictor never calls the warm-up or the load-driven service a leak; the predict_linear rule flags them at %s evaluations, "+
			"after a day of steep warm-up or a busy afternoon, or on mere noise along a flat plateau: with a 30-day horizon a small upward tilt of a 24-hour line is enough. ",
			strings.Join(flags, " and "))
	} else {
		fmt.Fprintf(&b, "The predictor calls the warm-up or the load-driven service a leak %d time(s). ", wrongLeaks)
	}
	for i, c := range cases {
		if c.svc.gt.Kind == datasets.KindMemLeak {
			fmt.Fprintf(&b, "It calls the leak a leak at %d of %d evaluations. ", counts[i][risk.MemLeak], sum(counts[i]))
		}
		if c.svc.gt.Kind == datasets.KindWarmup && counts[i][risk.MemStable] > 0 {
			fmt.Fprintf(&b, "In the warm-up case %d evaluations say `stable`: those before the restart see only the old plateau, and right after it the new "+
				"lifetime is too short to show its curvature (the predictor needs a day and a dozen troughs in a lifetime); it says `warmup_plateau` once it can tell.",
				counts[i][risk.MemStable])
		}
	}
	return b.String()
}

func sum(m map[risk.MemVerdict]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
