package state

import (
	"context"
	"fmt"
	"time"
)

// JobRunRecord is one run of a scheduled job (a prediction pass over the
// fleet, say).
type JobRunRecord struct {
	// ID is assigned by RecordRunStart.
	ID int64
	// Job is the job's name.
	Job string
	// StartedAt is when the run started.
	StartedAt time.Time
	// FinishedAt is when it finished; zero while running (or if the process
	// died during the run).
	FinishedAt time.Time
	// Series counts the series processed.
	Series int
	// Failures counts the series that failed.
	Failures int
	// Error is the run's error, empty on success.
	Error string
}

// RecordRunStart records that job started at startedAt (now if zero) and
// returns the run's id.
func (s *Store) RecordRunStart(ctx context.Context, job string, startedAt time.Time) (int64, error) {
	if startedAt.IsZero() {
		startedAt = time.Now()
	}
	var id int64
	if err := s.db.queryRow(ctx, "INSERT INTO job_runs (job, started_at) VALUES (?, ?) RETURNING id",
		job, s.dialect.timeArg(startedAt)).Scan(&id); err != nil {
		return 0, fmt.Errorf("state: record start of %s: %w", job, err)
	}
	return id, nil
}

// RecordRunFinish records the end of run id (finishedAt: now if zero).
func (s *Store) RecordRunFinish(ctx context.Context, id int64, finishedAt time.Time, series, failures int, runErr string) error {
	if finishedAt.IsZero() {
		finishedAt = time.Now()
	}
	n, err := s.db.exec(ctx, "UPDATE job_runs SET finished_at = ?, series = ?, failures = ?, error = ? WHERE id = ?",
		s.dialect.timeArg(finishedAt), series, failures, runErr, id)
	if err != nil {
		return fmt.Errorf("state: record finish of run %d: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("state: run %d: %w", id, ErrNotFound)
	}
	return nil
}

// ListRuns returns the most recent runs, newest first: of one job, or of all
// jobs if job is empty; at most limit (0: 100; at most 10000).
func (s *Store) ListRuns(ctx context.Context, job string, limit int) ([]JobRunRecord, error) {
	return s.ListRunsPage(ctx, job, limit, 0)
}

// ListRunsPage is ListRuns skipping the offset newest runs first.
func (s *Store) ListRunsPage(ctx context.Context, job string, limit, offset int) ([]JobRunRecord, error) {
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 10000)
	offset = max(offset, 0)
	q := "SELECT id, job, started_at, finished_at, series, failures, error FROM job_runs"
	var args []any
	if job != "" {
		q += " WHERE job = ?"
		args = append(args, job)
	}
	q += " ORDER BY started_at DESC, id DESC LIMIT ? OFFSET ?"
	args = append(args, limit, offset)
	r, err := s.db.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []JobRunRecord
	for r.Next() {
		var j JobRunRecord
		if err := r.Scan(&j.ID, &j.Job, timeScan{&j.StartedAt}, timeScan{&j.FinishedAt}, &j.Series, &j.Failures,
			&j.Error); err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, r.Err()
}
