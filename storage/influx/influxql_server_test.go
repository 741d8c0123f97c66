package influx

// The InfluxQL read path against the real server (see influx_test.go for
// how to start one): it returns exactly what the Flux path returns.

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/seed-f1b503aa/foresight/engine"
)

// Over irregular data, for every aggregate, several steps and aligned,
// unaligned and edge ranges, InfluxQL and Flux return the same windows
// (stamped with their epoch-aligned start, none empty) with the same
// values (means and sums to rounding), for float and integer fields, exact
// tag sets and series without tags.
func TestInfluxQLMatchesFlux(t *testing.T) {
	fx, db := newStore(t, func(c *Config) { c.QueryLanguage = QueryLanguageFlux })
	u := serverURL(t)
	ql, err := New(Config{URL: u, Bucket: db, QueryLanguage: QueryLanguageInfluxQL, InfluxQLMaxKeysPerQuery: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer ql.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	const span = 2 * 24 * time.Hour
	var pts []engine.Point
	var keys []engine.SeriesKey
	for i, tags := range []map[string]string{{"host": "a"}, {"host": "a", "core": "1"}, {"host": "b"}, nil} {
		keys = append(keys, engine.SeriesKey{Measurement: "cpu", Field: "usage", Tags: tags})
		x := float64(i)
		// irregular: 37s apart with a jitter, a gap of 5 hours on day 1
		for ts, j := base.Add(-time.Hour), 0; ts.Before(base.Add(span + time.Hour)); j++ {
			if !(ts.After(base.Add(20*time.Hour)) && ts.Before(base.Add(25*time.Hour))) {
				v := 50 + 30*math.Sin(float64(j)/40+x) + 0.001*float64(j%97) - 10*x
				pts = append(pts, engine.Point{Measurement: "cpu", Tags: tags, Fields: map[string]float64{"usage": v}, Time: ts})
			}
			ts = ts.Add(37*time.Second + time.Duration(j%11)*time.Second + time.Duration(j%7)*time.Millisecond)
		}
	}
	// samples exactly on hour boundaries, which are Start/End of some ranges
	for h := 0; h <= 48; h++ {
		pts = append(pts, engine.Point{Measurement: "cpu", Tags: map[string]string{"host": "a"}, Fields: map[string]float64{"usage": 1000 + float64(h)}, Time: base.Add(time.Duration(h) * time.Hour)})
	}
	if err := fx.Write(ctx, pts); err != nil {
		t.Fatal(err)
	}
	var lp strings.Builder // an integer field
	for j := 0; j < 3000; j++ {
		fmt.Fprintf(&lp, "req,host=a n=%di %d\n", j*7%1000-300, base.Add(time.Duration(j)*time.Minute+13*time.Second).UnixNano())
	}
	writeLP(t, u, db, lp.String())
	keys = append(keys, engine.SeriesKey{Measurement: "req", Field: "n", Tags: map[string]string{"host": "a"}})

	ranges := [][2]time.Time{
		{base, base.Add(span)},
		{base.Add(13*time.Minute + 17*time.Second + 5), base.Add(27*time.Hour + 1)},
		{base.Add(time.Hour), base.Add(3 * time.Hour)}, // samples at both ends
		{base.Add(-48 * time.Hour), base.Add(-30 * time.Minute)},
		{base.Add(21 * time.Hour), base.Add(24 * time.Hour)}, // inside the gap
		{base.Add(5 * time.Hour), base.Add(5*time.Hour + time.Millisecond)},
	}
	steps := []time.Duration{1500 * time.Millisecond, 7 * time.Minute, time.Hour, 24 * time.Hour}
	aggs := []engine.Aggregate{engine.AggMean, engine.AggMin, engine.AggMax, engine.AggLast, engine.AggSum}
	compared, windows := 0, 0
	for _, r := range ranges {
		for _, step := range steps {
			if r[1].Sub(r[0]) > 6*time.Hour && step < time.Minute {
				continue // Flux on 1.x takes seconds for that many windows
			}
			for _, agg := range aggs {
				q := engine.RangeQuery{Start: r[0], End: r[1], Step: step, Agg: agg}
				want, err := fx.ReadMany(ctx, keys, q)
				if err != nil {
					t.Fatalf("flux %+v: %v", q, err)
				}
				got, err := ql.ReadMany(ctx, keys, q)
				if err != nil {
					t.Fatalf("influxql %+v: %v", q, err)
				}
				if len(got) != len(want) {
					t.Fatalf("%v..%v step %v %s: %d series, flux %d", r[0], r[1], step, agg, len(got), len(want))
				}
				for i := range want {
					if got[i].Key.ID() != want[i].Key.ID() || len(got[i].Samples) != len(want[i].Samples) {
						t.Fatalf("%v..%v step %v %s: %s %d samples, flux %s %d", r[0], r[1], step, agg, got[i].Key.ID(), len(got[i].Samples), want[i].Key.ID(), len(want[i].Samples))
					}
					for j, w := range want[i].Samples {
						g := got[i].Samples[j]
						if !g.Time.Equal(w.Time) || math.Abs(g.Value-w.Value) > 1e-9*math.Max(1, math.Abs(w.Value)) {
							t.Fatalf("%v..%v step %v %s %s sample %d: %v %v, flux %v %v", r[0], r[1], step, agg, want[i].Key.ID(), j, g.Time, g.Value, w.Time, w.Value)
						}
						if g.Time.Before(r[0].Add(-step)) || !g.Time.Before(r[1]) || !g.Time.Equal(floorToStep(g.Time, step)) {
							t.Fatalf("sample %v outside the windows of %v..%v", g.Time, r[0], r[1])
						}
					}
					windows += len(want[i].Samples)
				}
				compared++
				// Read of one series agrees too
				if len(want) > 0 {
					sr, err := ql.Read(ctx, want[0].Key, q)
					if err != nil || len(sr.Samples) != len(want[0].Samples) || !sr.Samples[0].Time.Equal(want[0].Samples[0].Time) {
						t.Fatalf("influxql read %s %+v: %d samples, %v", want[0].Key.ID(), q, len(sr.Samples), err)
					}
				}
			}
		}
	}
	t.Logf("%d queries, %d windows: identical", compared, windows)
}

// BenchmarkReadManyDownsampled reads 200 series × 7 days at 5 minutes
// (403,200 points) downsampled to 1 hour with one ReadMany, with each query
// language. It needs a server (see influx_test.go) and skips without one.
//
//	go test ./storage/influx -run '^$' -bench ReadManyDownsampled -benchtime 5x
func BenchmarkReadManyDownsampled(b *testing.B) {
	if testing.Short() {
		b.Skip("needs InfluxDB")
	}
	const nSeries, days, every = 200, 7, 5 * time.Minute
	s, db := newStore(b, nil)
	ctx := context.Background()
	perSeries := int(days * 24 * time.Hour / every)
	var keys []engine.SeriesKey
	pts := make([]engine.Point, 0, nSeries*perSeries)
	for i := range nSeries {
		tags := map[string]string{"host": fmt.Sprintf("host-%04d", i/4), "instance": fmt.Sprintf("i%d", i%4)}
		keys = append(keys, engine.SeriesKey{Measurement: "bench", Field: "value", Tags: tags})
		for j := range perSeries {
			v := 50 + 20*math.Sin(float64(j)/12+float64(i)) + float64(j%7)
			pts = append(pts, engine.Point{Measurement: "bench", Tags: tags, Fields: map[string]float64{"value": v}, Time: base.Add(time.Duration(j) * every)})
		}
	}
	if err := s.Write(ctx, pts); err != nil {
		b.Fatal(err)
	}
	q := engine.RangeQuery{Start: base, End: base.Add(days * 24 * time.Hour), Step: time.Hour, Agg: engine.AggMean}
	for _, lang := range languages {
		b.Run(string(lang), func(b *testing.B) {
			ls, err := New(Config{URL: s.Config().URL, Bucket: db, QueryLanguage: lang, Timeouts: Timeouts{Query: 5 * time.Minute}})
			if err != nil {
				b.Fatal(err)
			}
			defer ls.Close()
			for b.Loop() {
				got, err := ls.ReadMany(ctx, keys, q)
				if err != nil || len(got) != nSeries || len(got[0].Samples) != days*24 {
					b.Fatalf("read many: %d series, %v", len(got), err)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N*nSeries), "ms/series")
		})
	}
}
