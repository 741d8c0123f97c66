package engine

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestParseLineProtocol(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	in := "# comment\n" +
		"disk,host=db-01,path=/data used=100i,total=200u,ok=true,msg=\"hi\" 1700000000\n" +
		"\n" +
		"cpu,host=a\\ b usage=1.5\n" +
		"only_strings s=\"x\" 1700000000\n"
	pts, st, err := ParseLineProtocol(strings.NewReader(in), time.Second, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != 2 || st.Lines != 3 || st.Points != 2 || st.Fields != 4 || st.SkippedStringFields != 2 {
		t.Fatalf("points %+v stats %+v", pts, st)
	}
	d := pts[0]
	if d.Measurement != "disk" || d.Tags["path"] != "/data" || d.Fields["used"] != 100 || d.Fields["total"] != 200 || d.Fields["ok"] != 1 {
		t.Fatalf("disk point %+v", d)
	}
	if !d.Time.Equal(time.Unix(1700000000, 0)) {
		t.Fatalf("time %v", d.Time)
	}
	if pts[1].Tags["host"] != "a b" || !pts[1].Time.Equal(now) {
		t.Fatalf("cpu point %+v", pts[1])
	}
}

func TestParseLineProtocolPrecision(t *testing.T) {
	for prec, want := range map[string]time.Time{
		"ns": time.Unix(0, 1700000000),
		"ms": time.Unix(1700000, 0),
		"s":  time.Unix(1700000000, 0),
	} {
		d, err := ParsePrecision(prec)
		if err != nil {
			t.Fatal(err)
		}
		pts, _, err := ParseLineProtocol(strings.NewReader("m f=1 1700000000\n"), d, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if !pts[0].Time.Equal(want) {
			t.Errorf("%s: %v, want %v", prec, pts[0].Time, want)
		}
	}
	if _, err := ParsePrecision("days"); err == nil {
		t.Error("bad precision accepted")
	}
	if _, _, err := ParseLineProtocol(strings.NewReader("m f=1 99999999999999999\n"), time.Second, time.Time{}); err == nil {
		t.Error("overflowing timestamp accepted")
	}
	if _, err := ParsePrecision("h"); err == nil {
		t.Error("hour precision accepted")
	}
}

func TestParseLineProtocolRejectsWholeBatch(t *testing.T) {
	in := "m f=1 1\nm f= 2\n# comment\n\nm f=3 3\nm,=x f=1 4\nm f=1 notatime\n"
	pts, _, err := ParseLineProtocol(strings.NewReader(in), time.Nanosecond, time.Time{})
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("err %v, want *ParseError", err)
	}
	if pts != nil {
		t.Fatalf("a rejected batch returned points: %v", pts)
	}
	if pe.Total != 3 || len(pe.Lines) != 3 {
		t.Fatalf("errors %+v", pe)
	}
	for i, line := range []int64{2, 6, 7} {
		if pe.Lines[i].Line != line || pe.Lines[i].Reason == "" {
			t.Errorf("error %d = %+v, want line %d", i, pe.Lines[i], line)
		}
	}
	if !strings.Contains(pe.Error(), "line 2") {
		t.Errorf("message %q", pe.Error())
	}
}

func TestSeriesIDRoundTrip(t *testing.T) {
	keys := []SeriesKey{
		{Measurement: "disk", Field: "used", Tags: map[string]string{"host": "db-01", "path": "/data"}},
		{Measurement: "m,x y", Field: "f#g", Tags: map[string]string{"a=b": "c,d e#\\", "z": ""}},
		{Measurement: "cpu", Field: "usage"},
		{Measurement: "中文", Field: "值", Tags: map[string]string{"主机": "数据库"}},
	}
	for _, k := range keys {
		id := k.ID()
		got, err := ParseSeriesID(id)
		if err != nil {
			t.Fatalf("%q: %v", id, err)
		}
		if got.ID() != id || got.Measurement != k.Measurement || got.Field != k.Field || len(got.Tags) != len(k.Tags) {
			t.Fatalf("%q round-tripped to %+v", id, got)
		}
		for n, v := range k.Tags {
			if got.Tags[n] != v {
				t.Fatalf("%q: tag %q = %q, want %q", id, n, got.Tags[n], v)
			}
		}
	}
	if got := keys[0].ID(); got != "disk,host=db-01,path=/data#used" {
		t.Errorf("ID %q", got)
	}
	for _, bad := range []string{"", "disk", "disk#", "#f", "disk,host#f", "disk,=x#f"} {
		if _, err := ParseSeriesID(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// TestParseLineProtocolLineNumbers: rejections found after parsing (a
// timestamp out of range or malformed for its precision, a non-finite
// value) name their real line, counting comments, blank lines and lines
// inside multi-line string fields, exactly as syntax errors do.
func TestParseLineProtocolLineNumbers(t *testing.T) {
	for _, c := range []struct {
		in     string
		prec   time.Duration
		lines  []int64
		reason string
	}{
		{"# c\n\nm f=1 99999999999999999999\n", time.Nanosecond, []int64{3}, "invalid timestamp: line-protocol value out of range"},
		{"m f=1 1\nm f=1 1-2\n", time.Nanosecond, []int64{2}, "invalid timestamp: invalid syntax"},
		{"m f=1 1700000000\n\n\nm f=1 100000000000\n", time.Second, []int64{4}, "invalid timestamp: line-protocol value out of range"},
		{"m f=1 1\r\n# c\r\nm f=1 1-2\r\n", time.Nanosecond, []int64{3}, "invalid timestamp: invalid syntax"},
		// a string field spanning lines 1-2: the next entry is line 3
		{"m s=\"a\nb\" 1\nm f=1 99999999999999999999\n", time.Nanosecond, []int64{3}, "invalid timestamp: line-protocol value out of range"},
		// the bad timestamp of a multi-line entry is on its last line
		{"m s=\"a\nb\" 1-2\n", time.Nanosecond, []int64{2}, "invalid timestamp: invalid syntax"},
		// a syntax error and a range error, in order
		{"m f= 1\n#\nm f=1 99999999999999999999\n", time.Nanosecond, []int64{1, 3}, ""},
	} {
		pts, lines, _, err := ParseLineProtocolLines(strings.NewReader(c.in), c.prec, time.Time{})
		var pe *ParseError
		if !errors.As(err, &pe) || pts != nil || lines != nil {
			t.Fatalf("%q: %v, %d points, want a *ParseError", c.in, err, len(pts))
		}
		if pe.Total != len(c.lines) || len(pe.Lines) != len(c.lines) {
			t.Fatalf("%q: errors %+v, want lines %v", c.in, pe.Lines, c.lines)
		}
		for i, want := range c.lines {
			if pe.Lines[i].Line != want {
				t.Errorf("%q: error %d on line %d, want %d (%+v)", c.in, i, pe.Lines[i].Line, want, pe.Lines[i])
			}
		}
		if c.reason != "" && pe.Lines[0].Reason != c.reason {
			t.Errorf("%q: reason %q, want %q", c.in, pe.Lines[0].Reason, c.reason)
		}
	}
}

// TestParseLineProtocolLoneCR: a carriage return alone does not end a
// line; a malformed line containing one is rejected, and counted, once.
func TestParseLineProtocolLoneCR(t *testing.T) {
	for in, want := range map[string]LineError{
		"0 0=0\r0":                {Line: 1, Column: 6, Reason: `unexpected text after timestamp ("")`},
		"m f=1 1\nm f=1 1\rm f=2": {Line: 2, Column: 8, Reason: `unexpected text after timestamp ("")`},
	} {
		_, st, err := ParseLineProtocol(strings.NewReader(in), time.Nanosecond, time.Time{})
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("%q: %v, want a *ParseError", in, err)
		}
		if pe.Total != 1 || len(pe.Lines) != 1 || pe.Lines[0] != want {
			t.Errorf("%q: %d rejected, %+v; want one: %+v", in, pe.Total, pe.Lines, want)
		}
		if lines := int(want.Line); st.Lines != lines {
			t.Errorf("%q: stats count %d lines, want %d", in, st.Lines, lines)
		}
	}
}

// TestParseLineProtocolLines: each point comes with its input line.
func TestParseLineProtocolLines(t *testing.T) {
	in := "# header\nm f=1 1\n\nm s=\"x\ny\",f=2 2\nm,t=a f=3 3\r\n" + strings.Repeat("x", 70000) + " f=4 4\nm f=5\n"
	pts, lines, st, err := ParseLineProtocolLines(strings.NewReader(in), time.Nanosecond, time.Unix(100, 0))
	if err != nil {
		t.Fatal(err)
	}
	want := []int64{2, 4, 6, 7, 8}
	if len(pts) != len(want) || fmt.Sprint(lines) != fmt.Sprint(want) || st.Lines != 5 {
		t.Fatalf("%d points on lines %v (stats %+v), want lines %v", len(pts), lines, st, want)
	}
	for i, p := range pts {
		if p.Fields["f"] != float64(i+1) {
			t.Fatalf("point %d: %+v", i, p)
		}
	}
}
