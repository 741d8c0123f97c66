package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// JobSnapshot is the latest successful result of a scheduled job (a fleet
// prediction snapshot as JSON), kept so that a restarted server, or another
// process sharing the database, serves it at once.
type JobSnapshot struct {
	// Job is the job's name (one row per job).
	Job string
	// RunID is the job_runs row that produced it.
	RunID int64
	// ComputedAt is the time the run computed the snapshot for.
	ComputedAt time.Time
	// Payload is the snapshot as JSON; GetJobSnapshot fills it,
	// JobSnapshotHeads leaves it nil.
	Payload json.RawMessage
	// Version is set by the store: 1 when the row is inserted, one more on
	// every replacement.
	Version int64
	// UpdatedAt is when the row was last written.
	UpdatedAt time.Time
}

// ErrOlderSnapshot is returned by PutJobSnapshot when the stored snapshot
// of the job was computed later than the one offered (another process got
// there first); the stored one is kept.
var ErrOlderSnapshot = errors.New("state: a newer snapshot of the job is already stored")

// PutJobSnapshot inserts or replaces the snapshot of snap.Job and returns
// its new version. A snapshot computed before the stored one is refused
// with ErrOlderSnapshot; an equal ComputedAt replaces it. UpdatedAt is now
// when zero.
func (s *Store) PutJobSnapshot(ctx context.Context, snap JobSnapshot) (int64, error) {
	return putJobSnapshot(ctx, s.db, snap)
}

func putJobSnapshot(ctx context.Context, q querier, snap JobSnapshot) (int64, error) {
	if snap.Job == "" || snap.ComputedAt.IsZero() || len(snap.Payload) == 0 {
		return 0, errors.New("state: a job snapshot needs a job, a computed_at time and a payload")
	}
	if snap.UpdatedAt.IsZero() {
		snap.UpdatedAt = time.Now()
	}
	d := q.dialect()
	var version int64
	err := q.queryRow(ctx, `INSERT INTO job_snapshots (job, run_id, computed_at, payload_json, version, updated_at)
VALUES (?, ?, ?, ?, 1, ?)
ON CONFLICT (job) DO UPDATE SET run_id = excluded.run_id, computed_at = excluded.computed_at,
    payload_json = excluded.payload_json, version = job_snapshots.version + 1, updated_at = excluded.updated_at
WHERE job_snapshots.computed_at <= excluded.computed_at
RETURNING version`,
		snap.Job, snap.RunID, d.timeArg(snap.ComputedAt), jsonArg(snap.Payload), d.timeArg(snap.UpdatedAt)).Scan(&version)
	if errors.Is(err, ErrNotFound) {
		return 0, fmt.Errorf("%w (job %s)", ErrOlderSnapshot, snap.Job)
	}
	if err != nil {
		return 0, fmt.Errorf("state: store the snapshot of %s: %w", snap.Job, err)
	}
	return version, nil
}

// GetJobSnapshot returns the stored snapshot of job with its payload, or
// ErrNotFound.
func (s *Store) GetJobSnapshot(ctx context.Context, job string) (JobSnapshot, error) {
	var j JobSnapshot
	err := s.db.queryRow(ctx, "SELECT job, run_id, computed_at, payload_json, version, updated_at FROM job_snapshots WHERE job = ?", job).
		Scan(&j.Job, &j.RunID, timeScan{&j.ComputedAt}, jsonScan{&j.Payload}, &j.Version, timeScan{&j.UpdatedAt})
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return JobSnapshot{}, fmt.Errorf("snapshot of job %s: %w", job, ErrNotFound)
		}
		return JobSnapshot{}, err
	}
	return j, nil
}

// JobSnapshotHeads returns every stored snapshot without its payload, by
// job name: a cheap way to see whether any changed (compare Version and
// RunID).
func (s *Store) JobSnapshotHeads(ctx context.Context) ([]JobSnapshot, error) {
	r, err := s.db.query(ctx, "SELECT job, run_id, computed_at, version, updated_at FROM job_snapshots ORDER BY job")
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []JobSnapshot
	for r.Next() {
		var j JobSnapshot
		if err := r.Scan(&j.Job, &j.RunID, timeScan{&j.ComputedAt}, &j.Version, timeScan{&j.UpdatedAt}); err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, r.Err()
}

// LastFinishedRun returns the latest run of job (by start time) that
// finished, or with succeeded only the latest that finished without an
// error; ErrNotFound when there is none.
func (s *Store) LastFinishedRun(ctx context.Context, job string, succeeded bool) (JobRunRecord, error) {
	q := "SELECT id, job, started_at, finished_at, series, failures, error FROM job_runs WHERE job = ? AND finished_at IS NOT NULL"
	if succeeded {
		q += " AND error = ''"
	}
	q += " ORDER BY started_at DESC, id DESC LIMIT 1"
	var j JobRunRecord
	err := s.db.queryRow(ctx, q, job).Scan(&j.ID, &j.Job, timeScan{&j.StartedAt}, timeScan{&j.FinishedAt}, &j.Series, &j.Failures, &j.Error)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return JobRunRecord{}, fmt.Errorf("finished run of job %s: %w", job, ErrNotFound)
		}
		return JobRunRecord{}, err
	}
	return j, nil
}
