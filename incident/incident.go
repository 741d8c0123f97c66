// Package incident connects predictions to people: after each fleet run it
// applies the ticket rules (engine/ticket) to the stored tickets, commits
// every ticket change together with its notifications in one transaction
// of the state store (the durable outbox), and a River worker delivers
// those notifications through the configured webhooks (notify).
//
// It is application wiring over concrete parts (storage/state, notify), so
// it lives beside engine rather than inside it.
package incident

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/seed-f1b503aa/foresight/engine/fleet"
	"github.com/seed-f1b503aa/foresight/engine/ticket"
	"github.com/seed-f1b503aa/foresight/notify"
	"github.com/seed-f1b503aa/foresight/storage/state"
)

// Service applies ticket rules and queues notifications.
type Service struct {
	Store  *state.Store
	Policy ticket.Policy
	// Targets are the webhook targets by name; events are routed to the
	// names the ticket policy gives for their severity.
	Targets *notify.Router
	// BaseURL prefixes API links in notifications (e.g. http://foresight:8080).
	BaseURL string
	Logger  *slog.Logger
}

// Summary counts what one Process call did.
type Summary struct {
	Opened, Updated, Escalated, Reopened, Resolved, Closed, Streaks int
	// Deliveries is the number of webhook deliveries queued.
	Deliveries int
}

// stored is a ticket with its row id and row version.
type stored struct {
	rowID      int64
	rowVersion int64
	t          ticket.Ticket
}

// Process applies the ticket rules to one fleet snapshot at now and
// persists the result. Each ticket change is its own transaction: the
// ticket row, its audit entries and its deliveries commit together or not
// at all, so a crash never loses a notification of a committed change or
// sends one for a change that did not commit.
func (s *Service) Process(ctx context.Context, snap fleet.Snapshot, now time.Time) (Summary, error) {
	var sum Summary
	active, err := s.load(ctx, now)
	if err != nil {
		return sum, err
	}
	open := make(map[ticket.Fingerprint]ticket.Ticket, len(active))
	for fp, st := range active {
		open[fp] = st.t
	}
	changes := ticket.Apply(open, snap.Predictions, s.Policy, now)
	sum = Summary{Opened: len(changes.Opened), Updated: len(changes.Updated), Escalated: len(changes.Escalated),
		Reopened: len(changes.Reopened), Resolved: len(changes.Resolved), Closed: len(changes.Closed), Streaks: len(changes.Streaks)}
	var errs []error
	for _, ch := range changes.All() {
		n, err := s.commit(ctx, active[ch.Fingerprint], ch, now)
		if err != nil {
			errs = append(errs, fmt.Errorf("ticket %s: %w", ch.Fingerprint, err))
			continue
		}
		sum.Deliveries += n
	}
	return sum, errors.Join(errs...)
}

// load reads every ticket that is not closed, plus tickets closed within
// the reopen window (a recurrence reopens them).
func (s *Service) load(ctx context.Context, now time.Time) (map[ticket.Fingerprint]stored, error) {
	out := map[ticket.Fingerprint]stored{}
	add := func(recs []state.TicketRecord) error {
		for _, r := range recs {
			t, err := fromRecord(r)
			if err != nil {
				return err
			}
			if prev, ok := out[t.Fingerprint]; ok && prev.t.State != ticket.StateClosed {
				continue // the open ticket wins over an old closed one
			}
			out[t.Fingerprint] = stored{rowID: r.ID, rowVersion: r.Version, t: t}
		}
		return nil
	}
	var notClosed []string
	for _, st := range ticket.States() {
		if st != ticket.StateClosed {
			notClosed = append(notClosed, string(st))
		}
	}
	for offset := 0; ; {
		recs, err := s.Store.ListTickets(ctx, state.TicketFilter{States: notClosed, Sort: "id", Limit: 1000, Offset: offset})
		if err != nil {
			return nil, err
		}
		if err := add(recs); err != nil {
			return nil, err
		}
		if len(recs) < 1000 {
			break
		}
		offset += len(recs)
	}
	closed, err := s.Store.ListTickets(ctx, state.TicketFilter{States: []string{string(ticket.StateClosed)}, Sort: "-closed_at", Limit: 1000})
	if err != nil {
		return nil, err
	}
	var recent []state.TicketRecord
	for _, r := range closed {
		if now.Sub(r.ClosedAt) <= s.Policy.ReopenWindow {
			recent = append(recent, r)
		}
	}
	return out, add(recent)
}

// commit writes one change with its audit entries and deliveries.
func (s *Service) commit(ctx context.Context, prev stored, ch ticket.Change, now time.Time) (int, error) {
	rec, err := toRecord(ch.Ticket)
	if err != nil {
		return 0, err
	}
	queued := 0
	err = s.Store.InTx(ctx, func(tx *state.Tx) error {
		// A change of a ticket we loaded updates its row; a reopen of a
		// closed ticket after the window opens a new row (new ticket id).
		if ch.Before != nil && prev.rowID != 0 && prev.t.ID == ch.Ticket.ID {
			rec.ID = prev.rowID
			if err := tx.UpdateTicket(ctx, &rec, prev.rowVersion); err != nil {
				return err
			}
		} else if err := tx.InsertTicket(ctx, &rec); err != nil {
			return err
		}
		for _, a := range ch.Audit {
			ar := auditRecord(rec.ID, a)
			if err := tx.AppendAudit(ctx, &ar); err != nil {
				return err
			}
		}
		if ch.Event == nil {
			return nil
		}
		n, err := s.enqueue(ctx, tx, rec.ID, *ch.Event, now)
		queued = n
		return err
	})
	return queued, err
}

// enqueue queues one delivery per routed target, inside tx.
func (s *Service) enqueue(ctx context.Context, tx *state.Tx, rowID int64, ev ticket.Event, now time.Time) (int, error) {
	payload, err := json.Marshal(toNotifyEvent(ev, s.Policy, s.BaseURL, now))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, name := range ev.Routes {
		target, ok := s.Targets.Target(name)
		if !ok {
			s.log().Warn("ticket route names an unknown webhook target; skipped", "target", name, "ticket", ev.TicketID)
			continue
		}
		if notify.SeverityRank(string(ev.Severity)) < notify.SeverityRank(target.MinSeverity) && !notify.IsResolving(notify.Event{Type: string(ev.Type)}) {
			continue
		}
		_, err := tx.EnqueueDelivery(ctx, state.DeliveryArgs{
			TicketID: rowID, Version: int64(ev.Version), Event: string(ev.Type), Target: name,
			IdempotencyKey: ev.TicketID + ":" + fmt.Sprint(ev.Version), Payload: payload,
		})
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func (s *Service) log() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// Transition moves a ticket by hand (the API's transition endpoint) and
// queues its notification in the same transaction.
func (s *Service) Transition(ctx context.Context, rowID int64, to ticket.State, actor, reason string, now time.Time) (ticket.Ticket, error) {
	var out ticket.Ticket
	err := s.Store.InTx(ctx, func(tx *state.Tx) error {
		rec, err := tx.GetTicket(ctx, rowID)
		if err != nil {
			return err
		}
		t, err := fromRecord(rec)
		if err != nil {
			return err
		}
		next, audit, err := ticket.Transition(t, to, actor, reason, now)
		if err != nil {
			return err
		}
		nrec, err := toRecord(next)
		if err != nil {
			return err
		}
		nrec.ID = rec.ID
		if err := tx.UpdateTicket(ctx, &nrec, rec.Version); err != nil {
			return err
		}
		ar := auditRecord(rec.ID, audit)
		if err := tx.AppendAudit(ctx, &ar); err != nil {
			return err
		}
		ev := ticket.NewEvent(next, ticket.EventTypeFor(next.State), s.Policy, now)
		if _, err := s.enqueue(ctx, tx, rec.ID, ev, now); err != nil {
			return err
		}
		out = next
		return nil
	})
	return out, err
}

// FromRecord decodes a stored ticket.
func FromRecord(r state.TicketRecord) (ticket.Ticket, error) { return fromRecord(r) }

func fromRecord(r state.TicketRecord) (ticket.Ticket, error) {
	var t ticket.Ticket
	if err := json.Unmarshal(r.BodyJSON, &t); err != nil {
		return t, fmt.Errorf("ticket row %d: body: %w", r.ID, err)
	}
	return t, nil
}

// toRecord keeps the whole domain ticket in the body and copies the fields
// queries filter and sort on into columns. The row version is the store's
// optimistic-concurrency counter; the ticket's own Version (notifications)
// lives in the body.
func toRecord(t ticket.Ticket) (state.TicketRecord, error) {
	body, err := json.Marshal(t)
	if err != nil {
		return state.TicketRecord{}, err
	}
	entity, err := json.Marshal(t.Entity)
	if err != nil {
		return state.TicketRecord{}, err
	}
	r := state.TicketRecord{
		Fingerprint: string(t.Fingerprint), Kind: string(t.Kind), EntityJSON: entity, State: string(t.State),
		Severity: string(t.Severity), Title: t.Title, Summary: t.Summary, BodyJSON: body,
		OpenedAt: t.OpenedAt, UpdatedAt: t.UpdatedAt, ClearStreak: t.ClearStreak, Reopens: t.Reopens,
		ResolveReason: t.ResolveReason, AssignmentGroup: t.AssignmentGroup, RespondBy: t.RespondBy, ResolveBy: t.ResolveBy,
	}
	if t.PredictedBreach.P50 != nil {
		r.BreachAt = *t.PredictedBreach.P50
	}
	if t.ResolvedAt != nil {
		r.ResolvedAt = *t.ResolvedAt
	}
	if t.ClosedAt != nil {
		r.ClosedAt = *t.ClosedAt
	}
	return r, nil
}

func auditRecord(rowID int64, a ticket.AuditEntry) state.AuditRecord {
	details, _ := json.Marshal(a.Details)
	return state.AuditRecord{TicketID: rowID, Version: int64(a.Version), At: a.At, Actor: a.Actor, Action: string(a.Action),
		From: string(a.From), To: string(a.To), Reason: a.Reason, DetailsJSON: details}
}

// toNotifyEvent renders a ticket event for the webhook formats.
func toNotifyEvent(ev ticket.Event, policy ticket.Policy, baseURL string, now time.Time) notify.Event {
	t := ev.Ticket
	return notify.Event{Type: string(ev.Type), At: ev.At, Ticket: notify.TicketView{
		ID: t.ID, Fingerprint: string(t.Fingerprint), Kind: string(t.Kind), Entity: t.Entity, State: string(t.State),
		Severity: string(t.Severity), Version: t.Version, Title: t.Title, Summary: t.Summary,
		BodyMarkdown: ticket.Markdown(t, policy, baseURL, now),
		BreachAt:     t.PredictedBreach.P50, BreachP10: t.PredictedBreach.P10, BreachP90: t.PredictedBreach.P90,
		Link: baseURL + t.Link, SuggestedAction: t.SuggestedAction, AssignmentGroup: t.AssignmentGroup,
		OpenedAt: t.OpenedAt, UpdatedAt: t.UpdatedAt, ResolvedAt: t.ResolvedAt, ResolveReason: t.ResolveReason,
	}}
}

// Comment adds a work note to a ticket's history without changing the
// ticket (no notification: a note is for the people working it).
func (s *Service) Comment(ctx context.Context, rowID int64, actor, text string, now time.Time) (state.AuditRecord, error) {
	var out state.AuditRecord
	err := s.Store.InTx(ctx, func(tx *state.Tx) error {
		rec, err := tx.GetTicket(ctx, rowID)
		if err != nil {
			return err
		}
		out = state.AuditRecord{TicketID: rec.ID, Version: rec.Version, At: now.UTC(), Actor: actor, Action: "comment",
			From: rec.State, To: rec.State, Reason: text}
		return tx.AppendAudit(ctx, &out)
	})
	return out, err
}
