package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/seed-f1b503aa/foresight/config"
	"github.com/seed-f1b503aa/foresight/storage/state"
)

// whoami answers GET /api/v1/whoami: the caller's token name and role (the
// web console uses it to check a token at login).
func (s *Server) whoami(c *gin.Context) {
	p := principal(c)
	c.JSON(http.StatusOK, gin.H{"name": p.Name, "token_id": p.TokenID, "role": p.Role, "auth_enabled": s.opts.Auth.Enabled})
}

func (s *Server) stateEnabled(c *gin.Context) bool {
	if s.opts.State == nil {
		abortProblem(c, http.StatusServiceUnavailable, "the state database is not configured", nil)
		return false
	}
	return true
}

// tokenView is a token as the API shows it: never the secret or its hash.
type tokenView struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Role       string     `json:"role"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"created_at"`
	CreatedBy  string     `json:"created_by"`
	ExpiresAt  *time.Time `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

func viewToken(t state.TokenRecord) tokenView {
	return tokenView{t.ID, t.Name, t.Role, t.Prefix, t.CreatedAt, t.CreatedBy, t.ExpiresAt, t.LastUsedAt, t.RevokedAt}
}

// listTokens answers GET /api/v1/tokens?all=true.
func (s *Server) listTokens(c *gin.Context) {
	if !s.stateEnabled(c) {
		return
	}
	recs, err := s.opts.State.ListTokens(c.Request.Context(), c.Query("all") == "true")
	if err != nil {
		s.stateError(c, err)
		return
	}
	out := make([]tokenView, len(recs))
	for i, r := range recs {
		out[i] = viewToken(r)
	}
	c.JSON(http.StatusOK, gin.H{"tokens": out})
}

// createToken answers POST /api/v1/tokens with {"name", "role",
// "expires_in": "90d"}: the secret is in this answer and nowhere else.
func (s *Server) createToken(c *gin.Context) {
	if !s.stateEnabled(c) {
		return
	}
	var req struct {
		Name      string `json:"name"`
		Role      string `json:"role"`
		ExpiresIn string `json:"expires_in"`
	}
	if !decodeBody(c, &req, 16<<10) {
		return
	}
	setAuditTarget(c, "token "+req.Name)
	if _, err := ParseRole(req.Role); err != nil {
		abortProblem(c, http.StatusBadRequest, "role: "+err.Error(), nil)
		return
	}
	var expires *time.Time
	if req.ExpiresIn != "" {
		cd, err := config.ParseDuration(req.ExpiresIn)
		d := cd.D()
		if err != nil || d <= 0 {
			abortProblem(c, http.StatusBadRequest, fmt.Sprintf("expires_in %q: use a positive duration such as 90d or 12h", req.ExpiresIn), nil)
			return
		}
		t := s.opts.Now().UTC().Add(d)
		expires = &t
	}
	secret, rec, err := s.opts.State.CreateToken(c.Request.Context(), req.Name, req.Role, principal(c).Name, expires)
	if err != nil {
		switch {
		case errors.Is(err, state.ErrInvalidArgument):
			abortProblem(c, http.StatusBadRequest, err.Error(), nil)
			return
		case errors.Is(err, state.ErrTokenNameTaken):
			abortProblem(c, http.StatusConflict, err.Error(), nil)
			return
		}
		s.stateError(c, err)
		return
	}
	setAuditTarget(c, fmt.Sprintf("token %d (%s, %s)", rec.ID, rec.Name, rec.Role))
	c.JSON(http.StatusCreated, gin.H{"token": viewToken(rec), "secret": secret,
		"note": "the secret is shown once; store it now"})
}

// revokeToken answers DELETE /api/v1/tokens/{id}.
func (s *Server) revokeToken(c *gin.Context) {
	if !s.stateEnabled(c) {
		return
	}
	id, ok := idParam(c, "token id")
	if !ok {
		return
	}
	setAuditTarget(c, "token "+strconv.FormatInt(id, 10))
	if p := principal(c); p.TokenID == id {
		abortProblem(c, http.StatusConflict, "a token cannot revoke itself; use another admin token", nil)
		return
	}
	rec, err := s.opts.State.RevokeToken(c.Request.Context(), id, principal(c).Name, s.opts.Now().UTC())
	if err != nil {
		if errors.Is(err, state.ErrTokenAlreadyRevoked) {
			abortProblem(c, http.StatusConflict, err.Error(), nil)
			return
		}
		s.stateError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"token": viewToken(rec)})
}

// listAudit answers GET /api/v1/audit?since=&until=&actor=&action=&outcome=&limit=&offset=:
// the audit log of mutating calls, newest first.
func (s *Server) listAudit(c *gin.Context) {
	if !s.stateEnabled(c) {
		return
	}
	f := state.APIAuditFilter{Actor: c.Query("actor"), Action: c.Query("action"), Outcome: c.Query("outcome")}
	var err error
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if v := c.Query(p.name); v != "" {
			if *p.dst, err = time.Parse(time.RFC3339, v); err != nil {
				abortProblem(c, http.StatusBadRequest, fmt.Sprintf("%s=%q: use RFC 3339, e.g. 2026-11-01T00:00:00Z", p.name, v), nil)
				return
			}
		}
	}
	var ok bool
	if f.Limit, f.Offset, ok = pageParams(c, 100, 1000); !ok {
		return
	}
	recs, err := s.opts.State.ListAPIAudit(c.Request.Context(), f)
	if err != nil {
		s.stateError(c, err)
		return
	}
	type entry struct {
		ID        int64     `json:"id"`
		At        time.Time `json:"at"`
		Actor     string    `json:"actor"`
		TokenID   int64     `json:"token_id,omitempty"`
		Role      string    `json:"role,omitempty"`
		Action    string    `json:"action"`
		Method    string    `json:"method"`
		Route     string    `json:"route"`
		Target    string    `json:"target,omitempty"`
		Status    int       `json:"status"`
		Outcome   string    `json:"outcome"`
		RequestID string    `json:"request_id,omitempty"`
		Remote    string    `json:"remote_addr,omitempty"`
		Detail    string    `json:"detail,omitempty"`
	}
	out := make([]entry, len(recs))
	for i, r := range recs {
		out[i] = entry{r.ID, r.At, r.Actor, r.TokenID, r.Role, r.Action, r.Method, r.Route, r.Target, r.Status, r.Outcome, r.RequestID, r.RemoteAddr, r.Detail}
	}
	setPage(c, f.Offset, f.Limit, len(out))
	c.JSON(http.StatusOK, gin.H{"audit": out, "offset": f.Offset, "limit": f.Limit})
}

// getConfig answers GET /api/v1/config: the running configuration with
// secrets redacted.
func (s *Server) getConfig(c *gin.Context) {
	if s.opts.Config == nil {
		abortProblem(c, http.StatusNotFound, "the configuration is not exposed by this server", nil)
		return
	}
	c.JSON(http.StatusOK, s.opts.Config())
}

// AuditToState adapts the state store's audit log to AuthOptions.Audit.
func AuditToState(st *state.Store) func(ctx context.Context, ev AuditEvent) error {
	return func(ctx context.Context, ev AuditEvent) error {
		return st.AppendAPIAudit(ctx, &state.APIAuditRecord{
			At: ev.At, Actor: ev.Actor.Name, TokenID: ev.Actor.TokenID, Role: string(ev.Actor.Role), Action: ev.Action,
			Method: ev.Method, Route: ev.Route, Target: ev.Target, Status: ev.Status, Outcome: ev.Outcome,
			RequestID: ev.RequestID, RemoteAddr: ev.Remote, Detail: ev.Detail,
		})
	}
}

// TokensFromState adapts the state store's tokens to AuthOptions.Authenticate.
func TokensFromState(st *state.Store, now func() time.Time) Authenticator {
	return func(ctx context.Context, secret string) (Principal, error) {
		rec, err := st.LookupToken(ctx, secret, now())
		switch {
		case errors.Is(err, state.ErrTokenInvalid), errors.Is(err, state.ErrTokenRevoked), errors.Is(err, state.ErrTokenExpired):
			return Principal{}, fmt.Errorf("%w: %v", ErrUnauthenticated, err)
		case err != nil:
			return Principal{}, err
		}
		return Principal{Name: rec.Name, TokenID: rec.ID, Role: Role(rec.Role)}, nil
	}
}
