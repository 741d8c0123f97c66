package state

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// TicketRecord is a row of the tickets table. It is storage-shaped: the
// meaning of State, Severity and Kind belongs to the ticket engine; the store
// knows only that State "closed" is terminal (StateClosed). Zero times are
// stored as NULL; times come back in UTC at microsecond precision.
type TicketRecord struct {
	// ID is assigned by InsertTicket.
	ID int64
	// Fingerprint identifies the risk on its entity, e.g. "disk_full|host=db-01,path=/data".
	Fingerprint string
	// Kind is the risk kind.
	Kind string
	// EntityJSON is the entity's tags as a JSON object ({"host":"db-01"});
	// ListTickets filters on its keys. Empty is stored as {}.
	EntityJSON json.RawMessage
	// State is the lifecycle state.
	State string
	// Severity is the current severity.
	Severity string
	// Version counts the ticket's changes, starting at 1; UpdateTicket
	// increments it.
	Version int64
	// Title is the one-line title.
	Title string
	// Summary is a short text for people.
	Summary string
	// BodyJSON is the rest of the ticket's content (evidence, links,
	// suggested action) as a JSON document; may be empty.
	BodyJSON json.RawMessage
	// BreachAt is the predicted breach time (zero if none).
	BreachAt time.Time
	// OpenedAt is when the ticket was opened (InsertTicket sets now if zero).
	OpenedAt time.Time
	// UpdatedAt is the last change (Insert/UpdateTicket set now if zero).
	UpdatedAt time.Time
	// ResolvedAt is when it was (auto-)resolved, zero if not.
	ResolvedAt time.Time
	// ClosedAt is when it was closed, zero if not.
	ClosedAt time.Time
	// ClearStreak counts consecutive runs in which the risk was clear.
	ClearStreak int
	// Reopens counts how often the ticket was reopened.
	Reopens int
	// ResolveReason says why it was resolved.
	ResolveReason string
	// AssignmentGroup is the team the ticket is assigned to.
	AssignmentGroup string
	// RespondBy is the SLA deadline for a first response (zero if none).
	RespondBy time.Time
	// ResolveBy is the SLA deadline for resolution (zero if none).
	ResolveBy time.Time
}

// StateClosed is the one terminal state the store knows: the unique index
// on fingerprints covers every ticket whose state is not "closed", so a
// resolved ticket still holds its fingerprint (and can be reopened) until
// the ticket engine closes it.
const StateClosed = "closed"

const ticketColumns = `id, fingerprint, kind, entity_json, state, severity, version, title, summary, body_json,
	breach_at, opened_at, updated_at, resolved_at, closed_at, clear_streak, reopens, resolve_reason,
	assignment_group, respond_by, resolve_by`

func scanTicket(r row) (TicketRecord, error) {
	var t TicketRecord
	err := r.Scan(&t.ID, &t.Fingerprint, &t.Kind, jsonScan{&t.EntityJSON}, &t.State, &t.Severity, &t.Version,
		&t.Title, &t.Summary, jsonScan{&t.BodyJSON}, timeScan{&t.BreachAt}, timeScan{&t.OpenedAt},
		timeScan{&t.UpdatedAt}, timeScan{&t.ResolvedAt}, timeScan{&t.ClosedAt}, &t.ClearStreak, &t.Reopens,
		&t.ResolveReason, &t.AssignmentGroup, timeScan{&t.RespondBy}, timeScan{&t.ResolveBy})
	return t, err
}

func collectTickets(r rows, err error) ([]TicketRecord, error) {
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []TicketRecord
	for r.Next() {
		t, err := scanTicket(r)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, r.Err()
}

// normalizeTicket brings a record into the form the store keeps, so that
// after InsertTicket/UpdateTicket the caller's record equals what a read
// returns.
func normalizeTicket(t *TicketRecord, now time.Time) {
	if len(t.EntityJSON) == 0 {
		t.EntityJSON = json.RawMessage("{}")
	}
	if t.UpdatedAt.IsZero() {
		t.UpdatedAt = now
	}
	for _, p := range []*time.Time{&t.BreachAt, &t.OpenedAt, &t.UpdatedAt, &t.ResolvedAt, &t.ClosedAt, &t.RespondBy, &t.ResolveBy} {
		*p = normTime(*p)
	}
}

// Tx is a database transaction handed to the callback of InTx. Its methods
// read and write tickets and audit entries and enqueue jobs, all committed
// together or not at all. A Tx must not be used after the callback returns.
type Tx struct {
	s     *Store
	q     querier
	sqlTx *sql.Tx // DriverSQLite
	pgxTx pgx.Tx  // DriverPostgres
}

// InTx runs fn in a transaction: committed if fn returns nil, rolled back if
// it returns an error or panics. On SQLite the transaction holds the only
// connection, so fn must use tx, never the Store.
func (s *Store) InTx(ctx context.Context, fn func(tx *Tx) error) (err error) {
	tx := &Tx{s: s}
	var commit, rollback func() error
	if s.pool != nil {
		ptx, err := s.pool.Begin(ctx)
		if err != nil {
			return fmt.Errorf("state: begin: %w", err)
		}
		tx.pgxTx, tx.q = ptx, pgxQuerier{q: ptx}
		commit = func() error { return ptx.Commit(ctx) }
		// Rollback must run even when ctx is done.
		rollback = func() error { return ptx.Rollback(context.WithoutCancel(ctx)) }
	} else {
		stx, err := s.sqlDB.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("state: begin: %w", err)
		}
		tx.sqlTx, tx.q = stx, sqlQuerier{q: stx, d: dialectSQLite}
		commit = stx.Commit
		rollback = stx.Rollback
	}
	done := false
	defer func() {
		if !done {
			_ = rollback()
		}
	}()
	if err := fn(tx); err != nil {
		done = true
		if rerr := rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) && !errors.Is(rerr, pgx.ErrTxClosed) {
			return errors.Join(err, fmt.Errorf("state: rollback: %w", rerr))
		}
		return err
	}
	done = true
	if err := commit(); err != nil {
		return fmt.Errorf("state: commit: %w", mapErr(err))
	}
	return nil
}

// GetTicket reads a ticket inside the transaction; ErrNotFound if absent.
func (tx *Tx) GetTicket(ctx context.Context, id int64) (TicketRecord, error) {
	return getTicket(ctx, tx.q, id)
}

// GetOpenByFingerprint returns the ticket holding fp — the one whose state
// is not closed — or ErrNotFound. On PostgreSQL the row is locked (FOR
// UPDATE) until the transaction ends, so two replicas handling the same
// fingerprint take turns instead of failing with ErrConflict.
func (tx *Tx) GetOpenByFingerprint(ctx context.Context, fp string) (TicketRecord, error) {
	q := "SELECT " + ticketColumns + " FROM tickets WHERE fingerprint = ? AND state NOT IN ('closed')"
	if tx.q.dialect() == dialectPostgres {
		q += " FOR UPDATE"
	}
	return scanTicket(tx.q.queryRow(ctx, q, fp))
}

// ListRecentByFingerprint returns the tickets with fingerprint fp, in any
// state, changed at or after since (the start of the reopen window), newest
// change first.
func (tx *Tx) ListRecentByFingerprint(ctx context.Context, fp string, since time.Time) ([]TicketRecord, error) {
	return collectTickets(tx.q.query(ctx, "SELECT "+ticketColumns+
		" FROM tickets WHERE fingerprint = ? AND updated_at >= ? ORDER BY updated_at DESC, id DESC",
		fp, tx.q.dialect().timeArg(sinceOrEpoch(since))))
}

// InsertTicket inserts t and sets t.ID. Version 0 becomes 1; zero OpenedAt
// and UpdatedAt become now. If another ticket that is not closed holds the
// fingerprint, it returns ErrDuplicateOpen (and on PostgreSQL the
// transaction can no longer be used: roll it back by returning the error).
func (tx *Tx) InsertTicket(ctx context.Context, t *TicketRecord) error {
	now := time.Now()
	if t.Version == 0 {
		t.Version = 1
	}
	if t.OpenedAt.IsZero() {
		t.OpenedAt = now
	}
	normalizeTicket(t, now)
	d := tx.q.dialect()
	err := tx.q.queryRow(ctx, `INSERT INTO tickets (fingerprint, kind, entity_json, state, severity, version, title,
		summary, body_json, breach_at, opened_at, updated_at, resolved_at, closed_at, clear_streak, reopens,
		resolve_reason, assignment_group, respond_by, resolve_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		t.Fingerprint, t.Kind, jsonArg(t.EntityJSON), t.State, t.Severity, t.Version, t.Title, t.Summary,
		jsonArg(t.BodyJSON), d.timeArg(t.BreachAt), d.timeArg(t.OpenedAt), d.timeArg(t.UpdatedAt),
		d.timeArg(t.ResolvedAt), d.timeArg(t.ClosedAt), t.ClearStreak, t.Reopens, t.ResolveReason,
		t.AssignmentGroup, d.timeArg(t.RespondBy), d.timeArg(t.ResolveBy)).Scan(&t.ID)
	if err != nil {
		return fmt.Errorf("state: insert ticket %s: %w", t.Fingerprint, err)
	}
	return nil
}

// UpdateTicket writes every field of t (by t.ID) if the stored version is
// still expectVersion, and sets the version to expectVersion+1 (also in
// t.Version). A zero UpdatedAt becomes now. It returns ErrConflict if the
// version changed meanwhile, ErrNotFound if there is no such ticket, and
// ErrDuplicateOpen if the update would give the fingerprint a second ticket
// that is not closed (a reopen while a newer ticket is open).
func (tx *Tx) UpdateTicket(ctx context.Context, t *TicketRecord, expectVersion int64) error {
	u := *t
	u.Version = expectVersion + 1
	normalizeTicket(&u, time.Now())
	d := tx.q.dialect()
	n, err := tx.q.exec(ctx, `UPDATE tickets SET fingerprint = ?, kind = ?, entity_json = ?, state = ?,
		severity = ?, version = ?, title = ?, summary = ?, body_json = ?, breach_at = ?, opened_at = ?,
		updated_at = ?, resolved_at = ?, closed_at = ?, clear_streak = ?, reopens = ?, resolve_reason = ?,
		assignment_group = ?, respond_by = ?, resolve_by = ?
		WHERE id = ? AND version = ?`,
		u.Fingerprint, u.Kind, jsonArg(u.EntityJSON), u.State, u.Severity, u.Version, u.Title, u.Summary,
		jsonArg(u.BodyJSON), d.timeArg(u.BreachAt), d.timeArg(u.OpenedAt), d.timeArg(u.UpdatedAt),
		d.timeArg(u.ResolvedAt), d.timeArg(u.ClosedAt), u.ClearStreak, u.Reopens, u.ResolveReason,
		u.AssignmentGroup, d.timeArg(u.RespondBy), d.timeArg(u.ResolveBy), u.ID, expectVersion)
	if err != nil {
		return fmt.Errorf("state: update ticket %d: %w", t.ID, err)
	}
	if n == 0 {
		var one int
		if err := tx.q.queryRow(ctx, "SELECT 1 FROM tickets WHERE id = ?", t.ID).Scan(&one); err != nil {
			return fmt.Errorf("state: update ticket %d: %w", t.ID, err)
		}
		return fmt.Errorf("state: update ticket %d at version %d: %w", t.ID, expectVersion, ErrConflict)
	}
	*t = u
	return nil
}

// GetTicket reads one ticket; ErrNotFound if absent.
func (s *Store) GetTicket(ctx context.Context, id int64) (TicketRecord, error) {
	return getTicket(ctx, s.db, id)
}

func getTicket(ctx context.Context, q querier, id int64) (TicketRecord, error) {
	t, err := scanTicket(q.queryRow(ctx, "SELECT "+ticketColumns+" FROM tickets WHERE id = ?", id))
	if err != nil {
		return TicketRecord{}, fmt.Errorf("state: ticket %d: %w", id, err)
	}
	return t, nil
}

// TicketFilter selects tickets for ListTickets. Empty fields do not filter.
type TicketFilter struct {
	// States keeps tickets in any of these states.
	States []string
	// Kinds keeps tickets of any of these kinds.
	Kinds []string
	// Severities keeps tickets with any of these severities.
	Severities []string
	// Fingerprint keeps the tickets of one fingerprint.
	Fingerprint string
	// EntityTags keeps tickets whose EntityJSON has every key with the
	// given string value.
	EntityTags map[string]string
	// Limit caps the result (0: 100; at most 1000).
	Limit int
	// Offset skips that many tickets of the sorted result.
	Offset int
	// Sort is a column — "id", "opened_at", "updated_at" (default),
	// "breach_at", "severity", "state" — optionally prefixed with "-" for
	// descending. Default "-updated_at". Empty values sort last either way;
	// ties are broken by id.
	Sort string
}

var sortColumns = map[string]bool{
	"id": true, "opened_at": true, "updated_at": true, "breach_at": true, "severity": true, "state": true,
	"closed_at": true, "resolved_at": true,
}

// ListTickets returns the tickets matching f.
func (s *Store) ListTickets(ctx context.Context, f TicketFilter) ([]TicketRecord, error) {
	var where []string
	var args []any
	in := func(col string, vals []string) {
		if len(vals) == 0 {
			return
		}
		where = append(where, col+" IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(vals)), ", ")+")")
		for _, v := range vals {
			args = append(args, v)
		}
	}
	in("state", f.States)
	in("kind", f.Kinds)
	in("severity", f.Severities)
	if f.Fingerprint != "" {
		where = append(where, "fingerprint = ?")
		args = append(args, f.Fingerprint)
	}
	for k, v := range f.EntityTags {
		if s.dialect == dialectPostgres {
			where = append(where, "entity_json ->> CAST(? AS text) = CAST(? AS text)")
		} else {
			where = append(where, "EXISTS (SELECT 1 FROM json_each(tickets.entity_json) AS e WHERE e.key = ? AND e.value = ?)")
		}
		args = append(args, k, v)
	}
	sortKey, dir := f.Sort, "ASC"
	if sortKey == "" {
		sortKey = "-updated_at"
	}
	if strings.HasPrefix(sortKey, "-") {
		sortKey, dir = sortKey[1:], "DESC"
	}
	if !sortColumns[sortKey] {
		return nil, fmt.Errorf("state: cannot sort tickets by %q", f.Sort)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	q := "SELECT " + ticketColumns + " FROM tickets"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += fmt.Sprintf(" ORDER BY (%[1]s IS NULL), %[1]s %[2]s, id %[2]s LIMIT ? OFFSET ?", sortKey, dir)
	args = append(args, limit, max(f.Offset, 0))
	return collectTickets(s.db.query(ctx, q, args...))
}
