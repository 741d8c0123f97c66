// Package api is Foresight's HTTP surface: the REST API under /api/v1, the
// InfluxDB-compatible write endpoint, health checks and /metrics. Handlers
// stay thin: decode, call the engine, encode.
package api

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-contrib/gzip"
	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/seed-f1b503aa/foresight/calendar"
	"github.com/seed-f1b503aa/foresight/engine"
	"github.com/seed-f1b503aa/foresight/engine/fleet"
	"github.com/seed-f1b503aa/foresight/incident"
	"github.com/seed-f1b503aa/foresight/storage/state"
)

// Options configures a Server.
type Options struct {
	// Store is the metric store every handler reads and writes.
	Store engine.MetricStore
	// Logger receives structured logs; nil discards them.
	Logger *slog.Logger
	// Registry receives the server's metrics; nil makes a fresh one with
	// the Go and process collectors.
	Registry *prometheus.Registry
	// MaxBodyBytes caps request bodies (after gzip decoding); default 32 MiB.
	MaxBodyBytes int64
	// RequestTimeout bounds store calls of one request; default 30 s.
	RequestTimeout time.Duration
	// Ready, when set, is consulted by /readyz besides the store's Ping;
	// a non-nil error makes the server report not ready with that reason
	// (e.g. the demo preload still running).
	Ready func() error
	// Predictions returns the latest fleet prediction run (fleet.ErrNoSnapshot
	// before the first); nil disables GET /api/v1/predictions.
	Predictions func() (fleet.Snapshot, error)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// State and Incidents serve tickets and dead letters; nil disables
	// those routes (503).
	State     *state.Store
	Incidents *incident.Service
	// InboundSecret signs the inbound ticket hook (empty: hook off).
	InboundSecret string
	// Auth is access control: tokens, roles, rate limits and the audit
	// log of mutating calls.
	Auth AuthOptions
	// Jobs serves the scheduled jobs and the predictions they computed;
	// nil falls back to Predictions and disables the job routes.
	Jobs Jobs
	// Config, when set, is served (secrets redacted) to admins.
	Config func() any
	// Calendar is the business calendar the regression model uses for
	// calendar regressors; nil means the built-in default.
	Calendar *calendar.Calendar
}

// Server holds the router and what the handlers share.
type Server struct {
	opts    Options
	log     *slog.Logger
	router  *gin.Engine
	reg     *prometheus.Registry
	ingest  *ingestMetrics
	metrics *httpMetrics
	limiter *rateLimiter
	cache   *responseCache
}

// New builds a Server. It does not listen; use Handler with an http.Server.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 32 << 20
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = 30 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Calendar == nil {
		opts.Calendar = calendar.DefaultCalendar()
	}
	reg := opts.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	gin.SetMode(gin.ReleaseMode)
	if opts.Auth.Enabled && opts.Auth.Authenticate == nil {
		panic("api: Auth.Enabled needs Auth.Authenticate")
	}
	s := &Server{opts: opts, log: opts.Logger, reg: reg}
	s.limiter = newRateLimiter(opts.Auth.RateLimit, opts.Auth.Burst)
	s.cache = newResponseCache(512, opts.Now)
	s.metrics = newHTTPMetrics(reg)
	s.ingest = newIngestMetrics(reg)
	r := gin.New()
	// Series IDs contain '/', ',' and '#': match on the escaped path and
	// unescape parameters, so /api/v1/series/disk%2Cpath%3D%2Fdata%23used/data works.
	r.UseRawPath = true
	r.UnescapePathValues = true
	r.RemoveExtraSlash = false
	r.HandleMethodNotAllowed = true
	r.Use(requestID(), recovery(s.log), observe(s.log, s.metrics),
		// Answers are compressed (fastest level: JSON compresses 6-7x even so)
		// for clients that ask; ingest bodies are
		// decoded by the write handler itself, /metrics by promhttp.
		gzip.Gzip(gzip.BestSpeed, gzip.WithExcludedPaths([]string{"/api/v2/write", "/write", "/metrics", "/ping"})))
	r.NoRoute(func(c *gin.Context) { abortProblem(c, http.StatusNotFound, "no such route: "+c.Request.URL.Path, nil) })
	r.NoMethod(func(c *gin.Context) {
		abortProblem(c, http.StatusMethodNotAllowed, c.Request.Method+" is not allowed on "+c.Request.URL.Path, nil)
	})

	for _, rt := range s.routes() {
		chain := []gin.HandlerFunc{}
		if rt.action != "" {
			chain = append(chain, s.audit(rt.action))
		}
		chain = append(chain, s.authorize(rt.role), rt.handler)
		r.Handle(rt.method, rt.path, chain...)
	}
	s.router = r
	return s
}

// Handler returns the HTTP handler.
func (s *Server) Handler() http.Handler { return s.router }

// Registry returns the Prometheus registry the server reports to.
func (s *Server) Registry() *prometheus.Registry { return s.reg }
