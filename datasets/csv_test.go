package datasets

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func sameValues(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
			return false
		}
	}
	return true
}

func sameTimes(a, b []time.Time) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(b[i]) {
			return false
		}
	}
	return true
}

var nan = math.NaN()

func TestParseTimestamp(t *testing.T) {
	tests := []struct {
		in   string
		want string // RFC 3339 or "" for an error
		msg  string
	}{
		{"2026-10-31T16:00:00Z", "2026-10-31T16:00:00Z", ""},
		{"2026-11-01T00:00:00+08:00", "2026-10-31T16:00:00Z", ""},
		{"2026-11-01 00:00:00.5+08:00", "2026-10-31T16:00:00.5Z", ""},
		{"1761955200", "2025-11-01T00:00:00Z", ""},
		{"1761955200.25", "2025-11-01T00:00:00.25Z", ""},
		{"-1.5", "1969-12-31T23:59:58.5Z", ""},
		{" 0 ", "1970-01-01T00:00:00Z", ""},
		{"2026-11-01T00:00:00", "", "no time zone"},
		{"1761955200000", "", "milliseconds"},
		{"yesterday", "", "cannot parse"},
		{"", "", "empty"},
		{"1.2.3", "", "cannot parse"},
	}
	for _, tc := range tests {
		got, err := ParseTimestamp(tc.in)
		if tc.want == "" {
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("ParseTimestamp(%q) = %v, %v; want error with %q", tc.in, got, err, tc.msg)
			}
			continue
		}
		if err != nil || !got.Equal(ts(tc.want)) || got.Location() != time.UTC {
			t.Errorf("ParseTimestamp(%q) = %v, %v; want %s", tc.in, got, err, tc.want)
		}
	}
}

func TestParseValue(t *testing.T) {
	for in, want := range map[string]float64{"1.5": 1.5, "-2e3": -2000, " 7 ": 7, "": nan, "NaN": nan, "nan": nan, "null": nan, "NA": nan} {
		got, err := ParseValue(in)
		if err != nil || !sameValues([]float64{got}, []float64{want}) {
			t.Errorf("ParseValue(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"abc", "Inf", "-inf", "1e999", "1,5"} {
		if _, err := ParseValue(in); err == nil {
			t.Errorf("ParseValue(%q) accepted", in)
		}
	}
}

func TestReadTimeValueCSV(t *testing.T) {
	tests := []struct {
		name, in string
		wantName string
		times    []string
		values   []float64
	}{
		{"header", "timestamp,value\n2026-01-01T00:00:00Z,1\n2026-01-01T00:01:00Z,2.5\n", "value",
			[]string{"2026-01-01T00:00:00Z", "2026-01-01T00:01:00Z"}, []float64{1, 2.5}},
		{"no header unix", "1767225600,1\n1767225660,\n", "value",
			[]string{"2026-01-01T00:00:00Z", "2026-01-01T00:01:00Z"}, []float64{1, nan}},
		{"reordered header", "used_pct,time\n5,2026-01-01T00:01:00Z\n4,2026-01-01T00:00:00Z\n", "used_pct",
			[]string{"2026-01-01T00:00:00Z", "2026-01-01T00:01:00Z"}, []float64{4, 5}},
		{"comments blank lines bom nan", "\ufefftimestamp,v\n# note\n\n2026-01-01T00:00:00+08:00, NaN\n", "v",
			[]string{"2025-12-31T16:00:00Z"}, []float64{nan}},
		{"unsorted is sorted", "3,30\n1,10\n2,20\n", "value",
			[]string{"1970-01-01T00:00:01Z", "1970-01-01T00:00:02Z", "1970-01-01T00:00:03Z"}, []float64{10, 20, 30}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ReadTimeValueCSV(strings.NewReader(tc.in), "")
			if err != nil {
				t.Fatal(err)
			}
			var want []time.Time
			for _, x := range tc.times {
				want = append(want, ts(x))
			}
			if s.Name != tc.wantName || !sameTimes(s.Times, want) || !sameValues(s.Values, tc.values) {
				t.Errorf("got %q %v %v", s.Name, s.Times, s.Values)
			}
		})
	}
	s, err := ReadTimeValueCSV(strings.NewReader("1,1\n"), "cpu")
	if err != nil || s.Name != "cpu" {
		t.Errorf("explicit name: %v %v", s, err)
	}
}

func TestReadCSVErrors(t *testing.T) {
	type reader func(string) error
	tv := func(in string) error { _, err := ReadTimeValueCSV(strings.NewReader(in), ""); return err }
	long := func(in string) error { _, err := ReadLongCSV(strings.NewReader(in)); return err }
	vals := func(in string) error {
		_, err := ReadValuesCSV(strings.NewReader(in), "", time.Unix(0, 0), time.Minute)
		return err
	}
	cols := func(in string) error { _, err := ReadColumnsCSV(strings.NewReader(in)); return err }
	tests := []struct {
		name   string
		read   reader
		in     string
		line   int
		column string
		msg    string
	}{
		{"bad value", tv, "timestamp,value\n1,1\n2,abc\n", 3, "value", `cannot parse "abc" as a number`},
		{"bad timestamp", tv, "timestamp,value\n1,1\n\n2026-13-01T00:00:00Z,2\n", 4, "timestamp", "cannot parse"},
		{"zone missing", tv, "t,v\n2026-01-01T00:00:00,1\n", 2, "t", "no time zone"},
		{"bad first data row is not a header", tv, "2026-13-01T00:00:00Z,2\n", 1, "timestamp", "cannot parse"},
		{"wrong field count", tv, "1,1\n2,2,2\n", 2, "", "3 fields, want 2"},
		{"infinite", tv, "1,+Inf\n", 1, "value", "infinite"},
		{"empty", tv, "", 0, "", "no data rows"},
		{"header only", tv, "timestamp,value\n", 0, "", "no data rows"},
		{"csv syntax", tv, "1,\"unterminated\n", 1, "", "quote"},
		{"long bad value", long, "series,timestamp,value\na,1,1\nb,2,x\n", 3, "value", "cannot parse"},
		{"long empty series", long, "series,timestamp,value\n,1,1\n", 2, "series", "empty series name"},
		{"long bad header", long, "series,when,value\na,1,1\n", 1, "", "need a series column and a timestamp column"},
		{"long millis", long, "a,1761955200000,1\n", 1, "timestamp", "milliseconds"},
		{"values bad", vals, "value\n1\n2\nx\n", 4, "value", "cannot parse"},
		{"values two fields", vals, "1\n2,3\n", 2, "", "want 1"},
		{"columns bad", cols, "timestamp,used,total\n1,5,10\n2,6,ten\n", 3, "total", "cannot parse"},
		{"columns short row", cols, "timestamp,used,total\n1,5\n", 2, "", "2 fields, want 3"},
		{"columns duplicate header", cols, "timestamp,used,used\n1,5,6\n", 1, "used", "alike"},
		{"columns one column", cols, "timestamp\n1\n", 1, "", "at least one value column"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.read(tc.in)
			if err == nil {
				t.Fatal("no error")
			}
			var ce *CSVError
			if !errors.As(err, &ce) {
				t.Fatalf("%T %v is not a *CSVError", err, err)
			}
			if ce.Line != tc.line || ce.Column != tc.column || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("got line %d column %q: %v; want line %d column %q with %q", ce.Line, ce.Column, err, tc.line, tc.column, tc.msg)
			}
		})
	}
	if _, err := ReadValuesCSV(strings.NewReader("1\n"), "", time.Time{}, 0); err == nil {
		t.Error("bare values without a step accepted")
	}
}

func TestReadLongCSV(t *testing.T) {
	in := `series,timestamp,value
"disk,host=db-01,path=/data#used",2026-01-01T00:01:00Z,20
cpu,2026-01-01T00:00:00Z,5
"disk,host=db-01,path=/data#used",2026-01-01T00:00:00Z,10
cpu,2026-01-01T00:01:00Z,
`
	got, err := ReadLongCSV(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	t0, t1 := ts("2026-01-01T00:00:00Z"), ts("2026-01-01T00:01:00Z")
	want := []TimeSeries{
		{Name: "disk,host=db-01,path=/data#used", Times: []time.Time{t0, t1}, Values: []float64{10, 20}},
		{Name: "cpu", Times: []time.Time{t0, t1}, Values: []float64{5, nan}},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d series", len(got))
	}
	for i := range want {
		if got[i].Name != want[i].Name || !sameTimes(got[i].Times, want[i].Times) || !sameValues(got[i].Values, want[i].Values) {
			t.Errorf("series %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	// header with other names and order
	got, err = ReadLongCSV(strings.NewReader("time,value,id\n60,1.5,a\n"))
	if err != nil || len(got) != 1 || got[0].Name != "a" || got[0].Values[0] != 1.5 || !got[0].Times[0].Equal(time.Unix(60, 0)) {
		t.Errorf("renamed columns: %+v %v", got, err)
	}
}

func TestReadValuesCSV(t *testing.T) {
	start := ts("2026-01-01T00:00:00Z")
	s, err := ReadValuesCSV(strings.NewReader("load\n1\n\n# skipped\n2\nNaN\n4\n"), "", start, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "load" || !sameValues(s.Values, []float64{1, 2, nan, 4}) || !s.Times[3].Equal(start.Add(3*time.Hour)) {
		t.Errorf("got %+v", s)
	}
	s, err = ReadValuesCSV(strings.NewReader("-1.5\n2\n"), "x", start, time.Minute)
	if err != nil || s.Name != "x" || !sameValues(s.Values, []float64{-1.5, 2}) {
		t.Errorf("no header: %+v %v", s, err)
	}
}

// TestReadValuesCSVStepOverflow: start + k×step past the range of a
// time.Duration is refused on the line of the value, not wrapped around
// to a time before the start.
func TestReadValuesCSVStepOverflow(t *testing.T) {
	start := ts("2026-01-01T00:00:00Z")
	century := 36525 * 24 * time.Hour
	s, err := ReadValuesCSV(strings.NewReader("v\n1\n2\n3\n"), "", start, century)
	if err != nil || len(s.Times) != 3 || !s.Times[2].Equal(start.Add(2*century)) {
		t.Fatalf("two centuries: %+v %v", s, err)
	}
	_, err = ReadValuesCSV(strings.NewReader("v\n1\n2\n3\n4\n"), "", start, century)
	var ce *CSVError
	if !errors.As(err, &ce) || ce.Line != 5 || !strings.Contains(err.Error(), "value 4 at start + 3×") {
		t.Fatalf("three centuries: %v, want an error on line 5", err)
	}
	_, err = ReadSeriesCSV(strings.NewReader("1\n2\n3\n"), CSVOptions{Start: start, Step: time.Duration(math.MaxInt64)})
	if !errors.As(err, &ce) || ce.Line != 3 {
		t.Fatalf("largest step: %v, want an error on line 3", err)
	}
}

func TestReadColumnsCSV(t *testing.T) {
	fr, err := ReadColumnsCSV(strings.NewReader("timestamp,memory,limit,load\n2026-01-01T00:01:00Z,2,8,0.5\n2026-01-01T00:00:00Z,1,8,\n"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(fr.Names, ",") != "memory,limit,load" || len(fr.Times) != 2 || !fr.Times[0].Equal(ts("2026-01-01T00:00:00Z")) {
		t.Fatalf("frame %+v", fr)
	}
	mem, _ := fr.Column("memory")
	load, _ := fr.Column("load")
	if !sameValues(mem, []float64{1, 2}) || !sameValues(load, []float64{nan, 0.5}) {
		t.Errorf("memory %v load %v", mem, load)
	}
	if _, ok := fr.Column("nope"); ok {
		t.Error("found a missing column")
	}
	s, ok := fr.Series("limit")
	if !ok || s.Name != "limit" || !sameValues(s.Values, []float64{8, 8}) {
		t.Errorf("Series(limit) = %+v", s)
	}
	// no header: default names
	fr, err = ReadColumnsCSV(strings.NewReader("1,5,10\n2,6,10\n"))
	if err != nil || strings.Join(fr.Names, ",") != "col1,col2" {
		t.Errorf("default names %+v %v", fr, err)
	}
}

func TestReadSeriesCSVDetects(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		names []string
		n     int // samples in the first series
	}{
		{"bare values", "1\n2\n3\n", []string{"value"}, 3},
		{"time value", "timestamp,value\n1,1\n2,2\n", []string{"value"}, 2},
		{"long with header", "series,timestamp,value\na,1,1\nb,1,2\na,2,3\n", []string{"a", "b"}, 2},
		{"long without header", "a,1,1\nb,1,2\n", []string{"a", "b"}, 1},
		{"three columns wide", "timestamp,used,total\n1,5,10\n", []string{"used", "total"}, 1},
		{"three columns wide no header", "1,5,10\n2,6,10\n", []string{"col1", "col2"}, 2},
		{"four columns", "timestamp,memory,limit,load\n1,1,2,3\n", []string{"memory", "limit", "load"}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadSeriesCSV(strings.NewReader(tc.in), CSVOptions{Step: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, s := range got {
				names = append(names, s.Name)
			}
			if strings.Join(names, "|") != strings.Join(tc.names, "|") || got[0].Len() != tc.n {
				t.Errorf("got %v (first has %d samples)", names, got[0].Len())
			}
		})
	}
	if _, err := ReadSeriesCSV(strings.NewReader("1\n2\n"), CSVOptions{}); err == nil {
		t.Error("bare values without a step accepted")
	}
	if _, err := ReadSeriesCSV(strings.NewReader(""), CSVOptions{}); err == nil {
		t.Error("empty input accepted")
	}
}
