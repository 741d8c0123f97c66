package influx

import (
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/influxdata/influxdb-client-go/v2/api"

	"github.com/seed-f1b503aa/foresight/engine"
)

// AsyncWriter writes points in the background through the client's
// non-blocking WriteAPI: points are buffered, sent in batches of
// Config.WriteBatchSize or every Config.FlushInterval, and requests that
// fail with a retryable error (network failure, 429, 5xx) are retried with
// back-off from a bounded in-memory queue.
//
// Delivery differs from Store.Write: Write returns when the points are
// buffered, not when InfluxDB has them. A point can be lost when InfluxDB
// rejects its batch (4xx, e.g. a missing database or a field type
// conflict), when retries run out, when the retry queue overflows, or when
// the process exits before Flush/Close. Failures are reported after the
// fact: logged to Config.Logger, passed to Config.OnAsyncError and counted
// by Failures. Use it for output that can be recomputed, such as
// forecasts; use Store.Write for anything that must be stored.
type AsyncWriter struct {
	api   api.WriteAPI
	log   *slog.Logger
	onErr func(error)

	mu     sync.RWMutex // write lock taken by stop; read lock by Write
	closed bool

	failures atomic.Int64
	done     chan struct{} // closed when the error channel is drained
}

// AsyncWriter returns the store's background writer, creating it on first
// use. Every call returns the same writer; Store.Close flushes and stops it.
func (s *Store) AsyncWriter() *AsyncWriter {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.async != nil {
		return s.async
	}
	wa := s.client.WriteAPI(s.cfg.Org, s.cfg.Bucket)
	w := &AsyncWriter{
		api:   wa,
		log:   s.cfg.Logger.With("component", "influx-async-writer", "bucket", s.cfg.Bucket),
		onErr: s.cfg.OnAsyncError,
		done:  make(chan struct{}),
	}
	if s.closed.Load() {
		// Close already ran: hand out a writer that refuses points.
		w.closed = true
		close(w.done)
		s.async = w
		return w
	}
	errs := wa.Errors() // must be requested before the first write
	go w.drain(errs)
	s.async = w
	return w
}

// drain reports every failure until Close closes the channel.
func (w *AsyncWriter) drain(errs <-chan error) {
	defer close(w.done)
	for err := range errs {
		w.failures.Add(1)
		err = classify("async write", err)
		w.log.Warn("influx async write failed", "err", err)
		if w.onErr != nil {
			w.onErr(err)
		}
	}
}

// Write validates points and queues them. It returns an error only for
// points that can never be stored (see ErrUnrepresentable; nothing is queued
// then) or after Store.Close; delivery failures are reported
// asynchronously. It may block briefly while the buffer hands a full batch
// to the sender.
func (w *AsyncWriter) Write(points []engine.Point) error {
	lines, err := encodePoints(points)
	if err != nil {
		return fmt.Errorf("influx: async write: %w", err)
	}
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		return ErrClosed
	}
	for _, l := range lines {
		w.api.WriteRecord(l)
	}
	return nil
}

// Flush sends everything buffered and waits until it was sent or failed.
func (w *AsyncWriter) Flush() {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if !w.closed {
		w.api.Flush()
	}
}

// Failures returns the number of failed write requests reported so far
// (a request retried three times and then dropped counts four times).
func (w *AsyncWriter) Failures() int64 { return w.failures.Load() }

// stop makes Write refuse new points; Store.Close then flushes and closes
// the underlying WriteAPI.
func (w *AsyncWriter) stop() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
}
