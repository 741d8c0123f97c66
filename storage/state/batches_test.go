package state_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/seed-f1b503aa/foresight/storage/state"
)

// TestJobBatchesCountDownOnce: planning is idempotent, a batch recorded
// twice (River works a job at least once) counts down once, and the run's
// finish, snapshot and finalized flag commit together.
func TestJobBatchesCountDownOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := open(t, b.config(t))
		ctx := context.Background()
		at := time.Date(2026, 5, 4, 3, 2, 1, 0, time.UTC)
		var runID int64
		if err := s.InTx(ctx, func(tx *state.Tx) error {
			var err error
			runID, err = tx.RecordRunStart(ctx, "fleet", at)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		plan := func() bool {
			var planned bool
			if err := s.InTx(ctx, func(tx *state.Tx) error {
				var err error
				planned, err = tx.PlanBatches(ctx, state.JobBatches{RunID: runID, Job: "fleet", ComputedAt: at, Batches: 2, Series: 3})
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return planned
		}
		if !plan() || plan() {
			t.Fatal("PlanBatches: want planned once")
		}
		record := func(batch int) (int, bool) {
			var rem int
			var rec bool
			if err := s.InTx(ctx, func(tx *state.Tx) error {
				var err error
				rem, rec, err = tx.RecordBatch(ctx, state.BatchResult{RunID: runID, Batch: batch, Series: 1, Payload: json.RawMessage(`[1]`)})
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return rem, rec
		}
		if rem, rec := record(0); rem != 1 || !rec {
			t.Fatalf("first record: remaining %d recorded %v", rem, rec)
		}
		if rem, rec := record(0); rem != 1 || rec {
			t.Fatalf("repeated record: remaining %d recorded %v", rem, rec)
		}
		if rem, rec := record(1); rem != 0 || !rec {
			t.Fatalf("last record: remaining %d recorded %v", rem, rec)
		}
		// a failed finalization leaves nothing behind
		boom := errors.New("boom")
		err := s.InTx(ctx, func(tx *state.Tx) error {
			if _, err := tx.LockJobBatches(ctx, runID); err != nil {
				return err
			}
			if _, err := tx.PutJobSnapshot(ctx, state.JobSnapshot{Job: "fleet", RunID: runID, ComputedAt: at, Payload: json.RawMessage(`{}`)}); err != nil {
				return err
			}
			if err := tx.RecordRunFinish(ctx, runID, at.Add(time.Minute), 2, 0, ""); err != nil {
				return err
			}
			if err := tx.MarkFinalized(ctx, runID, at.Add(time.Minute)); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if jb, err := s.GetJobBatches(ctx, runID); err != nil || !jb.FinalizedAt.IsZero() || jb.Remaining != 0 || jb.Batches != 2 {
			t.Fatalf("after rollback: %+v %v", jb, err)
		}
		if _, err := s.GetJobSnapshot(ctx, "fleet"); !errors.Is(err, state.ErrNotFound) {
			t.Fatalf("snapshot after rollback: %v", err)
		}
		if r, err := s.GetRun(ctx, runID); err != nil || !r.FinishedAt.IsZero() {
			t.Fatalf("run after rollback: %+v %v", r, err)
		}
		err = s.InTx(ctx, func(tx *state.Tx) error {
			results, err := tx.BatchResults(ctx, runID)
			if err != nil {
				return err
			}
			if len(results) != 2 || results[0].Batch != 0 || results[1].Batch != 1 || string(results[1].Payload) != "[1]" {
				t.Errorf("results %+v", results)
			}
			if _, err := tx.PutJobSnapshot(ctx, state.JobSnapshot{Job: "fleet", RunID: runID, ComputedAt: at, Payload: json.RawMessage(`{}`)}); err != nil {
				return err
			}
			if err := tx.RecordRunFinish(ctx, runID, at.Add(time.Minute), 2, 0, ""); err != nil {
				return err
			}
			return tx.MarkFinalized(ctx, runID, at.Add(time.Minute))
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.MarkAfterDone(ctx, runID, at.Add(2*time.Minute)); err != nil {
			t.Fatal(err)
		}
		jb, err := s.GetJobBatches(ctx, runID)
		if err != nil || jb.FinalizedAt.IsZero() || jb.AfterDoneAt.IsZero() {
			t.Fatalf("finalized: %+v %v", jb, err)
		}
		if r, err := s.GetRun(ctx, runID); err != nil || r.FinishedAt.IsZero() || r.Series != 2 {
			t.Fatalf("run: %+v %v", r, err)
		}
	})
}
