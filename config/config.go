// Package config holds Foresight's one configuration struct, loaded once from
// a YAML file and overridden key by key with FORESIGHT_* environment
// variables, then passed down explicitly.
package config

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/seed-f1b503aa/foresight/engine/fleet"
	"github.com/seed-f1b503aa/foresight/engine/ticket"
	"github.com/seed-f1b503aa/foresight/notify"
)

// Config is the whole configuration. Every key can be overridden by an
// environment variable named FORESIGHT_ followed by the upper-cased YAML
// path joined with '_', e.g. store.influxdb.url → FORESIGHT_STORE_INFLUXDB_URL.
type Config struct {
	Server ServerConfig `yaml:"server"`
	Store  StoreConfig  `yaml:"store"`
	Demo   DemoConfig   `yaml:"demo"`
	Log    LogConfig    `yaml:"log"`
	// Jobs are the scheduled prediction and forecast runs.
	Jobs JobsConfig `yaml:"jobs"`
	// Auth is API access control: tokens, roles, rate limits, audit.
	Auth AuthConfig `yaml:"auth"`
	// Predictors map metric names and tags to the risk predictors.
	Predictors fleet.Rules `yaml:"predictors"`
	// State is the database for tickets, notifications, job runs and audit.
	State StateConfig `yaml:"state"`
	// Tickets is the ticket policy (severity by time to breach, routes,
	// hysteresis, reopen window, SLA).
	Tickets ticket.Policy `yaml:"tickets"`
	// Notify lists the webhook targets tickets are pushed to.
	Notify notify.Config `yaml:"notify"`
}

// StateConfig selects the state database.
type StateConfig struct {
	// Driver is "sqlite" (default, embedded) or "postgres" (production,
	// several replicas).
	Driver string `yaml:"driver"`
	// Path is the SQLite file.
	Path string `yaml:"path"`
	// DSN is the PostgreSQL connection string.
	DSN string `yaml:"dsn"`
	// Schema is the PostgreSQL schema (created if missing).
	Schema string `yaml:"schema"`
	// DeliveryMaxAge gives up on a webhook delivery this long after it was
	// queued (it then shows among the dead letters).
	DeliveryMaxAge Duration `yaml:"delivery_max_age"`
	// RescueStuckAfter is how long a job (a webhook delivery) may stay
	// running before River considers it stuck, e.g. because the process
	// working it died, and schedules it again. Default 1m.
	RescueStuckAfter Duration `yaml:"rescue_stuck_after"`
	// JobTimeout cancels a job's run after this long; it must be shorter
	// than RescueStuckAfter so that a live job is never rescued. Default
	// (0): half of RescueStuckAfter.
	JobTimeout Duration `yaml:"job_timeout"`
}

// JobsConfig holds the scheduled jobs and what they write back.
type JobsConfig struct {
	// Enabled turns the scheduler on (false: no scheduled runs; a run can
	// still be triggered through the API).
	Enabled bool `yaml:"enabled"`
	// Writeback writes predictions and forecasts to the metric store so a
	// Grafana data source can draw them beside the history.
	Writeback WritebackConfig `yaml:"writeback"`
	// StoreRetries is how many times a failed store read or write is
	// retried within one run, with exponential backoff from RetryBackoff.
	StoreRetries int      `yaml:"store_retries"`
	RetryBackoff Duration `yaml:"retry_backoff"`
	// StaleAfter marks served predictions stale when their run is older
	// than this many schedule periods (e.g. 2: two missed runs).
	StaleAfter float64 `yaml:"stale_after_periods"`
	// Run lists the jobs.
	Run []JobSpec `yaml:"run"`
	// Distributed splits every run among the replicas sharing the state
	// database (PostgreSQL only). `distributed: true` is short for
	// `distributed: {enabled: true}`.
	Distributed DistributedConfig `yaml:"distributed"`
}

// DistributedConfig makes several `foresight serve` replicas share the
// scheduled jobs: each run is one River job (unique per job and scheduled
// tick) that splits the series into batches, River jobs any replica works.
type DistributedConfig struct {
	// Enabled turns it on (needs state.driver postgres). Default false:
	// every process runs every job itself.
	Enabled bool `yaml:"enabled"`
	// BatchSize is how many series (predict jobs: the entities' main
	// series) one batch holds. Default 100.
	BatchSize int `yaml:"batch_size"`
}

// UnmarshalYAML accepts a boolean (enabled) or the mapping.
func (d *DistributedConfig) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		var b bool
		if err := n.Decode(&b); err != nil {
			return fmt.Errorf("line %d: jobs.distributed: want true, false or a mapping: %w", n.Line, err)
		}
		*d = DistributedConfig{Enabled: b}
		return nil
	}
	type plain DistributedConfig
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	*d = DistributedConfig(p)
	return nil
}

// WritebackConfig names the measurements results are written to.
type WritebackConfig struct {
	Enabled bool `yaml:"enabled"`
	// Predictions is the measurement for predictions (one point per
	// prediction per run).
	Predictions string `yaml:"predictions"`
	// Forecasts is the measurement for forecast paths (mean/lo/hi).
	Forecasts string `yaml:"forecasts"`
}

// JobSpec is one scheduled job.
type JobSpec struct {
	// Name identifies the job in the API, runs and logs.
	Name string `yaml:"name"`
	// Type is "predict" (risk predictors over the fleet) or "forecast"
	// (a model forecast of every matching series).
	Type string `yaml:"type"`
	// Schedule is a cron expression (5 fields, or @hourly, @every 15m…),
	// in the time zone of TZ (default UTC).
	Schedule string `yaml:"schedule"`
	TZ       string `yaml:"tz"`
	// Timeout bounds one run.
	Timeout Duration `yaml:"timeout"`
	// Kinds are the predictors a "predict" job runs: disk, memleak, monthend.
	Kinds []string `yaml:"kinds"`
	// OnlyInCloseWindow skips scheduled runs outside the month-end close
	// window of the business calendar (manual triggers always run).
	OnlyInCloseWindow bool `yaml:"only_in_close_window"`
	// Forecast configures a "forecast" job.
	Forecast ForecastJobSpec `yaml:"forecast"`
}

// ForecastJobSpec selects the series a forecast job forecasts and how.
type ForecastJobSpec struct {
	Measurement string            `yaml:"measurement"`
	Field       string            `yaml:"field"`
	Where       map[string]string `yaml:"where"`
	// History read per series, downsampled in the store to Step.
	History Duration `yaml:"history"`
	Step    Duration `yaml:"step"`
	// Horizon in steps.
	Horizon int `yaml:"horizon"`
	// Model is a model name accepted by the forecast API (auto, ets, mstl…).
	Model string `yaml:"model"`
	// Levels are the interval levels written back (e.g. [80, 95]).
	Levels []float64 `yaml:"levels"`
}

// AuthConfig is API access control.
type AuthConfig struct {
	// Enabled requires a token on every /api/v1 route and on ingest;
	// /healthz, /readyz, /metrics and /ping stay open.
	Enabled bool `yaml:"enabled"`
	// BootstrapTokenFile: when auth is on and no token exists yet, an
	// admin token is created and written to this file (mode 0600) once;
	// it is never logged.
	BootstrapTokenFile string `yaml:"bootstrap_token_file"`
	// RateLimit is requests per second allowed per token (0: unlimited),
	// with bursts up to Burst.
	RateLimit float64 `yaml:"rate_limit"`
	Burst     int     `yaml:"burst"`
	// AuditRetention is how long audit records are kept.
	AuditRetention Duration `yaml:"audit_retention"`
}

// ServerConfig configures the HTTP server.
type ServerConfig struct {
	// Listen is the TCP address, e.g. "127.0.0.1:8080".
	Listen string `yaml:"listen"`
	// MaxBodyBytes caps a request body (after gzip decoding for writes); larger bodies get 413.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// ShutdownTimeout bounds the graceful shutdown.
	ShutdownTimeout Duration `yaml:"shutdown_timeout"`
	// RequestTimeout bounds the store calls of one request.
	RequestTimeout Duration `yaml:"request_timeout"`
	// ExternalURL is how people reach this server; it prefixes links in
	// notifications.
	ExternalURL string `yaml:"external_url"`
	// InboundSecret signs POST /api/v1/hooks/tickets, the hook external
	// ticketing systems call (empty: the hook is off).
	InboundSecret string `yaml:"inbound_secret"`
	// TLSCert and TLSKey, both set, serve HTTPS instead of HTTP.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
}

// StoreConfig selects and configures the metric store.
type StoreConfig struct {
	// Backend is "embedded" (default, zero set-up) or "influxdb".
	Backend  string         `yaml:"backend"`
	Embedded EmbeddedConfig `yaml:"embedded"`
	InfluxDB InfluxConfig   `yaml:"influxdb"`
}

// EmbeddedConfig configures the embedded time-series store.
type EmbeddedConfig struct {
	// Dir holds the store's blocks and write-ahead log.
	Dir string `yaml:"dir"`
	// Retention is how long samples are kept, e.g. "400d".
	Retention Duration `yaml:"retention"`
}

// InfluxConfig configures the InfluxDB back end. For InfluxDB 1.8 (with
// flux-enabled) leave Org empty, set Bucket to "database/retention-policy"
// (or just "database") and Token to "user:password" or empty without auth.
// For InfluxDB 2.x and Cloud set Org, Bucket and an API Token.
type InfluxConfig struct {
	URL    string `yaml:"url"`
	Token  string `yaml:"token"`
	Org    string `yaml:"org"`
	Bucket string `yaml:"bucket"`
	// Timeout bounds each HTTP call to InfluxDB.
	Timeout Duration `yaml:"timeout"`
	// QueryLanguage for downsampled reads: auto (InfluxQL on 1.x servers,
	// whose Flux evaluates aggregateWindow row by row; Flux on 2.x/Cloud),
	// flux or influxql.
	QueryLanguage string `yaml:"query_language"`
}

// DemoConfig controls preloading the generated demo fleet into an empty
// embedded store.
type DemoConfig struct {
	// Preload writes the demo fleet when the store holds no series.
	Preload bool `yaml:"preload"`
	// Hosts is the number of hosts in the fleet.
	Hosts int `yaml:"hosts"`
	// Days of history ending now.
	Days int `yaml:"days"`
	// Step is the sampling interval of the generated series.
	Step Duration `yaml:"step"`
	// Seed makes the fleet reproducible.
	Seed uint64 `yaml:"seed"`
}

// LogConfig configures structured logging.
type LogConfig struct {
	// Level is debug, info, warn or error.
	Level string `yaml:"level"`
	// Format is "text" or "json".
	Format string `yaml:"format"`
}

//go:embed example.yaml
var exampleYAML []byte

// Example returns the commented example configuration; it is also the
// source of the defaults.
func Example() []byte { return bytes.Clone(exampleYAML) }

// Default returns the default configuration (the example file's values).
func Default() Config {
	c := Config{Tickets: ticket.DefaultPolicy()}
	if err := decode(exampleYAML, &c); err != nil {
		panic("config: embedded example is invalid: " + err.Error())
	}
	return c
}

// Load reads the YAML file at path (empty path: defaults only) over the
// defaults, then applies FORESIGHT_* variables from environ (usually
// os.Environ()), then validates.
func Load(path string, environ []string) (Config, error) {
	c := Default()
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("config: %w", err)
		}
		if err := decode(b, &c); err != nil {
			return c, fmt.Errorf("config %s: %w", path, err)
		}
	}
	if err := applyEnv(&c, environ); err != nil {
		return c, err
	}
	return c, c.Validate()
}

func decode(b []byte, c *Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	// An empty file decodes to nothing: the defaults stand.
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// Validate checks values that would otherwise fail later and obscurely.
func (c Config) Validate() error {
	var errs []error
	switch c.Store.Backend {
	case "embedded":
		if c.Store.Embedded.Dir == "" {
			errs = append(errs, errors.New("store.embedded.dir: required for the embedded backend"))
		}
	case "influxdb":
		if c.Store.InfluxDB.URL == "" {
			errs = append(errs, errors.New("store.influxdb.url: required for the influxdb backend"))
		}
		if c.Store.InfluxDB.Bucket == "" {
			errs = append(errs, errors.New("store.influxdb.bucket: required (1.8: database/retention-policy)"))
		}
		switch strings.ToLower(c.Store.InfluxDB.QueryLanguage) {
		case "", "auto", "flux", "influxql":
		default:
			errs = append(errs, fmt.Errorf("store.influxdb.query_language: %q is not auto, flux or influxql", c.Store.InfluxDB.QueryLanguage))
		}
	default:
		errs = append(errs, fmt.Errorf("store.backend: %q is not embedded or influxdb", c.Store.Backend))
	}
	if err := c.Predictors.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Tickets.Validate(); err != nil {
		errs = append(errs, err)
	}
	if len(c.Notify.Targets) > 0 {
		if err := c.Notify.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	switch c.State.Driver {
	case "sqlite":
		if c.State.Path == "" {
			errs = append(errs, errors.New("state.path: required for the sqlite driver"))
		}
	case "postgres":
		if c.State.DSN == "" {
			errs = append(errs, errors.New("state.dsn: required for the postgres driver"))
		}
	default:
		errs = append(errs, fmt.Errorf("state.driver: %q is not sqlite or postgres", c.State.Driver))
	}
	if c.State.RescueStuckAfter < 0 || c.State.JobTimeout < 0 {
		errs = append(errs, errors.New("state.rescue_stuck_after and state.job_timeout must not be negative"))
	} else if c.State.RescueStuckAfter > 0 && c.State.JobTimeout >= c.State.RescueStuckAfter {
		errs = append(errs, fmt.Errorf("state.job_timeout (%s) must be shorter than state.rescue_stuck_after (%s)", c.State.JobTimeout.D(), c.State.RescueStuckAfter.D()))
	}
	errs = append(errs, c.Jobs.validate()...)
	if c.Jobs.Distributed.Enabled && c.State.Driver != "postgres" {
		errs = append(errs, fmt.Errorf("jobs.distributed: needs state.driver postgres (the replicas share the state database), not %q", c.State.Driver))
	}
	if c.Jobs.Distributed.BatchSize < 0 {
		errs = append(errs, errors.New("jobs.distributed.batch_size: must not be negative"))
	}
	if (c.Server.TLSCert == "") != (c.Server.TLSKey == "") {
		errs = append(errs, errors.New("server.tls_cert and server.tls_key: set both or neither"))
	}
	if c.Auth.RateLimit < 0 || c.Auth.Burst < 0 || c.Auth.AuditRetention < 0 {
		errs = append(errs, errors.New("auth: rate_limit, burst and audit_retention must not be negative"))
	}
	if c.Server.MaxBodyBytes <= 0 {
		errs = append(errs, errors.New("server.max_body_bytes: must be positive"))
	}
	if c.Demo.Preload && (c.Demo.Hosts <= 0 || c.Demo.Days <= 0 || c.Demo.Step.D() <= 0) {
		errs = append(errs, errors.New("demo: hosts, days and step must be positive when preload is on"))
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log.level: %q is not debug, info, warn or error", c.Log.Level))
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		errs = append(errs, fmt.Errorf("log.format: %q is not text or json", c.Log.Format))
	}
	return errors.Join(errs...)
}

// applyEnv walks the struct and sets every field whose FORESIGHT_* variable
// is present.
func applyEnv(c *Config, environ []string) error {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "FORESIGHT_") {
			env[k] = v
		}
	}
	// Unknown FORESIGHT_* variables are not errors: scripts and tests use
	// their own (FORESIGHT_INFLUX_PORT, ...).
	return walk(reflect.ValueOf(c).Elem(), "FORESIGHT", func(name string, f reflect.Value) error {
		v, ok := env[name]
		if !ok {
			return nil
		}
		if err := setField(f, v); err != nil {
			return fmt.Errorf("config: environment %s=%q: %w", name, v, err)
		}
		return nil
	})
}

// EnvNames lists every FORESIGHT_* variable the config understands.
func EnvNames() []string {
	var c Config
	var names []string
	_ = walk(reflect.ValueOf(&c).Elem(), "FORESIGHT", func(name string, _ reflect.Value) error {
		names = append(names, name)
		return nil
	})
	return names
}

var (
	durationType    = reflect.TypeOf(Duration(0))
	stdDurationType = reflect.TypeOf(time.Duration(0))
)

func walk(v reflect.Value, prefix string, fn func(string, reflect.Value) error) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
		if tag == "" || tag == "-" {
			continue
		}
		name := prefix + "_" + strings.ToUpper(tag)
		f := v.Field(i)
		if f.Kind() == reflect.Struct && f.Type() != durationType {
			if err := walk(f, name, fn); err != nil {
				return err
			}
			continue
		}
		if err := fn(name, f); err != nil {
			return err
		}
	}
	return nil
}

func setField(f reflect.Value, s string) error {
	if f.Type() == durationType || f.Type() == stdDurationType {
		d, err := ParseDuration(s)
		if err != nil {
			return err
		}
		f.SetInt(int64(d))
		return nil
	}
	switch f.Kind() {
	case reflect.String:
		f.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("not a boolean (true/false)")
		}
		f.SetBool(b)
	case reflect.Int, reflect.Int64, reflect.Int32:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("not an integer")
		}
		f.SetInt(n)
	case reflect.Uint, reflect.Uint64, reflect.Uint32:
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return fmt.Errorf("not a non-negative integer")
		}
		f.SetUint(n)
	case reflect.Slice:
		return fmt.Errorf("lists are set in the YAML file, not in the environment")
	case reflect.Float64:
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("not a number")
		}
		f.SetFloat(x)
	default:
		return fmt.Errorf("unsupported kind %s", f.Kind())
	}
	return nil
}

// Duration is a time.Duration that also accepts days ("400d", "1d12h") in
// YAML and environment variables.
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MaxDuration bounds the durations ParseDuration accepts, either sign: 100
// years of 365.25 days. Nothing Foresight configures (retention, history,
// token lifetimes, steps) needs more, and a larger day count is a typo.
const MaxDuration = 36525 * 24 * time.Hour

// goDurationSyntax matches what time.ParseDuration accepts, whatever the
// magnitude.
var goDurationSyntax = regexp.MustCompile(`^[-+]?(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+$`)

// ParseDuration parses Go durations plus a leading whole-days term "Nd".
// Durations longer than MaxDuration (either sign) are refused rather than
// wrapped around.
func ParseDuration(s string) (Duration, error) {
	in := strings.TrimSpace(s)
	s = in
	tooLong := func() error {
		return fmt.Errorf("duration %q is longer than %dd (100 years), the longest accepted", in, MaxDuration/(24*time.Hour))
	}
	var days int64
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.ParseInt(s[:i], 10, 64)
		if errors.Is(err, strconv.ErrRange) {
			return 0, tooLong()
		}
		if err != nil {
			return 0, fmt.Errorf("duration %q: bad day count", in)
		}
		days, s = n, s[i+1:]
	}
	const maxDays = int64(MaxDuration / (24 * time.Hour))
	if days > maxDays || days < -maxDays {
		return 0, tooLong()
	}
	var rest time.Duration
	if s != "" {
		var err error
		if rest, err = time.ParseDuration(s); err != nil {
			if goDurationSyntax.MatchString(s) {
				return 0, tooLong() // well formed, so it overflowed
			}
			return 0, fmt.Errorf("duration %q: use e.g. 90s, 15m, 2h or 400d", in)
		}
	}
	if rest > MaxDuration || rest < -MaxDuration {
		return 0, tooLong()
	}
	// Both terms are at most 100 years: the sum cannot overflow.
	d := time.Duration(days)*24*time.Hour + rest
	if d > MaxDuration || d < -MaxDuration {
		return 0, tooLong()
	}
	return Duration(d), nil
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = v
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// validate checks the job list: unique names, known types and kinds, a
// parseable schedule is checked by the scheduler itself.
func (j JobsConfig) validate() []error {
	var errs []error
	if j.StoreRetries < 0 || j.RetryBackoff < 0 || j.StaleAfter < 0 {
		errs = append(errs, errors.New("jobs: store_retries, retry_backoff and stale_after_periods must not be negative"))
	}
	seen := map[string]bool{}
	for i, s := range j.Run {
		where := fmt.Sprintf("jobs.run[%d]", i)
		if s.Name == "" {
			errs = append(errs, fmt.Errorf("%s.name: required", where))
		} else if seen[s.Name] {
			errs = append(errs, fmt.Errorf("%s.name: %q is used twice", where, s.Name))
		}
		seen[s.Name] = true
		if s.Schedule == "" {
			errs = append(errs, fmt.Errorf("%s.schedule: required", where))
		}
		if s.Timeout < 0 {
			errs = append(errs, fmt.Errorf("%s.timeout: must not be negative", where))
		}
		switch s.Type {
		case "predict":
			if len(s.Kinds) == 0 {
				errs = append(errs, fmt.Errorf("%s.kinds: a predict job needs at least one of disk, memleak, monthend", where))
			}
			for _, k := range s.Kinds {
				if _, err := fleet.ParseKind(k); err != nil {
					errs = append(errs, fmt.Errorf("%s.kinds: %w", where, err))
				}
			}
		case "forecast":
			f := s.Forecast
			if f.Measurement == "" || f.Field == "" {
				errs = append(errs, fmt.Errorf("%s.forecast: measurement and field are required", where))
			}
			if f.Step <= 0 || f.History <= 0 || f.Horizon <= 0 {
				errs = append(errs, fmt.Errorf("%s.forecast: history, step and horizon must be positive", where))
			}
		default:
			errs = append(errs, fmt.Errorf("%s.type: %q is not predict or forecast", where, s.Type))
		}
	}
	return errs
}
