package ticket

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ErrTransition is wrapped by every refused lifecycle move; the message says
// "cannot go from X to Y; allowed: …".
var ErrTransition = errors.New("ticket transition refused")

// allowed is the lifecycle table (see Allowed).
var allowed = map[State][]State{
	StateReported:     {StateClassified, StateAssigned, StateAutoResolved},
	StateClassified:   {StateAssigned, StateAutoResolved},
	StateAssigned:     {StateClassified, StateInProgress, StateAutoResolved},
	StateInProgress:   {StateAssigned, StateVerified, StateAutoResolved},
	StateVerified:     {StateReopened, StateClosed},
	StateAutoResolved: {StateReopened, StateClosed},
	StateReopened:     {StateClassified, StateAssigned, StateInProgress, StateAutoResolved},
	StateClosed:       {},
}

// Allowed returns the states a ticket in state from may move to through
// Transition. The table (ITIL incident flow):
//
//	from           to
//	reported       classified, assigned, auto_resolved
//	classified     assigned, auto_resolved
//	assigned       classified (re-triage), in_progress, auto_resolved
//	in_progress    assigned (handed back), verified, auto_resolved
//	verified       reopened (the fix did not hold), closed
//	auto_resolved  reopened, closed
//	reopened       classified, assigned, in_progress, auto_resolved
//	closed         none: final
//
// Further rules:
//   - only the Engine actor moves a ticket to auto_resolved (people resolve
//     through in_progress → verified);
//   - closed is final for Transition; the only way back is Apply reopening
//     it when the same risk recurs within Policy.ReopenWindow of its
//     resolution;
//   - a move to the same state is refused (nothing would change).
func Allowed(from State) []State { return slices.Clone(allowed[from]) }

// Transition moves t to state to on behalf of actor, at now, and returns the
// changed ticket (Version+1) with its audit entry. It enforces the table of
// Allowed; a refused move returns t unchanged and an error wrapping
// ErrTransition. Side effects:
//   - assigned or in_progress set RespondedAt (first time in the SLA cycle):
//     responding means leaving reported/classified for a resolver;
//   - verified and auto_resolved set ResolvedAt and ResolveReason (reason);
//   - closed sets ClosedAt;
//   - reopened counts a reopening, restarts the SLA clocks at now (same
//     targets as before) and clears RespondedAt, ResolvedAt, ClosedAt,
//     ResolveReason and ClearStreak.
//
// The event to notify is NewEvent(t, EventTypeFor(to), policy, now).
func Transition(t Ticket, to State, actor, reason string, now time.Time) (Ticket, AuditEntry, error) {
	return transition(t, to, actor, reason, now, false)
}

func transition(t Ticket, to State, actor, reason string, now time.Time, reopenClosed bool) (Ticket, AuditEntry, error) {
	actor = strings.TrimSpace(actor)
	if actor == "" {
		return t, AuditEntry{}, fmt.Errorf("%w: ticket %s: an actor is required", ErrTransition, t.ID)
	}
	if _, err := ParseState(string(to)); err != nil {
		return t, AuditEntry{}, fmt.Errorf("%w: ticket %s: %v", ErrTransition, t.ID, err)
	}
	from := t.State
	if _, ok := allowed[from]; !ok {
		return t, AuditEntry{}, fmt.Errorf("%w: ticket %s: unknown current state %q", ErrTransition, t.ID, from)
	}
	ok := slices.Contains(allowed[from], to) || (reopenClosed && from == StateClosed && to == StateReopened)
	if !ok {
		why := ""
		switch {
		case from == to:
			why = " (already " + string(to) + ")"
		case from == StateClosed:
			why = " (closed is final; a recurrence within the reopen window reopens it automatically)"
		}
		return t, AuditEntry{}, fmt.Errorf("%w: ticket %s: cannot go from %s to %s%s; allowed: %s",
			ErrTransition, t.ID, from, to, why, joinStates(allowed[from]))
	}
	if to == StateAutoResolved && actor != Engine {
		return t, AuditEntry{}, fmt.Errorf("%w: ticket %s: cannot go from %s to %s: only %s resolves automatically (people resolve through in_progress → verified); allowed: %s",
			ErrTransition, t.ID, from, to, Engine, joinStates(allowed[from]))
	}
	n := t
	n.State = to
	n.Version++
	n.UpdatedAt = now
	details := map[string]string{}
	switch to {
	case StateAssigned, StateInProgress:
		if n.RespondedAt == nil {
			n.RespondedAt = ptr(now)
			details["responded_at"] = now.UTC().Format(time.RFC3339)
		}
	case StateVerified, StateAutoResolved:
		n.ResolvedAt = ptr(now)
		n.ResolveReason = reason
	case StateClosed:
		n.ClosedAt = ptr(now)
	case StateReopened:
		n.Reopens++
		respond, resolve := n.RespondBy.Sub(n.SLAStartedAt), n.ResolveBy.Sub(n.SLAStartedAt)
		n.SLAStartedAt = now
		n.RespondBy, n.ResolveBy = now.Add(respond), now.Add(resolve)
		n.RespondedAt, n.ResolvedAt, n.ClosedAt = nil, nil, nil
		n.ResolveReason = ""
		if n.ClearStreak != 0 {
			details["clear_streak"] = fmt.Sprintf("%d → 0", n.ClearStreak)
		}
		n.ClearStreak, n.ClearSince = 0, nil
		details["reopens"] = fmt.Sprint(n.Reopens)
	}
	if len(details) == 0 {
		details = nil
	}
	a := AuditEntry{TicketID: n.ID, Version: n.Version, At: now, Actor: actor, Action: ActionTransition,
		From: from, To: to, Reason: reason, Details: details}
	return n, a, nil
}
