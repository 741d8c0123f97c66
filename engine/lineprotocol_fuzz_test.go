package engine

import (
	"bytes"
	"errors"
	"math"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/influxdata/line-protocol/v2/lineprotocol"
)

// fuzzPrecisions are the precisions the write endpoints accept, indexed by
// the fuzzer's selector byte.
var fuzzPrecisions = [...]time.Duration{time.Nanosecond, time.Microsecond, time.Millisecond, time.Second}

// FuzzParseLineProtocol feeds arbitrary bytes, in every precision, to the
// ingest parser. It must never panic; it returns either points (at most
// one per input line, without non-finite values) or a *ParseError naming
// each rejected line once, by its number inside the input; accepted points
// that line protocol can carry re-encode and re-parse to the same points;
// and the parse allocates at most a bounded multiple of the input size.
func FuzzParseLineProtocol(f *testing.F) {
	for _, s := range []string{
		"disk,host=db-01,path=/data used=100i,total=200u,ok=true,msg=\"hi\" 1700000000\n",
		"cpu,host=a\\ b,cpu=cpu-total usage_user=1.5,usage_system=-0.25e-3\n",
		"# comment\n\nm f=1 1\nm f= 2\nm,=x f=1 4\nm f=1 notatime\n",
		"m f=1 99999999999999999999\n",
		"m f=1 -9223372036854775808\n",
		"m f=1 9223372036854775807\n",
		"m f=1e308,g=-1e308,h=1e-320 0\n",
		"m f=1e309\n",
		"m f=NaN\nm f=Inf\nm f=-inf\n",
		"m f=18446744073709551615u,g=-9223372036854775808i 1\n",
		"m\\,x\\ y,t\\=k=v\\=w\\,z f\\ g=1 2\n",
		"m,t=v\\ f=1\n",
		"m f=\"line\\\nbreak\" 3\n",
		"m f=1 1\r\nm g=2 2\r\n",
		"m,t=\xff\xfe f=1\n",
		"m,t=a\x00b f=1\n",
		"\x00 f=1\n",
		"\t\tm f=1\n",
		"m f=t,g=F,h=TRUE,i=false 5\n",
		"m f=1,f=2 7\nm,t=a,t=b f=1 8\n",
		"only_strings s=\"x\" 1700000000\n",
		"m f=1 1 extra\n",
		"",
		"\n\n\n",
		"# just a comment",
		"m f=1",
		strings.Repeat("m f=1 1\n", 100),
		strings.Repeat("x,", 300) + " f=1\n",
	} {
		for prec := range uint8(len(fuzzPrecisions)) {
			f.Add([]byte(s), prec)
		}
	}
	now := time.Date(2026, 11, 30, 12, 34, 56, 789_123_456, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte, prec uint8) {
		precision := fuzzPrecisions[int(prec)%len(fuzzPrecisions)]
		lines := bytes.Count(data, []byte{'\n'}) + 1

		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		points, stats, err := ParseLineProtocol(bytes.NewReader(data), precision, now)
		runtime.ReadMemStats(&after)

		// Memory: the parse keeps at most one point per line, and all it
		// allocates is bounded by a multiple of the input (plus the
		// decoder's fixed buffers).
		if alloc, limit := after.TotalAlloc-before.TotalAlloc, uint64(256*len(data)+1<<20); alloc > limit {
			t.Errorf("parsing %d bytes allocated %d bytes (limit %d)", len(data), alloc, limit)
		}
		// A lone '\r' does not end a line: the entries it separates (the
		// decoder resynchronises there after a syntax error) share a line
		// and count once.
		if stats.Lines > lines || stats.Points > lines || stats.Fields < stats.Points {
			t.Fatalf("stats %+v for %d input lines", stats, lines)
		}

		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T %v, want *ParseError", err, err)
			}
			if points != nil {
				t.Fatalf("a rejected batch returned %d points", len(points))
			}
			if pe.Total < 1 || len(pe.Lines) < 1 || len(pe.Lines) > MaxLineErrors || len(pe.Lines) > pe.Total || pe.Total > lines {
				t.Fatalf("ParseError counts: %d listed, total %d, %d input lines", len(pe.Lines), pe.Total, lines)
			}
			prev := int64(0)
			for _, le := range pe.Lines {
				if le.Reason == "" {
					t.Fatalf("line error without a reason: %+v", le)
				}
				// Every rejection names its line: the decoder's syntax
				// errors and the checks made after parsing (a timestamp
				// out of range or such as "1-2", a non-finite value) alike.
				if le.Line < 1 || le.Line > int64(lines) {
					t.Fatalf("line error %+v: line outside the %d-line input", le, lines)
				}
				if le.Column < 0 {
					t.Fatalf("line error %+v: negative column", le)
				}
				if le.Line <= prev {
					t.Fatalf("line errors out of order or repeated: line %d after line %d", le.Line, prev)
				}
				if strings.HasPrefix(le.Reason, "entry ") {
					t.Fatalf("line error %+v names an entry index, not just its line", le)
				}
				if le.Column == 0 {
					// A check made after parsing: the line it names,
					// parsed alone, is rejected too.
					text := bytes.Split(data, []byte{'\n'})[le.Line-1]
					if _, _, err := ParseLineProtocol(bytes.NewReader(text), precision, now); err == nil {
						t.Fatalf("line error %+v: line %d (%q) parses on its own", le, le.Line, text)
					}
				}
				prev = le.Line
			}
			if msg := pe.Error(); !strings.Contains(msg, "malformed line") {
				t.Fatalf("ParseError message %q", msg)
			}
			return
		}

		if len(points) != stats.Points || len(points) > lines {
			t.Fatalf("%d points, stats %+v, %d input lines", len(points), stats, lines)
		}
		nfields := 0
		for i, p := range points {
			if p.Measurement == "" || len(p.Fields) == 0 {
				t.Fatalf("point %d: %+v has no measurement or no field", i, p)
			}
			for k, v := range p.Fields {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("point %d: field %q = %v accepted", i, k, v)
				}
			}
			nfields += len(p.Fields)
			if !bytes.Contains(data, []byte(firstRunOf(p.Measurement))) {
				t.Fatalf("point %d: measurement %q is not in the input", i, p.Measurement)
			}
		}
		if nfields > stats.Fields {
			t.Fatalf("%d distinct fields kept, stats say %d", nfields, stats.Fields)
		}

		// Round trip: every point line protocol can carry re-encodes, with
		// InfluxDB's encoder at nanosecond precision, to a line that parses
		// back to the same point.
		for i, p := range points {
			line, ok := encodeFuzzPoint(p)
			if !ok {
				continue // not representable (e.g. control characters in a name)
			}
			again, _, err := ParseLineProtocol(bytes.NewReader(line), time.Nanosecond, time.Time{})
			if err != nil {
				t.Fatalf("point %d %+v re-encoded as %q does not parse: %v", i, p, line, err)
			}
			if len(again) != 1 || !samePoint(p, again[0]) {
				t.Fatalf("point %d round trip:\n in   %+v\n line %q\n out  %+v", i, p, line, again)
			}
		}
	})
}

// firstRunOf returns a prefix of s up to its first character that line
// protocol escapes, which must appear verbatim in the input.
func firstRunOf(s string) string {
	if i := strings.IndexAny(s, `, =\"`); i >= 0 {
		return s[:i]
	}
	return s
}

// encodeFuzzPoint encodes p with InfluxDB's own encoder (the one `foresight
// ingest -server` uses): tags and fields sorted, values as floats, time in
// nanoseconds. ok is false when the encoder refuses the point.
func encodeFuzzPoint(p Point) ([]byte, bool) {
	var enc lineprotocol.Encoder
	enc.SetPrecision(lineprotocol.Nanosecond)
	enc.StartLine(p.Measurement)
	k := SeriesKey{Tags: p.Tags}
	for _, name := range k.TagNames() {
		enc.AddTag(name, p.Tags[name])
	}
	fk := SeriesKey{Tags: make(map[string]string, len(p.Fields))}
	for name := range p.Fields {
		fk.Tags[name] = ""
	}
	for _, name := range fk.TagNames() {
		v, ok := lineprotocol.FloatValue(p.Fields[name])
		if !ok {
			return nil, false
		}
		enc.AddField(name, v)
	}
	enc.EndLine(p.Time)
	if enc.Err() != nil {
		return nil, false
	}
	return enc.Bytes(), true
}

func samePoint(a, b Point) bool {
	if a.Measurement != b.Measurement || !a.Time.Equal(b.Time) || len(a.Tags) != len(b.Tags) || len(a.Fields) != len(b.Fields) {
		return false
	}
	for k, v := range a.Tags {
		if w, ok := b.Tags[k]; !ok || w != v {
			return false
		}
	}
	for k, v := range a.Fields {
		if w, ok := b.Fields[k]; !ok || math.Float64bits(w) != math.Float64bits(v) {
			return false
		}
	}
	return true
}

// TestParseLineProtocolPointsPerLine pins the memory bound on a large input:
// one point per line, and allocation a small multiple of the input size.
func TestParseLineProtocolPointsPerLine(t *testing.T) {
	var b bytes.Buffer
	for i := range 20000 {
		b.WriteString("disk,host=db-")
		b.WriteString(strconv.Itoa(i % 50))
		b.WriteString(",path=/data used=")
		b.WriteString(strconv.Itoa(i))
		b.WriteString("i,total=1e12 ")
		b.WriteString(strconv.Itoa(1_700_000_000 + i))
		b.WriteByte('\n')
	}
	data := b.Bytes()
	var pts []Point
	allocs := testing.AllocsPerRun(3, func() {
		var err error
		pts, _, err = ParseLineProtocol(bytes.NewReader(data), time.Second, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
	})
	if len(pts) != 20000 {
		t.Fatalf("%d points, want 20000", len(pts))
	}
	if pts[123].Fields["used"] != 123 || pts[123].Tags["host"] != "db-23" || !pts[123].Time.Equal(time.Unix(1_700_000_123, 0)) {
		t.Fatalf("point 123: %+v", pts[123])
	}
	// A point costs its strings, two small maps and its slot in the slice:
	// about ten allocations per line, whatever the batch size.
	if perLine := allocs / 20000; perLine > 16 {
		t.Fatalf("%.1f allocations per line", perLine)
	}
}
