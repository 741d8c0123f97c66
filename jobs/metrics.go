package jobs

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the scheduler's Prometheus metrics; they exist (unregistered)
// when Options.Registry is nil.
type metrics struct {
	runs           *prometheus.CounterVec   // job, outcome
	skipped        *prometheus.CounterVec   // job, reason
	duration       *prometheus.HistogramVec // job
	lastSuccess    *prometheus.GaugeVec     // job
	running        *prometheus.GaugeVec     // job
	seriesFailures *prometheus.CounterVec   // job
	retries        *prometheus.CounterVec   // op
	points         *prometheus.CounterVec   // job, measurement
	writeRefused   *prometheus.CounterVec   // job, measurement
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "foresight_job_runs_total",
			Help: "Finished runs of the scheduled jobs, by job and outcome (success, failure)."}, []string{"job", "outcome"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "foresight_job_ticks_skipped_total",
			Help: "Scheduled activations not run, by job and reason (overlap: the previous run was still going; outside_close_window)."},
			[]string{"job", "reason"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "foresight_job_run_duration_seconds",
			Help: "Wall time of job runs.", Buckets: prometheus.ExponentialBuckets(0.1, 2.5, 12)}, []string{"job"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "foresight_job_last_success_timestamp_seconds",
			Help: "Unix time the last successful run of the job finished."}, []string{"job"}),
		running: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "foresight_job_running",
			Help: "1 while a run of the job is in progress in this process."}, []string{"job"}),
		seriesFailures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "foresight_job_series_failures_total",
			Help: "Series (or predictions) a job run could not process."}, []string{"job"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "foresight_job_store_retries_total",
			Help: "Metric store calls of job runs tried again after a failure, by operation (list, read, write)."}, []string{"op"}),
		points: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "foresight_job_writeback_points_total",
			Help: "Points written back to the metric store, by job and measurement."}, []string{"job", "measurement"}),
		writeRefused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "foresight_job_writeback_refused_total",
			Help: "Write-back batches in which the store kept an earlier value at some timestamps (the embedded store does not overwrite)."},
			[]string{"job", "measurement"}),
	}
	if reg == nil {
		return m, nil
	}
	var errs []error
	for _, c := range []prometheus.Collector{m.runs, m.skipped, m.duration, m.lastSuccess, m.running, m.seriesFailures, m.retries, m.points, m.writeRefused} {
		errs = append(errs, reg.Register(c))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return m, nil
}
