package state_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/seed-f1b503aa/foresight/storage/state"
)

var t0 = time.Date(2026, 3, 30, 14, 0, 0, 123456789, time.UTC)

func ticket(fp, kind, sev string, entity string, at time.Time) state.TicketRecord {
	return state.TicketRecord{
		Fingerprint: fp, Kind: kind, EntityJSON: json.RawMessage(entity), State: "reported", Severity: sev,
		Title: "Disk full soon on " + fp, Summary: "at the current rate", BodyJSON: json.RawMessage(`{"evidence":[1,2,3]}`),
		BreachAt: at.Add(20 * time.Hour), OpenedAt: at, UpdatedAt: at, AssignmentGroup: "dba",
		RespondBy: at.Add(30 * time.Minute), ResolveBy: at.Add(4 * time.Hour),
	}
}

func insert(t *testing.T, s *state.Store, rec *state.TicketRecord) {
	t.Helper()
	if err := s.InTx(context.Background(), func(tx *state.Tx) error { return tx.InsertTicket(context.Background(), rec) }); err != nil {
		t.Fatalf("insert %s: %v", rec.Fingerprint, err)
	}
}

func jsonEqual(t *testing.T, what string, got, want json.RawMessage) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: %v (%s)", what, err, got)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(g) != fmt.Sprint(w) {
		t.Errorf("%s = %s, want %s", what, got, want)
	}
}

// sameTicket compares two records, JSON by value.
func sameTicket(t *testing.T, got, want state.TicketRecord) {
	t.Helper()
	jsonEqual(t, "EntityJSON", got.EntityJSON, want.EntityJSON)
	if len(want.BodyJSON) > 0 || len(got.BodyJSON) > 0 {
		jsonEqual(t, "BodyJSON", got.BodyJSON, want.BodyJSON)
	}
	got.EntityJSON, want.EntityJSON, got.BodyJSON, want.BodyJSON = nil, nil, nil, nil
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Errorf("ticket differs:\n got  %+v\n want %+v", got, want)
	}
}

func TestMigrationsIdempotent(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		cfg := b.config(t)
		want, err := state.Migrations(cfg.Driver)
		if err != nil || len(want) == 0 {
			t.Fatalf("Migrations: %v, %d", err, len(want))
		}
		// Two processes starting at once on an empty database.
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range errs {
			wg.Go(func() {
				s, err := state.Open(ctx, cfg)
				if err == nil {
					err = s.Close(ctx)
				}
				errs[i] = err
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("concurrent Open %d: %v", i, err)
			}
		}
		s1 := open(t, cfg)
		first, err := s1.AppliedMigrations(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(first) != len(want) {
			t.Fatalf("applied %d migrations, want %d", len(first), len(want))
		}
		for i, m := range first {
			if m.Version != want[i].Version || m.Name != want[i].Name || m.AppliedAt.IsZero() {
				t.Errorf("migration %d = %+v, want version %d %s", i, m, want[i].Version, want[i].Name)
			}
		}
		rec := ticket("fp-1", "disk_full", "major", `{"host":"db-01"}`, t0)
		insert(t, s1, &rec)
		if err := s1.Close(ctx); err != nil {
			t.Fatal(err)
		}
		// Open again: nothing is re-applied and the data survives.
		s2 := open(t, cfg)
		again, err := s2.AppliedMigrations(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(again) != fmt.Sprint(first) {
			t.Errorf("second Open changed schema_migrations:\n%v\n%v", first, again)
		}
		got, err := s2.GetTicket(ctx, rec.ID)
		if err != nil {
			t.Fatal(err)
		}
		sameTicket(t, got, rec)
	})
}

func TestTicketsInsertGetList(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := open(t, b.config(t))

		recs := []state.TicketRecord{
			ticket("disk|db-01|/data", "disk_full", "critical", `{"host":"db-01","path":"/data"}`, t0),
			ticket("disk|db-02|/data", "disk_full", "minor", `{"host":"db-02","path":"/data"}`, t0.Add(time.Minute)),
			ticket("leak|app-01|gl", "memory_leak", "major", `{"host":"app-01","service":"gl"}`, t0.Add(2*time.Minute)),
			ticket("close|erp", "month_end", "minor", `{"system":"erp"}`, t0.Add(3*time.Minute)),
		}
		recs[1].State = "assigned"
		recs[3].BreachAt = time.Time{} // stored as NULL
		recs[3].BodyJSON = nil
		for i := range recs {
			insert(t, s, &recs[i])
			if recs[i].ID == 0 || recs[i].Version != 1 {
				t.Fatalf("after insert: id %d version %d", recs[i].ID, recs[i].Version)
			}
		}
		// The record after insert equals what a read returns (UTC, µs).
		for _, want := range recs {
			got, err := s.GetTicket(ctx, want.ID)
			if err != nil {
				t.Fatal(err)
			}
			sameTicket(t, got, want)
			if got.OpenedAt.Nanosecond()%1000 != 0 || got.OpenedAt.Location() != time.UTC {
				t.Errorf("OpenedAt %v: want UTC at µs precision", got.OpenedAt)
			}
		}
		if _, err := s.GetTicket(ctx, 999999); !errors.Is(err, state.ErrNotFound) {
			t.Errorf("GetTicket(missing) = %v, want ErrNotFound", err)
		}

		ids := func(ts []state.TicketRecord) string {
			var out []int64
			for _, r := range ts {
				out = append(out, r.ID)
			}
			return fmt.Sprint(out)
		}
		idsOf := func(is ...int) string {
			var out []int64
			for _, i := range is {
				out = append(out, recs[i].ID)
			}
			return fmt.Sprint(out)
		}
		for _, c := range []struct {
			name string
			f    state.TicketFilter
			want string
		}{
			{"all, newest change first", state.TicketFilter{}, idsOf(3, 2, 1, 0)},
			{"state", state.TicketFilter{States: []string{"assigned"}}, idsOf(1)},
			{"kind", state.TicketFilter{Kinds: []string{"disk_full"}, Sort: "id"}, idsOf(0, 1)},
			{"severity", state.TicketFilter{Severities: []string{"minor", "major"}, Sort: "opened_at"}, idsOf(1, 2, 3)},
			{"entity tag", state.TicketFilter{EntityTags: map[string]string{"path": "/data", "host": "db-02"}}, idsOf(1)},
			{"entity tag, no match", state.TicketFilter{EntityTags: map[string]string{"host": "nope"}}, "[]"},
			{"fingerprint", state.TicketFilter{Fingerprint: "leak|app-01|gl"}, idsOf(2)},
			{"breach asc, null last", state.TicketFilter{Sort: "breach_at"}, idsOf(0, 1, 2, 3)},
			{"breach desc, null last", state.TicketFilter{Sort: "-breach_at"}, idsOf(2, 1, 0, 3)},
			{"limit/offset", state.TicketFilter{Sort: "id", Limit: 2, Offset: 1}, idsOf(1, 2)},
		} {
			got, err := s.ListTickets(ctx, c.f)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if ids(got) != c.want {
				t.Errorf("%s: got %s, want %s", c.name, ids(got), c.want)
			}
		}
		if _, err := s.ListTickets(ctx, state.TicketFilter{Sort: "title; DROP TABLE tickets"}); err == nil {
			t.Error("ListTickets accepted an unknown sort column")
		}

		// ListRecentByFingerprint: only tickets changed inside the window.
		err := s.InTx(ctx, func(tx *state.Tx) error {
			got, err := tx.ListRecentByFingerprint(ctx, "disk|db-01|/data", t0.Add(-time.Hour))
			if err != nil {
				return err
			}
			if len(got) != 1 || got[0].ID != recs[0].ID {
				t.Errorf("recent within window = %v", got)
			}
			got, err = tx.ListRecentByFingerprint(ctx, "disk|db-01|/data", t0.Add(time.Hour))
			if err != nil {
				return err
			}
			if len(got) != 0 {
				t.Errorf("recent outside window = %v", got)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

func TestUniqueOpenFingerprint(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := open(t, b.config(t))
		first := ticket("disk|db-01|/data", "disk_full", "major", `{"host":"db-01"}`, t0)
		insert(t, s, &first)

		second := ticket("disk|db-01|/data", "disk_full", "critical", `{"host":"db-01"}`, t0.Add(time.Hour))
		err := s.InTx(ctx, func(tx *state.Tx) error { return tx.InsertTicket(ctx, &second) })
		if !errors.Is(err, state.ErrDuplicateOpen) {
			t.Fatalf("second open ticket: %v, want ErrDuplicateOpen", err)
		}
		// Both "replicas" racing: exactly one wins.
		var wg sync.WaitGroup
		results := make([]error, 4)
		for i := range results {
			wg.Go(func() {
				rec := ticket("leak|app-01", "memory_leak", "minor", `{"host":"app-01"}`, t0)
				results[i] = s.InTx(ctx, func(tx *state.Tx) error { return tx.InsertTicket(ctx, &rec) })
			})
		}
		wg.Wait()
		won := 0
		for _, err := range results {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, state.ErrDuplicateOpen):
				t.Errorf("racing insert: %v", err)
			}
		}
		if won != 1 {
			t.Errorf("%d racing inserts succeeded, want 1", won)
		}

		// Closing the first frees the fingerprint.
		err = s.InTx(ctx, func(tx *state.Tx) error {
			cur, err := tx.GetOpenByFingerprint(ctx, first.Fingerprint)
			if err != nil {
				return err
			}
			cur.State, cur.ClosedAt, cur.UpdatedAt = state.StateClosed, t0.Add(2*time.Hour), t0.Add(2*time.Hour)
			if err := tx.UpdateTicket(ctx, &cur, cur.Version); err != nil {
				return err
			}
			if _, err := tx.GetOpenByFingerprint(ctx, first.Fingerprint); !errors.Is(err, state.ErrNotFound) {
				t.Errorf("GetOpenByFingerprint after close = %v, want ErrNotFound", err)
			}
			return tx.InsertTicket(ctx, &second)
		})
		if err != nil {
			t.Fatalf("close and open anew: %v", err)
		}
		// Reopening the closed one while the new one is open is refused.
		err = s.InTx(ctx, func(tx *state.Tx) error {
			old, err := tx.GetTicket(ctx, first.ID)
			if err != nil {
				return err
			}
			old.State = "reopened"
			return tx.UpdateTicket(ctx, &old, old.Version)
		})
		if !errors.Is(err, state.ErrDuplicateOpen) {
			t.Fatalf("reopen beside an open ticket: %v, want ErrDuplicateOpen", err)
		}
		var holder state.TicketRecord
		err = s.InTx(ctx, func(tx *state.Tx) (err error) {
			holder, err = tx.GetOpenByFingerprint(ctx, first.Fingerprint)
			return err
		})
		if err != nil || holder.ID != second.ID {
			t.Errorf("open ticket = %d, %v; want %d", holder.ID, err, second.ID)
		}
	})
}

func TestOptimisticConcurrency(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := open(t, b.config(t))
		rec := ticket("disk|db-01|/data", "disk_full", "minor", `{"host":"db-01"}`, t0)
		insert(t, s, &rec)

		// Two writers read version 1; the first update wins.
		a, bb := rec, rec
		a.Severity, a.UpdatedAt = "major", t0.Add(time.Minute)
		if err := s.InTx(ctx, func(tx *state.Tx) error { return tx.UpdateTicket(ctx, &a, 1) }); err != nil {
			t.Fatal(err)
		}
		if a.Version != 2 {
			t.Errorf("version after update = %d, want 2", a.Version)
		}
		bb.Severity = "critical"
		err := s.InTx(ctx, func(tx *state.Tx) error { return tx.UpdateTicket(ctx, &bb, 1) })
		if !errors.Is(err, state.ErrConflict) {
			t.Fatalf("stale update: %v, want ErrConflict", err)
		}
		got, err := s.GetTicket(ctx, rec.ID)
		if err != nil {
			t.Fatal(err)
		}
		sameTicket(t, got, a)
		missing := rec
		missing.ID = 424242
		err = s.InTx(ctx, func(tx *state.Tx) error { return tx.UpdateTicket(ctx, &missing, 1) })
		if !errors.Is(err, state.ErrNotFound) {
			t.Fatalf("update of a missing ticket: %v, want ErrNotFound", err)
		}
		// A failed transaction leaves nothing behind.
		boom := errors.New("boom")
		err = s.InTx(ctx, func(tx *state.Tx) error {
			c := got
			c.Title = "changed"
			if err := tx.UpdateTicket(ctx, &c, c.Version); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx = %v, want boom", err)
		}
		after, err := s.GetTicket(ctx, rec.ID)
		if err != nil {
			t.Fatal(err)
		}
		sameTicket(t, after, got)
	})
}

func TestAuditHistory(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := open(t, b.config(t))
		r1 := ticket("disk|db-01|/data", "disk_full", "minor", `{"host":"db-01"}`, t0)
		r2 := ticket("disk|db-02|/data", "disk_full", "minor", `{"host":"db-02"}`, t0)
		insert(t, s, &r1)
		insert(t, s, &r2)
		entries := []state.AuditRecord{
			{TicketID: r1.ID, Version: 1, At: t0, Actor: "engine", Action: "open", To: "reported", Reason: "disk full in 20h"},
			{TicketID: r2.ID, Version: 1, At: t0.Add(time.Second), Actor: "engine", Action: "open", To: "reported"},
			{TicketID: r1.ID, Version: 2, At: t0.Add(time.Minute), Actor: "alice", Action: "transition", From: "reported", To: "assigned",
				Reason: "on it", DetailsJSON: json.RawMessage(`{"via":"api"}`)},
			// Same instant as the previous one: the id keeps the order.
			{TicketID: r1.ID, Version: 3, At: t0.Add(time.Minute), Actor: "engine", Action: "escalate", Reason: "breach nearer"},
		}
		err := s.InTx(ctx, func(tx *state.Tx) error {
			for i := range entries {
				if err := tx.AppendAudit(ctx, &entries[i]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		hist, err := s.TicketHistory(ctx, r1.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := []state.AuditRecord{entries[0], entries[2], entries[3]}
		if len(hist) != len(want) {
			t.Fatalf("history has %d entries, want %d: %+v", len(hist), len(want), hist)
		}
		for i := range want {
			if len(want[i].DetailsJSON) > 0 {
				jsonEqual(t, "DetailsJSON", hist[i].DetailsJSON, want[i].DetailsJSON)
			}
			hist[i].DetailsJSON, want[i].DetailsJSON = nil, nil
			if fmt.Sprintf("%+v", hist[i]) != fmt.Sprintf("%+v", want[i]) {
				t.Errorf("history[%d] = %+v, want %+v", i, hist[i], want[i])
			}
		}
		since, err := s.ListAudit(ctx, t0.Add(time.Second), 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(since) != 3 || since[0].ID != entries[1].ID || since[2].ID != entries[3].ID {
			t.Errorf("ListAudit(since) = %+v", since)
		}
		if lim, err := s.ListAudit(ctx, time.Time{}, 2); err != nil || len(lim) != 2 || lim[0].ID != entries[0].ID {
			t.Errorf("ListAudit(limit 2) = %+v, %v", lim, err)
		}
		// An entry for a ticket that does not exist is refused (foreign key).
		err = s.InTx(ctx, func(tx *state.Tx) error {
			return tx.AppendAudit(ctx, &state.AuditRecord{TicketID: 777777, Version: 1, Actor: "x", Action: "y"})
		})
		if err == nil {
			t.Error("audit entry for a missing ticket was accepted")
		}
		n, err := s.PurgeAudit(ctx, t0.Add(30*time.Second))
		if err != nil || n != 2 {
			t.Errorf("PurgeAudit = %d, %v; want 2", n, err)
		}
	})
}

func TestJobRuns(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := open(t, b.config(t))
		id1, err := s.RecordRunStart(ctx, "predict", t0)
		if err != nil {
			t.Fatal(err)
		}
		id2, err := s.RecordRunStart(ctx, "predict", t0.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		id3, err := s.RecordRunStart(ctx, "cleanup", t0.Add(2*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.RecordRunFinish(ctx, id1, t0.Add(time.Minute), 120, 2, ""); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordRunFinish(ctx, id2, t0.Add(time.Hour+time.Minute), 0, 0, "store unavailable"); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordRunFinish(ctx, 99999, t0, 0, 0, ""); !errors.Is(err, state.ErrNotFound) {
			t.Errorf("finish of a missing run: %v", err)
		}
		runs, err := s.ListRuns(ctx, "predict", 10)
		if err != nil {
			t.Fatal(err)
		}
		want := []state.JobRunRecord{
			{ID: id2, Job: "predict", StartedAt: t0.Add(time.Hour).Truncate(time.Microsecond), FinishedAt: t0.Add(time.Hour + time.Minute).Truncate(time.Microsecond), Error: "store unavailable"},
			{ID: id1, Job: "predict", StartedAt: t0.Truncate(time.Microsecond), FinishedAt: t0.Add(time.Minute).Truncate(time.Microsecond), Series: 120, Failures: 2},
		}
		if fmt.Sprintf("%+v", runs) != fmt.Sprintf("%+v", want) {
			t.Errorf("ListRuns(predict) =\n%+v\nwant\n%+v", runs, want)
		}
		all, err := s.ListRuns(ctx, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 3 || all[0].ID != id3 || !all[0].FinishedAt.IsZero() {
			t.Errorf("ListRuns(all) = %+v", all)
		}
	})
}

func TestSQLiteWAL(t *testing.T) {
	cfg := sqliteConfig(t)
	s := open(t, cfg)
	rec := ticket("fp", "disk_full", "minor", `{}`, t0)
	insert(t, s, &rec)
	// Open checks PRAGMA journal_mode; the write-ahead log is beside the file.
	if _, err := os.Stat(cfg.Path + "-wal"); err != nil {
		t.Errorf("no write-ahead log: %v", err)
	}
	if s.Driver() != state.DriverSQLite {
		t.Errorf("Driver() = %q", s.Driver())
	}
	if err := s.Ping(context.Background()); err != nil {
		t.Error(err)
	}
}
