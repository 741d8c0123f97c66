package ticket

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)

func baseTicket(st State) Ticket {
	return withSLA(Ticket{ID: "TKT-1", Fingerprint: "disk:host=db-01,path=/data", State: st, Severity: SeverityMajor,
		Version: 3, OpenedAt: t0, UpdatedAt: t0, SLAStartedAt: t0}, DefaultPolicy())
}

// TestTransitionMatrix checks every (from, to) pair against the lifecycle
// table, written out independently here.
func TestTransitionMatrix(t *testing.T) {
	want := map[string]bool{
		"reported>classified": true, "reported>assigned": true, "reported>auto_resolved": true,
		"classified>assigned": true, "classified>auto_resolved": true,
		"assigned>classified": true, "assigned>in_progress": true, "assigned>auto_resolved": true,
		"in_progress>assigned": true, "in_progress>verified": true, "in_progress>auto_resolved": true,
		"verified>reopened": true, "verified>closed": true,
		"auto_resolved>reopened": true, "auto_resolved>closed": true,
		"reopened>classified": true, "reopened>assigned": true, "reopened>in_progress": true, "reopened>auto_resolved": true,
	}
	allowedCount := 0
	for _, from := range States() {
		for _, to := range States() {
			actor := "alice"
			if to == StateAutoResolved {
				actor = Engine
			}
			key := string(from) + ">" + string(to)
			in := baseTicket(from)
			got, a, err := Transition(in, to, actor, "because", t0.Add(time.Minute))
			if want[key] {
				allowedCount++
				if err != nil {
					t.Errorf("%s: refused: %v", key, err)
					continue
				}
				if got.State != to || got.Version != 4 || !got.UpdatedAt.Equal(t0.Add(time.Minute)) {
					t.Errorf("%s: got state %s version %d updated %s", key, got.State, got.Version, got.UpdatedAt)
				}
				if a.TicketID != "TKT-1" || a.Version != 4 || a.From != from || a.To != to || a.Actor != actor ||
					a.Action != ActionTransition || a.Reason != "because" || !a.At.Equal(t0.Add(time.Minute)) {
					t.Errorf("%s: audit %+v", key, a)
				}
				continue
			}
			if err == nil {
				t.Errorf("%s: allowed, want refused", key)
				continue
			}
			if !errors.Is(err, ErrTransition) {
				t.Errorf("%s: error %v does not wrap ErrTransition", key, err)
			}
			if !strings.Contains(err.Error(), "cannot go from "+string(from)+" to "+string(to)) || !strings.Contains(err.Error(), "; allowed: "+joinStates(Allowed(from))) {
				t.Errorf("%s: error %q", key, err)
			}
			if got.Version != in.Version || got.State != in.State {
				t.Errorf("%s: refused move changed the ticket", key)
			}
		}
	}
	if allowedCount != len(want) {
		t.Errorf("matrix covered %d allowed moves, want %d", allowedCount, len(want))
	}
}

func TestTransitionRefusals(t *testing.T) {
	cases := []struct {
		name, actor string
		from, to    State
		msg         string
	}{
		{"people do not auto-resolve", "alice", StateInProgress, StateAutoResolved, "cannot go from in_progress to auto_resolved: only foresight resolves automatically"},
		{"closed is final", "alice", StateClosed, StateReopened, "cannot go from closed to reopened (closed is final; a recurrence within the reopen window reopens it automatically); allowed: none"},
		{"closed is final for the engine too", Engine, StateClosed, StateReopened, "allowed: none"},
		{"same state", "alice", StateAssigned, StateAssigned, "cannot go from assigned to assigned (already assigned); allowed: classified, in_progress, auto_resolved"},
		{"skip to verified", "alice", StateReported, StateVerified, "cannot go from reported to verified; allowed: classified, assigned, auto_resolved"},
		{"unknown state", "alice", StateReported, State("done"), `unknown ticket state "done"`},
		{"no actor", " ", StateReported, StateAssigned, "an actor is required"},
	}
	for _, c := range cases {
		_, _, err := Transition(baseTicket(c.from), c.to, c.actor, "", t0)
		if err == nil || !errors.Is(err, ErrTransition) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: error %v, want it to contain %q", c.name, err, c.msg)
		}
	}
}

func TestTransitionSideEffects(t *testing.T) {
	tk := baseTicket(StateReported)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	step := func(to State, actor string, m int) {
		t.Helper()
		var err error
		if tk, _, err = Transition(tk, to, actor, "r-"+string(to), at(m)); err != nil {
			t.Fatal(err)
		}
	}
	step(StateClassified, "desk", 5)
	if tk.RespondedAt != nil {
		t.Fatal("classifying is not responding")
	}
	step(StateAssigned, "desk", 10)
	step(StateInProgress, "bob", 20)
	if tk.RespondedAt == nil || !tk.RespondedAt.Equal(at(10)) {
		t.Fatalf("responded at %v, want the first assignment", tk.RespondedAt)
	}
	step(StateVerified, "bob", 60)
	if tk.ResolvedAt == nil || !tk.ResolvedAt.Equal(at(60)) || tk.ResolveReason != "r-verified" {
		t.Fatalf("resolved %v %q", tk.ResolvedAt, tk.ResolveReason)
	}
	tk.ClearStreak = 2
	step(StateReopened, "bob", 120)
	if tk.Reopens != 1 || tk.RespondedAt != nil || tk.ResolvedAt != nil || tk.ClearStreak != 0 || tk.ResolveReason != "" {
		t.Fatalf("reopen did not reset: %+v", tk)
	}
	if !tk.SLAStartedAt.Equal(at(120)) || !tk.RespondBy.Equal(at(120).Add(2*time.Hour)) || !tk.ResolveBy.Equal(at(120).Add(24*time.Hour)) {
		t.Fatalf("SLA not restarted: %s %s %s", tk.SLAStartedAt, tk.RespondBy, tk.ResolveBy)
	}
	step(StateInProgress, "bob", 130)
	step(StateVerified, "bob", 140)
	step(StateClosed, "desk", 150)
	if tk.ClosedAt == nil || !tk.ClosedAt.Equal(at(150)) || tk.Version != 3+8 || !tk.OpenedAt.Equal(t0) {
		t.Fatalf("closed %v version %d opened %s", tk.ClosedAt, tk.Version, tk.OpenedAt)
	}
	if got := EventTypeFor(StateClosed); got != EventClosed {
		t.Fatal(got)
	}
	for st, want := range map[State]EventType{StateVerified: EventResolved, StateAutoResolved: EventResolved, StateReopened: EventReopened, StateAssigned: EventTransitioned} {
		if got := EventTypeFor(st); got != want {
			t.Errorf("EventTypeFor(%s) = %s, want %s", st, got, want)
		}
	}
}

func TestParse(t *testing.T) {
	for _, s := range States() {
		if got, err := ParseState(string(s)); err != nil || got != s {
			t.Errorf("ParseState(%s) = %s, %v", s, got, err)
		}
	}
	if _, err := ParseSeverity("blocker"); err == nil {
		t.Error("ParseSeverity accepted blocker")
	}
	if SeverityMinor.Rank() >= SeverityMajor.Rank() || SeverityMajor.Rank() >= SeverityCritical.Rank() || SeverityNone.Rank() != 0 {
		t.Error("severity ranks out of order")
	}
}
