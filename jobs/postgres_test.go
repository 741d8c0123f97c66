package jobs

import (
	"context"
	"testing"
	"time"
)

// TestPostgresStateRunAndRestart runs a predict job with the state in the
// real PostgreSQL: the run is recorded, the snapshot persisted, and a
// second process (a new Service on a new connection pool) serves it.
func TestPostgresStateRunAndRestart(t *testing.T) {
	ctx := context.Background()
	cfg, st := postgresState(t)
	ms := demoStore(t)
	now := newClock(end)
	jobs := jobsConfig(diskJob("disk"), memJob("memory"))
	s, _ := newService(t, ms, st, now, jobs, nil)
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	<-s.caughtUp // both jobs never ran: caught up at once
	for _, name := range []string{"disk", "memory"} {
		runs, err := s.Runs(ctx, name, 10, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) != 1 || runs[0].Error != "" || runs[0].Series == 0 || !runs[0].StartedAt.Equal(end) || runs[0].FinishedAt.IsZero() {
			t.Fatalf("%s runs %+v", name, runs)
		}
	}
	served, err := s.Predictions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(served.Jobs) != 2 || served.Jobs[0].Stale || served.Jobs[1].Stale || len(served.Snapshot.Predictions) == 0 {
		t.Fatalf("served %d predictions, jobs %+v", len(served.Snapshot.Predictions), served.Jobs)
	}
	snap, err := st.GetJobSnapshot(ctx, "disk")
	if err != nil || snap.Version != 1 || !snap.ComputedAt.Equal(end) {
		t.Fatalf("stored snapshot %+v %v", snap, err)
	}

	other := openState(t, cfg)
	now2 := newClock(end.Add(10 * time.Minute))
	s2, _ := newService(t, ms, other, now2, jobs, nil)
	if err := s2.Start(ctx); err != nil {
		t.Fatal(err)
	}
	<-s2.caughtUp // both ran 10 minutes ago: nothing to catch up
	again, err := s2.Predictions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if again.Version != served.Version || !sameJSON(t, again.Snapshot, served.Snapshot) || again.Jobs[0].AgeSeconds != 600 {
		t.Fatalf("the second process serves something else: %+v", again.Jobs)
	}
	all, err := other.ListRuns(ctx, "", 100)
	if err != nil || len(all) != 2 {
		t.Fatalf("%d runs after the second start, want 2 (%v)", len(all), err)
	}
}
