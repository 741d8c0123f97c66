package influx

// Tests against a real InfluxDB (1.8 with Flux enabled). Start one with
//
//	bash scripts/influxdb.sh start && eval "$(bash scripts/influxdb.sh env)"
//	go test ./storage/influx/ -v
//
// Without FORESIGHT_INFLUX_URL these tests skip, except when CI=true or
// FORESIGHT_REQUIRE_INFLUX is set: then they fail, so CI can never pass by
// silently skipping them. A URL that is set but unreachable always fails.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-f1b503aa/foresight/engine"
	"github.com/seed-f1b503aa/foresight/storage/storetest"
)

var base = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)

var (
	serverOnce sync.Once
	serverErr  error
	dbCounter  atomic.Int64
)

// serverURL returns the test server's URL or skips/fails as described above.
func serverURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("FORESIGHT_INFLUX_URL")
	required := os.Getenv("CI") == "true" || os.Getenv("FORESIGHT_REQUIRE_INFLUX") != ""
	if u == "" {
		if required {
			t.Fatal("FORESIGHT_INFLUX_URL is not set but InfluxDB is required here (CI=true or FORESIGHT_REQUIRE_INFLUX set); " +
				"run: bash scripts/influxdb.sh start && eval \"$(bash scripts/influxdb.sh env)\"")
		}
		t.Skip("FORESIGHT_INFLUX_URL not set; start a server with: bash scripts/influxdb.sh start && eval \"$(bash scripts/influxdb.sh env)\"")
	}
	serverOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(u, "/")+"/ping", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			serverErr = err
			return
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			serverErr = fmt.Errorf("GET /ping: %s", resp.Status)
		}
	})
	if serverErr != nil {
		t.Fatalf("InfluxDB at FORESIGHT_INFLUX_URL=%s is unreachable: %v", u, serverErr)
	}
	return strings.TrimRight(u, "/")
}

// influxQL runs one InfluxQL statement through the 1.x /query endpoint.
func influxQL(t testing.TB, base, q string) {
	t.Helper()
	resp, err := http.PostForm(base+"/query", url.Values{"q": {q}})
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var r struct {
		Error   string `json:"error"`
		Results []struct {
			Error string `json:"error"`
		} `json:"results"`
	}
	_ = json.Unmarshal(body, &r)
	if resp.StatusCode != http.StatusOK || r.Error != "" || (len(r.Results) > 0 && r.Results[0].Error != "") {
		t.Fatalf("%s: %s %s", q, resp.Status, body)
	}
}

// writeLP posts raw line protocol (for field types Store.Write never produces).
func writeLP(t *testing.T, base, db, lp string) {
	t.Helper()
	resp, err := http.Post(base+"/write?precision=ns&db="+url.QueryEscape(db), "text/plain", strings.NewReader(lp))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("write %q: %s %s", lp, resp.Status, body)
	}
}

// newDB creates an empty database for one test and drops it afterwards.
//
// A failed test keeps its database: InfluxDB 1.8.10 crashes (SIGSEGV in
// storage/reads) when a database is dropped while a Flux query is still
// reading it, which is what a query abandoned by a timed-out test may be
// doing.
func newDB(t testing.TB) (serverBase, db string) {
	t.Helper()
	u := serverURL(t)
	db = fmt.Sprintf("foresight_test_%d_%d", os.Getpid(), dbCounter.Add(1))
	influxQL(t, u, "CREATE DATABASE "+db)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("keeping database %s of the failed test (drop it with: curl -XPOST %s/query --data-urlencode 'q=DROP DATABASE %s')", db, u, db)
			return
		}
		influxQL(t, u, "DROP DATABASE "+db)
	})
	return u, db
}

// newStore returns a store on a fresh database; the test closes it.
func newStore(t testing.TB, mod func(*Config)) (*Store, string) {
	t.Helper()
	u, db := newDB(t)
	cfg := Config{URL: u, Bucket: db}
	if mod != nil {
		mod(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, db
}

func tctx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func minutes(meas string, tags map[string]string, field string, n int, f func(i int) float64) []engine.Point {
	pts := make([]engine.Point, n)
	for i := range pts {
		pts[i] = engine.Point{Measurement: meas, Tags: tags, Fields: map[string]float64{field: f(i)}, Time: base.Add(time.Duration(i) * time.Minute)}
	}
	return pts
}

// languages are the query languages of downsampled reads, each forced in
// turn by the tests that must pass with both.
var languages = []QueryLanguage{QueryLanguageFlux, QueryLanguageInfluxQL}

// forEachLanguage runs f as one subtest per language.
func forEachLanguage(t *testing.T, f func(t *testing.T, lang QueryLanguage)) {
	t.Helper()
	serverURL(t)
	for _, lang := range languages {
		t.Run(string(lang), func(t *testing.T) { f(t, lang) })
	}
}

// The contract with each query language forced (Flux is what 2.x and
// Cloud get; InfluxQL what auto picks on this 1.8 server).
func TestContract(t *testing.T) {
	forEachLanguage(t, func(t *testing.T, lang QueryLanguage) {
		storetest.Run(t, func(t *testing.T) engine.MetricStore {
			s, _ := newStore(t, func(c *Config) { c.QueryLanguage = lang })
			return s
		})
	})
}

// The contract again with tiny batches and chunks, and the bucket given as
// database/retention-policy, so the multi-request paths run too.
func TestContractSmallBatchesAndRetentionPolicy(t *testing.T) {
	forEachLanguage(t, func(t *testing.T, lang QueryLanguage) {
		storetest.Run(t, func(t *testing.T) engine.MetricStore {
			s, _ := newStore(t, func(c *Config) {
				c.QueryLanguage = lang
				c.Bucket += "/autogen"
				c.WriteBatchSize = 7
				c.MaxKeysPerQuery = 1
				c.InfluxQLMaxKeysPerQuery = 1
			})
			return s
		})
	})
}

// On this InfluxDB 1.8 server the default (auto) downsamples with InfluxQL.
func TestQueryLanguageAutoPicksInfluxQLOn1x(t *testing.T) {
	s, _ := newStore(t, nil)
	if got := s.QueryLanguage(tctx(t)); got != QueryLanguageInfluxQL {
		t.Fatalf("auto on InfluxDB 1.8: %q, want influxql", got)
	}
	s.langMu.Lock()
	version := s.serverVersion
	s.langMu.Unlock()
	if !strings.HasPrefix(version, "1.") {
		t.Fatalf("server version %q", version)
	}
	t.Logf("X-Influxdb-Version: %s", version)
}

// A hostile value in a filter selects exactly the series that has it, and
// values crafted to widen a Flux or InfluxQL filter match nothing: raw and
// downsampled reads with Flux, downsampled reads with InfluxQL.
func TestHostileFilterSelectsExactlyItsSeries(t *testing.T) {
	forEachLanguage(t, func(t *testing.T, lang QueryLanguage) {
		steps := []time.Duration{time.Hour}
		if lang == QueryLanguageFlux {
			steps = []time.Duration{0, time.Hour}
		}
		for _, step := range steps {
			t.Run(fmt.Sprintf("step=%v", step), func(t *testing.T) { testHostileFilter(t, lang, step) })
		}
	})
}

func testHostileFilter(t *testing.T, lang QueryLanguage, step time.Duration) {
	s, _ := newStore(t, func(c *Config) { c.QueryLanguage = lang })
	ctx := tctx(t)
	var values []string
	for _, h := range storetest.Hostile() {
		if strings.Contains(h, "\n") || strings.HasSuffix(h, `\`) {
			continue // line protocol cannot carry these (see TestWriteRefusesUnrepresentable)
		}
		values = append(values, h)
	}
	values = append(values, "db-01", `db-01" or true or r.host == "`, `" or r._measurement != "`, `${r.host}`, `\" or true //`, "tab\there", "bell\x07", "$", "$$", "${", `\${x}`,
		`a\ b`, `a\,b`, `a\=b`, `a\\b`, `\"`, `\x41`, " lead and trail ", "=", ",", `\\\ x`,
		// InfluxQL: quotes, escapes, comments, statement separators, regexes;
		// a NUL, which InfluxQL cannot express (such keys are read with Flux)
		`x' OR 'a' = 'a`, `x" OR "host"::tag != "x`, `\' OR true --`, `a'b"c\'d`, `/.*/`, "semi;colon", "-- comment", "/* c */", `\n`, "nul\x00inside")
	// Values that, if pasted unescaped into a filter, would match everything
	// (or, for InfluxQL, run another statement that drops the data).
	injections := []string{`" or true or "`, `x" or r["host"] != "x`, `x") |> yield(name: "all") //`, "x\" or\ntrue or \"", `x${"\" or true or \""}`,
		`' OR 'a' = 'a`, `x' OR "host"::tag != 'x`, `x'; DROP MEASUREMENT "disk"; SELECT '`, `x') OR ("host"::tag =~ /.*/`, `\' OR true OR \'`,
		`disk"; DROP MEASUREMENT "disk"; --`, `x' OR time > 0 OR 'x`, "x'\nOR 'a' = 'a", `x\`}

	var pts []engine.Point
	asNames := map[string]bool{}
	for i, v := range values {
		x := float64(i)
		pts = append(pts, minutes("disk", map[string]string{"host": v, "path": "/p"}, "used", 3, func(int) float64 { return x })...)
		// the value as measurement and field name, where InfluxDB can store it
		if p := (engine.Point{Measurement: v, Fields: map[string]float64{v: 2000 + x}, Time: base}); validatePoint(0, p) == nil {
			pts = append(pts, p)
			asNames[v] = true
		}
		if v != "$" { // "$" is a reserved tag key (see TestWriteRefusesUnrepresentable)
			pts = append(pts, minutes("disk", map[string]string{v: "tagkey", "path": "/p"}, "used", 3, func(int) float64 { return 1000 + x })...)
		}
	}
	if err := s.Write(ctx, pts); err != nil {
		t.Fatal(err)
	}
	win := engine.SeriesFilter{Start: base, End: base.Add(time.Hour)}
	all, err := s.ListSeries(ctx, win)
	if err != nil {
		t.Fatal(err)
	}
	if want := 2*len(values) - 1 + len(asNames); len(all) != want {
		t.Fatalf("listed %d series, want %d", len(all), want)
	}
	q := engine.RangeQuery{Start: base, End: base.Add(time.Hour), Step: step}
	nHost := 3 // samples of each disk series
	if step > 0 {
		nHost = 1
	}
	var keys []engine.SeriesKey
	for i, v := range values {
		f := win
		f.Tags = map[string]string{"host": v}
		got, err := s.ListSeries(ctx, f)
		if err != nil {
			t.Fatalf("list host=%q: %v", v, err)
		}
		if len(got) != 1 || got[0].Tags["host"] != v || got[0].Tags["path"] != "/p" {
			t.Fatalf("list host=%q: %v", v, got)
		}
		// the value as a tag key
		f.Tags = map[string]string{v: "tagkey"}
		got, err = s.ListSeries(ctx, f)
		if v == "$" {
			if err != nil || len(got) != 0 {
				t.Fatalf("list with reserved tag key: %v %v", got, err)
			}
		} else if err != nil || len(got) != 1 || got[0].Tags[v] != "tagkey" {
			t.Fatalf("list %q=tagkey: %v %v", v, got, err)
		}
		if asNames[v] {
			mf := engine.SeriesKey{Measurement: v, Field: v}
			got, err = s.ListSeries(ctx, engine.SeriesFilter{Measurement: v, Field: v, Start: win.Start, End: win.End})
			if err != nil || len(got) != 1 || got[0].ID() != mf.ID() {
				t.Fatalf("list measurement=field=%q: %v %v", v, got, err)
			}
			sr, err := s.Read(ctx, mf, q)
			if err != nil || len(sr.Samples) != 1 || sr.Samples[0].Value != 2000+float64(i) || sr.Key.Measurement != v || sr.Key.Field != v {
				t.Fatalf("read measurement=field=%q: %+v %v", v, sr, err)
			}
		}
		k := engine.SeriesKey{Measurement: "disk", Field: "used", Tags: map[string]string{"host": v, "path": "/p"}}
		sr, err := s.Read(ctx, k, q)
		if err != nil || len(sr.Samples) != nHost || sr.Samples[0].Value != float64(i) || sr.Key.ID() != k.ID() {
			t.Fatalf("read host=%q: %+v %v", v, sr, err)
		}
		keys = append(keys, k)
		if v != "$" {
			tk := engine.SeriesKey{Measurement: "disk", Field: "used", Tags: map[string]string{v: "tagkey", "path": "/p"}}
			sr, err := s.Read(ctx, tk, q)
			if err != nil || len(sr.Samples) != nHost || sr.Samples[0].Value != 1000+float64(i) || sr.Key.ID() != tk.ID() {
				t.Fatalf("read %q=tagkey: %+v %v", v, sr, err)
			}
			keys = append(keys, tk)
		}
	}
	many, err := s.ReadMany(ctx, keys, q)
	if err != nil || len(many) != len(keys) {
		t.Fatalf("read many: %d series, %v", len(many), err)
	}
	for _, sr := range many {
		for i, v := range values {
			if sr.Key.Tags["host"] == v && (sr.Samples[0].Value != float64(i) || len(sr.Samples) != nHost) {
				t.Errorf("read many %q got the samples of another series: %+v", v, sr.Samples)
			}
			if sr.Key.Tags[v] == "tagkey" && (sr.Samples[0].Value != 1000+float64(i) || len(sr.Samples) != nHost) {
				t.Errorf("read many %q=tagkey got the samples of another series: %+v", v, sr.Samples)
			}
		}
	}
	for _, inj := range injections {
		for _, f := range []engine.SeriesFilter{
			{Tags: map[string]string{"host": inj}},
			{Tags: map[string]string{inj: "tagkey"}},
			{Measurement: inj},
			{Field: inj},
		} {
			f.Start, f.End = win.Start, win.End
			got, err := s.ListSeries(ctx, f)
			if err != nil || len(got) != 0 {
				t.Fatalf("injection %q in %+v listed %v (err %v)", inj, f, got, err)
			}
		}
		k := engine.SeriesKey{Measurement: "disk", Field: "used", Tags: map[string]string{"host": inj, "path": "/p"}}
		if _, err := s.Read(ctx, k, q); !errors.Is(err, engine.ErrNotFound) {
			t.Fatalf("injection %q read: %v", inj, err)
		}
		got, err := s.ReadMany(ctx, []engine.SeriesKey{k}, q)
		if err != nil || len(got) != 0 {
			t.Fatalf("injection %q read many: %v %v", inj, got, err)
		}
		for _, k := range []engine.SeriesKey{
			{Measurement: inj, Field: "used"},
			{Measurement: "disk", Field: inj},
			{Measurement: "disk", Field: "used", Tags: map[string]string{inj: "tagkey", "path": "/p"}},
			{Measurement: inj, Field: inj, Tags: map[string]string{inj: inj}},
		} {
			if _, err := s.Read(ctx, k, q); !errors.Is(err, engine.ErrNotFound) {
				t.Fatalf("injection %q in %q: %v, want ErrNotFound", inj, k.ID(), err)
			}
			got, err := s.ReadMany(ctx, []engine.SeriesKey{k, keys[0]}, q)
			if err != nil || len(got) != 1 || got[0].Key.ID() != keys[0].ID() {
				t.Fatalf("injection %q in %q read many: %v %v", inj, k.ID(), got, err)
			}
		}
	}
	// nothing was dropped or changed by any of it
	many, err = s.ReadMany(ctx, keys, q)
	if err != nil || len(many) != len(keys) {
		t.Fatalf("read many after the injections: %d of %d series, %v", len(many), len(keys), err)
	}
	all2, err := s.ListSeries(ctx, win)
	if err != nil || len(all2) != len(all) {
		t.Fatalf("list after the injections: %d of %d series, %v", len(all2), len(all), err)
	}
}

// Every name of up to three characters from a set of troublemakers, used as
// measurement, tag key, tag value and field key, is either refused by Write
// (ErrUnrepresentable) or stored and listed back exactly: never silently
// changed or lost.
func TestNamesAreRefusedOrRoundTrip(t *testing.T) {
	s, db := newStore(t, func(c *Config) { c.QueryLanguage = QueryLanguageFlux })
	ctx := tctx(t)
	alphabet := []string{`\`, `,`, ` `, `=`, `"`, `a`, `#`, `$`, "\t", "\x00", `_`}
	var names []string
	var gen func(prefix string, n int)
	gen = func(prefix string, n int) {
		if prefix != "" {
			names = append(names, prefix)
		}
		if n == 0 {
			return
		}
		for _, c := range alphabet {
			gen(prefix+c, n-1)
		}
	}
	gen("", 3)
	var pts []engine.Point
	want := map[string]bool{}
	refused := 0
	for i, v := range names {
		ts := base.Add(time.Duration(i) * time.Second)
		for _, p := range []engine.Point{
			{Measurement: v, Fields: map[string]float64{"f": 1}, Time: ts},
			{Measurement: "tagkey", Tags: map[string]string{v: "x"}, Fields: map[string]float64{"f": 1}, Time: ts},
			{Measurement: "tagvalue", Tags: map[string]string{"k": v}, Fields: map[string]float64{"f": 1}, Time: ts},
			{Measurement: "fieldkey", Fields: map[string]float64{v: 1}, Time: ts},
		} {
			if err := validatePoint(0, p); err != nil {
				refused++
				if err := s.Write(ctx, []engine.Point{p}); !errors.Is(err, ErrUnrepresentable) {
					t.Fatalf("%+v: validatePoint refuses it but Write says %v", p, err)
				}
				continue
			}
			pts = append(pts, p)
			for f := range p.Fields {
				want[engine.SeriesKey{Measurement: p.Measurement, Field: f, Tags: p.Tags}.ID()] = true
			}
		}
	}
	if err := s.Write(ctx, pts); err != nil {
		for _, p := range pts { // find the culprit
			if err := s.Write(ctx, []engine.Point{p}); err != nil {
				t.Errorf("%+v (%q): %v", p, appendLine(nil, p), err)
			}
		}
		t.Fatal(err)
	}
	t0 := time.Now()
	got, err := s.ListSeries(ctx, engine.SeriesFilter{Start: base, End: base.Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("list %d series: %v", len(got), time.Since(t0))
	gotIDs := map[string]bool{}
	for _, k := range got {
		gotIDs[k.ID()] = true
		if !want[k.ID()] {
			t.Errorf("listed %q, which was never written", k.ID())
		}
	}
	for id := range want {
		if !gotIDs[id] {
			t.Errorf("written %q is not listed back", id)
		}
	}
	// and every one of them is found by a filter on its exact names
	keys := make([]engine.SeriesKey, 0, len(got))
	for _, k := range got {
		keys = append(keys, engine.SeriesKey{Measurement: k.Measurement, Field: k.Field, Tags: k.Tags})
	}
	t0 = time.Now()
	many, err := s.ReadMany(ctx, keys, engine.RangeQuery{Start: base, End: base.Add(24 * time.Hour)})
	t.Logf("read many %d series: %v", len(keys), time.Since(t0))
	if err != nil || len(many) != len(keys) {
		found := map[string]bool{}
		for _, sr := range many {
			found[sr.Key.ID()] = true
		}
		for _, k := range keys {
			if !found[k.ID()] {
				t.Errorf("not found by its names: %q %q %q", k.Measurement, k.Field, k.Tags)
			}
		}
		t.Fatalf("read many: %d of %d series, %v", len(many), len(keys), err)
	}
	for _, sr := range many {
		if len(sr.Samples) != 1 {
			t.Errorf("%s: %d samples, want 1", sr.Key.ID(), len(sr.Samples))
		}
	}
	// and downsampled with InfluxQL, whose quoting differs from Flux's
	// (names InfluxQL cannot express, here those with a NUL, are read with
	// Flux in the same call)
	ql, err := New(Config{URL: s.Config().URL, Bucket: db, QueryLanguage: QueryLanguageInfluxQL})
	if err != nil {
		t.Fatal(err)
	}
	defer ql.Close()
	t0 = time.Now()
	many, err = ql.ReadMany(tctx(t), keys, engine.RangeQuery{Start: base, End: base.Add(24 * time.Hour), Step: time.Hour, Agg: engine.AggSum})
	t.Logf("influxql: read many %d series downsampled: %v", len(keys), time.Since(t0))
	if err != nil || len(many) != len(keys) {
		t.Fatalf("influxql: read many downsampled: %d of %d series, %v", len(many), len(keys), err)
	}
	for i, sr := range many {
		if sr.Key.ID() != keys[i].ID() || len(sr.Samples) != 1 || sr.Samples[0].Value != 1 || !sr.Samples[0].Time.Equal(base) {
			t.Fatalf("influxql: %q read back as %q %+v", keys[i].ID(), sr.Key.ID(), sr.Samples)
		}
	}
	t.Logf("%d names x 4 positions: %d stored, listed and read back exactly, %d refused", len(names), len(pts), refused)
}

// The server evaluates every literal fluxString produces to the original
// string: no escape is lost or misread by the real Flux parser.
func TestFluxStringRoundTripsThroughServer(t *testing.T) {
	s, _ := newStore(t, nil)
	inputs := append([]string{}, storetest.Hostile()...)
	inputs = append(inputs, "", "$", "$$", "${", "$${", `\${`, `\$`, "{}", "a\x00b", "\x01\x1f\x7f", "trailing\\", "\"", "\\\"", "\r\n\t", "ünïcødé ✓ 😀", "\u2028\u2029")
	var all []byte
	for i := 0; i < 256; i++ {
		all = append(all, byte(i))
	}
	inputs = append(inputs, strings.ToValidUTF8(string(all), ""))
	for i, in := range inputs {
		// csv.from gives one row without touching storage; map puts the
		// literal into column s, which comes back as a string.
		flux := `import "csv"
csv.from(csv: "#datatype,string,long,long\n#group,false,false,false\n#default,_result,,\n,result,table,x\n,,0,1\n")
	|> map(fn: (r) => ({x: r.x, s: ` + fluxString(in) + `}))`
		res, err := s.reader.Query(tctx(t), flux)
		if err != nil {
			t.Fatalf("input %d %q: %v\nquery:\n%s", i, in, err, flux)
		}
		var got []string
		for res.Next() {
			v, _ := res.Record().ValueByKey("s").(string)
			got = append(got, v)
		}
		if err := res.Err(); err != nil {
			t.Fatalf("input %d %q: %v", i, in, err)
		}
		// Flux's CSV encoder writes CRLF line ends and drops every other
		// carriage return, so those cannot survive the trip back (which is
		// why Write refuses them).
		want := strings.ReplaceAll(in, "\r", "")
		if len(got) != 1 || got[0] != want {
			t.Fatalf("input %d %q came back as %q", i, in, got)
		}
	}
}

func TestWriteRefusesUnrepresentable(t *testing.T) {
	s, _ := newStore(t, nil)
	ctx := tctx(t)
	good := minutes("m", map[string]string{"host": "ok"}, "f", 3, func(int) float64 { return 1 })
	bads := []engine.Point{
		{Measurement: "m", Tags: map[string]string{"host": "new\nline"}, Fields: map[string]float64{"f": 1}, Time: base},
		{Measurement: "m", Tags: map[string]string{"host": `trailing\`}, Fields: map[string]float64{"f": 1}, Time: base},
		{Measurement: "m", Tags: map[string]string{"host": "cr\rlf"}, Fields: map[string]float64{"f": 1}, Time: base},
		{Measurement: "m\nx", Fields: map[string]float64{"f": 1}, Time: base},
		{Measurement: "m", Fields: map[string]float64{`f\`: 1}, Time: base},
		{Measurement: "m", Tags: map[string]string{"a\nb": "x"}, Fields: map[string]float64{"f": 1}, Time: base},
		{Measurement: "m", Tags: map[string]string{"_field": "x"}, Fields: map[string]float64{"f": 1}, Time: base},
		{Measurement: "m", Tags: map[string]string{"table": "x"}, Fields: map[string]float64{"f": 1}, Time: base},
		{Measurement: "m", Tags: map[string]string{"$": "x"}, Fields: map[string]float64{"f": 1}, Time: base},
		{Measurement: "m", Tags: map[string]string{"host": ""}, Fields: map[string]float64{"f": 1}, Time: base},
		{Measurement: "#comment", Fields: map[string]float64{"f": 1}, Time: base},
		{Measurement: "m", Fields: map[string]float64{"time": 1}, Time: base},
		{Measurement: "m", Fields: map[string]float64{"f": nan()}, Time: base},
		{Measurement: "m", Fields: map[string]float64{}, Time: base},
		{Measurement: "m", Fields: map[string]float64{"f": 1}}, // zero time: year 1
	}
	for i, bad := range bads {
		err := s.Write(ctx, append(append([]engine.Point{}, good...), bad))
		if !errors.Is(err, ErrUnrepresentable) {
			t.Fatalf("bad point %d %+v: %v, want ErrUnrepresentable", i, bad, err)
		}
	}
	// nothing of a refused call was written
	if _, err := s.Read(ctx, engine.SeriesKey{Measurement: "m", Field: "f", Tags: map[string]string{"host": "ok"}}, engine.RangeQuery{Start: base, End: base.Add(time.Hour)}); !errors.Is(err, engine.ErrNotFound) {
		t.Fatalf("refused batch left data behind: %v", err)
	}
}

func nan() float64 { var z float64; return z / z }

// Read matches the tag set exactly; ListSeries lists every superset.
func TestExactTagSet(t *testing.T) {
	s, _ := newStore(t, nil)
	ctx := tctx(t)
	pts := minutes("cpu", map[string]string{"host": "a"}, "usage", 10, func(int) float64 { return 1 })
	pts = append(pts, minutes("cpu", map[string]string{"host": "a", "core": "0"}, "usage", 10, func(int) float64 { return 2 })...)
	pts = append(pts, minutes("cpu", nil, "usage", 10, func(int) float64 { return 3 })...)
	if err := s.Write(ctx, pts); err != nil {
		t.Fatal(err)
	}
	q := engine.RangeQuery{Start: base, End: base.Add(time.Hour)}
	for want, tags := range map[float64]map[string]string{1: {"host": "a"}, 2: {"host": "a", "core": "0"}, 3: nil} {
		sr, err := s.Read(ctx, engine.SeriesKey{Measurement: "cpu", Field: "usage", Tags: tags}, q)
		if err != nil || len(sr.Samples) != 10 || sr.Samples[0].Value != want {
			t.Fatalf("read %v: %+v %v", tags, sr, err)
		}
	}
	got, err := s.ListSeries(ctx, engine.SeriesFilter{Tags: map[string]string{"host": "a"}, Start: base, End: base.Add(time.Hour)})
	if err != nil || len(got) != 2 {
		t.Fatalf("list host=a: %v %v", got, err)
	}
	if _, err := s.Read(ctx, engine.SeriesKey{Measurement: "cpu", Field: "usage", Tags: map[string]string{"core": "0"}}, q); !errors.Is(err, engine.ErrNotFound) {
		t.Fatalf("subset key: %v, want ErrNotFound", err)
	}
}

// Integer, unsigned-looking, boolean fields read as float64; string fields
// are not numeric series.
func TestFieldTypes(t *testing.T) {
	forEachLanguage(t, testFieldTypes)
}

func testFieldTypes(t *testing.T, lang QueryLanguage) {
	s, db := newStore(t, func(c *Config) { c.QueryLanguage = lang })
	u := serverURL(t)
	ctx := tctx(t)
	var lp strings.Builder
	for i := 0; i < 120; i++ {
		fmt.Fprintf(&lp, "svc,host=x reqs=%di,up=%t,state=\"ok\" %d\n", i, i%2 == 0, base.Add(time.Duration(i)*time.Minute).UnixNano())
	}
	writeLP(t, u, db, lp.String())
	q := engine.RangeQuery{Start: base, End: base.Add(2 * time.Hour)}
	sr, err := s.Read(ctx, engine.SeriesKey{Measurement: "svc", Field: "reqs", Tags: map[string]string{"host": "x"}}, q)
	if err != nil || len(sr.Samples) != 120 || sr.Samples[5].Value != 5 {
		t.Fatalf("int field: %v %v", sr.Samples, err)
	}
	q.Step, q.Agg = time.Hour, engine.AggSum
	sr, err = s.Read(ctx, engine.SeriesKey{Measurement: "svc", Field: "reqs", Tags: map[string]string{"host": "x"}}, q)
	if err != nil || len(sr.Samples) != 2 || sr.Samples[0].Value != 1770 || sr.Samples[1].Value != 5370 {
		t.Fatalf("int field summed: %v %v", sr.Samples, err)
	}
	q.Step = 0
	sr, err = s.Read(ctx, engine.SeriesKey{Measurement: "svc", Field: "up", Tags: map[string]string{"host": "x"}}, q)
	if err != nil || len(sr.Samples) != 120 || sr.Samples[0].Value != 1 || sr.Samples[1].Value != 0 {
		t.Fatalf("bool field: %v %v", sr.Samples, err)
	}
	if _, err := s.Read(ctx, engine.SeriesKey{Measurement: "svc", Field: "state", Tags: map[string]string{"host": "x"}}, q); !errors.Is(err, engine.ErrNotFound) {
		t.Fatalf("string field: %v, want ErrNotFound", err)
	}
	// downsampled: the last boolean of each window as 0/1; a mean of
	// booleans or strings is refused by the server in both languages
	q.Step, q.Agg = time.Hour, engine.AggLast
	sr, err = s.Read(ctx, engine.SeriesKey{Measurement: "svc", Field: "up", Tags: map[string]string{"host": "x"}}, q)
	if err != nil || len(sr.Samples) != 2 || sr.Samples[0] != (engine.Sample{Time: base, Value: 0}) || !sr.Samples[1].Time.Equal(base.Add(time.Hour)) {
		t.Fatalf("last of a bool field: %v %v", sr.Samples, err)
	}
	q.Agg = engine.AggMean
	for _, f := range []string{"up", "state"} {
		_, err := s.Read(ctx, engine.SeriesKey{Measurement: "svc", Field: f, Tags: map[string]string{"host": "x"}}, q)
		if err == nil || errors.Is(err, engine.ErrNotFound) || errors.Is(err, engine.ErrUnavailable) {
			t.Fatalf("mean of field %s: %v, want the server's refusal", f, err)
		}
		t.Logf("mean of field %s: %v", f, err)
	}
	q.Step = 0
	got, err := s.ListSeries(ctx, engine.SeriesFilter{Start: base, End: base.Add(time.Hour)})
	if err != nil || len(got) != 2 {
		t.Fatalf("list (string field excluded): %v %v", got, err)
	}
}

// Windows are aligned to the epoch and stamped with their start even when
// the query starts inside a window; only data inside the range counts.
func TestDownsampleUnalignedRange(t *testing.T) {
	forEachLanguage(t, testDownsampleUnalignedRange)
}

func testDownsampleUnalignedRange(t *testing.T, lang QueryLanguage) {
	s, _ := newStore(t, func(c *Config) { c.QueryLanguage = lang })
	ctx := tctx(t)
	if err := s.Write(ctx, minutes("cpu", nil, "usage", 180, func(i int) float64 { return float64(i) })); err != nil {
		t.Fatal(err)
	}
	sr, err := s.Read(ctx, engine.SeriesKey{Measurement: "cpu", Field: "usage"}, engine.RangeQuery{
		Start: base.Add(30 * time.Minute), End: base.Add(150 * time.Minute), Step: time.Hour, Agg: engine.AggMin,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []engine.Sample{{Time: base, Value: 30}, {Time: base.Add(time.Hour), Value: 60}, {Time: base.Add(2 * time.Hour), Value: 120}}
	if len(sr.Samples) != len(want) {
		t.Fatalf("got %+v, want %+v", sr.Samples, want)
	}
	for i := range want {
		if !sr.Samples[i].Time.Equal(want[i].Time) || sr.Samples[i].Value != want[i].Value {
			t.Fatalf("got %+v, want %+v", sr.Samples, want)
		}
	}
	// A sample exactly at End is excluded, also from aggregates. (InfluxDB
	// 1.8's storage reads range's stop inclusively; without the store's
	// correction it would show up as an extra window stamped at Start.)
	sr, err = s.Read(ctx, engine.SeriesKey{Measurement: "cpu", Field: "usage"}, engine.RangeQuery{
		Start: base, End: base.Add(2 * time.Hour), Step: time.Hour, Agg: engine.AggSum,
	})
	if err != nil || len(sr.Samples) != 2 || sr.Samples[0].Value != 1770 || sr.Samples[1].Value != 5370 || !sr.Samples[1].Time.Equal(base.Add(time.Hour)) {
		t.Fatalf("sample at End leaked into the aggregate: %+v %v", sr.Samples, err)
	}
	// A sample at End - 1ns is inside the range and in its own window,
	// even where End - 1ns starts a window. (InfluxDB 1.8's Flux puts a
	// row at the range's stop into an extra window stamped with the range
	// start.)
	sr, err = s.Read(ctx, engine.SeriesKey{Measurement: "cpu", Field: "usage"}, engine.RangeQuery{
		Start: base.Add(30 * time.Minute), End: base.Add(2*time.Hour + time.Nanosecond), Step: time.Hour, Agg: engine.AggSum,
	})
	want = []engine.Sample{{Time: base, Value: 1335}, {Time: base.Add(time.Hour), Value: 5370}, {Time: base.Add(2 * time.Hour), Value: 120}}
	if err != nil || fmt.Sprint(sr.Samples) != fmt.Sprint(want) {
		t.Fatalf("sample at End - 1ns: got %+v %v, want %+v", sr.Samples, err, want)
	}
	sr, err = s.Read(ctx, engine.SeriesKey{Measurement: "cpu", Field: "usage"}, engine.RangeQuery{Start: base.Add(time.Minute), End: base.Add(time.Minute + time.Nanosecond)})
	if err != nil || len(sr.Samples) != 1 || sr.Samples[0].Value != 1 {
		t.Fatalf("1ns range: %+v %v", sr.Samples, err)
	}
	// a step that is not a whole number of seconds
	sr, err = s.Read(ctx, engine.SeriesKey{Measurement: "cpu", Field: "usage"}, engine.RangeQuery{
		Start: base, End: base.Add(3 * time.Minute), Step: 1500 * time.Millisecond, Agg: engine.AggLast,
	})
	if err != nil || len(sr.Samples) != 3 || !sr.Samples[1].Time.Equal(base.Add(time.Minute)) {
		t.Fatalf("1.5s step: %+v %v", sr.Samples, err)
	}
}

// A realistic volume: 100 series x 1 day of minutes. ListSeries reads one
// row per series and must stay fast.
func TestVolume(t *testing.T) {
	s, _ := newStore(t, nil)
	ctx := tctx(t)
	const nSeries, n = 100, 1440
	var pts []engine.Point
	var keys []engine.SeriesKey
	for i := 0; i < nSeries; i++ {
		tags := map[string]string{"host": fmt.Sprintf("h%03d", i), "dc": fmt.Sprintf("dc%d", i%4)}
		x := float64(i)
		pts = append(pts, minutes("cpu", tags, "usage", n, func(j int) float64 { return x + float64(j%60) })...)
		keys = append(keys, engine.SeriesKey{Measurement: "cpu", Field: "usage", Tags: tags})
	}
	t0 := time.Now()
	if err := s.Write(ctx, pts); err != nil {
		t.Fatal(err)
	}
	t.Logf("write %d points: %v", len(pts), time.Since(t0))

	t0 = time.Now()
	got, err := s.ListSeries(ctx, engine.SeriesFilter{Start: base, End: base.Add(24 * time.Hour)})
	elapsed := time.Since(t0)
	t.Logf("list series over %d points: %d series in %v", len(pts), len(got), elapsed)
	if err != nil || len(got) != nSeries {
		t.Fatalf("list: %d series, %v", len(got), err)
	}
	if elapsed > 5*time.Second {
		t.Errorf("ListSeries took %v", elapsed)
	}
	t0 = time.Now()
	got, err = s.ListSeries(ctx, engine.SeriesFilter{Tags: map[string]string{"dc": "dc1"}, Limit: 10, Start: base, End: base.Add(24 * time.Hour)})
	t.Logf("list series dc=dc1 limit 10: %d series in %v", len(got), time.Since(t0))
	if err != nil || len(got) != 10 || got[0].Tags["host"] != "h001" {
		t.Fatalf("filtered list: %v %v", got, err)
	}

	t0 = time.Now()
	many, err := s.ReadMany(ctx, keys, engine.RangeQuery{Start: base, End: base.Add(24 * time.Hour), Step: time.Hour, Agg: engine.AggMean})
	t.Logf("read many %d series, 1h mean over a day: %v", len(many), time.Since(t0))
	if err != nil || len(many) != nSeries {
		t.Fatalf("read many: %d %v", len(many), err)
	}
	for _, sr := range many {
		var i int
		fmt.Sscanf(sr.Key.Tags["host"], "h%03d", &i)
		if len(sr.Samples) != 24 || sr.Samples[0].Value != float64(i)+29.5 || !sr.Samples[23].Time.Equal(base.Add(23*time.Hour)) {
			t.Fatalf("series %s: %d samples, first %+v", sr.Key.ID(), len(sr.Samples), sr.Samples[0])
		}
	}
}

func TestAsyncWriterDelivers(t *testing.T) {
	s, _ := newStore(t, func(c *Config) { c.WriteBatchSize = 50; c.FlushInterval = 100 * time.Millisecond })
	ctx := tctx(t)
	w := s.AsyncWriter()
	if w != s.AsyncWriter() {
		t.Fatal("AsyncWriter is not a singleton")
	}
	if err := w.Write(minutes("forecast", map[string]string{"host": "a"}, "yhat", 120, func(i int) float64 { return float64(i) })); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	sr, err := s.Read(ctx, engine.SeriesKey{Measurement: "forecast", Field: "yhat", Tags: map[string]string{"host": "a"}}, engine.RangeQuery{Start: base, End: base.Add(3 * time.Hour)})
	if err != nil || len(sr.Samples) != 120 {
		t.Fatalf("after Flush: %d samples, %v", len(sr.Samples), err)
	}
	if w.Failures() != 0 {
		t.Fatalf("failures: %d", w.Failures())
	}
	if err := w.Write([]engine.Point{{Measurement: "m", Tags: map[string]string{"k": "a\nb"}, Fields: map[string]float64{"f": 1}, Time: base}}); !errors.Is(err, ErrUnrepresentable) {
		t.Fatalf("unrepresentable point: %v", err)
	}
	// points written just before Close are flushed by it
	if err := w.Write(minutes("forecast", map[string]string{"host": "b"}, "yhat", 10, func(i int) float64 { return 1 })); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(minutes("forecast", nil, "yhat", 1, func(i int) float64 { return 1 })); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
	s2, err := New(s.Config())
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	sr, err = s2.Read(ctx, engine.SeriesKey{Measurement: "forecast", Field: "yhat", Tags: map[string]string{"host": "b"}}, engine.RangeQuery{Start: base, End: base.Add(time.Hour)})
	if err != nil || len(sr.Samples) != 10 {
		t.Fatalf("after Close: %d samples, %v", len(sr.Samples), err)
	}
}

// Writing to a database that does not exist fails on the server; the async
// writer reports it through the callback, the log and the counter.
func TestAsyncWriterReportsErrors(t *testing.T) {
	u := serverURL(t)
	errs := make(chan error, 16)
	s, err := New(Config{
		URL: u, Bucket: fmt.Sprintf("foresight_missing_%d", os.Getpid()),
		FlushInterval: 50 * time.Millisecond,
		OnAsyncError:  func(err error) { errs <- err },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	w := s.AsyncWriter()
	if err := w.Write(minutes("forecast", nil, "yhat", 5, func(i int) float64 { return 1 })); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	select {
	case err := <-errs:
		if !strings.Contains(err.Error(), "database not found") || errors.Is(err, engine.ErrUnavailable) {
			t.Fatalf("reported error: %v", err)
		}
		t.Logf("reported: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no error reported within 10s")
	}
	if w.Failures() < 1 {
		t.Fatalf("failures counter: %d", w.Failures())
	}
	// the blocking writer returns the same failure synchronously
	if err := s.Write(tctx(t), minutes("forecast", nil, "yhat", 1, func(i int) float64 { return 1 })); err == nil || errors.Is(err, engine.ErrUnavailable) {
		t.Fatalf("blocking write to a missing database: %v", err)
	}
}

// A URL where nothing listens: every operation fails with ErrUnavailable.
func TestUnreachableServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	s, err := New(Config{URL: "http://" + addr, Bucket: "foresight"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := tctx(t)
	if err := s.Ping(ctx); !errors.Is(err, engine.ErrUnavailable) {
		t.Fatalf("ping: %v, want ErrUnavailable", err)
	}
	if err := s.Write(ctx, minutes("m", nil, "f", 1, func(int) float64 { return 1 })); !errors.Is(err, engine.ErrUnavailable) {
		t.Fatalf("write: %v, want ErrUnavailable", err)
	}
	q := engine.RangeQuery{Start: base, End: base.Add(time.Hour)}
	if _, err := s.Read(ctx, engine.SeriesKey{Measurement: "m", Field: "f"}, q); !errors.Is(err, engine.ErrUnavailable) {
		t.Fatalf("read: %v, want ErrUnavailable", err)
	}
	if _, err := s.ReadMany(ctx, []engine.SeriesKey{{Measurement: "m", Field: "f"}}, q); !errors.Is(err, engine.ErrUnavailable) {
		t.Fatalf("read many: %v, want ErrUnavailable", err)
	}
	if _, err := s.ListSeries(ctx, engine.SeriesFilter{}); !errors.Is(err, engine.ErrUnavailable) {
		t.Fatalf("list: %v, want ErrUnavailable", err)
	}
	t.Logf("ping error: %v", s.Ping(ctx))
}

// A server that accepts connections but never answers: the configured
// timeouts end every operation with ErrUnavailable.
func TestHangingServerTimesOut(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns sync.WaitGroup
	stop := make(chan struct{})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() { defer conns.Done(); <-stop; c.Close() }()
		}
	}()
	defer func() { l.Close(); close(stop); conns.Wait() }()
	s, err := New(Config{URL: "http://" + l.Addr().String(), Bucket: "foresight",
		Timeouts: Timeouts{Write: 300 * time.Millisecond, Query: 300 * time.Millisecond, Ping: 300 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := tctx(t)
	t0 := time.Now()
	if err := s.Ping(ctx); !errors.Is(err, engine.ErrUnavailable) {
		t.Fatalf("ping: %v", err)
	}
	if err := s.Write(ctx, minutes("m", nil, "f", 1, func(int) float64 { return 1 })); !errors.Is(err, engine.ErrUnavailable) {
		t.Fatalf("write: %v", err)
	}
	if _, err := s.Read(ctx, engine.SeriesKey{Measurement: "m", Field: "f"}, engine.RangeQuery{Start: base, End: base.Add(time.Hour)}); !errors.Is(err, engine.ErrUnavailable) {
		t.Fatalf("read: %v", err)
	}
	if d := time.Since(t0); d > 5*time.Second {
		t.Fatalf("three timed-out calls took %v", d)
	}
	// a caller's cancellation is not reported as the store being down
	cctx, cancel := context.WithCancel(ctx)
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	if _, err := s.Read(cctx, engine.SeriesKey{Measurement: "m", Field: "f"}, engine.RangeQuery{Start: base, End: base.Add(time.Hour)}); !errors.Is(err, context.Canceled) || errors.Is(err, engine.ErrUnavailable) {
		t.Fatalf("cancelled read: %v", err)
	}
}

// Close stops every goroutine the store and its async writer started.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	u := serverURL(t)
	_, db := newDB(t)
	runtime.GC()
	before := runtime.NumGoroutine()
	for i := 0; i < 3; i++ {
		s, err := New(Config{URL: u, Bucket: db})
		if err != nil {
			t.Fatal(err)
		}
		w := s.AsyncWriter()
		if err := w.Write(minutes("m", nil, "f", 10, func(int) float64 { return 1 })); err != nil {
			t.Fatal(err)
		}
		if err := s.Write(tctx(t), minutes("m", nil, "g", 10, func(int) float64 { return 1 })); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ListSeries(tctx(t), engine.SeriesFilter{Start: base, End: base.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		// downsampled: the InfluxQL path's own HTTP client
		if _, err := s.ReadMany(tctx(t), []engine.SeriesKey{{Measurement: "m", Field: "g"}}, engine.RangeQuery{Start: base, End: base.Add(time.Hour), Step: time.Minute}); err != nil {
			t.Fatal(err)
		}
		if err := s.Ping(tctx(t)); err != nil {
			t.Fatal(err)
		}
		s.Close()
		s.Close() // idempotent
		if err := s.Write(tctx(t), nil); !errors.Is(err, ErrClosed) {
			t.Fatalf("write after close: %v", err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines before, %d after Close:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

func TestListSeriesDefaultsAndErrors(t *testing.T) {
	s, _ := newStore(t, func(c *Config) { c.ListLookback = time.Hour })
	ctx := tctx(t)
	now := time.Now().UTC().Truncate(time.Second)
	pts := []engine.Point{
		{Measurement: "m", Fields: map[string]float64{"recent": 1}, Time: now.Add(-10 * time.Minute)},
		{Measurement: "m", Fields: map[string]float64{"old": 1}, Time: now.Add(-2 * time.Hour)},
	}
	if err := s.Write(ctx, pts); err != nil {
		t.Fatal(err)
	}
	got, err := s.ListSeries(ctx, engine.SeriesFilter{})
	if err != nil || len(got) != 1 || got[0].Field != "recent" {
		t.Fatalf("default window (lookback 1h): %v %v", got, err)
	}
	if _, err := s.ListSeries(ctx, engine.SeriesFilter{Start: now, End: now.Add(-time.Hour)}); err == nil {
		t.Fatal("inverted window: no error")
	}
	got, err = s.ListSeries(ctx, engine.SeriesFilter{Tags: map[string]string{"_start": "x"}, Start: now.Add(-3 * time.Hour), End: now})
	if err != nil || len(got) != 0 {
		t.Fatalf("reserved tag filter: %v %v", got, err)
	}
	keys := []engine.SeriesKey{{Measurement: "m", Field: "recent"}, {Measurement: "m", Field: "old"}, {Measurement: "m", Field: "recent"}}
	many, err := s.ReadMany(ctx, keys, engine.RangeQuery{Start: now.Add(-3 * time.Hour), End: now})
	if err != nil || len(many) != 2 || many[0].Key.Field != "old" {
		t.Fatalf("read many with a duplicate key: %v %v", many, err)
	}
	if _, err := s.Read(ctx, keys[0], engine.RangeQuery{Start: now, End: now.Add(-time.Hour)}); err == nil || errors.Is(err, engine.ErrNotFound) {
		t.Fatalf("invalid range: %v", err)
	}
}
