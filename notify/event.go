package notify

import (
	"strconv"
	"time"
)

// Event types carried in Event.Type. The ticket package maps its lifecycle
// changes onto these; receivers should ignore types they do not know.
const (
	// EventOpened: a new ticket was opened for a fingerprint.
	EventOpened = "ticket.opened"
	// EventUpdated: the prediction behind an open ticket changed (ETA, evidence).
	EventUpdated = "ticket.updated"
	// EventEscalated: the ticket's severity went up as the breach nears.
	EventEscalated = "ticket.escalated"
	// EventResolved: the risk cleared (auto-resolved with hysteresis) or a person resolved it.
	EventResolved = "ticket.resolved"
	// EventReopened: the risk came back within the recurrence window.
	EventReopened = "ticket.reopened"
	// EventTransitioned: a lifecycle transition other than the ones above (e.g. assigned → in progress).
	EventTransitioned = "ticket.transitioned"
	// EventClosed: the ticket reached its final state.
	EventClosed = "ticket.closed"
)

// EventTypes lists every event type, in lifecycle order.
var EventTypes = []string{EventOpened, EventUpdated, EventEscalated, EventResolved, EventReopened, EventTransitioned, EventClosed}

// Severities, lowest first. Tickets carry one of these; routes and a
// target's min_severity are keyed by them.
const (
	SeverityInfo     = "info"
	SeverityMinor    = "minor"
	SeverityMajor    = "major"
	SeverityCritical = "critical"
)

// SeverityRank orders severities: info 1, minor 2, major 3, critical 4, and 0
// for anything else.
func SeverityRank(s string) int {
	switch s {
	case SeverityInfo:
		return 1
	case SeverityMinor:
		return 2
	case SeverityMajor:
		return 3
	case SeverityCritical:
		return 4
	}
	return 0
}

// Event is one ticket change to notify about. It is self-contained: encoders
// need nothing but the event, the target and the clock.
type Event struct {
	// Type is one of the Event* constants.
	Type string `json:"type"`
	// Ticket is the ticket as it is after the change.
	Ticket TicketView `json:"ticket"`
	// At is when the change happened (not when it is sent).
	At time.Time `json:"at"`
}

// TicketView is the part of a ticket a notification shows. Times are
// rendered in UTC in the machine formats.
type TicketView struct {
	// ID is the ticket's stable identifier.
	ID string `json:"id"`
	// Fingerprint identifies the (risk kind, entity) pair; one open ticket per fingerprint.
	Fingerprint string `json:"fingerprint"`
	// Kind is the risk kind: "disk", "memleak" or "monthend".
	Kind string `json:"kind"`
	// Entity holds the entity's tags, e.g. host=db-01, path=/data.
	Entity map[string]string `json:"entity"`
	// State is the lifecycle state after the change (e.g. "assigned", "auto_resolved").
	State string `json:"state"`
	// Severity is one of the Severity* constants.
	Severity string `json:"severity"`
	// Version increases by one with every change of the ticket.
	Version int `json:"version"`
	// Title is a one-line headline.
	Title string `json:"title"`
	// Summary is the one-line prediction summary.
	Summary string `json:"summary"`
	// BodyMarkdown is the full description (evidence, trend) in Markdown.
	BodyMarkdown string `json:"body_markdown"`
	// BreachAt is the predicted breach time (median), BreachP10 and BreachP90 its interval.
	BreachAt  *time.Time `json:"breach_at"`
	BreachP10 *time.Time `json:"breach_p10"`
	BreachP90 *time.Time `json:"breach_p90"`
	// Link points at the forecast or ticket in the API/UI.
	Link string `json:"link"`
	// SuggestedAction tells the on-call person what to do.
	SuggestedAction string `json:"suggested_action"`
	// AssignmentGroup is the team the ticket is assigned to.
	AssignmentGroup string `json:"assignment_group"`
	// OpenedAt, UpdatedAt and ResolvedAt are the ticket's timestamps.
	OpenedAt   time.Time  `json:"opened_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	ResolvedAt *time.Time `json:"resolved_at"`
	// ResolveReason says why the ticket was resolved (empty while open).
	ResolveReason string `json:"resolve_reason"`
}

// IdempotencyKey is the key a receiver deduplicates deliveries by: the
// ticket id, ":" and the ticket version. Every retry of one event carries
// the same key; the next change of the ticket carries a new one.
func IdempotencyKey(e Event) string {
	return e.Ticket.ID + ":" + strconv.Itoa(e.Ticket.Version)
}

// IsResolving reports whether the event ends the alert (ticket.resolved and
// ticket.closed); Alertmanager-style receivers see it as "resolved".
func IsResolving(e Event) bool {
	return e.Type == EventResolved || e.Type == EventClosed
}
