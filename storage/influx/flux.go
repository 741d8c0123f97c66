package influx

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/seed-f1b503aa/foresight/engine"
)

// This file is the only place where Flux text is produced. Every value that
// reaches a query goes through a typed constructor here: strings become
// escaped string literals (fluxString), times are formatted by fluxTime,
// durations are whole multiples of one unit (fluxDuration) and aggregate
// functions come from a fixed whitelist (fluxAggregate). Column names that
// come from users (tag keys) are only ever written as r["<escaped literal>"].

// fluxString returns s as a Flux string literal that evaluates to exactly s.
//
// Escaped: backslash and double quote (they would end or bend the literal),
// newline, carriage return and tab (named escapes), '$' (it starts "${"
// interpolation), every other control character and each byte of invalid
// UTF-8 (\xHH byte escapes). Everything else, including any valid non-ASCII
// rune, is copied verbatim.
func fluxString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && w == 1:
			writeByteEscape(&b, s[i])
		case r == '\\':
			b.WriteString(`\\`)
		case r == '"':
			b.WriteString(`\"`)
		case r == '$':
			// Always a byte escape: "${" would start interpolation, and
			// the scanner reads a bare '$' together with the character
			// after it, so "$" followed by an escape (e.g. `$\${`) would
			// swallow the escape's backslash.
			b.WriteString(`\x24`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			writeByteEscape(&b, byte(r))
		default:
			b.WriteString(s[i : i+w])
		}
		i += w
	}
	b.WriteByte('"')
	return b.String()
}

func writeByteEscape(b *strings.Builder, c byte) {
	const hex = "0123456789abcdef"
	b.WriteString(`\x`)
	b.WriteByte(hex[c>>4])
	b.WriteByte(hex[c&0xf])
}

// Flux times are int64 nanoseconds since the epoch.
var (
	minFluxTime = time.Unix(0, math.MinInt64+2).UTC()
	maxFluxTime = time.Unix(0, math.MaxInt64-1).UTC()
)

// fluxTime formats t as a Flux time literal (RFC 3339 in UTC with up to
// nanosecond precision).
func fluxTime(t time.Time) (string, error) {
	if t.Before(minFluxTime) || t.After(maxFluxTime) {
		return "", fmt.Errorf("time %s is outside the range InfluxDB can store", t.Format(time.RFC3339Nano))
	}
	return t.UTC().Format(time.RFC3339Nano), nil
}

// fluxDuration formats d (> 0) as a Flux duration literal in the largest unit
// that divides it exactly, e.g. 1h, 90s, 1500ms, 7ns.
func fluxDuration(d time.Duration) (string, error) { return durationLiteral(d, "us") }

// durationLiteral formats d (> 0) in the largest unit that divides it
// exactly; Flux and InfluxQL spell all units alike but the microsecond.
func durationLiteral(d time.Duration, micro string) (string, error) {
	if d <= 0 {
		return "", fmt.Errorf("duration %s is not positive", d)
	}
	units := []struct {
		d    time.Duration
		name string
	}{
		{time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"},
		{time.Millisecond, "ms"}, {time.Microsecond, micro}, {time.Nanosecond, "ns"},
	}
	for _, u := range units {
		if d%u.d == 0 {
			return strconv.FormatInt(int64(d/u.d), 10) + u.name, nil
		}
	}
	panic("unreachable")
}

// fluxAggregate maps an engine aggregate to the Flux function applied per
// window. Only these identifiers can ever appear in a query.
func fluxAggregate(a engine.Aggregate) (string, error) {
	switch a {
	case "", engine.AggMean:
		return "mean", nil
	case engine.AggMin:
		return "min", nil
	case engine.AggMax:
		return "max", nil
	case engine.AggLast:
		return "last", nil
	case engine.AggSum:
		return "sum", nil
	}
	return "", fmt.Errorf("unsupported aggregate %q", a)
}

// predicate is a boolean Flux expression over the row r.
type predicate interface {
	writeFlux(b *strings.Builder)
}

// colKind says how a compared column is addressed.
type colKind int

const (
	colMeasurement colKind = iota // r._measurement
	colField                      // r._field
	colTag                        // r["<tag key>"]
)

// eq is `column == "value"`.
type eq struct {
	kind  colKind
	tag   string // the tag key when kind == colTag
	value string
}

func measurementIs(v string) predicate { return eq{kind: colMeasurement, value: v} }
func fieldIs(v string) predicate       { return eq{kind: colField, value: v} }
func tagIs(k, v string) predicate      { return eq{kind: colTag, tag: k, value: v} }

func (e eq) writeFlux(b *strings.Builder) {
	switch e.kind {
	case colMeasurement:
		b.WriteString("r._measurement")
	case colField:
		b.WriteString("r._field")
	default:
		b.WriteString("r[")
		b.WriteString(fluxString(e.tag))
		b.WriteString("]")
	}
	b.WriteString(" == ")
	b.WriteString(fluxString(e.value))
}

// and is the conjunction of its terms; an empty and is true.
type and []predicate

// or is the disjunction of its terms; an empty or is false.
type or []predicate

func (a and) writeFlux(b *strings.Builder) { writeJunction(b, a, " and ", "true") }
func (o or) writeFlux(b *strings.Builder)  { writeJunction(b, o, " or ", "false") }

func writeJunction(b *strings.Builder, terms []predicate, op, empty string) {
	switch len(terms) {
	case 0:
		b.WriteString(empty)
		return
	case 1:
		terms[0].writeFlux(b)
		return
	}
	for i, t := range terms {
		if i > 0 {
			b.WriteString(op)
		}
		leaf := isLeaf(t)
		if !leaf {
			b.WriteByte('(')
		}
		t.writeFlux(b)
		if !leaf {
			b.WriteByte(')')
		}
	}
}

// isLeaf reports whether p renders without a top-level and/or, so that it
// needs no parentheses inside a junction.
func isLeaf(p predicate) bool {
	switch x := p.(type) {
	case eq:
		return true
	case and:
		return len(x) == 0 || (len(x) == 1 && isLeaf(x[0]))
	case or:
		return len(x) == 0 || (len(x) == 1 && isLeaf(x[0]))
	}
	return false
}

// keyPredicate matches the rows of one series key. Rows of series whose tag
// set is a superset of k's also match; callers compare tag sets exactly on
// the results.
func keyPredicate(k engine.SeriesKey) and {
	p := and{measurementIs(k.Measurement), fieldIs(k.Field)}
	for _, name := range k.TagNames() {
		p = append(p, tagIs(name, k.Tags[name]))
	}
	return p
}

// fluxQuery is a read of one bucket over [start, stop): an optional row
// filter followed by either raw rows, per-window aggregates or the first row
// of every series.
type fluxQuery struct {
	bucket      string
	start, stop time.Time
	where       predicate // nil: no filter

	// step > 0 downsamples with agg into epoch-aligned windows stamped
	// with the window start.
	step time.Duration
	agg  engine.Aggregate

	// firstOnly keeps one row per series (used to list series).
	firstOnly bool

	// storageStopInclusive: the server's storage treats range's stop as
	// inclusive (InfluxDB 1.8 does, contrary to Flux's definition), so
	// the query asks for stop - 1ns to read exactly [start, stop); with a
	// step it asks for stop and drops rows at stop with a filter instead
	// (see build).
	storageStopInclusive bool
}

// build renders the query text.
func (q fluxQuery) build() (string, error) {
	if q.bucket == "" {
		return "", errors.New("flux query: empty bucket")
	}
	start, err := fluxTime(q.start)
	if err != nil {
		return "", fmt.Errorf("flux query start: %w", err)
	}
	if !q.stop.After(q.start) {
		return "", fmt.Errorf("flux query: stop %s is not after start %s", q.stop.Format(time.RFC3339Nano), start)
	}
	stopT := q.stop
	dropStop := false
	switch {
	case q.storageStopInclusive && q.step > 0:
		// Not stop - 1ns: InfluxDB 1.8's aggregateWindow puts a row
		// whose time equals the table's _stop into an extra window
		// stamped with the range start, so a row at stop - 1ns would be
		// aggregated into the wrong window. The range keeps its stop
		// (the table's _stop is then right) and rows at stop, which 1.8's
		// storage returns, are dropped before windowing.
		dropStop = true
	case q.storageStopInclusive && q.stop.Sub(q.start) > time.Nanosecond:
		// (Flux refuses start == stop, so a 1ns range keeps its stop;
		// the reader drops raw samples at or after stop.)
		stopT = stopT.Add(-time.Nanosecond)
	}
	stop, err := fluxTime(stopT)
	if err != nil {
		return "", fmt.Errorf("flux query stop: %w", err)
	}
	if q.step > 0 && q.firstOnly {
		return "", errors.New("flux query: firstOnly cannot be combined with a step")
	}
	var b strings.Builder
	b.WriteString("from(bucket: ")
	b.WriteString(fluxString(q.bucket))
	b.WriteString(")\n\t|> range(start: ")
	b.WriteString(start)
	b.WriteString(", stop: ")
	b.WriteString(stop)
	b.WriteString(")\n")
	if q.where != nil {
		b.WriteString("\t|> filter(fn: (r) => ")
		q.where.writeFlux(&b)
		b.WriteString(")\n")
	}
	if dropStop {
		// a separate filter, so that the one above is still pushed down
		// to storage
		b.WriteString("\t|> filter(fn: (r) => r._time < ")
		b.WriteString(stop)
		b.WriteString(")\n")
	}
	switch {
	case q.step > 0:
		every, err := fluxDuration(q.step)
		if err != nil {
			return "", fmt.Errorf("flux query step: %w", err)
		}
		fn, err := fluxAggregate(q.agg)
		if err != nil {
			return "", err
		}
		// aggregateWindow stamps windows with their end (timeSrc "_stop")
		// by default; the engine wants the start. Windows are aligned to
		// the epoch; the first and last are clipped to the range, which
		// the reader undoes by flooring timestamps to the step grid.
		b.WriteString("\t|> aggregateWindow(every: ")
		b.WriteString(every)
		b.WriteString(", fn: ")
		b.WriteString(fn)
		b.WriteString(`, createEmpty: false, timeSrc: "_start")`)
		b.WriteString("\n")
	case q.firstOnly:
		b.WriteString("\t|> first()\n")
	}
	return b.String(), nil
}
