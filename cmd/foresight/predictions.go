package main

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/seed-f1b503aa/foresight/engine/fleet"
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
	snap, err := p.runner.Run(rctx, time.Now().UTC())
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
