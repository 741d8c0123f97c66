package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/seed-f1b503aa/foresight/benchmark/load"
)

// defaultBenchPaths are the requests of `bench api -paths default`: the
// fleet's predictions and the 48-hour forecast of a few discovered series,
// half and half.
const defaultBenchPaths = "/api/v1/predictions,/api/v1/series/{series}/forecast?horizon=48"

// seriesPlaceholder in a -paths entry stands for each discovered series id.
const seriesPlaceholder = "{series}"

// cmdBenchAPI load-tests the HTTP API of a running server: it discovers a
// few series, checks every target answers 200 once, warms up, then runs a
// closed loop (-clients workers) or, with -rate, an open loop, and prints
// a Markdown table (and JSON with -json).
func cmdBenchAPI(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench api", flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("server", "", "base URL of the running server, e.g. http://127.0.0.1:8080 (required)")
	token := fs.String("token", "", "API token, sent as Authorization: Bearer TOKEN (not needed with auth off)")
	clients := fs.Int("clients", 200, "closed loop: concurrent clients; open loop (-rate): most requests in flight")
	duration := fs.Duration("duration", 30*time.Second, "how long to measure (after the warm-up)")
	requests := fs.Int("requests", 0, "measure this many requests (open loop: arrivals) instead of -duration")
	rate := fs.Float64("rate", 0, "open loop at this many requests/s, latency counted from each scheduled send (0: closed loop)")
	paths := fs.String("paths", "default", "comma-separated GET paths, each optionally weighted with *N; "+
		seriesPlaceholder+" expands to each discovered series (sharing the entry's weight); commas inside a path "+
		"must be written %2C; default: "+defaultBenchPaths)
	measurement := fs.String("measurement", "cpu", "measurement of the series "+seriesPlaceholder+" stands for")
	field := fs.String("field", "usage_active", "field of the series "+seriesPlaceholder+" stands for")
	nSeries := fs.Int("series", 4, "how many series "+seriesPlaceholder+" stands for")
	warmup := fs.Duration("warmup", 5*time.Second, "unmeasured load first, so connections and caches are warm (0: none)")
	gzip := fs.Bool("gzip", false, "send Accept-Encoding: gzip (bodies are read compressed, not decoded)")
	jsonOut := fs.Bool("json", false, "print the results as JSON on stdout; the table then goes to stderr")
	timeout := fs.Duration("timeout", 30*time.Second, "per-request timeout (a timeout counts as a transport error)")
	seed := fs.Uint64("seed", 1, "seed of the target sequence")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return usageError{"bench api: takes no positional arguments"}
	}
	base, err := benchBaseURL(*server)
	if err != nil {
		fs.Usage()
		return usageError{"bench api: -server: " + err.Error()}
	}
	if *clients <= 0 || *nSeries <= 0 || *requests < 0 || *rate < 0 || *duration < 0 || *warmup < 0 {
		return usageError{"bench api: -clients and -series must be positive; -requests, -rate, -duration and -warmup not negative"}
	}
	if *requests == 0 && *duration == 0 {
		return usageError{"bench api: set -duration or -requests"}
	}
	specs, err := parseBenchPaths(*paths)
	if err != nil {
		return usageError{"bench api: -paths: " + err.Error()}
	}
	header := http.Header{}
	if *token != "" {
		header.Set("Authorization", "Bearer "+*token)
	}
	tr := load.NewTransport(*clients)
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: *timeout}

	var ids []string
	if needsSeries(specs) {
		ids, err = discoverSeries(ctx, client, base, header, *measurement, *field, *nSeries)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "bench api: %d %s#%s series: %s\n", len(ids), *measurement, *field, strings.Join(ids, " "))
	}
	targets := benchTargets(base, specs, ids, header)
	for _, t := range targets {
		if err := probeTarget(ctx, client, t); err != nil {
			return err
		}
	}
	opts := load.Options{
		Targets:   targets,
		Duration:  *duration,
		Requests:  *requests,
		Warmup:    *warmup,
		Timeout:   *timeout,
		Gzip:      *gzip,
		Transport: tr,
		Seed:      *seed,
	}
	what := fmt.Sprintf("closed loop, %d clients", *clients)
	if *rate > 0 {
		opts.Rate, opts.MaxInFlight = *rate, *clients
		what = fmt.Sprintf("open loop, %g requests/s, at most %d in flight", *rate, *clients)
	} else {
		opts.Clients = *clients
	}
	span := duration.String()
	if *requests > 0 {
		span = strconv.Itoa(*requests) + " requests"
	}
	fmt.Fprintf(stderr, "bench api: %s, %d targets; warm-up %s, then %s\n", what, len(targets), *warmup, span)
	res, err := load.Run(ctx, opts)
	if err != nil {
		return err
	}
	if !*jsonOut {
		return res.Table(stdout)
	}
	if err := res.Table(stderr); err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(res)
}

// benchBaseURL checks -server and returns it without a trailing slash.
func benchBaseURL(s string) (string, error) {
	if s == "" {
		return "", errors.New("required (the base URL of a running server)")
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return "", fmt.Errorf("%q: use http://host:port (or https)", s)
	}
	return strings.TrimRight(s, "/"), nil
}

// benchPath is one -paths entry.
type benchPath struct {
	path   string
	weight int
}

// parseBenchPaths reads -paths: "default" or comma-separated paths, each
// with an optional "*N" weight.
func parseBenchPaths(s string) ([]benchPath, error) {
	if strings.TrimSpace(s) == "default" {
		s = defaultBenchPaths
	}
	var out []benchPath
	for _, e := range strings.Split(s, ",") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		p := benchPath{path: e, weight: 1}
		if i := strings.LastIndexByte(e, '*'); i >= 0 {
			w, err := strconv.Atoi(e[i+1:])
			if err != nil || w <= 0 {
				return nil, fmt.Errorf("%q: the weight after * must be a positive integer", e)
			}
			p.path, p.weight = e[:i], w
		}
		if !strings.HasPrefix(p.path, "/") {
			return nil, fmt.Errorf("%q: a path starts with /", e)
		}
		if strings.Count(p.path, seriesPlaceholder) > 1 {
			return nil, fmt.Errorf("%q: at most one %s", e, seriesPlaceholder)
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, errors.New("no paths")
	}
	return out, nil
}

func needsSeries(specs []benchPath) bool {
	for _, p := range specs {
		if strings.Contains(p.path, seriesPlaceholder) {
			return true
		}
	}
	return false
}

// benchTargets expands the paths into load targets. An entry with
// {series} becomes one target per id, each with the entry's weight; the
// other entries' weights are multiplied by the number of ids, so that an
// entry's share does not depend on how many series it expands to.
func benchTargets(base string, specs []benchPath, ids []string, header http.Header) []load.Target {
	k := 1
	if needsSeries(specs) {
		k = max(len(ids), 1)
	}
	var out []load.Target
	for _, p := range specs {
		if !strings.Contains(p.path, seriesPlaceholder) {
			out = append(out, load.Target{Name: "GET " + p.path, URL: base + p.path, Header: header, Weight: p.weight * k})
			continue
		}
		for _, id := range ids {
			out = append(out, load.Target{
				Name:   "GET " + strings.Replace(p.path, seriesPlaceholder, id, 1),
				URL:    base + strings.Replace(p.path, seriesPlaceholder, url.PathEscape(id), 1),
				Header: header,
				Weight: p.weight,
			})
		}
	}
	return out
}

// discoverSeries lists up to n series of measurement#field.
func discoverSeries(ctx context.Context, client *http.Client, base string, header http.Header, measurement, field string, n int) ([]string, error) {
	q := url.Values{"measurement": {measurement}, "field": {field}, "limit": {strconv.Itoa(n)}}
	u := base + "/api/v1/series?" + q.Encode()
	body, err := benchGet(ctx, client, u, header)
	if err != nil {
		return nil, fmt.Errorf("bench api: listing series: %w", err)
	}
	var list struct {
		Series []struct {
			ID string `json:"id"`
		} `json:"series"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, fmt.Errorf("bench api: listing series: GET %s: %w", u, err)
	}
	var ids []string
	for _, s := range list.Series {
		if s.ID != "" {
			ids = append(ids, s.ID)
		}
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("bench api: the server has no %s#%s series: pick others with -measurement and -field, or paths without %s",
			measurement, field, seriesPlaceholder)
	}
	return ids, nil
}

// probeTarget sends one request to t and fails unless it answers 200, so
// that a misconfigured run stops before the load starts.
func probeTarget(ctx context.Context, client *http.Client, t load.Target) error {
	if _, err := benchGet(ctx, client, t.URL, t.Header); err != nil {
		return fmt.Errorf("bench api: checking %s: %w", t.Name, err)
	}
	return nil
}

// benchGet GETs u and returns the body of a 200 answer.
func benchGet(ctx context.Context, client *http.Client, u string, header http.Header) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header = header.Clone()
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		detail := strings.TrimSpace(string(body))
		if len(detail) > 300 {
			detail = detail[:300] + "…"
		}
		hint := ""
		switch resp.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			hint = " (auth is on: pass -token)"
		case http.StatusTooManyRequests:
			hint = " (the server's rate limit: raise or disable auth.rate_limit for a benchmark)"
		case http.StatusServiceUnavailable:
			hint = " (not ready yet? wait for /readyz and the first prediction run)"
		}
		return nil, fmt.Errorf("GET %s answered %s%s: %s", u, resp.Status, hint, detail)
	}
	return body, nil
}
