package main

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/seed-f1b503aa/foresight/engine/fleet"
	"github.com/seed-f1b503aa/foresight/storage/state"
)

// predictionLoop runs the fleet predictors periodically and keeps the
// latest successful snapshot; a failed run keeps serving the previous one
// (its computed_at shows its age).
type predictionLoop struct {
	runner   *fleet.Runner
	interval time.Duration
	timeout  time.Duration
	log      *slog.Logger
	latest   atomic.Pointer[fleet.Snapshot]
	// after, when set, runs after each successful run (the ticket rules).
	after func(ctx context.Context, snap fleet.Snapshot)
	// runs, when set, records each run (start, end, predictions, failures).
	runs *state.Store
}

func (p *predictionLoop) snapshot() (fleet.Snapshot, error) {
	s := p.latest.Load()
	if s == nil {
		return fleet.Snapshot{}, fleet.ErrNoSnapshot
	}
	return *s, nil
}

// run waits for start (e.g. the demo preload), then runs until ctx ends.
func (p *predictionLoop) run(ctx context.Context, start <-chan struct{}) {
	select {
	case <-start:
	case <-ctx.Done():
		return
	}
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for {
		p.once(ctx)
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}

func (p *predictionLoop) once(ctx context.Context) {
	rctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	var runID int64
	if p.runs != nil {
		id, err := p.runs.RecordRunStart(ctx, "predictions", time.Now().UTC())
		if err != nil {
			p.log.Warn("recording the run start", "err", err)
		}
		runID = id
	}
	snap, err := p.runner.Run(rctx, time.Now().UTC())
	if p.runs != nil && runID != 0 {
		failures, msg := 0, ""
		for _, pr := range snap.Predictions {
			if pr.Error != "" {
				failures++
			}
		}
		if err != nil {
			msg = err.Error()
		}
		if rerr := p.runs.RecordRunFinish(context.WithoutCancel(ctx), runID, time.Now().UTC(), len(snap.Predictions), failures, msg); rerr != nil {
			p.log.Warn("recording the run end", "err", rerr)
		}
	}
	if err != nil {
		if ctx.Err() == nil {
			p.log.Warn("fleet prediction run failed; serving the previous predictions", "err", err)
		}
		return
	}
	p.latest.Store(&snap)
	if p.after != nil {
		p.after(ctx, snap)
	}
}
