package state

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// AuditRecord is an entry of the audit log: one change of one ticket.
type AuditRecord struct {
	// ID is assigned by AppendAudit; it orders entries made at the same time.
	ID int64
	// TicketID is the ticket changed.
	TicketID int64
	// Version is the ticket's version after the change.
	Version int64
	// At is when the change happened (AppendAudit sets now if zero).
	At time.Time
	// Actor is who made it: "engine", a user name, an external system.
	Actor string
	// Action is what was done: "open", "update", "escalate", "transition", …
	Action string
	// From is the state before the change (may be empty).
	From string
	// To is the state after the change (may be empty).
	To string
	// Reason says why.
	Reason string
	// DetailsJSON holds anything else as a JSON document; may be empty.
	DetailsJSON json.RawMessage
}

const auditColumns = "id, ticket_id, version, at, actor, action, from_state, to_state, reason, details_json"

func collectAudit(r rows, err error) ([]AuditRecord, error) {
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []AuditRecord
	for r.Next() {
		var a AuditRecord
		if err := r.Scan(&a.ID, &a.TicketID, &a.Version, timeScan{&a.At}, &a.Actor, &a.Action, &a.From, &a.To,
			&a.Reason, jsonScan{&a.DetailsJSON}); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, r.Err()
}

// AppendAudit adds an entry to the audit log and sets a.ID (and a.At if it
// was zero). The ticket must exist.
func (tx *Tx) AppendAudit(ctx context.Context, a *AuditRecord) error {
	if a.At.IsZero() {
		a.At = time.Now()
	}
	a.At = normTime(a.At)
	err := tx.q.queryRow(ctx, `INSERT INTO audit_log (ticket_id, version, at, actor, action, from_state, to_state,
		reason, details_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		a.TicketID, a.Version, tx.q.dialect().timeArg(a.At), a.Actor, a.Action, a.From, a.To, a.Reason,
		jsonArg(a.DetailsJSON)).Scan(&a.ID)
	if err != nil {
		return fmt.Errorf("state: append audit for ticket %d: %w", a.TicketID, err)
	}
	return nil
}

// TicketHistory returns the audit entries of one ticket, oldest first.
func (s *Store) TicketHistory(ctx context.Context, ticketID int64) ([]AuditRecord, error) {
	return collectAudit(s.db.query(ctx, "SELECT "+auditColumns+
		" FROM audit_log WHERE ticket_id = ? ORDER BY at, id", ticketID))
}

// ListAudit returns audit entries made at or after since, oldest first, at
// most limit of them (0: 100; at most 10000).
func (s *Store) ListAudit(ctx context.Context, since time.Time, limit int) ([]AuditRecord, error) {
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 10000)
	return collectAudit(s.db.query(ctx, "SELECT "+auditColumns+
		" FROM audit_log WHERE at >= ? ORDER BY at, id LIMIT ?", s.dialect.timeArg(sinceOrEpoch(since)), limit))
}

// PurgeAudit deletes audit entries made before cutoff (retention; the
// audit log is meant to be kept at least 180 days) and returns how many.
func (s *Store) PurgeAudit(ctx context.Context, cutoff time.Time) (int64, error) {
	return s.db.exec(ctx, "DELETE FROM audit_log WHERE at < ?", s.dialect.timeArg(cutoff))
}

// sinceOrEpoch turns a zero "since" into the Unix epoch so that it is not
// bound as NULL.
func sinceOrEpoch(t time.Time) time.Time {
	if t.IsZero() {
		return time.Unix(0, 0)
	}
	return t
}
