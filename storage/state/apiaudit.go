package state

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Outcomes of an audited API call.
const (
	AuditOK     = "ok"
	AuditDenied = "denied"
	AuditError  = "error"
)

// Actors that are not a token.
const (
	// ActorAnonymous is the actor of calls made while auth is off.
	ActorAnonymous = "anonymous"
	// ActorSystem is the actor of Foresight's own actions.
	ActorSystem = "system"
)

// DefaultAPIAuditRetention is how long API audit records are meant to be
// kept unless configured otherwise; the server purges older ones
// periodically with PurgeAPIAudit.
const DefaultAPIAuditRetention = 180 * 24 * time.Hour

// maxAuditDetail caps APIAuditRecord.Detail, in bytes.
const maxAuditDetail = 1024

// APIAuditRecord is an entry of the audit log of mutating API calls — who
// did what, through which route, and with what result. It is distinct from
// AuditRecord (the audit_log table), which records the changes of tickets.
type APIAuditRecord struct {
	// ID is assigned by AppendAPIAudit.
	ID int64
	// At is when the call was made (AppendAPIAudit sets now if zero).
	At time.Time
	// Actor is the token's name, ActorAnonymous when auth is off, or
	// ActorSystem. Required.
	Actor string
	// TokenID is the token used; 0 when none.
	TokenID int64
	// Role is the token's role (empty when none).
	Role string
	// Action names what was done, e.g. "ticket.transition", "job.trigger",
	// "token.create", "metrics.write". Required.
	Action string
	// Method and Route are the HTTP method and the route's pattern, e.g.
	// "POST" and "/api/v1/tickets/:id/transition".
	Method string
	Route  string
	// Target is what was acted on, e.g. "ticket 42", "job disk", "token 7".
	Target string
	// Status is the HTTP status answered.
	Status int
	// Outcome is AuditOK, AuditDenied or AuditError. Required.
	Outcome string
	// RequestID is the request's id (X-Request-Id).
	RequestID string
	// RemoteAddr is the client's address.
	RemoteAddr string
	// Detail is a short free text. It must never hold a secret; as a safety
	// net AppendAPIAudit replaces anything shaped like a token secret in
	// Target and Detail by its prefix, and cuts Detail to 1 KiB.
	Detail string
}

// secretRE matches what could be a token secret or a piece of one.
var secretRE = regexp.MustCompile(TokenSecretPrefix + `[A-Za-z0-9_-]{9,}`)

// redactSecrets replaces token secrets in s by their 12-character prefix
// and an ellipsis.
func redactSecrets(s string) string {
	if !strings.Contains(s, TokenSecretPrefix) {
		return s
	}
	return secretRE.ReplaceAllStringFunc(s, func(m string) string { return m[:TokenPrefixLen] + "…" })
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// AppendAPIAudit adds rec to the API audit log and sets rec.ID, rec.At
// (now if it was zero; then UTC at microsecond precision) and, if they
// were changed, the redacted Target and Detail, so that rec equals what
// ListAPIAudit returns. Actor, Action and Outcome are required and
// Outcome must be AuditOK, AuditDenied or AuditError (else
// ErrInvalidArgument).
func (s *Store) AppendAPIAudit(ctx context.Context, rec *APIAuditRecord) error {
	var missing []string
	if rec.Actor == "" {
		missing = append(missing, "actor")
	}
	if rec.Action == "" {
		missing = append(missing, "action")
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: API audit record without %s", ErrInvalidArgument, strings.Join(missing, " and "))
	}
	switch rec.Outcome {
	case AuditOK, AuditDenied, AuditError:
	default:
		return fmt.Errorf("%w: API audit outcome %q (want %q, %q or %q)", ErrInvalidArgument, rec.Outcome,
			AuditOK, AuditDenied, AuditError)
	}
	if rec.At.IsZero() {
		rec.At = time.Now()
	}
	rec.At = normTime(rec.At)
	rec.Target = redactSecrets(rec.Target)
	rec.Detail = truncateUTF8(redactSecrets(rec.Detail), maxAuditDetail)
	var tokenID any
	if rec.TokenID != 0 {
		tokenID = rec.TokenID
	}
	err := s.db.queryRow(ctx, `INSERT INTO api_audit (at, actor, token_id, role, action, method, route, target,
		status, outcome, request_id, remote_addr, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		s.dialect.timeArg(rec.At), rec.Actor, tokenID, rec.Role, rec.Action, rec.Method, rec.Route, rec.Target,
		rec.Status, rec.Outcome, rec.RequestID, rec.RemoteAddr, rec.Detail).Scan(&rec.ID)
	if err != nil {
		return fmt.Errorf("state: append API audit (%s by %s): %w", rec.Action, rec.Actor, err)
	}
	return nil
}

// APIAuditFilter selects API audit records. Empty fields do not filter.
type APIAuditFilter struct {
	// Since keeps records made at or after it.
	Since time.Time
	// Until keeps records made before it.
	Until time.Time
	// Actor, Action and Outcome keep records with exactly these values.
	Actor   string
	Action  string
	Outcome string
	// Limit caps the result (0: 100; at most 1000).
	Limit int
	// Offset skips that many records of the sorted result.
	Offset int
}

// ListAPIAudit returns the API audit records matching f, newest first
// (records made at the same instant: the later appended first).
func (s *Store) ListAPIAudit(ctx context.Context, f APIAuditFilter) ([]APIAuditRecord, error) {
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		return nil, fmt.Errorf("%w: API audit filter: until (%s) is not after since (%s)", ErrInvalidArgument,
			f.Until.UTC().Format(time.RFC3339Nano), f.Since.UTC().Format(time.RFC3339Nano))
	}
	var where []string
	var args []any
	if !f.Since.IsZero() {
		where = append(where, "at >= ?")
		args = append(args, s.dialect.timeArg(f.Since))
	}
	if !f.Until.IsZero() {
		where = append(where, "at < ?")
		args = append(args, s.dialect.timeArg(f.Until))
	}
	for _, c := range []struct{ col, val string }{{"actor", f.Actor}, {"action", f.Action}, {"outcome", f.Outcome}} {
		if c.val != "" {
			where = append(where, c.col+" = ?")
			args = append(args, c.val)
		}
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	q := `SELECT id, at, actor, COALESCE(token_id, 0), role, action, method, route, target, status, outcome,
		request_id, remote_addr, detail FROM api_audit`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY at DESC, id DESC LIMIT ? OFFSET ?"
	args = append(args, limit, max(f.Offset, 0))
	r, err := s.db.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("state: list API audit: %w", err)
	}
	defer r.Close()
	var out []APIAuditRecord
	for r.Next() {
		var a APIAuditRecord
		if err := r.Scan(&a.ID, timeScan{&a.At}, &a.Actor, &a.TokenID, &a.Role, &a.Action, &a.Method, &a.Route,
			&a.Target, &a.Status, &a.Outcome, &a.RequestID, &a.RemoteAddr, &a.Detail); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, r.Err()
}

// PurgeAPIAudit deletes the API audit records made before cutoff and
// returns how many (retention: see DefaultAPIAuditRetention). A zero
// cutoff is refused rather than read as "nothing" or "everything".
func (s *Store) PurgeAPIAudit(ctx context.Context, cutoff time.Time) (int64, error) {
	if cutoff.IsZero() {
		return 0, errors.New("state: purge API audit: zero cutoff")
	}
	n, err := s.db.exec(ctx, "DELETE FROM api_audit WHERE at < ?", s.dialect.timeArg(cutoff))
	if err != nil {
		return 0, fmt.Errorf("state: purge API audit: %w", err)
	}
	return n, nil
}
