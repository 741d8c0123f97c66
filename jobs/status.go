package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/seed-f1b503aa/foresight/storage/state"
)

// Status describes one job.
type Status struct {
	Name     string   `json:"name"`
	Type     string   `json:"type"`
	Schedule string   `json:"schedule"`
	TZ       string   `json:"tz"`
	Kinds    []string `json:"kinds,omitempty"`
	// OnlyInCloseWindow: scheduled runs happen only in the month-end close
	// window.
	OnlyInCloseWindow bool `json:"only_in_close_window,omitempty"`
	// NextRun is the next scheduled activation (nil when the scheduler is
	// not running).
	NextRun *time.Time `json:"next_run,omitempty"`
	// Running reports a run in progress in this process.
	Running bool `json:"running"`
	// LastRun is the latest recorded run, finished or not.
	LastRun *state.JobRunRecord `json:"last_run,omitempty"`
	// LastSuccessAt is when the latest successful run finished.
	LastSuccessAt *time.Time `json:"last_success_at,omitempty"`
	// Stale: the job's latest successful run computed its results more than
	// stale_after_periods schedule periods ago (or never), or its last run
	// failed. A close-window job is not stale by age outside the window.
	Stale bool `json:"stale"`
	// Failures are series the latest run finished in this process could not
	// process, with the reason (at most 20).
	Failures []SeriesFailure `json:"failures,omitempty"`
}

// List returns the status of every job, in configuration order.
func (s *Service) List(ctx context.Context) ([]Status, error) {
	out := make([]Status, 0, len(s.jobs))
	for _, j := range s.jobs {
		st, err := s.status(ctx, j)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

// Get returns one job's status (ErrUnknownJob).
func (s *Service) Get(ctx context.Context, name string) (Status, error) {
	j, err := s.lookup(name)
	if err != nil {
		return Status{}, err
	}
	return s.status(ctx, j)
}

func (s *Service) status(ctx context.Context, j *job) (Status, error) {
	st := Status{Name: j.name(), Type: j.spec.Type, Schedule: j.spec.Schedule, TZ: j.spec.TZ, Kinds: j.spec.Kinds,
		OnlyInCloseWindow: j.spec.OnlyInCloseWindow}
	if st.TZ == "" {
		st.TZ = "UTC"
	}
	j.mu.Lock()
	st.Running = j.running
	st.Failures = append([]SeriesFailure(nil), j.failures...)
	entry := j.entry
	j.mu.Unlock()
	s.mu.Lock()
	c := s.cron
	s.mu.Unlock()
	if c != nil && entry != 0 {
		if next := c.Entry(entry).Next; !next.IsZero() {
			st.NextRun = &next
		}
	}
	runs, err := s.opts.State.ListRuns(ctx, j.name(), 1)
	if err != nil {
		return Status{}, err
	}
	if len(runs) > 0 {
		st.LastRun = &runs[0]
	}
	lastFailed, err := s.lastFailed(ctx, j)
	if err != nil {
		return Status{}, err
	}
	var computedAt time.Time
	ok, err := s.opts.State.LastFinishedRun(ctx, j.name(), true)
	switch {
	case err == nil:
		st.LastSuccessAt = &ok.FinishedAt
		computedAt = ok.StartedAt
	case !errors.Is(err, state.ErrNotFound):
		return Status{}, err
	}
	st.Stale = s.stale(j, computedAt, lastFailed != "", s.now())
	return st, nil
}

// lastFailed returns the error of the job's latest finished run ("" when
// it succeeded or none finished).
func (s *Service) lastFailed(ctx context.Context, j *job) (string, error) {
	last, err := s.opts.State.LastFinishedRun(ctx, j.name(), false)
	if errors.Is(err, state.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return last.Error, nil
}

// stale reports whether results computed at `at` (zero: never) are stale
// at now: the last run failed, or they are older than stale_after_periods
// schedule periods. For a close-window job only the time inside the
// current window counts, and outside the window nothing is stale by age.
func (s *Service) stale(j *job, at time.Time, lastFailed bool, now time.Time) bool {
	if lastFailed || at.IsZero() {
		return true
	}
	ref := at
	if j.spec.OnlyInCloseWindow {
		start, in := s.closeWindow(now)
		if !in {
			return false
		}
		if start.After(ref) {
			ref = start
		}
	}
	p := Period(j.sched, now)
	return now.Sub(ref) > time.Duration(s.staleK*float64(p))
}
