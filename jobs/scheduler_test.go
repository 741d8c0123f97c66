package jobs

import (
	"context"
	"errors"
	"fmt"
	"github.com/seed-f1b503aa/foresight/storage/state"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-f1b503aa/foresight/config"
	"github.com/seed-f1b503aa/foresight/engine"
)

// gateStore holds every ListSeries until release is closed, so a run stays
// in progress as long as the test wants; the rest is the real store.
type gateStore struct {
	engine.MetricStore
	entered chan struct{}
	release chan struct{}
}

func (g *gateStore) ListSeries(ctx context.Context, f engine.SeriesFilter) ([]engine.SeriesKey, error) {
	select {
	case g.entered <- struct{}{}:
	default:
	}
	select {
	case <-g.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return g.MetricStore.ListSeries(ctx, f)
}

func TestNoOverlap(t *testing.T) {
	ctx := context.Background()
	gate := &gateStore{MetricStore: demoStore(t), entered: make(chan struct{}, 1), release: make(chan struct{})}
	st := sqliteState(t)
	s, _ := newService(t, gate, st, newClock(end), jobsConfig(diskJob("disk")), nil)
	tr, err := s.Trigger(ctx, "disk", "alice")
	if err != nil {
		t.Fatal(err)
	}
	if tr.Job != "disk" || tr.RunID == 0 {
		t.Fatalf("triggered %+v", tr)
	}
	<-gate.entered // the run is reading the store
	if _, err := s.Trigger(ctx, "disk", "bob"); !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("second trigger: %v, want ErrAlreadyRunning", err)
	}
	if _, err := s.RunNow(ctx, "disk"); !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("RunNow while running: %v, want ErrAlreadyRunning", err)
	}
	s.tick(s.byName["disk"]) // a scheduled activation meanwhile is skipped
	if n := counter(t, s.metrics.skipped.WithLabelValues("disk", "overlap")); n != 1 {
		t.Fatalf("skipped{overlap} = %v, want 1", n)
	}
	status, err := s.Get(ctx, "disk")
	if err != nil {
		t.Fatal(err)
	}
	if !status.Running || status.LastRun == nil || status.LastRun.ID != tr.RunID || !status.LastRun.FinishedAt.IsZero() {
		t.Fatalf("status while running: %+v", status)
	}
	close(gate.release)
	waitIdle(t, s, "disk")
	runs := runsOf(t, st, "disk")
	if len(runs) != 1 || runs[0].ID != tr.RunID || runs[0].FinishedAt.IsZero() || runs[0].Error != "" || runs[0].Series == 0 {
		t.Fatalf("runs %+v: want only the triggered one, finished", runs)
	}
	// and now it can run again
	if _, err := s.RunNow(ctx, "disk"); err != nil {
		t.Fatal(err)
	}
	if n := len(runsOf(t, st, "disk")); n != 2 {
		t.Fatalf("%d runs", n)
	}
	// unknown jobs
	if _, err := s.Trigger(ctx, "nope", "alice"); !errors.Is(err, ErrUnknownJob) {
		t.Errorf("Trigger: %v", err)
	}
	if _, err := s.Get(ctx, "nope"); !errors.Is(err, ErrUnknownJob) {
		t.Errorf("Get: %v", err)
	}
	if _, err := s.Runs(ctx, "nope", 10, 0); !errors.Is(err, ErrUnknownJob) {
		t.Errorf("Runs: %v", err)
	}
	page, err := s.Runs(ctx, "disk", 1, 1)
	if err != nil || len(page) != 1 || page[0].ID != tr.RunID {
		t.Errorf("Runs page 2: %+v %v", page, err)
	}
}

func TestCatchUpOnStart(t *testing.T) {
	ctx := context.Background()
	ms := demoStore(t)
	st := sqliteState(t)
	record := func(job string, start time.Time, runErr string) int64 {
		t.Helper()
		id, err := st.RecordRunStart(ctx, job, start)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.RecordRunFinish(ctx, id, start.Add(time.Minute), 5, 0, runErr); err != nil {
			t.Fatal(err)
		}
		return id
	}
	// memory (@every 1h) succeeded 10 minutes ago: up to date
	memID := record("memory", end.Add(-10*time.Minute), "")
	// forecast (@every 30m) succeeded 2 hours ago: overdue
	record("forecast-cpu", end.Add(-2*time.Hour), "")
	// disk2 (@every 15m) failed 5 minutes ago and never succeeded: runs
	record("disk2", end.Add(-5*time.Minute), "store down")
	// disk (@every 15m) never ran: runs
	cfg := jobsConfig(diskJob("disk"), memJob("memory"), cpuForecastJob("forecast-cpu", "snaive"), diskJob("disk2"))
	s, _ := newService(t, ms, st, newClock(end), cfg, nil)
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(ctx); err == nil {
		t.Fatal("a second Start succeeded")
	}
	<-s.caughtUp
	want := map[string]int{"disk": 1, "memory": 1, "forecast-cpu": 2, "disk2": 2}
	var ids []int64
	for _, name := range []string{"disk", "memory", "forecast-cpu", "disk2"} {
		runs := runsOf(t, st, name)
		if len(runs) != want[name] {
			t.Errorf("%s: %d runs, want %d", name, len(runs), want[name])
			continue
		}
		if name == "memory" {
			if runs[0].ID != memID {
				t.Errorf("memory ran again")
			}
			continue
		}
		if !runs[0].StartedAt.Equal(end) || runs[0].Error != "" {
			t.Errorf("%s catch-up run %+v", name, runs[0])
		}
		ids = append(ids, runs[0].ID)
	}
	// one after the other, in configuration order
	if len(ids) != 3 || !(ids[0] < ids[1] && ids[1] < ids[2]) {
		t.Errorf("catch-up run ids %v, want increasing in configuration order", ids)
	}
	list, err := s.List(ctx)
	if err != nil || len(list) != 4 {
		t.Fatalf("List: %d, %v", len(list), err)
	}
	for _, st := range list {
		if st.NextRun == nil || !st.NextRun.After(time.Now()) {
			t.Errorf("%s: next run %v", st.Name, st.NextRun)
		}
		if st.Stale || st.LastSuccessAt == nil || st.Running {
			t.Errorf("%s after the catch-up: %+v", st.Name, st)
		}
	}
	if list[0].Name != "disk" || list[0].Type != "predict" || list[0].Schedule != "@every 15m" || list[0].TZ != "UTC" ||
		fmt.Sprint(list[0].Kinds) != "[disk]" {
		t.Errorf("status %+v", list[0])
	}
	// stopped: no more runs, no restart
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RunNow(ctx, "disk"); !errors.Is(err, ErrStopped) {
		t.Errorf("RunNow after Stop: %v", err)
	}
	if err := s.Start(ctx); !errors.Is(err, ErrStopped) {
		t.Errorf("Start after Stop: %v", err)
	}
}

func TestDisabledSchedulerStillRunsOnDemand(t *testing.T) {
	ctx := context.Background()
	st := sqliteState(t)
	cfg := jobsConfig(diskJob("disk"))
	cfg.Enabled = false
	s, _ := newService(t, demoStore(t), st, newClock(end), cfg, nil)
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	<-s.caughtUp
	if n := len(runsOf(t, st, "disk")); n != 0 {
		t.Fatalf("disabled scheduler ran %d times on start", n)
	}
	status, _ := s.Get(ctx, "disk")
	if status.NextRun != nil {
		t.Errorf("next run %v with the scheduler off", status.NextRun)
	}
	tr, err := s.Trigger(ctx, "disk", "alice")
	if err != nil {
		t.Fatal(err)
	}
	waitIdle(t, s, "disk")
	if runs := runsOf(t, st, "disk"); len(runs) != 1 || runs[0].ID != tr.RunID {
		t.Fatalf("runs %+v", runs)
	}
}

func TestCloseWindowOnlyJob(t *testing.T) {
	ctx := context.Background()
	st := sqliteState(t)
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	// October 2026 closes on its last three business days, 28–30 October
	// (Asia/Shanghai, the built-in calendar).
	outside := time.Date(2026, 10, 20, 10, 0, 0, 0, shanghai)
	inside := time.Date(2026, 10, 29, 10, 0, 0, 0, shanghai)
	spec := config.JobSpec{Name: "close", Type: TypePredict, Kinds: []string{"monthend"}, Schedule: "@every 1h", OnlyInCloseWindow: true,
		Timeout: config.Duration(5 * time.Minute)}
	other := spec
	other.Name = "close-2"
	now := newClock(outside)
	s, _ := newService(t, demoStore(t), st, now, jobsConfig(spec, other), nil)
	j := s.byName["close"]
	s.tick(j)
	if n := len(runsOf(t, st, "close")); n != 0 {
		t.Fatalf("a tick outside the close window ran (%d runs)", n)
	}
	if n := counter(t, s.metrics.skipped.WithLabelValues("close", "outside_close_window")); n != 1 {
		t.Fatalf("skipped{outside_close_window} = %v", n)
	}
	// on the window's first day, from midnight local time
	now.Set(time.Date(2026, 10, 28, 0, 0, 0, 0, shanghai))
	if start, in := s.closeWindow(now.Now()); !in || !start.Equal(now.Now()) {
		t.Fatalf("close window at %s: %v %s", now.Now(), in, start)
	}
	now.Set(time.Date(2026, 10, 27, 23, 59, 0, 0, shanghai))
	if _, in := s.closeWindow(now.Now()); in {
		t.Fatal("27 October is not in the close window")
	}
	now.Set(inside)
	s.tick(j)
	runs := runsOf(t, st, "close")
	if len(runs) != 1 || !runs[0].StartedAt.Equal(inside) || runs[0].Error != "" || runs[0].Series == 0 {
		t.Fatalf("runs inside the window: %+v", runs)
	}
	// a manual run happens whatever the calendar says
	now.Set(outside)
	if _, err := s.RunNow(ctx, "close"); err != nil {
		t.Fatal(err)
	}
	if n := len(runsOf(t, st, "close")); n != 2 {
		t.Fatalf("manual run outside the window: %d runs", n)
	}
	// the catch-up on start skips close-window jobs outside the window
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	<-s.caughtUp
	if n := len(runsOf(t, st, "close-2")); n != 0 {
		t.Fatalf("catch-up outside the window ran close-2 %d times", n)
	}
	if n := counter(t, s.metrics.skipped.WithLabelValues("close-2", "outside_close_window")); n != 1 {
		t.Fatalf("close-2 skipped{outside_close_window} = %v", n)
	}
}

// flakyStore fails the next failReads reads (ListSeries and ReadMany) and
// failWrites writes as an unreachable server would, then passes calls to
// the real store.
type flakyStore struct {
	engine.MetricStore
	mu                    sync.Mutex
	failReads, failWrites int
}

var errDown = fmt.Errorf("%w: dial tcp 127.0.0.1:8086: connection refused", engine.ErrUnavailable)

func (f *flakyStore) set(reads, writes int) {
	f.mu.Lock()
	f.failReads, f.failWrites = reads, writes
	f.mu.Unlock()
}

func (f *flakyStore) take(n *int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if *n > 0 {
		*n--
		return true
	}
	return false
}

func (f *flakyStore) ListSeries(ctx context.Context, flt engine.SeriesFilter) ([]engine.SeriesKey, error) {
	if f.take(&f.failReads) {
		return nil, errDown
	}
	return f.MetricStore.ListSeries(ctx, flt)
}

func (f *flakyStore) ReadMany(ctx context.Context, keys []engine.SeriesKey, q engine.RangeQuery) ([]engine.Series, error) {
	if f.take(&f.failReads) {
		return nil, errDown
	}
	return f.MetricStore.ReadMany(ctx, keys, q)
}

func (f *flakyStore) Write(ctx context.Context, points []engine.Point) error {
	if f.take(&f.failWrites) {
		return errDown
	}
	return f.MetricStore.Write(ctx, points)
}

func TestStoreRetriesAndFailedRunKeepsServing(t *testing.T) {
	ctx := context.Background()
	flaky := &flakyStore{MetricStore: demoStore(t)}
	st := sqliteState(t)
	cfg := jobsConfig(diskJob("disk"))
	cfg.StoreRetries = 3
	cfg.RetryBackoff = config.Duration(time.Millisecond)
	now := newClock(end)
	s, _ := newService(t, flaky, st, now, cfg, nil)

	// two failed reads and one failed write: retried, the run succeeds
	flaky.set(2, 1)
	first, err := s.RunNow(ctx, "disk")
	if err != nil {
		t.Fatal(err)
	}
	reads := func() float64 {
		return counter(t, s.metrics.retries.WithLabelValues("list")) + counter(t, s.metrics.retries.WithLabelValues("read"))
	}
	if r, w := reads(), counter(t, s.metrics.retries.WithLabelValues("write")); r != 2 || w != 1 {
		t.Fatalf("retries: list+read %v, write %v; want 2 and 1", r, w)
	}
	served, err := s.Predictions(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// the store stays down longer than the retries: the run fails, the
	// previous predictions stay served, marked stale with the error
	now.Set(end.Add(15 * time.Minute))
	flaky.set(100, 0)
	rec, err := s.RunNow(ctx, "disk")
	if !errors.Is(err, ErrRunFailed) || !strings.Contains(rec.Error, "connection refused") || !strings.Contains(rec.Error, "failed 4 times") {
		t.Fatalf("run against a dead store: %v (record error %q)", err, rec.Error)
	}
	runs := runsOf(t, st, "disk")
	if len(runs) != 2 || runs[0].Error != rec.Error || runs[0].FinishedAt.IsZero() || runs[1].ID != first.ID {
		t.Fatalf("runs %+v", runs)
	}
	if r := reads(); r != 2+3 {
		t.Fatalf("list+read retries %v, want 5", r)
	}
	still, err := s.Predictions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !sameJSON(t, still.Snapshot, served.Snapshot) {
		t.Fatal("a failed run changed the served predictions")
	}
	if still.Version == served.Version {
		t.Fatal("a failed run must change the version (ETag): the freshness changed")
	}
	if f := still.Jobs[0]; !f.Stale || f.LastError != rec.Error || !f.ComputedAt.Equal(end) || f.AgeSeconds != 900 {
		t.Fatalf("freshness after a failed run %+v", f)
	}
	status, _ := s.Get(ctx, "disk")
	if !status.Stale || status.LastRun == nil || status.LastRun.Error == "" || status.LastSuccessAt == nil || !status.LastSuccessAt.Equal(first.FinishedAt) {
		t.Fatalf("status after a failed run %+v", status)
	}
	if n := counter(t, s.metrics.runs.WithLabelValues("disk", "failure")); n != 1 {
		t.Fatalf("runs_total{failure} = %v", n)
	}

	// back up: fresh again, a new version
	flaky.set(0, 0)
	if _, err := s.RunNow(ctx, "disk"); err != nil {
		t.Fatal(err)
	}
	back, err := s.Predictions(ctx)
	if err != nil || back.Version == served.Version || back.Jobs[0].Stale || back.Jobs[0].LastError != "" || !back.Snapshot.ComputedAt.Equal(end.Add(15*time.Minute)) {
		t.Fatalf("after recovery: %v %+v", err, back.Jobs)
	}
}

func TestRetryGivesUpWhenTheTimeoutWouldPass(t *testing.T) {
	ctx := context.Background()
	flaky := &flakyStore{MetricStore: demoStore(t)}
	flaky.set(1, 0)
	cfg := jobsConfig(diskJob("disk"))
	cfg.StoreRetries = 3
	cfg.RetryBackoff = config.Duration(time.Hour) // longer than the job's timeout
	s, _ := newService(t, flaky, sqliteState(t), newClock(end), cfg, nil)
	rec, err := s.RunNow(ctx, "disk")
	if !errors.Is(err, ErrRunFailed) || !strings.Contains(rec.Error, "no time left for another try") {
		t.Fatalf("%v (record error %q)", err, rec.Error)
	}
}

func TestStaleness(t *testing.T) {
	ctx := context.Background()
	now := newClock(end)
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	closeJob := config.JobSpec{Name: "close", Type: TypePredict, Kinds: []string{"monthend"}, Schedule: "5 * * * *", OnlyInCloseWindow: true}
	s, _ := newService(t, demoStore(t), sqliteState(t), now, jobsConfig(diskJob("disk"), closeJob), nil)
	if _, err := s.RunNow(ctx, "disk"); err != nil {
		t.Fatal(err)
	}
	// @every 15m × 2.5 = 37.5 minutes
	for _, tc := range []struct {
		after time.Duration
		stale bool
	}{{0, false}, {37 * time.Minute, false}, {38 * time.Minute, true}, {24 * time.Hour, true}} {
		now.Set(end.Add(tc.after))
		served, err := s.Predictions(ctx)
		if err != nil {
			t.Fatal(err)
		}
		status, err := s.Get(ctx, "disk")
		if err != nil {
			t.Fatal(err)
		}
		if f := served.Jobs[0]; f.Stale != tc.stale || status.Stale != tc.stale || f.AgeSeconds != tc.after.Seconds() {
			t.Errorf("%s after the run: freshness %+v, status stale %v; want stale %v", tc.after, f, status.Stale, tc.stale)
		}
	}
	// a close-window job (hourly): only time inside the window counts
	j := s.byName["close"]
	ran := time.Date(2026, 10, 29, 10, 0, 0, 0, shanghai) // inside October's window
	for _, tc := range []struct {
		at    time.Time
		stale bool
	}{
		{time.Date(2026, 10, 29, 12, 0, 0, 0, shanghai), false}, // 2 h < 2.5 periods
		{time.Date(2026, 10, 29, 13, 0, 0, 0, shanghai), true},  // 3 h
		{time.Date(2026, 11, 3, 9, 0, 0, 0, shanghai), false},   // outside any window
		{time.Date(2026, 11, 26, 1, 0, 0, 0, shanghai), false},  // November's window opened 1 h ago
		{time.Date(2026, 11, 26, 3, 0, 0, 0, shanghai), true},   // … 3 h ago
	} {
		if got := s.stale(j, ran, false, tc.at); got != tc.stale {
			t.Errorf("close job at %s: stale %v, want %v", tc.at, got, tc.stale)
		}
	}
	if !s.stale(j, ran, true, time.Date(2026, 11, 3, 9, 0, 0, 0, shanghai)) {
		t.Error("a failed last run is stale even outside the window")
	}
	if !s.stale(s.byName["disk"], time.Time{}, false, end) {
		t.Error("never computed is stale")
	}
}

func TestStopWaitsThenCancels(t *testing.T) {
	ctx := context.Background()
	gate := &gateStore{MetricStore: demoStore(t), entered: make(chan struct{}, 1), release: make(chan struct{})}
	st := sqliteState(t)
	s, _ := newService(t, gate, st, newClock(end), jobsConfig(diskJob("disk")), nil)
	tr, err := s.Trigger(ctx, "disk", "alice")
	if err != nil {
		t.Fatal(err)
	}
	<-gate.entered
	// Stop's context is over already: the run in progress is cancelled,
	// Stop waits for it to return and reports why it did not wait longer.
	done, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Stop(done); !errors.Is(err, context.Canceled) {
		t.Fatalf("Stop: %v", err)
	}
	runs := runsOf(t, st, "disk")
	if len(runs) != 1 || runs[0].ID != tr.RunID || runs[0].FinishedAt.IsZero() || !strings.Contains(runs[0].Error, "context canceled") {
		t.Fatalf("the cancelled run is recorded as %+v", runs)
	}
	if _, err := s.Trigger(ctx, "disk", "alice"); !errors.Is(err, ErrStopped) {
		t.Fatalf("Trigger after Stop: %v", err)
	}
}

// TestInterruptedRunsAreClosedOnStart: a run whose end was never recorded
// (the process died, or the state database restarted while it finished)
// is closed as interrupted at the next start once it is past its timeout;
// a recent one is left alone.
func TestInterruptedRunsAreClosedOnStart(t *testing.T) {
	ctx := context.Background()
	st := sqliteState(t)
	old, err := st.RecordRunStart(ctx, "disk", time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	recent, err := st.RecordRunStart(ctx, "disk", time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	cfg := jobsConfig(diskJob("disk"))
	cfg.Enabled = false
	s, _ := newService(t, demoStore(t), st, newClock(end), cfg, nil)
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	<-s.caughtUp
	byID := map[int64]state.JobRunRecord{}
	for _, r := range runsOf(t, st, "disk") {
		byID[r.ID] = r
	}
	if r := byID[old]; r.FinishedAt.IsZero() || !strings.HasPrefix(r.Error, "interrupted:") {
		t.Fatalf("old open run %+v", r)
	}
	if r := byID[recent]; !r.FinishedAt.IsZero() {
		t.Fatalf("a run younger than its timeout was closed: %+v", r)
	}
}
