// Package ticket is the pre-emptive ticket domain of Foresight: it turns the
// fleet's risk predictions into ITIL tickets and keeps them honest.
//
// Everything here is pure logic: no I/O, no goroutines, no hidden clock (the
// time is always passed in) and no randomness, so the same inputs always give
// the same tickets, versions, events and audit entries. The state store
// persists what Apply and Transition return; the notifier delivers the
// Events, keyed by Event.IdempotencyKey (ticket id + version).
//
// The promises kept (see DESIGN.md, "Tickets are promises"):
//   - one ticket per Fingerprint (risk kind + entity): a new prediction
//     updates, escalates or reopens it and never opens a second one;
//   - severity follows the time to breach and is raised as the breach nears,
//     never lowered automatically while the ticket is open;
//   - a ticket auto-resolves only after Policy.ClearRuns consecutive runs in
//     which the predictor says the entity is no longer at risk (hysteresis),
//     and a recurrence within Policy.ReopenWindow reopens it;
//   - every change yields an AuditEntry; every change people must hear about
//     bumps Ticket.Version and yields exactly one Event.
package ticket

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/seed-f1b503aa/foresight/engine/fleet"
)

// Engine is the actor name of changes made by the rules engine (Apply).
// Only this actor may move a ticket to auto_resolved.
const Engine = "foresight"

// State is a ticket's place in the ITIL lifecycle (see Transition for the
// allowed moves).
type State string

// The lifecycle states.
const (
	// StateReported is where every new ticket starts: logged, not yet
	// looked at.
	StateReported State = "reported"
	// StateClassified: categorised and prioritised by a person or the
	// service desk.
	StateClassified State = "classified"
	// StateAssigned: handed to a resolver group or person (responding).
	StateAssigned State = "assigned"
	// StateInProgress: someone is working on it.
	StateInProgress State = "in_progress"
	// StateVerified: resolved, and the resolution verified.
	StateVerified State = "verified"
	// StateClosed: final (only a recurrence within the reopen window,
	// detected by Apply, reopens it).
	StateClosed State = "closed"
	// StateAutoResolved: the engine resolved it because the risk cleared
	// for Policy.ClearRuns consecutive runs.
	StateAutoResolved State = "auto_resolved"
	// StateReopened: the risk came back (or a person reopened it); the
	// ticket re-enters the flow.
	StateReopened State = "reopened"
)

// States lists every state in lifecycle order.
func States() []State {
	return []State{StateReported, StateClassified, StateAssigned, StateInProgress, StateVerified, StateClosed, StateAutoResolved, StateReopened}
}

// ParseState validates a state name.
func ParseState(s string) (State, error) {
	for _, st := range States() {
		if string(st) == s {
			return st, nil
		}
	}
	return "", fmt.Errorf("unknown ticket state %q; states: %s", s, joinStates(States()))
}

// Active reports whether the ticket is open: someone still owes work on it
// (reported, classified, assigned, in_progress or reopened). Apply keeps
// at most one ticket per fingerprint in these states.
func (s State) Active() bool {
	switch s {
	case StateReported, StateClassified, StateAssigned, StateInProgress, StateReopened:
		return true
	}
	return false
}

// Resolved reports whether the ticket is resolved but not closed (verified
// or auto_resolved).
func (s State) Resolved() bool { return s == StateVerified || s == StateAutoResolved }

// Severity ranks a ticket's urgency: minor < major < critical.
type Severity string

// The severities. SeverityNone means "not ticket-worthy".
const (
	SeverityNone     Severity = ""
	SeverityMinor    Severity = "minor"
	SeverityMajor    Severity = "major"
	SeverityCritical Severity = "critical"
)

// Rank orders severities: 0 none, 1 minor, 2 major, 3 critical, -1 unknown.
func (s Severity) Rank() int {
	switch s {
	case SeverityNone:
		return 0
	case SeverityMinor:
		return 1
	case SeverityMajor:
		return 2
	case SeverityCritical:
		return 3
	}
	return -1
}

// ParseSeverity validates a severity name ("" is SeverityNone).
func ParseSeverity(s string) (Severity, error) {
	sev := Severity(s)
	if sev.Rank() < 0 {
		return "", fmt.Errorf("unknown severity %q: use minor, major or critical", s)
	}
	return sev, nil
}

// Fingerprint identifies what a ticket is about: the risk kind and the
// entity's tags, canonically "kind:k1=v1,k2=v2" with keys sorted and
// '\\', ',' and '=' backslash-escaped. Two predictors' sources naming the
// same entity share one fingerprint, hence one ticket.
type Fingerprint string

// NewFingerprint builds the canonical fingerprint of kind and entity.
func NewFingerprint(kind fleet.Kind, entity map[string]string) Fingerprint {
	keys := make([]string, 0, len(entity))
	for k := range entity {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(string(kind))
	b.WriteByte(':')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(escapeFP(k))
		b.WriteByte('=')
		b.WriteString(escapeFP(entity[k]))
	}
	return Fingerprint(b.String())
}

// FingerprintOf is the fingerprint of a prediction.
func FingerprintOf(p fleet.Prediction) Fingerprint { return NewFingerprint(p.Kind, p.Entity) }

var fpEscaper = strings.NewReplacer(`\`, `\\`, `,`, `\,`, `=`, `\=`)

func escapeFP(s string) string { return fpEscaper.Replace(s) }

// Breach is the predicted failure time: median P50 within the P10..P90
// interval. Any of them may be nil (unknown).
type Breach struct {
	P10 *time.Time `json:"p10"`
	P50 *time.Time `json:"p50"`
	P90 *time.Time `json:"p90"`
}

// Ticket is one pre-emptive ticket. Values are plain data: functions in this
// package return modified copies and never mutate a Ticket's maps, slices or
// pointed-to times in place.
type Ticket struct {
	// ID is stable for the ticket's life, reopenings included. NewID
	// derives it from the fingerprint and the opening time, so replaying a
	// run after a crash yields the same id.
	ID          string      `json:"id"`
	Fingerprint Fingerprint `json:"fingerprint"`
	Kind        fleet.Kind  `json:"kind"`
	// Entity holds the tags naming what is at risk (host, path, service…).
	Entity map[string]string `json:"entity"`
	// PredictionID and Series name the prediction and series the content
	// was last taken from.
	PredictionID string   `json:"prediction_id"`
	Series       []string `json:"series,omitempty"`
	State        State    `json:"state"`
	Severity     Severity `json:"severity"`
	// Version starts at 1 and is incremented by every change that is
	// notified (open, material update, escalation, state change, reopen,
	// resolve, close); (ID, Version) is the delivery idempotency key. The
	// hysteresis counter ClearStreak changes without a version bump (it is
	// audited, not notified).
	Version int `json:"version"`
	// Title is one line (the prediction's summary); Summary the latest
	// summary that was notified.
	Title   string `json:"title"`
	Summary string `json:"summary"`
	// PredictedBreach is the breach time as last notified: a non-material
	// drift of the ETA does not change the ticket.
	PredictedBreach Breach  `json:"predicted_breach"`
	Confidence      float64 `json:"confidence"`
	// CurrentValue and Trend describe the entity now, in words.
	CurrentValue string `json:"current_value"`
	Trend        string `json:"trend"`
	// Evidence is the predictor's evidence object (JSON) and Highlights the
	// parts of it a person reads first.
	Evidence   json.RawMessage `json:"evidence,omitempty"`
	Highlights []string        `json:"highlights,omitempty"`
	// Link is the API path of the prediction (/api/v1/predictions?...);
	// ForecastLink the forecast of its main series.
	Link            string `json:"link"`
	ForecastLink    string `json:"forecast_link,omitempty"`
	SuggestedAction string `json:"suggested_action"`
	AssignmentGroup string `json:"assignment_group"`
	// OpenedAt is the first opening; UpdatedAt the last change.
	OpenedAt  time.Time `json:"opened_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// RespondedAt is when the ticket first reached assigned or in_progress
	// in the current SLA cycle (the acknowledgement).
	RespondedAt *time.Time `json:"responded_at,omitempty"`
	// ResolvedAt is when it reached verified or auto_resolved; ClosedAt
	// when it was closed. Both are cleared by a reopening.
	ResolvedAt *time.Time `json:"resolved_at,omitempty"`
	ClosedAt   *time.Time `json:"closed_at,omitempty"`
	// SLAStartedAt starts the SLA clocks: the opening, or the latest
	// reopening. RespondBy and ResolveBy are the deadlines for the current
	// severity, cached for queries (SLAStatus recomputes them from the
	// policy).
	SLAStartedAt time.Time `json:"sla_started_at"`
	RespondBy    time.Time `json:"respond_by"`
	ResolveBy    time.Time `json:"resolve_by"`
	// ClearStreak counts consecutive runs in which the predictor said the
	// entity is not at risk.
	ClearStreak int `json:"clear_streak"`
	// ClearSince is when the current clear streak began (nil: none).
	ClearSince *time.Time `json:"clear_since,omitempty"`
	// Reopens counts reopenings.
	Reopens int `json:"reopens"`
	// ResolveReason says why it was resolved (auto or by a person).
	ResolveReason string `json:"resolve_reason,omitempty"`
}

// NewID derives a ticket id from the fingerprint and the opening time:
// "TKT-" and 16 hex digits of SHA-256. Only one ticket per fingerprint is
// ever opened at a given instant, so ids do not collide, and a replayed run
// produces the same id.
func NewID(fp Fingerprint, openedAt time.Time) string {
	h := sha256.Sum256([]byte(string(fp) + "\x00" + openedAt.UTC().Format(time.RFC3339Nano)))
	return "TKT-" + strings.ToUpper(hex.EncodeToString(h[:8]))
}

// Action names what an AuditEntry records.
type Action string

// The audited actions.
const (
	ActionOpen        Action = "open"         // Apply opened the ticket
	ActionUpdate      Action = "update"       // material change of ETA
	ActionEscalate    Action = "escalate"     // severity raised
	ActionClearStreak Action = "clear_streak" // hysteresis counter changed (no version bump)
	ActionAutoResolve Action = "auto_resolve" // risk cleared for ClearRuns runs
	ActionReopen      Action = "reopen"       // recurrence within the reopen window
	ActionAutoClose   Action = "auto_close"   // resolved and quiet for the whole reopen window
	ActionTransition  Action = "transition"   // a lifecycle move requested through Transition
)

// AuditEntry records one change: who did what to which ticket version, when
// and why. From and To are the states before and after (equal when the state
// did not change); Details holds the other changed fields as "before → after"
// texts.
type AuditEntry struct {
	TicketID string            `json:"ticket_id"`
	Version  int               `json:"version"`
	At       time.Time         `json:"at"`
	Actor    string            `json:"actor"`
	Action   Action            `json:"action"`
	From     State             `json:"from,omitempty"`
	To       State             `json:"to"`
	Reason   string            `json:"reason,omitempty"`
	Details  map[string]string `json:"details,omitempty"`
}

// EventType is what a notification announces.
type EventType string

// The event types.
const (
	EventOpened       EventType = "ticket.opened"
	EventUpdated      EventType = "ticket.updated"
	EventEscalated    EventType = "ticket.escalated"
	EventResolved     EventType = "ticket.resolved"
	EventReopened     EventType = "ticket.reopened"
	EventTransitioned EventType = "ticket.transitioned"
	EventClosed       EventType = "ticket.closed"
)

// EventTypeFor is the event announcing a lifecycle move to state to:
// resolved for verified and auto_resolved, closed, reopened, and
// transitioned for the other moves.
func EventTypeFor(to State) EventType {
	switch to {
	case StateVerified, StateAutoResolved:
		return EventResolved
	case StateClosed:
		return EventClosed
	case StateReopened:
		return EventReopened
	}
	return EventTransitioned
}

// Event is one notification to deliver: the ticket as it is at Version and
// the names of the webhook targets routed for its severity.
type Event struct {
	Type        EventType   `json:"type"`
	TicketID    string      `json:"ticket_id"`
	Version     int         `json:"version"`
	Fingerprint Fingerprint `json:"fingerprint"`
	At          time.Time   `json:"at"`
	Severity    Severity    `json:"severity"`
	State       State       `json:"state"`
	// Routes are webhook target names (Policy.Routes for Severity).
	Routes []string `json:"routes"`
	Ticket Ticket   `json:"ticket"`
}

// IdempotencyKey is "<ticket id>:<version>", unique per event.
func (e Event) IdempotencyKey() string { return e.TicketID + ":" + strconv.Itoa(e.Version) }

// NewEvent builds the event of type typ for ticket t as it is now, routed by
// policy. The API layer uses it after a Transition (with EventTypeFor).
func NewEvent(t Ticket, typ EventType, policy Policy, now time.Time) Event {
	return Event{
		Type: typ, TicketID: t.ID, Version: t.Version, Fingerprint: t.Fingerprint, At: now,
		Severity: t.Severity, State: t.State, Routes: policy.Routes.For(t.Severity), Ticket: t,
	}
}

func joinStates(s []State) string {
	if len(s) == 0 {
		return "none"
	}
	out := make([]string, len(s))
	for i, st := range s {
		out[i] = string(st)
	}
	return strings.Join(out, ", ")
}

func ptr(t time.Time) *time.Time { return &t }
