package datasets

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/influxdata/line-protocol/v2/lineprotocol"
	"github.com/seed-f1b503aa/foresight/calendar"
	"github.com/seed-f1b503aa/foresight/engine"
)

func smallFleet(t testing.TB, cfg FleetConfig) *Fleet {
	t.Helper()
	if cfg.Hosts == 0 {
		cfg.Hosts = 3
	}
	if cfg.Days == 0 {
		cfg.Days = 3
	}
	f, err := GenerateFleet(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func hashOf(t *testing.T, write func(io.Writer) error) string {
	t.Helper()
	h := sha256.New()
	if err := write(h); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

func TestFleetDeterministic(t *testing.T) {
	a := smallFleet(t, FleetConfig{Seed: 7})
	b := smallFleet(t, FleetConfig{Seed: 7})
	c := smallFleet(t, FleetConfig{Seed: 8})
	for _, w := range []struct {
		name string
		fn   func(f *Fleet) func(io.Writer) error
	}{
		{"line protocol", func(f *Fleet) func(io.Writer) error { return f.WriteLineProtocol }},
		{"csv", func(f *Fleet) func(io.Writer) error { return f.WriteCSV }},
		{"ground truth", func(f *Fleet) func(io.Writer) error { return f.WriteGroundTruth }},
	} {
		ha, hb, hc := hashOf(t, w.fn(a)), hashOf(t, w.fn(b)), hashOf(t, w.fn(c))
		if ha != hb {
			t.Errorf("%s: same seed, different output", w.name)
		}
		if ha == hc {
			t.Errorf("%s: different seeds, same output", w.name)
		}
		// a second pass over the same fleet is identical too
		if again := hashOf(t, w.fn(a)); again != ha {
			t.Errorf("%s: second pass differs", w.name)
		}
	}
}

// The first hosts of a large fleet are the hosts of a small one.
func TestFleetHostsStableAcrossSizes(t *testing.T) {
	small := smallFleet(t, FleetConfig{Seed: 3, Days: 2})
	big := smallFleet(t, FleetConfig{Seed: 3, Days: 2, Hosts: 6})
	want := map[string]float64{}
	if err := small.Each(func(p engine.Point) error {
		if p.Measurement == "cpu" {
			want[p.Tags["host"]+p.Time.String()] = p.Fields["usage_active"]
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := big.Each(func(p engine.Point) error {
		if v, ok := want[p.Tags["host"]+p.Time.String()]; ok && p.Measurement == "cpu" {
			n++
			if v != p.Fields["usage_active"] {
				return fmt.Errorf("%s %s: %v != %v", p.Tags["host"], p.Time, v, p.Fields["usage_active"])
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != len(want) {
		t.Errorf("matched %d of %d cpu samples", n, len(want))
	}
}

func TestFleetHosts(t *testing.T) {
	f, err := GenerateFleet(FleetConfig{Days: 1})
	if err != nil {
		t.Fatal(err)
	}
	hosts := f.Hosts()
	count := map[Role]int{}
	for _, h := range hosts {
		count[h.Role]++
	}
	if len(hosts) != 20 || count[RoleApp] != 12 || count[RoleDB] != 4 || count[RoleReport] != 4 {
		t.Fatalf("hosts %d roles %v", len(hosts), count)
	}
	if hosts[0].Name != "erp-app-01" || hosts[1].Name != "db-01" || hosts[2].Name != "rpt-01" || hosts[19].Name != "erp-app-12" {
		t.Errorf("names %v", hosts)
	}
	if f.NumSeries() != 12*13+4*12+4*15 || f.NumPointsPerStep() != 12*8+4*7+4*8 {
		t.Errorf("series %d points/step %d", f.NumSeries(), f.NumPointsPerStep())
	}
	if f.Steps() != 1440 || !f.Start().Equal(DefaultEnd.Add(-24*time.Hour)) {
		t.Errorf("steps %d start %s", f.Steps(), f.Start())
	}
}

func TestFleetConfigErrors(t *testing.T) {
	for _, cfg := range []FleetConfig{
		{Hosts: -1},
		{Days: -5},
		{Step: 500 * time.Millisecond},
		{Step: 48 * time.Hour},
		{CloseDays: -1},
		{Horizon: -time.Hour},
		{Days: 5000},
	} {
		if _, err := GenerateFleet(cfg); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
	}
}

func TestFleetStructure(t *testing.T) {
	f := smallFleet(t, FleetConfig{Seed: 11})
	series := f.Series()
	if len(series) != 13+12+15 {
		t.Fatalf("%d series", len(series))
	}
	truth := f.GroundTruth()
	ids := map[string]bool{}
	for _, k := range series {
		ids[k.ID()] = true
		if _, ok := truth[k.ID()]; !ok {
			t.Errorf("%s has no ground truth", k.ID())
		}
	}
	for _, id := range []string{
		"cpu,cpu=cpu-total,host=erp-app-01#usage_active",
		"disk,host=db-01,path=/data#used",
		"disk,host=db-01,path=/data#total",
		"process_mem,host=erp-app-01,service=erp-app#used_bytes",
		"process_mem,host=erp-app-01,service=erp-app#limit_bytes",
		"erp_sessions,host=erp-app-01#active",
		"http_requests,host=erp-app-01#rate",
		"db_connections,host=db-01#active",
	} {
		if !ids[id] {
			t.Errorf("missing series %s", id)
		}
	}

	var last time.Time
	perStep := map[time.Time]int{}
	hostSteps := map[string]map[time.Time]bool{}
	seen := map[string]int{}
	total := map[string]float64{}
	err := f.Each(func(p engine.Point) error {
		if p.Time.Before(last) {
			return fmt.Errorf("time went back: %s after %s", p.Time, last)
		}
		last = p.Time
		if p.Time.Before(f.Start()) || !p.Time.Before(f.End()) {
			return fmt.Errorf("time %s outside [%s, %s)", p.Time, f.Start(), f.End())
		}
		perStep[p.Time]++
		host := p.Tags["host"]
		if hostSteps[host] == nil {
			hostSteps[host] = map[time.Time]bool{}
		}
		hostSteps[host][p.Time] = true
		key := engine.SeriesKey{Measurement: p.Measurement, Tags: p.Tags}
		for name, v := range p.Fields {
			key.Field = name
			id := key.ID()
			seen[id]++
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				return fmt.Errorf("%s at %s: bad value %v", id, p.Time, v)
			}
		}
		switch p.Measurement {
		case "cpu":
			if v := p.Fields["usage_active"]; v > 100 {
				return fmt.Errorf("cpu %v > 100", v)
			}
		case "disk":
			if p.Fields["used"] > p.Fields["total"] {
				return fmt.Errorf("%s used > total", p.Tags["path"])
			}
			total[host+p.Tags["path"]] = p.Fields["total"]
		case "process_mem":
			if len(p.Fields) != 2 {
				return fmt.Errorf("process_mem fields %v", p.Fields)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for id := range ids {
		if seen[id] == 0 {
			t.Errorf("%s never emitted", id)
		}
	}
	if len(perStep) != f.Steps() {
		t.Errorf("%d instants with data, want %d", len(perStep), f.Steps())
	}
	for _, n := range perStep {
		if n > f.NumPointsPerStep() {
			t.Fatalf("%d points at one instant", n)
		}
	}
	for host, steps := range hostSteps {
		if len(steps) >= f.Steps() {
			t.Errorf("host %s has no gap", host)
		}
	}
	// gaps in the ground truth match the data
	for id, g := range truth {
		missing := 0
		for _, iv := range g.Gaps {
			missing += int(iv.End.Sub(iv.Start) / f.Step())
		}
		if got := f.Steps() - seen[id]; got != missing {
			t.Errorf("%s: %d samples missing, ground truth gaps cover %d", id, got, missing)
		}
	}
	// the grown volume's total increased
	if total["rpt-01/archive"] != 400*gib {
		t.Errorf("rpt-01 /archive total at end = %v", total["rpt-01/archive"])
	}
}

func TestFleetEachStopsOnError(t *testing.T) {
	f := smallFleet(t, FleetConfig{Days: 1})
	stop := errors.New("stop")
	n := 0
	err := f.Each(func(engine.Point) error {
		n++
		if n == 10 {
			return stop
		}
		return nil
	})
	if err != stop || n != 10 {
		t.Errorf("err %v after %d points", err, n)
	}
}

// d parses a YYYY-MM-DD date or panics.
func d(s string) calendar.Date {
	x, err := calendar.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return x
}

// localWindowMean averages a series over [from, to) local hours of a date.
func localWindowMean(t *testing.T, f *Fleet, measurement, field string, date calendar.Date, from, to int) float64 {
	t.Helper()
	loc := f.Config().Calendar.Location()
	start := date.In(loc).Add(time.Duration(from) * time.Hour)
	end := date.In(loc).Add(time.Duration(to) * time.Hour)
	sum, n := 0.0, 0
	if err := f.Each(func(p engine.Point) error {
		if p.Measurement == measurement && !p.Time.Before(start) && p.Time.Before(end) {
			sum += p.Fields[field]
			n++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatalf("no %s samples on %s %02d-%02dh", measurement, date, from, to)
	}
	return sum / float64(n)
}

func TestFleetMonthEndPeaks(t *testing.T) {
	loc := calendar.DefaultCalendar().Location()
	end := time.Date(2026, 10, 1, 0, 0, 0, 0, loc) // covers August and September 2026
	f := smallFleet(t, FleetConfig{Seed: 5, Days: 46, End: end, Step: 5 * time.Minute})

	mid := localWindowMean(t, f, "http_requests", "rate", d("2026-08-18"), 16, 18)
	augEnd := localWindowMean(t, f, "http_requests", "rate", d("2026-08-31"), 16, 18) // Monday, last business day
	sepEnd := localWindowMean(t, f, "http_requests", "rate", d("2026-09-30"), 16, 18) // quarter-end
	weekend := localWindowMean(t, f, "http_requests", "rate", d("2026-08-22"), 16, 18)
	night := localWindowMean(t, f, "http_requests", "rate", d("2026-08-18"), 2, 4)
	t.Logf("requests/s: mid-month %.1f, Aug close %.1f, Sep (quarter) close %.1f, weekend %.1f, night %.1f", mid, augEnd, sepEnd, weekend, night)
	if augEnd < 1.5*mid {
		t.Errorf("month-end %.1f not clearly above mid-month %.1f", augEnd, mid)
	}
	if sepEnd < 1.15*augEnd {
		t.Errorf("quarter-end %.1f not above month-end %.1f", sepEnd, augEnd)
	}
	if weekend > 0.3*mid || night > 0.3*mid {
		t.Errorf("weekend %.1f / night %.1f not low against %.1f", weekend, night, mid)
	}
	// 2026-09-27 is a Sunday but National Day make-up? No: make-up days are
	// Sept 20 (Sun) and Oct 10 (Sat). Sept 20 must look like a business day.
	makeUp := localWindowMean(t, f, "http_requests", "rate", d("2026-09-20"), 10, 12)
	sunday := localWindowMean(t, f, "http_requests", "rate", d("2026-09-13"), 10, 12)
	if makeUp < 3*sunday {
		t.Errorf("make-up Sunday %.1f not busy against a plain Sunday %.1f", makeUp, sunday)
	}

	// ground truth: next close is October 2026 (28-30), last is the
	// September quarter-end.
	g := f.GroundTruth()["http_requests,host=erp-app-01#rate"]
	if g.NextClose == nil || g.LastClose == nil {
		t.Fatal("no close peaks in ground truth")
	}
	nc, lc := g.NextClose, g.LastClose
	if nc.Month != "2026-10" || nc.QuarterEnd || !nc.WindowStart.Equal(time.Date(2026, 10, 28, 0, 0, 0, 0, loc)) ||
		!nc.WindowEnd.Equal(time.Date(2026, 10, 31, 0, 0, 0, 0, loc)) {
		t.Errorf("next close %+v", nc)
	}
	if pt := nc.PeakTime.In(loc); pt.Day() != 30 || pt.Hour() < 15 || pt.Hour() > 17 {
		t.Errorf("next close peak at %s, want Oct 30 around 17:00 local", pt)
	}
	if lc.Month != "2026-09" || !lc.QuarterEnd || lc.YearEnd {
		t.Errorf("last close %+v", lc)
	}
	if lc.PeakValue <= nc.PeakValue {
		t.Errorf("quarter-end peak %.1f not above October's %.1f", lc.PeakValue, nc.PeakValue)
	}
	// the data's peak in the September window is close to the true one
	obs := localWindowMean(t, f, "http_requests", "rate", d("2026-09-30"), 16, 18)
	if math.Abs(obs-lc.PeakValue)/lc.PeakValue > 0.15 {
		t.Errorf("observed %.1f around the peak, ground truth %.1f", obs, lc.PeakValue)
	}
}

func TestFleetYearEndPeak(t *testing.T) {
	// December 2026 is the fiscal year end: its close peak dwarfs November's.
	f := smallFleet(t, FleetConfig{Days: 2, End: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Step: 10 * time.Minute})
	g := f.GroundTruth()["cpu,cpu=cpu-total,host=erp-app-01#usage_active"]
	if g.NextClose == nil || !g.NextClose.YearEnd || g.NextClose.Month != "2026-12" {
		t.Fatalf("next close %+v", g.NextClose)
	}
	f2 := smallFleet(t, FleetConfig{Days: 2, End: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Step: 10 * time.Minute})
	g2 := f2.GroundTruth()["cpu,cpu=cpu-total,host=erp-app-01#usage_active"]
	if g.NextClose.PeakValue < 1.4*g2.NextClose.PeakValue {
		t.Errorf("year-end peak %.1f vs November %.1f", g.NextClose.PeakValue, g2.NextClose.PeakValue)
	}
	if g.NextClose.PeakValue > 100 {
		t.Errorf("year-end cpu peak %.1f above 100%%", g.NextClose.PeakValue)
	}
}

func TestFleetGroundTruth(t *testing.T) {
	f := smallFleet(t, FleetConfig{Seed: 2, Days: 30, Step: 5 * time.Minute})
	truth := f.GroundTruth()
	kinds := map[Kind]int{}
	for id, g := range truth {
		kinds[g.Kind]++
		if g.ID != id || g.Key.ID() != id {
			t.Errorf("%s: id %q key %q", id, g.ID, g.Key.ID())
		}
		if g.FillTime != nil && g.FillTime.Before(f.End()) {
			t.Errorf("%s fills at %s, before End", id, g.FillTime)
		}
		if g.CapacitySeries != "" {
			c, ok := truth[g.CapacitySeries]
			if !ok || c.Kind != KindCapacity || g.Capacity == nil || *g.Capacity != c.ValueAtEnd {
				t.Errorf("%s: capacity series %q inconsistent", id, g.CapacitySeries)
			}
		}
	}
	for _, k := range []Kind{KindMonthEndLoad, KindDiskFill, KindDiskFillAccelerating, KindDiskSawtooth, KindDiskBackup,
		KindDiskPurge, KindDiskGrown, KindDiskStable, KindDiskShrinking, KindMemLeak, KindWarmup, KindLoadDriven,
		KindStable, KindCapacity} {
		if kinds[k] == 0 {
			t.Errorf("no %s series in a three-host fleet", k)
		}
	}

	// Disks that must fill after End.
	for _, id := range []string{
		"disk,host=db-01,path=/data#used",
		"disk,host=erp-app-01,path=/opt/erp#used",
		"process_mem,host=erp-app-01,service=erp-app#used_bytes",
		"process_mem,host=rpt-01,service=etl-worker#used_bytes",
	} {
		g := truth[id]
		if g.FillTime == nil {
			t.Errorf("%s: no fill time", id)
			continue
		}
		if days := g.FillTime.Sub(f.End()).Hours() / 24; days > 60 {
			t.Errorf("%s fills %.0f days after End; want soon", id, days)
		}
	}
	// Linear disk: extrapolating the true trend from End reaches the
	// capacity near the fill time (the load bump makes it slightly earlier).
	g := truth["disk,host=db-01,path=/data#used"]
	h := g.FillTime.Sub(f.End()).Hours()
	if got := g.ValueAtEnd + g.TrendPerHour*h; math.Abs(got-*g.Capacity)/(*g.Capacity) > 0.03 {
		t.Errorf("db-01 /data: value %.4g + %.4g/h × %.0fh = %.4g, capacity %.4g", g.ValueAtEnd, g.TrendPerHour, h, got, *g.Capacity)
	}
	// Accelerating disk: change point event and a faster rate after it.
	g = truth["disk,host=erp-app-01,path=/opt/erp#used"]
	if len(g.Events) != 1 || g.Events[0].Type != EventChangePoint || g.Events[0].Change <= 0 {
		t.Errorf("accelerating disk events %+v", g.Events)
	}
	// Memory leak with restarts: restarts in range, leak rate given.
	g = truth["process_mem,host=erp-app-01,service=erp-app#used_bytes"]
	if g.LeakRateBytesPerHour == nil || *g.LeakRateBytesPerHour <= 0 || len(g.Events) < 3 {
		t.Errorf("memleak truth %+v", g)
	}
	// Grown volume: the total series records the resize.
	g = truth["disk,host=rpt-01,path=/archive#total"]
	if len(g.Events) != 1 || g.Events[0].Type != EventResize || g.ValueAtEnd != 400*gib {
		t.Errorf("resize truth %+v", g)
	}
	// Stable series never fill.
	for id, g := range truth {
		switch g.Kind {
		case KindDiskStable, KindDiskShrinking, KindStable, KindWarmup:
			if g.FillTime != nil {
				t.Errorf("%s (%s) fills at %s", id, g.Kind, g.FillTime)
			}
		}
	}
}

// The leak rate in the ground truth is what a regression on the data finds.
func TestFleetLeakRateMatchesData(t *testing.T) {
	f := smallFleet(t, FleetConfig{Seed: 9, Days: 6, Step: 5 * time.Minute})
	id := "process_mem,host=rpt-01,service=etl-worker#used_bytes"
	want := *f.GroundTruth()[id].LeakRateBytesPerHour
	var sx, sy, sxx, sxy, n float64
	if err := f.Each(func(p engine.Point) error {
		if p.Measurement == "process_mem" && p.Tags["host"] == "rpt-01" && p.Tags["service"] == "etl-worker" {
			x := p.Time.Sub(f.Start()).Hours()
			y := p.Fields["used_bytes"]
			if y > 1.1*(p.Fields["limit_bytes"]) {
				return nil
			}
			sx, sy, sxx, sxy, n = sx+x, sy+y, sxx+x*x, sxy+x*y, n+1
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slope := (n*sxy - sx*sy) / (n*sxx - sx*sx)
	if math.Abs(slope-want)/want > 0.2 {
		t.Errorf("regression slope %.4g bytes/h, ground truth %.4g", slope, want)
	}
}

func TestLineProtocolRoundTrip(t *testing.T) {
	f := smallFleet(t, FleetConfig{Seed: 4, Days: 1})
	var buf bytes.Buffer
	if err := f.WriteLineProtocol(&buf); err != nil {
		t.Fatal(err)
	}
	type pt struct {
		key    string
		fields string
		ns     int64
	}
	var want []pt
	if err := f.Each(func(p engine.Point) error {
		names := make([]string, 0, len(p.Fields))
		for n := range p.Fields {
			names = append(names, n)
		}
		sort.Strings(names)
		var fs []string
		for _, n := range names {
			fs = append(fs, fmt.Sprintf("%s=%v", n, p.Fields[n]))
		}
		want = append(want, pt{engine.SeriesKey{Measurement: p.Measurement, Tags: p.Tags, Field: "-"}.ID(), strings.Join(fs, ","), p.Time.UnixNano()})
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	dec := lineprotocol.NewDecoderWithBytes(buf.Bytes())
	i := 0
	for dec.Next() {
		m, err := dec.Measurement()
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		k := engine.SeriesKey{Measurement: string(m), Tags: map[string]string{}, Field: "-"}
		for {
			key, val, err := dec.NextTag()
			if err != nil {
				t.Fatalf("line %d: %v", i+1, err)
			}
			if key == nil {
				break
			}
			k.Tags[string(key)] = string(val)
		}
		var fs []string
		for {
			key, val, err := dec.NextField()
			if err != nil {
				t.Fatalf("line %d: %v", i+1, err)
			}
			if key == nil {
				break
			}
			if val.Kind() != lineprotocol.Float {
				t.Fatalf("line %d: field %s is %s, want float", i+1, key, val.Kind())
			}
			fs = append(fs, fmt.Sprintf("%s=%v", key, val.FloatV()))
		}
		ts, err := dec.Time(lineprotocol.Nanosecond, time.Time{})
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if i >= len(want) {
			t.Fatalf("more lines than points")
		}
		got := pt{k.ID(), strings.Join(fs, ","), ts.UnixNano()}
		if got != want[i] {
			t.Fatalf("line %d: got %+v, want %+v", i+1, got, want[i])
		}
		i++
	}
	if err := dec.Err(); err != nil {
		t.Fatal(err)
	}
	if i != len(want) {
		t.Errorf("%d lines, %d points", i, len(want))
	}
}

func TestWriteCSVRoundTrip(t *testing.T) {
	f := smallFleet(t, FleetConfig{Seed: 4, Days: 1, Step: 10 * time.Minute})
	var buf bytes.Buffer
	if err := f.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "series,timestamp,value\n\"cpu,cpu=cpu-total,host=db-01#usage_active\",2026-10-31T00:00:00Z,") {
		t.Errorf("csv starts %q", buf.String()[:120])
	}
	series, err := ReadLongCSV(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(series) != f.NumSeries() {
		t.Fatalf("%d series read back, want %d", len(series), f.NumSeries())
	}
	byID := map[string]TimeSeries{}
	for _, s := range series {
		byID[s.Name] = s
	}
	idx := map[string]int{}
	if err := f.Each(func(p engine.Point) error {
		key := engine.SeriesKey{Measurement: p.Measurement, Tags: p.Tags}
		for name, v := range p.Fields {
			key.Field = name
			id := key.ID()
			s, ok := byID[id]
			i := idx[id]
			if !ok || i >= s.Len() || !s.Times[i].Equal(p.Time) || s.Values[i] != v {
				return fmt.Errorf("%s sample %d differs", id, i)
			}
			idx[id]++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestGroundTruthJSONRoundTrip(t *testing.T) {
	f := smallFleet(t, FleetConfig{Seed: 6, Days: 10, Step: 5 * time.Minute})
	var buf bytes.Buffer
	if err := f.WriteGroundTruth(&buf); err != nil {
		t.Fatal(err)
	}
	first := buf.String()
	tf, err := ReadGroundTruth(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if tf.Seed != 6 || tf.Days != 10 || tf.StepSeconds != 300 || tf.TimeZone != "Asia/Shanghai" || len(tf.Series) != f.NumSeries() {
		t.Errorf("metadata %+v", tf)
	}
	// re-encode what was read: identical bytes
	var again bytes.Buffer
	if err := tf.Write(&again); err != nil {
		t.Fatal(err)
	}
	if again.String() != first {
		t.Error("ground truth does not round-trip byte for byte")
	}
	g := tf.Series["disk,host=db-01,path=/data#used"]
	if g.Kind != KindDiskFill || g.FillTime == nil || g.Capacity == nil || g.Key.Tags["path"] != "/data" {
		t.Errorf("decoded %+v", g)
	}
	if _, err := ReadGroundTruth(strings.NewReader(`{"version": 2}`)); err == nil {
		t.Error("accepted version 2")
	}
}

func TestAppendValue(t *testing.T) {
	tests := []struct {
		v    float64
		dec  int
		want string
	}{
		{37.12, 2, "37.12"},
		{37.1, 2, "37.1"},
		{37, 2, "37"},
		{0.05, 2, "0.05"},
		{-3.5, 2, "-3.5"},
		{536870912000, 0, "536870912000"},
		{0.123, 2, "0.123"}, // not a 2-decimal value: falls back
		{1e300, 0, strconvFloat(1e300)},
	}
	for _, tc := range tests {
		if got := string(appendValue(nil, tc.v, tc.dec)); got != tc.want {
			t.Errorf("appendValue(%v, %d) = %q, want %q", tc.v, tc.dec, got, tc.want)
		}
	}
	// agrees with strconv on rounded values
	for i := -100000; i <= 100000; i += 7 {
		v := math.Round(float64(i)*1.37) / 100
		if got, want := string(appendValue(nil, v, 2)), strconvFloat(v); got != want {
			t.Fatalf("appendValue(%v) = %q, strconv %q", v, got, want)
		}
	}
}

func BenchmarkFleetEach(b *testing.B) {
	f, err := GenerateFleet(FleetConfig{Days: 2})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	points := 0
	for i := 0; i < b.N; i++ {
		if err := f.Each(func(engine.Point) error { points++; return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(points)/b.Elapsed().Seconds(), "points/s")
}

func BenchmarkFleetWriteLineProtocol(b *testing.B) {
	f, err := GenerateFleet(FleetConfig{Days: 2})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cw := &countWriter{}
	for i := 0; i < b.N; i++ {
		if err := f.WriteLineProtocol(cw); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cw.lines)/b.Elapsed().Seconds(), "points/s")
	b.ReportMetric(float64(cw.n)/float64(cw.lines), "bytes/point")
}

func BenchmarkFleetGroundTruth(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		f, err := GenerateFleet(FleetConfig{})
		if err != nil {
			b.Fatal(err)
		}
		_ = f.GroundTruth()
	}
}

type countWriter struct{ n, lines int64 }

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	c.lines += int64(bytes.Count(p, []byte{'\n'}))
	return len(p), nil
}

func strconvFloat(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// The block-skipping fill search finds exactly what an exhaustive scan finds.
func TestFillTimeMatchesExhaustiveScan(t *testing.T) {
	f := smallFleet(t, FleetConfig{Seed: 12, Hosts: 6, Days: 20, Horizon: 200 * 24 * time.Hour})
	g := f.newFillGrid()
	n, filled := 0, 0
	for _, s := range f.sources {
		for _, fl := range s.fields {
			if fl.capModel == nil {
				continue
			}
			n++
			fast, slow := f.fillTime(g, fl), f.fillTimeExhaustive(g, fl)
			if (fast == nil) != (slow == nil) || (fast != nil && !fast.Equal(*slow)) {
				t.Errorf("%s: fill %v, exhaustive %v", fl.id, fast, slow)
			}
			if slow != nil {
				filled++
			}
		}
	}
	if n < 30 || filled < 5 {
		t.Errorf("%d series with capacity, %d fill: too few to compare", n, filled)
	}
}
