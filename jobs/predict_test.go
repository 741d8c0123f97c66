package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/seed-f1b503aa/foresight/engine"
	"github.com/seed-f1b503aa/foresight/engine/fleet"
	"github.com/seed-f1b503aa/foresight/storage/state"
)

// readPredictionPoints reads back every foresight_prediction series of the
// store around at, by prediction_id: the field values at at, and the tags.
func readPredictionPoints(t *testing.T, ms engine.MetricStore, at time.Time) (map[string]map[string]float64, map[string]map[string]string) {
	t.Helper()
	ctx := context.Background()
	keys, err := ms.ListSeries(ctx, engine.SeriesFilter{Measurement: "foresight_prediction", Start: at.Add(-time.Hour), End: at.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	series, err := ms.ReadMany(ctx, keys, engine.RangeQuery{Start: at.Add(-time.Hour), End: at.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string]map[string]float64{}
	tags := map[string]map[string]string{}
	for _, s := range series {
		id := s.Key.Tags[TagPredictionID]
		if fields[id] == nil {
			fields[id] = map[string]float64{}
			tags[id] = s.Key.Tags
		} else if fmt.Sprint(tags[id]) != fmt.Sprint(s.Key.Tags) {
			t.Errorf("%s: fields with different tags: %v and %v", id, tags[id], s.Key.Tags)
		}
		if len(s.Samples) != 1 || !s.Samples[0].Time.Equal(at) {
			t.Fatalf("%s: samples %v, want one at %s", s.Key.ID(), s.Samples, at)
		}
		fields[id][s.Key.Field] = s.Samples[0].Value
	}
	return fields, tags
}

func TestPredictRunRecordsWritesBackAndServes(t *testing.T) {
	ctx := context.Background()
	ms := demoStore(t)
	st := sqliteState(t)
	now := newClock(end)
	var mu sync.Mutex
	var after []fleet.Snapshot
	s, reg := newService(t, ms, st, now, jobsConfig(diskJob("disk-15m"), memJob("memory")), func(o *Options) {
		o.After = func(_ context.Context, job string, snap fleet.Snapshot) {
			mu.Lock()
			defer mu.Unlock()
			if job == "disk-15m" {
				after = append(after, snap)
			}
		}
	})
	if _, err := s.Predictions(ctx); !errors.Is(err, fleet.ErrNoSnapshot) {
		t.Fatalf("before any run: %v, want ErrNoSnapshot", err)
	}
	rec, err := s.RunNow(ctx, "disk-15m")
	if err != nil {
		t.Fatal(err)
	}
	// the recorded run
	runs := runsOf(t, st, "disk-15m")
	if len(runs) != 1 || runs[0].ID != rec.ID || !runs[0].StartedAt.Equal(end) || runs[0].FinishedAt.Before(end) ||
		runs[0].Series != rec.Series || runs[0].Failures != 0 || runs[0].Error != "" {
		t.Fatalf("recorded runs %+v, returned %+v", runs, rec)
	}
	// the snapshot the ticket rules got: disk predictions only
	if len(after) != 1 {
		t.Fatalf("After called %d times", len(after))
	}
	snap := after[0]
	if !snap.ComputedAt.Equal(end) || len(snap.Predictions) != rec.Series || rec.Series < 6 {
		t.Fatalf("snapshot at %s with %d predictions, run series %d", snap.ComputedAt, len(snap.Predictions), rec.Series)
	}
	atRisk := 0
	for _, p := range snap.Predictions {
		if p.Kind != fleet.KindDisk {
			t.Fatalf("a %s prediction in a disk job", p.Kind)
		}
		if p.AtRisk {
			atRisk++
		}
	}
	if atRisk == 0 {
		t.Fatal("no disk at risk in the demo fleet")
	}

	// written back: one point per prediction with the right tags and values
	got, gotTags := readPredictionPoints(t, ms, end)
	if len(got) != len(snap.Predictions) {
		t.Fatalf("%d predictions written back, want %d", len(got), len(snap.Predictions))
	}
	breaches := 0
	for _, p := range snap.Predictions {
		f := got[p.ID]
		if f == nil {
			t.Fatalf("%s not written back", p.ID)
		}
		want := map[string]float64{"at_risk": 0, "confidence": p.Confidence}
		if p.AtRisk {
			want["at_risk"] = 1
		}
		if p.BreachAt != nil {
			breaches++
			want["breach_in_hours"] = p.BreachAt.Sub(end).Hours()
			want["breach_p10_hours"] = p.BreachP10.Sub(end).Hours()
			want["breach_p90_hours"] = p.BreachP90.Sub(end).Hours()
		}
		for k := range want {
			if f[k] != want[k] {
				t.Errorf("%s: %s = %v, want %v", p.ID, k, f[k], want[k])
			}
		}
		for k := range f {
			if _, ok := want[k]; !ok {
				t.Errorf("%s: unexpected field %s", p.ID, k)
			}
		}
		wantTags := map[string]string{"kind": "disk", "job": "disk-15m", "prediction_id": p.ID, "status": p.Status,
			"host": p.Entity["host"], "path": p.Entity["path"]}
		if fmt.Sprint(gotTags[p.ID]) != fmt.Sprint(wantTags) {
			t.Errorf("%s: tags %v, want %v", p.ID, gotTags[p.ID], wantTags)
		}
	}
	if breaches == 0 {
		t.Fatal("no breach time written back")
	}
	// served: the persisted snapshot, equal to what the run produced
	served, err := s.Predictions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !sameJSON(t, served.Snapshot.Predictions, snap.Predictions) {
		t.Fatal("served predictions differ from the run's")
	}
	if served.Version == "" || len(served.Jobs) != 2 {
		t.Fatalf("served %+v", served.Jobs)
	}
	disk, mem := served.Jobs[0], served.Jobs[1]
	if disk.Job != "disk-15m" || !disk.ComputedAt.Equal(end) || disk.AgeSeconds != 0 || disk.Stale || disk.LastError != "" {
		t.Errorf("disk freshness %+v", disk)
	}
	if mem.Job != "memory" || !mem.ComputedAt.IsZero() || !mem.Stale {
		t.Errorf("memory freshness %+v (never ran: stale)", mem)
	}
	// the second predict job merges in; the version changes
	if _, err := s.RunNow(ctx, "memory"); err != nil {
		t.Fatal(err)
	}
	served2, err := s.Predictions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[fleet.Kind]int{}
	for _, p := range served2.Snapshot.Predictions {
		kinds[p.Kind]++
	}
	if kinds[fleet.KindDisk] != len(snap.Predictions) || kinds[fleet.KindMemLeak] == 0 || served2.Version == served.Version || served2.Jobs[1].Stale {
		t.Fatalf("after the memory run: kinds %v, versions %s %s, jobs %+v", kinds, served.Version, served2.Version, served2.Jobs)
	}
	for i := 1; i < len(served2.Snapshot.Predictions); i++ {
		a, b := served2.Snapshot.Predictions[i-1], served2.Snapshot.Predictions[i]
		if fleet.CompareUrgency(a, b) > 0 {
			t.Fatalf("not sorted by urgency at %d: %s after %s", i, b.ID, a.ID)
		}
	}
	// nothing changed: same version, the cache answers
	served3, err := s.Predictions(ctx)
	if err != nil || served3.Version != served2.Version {
		t.Fatalf("unchanged: %v %s %s", err, served3.Version, served2.Version)
	}
	if n := counter(t, s.metrics.runs.WithLabelValues("disk-15m", "success")); n != 1 {
		t.Errorf("runs_total{disk-15m,success} = %v", n)
	}
	if n := counter(t, s.metrics.points.WithLabelValues("disk-15m", "foresight_prediction")); int(n) != len(snap.Predictions) {
		t.Errorf("writeback points = %v, want %d", n, len(snap.Predictions))
	}
	if mfs, err := reg.Gather(); err != nil || len(mfs) == 0 {
		t.Errorf("registry: %d families, %v", len(mfs), err)
	}

	// restart: a new service on the same state database serves the
	// persisted predictions at once, without running anything
	s2, _ := newService(t, ms, st, now, jobsConfig(diskJob("disk-15m"), memJob("memory")), nil)
	restarted, err := s2.Predictions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !sameJSON(t, restarted.Snapshot, served2.Snapshot) || restarted.Version != served2.Version {
		t.Fatalf("restarted server serves something else (version %s vs %s)", restarted.Version, served2.Version)
	}
	if n := len(runsOf(t, st, "")); n != 2 {
		t.Fatalf("%d runs recorded, want 2", n)
	}
}

// TestPerKindSnapshotsLeaveOtherTickets checks that feeding the ticket
// rules one job's (one kind's) snapshot leaves the tickets of the other
// kinds untouched: an entity absent from a snapshot is not "clear".
func TestPerKindSnapshotsLeaveOtherTickets(t *testing.T) {
	ctx := context.Background()
	ms := demoStore(t)
	st := sqliteState(t)
	inc := newIncidents(t, st)
	s, _ := newService(t, ms, st, newClock(end), jobsConfig(diskJob("disk"), memJob("memory")), func(o *Options) {
		o.After = func(ctx context.Context, job string, snap fleet.Snapshot) {
			if _, err := inc.Process(ctx, snap, snap.ComputedAt); err != nil {
				t.Errorf("ticket rules after %s: %v", job, err)
			}
		}
	})
	if _, err := s.RunNow(ctx, "disk"); err != nil {
		t.Fatal(err)
	}
	before, err := st.ListTickets(ctx, state.TicketFilter{Kinds: []string{"disk"}, Limit: 1000, Sort: "id"})
	if err != nil {
		t.Fatal(err)
	}
	if len(before) == 0 {
		t.Fatal("the disk run opened no ticket")
	}
	// memory runs (a snapshot without any disk entity), three times: more
	// than the clear_runs that would auto-resolve a cleared ticket
	for range 3 {
		if _, err := s.RunNow(ctx, "memory"); err != nil {
			t.Fatal(err)
		}
	}
	after, err := st.ListTickets(ctx, state.TicketFilter{Kinds: []string{"disk"}, Limit: 1000, Sort: "id"})
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Fatalf("%d disk tickets before, %d after", len(before), len(after))
	}
	for i := range before {
		b, a := before[i], after[i]
		if a.ID != b.ID || a.Version != b.Version || a.State != b.State || a.ClearStreak != b.ClearStreak || !a.UpdatedAt.Equal(b.UpdatedAt) {
			t.Errorf("disk ticket changed by memory runs:\n before %+v\n after  %+v", b, a)
		}
	}
	mem, err := st.ListTickets(ctx, state.TicketFilter{Kinds: []string{"memleak"}, Limit: 1000})
	if err != nil || len(mem) == 0 {
		t.Fatalf("memory runs opened no memleak ticket: %v", err)
	}
}

// sameJSON reports whether a and b encode to the same JSON value (object
// key order aside: a stored snapshot's details come back as maps).
func sameJSON(t *testing.T, a, b any) bool {
	t.Helper()
	var x, y any
	for _, c := range []struct {
		v   any
		out *any
	}{{a, &x}, {b, &y}} {
		raw, err := json.Marshal(c.v)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, c.out); err != nil {
			t.Fatal(err)
		}
	}
	if !reflect.DeepEqual(x, y) {
		ja, _ := json.Marshal(x)
		jb, _ := json.Marshal(y)
		t.Logf("JSON differs:\n%.600s\n%.600s", ja, jb)
		return false
	}
	return true
}
