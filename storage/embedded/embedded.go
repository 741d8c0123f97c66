// Package embedded is Foresight's zero set-up metric store: an
// engine.MetricStore that keeps its data in a local directory using the
// Prometheus TSDB library (github.com/prometheus/prometheus/tsdb).
//
// # Why the Prometheus TSDB
//
// Prometheus' TSDB is a battle-tested, pure-Go time-series engine that runs
// inside every Prometheus server. It is embeddable as a library, needs no
// external process, and brings everything a metric store needs: a
// write-ahead log (WAL) so acknowledged writes survive a crash, Gorilla-style
// XOR compression of float samples (typically 1-2 bytes per sample), an inverted
// label index for fast series selection, time-based block retention and
// background compaction. Foresight only adds the mapping from its
// InfluxDB-shaped series keys to Prometheus labels, and in-store
// downsampling.
//
// # Data model
//
// An engine.SeriesKey {Measurement, Field, Tags} is stored as one TSDB series
// whose label set is
//
//	__name__  = Measurement   (MeasurementLabel)
//	__field__ = Field         (FieldLabel)
//	<tag key> = <tag value>   for every tag
//
// TSDB stores label names and values as opaque, length-prefixed strings and
// does not validate them (Prometheus checks names at its ingestion
// boundaries — scraping, remote write — which this package does not use), so
// tag keys and values round-trip verbatim: quotes, newlines, backslashes, '='
// and ',' and non-ASCII text need no escaping.
// Selection always uses equality matchers (labels.MatchEqual); no regular
// expression is ever built from user input.
//
// Two tag keys are reserved: "__name__" and "__field__". A point carrying
// such a tag is rejected with ErrReservedLabel rather than escaped, because
// an escaping scheme would make the stored labels differ from the tags the
// user sees and would have to be undone in every query. A tag whose value is
// the empty string is treated as absent, as TSDB does (line protocol has no
// empty tag values either); an empty tag key is an error.
//
// Timestamps are stored with millisecond precision: sub-millisecond parts of
// a point's time are truncated (Time.UnixMilli). A point with a zero Time is
// stamped with the current time, as line protocol does for points without a
// timestamp. NaN field values mean "missing" and are neither stored nor
// returned.
//
// # Out-of-order writes and bulk loads
//
// The out-of-order window equals the retention, so Write accepts samples in
// any order as long as they are no older than Retention before the newest
// sample in the store: late data, a per-series ordered file and idempotent
// retries of an already written batch all work through the ordinary,
// WAL-backed Write.
//
// Write is the right path for live data and modest amounts of history. A
// large history (the demo fleet's 120 days, a big file ingest) should go
// through a Loader (Store.NewLoader, or Store.Backfill for one batch): it
// builds finished TSDB blocks directly, bypassing the WAL, the head and
// compaction, and is both faster to load and leaves nothing for the
// background compactor; see backfill.go for the measurements and design.
//
// # Retention
//
// As in Prometheus, retention is measured from the newest sample in the
// store, not from the wall clock. TSDB deletes whole blocks once they are
// entirely older than the retention window (at compaction or at its
// periodic block reload), and refuses writes older than the window. In
// addition this package never returns samples older than the window, so
// reads do not depend on when a block happens to be deleted. Because one
// sample stamped far in the future would move the window past all real
// data, Write refuses points more than Options.MaxFutureSkew (default 7
// days) ahead of the clock; it refuses points older than the window too,
// and either way writes nothing of the batch (see Store.Write).
package embedded

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/util/compression"

	"github.com/seed-f1b503aa/foresight/engine"
)

// Reserved label names. MeasurementLabel is Prometheus' metric-name label,
// so the stored data also reads naturally with Prometheus tooling
// (e.g. `cpu{__field__="usage",host="db-01"}`).
const (
	MeasurementLabel = "__name__"
	FieldLabel       = "__field__"
)

// Defaults applied by Open for zero Options fields.
const (
	// DefaultRetention keeps 400 days: the demo fleet carries 120 days of
	// history, and month-end and annual patterns need more than a year.
	DefaultRetention = 400 * 24 * time.Hour
	// DefaultMinBlockDuration is the span of the in-memory head block before
	// it is persisted; TSDB's own default.
	DefaultMinBlockDuration = 2 * time.Hour
	// DefaultListLookback is how far back ListSeries looks when the filter
	// has no Start.
	DefaultListLookback = 30 * 24 * time.Hour
	// maxBlockCap caps the default MaxBlockDuration (as Prometheus does).
	maxBlockCap = 31 * 24 * time.Hour
	// DefaultMaxFutureSkew is how far ahead of the clock Write accepts
	// points by default: enough for clock skew and for forecasts written
	// back by scheduled jobs (the example job writes 48 hours ahead), far
	// too little for a timestamp in the wrong precision to pass. It is
	// lowered to half the out-of-order window when that is shorter, so
	// present-time writes always stay inside the window.
	DefaultMaxFutureSkew = 7 * 24 * time.Hour
)

// ErrClosed is returned by every method called after Close. It wraps
// engine.ErrUnavailable, so the API answers 503 for it.
var ErrClosed = fmt.Errorf("embedded store is closed: %w", engine.ErrUnavailable)

// ErrReservedLabel is returned when a tag key collides with one of the
// labels the store uses for the measurement or the field name.
var ErrReservedLabel = errors.New("tag key is reserved by the embedded store (" + MeasurementLabel + ", " + FieldLabel + ")")

// ErrInvalidPoint is returned for points that cannot be stored: an empty
// measurement, field name or tag key.
var ErrInvalidPoint = errors.New("invalid point")

// ErrOutsideWindow is returned (inside an *engine.PointError) for a point
// whose time the store does not accept: more than Options.MaxFutureSkew
// ahead of the clock, or older than the retention behind the newest sample
// in the store.
var ErrOutsideWindow = errors.New("outside the time window the store accepts")

// Options configures Open. The zero value is usable: every zero field takes
// the default documented on it.
type Options struct {
	// Retention is how much history is kept, measured back from the newest
	// sample in the store. Default DefaultRetention (400 days).
	Retention time.Duration

	// MinBlockDuration is the time span the in-memory head covers before
	// it is cut into a persistent block; it bounds how much data lives only
	// in the WAL. Default 2h. Must be a multiple of one millisecond.
	MinBlockDuration time.Duration

	// MaxBlockDuration is the largest span background compaction merges
	// blocks into. Larger blocks mean fewer files and faster long reads;
	// retention deletes whole blocks, so it is also the granularity of
	// deletion. Default Retention/10, capped at 31 days (Prometheus' rule).
	MaxBlockDuration time.Duration

	// OutOfOrderTimeWindow is how far behind the newest sample in the store
	// a Write may be. Default (and maximum): Retention, so any history that
	// would be kept can be written in any order. It cannot be disabled:
	// retrying a batch rewrites samples older than a series' newest one,
	// which only the out-of-order path accepts.
	OutOfOrderTimeWindow time.Duration

	// MaxFutureSkew is how far ahead of the clock (Now) a point's time may
	// be: Write refuses later points (ErrOutsideWindow). Retention and the
	// out-of-order window are measured from the newest sample, so a single
	// point stamped years ahead, such as a timestamp in seconds sent with
	// precision ns misread, would make every present-time write "too old"
	// and push real history out of retention. Zero means the default,
	// DefaultMaxFutureSkew (7 days) or half the out-of-order window if
	// that is shorter; negative disables the check.
	MaxFutureSkew time.Duration

	// Now is the clock MaxFutureSkew is measured from. Nil means time.Now.
	Now func() time.Time

	// ListLookback is the span ListSeries searches when the filter has no
	// Start. Default DefaultListLookback (30 days).
	ListLookback time.Duration

	// Logger receives TSDB's own log lines (compactions, WAL replay). Nil
	// discards them.
	Logger *slog.Logger

	// NoWALCompression stores the WAL uncompressed. By default WAL records
	// are Snappy-compressed, which roughly halves WAL size for a small CPU
	// cost.
	NoWALCompression bool
}

// withDefaults fills zero fields and validates the rest.
func (o Options) withDefaults() (Options, error) {
	if o.Retention == 0 {
		o.Retention = DefaultRetention
	}
	if o.Retention < time.Millisecond {
		return o, fmt.Errorf("embedded: retention %s is below 1ms", o.Retention)
	}
	if o.MinBlockDuration == 0 {
		o.MinBlockDuration = DefaultMinBlockDuration
	}
	if o.MinBlockDuration < time.Millisecond || o.MinBlockDuration%time.Millisecond != 0 {
		return o, fmt.Errorf("embedded: min block duration %s must be a positive whole number of milliseconds", o.MinBlockDuration)
	}
	if o.MaxBlockDuration == 0 {
		o.MaxBlockDuration = min(o.Retention/10, maxBlockCap)
	}
	if o.MaxBlockDuration < o.MinBlockDuration {
		o.MaxBlockDuration = o.MinBlockDuration
	}
	if o.OutOfOrderTimeWindow <= 0 || o.OutOfOrderTimeWindow > o.Retention {
		o.OutOfOrderTimeWindow = o.Retention
	}
	if o.OutOfOrderTimeWindow < time.Millisecond {
		o.OutOfOrderTimeWindow = time.Millisecond
	}
	if o.MaxFutureSkew == 0 {
		o.MaxFutureSkew = min(DefaultMaxFutureSkew, o.OutOfOrderTimeWindow/2)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.ListLookback <= 0 {
		o.ListLookback = DefaultListLookback
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// Store is an engine.MetricStore backed by a TSDB in a local directory.
// It is safe for concurrent use. Only one Store (or Prometheus server) may
// have a directory open at a time; TSDB's lock file enforces that.
type Store struct {
	opts Options
	dir  string

	// mu guards closed and db against Close: every operation holds a read
	// lock for its duration, Close takes the write lock.
	mu     sync.RWMutex
	closed bool
	db     *tsdb.DB
}

var _ engine.MetricStore = (*Store)(nil)

// Open opens (creating if needed) the store in dir and replays its WAL, so
// everything acknowledged before a crash or restart is readable again.
func Open(dir string, opts Options) (*Store, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	to := tsdb.DefaultOptions()
	to.RetentionDuration = o.Retention.Milliseconds()
	to.MinBlockDuration = o.MinBlockDuration.Milliseconds()
	to.MaxBlockDuration = o.MaxBlockDuration.Milliseconds()
	to.OutOfOrderTimeWindow = o.OutOfOrderTimeWindow.Milliseconds()
	if !o.NoWALCompression {
		to.WALCompression = compression.Snappy
	}
	// Overlapping blocks come from out-of-order writes and from Backfill;
	// vertical compaction merges them.
	to.EnableOverlappingCompaction = true
	db, err := tsdb.Open(dir, o.Logger, nil, to, nil)
	if err != nil {
		return nil, fmt.Errorf("embedded: open %s: %w", dir, err)
	}
	s := &Store{opts: o, dir: dir, db: db}
	// TSDB now holds the directory lock, so no Loader can be running.
	if err := removeLoaderLeftovers(dir); err != nil {
		return nil, errors.Join(fmt.Errorf("embedded: open %s: %w", dir, err), db.Close())
	}
	// TSDB sets the head's minimum valid time from in-order blocks only;
	// raise it above loaded (out-of-order flagged) blocks as well, so
	// in-order writes never land below a block (see backfill.go).
	var newest int64 = math.MinInt64
	for _, b := range db.Blocks() {
		newest = max(newest, b.Meta().MaxTime)
	}
	if newest > math.MinInt64 {
		s.raiseMinValidTime(newest)
	}
	return s, nil
}

// Options returns the effective options (defaults filled in).
func (s *Store) Options() Options { return s.opts }

// Dir returns the directory the store lives in.
func (s *Store) Dir() string { return s.dir }

// acquire takes the read lock and fails if the store is closed. Callers
// must call s.mu.RUnlock when it returns nil.
func (s *Store) acquire() error {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return ErrClosed
	}
	return nil
}

// Ping returns nil while the store is open and ErrClosed after Close.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.acquire(); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	return nil
}

// Compact persists the parts of the in-memory head that are ready to be
// blocks, merges blocks and deletes blocks outside the retention window.
// TSDB does this on its own in the background (every minute); Compact
// forces it now, e.g. after a large load or in tests.
func (s *Store) Compact(ctx context.Context) error {
	if err := s.acquire(); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	if err := s.db.Compact(ctx); err != nil {
		return fmt.Errorf("embedded: compact: %w", err)
	}
	return nil
}

// Close waits for running operations, then closes the TSDB. Everything
// acknowledged by Write is already in the WAL and is replayed by the next
// Open. Calling Close twice is not an error.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("embedded: close: %w", err)
	}
	return nil
}
