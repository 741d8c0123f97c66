package jobs

// Distributed runs (jobs.distributed): several `foresight serve` replicas
// sharing one PostgreSQL state database split the work through River.
//
//   - A cron tick, a catch-up or a trigger records the run (job_runs) and
//     inserts one River "run" job in the same transaction, unique by (job,
//     scheduled tick): replicas ticking at the same minute make one run (the
//     losers' transactions roll back, their run rows with them).
//   - The replica that works the run job lists the series (predict jobs: the
//     main series of the fleet sources; forecast jobs: the matching series)
//     and, in one transaction, records the run's bookkeeping row
//     (job_batches: batch count, remaining) and inserts one "batch" job per
//     batch of series.
//   - Any replica works a batch: it computes the batch's results (and writes
//     them back to the metric store, idempotent per series and timestamp),
//     then in one transaction stores them keyed by (run, batch) and counts
//     remaining down only if that batch was not stored before (River works
//     a job at least once). The transaction that brings remaining to 0
//     inserts a "finalize" job, unique per run.
//   - The finalize job merges the batches' predictions into the job's
//     snapshot, records the run's end and marks the run finalized in one
//     transaction, then runs the After hook (the ticket rules) and marks
//     that done.
//
// A replica that dies holding a job leaves it "running" until River's
// rescuer (state.rescue_stuck_after) makes it available again; batches are
// kept short so that a live one is never rescued.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"github.com/robfig/cron/v3"

	"github.com/seed-f1b503aa/foresight/engine"
	"github.com/seed-f1b503aa/foresight/engine/fleet"
	"github.com/seed-f1b503aa/foresight/storage/state"
)

// River job kinds and queue of distributed runs.
const (
	KindRun      = "foresight.job_run"
	KindBatch    = "foresight.job_batch"
	KindFinalize = "foresight.job_finalize"
	// QueueJobs is the River queue of distributed runs.
	QueueJobs = "foresight_jobs"
	// QueueJobsWorkers is how many jobs of QueueJobs one replica works at
	// once (each batch uses Options.Workers goroutines itself).
	QueueJobsWorkers = 2
	// DefaultBatchSize is the number of series per batch.
	DefaultBatchSize = 100
	// distMaxAttempts is how often River tries a run, batch or finalize
	// job; after the last failure the run is recorded as failed.
	distMaxAttempts = 8
)

// RunArgs is a River job that plans one run of a job.
type RunArgs struct {
	Job string `json:"job" river:"unique"`
	// Tick is the scheduled activation (manual triggers: the trigger
	// time); with Job it makes the run unique.
	Tick time.Time `json:"tick" river:"unique"`
	// RunID is the job_runs row recorded with the insert.
	RunID int64 `json:"run_id"`
	// At is the run's computed_at.
	At      time.Time `json:"at"`
	Trigger string    `json:"trigger"`
}

// Kind implements river.JobArgs.
func (RunArgs) Kind() string { return KindRun }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (RunArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueJobs, MaxAttempts: distMaxAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// BatchArgs is a River job that computes one batch of a run.
type BatchArgs struct {
	RunID int64     `json:"run_id" river:"unique"`
	Batch int       `json:"batch" river:"unique"`
	Job   string    `json:"job"`
	At    time.Time `json:"at"`
	// Series are the main series ids of a predict batch.
	Series []string `json:"series,omitempty"`
	// Keys are the series of a forecast batch.
	Keys []engine.SeriesKey `json:"keys,omitempty"`
}

// Kind implements river.JobArgs.
func (BatchArgs) Kind() string { return KindBatch }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (BatchArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueJobs, MaxAttempts: distMaxAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// FinalizeArgs is a River job that finishes a run whose batches are all
// recorded.
type FinalizeArgs struct {
	RunID int64  `json:"run_id" river:"unique"`
	Job   string `json:"job"`
}

// Kind implements river.JobArgs.
func (FinalizeArgs) Kind() string { return KindFinalize }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (FinalizeArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueJobs, MaxAttempts: distMaxAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// Dispatcher holds the River workers of distributed runs. The workers must
// be registered before the River client is made (Register), which is
// before the Service exists; New binds the Service (Options.Dispatcher).
// Jobs fetched before that are snoozed.
type Dispatcher struct {
	svc atomic.Pointer[Service]
}

// NewDispatcher returns an unbound Dispatcher.
func NewDispatcher() *Dispatcher { return &Dispatcher{} }

// Register adds the run, batch and finalize workers to w. Their queue is
// QueueJobs, which the River client must work.
func (d *Dispatcher) Register(w *river.Workers) {
	river.AddWorker(w, &runWorker{d: d})
	river.AddWorker(w, &batchWorker{d: d})
	river.AddWorker(w, &finalizeWorker{d: d})
}

func (d *Dispatcher) service(name string) (*Service, *job, error) {
	s := d.svc.Load()
	if s == nil || s.isStopped() {
		return nil, nil, river.JobSnooze(time.Second)
	}
	j := s.byName[name]
	if j == nil {
		return nil, nil, river.JobCancel(fmt.Errorf("%w: %q (not configured in this replica)", ErrUnknownJob, name))
	}
	return s, j, nil
}

type runWorker struct {
	river.WorkerDefaults[RunArgs]
	d *Dispatcher
}

func (w *runWorker) Work(ctx context.Context, rj *river.Job[RunArgs]) error {
	s, j, err := w.d.service(rj.Args.Job)
	if err != nil {
		return err
	}
	err = s.plan(ctx, j, rj.Args)
	return s.lastAttempt(rj.JobRow.Attempt, rj.JobRow.MaxAttempts, j, rj.Args.RunID, "planning", err)
}

type batchWorker struct {
	river.WorkerDefaults[BatchArgs]
	d *Dispatcher
}

func (w *batchWorker) Work(ctx context.Context, rj *river.Job[BatchArgs]) error {
	s, j, err := w.d.service(rj.Args.Job)
	if err != nil {
		return err
	}
	err = s.workBatch(ctx, j, rj.Args)
	return s.lastAttempt(rj.JobRow.Attempt, rj.JobRow.MaxAttempts, j, rj.Args.RunID, fmt.Sprintf("batch %d", rj.Args.Batch), err)
}

type finalizeWorker struct {
	river.WorkerDefaults[FinalizeArgs]
	d *Dispatcher
}

func (w *finalizeWorker) Work(ctx context.Context, rj *river.Job[FinalizeArgs]) error {
	s, j, err := w.d.service(rj.Args.Job)
	if err != nil {
		return err
	}
	err = s.finalize(ctx, j, rj.Args.RunID)
	return s.lastAttempt(rj.JobRow.Attempt, rj.JobRow.MaxAttempts, j, rj.Args.RunID, "finalizing", err)
}

// lastAttempt records the run as failed when err ends River's last attempt
// of one of its jobs (the run could then never finish), and returns err.
func (s *Service) lastAttempt(attempt, maxAttempts int, j *job, runID int64, what string, err error) error {
	if err == nil || attempt < maxAttempts || runID == 0 {
		return err
	}
	var cancel *river.JobCancelError
	if errors.As(err, &cancel) {
		return err
	}
	msg := fmt.Sprintf("%s failed %d times: %v", what, attempt, err)
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	if ferr := s.opts.State.RecordRunFinish(wctx, runID, time.Now(), 0, 0, msg); ferr != nil {
		s.log.Error("recording a failed distributed run", "job", j.name(), "run_id", runID, "err", ferr)
	}
	s.metrics.runs.WithLabelValues(j.name(), "failure").Inc()
	s.served.invalidate()
	return err
}

// distributed reports whether runs go through River.
func (s *Service) distributed() bool { return s.opts.Config.Distributed.Enabled }

func (s *Service) batchSize() int {
	if n := s.opts.Config.Distributed.BatchSize; n > 0 {
		return n
	}
	return DefaultBatchSize
}

// errDuplicateRun rolls back the insert of a run another replica inserted
// first.
var errDuplicateRun = errors.New("jobs: run already inserted")

// lastActivation is the schedule's activation at or before now (for
// @every schedules: now truncated to the period, so that replicas agree).
func lastActivation(sched cron.Schedule, now time.Time) time.Time {
	if c, ok := sched.(cron.ConstantDelaySchedule); ok {
		return now.Truncate(c.Delay)
	}
	next := sched.Next(now)
	if next.IsZero() {
		return now.Truncate(time.Minute)
	}
	return next.Add(-Period(sched, now))
}

// busy reports whether the job's latest run is unfinished and younger than
// the job's timeout (another replica is working it).
func (s *Service) busy(ctx context.Context, j *job) (int64, bool) {
	runs, err := s.opts.State.ListRuns(ctx, j.name(), 1)
	if err != nil || len(runs) == 0 {
		return 0, false
	}
	r := runs[0]
	return r.ID, r.FinishedAt.IsZero() && s.now().Sub(r.StartedAt) < j.timeout
}

// enqueueRun records a run of j and inserts its River run job, unless a run
// of the same tick exists (dup). Scheduled runs and catch-ups use the
// schedule's activation as tick, manual ones their own time.
func (s *Service) enqueueRun(ctx context.Context, j *job, trigger string) (id int64, dup bool, err error) {
	at := s.now().UTC()
	tick := at
	if trigger != "manual" {
		tick = lastActivation(j.sched, at).UTC()
	}
	if busyID, busy := s.busy(ctx, j); busy {
		return 0, false, fmt.Errorf("%w: %s (run %d)", ErrAlreadyRunning, j.name(), busyID)
	}
	err = s.opts.State.InTx(ctx, func(tx *state.Tx) error {
		var err error
		if id, err = tx.RecordRunStart(ctx, j.name(), at); err != nil {
			return err
		}
		res, err := tx.Enqueue(ctx, RunArgs{Job: j.name(), Tick: tick, RunID: id, At: at, Trigger: trigger}, nil)
		if err != nil {
			return err
		}
		if res.UniqueSkippedAsDuplicate {
			return errDuplicateRun
		}
		return nil
	})
	if errors.Is(err, errDuplicateRun) {
		s.log.Debug("the run of this tick is already queued by another replica", "job", j.name(), "tick", tick)
		return 0, true, nil
	}
	if err != nil {
		return 0, false, err
	}
	s.log.Info("distributed job run queued", "job", j.name(), "run_id", id, "trigger", trigger, "tick", tick)
	return id, false, nil
}

// dispatch is tick/catch-up in distributed mode.
func (s *Service) dispatch(j *job, trigger string) {
	if !s.enter() {
		return
	}
	defer s.wg.Done()
	ctx, cancel := context.WithTimeout(s.base, time.Minute)
	defer cancel()
	if _, _, err := s.enqueueRun(ctx, j, trigger); errors.Is(err, ErrAlreadyRunning) {
		s.skip(j, "overlap", trigger+" skipped: the previous run is still in progress")
	} else if err != nil {
		s.log.Error("queueing a distributed run", "job", j.name(), "err", err)
	}
}

// waitRun polls the run's record until it finished (RunNow in distributed
// mode).
func (s *Service) waitRun(ctx context.Context, j *job, id int64) (state.JobRunRecord, error) {
	for {
		rec, err := s.opts.State.GetRun(ctx, id)
		if err != nil {
			return rec, err
		}
		if !rec.FinishedAt.IsZero() {
			if rec.Error != "" {
				return rec, fmt.Errorf("%w: %s: %s", ErrRunFailed, j.name(), rec.Error)
			}
			return rec, nil
		}
		select {
		case <-ctx.Done():
			return rec, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (s *Service) fleetRunner(j *job) *fleet.Runner {
	return &fleet.Runner{Store: s.store, Rules: s.opts.Rules, Logger: s.log.With("job", j.name()), Workers: s.opts.Workers,
		Calendar: s.cal, Kinds: j.kinds}
}

// forecastQuery is the read of a forecast run computed at at.
func (j *job) forecastQuery(at time.Time) engine.RangeQuery {
	f := j.spec.Forecast
	step := f.Step.D()
	end := at.Truncate(step)
	return engine.RangeQuery{Start: end.Add(-f.History.D()), End: end, Step: step, Agg: engine.AggMean}
}

// plan lists the run's series and queues its batches.
func (s *Service) plan(ctx context.Context, j *job, a RunArgs) error {
	if _, err := s.opts.State.GetJobBatches(ctx, a.RunID); err == nil {
		return nil // planned by an earlier attempt
	} else if !errors.Is(err, state.ErrNotFound) {
		return err
	}
	var batches []BatchArgs
	size := s.batchSize()
	n := 0
	switch j.spec.Type {
	case TypePredict:
		ids, err := s.fleetRunner(j).MainSeries(ctx, a.At)
		if err != nil {
			return err
		}
		n = len(ids)
		for i := 0; i < len(ids); i += size {
			batches = append(batches, BatchArgs{RunID: a.RunID, Batch: len(batches), Job: j.name(), At: a.At,
				Series: ids[i:min(i+size, len(ids))]})
		}
	case TypeForecast:
		f := j.spec.Forecast
		q := j.forecastQuery(a.At)
		keys, err := s.store.ListSeries(ctx, engine.SeriesFilter{Measurement: f.Measurement, Field: f.Field, Tags: f.Where, Start: q.Start, End: q.End})
		if err != nil {
			return err
		}
		slices.SortFunc(keys, func(x, y engine.SeriesKey) int { return strings.Compare(x.ID(), y.ID()) })
		n = len(keys)
		for i := 0; i < len(keys); i += size {
			batches = append(batches, BatchArgs{RunID: a.RunID, Batch: len(batches), Job: j.name(), At: a.At,
				Keys: keys[i:min(i+size, len(keys))]})
		}
	}
	err := s.opts.State.InTx(ctx, func(tx *state.Tx) error {
		planned, err := tx.PlanBatches(ctx, state.JobBatches{RunID: a.RunID, Job: j.name(), ComputedAt: a.At, Batches: len(batches), Series: n})
		if err != nil || !planned {
			return err
		}
		for _, b := range batches {
			if _, err := tx.Enqueue(ctx, b, nil); err != nil {
				return err
			}
		}
		if len(batches) == 0 {
			_, err = tx.Enqueue(ctx, FinalizeArgs{RunID: a.RunID, Job: j.name()}, nil)
		}
		return err
	})
	if err == nil {
		s.log.Info("distributed job run planned", "job", j.name(), "run_id", a.RunID, "series", n, "batches", len(batches))
	}
	return err
}

// forecastBatch is what a forecast batch stores: its failures.
type forecastBatch struct {
	Failed []SeriesFailure `json:"failed"`
}

// workBatch computes one batch and records it.
func (s *Service) workBatch(ctx context.Context, j *job, a BatchArgs) error {
	var res state.BatchResult
	switch j.spec.Type {
	case TypePredict:
		only := make(map[string]bool, len(a.Series))
		for _, id := range a.Series {
			only[id] = true
		}
		r := s.fleetRunner(j)
		r.Only = only
		snap, err := r.Run(ctx, a.At)
		if err != nil {
			return err
		}
		if len(snap.Errors) > 0 {
			return fmt.Errorf("could not read every source: %s", strings.Join(snap.Errors, "; "))
		}
		if s.opts.Config.Writeback.Enabled && len(snap.Predictions) > 0 {
			points := predictionPoints(s.opts.Config.Writeback.Predictions, j.name(), snap)
			if err := s.write(ctx, j, s.opts.Config.Writeback.Predictions, points); err != nil {
				return fmt.Errorf("write-back: %w", err)
			}
		}
		payload, err := json.Marshal(snap.Predictions)
		if err != nil {
			return err
		}
		res = state.BatchResult{Series: len(snap.Predictions), Payload: payload}
		for _, p := range snap.Predictions {
			if p.Error != "" {
				res.Failures++
			}
		}
	case TypeForecast:
		series, err := s.store.ReadMany(ctx, a.Keys, j.forecastQuery(a.At))
		if err != nil {
			return err
		}
		var fb forecastBatch
		got := make(map[string]bool, len(series))
		inputs := make([]engine.ForecastInput, len(series))
		for i, sr := range series {
			got[sr.Key.ID()] = true
			inputs[i] = engine.ForecastInput{Name: sr.Key.ID(), Samples: sr.Samples}
		}
		for _, k := range a.Keys {
			if !got[k.ID()] {
				fb.Failed = append(fb.Failed, SeriesFailure{Series: k.ID(), Reason: "no data in the history window"})
			}
		}
		outs := engine.ForecastMany(ctx, inputs, j.fspec, s.opts.Workers)
		if err := ctx.Err(); err != nil {
			return err
		}
		meas := s.opts.Config.Writeback.Forecasts
		var points []engine.Point
		for i, out := range outs {
			if out.Err != nil {
				fb.Failed = append(fb.Failed, SeriesFailure{Series: inputs[i].Name, Reason: out.Err.Error()})
				continue
			}
			if s.opts.Config.Writeback.Enabled {
				points = appendForecastPoints(points, meas, j.name(), j.fspec.Model, series[i].Key, out.Result)
			}
		}
		if len(points) > 0 {
			if err := s.write(ctx, j, meas, points); err != nil {
				return fmt.Errorf("write-back: %w", err)
			}
		}
		payload, err := json.Marshal(fb)
		if err != nil {
			return err
		}
		res = state.BatchResult{Series: len(a.Keys), Failures: len(fb.Failed), Payload: payload}
	}
	res.RunID, res.Batch, res.Worker = a.RunID, a.Batch, workerName()
	return s.opts.State.InTx(ctx, func(tx *state.Tx) error {
		remaining, recorded, err := tx.RecordBatch(ctx, res)
		if err != nil {
			return err
		}
		if !recorded {
			s.log.Info("batch already recorded; result dropped", "job", j.name(), "run_id", a.RunID, "batch", a.Batch)
			return nil
		}
		if remaining == 0 {
			_, err = tx.Enqueue(ctx, FinalizeArgs{RunID: a.RunID, Job: j.name()}, nil)
		}
		return err
	})
}

var hostname, _ = os.Hostname()

func workerName() string { return fmt.Sprintf("%s/%d", hostname, os.Getpid()) }

// finalize merges the batches, stores the snapshot and the run's end
// (once), then runs the After hook (until it is recorded done).
func (s *Service) finalize(ctx context.Context, j *job, runID int64) error {
	var (
		snap      fleet.Snapshot
		rec       state.JobRunRecord
		done, now bool
		failed    []SeriesFailure
	)
	err := s.opts.State.InTx(ctx, func(tx *state.Tx) error {
		b, err := tx.LockJobBatches(ctx, runID)
		if err != nil {
			return err
		}
		if !b.AfterDoneAt.IsZero() {
			done = true
			return nil
		}
		if b.Remaining > 0 {
			return fmt.Errorf("run %d: %d of %d batches not recorded yet", runID, b.Remaining, b.Batches)
		}
		results, err := tx.BatchResults(ctx, runID)
		if err != nil {
			return err
		}
		rec = state.JobRunRecord{ID: runID, Job: j.name(), Series: b.Series, FinishedAt: time.Now().UTC()}
		switch j.spec.Type {
		case TypePredict:
			snap = fleet.Snapshot{ComputedAt: b.ComputedAt, Predictions: []fleet.Prediction{}}
			for _, r := range results {
				var preds []fleet.Prediction
				if err := json.Unmarshal(r.Payload, &preds); err != nil {
					return fmt.Errorf("batch %d: %w", r.Batch, err)
				}
				snap.Predictions = append(snap.Predictions, preds...)
			}
			fleet.SortByUrgency(snap.Predictions)
			rec.Series = len(snap.Predictions)
			for _, p := range snap.Predictions {
				if p.Error != "" {
					rec.Failures++
					if len(failed) < keepFailures {
						failed = append(failed, SeriesFailure{Series: p.ID, Reason: p.Error})
					}
				}
			}
		case TypeForecast:
			for _, r := range results {
				var fb forecastBatch
				if err := json.Unmarshal(r.Payload, &fb); err != nil {
					return fmt.Errorf("batch %d: %w", r.Batch, err)
				}
				rec.Failures += len(fb.Failed)
				for _, f := range fb.Failed {
					if len(failed) < keepFailures {
						failed = append(failed, f)
					}
				}
			}
		}
		if !b.FinalizedAt.IsZero() {
			return nil // finalized by an earlier attempt; the hook is still due
		}
		if j.spec.Type == TypePredict {
			payload, err := json.Marshal(snap)
			if err != nil {
				return err
			}
			_, err = tx.PutJobSnapshot(ctx, state.JobSnapshot{Job: j.name(), RunID: runID, ComputedAt: snap.ComputedAt, Payload: payload})
			if errors.Is(err, state.ErrOlderSnapshot) {
				s.log.Info("a newer snapshot of the job is already stored; keeping it", "job", j.name())
			} else if err != nil {
				return err
			}
		}
		if err := tx.RecordRunFinish(ctx, runID, rec.FinishedAt, rec.Series, rec.Failures, ""); err != nil {
			return err
		}
		now = true
		return tx.MarkFinalized(ctx, runID, rec.FinishedAt)
	})
	if err != nil || done {
		return err
	}
	if now {
		j.mu.Lock()
		j.failures = failed
		j.mu.Unlock()
		s.metrics.runs.WithLabelValues(j.name(), "success").Inc()
		s.metrics.lastSuccess.WithLabelValues(j.name()).Set(float64(time.Now().UnixNano()) / 1e9)
		s.metrics.seriesFailures.WithLabelValues(j.name()).Add(float64(rec.Failures))
		s.log.Info("distributed job run finished", "job", j.name(), "run_id", runID, "series", rec.Series, "failures", rec.Failures)
	}
	s.served.invalidate()
	if j.spec.Type == TypePredict && s.opts.After != nil {
		s.opts.After(ctx, j.name(), snap)
	}
	return s.opts.State.MarkAfterDone(ctx, runID, time.Now())
}
