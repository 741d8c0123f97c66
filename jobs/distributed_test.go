package jobs

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/seed-f1b503aa/foresight/config"
	"github.com/seed-f1b503aa/foresight/engine/fleet"
	"github.com/seed-f1b503aa/foresight/storage/state"
)

func TestLastActivation(t *testing.T) {
	at := time.Date(2026, 3, 4, 10, 17, 0, 3000, time.UTC)
	for _, c := range []struct {
		spec string
		want time.Time
	}{
		{"*/15 * * * *", time.Date(2026, 3, 4, 10, 15, 0, 0, time.UTC)},
		{"@hourly", time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)},
		{"10 0 * * *", time.Date(2026, 3, 4, 0, 10, 0, 0, time.UTC)},
		{"@every 30m", time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)},
	} {
		s, err := ParseSchedule(c.spec, "")
		if err != nil {
			t.Fatal(err)
		}
		if got := lastActivation(s, at); !got.Equal(c.want) {
			t.Errorf("%s: %s, want %s", c.spec, got, c.want)
		}
		// replicas a few seconds apart agree
		if got := lastActivation(s, at.Add(7*time.Second)); !got.Equal(c.want) {
			t.Errorf("%s +7s: %s, want %s", c.spec, got, c.want)
		}
	}
}

func TestDistributedNeedsPostgresAndWorkers(t *testing.T) {
	cfg := jobsConfig(diskJob("disk"))
	cfg.Distributed.Enabled = true
	_, err := New(Options{Store: demoStore(t), State: sqliteState(t), Config: cfg, Dispatcher: NewDispatcher()})
	if err == nil || !strings.Contains(err.Error(), "postgres") {
		t.Fatalf("sqlite state: %v", err)
	}
	_, err = New(Options{Store: demoStore(t), State: sqliteState(t), Config: cfg})
	if err == nil || !strings.Contains(err.Error(), "Dispatcher") {
		t.Fatalf("no dispatcher: %v", err)
	}
}

// TestDistributedRunMatchesLocal runs two "replicas" (two Services, each
// with its own River runner) on one PostgreSQL state schema and one store:
// a tick of each for the same activation makes one run; the merged snapshot
// has the predictions of a local run, each once; the ticket hook runs once;
// a forecast job completes too.
func TestDistributedRunMatchesLocal(t *testing.T) {
	_, st := postgresState(t)
	ms := demoStore(t)
	now := newClock(end)
	cfg := jobsConfig(diskJob("disk"), memJob("memory"), cpuForecastJob("cpu", "snaive"))
	cfg.Distributed = config.DistributedConfig{Enabled: true, BatchSize: 2}
	var hooks atomic.Int32
	var services []*Service
	for range 2 {
		d := NewDispatcher()
		w := river.NewWorkers()
		d.Register(w)
		runner, err := st.NewRunner(state.RunnerConfig{Workers: w, Queues: map[string]river.QueueConfig{QueueJobs: {MaxWorkers: 2}},
			FetchPollInterval: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		s, _ := newService(t, ms, st, now, cfg, func(o *Options) {
			o.Dispatcher = d
			o.After = func(context.Context, string, fleet.Snapshot) { hooks.Add(1) }
		})
		if err := runner.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_ = runner.Stop(ctx)
		})
		services = append(services, s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// both replicas tick for the same activation: one run
	for _, s := range services {
		s.dispatch(s.byName["disk"], "schedule")
	}
	if runs := runsOf(t, st, "disk"); len(runs) != 1 {
		t.Fatalf("%d disk runs after two ticks, want 1", len(runs))
	}
	id := runsOf(t, st, "disk")[0].ID
	if _, err := services[1].waitRun(ctx, services[1].byName["disk"], id); err != nil {
		t.Fatal(err)
	}
	// a late replica ticking for the same activation after the run
	// finished: the unique run job is still there, no second run
	services[1].dispatch(services[1].byName["disk"], "schedule")
	if runs := runsOf(t, st, "disk"); len(runs) != 1 {
		t.Fatalf("%d disk runs after a late tick, want 1", len(runs))
	}
	for _, name := range []string{"memory", "cpu"} {
		if rec, err := services[0].RunNow(ctx, name); err != nil {
			t.Fatalf("%s: %v (%+v)", name, err, rec)
		}
	}
	if n := hooks.Load(); n != 2 {
		t.Errorf("the ticket hook ran %d times, want 2 (disk, memory)", n)
	}
	for _, name := range []string{"disk", "memory"} {
		snap, err := st.GetJobSnapshot(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		var got fleet.Snapshot
		if err := json.Unmarshal(snap.Payload, &got); err != nil {
			t.Fatal(err)
		}
		kinds := services[0].byName[name].kinds
		want, err := (&fleet.Runner{Store: ms, Rules: fleet.DefaultRules(), Kinds: kinds}).Run(ctx, got.ComputedAt)
		if err != nil {
			t.Fatal(err)
		}
		ids := func(s fleet.Snapshot) []string {
			var out []string
			for _, p := range s.Predictions {
				out = append(out, p.ID+" "+p.Status)
			}
			slices.Sort(out)
			return out
		}
		if g, w := ids(got), ids(want); len(w) == 0 || !slices.Equal(g, w) {
			t.Errorf("%s: distributed %v\nlocal %v", name, g, w)
		}
	}
	cpu := runsOf(t, st, "cpu")
	if len(cpu) != 1 || cpu[0].Error != "" || cpu[0].Series == 0 {
		t.Fatalf("cpu runs %+v", cpu)
	}
	// the served predictions merge both predict jobs
	services[1].served.invalidate()
	sv, err := services[1].Predictions(ctx)
	if err != nil || len(sv.Snapshot.Predictions) == 0 {
		t.Fatalf("served: %d predictions, %v", len(sv.Snapshot.Predictions), err)
	}
}
