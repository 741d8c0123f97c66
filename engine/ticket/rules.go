package ticket

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/seed-f1b503aa/foresight/engine/fleet"
)

// Change is one ticket's change in a run: the ticket to persist, the audit
// entries to append and the event to notify (nil for bookkeeping that
// nobody needs to hear about: the hysteresis counter).
type Change struct {
	Fingerprint Fingerprint `json:"fingerprint"`
	// Before is the ticket as it was (nil when opened).
	Before *Ticket `json:"before,omitempty"`
	// Ticket is the ticket after the change.
	Ticket Ticket       `json:"ticket"`
	Event  *Event       `json:"event,omitempty"`
	Audit  []AuditEntry `json:"audit"`
}

// Ignored is a prediction that changed nothing, with the reason.
type Ignored struct {
	Fingerprint  Fingerprint `json:"fingerprint"`
	PredictionID string      `json:"prediction_id"`
	Reason       string      `json:"reason"`
}

// Changes is what one run asks for. A ticket appears in at most one list;
// a fingerprint appears twice only when a resolved ticket past its reopen
// window is closed and a new one opened for a recurrence (Closed, then
// Opened). Each list is sorted by fingerprint.
type Changes struct {
	// Opened are new tickets (event ticket.opened).
	Opened []Change `json:"opened"`
	// Updated are material ETA changes (ticket.updated).
	Updated []Change `json:"updated"`
	// Escalated are severity raises, possibly with a new ETA
	// (ticket.escalated).
	Escalated []Change `json:"escalated"`
	// Reopened are recurrences within the reopen window
	// (ticket.reopened).
	Reopened []Change `json:"reopened"`
	// Resolved are auto-resolutions after ClearRuns clear runs
	// (ticket.resolved).
	Resolved []Change `json:"resolved"`
	// Closed are resolved tickets closed after a quiet reopen window
	// (ticket.closed).
	Closed []Change `json:"closed"`
	// Streaks are clear-streak increments and resets: audited, not
	// notified, no version bump.
	Streaks []Change `json:"streaks"`
	// Ignored lists predictions that opened or changed nothing and why
	// (failed, insufficient history, at risk but below the policy's bar,
	// duplicates). Healthy entities without a ticket are not listed.
	Ignored []Ignored `json:"ignored"`
	// Unobserved lists open tickets whose entity had no prediction in the
	// run (series gone or not collected). They are left as they are.
	Unobserved []Fingerprint `json:"unobserved"`
}

// All returns every change in the order to apply them: closings and
// resolutions first (so a store's "one open ticket per fingerprint" index
// never sees two), then streaks, updates, escalations, reopenings and
// openings.
func (c Changes) All() []Change {
	return slices.Concat(c.Closed, c.Resolved, c.Streaks, c.Updated, c.Escalated, c.Reopened, c.Opened)
}

// Events returns the events to notify, in the order of All.
func (c Changes) Events() []Event {
	var out []Event
	for _, ch := range c.All() {
		if ch.Event != nil {
			out = append(out, *ch.Event)
		}
	}
	return out
}

// AuditEntries returns the audit entries to append, in the order of All.
func (c Changes) AuditEntries() []AuditEntry {
	var out []AuditEntry
	for _, ch := range c.All() {
		out = append(out, ch.Audit...)
	}
	return out
}

// Empty reports whether the run changes no ticket.
func (c Changes) Empty() bool { return len(c.All()) == 0 }

// Apply runs the ticket rules over one run's predictions at now.
//
// open holds, per fingerprint, the latest ticket: every active ticket, and
// the resolved or closed ones whose resolution is within the reopen window
// (older ones may be passed too; they are then closed or replaced). Apply
// does not modify open; it returns what to persist and notify:
//
//   - no ticket, and the prediction is ticket-worthy (Policy.SeverityFor):
//     open one in state reported, Version 1;
//   - an active ticket and the entity still at risk: escalate when the new
//     severity is higher, update when the ETA moved materially (Material),
//     else nothing; severity is never lowered automatically while the
//     ticket is open (a receding ETA may be a lull: a person can resolve
//     it, and a reopening recomputes severity from scratch); a running
//     clear streak is reset;
//   - an active ticket and the predictor says not at risk: ClearStreak+1,
//     and at Policy.ClearRuns the ticket auto-resolves with the reason
//     "risk cleared for N consecutive runs: <summary>";
//   - a resolved or closed ticket and a ticket-worthy prediction: reopen
//     when within ReopenWindow of its resolution, otherwise close it (if
//     not closed) and open a new ticket;
//   - a resolved ticket quiet for longer than ReopenWindow: close it when
//     Policy.AutoClose is on.
//
// Predictions that failed or lack history never open, update, clear or
// reopen anything: they carry no verdict. An entity missing from the run
// (series gone, collection outage) is not counted as clear either: only
// the predictor's explicit "not at risk" clears, so a broken collector
// cannot resolve a ticket about a disk that is still filling. Such
// tickets are listed in Unobserved for a person to look at. When two
// predictions share a fingerprint (two sources naming the same entity),
// the most urgent usable one is used and the other is Ignored. A ticket in
// a state this package does not know is left alone (and Ignored).
func Apply(open map[Fingerprint]Ticket, preds []fleet.Prediction, policy Policy, now time.Time) Changes {
	var c Changes
	best := map[Fingerprint]fleet.Prediction{}
	for _, p := range preds {
		fp := FingerprintOf(p)
		prev, ok := best[fp]
		if !ok {
			best[fp] = p
			continue
		}
		keep, drop := prev, p
		if moreUrgent(p, prev) {
			keep, drop = p, prev
		}
		best[fp] = keep
		c.Ignored = append(c.Ignored, Ignored{Fingerprint: fp, PredictionID: drop.ID, Reason: "duplicate of " + keep.ID + " for the same fingerprint"})
	}
	fps := slices.Sorted(maps.Keys(best))
	for fp := range open {
		if _, ok := best[fp]; !ok {
			fps = append(fps, fp)
		}
	}
	slices.Sort(fps)
	for _, fp := range fps {
		t, hasT := open[fp]
		p, hasP := best[fp]
		if _, known := allowed[t.State]; hasT && !known {
			c.Ignored = append(c.Ignored, Ignored{Fingerprint: fp, PredictionID: p.ID, Reason: fmt.Sprintf("ticket %s has unknown state %q: left alone", t.ID, t.State)})
			continue
		}
		switch {
		case !hasP:
			if t.State.Active() {
				c.Unobserved = append(c.Unobserved, fp)
			} else {
				c.autoClose(fp, t, policy, now)
			}
		case !hasT:
			sev, why := policy.SeverityFor(p, now)
			if sev == SeverityNone {
				if p.AtRisk || unusable(p) != "" { // healthy entities are not listed
					c.ignore(fp, p, why)
				}
				continue
			}
			c.Opened = append(c.Opened, openTicket(fp, p, sev, policy, now))
		case unusable(p) != "":
			c.ignore(fp, p, unusable(p))
			if !t.State.Active() {
				c.autoClose(fp, t, policy, now)
			}
		case t.State.Active():
			c.onActive(fp, t, p, policy, now)
		default:
			c.onResolved(fp, t, p, policy, now)
		}
	}
	sortChanges := func(s []Change) {
		slices.SortStableFunc(s, func(a, b Change) int {
			if a.Fingerprint < b.Fingerprint {
				return -1
			}
			if a.Fingerprint > b.Fingerprint {
				return 1
			}
			return 0
		})
	}
	for _, s := range [][]Change{c.Opened, c.Updated, c.Escalated, c.Reopened, c.Resolved, c.Closed, c.Streaks} {
		sortChanges(s)
	}
	slices.SortStableFunc(c.Ignored, func(a, b Ignored) int {
		if a.Fingerprint != b.Fingerprint {
			if a.Fingerprint < b.Fingerprint {
				return -1
			}
			return 1
		}
		if a.PredictionID < b.PredictionID {
			return -1
		} else if a.PredictionID > b.PredictionID {
			return 1
		}
		return 0
	})
	return c
}

// moreUrgent reports whether a should be used rather than b for the same
// fingerprint: usable over unusable, at risk over not, earlier breach over
// later or none, then the smaller ID.
func moreUrgent(a, b fleet.Prediction) bool {
	if ua, ub := unusable(a) == "", unusable(b) == ""; ua != ub {
		return ua
	}
	if c := fleet.CompareUrgency(a, b); c != 0 {
		return c < 0
	}
	return a.ID < b.ID
}

func (c *Changes) ignore(fp Fingerprint, p fleet.Prediction, why string) {
	c.Ignored = append(c.Ignored, Ignored{Fingerprint: fp, PredictionID: p.ID, Reason: why})
}

func openTicket(fp Fingerprint, p fleet.Prediction, sev Severity, policy Policy, now time.Time) Change {
	t := Ticket{
		ID: NewID(fp, now), Fingerprint: fp, Kind: p.Kind, Entity: maps.Clone(p.Entity),
		State: StateReported, Severity: sev, Version: 1,
		OpenedAt: now, UpdatedAt: now, SLAStartedAt: now,
	}
	t = withSLA(fill(t, p, policy.Kind(p.Kind)), policy)
	a := AuditEntry{TicketID: t.ID, Version: 1, At: now, Actor: Engine, Action: ActionOpen, To: StateReported,
		Reason:  "predicted: " + p.Summary,
		Details: map[string]string{"severity": string(sev), "eta": fmtTime(p.BreachAt), "confidence": fmt.Sprintf("%.2f", p.Confidence), "prediction": p.ID}}
	ev := NewEvent(t, EventOpened, policy, now)
	return Change{Fingerprint: fp, Ticket: t, Event: &ev, Audit: []AuditEntry{a}}
}

// etaMoved reports whether the median breach moved materially (Material).
// A breach that was due and is still due is not news, however its time
// moves.
func etaMoved(old, cur *time.Time, m Material, now time.Time) bool {
	if (old == nil) != (cur == nil) {
		return true
	}
	if old == nil {
		return false
	}
	if !old.After(now) && !cur.After(now) {
		return false // already due and still due (a full disk reports "now" each run)
	}
	d := cur.Sub(*old)
	if d < 0 {
		d = -d
	}
	left := old.Sub(now)
	if left < 0 {
		left = 0
	}
	limit := max(m.ETAShiftMin, time.Duration(m.ETAShiftFraction*float64(left)))
	return d > limit
}

func (c *Changes) onActive(fp Fingerprint, t Ticket, p fleet.Prediction, policy Policy, now time.Time) {
	before := t
	if !p.AtRisk {
		n := t
		n.ClearStreak++
		if n.ClearSince == nil {
			since := now
			n.ClearSince = &since
		}
		runs := max(policy.ClearRuns, 1)
		if n.ClearStreak < runs || now.Sub(*n.ClearSince) < policy.ClearFor {
			a := AuditEntry{TicketID: n.ID, Version: n.Version, At: now, Actor: Engine, Action: ActionClearStreak,
				From: n.State, To: n.State, Reason: fmt.Sprintf("not at risk (%d of %d runs%s): %s", n.ClearStreak, runs, clearFor(n, policy, now), p.Summary),
				Details: map[string]string{"clear_streak": fmt.Sprintf("%d → %d", t.ClearStreak, n.ClearStreak)}}
			c.Streaks = append(c.Streaks, Change{Fingerprint: fp, Before: &before, Ticket: n, Audit: []AuditEntry{a}})
			return
		}
		reason := fmt.Sprintf("risk cleared for %d consecutive runs%s: %s", n.ClearStreak, clearFor(n, policy, now), p.Summary)
		n, a, err := transition(n, StateAutoResolved, Engine, reason, now, false)
		if err != nil { // unreachable: every active state may auto-resolve
			c.ignore(fp, p, err.Error())
			return
		}
		a.Action = ActionAutoResolve
		a.Details = map[string]string{"clear_streak": fmt.Sprintf("%d → %d", t.ClearStreak, n.ClearStreak)}
		ev := NewEvent(n, EventResolved, policy, now)
		c.Resolved = append(c.Resolved, Change{Fingerprint: fp, Before: &before, Ticket: n, Event: &ev, Audit: []AuditEntry{a}})
		return
	}
	sev, _ := policy.SeverityFor(p, now)
	escalate := sev.Rank() > t.Severity.Rank()
	moved := etaMoved(t.PredictedBreach.P50, p.BreachAt, policy.Material, now)
	if !escalate && !moved {
		if t.ClearStreak == 0 {
			return
		}
		n := t
		n.ClearStreak, n.ClearSince = 0, nil
		a := AuditEntry{TicketID: n.ID, Version: n.Version, At: now, Actor: Engine, Action: ActionClearStreak,
			From: n.State, To: n.State, Reason: "at risk again: " + p.Summary,
			Details: map[string]string{"clear_streak": fmt.Sprintf("%d → 0", t.ClearStreak)}}
		c.Streaks = append(c.Streaks, Change{Fingerprint: fp, Before: &before, Ticket: n, Audit: []AuditEntry{a}})
		return
	}
	n := fill(t, p, policy.Kind(p.Kind))
	n.Version++
	n.UpdatedAt = now
	n.ClearStreak, n.ClearSince = 0, nil
	details := map[string]string{}
	if moved {
		details["eta"] = fmtTime(t.PredictedBreach.P50) + " → " + fmtTime(p.BreachAt)
	}
	if t.ClearStreak != 0 {
		details["clear_streak"] = fmt.Sprintf("%d → 0", t.ClearStreak)
	}
	action, typ, reason := ActionUpdate, EventUpdated, "prediction changed: "+p.Summary
	if escalate {
		n.Severity = sev
		n = withSLA(n, policy)
		details["severity"] = string(t.Severity) + " → " + string(sev)
		action, typ, reason = ActionEscalate, EventEscalated, "breach nearer: "+p.Summary
	}
	a := AuditEntry{TicketID: n.ID, Version: n.Version, At: now, Actor: Engine, Action: action,
		From: n.State, To: n.State, Reason: reason, Details: details}
	ev := NewEvent(n, typ, policy, now)
	ch := Change{Fingerprint: fp, Before: &before, Ticket: n, Event: &ev, Audit: []AuditEntry{a}}
	if escalate {
		c.Escalated = append(c.Escalated, ch)
	} else {
		c.Updated = append(c.Updated, ch)
	}
}

// resolvedAt is when t left the active states (nil if unknown).
func resolvedAt(t Ticket) *time.Time {
	if t.ResolvedAt != nil {
		return t.ResolvedAt
	}
	return t.ClosedAt
}

// withinWindow reports whether t was resolved no longer than ReopenWindow
// before now.
func withinWindow(t Ticket, policy Policy, now time.Time) bool {
	r := resolvedAt(t)
	return r != nil && now.Sub(*r) <= policy.ReopenWindow
}

func (c *Changes) onResolved(fp Fingerprint, t Ticket, p fleet.Prediction, policy Policy, now time.Time) {
	sev, why := policy.SeverityFor(p, now)
	if sev == SeverityNone {
		if p.AtRisk {
			c.ignore(fp, p, why)
		}
		c.autoClose(fp, t, policy, now)
		return
	}
	if !withinWindow(t, policy, now) {
		if t.State != StateClosed {
			c.close(fp, t, policy, now, fmt.Sprintf("superseded: the risk recurred more than %s after the resolution; a new ticket is opened", policy.ReopenWindow))
		}
		c.Opened = append(c.Opened, openTicket(fp, p, sev, policy, now))
		return
	}
	before := t
	reason := "risk recurred within the reopen window: " + p.Summary
	n, a, err := transition(t, StateReopened, Engine, reason, now, true)
	if err != nil { // unreachable: resolved and closed tickets may reopen
		c.ignore(fp, p, err.Error())
		return
	}
	n = fill(n, p, policy.Kind(p.Kind))
	if n.Severity != sev {
		a.Details["severity"] = string(t.Severity) + " → " + string(sev)
	}
	n.Severity = sev
	n = withSLA(n, policy)
	a.Action = ActionReopen
	a.Details["eta"] = fmtTime(p.BreachAt)
	ev := NewEvent(n, EventReopened, policy, now)
	c.Reopened = append(c.Reopened, Change{Fingerprint: fp, Before: &before, Ticket: n, Event: &ev, Audit: []AuditEntry{a}})
}

// autoClose closes a resolved ticket whose reopen window has passed.
func (c *Changes) autoClose(fp Fingerprint, t Ticket, policy Policy, now time.Time) {
	if !policy.AutoClose || !t.State.Resolved() || withinWindow(t, policy, now) {
		return
	}
	c.close(fp, t, policy, now, fmt.Sprintf("no recurrence within %s of the resolution", policy.ReopenWindow))
}

func (c *Changes) close(fp Fingerprint, t Ticket, policy Policy, now time.Time, reason string) {
	before := t
	n, a, err := transition(t, StateClosed, Engine, reason, now, false)
	if err != nil {
		return
	}
	a.Action = ActionAutoClose
	ev := NewEvent(n, EventClosed, policy, now)
	c.Closed = append(c.Closed, Change{Fingerprint: fp, Before: &before, Ticket: n, Event: &ev, Audit: []AuditEntry{a}})
}

// clearFor says how long the risk has been clear against Policy.ClearFor
// (empty when the policy counts runs only).
func clearFor(t Ticket, policy Policy, now time.Time) string {
	if policy.ClearFor <= 0 || t.ClearSince == nil {
		return ""
	}
	return fmt.Sprintf(", clear for %s of %s", now.Sub(*t.ClearSince).Round(time.Minute), policy.ClearFor)
}
