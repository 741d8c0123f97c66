package embedded

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"

	"github.com/seed-f1b503aa/foresight/engine"
)

// retentionFloor returns the oldest timestamp (ms) still inside the
// retention window: Retention before the newest sample in the store, the
// reference point TSDB itself uses for retention. Reads never return older
// samples, whether or not their block has been deleted yet.
func (s *Store) retentionFloor() int64 {
	return s.floorBelow(s.newest())
}

// newest returns the timestamp (ms) of the newest sample in the store, or
// math.MinInt64 when it is empty.
func (s *Store) newest() int64 {
	newest := s.db.Head().MaxTime()
	for _, b := range s.db.Blocks() {
		// block intervals are half-open [MinTime, MaxTime)
		newest = max(newest, b.Meta().MaxTime-1)
	}
	return newest
}

// floorBelow returns the oldest timestamp (ms) inside the retention window
// when the newest sample is at newest (math.MinInt64: no sample, no floor).
func (s *Store) floorBelow(newest int64) int64 {
	if newest == math.MinInt64 {
		return math.MinInt64
	}
	return newest - s.opts.Retention.Milliseconds()
}

// queryRange converts [start, end) to TSDB's inclusive millisecond range,
// clipped to the retention window. ok is false when nothing can match.
func (s *Store) queryRange(start, end time.Time) (mint, maxt int64, ok bool) {
	mint = max(ceilMillis(start), s.retentionFloor())
	maxt = ceilMillis(end) - 1
	return mint, maxt, mint <= maxt
}

// ListSeries returns the series matching f that have at least one sample
// in [f.Start, f.End), sorted by ID and capped at f.Limit. A zero End means
// now and a zero Start means ListLookback before End. Measurement, Field
// and every tag of f are exact (equality) matches; a tag filter with an
// empty value matches series without that tag. Filtering on a reserved tag
// key returns ErrReservedLabel.
func (s *Store) ListSeries(ctx context.Context, f engine.SeriesFilter) ([]engine.SeriesKey, error) {
	if err := s.acquire(); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for k := range f.Tags {
		if isReserved(k) {
			return nil, fmt.Errorf("embedded: list series: %w: %q", ErrReservedLabel, k)
		}
	}
	end := f.End
	if end.IsZero() {
		end = time.Now()
	}
	start := f.Start
	if start.IsZero() {
		start = end.Add(-s.opts.ListLookback)
	}
	mint, maxt, ok := s.queryRange(start, end)
	if !ok {
		return []engine.SeriesKey{}, nil
	}

	var ms []*labels.Matcher
	selective := false // some matcher does not match the empty value
	add := func(name, value string) {
		ms = append(ms, labels.MustNewMatcher(labels.MatchEqual, name, value))
		selective = selective || value != ""
	}
	if f.Measurement != "" {
		add(MeasurementLabel, f.Measurement)
	}
	if f.Field != "" {
		add(FieldLabel, f.Field)
	}
	for k, v := range f.Tags {
		add(k, v)
	}
	if !selective {
		// every stored series has a measurement; this selects them all
		ms = append(ms, labels.MustNewMatcher(labels.MatchNotEqual, MeasurementLabel, ""))
	}

	q, err := s.db.Querier(mint, maxt)
	if err != nil {
		return nil, fmt.Errorf("embedded: list series: %w", err)
	}
	defer q.Close()
	ss := q.Select(ctx, false, &storage.SelectHints{Start: mint, End: maxt}, ms...)
	keys := []engine.SeriesKey{}
	var it chunkenc.Iterator
	for n := 0; ss.Next(); n++ {
		if n&255 == 255 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		series := ss.At()
		// The index knows a series has chunks overlapping the range; make
		// sure one real sample is inside it (chunks are trimmed to
		// [mint, maxt] by the querier, so this decodes little).
		it = series.Iterator(it)
		if hasSample(it) {
			keys = append(keys, labelsKey(series.Labels()))
		}
	}
	if err := ss.Err(); err != nil {
		return nil, fmt.Errorf("embedded: list series: %w", err)
	}
	ids := make([]string, len(keys))
	for i := range keys {
		ids[i] = keys[i].ID()
	}
	sort.Sort(byID{keys, ids})
	if f.Limit > 0 && len(keys) > f.Limit {
		keys = keys[:f.Limit]
	}
	return keys, nil
}

// hasSample reports whether it yields at least one non-NaN float (or any
// histogram) sample.
func hasSample(it chunkenc.Iterator) bool {
	for {
		switch it.Next() {
		case chunkenc.ValNone:
			return false
		case chunkenc.ValFloat:
			if _, v := it.At(); !math.IsNaN(v) {
				return true
			}
		default:
			return true
		}
	}
}

// byID sorts keys by their precomputed IDs.
type byID struct {
	keys []engine.SeriesKey
	ids  []string
}

func (b byID) Len() int           { return len(b.keys) }
func (b byID) Less(i, j int) bool { return b.ids[i] < b.ids[j] }
func (b byID) Swap(i, j int) {
	b.keys[i], b.keys[j] = b.keys[j], b.keys[i]
	b.ids[i], b.ids[j] = b.ids[j], b.ids[i]
}

// Read returns one series over q. With q.Step > 0 the samples are
// aggregated per epoch-aligned window [t, t+Step) while the TSDB chunks are
// decoded, in a single pass that never materialises the raw samples; each
// window is stamped with its start, and empty windows are absent. A series
// without samples in range, or a key that cannot exist (e.g. a reserved tag
// key), returns an error wrapping engine.ErrNotFound.
func (s *Store) Read(ctx context.Context, key engine.SeriesKey, q engine.RangeQuery) (engine.Series, error) {
	if err := q.Validate(); err != nil {
		return engine.Series{}, err
	}
	if err := s.acquire(); err != nil {
		return engine.Series{}, err
	}
	defer s.mu.RUnlock()
	if err := ctx.Err(); err != nil {
		return engine.Series{}, err
	}
	if err := validKey(key); err != nil {
		return engine.Series{}, err
	}
	key = normalizeKey(key)
	mint, maxt, ok := s.queryRange(q.Start, q.End)
	if !ok {
		return engine.Series{}, fmt.Errorf("%w: %s", engine.ErrNotFound, key.ID())
	}
	qr, err := s.db.Querier(mint, maxt)
	if err != nil {
		return engine.Series{}, fmt.Errorf("embedded: read: %w", err)
	}
	defer qr.Close()
	var b labels.ScratchBuilder
	sr, found, err := readSeries(ctx, qr, &b, key, q, mint, maxt)
	if err != nil {
		return engine.Series{}, err
	}
	if !found {
		return engine.Series{}, fmt.Errorf("%w: %s", engine.ErrNotFound, key.ID())
	}
	return sr, nil
}

// ReadMany reads keys from one TSDB querier (one consistent snapshot).
// Keys without data in range are omitted, duplicates are read once, and the
// result is sorted by ID.
func (s *Store) ReadMany(ctx context.Context, keys []engine.SeriesKey, q engine.RangeQuery) ([]engine.Series, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	if err := s.acquire(); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := []engine.Series{}
	mint, maxt, ok := s.queryRange(q.Start, q.End)
	if !ok {
		return out, nil
	}
	qr, err := s.db.Querier(mint, maxt)
	if err != nil {
		return nil, fmt.Errorf("embedded: read many: %w", err)
	}
	defer qr.Close()
	var b labels.ScratchBuilder
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if validKey(k) != nil {
			continue
		}
		k = normalizeKey(k)
		id := k.ID()
		if seen[id] {
			continue
		}
		seen[id] = true
		sr, found, err := readSeries(ctx, qr, &b, k, q, mint, maxt)
		if err != nil {
			return nil, err
		}
		if found {
			out = append(out, sr)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key.ID() < out[j].Key.ID() })
	return out, nil
}

// readSeries selects exactly key's series from qr (equality matchers for
// every label, then an exact label-set comparison so a series with extra
// tags is never taken for it) and reads or aggregates its samples.
func readSeries(ctx context.Context, qr storage.Querier, b *labels.ScratchBuilder, key engine.SeriesKey, q engine.RangeQuery, mint, maxt int64) (engine.Series, bool, error) {
	want := keyLabels(b, key.Measurement, key.Field, key.Tags)
	hints := &storage.SelectHints{Start: mint, End: maxt, Step: q.Step.Milliseconds()}
	ss := qr.Select(ctx, false, hints, keyMatchers(want)...)
	var (
		out   engine.Series
		found bool
	)
	for ss.Next() {
		series := ss.At()
		if !labels.Equal(series.Labels(), want) {
			continue
		}
		out = engine.Series{Key: key}
		if q.Step > 0 {
			windows := (maxt-mint)/max(q.Step.Milliseconds(), 1) + 1
			out.Samples = downsample(series.Iterator(nil), q.Step, q.Agg, int(min(windows, 1<<16)))
		} else {
			out.Samples = rawSamples(series.Iterator(nil))
		}
		found = len(out.Samples) > 0
		break
	}
	if err := ss.Err(); err != nil {
		return engine.Series{}, false, fmt.Errorf("embedded: read %s: %w", key.ID(), err)
	}
	return out, found, nil
}

// rawSamples returns every non-NaN float sample of it.
func rawSamples(it chunkenc.Iterator) []engine.Sample {
	var out []engine.Sample
	for vt := it.Next(); vt != chunkenc.ValNone; vt = it.Next() {
		if vt != chunkenc.ValFloat {
			continue // never written by this package
		}
		t, v := it.At()
		if math.IsNaN(v) {
			continue
		}
		out = append(out, engine.Sample{Time: fromMillis(t), Value: v})
	}
	return out
}

// window accumulates one downsampling window.
type window struct {
	start               int64 // window start, ns since the epoch
	n                   int
	sum, min, max, last float64
}

func (w *window) add(v float64) {
	if w.n == 0 {
		w.min, w.max = v, v
	} else {
		w.min = min(w.min, v)
		w.max = max(w.max, v)
	}
	w.n++
	w.sum += v
	w.last = v
}

func (w *window) value(agg engine.Aggregate) float64 {
	switch agg {
	case engine.AggMin:
		return w.min
	case engine.AggMax:
		return w.max
	case engine.AggLast:
		return w.last
	case engine.AggSum:
		return w.sum
	default: // mean
		return w.sum / float64(w.n)
	}
}

// downsample aggregates it per epoch-aligned window of width step in one
// pass, keeping only the current window's accumulator. sizeHint is the
// expected number of windows.
func downsample(it chunkenc.Iterator, step time.Duration, agg engine.Aggregate, sizeHint int) []engine.Sample {
	stepNs := int64(step)
	var w window
	out := make([]engine.Sample, 0, sizeHint)
	flush := func() {
		if w.n > 0 {
			out = append(out, engine.Sample{Time: time.Unix(0, w.start).UTC(), Value: w.value(agg)})
		}
	}
	for vt := it.Next(); vt != chunkenc.ValNone; vt = it.Next() {
		if vt != chunkenc.ValFloat {
			continue
		}
		t, v := it.At()
		if math.IsNaN(v) {
			continue
		}
		ns := t * int64(time.Millisecond)
		ws := ns - mod(ns, stepNs)
		if w.n == 0 || ws != w.start {
			flush()
			w = window{start: ws}
		}
		w.add(v)
	}
	flush()
	return out
}

// mod is the non-negative remainder of a/b (b > 0), so windows before 1970
// are aligned the same way as after.
func mod(a, b int64) int64 {
	r := a % b
	if r < 0 {
		r += b
	}
	return r
}
