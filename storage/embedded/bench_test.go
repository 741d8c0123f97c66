package embedded

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/seed-f1b503aa/foresight/engine"
)

// benchBase is the newest instant of the benchmark data.
var benchBase = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

// fleetTags returns the tag sets of n hosts.
func fleetTags(n int) []map[string]string {
	tags := make([]map[string]string, n)
	for i := range tags {
		tags[i] = map[string]string{"host": fmt.Sprintf("host-%03d", i), "dc": fmt.Sprintf("dc-%d", i%3)}
	}
	return tags
}

// BenchmarkWriteInOrder writes batches of 10,000 points (100 series × 100
// minutes), time advancing batch after batch, as live ingestion does (only
// faster: a 2h head block is cut every 1.2 batches, so the cost of TSDB's
// background head compaction is included). The batch is built once and only
// its timestamps change, so the benchmark measures the store, not the
// generator.
func BenchmarkWriteInOrder(b *testing.B) {
	s := openTest(b, Options{})
	ctx := context.Background()
	tags := fleetTags(100)
	const minutes = 100
	batch := make([]engine.Point, 0, len(tags)*minutes)
	for m := range minutes {
		for h, tg := range tags {
			batch = append(batch, engine.Point{Measurement: "cpu", Tags: tg, Fields: map[string]float64{"usage": float64(h + m)}})
		}
	}
	start := benchBase.Add(-90 * 24 * time.Hour)
	points := 0
	for i := 0; b.Loop(); i++ {
		for j := range batch {
			batch[j].Time = start.Add(time.Duration(i*minutes+j/len(tags)) * time.Minute)
		}
		if err := s.Write(ctx, batch); err != nil {
			b.Fatal(err)
		}
		points += len(batch)
	}
	b.ReportMetric(float64(points)/b.Elapsed().Seconds(), "points/s")
}

// historyBatches returns the points of `series` series × `days` days of
// one-minute data ending at benchBase, ordered series after series (as a
// per-series ordered file is), cut into batches of batchSize points.
func historyBatches(series, days, batchSize int) [][]engine.Point {
	tags := fleetTags(series)
	n := days * 24 * 60
	start := benchBase.Add(-time.Duration(n) * time.Minute)
	var out [][]engine.Point
	cur := make([]engine.Point, 0, batchSize)
	for h, tg := range tags {
		for i := range n {
			cur = append(cur, engine.Point{Measurement: "cpu", Tags: tg, Fields: map[string]float64{"usage": float64(h*1000 + i%1000)}, Time: start.Add(time.Duration(i) * time.Minute)})
			if len(cur) == batchSize {
				out = append(out, cur)
				cur = make([]engine.Point, 0, batchSize)
			}
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// BenchmarkBackfill loads 20 series × 30 days of minutes (864,000 points),
// series after series in batches of 10,000, into an empty store: through
// Write (the WAL, the head and its out-of-order path) and through one Loader
// (blocks written directly). The Write figure only counts the Write calls:
// the store then still owes about a minute of background compaction (about
// 360 two-hour blocks from the head and as many from the out-of-order head,
// then merged; measured with TestBigLoad). The Loader figure includes
// Commit, after which nothing is left to do.
func BenchmarkBackfill(b *testing.B) {
	batches := historyBatches(20, 30, 10000)
	points := 0
	for _, bt := range batches {
		points += len(bt)
	}
	ctx := context.Background()
	b.Run("Write", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			s := openTest(b, Options{})
			b.StartTimer()
			for _, bt := range batches {
				if err := s.Write(ctx, bt); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			s.Close()
			b.StartTimer()
		}
		b.ReportMetric(float64(points*b.N)/b.Elapsed().Seconds(), "points/s")
	})
	b.Run("Loader", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			s := openTest(b, Options{})
			b.StartTimer()
			l, err := s.NewLoader()
			if err != nil {
				b.Fatal(err)
			}
			for _, bt := range batches {
				if err := l.Add(ctx, bt); err != nil {
					b.Fatal(err)
				}
			}
			if err := l.Commit(ctx); err != nil {
				b.Fatal(err)
			}
			l.Close()
			b.StopTimer()
			s.Close()
			b.StartTimer()
		}
		b.ReportMetric(float64(points*b.N)/b.Elapsed().Seconds(), "points/s")
	})
}

// BenchmarkReadDownsample reads 90 days of one-minute data of one series
// (129,600 samples, persisted in blocks) at a one-hour step.
func BenchmarkReadDownsample(b *testing.B) {
	s := openTest(b, Options{})
	ctx := context.Background()
	const n = 90 * 24 * 60
	start := benchBase.Add(-n * time.Minute)
	tags := map[string]string{"host": "db-01"}
	if err := s.Backfill(ctx, series("cpu", tags, "usage", start, n, func(i int) float64 { return float64(i % 977) })); err != nil {
		b.Fatal(err)
	}
	k := engine.SeriesKey{Measurement: "cpu", Field: "usage", Tags: tags}
	q := engine.RangeQuery{Start: start, End: benchBase, Step: time.Hour, Agg: engine.AggMean}
	for _, agg := range []engine.Aggregate{engine.AggMean, engine.AggMax} {
		b.Run(string(agg), func(b *testing.B) {
			q.Agg = agg
			for b.Loop() {
				sr, err := s.Read(ctx, k, q)
				if err != nil {
					b.Fatal(err)
				}
				if len(sr.Samples) != 90*24 {
					b.Fatalf("%d windows", len(sr.Samples))
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "samples/s")
		})
	}
}

// historyGen is historyBatches as a generator, for loads too big to hold.
func historyGen(series, days, batchSize int) func() []engine.Point {
	tags := fleetTags(series)
	n := days * 24 * 60
	start := benchBase.Add(-time.Duration(n) * time.Minute)
	h, i := 0, 0
	return func() []engine.Point {
		if h == len(tags) {
			return nil
		}
		cur := make([]engine.Point, 0, batchSize)
		for ; h < len(tags) && len(cur) < batchSize; h++ {
			for ; i < n && len(cur) < batchSize; i++ {
				cur = append(cur, engine.Point{Measurement: "cpu", Tags: tags[h], Fields: map[string]float64{"usage": float64(h*1000 + i%1000)}, Time: start.Add(time.Duration(i) * time.Minute)})
			}
			if i < n {
				break
			}
			i = 0
		}
		return cur
	}
}
