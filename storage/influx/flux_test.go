package influx

// Unit tests of the query builder and escaper; they need no server.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	apihttp "github.com/influxdata/influxdb-client-go/v2/api/http"

	"github.com/seed-f1b503aa/foresight/engine"
	"github.com/seed-f1b503aa/foresight/storage/storetest"
)

func TestFluxStringExamples(t *testing.T) {
	cases := map[string]string{
		``:                  `""`,
		`plain`:             `"plain"`,
		`quote"d`:           `"quote\"d"`,
		`back\slash\`:       `"back\\slash\\"`,
		"new\nline":         `"new\nline"`,
		"cr\rtab\t":         `"cr\rtab\t"`,
		`${injection}`:      `"\x24{injection}"`,
		`$`:                 `"\x24"`,
		`$${`:               `"\x24\x24{"`,
		`\${`:               `"\\\x24{"`,
		"nul\x00bell\x07":   `"nul\x00bell\x07"`,
		"del\x7f":           `"del\x7f"`,
		"bad\xffutf8":       `"bad\xffutf8"`,
		`中文/数据`:             `"中文/数据"`,
		`it's`:              `"it's"`,
		`) |> drop(columns`: `") |> drop(columns"`,
	}
	for in, want := range cases {
		if got := fluxString(in); got != want {
			t.Errorf("fluxString(%q) = %s, want %s", in, got, want)
		}
	}
}

// parseFluxString is an independent decoder that follows the string_lit
// rules of Flux's scanner (internal/scanner/scanner.rl in Flux 0.65) and
// unescaping (internal/parser/strconv.go). It fails on anything the real
// scanner would read differently: a raw '"' or '\\' that is not part of an
// escape, any raw '$' (which would start "${" interpolation or swallow the
// next character), or an unknown escape.
func parseFluxString(lit string) (string, error) {
	if len(lit) < 2 || lit[0] != '"' || lit[len(lit)-1] != '"' {
		return "", errors.New("not quoted")
	}
	body := lit[1 : len(lit)-1]
	var b strings.Builder
	for i := 0; i < len(body); {
		c := body[i]
		switch c {
		case '"':
			return "", fmt.Errorf("raw quote at %d", i)
		case '$':
			return "", fmt.Errorf("raw dollar at %d", i)
		case '\\':
			if i+1 >= len(body) {
				return "", errors.New("dangling backslash")
			}
			switch body[i+1] {
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case '\\':
				b.WriteByte('\\')
			case '"':
				b.WriteByte('"')
			case 'x':
				if i+4 > len(body) {
					return "", errors.New("short byte escape")
				}
				v, err := strconv.ParseUint(body[i+2:i+4], 16, 8)
				if err != nil {
					return "", fmt.Errorf("bad byte escape %q", body[i:i+4])
				}
				b.WriteByte(byte(v))
				i += 4
				continue
			default:
				return "", fmt.Errorf("unknown escape %q", body[i:i+2])
			}
			i += 2
		default:
			if c < 0x20 || c == 0x7f {
				return "", fmt.Errorf("raw control byte %#x", c)
			}
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), nil
}

func TestFluxStringRoundTrip(t *testing.T) {
	inputs := append([]string{}, storetest.Hostile()...)
	inputs = append(inputs, "", "$", "$$", "${", "$${", `\${`, `\$`, `"`, `\"`, "\x00", "\xff\xfe", "a\u2028b", "😀", `\x41`)
	rng := rand.New(rand.NewSource(1))
	alphabet := []string{`"`, `\`, `$`, `{`, `}`, "\n", "\r", "\t", "\x00", "\x1b", "\x7f", "\xff", "a", "é", "中", "😀", " ", `x`, `)`, `|>`, `r.`, `//`}
	for i := 0; i < 5000; i++ {
		var b strings.Builder
		for n := rng.Intn(12); n > 0; n-- {
			b.WriteString(alphabet[rng.Intn(len(alphabet))])
		}
		inputs = append(inputs, b.String())
	}
	for _, in := range inputs {
		lit := fluxString(in)
		got, err := parseFluxString(lit)
		if err != nil {
			t.Fatalf("fluxString(%q) = %s: %v", in, lit, err)
		}
		if got != in {
			t.Fatalf("fluxString(%q) = %s decodes to %q", in, lit, got)
		}
		if strings.ContainsAny(lit, "\n\r") || !utf8.ValidString(lit) {
			t.Fatalf("fluxString(%q) = %q is not a single-line UTF-8 literal", in, lit)
		}
	}
}

func TestFluxDuration(t *testing.T) {
	cases := map[time.Duration]string{
		time.Hour:               "1h",
		24 * time.Hour:          "24h",
		90 * time.Minute:        "90m",
		90 * time.Second:        "90s",
		1500 * time.Millisecond: "1500ms",
		time.Millisecond:        "1ms",
		1001 * time.Microsecond: "1001us",
		7:                       "7ns",
	}
	for d, want := range cases {
		got, err := fluxDuration(d)
		if err != nil || got != want {
			t.Errorf("fluxDuration(%v) = %q, %v; want %q", d, got, err, want)
		}
	}
	for _, d := range []time.Duration{0, -time.Second} {
		if _, err := fluxDuration(d); err == nil {
			t.Errorf("fluxDuration(%v): no error", d)
		}
	}
}

func TestFluxTime(t *testing.T) {
	got, err := fluxTime(time.Date(2026, 10, 1, 2, 3, 4, 5, time.FixedZone("x", 3600)))
	if err != nil || got != "2026-10-01T01:03:04.000000005Z" {
		t.Fatalf("fluxTime = %q, %v", got, err)
	}
	for _, tm := range []time.Time{{}, time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)} {
		if _, err := fluxTime(tm); err == nil {
			t.Errorf("fluxTime(%v): no error", tm)
		}
	}
}

func TestFluxAggregateWhitelist(t *testing.T) {
	for agg, want := range map[engine.Aggregate]string{"": "mean", engine.AggMean: "mean", engine.AggMin: "min", engine.AggMax: "max", engine.AggLast: "last", engine.AggSum: "sum"} {
		if got, err := fluxAggregate(agg); err != nil || got != want {
			t.Errorf("fluxAggregate(%q) = %q, %v", agg, got, err)
		}
	}
	for _, bad := range []engine.Aggregate{"median", "mean, createEmpty: true", "sum) |> yield(", "MEAN"} {
		if _, err := fluxAggregate(bad); err == nil {
			t.Errorf("fluxAggregate(%q): no error", bad)
		}
	}
	q := fluxQuery{bucket: "b", start: time.Unix(0, 0), stop: time.Unix(60, 0), step: time.Second, agg: "count"}
	if _, err := q.build(); err == nil {
		t.Error("build with an unknown aggregate: no error")
	}
}

func TestQueryBuild(t *testing.T) {
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	k := engine.SeriesKey{Measurement: "disk", Field: "used", Tags: map[string]string{"path": "/data", "host": `db"01`}}
	cases := []struct {
		name string
		q    fluxQuery
		want string
	}{
		{"raw", fluxQuery{bucket: "foresight", start: start, stop: start.Add(2 * time.Hour), where: keyPredicate(k), storageStopInclusive: true}, `from(bucket: "foresight")
	|> range(start: 2026-10-01T00:00:00Z, stop: 2026-10-01T01:59:59.999999999Z)
	|> filter(fn: (r) => r._measurement == "disk" and r._field == "used" and r["host"] == "db\"01" and r["path"] == "/data")
`},
		{"downsample", fluxQuery{bucket: "db/rp", start: start, stop: start.Add(3 * time.Hour), where: keyPredicate(k), step: time.Hour, agg: engine.AggMax}, `from(bucket: "db/rp")
	|> range(start: 2026-10-01T00:00:00Z, stop: 2026-10-01T03:00:00Z)
	|> filter(fn: (r) => r._measurement == "disk" and r._field == "used" and r["host"] == "db\"01" and r["path"] == "/data")
	|> aggregateWindow(every: 1h, fn: max, createEmpty: false, timeSrc: "_start")
`},
		{"downsample 1.8", fluxQuery{bucket: "db", start: start, stop: start.Add(3 * time.Hour), where: keyPredicate(k), step: time.Hour, agg: engine.AggSum, storageStopInclusive: true}, `from(bucket: "db")
	|> range(start: 2026-10-01T00:00:00Z, stop: 2026-10-01T03:00:00Z)
	|> filter(fn: (r) => r._measurement == "disk" and r._field == "used" and r["host"] == "db\"01" and r["path"] == "/data")
	|> filter(fn: (r) => r._time < 2026-10-01T03:00:00Z)
	|> aggregateWindow(every: 1h, fn: sum, createEmpty: false, timeSrc: "_start")
`},
		{"list", fluxQuery{bucket: "foresight", start: start, stop: start.Add(time.Hour), where: and{measurementIs("cpu"), tagIs("host", "${x}")}, firstOnly: true}, `from(bucket: "foresight")
	|> range(start: 2026-10-01T00:00:00Z, stop: 2026-10-01T01:00:00Z)
	|> filter(fn: (r) => r._measurement == "cpu" and r["host"] == "\x24{x}")
	|> first()
`},
		{"list all", fluxQuery{bucket: "foresight", start: start, stop: start.Add(time.Hour), firstOnly: true}, `from(bucket: "foresight")
	|> range(start: 2026-10-01T00:00:00Z, stop: 2026-10-01T01:00:00Z)
	|> first()
`},
		{"many", fluxQuery{bucket: "foresight", start: start, stop: start.Add(time.Hour), where: keysPredicate([]engine.SeriesKey{
			{Measurement: "mem", Field: "used", Tags: map[string]string{"host": "h1"}},
			{Measurement: "cpu", Field: "usage"},
			{Measurement: "mem", Field: "used", Tags: map[string]string{"host": "h2", "dc": "x"}},
			{Measurement: "cpu", Field: "usage", Tags: map[string]string{"host": "h1"}},
		})}, `from(bucket: "foresight")
	|> range(start: 2026-10-01T00:00:00Z, stop: 2026-10-01T01:00:00Z)
	|> filter(fn: (r) => (r._measurement == "mem" and r._field == "used" and (r["host"] == "h1" or (r["dc"] == "x" and r["host"] == "h2"))) or (r._measurement == "cpu" and r._field == "usage"))
`},
	}
	for _, c := range cases {
		got, err := c.q.build()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got != c.want {
			t.Errorf("%s:\n got: %s\nwant: %s", c.name, got, c.want)
		}
	}
	bad := []fluxQuery{
		{start: start, stop: start.Add(time.Hour)},                                                  // no bucket
		{bucket: "b", start: start, stop: start},                                                    // empty range
		{bucket: "b", start: start.Add(time.Hour), stop: start},                                     // inverted
		{bucket: "b", start: time.Time{}, stop: start},                                              // start out of range
		{bucket: "b", start: start, stop: start.Add(time.Hour), step: time.Minute, firstOnly: true}, // contradictory
	}
	for i, q := range bad {
		if _, err := q.build(); err == nil {
			t.Errorf("bad query %d built", i)
		}
	}
}

// Whatever the strings, a query has exactly the intended structure: one
// filter line whose literals decode to the inputs.
func TestHostileKeysKeepQueryStructure(t *testing.T) {
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	for _, h := range storetest.Hostile() {
		k := engine.SeriesKey{Measurement: h, Field: h, Tags: map[string]string{h: h}}
		text, err := fluxQuery{bucket: h, start: start, stop: start.Add(time.Hour), where: keyPredicate(k), step: time.Minute, agg: engine.AggSum}.build()
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
		if len(lines) != 4 || !strings.HasPrefix(lines[2], "\t|> filter(fn: (r) => ") || !strings.HasPrefix(lines[3], "\t|> aggregateWindow(") {
			t.Fatalf("hostile %q changed the query's shape:\n%s", h, text)
		}
		lit := fluxString(h)
		want := "\t|> filter(fn: (r) => r._measurement == " + lit + " and r._field == " + lit + " and r[" + lit + "] == " + lit + ")"
		if lines[2] != want {
			t.Fatalf("hostile %q filter:\n got %s\nwant %s", h, lines[2], want)
		}
		if lines[0] != "from(bucket: "+lit+")" {
			t.Fatalf("hostile bucket %q: %s", h, lines[0])
		}
	}
}

func TestFloorToStep(t *testing.T) {
	base := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		t, want time.Time
		step    time.Duration
	}{
		{base.Add(30 * time.Minute), base, time.Hour},
		{base, base, time.Hour},
		{base.Add(-time.Nanosecond), base.Add(-time.Hour), time.Hour},
		{time.Unix(-1, 0), time.Unix(-60, 0), time.Minute},
		{time.Unix(7, 0), time.Unix(6, 0), 1500 * time.Millisecond},
	}
	for _, c := range cases {
		if got := floorToStep(c.t, c.step); !got.Equal(c.want) {
			t.Errorf("floorToStep(%v, %v) = %v, want %v", c.t, c.step, got, c.want)
		}
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestUnavailableClassification(t *testing.T) {
	dial := &url.Error{Op: "Post", URL: "http://127.0.0.1:1/api/v2/write", Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}
	yes := []error{
		apihttp.NewError(dial),
		&apihttp.Error{StatusCode: 503, Message: "unavailable"},
		&apihttp.Error{StatusCode: 502},
		&apihttp.Error{StatusCode: 504},
		&apihttp.Error{StatusCode: 429},
		context.DeadlineExceeded,
		&url.Error{Op: "Post", Err: context.DeadlineExceeded},
		&url.Error{Op: "Post", Err: timeoutErr{}},
		fmt.Errorf("reading body: %w", io.ErrUnexpectedEOF),
		syscall.ECONNRESET,
	}
	no := []error{
		&apihttp.Error{StatusCode: 404, Message: "database not found"},
		&apihttp.Error{StatusCode: 400, Message: "partial write"},
		&apihttp.Error{StatusCode: 401},
		&apihttp.Error{StatusCode: 500, Message: "compilation failed"},
		context.Canceled,
		&url.Error{Op: "Post", Err: context.Canceled},
		errors.New("error calling function \"filter\""),
	}
	for _, err := range yes {
		if got := classify("op", err); !errors.Is(got, engine.ErrUnavailable) || !errors.Is(got, err) {
			t.Errorf("classify(%v) = %v: want ErrUnavailable wrapping the cause", err, got)
		}
	}
	for _, err := range no {
		if got := classify("op", err); errors.Is(got, engine.ErrUnavailable) || !errors.Is(got, err) {
			t.Errorf("classify(%v) = %v: want the cause without ErrUnavailable", err, got)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	c, err := Config{URL: "http://127.0.0.1:8086", Bucket: "foresight"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.WriteBatchSize != DefaultWriteBatchSize || c.ListLookback != DefaultListLookback || c.Timeouts.Query != DefaultQueryTimeout || c.MaxKeysPerQuery != DefaultMaxKeysPerQuery || c.Logger == nil {
		t.Fatalf("defaults: %+v", c)
	}
	if c.QueryLanguage != QueryLanguageAuto || c.InfluxQLMaxKeysPerQuery != DefaultInfluxQLMaxKeysPerQuery || c.InfluxQLQueryConcurrency != DefaultInfluxQLQueryConcurrency {
		t.Fatalf("InfluxQL defaults: %+v", c)
	}
	for _, bad := range []Config{
		{Bucket: "b"},
		{URL: "127.0.0.1:8086", Bucket: "b"},
		{URL: "ftp://x", Bucket: "b"},
		{URL: "http://x"},
		{URL: "http://x", Bucket: "b", WriteBatchSize: -1},
	} {
		if _, err := New(bad); err == nil {
			t.Errorf("New(%+v): no error", bad)
		}
	}
}
