// Package engine holds Foresight's domain: series identity, the interfaces it
// consumes (MetricStore), and the logic that turns stored metrics into
// predictions. Storage back ends live in storage/ and implement the interfaces
// declared here.
package engine

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// ErrNotFound is returned when a requested series does not exist in the store.
var ErrNotFound = errors.New("series not found")

// ErrUnavailable wraps errors caused by the store being unreachable (network
// failure, server down). Callers map it to HTTP 503 and keep serving cached
// answers.
var ErrUnavailable = errors.New("metric store unavailable")

// SeriesKey identifies one numeric series: a measurement, one of its fields
// and the full tag set, exactly as InfluxDB names a series.
type SeriesKey struct {
	Measurement string            `json:"measurement"`
	Field       string            `json:"field"`
	Tags        map[string]string `json:"tags,omitempty"`
}

// ID returns the canonical, stable string form of the key: the line-protocol
// series key (measurement and tags sorted by key, with line-protocol
// escaping) followed by '#' and the field name, e.g.
// "disk,host=db-03,path=/data#used". Two keys with equal content have equal
// IDs. ParseSeriesID reverses it.
func (k SeriesKey) ID() string {
	var b strings.Builder
	b.WriteString(escapeKeyPart(k.Measurement, false))
	for _, name := range k.TagNames() {
		b.WriteByte(',')
		b.WriteString(escapeKeyPart(name, true))
		b.WriteByte('=')
		b.WriteString(escapeKeyPart(k.Tags[name], true))
	}
	b.WriteByte('#')
	b.WriteString(k.Field)
	return b.String()
}

// String is ID.
func (k SeriesKey) String() string { return k.ID() }

// TagNames returns the tag keys sorted.
func (k SeriesKey) TagNames() []string {
	names := make([]string, 0, len(k.Tags))
	for n := range k.Tags {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// escapeKeyPart escapes commas, spaces (and for tags, '=') and backslashes as
// line protocol does, plus '#', which separates the field in an ID.
func escapeKeyPart(s string, tag bool) string {
	if !strings.ContainsAny(s, `, =\#`) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch r {
		case ',', ' ', '\\', '#':
			b.WriteByte('\\')
		case '=':
			if tag {
				b.WriteByte('\\')
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}

// ParseSeriesID parses the output of SeriesKey.ID.
func ParseSeriesID(id string) (SeriesKey, error) {
	var parts []string // measurement, tag k, tag v, ...; field last
	var cur strings.Builder
	field := ""
	seenField := false
	inTagValue := false
	esc := false
	flush := func() { parts = append(parts, cur.String()); cur.Reset() }
	for i, r := range id {
		if seenField {
			field = id[i:]
			break
		}
		if esc {
			cur.WriteRune(r)
			esc = false
			continue
		}
		switch r {
		case '\\':
			esc = true
		case ',':
			flush()
			inTagValue = false
		case '=':
			if len(parts) == 0 {
				cur.WriteRune(r)
				continue
			}
			if inTagValue {
				return SeriesKey{}, fmt.Errorf("series id %q: unescaped '=' in tag value", id)
			}
			flush()
			inTagValue = true
		case '#':
			flush()
			seenField = true
		default:
			cur.WriteRune(r)
		}
	}
	if !seenField {
		return SeriesKey{}, fmt.Errorf("series id %q: missing '#field' suffix", id)
	}
	if field == "" {
		return SeriesKey{}, fmt.Errorf("series id %q: empty field name", id)
	}
	if len(parts) == 0 || parts[0] == "" {
		return SeriesKey{}, fmt.Errorf("series id %q: empty measurement", id)
	}
	k := SeriesKey{Measurement: parts[0], Field: field}
	rest := parts[1:]
	if len(rest)%2 != 0 {
		return SeriesKey{}, fmt.Errorf("series id %q: tag without value", id)
	}
	if len(rest) > 0 {
		k.Tags = make(map[string]string, len(rest)/2)
		for i := 0; i < len(rest); i += 2 {
			if rest[i] == "" {
				return SeriesKey{}, fmt.Errorf("series id %q: empty tag key", id)
			}
			k.Tags[rest[i]] = rest[i+1]
		}
	}
	return k, nil
}

// Point is one line of line protocol as Foresight stores it: a measurement,
// its tags, its numeric fields and a timestamp. Boolean fields arrive as 0/1;
// string fields are not stored (see the README's ingest section).
type Point struct {
	Measurement string
	Tags        map[string]string
	Fields      map[string]float64
	Time        time.Time
}

// Sample is one value of one series at one instant.
type Sample struct {
	Time  time.Time `json:"t"`
	Value float64   `json:"v"`
}

// Series is a key with its samples in ascending time order. A downsampled
// series has at most one sample per window; empty windows are absent (a gap),
// never filled with zeros.
type Series struct {
	Key     SeriesKey `json:"key"`
	Samples []Sample  `json:"samples"`
}

// SeriesFilter selects series. Empty strings match anything; every entry of
// Tags must match exactly. Start/End bound the time span in which a series
// must have data to be listed (zero values mean the store's default lookback
// and now).
type SeriesFilter struct {
	Measurement string
	Field       string
	Tags        map[string]string
	Start, End  time.Time
	// Limit caps the number of series returned (0 = no cap).
	Limit int
}

// Aggregate names the function applied per window when downsampling.
type Aggregate string

// The aggregates every MetricStore supports.
const (
	AggMean Aggregate = "mean"
	AggMin  Aggregate = "min"
	AggMax  Aggregate = "max"
	AggLast Aggregate = "last"
	AggSum  Aggregate = "sum"
)

// ParseAggregate validates a user-supplied aggregate name ("" means mean).
func ParseAggregate(s string) (Aggregate, error) {
	switch Aggregate(s) {
	case "":
		return AggMean, nil
	case AggMean, AggMin, AggMax, AggLast, AggSum:
		return Aggregate(s), nil
	}
	return "", fmt.Errorf("unknown aggregate %q: use mean, min, max, last or sum", s)
}

// RangeQuery is a time range [Start, End) read with optional downsampling.
// When Step > 0 the store aggregates each window [t, t+Step) (windows aligned
// to the Unix epoch) with Agg and stamps the result with the window start.
// When Step == 0 raw samples are returned.
type RangeQuery struct {
	Start, End time.Time
	Step       time.Duration
	Agg        Aggregate
}

// Validate reports whether the query is well formed.
func (q RangeQuery) Validate() error {
	if q.Start.IsZero() || q.End.IsZero() {
		return errors.New("range query: start and end are required")
	}
	if !q.End.After(q.Start) {
		return fmt.Errorf("range query: end %s is not after start %s", q.End.Format(time.RFC3339), q.Start.Format(time.RFC3339))
	}
	if q.Step < 0 {
		return fmt.Errorf("range query: negative step %s", q.Step)
	}
	if q.Step > 0 && q.Step < time.Millisecond {
		return fmt.Errorf("range query: step %s is below 1ms", q.Step)
	}
	if _, err := ParseAggregate(string(q.Agg)); err != nil {
		return fmt.Errorf("range query: %w", err)
	}
	return nil
}

// MetricStore is what the engine needs from a time-series database. The
// InfluxDB and embedded implementations live in storage/; both pass the same
// contract tests (storage/storetest).
type MetricStore interface {
	// Write stores points durably; when it returns nil, every point is
	// acknowledged by the store. On error, none or some points may have
	// been written; retrying the same batch is safe (writes are idempotent
	// per series and timestamp).
	Write(ctx context.Context, points []Point) error
	// ListSeries returns the series matching f, sorted by ID.
	ListSeries(ctx context.Context, f SeriesFilter) ([]SeriesKey, error)
	// Read returns one series over q, downsampled inside the store when
	// q.Step > 0. A series with no data in range returns ErrNotFound.
	Read(ctx context.Context, key SeriesKey, q RangeQuery) (Series, error)
	// ReadMany reads several series with one round trip where the store
	// allows it. Series without data in range are omitted; the result is
	// sorted by ID.
	ReadMany(ctx context.Context, keys []SeriesKey, q RangeQuery) ([]Series, error)
	// Ping reports whether the store is reachable and ready.
	Ping(ctx context.Context) error
	// Close flushes pending writes and releases resources.
	Close() error
}
