// Package jobs runs Foresight's scheduled jobs (config jobs.run): "predict"
// jobs run the risk predictors of some kinds over the fleet, "forecast" jobs
// forecast every series matching a measurement, field and tags. Each job has
// a cron schedule in its own time zone; a job never overlaps itself (a
// scheduled tick that finds the previous run still going is skipped, a
// manual trigger gets ErrAlreadyRunning); on start every job whose last
// successful run is older than its schedule period runs at once (catch-up).
//
// Every run is recorded in the state database (job_runs). Results are
// written back to the metric store (measurements foresight_prediction and
// foresight_forecast, see the README's "Scheduled jobs") so Grafana can draw
// them beside the history, and the latest successful snapshot of each
// predict job is kept in the state database (job_snapshots), from which
// Predictions serves the merged, urgency-sorted predictions of all predict
// jobs, also right after a restart. Store reads and writes are retried with
// exponential backoff; a run that still fails is recorded as failed and the
// previous predictions stay served.
//
// Like incident, it is application wiring over concrete parts (the metric
// store, storage/state, the fleet runner, the forecast functions).
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"

	"github.com/seed-f1b503aa/foresight/calendar"
	"github.com/seed-f1b503aa/foresight/config"
	"github.com/seed-f1b503aa/foresight/engine"
	"github.com/seed-f1b503aa/foresight/engine/fleet"
	"github.com/seed-f1b503aa/foresight/storage/state"
)

// Errors returned by the Service. Compare with errors.Is.
var (
	// ErrUnknownJob means no job of that name is configured.
	ErrUnknownJob = errors.New("jobs: unknown job")
	// ErrAlreadyRunning means a run of the job is in progress.
	ErrAlreadyRunning = errors.New("jobs: the job is already running")
	// ErrStopped means Stop was called.
	ErrStopped = errors.New("jobs: the scheduler is stopped")
	// ErrRunFailed wraps the error of a run that failed (RunNow).
	ErrRunFailed = errors.New("jobs: run failed")
)

// Job types.
const (
	TypePredict  = "predict"
	TypeForecast = "forecast"
)

// Defaults for zero configuration values.
const (
	DefaultTimeout      = 10 * time.Minute
	DefaultStaleAfter   = 2.5
	DefaultRetryBackoff = 5 * time.Second
	DefaultReadBatch    = 500
	DefaultRecheck      = 3 * time.Second
	// maxBackoff caps one wait between store retries.
	maxBackoff = 5 * time.Minute
	// keepFailures is how many per-series failures of the latest run are
	// kept for Status.
	keepFailures = 20
)

// Options configures a Service.
type Options struct {
	// Store is the metric store jobs read from and write back to.
	Store engine.MetricStore
	// State records runs and keeps the predict jobs' snapshots.
	State *state.Store
	// Config is the jobs section of the configuration.
	Config config.JobsConfig
	// Rules map metrics to predictors (config predictors).
	Rules fleet.Rules
	// Calendar is the business calendar (close window, month-end
	// predictor, forecast regressors); nil: Rules.MonthEnd.CalendarFile, or
	// the built-in one.
	Calendar *calendar.Calendar
	// After, when set, is called after every successful predict run with
	// that job's snapshot (the ticket rules).
	After func(ctx context.Context, job string, snap fleet.Snapshot)
	// Logger receives the scheduler's logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock for computed_at, catch-up, the close window and
	// staleness; nil means time.Now. (The cron ticks follow the real clock.)
	Now func() time.Time
	// Registry, when set, receives the scheduler's metrics.
	Registry prometheus.Registerer
	// Workers bounds the worker pool of one run (0: GOMAXPROCS).
	Workers int
	// ReadBatch is how many series a forecast job reads per ReadMany
	// (default 500).
	ReadBatch int
	// Recheck is how long Predictions trusts its cache before asking the
	// state database whether a snapshot changed (default 3 s).
	Recheck time.Duration
	// Dispatcher holds the River workers of distributed runs; required
	// when Config.Distributed.Enabled (see distributed.go).
	Dispatcher *Dispatcher
}

// job is one configured job.
type job struct {
	spec    config.JobSpec
	kinds   []fleet.Kind
	sched   cron.Schedule
	timeout time.Duration
	// forecast settings (forecast jobs)
	fspec engine.ForecastSpec

	mu       sync.Mutex
	running  bool
	runID    int64
	entry    cron.EntryID
	failures []SeriesFailure // of the latest finished run in this process
}

func (j *job) name() string { return j.spec.Name }

// Service schedules and runs the jobs and serves the predict jobs' latest
// predictions. It is safe for concurrent use.
type Service struct {
	opts      Options
	log       *slog.Logger
	now       func() time.Time
	cal       *calendar.Calendar
	closeDays int
	staleK    float64
	store     engine.MetricStore // opts.Store behind retries
	metrics   *metrics
	jobs      []*job
	byName    map[string]*job

	// base is the parent of every run's context; cancel ends runs Stop
	// could not wait for.
	base   context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	cron     *cron.Cron
	started  bool
	stopped  bool
	wg       sync.WaitGroup
	caughtUp chan struct{} // closed when the start-up catch-up is over

	served servedCache
}

// SeriesFailure is one series (or source) a run could not process, and why.
type SeriesFailure struct {
	Series string `json:"series"`
	Reason string `json:"reason"`
}

// cronParser reads the standard five fields and the descriptors (@hourly,
// @daily, @every 15m…).
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseSchedule parses a job schedule in time zone tz (empty: UTC).
func ParseSchedule(spec, tz string) (cron.Schedule, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, errors.New("empty schedule")
	}
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		return nil, fmt.Errorf("schedule %q: give the time zone in tz, not in the schedule", spec)
	}
	if tz == "" {
		tz = "UTC"
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return nil, fmt.Errorf("time zone %q: %w", tz, err)
	}
	s, err := cronParser.Parse("CRON_TZ=" + tz + " " + spec)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %w (use 5 fields, e.g. \"*/15 * * * *\", or @hourly, @daily, @every 15m)", spec, err)
	}
	probe := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if s.Next(probe).IsZero() {
		return nil, fmt.Errorf("schedule %q never fires", spec)
	}
	return s, nil
}

// Period returns the time between the two consecutive activations of s
// around at: from the last activation at or before at to the next one
// after it. For irregular schedules (weekdays only, say) it is the gap
// that contains at.
func Period(s cron.Schedule, at time.Time) time.Duration {
	if c, ok := s.(cron.ConstantDelaySchedule); ok {
		return c.Delay
	}
	next := s.Next(at)
	if next.IsZero() {
		return 0
	}
	// The last activation at or before at: step back until one is found,
	// then walk forward to the latest.
	for back := time.Hour; back <= 6*366*24*time.Hour; back *= 2 {
		a := s.Next(at.Add(-back))
		if a.IsZero() || a.After(at) {
			continue
		}
		for {
			b := s.Next(a)
			if b.IsZero() || b.After(at) {
				break
			}
			a = b
		}
		return next.Sub(a)
	}
	return s.Next(next).Sub(next)
}

// New checks the configuration and builds the Service; nothing runs until
// Start (or Trigger / RunNow).
func New(opts Options) (*Service, error) {
	if opts.Store == nil || opts.State == nil {
		return nil, errors.New("jobs: Store and State are required")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	cal := opts.Calendar
	if cal == nil {
		if f := opts.Rules.MonthEnd.CalendarFile; f != "" {
			var err error
			if cal, err = calendar.LoadCalendar(f); err != nil {
				return nil, fmt.Errorf("jobs: %w", err)
			}
		} else {
			cal = calendar.DefaultCalendar()
		}
	}
	closeDays := opts.Rules.MonthEnd.CloseDays
	if closeDays <= 0 {
		closeDays = fleet.DefaultRules().MonthEnd.CloseDays
	}
	if opts.ReadBatch <= 0 {
		opts.ReadBatch = DefaultReadBatch
	}
	if opts.Recheck <= 0 {
		opts.Recheck = DefaultRecheck
	}
	cfg := opts.Config
	if cfg.StoreRetries < 0 || cfg.RetryBackoff < 0 || cfg.StaleAfter < 0 {
		return nil, errors.New("jobs: store_retries, retry_backoff and stale_after_periods must not be negative")
	}
	if cfg.RetryBackoff == 0 {
		cfg.RetryBackoff = config.Duration(DefaultRetryBackoff)
	}
	if cfg.Writeback.Predictions == "" {
		cfg.Writeback.Predictions = "foresight_prediction"
	}
	if cfg.Writeback.Forecasts == "" {
		cfg.Writeback.Forecasts = "foresight_forecast"
	}
	opts.Config = cfg
	staleK := cfg.StaleAfter
	if staleK == 0 {
		staleK = DefaultStaleAfter
	}
	s := &Service{opts: opts, log: log, now: now, cal: cal, closeDays: closeDays, staleK: staleK,
		byName: map[string]*job{}, caughtUp: make(chan struct{})}
	for i, spec := range cfg.Run {
		j, err := newJob(spec, cal, closeDays)
		if err != nil {
			return nil, fmt.Errorf("jobs.run[%d] (%s): %w", i, spec.Name, err)
		}
		if s.byName[spec.Name] != nil {
			return nil, fmt.Errorf("jobs.run[%d]: the name %q is used twice", i, spec.Name)
		}
		s.jobs = append(s.jobs, j)
		s.byName[spec.Name] = j
	}
	// Metrics are registered last: a configuration error leaves the
	// registry as it was.
	m, err := newMetrics(opts.Registry)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	s.store = &retryStore{MetricStore: opts.Store, retries: cfg.StoreRetries, backoff: cfg.RetryBackoff.D(), log: log, retried: m.retries}
	s.base, s.cancel = context.WithCancel(context.Background())
	if cfg.Distributed.Enabled {
		if opts.Dispatcher == nil {
			return nil, errors.New("jobs: distributed runs need Options.Dispatcher (the River workers)")
		}
		if opts.State.Driver() != state.DriverPostgres {
			return nil, errors.New("jobs: distributed runs need the postgres state driver")
		}
		opts.Dispatcher.svc.Store(s)
	}
	return s, nil
}

func newJob(spec config.JobSpec, cal *calendar.Calendar, closeDays int) (*job, error) {
	if spec.Name == "" {
		return nil, errors.New("name: required")
	}
	sched, err := ParseSchedule(spec.Schedule, spec.TZ)
	if err != nil {
		return nil, err
	}
	j := &job{spec: spec, sched: sched, timeout: spec.Timeout.D()}
	if j.timeout <= 0 {
		j.timeout = DefaultTimeout
	}
	switch spec.Type {
	case TypePredict:
		if len(spec.Kinds) == 0 {
			return nil, errors.New("kinds: a predict job needs at least one of disk, memleak, monthend")
		}
		for _, k := range spec.Kinds {
			kind, err := fleet.ParseKind(k)
			if err != nil {
				return nil, err
			}
			j.kinds = append(j.kinds, kind)
		}
	case TypeForecast:
		f := spec.Forecast
		if f.Measurement == "" || f.Field == "" {
			return nil, errors.New("forecast: measurement and field are required")
		}
		if f.Step <= 0 || f.History <= 0 || f.Horizon <= 0 {
			return nil, errors.New("forecast: history, step and horizon must be positive")
		}
		if f.History.D() < 3*f.Step.D() {
			return nil, errors.New("forecast: history must cover at least three steps")
		}
		levels := make([]float64, len(f.Levels))
		for i, l := range f.Levels {
			if l > 1 {
				l /= 100
			}
			levels[i] = l
		}
		model := f.Model
		if model == "" {
			model = "auto"
		}
		j.fspec = engine.ForecastSpec{Horizon: f.Horizon, Step: f.Step.D(), Model: model, Levels: levels, Seed: 1,
			Calendar: cal, CloseDays: closeDays}
		if err := j.fspec.Validate(); err != nil {
			return nil, fmt.Errorf("forecast: %w", err)
		}
		if len(levels) == 0 {
			j.fspec.Levels = []float64{0.8, 0.95}
		}
	default:
		return nil, fmt.Errorf("type %q: use predict or forecast", spec.Type)
	}
	return j, nil
}

// Start starts the cron scheduler and, in the background, the catch-up:
// every job whose last successful run started more than one schedule
// period ago (or that never succeeded) runs at once, one after the other
// in configuration order. With jobs.enabled false nothing is scheduled
// (Trigger and RunNow still work). ctx bounds Start itself only.
func (s *Service) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return ErrStopped
	}
	if s.started {
		return errors.New("jobs: already started")
	}
	s.started = true
	s.closeInterrupted(ctx)
	for _, j := range s.jobs {
		if last, err := s.opts.State.LastFinishedRun(ctx, j.name(), true); err == nil {
			s.metrics.lastSuccess.WithLabelValues(j.name()).Set(float64(last.FinishedAt.UnixNano()) / 1e9)
		} else if !errors.Is(err, state.ErrNotFound) {
			s.log.Warn("reading the last run of a job", "job", j.name(), "err", err)
		}
	}
	if !s.opts.Config.Enabled {
		close(s.caughtUp)
		s.log.Info("scheduled jobs are disabled (jobs.enabled: false); runs can still be triggered")
		return nil
	}
	s.cron = cron.New(cron.WithLocation(time.UTC), cron.WithParser(cronParser))
	for _, j := range s.jobs {
		id := s.cron.Schedule(j.sched, cron.FuncJob(func() { s.tick(j) }))
		j.mu.Lock()
		j.entry = id
		j.mu.Unlock()
	}
	s.cron.Start()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(s.caughtUp)
		s.catchUp()
	}()
	names := make([]string, len(s.jobs))
	for i, j := range s.jobs {
		names[i] = j.name()
	}
	s.log.Info("job scheduler started", "jobs", strings.Join(names, ","))
	return nil
}

// Stop stops scheduling and waits for the runs in progress; when ctx ends
// first, it cancels them, waits for them to return and reports ctx's error.
func (s *Service) Stop(ctx context.Context) error {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return nil
	}
	s.stopped = true
	c := s.cron
	s.mu.Unlock()
	if c != nil {
		c.Stop()
	}
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		s.cancel()
		return nil
	case <-ctx.Done():
		s.log.Warn("cancelling the job runs still in progress")
		s.cancel()
		<-done
		return ctx.Err()
	}
}

// enter registers a run (or the catch-up) with Stop's wait group; false
// once stopped.
func (s *Service) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return false
	}
	s.wg.Add(1)
	return true
}

// catchUp runs the overdue jobs one by one.
func (s *Service) catchUp() {
	for _, j := range s.jobs {
		if s.base.Err() != nil || s.isStopped() {
			return
		}
		now := s.now()
		last, err := s.opts.State.LastFinishedRun(s.base, j.name(), true)
		switch {
		case err == nil && now.Sub(last.StartedAt) <= Period(j.sched, now):
			s.log.Debug("job is up to date; no catch-up", "job", j.name(), "last_run", last.StartedAt)
			continue
		case err != nil && !errors.Is(err, state.ErrNotFound):
			s.log.Warn("reading the last run of a job; running it", "job", j.name(), "err", err)
		}
		if j.spec.OnlyInCloseWindow {
			if _, in := s.closeWindow(now); !in {
				s.skip(j, "outside_close_window", "catch-up skipped: outside the month-end close window")
				continue
			}
		}
		s.log.Info("catching up a job on start", "job", j.name())
		if s.distributed() {
			s.dispatch(j, "catch-up")
			continue
		}
		if _, err := s.run(s.base, j, "catch-up"); errors.Is(err, ErrAlreadyRunning) {
			s.skip(j, "overlap", "catch-up skipped: the job is already running")
		}
	}
}

func (s *Service) isStopped() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopped
}

// tick is a scheduled activation of j.
func (s *Service) tick(j *job) {
	if j.spec.OnlyInCloseWindow {
		if _, in := s.closeWindow(s.now()); !in {
			s.skip(j, "outside_close_window", "scheduled run skipped: outside the month-end close window")
			return
		}
	}
	if s.distributed() {
		s.dispatch(j, "schedule")
		return
	}
	if _, err := s.run(s.base, j, "schedule"); errors.Is(err, ErrAlreadyRunning) {
		s.skip(j, "overlap", "scheduled run skipped: the previous run is still in progress")
	}
}

func (s *Service) skip(j *job, reason, msg string) {
	s.metrics.skipped.WithLabelValues(j.name(), reason).Inc()
	s.log.Info(msg, "job", j.name(), "reason", reason)
}

// closeWindow reports whether now falls in the month-end close window of
// the business calendar (the last close_days business days of the month)
// and when that window began.
func (s *Service) closeWindow(now time.Time) (start time.Time, in bool) {
	d := s.cal.DateOf(now)
	first, last, ok := s.cal.CloseWindow(d.Year, d.Month, s.closeDays)
	if !ok || d.Before(first) || d.After(last) {
		return time.Time{}, false
	}
	return first.In(s.cal.Location()), true
}

func (s *Service) lookup(name string) (*job, error) {
	j := s.byName[name]
	if j == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownJob, name)
	}
	return j, nil
}

// Triggered identifies a run started by Trigger.
type Triggered struct {
	Job   string `json:"job"`
	RunID int64  `json:"run_id"`
}

// Trigger starts a run of the job now, in the background, and returns once
// the run is recorded. It runs whatever the schedule and the close window
// say. actor (who asked) is logged.
func (s *Service) Trigger(ctx context.Context, name, actor string) (Triggered, error) {
	j, err := s.lookup(name)
	if err != nil {
		return Triggered{}, err
	}
	if s.distributed() {
		if s.isStopped() {
			return Triggered{}, ErrStopped
		}
		id, _, err := s.enqueueRun(ctx, j, "manual")
		if err != nil {
			return Triggered{}, err
		}
		s.log.Info("job triggered", "job", name, "actor", actor, "run_id", id)
		return Triggered{Job: name, RunID: id}, nil
	}
	r, err := s.begin(ctx, j, "manual")
	if err != nil {
		return Triggered{}, err
	}
	s.log.Info("job triggered", "job", name, "actor", actor, "run_id", r.id)
	go s.execute(s.base, j, r)
	return Triggered{Job: name, RunID: r.id}, nil
}

// RunNow runs the job synchronously and returns its recorded run; a run
// that failed returns its record and an error wrapping ErrRunFailed.
func (s *Service) RunNow(ctx context.Context, name string) (state.JobRunRecord, error) {
	j, err := s.lookup(name)
	if err != nil {
		return state.JobRunRecord{}, err
	}
	if s.distributed() {
		id, _, err := s.enqueueRun(ctx, j, "manual")
		if err != nil {
			return state.JobRunRecord{}, err
		}
		return s.waitRun(ctx, j, id)
	}
	return s.run(ctx, j, "manual")
}

// run runs j synchronously on ctx (also cancelled when Stop gives up).
func (s *Service) run(ctx context.Context, j *job, trigger string) (state.JobRunRecord, error) {
	r, err := s.begin(ctx, j, trigger)
	if err != nil {
		return state.JobRunRecord{}, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(s.base, cancel)
	defer stop()
	rec := s.execute(ctx, j, r)
	if rec.Error != "" {
		return rec, fmt.Errorf("%w: %s: %s", ErrRunFailed, j.name(), rec.Error)
	}
	return rec, nil
}

// Runs lists the job's recorded runs, newest first.
func (s *Service) Runs(ctx context.Context, name string, limit, offset int) ([]state.JobRunRecord, error) {
	if _, err := s.lookup(name); err != nil {
		return nil, err
	}
	return s.opts.State.ListRunsPage(ctx, name, limit, offset)
}

// closeInterrupted records the end of runs left "running" by a process
// that died, or that lost its state database while finishing: a run still
// open well past its job's timeout cannot be alive anywhere (its context
// had that deadline).
func (s *Service) closeInterrupted(ctx context.Context) {
	now := time.Now()
	for _, j := range s.jobs {
		runs, err := s.opts.State.ListRunsPage(ctx, j.name(), 20, 0)
		if err != nil {
			s.log.Warn("reading the recent runs of a job", "job", j.name(), "err", err)
			continue
		}
		for _, r := range runs {
			if !r.FinishedAt.IsZero() || now.Sub(r.StartedAt) < j.timeout+time.Minute {
				continue
			}
			msg := "interrupted: the run's end was never recorded (the process stopped or lost its state database)"
			if err := s.opts.State.RecordRunFinish(ctx, r.ID, now, r.Series, r.Failures, msg); err != nil {
				s.log.Warn("closing an interrupted run", "job", j.name(), "run", r.ID, "err", err)
				continue
			}
			s.log.Warn("closed a run left open", "job", j.name(), "run", r.ID, "started", r.StartedAt)
		}
	}
}
