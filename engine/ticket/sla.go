package ticket

import "time"

// SLA is a ticket's SLA position at a given time.
type SLA struct {
	// RespondBy and ResolveBy are the deadlines: SLAStartedAt plus the
	// current severity's targets.
	RespondBy time.Time `json:"respond_by"`
	ResolveBy time.Time `json:"resolve_by"`
	// RespondBreached: the response came after RespondBy, or has not come
	// and RespondBy has passed. A resolution before any response stops the
	// response clock too.
	RespondBreached bool `json:"respond_breached"`
	// ResolveBreached: the resolution came after ResolveBy, or has not
	// come and ResolveBy has passed.
	ResolveBreached bool `json:"resolve_breached"`
}

// SLAStatus computes the SLA of t at now under policy. The clocks start at
// SLAStartedAt (the opening or latest reopening) and use the ticket's
// current severity, so an escalation shortens the deadlines (ITIL
// re-prioritisation). Responding is leaving reported/classified for assigned
// or in_progress (RespondedAt); resolving is reaching verified or
// auto_resolved (ResolvedAt). A closed ticket without ResolvedAt counts as
// resolved at ClosedAt.
func SLAStatus(t Ticket, policy Policy, now time.Time) SLA {
	target := policy.SLA.For(t.Severity)
	s := SLA{RespondBy: t.SLAStartedAt.Add(target.Respond), ResolveBy: t.SLAStartedAt.Add(target.Resolve)}
	resolved := t.ResolvedAt
	if resolved == nil && t.State == StateClosed {
		resolved = t.ClosedAt
	}
	respondStop := now
	switch {
	case t.RespondedAt != nil:
		respondStop = *t.RespondedAt
	case resolved != nil:
		respondStop = *resolved
	}
	resolveStop := now
	if resolved != nil {
		resolveStop = *resolved
	}
	s.RespondBreached = respondStop.After(s.RespondBy)
	s.ResolveBreached = resolveStop.After(s.ResolveBy)
	return s
}

// withSLA refreshes the cached deadlines of t from policy.
func withSLA(t Ticket, policy Policy) Ticket {
	target := policy.SLA.For(t.Severity)
	t.RespondBy, t.ResolveBy = t.SLAStartedAt.Add(target.Respond), t.SLAStartedAt.Add(target.Resolve)
	return t
}
