package state_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/seed-f1b503aa/foresight/storage/state"
)

func TestJobSnapshotsUpsert(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := open(t, b.config(t))
		if _, err := s.GetJobSnapshot(ctx, "disk"); !errors.Is(err, state.ErrNotFound) {
			t.Fatalf("empty table: %v, want ErrNotFound", err)
		}
		heads, err := s.JobSnapshotHeads(ctx)
		if err != nil || len(heads) != 0 {
			t.Fatalf("heads of an empty table: %v %v", heads, err)
		}
		payload := func(n int) json.RawMessage {
			return json.RawMessage(fmt.Sprintf(`{"computed_at":"2026-03-30T14:00:00Z","predictions":[{"id":"disk:%d","confidence":0.25}]}`, n))
		}
		v, err := s.PutJobSnapshot(ctx, state.JobSnapshot{Job: "disk", RunID: 7, ComputedAt: t0, Payload: payload(1), UpdatedAt: t0.Add(time.Second)})
		if err != nil || v != 1 {
			t.Fatalf("first put: version %d, %v", v, err)
		}
		got, err := s.GetJobSnapshot(ctx, "disk")
		if err != nil {
			t.Fatal(err)
		}
		jsonEqual(t, "payload", got.Payload, payload(1))
		want := state.JobSnapshot{Job: "disk", RunID: 7, ComputedAt: t0.Truncate(time.Microsecond), Version: 1, UpdatedAt: t0.Add(time.Second).Truncate(time.Microsecond)}
		got.Payload = nil
		if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
			t.Fatalf("got  %+v\nwant %+v", got, want)
		}

		// a later run replaces it and bumps the version
		later := t0.Add(15 * time.Minute)
		if v, err = s.PutJobSnapshot(ctx, state.JobSnapshot{Job: "disk", RunID: 9, ComputedAt: later, Payload: payload(2)}); err != nil || v != 2 {
			t.Fatalf("second put: version %d, %v", v, err)
		}
		// an older one (another process finishing late) is refused and changes nothing
		if _, err = s.PutJobSnapshot(ctx, state.JobSnapshot{Job: "disk", RunID: 8, ComputedAt: t0.Add(time.Minute), Payload: payload(3)}); !errors.Is(err, state.ErrOlderSnapshot) {
			t.Fatalf("older put: %v, want ErrOlderSnapshot", err)
		}
		got, err = s.GetJobSnapshot(ctx, "disk")
		if err != nil || got.RunID != 9 || got.Version != 2 || !got.ComputedAt.Equal(later.Truncate(time.Microsecond)) {
			t.Fatalf("after the refused put: %+v %v", got, err)
		}
		jsonEqual(t, "payload", got.Payload, payload(2))
		// the same computed_at again (a re-run) replaces it
		if v, err = s.PutJobSnapshot(ctx, state.JobSnapshot{Job: "disk", RunID: 10, ComputedAt: later, Payload: payload(4)}); err != nil || v != 3 {
			t.Fatalf("equal put: version %d, %v", v, err)
		}
		if _, err = s.PutJobSnapshot(ctx, state.JobSnapshot{Job: "memory", RunID: 11, ComputedAt: t0, Payload: payload(5)}); err != nil {
			t.Fatal(err)
		}
		heads, err = s.JobSnapshotHeads(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var hs []string
		for _, h := range heads {
			if h.Payload != nil {
				t.Errorf("head of %s carries a payload", h.Job)
			}
			hs = append(hs, fmt.Sprintf("%s:%d:%d", h.Job, h.RunID, h.Version))
		}
		if fmt.Sprint(hs) != "[disk:10:3 memory:11:1]" {
			t.Fatalf("heads %v", hs)
		}
		if _, err := s.PutJobSnapshot(ctx, state.JobSnapshot{Job: "x", ComputedAt: t0}); err == nil {
			t.Fatal("a snapshot without payload was accepted")
		}
	})
}

func TestRunsPageAndLastFinished(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := open(t, b.config(t))
		if _, err := s.LastFinishedRun(ctx, "disk", false); !errors.Is(err, state.ErrNotFound) {
			t.Fatalf("no runs: %v", err)
		}
		// runs 0..4 of disk, 15 minutes apart: 0 ok, 1 failed, 2 ok, 3 failed, 4 still running
		var ids []int64
		for i := range 5 {
			start := t0.Add(time.Duration(i) * 15 * time.Minute)
			id, err := s.RecordRunStart(ctx, "disk", start)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
			if i == 4 {
				break
			}
			msg := ""
			if i%2 == 1 {
				msg = fmt.Sprintf("store down %d", i)
			}
			if err := s.RecordRunFinish(ctx, id, start.Add(time.Minute), 10+i, i, msg); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.RecordRunStart(ctx, "memory", t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		last, err := s.LastFinishedRun(ctx, "disk", false)
		if err != nil || last.ID != ids[3] || last.Error != "store down 3" || last.Series != 13 {
			t.Fatalf("last finished: %+v %v", last, err)
		}
		ok, err := s.LastFinishedRun(ctx, "disk", true)
		if err != nil || ok.ID != ids[2] || ok.Error != "" || !ok.StartedAt.Equal(t0.Add(30*time.Minute).Truncate(time.Microsecond)) {
			t.Fatalf("last succeeded: %+v %v", ok, err)
		}
		if _, err := s.LastFinishedRun(ctx, "memory", false); !errors.Is(err, state.ErrNotFound) {
			t.Fatalf("memory never finished: %v", err)
		}
		page := func(limit, offset int) []int64 {
			t.Helper()
			runs, err := s.ListRunsPage(ctx, "disk", limit, offset)
			if err != nil {
				t.Fatal(err)
			}
			var out []int64
			for _, r := range runs {
				out = append(out, r.ID)
			}
			return out
		}
		if got, want := fmt.Sprint(page(2, 0)), fmt.Sprint([]int64{ids[4], ids[3]}); got != want {
			t.Errorf("page 1: %s, want %s", got, want)
		}
		if got, want := fmt.Sprint(page(2, 2)), fmt.Sprint([]int64{ids[2], ids[1]}); got != want {
			t.Errorf("page 2: %s, want %s", got, want)
		}
		if got, want := fmt.Sprint(page(2, 4)), fmt.Sprint([]int64{ids[0]}); got != want {
			t.Errorf("page 3: %s, want %s", got, want)
		}
		if got := page(2, 5); len(got) != 0 {
			t.Errorf("past the end: %v", got)
		}
		all, err := s.ListRuns(ctx, "", 0)
		if err != nil || len(all) != 6 {
			t.Fatalf("ListRuns of all jobs: %d, %v", len(all), err)
		}
	})
}
