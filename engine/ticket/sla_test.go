package ticket

import (
	"testing"
	"time"
)

func TestSLAStatus(t *testing.T) {
	p := DefaultPolicy()
	m := func(n int) *time.Time { return at(time.Duration(n) * time.Minute) }
	cases := []struct {
		name                     string
		sev                      Severity
		responded, resolved      *time.Time
		state                    State
		now                      int // minutes after t0
		respondBreach, resolveBr bool
	}{
		{"critical, fresh", SeverityCritical, nil, nil, StateReported, 29, false, false},
		{"critical, 30 min exactly", SeverityCritical, nil, nil, StateReported, 30, false, false},
		{"critical, no response at 31 min", SeverityCritical, nil, nil, StateClassified, 31, true, false},
		{"critical, responded in time, unresolved at 4h01", SeverityCritical, m(20), nil, StateInProgress, 241, false, true},
		{"critical, responded late", SeverityCritical, m(45), nil, StateAssigned, 60, true, false},
		{"critical, resolved in time, looked at later", SeverityCritical, m(10), m(200), StateVerified, 10000, false, false},
		{"critical, auto-resolved before anyone responded", SeverityCritical, nil, m(20), StateAutoResolved, 10000, false, false},
		{"major, 1h59 without response", SeverityMajor, nil, nil, StateReported, 119, false, false},
		{"major, 2h01 without response", SeverityMajor, nil, nil, StateReported, 121, true, false},
		{"minor, 8h01 without response", SeverityMinor, nil, nil, StateReported, 481, true, false},
		{"minor, resolved after 3 days", SeverityMinor, m(60), m(72*60 + 1), StateVerified, 100000, false, true},
	}
	for _, c := range cases {
		tk := Ticket{State: c.state, Severity: c.sev, SLAStartedAt: t0, RespondedAt: c.responded, ResolvedAt: c.resolved}
		s := SLAStatus(tk, p, t0.Add(time.Duration(c.now)*time.Minute))
		target := p.SLA.For(c.sev)
		if !s.RespondBy.Equal(t0.Add(target.Respond)) || !s.ResolveBy.Equal(t0.Add(target.Resolve)) {
			t.Errorf("%s: deadlines %s %s", c.name, s.RespondBy, s.ResolveBy)
		}
		if s.RespondBreached != c.respondBreach || s.ResolveBreached != c.resolveBr {
			t.Errorf("%s: breached respond %v resolve %v, want %v %v", c.name, s.RespondBreached, s.ResolveBreached, c.respondBreach, c.resolveBr)
		}
	}
	// Escalation shortens the deadlines: a major ticket 45 min old turns
	// critical and its response is overdue.
	tk := Ticket{State: StateReported, Severity: SeverityCritical, SLAStartedAt: t0}
	if s := SLAStatus(tk, p, t0.Add(45*time.Minute)); !s.RespondBreached {
		t.Error("escalated ticket: response not breached")
	}
	// A closed ticket without ResolvedAt stops the clocks at ClosedAt.
	tk = Ticket{State: StateClosed, Severity: SeverityMajor, SLAStartedAt: t0, ClosedAt: m(30)}
	if s := SLAStatus(tk, p, t0.Add(100*time.Hour)); s.RespondBreached || s.ResolveBreached {
		t.Errorf("closed ticket: %+v", s)
	}
}
