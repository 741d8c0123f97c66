package embedded

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/storage"

	"github.com/seed-f1b503aa/foresight/engine"
	"github.com/seed-f1b503aa/foresight/storage/storetest"
)

// openTest opens a store in a fresh temporary directory and closes it when
// the test ends.
func openTest(t testing.TB, opts Options) *Store {
	t.Helper()
	s, err := Open(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func reopen(t testing.TB, s *Store) *Store {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(s.Dir(), s.opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s2.Close() })
	return s2
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) engine.MetricStore {
		s, err := Open(t.TempDir(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		return s // the suite closes it
	})
}

var t0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// series returns n one-minute points of one series starting at start with
// value f(i).
func series(meas string, tags map[string]string, field string, start time.Time, n int, f func(i int) float64) []engine.Point {
	pts := make([]engine.Point, n)
	for i := range pts {
		pts[i] = engine.Point{Measurement: meas, Tags: tags, Fields: map[string]float64{field: f(i)}, Time: start.Add(time.Duration(i) * time.Minute)}
	}
	return pts
}

func mustWrite(t testing.TB, s *Store, pts []engine.Point) {
	t.Helper()
	if err := s.Write(context.Background(), pts); err != nil {
		t.Fatalf("write: %v", err)
	}
}

func sumOf(t testing.TB, s *Store, k engine.SeriesKey, start, end time.Time) (float64, int) {
	t.Helper()
	sr, err := s.Read(context.Background(), k, engine.RangeQuery{Start: start, End: end})
	if errors.Is(err, engine.ErrNotFound) {
		return 0, 0
	}
	if err != nil {
		t.Fatalf("read %s: %v", k.ID(), err)
	}
	var sum float64
	for _, smp := range sr.Samples {
		sum += smp.Value
	}
	return sum, len(sr.Samples)
}

func TestPingAndClose(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("ping open store: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if err := s.Ping(ctx); !errors.Is(err, ErrClosed) || !errors.Is(err, engine.ErrUnavailable) {
		t.Fatalf("ping after close: %v", err)
	}
	if err := s.Write(ctx, series("m", nil, "f", t0, 1, func(int) float64 { return 1 })); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
	if _, err := s.Read(ctx, engine.SeriesKey{Measurement: "m", Field: "f"}, engine.RangeQuery{Start: t0, End: t0.Add(time.Hour)}); !errors.Is(err, ErrClosed) {
		t.Fatalf("read after close: %v", err)
	}
}

func TestRestartPersistence(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	tags := map[string]string{"host": "a"}
	k := engine.SeriesKey{Measurement: "cpu", Field: "usage", Tags: tags}
	// a day in order, then an older day out of order, then a bulk-loaded
	// older week through a Loader
	mustWrite(t, s, series("cpu", tags, "usage", t0.Add(24*time.Hour), 1440, func(int) float64 { return 1 }))
	mustWrite(t, s, series("cpu", tags, "usage", t0, 1440, func(int) float64 { return 2 }))
	if err := s.Backfill(ctx, series("cpu", tags, "usage", t0.Add(-7*24*time.Hour), 7*1440, func(int) float64 { return 3 })); err != nil {
		t.Fatal(err)
	}
	check := func(s *Store) {
		t.Helper()
		for _, c := range []struct {
			from     time.Time
			n        int
			sum      float64
			describe string
		}{
			{t0.Add(24 * time.Hour), 1440, 1440, "in-order day"},
			{t0, 1440, 2 * 1440, "out-of-order day"},
			{t0.Add(-7 * 24 * time.Hour), 7 * 1440, 3 * 7 * 1440, "loaded week"},
		} {
			days := time.Duration(c.n/1440) * 24 * time.Hour
			sum, n := sumOf(t, s, k, c.from, c.from.Add(days))
			if n != c.n || sum != c.sum {
				t.Errorf("%s: %d samples summing to %v, want %d and %v", c.describe, n, sum, c.n, c.sum)
			}
		}
	}
	check(s)
	s = reopen(t, s)
	check(s)
	// and once more after everything has been compacted into blocks
	if err := s.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	check(s)
	s = reopen(t, s)
	check(s)
}

func TestRetention(t *testing.T) {
	s := openTest(t, Options{Retention: 48 * time.Hour})
	ctx := context.Background()
	old := map[string]string{"host": "old"}
	cur := map[string]string{"host": "cur"}
	mustWrite(t, s, series("m", old, "f", t0, 1440, func(int) float64 { return 1 }))
	newStart := t0.Add(10 * 24 * time.Hour)
	mustWrite(t, s, series("m", cur, "f", newStart, 1440, func(int) float64 { return 1 }))

	// writes older than the retention (= out-of-order) window are refused
	err := s.Write(ctx, series("m", old, "f", t0.Add(24*time.Hour), 10, func(int) float64 { return 1 }))
	var pe *engine.PointError
	if !errors.Is(err, storage.ErrTooOldSample) || !errors.Is(err, ErrOutsideWindow) || !errors.As(err, &pe) || pe.Index != 0 {
		t.Fatalf("write beyond retention: %v, want a PointError for point 0 wrapping ErrTooOldSample", err)
	}
	// the store never returns data older than the window, compacted or not
	oldKey := engine.SeriesKey{Measurement: "m", Field: "f", Tags: old}
	checkGone := func(s *Store) {
		t.Helper()
		if _, err := s.Read(ctx, oldKey, engine.RangeQuery{Start: t0, End: newStart}); !errors.Is(err, engine.ErrNotFound) {
			t.Fatalf("read of expired data: %v, want ErrNotFound", err)
		}
		list, err := s.ListSeries(ctx, engine.SeriesFilter{Start: t0.Add(-time.Hour), End: newStart.Add(24 * time.Hour)})
		if err != nil || len(list) != 1 || list[0].Tags["host"] != "cur" {
			t.Fatalf("list: %v %v, want only host=cur", list, err)
		}
	}
	checkGone(s)
	// compaction persists the head and deletes blocks beyond retention
	if err := s.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	blocks := s.db.Blocks()
	if len(blocks) == 0 {
		t.Fatal("no blocks after compaction")
	}
	for _, b := range blocks {
		if b.Meta().MinTime < toMillis(newStart) {
			t.Errorf("block %s [%s, %s) outlived the retention", b.Meta().ULID, fromMillis(b.Meta().MinTime), fromMillis(b.Meta().MaxTime))
		}
	}
	checkGone(s)
	s = reopen(t, s)
	checkGone(s)
	if sum, n := sumOf(t, s, engine.SeriesKey{Measurement: "m", Field: "f", Tags: cur}, newStart, newStart.Add(24*time.Hour)); n != 1440 || sum != 1440 {
		t.Fatalf("current data after compaction and restart: %d samples, sum %v", n, sum)
	}
}

func TestReservedLabels(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	for _, name := range []string{MeasurementLabel, FieldLabel} {
		good := series("m", map[string]string{"host": "a"}, "f", t0, 3, func(int) float64 { return 1 })
		bad := series("m", map[string]string{name: "x"}, "f", t0, 1, func(int) float64 { return 1 })
		err := s.Write(ctx, append(good, bad...))
		if !errors.Is(err, ErrReservedLabel) {
			t.Fatalf("tag %q: %v, want ErrReservedLabel", name, err)
		}
		// nothing of the failed batch was written
		if _, n := sumOf(t, s, engine.SeriesKey{Measurement: "m", Field: "f", Tags: map[string]string{"host": "a"}}, t0, t0.Add(time.Hour)); n != 0 {
			t.Fatalf("a rejected batch was partly written: %d samples", n)
		}
		if _, err := s.ListSeries(ctx, engine.SeriesFilter{Tags: map[string]string{name: "m"}}); !errors.Is(err, ErrReservedLabel) {
			t.Fatalf("list with tag %q: %v, want ErrReservedLabel", name, err)
		}
		if _, err := s.Read(ctx, engine.SeriesKey{Measurement: "m", Field: "f", Tags: map[string]string{name: "m"}}, engine.RangeQuery{Start: t0, End: t0.Add(time.Hour)}); !errors.Is(err, engine.ErrNotFound) {
			t.Fatalf("read with tag %q: %v, want ErrNotFound", name, err)
		}
		l, err := s.NewLoader()
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Add(ctx, bad); !errors.Is(err, ErrReservedLabel) {
			t.Fatalf("loader, tag %q: %v, want ErrReservedLabel", name, err)
		}
		l.Close()
	}
	for _, p := range []engine.Point{
		{Measurement: "", Fields: map[string]float64{"f": 1}, Time: t0},
		{Measurement: "m", Fields: map[string]float64{"": 1}, Time: t0},
		{Measurement: "m", Tags: map[string]string{"": "x"}, Fields: map[string]float64{"f": 1}, Time: t0},
	} {
		if err := s.Write(ctx, []engine.Point{p}); !errors.Is(err, ErrInvalidPoint) {
			t.Errorf("write %+v: %v, want ErrInvalidPoint", p, err)
		}
	}
}

// TestExactTagSet checks that a key never matches a series with more tags.
func TestExactTagSet(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	a := map[string]string{"host": "a"}
	ab := map[string]string{"host": "a", "dc": "x"}
	mustWrite(t, s, series("m", a, "f", t0, 10, func(int) float64 { return 1 }))
	mustWrite(t, s, series("m", ab, "f", t0, 10, func(int) float64 { return 100 }))
	q := engine.RangeQuery{Start: t0, End: t0.Add(time.Hour)}
	for _, tags := range []map[string]string{a, ab} {
		sr, err := s.Read(ctx, engine.SeriesKey{Measurement: "m", Field: "f", Tags: tags}, q)
		if err != nil {
			t.Fatal(err)
		}
		want := 1.0
		if len(tags) == 2 {
			want = 100
		}
		if len(sr.Samples) != 10 || sr.Samples[0].Value != want || len(sr.Key.Tags) != len(tags) {
			t.Errorf("read %v: %+v", tags, sr)
		}
	}
	if _, err := s.Read(ctx, engine.SeriesKey{Measurement: "m", Field: "f"}, q); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("read without tags: %v, want ErrNotFound", err)
	}
	// an empty tag value is the same as no tag
	sr, err := s.Read(ctx, engine.SeriesKey{Measurement: "m", Field: "f", Tags: map[string]string{"host": "a", "dc": ""}}, q)
	if err != nil || len(sr.Samples) != 10 || sr.Samples[0].Value != 1 || sr.Key.ID() != "m,host=a#f" {
		t.Errorf("read with empty tag: %+v %v", sr, err)
	}
}

func TestWriteDetails(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	k := engine.SeriesKey{Measurement: "m", Field: "f"}
	pts := []engine.Point{
		{Measurement: "m", Fields: map[string]float64{"f": 1}, Time: t0.Add(1500 * time.Microsecond)}, // → t0+1ms
		{Measurement: "m", Fields: map[string]float64{"f": math.NaN()}, Time: t0.Add(time.Second)},    // missing
		{Measurement: "m", Fields: map[string]float64{"f": 2}, Time: t0.Add(2 * time.Second)},
	}
	mustWrite(t, s, pts)
	sr, err := s.Read(ctx, k, engine.RangeQuery{Start: t0, End: t0.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if len(sr.Samples) != 2 || !sr.Samples[0].Time.Equal(t0.Add(time.Millisecond)) || sr.Samples[1].Value != 2 {
		t.Fatalf("samples: %+v", sr.Samples)
	}
	// the newest sample rewritten with another value is refused; the
	// rest of the batch is written, and the error says so
	err = s.Write(ctx, []engine.Point{
		{Measurement: "m", Fields: map[string]float64{"f": 3}, Time: t0.Add(2 * time.Second)},
		{Measurement: "m", Fields: map[string]float64{"f": 4}, Time: t0.Add(3 * time.Second)},
	})
	if !errors.Is(err, storage.ErrDuplicateSampleForTimestamp) || !errors.Is(err, engine.ErrConflict) || errors.Is(err, engine.ErrPointRejected) ||
		!strings.Contains(err.Error(), "1 of 2 samples not written (the store keeps the value it has and does not overwrite); the rest of the batch was written; first: m#f at 2026-03-01T00:00:02Z") {
		t.Fatalf("conflicting rewrite: %v", err)
	}
	sr, err = s.Read(ctx, k, engine.RangeQuery{Start: t0, End: t0.Add(time.Minute)})
	if err != nil || len(sr.Samples) != 3 || sr.Samples[1].Value != 2 || sr.Samples[2].Value != 4 {
		t.Fatalf("after a partly refused batch: %+v %v", sr.Samples, err)
	}
	// a point without a time is stamped now
	mustWrite(t, s, []engine.Point{{Measurement: "now", Fields: map[string]float64{"f": 1}}})
	if _, err := s.Read(ctx, engine.SeriesKey{Measurement: "now", Field: "f"}, engine.RangeQuery{Start: time.Now().Add(-time.Minute), End: time.Now().Add(time.Minute)}); err != nil {
		t.Fatalf("point without time: %v", err)
	}
	// MaxFutureSkew
	s2 := openTest(t, Options{MaxFutureSkew: time.Hour})
	if err := s2.Write(ctx, series("m", nil, "f", time.Now().Add(2*time.Hour), 1, func(int) float64 { return 1 })); !errors.Is(err, ErrOutsideWindow) || !errors.Is(err, engine.ErrPointRejected) {
		t.Fatalf("future point: %v", err)
	}
}

// TestWriteTimeWindow: one point far in the future (a timestamp in seconds,
// 9000000000, i.e. 2255) used to be accepted and then make every
// present-time write "too old", forever. Points more than MaxFutureSkew
// ahead of the clock or older than the retention behind the newest sample
// are refused with a PointError naming them, and nothing of their batch is
// written.
func TestWriteTimeWindow(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	s := openTest(t, Options{Now: func() time.Time { return now }})
	if got := s.Options().MaxFutureSkew; got != DefaultMaxFutureSkew {
		t.Fatalf("default MaxFutureSkew %s", got)
	}
	a := map[string]string{"host": "a"}
	cur := series("m", a, "f", now.Add(-time.Hour), 3, func(i int) float64 { return float64(i) })
	future := engine.Point{Measurement: "m", Tags: map[string]string{"host": "b"}, Fields: map[string]float64{"f": 1}, Time: time.Unix(9000000000, 0)}
	err := s.Write(ctx, append(append([]engine.Point{}, cur...), future))
	var pe *engine.PointError
	if !errors.As(err, &pe) || pe.Index != 3 || !errors.Is(err, ErrOutsideWindow) ||
		err.Error() != "point 3: embedded: m: time 2255-03-14T16:00:00Z is more than 168h0m0s ahead of the store's clock (2026-11-26T12:00:00Z): outside the time window the store accepts" {
		t.Fatalf("far-future point: %v", err)
	}
	everything := func(tags map[string]string) int {
		_, n := sumOf(t, s, engine.SeriesKey{Measurement: "m", Field: "f", Tags: tags}, time.Unix(0, 0), time.Unix(9000000001, 0))
		return n
	}
	if everything(a) != 0 || everything(map[string]string{"host": "b"}) != 0 {
		t.Fatal("a refused batch was partly written")
	}
	// present-time writes still work, and nothing in the future moved the
	// retention window
	mustWrite(t, s, cur)
	mustWrite(t, s, series("m", a, "f", now, 1, func(int) float64 { return 9 }))
	if sum, n := sumOf(t, s, engine.SeriesKey{Measurement: "m", Field: "f", Tags: a}, now.Add(-2*time.Hour), now.Add(time.Hour)); n != 4 || sum != 12 {
		t.Fatalf("present-time data: %d samples, sum %v", n, sum)
	}
	// six days ahead (a forecast written back) is fine
	mustWrite(t, s, series("fc", nil, "f", now.Add(6*24*time.Hour), 1, func(int) float64 { return 1 }))

	// older than the retention (400 days) behind the newest sample, in
	// the same batch as good points: refused, nothing written
	old := now.Add(-401 * 24 * time.Hour)
	batch := []engine.Point{
		{Measurement: "m", Tags: map[string]string{"host": "c"}, Fields: map[string]float64{"f": 1}, Time: now},
		{Measurement: "m", Tags: map[string]string{"host": "c"}, Fields: map[string]float64{"f": 2}, Time: old},
	}
	err = s.Write(ctx, batch)
	if !errors.As(err, &pe) || pe.Index != 1 || !errors.Is(err, storage.ErrTooOldSample) || !errors.Is(err, ErrOutsideWindow) ||
		!strings.Contains(err.Error(), "is older than the retention (9600h0m0s) behind the newest sample (2026-12-02T12:00:00Z)") {
		t.Fatalf("too old point: %v", err)
	}
	if everything(map[string]string{"host": "c"}) != 0 {
		t.Fatal("a batch with a too-old point was partly written")
	}
	// a reserved tag key is refused the same way, by index
	err = s.Write(ctx, []engine.Point{cur[0], {Measurement: "m", Tags: map[string]string{FieldLabel: "x"}, Fields: map[string]float64{"f": 1}, Time: now}})
	if !errors.As(err, &pe) || pe.Index != 1 || !errors.Is(err, ErrReservedLabel) {
		t.Fatalf("reserved label: %v", err)
	}

	// the batch's own newest point counts: an empty store refuses a batch
	// spanning more than the retention
	s2 := openTest(t, Options{Retention: 48 * time.Hour, Now: func() time.Time { return now }})
	if got := s2.Options().MaxFutureSkew; got != 24*time.Hour {
		t.Fatalf("MaxFutureSkew with 48h retention: %s, want half the window", got)
	}
	err = s2.Write(ctx, []engine.Point{
		{Measurement: "m", Fields: map[string]float64{"f": 1}, Time: now.Add(-72 * time.Hour)},
		{Measurement: "m", Fields: map[string]float64{"f": 2}, Time: now},
	})
	if !errors.As(err, &pe) || pe.Index != 0 {
		t.Fatalf("batch spanning 72h with 48h retention: %v", err)
	}
	if err := s2.Write(ctx, series("m", nil, "f", now.Add(25*time.Hour), 1, func(int) float64 { return 1 })); !errors.Is(err, ErrOutsideWindow) {
		t.Fatalf("25h ahead with a 24h bound: %v", err)
	}

	// a negative MaxFutureSkew turns the future check off
	s3 := openTest(t, Options{MaxFutureSkew: -1, Now: func() time.Time { return now }})
	mustWrite(t, s3, []engine.Point{future})
}

// shuffledHistory returns nSeries × days of one-minute points, series after
// series, each series' points in random time order, with value
// seriesIndex*1000 + minute%1000.
func shuffledHistory(nSeries, days int, start time.Time, seed uint64) ([]engine.Point, []engine.SeriesKey) {
	rng := rand.New(rand.NewPCG(seed, seed))
	n := days * 1440
	var pts []engine.Point
	var keys []engine.SeriesKey
	for h := range nSeries {
		tags := map[string]string{"host": fmt.Sprintf("h%02d", h)}
		keys = append(keys, engine.SeriesKey{Measurement: "cpu", Field: "usage", Tags: tags})
		ps := series("cpu", tags, "usage", start, n, func(i int) float64 { return float64(h*1000 + i%1000) })
		rng.Shuffle(len(ps), func(i, j int) { ps[i], ps[j] = ps[j], ps[i] })
		pts = append(pts, ps...)
	}
	return pts, keys
}

// checkDailySums reads every key at a one-day step with AggSum and compares
// with the sums computed from the generator.
func checkDailySums(t *testing.T, s *Store, keys []engine.SeriesKey, start time.Time, days int) {
	t.Helper()
	got, err := s.ReadMany(context.Background(), keys, engine.RangeQuery{Start: start, End: start.Add(time.Duration(days) * 24 * time.Hour), Step: 24 * time.Hour, Agg: engine.AggSum})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(keys) {
		t.Fatalf("ReadMany: %d series, want %d", len(got), len(keys))
	}
	for h, sr := range got {
		if len(sr.Samples) != days {
			t.Fatalf("%s: %d days, want %d", sr.Key.ID(), len(sr.Samples), days)
		}
		for d, smp := range sr.Samples {
			want := 0.0
			for i := d * 1440; i < (d+1)*1440; i++ {
				want += float64(h*1000 + i%1000)
			}
			if smp.Value != want || !smp.Time.Equal(start.Add(time.Duration(d)*24*time.Hour)) {
				t.Fatalf("%s day %d: %v at %v, want %v", sr.Key.ID(), d, smp.Value, smp.Time, want)
			}
		}
	}
}

// TestBulkBackfill loads 20 series × 30 days of minutes, each series'
// points shuffled in time, through Write and through a Loader.
func TestBulkBackfill(t *testing.T) {
	const nSeries, days = 20, 30
	start := t0
	pts, keys := shuffledHistory(nSeries, days, start, 1)
	ctx := context.Background()
	const batch = 10000
	t.Run("Write", func(t *testing.T) {
		s := openTest(t, Options{})
		for i := 0; i < len(pts); i += batch {
			mustWrite(t, s, pts[i:min(i+batch, len(pts))])
		}
		checkDailySums(t, s, keys, start, days)
		s = reopen(t, s)
		checkDailySums(t, s, keys, start, days)
	})
	t.Run("Loader", func(t *testing.T) {
		s := openTest(t, Options{})
		l, err := s.NewLoader()
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		for i := 0; i < len(pts); i += batch {
			if err := l.Add(ctx, pts[i:min(i+batch, len(pts))]); err != nil {
				t.Fatal(err)
			}
		}
		if err := l.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		st := l.Stats()
		t.Logf("loader: %+v", st)
		if st.Samples != len(pts) || st.Rejected != 0 || st.ViaWAL != 0 {
			t.Errorf("loader stats %+v", st)
		}
		checkDailySums(t, s, keys, start, days)
		list, err := s.ListSeries(ctx, engine.SeriesFilter{Start: start, End: start.Add(days * 24 * time.Hour)})
		if err != nil || len(list) != nSeries {
			t.Fatalf("list: %d series, %v", len(list), err)
		}
		s = reopen(t, s)
		checkDailySums(t, s, keys, start, days)
		// loading the same data again changes nothing
		if err := s.Backfill(ctx, pts); err != nil {
			t.Fatal(err)
		}
		checkDailySums(t, s, keys, start, days)
		if err := s.Compact(ctx); err != nil {
			t.Fatal(err)
		}
		checkDailySums(t, s, keys, start, days)
	})
}

// TestLoaderOverlappingHead loads history that reaches into the live head:
// the overlapping part goes through the WAL, and a restart loses nothing.
func TestLoaderOverlappingHead(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	live := map[string]string{"host": "live"}
	hist := map[string]string{"host": "hist"}
	liveStart := t0.Add(48 * time.Hour)
	mustWrite(t, s, series("m", live, "f", liveStart, 60, func(int) float64 { return 1 }))
	// three days of history, the last hour inside the live head's range
	histStart := liveStart.Add(-71 * time.Hour)
	l, err := s.NewLoader()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Add(ctx, series("m", hist, "f", histStart, 72*60, func(int) float64 { return 2 })); err != nil {
		t.Fatal(err)
	}
	if err := l.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if st := l.Stats(); st.ViaWAL != 60 {
		t.Errorf("%d samples sent through the WAL, want the 60 inside the live head's range", st.ViaWAL)
	}
	// live data keeps flowing, and an old sample of a new series arrives
	mustWrite(t, s, series("m", live, "f", liveStart.Add(time.Hour), 60, func(int) float64 { return 1 }))
	mustWrite(t, s, series("m", map[string]string{"host": "late"}, "f", histStart, 10, func(int) float64 { return 3 }))
	check := func(s *Store) {
		t.Helper()
		for _, c := range []struct {
			tags  map[string]string
			start time.Time
			n     int
			sum   float64
		}{
			{live, liveStart, 120, 120},
			{hist, histStart, 72 * 60, 2 * 72 * 60},
			{map[string]string{"host": "late"}, histStart, 10, 30},
		} {
			sum, n := sumOf(t, s, engine.SeriesKey{Measurement: "m", Field: "f", Tags: c.tags}, c.start, liveStart.Add(3*time.Hour))
			if n != c.n || sum != c.sum {
				t.Errorf("%v: %d samples, sum %v; want %d, %v", c.tags, n, sum, c.n, c.sum)
			}
		}
	}
	check(s)
	s = reopen(t, s)
	check(s)
	if err := s.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	s = reopen(t, s)
	check(s)
}

// loaderStore routes Write through Backfill, so the contract suite also
// covers the bulk-load path (hostile strings, retries, gaps...).
type loaderStore struct{ *Store }

func (s loaderStore) Write(ctx context.Context, points []engine.Point) error {
	return s.Backfill(ctx, points)
}

func TestContractViaLoader(t *testing.T) {
	storetest.Run(t, func(t *testing.T) engine.MetricStore {
		s, err := Open(t.TempDir(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		return loaderStore{s}
	})
}

// TestLoaderSmallBudgets forces a Loader through its memory bounds: set-aside
// samples spilled into extra heads, heads written as partial blocks, parts
// merged at Commit, including a window that reaches into the live head.
func TestLoaderSmallBudgets(t *testing.T) {
	defer func(a, b int) { loaderSpillSamples, loaderMemSamples = a, b }(loaderSpillSamples, loaderMemSamples)
	loaderSpillSamples, loaderMemSamples = 7000, 25000
	const nSeries, days = 5, 25
	pts, keys := shuffledHistory(nSeries, days, t0, 2)
	s := openTest(t, Options{})
	ctx := context.Background()
	// live data for another series at the end of the range
	liveStart := t0.Add(days*24*time.Hour - time.Hour)
	live := map[string]string{"host": "live"}
	mustWrite(t, s, series("m", live, "f", liveStart, 30, func(int) float64 { return 1 }))
	l, err := s.NewLoader()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for i := 0; i < len(pts); i += 5000 {
		if err := l.Add(ctx, pts[i:min(i+5000, len(pts))]); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	st := l.Stats()
	t.Logf("loader: %+v", st)
	if st.Parts < 2 || st.ViaWAL != nSeries*60 || st.Samples != len(pts) {
		t.Errorf("stats %+v: want several parts and %d samples through the WAL", st, nSeries*60)
	}
	checkDailySums(t, s, keys, t0, days)
	// the Loader is reusable after Commit
	again := engine.SeriesKey{Measurement: "m", Field: "f", Tags: map[string]string{"host": "again"}}
	if err := l.Add(ctx, series("m", again.Tags, "f", t0, 100, func(int) float64 { return 1 })); err != nil {
		t.Fatal(err)
	}
	if err := l.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	s = reopen(t, s)
	checkDailySums(t, s, keys, t0, days)
	if sum, n := sumOf(t, s, engine.SeriesKey{Measurement: "m", Field: "f", Tags: live}, liveStart, liveStart.Add(time.Hour)); n != 30 || sum != 30 {
		t.Errorf("live series: %d samples, sum %v", n, sum)
	}
	if sum, n := sumOf(t, s, again, t0, t0.Add(2*time.Hour)); n != 100 || sum != 100 {
		t.Errorf("second commit: %d samples, sum %v", n, sum)
	}
	// a Loader of a closed store fails cleanly
	if err := l.Add(ctx, series("m", again.Tags, "f", t0, 1, func(int) float64 { return 1 })); !errors.Is(err, ErrClosed) {
		t.Fatalf("loader of a closed store: %v", err)
	}
}

// TestConcurrentUse writes, reads and loads from several goroutines (run
// with -race).
func TestConcurrentUse(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	errc := make(chan error, 8)
	for g := range 4 {
		go func() {
			tags := map[string]string{"host": fmt.Sprintf("w%d", g)}
			k := engine.SeriesKey{Measurement: "m", Field: "f", Tags: tags}
			for i := range 20 {
				if err := s.Write(ctx, series("m", tags, "f", t0.Add(time.Duration(i)*time.Hour), 60, func(int) float64 { return 1 })); err != nil {
					errc <- err
					return
				}
				if _, err := s.Read(ctx, k, engine.RangeQuery{Start: t0, End: t0.Add(24 * time.Hour), Step: time.Hour}); err != nil {
					errc <- err
					return
				}
				if _, err := s.ListSeries(ctx, engine.SeriesFilter{Start: t0, End: t0.Add(24 * time.Hour)}); err != nil {
					errc <- err
					return
				}
			}
			errc <- nil
		}()
	}
	go func() {
		errc <- s.Backfill(ctx, series("m", map[string]string{"host": "loaded"}, "f", t0.Add(-48*time.Hour), 2880, func(int) float64 { return 1 }))
	}()
	for range 5 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	list, err := s.ListSeries(ctx, engine.SeriesFilter{Start: t0.Add(-48 * time.Hour), End: t0.Add(24 * time.Hour)})
	if err != nil || len(list) != 5 {
		t.Fatalf("list: %v %v", list, err)
	}
}
