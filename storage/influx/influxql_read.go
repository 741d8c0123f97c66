package influx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	apihttp "github.com/influxdata/influxdb-client-go/v2/api/http"

	"github.com/seed-f1b503aa/foresight/engine"
)

// The InfluxQL read path. InfluxDB 1.x evaluates Flux's aggregateWindow
// row by row in the query engine (about 0.1s of server CPU per 8,640-point
// series), while an InfluxQL GROUP BY time query is answered by the
// storage engine's own aggregate iterators, an order of magnitude faster.
// On 1.x servers Read and ReadMany therefore downsample with InfluxQL
// through the 1.x /query endpoint; raw reads, ListSeries and 2.x/Cloud
// keep using Flux. See Config.QueryLanguage.

// queryLanguage returns the language downsampled reads use. With
// QueryLanguageAuto it asks the server once (GET /ping, header
// X-Influxdb-Version): a 1.x version means InfluxQL, any other version
// Flux. Without a version header it goes by the configuration's form (no
// Org is the InfluxDB 1.8 form: InfluxQL). The answer is kept once the
// server has answered; while it cannot be reached the configuration's form
// is used and the next read asks again.
func (s *Store) queryLanguage(ctx context.Context) QueryLanguage {
	if s.cfg.QueryLanguage != QueryLanguageAuto {
		return s.cfg.QueryLanguage
	}
	s.langMu.Lock()
	defer s.langMu.Unlock()
	if s.lang != "" {
		return s.lang
	}
	version, err := s.pingVersion(ctx)
	if err != nil {
		return s.configLanguage()
	}
	s.lang = languageFor(version, s.configLanguage())
	s.serverVersion = version
	return s.lang
}

// QueryLanguage returns the language the store downsamples with
// (QueryLanguageFlux or QueryLanguageInfluxQL), asking the server first
// when Config.QueryLanguage is QueryLanguageAuto (see Config).
func (s *Store) QueryLanguage(ctx context.Context) QueryLanguage { return s.queryLanguage(ctx) }

// configLanguage is the guess from the configuration alone: InfluxDB 1.8
// is configured without an organisation.
func (s *Store) configLanguage() QueryLanguage {
	if s.v1 {
		return QueryLanguageInfluxQL
	}
	return QueryLanguageFlux
}

// languageFor maps a /ping version header to a query language; fallback
// is used when the header says nothing (absent, "unknown").
func languageFor(version string, fallback QueryLanguage) QueryLanguage {
	v := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(version)), "v")
	switch {
	case strings.HasPrefix(v, "1."):
		return QueryLanguageInfluxQL
	case v == "" || v == "unknown":
		return fallback
	}
	return QueryLanguageFlux // 2.x, 3.x, Cloud
}

// pingVersion returns the X-Influxdb-Version header of GET /ping ("" when
// the server sends none).
func (s *Store) pingVersion(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeouts.Ping)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.baseURL+"/ping", nil)
	if err != nil {
		return "", err
	}
	resp, err := s.httpc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode/100 != 2 {
		return "", fmt.Errorf("GET /ping: %s", resp.Status)
	}
	return resp.Header.Get("X-Influxdb-Version"), nil
}

// errPartial reports an answer that InfluxDB cut short (its max-row-limit
// setting); the caller reads those series with Flux instead.
var errPartial = errors.New("InfluxDB truncated the InfluxQL answer (max-row-limit)")

// influxqlCollect reads keys downsampled by q with one InfluxQL request and
// returns the series (by ID) for which keep is true. All keys must be
// expressible (influxqlKeyExpressible) and q.Step > 0.
func (s *Store) influxqlCollect(ctx context.Context, op string, keys []engine.SeriesKey, q engine.RangeQuery, keep func(engine.SeriesKey) bool) (map[string]*engine.Series, error) {
	iq := influxqlQuery{start: q.Start, stop: q.End, step: q.Step, agg: q.Agg, keys: keys}
	text, stmts, err := iq.build()
	if err != nil {
		return nil, fmt.Errorf("influx: %s: %w", op, err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeouts.Query)
	defer cancel()
	resp, err := s.influxqlPost(ctx, text)
	if err != nil {
		return nil, classify(op, err)
	}
	out := map[string]*engine.Series{}
	for _, res := range resp.Results {
		if res.Error != "" {
			return nil, fmt.Errorf("influx: %s: InfluxQL statement %d: %s", op, res.StatementID, res.Error)
		}
		if res.Partial {
			return nil, fmt.Errorf("influx: %s: %w", op, errPartial)
		}
		if res.StatementID < 0 || res.StatementID >= len(stmts) {
			return nil, fmt.Errorf("influx: %s: answer for unknown statement %d", op, res.StatementID)
		}
		st := stmts[res.StatementID]
		for _, sr := range res.Series {
			if sr.Partial {
				return nil, fmt.Errorf("influx: %s: %w", op, errPartial)
			}
			if len(sr.Columns) != 2 || sr.Columns[0] != "time" {
				return nil, fmt.Errorf("influx: %s: unexpected InfluxQL columns %q", op, sr.Columns)
			}
			k := engine.SeriesKey{Measurement: sr.Name, Field: st.field}
			for name, v := range sr.Tags {
				if v == "" { // GROUP BY * names every tag key of the measurement; "" is absent
					continue
				}
				if k.Tags == nil {
					k.Tags = make(map[string]string, len(sr.Tags))
				}
				k.Tags[name] = v
			}
			if !keep(k) {
				continue
			}
			id := k.ID()
			cur := out[id]
			if cur == nil {
				cur = &engine.Series{Key: k, Samples: make([]engine.Sample, 0, len(sr.Values))}
				out[id] = cur
			}
			for _, row := range sr.Values {
				if !row.ok {
					continue
				}
				cur.Samples = append(cur.Samples, engine.Sample{Time: floorToStep(time.Unix(0, row.t), q.Step), Value: row.v})
			}
		}
	}
	for id, sr := range out {
		if len(sr.Samples) == 0 {
			delete(out, id)
			continue
		}
		sortSamples(sr.Samples)
	}
	return out, nil
}

// influxqlResponse is the JSON answer of /query (not chunked).
type influxqlResponse struct {
	Error   string `json:"error"`
	Results []struct {
		StatementID int    `json:"statement_id"`
		Error       string `json:"error"`
		Partial     bool   `json:"partial"`
		Series      []struct {
			Name    string            `json:"name"`
			Tags    map[string]string `json:"tags"`
			Columns []string          `json:"columns"`
			Values  []influxqlRow     `json:"values"`
			Partial bool              `json:"partial"`
		} `json:"series"`
	} `json:"results"`
}

// influxqlRow is one [time, value] row of an answer with epoch=ns: an
// integer time and a number, boolean (as 0/1) or null (ok == false).
type influxqlRow struct {
	t  int64
	v  float64
	ok bool
}

func (r *influxqlRow) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) < 2 || b[0] != '[' || b[len(b)-1] != ']' {
		return fmt.Errorf("InfluxQL row %.40s: not an array", b)
	}
	ts, val, ok := bytes.Cut(b[1:len(b)-1], []byte{','})
	if !ok || bytes.IndexByte(val, ',') >= 0 {
		return fmt.Errorf("InfluxQL row %.40s: want [time, value]", b)
	}
	t, err := strconv.ParseInt(string(bytes.TrimSpace(ts)), 10, 64)
	if err != nil {
		return fmt.Errorf("InfluxQL row %.40s: time: %w", b, err)
	}
	r.t, r.ok = t, true
	switch val = bytes.TrimSpace(val); string(val) {
	case "null":
		r.ok = false
	case "true":
		r.v = 1
	case "false":
		r.v = 0
	default:
		if r.v, err = strconv.ParseFloat(string(val), 64); err != nil {
			return fmt.Errorf("InfluxQL row %.40s: value: %w", b, err)
		}
	}
	return nil
}

// influxqlPost sends one query to /query (db and rp from the bucket,
// epoch=ns, not chunked) and decodes the answer. Statement errors are left
// in the results; a failed request returns an *apihttp.Error, so classify
// treats status codes as it does for Flux.
func (s *Store) influxqlPost(ctx context.Context, text string) (*influxqlResponse, error) {
	params := url.Values{"db": {s.db}, "epoch": {"ns"}}
	if s.rp != "" {
		params.Set("rp", s.rp)
	}
	body := url.Values{"q": {text}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.baseURL+"/query?"+params.Encode(), strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if s.cfg.Token != "" {
		if user, pass, ok := strings.Cut(s.cfg.Token, ":"); ok {
			req.SetBasicAuth(user, pass) // InfluxDB 1.x: "username:password"
		} else {
			req.Header.Set("Authorization", "Token "+s.cfg.Token) // 2.x v1-compatible /query
		}
	}
	resp, err := s.httpc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(msg, &e) == nil && e.Error != "" {
			msg = []byte(e.Error)
		}
		return nil, &apihttp.Error{StatusCode: resp.StatusCode, Code: resp.Status, Message: strings.TrimSpace(string(msg)), Header: resp.Header}
	}
	var out influxqlResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("decoding the InfluxQL answer: %w", err)
	}
	if out.Error != "" {
		return nil, fmt.Errorf("InfluxQL: %s", out.Error)
	}
	return &out, nil
}
