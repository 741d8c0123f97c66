// Package storetest is the contract every engine.MetricStore implementation
// must satisfy. Each implementation's tests call Run with a constructor that
// returns a fresh, empty store.
package storetest

import (
	"context"
	"errors"
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/seed-f1b503aa/foresight/engine"
)

// NewStore returns an empty store; the suite closes it.
type NewStore func(t *testing.T) engine.MetricStore

// base is a fixed instant so results are reproducible; aligned to a day.
var base = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)

// Run runs the whole contract against stores built by newStore.
func Run(t *testing.T, newStore NewStore) {
	t.Run("WriteReadRaw", func(t *testing.T) { testWriteReadRaw(t, newStore(t)) })
	t.Run("Downsample", func(t *testing.T) { testDownsample(t, newStore(t)) })
	t.Run("ListSeriesFilters", func(t *testing.T) { testListSeries(t, newStore(t)) })
	t.Run("ReadMany", func(t *testing.T) { testReadMany(t, newStore(t)) })
	t.Run("NotFound", func(t *testing.T) { testNotFound(t, newStore(t)) })
	t.Run("Overwrite", func(t *testing.T) { testOverwrite(t, newStore(t)) })
	t.Run("HostileStrings", func(t *testing.T) { testHostile(t, newStore(t)) })
	t.Run("Gaps", func(t *testing.T) { testGaps(t, newStore(t)) })
	t.Run("OutOfOrderBackfill", func(t *testing.T) { testBackfill(t, newStore(t)) })
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

func closeStore(t *testing.T, s engine.MetricStore) {
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
}

// minutePoints returns n points one minute apart for one series with value f(i).
func minutePoints(meas string, tags map[string]string, field string, n int, f func(i int) float64) []engine.Point {
	pts := make([]engine.Point, n)
	for i := range pts {
		pts[i] = engine.Point{Measurement: meas, Tags: tags, Fields: map[string]float64{field: f(i)}, Time: base.Add(time.Duration(i) * time.Minute)}
	}
	return pts
}

func mustWrite(t *testing.T, s engine.MetricStore, pts []engine.Point) {
	t.Helper()
	if err := s.Write(ctx(t), pts); err != nil {
		t.Fatalf("write %d points: %v", len(pts), err)
	}
}

func key(meas, field string, tags map[string]string) engine.SeriesKey {
	return engine.SeriesKey{Measurement: meas, Field: field, Tags: tags}
}

func approx(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func testWriteReadRaw(t *testing.T, s engine.MetricStore) {
	closeStore(t, s)
	tags := map[string]string{"host": "db-01", "path": "/data"}
	pts := minutePoints("disk", tags, "used", 120, func(i int) float64 { return float64(1000 + i) })
	// a second field on the same lines
	for i := range pts {
		pts[i].Fields["total"] = 5000
	}
	mustWrite(t, s, pts)
	got, err := s.Read(ctx(t), key("disk", "used", tags), engine.RangeQuery{Start: base, End: base.Add(2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Samples) != 120 {
		t.Fatalf("raw read: %d samples, want 120", len(got.Samples))
	}
	for i, smp := range got.Samples {
		if !smp.Time.Equal(base.Add(time.Duration(i)*time.Minute)) || smp.Value != float64(1000+i) {
			t.Fatalf("sample %d = %v %v, want %v %v", i, smp.Time, smp.Value, base.Add(time.Duration(i)*time.Minute), 1000+i)
		}
	}
	if got.Key.ID() != key("disk", "used", tags).ID() {
		t.Fatalf("key %s, want %s", got.Key.ID(), key("disk", "used", tags).ID())
	}
	// the end bound is exclusive, the start inclusive
	got, err = s.Read(ctx(t), key("disk", "total", tags), engine.RangeQuery{Start: base.Add(10 * time.Minute), End: base.Add(20 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Samples) != 10 || !got.Samples[0].Time.Equal(base.Add(10*time.Minute)) || got.Samples[0].Value != 5000 {
		t.Fatalf("bounded read: %+v", got.Samples)
	}
}

func testDownsample(t *testing.T, s engine.MetricStore) {
	closeStore(t, s)
	tags := map[string]string{"host": "app-01"}
	// 3 hours of minutes, value = minute index
	mustWrite(t, s, minutePoints("cpu", tags, "usage", 180, func(i int) float64 { return float64(i) }))
	k := key("cpu", "usage", tags)
	cases := []struct {
		agg  engine.Aggregate
		want []float64
	}{
		{engine.AggMean, []float64{29.5, 89.5, 149.5}},
		{engine.AggMin, []float64{0, 60, 120}},
		{engine.AggMax, []float64{59, 119, 179}},
		{engine.AggLast, []float64{59, 119, 179}},
		{engine.AggSum, []float64{1770, 5370, 8970}},
	}
	for _, c := range cases {
		got, err := s.Read(ctx(t), k, engine.RangeQuery{Start: base, End: base.Add(3 * time.Hour), Step: time.Hour, Agg: c.agg})
		if err != nil {
			t.Fatalf("%s: %v", c.agg, err)
		}
		if len(got.Samples) != len(c.want) {
			t.Fatalf("%s: %d windows, want %d: %+v", c.agg, len(got.Samples), len(c.want), got.Samples)
		}
		for i, w := range c.want {
			if !approx(got.Samples[i].Value, w) || !got.Samples[i].Time.Equal(base.Add(time.Duration(i)*time.Hour)) {
				t.Errorf("%s window %d = %v@%v, want %v@%v", c.agg, i, got.Samples[i].Value, got.Samples[i].Time, w, base.Add(time.Duration(i)*time.Hour))
			}
		}
	}
}

func testListSeries(t *testing.T, s engine.MetricStore) {
	closeStore(t, s)
	var pts []engine.Point
	for _, h := range []string{"db-01", "db-02", "app-01"} {
		for _, p := range []string{"/data", "/log"} {
			pts = append(pts, minutePoints("disk", map[string]string{"host": h, "path": p}, "used", 5, func(i int) float64 { return 1 })...)
		}
		pts = append(pts, minutePoints("cpu", map[string]string{"host": h}, "usage", 5, func(i int) float64 { return 2 })...)
	}
	mustWrite(t, s, pts)
	win := engine.SeriesFilter{Start: base.Add(-time.Hour), End: base.Add(time.Hour)}
	all, err := s.ListSeries(ctx(t), win)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 9 {
		t.Fatalf("all series: %d, want 9: %v", len(all), all)
	}
	if !sort.SliceIsSorted(all, func(i, j int) bool { return all[i].ID() < all[j].ID() }) {
		t.Errorf("ListSeries not sorted by ID: %v", all)
	}
	f := win
	f.Measurement = "disk"
	f.Tags = map[string]string{"host": "db-02"}
	got, err := s.ListSeries(ctx(t), f)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		key("disk", "used", map[string]string{"host": "db-02", "path": "/data"}).ID(),
		key("disk", "used", map[string]string{"host": "db-02", "path": "/log"}).ID(),
	}
	if len(got) != 2 || got[0].ID() != want[0] || got[1].ID() != want[1] {
		t.Fatalf("filtered: %v, want %v", got, want)
	}
	f = win
	f.Field = "usage"
	got, err = s.ListSeries(ctx(t), f)
	if err != nil || len(got) != 3 {
		t.Fatalf("field filter: %v %v", got, err)
	}
	f.Limit = 2
	got, err = s.ListSeries(ctx(t), f)
	if err != nil || len(got) != 2 {
		t.Fatalf("limit: %v %v", got, err)
	}
	// outside the time window nothing is listed
	got, err = s.ListSeries(ctx(t), engine.SeriesFilter{Start: base.Add(24 * time.Hour), End: base.Add(25 * time.Hour)})
	if err != nil || len(got) != 0 {
		t.Fatalf("empty window: %v %v", got, err)
	}
}

func testReadMany(t *testing.T, s engine.MetricStore) {
	closeStore(t, s)
	var keys []engine.SeriesKey
	var pts []engine.Point
	for i, h := range []string{"h1", "h2", "h3"} {
		tags := map[string]string{"host": h}
		v := float64(i)
		pts = append(pts, minutePoints("mem", tags, "used", 60, func(int) float64 { return v })...)
		keys = append(keys, key("mem", "used", tags))
	}
	mustWrite(t, s, pts)
	missing := key("mem", "used", map[string]string{"host": "nope"})
	got, err := s.ReadMany(ctx(t), append([]engine.SeriesKey{keys[2], missing}, keys[:2]...), engine.RangeQuery{Start: base, End: base.Add(time.Hour), Step: 10 * time.Minute, Agg: engine.AggMax})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("ReadMany returned %d series, want 3", len(got))
	}
	for i, sr := range got {
		if sr.Key.ID() != keys[i].ID() {
			t.Errorf("series %d = %s, want %s (sorted by ID)", i, sr.Key.ID(), keys[i].ID())
		}
		if len(sr.Samples) != 6 || sr.Samples[0].Value != float64(i) {
			t.Errorf("series %s: %+v", sr.Key.ID(), sr.Samples)
		}
	}
}

func testNotFound(t *testing.T, s engine.MetricStore) {
	closeStore(t, s)
	_, err := s.Read(ctx(t), key("nothing", "here", nil), engine.RangeQuery{Start: base, End: base.Add(time.Hour)})
	if !errors.Is(err, engine.ErrNotFound) {
		t.Fatalf("read of a missing series: %v, want ErrNotFound", err)
	}
}

func testOverwrite(t *testing.T, s engine.MetricStore) {
	closeStore(t, s)
	tags := map[string]string{"host": "x"}
	mustWrite(t, s, minutePoints("m", tags, "f", 10, func(i int) float64 { return 1 }))
	mustWrite(t, s, minutePoints("m", tags, "f", 10, func(i int) float64 { return 1 })) // an idempotent retry
	got, err := s.Read(ctx(t), key("m", "f", tags), engine.RangeQuery{Start: base, End: base.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Samples) != 10 {
		t.Fatalf("after a retried batch: %d samples, want 10", len(got.Samples))
	}
}

// Hostile returns tag values and names that must be stored and read back
// verbatim and must never change the meaning of a query.
func Hostile() []string {
	return []string{
		`quote"d`,
		`it's`,
		`) |> drop(columns: ["_value"]) |> yield(name: "x`,
		"new\nline",
		`back\slash\`,
		`comma, space=eq`,
		`r.host == "db-01" or true`,
		`'; DROP TABLE series; --`,
		`${injection}`,
		`中文/数据`,
	}
}

func testHostile(t *testing.T, s engine.MetricStore) {
	closeStore(t, s)
	// a normal series that a hostile filter must not reveal
	mustWrite(t, s, minutePoints("disk", map[string]string{"host": "db-01"}, "used", 5, func(int) float64 { return 7 }))
	for i, h := range Hostile() {
		tags := map[string]string{"host": h}
		v := float64(100 + i)
		k := key("disk", "used", tags)
		if err := s.Write(ctx(t), minutePoints("disk", tags, "used", 5, func(int) float64 { return v })); err != nil {
			if !refusedAsUnrepresentable(err) || lineProtocolCanCarry(h) {
				t.Fatalf("write hostile %q: %v", h, err)
			}
			// InfluxDB line protocol has no way to carry this value. A
			// store built on it may refuse the point, but only explicitly,
			// and the refused series must then not exist at all.
			t.Logf("store refuses tag value %q: %v", h, err)
			if _, err := s.Read(ctx(t), k, engine.RangeQuery{Start: base, End: base.Add(time.Hour)}); !errors.Is(err, engine.ErrNotFound) {
				t.Fatalf("read of refused %q: %v, want ErrNotFound", h, err)
			}
			continue
		}
		got, err := s.Read(ctx(t), k, engine.RangeQuery{Start: base, End: base.Add(time.Hour)})
		if err != nil {
			t.Fatalf("read hostile %q: %v", h, err)
		}
		if got.Key.Tags["host"] != h || len(got.Samples) != 5 || got.Samples[0].Value != v {
			t.Fatalf("hostile %q read back as %q %+v", h, got.Key.Tags["host"], got.Samples)
		}
		list, err := s.ListSeries(ctx(t), engine.SeriesFilter{Measurement: "disk", Tags: map[string]string{"host": h}, Start: base.Add(-time.Hour), End: base.Add(time.Hour)})
		if err != nil {
			t.Fatalf("list hostile %q: %v", h, err)
		}
		if len(list) != 1 || list[0].Tags["host"] != h {
			t.Fatalf("list with hostile filter %q returned %v", h, list)
		}
	}
	// hostile measurement and field names in a query find nothing and do not fail the store
	for _, h := range Hostile() {
		_, err := s.Read(ctx(t), key(h, h, map[string]string{h: h}), engine.RangeQuery{Start: base, End: base.Add(time.Hour)})
		if !errors.Is(err, engine.ErrNotFound) {
			t.Fatalf("read of hostile key %q: %v, want ErrNotFound", h, err)
		}
	}
	if err := s.Ping(ctx(t)); err != nil {
		t.Fatalf("store unhealthy after hostile queries: %v", err)
	}
}

// lineProtocolCanCarry reports whether s can be a tag value in InfluxDB line
// protocol: a newline always ends the line, and a trailing backslash always
// escapes the separator after it, whatever the escaping.
func lineProtocolCanCarry(s string) bool {
	return !strings.Contains(s, "\n") && !strings.HasSuffix(s, `\`)
}

// refusedAsUnrepresentable reports whether a Write error is a store's
// deliberate refusal of a value it cannot store: the error (or one it
// wraps) has a method Unrepresentable() bool that returns true.
func refusedAsUnrepresentable(err error) bool {
	var u interface{ Unrepresentable() bool }
	return errors.As(err, &u) && u.Unrepresentable()
}

func testGaps(t *testing.T, s engine.MetricStore) {
	closeStore(t, s)
	tags := map[string]string{"host": "g"}
	pts := minutePoints("m", tags, "f", 180, func(i int) float64 { return 1 })
	// drop the whole second hour
	pts = append(pts[:60], pts[120:]...)
	mustWrite(t, s, pts)
	got, err := s.Read(ctx(t), key("m", "f", tags), engine.RangeQuery{Start: base, End: base.Add(3 * time.Hour), Step: time.Hour, Agg: engine.AggMean})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Samples) != 2 || !got.Samples[1].Time.Equal(base.Add(2*time.Hour)) {
		t.Fatalf("empty window must be absent, got %+v", got.Samples)
	}
}

func testBackfill(t *testing.T, s engine.MetricStore) {
	closeStore(t, s)
	// series A written up to "now", then series B's older history: a
	// per-series ordered file ingest, as `foresight ingest` does.
	a := map[string]string{"host": "a"}
	b := map[string]string{"host": "b"}
	mustWrite(t, s, minutePoints("m", a, "f", 3*24*60, func(i int) float64 { return 1 }))
	mustWrite(t, s, minutePoints("m", b, "f", 3*24*60, func(i int) float64 { return 2 }))
	got, err := s.Read(ctx(t), key("m", "f", b), engine.RangeQuery{Start: base, End: base.Add(72 * time.Hour), Step: 24 * time.Hour, Agg: engine.AggSum})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Samples) != 3 || got.Samples[0].Value != 2*1440 {
		t.Fatalf("backfilled series: %+v", got.Samples)
	}
}
