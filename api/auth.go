package api

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"
)

// Role is what a token may do. The API roles are ordered: a viewer reads,
// an operator also works tickets and triggers jobs, an admin also manages
// tokens, reads the audit log and the configuration. Ingest is apart from
// that order: a token for agents such as Telegraf that may only write
// metrics (an admin may write too).
type Role string

// The roles.
const (
	RoleNone     Role = ""
	RoleIngest   Role = "ingest"
	RoleViewer   Role = "viewer"
	RoleOperator Role = "operator"
	RoleAdmin    Role = "admin"
)

// Roles lists the valid roles.
func Roles() []Role { return []Role{RoleIngest, RoleViewer, RoleOperator, RoleAdmin} }

// ParseRole validates a role name.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles() {
		if string(r) == s {
			return r, nil
		}
	}
	return "", fmt.Errorf("role %q: use ingest, viewer, operator or admin", s)
}

func (r Role) rank() int {
	switch r {
	case RoleViewer:
		return 1
	case RoleOperator:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// Allows reports whether a principal with role r may call a route that
// requires need.
func (r Role) Allows(need Role) bool {
	switch need {
	case RoleNone:
		return true
	case RoleIngest:
		return r == RoleIngest || r == RoleAdmin
	}
	return r.rank() >= need.rank()
}

// Principal is who is calling.
type Principal struct {
	// Name is the token's name ("anonymous" when auth is off).
	Name string `json:"name"`
	// TokenID is the token's id (0 when auth is off).
	TokenID int64 `json:"token_id"`
	Role    Role  `json:"role"`
}

// ErrUnauthenticated is what an Authenticator returns for a missing,
// unknown, revoked or expired token; the reason is logged, the client gets
// one 401 for all of them.
var ErrUnauthenticated = errors.New("unauthenticated")

// Authenticator maps a token secret to its principal. A non-nil error
// wrapping ErrUnauthenticated is a 401; any other error is a 503 (the state
// store is down), never a silent pass.
type Authenticator func(ctx context.Context, secret string) (Principal, error)

// AuditEvent is one mutating call, written to the audit log after the
// handler answered.
type AuditEvent struct {
	At        time.Time
	Actor     Principal
	Action    string
	Method    string
	Route     string
	Target    string
	Status    int
	Outcome   string
	RequestID string
	Remote    string
	Detail    string
}

// AuthOptions configures access control.
type AuthOptions struct {
	// Enabled requires a token on every route that names a role.
	Enabled bool
	// Authenticate checks tokens; required when Enabled.
	Authenticate Authenticator
	// RateLimit is requests per second per token (per client address
	// when auth is off); 0 is unlimited. Burst defaults to 2×RateLimit.
	RateLimit float64
	Burst     int
	// Audit records mutating calls; nil records nothing.
	Audit func(ctx context.Context, ev AuditEvent) error
}

const principalKey = "principal"
const auditTargetKey = "audit_target"
const auditDetailKey = "audit_detail"

// principal returns the caller set by the auth middleware.
func principal(c *gin.Context) Principal {
	if p, ok := c.Get(principalKey); ok {
		return p.(Principal)
	}
	return Principal{Name: "anonymous"}
}

// setAuditTarget names what a mutating call acted on ("ticket 42"); the
// audit middleware records it.
func setAuditTarget(c *gin.Context, target string) { c.Set(auditTargetKey, target) }

// setAuditDetail adds a short note (never a secret) to the audit record.
func setAuditDetail(c *gin.Context, detail string) { c.Set(auditDetailKey, detail) }

// tokenFrom reads a token the ways clients send one: "Authorization:
// Bearer T" (this API), "Authorization: Token T" (InfluxDB 2 clients,
// Telegraf's influxdb_v2 output), HTTP basic auth with the token as the
// password, or the p= query parameter (InfluxDB 1 clients).
func tokenFrom(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if scheme, rest, ok := strings.Cut(h, " "); ok {
		switch strings.ToLower(scheme) {
		case "bearer", "token":
			return strings.TrimSpace(rest)
		case "basic":
			if b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest)); err == nil {
				if _, pw, ok := strings.Cut(string(b), ":"); ok {
					return pw
				}
			}
		}
	}
	if r.URL.Path == "/write" || r.URL.Path == "/query" {
		return r.URL.Query().Get("p")
	}
	return ""
}

// authorize authenticates the caller and checks the route's role. With
// auth off every caller is an anonymous admin, so a local demo needs no
// token; rate limiting and auditing still apply.
func (s *Server) authorize(need Role) gin.HandlerFunc {
	return func(c *gin.Context) {
		a := s.opts.Auth
		var p Principal
		switch {
		case !a.Enabled:
			p = Principal{Name: "anonymous", Role: RoleAdmin}
		case need == RoleNone:
			p = Principal{Name: "unauthenticated"}
		default:
			secret := tokenFrom(c.Request)
			if secret == "" {
				c.Header("WWW-Authenticate", `Bearer realm="foresight"`)
				s.deny(c, http.StatusUnauthorized, "a token is required: send Authorization: Bearer <token>")
				return
			}
			var err error
			p, err = a.Authenticate(c.Request.Context(), secret)
			if errors.Is(err, ErrUnauthenticated) {
				s.log.Info("token refused", "reason", err.Error(), "route", c.FullPath(), "request_id", c.GetString(requestIDKey))
				c.Header("WWW-Authenticate", `Bearer realm="foresight", error="invalid_token"`)
				s.deny(c, http.StatusUnauthorized, "the token is unknown, revoked or expired")
				return
			}
			if err != nil {
				s.log.Error("token check failed", "err", err, "request_id", c.GetString(requestIDKey))
				c.Header("Retry-After", "5")
				abortProblem(c, http.StatusServiceUnavailable, "cannot check the token: the state store is unavailable", nil)
				return
			}
		}
		c.Set(principalKey, p)
		// Probes, scrapes and the signed hook are never rate limited.
		if need != RoleNone && !s.limiter.allow(limiterKey(c, p), s.opts.Now()) {
			c.Header("Retry-After", "1")
			s.deny(c, http.StatusTooManyRequests, fmt.Sprintf("rate limit of %g requests/s per token exceeded", a.RateLimit))
			return
		}
		if !p.Role.Allows(need) {
			s.deny(c, http.StatusForbidden, fmt.Sprintf("role %s may not %s %s (needs %s)", p.Role, c.Request.Method, c.FullPath(), need))
			return
		}
		c.Next()
	}
}

// deny answers a refused call; the audit middleware, which runs around
// authorize, records it when the call was mutating.
func (s *Server) deny(c *gin.Context, status int, detail string) {
	abortProblem(c, status, detail, nil)
}

func limiterKey(c *gin.Context, p Principal) string {
	if p.TokenID != 0 {
		return "t" + strconv.FormatInt(p.TokenID, 10)
	}
	return "a" + c.ClientIP()
}

// audit records a mutating call once the handler (or a refusal) answered.
// action names it ("ticket.transition"); reads are never audited.
func (s *Server) audit(action string) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Next()
		if s.opts.Auth.Audit == nil {
			return
		}
		status := c.Writer.Status()
		outcome := "ok"
		switch {
		case status == http.StatusUnauthorized || status == http.StatusForbidden || status == http.StatusTooManyRequests:
			outcome = "denied"
		case status >= 400:
			outcome = "error"
		}
		p := principal(c)
		if _, ok := c.Get(principalKey); !ok {
			p = Principal{Name: "unknown"}
		}
		target := c.GetString(auditTargetKey)
		if target == "" {
			target = routeTarget(c)
		}
		ev := AuditEvent{
			At: s.opts.Now().UTC(), Actor: p, Action: action, Method: c.Request.Method, Route: c.FullPath(),
			Target: target, Status: status, Outcome: outcome,
			RequestID: c.GetString(requestIDKey), Remote: c.ClientIP(), Detail: c.GetString(auditDetailKey),
		}
		if ev.Detail == "" && status >= 400 {
			ev.Detail = c.GetString(problemDetailKey)
		}
		if err := s.opts.Auth.Audit(context.WithoutCancel(c.Request.Context()), ev); err != nil {
			// The call already happened; losing its audit record is an
			// operational error worth an alert, not a reason to lie to the
			// client about the outcome.
			s.log.Error("writing the audit record failed", "err", err, "action", action, "request_id", ev.RequestID)
			s.metrics.auditFailures.Inc()
		}
	}
}

// rateLimiter keeps one token bucket per caller.
type rateLimiter struct {
	mu    sync.Mutex
	limit rate.Limit
	burst int
	m     map[string]*limiterEntry
	last  time.Time
}

type limiterEntry struct {
	l    *rate.Limiter
	seen time.Time
}

func newRateLimiter(perSecond float64, burst int) *rateLimiter {
	if perSecond <= 0 {
		return nil
	}
	if burst <= 0 {
		burst = max(1, int(2*perSecond))
	}
	return &rateLimiter{limit: rate.Limit(perSecond), burst: burst, m: map[string]*limiterEntry{}}
}

// allow takes one token from key's bucket. Buckets idle for ten minutes
// are dropped so that many one-off clients cannot grow the map unbounded.
func (r *rateLimiter) allow(key string, now time.Time) bool {
	if r == nil {
		return true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if now.Sub(r.last) > time.Minute {
		for k, e := range r.m {
			if now.Sub(e.seen) > 10*time.Minute {
				delete(r.m, k)
			}
		}
		r.last = now
	}
	e := r.m[key]
	if e == nil {
		e = &limiterEntry{l: rate.NewLimiter(r.limit, r.burst)}
		r.m[key] = e
	}
	e.seen = now
	return e.l.AllowN(now, 1)
}

// routeTarget names what a call refused before its handler ran was aimed
// at, from the route and its parameters: "job disk", "ticket 42".
func routeTarget(c *gin.Context) string {
	if len(c.Params) == 0 {
		return ""
	}
	parts := strings.Split(strings.TrimPrefix(c.FullPath(), "/api/v1/"), "/")
	res := parts[0]
	switch {
	case strings.HasSuffix(res, "ies"):
		res = strings.TrimSuffix(res, "ies") + "y"
	case strings.HasSuffix(res, "s"):
		res = strings.TrimSuffix(res, "s")
	}
	return res + " " + c.Params[0].Value
}
