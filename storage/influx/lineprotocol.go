package influx

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/seed-f1b503aa/foresight/engine"
)

// ErrUnrepresentable marks points that InfluxDB cannot store faithfully: the
// text of their names or values cannot travel in line protocol, or would
// collide with the columns of a Flux result. Write refuses the whole call
// before sending anything when one point is affected.
var ErrUnrepresentable = errors.New("point cannot be stored in InfluxDB")

// unrepresentableError is returned for a refused point. It wraps
// ErrUnrepresentable and answers Unrepresentable() == true so that callers
// (and the contract tests) can recognise a deliberate refusal without
// importing this package.
type unrepresentableError struct {
	index  int // position of the point in the Write call
	reason string
}

func (e *unrepresentableError) Error() string {
	return fmt.Sprintf("point %d: %s: %s", e.index, ErrUnrepresentable, e.reason)
}
func (e *unrepresentableError) Unwrap() error         { return ErrUnrepresentable }
func (e *unrepresentableError) Unrepresentable() bool { return true }

// reservedColumns are tag keys no series can usefully have: the columns of
// every Flux result (such a tag is shadowed or breaks the query with "table
// builder already has column"), "time" (InfluxDB 1.x refuses it), and "$"
// and "\x00" (InfluxDB 1.8's storage uses them internally for the field and
// the measurement, so a filter on such a tag never matches).
var reservedColumns = map[string]bool{
	"_start": true, "_stop": true, "_time": true, "_value": true,
	"_field": true, "_measurement": true, "result": true, "table": true,
	"time": true, "$": true, "\x00": true,
}

// maxKeyLength is InfluxDB's limit on measurement plus tags (models.MaxKeyLength).
const maxKeyLength = 65535

// checkName reports why s cannot be a measurement, tag key, tag value or
// field key in line protocol, or "" when it can.
//
// Line protocol has no escape for a newline (a line ends there whatever
// precedes it) and a trailing backslash always escapes the separator that
// follows, so neither can be stored. A carriage return can be stored but
// never read back: Flux's CSV encoder (CRLF mode) drops it. All three are
// refused rather than silently changed.
func checkName(what, s string) string {
	switch {
	case s == "":
		return what + " is empty"
	case !utf8.ValidString(s):
		return fmt.Sprintf("%s %q is not valid UTF-8", what, s)
	case strings.ContainsRune(s, '\n'):
		return fmt.Sprintf("%s %q contains a newline, which line protocol cannot carry", what, s)
	case strings.ContainsRune(s, '\r'):
		return fmt.Sprintf("%s %q contains a carriage return, which Flux's CSV results drop", what, s)
	case strings.HasSuffix(s, `\`):
		return fmt.Sprintf("%s %q ends with a backslash, which line protocol cannot carry", what, s)
	}
	return ""
}

// backslashBeforeSpecial reports whether s has a backslash directly before
// ',', ' ', '=' or '"'. In a measurement or field name InfluxDB 1.8 cannot
// store such text faithfully: the line is rejected ("invalid field format")
// or the series is stored under a name Flux never returns.
func backslashBeforeSpecial(s string) bool {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '\\' && strings.IndexByte(`, ="`, s[i+1]) >= 0 {
			return true
		}
	}
	return false
}

// validatePoint checks that p can be written and read back unchanged.
func validatePoint(i int, p engine.Point) error {
	bad := func(format string, args ...any) error {
		return &unrepresentableError{index: i, reason: fmt.Sprintf(format, args...)}
	}
	if r := checkName("measurement", p.Measurement); r != "" {
		return bad("%s", r)
	}
	if backslashBeforeSpecial(p.Measurement) {
		return bad("measurement %q has a backslash before ',', ' ', '=' or '\"', which InfluxDB 1.8 misreads", p.Measurement)
	}
	switch p.Measurement[0] {
	case '#':
		// A line starting with '#' is a comment: InfluxDB would drop it
		// and still answer 204.
		return bad("measurement %q starts with '#', which line protocol reads as a comment", p.Measurement)
	case '\t', 0:
		// skipped as leading white space by InfluxDB's parser
		return bad("measurement %q starts with a tab or NUL, which line protocol skips", p.Measurement)
	}
	keyLen := len(p.Measurement)
	for k, v := range p.Tags {
		if r := checkName("tag key", k); r != "" {
			return bad("%s", r)
		}
		if reservedColumns[k] {
			return bad("tag key %q is reserved by InfluxDB/Flux", k)
		}
		if r := checkName(fmt.Sprintf("value of tag %q", k), v); r != "" {
			return bad("%s", r)
		}
		keyLen += len(k) + len(v) + 2
	}
	if keyLen > maxKeyLength {
		return bad("series key of %d bytes exceeds InfluxDB's limit of %d", keyLen, maxKeyLength)
	}
	if len(p.Fields) == 0 {
		return bad("no fields")
	}
	for f, v := range p.Fields {
		if r := checkName("field key", f); r != "" {
			return bad("%s", r)
		}
		if f[0] == '\t' || f[0] == 0 {
			return bad("field key %q starts with a tab or NUL, which line protocol skips", f)
		}
		if backslashBeforeSpecial(f) {
			return bad("field key %q has a backslash before ',', ' ', '=' or '\"', which InfluxDB 1.8 misreads", f)
		}
		if f == "time" {
			return bad("field key %q is reserved by InfluxDB", f)
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return bad("field %q has non-finite value %v", f, v)
		}
	}
	if p.Time.Before(minFluxTime) || p.Time.After(maxFluxTime) {
		return bad("time %s is outside the range InfluxDB can store", p.Time)
	}
	return nil
}

var (
	measurementEscaper = strings.NewReplacer(`,`, `\,`, ` `, `\ `)
	keyEscaper         = strings.NewReplacer(`,`, `\,`, ` `, `\ `, `=`, `\=`)
)

// appendLine appends p as one line of InfluxDB 1.x line protocol (without a
// trailing newline), tags and fields sorted by key, time in nanoseconds.
// p must have passed validatePoint.
func appendLine(b []byte, p engine.Point) []byte {
	b = append(b, measurementEscaper.Replace(p.Measurement)...)
	tagKeys := make([]string, 0, len(p.Tags))
	for k := range p.Tags {
		tagKeys = append(tagKeys, k)
	}
	sort.Strings(tagKeys)
	for _, k := range tagKeys {
		b = append(b, ',')
		b = append(b, keyEscaper.Replace(k)...)
		b = append(b, '=')
		b = append(b, keyEscaper.Replace(p.Tags[k])...)
	}
	fieldKeys := make([]string, 0, len(p.Fields))
	for f := range p.Fields {
		fieldKeys = append(fieldKeys, f)
	}
	sort.Strings(fieldKeys)
	for i, f := range fieldKeys {
		if i == 0 {
			b = append(b, ' ')
		} else {
			b = append(b, ',')
		}
		b = append(b, keyEscaper.Replace(f)...)
		b = append(b, '=')
		b = strconv.AppendFloat(b, p.Fields[f], 'g', -1, 64)
	}
	b = append(b, ' ')
	b = strconv.AppendInt(b, p.Time.UnixNano(), 10)
	return b
}

// encodePoints validates every point and returns their lines. Nothing is
// returned unless all points are valid.
func encodePoints(points []engine.Point) ([]string, error) {
	for i, p := range points {
		if err := validatePoint(i, p); err != nil {
			return nil, err
		}
	}
	lines := make([]string, len(points))
	var buf []byte
	for i, p := range points {
		buf = appendLine(buf[:0], p)
		lines[i] = string(buf)
	}
	return lines, nil
}
