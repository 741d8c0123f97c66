package incident

import (
	"context"
	"maps"
	"path/filepath"
	"testing"
	"time"

	"github.com/seed-f1b503aa/foresight/datasets"
	"github.com/seed-f1b503aa/foresight/engine"
	"github.com/seed-f1b503aa/foresight/engine/fleet"
	"github.com/seed-f1b503aa/foresight/engine/ticket"
	"github.com/seed-f1b503aa/foresight/notify"
	"github.com/seed-f1b503aa/foresight/storage/embedded"
	"github.com/seed-f1b503aa/foresight/storage/state"
)

// TestDemoFleetTicketsUpdateAndAutoResolve runs the real predictors over a
// demo fleet in the embedded store and the ticket rules over their
// answers: the first run opens one ticket per at-risk entity, the next run
// opens none, and after a simulated cleanup of one volume its ticket
// auto-resolves once the disk has been seen clear for the policy's runs.
func TestDemoFleetTicketsUpdateAndAutoResolve(t *testing.T) {
	ctx := context.Background()
	end := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	fl, err := datasets.GenerateFleet(datasets.FleetConfig{Hosts: 3, Days: 40, Step: 15 * time.Minute, Seed: 7, End: end})
	if err != nil {
		t.Fatal(err)
	}
	ms, err := embedded.Open(t.TempDir(), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ms.Close()
	var batch []engine.Point
	if err := fl.Each(func(p engine.Point) error {
		p.Fields = maps.Clone(p.Fields)
		batch = append(batch, p)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := ms.Backfill(ctx, batch); err != nil {
		t.Fatal(err)
	}
	st, err := state.Open(ctx, state.Config{Driver: "sqlite", Path: filepath.Join(t.TempDir(), "s.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(ctx)
	router, err := notify.NewRouter(notify.Config{})
	if err != nil {
		t.Fatal(err)
	}
	policy := ticket.DefaultPolicy()
	policy.ClearFor = 0 // the runs here are minutes apart
	policy.Kinds.Disk.MinorWithin = 60 * 24 * time.Hour
	policy.Kinds.MemLeak.MinorWithin = 60 * 24 * time.Hour
	svc := &Service{Store: st, Policy: policy, Targets: router}
	runner := &fleet.Runner{Store: ms, Rules: fleet.DefaultRules()}
	run := func(now time.Time) Summary {
		t.Helper()
		snap, err := runner.Run(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		sum, err := svc.Process(ctx, snap, now)
		if err != nil {
			t.Fatal(err)
		}
		return sum
	}
	first := run(end)
	if first.Opened == 0 {
		t.Fatal("no ticket opened for the demo fleet")
	}
	tickets, err := st.ListTickets(ctx, state.TicketFilter{Limit: 1000})
	if err != nil || len(tickets) != first.Opened {
		t.Fatalf("%d tickets, %d opened, %v", len(tickets), first.Opened, err)
	}
	if second := run(end.Add(15 * time.Minute)); second.Opened != 0 {
		t.Fatalf("the second run opened %d more tickets", second.Opened)
	}
	// pick a disk ticket and clean its volume: usage drops to 30% and stays flat
	var disk ticket.Ticket
	var rowID int64
	for _, r := range tickets {
		tk, err := FromRecord(r)
		if err != nil {
			t.Fatal(err)
		}
		if tk.Kind == fleet.KindDisk {
			disk, rowID = tk, r.ID
			break
		}
	}
	if rowID == 0 {
		t.Fatal("no disk ticket")
	}
	total := 500.0 * (1 << 30)
	if tr, ok := fl.GroundTruth()[engine.SeriesKey{Measurement: "disk", Field: "used", Tags: disk.Entity}.ID()]; ok && tr.Capacity != nil {
		total = *tr.Capacity
	}
	var cleanup []engine.Point
	for ts := end; ts.Before(end.Add(4 * 24 * time.Hour)); ts = ts.Add(15 * time.Minute) {
		cleanup = append(cleanup, engine.Point{Measurement: "disk", Tags: disk.Entity, Time: ts,
			Fields: map[string]float64{"used": 0.3*total + float64(ts.Unix()%7)*1e6, "total": total}})
	}
	if err := ms.Write(ctx, cleanup); err != nil {
		t.Fatal(err)
	}
	var got ticket.Ticket
	for i := 0; i < 6; i++ {
		run(end.Add(4*24*time.Hour + time.Duration(i)*15*time.Minute))
		rec, err := st.GetTicket(ctx, rowID)
		if err != nil {
			t.Fatal(err)
		}
		if got, err = FromRecord(rec); err != nil {
			t.Fatal(err)
		}
		if got.State == ticket.StateAutoResolved {
			break
		}
	}
	if got.State != ticket.StateAutoResolved {
		t.Fatalf("cleaned disk %v: ticket still %s (clear streak %d)", disk.Entity, got.State, got.ClearStreak)
	}
	after, _ := st.ListTickets(ctx, state.TicketFilter{Limit: 1000})
	fps := map[string]bool{}
	for _, r := range after {
		if fps[r.Fingerprint] {
			t.Fatalf("duplicate ticket for %s", r.Fingerprint)
		}
		fps[r.Fingerprint] = true
	}
}
