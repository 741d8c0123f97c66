package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	promstorage "github.com/prometheus/prometheus/storage"

	"github.com/seed-f1b503aa/foresight/engine"
)

// retryStore retries the reads and writes of a run: a failed call is tried
// again up to retries times, after backoff, 2×backoff, 4×backoff… (at most
// maxBackoff each). It gives up at once when ctx ends, when the wait would
// pass ctx's deadline, and on errors a retry cannot fix (a missing series,
// a malformed request, a point the store cannot represent). Writes are
// idempotent per series and timestamp, so retrying a batch is safe.
type retryStore struct {
	engine.MetricStore
	retries int
	backoff time.Duration
	log     *slog.Logger
	retried *prometheus.CounterVec // by op
}

func (r *retryStore) do(ctx context.Context, op string, fn func() error) error {
	for attempt := 0; ; attempt++ {
		err := fn()
		if err == nil || attempt >= r.retries || !retryable(ctx, err) {
			if err != nil && attempt > 0 {
				err = fmt.Errorf("%s failed %d times: %w", op, attempt+1, err)
			}
			return err
		}
		wait := r.backoff << attempt
		if wait <= 0 || wait > maxBackoff {
			wait = maxBackoff
		}
		if d, ok := ctx.Deadline(); ok && time.Until(d) < wait {
			return fmt.Errorf("%s failed %d times, no time left for another try: %w", op, attempt+1, err)
		}
		r.log.Warn("store call failed; retrying", "op", op, "attempt", attempt+1, "retry_in", wait, "err", err)
		r.retried.WithLabelValues(op).Inc()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%s failed %d times: %w (%v)", op, attempt+1, err, ctx.Err())
		case <-t.C:
		}
	}
}

// retryable reports whether trying again may help.
func retryable(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var unrep interface{ Unrepresentable() bool }
	switch {
	case errors.Is(err, engine.ErrNotFound), errors.Is(err, engine.ErrBadRequest), errors.Is(err, engine.ErrPointRejected),
		errors.Is(err, promstorage.ErrDuplicateSampleForTimestamp),
		errors.As(err, &unrep) && unrep.Unrepresentable():
		return false
	}
	return true
}

func (r *retryStore) Write(ctx context.Context, points []engine.Point) error {
	return r.do(ctx, "write", func() error { return r.MetricStore.Write(ctx, points) })
}

func (r *retryStore) ListSeries(ctx context.Context, f engine.SeriesFilter) (keys []engine.SeriesKey, err error) {
	err = r.do(ctx, "list", func() error {
		keys, err = r.MetricStore.ListSeries(ctx, f)
		return err
	})
	return keys, err
}

func (r *retryStore) Read(ctx context.Context, key engine.SeriesKey, q engine.RangeQuery) (s engine.Series, err error) {
	err = r.do(ctx, "read", func() error {
		s, err = r.MetricStore.Read(ctx, key, q)
		return err
	})
	return s, err
}

func (r *retryStore) ReadMany(ctx context.Context, keys []engine.SeriesKey, q engine.RangeQuery) (s []engine.Series, err error) {
	err = r.do(ctx, "read", func() error {
		s, err = r.MetricStore.ReadMany(ctx, keys, q)
		return err
	})
	return s, err
}
