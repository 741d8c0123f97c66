package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Distributed job runs (jobs.distributed): a run is split into batches that
// any replica may work (River jobs). JobBatches is the run's bookkeeping,
// BatchResult one batch's results. River works a job at least once, so a
// batch's result is recorded once (keyed by run and batch) and only the
// first recording counts down Remaining.

// JobBatches is a row of job_batches.
type JobBatches struct {
	// RunID is the job_runs row of the run.
	RunID int64
	// Job is the job's name.
	Job string
	// ComputedAt is the run's "now".
	ComputedAt time.Time
	// Batches is how many batches the run was split into.
	Batches int
	// Remaining counts the batches whose results are not recorded yet.
	Remaining int
	// Series counts the series (or entities' main series) of the run.
	Series int
	// CreatedAt is when the run was planned.
	CreatedAt time.Time
	// FinalizedAt is when the merged result and the run's end were
	// recorded (zero: not yet).
	FinalizedAt time.Time
	// AfterDoneAt is when the post-run hook (the ticket rules) finished
	// (zero: not yet).
	AfterDoneAt time.Time
}

// BatchResult is a row of job_batch_results.
type BatchResult struct {
	RunID    int64
	Batch    int
	Series   int
	Failures int
	// Payload is the batch's result as JSON (the caller's format).
	Payload json.RawMessage
	// Worker names who recorded it (for diagnosis).
	Worker    string
	CreatedAt time.Time
}

const jobBatchesColumns = "run_id, job, computed_at, batches, remaining, series, created_at, finalized_at, after_done_at"

func scanJobBatches(r row) (JobBatches, error) {
	var b JobBatches
	err := r.Scan(&b.RunID, &b.Job, timeScan{&b.ComputedAt}, &b.Batches, &b.Remaining, &b.Series, timeScan{&b.CreatedAt},
		timeScan{&b.FinalizedAt}, timeScan{&b.AfterDoneAt})
	return b, err
}

// RecordRunStart is Store.RecordRunStart inside the transaction.
func (tx *Tx) RecordRunStart(ctx context.Context, job string, startedAt time.Time) (int64, error) {
	if startedAt.IsZero() {
		startedAt = time.Now()
	}
	var id int64
	if err := tx.q.queryRow(ctx, "INSERT INTO job_runs (job, started_at) VALUES (?, ?) RETURNING id",
		job, tx.q.dialect().timeArg(startedAt)).Scan(&id); err != nil {
		return 0, fmt.Errorf("state: record start of %s: %w", job, err)
	}
	return id, nil
}

// RecordRunFinish is Store.RecordRunFinish inside the transaction.
func (tx *Tx) RecordRunFinish(ctx context.Context, id int64, finishedAt time.Time, series, failures int, runErr string) error {
	if finishedAt.IsZero() {
		finishedAt = time.Now()
	}
	n, err := tx.q.exec(ctx, "UPDATE job_runs SET finished_at = ?, series = ?, failures = ?, error = ? WHERE id = ?",
		tx.q.dialect().timeArg(finishedAt), series, failures, runErr, id)
	if err != nil {
		return fmt.Errorf("state: record finish of run %d: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("state: run %d: %w", id, ErrNotFound)
	}
	return nil
}

// PutJobSnapshot is Store.PutJobSnapshot inside the transaction.
func (tx *Tx) PutJobSnapshot(ctx context.Context, snap JobSnapshot) (int64, error) {
	return putJobSnapshot(ctx, tx.q, snap)
}

// PlanBatches records a run's bookkeeping row (Remaining = Batches). It
// returns false, and changes nothing, when the run is planned already (a
// retried planning job).
func (tx *Tx) PlanBatches(ctx context.Context, b JobBatches) (bool, error) {
	if b.RunID == 0 || b.Job == "" || b.ComputedAt.IsZero() || b.Batches < 0 {
		return false, errors.New("state: job batches need a run, a job, a computed_at time and a batch count")
	}
	if b.CreatedAt.IsZero() {
		b.CreatedAt = time.Now()
	}
	d := tx.q.dialect()
	n, err := tx.q.exec(ctx, `INSERT INTO job_batches (run_id, job, computed_at, batches, remaining, series, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id) DO NOTHING`,
		b.RunID, b.Job, d.timeArg(b.ComputedAt), b.Batches, b.Batches, b.Series, d.timeArg(b.CreatedAt))
	if err != nil {
		return false, fmt.Errorf("state: plan batches of run %d: %w", b.RunID, err)
	}
	return n == 1, nil
}

// RecordBatch stores a batch's result unless it is stored already, and in
// that case only counts the run's Remaining down. It returns Remaining after
// the call and whether this call recorded the batch.
func (tx *Tx) RecordBatch(ctx context.Context, r BatchResult) (remaining int, recorded bool, err error) {
	if r.CreatedAt.IsZero() {
		r.CreatedAt = time.Now()
	}
	d := tx.q.dialect()
	n, err := tx.q.exec(ctx, `INSERT INTO job_batch_results (run_id, batch, series, failures, payload_json, worker, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, batch) DO NOTHING`,
		r.RunID, r.Batch, r.Series, r.Failures, jsonArg(r.Payload), r.Worker, d.timeArg(r.CreatedAt))
	if err != nil {
		return 0, false, fmt.Errorf("state: record batch %d of run %d: %w", r.Batch, r.RunID, err)
	}
	if n == 0 {
		err = tx.q.queryRow(ctx, "SELECT remaining FROM job_batches WHERE run_id = ?", r.RunID).Scan(&remaining)
		return remaining, false, err
	}
	err = tx.q.queryRow(ctx, "UPDATE job_batches SET remaining = remaining - 1 WHERE run_id = ? RETURNING remaining", r.RunID).
		Scan(&remaining)
	if err != nil {
		return 0, false, fmt.Errorf("state: count down the batches of run %d: %w", r.RunID, err)
	}
	return remaining, true, nil
}

// LockJobBatches reads a run's bookkeeping row; on PostgreSQL the row is
// locked until the transaction ends, so finalizations of one run take
// turns. ErrNotFound when the run was not planned.
func (tx *Tx) LockJobBatches(ctx context.Context, runID int64) (JobBatches, error) {
	q := "SELECT " + jobBatchesColumns + " FROM job_batches WHERE run_id = ?"
	if tx.q.dialect() == dialectPostgres {
		q += " FOR UPDATE"
	}
	b, err := scanJobBatches(tx.q.queryRow(ctx, q, runID))
	if err != nil {
		return JobBatches{}, fmt.Errorf("state: batches of run %d: %w", runID, err)
	}
	return b, nil
}

// BatchResults returns a run's recorded batch results, by batch number.
func (tx *Tx) BatchResults(ctx context.Context, runID int64) ([]BatchResult, error) {
	r, err := tx.q.query(ctx, `SELECT run_id, batch, series, failures, payload_json, worker, created_at
FROM job_batch_results WHERE run_id = ? ORDER BY batch`, runID)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []BatchResult
	for r.Next() {
		var b BatchResult
		if err := r.Scan(&b.RunID, &b.Batch, &b.Series, &b.Failures, jsonScan{&b.Payload}, &b.Worker, timeScan{&b.CreatedAt}); err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, r.Err()
}

// MarkFinalized records that the run's merged result and end are stored.
func (tx *Tx) MarkFinalized(ctx context.Context, runID int64, at time.Time) error {
	_, err := tx.q.exec(ctx, "UPDATE job_batches SET finalized_at = ? WHERE run_id = ?", tx.q.dialect().timeArg(at), runID)
	return err
}

// MarkAfterDone records that the post-run hook of the run finished.
func (s *Store) MarkAfterDone(ctx context.Context, runID int64, at time.Time) error {
	_, err := s.db.exec(ctx, "UPDATE job_batches SET after_done_at = ? WHERE run_id = ?", s.dialect.timeArg(at), runID)
	return err
}

// GetJobBatches reads a run's bookkeeping row; ErrNotFound if none.
func (s *Store) GetJobBatches(ctx context.Context, runID int64) (JobBatches, error) {
	b, err := scanJobBatches(s.db.queryRow(ctx, "SELECT "+jobBatchesColumns+" FROM job_batches WHERE run_id = ?", runID))
	if err != nil {
		return JobBatches{}, fmt.Errorf("state: batches of run %d: %w", runID, err)
	}
	return b, nil
}

// GetRun reads one job_runs row; ErrNotFound if none.
func (s *Store) GetRun(ctx context.Context, id int64) (JobRunRecord, error) {
	var j JobRunRecord
	err := s.db.queryRow(ctx, "SELECT id, job, started_at, finished_at, series, failures, error FROM job_runs WHERE id = ?", id).
		Scan(&j.ID, &j.Job, timeScan{&j.StartedAt}, timeScan{&j.FinishedAt}, &j.Series, &j.Failures, &j.Error)
	if err != nil {
		return JobRunRecord{}, fmt.Errorf("state: run %d: %w", id, err)
	}
	return j, nil
}
