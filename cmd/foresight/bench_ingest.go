package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/seed-f1b503aa/foresight/benchmark/load"
	"github.com/seed-f1b503aa/foresight/datasets"
	"github.com/seed-f1b503aa/foresight/engine"
)

// cmdBenchIngest measures sustained ingest through POST /api/v2/write the
// way a fleet of Telegraf agents loads it: -clients workers each post
// line-protocol batches of about -batch points for their own share of
// -series series (Telegraf-style measurements and tags named like the demo
// fleet's hosts, plus a run=ID tag), every series' timestamps increasing by
// -interval per round. It prints the throughput, the write latencies and
// every failed batch by status, then checks on the server that what was
// acknowledged is stored: the series count (GET /api/v1/series total), the
// server's own ingest counter, series read back exactly
// (GET /api/v1/series/{id}/data) and, with -influxdb-url, an InfluxQL
// count(*) on the database.
func cmdBenchIngest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench ingest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("server", "", "base URL of the running server, e.g. http://127.0.0.1:8080 (required)")
	token := fs.String("token", "", "token for the writes (role ingest or above), sent as Authorization: Token T like Telegraf")
	readToken := fs.String("read-token", "", "token for the verification reads (role viewer or above; default -token)")
	duration := fs.Duration("duration", 60*time.Second, "how long to write")
	requests := fs.Int("requests", 0, "send this many batches instead of writing for -duration")
	clients := fs.Int("clients", 8, "concurrent writers (closed loop); with -rate, the most batches in flight")
	batch := fs.Int("batch", 5000, "points (field values) per batch, at most; whole lines only")
	nSeries := fs.Int("series", 10000, "series (measurement + tags + field), split between the clients by host")
	rate := fs.Float64("rate", 0, "open loop at this many batches/s, latency counted from each scheduled send (0: closed loop)")
	gz := fs.Bool("gzip", false, "send the batches gzip-compressed (Content-Encoding: gzip, fastest level)")
	interval := fs.Duration("interval", time.Second, "time between a series' consecutive points (whole seconds)")
	timeout := fs.Duration("timeout", 30*time.Second, "per-request timeout (a timeout counts as a transport error)")
	runID := fs.String("run-id", "", "value of the run tag on every point (default: random), so the checks count this run only")
	verifyReads := fs.Int("verify-reads", 20, "series read back through the API and compared point by point (-1: all, 0: none)")
	influxURL := fs.String("influxdb-url", "", "InfluxDB 1.x behind the server: also count the stored points with InfluxQL")
	influxDB := fs.String("influxdb-db", "", "the database of -influxdb-url")
	seed := fs.Uint64("seed", 1, "seed of the generated values")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return usageError{"bench ingest: takes no positional arguments"}
	}
	base, err := benchBaseURL(*server)
	if err != nil {
		fs.Usage()
		return usageError{"bench ingest: -server: " + err.Error()}
	}
	if *clients <= 0 || *nSeries <= 0 || *requests < 0 || *rate < 0 || *duration < 0 || *verifyReads < -1 {
		return usageError{"bench ingest: -clients and -series must be positive; -requests, -rate and -duration not negative"}
	}
	if *requests == 0 && *duration == 0 {
		return usageError{"bench ingest: set -duration or -requests"}
	}
	if *batch < maxIngestFields {
		return usageError{fmt.Sprintf("bench ingest: -batch must be at least %d (the most fields on one line)", maxIngestFields)}
	}
	if *interval < time.Second || *interval%time.Second != 0 {
		return usageError{"bench ingest: -interval must be a whole number of seconds"}
	}
	if (*influxURL == "") != (*influxDB == "") {
		return usageError{"bench ingest: -influxdb-url and -influxdb-db go together"}
	}
	if *runID == "" {
		var b [4]byte
		_, _ = rand.Read(b[:])
		*runID = hex.EncodeToString(b[:])
	}
	if !regexp.MustCompile(`^[A-Za-z0-9_-]+$`).MatchString(*runID) {
		return usageError{"bench ingest: -run-id: letters, digits, _ and - only"}
	}
	if *readToken == "" {
		*readToken = *token
	}

	// Timestamps start 6 h back, at a whole minute, so that a minute's run
	// at one second per round stays in the past.
	start := time.Now().Truncate(time.Minute).Add(-6 * time.Hour)
	gen, err := newIngestGen(*nSeries, *clients, *batch, *runID, start, *interval, *gz, *seed)
	if err != nil {
		return usageError{"bench ingest: " + err.Error()}
	}

	tr := load.NewTransport(*clients)
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: *timeout}
	readHeader := http.Header{}
	if *readToken != "" {
		readHeader.Set("Authorization", "Bearer "+*readToken)
	}
	pointsBefore, counterErr := ingestCounter(ctx, client, base)

	header := http.Header{"Content-Type": {"text/plain; charset=utf-8"}}
	if *token != "" {
		header.Set("Authorization", "Token "+*token)
	}
	if *gz {
		header.Set("Content-Encoding", "gzip")
	}
	opts := load.Options{Duration: *duration, Requests: *requests, Timeout: *timeout, Transport: tr}
	what := fmt.Sprintf("closed loop, %d clients", *clients)
	if *rate > 0 {
		opts.Rate, opts.MaxInFlight = *rate, *clients
		what = fmt.Sprintf("open loop, %g batches/s, at most %d in flight", *rate, *clients)
	} else {
		opts.Clients = *clients
	}
	span := duration.String()
	if *requests > 0 {
		span = strconv.Itoa(*requests) + " batches"
	}
	fmt.Fprintf(stderr, "bench ingest: %s, %s; %d series in %d lines on %d hosts, batches of up to %d points, run=%s\n",
		what, span, gen.series, gen.nLines, gen.hosts, *batch, *runID)
	loadBefore := loadAverage()
	res, err := load.RunStream(ctx, load.Stream{
		Name:     "POST /api/v2/write",
		URL:      base + "/api/v2/write?bucket=foresight&precision=ns",
		Header:   header,
		Expect:   http.StatusNoContent,
		Next:     gen.next,
		Answered: gen.answered,
	}, opts)
	if err != nil {
		return err
	}
	loadAfter := loadAverage()
	sum := gen.summary()

	rep := ingestReport{res: res, sum: sum, gen: gen, what: what, loadBefore: loadBefore, loadAfter: loadAfter}
	// The checks.
	vctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	rep.checks = append(rep.checks, checkSeriesTotal(vctx, client, base, readHeader, gen, sum))
	if counterErr == nil {
		after, err := ingestCounter(vctx, client, base)
		// The server counts engine points: lines, each with all its fields.
		c := ingestCheck{name: "lines counted by the server (foresight_ingest_points_total delta, counts lines; any writer)", want: sum.ackedLines}
		if err != nil {
			c.err = err
		} else {
			c.got = after - pointsBefore
		}
		rep.checks = append(rep.checks, c)
	} else {
		fmt.Fprintf(stderr, "bench ingest: no ingest counter check: %v\n", counterErr)
	}
	if *verifyReads != 0 {
		rep.checks = append(rep.checks, checkReadBack(vctx, client, base, readHeader, gen, *verifyReads))
	}
	if *influxURL != "" {
		rep.checks = append(rep.checks, checkInfluxCount(vctx, client, strings.TrimRight(*influxURL, "/"), *influxDB, gen, sum))
	}
	if err := rep.write(stdout); err != nil {
		return err
	}
	var failed []string
	for _, c := range rep.checks {
		if !c.ok() {
			failed = append(failed, c.name)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("bench ingest: acknowledged and stored differ: %s", strings.Join(failed, "; "))
	}
	if n := res.Total.Errors(); n > 0 {
		return fmt.Errorf("bench ingest: %d of %d batches failed (%s)", n, res.Total.Requests, res.Total.ErrorClasses())
	}
	return nil
}

// --- the generator ------------------------------------------------------

// maxIngestFields is the most fields a generated line has.
const maxIngestFields = 4

// Kinds of generated fields.
const (
	fieldGauge   = iota // float, two decimals
	fieldInt            // integer gauge ("i")
	fieldCounter        // integer counter, increasing every round
	fieldConst          // integer constant (a capacity)
)

// ingestField is one field of a line: name, kind and value range.
type ingestField struct {
	key    []byte // "usage_active="
	name   string
	kind   int
	base   float64
	spread float64
}

// ingestLine is one line-protocol series key with its fields.
type ingestLine struct {
	measurement string
	tags        map[string]string
	prefix      []byte // escaped "measurement,k=v,... "
	fields      []ingestField
}

// ingestClient is one writer's share of the lines and its accounting. Only
// its worker's goroutine touches it during the run.
type ingestClient struct {
	lines []*ingestLine
	rng   *mrand.Rand
	next  int64 // next visit: line next%len(lines), round next/len(lines)
	// Bodies rotate through four buffers: the transport may still hold
	// the previous body briefly after its answer.
	bufs  [4][]byte
	zbufs [4][]byte
	nbuf  int
	zw    *gzip.Writer

	// the body last made
	lastFrom         int64
	lastVisits       int
	lastPoints       int64
	lastRaw, lastLen int64

	acked                                            []int64 // per line: acknowledged visits
	ackedPoints, failedPoints, abandonedPoints       int64
	ackedBatches, failedBatches, rawBytes, wireBytes int64
	ackedLines, lastAckedRound                       int64
}

// ingestGen makes the batches of every client.
type ingestGen struct {
	clients       []*ingestClient
	hosts, nLines int
	series        int
	batch         int
	runID         string
	start         time.Time
	interval      time.Duration
	gzip          bool
	linesAll      []*ingestLine // every line, client by client
	lineClient    []int         // client of linesAll[i]
	lineIndex     []int         // index of linesAll[i] in its client
}

// ingestRoles is the demo fleet's role cycle (datasets: app, db, report,
// app, app, db, app, report, app, app).
var ingestRoles = []datasets.Role{
	datasets.RoleApp, datasets.RoleDB, datasets.RoleReport, datasets.RoleApp, datasets.RoleApp,
	datasets.RoleDB, datasets.RoleApp, datasets.RoleReport, datasets.RoleApp, datasets.RoleApp,
}

const (
	gibF = float64(1 << 30)
)

// hostLines returns the Telegraf-style lines of one host.
func hostLines(name string, role datasets.Role, run string) []*ingestLine {
	var out []*ingestLine
	add := func(m string, tags map[string]string, fields ...ingestField) {
		tags["host"], tags["run"] = name, run
		out = append(out, &ingestLine{measurement: m, tags: tags, fields: fields})
	}
	f := func(name string, kind int, base, spread float64) ingestField {
		return ingestField{name: name, kind: kind, base: base, spread: spread}
	}
	add("cpu", map[string]string{"cpu": "cpu-total"},
		f("usage_active", fieldGauge, 5, 60), f("usage_user", fieldGauge, 3, 45),
		f("usage_system", fieldGauge, 1, 12), f("usage_iowait", fieldGauge, 0, 8))
	add("mem", map[string]string{},
		f("used", fieldInt, 12*gibF, 20*gibF), f("available", fieldInt, 8*gibF, 20*gibF), f("used_percent", fieldGauge, 30, 50))
	add("net", map[string]string{"interface": "eth0"},
		f("bytes_recv", fieldCounter, 2e6, 8e6), f("bytes_sent", fieldCounter, 1e6, 6e6))
	var paths, services []string
	switch role {
	case datasets.RoleApp:
		paths, services = []string{"/", "/var/log", "/opt/erp"}, []string{"erp-app", "session-cache"}
	case datasets.RoleDB:
		paths, services = []string{"/", "/data", "/backup"}, []string{"postgres", "pgbouncer"}
	default:
		paths, services = []string{"/", "/reports", "/archive", "/tmp"}, []string{"report-engine", "bi-cache", "etl-worker"}
	}
	for _, p := range paths {
		add("disk", map[string]string{"path": p}, f("used", fieldInt, 40*gibF, 100*gibF), f("total", fieldConst, 500*gibF, 0))
	}
	for _, s := range services {
		add("process_mem", map[string]string{"service": s}, f("used_bytes", fieldInt, 2*gibF, 6*gibF), f("limit_bytes", fieldConst, 16*gibF, 0))
	}
	switch role {
	case datasets.RoleApp:
		add("http_requests", map[string]string{}, f("rate", fieldGauge, 20, 400))
		add("erp_sessions", map[string]string{}, f("active", fieldInt, 10, 300))
	case datasets.RoleDB:
		add("db_connections", map[string]string{}, f("active", fieldInt, 20, 300))
	}
	return out
}

// newIngestGen builds exactly nSeries series on as many demo-named hosts as
// it takes (the last host may be cut short) and deals the hosts to the
// clients in turn.
func newIngestGen(nSeries, nClients, batch int, run string, start time.Time, interval time.Duration, gz bool, seed uint64) (*ingestGen, error) {
	g := &ingestGen{batch: batch, runID: run, start: start, interval: interval, gzip: gz, series: nSeries}
	g.clients = make([]*ingestClient, nClients)
	for i := range g.clients {
		g.clients[i] = &ingestClient{rng: mrand.New(mrand.NewPCG(seed, uint64(i)+1))}
		if gz {
			g.clients[i].zw, _ = gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
		}
	}
	ord := map[datasets.Role]int{}
	left := nSeries
	for h := 0; left > 0; h++ {
		role := ingestRoles[h%len(ingestRoles)]
		ord[role]++
		var name string
		switch role {
		case datasets.RoleApp:
			name = fmt.Sprintf("erp-app-%02d", ord[role])
		case datasets.RoleDB:
			name = fmt.Sprintf("db-%02d", ord[role])
		default:
			name = fmt.Sprintf("rpt-%02d", ord[role])
		}
		c := g.clients[h%nClients]
		for _, l := range hostLines(name, role, run) {
			if left == 0 {
				break
			}
			if len(l.fields) > left {
				l.fields = l.fields[:left]
			}
			left -= len(l.fields)
			for i := range l.fields {
				l.fields[i].key = append([]byte(l.fields[i].name), '=')
			}
			l.prefix = append(appendLPKey(nil, l.measurement, l.tags), ' ')
			c.lines = append(c.lines, l)
		}
		g.hosts++
	}
	if g.hosts < nClients {
		return nil, fmt.Errorf("-series %d makes %d hosts, fewer than the %d clients: raise -series or lower -clients", nSeries, g.hosts, nClients)
	}
	for ci, c := range g.clients {
		c.acked = make([]int64, len(c.lines))
		c.lastAckedRound = -1
		for i, l := range c.lines {
			g.linesAll = append(g.linesAll, l)
			g.lineClient = append(g.lineClient, ci)
			g.lineIndex = append(g.lineIndex, i)
		}
	}
	g.nLines = len(g.linesAll)
	return g, nil
}

// appendLPKey appends "measurement,k=v,..." with the tags sorted and
// line-protocol escaping (the generated names need none, but the run tag is
// the user's).
func appendLPKey(b []byte, m string, tags map[string]string) []byte {
	esc := func(b []byte, s, special string) []byte {
		for i := 0; i < len(s); i++ {
			if strings.IndexByte(special, s[i]) >= 0 {
				b = append(b, '\\')
			}
			b = append(b, s[i])
		}
		return b
	}
	b = esc(b, m, ", ")
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		b = append(b, ',')
		b = esc(b, k, ",= ")
		b = append(b, '=')
		b = esc(b, tags[k], ",= ")
	}
	return b
}

// timeOf is the timestamp of a round.
func (g *ingestGen) timeOf(round int64) time.Time {
	return g.start.Add(time.Duration(round) * g.interval)
}

// next makes worker w's next batch: whole lines from where the last one
// stopped, as many as fit in g.batch points.
func (g *ingestGen) next(w int) ([]byte, error) {
	c := g.clients[w]
	n := int64(len(c.lines))
	c.nbuf = (c.nbuf + 1) % len(c.bufs)
	b := c.bufs[c.nbuf][:0]
	from, points, visits := c.next, int64(0), 0
	for {
		l := c.lines[c.next%n]
		if points+int64(len(l.fields)) > int64(g.batch) {
			break
		}
		round := c.next / n
		ts := g.timeOf(round).UnixNano()
		b = append(b, l.prefix...)
		for i := range l.fields {
			fl := &l.fields[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, fl.key...)
			switch fl.kind {
			case fieldGauge:
				b = strconv.AppendFloat(b, fl.base+fl.spread*c.rng.Float64(), 'f', 2, 64)
			case fieldInt:
				b = strconv.AppendInt(b, int64(fl.base+fl.spread*c.rng.Float64()), 10)
				b = append(b, 'i')
			case fieldCounter:
				b = strconv.AppendInt(b, int64(fl.base)*round+int64(fl.spread*c.rng.Float64()), 10)
				b = append(b, 'i')
			default:
				b = strconv.AppendInt(b, int64(fl.base), 10)
				b = append(b, 'i')
			}
		}
		b = append(b, ' ')
		b = strconv.AppendInt(b, ts, 10)
		b = append(b, '\n')
		points += int64(len(l.fields))
		visits++
		c.next++
	}
	c.bufs[c.nbuf] = b
	c.lastFrom, c.lastVisits, c.lastPoints, c.lastRaw = from, visits, points, int64(len(b))
	if !g.gzip {
		c.lastLen = int64(len(b))
		return b, nil
	}
	zb := bytes.NewBuffer(c.zbufs[c.nbuf][:0])
	c.zw.Reset(zb)
	if _, err := c.zw.Write(b); err != nil {
		return nil, err
	}
	if err := c.zw.Close(); err != nil {
		return nil, err
	}
	c.zbufs[c.nbuf] = zb.Bytes()
	c.lastLen = int64(zb.Len())
	return zb.Bytes(), nil
}

// answered books the outcome of worker w's last batch.
func (g *ingestGen) answered(w, status int) {
	c := g.clients[w]
	if status == load.Abandoned {
		c.abandonedPoints += c.lastPoints
		return
	}
	c.rawBytes += c.lastRaw
	c.wireBytes += c.lastLen
	if status != http.StatusNoContent {
		c.failedBatches++
		c.failedPoints += c.lastPoints
		return
	}
	c.ackedBatches++
	c.ackedPoints += c.lastPoints
	c.ackedLines += int64(c.lastVisits)
	n := int64(len(c.lines))
	for v := c.lastFrom; v < c.lastFrom+int64(c.lastVisits); v++ {
		c.acked[v%n]++
	}
	if r := (c.lastFrom + int64(c.lastVisits) - 1) / n; r > c.lastAckedRound {
		c.lastAckedRound = r
	}
}

// ingestSummary adds up the clients.
type ingestSummary struct {
	ackedPoints, failedPoints, abandonedPoints       int64
	ackedBatches, failedBatches, rawBytes, wireBytes int64
	ackedLines                                       int64 // lines of line protocol acknowledged
	seriesAcked                                      int   // series with at least one acknowledged point
	lastRound                                        int64 // the latest acknowledged round of any client
}

func (g *ingestGen) summary() ingestSummary {
	var s ingestSummary
	s.lastRound = -1
	for _, c := range g.clients {
		s.ackedPoints += c.ackedPoints
		s.failedPoints += c.failedPoints
		s.abandonedPoints += c.abandonedPoints
		s.ackedBatches += c.ackedBatches
		s.ackedLines += c.ackedLines
		s.failedBatches += c.failedBatches
		s.rawBytes += c.rawBytes
		s.wireBytes += c.wireBytes
		s.lastRound = max(s.lastRound, c.lastAckedRound)
		for i, l := range c.lines {
			if c.acked[i] > 0 {
				s.seriesAcked += len(l.fields)
			}
		}
	}
	return s
}

// --- the checks -----------------------------------------------------------

// ingestCheck is one comparison of acknowledged and stored.
type ingestCheck struct {
	name      string
	want, got int64
	err       error
	note      string
}

func (c ingestCheck) ok() bool { return c.err == nil && c.want == c.got }

// span is the time range that holds every point of the run.
func (g *ingestGen) span(s ingestSummary) (time.Time, time.Time) {
	return g.start.Add(-g.interval), g.timeOf(max(s.lastRound, 0) + 1)
}

func checkSeriesTotal(ctx context.Context, client *http.Client, base string, h http.Header, g *ingestGen, s ingestSummary) ingestCheck {
	from, to := g.span(s)
	q := url.Values{"tag": {"run:" + g.runID}, "start": {from.UTC().Format(time.RFC3339)},
		"end": {to.UTC().Format(time.RFC3339)}, "limit": {"1"}}
	c := ingestCheck{name: "series listed (GET /api/v1/series total, run=" + g.runID + ")", want: int64(s.seriesAcked)}
	body, err := benchGet(ctx, client, base+"/api/v1/series?"+q.Encode(), h)
	if err != nil {
		c.err = err
		return c
	}
	var list struct {
		Total *int64 `json:"total"`
	}
	if err := json.Unmarshal(body, &list); err != nil || list.Total == nil {
		c.err = fmt.Errorf("series list without a total: %.200s", body)
		return c
	}
	c.got = *list.Total
	return c
}

var ingestCounterRE = regexp.MustCompile(`(?m)^foresight_ingest_points_total(?:\{\})? ([0-9.e+]+)$`)

// ingestCounter reads foresight_ingest_points_total from /metrics.
func ingestCounter(ctx context.Context, client *http.Client, base string) (int64, error) {
	body, err := benchGet(ctx, client, base+"/metrics", http.Header{})
	if err != nil {
		return 0, err
	}
	m := ingestCounterRE.FindSubmatch(body)
	if m == nil {
		return 0, errors.New("/metrics has no foresight_ingest_points_total")
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	return int64(v), err
}

// checkReadBack reads n series (-1: all) spread over the run through
// GET /api/v1/series/{id}/data at one window per round, so every stored
// point is one sample, and compares each with its acknowledged count.
func checkReadBack(ctx context.Context, client *http.Client, base string, h http.Header, g *ingestGen, n int) ingestCheck {
	type pick struct{ line, field int }
	var picks []pick
	for li, l := range g.linesAll {
		for fi := range l.fields {
			picks = append(picks, pick{li, fi})
		}
	}
	if n >= 0 && n < len(picks) {
		sel := make([]pick, n)
		for i := range sel {
			sel[i] = picks[i*len(picks)/n]
		}
		picks = sel
	}
	s := g.summary()
	from, to := g.span(s)
	step := strconv.FormatInt(int64(g.interval/time.Second), 10) + "s"
	c := ingestCheck{name: fmt.Sprintf("points read back one by one (GET /api/v1/series/{id}/data, %d series)", len(picks))}
	if to.Sub(from)/g.interval > 100000 {
		c.err = errors.New("more than 100,000 rounds: a read at one window per point is refused; use a larger -interval")
		return c
	}
	for _, p := range picks {
		ci := g.lineClient[p.line]
		c.want += g.clients[ci].acked[g.lineIndex[p.line]]
	}
	var (
		mu       sync.Mutex
		got      int64
		firstErr error
		wrong    int
		example  string
		wg       sync.WaitGroup
	)
	work := make(chan pick)
	for range 4 {
		wg.Go(func() {
			for p := range work {
				l := g.linesAll[p.line]
				key := engine.SeriesKey{Measurement: l.measurement, Field: l.fields[p.field].name, Tags: l.tags}
				want := g.clients[g.lineClient[p.line]].acked[g.lineIndex[p.line]]
				q := url.Values{"start": {from.UTC().Format(time.RFC3339)}, "end": {to.UTC().Format(time.RFC3339)}, "step": {step}, "agg": {"last"}}
				body, err := benchGet(ctx, client, base+"/api/v1/series/"+url.PathEscape(key.ID())+"/data?"+q.Encode(), h)
				var sr struct {
					Samples []struct{} `json:"samples"`
				}
				if err == nil {
					err = json.Unmarshal(body, &sr)
				}
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				got += int64(len(sr.Samples))
				if err == nil && int64(len(sr.Samples)) != want {
					wrong++
					if example == "" {
						example = fmt.Sprintf("%s: %d stored, %d acknowledged", key.ID(), len(sr.Samples), want)
					}
				}
				mu.Unlock()
			}
		})
	}
	for _, p := range picks {
		if ctx.Err() != nil {
			break
		}
		work <- p
	}
	close(work)
	wg.Wait()
	c.got, c.err = got, firstErr
	if wrong > 0 {
		c.note = fmt.Sprintf("%d series differ, e.g. %s", wrong, example)
		if c.err == nil && c.got == c.want {
			c.err = errors.New(c.note)
		}
	}
	return c
}

// checkInfluxCount counts the run's points in InfluxDB with InfluxQL.
func checkInfluxCount(ctx context.Context, client *http.Client, influxURL, db string, g *ingestGen, s ingestSummary) ingestCheck {
	q := fmt.Sprintf(`SELECT count(*) FROM /.*/ WHERE "run" = '%s'`, g.runID)
	c := ingestCheck{name: "points in InfluxDB (" + q + ", database " + db + ")", want: s.ackedPoints}
	form := url.Values{"db": {db}, "q": {q}, "epoch": {"s"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, influxURL+"/query", strings.NewReader(form.Encode()))
	if err != nil {
		c.err = err
		return c
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	qc := *client
	qc.Timeout = 5 * time.Minute
	resp, err := qc.Do(req)
	if err != nil {
		c.err = err
		return c
	}
	defer resp.Body.Close()
	var out struct {
		Results []struct {
			Error  string `json:"error"`
			Series []struct {
				Columns []string `json:"columns"`
				Values  [][]any  `json:"values"`
			} `json:"series"`
		} `json:"results"`
		Error string `json:"error"`
	}
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		c.err = fmt.Errorf("InfluxQL answer (%s): %w", resp.Status, err)
		return c
	}
	if out.Error != "" {
		c.err = errors.New(out.Error)
		return c
	}
	for _, r := range out.Results {
		if r.Error != "" {
			c.err = errors.New(r.Error)
			return c
		}
		for _, sr := range r.Series {
			for _, row := range sr.Values {
				for i, v := range row {
					if i < len(sr.Columns) && sr.Columns[i] == "time" {
						continue
					}
					if num, ok := v.(json.Number); ok {
						if n, err := num.Int64(); err == nil {
							c.got += n
						}
					}
				}
			}
		}
	}
	return c
}

// --- the report -----------------------------------------------------------

type ingestReport struct {
	res                   *load.Result
	sum                   ingestSummary
	gen                   *ingestGen
	what                  string
	loadBefore, loadAfter string
	checks                []ingestCheck
}

func (r *ingestReport) write(w io.Writer) error {
	var b strings.Builder
	t := r.res.Total
	secs := r.res.Elapsed.Seconds()
	per := func(n int64) float64 {
		if secs <= 0 {
			return 0
		}
		return float64(n) / secs
	}
	gz := "plain"
	if r.gen.gzip {
		gz = "gzip"
	}
	fmt.Fprintf(&b, "Ingest through POST /api/v2/write: %s for %.1f s, batches of up to %d points (%s), %d series on %d hosts, "+
		"one point per series every %s of data time (run=%s). Client machine: %d CPUs, load average %s before, %s after.\n\n",
		r.what, secs, r.gen.batch, gz, r.gen.series, r.gen.hosts, r.gen.interval, r.gen.runID, runtime.NumCPU(), r.loadBefore, r.loadAfter)
	b.WriteString("| points acknowledged | points/s | batches | batches/s | failed batches | MB/s sent | p50 ms | p90 ms | p99 ms | max ms |\n")
	b.WriteString("|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|\n")
	failed := "0"
	if t.Errors() > 0 {
		failed = fmt.Sprintf("%d (%.2f%%: %s; %s points not acknowledged)", t.Errors(), 100*t.ErrorRate(), t.ErrorClasses(), thousands(r.sum.failedPoints))
	}
	l := t.Latency
	fmt.Fprintf(&b, "| %s | %s | %s | %.1f | %s | %.2f | %s | %s | %s | %s |\n",
		thousands(r.sum.ackedPoints), thousands(int64(per(r.sum.ackedPoints))), thousands(t.Requests), per(t.Requests), failed,
		per(r.sum.wireBytes)/1e6, msOf(l.P50), msOf(l.P90), msOf(l.P99), msOf(l.Max))
	if r.gen.gzip && r.sum.wireBytes > 0 {
		fmt.Fprintf(&b, "\nBodies: %.2f MB/s of line protocol, %.2f MB/s on the wire (gzip).\n", per(r.sum.rawBytes)/1e6, per(r.sum.wireBytes)/1e6)
	}
	if r.res.Mode == load.ModeOpen {
		fmt.Fprintf(&b, "\nOpen loop: %d batches dropped (all in flight), %d sent late.\n", t.Dropped, t.Late)
	}
	if r.sum.abandonedPoints > 0 {
		fmt.Fprintf(&b, "\n%s points were in flight when the run was interrupted: their fate is unknown.\n", thousands(r.sum.abandonedPoints))
	}
	b.WriteString("\n| check | acknowledged | stored | |\n|---|---:|---:|---|\n")
	for _, c := range r.checks {
		verdict := "ok"
		got := thousands(c.got)
		switch {
		case c.err != nil:
			verdict, got = "FAILED: "+strings.ReplaceAll(c.err.Error(), "|", `\|`), "-"
		case c.got != c.want:
			verdict = fmt.Sprintf("MISMATCH (%+d)", c.got-c.want)
			if c.note != "" {
				verdict += ": " + c.note
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", strings.ReplaceAll(c.name, "|", `\|`), thousands(c.want), got, verdict)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func msOf(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond))
}

// thousands formats n with comma separators: 12,345,678.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// loadAverage is the 1-, 5- and 15-minute load average ("n/a" off Linux).
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "n/a"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "n/a"
	}
	return strings.Join(f[:3], " / ")
}
