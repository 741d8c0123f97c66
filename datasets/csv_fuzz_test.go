package datasets

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

// csvFuzzSeeds are inputs for every layout: bare values, timestamp,value,
// long form, multi-column, with and without headers, and hostile cells.
var csvFuzzSeeds = []string{
	"value\n1\n2.5\n\nNaN\n",
	"1\n2\n3\n",
	"timestamp,value\n2026-01-01T00:00:00Z,1\n2026-01-01T01:00:00Z,2\n",
	"value,time\n3,1761955200\n4,1761958800.25\n",
	"2026-01-01 00:00:00+08:00,1\n2025-12-31T23:00:00Z,null\n",
	"series,timestamp,value\ncpu,2026-01-01T00:00:00Z,1\nmem,2026-01-01T00:00:00Z,2\ncpu,2025-12-31T00:00:00Z,3\n",
	"metric,ts,v\n\"a,b\",1761955200,1e3\n",
	"a,1761955200,1\n",
	"timestamp,used,total\n1761955200,1,2\n1761955100,,NA\n",
	"\ufefftimestamp,a,b,c\n1761955200,1,2,3\n",
	"# comment\n1761955200,1,2,3\n",
	"timestamp,value\n2026-01-01T00:00:00,1\n",
	"timestamp,value\n99999999999,1\n",
	"timestamp,value\n-99999999999.999999999999,1\n",
	"timestamp,value\n1761955200,1e309\n1761955200,-Inf\n",
	"timestamp,value\n1761955200,0x1p-2\n1761955200,1_000\n",
	"timestamp,timestamp\n1,2\n",
	"a,,c\n1,2,3\n",
	"x,y\n\"unterminated\n",
	"a,b\n1,2,3\n",
	"\"a\"\"b\",c\n1761955200,1\n",
	"timestamp,value\r\n1761955200,1\r\n",
	"\xff\xfe,\x00\n1761955200,1\n",
	"series,timestamp,value\n,1761955200,1\n",
	"",
	"\n\n",
	",",
	"\"",
}

// FuzzReadCSV reads arbitrary bytes with every CSV reader (bare values,
// timestamp,value, long form, multi-column, and the layout-detecting
// ReadSeriesCSV). None may panic; each returns data or a *CSVError naming
// a line of the input (only "no data rows" names none); returned data has
// at most one sample per input line, equal-length columns, sorted times
// and no infinite value.
func FuzzReadCSV(f *testing.F) {
	for _, s := range csvFuzzSeeds {
		f.Add([]byte(s), uint8(60))
	}
	f.Add([]byte("1\n2\n"), uint8(0))
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte, stepSeconds uint8) {
		lines := bytes.Count(data, []byte{'\n'}) + 1
		step := time.Duration(stepSeconds) * time.Second
		check := func(reader string, err error) bool {
			t.Helper()
			if err == nil {
				return true
			}
			var ce *CSVError
			if !errors.As(err, &ce) {
				t.Fatalf("%s: error %T %q, want *CSVError", reader, err, err)
			}
			if ce.Err == nil || err.Error() == "" {
				t.Fatalf("%s: CSVError without a reason: %+v", reader, ce)
			}
			switch {
			case ce.Line > 0:
				if ce.Line > lines {
					t.Fatalf("%s: %q names line %d of a %d-line input", reader, err, ce.Line, lines)
				}
				if !strings.HasPrefix(err.Error(), "line ") {
					t.Fatalf("%s: %q does not start with its line", reader, err)
				}
			case ce.Line == 0:
				// Only whole-file problems name no line.
				msg := ce.Err.Error()
				if msg != "no data rows" && !strings.HasPrefix(msg, "bare values need a positive step") {
					t.Fatalf("%s: %q names no line", reader, err)
				}
			default:
				t.Fatalf("%s: negative line in %+v", reader, ce)
			}
			return false
		}
		series := func(reader string, s *TimeSeries) {
			t.Helper()
			if len(s.Times) != len(s.Values) || len(s.Values) == 0 || len(s.Values) > lines {
				t.Fatalf("%s: %d times, %d values from %d lines", reader, len(s.Times), len(s.Values), lines)
			}
			for i, v := range s.Values {
				if math.IsInf(v, 0) {
					t.Fatalf("%s: value %d is %v", reader, i, v)
				}
				if i > 0 && s.Times[i].Before(s.Times[i-1]) {
					t.Fatalf("%s: times not sorted at %d: %v after %v", reader, i, s.Times[i], s.Times[i-1])
				}
			}
		}

		if s, err := ReadTimeValueCSV(bytes.NewReader(data), ""); check("ReadTimeValueCSV", err) {
			series("ReadTimeValueCSV", s)
			if s.Name == "" {
				t.Fatal("ReadTimeValueCSV: unnamed series")
			}
		}
		if ss, err := ReadLongCSV(bytes.NewReader(data)); check("ReadLongCSV", err) {
			total := 0
			seen := map[string]bool{}
			for _, s := range ss {
				series("ReadLongCSV", &s)
				if s.Name == "" || seen[s.Name] {
					t.Fatalf("ReadLongCSV: series name %q empty or repeated", s.Name)
				}
				seen[s.Name] = true
				total += s.Len()
			}
			if total > lines {
				t.Fatalf("ReadLongCSV: %d samples from %d lines", total, lines)
			}
		}
		if s, err := ReadValuesCSV(bytes.NewReader(data), "v", start, step); check("ReadValuesCSV", err) {
			series("ReadValuesCSV", s)
			for i, tm := range s.Times {
				if want := start.Add(time.Duration(i) * step); !tm.Equal(want) {
					t.Fatalf("ReadValuesCSV: sample %d at %v, want %v", i, tm, want)
				}
			}
		}
		if fr, err := ReadColumnsCSV(bytes.NewReader(data)); check("ReadColumnsCSV", err) {
			if len(fr.Names) == 0 || len(fr.Names) != len(fr.Columns) || len(fr.Times) == 0 || len(fr.Times) > lines {
				t.Fatalf("ReadColumnsCSV: %d names, %d columns, %d rows from %d lines", len(fr.Names), len(fr.Columns), len(fr.Times), lines)
			}
			for i, c := range fr.Columns {
				if len(c) != len(fr.Times) {
					t.Fatalf("ReadColumnsCSV: column %q has %d values for %d times", fr.Names[i], len(c), len(fr.Times))
				}
				s, ok := fr.Series(fr.Names[i])
				if !ok {
					t.Fatalf("ReadColumnsCSV: column %q not found by name", fr.Names[i])
				}
				series("ReadColumnsCSV", &s)
			}
		}
		if ss, err := ReadSeriesCSV(bytes.NewReader(data), CSVOptions{Start: start, Step: step}); check("ReadSeriesCSV", err) {
			if len(ss) == 0 {
				t.Fatal("ReadSeriesCSV: no series and no error")
			}
			for _, s := range ss {
				series("ReadSeriesCSV", &s)
			}
		}
	})
}

// FuzzReadM4 reads arbitrary train and test files in the M4 layout (id,
// then values padded at the end). No panic; an error is a wrapped
// *CSVError naming a line of its file or a whole-file problem; series have
// values and no missing or infinite ones.
func FuzzReadM4(f *testing.F) {
	f.Add([]byte("\"V1\",\"V2\",\"V3\"\n\"H1\",1,2\n\"H2\",3,\n"), []byte("\"V1\",\"V2\"\n\"H1\",4\n\"H2\",5\n"))
	f.Add([]byte("H1,1,,2\n"), []byte(""))
	f.Add([]byte("H1,1\nH1,2\n"), []byte("H1,1\n"))
	f.Add([]byte("V1,V2\nH1,NaN\n"), []byte("H9,1\n"))
	f.Add([]byte("H1,1e309\n"), []byte("H1,1\n"))
	f.Add([]byte(",1\n"), []byte("\x00"))
	f.Fuzz(func(t *testing.T, train, test []byte) {
		check := func(out []M4Series, err error, withTest bool) {
			t.Helper()
			if err != nil {
				var ce *CSVError
				if errors.As(err, &ce) && ce.Line > bytes.Count(train, []byte{'\n'})+bytes.Count(test, []byte{'\n'})+1 {
					t.Fatalf("%q names line %d", err, ce.Line)
				}
				if err.Error() == "" {
					t.Fatal("empty error")
				}
				return
			}
			if len(out) == 0 {
				t.Fatal("no series and no error")
			}
			for _, s := range out {
				if s.ID == "" || len(s.Train) == 0 || (withTest && len(s.Test) == 0) {
					t.Fatalf("series %+v", s)
				}
				for _, v := range append(append([]float64(nil), s.Train...), s.Test...) {
					if math.IsNaN(v) || math.IsInf(v, 0) {
						t.Fatalf("series %s holds %v", s.ID, v)
					}
				}
			}
		}
		out, err := ReadM4(bytes.NewReader(train), nil)
		check(out, err, false)
		out, err = ReadM4(bytes.NewReader(train), bytes.NewReader(test))
		check(out, err, true)
	})
}
