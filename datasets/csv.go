package datasets

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The CSV layouts Foresight's CLI reads. Every reader:
//   - detects an optional header row (a first row whose timestamp cell, or
//     for bare values whose value cell, does not parse is a header);
//   - accepts timestamps in RFC 3339 (with a zone: "Z" or an offset; a space
//     may replace the "T") or as Unix seconds, integer or fractional;
//   - reads empty cells and NaN/null/NA as missing values (NaN);
//   - skips blank lines and lines starting with '#';
//   - sorts rows by time (stably) when the file is not already in order;
//   - on any problem returns only an error (a *CSVError naming the line,
//     the column and why), never partial data.

// TimeSeries is one named series read from a file. Times and Values have
// equal length; a NaN value marks a missing sample.
type TimeSeries struct {
	Name   string
	Times  []time.Time
	Values []float64
}

// Len returns the number of samples.
func (s *TimeSeries) Len() int { return len(s.Values) }

// Frame is a table of named value columns sharing one time axis, read from
// "timestamp,colA,colB,..." files. Columns[i] belongs to Names[i] and has
// len(Times) values (NaN = missing).
type Frame struct {
	Times   []time.Time
	Names   []string
	Columns [][]float64
}

// Column returns the values of the named column.
func (f *Frame) Column(name string) ([]float64, bool) {
	for i, n := range f.Names {
		if n == name {
			return f.Columns[i], true
		}
	}
	return nil, false
}

// Series returns the named column as a TimeSeries (sharing f's slices).
func (f *Frame) Series(name string) (TimeSeries, bool) {
	v, ok := f.Column(name)
	if !ok {
		return TimeSeries{}, false
	}
	return TimeSeries{Name: name, Times: f.Times, Values: v}, true
}

// CSVError is a problem in a CSV input: the 1-based Line (0 if not tied to a
// line), the Column name (from the header, or the layout's default name)
// when one column is at fault, and why.
type CSVError struct {
	Line   int
	Column string
	Err    error
}

// Error implements error.
func (e *CSVError) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d", e.Line)
	}
	if e.Column != "" {
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "column %q", e.Column)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the underlying reason.
func (e *CSVError) Unwrap() error { return e.Err }

func csvErr(line int, col string, format string, args ...any) error {
	return &CSVError{Line: line, Column: col, Err: fmt.Errorf(format, args...)}
}

// maxUnixSeconds bounds Unix-second timestamps (year ~5138); larger values
// are almost certainly milliseconds.
const maxUnixSeconds = 1e11

// ParseTimestamp parses an RFC 3339 timestamp (a space may replace the "T";
// fractional seconds allowed; a zone is required) or Unix seconds (integer
// or fractional, e.g. "1761955200" or "1761955200.25"). Results are UTC.
func ParseTimestamp(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, errors.New("empty timestamp")
	}
	if isUnixNumber(s) {
		return parseUnixSeconds(s)
	}
	v := s
	if len(v) > 10 && v[10] == ' ' {
		v = v[:10] + "T" + v[11:]
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err == nil {
		return t.UTC(), nil
	}
	if _, err2 := time.Parse("2006-01-02T15:04:05.999999999", v); err2 == nil {
		return time.Time{}, fmt.Errorf("timestamp %q has no time zone; add Z or an offset such as +08:00", s)
	}
	return time.Time{}, fmt.Errorf("cannot parse %q as a timestamp (want RFC 3339 such as 2026-01-02T15:04:05Z, or Unix seconds)", s)
}

func startsLikeNumber(s string) bool {
	return s != "" && strings.ContainsRune("0123456789+-.", rune(s[0]))
}

func isUnixNumber(s string) bool {
	i := 0
	if s[0] == '-' || s[0] == '+' {
		i = 1
	}
	digits, dots := 0, 0
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			dots++
		default:
			return false
		}
	}
	return digits > 0 && dots <= 1
}

func parseUnixSeconds(s string) (time.Time, error) {
	neg := false
	body := s
	if body[0] == '-' || body[0] == '+' {
		neg = body[0] == '-'
		body = body[1:]
	}
	intPart, frac, _ := strings.Cut(body, ".")
	var sec int64
	if intPart != "" {
		v, err := strconv.ParseInt(intPart, 10, 64)
		if err != nil || v > maxUnixSeconds {
			return time.Time{}, fmt.Errorf("timestamp %q is out of range for Unix seconds (milliseconds? give seconds)", s)
		}
		sec = v
	}
	var nsec int64
	if frac != "" {
		if len(frac) > 9 {
			frac = frac[:9]
		}
		v, err := strconv.ParseInt(frac, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("cannot parse %q as Unix seconds", s)
		}
		for i := len(frac); i < 9; i++ {
			v *= 10
		}
		nsec = v
	}
	if neg {
		sec, nsec = -sec, -nsec
	}
	return time.Unix(sec, nsec).UTC(), nil
}

// ParseValue parses a sample value: a decimal or scientific number; an
// empty cell or NaN, null, NA (any case) is missing and returns NaN.
// Infinite values are errors.
func ParseValue(s string) (float64, error) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "", "nan", "null", "na", "n/a":
		return math.NaN(), nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			return 0, fmt.Errorf("value %q is out of range", s)
		}
		return 0, fmt.Errorf("cannot parse %q as a number", s)
	}
	if math.IsInf(v, 0) {
		return 0, fmt.Errorf("value %q is infinite", s)
	}
	return v, nil
}

// rows reads CSV records with their line numbers.
type rows struct {
	cr    *csv.Reader
	first bool
	// a record pushed back by peek
	held     []string
	heldLine int
	hasHeld  bool
}

func newRows(r io.Reader) *rows {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	return &rows{cr: cr, first: true}
}

// next returns the next record and its line; io.EOF at the end.
func (r *rows) next() ([]string, int, error) {
	if r.hasHeld {
		r.hasHeld = false
		return r.held, r.heldLine, nil
	}
	rec, err := r.cr.Read()
	if err != nil {
		if err == io.EOF {
			return nil, 0, io.EOF
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, 0, &CSVError{Line: pe.Line, Err: pe.Err}
		}
		return nil, 0, &CSVError{Err: err}
	}
	line, _ := r.cr.FieldPos(0)
	if r.first {
		r.first = false
		rec[0] = strings.TrimPrefix(rec[0], "\ufeff")
	}
	for i := range rec {
		rec[i] = strings.TrimSpace(rec[i])
	}
	return rec, line, nil
}

// peek returns the next record without consuming it (the slice is a copy).
func (r *rows) peek() ([]string, int, error) {
	rec, line, err := r.next()
	if err != nil {
		return nil, 0, err
	}
	r.held = append(r.held[:0], rec...)
	r.heldLine = line
	r.hasHeld = true
	return r.held, line, nil
}

var (
	timeColumnNames   = []string{"timestamp", "time", "ts", "date", "datetime", "_time"}
	seriesColumnNames = []string{"series", "series_id", "id", "name", "key", "metric"}
)

func indexOfName(header []string, names []string) int {
	for i, h := range header {
		for _, n := range names {
			if strings.EqualFold(h, n) {
				return i
			}
		}
	}
	return -1
}

// layout describes the columns of one file.
type layout struct {
	names  []string // column names (header or defaults)
	tcol   int      // timestamp column (-1 = none)
	scol   int      // series column (-1 = none)
	vcols  []int    // value columns
	header bool
}

func (l *layout) describe() string { return strings.Join(l.names, ",") }

// readHeader consumes the first row if it is a header (its timestamp cell,
// or value cell when there is no timestamp column, does not parse) and
// returns the column names: the header's, or defaults.
func readHeader(r *rows, want int, defaults []string, tcolDefault int) ([]string, bool, int, error) {
	rec, line, err := r.peek()
	if err == io.EOF {
		return nil, false, 0, &CSVError{Err: errors.New("no data rows")}
	}
	if err != nil {
		return nil, false, 0, err
	}
	if want > 0 && len(rec) != want {
		return nil, false, 0, csvErr(line, "", "%d fields, want %d (%s)", len(rec), want, strings.Join(defaults, ","))
	}
	// A header cell is a name: it does not parse and does not start like a
	// number or date (a malformed first data row must report its error).
	var perr error
	cell := rec[0]
	if tcolDefault >= 0 {
		cell = rec[tcolDefault]
		_, perr = ParseTimestamp(cell)
	} else {
		_, perr = ParseValue(cell)
	}
	isHeader := perr != nil && !startsLikeNumber(cell)
	if !isHeader {
		return append([]string(nil), defaults...), false, line, nil
	}
	r.hasHeld = false // consume it
	names := append([]string(nil), rec...)
	seen := map[string]int{}
	for i, n := range names {
		if n == "" {
			return nil, false, 0, csvErr(line, "", "header column %d is empty", i+1)
		}
		if j, dup := seen[n]; dup {
			return nil, false, 0, csvErr(line, n, "header names column %d and %d alike", j+1, i+1)
		}
		seen[n] = i
	}
	return names, true, line, nil
}

// ReadTimeValueCSV reads a "timestamp,value" file (header optional; with a
// header the columns may be in either order, the timestamp column being
// named timestamp, time, ts, date, datetime or _time). name names the
// series; when empty the value column's header (or "value") is used.
func ReadTimeValueCSV(r io.Reader, name string) (*TimeSeries, error) {
	return readTimeValue(newRows(r), name)
}

func readTimeValue(rr *rows, name string) (*TimeSeries, error) {
	names, header, _, err := readHeader(rr, 2, []string{"timestamp", "value"}, 0)
	if err != nil {
		return nil, err
	}
	l := layout{names: names, tcol: 0, scol: -1, vcols: []int{1}, header: header}
	if header {
		if t := indexOfName(names, timeColumnNames); t >= 0 {
			l.tcol, l.vcols[0] = t, 1-t
		}
	}
	if name == "" {
		name = names[l.vcols[0]]
	}
	s := &TimeSeries{Name: name}
	err = readTable(rr, &l, func(_ string, t time.Time, vals []float64) {
		s.Times = append(s.Times, t)
		s.Values = append(s.Values, vals[0])
	})
	if err != nil {
		return nil, err
	}
	sortSeries(s)
	return s, nil
}

// ReadLongCSV reads a long-form "series,timestamp,value" file (as written by
// Fleet.WriteCSV) and returns one TimeSeries per distinct series, in order
// of first appearance. With a header, columns are found by name (series:
// series, series_id, id, name, key or metric; time: see ReadTimeValueCSV;
// the remaining column holds the values).
func ReadLongCSV(r io.Reader) ([]TimeSeries, error) {
	return readLongRows(newRows(r))
}

func readLongRows(rr *rows) ([]TimeSeries, error) {
	names, header, hline, err := readHeader(rr, 3, []string{"series", "timestamp", "value"}, 1)
	if err != nil {
		return nil, err
	}
	l := layout{names: names, scol: 0, tcol: 1, vcols: []int{2}, header: header}
	if header {
		s, t := indexOfName(names, seriesColumnNames), indexOfName(names, timeColumnNames)
		if s < 0 || t < 0 || s == t {
			if !(s < 0 && t < 0) {
				return nil, csvErr(hline, "", "header %q: need a series column and a timestamp column", strings.Join(names, ","))
			}
			s, t = 0, 1
		}
		l.scol, l.tcol, l.vcols[0] = s, t, 3-s-t
	}
	return readLong(rr, &l)
}

func readLong(rr *rows, l *layout) ([]TimeSeries, error) {
	var out []TimeSeries
	index := map[string]int{}
	err := readTable(rr, l, func(series string, t time.Time, vals []float64) {
		i, ok := index[series]
		if !ok {
			i = len(out)
			index[series] = i
			out = append(out, TimeSeries{Name: series})
		}
		out[i].Times = append(out[i].Times, t)
		out[i].Values = append(out[i].Values, vals[0])
	})
	if err != nil {
		return nil, err
	}
	for i := range out {
		sortSeries(&out[i])
	}
	return out, nil
}

// ReadValuesCSV reads a file with one bare value per line (header
// optional): sample k is at start + k×step. name names the series; when
// empty the header (or "value") is used.
func ReadValuesCSV(r io.Reader, name string, start time.Time, step time.Duration) (*TimeSeries, error) {
	return readValues(newRows(r), name, start, step)
}

func readValues(rr *rows, name string, start time.Time, step time.Duration) (*TimeSeries, error) {
	if step <= 0 {
		return nil, &CSVError{Err: fmt.Errorf("bare values need a positive step, got %s", step)}
	}
	names, _, _, err := readHeader(rr, 1, []string{"value"}, -1)
	if err != nil {
		return nil, err
	}
	if name == "" {
		name = names[0]
	}
	s := &TimeSeries{Name: name}
	start = start.UTC()
	for {
		rec, line, err := rr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(rec) != 1 {
			return nil, csvErr(line, "", "%d fields, want 1 (a bare value)", len(rec))
		}
		v, err := ParseValue(rec[0])
		if err != nil {
			return nil, &CSVError{Line: line, Column: names[0], Err: err}
		}
		// k×step must not overflow a time.Duration (about 292 years),
		// which would wrap the time around.
		if k := time.Duration(len(s.Values)); k > 0 && step > time.Duration(math.MaxInt64)/k {
			return nil, csvErr(line, "", "value %d at start + %d×%s is more than %s after the start: use a smaller step", k+1, k, step, time.Duration(math.MaxInt64))
		}
		s.Times = append(s.Times, start.Add(time.Duration(len(s.Values))*step))
		s.Values = append(s.Values, v)
	}
	if len(s.Values) == 0 {
		return nil, &CSVError{Err: errors.New("no data rows")}
	}
	return s, nil
}

// ReadColumnsCSV reads "timestamp,colA,colB,..." (e.g. timestamp,used,total
// or timestamp,memory,limit,load). Without a header the value columns are
// named col1, col2, ... With a header the timestamp column is found by name
// (see ReadTimeValueCSV), else it is the first.
func ReadColumnsCSV(r io.Reader) (*Frame, error) {
	return readColumns(newRows(r))
}

func readColumns(rr *rows) (*Frame, error) {
	first, line, err := rr.peek()
	if err == io.EOF {
		return nil, &CSVError{Err: errors.New("no data rows")}
	}
	if err != nil {
		return nil, err
	}
	if len(first) < 2 {
		return nil, csvErr(line, "", "%d field, want a timestamp and at least one value column", len(first))
	}
	defaults := []string{"timestamp"}
	for i := 1; i < len(first); i++ {
		defaults = append(defaults, "col"+strconv.Itoa(i))
	}
	names, header, _, err := readHeader(rr, len(first), defaults, 0)
	if err != nil {
		return nil, err
	}
	l := layout{names: names, tcol: 0, scol: -1, header: header}
	if header {
		if t := indexOfName(names, timeColumnNames); t >= 0 {
			l.tcol = t
		}
	}
	fr := &Frame{}
	for i, n := range names {
		if i != l.tcol {
			l.vcols = append(l.vcols, i)
			fr.Names = append(fr.Names, n)
		}
	}
	fr.Columns = make([][]float64, len(l.vcols))
	err = readTable(rr, &l, func(_ string, t time.Time, vals []float64) {
		fr.Times = append(fr.Times, t)
		for i, v := range vals {
			fr.Columns[i] = append(fr.Columns[i], v)
		}
	})
	if err != nil {
		return nil, err
	}
	sortFrame(fr)
	return fr, nil
}

// CSVOptions configures ReadSeriesCSV.
type CSVOptions struct {
	// Name names the series of single-series layouts (default: the value
	// column's header, or "value").
	Name string
	// Start and Step place bare values in time: sample k is at
	// Start + k×Step. Step is required for the bare-value layout.
	Start time.Time
	Step  time.Duration
}

// ReadSeriesCSV reads any of the layouts, telling them apart by the first
// row: one column is bare values; two are timestamp,value; three are the
// long form when a header names a series column, or, without a header,
// when the first cell is not a timestamp; otherwise the file is
// multi-column and each value column becomes a series.
func ReadSeriesCSV(r io.Reader, opt CSVOptions) ([]TimeSeries, error) {
	rr := newRows(r)
	first, _, err := rr.peek()
	if err == io.EOF {
		return nil, &CSVError{Err: errors.New("no data rows")}
	}
	if err != nil {
		return nil, err
	}
	switch {
	case len(first) == 1:
		s, err := readValues(rr, opt.Name, opt.Start, opt.Step)
		if err != nil {
			return nil, err
		}
		return []TimeSeries{*s}, nil
	case len(first) == 2:
		s, err := readTimeValue(rr, opt.Name)
		if err != nil {
			return nil, err
		}
		return []TimeSeries{*s}, nil
	case len(first) == 3 && looksLong(first):
		return readLongRows(rr)
	}
	fr, err := readColumns(rr)
	if err != nil {
		return nil, err
	}
	out := make([]TimeSeries, len(fr.Names))
	for i, n := range fr.Names {
		out[i] = TimeSeries{Name: n, Times: fr.Times, Values: fr.Columns[i]}
	}
	return out, nil
}

func looksLong(first []string) bool {
	if indexOfName(first, seriesColumnNames) >= 0 {
		return true
	}
	if indexOfName(first, timeColumnNames) >= 0 {
		return false // a header without a series column
	}
	_, err0 := ParseTimestamp(first[0])
	_, err1 := ParseTimestamp(first[1])
	return err0 != nil && err1 == nil
}

// readTable reads the data rows of l, calling emit for each.
func readTable(rr *rows, l *layout, emit func(series string, t time.Time, vals []float64)) error {
	vals := make([]float64, len(l.vcols))
	n := 0
	for {
		rec, line, err := rr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if len(rec) != len(l.names) {
			return csvErr(line, "", "%d fields, want %d (%s)", len(rec), len(l.names), l.describe())
		}
		t, err := ParseTimestamp(rec[l.tcol])
		if err != nil {
			return &CSVError{Line: line, Column: l.names[l.tcol], Err: err}
		}
		for i, c := range l.vcols {
			v, err := ParseValue(rec[c])
			if err != nil {
				return &CSVError{Line: line, Column: l.names[c], Err: err}
			}
			vals[i] = v
		}
		series := ""
		if l.scol >= 0 {
			series = rec[l.scol]
			if series == "" {
				return csvErr(line, l.names[l.scol], "empty series name")
			}
		}
		emit(series, t, vals)
		n++
	}
	if n == 0 {
		return &CSVError{Err: errors.New("no data rows")}
	}
	return nil
}

func sortSeries(s *TimeSeries) {
	if sort.SliceIsSorted(s.Times, func(i, j int) bool { return s.Times[i].Before(s.Times[j]) }) {
		return
	}
	idx := make([]int, len(s.Times))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return s.Times[idx[a]].Before(s.Times[idx[b]]) })
	t := make([]time.Time, len(idx))
	v := make([]float64, len(idx))
	for i, k := range idx {
		t[i], v[i] = s.Times[k], s.Values[k]
	}
	s.Times, s.Values = t, v
}

func sortFrame(f *Frame) {
	if sort.SliceIsSorted(f.Times, func(i, j int) bool { return f.Times[i].Before(f.Times[j]) }) {
		return
	}
	idx := make([]int, len(f.Times))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return f.Times[idx[a]].Before(f.Times[idx[b]]) })
	t := make([]time.Time, len(idx))
	for i, k := range idx {
		t[i] = f.Times[k]
	}
	f.Times = t
	for c, col := range f.Columns {
		nc := make([]float64, len(idx))
		for i, k := range idx {
			nc[i] = col[k]
		}
		f.Columns[c] = nc
	}
}
