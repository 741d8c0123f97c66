package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/seed-f1b503aa/foresight/engine/fleet"
	"github.com/seed-f1b503aa/foresight/storage/state"
)

// Served is what Predictions answers.
type Served struct {
	// Snapshot merges the latest snapshot of every predict job, sorted by
	// urgency (fleet.SortByUrgency). When two jobs predict the same entity
	// (same prediction ID) the more recently computed answer is kept.
	// ComputedAt is the oldest of the merged snapshots' times. Callers must
	// not modify it: it is shared until a snapshot changes.
	Snapshot fleet.Snapshot
	// Jobs is the freshness of every predict job, in configuration order
	// (ComputedAt zero for a job that never produced a snapshot).
	Jobs []Freshness
	// Version changes whenever any job's snapshot changes; usable as an
	// ETag.
	Version string
}

// Freshness says how current one predict job's contribution is.
type Freshness struct {
	Job        string    `json:"job"`
	ComputedAt time.Time `json:"computed_at"`
	AgeSeconds float64   `json:"age_seconds"`
	// Stale: older than stale_after_periods schedule periods, never
	// computed, or the job's last run failed.
	Stale bool `json:"stale"`
	// LastError is the error of the job's last run when it failed.
	LastError string `json:"last_error,omitempty"`
}

// servedCache holds the decoded snapshots and their merge; it asks the
// state database again at most every Options.Recheck, or at once after a
// run of this process finished.
type servedCache struct {
	mu      sync.Mutex
	dirty   atomic.Bool
	checked time.Time // wall clock of the last look at the database
	snaps   map[string]cachedSnap
	errs    map[string]string // job → error of its last finished run, if it failed
	merged  *fleet.Snapshot
	version string
}

type cachedSnap struct {
	head state.JobSnapshot // without payload
	snap fleet.Snapshot
}

func (c *servedCache) invalidate() { c.dirty.Store(true) }

// Predictions returns the merged latest predictions of the predict jobs as
// stored in the state database, so a restarted server serves them at once.
// It is cheap when nothing changed. fleet.ErrNoSnapshot means no predict
// job has produced a snapshot yet (Jobs is filled all the same).
func (s *Service) Predictions(ctx context.Context) (Served, error) {
	c := &s.served
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dirty.Load() || c.checked.IsZero() || time.Since(c.checked) >= s.opts.Recheck {
		if err := s.refresh(ctx); err != nil {
			if c.merged == nil {
				return Served{}, err
			}
			// Serve what we have; look again after the next interval.
			s.log.Warn("reading the stored predictions; serving the cached ones", "err", err)
			c.checked = time.Now()
		}
	}
	now := s.now()
	var fresh []Freshness
	for _, j := range s.jobs {
		if j.spec.Type != TypePredict {
			continue
		}
		f := Freshness{Job: j.name(), LastError: c.errs[j.name()]}
		if cs, ok := c.snaps[j.name()]; ok {
			f.ComputedAt = cs.head.ComputedAt
			f.AgeSeconds = now.Sub(f.ComputedAt).Seconds()
		}
		f.Stale = s.stale(j, f.ComputedAt, f.LastError != "", now)
		fresh = append(fresh, f)
	}
	if c.merged == nil {
		return Served{Jobs: fresh}, fleet.ErrNoSnapshot
	}
	return Served{Snapshot: *c.merged, Jobs: fresh, Version: c.version + freshnessVersion(fresh)}, nil
}

// freshnessVersion folds what the freshness says into the version, so a
// failed run or predictions turning stale change the ETag and the API's
// cached answers even though no snapshot changed.
func freshnessVersion(fresh []Freshness) string {
	h := fnv.New64a()
	for _, f := range fresh {
		fmt.Fprintf(h, "%s\x00%t\x00%s\x00", f.Job, f.Stale, f.LastError)
	}
	return fmt.Sprintf("-%x", h.Sum64())
}

// refresh re-reads the snapshot heads, loads the payloads that changed and
// re-merges; it also reads each predict job's last run outcome. c.mu is
// held.
func (s *Service) refresh(ctx context.Context) error {
	c := &s.served
	c.dirty.Store(false)
	heads, err := s.opts.State.JobSnapshotHeads(ctx)
	if err != nil {
		c.dirty.Store(true)
		return err
	}
	snaps := make(map[string]cachedSnap, len(heads))
	changed := false
	for _, h := range heads {
		j := s.byName[h.Job]
		if j == nil || j.spec.Type != TypePredict {
			continue // a job no longer configured
		}
		if old, ok := c.snaps[h.Job]; ok && old.head.Version == h.Version && old.head.RunID == h.RunID && old.head.ComputedAt.Equal(h.ComputedAt) {
			snaps[h.Job] = old
			continue
		}
		full, err := s.opts.State.GetJobSnapshot(ctx, h.Job)
		if err != nil {
			c.dirty.Store(true)
			return err
		}
		var snap fleet.Snapshot
		if err := json.Unmarshal(full.Payload, &snap); err != nil {
			c.dirty.Store(true)
			return fmt.Errorf("jobs: stored snapshot of %s: %w", h.Job, err)
		}
		full.Payload = nil
		snaps[h.Job] = cachedSnap{head: full, snap: snap}
		changed = true
	}
	if len(snaps) != len(c.snaps) {
		changed = true
	}
	errs := map[string]string{}
	for _, j := range s.jobs {
		if j.spec.Type != TypePredict {
			continue
		}
		msg, err := s.lastFailed(ctx, j)
		if err != nil {
			c.dirty.Store(true)
			return err
		}
		if msg != "" {
			errs[j.name()] = msg
		}
	}
	c.snaps, c.errs, c.checked = snaps, errs, time.Now()
	if changed {
		c.merged, c.version = s.merge(snaps)
	}
	return nil
}

// merge combines the snapshots, newest first so that the most recent
// answer for an entity wins, and computes their version.
func (s *Service) merge(snaps map[string]cachedSnap) (*fleet.Snapshot, string) {
	if len(snaps) == 0 {
		return nil, ""
	}
	order := map[string]int{}
	for i, j := range s.jobs {
		order[j.name()] = i
	}
	jobs := make([]string, 0, len(snaps))
	for name := range snaps {
		jobs = append(jobs, name)
	}
	slices.SortFunc(jobs, func(a, b string) int {
		if c := snaps[b].head.ComputedAt.Compare(snaps[a].head.ComputedAt); c != 0 {
			return c
		}
		return order[a] - order[b]
	})
	var out fleet.Snapshot
	seen := map[string]bool{}
	for _, name := range jobs {
		cs := snaps[name]
		if out.ComputedAt.IsZero() || cs.snap.ComputedAt.Before(out.ComputedAt) {
			out.ComputedAt = cs.snap.ComputedAt
		}
		for _, p := range cs.snap.Predictions {
			if seen[p.ID] {
				continue
			}
			seen[p.ID] = true
			out.Predictions = append(out.Predictions, p)
		}
		for _, e := range cs.snap.Errors {
			out.Errors = append(out.Errors, name+": "+e)
		}
	}
	if out.Predictions == nil {
		out.Predictions = []fleet.Prediction{}
	}
	fleet.SortByUrgency(out.Predictions)
	slices.Sort(jobs)
	h := fnv.New64a()
	for _, name := range jobs {
		hd := snaps[name].head
		fmt.Fprintf(h, "%s|%d|%d|%d\n", name, hd.RunID, hd.Version, hd.ComputedAt.UnixNano())
	}
	return &out, strconv.FormatUint(h.Sum64(), 16)
}
