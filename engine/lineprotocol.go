package engine

import (
	"bufio"
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
	stats, err := decodeLineProtocol(r, precision, now, func(p Point, _ int64) error {
		points = append(points, p)
		return nil
	})
	if err != nil {
		return nil, stats, err
	}
	return points, stats, nil
}

// ParseLineProtocolLines is ParseLineProtocol that also returns the input
// line (1-based) each point was read from, so that a caller can name the
// line of a point the store refuses (see PointError).
func ParseLineProtocolLines(r io.Reader, precision time.Duration, now time.Time) ([]Point, []int64, LineStats, error) {
	var (
		points []Point
		lines  []int64
	)
	stats, err := decodeLineProtocol(r, precision, now, func(p Point, line int64) error {
		points = append(points, p)
		lines = append(lines, line)
		return nil
	})
	if err != nil {
		return nil, nil, stats, err
	}
	return points, lines, stats, nil
}

// DecodeLineProtocol streams line protocol from r, calling fn for each point
// while no line has been rejected yet. After the first malformed line it
// stops calling fn but keeps reading to report every bad line (up to
// MaxLineErrors) in a *ParseError. Callers that must not write half a
// batch validate first (fn == nil counts only) and write in a second pass.
// An error returned by fn stops decoding and is returned as is.
func DecodeLineProtocol(r io.Reader, precision time.Duration, now time.Time, fn func(Point) error) (LineStats, error) {
	var each func(Point, int64) error
	if fn != nil {
		each = func(p Point, _ int64) error { return fn(p) }
	}
	return decodeLineProtocol(r, precision, now, each)
}

func decodeLineProtocol(r io.Reader, precision time.Duration, now time.Time, fn func(Point, int64) error) (LineStats, error) {
	var stats LineStats
	if _, err := lpPrecision(precision); err != nil {
		return stats, err
	}
	lr := newLineReader(r)
	dec := lineprotocol.NewDecoder(lr)
	var (
		perr ParseError
		// The lines of the previous entry and of the previous rejection
		// (0: none yet).
		lastEntry, lastRejected int64
	)
	reject := func(err error) {
		// Syntax errors carry the decoder's line and column. Checks made
		// after parsing (timestamp range, non-finite values) fail on the
		// token just read, which lies on the last line the decoder read.
		le := LineError{Line: lr.line, Reason: err.Error()}
		var de *lineprotocol.DecodeError
		if errors.As(err, &de) {
			le.Line, le.Column = de.Line, de.Column
			le.Reason = de.Err.Error()
		}
		// One line, one rejection: the decoder resynchronises at a lone
		// carriage return too, so the rest of a malformed line can fail
		// again as if it were a line of its own.
		if le.Line == lastRejected {
			return
		}
		lastRejected = le.Line
		perr.Total++
		if len(perr.Lines) < MaxLineErrors {
			perr.Lines = append(perr.Lines, le)
		}
	}
	for dec.Next() {
		// The decoder has read just up to the end of the line the entry
		// starts on (the line reader hands it one line per Read).
		entryLine := lr.line
		if entryLine != lastEntry {
			stats.Lines++
			lastEntry = entryLine
		}
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
			if err := fn(p, entryLine); err != nil {
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

// lineReader hands its reader's bytes to the line-protocol decoder at most
// one line (up to and including '\n') per Read and records the number of
// the line it handed out last. The decoder reads only as far as it must, so
// right after Decoder.Next lineReader.line is the line the new entry starts
// on, and after a component is decoded, the line that component ends on.
// The decoder itself keeps line numbers for its syntax errors only; checks
// made after parsing (timestamp range, non-finite values) need them too.
type lineReader struct {
	br      *bufio.Reader
	pending []byte // rest of the current line, not yet handed out
	line    int64  // line of the bytes handed out last
	next    int64  // line of the next bytes to hand out
	err     error
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, 64<<10), next: 1}
}

func (l *lineReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if len(l.pending) == 0 {
		if l.err != nil {
			return 0, l.err
		}
		// A line longer than the buffer comes in several pieces, each
		// of the same line.
		l.pending, l.err = l.br.ReadSlice('\n')
		if errors.Is(l.err, bufio.ErrBufferFull) {
			l.err = nil
		}
		if len(l.pending) == 0 {
			if l.err == nil {
				l.err = io.ErrNoProgress
			}
			return 0, l.err
		}
		l.line = l.next
		if l.pending[len(l.pending)-1] == '\n' {
			l.next++
		}
	}
	n := copy(p, l.pending)
	l.pending = l.pending[n:]
	return n, nil
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
