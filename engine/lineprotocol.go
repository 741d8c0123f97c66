package engine

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/influxdata/line-protocol/v2/lineprotocol"
)

// LineError is one rejected line of line protocol.
type LineError struct {
	// Line is 1-based.
	Line int64 `json:"line"`
	// Column is 1-based, 0 when unknown.
	Column int `json:"column,omitempty"`
	// Reason says what is wrong with the line.
	Reason string `json:"reason"`
}

func (e LineError) Error() string {
	if e.Column > 0 {
		return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Reason)
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
}

// ParseError lists the rejected lines of a batch (at most MaxLineErrors of
// them; Total counts all). A batch with any rejected line is rejected whole.
type ParseError struct {
	Lines []LineError
	Total int
}

// MaxLineErrors caps how many line errors a ParseError carries.
const MaxLineErrors = 20

func (e *ParseError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d malformed line(s), nothing written", e.Total)
	for i, l := range e.Lines {
		if i == 3 {
			fmt.Fprintf(&b, "; …")
			break
		}
		b.WriteString("; ")
		b.WriteString(l.Error())
	}
	return b.String()
}

// ParsePrecision maps the precision query parameter of InfluxDB's write
// APIs (v2: ns, us, ms, s; v1 spellings n and u too; empty: ns) to a unit.
// InfluxDB 1.x's minute and hour precisions are not supported.
func ParsePrecision(s string) (time.Duration, error) {
	switch s {
	case "", "ns", "n":
		return time.Nanosecond, nil
	case "us", "u", "µs":
		return time.Microsecond, nil
	case "ms":
		return time.Millisecond, nil
	case "s":
		return time.Second, nil
	}
	return 0, fmt.Errorf("precision %q: use ns, us, ms or s", s)
}

// LineStats counts what a parse saw.
type LineStats struct {
	// Lines is the number of non-empty, non-comment lines.
	Lines int `json:"lines"`
	// Points is the number of points kept (lines with at least one numeric field).
	Points int `json:"points"`
	// Fields is the number of numeric field values kept.
	Fields int `json:"fields"`
	// SkippedStringFields counts string fields, which are not stored.
	SkippedStringFields int `json:"skipped_string_fields"`
}

// ParseLineProtocol decodes a whole batch of InfluxDB line protocol with
// InfluxDB's own parser. Timestamps are read in units of precision; lines
// without one get now. Integer, unsigned, float and boolean (0/1) fields
// are kept; string fields are counted and skipped because Foresight only
// forecasts numbers. Non-finite floats are rejected.
//
// A batch is all-or-nothing: if any line is malformed the returned error
// is a *ParseError listing the rejected lines (1-based) and no points are
// returned, so a caller never writes half a batch.
func ParseLineProtocol(r io.Reader, precision time.Duration, now time.Time) ([]Point, LineStats, error) {
	var points []Point
	stats, err := DecodeLineProtocol(r, precision, now, func(p Point) error {
		points = append(points, p)
		return nil
	})
	if err != nil {
		return nil, stats, err
	}
	return points, stats, nil
}

// DecodeLineProtocol streams line protocol from r, calling fn for each point
// while no line has been rejected yet. After the first malformed line it
// stops calling fn but keeps reading to report every bad line (up to
// MaxLineErrors) in a *ParseError. Callers that must not write half a
// batch validate first (fn == nil counts only) and write in a second pass.
// An error returned by fn stops decoding and is returned as is.
func DecodeLineProtocol(r io.Reader, precision time.Duration, now time.Time, fn func(Point) error) (LineStats, error) {
	var stats LineStats
	if _, err := lpPrecision(precision); err != nil {
		return stats, err
	}
	dec := lineprotocol.NewDecoder(r)
	var (
		perr  ParseError
		entry int64
	)
	reject := func(err error) {
		perr.Total++
		if len(perr.Lines) >= MaxLineErrors {
			return
		}
		// Syntax errors carry the parser's line number; the few checks
		// made after parsing only know the entry (non-empty line) index.
		le := LineError{Line: 0, Reason: fmt.Sprintf("entry %d: %v", entry, err)}
		var de *lineprotocol.DecodeError
		if errors.As(err, &de) {
			le.Line, le.Column = de.Line, de.Column
			le.Reason = de.Err.Error()
		}
		perr.Lines = append(perr.Lines, le)
	}
	for dec.Next() {
		entry++
		stats.Lines++
		p, nstr, err := decodeLine(dec, precision, now)
		stats.SkippedStringFields += nstr
		if err != nil {
			reject(err)
			continue
		}
		if len(p.Fields) == 0 {
			continue
		}
		stats.Fields += len(p.Fields)
		stats.Points++
		if perr.Total == 0 && fn != nil {
			if err := fn(p); err != nil {
				return stats, err
			}
		}
	}
	if err := dec.Err(); err != nil {
		var de *lineprotocol.DecodeError
		if !errors.As(err, &de) {
			return stats, fmt.Errorf("read line protocol: %w", err)
		}
		reject(err)
	}
	if perr.Total > 0 {
		return stats, &perr
	}
	return stats, nil
}

func decodeLine(dec *lineprotocol.Decoder, precision time.Duration, now time.Time) (Point, int, error) {
	var p Point
	m, err := dec.Measurement()
	if err != nil {
		return p, 0, err
	}
	if len(m) == 0 {
		return p, 0, errors.New("empty measurement name")
	}
	p.Measurement = string(m)
	for {
		k, v, err := dec.NextTag()
		if err != nil {
			return p, 0, err
		}
		if k == nil {
			break
		}
		if p.Tags == nil {
			p.Tags = make(map[string]string, 4)
		}
		p.Tags[string(k)] = string(v)
	}
	strs := 0
	for {
		k, v, err := dec.NextField()
		if err != nil {
			return p, strs, err
		}
		if k == nil {
			break
		}
		var x float64
		switch v.Kind() {
		case lineprotocol.Float:
			x = v.FloatV()
		case lineprotocol.Int:
			x = float64(v.IntV())
		case lineprotocol.Uint:
			x = float64(v.UintV())
		case lineprotocol.Bool:
			if v.BoolV() {
				x = 1
			}
		case lineprotocol.String:
			strs++
			continue
		default:
			return p, strs, fmt.Errorf("field %q: unsupported value kind %v", k, v.Kind())
		}
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return p, strs, fmt.Errorf("field %q: value is not finite", k)
		}
		if p.Fields == nil {
			p.Fields = make(map[string]float64, 2)
		}
		p.Fields[string(k)] = x
	}
	prec, err := lpPrecision(precision)
	if err != nil {
		return p, strs, err
	}
	ts, err := dec.Time(prec, now)
	if err != nil {
		return p, strs, err
	}
	p.Time = ts
	return p, strs, nil
}

func lpPrecision(d time.Duration) (lineprotocol.Precision, error) {
	switch d {
	case time.Nanosecond:
		return lineprotocol.Nanosecond, nil
	case time.Microsecond:
		return lineprotocol.Microsecond, nil
	case time.Millisecond:
		return lineprotocol.Millisecond, nil
	case time.Second:
		return lineprotocol.Second, nil
	}
	return 0, fmt.Errorf("precision %s: use ns, us, ms or s", d)
}
