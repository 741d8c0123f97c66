package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/seed-f1b503aa/foresight/engine"
	"github.com/seed-f1b503aa/foresight/engine/fleet"
	"github.com/seed-f1b503aa/foresight/storage/state"
)

// started is a run that is recorded and holds its job's running flag.
type started struct {
	id      int64
	at      time.Time // computed_at: the run's "now"
	clock   time.Time // wall clock at the start, for the duration
	trigger string
}

// begin takes j's running flag and records the run's start.
func (s *Service) begin(ctx context.Context, j *job, trigger string) (started, error) {
	if !s.enter() {
		return started{}, ErrStopped
	}
	j.mu.Lock()
	if j.running {
		j.mu.Unlock()
		s.wg.Done()
		return started{}, fmt.Errorf("%w: %s (run %d)", ErrAlreadyRunning, j.name(), j.runID)
	}
	j.running = true
	j.mu.Unlock()
	at := s.now().UTC()
	id, err := s.opts.State.RecordRunStart(ctx, j.name(), at)
	if err != nil {
		s.release(j)
		return started{}, err
	}
	j.mu.Lock()
	j.runID = id
	j.mu.Unlock()
	s.metrics.running.WithLabelValues(j.name()).Set(1)
	return started{id: id, at: at, clock: time.Now(), trigger: trigger}, nil
}

func (s *Service) release(j *job) {
	j.mu.Lock()
	j.running = false
	j.mu.Unlock()
	s.metrics.running.WithLabelValues(j.name()).Set(0)
	s.wg.Done()
}

// outcome is what a run produced.
type outcome struct {
	series, failures int
	failed           []SeriesFailure // the first keepFailures
	snap             *fleet.Snapshot // predict jobs
	err              error
}

func (o *outcome) fail(series, reason string) {
	o.failures++
	if len(o.failed) < keepFailures {
		o.failed = append(o.failed, SeriesFailure{Series: series, Reason: reason})
	}
}

// execute runs a begun run to its end: the work, the run's record, then
// (predict jobs) the After hook. It releases the job.
func (s *Service) execute(ctx context.Context, j *job, r started) state.JobRunRecord {
	defer s.release(j)
	log := s.log.With("job", j.name(), "run_id", r.id)
	log.Info("job run started", "trigger", r.trigger)
	rctx, cancel := context.WithTimeout(ctx, j.timeout)
	var o outcome
	switch j.spec.Type {
	case TypePredict:
		o = s.runPredict(rctx, j, r)
	case TypeForecast:
		o = s.runForecast(rctx, j, r)
	}
	cancel()
	if o.err == nil && ctx.Err() != nil {
		o.err = ctx.Err()
	}
	rec := state.JobRunRecord{ID: r.id, Job: j.name(), StartedAt: r.at.Truncate(time.Microsecond),
		FinishedAt: r.at.Add(time.Since(r.clock)).Truncate(time.Microsecond), Series: o.series, Failures: o.failures}
	if o.err != nil {
		rec.Error = o.err.Error()
	}
	// The record is written even when the run was cancelled, and retried
	// for a minute: a state database restarting (a PostgreSQL failover)
	// must not leave the run "running" forever. A run whose end could not
	// be recorded at all is closed as interrupted at the next start.
	wctx, wcancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	for wait := 250 * time.Millisecond; ; wait = min(2*wait, 5*time.Second) {
		err := s.opts.State.RecordRunFinish(wctx, r.id, rec.FinishedAt, rec.Series, rec.Failures, rec.Error)
		if err == nil {
			break
		}
		if errors.Is(err, state.ErrNotFound) || wctx.Err() != nil {
			log.Error("recording the end of a run", "err", err)
			break
		}
		log.Warn("recording the end of a run; retrying", "err", err, "in", wait)
		select {
		case <-time.After(wait):
		case <-wctx.Done():
		}
	}
	wcancel()
	j.mu.Lock()
	j.failures = o.failed
	j.mu.Unlock()
	dur := time.Since(r.clock)
	s.metrics.duration.WithLabelValues(j.name()).Observe(dur.Seconds())
	s.metrics.seriesFailures.WithLabelValues(j.name()).Add(float64(o.failures))
	if o.err != nil {
		s.metrics.runs.WithLabelValues(j.name(), "failure").Inc()
		log.Warn("job run failed; the previous results stay served", "err", o.err, "series", o.series, "failures", o.failures,
			"duration", dur.Round(time.Millisecond))
		s.served.invalidate()
		return rec
	}
	s.metrics.runs.WithLabelValues(j.name(), "success").Inc()
	s.metrics.lastSuccess.WithLabelValues(j.name()).Set(float64(time.Now().UnixNano()) / 1e9)
	attrs := []any{"series", o.series, "failures", o.failures, "duration", dur.Round(time.Millisecond)}
	if len(o.failed) > 0 {
		attrs = append(attrs, "first_failure", o.failed[0].Series+": "+o.failed[0].Reason)
	}
	log.Info("job run finished", attrs...)
	s.served.invalidate()
	if o.snap != nil && s.opts.After != nil {
		s.opts.After(ctx, j.name(), *o.snap)
	}
	return rec
}

// runPredict runs the job's predictors, writes the predictions back and
// stores the snapshot. A source the store could not read fails the run
// (after the store retries): a partial snapshot would hide entities.
func (s *Service) runPredict(ctx context.Context, j *job, r started) outcome {
	runner := &fleet.Runner{Store: s.store, Rules: s.opts.Rules, Logger: s.log.With("job", j.name()), Workers: s.opts.Workers,
		Calendar: s.cal, Kinds: j.kinds}
	snap, err := runner.Run(ctx, r.at)
	var o outcome
	if err != nil {
		o.err = err
		return o
	}
	o.series = len(snap.Predictions)
	for _, p := range snap.Predictions {
		if p.Error != "" {
			o.fail(p.ID, p.Error)
		}
	}
	if len(snap.Errors) > 0 {
		for _, e := range snap.Errors {
			o.fail("source", e)
		}
		o.err = fmt.Errorf("could not read every source: %s", strings.Join(snap.Errors, "; "))
		return o
	}
	if s.opts.Config.Writeback.Enabled {
		points := predictionPoints(s.opts.Config.Writeback.Predictions, j.name(), snap)
		if err := s.write(ctx, j, s.opts.Config.Writeback.Predictions, points); err != nil {
			o.err = fmt.Errorf("write-back: %w", err)
			return o
		}
	}
	payload, err := json.Marshal(snap)
	if err != nil {
		o.err = fmt.Errorf("encoding the snapshot: %w", err)
		return o
	}
	_, err = s.opts.State.PutJobSnapshot(ctx, state.JobSnapshot{Job: j.name(), RunID: r.id, ComputedAt: snap.ComputedAt, Payload: payload})
	if errors.Is(err, state.ErrOlderSnapshot) {
		s.log.Info("a newer snapshot of the job is already stored; keeping it", "job", j.name())
	} else if err != nil {
		o.err = err
		return o
	}
	o.snap = &snap
	return o
}

// runForecast lists the matching series, reads them in batches (the
// window and aggregate pushed down into the store), forecasts each with a
// bounded pool and writes the forecasts back, batch by batch. The next
// batch is read while the current one is forecast.
func (s *Service) runForecast(ctx context.Context, j *job, r started) outcome {
	var o outcome
	f := j.spec.Forecast
	step := f.Step.D()
	end := r.at.Truncate(step)
	q := engine.RangeQuery{Start: end.Add(-f.History.D()), End: end, Step: step, Agg: engine.AggMean}
	keys, err := s.store.ListSeries(ctx, engine.SeriesFilter{Measurement: f.Measurement, Field: f.Field, Tags: f.Where, Start: q.Start, End: q.End})
	if err != nil {
		o.err = err
		return o
	}
	o.series = len(keys)
	type batch struct {
		keys   []engine.SeriesKey
		series []engine.Series
		err    error
	}
	rctx, cancel := context.WithCancel(ctx)
	batches := make(chan batch, 1)
	defer func() { // stop the reader and wait for it
		cancel()
		for range batches {
		}
	}()
	go func() {
		defer close(batches)
		for i := 0; i < len(keys); i += s.opts.ReadBatch {
			b := batch{keys: keys[i:min(i+s.opts.ReadBatch, len(keys))]}
			b.series, b.err = s.store.ReadMany(rctx, b.keys, q)
			select {
			case batches <- b:
			case <-rctx.Done():
				return
			}
			if b.err != nil {
				return
			}
		}
	}()
	meas := s.opts.Config.Writeback.Forecasts
	for b := range batches {
		if b.err != nil {
			o.err = b.err
			return o
		}
		got := make(map[string]bool, len(b.series))
		inputs := make([]engine.ForecastInput, len(b.series))
		for i, sr := range b.series {
			id := sr.Key.ID()
			got[id] = true
			inputs[i] = engine.ForecastInput{Name: id, Samples: sr.Samples}
		}
		for _, k := range b.keys {
			if !got[k.ID()] {
				o.fail(k.ID(), "no data in the history window")
			}
		}
		outs := engine.ForecastMany(rctx, inputs, j.fspec, s.opts.Workers)
		if err := rctx.Err(); err != nil {
			o.err = err
			return o
		}
		var points []engine.Point
		for i, out := range outs {
			if out.Err != nil {
				o.fail(inputs[i].Name, out.Err.Error())
				continue
			}
			if s.opts.Config.Writeback.Enabled {
				points = appendForecastPoints(points, meas, j.name(), j.fspec.Model, b.series[i].Key, out.Result)
			}
		}
		if len(points) > 0 {
			if err := s.write(rctx, j, meas, points); err != nil {
				o.err = fmt.Errorf("write-back: %w", err)
				return o
			}
		}
	}
	return o
}
