package embedded

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/seed-f1b503aa/foresight/engine"
)

// TestBigLoad measures loading a large history of one-minute points and
// how long the store then takes to settle (compaction) and to restart. It
// only runs with FORESIGHT_BIG_LOAD=1. FORESIGHT_BIG_SERIES (200) and
// FORESIGHT_BIG_DAYS (120) size it (the default is 34.6M points);
// FORESIGHT_BIG_ORDER=time writes time-major (every series at t, then
// t+1m, as the demo preload does) instead of series after series; and
// FORESIGHT_BIG_MODE picks the path: "write" (default, Store.Write),
// "loader" (one Loader, Add per batch, one Commit) or "backfill"
// (Store.Backfill per batch).
func TestBigLoad(t *testing.T) {
	if os.Getenv("FORESIGHT_BIG_LOAD") == "" {
		t.Skip("set FORESIGHT_BIG_LOAD=1 to run")
	}
	series, _ := strconv.Atoi(os.Getenv("FORESIGHT_BIG_SERIES"))
	if series == 0 {
		series = 200
	}
	days, _ := strconv.Atoi(os.Getenv("FORESIGHT_BIG_DAYS"))
	if days == 0 {
		days = 120
	}
	mode := os.Getenv("FORESIGHT_BIG_MODE")
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	start := time.Now()
	points := 0
	gen := historyGen(series, days, 50000)
	if os.Getenv("FORESIGHT_BIG_ORDER") == "time" {
		gen = timeMajorGen(series, days, 50000)
	}
	var l *Loader
	if mode == "loader" {
		if l, err = s.NewLoader(); err != nil {
			t.Fatal(err)
		}
		defer l.Close()
	}
	for bt := gen(); bt != nil; bt = gen() {
		points += len(bt)
		if points%(5_000_000) < len(bt) {
			t.Logf("%d points after %s", points, time.Since(start))
		}
		switch mode {
		case "loader":
			err = l.Add(ctx, bt)
		case "backfill":
			err = s.Backfill(ctx, bt)
		default:
			err = s.Write(ctx, bt)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if l != nil {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		t.Logf("live heap before commit (after GC): %d MB", ms.HeapAlloc>>20)
		if err := l.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		t.Logf("loader: %+v", l.Stats())
	}
	load := time.Since(start)
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	t.Logf("%s: %d points in %s = %.0f points/s; live heap after GC %d MB, peak heap from OS %d MB", mode, points, load, float64(points)/load.Seconds(), ms.HeapAlloc>>20, ms.HeapSys>>20)
	start = time.Now()
	if err := s.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("compact: %s, %d blocks", time.Since(start), len(s.db.Blocks()))
	start = time.Now()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("close+reopen: %s", time.Since(start))
	defer s.Close()
}

// timeMajorGen yields the same points as historyGen, ordered by time: every
// series at one minute, then the next minute (as the demo fleet preload
// writes them).
func timeMajorGen(series, days, batchSize int) func() []engine.Point {
	tags := fleetTags(series)
	n := days * 24 * 60
	start := benchBase.Add(-time.Duration(n) * time.Minute)
	i, h := 0, 0
	return func() []engine.Point {
		if i == n {
			return nil
		}
		cur := make([]engine.Point, 0, batchSize)
		for ; i < n && len(cur) < batchSize; i++ {
			for ; h < len(tags) && len(cur) < batchSize; h++ {
				cur = append(cur, engine.Point{Measurement: "cpu", Tags: tags[h], Fields: map[string]float64{"usage": float64(h*1000 + i%1000)}, Time: start.Add(time.Duration(i) * time.Minute)})
			}
			if h < len(tags) {
				break
			}
			h = 0
		}
		return cur
	}
}
