package embedded

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"

	"github.com/seed-f1b503aa/foresight/engine"
)

// Write stores points through one TSDB appender and commits it. Commit
// writes the samples to the WAL before they become visible, so when Write
// returns nil every sample survives a process crash or restart. (The WAL is
// written to the operating system on every commit but, as in Prometheus,
// not fsynced per commit: a power loss can lose the last few seconds.)
//
// Each field of a point becomes one sample of the series
// {measurement, field, tags}. NaN values are skipped (NaN means missing).
//
// A point the store refuses for what it holds makes Write fail with an
// *engine.PointError naming the point's index, and nothing of the batch is
// written: a malformed point (empty measurement, field or tag key:
// ErrInvalidPoint; a reserved tag key: ErrReservedLabel) or a time outside
// the window the store accepts (ErrOutsideWindow): more than MaxFutureSkew
// ahead of the clock, or older than Retention behind the newest sample in
// the store (TSDB's own refusals, storage.ErrTooOldSample and
// storage.ErrOutOfBounds, are reported the same way).
//
// Writing the same sample again (same series, timestamp and value) is not
// an error, so retrying a batch is safe: the copies are merged, reads and
// compaction keep one sample per timestamp. A different value at the
// timestamp of a series' newest sample is not written (the store does not
// overwrite); the rest of the batch is, and Write returns an error that
// counts such samples and wraps engine.ErrConflict and
// storage.ErrDuplicateSampleForTimestamp. Writing a different value at an
// older timestamp that already holds a sample (or twice in one batch) is
// not detected; which of the two values a read returns is unspecified.
func (s *Store) Write(ctx context.Context, points []engine.Point) error {
	if err := s.acquire(); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(points) == 0 {
		return nil
	}
	now := s.opts.Now()
	var maxT int64 = math.MaxInt64
	if s.opts.MaxFutureSkew > 0 {
		maxT = toMillis(now.Add(s.opts.MaxFutureSkew))
	}
	timeOf := func(p *engine.Point) time.Time {
		if p.Time.IsZero() {
			return now
		}
		return p.Time
	}
	// The window: refuse far-future points first, as they would move it.
	// Retention is measured from the newest sample, the batch's own
	// included: older points would be refused by TSDB, or accepted and
	// never read back.
	newest := s.newest()
	for i := range points {
		pt := timeOf(&points[i])
		t := toMillis(pt)
		if t > maxT {
			return &engine.PointError{Index: i, Err: fmt.Errorf("embedded: %s: time %s is more than %s ahead of the store's clock (%s): %w",
				points[i].Measurement, pt.Format(time.RFC3339Nano), s.opts.MaxFutureSkew, now.UTC().Format(time.RFC3339), ErrOutsideWindow)}
		}
		newest = max(newest, t)
	}
	minT := s.floorBelow(newest)

	app := s.db.Appender(ctx)
	fail := func(err error) error {
		if rerr := app.Rollback(); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return err
	}
	refuse := func(i int, err error) error {
		return fail(&engine.PointError{Index: i, Err: fmt.Errorf("embedded: %s: %w", points[i].Measurement, err)})
	}

	c := newSeriesCache()
	var (
		conflicts rejections
		total     int
	)
	for i := range points {
		p := &points[i]
		if i&4095 == 4095 {
			if err := ctx.Err(); err != nil {
				return fail(err)
			}
		}
		pt := timeOf(p)
		t := toMillis(pt)
		if t < minT {
			return refuse(i, fmt.Errorf("time %s is older than the retention (%s) behind the newest sample (%s): %w: %w",
				pt.Format(time.RFC3339Nano), s.opts.Retention, fromMillis(minT+s.opts.Retention.Milliseconds()).Format(time.RFC3339Nano), ErrOutsideWindow, storage.ErrTooOldSample))
		}
		th := c.tagsHash(p.Measurement, p.Tags)
		for field, v := range p.Fields {
			if math.IsNaN(v) {
				continue
			}
			sr, err := c.get(th, p, field)
			if err != nil {
				return refuse(i, err)
			}
			total++
			ref, err := app.Append(sr.ref, sr.lset, t, v)
			switch {
			case err == nil:
				sr.ref = ref
			case errors.Is(err, storage.ErrDuplicateSampleForTimestamp):
				conflicts.add(err, sr.lset, t)
			case errors.Is(err, storage.ErrTooOldSample), errors.Is(err, storage.ErrOutOfBounds), errors.Is(err, storage.ErrOutOfOrderSample):
				return refuse(i, fmt.Errorf("%s at %s is older than the out-of-order window (%s) behind the newest sample in the store: %w: %w",
					labelsKey(sr.lset).ID(), pt.Format(time.RFC3339Nano), s.opts.OutOfOrderTimeWindow, ErrOutsideWindow, err))
			default:
				return fail(fmt.Errorf("embedded: append %s at %s: %w", labelsKey(sr.lset).ID(), pt.Format(time.RFC3339Nano), err))
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	if err := app.Commit(); err != nil {
		return fmt.Errorf("embedded: commit: %w", err)
	}
	return conflicts.err(total)
}

// seriesCache maps the series of one Write call (or of a whole Loader) to
// their labels and TSDB references, so a series' label set is built and
// validated once per batch rather than once per sample. Lookups hash the
// measurement, field and tags without sorting or allocating; a hit is
// verified against the point, so hash collisions cannot mix series up.
type seriesCache struct {
	seed    maphash.Seed
	h       maphash.Hash
	b       labels.ScratchBuilder
	byHash  map[uint64][]int32 // hash → entries
	entries []seriesRef
}

// seriesRef is one cached series.
type seriesRef struct {
	measurement, field string
	tags               []string // non-empty tags, copied: key, value, key, value...
	lset               labels.Labels
	ref                storage.SeriesRef
}

func newSeriesCache() *seriesCache {
	c := &seriesCache{seed: maphash.MakeSeed(), byHash: make(map[uint64][]int32)}
	c.h.SetSeed(c.seed)
	return c
}

// tagsHash hashes a measurement and its non-empty tags independently of
// map iteration order.
func (c *seriesCache) tagsHash(measurement string, tags map[string]string) uint64 {
	sum := maphash.String(c.seed, measurement)
	for k, v := range tags {
		if v == "" {
			continue
		}
		c.h.Reset()
		c.h.WriteString(k)
		c.h.WriteByte(0)
		c.h.WriteString(v)
		sum += c.h.Sum64()
	}
	return sum
}

// get returns the cached series of p's field, validating and adding it on
// first sight. The pointer is valid until the next get.
func (c *seriesCache) get(th uint64, p *engine.Point, field string) (*seriesRef, error) {
	i, err := c.index(th, p, field)
	if err != nil {
		return nil, err
	}
	return &c.entries[i], nil
}

// index is get returning the entry's index.
func (c *seriesCache) index(th uint64, p *engine.Point, field string) (int32, error) {
	h := th ^ (maphash.String(c.seed, field) * 0x9E3779B97F4A7C15)
	for _, i := range c.byHash[h] {
		e := &c.entries[i]
		if e.field == field && e.measurement == p.Measurement && e.sameTags(p.Tags) {
			return i, nil
		}
	}
	if p.Measurement == "" {
		return 0, fmt.Errorf("%w: empty measurement", ErrInvalidPoint)
	}
	if field == "" {
		return 0, fmt.Errorf("%w: empty field name", ErrInvalidPoint)
	}
	if err := checkTags(p.Tags); err != nil {
		return 0, err
	}
	tags := make([]string, 0, 2*len(p.Tags))
	for k, v := range p.Tags {
		if v != "" {
			tags = append(tags, k, v)
		}
	}
	c.entries = append(c.entries, seriesRef{
		measurement: p.Measurement,
		field:       field,
		tags:        tags,
		lset:        keyLabels(&c.b, p.Measurement, field, p.Tags),
	})
	i := int32(len(c.entries) - 1)
	c.byHash[h] = append(c.byHash[h], i)
	return i, nil
}

// sameTags reports whether m holds exactly e's tags, ignoring empty values
// (which are not stored).
func (e *seriesRef) sameTags(m map[string]string) bool {
	n := len(e.tags) / 2
	if len(m) < n {
		return false
	}
	for i := 0; i < len(e.tags); i += 2 {
		if v, ok := m[e.tags[i]]; !ok || v != e.tags[i+1] {
			return false
		}
	}
	if len(m) == n {
		return true
	}
	nonEmpty := 0
	for _, v := range m {
		if v != "" {
			nonEmpty++
		}
	}
	return nonEmpty == n
}

// rejections counts samples TSDB refused because a different value is
// already stored at their time, and remembers the first.
type rejections struct {
	n     int
	first error
}

func (r *rejections) add(err error, lset labels.Labels, t int64) {
	r.n++
	if r.first != nil {
		return
	}
	r.first = fmt.Errorf("%s at %s: %w", labelsKey(lset).ID(), fromMillis(t).Format(time.RFC3339Nano), err)
}

func (r *rejections) err(total int) error {
	if r.n == 0 {
		return nil
	}
	return fmt.Errorf("embedded: %w: %d of %d samples not written (the store keeps the value it has and does not overwrite); the rest of the batch was written; first: %w",
		engine.ErrConflict, r.n, total, r.first)
}
