// Package influx implements engine.MetricStore on InfluxDB through the
// official Go client (influxdb-client-go/v2): writes go to /api/v2/write as
// line protocol, reads are Flux queries to /api/v2/query, Ping is GET /ping.
// On InfluxDB 1.x, downsampled reads are InfluxQL queries to the 1.x /query
// endpoint instead (influxql.go, influxql_read.go; see
// Config.QueryLanguage), because 1.x evaluates Flux's aggregateWindow row
// by row.
//
// It targets InfluxDB OSS 1.8 (Flux must be enabled: [http] flux-enabled =
// true) and works unchanged against InfluxDB 2.x and InfluxDB Cloud; see
// Config for how URL, Token, Org and Bucket differ between them.
//
// Queries are built only from typed values (see flux.go and influxql.go):
// user strings are escaped as Flux string literals, or as InfluxQL quoted
// identifiers and string literals, so tag keys and values, measurement and
// field names of any content select exactly the series they name and can
// never change the meaning of a query.
//
// Writes: Write blocks until InfluxDB acknowledged every batch and is the
// path for data that must not be lost. AsyncWriter buffers points and sends
// them in the background; it is for non-critical write-back such as
// forecasts (see AsyncWriter for its weaker delivery guarantee).
//
// Some names cannot make the round trip through line protocol and Flux
// (a newline or carriage return anywhere, a trailing backslash, a
// measurement starting with '#', a tag key that is a Flux column name, a
// backslash before a delimiter in a measurement or field name, ...). Write
// refuses such points with an error wrapping ErrUnrepresentable rather than
// storing something else; everything it accepts reads back exactly.
package influx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
	"github.com/influxdata/influxdb-client-go/v2/api"
	apihttp "github.com/influxdata/influxdb-client-go/v2/api/http"
	"github.com/influxdata/influxdb-client-go/v2/api/query"

	"github.com/seed-f1b503aa/foresight/engine"
)

// ErrClosed is returned by operations on a closed Store.
var ErrClosed = errors.New("influx: store is closed")

// Store is an engine.MetricStore backed by InfluxDB. It is safe for
// concurrent use.
type Store struct {
	cfg    Config
	v1     bool // InfluxDB 1.x: no org; Flux range stop is inclusive in storage
	client influxdb2.Client
	writer api.WriteAPIBlocking
	reader api.QueryAPI

	// the InfluxQL read path (influxql_read.go)
	baseURL   string // URL without a trailing slash
	db, rp    string // Bucket split at its first '/'
	httpc     *http.Client
	transport *http.Transport

	langMu        sync.Mutex    // guards lang and serverVersion
	lang          QueryLanguage // resolved QueryLanguageAuto; "" until the server answered
	serverVersion string
	partialOnce   sync.Once // warn once about truncated InfluxQL answers

	mu     sync.Mutex // guards async
	async  *AsyncWriter
	closed atomic.Bool
	once   sync.Once
}

var _ engine.MetricStore = (*Store)(nil)

// New returns a store for cfg. It does not contact the server; call Ping to
// check that it is reachable.
func New(cfg Config) (*Store, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	httpTimeout := max(cfg.Timeouts.Write, cfg.Timeouts.Query, cfg.Timeouts.Ping)
	opts := influxdb2.DefaultOptions().
		SetApplicationName("foresight").
		SetPrecision(time.Nanosecond).
		SetBatchSize(uint(cfg.WriteBatchSize)).
		SetFlushInterval(uint(max(cfg.FlushInterval/time.Millisecond, 1))).
		SetHTTPRequestTimeout(uint(math.Ceil(httpTimeout.Seconds())))
	base := strings.TrimRight(cfg.URL, "/")
	client := influxdb2.NewClientWithOptions(base, cfg.Token, opts)
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = max(cfg.InfluxQLQueryConcurrency, cfg.QueryConcurrency, 2)
	db, rp, _ := strings.Cut(cfg.Bucket, "/")
	return &Store{
		cfg:       cfg,
		v1:        cfg.Org == "" || cfg.Org == "-",
		client:    client,
		writer:    client.WriteAPIBlocking(cfg.Org, cfg.Bucket),
		reader:    client.QueryAPI(cfg.Org),
		baseURL:   base,
		db:        db,
		rp:        rp,
		transport: transport,
		httpc:     &http.Client{Transport: transport},
	}, nil
}

// Config returns the effective configuration (defaults filled in).
func (s *Store) Config() Config { return s.cfg }

// Write sends points as line protocol in batches of Config.WriteBatchSize
// and returns nil only when InfluxDB acknowledged every batch. All points
// are validated before the first batch is sent: a point InfluxDB cannot
// store faithfully (see ErrUnrepresentable) fails the call with nothing
// written. Network failures, timeouts and 429/502/503/504 answers return errors
// wrapping engine.ErrUnavailable; earlier batches may then have been
// written, and retrying the call is safe.
func (s *Store) Write(ctx context.Context, points []engine.Point) error {
	if s.closed.Load() {
		return ErrClosed
	}
	lines, err := encodePoints(points)
	if err != nil {
		return fmt.Errorf("influx: write: %w", err)
	}
	n := s.cfg.WriteBatchSize
	for lo := 0; lo < len(lines); lo += n {
		hi := min(lo+n, len(lines))
		if err := s.writeBatch(ctx, lines[lo:hi]); err != nil {
			return classify(fmt.Sprintf("write points %d-%d of %d", lo, hi-1, len(lines)), err)
		}
	}
	return nil
}

func (s *Store) writeBatch(ctx context.Context, lines []string) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeouts.Write)
	defer cancel()
	return s.writer.WriteRecord(ctx, lines...)
}

// Read returns one series. The tag set must match exactly: a series with
// additional tags is a different series. With q.Step > 0 InfluxDB
// downsamples (InfluxQL GROUP BY time on 1.x, Flux aggregateWindow
// elsewhere; see Config.QueryLanguage) and every sample carries the start
// of its epoch-aligned window; only data inside [q.Start, q.End)
// contributes.
func (s *Store) Read(ctx context.Context, key engine.SeriesKey, q engine.RangeQuery) (engine.Series, error) {
	if err := q.Validate(); err != nil {
		return engine.Series{}, fmt.Errorf("influx: read %s: %w", key.ID(), err)
	}
	if s.closed.Load() {
		return engine.Series{}, ErrClosed
	}
	if reason := unqueryable(key); reason != "" {
		return engine.Series{}, fmt.Errorf("influx: read %s: %w (%s)", key.ID(), engine.ErrNotFound, reason)
	}
	want := key.ID()
	chunk := readChunk{keys: []engine.SeriesKey{key}}
	chunk.influxql = s.useInfluxQL(ctx, q) && influxqlKeyExpressible(key)
	got, err := s.readChunk(ctx, "read "+want, chunk, q)
	if err != nil {
		return engine.Series{}, err
	}
	sr, ok := got[want]
	if !ok {
		return engine.Series{}, fmt.Errorf("influx: read %s: %w", want, engine.ErrNotFound)
	}
	return *sr, nil
}

// ReadMany reads several series with as few queries as possible. Flux: one
// query per Config.MaxKeysPerQuery keys (up to Config.QueryConcurrency at
// once), whose filter ORs the keys grouped by measurement and field.
// InfluxQL (downsampled reads on 1.x): one request per
// Config.InfluxQLMaxKeysPerQuery keys (up to Config.InfluxQLQueryConcurrency
// at once) with one statement per measurement and field. Missing series are
// omitted; the result is sorted by ID.
func (s *Store) ReadMany(ctx context.Context, keys []engine.SeriesKey, q engine.RangeQuery) ([]engine.Series, error) {
	if err := q.Validate(); err != nil {
		return nil, fmt.Errorf("influx: read many: %w", err)
	}
	if s.closed.Load() {
		return nil, ErrClosed
	}
	seen := make(map[string]bool, len(keys))
	var todo []engine.SeriesKey
	for _, k := range keys {
		id := k.ID()
		if seen[id] || unqueryable(k) != "" {
			continue
		}
		seen[id] = true
		todo = append(todo, k)
	}
	var chunks []readChunk
	split := func(keys []engine.SeriesKey, n int, influxql bool) {
		for lo := 0; lo < len(keys); lo += n {
			chunks = append(chunks, readChunk{keys: keys[lo:min(lo+n, len(keys))], influxql: influxql})
		}
	}
	concurrency := s.cfg.QueryConcurrency
	if s.useInfluxQL(ctx, q) {
		var iql, flux []engine.SeriesKey
		for _, k := range todo {
			if influxqlKeyExpressible(k) {
				iql = append(iql, k)
			} else {
				flux = append(flux, k)
			}
		}
		// one statement per measurement and field: keep those together
		sort.SliceStable(iql, func(i, j int) bool {
			if iql[i].Measurement != iql[j].Measurement {
				return iql[i].Measurement < iql[j].Measurement
			}
			return iql[i].Field < iql[j].Field
		})
		split(iql, s.cfg.InfluxQLMaxKeysPerQuery, true)
		split(flux, s.cfg.MaxKeysPerQuery, false)
		concurrency = s.cfg.InfluxQLQueryConcurrency
	} else {
		split(todo, s.cfg.MaxKeysPerQuery, false)
	}

	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		out      []engine.Series
		firstErr error
		wg       sync.WaitGroup
	)
	sem := make(chan struct{}, concurrency)
	for i, chunk := range chunks {
		sem <- struct{}{}
		if ctx.Err() != nil { // an earlier chunk failed
			<-sem
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			lang := "Flux"
			if chunk.influxql {
				lang = "InfluxQL"
			}
			op := fmt.Sprintf("read many (%s query %d of %d, %d keys)", lang, i+1, len(chunks), len(chunk.keys))
			got, err := s.readChunk(ctx, op, chunk, q)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
					cancel()
				}
				return
			}
			for _, sr := range got {
				out = append(out, *sr)
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := parent.Err(); err != nil { // cancelled between two queries
		return nil, classify("read many", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key.ID() < out[j].Key.ID() })
	return out, nil
}

// readChunk is the keys of one query and its language.
type readChunk struct {
	keys     []engine.SeriesKey
	influxql bool // all keys are influxqlKeyExpressible and the read has a step
}

// useInfluxQL reports whether downsampled reads of q go through InfluxQL.
func (s *Store) useInfluxQL(ctx context.Context, q engine.RangeQuery) bool {
	return q.Step > 0 && s.queryLanguage(ctx) == QueryLanguageInfluxQL
}

// readChunk reads the series of c.keys over q with one query and returns
// them by ID; series not named by a key exactly (e.g. with extra tags) are
// left out. An InfluxQL answer the server truncated is read again with
// Flux.
func (s *Store) readChunk(ctx context.Context, op string, c readChunk, q engine.RangeQuery) (map[string]*engine.Series, error) {
	want := make(map[string]bool, len(c.keys))
	for _, k := range c.keys {
		want[k.ID()] = true
	}
	keep := func(k engine.SeriesKey) bool { return want[k.ID()] }
	if c.influxql {
		got, err := s.influxqlCollect(ctx, op, c.keys, q, keep)
		if !errors.Is(err, errPartial) {
			return got, err
		}
		s.partialOnce.Do(func() {
			s.cfg.Logger.Warn("InfluxDB truncated an InfluxQL answer (its max-row-limit setting); reading such series with Flux, which is much slower. "+
				"Set max-row-limit = 0 in the [http] section of the InfluxDB configuration.", "op", op)
		})
	}
	fq := s.newQuery(q.Start, q.End)
	fq.step, fq.agg = q.Step, q.Agg
	if len(c.keys) == 1 {
		fq.where = keyPredicate(c.keys[0])
	} else {
		fq.where = keysPredicate(c.keys)
	}
	return s.collect(ctx, op, fq, keep)
}

// keysPredicate ORs the keys, sharing the measurement and field comparison
// among keys that have the same ones.
func keysPredicate(keys []engine.SeriesKey) predicate {
	type mf struct{ m, f string }
	var order []mf
	tagSets := map[mf][]predicate{}
	anyTags := map[mf]bool{} // false once a key without tags is seen
	for _, k := range keys {
		g := mf{k.Measurement, k.Field}
		if _, ok := tagSets[g]; !ok {
			order = append(order, g)
			tagSets[g] = nil
			anyTags[g] = true
		}
		if len(k.Tags) == 0 {
			anyTags[g] = false // the group's rows are all needed
			continue
		}
		var ts and
		for _, name := range k.TagNames() {
			ts = append(ts, tagIs(name, k.Tags[name]))
		}
		tagSets[g] = append(tagSets[g], ts)
	}
	var all or
	for _, g := range order {
		p := and{measurementIs(g.m), fieldIs(g.f)}
		if anyTags[g] {
			p = append(p, or(tagSets[g]))
		}
		all = append(all, p)
	}
	return all
}

// ListSeries lists the numeric series with at least one sample in
// [f.Start, f.End) (defaults: End = now, Start = End - Config.ListLookback)
// that match f, sorted by ID. It reads the first sample of each matching
// series in the window (InfluxDB 1.8 has no index that answers "has data in
// this window" exactly), so its cost grows with the number of samples in the
// window; narrow windows and filters keep it fast.
func (s *Store) ListSeries(ctx context.Context, f engine.SeriesFilter) ([]engine.SeriesKey, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	end := f.End
	if end.IsZero() {
		end = time.Now()
	}
	start := f.Start
	if start.IsZero() {
		start = end.Add(-s.cfg.ListLookback)
	}
	if start.After(end) {
		return nil, fmt.Errorf("influx: list series: start %s is after end %s", start.Format(time.RFC3339Nano), end.Format(time.RFC3339Nano))
	}
	if !end.After(start) {
		return []engine.SeriesKey{}, nil
	}
	var where and
	if f.Measurement != "" {
		where = append(where, measurementIs(f.Measurement))
	}
	if f.Field != "" {
		where = append(where, fieldIs(f.Field))
	}
	tagNames := make([]string, 0, len(f.Tags))
	for k := range f.Tags {
		tagNames = append(tagNames, k)
	}
	sort.Strings(tagNames)
	for _, k := range tagNames {
		if k == "" || reservedColumns[k] || f.Tags[k] == "" {
			// no stored series can have such a tag
			return []engine.SeriesKey{}, nil
		}
		where = append(where, tagIs(k, f.Tags[k]))
	}
	fq := s.newQuery(start, end)
	fq.firstOnly = true
	if len(where) > 0 {
		fq.where = where
	}
	match := func(k engine.SeriesKey) bool {
		if (f.Measurement != "" && k.Measurement != f.Measurement) || (f.Field != "" && k.Field != f.Field) {
			return false
		}
		for name, v := range f.Tags {
			if got, ok := k.Tags[name]; !ok || got != v {
				return false
			}
		}
		return true
	}
	got, err := s.collect(ctx, "list series", fq, match)
	if err != nil {
		return nil, err
	}
	keys := make([]engine.SeriesKey, 0, len(got))
	for _, sr := range got {
		keys = append(keys, sr.Key)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].ID() < keys[j].ID() })
	if f.Limit > 0 && len(keys) > f.Limit {
		keys = keys[:f.Limit]
	}
	return keys, nil
}

// Ping checks GET /ping. Any failure wraps engine.ErrUnavailable.
func (s *Store) Ping(ctx context.Context) error {
	if s.closed.Load() {
		return ErrClosed
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeouts.Ping)
	defer cancel()
	if _, err := s.client.Ping(ctx); err != nil {
		return fmt.Errorf("influx: ping %s: %w: %w", s.cfg.URL, engine.ErrUnavailable, err)
	}
	return nil
}

// Close flushes the async writer (if one was created), stops its goroutines
// and releases the client's connections. It is idempotent.
func (s *Store) Close() error {
	s.once.Do(func() {
		s.closed.Store(true)
		s.mu.Lock()
		aw := s.async
		s.mu.Unlock()
		if aw != nil {
			aw.stop() // refuse new points; buffered ones are flushed below
		}
		s.client.Close() // flushes and closes every WriteAPI, closing its error channel
		if aw != nil {
			<-aw.done // the error drain has seen the channel close
		}
		s.transport.CloseIdleConnections()
	})
	return nil
}

// newQuery starts a query of the store's bucket over [start, stop).
func (s *Store) newQuery(start, stop time.Time) fluxQuery {
	return fluxQuery{bucket: s.cfg.Bucket, start: start, stop: stop, storageStopInclusive: s.v1}
}

// unqueryable reports why no stored series can have key k, or "".
func unqueryable(k engine.SeriesKey) string {
	if k.Measurement == "" || k.Field == "" {
		return "empty measurement or field"
	}
	for name, v := range k.Tags {
		if reservedColumns[name] {
			return fmt.Sprintf("tag key %q is reserved", name)
		}
		if v == "" || name == "" {
			return "empty tag key or value"
		}
	}
	return ""
}

// resultColumns are the Flux columns that are not tags.
var resultColumns = map[string]bool{
	"_start": true, "_stop": true, "_time": true, "_value": true,
	"_field": true, "_measurement": true, "result": true, "table": true,
}

// collect runs fq and returns the series it yields (by ID) for which keep
// is true, with their numeric samples in time order. Series without any
// numeric sample (string fields) are left out.
func (s *Store) collect(ctx context.Context, op string, fq fluxQuery, keep func(engine.SeriesKey) bool) (map[string]*engine.Series, error) {
	text, err := fq.build()
	if err != nil {
		return nil, fmt.Errorf("influx: %s: %w", op, err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeouts.Query)
	defer cancel()
	res, err := s.reader.Query(ctx, text)
	if err != nil {
		return nil, classify(op, err)
	}
	defer res.Close()

	out := map[string]*engine.Series{}
	var cur *engine.Series // nil: the current table is skipped
	table, result := -1, ""
	for res.Next() {
		rec := res.Record()
		if res.TableChanged() || rec.Table() != table || rec.Result() != result {
			table, result = rec.Table(), rec.Result()
			k := recordKey(rec)
			cur = nil
			if keep(k) {
				id := k.ID()
				if cur = out[id]; cur == nil {
					cur = &engine.Series{Key: k}
					out[id] = cur
				}
			}
		}
		if cur == nil {
			continue
		}
		v, ok := numeric(rec.Value())
		if !ok {
			continue
		}
		t := rec.Time().UTC()
		if fq.step > 0 {
			t = floorToStep(t, fq.step)
		} else if t.Before(fq.start) || !t.Before(fq.stop) {
			continue // outside [start, stop): never expected, cheap to enforce
		}
		cur.Samples = append(cur.Samples, engine.Sample{Time: t, Value: v})
	}
	if err := res.Err(); err != nil {
		return nil, classify(op, err)
	}
	for id, sr := range out {
		if len(sr.Samples) == 0 {
			delete(out, id)
			continue
		}
		sortSamples(sr.Samples)
	}
	return out, nil
}

// sortSamples puts samples in time order (they almost always are).
func sortSamples(ss []engine.Sample) {
	if !sort.SliceIsSorted(ss, func(i, j int) bool { return ss[i].Time.Before(ss[j].Time) }) {
		sort.SliceStable(ss, func(i, j int) bool { return ss[i].Time.Before(ss[j].Time) })
	}
}

// recordKey is the series key of rec's table: measurement, field and every
// other non-empty string column except Flux's own.
func recordKey(rec *query.FluxRecord) engine.SeriesKey {
	k := engine.SeriesKey{Measurement: rec.Measurement(), Field: rec.Field()}
	for col, v := range rec.Values() {
		if resultColumns[col] {
			continue
		}
		if s, ok := v.(string); ok && s != "" {
			if k.Tags == nil {
				k.Tags = map[string]string{}
			}
			k.Tags[col] = s
		}
	}
	return k
}

// numeric converts a Flux _value to float64: float, integer, unsigned and
// boolean (0/1) fields are numeric; strings and nulls are not.
func numeric(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// floorToStep returns the start of the epoch-aligned window of length step
// containing t. aggregateWindow clips the first window to the range start;
// this restores the aligned start the engine expects.
func floorToStep(t time.Time, step time.Duration) time.Time {
	ns := t.UnixNano()
	m := ns % int64(step)
	if m < 0 {
		m += int64(step)
	}
	return time.Unix(0, ns-m).UTC()
}

// classify wraps err for op, adding engine.ErrUnavailable when the server
// could not be reached or did not answer in time.
func classify(op string, err error) error {
	if unavailable(err) {
		return fmt.Errorf("influx: %s: %w: %w", op, engine.ErrUnavailable, err)
	}
	return fmt.Errorf("influx: %s: %w", op, err)
}

// unavailable reports whether err means the server is unreachable, down,
// overloaded or too slow, as opposed to rejecting the request.
func unavailable(err error) bool {
	var he *apihttp.Error
	if errors.As(err, &he) && he.StatusCode != 0 {
		switch he.StatusCode {
		case 429, 502, 503, 504: // rate limited (2.x/Cloud), proxy or server unavailable
			return true
		}
		return false
	}
	switch {
	case errors.Is(err, context.Canceled):
		return false // the caller gave up; nothing is known about the server
	case errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE):
		return true
	}
	var ne net.Error
	return errors.As(err, &ne)
}
