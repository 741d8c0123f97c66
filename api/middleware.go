package api

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
)

const requestIDKey = "request_id"

// RequestIDHeader carries the request ID in and out.
const RequestIDHeader = "X-Request-Id"

// requestID takes a sane incoming X-Request-Id or makes one, and echoes it.
func requestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader(RequestIDHeader)
		if !validRequestID(id) {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		c.Set(requestIDKey, id)
		c.Header(RequestIDHeader, id)
		c.Next()
	}
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// recovery turns a panic into a 500 problem and logs it with the request ID.
func recovery(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				log.Error("panic in handler", "panic", fmt.Sprint(r), "path", c.Request.URL.Path, "request_id", c.GetString(requestIDKey))
				abortProblem(c, http.StatusInternalServerError, "internal error; see the server log for this request id", nil)
			}
		}()
		c.Next()
	}
}

// httpMetrics holds the server's own Prometheus metrics.
type httpMetrics struct {
	requests      *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	auditFailures prometheus.Counter
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "foresight_http_requests_total",
			Help: "HTTP requests by route, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "foresight_http_request_duration_seconds",
			Help:    "HTTP request latency by route and method.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 12),
		}, []string{"route", "method"}),
	}
	m.auditFailures = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "foresight_audit_write_failures_total",
		Help: "Mutating API calls whose audit record could not be written.",
	})
	reg.MustRegister(m.requests, m.duration, m.auditFailures)
	return m
}

// observe logs each request and records its metrics, labelled by route
// template (never the raw path, which would explode label cardinality).
func observe(log *slog.Logger, m *httpMetrics) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		d := time.Since(start)
		code := c.Writer.Status()
		m.requests.WithLabelValues(route, c.Request.Method, strconv.Itoa(code)).Inc()
		m.duration.WithLabelValues(route, c.Request.Method).Observe(d.Seconds())
		level := slog.LevelDebug
		if code == http.StatusInternalServerError {
			level = slog.LevelError
		} else if code >= 500 {
			level = slog.LevelWarn
		} else if code >= 400 {
			level = slog.LevelInfo
		}
		if route == "/readyz" || route == "/healthz" {
			// Probes poll every few seconds; /readyz says why it is not
			// ready in its answer, and the cause is logged where it happens.
			level = slog.LevelDebug
		}
		log.Log(c.Request.Context(), level, "http request",
			"method", c.Request.Method, "route", route, "status", code,
			"duration_ms", float64(d.Microseconds())/1000, "bytes", c.Writer.Size(),
			"request_id", c.GetString(requestIDKey))
	}
}
