package ticket

import (
	"fmt"
	"maps"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/seed-f1b503aa/foresight/engine/fleet"
	"github.com/seed-f1b503aa/foresight/engine/risk"
)

const (
	hour = time.Hour
	dayD = 24 * time.Hour
)

var diskEntity = map[string]string{"host": "db-01", "path": "/data"}

// diskAt is an at-risk disk prediction made at now whose median breach is at
// breach (interval ±20%).
func diskAt(now, breach time.Time, conf float64) fleet.Prediction {
	left := breach.Sub(now)
	lo, hi := now.Add(left*8/10), now.Add(left*12/10)
	used, total, growth := 830e9, 1000e9, 20e9
	d := risk.DiskPrediction{Status: risk.DiskFilling, Now: now, Unit: "bytes", Full: risk.ETA{P10: &lo, P50: &breach, P90: &hi},
		UsedBytes: &used, TotalBytes: &total, UsedPercent: 83, GrowthBytesPerDay: &growth, GrowthPercentPerDay: 2, Confidence: conf,
		Evidence: risk.DiskEvidence{Model: "theil-sen linear on level since 2026-10-01T00:00:00Z", Fit: "linear", Basis: "level", Points: 240, R2: 0.97, MannKendallP: 1e-6}}
	return fleet.Prediction{Kind: fleet.KindDisk, ID: "disk:disk,host=db-01,path=/data", Entity: maps.Clone(diskEntity),
		Series: []string{"disk,host=db-01,path=/data#used", "disk,host=db-01,path=/data#total"}, Status: "filling", AtRisk: true,
		BreachAt: &breach, BreachP10: &lo, BreachP90: &hi, Confidence: conf, Detail: d,
		Summary: fmt.Sprintf("disk /data on db-01 full in %.1f days (%.1f–%.1f), 83.0%% used", left.Hours()/24, (left*8/10).Hours()/24, (left*12/10).Hours()/24)}
}

func diskClear(now time.Time) fleet.Prediction {
	used, total := 450e9, 1000e9
	d := risk.DiskPrediction{Status: risk.DiskShrinking, Now: now, Unit: "bytes", UsedBytes: &used, TotalBytes: &total, UsedPercent: 45, Confidence: 0.9}
	return fleet.Prediction{Kind: fleet.KindDisk, ID: "disk:disk,host=db-01,path=/data", Entity: maps.Clone(diskEntity),
		Series: []string{"disk,host=db-01,path=/data#used"}, Status: "shrinking", Confidence: 0.9, Detail: d,
		Summary: "disk /data on db-01 shrinking, 45.0% used"}
}

func diskFailed() fleet.Prediction {
	return fleet.Prediction{Kind: fleet.KindDisk, ID: "disk:disk,host=db-01,path=/data", Entity: maps.Clone(diskEntity),
		Status: "error", Error: "store timeout", Summary: "prediction failed: store timeout"}
}

var diskFP = NewFingerprint(fleet.KindDisk, diskEntity)

// sim plays the state store: it persists what Apply returns and checks the
// invariants every run must keep.
type sim struct {
	t      *testing.T
	policy Policy
	store  map[Fingerprint]Ticket
	audit  []AuditEntry
	events []Event
	keys   map[string]bool
}

func newSim(t *testing.T) *sim {
	// These tests count runs; ClearFor has its own test.
	p := DefaultPolicy()
	p.ClearFor = 0
	return &sim{t: t, policy: p, store: map[Fingerprint]Ticket{}, keys: map[string]bool{}}
}

func (s *sim) run(now time.Time, preds ...fleet.Prediction) Changes {
	s.t.Helper()
	in := maps.Clone(s.store)
	c := Apply(in, preds, s.policy, now)
	if !reflect.DeepEqual(in, s.store) {
		s.t.Fatal("Apply modified its input")
	}
	if again := Apply(maps.Clone(s.store), preds, s.policy, now); !reflect.DeepEqual(c, again) {
		s.t.Fatal("Apply is not deterministic")
	}
	for _, ch := range c.All() {
		if len(ch.Audit) == 0 {
			s.t.Fatalf("change without audit entry: %+v", ch)
		}
		prev := 0
		if ch.Before != nil {
			prev = ch.Before.Version
		}
		for _, a := range ch.Audit {
			if a.TicketID != ch.Ticket.ID || a.Version != ch.Ticket.Version || !a.At.Equal(now) || a.Actor != Engine || a.To != ch.Ticket.State {
				s.t.Fatalf("audit entry %+v does not match ticket %s v%d", a, ch.Ticket.ID, ch.Ticket.Version)
			}
		}
		if ch.Event != nil {
			if ch.Ticket.Version != prev+1 || ch.Event.Version != ch.Ticket.Version || ch.Event.TicketID != ch.Ticket.ID {
				s.t.Fatalf("notified change must bump the version once: before %d after %d event %d", prev, ch.Ticket.Version, ch.Event.Version)
			}
			if k := ch.Event.IdempotencyKey(); s.keys[k] {
				s.t.Fatalf("idempotency key %s reused", k)
			} else {
				s.keys[k] = true
			}
		} else if ch.Ticket.Version != prev {
			s.t.Fatalf("silent change bumped the version %d → %d", prev, ch.Ticket.Version)
		}
		s.store[ch.Fingerprint] = ch.Ticket
	}
	s.audit = append(s.audit, c.AuditEntries()...)
	s.events = append(s.events, c.Events()...)
	return c
}

func (s *sim) eventTypes() string {
	var out []string
	for _, e := range s.events {
		out = append(out, fmt.Sprintf("%s/v%d/%s", strings.TrimPrefix(string(e.Type), "ticket."), e.Version, e.Severity))
	}
	return strings.Join(out, " ")
}

func TestOpenTicketContent(t *testing.T) {
	s := newSim(t)
	c := s.run(t0, diskAt(t0, t0.Add(60*hour), 0.9))
	if len(c.Opened) != 1 || len(c.All()) != 1 {
		t.Fatalf("changes %+v", c)
	}
	tk := c.Opened[0].Ticket
	want := Ticket{ID: NewID(diskFP, t0), Fingerprint: "disk:host=db-01,path=/data", Kind: fleet.KindDisk, State: StateReported,
		Severity: SeverityMajor, Version: 1, AssignmentGroup: "storage-ops",
		Title: "Disk /data on db-01 full in 2.5 days (2.0–3.0), 83.0% used",
		Link:  "/api/v1/predictions?kind=disk&tag=host%3Adb-01&tag=path%3A%2Fdata", ForecastLink: "/api/v1/series/disk%2Chost%3Ddb-01%2Cpath%3D%2Fdata%23used/forecast",
		CurrentValue: "83.0% used (773 GiB of 931 GiB)"}
	if tk.ID != want.ID || tk.Fingerprint != want.Fingerprint || tk.Kind != want.Kind || tk.State != want.State || tk.Severity != want.Severity ||
		tk.Version != 1 || tk.AssignmentGroup != want.AssignmentGroup || tk.Title != want.Title || tk.Link != want.Link || tk.ForecastLink != want.ForecastLink || tk.CurrentValue != want.CurrentValue {
		t.Errorf("ticket\n got %+v\nwant %+v", tk, want)
	}
	if !strings.HasPrefix(tk.ID, "TKT-") || len(tk.ID) != 20 {
		t.Errorf("id %q", tk.ID)
	}
	if !tk.PredictedBreach.P50.Equal(t0.Add(60*hour)) || !tk.PredictedBreach.P10.Equal(t0.Add(48*hour)) || !tk.PredictedBreach.P90.Equal(t0.Add(72*hour)) {
		t.Errorf("breach %+v", tk.PredictedBreach)
	}
	if !tk.OpenedAt.Equal(t0) || !tk.SLAStartedAt.Equal(t0) || !tk.RespondBy.Equal(t0.Add(2*hour)) || !tk.ResolveBy.Equal(t0.Add(24*hour)) {
		t.Errorf("times opened %s sla %s respond %s resolve %s", tk.OpenedAt, tk.SLAStartedAt, tk.RespondBy, tk.ResolveBy)
	}
	if !strings.Contains(tk.SuggestedAction, "Expand the volume") || len(tk.Evidence) == 0 || len(tk.Highlights) == 0 {
		t.Errorf("action %q evidence %s highlights %v", tk.SuggestedAction, tk.Evidence, tk.Highlights)
	}
	ev := c.Opened[0].Event
	if ev == nil || ev.Type != EventOpened || ev.IdempotencyKey() != tk.ID+":1" || strings.Join(ev.Routes, ",") != "chat" || ev.Ticket.ID != tk.ID {
		t.Errorf("event %+v", ev)
	}
	a := c.Opened[0].Audit[0]
	if a.Action != ActionOpen || a.From != "" || a.To != StateReported || a.Details["severity"] != "major" || a.Details["eta"] != "2026-11-04 20:00 UTC" {
		t.Errorf("audit %+v", a)
	}
}

// TestDedup: repeated runs keep one ticket; the version moves only on a
// material ETA change, never backwards in severity.
func TestDedup(t *testing.T) {
	s := newSim(t)
	breach := t0.Add(60 * hour)
	s.run(t0, diskAt(t0, breach, 0.9))
	id := s.store[diskFP].ID
	steps := []struct {
		name    string
		after   time.Duration
		shift   time.Duration // of the median breach vs the first run
		changed bool
	}{
		{"same ETA", 10 * time.Minute, 0, false},
		{"jitter 30 min", 20 * time.Minute, 30 * time.Minute, false},
		{"2 h later: under 20% of ~60 h left", 30 * time.Minute, 2 * hour, false},
		{"11 h earlier: still under 20%", 40 * time.Minute, -11 * hour, false},
		{"15 h later: material", 50 * time.Minute, 15 * hour, true},
		{"same again", 60 * time.Minute, 15 * hour, false},
	}
	version := 1
	for _, st := range steps {
		now := t0.Add(st.after)
		c := s.run(now, diskAt(now, breach.Add(st.shift), 0.9))
		if len(c.Opened) != 0 || len(s.store) != 1 || s.store[diskFP].ID != id {
			t.Fatalf("%s: a second ticket: %+v", st.name, c.Opened)
		}
		if st.changed {
			version++
			if len(c.Updated) != 1 || c.Updated[0].Event.Type != EventUpdated || c.Updated[0].Audit[0].Details["eta"] != "2026-11-04 20:00 UTC → 2026-11-05 11:00 UTC" {
				t.Fatalf("%s: want one update, got %+v", st.name, c)
			}
		} else if !c.Empty() {
			t.Fatalf("%s: want no change, got %+v", st.name, c.All())
		}
		tk := s.store[diskFP]
		if tk.Version != version || tk.Severity != SeverityMajor {
			t.Fatalf("%s: version %d severity %s, want %d major", st.name, tk.Version, tk.Severity, version)
		}
	}
	// 75 h left now would be minor: no automatic downgrade.
	if got, _ := s.policy.SeverityFor(diskAt(t0, breach.Add(15*hour), 0.9), t0.Add(time.Hour)); got != SeverityMinor {
		t.Fatalf("precondition: %s", got)
	}
	if got := s.eventTypes(); got != "opened/v1/major updated/v2/major" {
		t.Errorf("events %s", got)
	}
}

func TestEscalationAsBreachNears(t *testing.T) {
	s := newSim(t)
	breach := t0.Add(6 * dayD) // fixed: time runs towards it
	runs := []struct {
		after time.Duration
		want  Severity
	}{
		{0, SeverityMinor},
		{2 * dayD, SeverityMinor},           // 4 d left
		{3*dayD + hour, SeverityMajor},      // 71 h left
		{4 * dayD, SeverityMajor},           // 48 h left
		{5*dayD + 2*hour, SeverityCritical}, // 22 h left
		{5*dayD + 3*hour, SeverityCritical}, // 21 h left
	}
	for _, r := range runs {
		now := t0.Add(r.after)
		s.run(now, diskAt(now, breach, 0.9))
		if got := s.store[diskFP].Severity; got != r.want {
			t.Fatalf("at +%s: severity %s, want %s", r.after, got, r.want)
		}
	}
	tk := s.store[diskFP]
	if !tk.RespondBy.Equal(t0.Add(30*time.Minute)) || !tk.ResolveBy.Equal(t0.Add(4*hour)) {
		t.Errorf("critical deadlines from the opening: %s %s", tk.RespondBy, tk.ResolveBy)
	}
	// The breach recedes by 5 days (someone added space): the ETA update is
	// material, the severity stays critical while the ticket is open.
	now := t0.Add(5*dayD + 4*hour)
	c := s.run(now, diskAt(now, breach.Add(5*dayD), 0.9))
	if len(c.Updated) != 1 || s.store[diskFP].Severity != SeverityCritical {
		t.Fatalf("recede: %+v severity %s", c, s.store[diskFP].Severity)
	}
	if got := s.eventTypes(); got != "opened/v1/minor escalated/v2/major escalated/v3/critical updated/v4/critical" {
		t.Errorf("events %s", got)
	}
	routes := map[Severity]string{}
	for _, e := range s.events {
		routes[e.Severity] = strings.Join(e.Routes, ",")
	}
	if routes[SeverityMinor] != "email" || routes[SeverityMajor] != "chat" || routes[SeverityCritical] != "chat,sms" {
		t.Errorf("routes %v", routes)
	}
	var esc []string
	for _, a := range s.audit {
		if a.Action == ActionEscalate {
			esc = append(esc, a.Details["severity"])
		}
	}
	if strings.Join(esc, "; ") != "minor → major; major → critical" {
		t.Errorf("escalation audit %v", esc)
	}
	// A low-confidence prediction does not escalate.
	s2 := newSim(t)
	s2.run(t0, diskAt(t0, t0.Add(5*dayD), 0.9))
	c = s2.run(t0.Add(hour), diskAt(t0.Add(hour), t0.Add(5*hour), 0.1))
	if len(c.Escalated) != 0 || len(c.Updated) != 1 || s2.store[diskFP].Severity != SeverityMinor {
		t.Errorf("low confidence escalated: %+v", c)
	}
}

func TestHysteresis(t *testing.T) {
	type step struct {
		pred   string // risk, clear, error, missing
		streak int
		state  State
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"three clear runs resolve", []step{{"clear", 1, StateReported}, {"clear", 2, StateReported}, {"clear", 3, StateAutoResolved}}},
		{"risk resets the streak", []step{{"clear", 1, StateReported}, {"clear", 2, StateReported}, {"risk", 0, StateReported},
			{"clear", 1, StateReported}, {"clear", 2, StateReported}, {"clear", 3, StateAutoResolved}}},
		{"failed predictions neither count nor reset", []step{{"clear", 1, StateReported}, {"error", 1, StateReported},
			{"clear", 2, StateReported}, {"error", 2, StateReported}, {"clear", 3, StateAutoResolved}}},
		{"a missing entity is not clear", []step{{"clear", 1, StateReported}, {"missing", 1, StateReported}, {"missing", 1, StateReported},
			{"clear", 2, StateReported}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newSim(t)
			s.run(t0, diskAt(t0, t0.Add(2*dayD), 0.9))
			for i, st := range tc.steps {
				now := t0.Add(time.Duration(i+1) * 15 * time.Minute)
				var preds []fleet.Prediction
				switch st.pred {
				case "risk":
					preds = append(preds, diskAt(now, t0.Add(2*dayD), 0.9))
				case "clear":
					preds = append(preds, diskClear(now))
				case "error":
					preds = append(preds, diskFailed())
				}
				c := s.run(now, preds...)
				tk := s.store[diskFP]
				if tk.ClearStreak != st.streak || tk.State != st.state {
					t.Fatalf("step %d (%s): streak %d state %s, want %d %s", i, st.pred, tk.ClearStreak, tk.State, st.streak, st.state)
				}
				if st.pred == "missing" && (len(c.Unobserved) != 1 || c.Unobserved[0] != diskFP || !c.Empty()) {
					t.Fatalf("step %d: unobserved %v, changes %+v", i, c.Unobserved, c.All())
				}
				if st.state == StateAutoResolved {
					tk := c.Resolved[0].Ticket
					if tk.ResolveReason != "risk cleared for 3 consecutive runs: disk /data on db-01 shrinking, 45.0% used" ||
						tk.Version != 2 || tk.ResolvedAt == nil || !tk.ResolvedAt.Equal(now) || c.Resolved[0].Event.Type != EventResolved {
						t.Fatalf("resolution %+v", c.Resolved[0])
					}
					if a := c.Resolved[0].Audit[0]; a.Action != ActionAutoResolve || a.From != StateReported || a.To != StateAutoResolved || a.Reason != tk.ResolveReason {
						t.Fatalf("audit %+v", a)
					}
				}
			}
		})
	}
	// Every clear-streak change is audited without notification.
	s := newSim(t)
	s.run(t0, diskAt(t0, t0.Add(2*dayD), 0.9))
	c := s.run(t0.Add(time.Minute), diskClear(t0))
	if len(c.Streaks) != 1 || c.Streaks[0].Event != nil || c.Streaks[0].Audit[0].Details["clear_streak"] != "0 → 1" ||
		c.Streaks[0].Audit[0].Reason != "not at risk (1 of 3 runs): disk /data on db-01 shrinking, 45.0% used" {
		t.Fatalf("streak change %+v", c.Streaks)
	}
}

// resolved returns a sim whose disk ticket auto-resolved at the returned time.
func resolved(t *testing.T) (*sim, time.Time) {
	s := newSim(t)
	s.run(t0, diskAt(t0, t0.Add(2*dayD), 0.9))
	var now time.Time
	for i := 1; i <= 3; i++ {
		now = t0.Add(time.Duration(i) * hour)
		s.run(now, diskClear(now))
	}
	if s.store[diskFP].State != StateAutoResolved {
		t.Fatal("not resolved")
	}
	return s, now
}

func TestReopen(t *testing.T) {
	s, res := resolved(t)
	id := s.store[diskFP].ID
	now := res.Add(2 * dayD)
	c := s.run(now, diskAt(now, now.Add(20*hour), 0.9))
	if len(c.Reopened) != 1 || len(c.Opened) != 0 {
		t.Fatalf("changes %+v", c)
	}
	tk := s.store[diskFP]
	if tk.ID != id || tk.State != StateReopened || tk.Reopens != 1 || tk.Version != 3 || tk.Severity != SeverityCritical ||
		tk.ResolvedAt != nil || tk.ResolveReason != "" || tk.ClearStreak != 0 || !tk.SLAStartedAt.Equal(now) ||
		!tk.RespondBy.Equal(now.Add(30*time.Minute)) || !tk.OpenedAt.Equal(t0) || !tk.PredictedBreach.P50.Equal(now.Add(20*hour)) {
		t.Fatalf("reopened ticket %+v", tk)
	}
	a := c.Reopened[0].Audit[0]
	if a.Action != ActionReopen || a.From != StateAutoResolved || a.To != StateReopened || a.Details["severity"] != "major → critical" ||
		!strings.HasPrefix(a.Reason, "risk recurred within the reopen window: disk /data on db-01 full in 0.8 days") {
		t.Fatalf("audit %+v", a)
	}
	if got := s.eventTypes(); got != "opened/v1/major resolved/v2/major reopened/v3/critical" {
		t.Errorf("events %s", got)
	}
	// The reopened ticket flows again and is updated like any open one.
	tk, _, err := Transition(tk, StateAssigned, "bob", "on it", now.Add(time.Minute))
	if err != nil || tk.RespondedAt == nil {
		t.Fatal(err)
	}
}

func TestReopenClosedWithinWindow(t *testing.T) {
	s, res := resolved(t)
	tk, _, err := Transition(s.store[diskFP], StateClosed, "desk", "confirmed", res.Add(hour))
	if err != nil {
		t.Fatal(err)
	}
	s.store[diskFP] = tk
	now := res.Add(7 * dayD) // the window is inclusive
	c := s.run(now, diskAt(now, now.Add(50*hour), 0.9))
	if len(c.Reopened) != 1 || c.Reopened[0].Audit[0].From != StateClosed || s.store[diskFP].ID != tk.ID || s.store[diskFP].ClosedAt != nil {
		t.Fatalf("closed ticket not reopened: %+v", c)
	}
}

func TestNewTicketAfterWindow(t *testing.T) {
	// Recurrence after the window: the stale resolved ticket is closed and a
	// new one opened, in that order.
	s, res := resolved(t)
	old := s.store[diskFP]
	now := res.Add(7*dayD + time.Minute)
	c := s.run(now, diskAt(now, now.Add(50*hour), 0.9))
	if len(c.Closed) != 1 || len(c.Opened) != 1 || len(c.Reopened) != 0 {
		t.Fatalf("changes %+v", c)
	}
	all := c.All()
	if all[0].Ticket.ID != old.ID || all[0].Ticket.State != StateClosed || all[1].Ticket.ID == old.ID || all[1].Ticket.Version != 1 {
		t.Fatalf("order/ids: %s %s %s", all[0].Ticket.ID, all[0].Ticket.State, all[1].Ticket.ID)
	}
	if s.store[diskFP].ID != NewID(diskFP, now) || s.store[diskFP].Reopens != 0 {
		t.Fatal("store does not hold the new ticket")
	}
	// Quiet window: auto-close; a later recurrence of a closed ticket past
	// the window opens a new one without closing anything.
	s, res = resolved(t)
	now = res.Add(8 * dayD)
	c = s.run(now, diskClear(now))
	if len(c.Closed) != 1 || c.Closed[0].Event.Type != EventClosed || c.Closed[0].Audit[0].Action != ActionAutoClose ||
		c.Closed[0].Audit[0].Reason != "no recurrence within 168h0m0s of the resolution" {
		t.Fatalf("auto-close %+v", c)
	}
	now = now.Add(dayD)
	c = s.run(now, diskAt(now, now.Add(50*hour), 0.9))
	if len(c.Opened) != 1 || len(c.Closed) != 0 {
		t.Fatalf("after close %+v", c)
	}
	// Without auto-close, a quiet resolved ticket stays as it is.
	s, res = resolved(t)
	s.policy.AutoClose = false
	if c := s.run(res.Add(30*dayD), diskClear(res)); !c.Empty() {
		t.Fatalf("auto-close off: %+v", c.All())
	}
}

func TestNeverOpens(t *testing.T) {
	soon := t0.Add(10 * hour)
	mk := func(f func(*fleet.Prediction)) fleet.Prediction {
		p := diskAt(t0, soon, 0.9)
		f(&p)
		return p
	}
	cases := []struct {
		name string
		pred fleet.Prediction
		why  string
	}{
		{"error", diskFailed(), "prediction failed: store timeout"},
		{"insufficient history", mk(func(p *fleet.Prediction) { p.Status = "insufficient_history"; p.AtRisk = false }), "insufficient history"},
		{"insufficient history claiming risk", mk(func(p *fleet.Prediction) { p.Status = "insufficient_history" }), "insufficient history"},
		{"low confidence", mk(func(p *fleet.Prediction) { p.Confidence = 0.1 }), "confidence 0.10 under the minimum 0.30"},
		{"too far", diskAt(t0, t0.Add(10*dayD), 0.9), "beyond 168h0m0s"},
	}
	for _, c := range cases {
		ch := Apply(nil, []fleet.Prediction{c.pred}, DefaultPolicy(), t0)
		if !ch.Empty() || len(ch.Ignored) != 1 || !strings.Contains(ch.Ignored[0].Reason, c.why) || ch.Ignored[0].Fingerprint != diskFP {
			t.Errorf("%s: %+v", c.name, ch)
		}
	}
	if ch := Apply(nil, []fleet.Prediction{diskClear(t0)}, DefaultPolicy(), t0); !ch.Empty() || len(ch.Ignored) != 0 {
		t.Errorf("healthy entity: %+v", ch)
	}
	// A failed prediction never reopens a resolved ticket either.
	s, res := resolved(t)
	if c := s.run(res.Add(hour), diskFailed()); !c.Empty() {
		t.Errorf("failed prediction changed a resolved ticket: %+v", c.All())
	}
}

func TestDuplicatesAndManyEntities(t *testing.T) {
	a := diskAt(t0, t0.Add(60*hour), 0.9)
	b := diskAt(t0, t0.Add(20*hour), 0.9)
	b.ID = "disk:other_source,host=db-01,path=/data"
	c := Apply(nil, []fleet.Prediction{a, b, diskFailed()}, DefaultPolicy(), t0)
	if len(c.Opened) != 1 || c.Opened[0].Ticket.Severity != SeverityCritical || c.Opened[0].Ticket.PredictionID != b.ID {
		t.Fatalf("duplicate fingerprint: %+v", c.Opened)
	}
	if len(c.Ignored) != 2 {
		t.Fatalf("ignored %+v", c.Ignored)
	}
	// Several entities: sorted, one ticket each.
	var preds []fleet.Prediction
	for _, h := range []string{"db-03", "db-01", "db-02"} {
		p := diskAt(t0, t0.Add(30*hour), 0.9)
		p.Entity = map[string]string{"host": h, "path": "/data"}
		preds = append(preds, p)
	}
	c = Apply(map[Fingerprint]Ticket{}, preds, DefaultPolicy(), t0)
	var fps []string
	for _, ch := range c.Opened {
		fps = append(fps, string(ch.Fingerprint))
	}
	if strings.Join(fps, " ") != "disk:host=db-01,path=/data disk:host=db-02,path=/data disk:host=db-03,path=/data" {
		t.Errorf("opened %v", fps)
	}
}

func TestDisabledKindStillResolves(t *testing.T) {
	s := newSim(t)
	s.run(t0, diskAt(t0, t0.Add(2*dayD), 0.9))
	s.policy.Kinds.Disk.Open = false
	for i := 1; i <= 3; i++ {
		now := t0.Add(time.Duration(i) * hour)
		s.run(now, diskClear(now))
	}
	if s.store[diskFP].State != StateAutoResolved {
		t.Fatalf("state %s", s.store[diskFP].State)
	}
	now := t0.Add(dayD)
	if c := s.run(now, diskAt(now, now.Add(hour), 0.9)); len(c.Reopened)+len(c.Opened) != 0 {
		t.Fatalf("disabled kind reopened/opened: %+v", c.All())
	}
}

func TestFingerprint(t *testing.T) {
	cases := []struct {
		kind   fleet.Kind
		entity map[string]string
		want   Fingerprint
	}{
		{fleet.KindDisk, map[string]string{"path": "/data", "host": "db-01"}, "disk:host=db-01,path=/data"},
		{fleet.KindMemLeak, map[string]string{"host": "app-01", "service": "gl"}, "memleak:host=app-01,service=gl"},
		{fleet.KindMonthEnd, map[string]string{"host": "erp", "metric": "cpu.usage"}, "monthend:host=erp,metric=cpu.usage"},
		{fleet.KindDisk, map[string]string{"a": "x,b=y"}, `disk:a=x\,b\=y`},
		{fleet.KindDisk, map[string]string{"a": "x", "b": "y"}, "disk:a=x,b=y"},
		{fleet.KindDisk, nil, "disk:"},
	}
	for _, c := range cases {
		if got := NewFingerprint(c.kind, c.entity); got != c.want {
			t.Errorf("%v: %s, want %s", c.entity, got, c.want)
		}
	}
	a, b, c := NewID(diskFP, t0), NewID(diskFP, t0.In(time.FixedZone("CET", 3600))), NewID(diskFP, t0.Add(time.Nanosecond))
	if a != b || a == c {
		t.Error("NewID is not a deterministic function of fingerprint and time")
	}
}

func TestFullDiskIsNotNewsEveryRun(t *testing.T) {
	s := newSim(t)
	for i := 0; i <= 12; i++ {
		now := t0.Add(time.Duration(i) * 15 * time.Minute)
		p := diskAt(now, now, 0.9) // risk.reachedETA: P10 = P50 = P90 = now
		p.Summary = "disk /data on db-01 is full"
		s.run(now, p)
	}
	if got := s.eventTypes(); got != "opened/v1/critical" {
		t.Errorf("events %s", got)
	}
}

func TestUnknownStateLeftAlone(t *testing.T) {
	open := map[Fingerprint]Ticket{diskFP: {ID: "TKT-X", Fingerprint: diskFP, State: "on_hold"}}
	c := Apply(open, []fleet.Prediction{diskAt(t0, t0.Add(hour), 0.9)}, DefaultPolicy(), t0)
	if !c.Empty() || len(c.Ignored) != 1 || c.Ignored[0].Reason != `ticket TKT-X has unknown state "on_hold": left alone` {
		t.Errorf("%+v", c)
	}
}

// TestClearForHoldsResolution: with runs every 15 minutes, three clear runs
// are not enough; the risk must stay clear for ClearFor (6 h) — a
// predictor hesitating for an hour after a slope change cannot flap the
// ticket — and a risky run in between starts the clock again.
func TestClearForHoldsResolution(t *testing.T) {
	s := newSim(t)
	s.policy.ClearFor = 6 * time.Hour
	s.run(t0, diskAt(t0, t0.Add(2*dayD), 0.9))
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * 15 * time.Minute) }
	for i := 1; i <= 4; i++ { // an hour of "stable"
		s.run(at(i), diskClear(at(i)))
	}
	if st := s.store[diskFP]; st.State != StateReported || st.ClearStreak != 4 || st.ClearSince == nil || !st.ClearSince.Equal(at(1)) {
		t.Fatalf("after an hour clear: %s streak %d since %v", st.State, st.ClearStreak, st.ClearSince)
	}
	s.run(at(5), diskAt(at(5), t0.Add(2*dayD), 0.9)) // filling again
	if st := s.store[diskFP]; st.ClearStreak != 0 || st.ClearSince != nil {
		t.Fatalf("risk must reset the clock: streak %d since %v", st.ClearStreak, st.ClearSince)
	}
	i := 6
	for ; i <= 6+24; i++ { // 6 h of clear runs
		s.run(at(i), diskClear(at(i)))
		if s.store[diskFP].State == StateAutoResolved {
			break
		}
	}
	if got := at(i).Sub(at(6)); s.store[diskFP].State != StateAutoResolved || got != 6*time.Hour {
		t.Fatalf("resolved after %s clear (state %s), want exactly 6h", got, s.store[diskFP].State)
	}
}
