package influx

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
)

// Config says where the store reads and writes.
//
// InfluxDB OSS 1.8 (HTTP with flux-enabled = true):
//
//	URL:    "http://127.0.0.1:8086"
//	Token:  "" when auth is off, else "username:password"
//	Org:    "" (ignored by 1.8; "-" is accepted too)
//	Bucket: "database" for the default retention policy, or "database/retention-policy"
//
// InfluxDB 2.x and InfluxDB Cloud speak the same /api/v2/write,
// /api/v2/query and /ping endpoints, so the same code works unchanged:
//
//	URL:    "https://eu-central-1-1.aws.cloud2.influxdata.com" or "http://host:8086"
//	Token:  an API token with read (and, for Write, write) access to the bucket
//	Org:    the organisation name or ID (required)
//	Bucket: the bucket name
//
// The database or bucket must exist beforehand: the store never creates
// one.
//
// Org also tells the store which storage semantics to expect: InfluxDB 1.8
// treats the stop of a Flux range() as inclusive (Flux defines it as
// exclusive, and 2.x honours that), so with an empty Org (or "-") queries
// ask for [start, stop-1ns] to read exactly [start, stop).
//
// QueryLanguage chooses how downsampled reads (Read and ReadMany with a
// Step) are made; raw reads and ListSeries always use Flux:
//
//   - QueryLanguageAuto (the default, also ""): InfluxQL on InfluxDB 1.x,
//     Flux elsewhere. The store asks GET /ping once, before its first
//     downsampled read: an X-Influxdb-Version of 1.x means InfluxQL, any
//     other version Flux; without the header (or while the server cannot
//     be reached) the configuration's form decides: no Org (the 1.8 form,
//     Bucket "database" or "database/retention-policy") means InfluxQL.
//   - QueryLanguageInfluxQL: always InfluxQL, sent to the 1.x /query
//     endpoint with db and rp taken from Bucket ("database" or
//     "database/retention-policy"); a Token "user:password" is sent as
//     basic auth, any other token as "Authorization: Token". (InfluxDB 2.x
//     answers there only for buckets with a DBRP mapping.)
//   - QueryLanguageFlux: always Flux (aggregateWindow).
//
// InfluxDB 1.x runs Flux's aggregateWindow row by row in its query engine
// but answers InfluxQL's GROUP BY time from the storage engine, about ten
// times faster. Both paths return the same samples: windows aligned to
// the epoch, stamped with their start, only data in [start, stop), no
// empty windows. Series whose names InfluxQL cannot express (a NUL byte or
// a carriage return anywhere, invalid UTF-8) are read with Flux, and so is
// an InfluxQL answer the server truncated (its max-row-limit setting).
type Config struct {
	URL    string
	Token  string
	Org    string
	Bucket string

	// QueryLanguage is the language of downsampled reads (see above).
	// Default QueryLanguageAuto.
	QueryLanguage QueryLanguage

	// WriteBatchSize is the number of points per HTTP write request
	// (Write and the async writer). Default 5000.
	WriteBatchSize int
	// FlushInterval is how long the async writer buffers points before
	// sending an incomplete batch. Default 1s.
	FlushInterval time.Duration

	// Timeouts bound each operation when the caller's context has no
	// earlier deadline.
	Timeouts Timeouts

	// ListLookback is how far back ListSeries looks when the filter has no
	// Start. Default 30 days.
	ListLookback time.Duration

	// MaxKeysPerQuery caps the number of series keys ReadMany puts in one
	// Flux query; longer key lists are split into several queries.
	// Default 50: InfluxDB 1.8 spends time superlinear in the size of a
	// filter before reading anything (measured on an empty database: about
	// 4ms per key at 30-60 keys, 9ms per key at 200, 14ms at 400), so much
	// bigger queries are slower overall.
	MaxKeysPerQuery int
	// QueryConcurrency is how many of ReadMany's queries run at once.
	// Default 2; raise it when the server has idle cores.
	QueryConcurrency int

	// InfluxQLMaxKeysPerQuery caps the number of series keys ReadMany puts
	// in one InfluxQL request (its tag sets are ORed in the WHERE clause,
	// so this also bounds the length of the query text). Default 200.
	InfluxQLMaxKeysPerQuery int
	// InfluxQLQueryConcurrency is how many of ReadMany's InfluxQL requests
	// run at once. Default 4.
	InfluxQLQueryConcurrency int

	// Logger receives async-writer failures. Default slog.Default().
	Logger *slog.Logger
	// OnAsyncError, when set, is called (from the writer's goroutine) for
	// every failed async write, in addition to logging it.
	OnAsyncError func(error)
}

// QueryLanguage names the query language of downsampled reads.
type QueryLanguage string

// The query languages (see Config).
const (
	QueryLanguageAuto     QueryLanguage = "auto"
	QueryLanguageFlux     QueryLanguage = "flux"
	QueryLanguageInfluxQL QueryLanguage = "influxql"
)

// ParseQueryLanguage validates a configured language name ("" means auto;
// case is ignored).
func ParseQueryLanguage(s string) (QueryLanguage, error) {
	switch l := QueryLanguage(strings.ToLower(strings.TrimSpace(s))); l {
	case "":
		return QueryLanguageAuto, nil
	case QueryLanguageAuto, QueryLanguageFlux, QueryLanguageInfluxQL:
		return l, nil
	}
	return "", fmt.Errorf("query language %q is not auto, flux or influxql", s)
}

// Timeouts bound the store's operations.
type Timeouts struct {
	// Write bounds one write request (one batch). Default 30s. It is also
	// the HTTP timeout of the async writer, whose requests have no caller
	// context.
	Write time.Duration
	// Query bounds one query (Flux or InfluxQL) including reading its
	// result. Default 60s.
	Query time.Duration
	// Ping bounds Ping. Default 5s.
	Ping time.Duration
}

// Defaults.
const (
	DefaultWriteBatchSize   = 5000
	DefaultFlushInterval    = time.Second
	DefaultWriteTimeout     = 30 * time.Second
	DefaultQueryTimeout     = 60 * time.Second
	DefaultPingTimeout      = 5 * time.Second
	DefaultListLookback     = 30 * 24 * time.Hour
	DefaultMaxKeysPerQuery  = 50
	DefaultQueryConcurrency = 2

	DefaultInfluxQLMaxKeysPerQuery  = 200
	DefaultInfluxQLQueryConcurrency = 4
)

// withDefaults returns c with zero values replaced by defaults, or an error
// when c cannot work.
func (c Config) withDefaults() (Config, error) {
	if c.URL == "" {
		return c, errors.New("influx config: URL is required")
	}
	u, err := url.Parse(c.URL)
	if err != nil {
		return c, fmt.Errorf("influx config: URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, fmt.Errorf("influx config: URL %q must be http(s)://host[:port]", c.URL)
	}
	if c.Bucket == "" {
		return c, errors.New("influx config: Bucket is required (1.8: \"database\" or \"database/retention-policy\")")
	}
	lang, err := ParseQueryLanguage(string(c.QueryLanguage))
	if err != nil {
		return c, fmt.Errorf("influx config: %w", err)
	}
	c.QueryLanguage = lang
	if c.WriteBatchSize < 0 || c.MaxKeysPerQuery < 0 || c.QueryConcurrency < 0 || c.FlushInterval < 0 || c.ListLookback < 0 ||
		c.InfluxQLMaxKeysPerQuery < 0 || c.InfluxQLQueryConcurrency < 0 ||
		c.Timeouts.Write < 0 || c.Timeouts.Query < 0 || c.Timeouts.Ping < 0 {
		return c, errors.New("influx config: sizes, intervals and timeouts must not be negative")
	}
	if c.WriteBatchSize == 0 {
		c.WriteBatchSize = DefaultWriteBatchSize
	}
	if c.FlushInterval == 0 {
		c.FlushInterval = DefaultFlushInterval
	}
	if c.Timeouts.Write == 0 {
		c.Timeouts.Write = DefaultWriteTimeout
	}
	if c.Timeouts.Query == 0 {
		c.Timeouts.Query = DefaultQueryTimeout
	}
	if c.Timeouts.Ping == 0 {
		c.Timeouts.Ping = DefaultPingTimeout
	}
	if c.ListLookback == 0 {
		c.ListLookback = DefaultListLookback
	}
	if c.MaxKeysPerQuery == 0 {
		c.MaxKeysPerQuery = DefaultMaxKeysPerQuery
	}
	if c.QueryConcurrency == 0 {
		c.QueryConcurrency = DefaultQueryConcurrency
	}
	if c.InfluxQLMaxKeysPerQuery == 0 {
		c.InfluxQLMaxKeysPerQuery = DefaultInfluxQLMaxKeysPerQuery
	}
	if c.InfluxQLQueryConcurrency == 0 {
		c.InfluxQLQueryConcurrency = DefaultInfluxQLQueryConcurrency
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}
