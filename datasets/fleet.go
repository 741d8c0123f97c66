// Package datasets provides Foresight's data: a deterministic synthetic
// fleet of ERP/finance hosts with exact ground truth (GenerateFleet), whose
// month-end load follows a business calendar (package calendar), and
// loaders for the CSV layouts the CLI reads (ReadSeriesCSV and friends) and
// for the M4 competition files (LoadM4).
package datasets

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	"github.com/seed-f1b503aa/foresight/calendar"
	"github.com/seed-f1b503aa/foresight/engine"
)

// Defaults of FleetConfig.
const (
	DefaultHosts     = 20                   // hosts
	DefaultDays      = 120                  // days of history
	DefaultStep      = time.Minute          // sampling interval
	DefaultCloseDays = 3                    // business days in a month-end close window
	DefaultHorizon   = 365 * 24 * time.Hour // fill-time search beyond End
)

// DefaultEnd is the fleet's default (exclusive) end, fixed so that output is
// reproducible: 2026-11-01T00:00:00Z.
var DefaultEnd = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// Limits on FleetConfig values.
const (
	maxHosts = 10000
	minStep  = time.Second
	maxStep  = 24 * time.Hour
)

// FleetConfig parameterises GenerateFleet. Zero fields take the defaults
// noted; negative values are errors.
type FleetConfig struct {
	// Hosts is the number of hosts (default 20). Roles cycle so that the
	// first three hosts are erp-app-01, db-01 and rpt-01; any fleet of three
	// or more hosts has every role.
	Hosts int
	// Days is the length of the generated history in days (default 120).
	Days int
	// Step is the sampling interval (default 1 minute, at least 1 s, at
	// most 24 h).
	Step time.Duration
	// End is the exclusive end of the history (default DefaultEnd).
	// Samples are at End - Days×24h + k×Step for k = 0, 1, ... while before
	// End. Pass time.Now().Truncate(time.Minute) for a fleet that ends now.
	End time.Time
	// Seed seeds every random choice (all values are valid, 0 included).
	Seed uint64
	// Calendar drives business days and month-end close (default
	// calendar.DefaultCalendar()).
	Calendar *calendar.Calendar
	// CloseDays is the number of business days at the end of each month in
	// which close load is concentrated (default 3).
	CloseDays int
	// Horizon bounds how far after End the ground truth looks for the time
	// a disk or memory limit is reached (default 365 days).
	Horizon time.Duration
}

// Role is a host's function in the fleet.
type Role string

// Host roles.
const (
	RoleApp    Role = "app"    // ERP application server (erp-app-NN)
	RoleDB     Role = "db"     // database server (db-NN)
	RoleReport Role = "report" // reporting / BI server (rpt-NN)
)

// rolePattern assigns roles to hosts in order; it repeats for larger fleets.
var rolePattern = []Role{
	RoleApp, RoleDB, RoleReport, RoleApp, RoleApp, RoleDB, RoleApp, RoleReport, RoleApp, RoleApp,
	RoleDB, RoleApp, RoleReport, RoleApp, RoleApp, RoleDB, RoleApp, RoleReport, RoleApp, RoleApp,
}

// Host is one generated host.
type Host struct {
	Name string // host tag value, e.g. "db-01"
	Role Role
}

// Fleet is a generated fleet: a deterministic description from which Each
// and the writers produce samples on demand (nothing is held in memory but
// the description). A Fleet is safe for concurrent use; every pass over it
// yields the same samples.
type Fleet struct {
	cfg     FleetConfig
	start   time.Time
	n       int // number of time steps
	hosts   []Host
	sources []*source
	fields  int // total number of series
	ct      *calTable

	truthOnce sync.Once
	truth     map[string]GroundTruth
}

// source is one line-protocol series key (measurement + tags) with its
// fields.
type source struct {
	measurement string
	tags        map[string]string
	keyID       string // line-protocol series key, used for ordering
	host        int
	fields      []*field // sorted by name
	gaps        []stepSpan
	seed        uint64
	lpPrefix    []byte // escaped "measurement,tag=value,..." followed by a space
}

// stepSpan is a half-open range of step indices [from, to).
type stepSpan struct{ from, to int }

// field is one numeric series.
type field struct {
	name     string
	id       string
	m        model
	noise    noiseSpec
	decimals int     // values are rounded to this many decimals (-1 = not rounded)
	lo, hi   float64 // clamp range
	capField int     // index of a field of the same source that bounds this one (-1 = none)
	outliers []outlier
	truth    GroundTruth // static part (kind, unit, events, ...)
	capModel *model      // the capacity series' model, for fill times
	lpKey    []byte      // escaped field key followed by '='
	csvKey   []byte      // CSV-quoted series ID followed by ','
}

// noiseSpec is AR(1) noise with standard deviation abs + rel×|mean|.
type noiseSpec struct {
	abs, rel, phi float64
}

// outlier replaces the value at one step: v×mul + add.
type outlier struct {
	step     int
	mul, add float64
}

// GenerateFleet builds the fleet described by cfg. It validates cfg and
// lays out hosts, series, events, gaps and outliers; samples are produced
// later by Each or the writers.
func GenerateFleet(cfg FleetConfig) (*Fleet, error) {
	if err := cfg.resolve(); err != nil {
		return nil, err
	}
	f := &Fleet{cfg: cfg}
	span := time.Duration(cfg.Days) * 24 * time.Hour
	f.start = cfg.End.Add(-span)
	f.n = int((span + cfg.Step - 1) / cfg.Step)

	loc := cfg.Calendar.Location()
	from := calendar.DateIn(f.start, loc).AddDays(-1)
	to := calendar.DateIn(cfg.End.Add(cfg.Horizon), loc).AddDays(62)
	f.ct = newCalTable(cfg.Calendar, from, to, cfg.CloseDays)

	b := &builder{f: f, H: span.Hours(), month0: calendar.DateIn(f.start, loc).MonthIndex()}
	roleCount := map[Role]int{}
	for i := 0; i < cfg.Hosts; i++ {
		role := rolePattern[i%len(rolePattern)]
		roleCount[role]++
		b.addHost(i, role, roleCount[role])
	}
	sort.Slice(f.sources, func(i, j int) bool { return f.sources[i].keyID < f.sources[j].keyID })
	for _, s := range f.sources {
		s.lpPrefix = appendLPSeriesKey(nil, s.measurement, s.tags)
		s.lpPrefix = append(s.lpPrefix, ' ')
		for _, fl := range s.fields {
			fl.lpKey = append(appendLPEscaped(nil, fl.name, lpTagEscapes), '=')
			fl.csvKey = append(appendCSVField(nil, fl.id), ',')
		}
		f.fields += len(s.fields)
	}
	return f, nil
}

func (cfg *FleetConfig) resolve() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(cfg.Hosts >= 0 && cfg.Hosts <= maxHosts, "fleet: Hosts %d out of range 1..%d", cfg.Hosts, maxHosts)
	check(cfg.Days >= 0, "fleet: Days %d is negative", cfg.Days)
	check(cfg.Step >= 0, "fleet: Step %s is negative", cfg.Step)
	check(cfg.Step == 0 || (cfg.Step >= minStep && cfg.Step <= maxStep), "fleet: Step %s out of range %s..%s", cfg.Step, minStep, maxStep)
	check(cfg.CloseDays >= 0 && cfg.CloseDays <= 10, "fleet: CloseDays %d out of range 1..10", cfg.CloseDays)
	check(cfg.Horizon >= 0, "fleet: Horizon %s is negative", cfg.Horizon)
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if cfg.Hosts == 0 {
		cfg.Hosts = DefaultHosts
	}
	if cfg.Days == 0 {
		cfg.Days = DefaultDays
	}
	if cfg.Step == 0 {
		cfg.Step = DefaultStep
	}
	if cfg.End.IsZero() {
		cfg.End = DefaultEnd
	}
	cfg.End = cfg.End.UTC()
	if cfg.Calendar == nil {
		cfg.Calendar = calendar.DefaultCalendar()
	}
	if cfg.CloseDays == 0 {
		cfg.CloseDays = DefaultCloseDays
	}
	if cfg.Horizon == 0 {
		cfg.Horizon = DefaultHorizon
	}
	if cfg.Days > 3660 {
		return fmt.Errorf("fleet: Days %d is more than ten years", cfg.Days)
	}
	return nil
}

// Config returns the configuration with defaults filled in.
func (f *Fleet) Config() FleetConfig { return f.cfg }

// Start returns the time of the first sample.
func (f *Fleet) Start() time.Time { return f.start }

// End returns the exclusive end of the history.
func (f *Fleet) End() time.Time { return f.cfg.End }

// Step returns the sampling interval.
func (f *Fleet) Step() time.Duration { return f.cfg.Step }

// Steps returns the number of sampling instants.
func (f *Fleet) Steps() int { return f.n }

// Hosts returns the fleet's hosts in generation order.
func (f *Fleet) Hosts() []Host { return append([]Host(nil), f.hosts...) }

// NumPointsPerStep returns the number of points (measurement + tag sets)
// per instant when none is missing.
func (f *Fleet) NumPointsPerStep() int { return len(f.sources) }

// Series returns the keys of every generated series, sorted by ID.
func (f *Fleet) Series() []engine.SeriesKey {
	out := make([]engine.SeriesKey, 0, f.fields)
	for _, s := range f.sources {
		for _, fl := range s.fields {
			out = append(out, fl.truth.Key)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID() < out[j].ID() })
	return out
}

// --- building -------------------------------------------------------------

// Units of the generated series, as recorded in GroundTruth.Unit.
const (
	UnitPercent     = "percent"
	UnitBytes       = "bytes"
	UnitRequestsSec = "requests/s"
	UnitSessions    = "sessions"
	UnitConnections = "connections"
)

const (
	gib = float64(1 << 30)
	mib = float64(1 << 20)
	day = 24.0 // hours
)

type builder struct {
	f      *Fleet
	H      float64 // span in hours
	month0 int
}

type hostCtx struct {
	b    *builder
	idx  int
	name string
	role Role
	ord  int // 1-based index within the role
	rng  *rand.Rand
	mult float64 // host load multiplier
	gaps []stepSpan
}

func hashSeed(parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return h.Sum64()
}

func (b *builder) addHost(idx int, role Role, ord int) {
	var name string
	switch role {
	case RoleApp:
		name = fmt.Sprintf("erp-app-%02d", ord)
	case RoleDB:
		name = fmt.Sprintf("db-%02d", ord)
	default:
		name = fmt.Sprintf("rpt-%02d", ord)
	}
	b.f.hosts = append(b.f.hosts, Host{Name: name, Role: role})
	hc := &hostCtx{b: b, idx: idx, name: name, role: role, ord: ord,
		rng: rand.New(rand.NewPCG(b.f.cfg.Seed, hashSeed("host", name)))}
	hc.mult = 0.85 + 0.3*hc.rng.Float64()
	hc.gaps = hc.randomGaps(1+b.f.cfg.Days/45+hc.rng.IntN(2), 5*time.Minute, 4*time.Hour)

	hc.cpu()
	switch role {
	case RoleApp:
		hc.appDisks()
		hc.appMemory()
		hc.appLoad()
	case RoleDB:
		hc.dbDisks()
		hc.dbMemory()
		hc.dbLoad()
	default:
		hc.rptDisks()
		hc.rptMemory()
	}
}

// randomGaps places n missing stretches of log-uniform length in the middle
// 90% of the span.
func (hc *hostCtx) randomGaps(n int, minLen, maxLen time.Duration) []stepSpan {
	f := hc.b.f
	step := f.cfg.Step
	var out []stepSpan
	for i := 0; i < n; i++ {
		l := float64(minLen) * math.Exp(hc.rng.Float64()*math.Log(float64(maxLen)/float64(minLen)))
		steps := int(math.Ceil(l / float64(step)))
		if steps < 1 {
			steps = 1
		}
		lo := int(0.05 * float64(f.n))
		hi := int(0.95*float64(f.n)) - steps
		if hi <= lo {
			if f.n < 3 {
				continue
			}
			lo, hi, steps = 1, f.n-1, 1
		}
		from := lo + hc.rng.IntN(hi-lo)
		out = append(out, stepSpan{from, from + steps})
	}
	return out
}

// at returns the hour (since start) of an event placed daysBefore days
// before End, pulled inside the span for short fleets.
func (b *builder) at(daysBefore float64) float64 {
	d := daysBefore * day
	if d > 0.8*b.H {
		d = 0.8 * b.H * (daysBefore / (daysBefore + 30))
	}
	return roundMinute(b.H - d)
}

// roundMinute rounds hours to a whole minute.
func roundMinute(h float64) float64 { return math.Round(h*60) / 60 }

func (b *builder) timeAt(h float64) time.Time {
	return b.f.start.Add(time.Duration(h * float64(time.Hour))).Round(time.Second)
}

// newSource adds a source with the host's gaps plus, sometimes, one of its own.
func (hc *hostCtx) newSource(measurement string, tags map[string]string) *source {
	tags["host"] = hc.name
	s := &source{measurement: measurement, tags: tags, host: hc.idx}
	s.keyID = string(appendLPSeriesKey(nil, measurement, tags))
	s.seed = hashSeed("source", s.keyID)
	gaps := append([]stepSpan(nil), hc.gaps...)
	if hc.rng.Float64() < 0.3 {
		gaps = append(gaps, hc.randomGaps(1, time.Minute, 2*time.Hour)...)
	}
	s.gaps = mergeSpans(gaps)
	hc.b.f.sources = append(hc.b.f.sources, s)
	return s
}

func mergeSpans(in []stepSpan) []stepSpan {
	sort.Slice(in, func(i, j int) bool { return in[i].from < in[j].from })
	var out []stepSpan
	for _, s := range in {
		if n := len(out); n > 0 && s.from <= out[n-1].to {
			if s.to > out[n-1].to {
				out[n-1].to = s.to
			}
			continue
		}
		out = append(out, s)
	}
	return out
}

// addField appends a field to s and fills in its identity.
func (hc *hostCtx) addField(s *source, name string, kind Kind, unit string, m model, nz noiseSpec, decimals int, lo, hi float64) *field {
	fl := &field{name: name, m: m, noise: nz, decimals: decimals, lo: lo, hi: hi, capField: -1}
	fl.truth = GroundTruth{
		Key:  engine.SeriesKey{Measurement: s.measurement, Field: name, Tags: s.tags},
		Kind: kind,
		Unit: unit,
	}
	fl.id = fl.truth.Key.ID()
	fl.truth.ID = fl.id
	s.fields = append(s.fields, fl)
	sort.Slice(s.fields, func(i, j int) bool { return s.fields[i].name < s.fields[j].name })
	return fl
}

// fixCapField links a used field to the capacity field of the same source.
func fixCapField(s *source, used, capacity *field) {
	for i, fl := range s.fields {
		if fl == capacity {
			used.capField = i
		}
	}
	used.capModel = &capacity.m
	c := capacity.m.off
	used.truth.Capacity = &c
	used.truth.CapacitySeries = capacity.id
}

// outliers draws n outliers for a field.
func (hc *hostCtx) outliers(fl *field, perDays float64, mk func(r *rand.Rand) outlier) {
	f := hc.b.f
	n := int(math.Floor(float64(f.cfg.Days)/perDays*(0.5+hc.rng.Float64()) + hc.rng.Float64()))
	for i := 0; i < n && f.n > 2; i++ {
		o := mk(hc.rng)
		o.step = 1 + hc.rng.IntN(f.n-2)
		fl.outliers = append(fl.outliers, o)
	}
	sort.Slice(fl.outliers, func(i, j int) bool { return fl.outliers[i].step < fl.outliers[j].step })
	// one outlier per step at most
	out := fl.outliers[:0]
	for i, o := range fl.outliers {
		if i > 0 && o.step == fl.outliers[i-1].step {
			continue
		}
		out = append(out, o)
	}
	fl.outliers = out
}

func (hc *hostCtx) uniform(lo, hi float64) float64 { return lo + (hi-lo)*hc.rng.Float64() }

// --- load series ------------------------------------------------------------

var (
	noiseCPU   = noiseSpec{abs: 0.8, rel: 0.04, phi: 0.6}
	noiseRate  = noiseSpec{abs: 0.5, rel: 0.05, phi: 0.3}
	noiseCount = noiseSpec{abs: 1.5, rel: 0.02, phi: 0.9}
)

func (hc *hostCtx) cpu() {
	s := hc.newSource("cpu", map[string]string{"cpu": "cpu-total"})
	m := model{}
	switch hc.role {
	case RoleApp:
		m = model{off: hc.uniform(2.5, 5), loadScale: 22 * hc.mult, boost: 1}
	case RoleDB:
		// nightly backup compression 01:00-02:00
		m = model{off: hc.uniform(4, 7), loadScale: 18 * hc.mult, boost: 1,
			nightAmp: hc.uniform(18, 28), nightFrom: 1, nightTo: 2}
	default:
		// nightly report batch 02:00-04:30, heavier month-end reporting
		m = model{off: hc.uniform(2, 4), loadScale: 12 * hc.mult, boost: 1.6,
			nightAmp: hc.uniform(15, 25), nightFrom: 2, nightTo: 4.5}
	}
	fl := hc.addField(s, "usage_active", KindMonthEndLoad, UnitPercent, m, noiseCPU, 2, 0, 100)
	c := 100.0
	fl.truth.Capacity = &c
	hc.outliers(fl, 40, func(r *rand.Rand) outlier { return outlier{mul: 1, add: 30 + 30*r.Float64()} })
}

func (hc *hostCtx) appLoad() {
	s := hc.newSource("http_requests", map[string]string{})
	m := model{off: hc.uniform(1, 3), loadScale: 150 * hc.mult, boost: 1}
	fl := hc.addField(s, "rate", KindMonthEndLoad, UnitRequestsSec, m, noiseRate, 2, 0, math.Inf(1))
	hc.outliers(fl, 40, func(r *rand.Rand) outlier { return outlier{mul: 2 + 2*r.Float64()} })

	s = hc.newSource("erp_sessions", map[string]string{})
	m = model{off: hc.uniform(2, 6), loadScale: 350 * hc.mult, boost: 0.8}
	fl = hc.addField(s, "active", KindMonthEndLoad, UnitSessions, m, noiseCount, 0, 0, math.Inf(1))
	hc.outliers(fl, 60, func(r *rand.Rand) outlier { return outlier{mul: 1.5 + 1.5*r.Float64()} })
}

func (hc *hostCtx) dbLoad() {
	s := hc.newSource("db_connections", map[string]string{})
	m := model{off: hc.uniform(20, 30), loadScale: 120 * hc.mult, boost: 1,
		nightAmp: 8, nightFrom: 1, nightTo: 2}
	fl := hc.addField(s, "active", KindMonthEndLoad, UnitConnections, m, noiseCount, 0, 0, math.Inf(1))
	c := 500.0 // max_connections
	fl.truth.Capacity = &c
	hc.outliers(fl, 50, func(r *rand.Rand) outlier { return outlier{mul: 1.5 + r.Float64()} })
}

// --- disks ------------------------------------------------------------------

// disk adds a disk source: used follows m, total follows capModel.
func (hc *hostCtx) disk(path string, kind Kind, total model, used model, events []Event, outlierEvery float64) *field {
	s := hc.newSource("disk", map[string]string{"path": path})
	tf := hc.addField(s, "total", KindCapacity, UnitBytes, total, noiseSpec{}, 0, 0, math.Inf(1))
	nz := noiseSpec{abs: 0.0004 * total.off, phi: 0.97}
	uf := hc.addField(s, "used", kind, UnitBytes, used, nz, 0, 0, math.Inf(1))
	fixCapField(s, uf, tf)
	uf.truth.Events = events
	for _, st := range total.steps {
		tf.truth.Events = append(tf.truth.Events, Event{Time: hc.b.timeAt(st.h), Type: EventResize, Change: st.amount})
	}
	if outlierEvery > 0 {
		hc.outliers(uf, outlierEvery, func(r *rand.Rand) outlier { return outlier{mul: 0} })
	}
	return uf
}

// anchoredLinear returns (off, r) so that the level is vEnd at End with
// slope r per hour, keeping the start level within [lo, hi].
func (b *builder) anchoredLinear(vEnd, r, lo, hi float64) (float64, float64) {
	off := vEnd - r*b.H
	if off < lo {
		off = lo
		r = (vEnd - lo) / b.H
	}
	if off > hi {
		off = hi
		r = (vEnd - hi) / b.H
	}
	return off, r
}

func (hc *hostCtx) rootDisk(total float64) {
	shrink := hc.rng.Float64() < 0.15
	if hc.ord == 1 { // fixed on the first hosts so small fleets show both
		shrink = hc.role == RoleDB
	}
	if shrink {
		// slightly shrinking: old packages and core dumps cleaned over time
		vEnd := hc.uniform(0.3, 0.5) * total
		off, r := hc.b.anchoredLinear(vEnd, -hc.uniform(0.0003, 0.0008)*total/day, 0.05*total, 0.9*total)
		hc.disk("/", KindDiskShrinking, model{off: total}, model{off: off, r1: r, r2: r}, nil, 0)
		return
	}
	hc.disk("/", KindDiskStable, model{off: total}, model{off: hc.uniform(0.3, 0.6) * total}, nil, 0)
}

func (hc *hostCtx) appDisks() {
	b := hc.b
	hc.rootDisk(50 * gib)

	// /var/log: daily rotation sawtooth; the second app server's retention
	// keeps more than it deletes, so the floor creeps up.
	T := 20 * gib
	floorEnd := hc.uniform(2, 4) * gib
	used := model{sawBiz: hc.uniform(4, 6) * gib / day, sawOff: hc.uniform(0.8, 1.5) * gib / day}
	if hc.ord == 2 {
		// the floor creeps from floorEnd at the start to a peak that reaches
		// the total 70-110 days after End.
		peak := used.sawBiz * day
		used.off = floorEnd
		used.r1 = (T - peak - floorEnd) / (b.H + hc.uniform(70, 110)*day)
		used.r2 = used.r1
	} else {
		used.off = floorEnd
	}
	hc.disk("/var/log", KindDiskSawtooth, model{off: T}, used, nil, 60)

	// /opt/erp: documents and attachments. The first app server accelerates
	// after a change (document scanning switched on) and fills soon after End.
	T = 200 * gib
	switch {
	case hc.ord == 1 || hc.ord%5 == 0:
		// slow growth (r1) until the change, ten times faster (r2) after;
		// rates are absolute so short and long fleets look alike.
		vEnd := hc.uniform(0.55, 0.62) * T
		r2 := hc.uniform(0.018, 0.024) * T / day
		r1 := r2 / hc.uniform(9, 12)
		hcp := b.at(hc.uniform(10, 14))
		atChange := vEnd - r2*(b.H-hcp)
		off := atChange - r1*hcp
		if off < 0.05*T {
			off = 0.05 * T
			r1 = (atChange - off) / hcp
		}
		ev := []Event{{Time: b.timeAt(hcp), Type: EventChangePoint, Change: r2 - r1, Note: "growth rate change (bytes/hour)"}}
		hc.disk("/opt/erp", KindDiskFillAccelerating, model{off: T}, model{off: off, r1: r1, r2: r2, hc: hcp}, ev, 0)
	default:
		vEnd := hc.uniform(0.3, 0.6) * T
		off, r := b.anchoredLinear(vEnd, hc.uniform(0.0005, 0.002)*T/day, 0.05*T, 0.9*T)
		hc.disk("/opt/erp", KindDiskFill, model{off: T}, model{off: off, r1: r, r2: r}, nil, 90)
	}
}

func (hc *hostCtx) dbDisks() {
	b := hc.b
	hc.rootDisk(100 * gib)

	// /data: database files grow linearly (plus temp space during busy hours).
	T := 500 * gib
	if hc.ord == 3 {
		T = 1000 * gib
	}
	// Anchored at the start so the fill lands fillDays after End whatever
	// the span.
	fillDays := []float64{35, 150, 0, 60}[(hc.ord-1)%4] * hc.uniform(0.85, 1.15)
	tmp := 0.01 * T
	off := hc.uniform(0.25, 0.4) * T
	r := (T - 2.5*tmp - off) / (b.H + fillDays*day)
	kind := KindDiskFill
	if fillDays == 0 {
		kind = KindDiskStable
		off, r = hc.uniform(0.55, 0.7)*T, 0
	}
	hc.disk("/data", kind, model{off: T}, model{off: off, r1: r, r2: r, loadScale: tmp, boost: 1}, nil, 60)

	// /backup: nightly dump written as a temporary file 01:00-02:00, then
	// compressed; retention lags so usage grows; the first database server
	// had a manual cleanup (sudden drop).
	T = 1024 * gib
	used := model{spikeAmp: hc.uniform(0.05, 0.07) * T, spikeFrom: 1, spikeTo: 2}
	vEnd := hc.uniform(0.5, 0.65) * T
	r = hc.uniform(0.0015, 0.004) * T / day
	var ev []Event
	if hc.ord == 1 {
		drop := -hc.uniform(0.15, 0.2) * T
		hcl := b.at(50)
		used.steps = []stepChange{{h: hcl, amount: drop}}
		ev = []Event{{Time: b.timeAt(hcl), Type: EventCleanup, Change: drop}}
		used.off, used.r1 = b.anchoredLinear(vEnd-drop, r, 0.05*T, 0.8*T)
	} else {
		used.off, used.r1 = b.anchoredLinear(vEnd, r, 0.05*T, 0.8*T)
	}
	used.r2 = used.r1
	hc.disk("/backup", KindDiskBackup, model{off: T}, used, ev, 0)
}

func (hc *hostCtx) rptDisks() {
	b := hc.b
	hc.rootDisk(50 * gib)

	// /reports: generated reports; a monthly purge on the 1st removes old
	// ones, slightly less than a month's growth.
	T := 300 * gib
	grow := hc.uniform(1.3, 1.8) * gib / day
	purge := grow * 30.44 * day * hc.uniform(0.75, 0.9)
	used := model{r1: grow, r2: grow, purgeAmp: purge, month0: b.month0}
	vEnd := hc.uniform(0.45, 0.6) * T
	nPurges := float64(calendar.DateIn(b.f.cfg.End.Add(-time.Nanosecond), b.f.cfg.Calendar.Location()).MonthIndex() - b.month0)
	used.off = vEnd - grow*b.H + purge*nPurges
	if used.off < 0.05*T || used.off > 0.9*T {
		used.off = 0.5 * T
		used.purgeAmp = grow * 30.44 * day // flat on average
	}
	var ev []Event
	for mi := b.month0 + 1; mi <= b.month0+int(nPurges); mi++ {
		d := calendar.NewDate(mi/12, time.Month(mi%12+1), 1)
		ev = append(ev, Event{Time: d.In(b.f.cfg.Calendar.Location()).UTC(), Type: EventPurge, Change: -used.purgeAmp})
	}
	hc.disk("/reports", KindDiskPurge, model{off: T}, used, ev, 90)

	// /archive: the first report server's volume was grown online before it
	// filled; others fill linearly and slowly.
	if hc.ord == 1 {
		T0, T1 := 200*gib, 400*gib
		hr := b.at(40)
		r := hc.uniform(1.0, 1.4) * gib / day
		vEnd := 0.58 * T1
		off := vEnd - r*b.H
		if lim := 0.92*T0 - r*hr; off > lim {
			off = lim
		}
		if off < 0.05*T0 {
			off = 0.05 * T0
		}
		total := model{off: T0, steps: []stepChange{{h: hr, amount: T1 - T0}}}
		ev := []Event{{Time: b.timeAt(hr), Type: EventResize, Change: T1 - T0}}
		hc.disk("/archive", KindDiskGrown, total, model{off: off, r1: r, r2: r}, ev, 0)
	} else {
		T := 400 * gib
		vEnd := hc.uniform(0.3, 0.5) * T
		off, r := b.anchoredLinear(vEnd, hc.uniform(0.0005, 0.0015)*T/day, 0.05*T, 0.9*T)
		hc.disk("/archive", KindDiskFill, model{off: T}, model{off: off, r1: r, r2: r}, nil, 0)
	}

	// /tmp: nightly batch temp files 02:00-04:30 over a slowly shrinking base.
	T = 100 * gib
	vEnd = hc.uniform(0.15, 0.25) * T
	off, r := b.anchoredLinear(vEnd, -hc.uniform(0.0003, 0.0006)*T/day, 0.05*T, 0.5*T)
	hc.disk("/tmp", KindDiskShrinking, model{off: T},
		model{off: off, r1: r, r2: r, spikeAmp: hc.uniform(0.1, 0.2) * T, spikeFrom: 2, spikeTo: 4.5}, nil, 0)
}

// --- memory -------------------------------------------------------------------

// proc adds a process_mem source for a service with a fixed limit.
func (hc *hostCtx) proc(service string, kind Kind, limit float64, used model, events []Event) *field {
	s := hc.newSource("process_mem", map[string]string{"service": service})
	lf := hc.addField(s, "limit_bytes", KindCapacity, UnitBytes, model{off: limit}, noiseSpec{}, 0, 0, math.Inf(1))
	nz := noiseSpec{abs: 0.004 * limit, phi: 0.9}
	uf := hc.addField(s, "used_bytes", kind, UnitBytes, used, nz, 0, 0, math.Inf(1))
	fixCapField(s, uf, lf)
	uf.truth.Events = events
	if used.leak != 0 {
		l := used.leak
		uf.truth.LeakRateBytesPerHour = &l
	}
	hc.outliers(uf, 50, func(r *rand.Rand) outlier { return outlier{mul: 1.15 + 0.25*r.Float64()} })
	return uf
}

// restartsEvery returns restart hours from before the start to the end,
// spaced uniformly in [minDays, maxDays].
func (hc *hostCtx) restartsEvery(minDays, maxDays float64) []float64 {
	r := []float64{roundMinute(-hc.uniform(0, 3) * day)}
	for {
		next := roundMinute(r[len(r)-1] + hc.uniform(minDays, maxDays)*day)
		if next >= hc.b.H {
			return r
		}
		r = append(r, next)
	}
}

// restartsAt returns one restart before the start plus maintenance restarts
// daysBefore End (clipped into the span), sorted and de-duplicated.
func (hc *hostCtx) restartsAt(daysBefore ...float64) []float64 {
	r := []float64{-hc.uniform(2, 20) * day}
	for _, d := range daysBefore {
		h := hc.b.at(d)
		if h > r[len(r)-1] && h < hc.b.H {
			r = append(r, h)
		}
	}
	sort.Float64s(r)
	return r
}

func (hc *hostCtx) restartEvents(r []float64) []Event {
	var ev []Event
	for _, h := range r {
		if h >= 0 {
			ev = append(ev, Event{Time: hc.b.timeAt(h), Type: EventRestart})
		}
	}
	return ev
}

func (hc *hostCtx) gc(m *model, amp float64) {
	m.gcAmp = amp
	m.gcPeriod = hc.uniform(0.25, 0.75)
	m.gcPhase = hc.rng.Float64()
}

func (hc *hostCtx) appMemory() {
	b := hc.b
	// erp-app: a JVM application server.
	limit := 16 * gib
	base := hc.uniform(4, 5.5) * gib
	var m model
	switch {
	case hc.ord == 1:
		// fast leak, redeployed every 5-9 days: never reaches the limit
		// while restarts continue.
		m = model{off: base}
		hc.gc(&m, 1.2*gib)
		m.leak = (limit - base - m.gcAmp) / (11 * day)
		m.restarts = hc.restartsEvery(5, 9)
		hc.proc("erp-app", KindMemLeak, limit, m, hc.restartEvents(m.restarts))
	case hc.ord == 2:
		// slow leak, not restarted for the whole span: OOM ahead.
		m = model{off: base}
		hc.gc(&m, 1.0*gib)
		pre := hc.uniform(5, 15) * day
		m.restarts = []float64{-pre}
		m.leak = (limit - base - m.gcAmp) / (pre + b.H + hc.uniform(15, 30)*day)
		hc.proc("erp-app", KindMemLeak, limit, m, nil)
	case hc.ord == 4:
		// load-driven with too little headroom: stays below the limit in
		// regular months but reaches it at the year-end close peak.
		m = model{off: base, loadScale: 3 * gib, boost: 1}
		hc.gc(&m, 0.6*gib)
		hc.proc("erp-app", KindLoadDriven, limit, m, nil)
	case hc.ord%2 == 0:
		// base at most 5.5 GiB + 2.2 GiB × 4.1 (year-end peak) + GC < 16 GiB
		m = model{off: base, loadScale: hc.uniform(1.5, 2.2) * gib, boost: 1}
		hc.gc(&m, 0.6*gib)
		hc.proc("erp-app", KindLoadDriven, limit, m, nil)
	default:
		m = model{off: base + 1*gib}
		hc.gc(&m, 0.8*gib)
		hc.proc("erp-app", KindStable, limit, m, nil)
	}

	// session-cache: warms up after each restart, then plateaus.
	limit = 8 * gib
	if hc.ord <= 2 || hc.rng.Float64() < 0.5 {
		m = model{off: 0.2 * gib, plateau: hc.uniform(4, 5.5) * gib, tau: hc.uniform(6, 12)}
		m.restarts = hc.restartsAt(hc.uniform(60, 80), hc.uniform(15, 35))
		hc.gc(&m, 0.05*gib)
		hc.proc("session-cache", KindWarmup, limit, m, hc.restartEvents(m.restarts))
	} else {
		m = model{off: hc.uniform(1, 2) * gib}
		hc.gc(&m, 0.05*gib)
		hc.proc("session-cache", KindStable, limit, m, nil)
	}
}

func (hc *hostCtx) dbMemory() {
	// postgres: shared buffers and page cache warm up after a restart.
	limit := 64 * gib
	m := model{off: 2 * gib, plateau: hc.uniform(36, 44) * gib, tau: hc.uniform(20, 40)}
	m.restarts = hc.restartsAt(hc.uniform(40, 55))
	hc.gc(&m, 0.3*gib)
	hc.proc("postgres", KindWarmup, limit, m, hc.restartEvents(m.restarts))

	// pgbouncer: small and flat.
	m = model{off: hc.uniform(120, 180) * mib}
	hc.gc(&m, 8*mib)
	hc.proc("pgbouncer", KindStable, 1*gib, m, nil)
}

func (hc *hostCtx) rptMemory() {
	b := hc.b
	// report-engine: memory tracks report load (month-end heavy).
	m := model{off: hc.uniform(2.5, 3.5) * gib, loadScale: hc.uniform(3.5, 4.5) * gib, boost: 1.6}
	hc.gc(&m, 0.5*gib)
	hc.proc("report-engine", KindLoadDriven, 32*gib, m, nil)

	// bi-cache: warm-up cache.
	m = model{off: 0.5 * gib, plateau: hc.uniform(8, 11) * gib, tau: hc.uniform(8, 16)}
	m.restarts = hc.restartsAt(hc.uniform(20, 70))
	hc.gc(&m, 0.1*gib)
	hc.proc("bi-cache", KindWarmup, 16*gib, m, hc.restartEvents(m.restarts))

	// etl-worker: the first report server's leaks slowly without restarts.
	limit := 4 * gib
	if hc.ord == 1 {
		m = model{off: 0.6 * gib}
		hc.gc(&m, 0.2*gib)
		pre := hc.uniform(2, 8) * day
		m.restarts = []float64{-pre}
		m.leak = (limit - m.off - m.gcAmp) / (pre + b.H + hc.uniform(7, 14)*day)
		hc.proc("etl-worker", KindMemLeak, limit, m, nil)
	} else {
		m = model{off: hc.uniform(0.5, 1) * gib}
		hc.gc(&m, 0.15*gib)
		hc.proc("etl-worker", KindStable, limit, m, nil)
	}
}
