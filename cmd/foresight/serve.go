package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/riverqueue/river"

	"github.com/seed-f1b503aa/foresight/api"
	"github.com/seed-f1b503aa/foresight/config"
	"github.com/seed-f1b503aa/foresight/engine"
	"github.com/seed-f1b503aa/foresight/engine/fleet"
	"github.com/seed-f1b503aa/foresight/jobs"
)

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "YAML configuration file (default: built-in defaults; env FORESIGHT_CONFIG)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log, stderr)
	store, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer func() {
		if err := store.Close(); err != nil {
			log.Error("closing the store", "err", err)
		}
	}()

	// Distributed job runs (jobs.distributed) are River jobs worked by the
	// same client as the webhook deliveries.
	var dispatch *jobs.Dispatcher
	var registerJobs func(*river.Workers)
	if cfg.Jobs.Distributed.Enabled {
		dispatch = jobs.NewDispatcher()
		registerJobs = dispatch.Register
	}
	inc, stopTickets, err := openTickets(ctx, cfg, log, registerJobs)
	if err != nil {
		return err
	}
	defer stopTickets()

	var preload atomic.Pointer[string]
	// One registry for the API's and the scheduler's metrics.
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	sched, err := jobs.New(jobs.Options{
		Store:      store,
		State:      inc.Store,
		Config:     cfg.Jobs,
		Rules:      cfg.Predictors,
		Logger:     log.With("component", "jobs"),
		Registry:   reg,
		Dispatcher: dispatch,
		// The ticket rules run after every successful predict run, on that
		// job's predictions (entities of other kinds are left alone).
		After: func(ctx context.Context, job string, snap fleet.Snapshot) {
			sum, err := inc.Process(ctx, snap, snap.ComputedAt)
			if err != nil {
				log.Error("ticket rules", "job", job, "err", err)
			}
			log.Info("tickets updated", "job", job, "opened", sum.Opened, "updated", sum.Updated, "escalated", sum.Escalated,
				"resolved", sum.Resolved, "reopened", sum.Reopened, "closed", sum.Closed, "deliveries", sum.Deliveries)
		},
	})
	if err != nil {
		return err
	}
	auth, err := apiAuth(ctx, cfg, inc.Store, log)
	if err != nil {
		return err
	}
	redacted := redactedConfig(cfg)
	srv := api.New(api.Options{
		// The latest predictions of the predict jobs come from the state
		// database: a restarted server serves the last ones at once.
		Jobs:           sched,
		Auth:           auth,
		Config:         func() any { return redacted },
		Registry:       reg,
		State:          inc.Store,
		Incidents:      inc,
		InboundSecret:  cfg.Server.InboundSecret,
		Store:          store,
		Logger:         log,
		MaxBodyBytes:   cfg.Server.MaxBodyBytes,
		RequestTimeout: cfg.Server.RequestTimeout.D(),
		Ready: func() error {
			if p := preload.Load(); p != nil {
				return errors.New(*p)
			}
			return nil
		},
	})
	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s (server.listen): %w", cfg.Server.Listen, err)
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	useTLS := cfg.Server.TLSCert != "" && cfg.Server.TLSKey != ""
	url := "http://" + ln.Addr().String()
	if useTLS {
		url = "https://" + ln.Addr().String()
	}
	log.Info("foresight serving", "url", url, "store", cfg.Store.Backend, "version", version)
	fmt.Fprintf(stdout, "Foresight is up: %s  (series: %s/api/v1/series, metrics: %s/metrics)\n", url, url, url)

	bg, cancelBG := context.WithCancel(ctx)
	defer cancelBG()
	preloadDone := make(chan struct{})
	if cfg.Demo.Preload {
		msg := "demo fleet preload starting"
		preload.Store(&msg)
		go func() {
			defer close(preloadDone)
			err := preloadDemo(bg, store, cfg.Demo, log, func(done, total int64) {
				m := fmt.Sprintf("demo fleet preload in progress: %d%%", done*100/max(total, 1))
				preload.Store(&m)
			})
			if err != nil && !errors.Is(err, context.Canceled) {
				m := "demo fleet preload failed: " + err.Error()
				preload.Store(&m)
				log.Error("demo preload", "err", err)
				return
			}
			preload.Store(nil)
		}()
	} else {
		close(preloadDone)
	}

	go purgeAuditLoop(bg, inc.Store, cfg.Auth.AuditRetention.D(), log)
	// The scheduler starts once the demo preload is over, so that its
	// catch-up runs see the data.
	schedDone := make(chan struct{})
	go func() {
		defer close(schedDone)
		select {
		case <-preloadDone:
		case <-bg.Done():
			return
		}
		if err := sched.Start(bg); err != nil && !errors.Is(err, jobs.ErrStopped) {
			log.Error("starting the job scheduler", "err", err)
		}
	}()
	errc := make(chan error, 1)
	go func() {
		if useTLS {
			errc <- hs.ServeTLS(ln, cfg.Server.TLSCert, cfg.Server.TLSKey)
			return
		}
		errc <- hs.Serve(ln)
	}()
	select {
	case err := <-errc:
		cancelBG()
		<-preloadDone
		<-schedDone
		sctx, cancel := context.WithTimeout(context.Background(), cfg.Server.ShutdownTimeout.D())
		defer cancel()
		_ = sched.Stop(sctx)
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", cfg.Server.ShutdownTimeout.D())
	cancelBG()
	sctx, cancel := context.WithTimeout(context.Background(), cfg.Server.ShutdownTimeout.D())
	defer cancel()
	err = hs.Shutdown(sctx)
	<-preloadDone
	<-schedDone
	// Job runs in progress may finish within the shutdown timeout; then
	// they are cancelled (and recorded as such).
	if serr := sched.Stop(sctx); serr != nil {
		log.Warn("job runs cancelled at shutdown", "err", serr)
	}
	return err
}

// openStore opens the configured metric store.
func openStore(ctx context.Context, cfg config.Config, log *slog.Logger) (engine.MetricStore, error) {
	switch cfg.Store.Backend {
	case "influxdb":
		return openInflux(ctx, cfg.Store.InfluxDB, log)
	case "embedded":
		return openEmbedded(cfg.Store.Embedded, log)
	}
	return nil, fmt.Errorf("store.backend %q: use embedded or influxdb", cfg.Store.Backend)
}
