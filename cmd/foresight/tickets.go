package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/riverqueue/river"

	"github.com/seed-f1b503aa/foresight/config"
	"github.com/seed-f1b503aa/foresight/incident"
	"github.com/seed-f1b503aa/foresight/jobs"
	"github.com/seed-f1b503aa/foresight/notify"
	"github.com/seed-f1b503aa/foresight/storage/state"
)

// openTickets opens the state database, builds the ticket service and
// starts the River worker that delivers webhooks. The returned function
// stops the worker and closes the database. register, when set, adds the
// workers of distributed job runs (jobs.distributed); the same River client
// then also works their queue.
func openTickets(ctx context.Context, cfg config.Config, log *slog.Logger, register func(*river.Workers)) (*incident.Service, func(), error) {
	sc := state.Config{Driver: cfg.State.Driver, Path: cfg.State.Path, DSN: cfg.State.DSN, Schema: cfg.State.Schema, Logger: quieter(log.With("component", "state"), slog.LevelWarn)}
	if sc.Driver == "sqlite" {
		if err := os.MkdirAll(filepath.Dir(sc.Path), 0o755); err != nil {
			return nil, nil, fmt.Errorf("state.path: %w", err)
		}
	}
	store, err := state.Open(ctx, sc)
	if err != nil {
		return nil, nil, fmt.Errorf("state database: %w", err)
	}
	router, err := notify.NewRouter(cfg.Notify)
	if err != nil {
		_ = store.Close(ctx)
		return nil, nil, fmt.Errorf("notify: %w", err)
	}
	svc := &incident.Service{Store: store, Policy: cfg.Tickets, Targets: router, BaseURL: cfg.Server.ExternalURL, Logger: log}
	workers := river.NewWorkers()
	river.AddWorker(workers, &incident.DeliveryWorker{Targets: router, Client: &http.Client{}, MaxAge: cfg.State.DeliveryMaxAge.D()})
	var queues map[string]river.QueueConfig
	var clientID string
	if register != nil {
		// Replicas name their River client after host and process, so that
		// a job's attempted_by says which replica holds it.
		host, _ := os.Hostname()
		clientID = fmt.Sprintf("foresight_%s_%d_%d", host, os.Getpid(), time.Now().UnixNano())
		if len(clientID) > 100 {
			clientID = clientID[len(clientID)-100:]
		}
		register(workers)
		queues = map[string]river.QueueConfig{
			river.QueueDefault:  {MaxWorkers: 5},
			state.QueueWebhooks: {MaxWorkers: 10},
			jobs.QueueJobs:      {MaxWorkers: jobs.QueueJobsWorkers},
		}
	}
	runner, err := store.NewRunner(state.RunnerConfig{
		Workers:              workers,
		Queues:               queues,
		ID:                   clientID,
		JobTimeout:           cfg.State.JobTimeout.D(),
		RescueStuckJobsAfter: cfg.State.RescueStuckAfter.D(),
	})
	if err != nil {
		_ = store.Close(ctx)
		return nil, nil, err
	}
	if err := runner.Start(ctx); err != nil {
		_ = store.Close(ctx)
		return nil, nil, fmt.Errorf("start the delivery worker: %w", err)
	}
	stop := func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := runner.Stop(sctx); err != nil {
			log.Warn("stopping the delivery worker", "err", err)
		}
		if err := store.Close(sctx); err != nil {
			log.Warn("closing the state database", "err", err)
		}
	}
	return svc, stop, nil
}
