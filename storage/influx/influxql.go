package influx

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/seed-f1b503aa/foresight/engine"
)

// This file is the only place where InfluxQL text is produced (the
// InfluxDB 1.x read path for downsampled reads; see influxql_read.go).
// As in flux.go, every value reaches a statement through a typed
// constructor: names are double-quoted identifiers (influxqlIdent), tag
// values single-quoted string literals (influxqlString), times integer
// nanoseconds (influxqlTime), durations whole multiples of one unit
// (influxqlDuration) and functions come from a fixed whitelist
// (influxqlAggregate).
//
// The escapes follow InfluxQL's scanner (github.com/influxdata/influxql,
// ScanString, used for both quoted identifiers and string literals): inside
// quotes a backslash may only start \\, \", \' or \n, and a raw newline
// ends the text with an error. Three things cannot be written at all: the
// scanner's reader turns a carriage return (and CR LF) into a newline, stops
// at a NUL byte (its end-of-input marker) and decodes invalid UTF-8 to
// U+FFFD. influxqlExpressible reports names free of them; reads of other
// keys stay on the Flux path, which can express any byte.

// influxqlExpressible reports whether s can be written as an InfluxQL
// quoted identifier or string literal that the server reads back as exactly
// s.
func influxqlExpressible(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 && strings.IndexByte(s, '\r') < 0
}

// influxqlKeyExpressible reports whether every name in k is expressible.
func influxqlKeyExpressible(k engine.SeriesKey) bool {
	if !influxqlExpressible(k.Measurement) || !influxqlExpressible(k.Field) {
		return false
	}
	for name, v := range k.Tags {
		if !influxqlExpressible(name) || !influxqlExpressible(v) {
			return false
		}
	}
	return true
}

// influxqlQuote writes s between quote characters q, escaping backslash, q
// and newline. s must be expressible.
func influxqlQuote(b *strings.Builder, s string, q byte) {
	b.WriteByte(q)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b.WriteString(`\\`)
		case q:
			b.WriteByte('\\')
			b.WriteByte(q)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteByte(c) // bytes of multi-byte runes are copied as they are
		}
	}
	b.WriteByte(q)
}

// influxqlIdent returns s as a double-quoted InfluxQL identifier
// (measurement, field or tag key). s must be expressible.
func influxqlIdent(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	influxqlQuote(&b, s, '"')
	return b.String()
}

// influxqlString returns s as a single-quoted InfluxQL string literal (a
// tag value). s must be expressible.
func influxqlString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	influxqlQuote(&b, s, '\'')
	return b.String()
}

// influxqlTime formats t as an integer literal of nanoseconds since the
// epoch, which InfluxQL compares with time as such.
func influxqlTime(t time.Time) (string, error) {
	if t.Before(minFluxTime) || t.After(maxFluxTime) {
		return "", fmt.Errorf("time %s is outside the range InfluxDB can store", t.Format(time.RFC3339Nano))
	}
	return strconv.FormatInt(t.UnixNano(), 10), nil
}

// influxqlDuration formats d (> 0) as an InfluxQL duration literal in the
// largest unit that divides it exactly: 1h, 90s, 1500ms, 7u, 3ns.
func influxqlDuration(d time.Duration) (string, error) { return durationLiteral(d, "u") }

// influxqlAggregate maps an engine aggregate to the InfluxQL function
// applied per window. Only these identifiers can ever appear in a query.
// With GROUP BY time every one of them, selectors included, stamps its
// row with the start of the window.
func influxqlAggregate(a engine.Aggregate) (string, error) {
	// InfluxQL names these functions as Flux does: one whitelist serves both.
	return fluxAggregate(a)
}

// influxqlQuery is a downsampled read of several series over [start,
// stop): one SELECT statement per measurement and field, each returning
// one InfluxQL series per tag set (GROUP BY *).
type influxqlQuery struct {
	start, stop time.Time
	step        time.Duration
	agg         engine.Aggregate
	keys        []engine.SeriesKey // all expressible (influxqlKeyExpressible)
}

// influxqlStatement is what one statement of a query reads: its results
// carry the measurement and tags but not the field.
type influxqlStatement struct {
	measurement, field string
}

// build renders the query text and the statements in order (statement i
// of the text has statement_id i in the answer).
//
// Each statement is
//
//	SELECT mean("f"::field) FROM "m"
//	WHERE time >= start AND time < stop AND (("k1"::tag = 'v1' AND "k2"::tag = 'v2') OR (...))
//	GROUP BY time(step), * fill(none)
//
// time < stop is exact on every 1.x server (unlike Flux range's stop,
// which InfluxDB 1.8 treats as inclusive). GROUP BY time windows are
// aligned to the epoch and stamped with their start, the first one too
// when start falls inside it (only data from start on contributes);
// fill(none) leaves out windows without data. A tag set matches series
// with further tags as well; GROUP BY * keeps them apart and the reader
// compares tag sets exactly. A key without tags needs every series of its
// measurement and field, so its statement has no tag condition.
func (q influxqlQuery) build() (string, []influxqlStatement, error) {
	if len(q.keys) == 0 {
		return "", nil, errors.New("influxql query: no keys")
	}
	start, err := influxqlTime(q.start)
	if err != nil {
		return "", nil, fmt.Errorf("influxql query start: %w", err)
	}
	stop, err := influxqlTime(q.stop)
	if err != nil {
		return "", nil, fmt.Errorf("influxql query stop: %w", err)
	}
	if !q.stop.After(q.start) {
		return "", nil, fmt.Errorf("influxql query: stop %s is not after start %s", q.stop.Format(time.RFC3339Nano), q.start.Format(time.RFC3339Nano))
	}
	every, err := influxqlDuration(q.step)
	if err != nil {
		return "", nil, fmt.Errorf("influxql query step: %w", err)
	}
	fn, err := influxqlAggregate(q.agg)
	if err != nil {
		return "", nil, err
	}
	var stmts []influxqlStatement
	tagSets := map[influxqlStatement][]engine.SeriesKey{}
	allRows := map[influxqlStatement]bool{}
	for _, k := range q.keys {
		if !influxqlKeyExpressible(k) {
			return "", nil, fmt.Errorf("influxql query: series %q has a name InfluxQL cannot express", k.ID())
		}
		st := influxqlStatement{k.Measurement, k.Field}
		if _, ok := tagSets[st]; !ok {
			stmts = append(stmts, st)
			tagSets[st] = nil
		}
		if len(k.Tags) == 0 {
			allRows[st] = true
		}
		tagSets[st] = append(tagSets[st], k)
	}
	var b strings.Builder
	for i, st := range stmts {
		if i > 0 {
			b.WriteString(";\n")
		}
		b.WriteString("SELECT ")
		b.WriteString(fn)
		b.WriteByte('(')
		b.WriteString(influxqlIdent(st.field))
		b.WriteString("::field) FROM ")
		b.WriteString(influxqlIdent(st.measurement))
		b.WriteString(" WHERE time >= ")
		b.WriteString(start)
		b.WriteString(" AND time < ")
		b.WriteString(stop)
		if !allRows[st] {
			b.WriteString(" AND (")
			for j, k := range tagSets[st] {
				if j > 0 {
					b.WriteString(" OR ")
				}
				b.WriteByte('(')
				for n, name := range k.TagNames() {
					if n > 0 {
						b.WriteString(" AND ")
					}
					b.WriteString(influxqlIdent(name))
					b.WriteString("::tag = ")
					b.WriteString(influxqlString(k.Tags[name]))
				}
				b.WriteByte(')')
			}
			b.WriteByte(')')
		}
		b.WriteString(" GROUP BY time(")
		b.WriteString(every)
		b.WriteString("), * fill(none)")
	}
	return b.String(), stmts, nil
}
