package influx

// Unit tests of the InfluxQL builder, escaper, answer parser and language
// detection; they need no InfluxDB (fake servers stand in where HTTP is
// involved).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/seed-f1b503aa/foresight/engine"
	"github.com/seed-f1b503aa/foresight/storage/storetest"
)

// scanInfluxQLQuoted is an independent reading of one quoted identifier or
// string literal at the start of text, following InfluxQL's scanner
// (github.com/influxdata/influxql scanner.go: reader.read and ScanString):
// the reader turns "\r\n" and a lone '\r' into '\n', a NUL byte or the end
// of input ends the text (eof is rune 0), invalid UTF-8 decodes to U+FFFD;
// inside the quotes a raw newline is an error and a backslash may only
// start \n, \\, \" or \'. It returns the value and the rest of text after
// the closing quote.
func scanInfluxQLQuoted(text string) (val, rest string, err error) {
	if text == "" || (text[0] != '"' && text[0] != '\'') {
		return "", "", errors.New("not quoted")
	}
	quote := rune(text[0])
	i := 1
	next := func() rune {
		if i >= len(text) {
			return 0
		}
		r, w := utf8.DecodeRuneInString(text[i:])
		i += w
		if r == '\r' {
			if i < len(text) && text[i] == '\n' {
				i++
			}
			return '\n'
		}
		return r
	}
	var b strings.Builder
	for {
		c := next()
		switch {
		case c == quote:
			return b.String(), text[i:], nil
		case c == 0:
			return "", "", errors.New("unterminated (end of input or NUL)")
		case c == '\n':
			return "", "", errors.New("raw newline")
		case c == '\\':
			switch e := next(); e {
			case 'n':
				b.WriteByte('\n')
			case '\\', '"', '\'':
				b.WriteRune(e)
			default:
				return "", "", fmt.Errorf("bad escape \\%c", e)
			}
		default:
			b.WriteRune(c)
		}
	}
}

func TestInfluxQLQuoteExamples(t *testing.T) {
	idents := map[string]string{
		`plain`:         `"plain"`,
		`quote"d`:       `"quote\"d"`,
		`it's`:          `"it's"`,
		`back\slash\`:   `"back\\slash\\"`,
		"new\nline":     `"new\nline"`,
		"tab\there":     "\"tab\there\"",
		`中文/数据`:         `"中文/数据"`,
		`"; DROP x; --`: `"\"; DROP x; --"`,
	}
	for in, want := range idents {
		if got := influxqlIdent(in); got != want {
			t.Errorf("influxqlIdent(%q) = %s, want %s", in, got, want)
		}
	}
	strs := map[string]string{
		`plain`:                     `'plain'`,
		`it's`:                      `'it\'s'`,
		`quote"d`:                   `'quote"d'`,
		`back\slash\`:               `'back\\slash\\'`,
		"new\nline":                 `'new\nline'`,
		`'; DROP TABLE series; --`:  `'\'; DROP TABLE series; --'`,
		`\' OR true OR 'x' = '`:     `'\\\' OR true OR \'x\' = \''`,
		`r.host == "db-01" or true`: `'r.host == "db-01" or true'`,
	}
	for in, want := range strs {
		if got := influxqlString(in); got != want {
			t.Errorf("influxqlString(%q) = %s, want %s", in, got, want)
		}
	}
}

// Every expressible string survives the trip through the scanner's rules,
// as identifier and as string literal, and the literal ends exactly where
// the quoting ends (nothing after it can become part of the query).
func TestInfluxQLQuoteRoundTrip(t *testing.T) {
	inputs := append([]string{}, storetest.Hostile()...)
	inputs = append(inputs, "", `\`, `\\`, `"`, `'`, `\"`, `\'`, "\n", "\t", "\x01\x1f\x7f", "😀", "\u2028\u2029", `\n`, "$", "--", "/*", "*/", ";")
	rng := rand.New(rand.NewSource(1))
	alphabet := []string{`"`, `'`, `\`, "\n", "\t", " ", ";", "--", "/*", "a", "é", "中", "😀", "\x7f", "\x01", "n", `\n`, "OR", "=", ")", "("}
	for i := 0; i < 5000; i++ {
		var b strings.Builder
		for n := rng.Intn(12); n > 0; n-- {
			b.WriteString(alphabet[rng.Intn(len(alphabet))])
		}
		inputs = append(inputs, b.String())
	}
	for _, in := range inputs {
		if !influxqlExpressible(in) {
			t.Fatalf("%q is not expressible", in)
		}
		for _, lit := range []string{influxqlIdent(in), influxqlString(in)} {
			got, rest, err := scanInfluxQLQuoted(lit + " AND x")
			if err != nil || got != in || rest != " AND x" {
				t.Fatalf("%q as %s reads back as %q, rest %q, %v", in, lit, got, rest, err)
			}
		}
	}
}

// What the scanner cannot read back is refused, so such keys go to Flux.
func TestInfluxQLExpressible(t *testing.T) {
	for _, s := range []string{"a\x00b", "\x00", "cr\rlf", "crlf\r\n", "bad\xffutf8", "\xc3"} {
		if influxqlExpressible(s) {
			t.Errorf("%q counted as expressible", s)
		}
		// and indeed the scanner would read something else
		if got, _, err := scanInfluxQLQuoted(influxqlString(s)); err == nil && got == s {
			t.Errorf("%q would have survived", s)
		}
	}
	k := engine.SeriesKey{Measurement: "m", Field: "f", Tags: map[string]string{"host": "a"}}
	if !influxqlKeyExpressible(k) {
		t.Fatal("plain key not expressible")
	}
	for _, bad := range []engine.SeriesKey{
		{Measurement: "m\x00", Field: "f"},
		{Measurement: "m", Field: "f\r"},
		{Measurement: "m", Field: "f", Tags: map[string]string{"a\x00": "x"}},
		{Measurement: "m", Field: "f", Tags: map[string]string{"a": "x\xff"}},
	} {
		if influxqlKeyExpressible(bad) {
			t.Errorf("%q counted as expressible", bad.ID())
		}
	}
}

func TestInfluxQLDurationTimeAggregate(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Hour: "1h", 24 * time.Hour: "24h", 90 * time.Second: "90s", 5 * time.Minute: "5m",
		1500 * time.Millisecond: "1500ms", time.Millisecond: "1ms", 1001 * time.Microsecond: "1001u", time.Millisecond + 7: "1000007ns",
	} {
		if got, err := influxqlDuration(d); err != nil || got != want {
			t.Errorf("influxqlDuration(%v) = %q %v, want %q", d, got, err, want)
		}
	}
	if _, err := influxqlDuration(0); err == nil {
		t.Error("zero duration accepted")
	}
	if got, err := influxqlTime(time.Unix(0, 1759276800000000001)); err != nil || got != "1759276800000000001" {
		t.Errorf("influxqlTime = %q %v", got, err)
	}
	if got, err := influxqlTime(time.Unix(-60, 0)); err != nil || got != "-60000000000" {
		t.Errorf("influxqlTime before the epoch = %q %v", got, err)
	}
	if _, err := influxqlTime(time.Time{}); err == nil {
		t.Error("year 1 accepted")
	}
	for _, a := range []engine.Aggregate{"", engine.AggMean, engine.AggMin, engine.AggMax, engine.AggLast, engine.AggSum} {
		fn, err := influxqlAggregate(a)
		if err != nil || fn == "" {
			t.Errorf("aggregate %q: %q %v", a, fn, err)
		}
	}
	if _, err := influxqlAggregate(`mean) FROM x; DROP DATABASE y; SELECT mean(`); err == nil {
		t.Error("arbitrary aggregate accepted")
	}
}

func TestInfluxQLBuild(t *testing.T) {
	start := time.Date(2026, 10, 1, 0, 30, 0, 0, time.UTC)
	q := influxqlQuery{start: start, stop: start.Add(2 * time.Hour), step: time.Hour, agg: engine.AggMax, keys: []engine.SeriesKey{
		{Measurement: "mem", Field: "used", Tags: map[string]string{"host": "h1"}},
		{Measurement: "cpu", Field: "usage"},
		{Measurement: "mem", Field: "used", Tags: map[string]string{"host": `h'2`, "dc": `x"y`}},
		{Measurement: "cpu", Field: "usage", Tags: map[string]string{"host": "h1"}},
	}}
	text, stmts, err := q.build()
	if err != nil {
		t.Fatal(err)
	}
	want := `SELECT max("used"::field) FROM "mem" WHERE time >= 1790814600000000000 AND time < 1790821800000000000 AND (("host"::tag = 'h1') OR ("dc"::tag = 'x"y' AND "host"::tag = 'h\'2')) GROUP BY time(1h), * fill(none);
SELECT max("usage"::field) FROM "cpu" WHERE time >= 1790814600000000000 AND time < 1790821800000000000 GROUP BY time(1h), * fill(none)`
	if text != want {
		t.Errorf("\n got: %s\nwant: %s", text, want)
	}
	if len(stmts) != 2 || stmts[0] != (influxqlStatement{"mem", "used"}) || stmts[1] != (influxqlStatement{"cpu", "usage"}) {
		t.Errorf("statements: %+v", stmts)
	}
	ok := influxqlQuery{start: start, stop: start.Add(time.Hour), step: time.Minute, keys: q.keys[:1]}
	for i, bad := range []influxqlQuery{
		{start: start, stop: start.Add(time.Hour), step: time.Minute},                                                               // no keys
		{start: start, stop: start, step: time.Minute, keys: ok.keys},                                                               // empty range
		{start: start, stop: start.Add(time.Hour), keys: ok.keys},                                                                   // no step
		{start: time.Time{}, stop: start, step: time.Minute, keys: ok.keys},                                                         // out of range
		{start: start, stop: start.Add(time.Hour), step: time.Minute, agg: "median", keys: ok.keys},                                 // not whitelisted
		{start: start, stop: start.Add(time.Hour), step: time.Minute, keys: []engine.SeriesKey{{Measurement: "m\x00", Field: "f"}}}, // inexpressible
	} {
		if _, _, err := bad.build(); err == nil {
			t.Errorf("bad query %d built", i)
		}
	}
	if _, _, err := ok.build(); err != nil {
		t.Fatal(err)
	}
}

// Whatever the names, a statement keeps its shape: the text outside the
// quoted literals is the same as for plain names, and the literals decode
// to the names. Checked for every hostile string in every position and for
// a random mix.
func TestInfluxQLHostileKeysKeepQueryStructure(t *testing.T) {
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	hostile := append([]string{}, storetest.Hostile()...)
	hostile = append(hostile, `x" OR "host"::tag != "x`, `x' OR 'a' = 'a`, `x'; DROP MEASUREMENT "disk"; SELECT '`, `\' OR true --`, `m"; DROP DATABASE "d"; --`, `a\`, `\`, "/* x */", `\n`)
	plain := engine.SeriesKey{Measurement: "M", Field: "F", Tags: map[string]string{"K": "V"}}
	shape := func(k engine.SeriesKey) (skeleton string, lits []string) {
		text, _, err := influxqlQuery{start: start, stop: start.Add(time.Hour), step: time.Minute, agg: engine.AggSum, keys: []engine.SeriesKey{k}}.build()
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for rest := text; rest != ""; {
			j := strings.IndexAny(rest, `"'`)
			if j < 0 {
				b.WriteString(rest)
				break
			}
			b.WriteString(rest[:j])
			b.WriteString("<" + rest[j:j+1] + ">")
			val, after, err := scanInfluxQLQuoted(rest[j:])
			if err != nil {
				t.Fatalf("%q: %v in\n%s", k.ID(), err, text)
			}
			lits = append(lits, val)
			rest = after
		}
		return b.String(), lits
	}
	wantShape, _ := shape(plain)
	for _, h := range hostile {
		for _, k := range []engine.SeriesKey{
			{Measurement: h, Field: "F", Tags: map[string]string{"K": "V"}},
			{Measurement: "M", Field: h, Tags: map[string]string{"K": "V"}},
			{Measurement: "M", Field: "F", Tags: map[string]string{h: "V"}},
			{Measurement: "M", Field: "F", Tags: map[string]string{"K": h}},
			{Measurement: h, Field: h, Tags: map[string]string{h: h}},
		} {
			got, lits := shape(k)
			if got != wantShape {
				t.Fatalf("%q changed the statement's shape:\n got %s\nwant %s", h, got, wantShape)
			}
			var name, value string
			for n, v := range k.Tags {
				name, value = n, v
			}
			if want := []string{k.Field, k.Measurement, name, value}; strings.Join(lits, "\x00") != strings.Join(want, "\x00") {
				t.Fatalf("%q: literals %q, want %q", h, lits, want)
			}
		}
	}
}

func TestInfluxQLRowParse(t *testing.T) {
	var rows []influxqlRow
	if err := json.Unmarshal([]byte(`[[1,2.5],[2, -3e2 ],[3,true],[4,false],[5,null],[6,42]]`), &rows); err != nil {
		t.Fatal(err)
	}
	want := []influxqlRow{{1, 2.5, true}, {2, -300, true}, {3, 1, true}, {4, 0, true}, {5, 0, false}, {6, 42, true}}
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Fatalf("rows %+v, want %+v", rows, want)
	}
	for _, bad := range []string{`[[1]]`, `[[1,2,3]]`, `[["2026-10-01T00:00:00Z",1]]`, `[[1,"x"]]`, `[1]`} {
		if err := json.Unmarshal([]byte(bad), &rows); err == nil {
			t.Errorf("%s parsed", bad)
		}
	}
}

func TestLanguageFor(t *testing.T) {
	for v, want := range map[string]QueryLanguage{
		"1.8.10": QueryLanguageInfluxQL, "v1.7.0": QueryLanguageInfluxQL, "1.11.8-c1.11.8": QueryLanguageInfluxQL,
		"v2.7.11": QueryLanguageFlux, "2.0.0-beta.16": QueryLanguageFlux, "v3.0.0": QueryLanguageFlux,
		"": "fallback", "unknown": "fallback",
	} {
		if got := languageFor(v, "fallback"); got != want {
			t.Errorf("languageFor(%q) = %q, want %q", v, got, want)
		}
	}
	for in, want := range map[string]QueryLanguage{"": QueryLanguageAuto, "AUTO": QueryLanguageAuto, " InfluxQL ": QueryLanguageInfluxQL, "flux": QueryLanguageFlux} {
		if got, err := ParseQueryLanguage(in); err != nil || got != want {
			t.Errorf("ParseQueryLanguage(%q) = %q %v", in, got, err)
		}
	}
	if _, err := New(Config{URL: "http://x", Bucket: "b", QueryLanguage: "sql"}); err == nil {
		t.Error("unknown query language accepted")
	}
	if _, err := New(Config{URL: "http://x", Bucket: "b", InfluxQLMaxKeysPerQuery: -1}); err == nil {
		t.Error("negative InfluxQLMaxKeysPerQuery accepted")
	}
}

// fakeInflux answers /ping with version (no header when empty), /query
// with query, and /api/v2/query with an empty Flux answer; it counts the
// requests per path.
type fakeInflux struct {
	*httptest.Server
	pings, queries, fluxQueries atomic.Int64
}

func newFakeInflux(t *testing.T, version string, query http.HandlerFunc) *fakeInflux {
	f := &fakeInflux{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ping":
			f.pings.Add(1)
			if version != "" {
				w.Header().Set("X-Influxdb-Version", version)
			}
			w.WriteHeader(http.StatusNoContent)
		case "/query":
			f.queries.Add(1)
			query(w, r)
		case "/api/v2/query":
			f.fluxQueries.Add(1)
			w.Header().Set("Content-Type", "text/csv")
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(f.Close)
	return f
}

var fakeQ = engine.RangeQuery{Start: base, End: base.Add(time.Hour), Step: time.Minute}

// Auto detection asks /ping once and follows its version header; without
// one it follows the configuration's form.
func TestQueryLanguageDetection(t *testing.T) {
	empty := func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"results":[{"statement_id":0}]}`) }
	cases := []struct {
		version, org string
		lang         QueryLanguage
		want         QueryLanguage
	}{
		{"1.8.10", "", QueryLanguageAuto, QueryLanguageInfluxQL},
		{"1.8.10", "my-org", QueryLanguageAuto, QueryLanguageInfluxQL}, // a 1.x server ignores org
		{"v2.7.11", "my-org", QueryLanguageAuto, QueryLanguageFlux},
		{"v2.7.11", "", QueryLanguageAuto, QueryLanguageFlux},
		{"", "", QueryLanguageAuto, QueryLanguageInfluxQL}, // 1.8 form
		{"", "my-org", QueryLanguageAuto, QueryLanguageFlux},
		{"1.8.10", "", QueryLanguageFlux, QueryLanguageFlux},
		{"v2.7.11", "my-org", QueryLanguageInfluxQL, QueryLanguageInfluxQL},
	}
	for _, c := range cases {
		f := newFakeInflux(t, c.version, empty)
		s, err := New(Config{URL: f.URL, Org: c.org, Bucket: "db", QueryLanguage: c.lang})
		if err != nil {
			t.Fatal(err)
		}
		ctx := tctx(t)
		for range 3 {
			if got := s.QueryLanguage(ctx); got != c.want {
				t.Errorf("%+v: language %q, want %q", c, got, c.want)
			}
			if _, err := s.ReadMany(ctx, []engine.SeriesKey{{Measurement: "m", Field: "f"}}, fakeQ); err != nil {
				t.Errorf("%+v: read many: %v", c, err)
			}
		}
		wantPings := int64(1)
		if c.lang != QueryLanguageAuto {
			wantPings = 0
		}
		if f.pings.Load() != wantPings {
			t.Errorf("%+v: %d pings, want %d", c, f.pings.Load(), wantPings)
		}
		if viaQL := f.queries.Load() > 0; viaQL != (c.want == QueryLanguageInfluxQL) || (f.fluxQueries.Load() > 0) == viaQL {
			t.Errorf("%+v: %d InfluxQL and %d Flux requests", c, f.queries.Load(), f.fluxQueries.Load())
		}
		// raw reads are Flux whatever the language
		before := f.queries.Load()
		if _, err := s.ReadMany(ctx, []engine.SeriesKey{{Measurement: "m", Field: "f"}}, engine.RangeQuery{Start: fakeQ.Start, End: fakeQ.End}); err != nil || f.queries.Load() != before {
			t.Errorf("%+v: raw read: %v, %d InfluxQL requests", c, err, f.queries.Load()-before)
		}
		s.Close()
	}
}

// While the server is unreachable, auto goes by the configuration and
// asks again on the next read.
func TestQueryLanguageDetectionRetries(t *testing.T) {
	f := newFakeInflux(t, "v2.7.11", func(w http.ResponseWriter, r *http.Request) {})
	url := f.URL
	f.Close()
	s, err := New(Config{URL: url, Bucket: "db"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.QueryLanguage(tctx(t)); got != QueryLanguageInfluxQL {
		t.Fatalf("unreachable, 1.8 form: %q", got)
	}
	if _, err := s.Read(tctx(t), engine.SeriesKey{Measurement: "m", Field: "f"}, fakeQ); !errors.Is(err, engine.ErrUnavailable) {
		t.Fatalf("read from an unreachable server: %v", err)
	}
	s.langMu.Lock()
	resolved := s.lang
	s.langMu.Unlock()
	if resolved != "" {
		t.Fatalf("a guess was kept: %q", resolved)
	}
}

// The request: POST /query with db, rp and epoch=ns in the URL, the
// statement in the form body, basic auth from "user:password"; the answer's
// series become samples stamped with their window start.
func TestInfluxQLRequestShape(t *testing.T) {
	var got *http.Request
	var gotQ string
	f := newFakeInflux(t, "1.8.10", func(w http.ResponseWriter, r *http.Request) {
		got = r.Clone(context.Background())
		gotQ = r.PostFormValue("q")
		fmt.Fprintf(w, `{"results":[{"statement_id":0,"series":[
			{"name":"cpu","tags":{"dc":"","host":"a"},"columns":["time","mean"],"values":[[%d,1.5],[%d,2],[%d,null]]},
			{"name":"cpu","tags":{"dc":"x","host":"a"},"columns":["time","mean"],"values":[[%d,9]]}]}]}`,
			base.UnixNano(), base.Add(time.Minute).UnixNano(), base.Add(2*time.Minute).UnixNano(), base.UnixNano())
	})
	s, err := New(Config{URL: f.URL + "/", Bucket: "my db/my rp", Token: "user:pa:ss"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	k := engine.SeriesKey{Measurement: "cpu", Field: "usage", Tags: map[string]string{"host": "a"}}
	sr, err := s.Read(tctx(t), k, fakeQ)
	if err != nil {
		t.Fatal(err)
	}
	if len(sr.Samples) != 2 || sr.Samples[0] != (engine.Sample{Time: base, Value: 1.5}) || !sr.Samples[1].Time.Equal(base.Add(time.Minute)) || sr.Key.ID() != k.ID() {
		t.Fatalf("read: %+v", sr)
	}
	if got.Method != http.MethodPost || got.URL.Query().Get("db") != "my db" || got.URL.Query().Get("rp") != "my rp" || got.URL.Query().Get("epoch") != "ns" || got.URL.Query().Get("chunked") != "" {
		t.Errorf("request %s %s", got.Method, got.URL)
	}
	if u, p, ok := got.BasicAuth(); !ok || u != "user" || p != "pa:ss" {
		t.Errorf("basic auth %q %q %v", u, p, ok)
	}
	if !strings.HasPrefix(gotQ, `SELECT mean("usage"::field) FROM "cpu" WHERE time >= `) || !strings.Contains(gotQ, `("host"::tag = 'a')`) {
		t.Errorf("statement %s", gotQ)
	}
}

// A statement error, a non-200 answer and a truncated answer.
func TestInfluxQLErrors(t *testing.T) {
	var answer atomic.Value
	f := newFakeInflux(t, "1.8.10", func(w http.ResponseWriter, r *http.Request) {
		a := answer.Load().([2]any)
		w.WriteHeader(a[0].(int))
		fmt.Fprint(w, a[1].(string))
	})
	var logs bytes.Buffer
	s, err := New(Config{URL: f.URL, Bucket: "db", Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	k := engine.SeriesKey{Measurement: "m", Field: "f"}
	answer.Store([2]any{200, `{"results":[{"statement_id":0,"error":"unsupported mean iterator type: *query.stringInterruptIterator"}]}`})
	if _, err := s.Read(tctx(t), k, fakeQ); err == nil || !strings.Contains(err.Error(), "unsupported mean") || errors.Is(err, engine.ErrUnavailable) || errors.Is(err, engine.ErrNotFound) {
		t.Errorf("statement error: %v", err)
	}
	answer.Store([2]any{400, `{"error":"error parsing query: found X"}`})
	if _, err := s.Read(tctx(t), k, fakeQ); err == nil || !strings.Contains(err.Error(), "error parsing query") || errors.Is(err, engine.ErrUnavailable) {
		t.Errorf("400: %v", err)
	}
	answer.Store([2]any{503, `overloaded`})
	if _, err := s.Read(tctx(t), k, fakeQ); !errors.Is(err, engine.ErrUnavailable) {
		t.Errorf("503: %v", err)
	}
	answer.Store([2]any{200, `{"results":[{"statement_id":0,"series":[{"name":"m","columns":["time","mean"],"values":[[1,2]`})
	if _, err := s.Read(tctx(t), k, fakeQ); !errors.Is(err, engine.ErrUnavailable) {
		t.Errorf("answer cut off: %v", err)
	}
	// max-row-limit: the series are read again with Flux
	answer.Store([2]any{200, `{"results":[{"statement_id":0,"series":[{"name":"m","columns":["time","mean"],"values":[[1,2]],"partial":true}]}]}`})
	flux := f.fluxQueries.Load()
	if _, err := s.ReadMany(tctx(t), []engine.SeriesKey{k}, fakeQ); err != nil || f.fluxQueries.Load() != flux+1 {
		t.Errorf("partial answer: %v, %d Flux requests", err, f.fluxQueries.Load()-flux)
	}
	if !strings.Contains(logs.String(), "max-row-limit") {
		t.Errorf("no warning about max-row-limit: %s", logs.String())
	}
}

// Keys InfluxQL cannot express are read with Flux in the same ReadMany.
func TestInfluxQLLeavesInexpressibleKeysToFlux(t *testing.T) {
	var stmts atomic.Value
	f := newFakeInflux(t, "1.8.10", func(w http.ResponseWriter, r *http.Request) {
		stmts.Store(r.PostFormValue("q"))
		fmt.Fprint(w, `{"results":[{"statement_id":0}]}`)
	})
	s, err := New(Config{URL: f.URL, Bucket: "db"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	keys := []engine.SeriesKey{
		{Measurement: "m", Field: "f", Tags: map[string]string{"host": "a"}},
		{Measurement: "m", Field: "f", Tags: map[string]string{"host": "nul\x00inside"}},
	}
	if _, err := s.ReadMany(tctx(t), keys, fakeQ); err != nil {
		t.Fatal(err)
	}
	if f.queries.Load() != 1 || f.fluxQueries.Load() != 1 || strings.Contains(stmts.Load().(string), "nul") {
		t.Fatalf("%d InfluxQL, %d Flux requests; InfluxQL: %s", f.queries.Load(), f.fluxQueries.Load(), stmts.Load())
	}
}
