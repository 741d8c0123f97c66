package ticket

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/seed-f1b503aa/foresight/engine/fleet"
)

// Policy decides which predictions open tickets and how tickets are run. It
// is loaded from the configuration's YAML (durations as Go durations, e.g.
// "72h"); DefaultPolicy is what ships.
type Policy struct {
	// Kinds configures each risk kind.
	Kinds KindPolicies `yaml:"kinds"`
	// Routes maps severities to webhook target names.
	Routes Routes `yaml:"routes"`
	// ClearRuns is the hysteresis: the number of consecutive runs in which
	// the predictor says "not at risk" before an open ticket auto-resolves
	// (default 3; values below 1 count as 1).
	ClearRuns int `yaml:"clear_runs"`
	// ClearFor is the other half of the hysteresis: the risk must also
	// have stayed clear this long (default 6 h). Runs every 15 minutes
	// make three clear runs only 30 minutes, and a predictor hesitating
	// right after a slope change can say "stable" for an hour; a ticket
	// must not flap resolved/reopened on that.
	ClearFor time.Duration `yaml:"clear_for"`
	// ReopenWindow: a recurrence within this time of the resolution
	// reopens the ticket instead of opening a new one (default 7 days).
	ReopenWindow time.Duration `yaml:"reopen_window"`
	// AutoClose closes resolved tickets (verified, auto_resolved) once the
	// reopen window has passed without recurrence.
	AutoClose bool `yaml:"auto_close"`
	// Material says when an ETA change is worth an update.
	Material Material `yaml:"material"`
	// SLA holds the response and resolution targets per severity.
	SLA SLAPolicy `yaml:"sla"`
}

// KindPolicies holds one KindPolicy per risk kind.
type KindPolicies struct {
	Disk     KindPolicy `yaml:"disk"`
	MemLeak  KindPolicy `yaml:"memleak"`
	MonthEnd KindPolicy `yaml:"monthend"`
}

// KindPolicy configures tickets for one risk kind. Severity follows the time
// from now to the predicted breach (median): under CriticalWithin critical,
// under MajorWithin major, under MinorWithin minor; later than that the
// prediction is visible in the API but opens no ticket yet. A breach already
// passed is critical.
type KindPolicy struct {
	// Open enables opening tickets for the kind. Existing tickets of a
	// disabled kind are still updated and resolved.
	Open bool `yaml:"open"`
	// MinConfidence is the least Prediction.Confidence that opens, reopens
	// or escalates a ticket.
	MinConfidence  float64       `yaml:"min_confidence"`
	CriticalWithin time.Duration `yaml:"critical_within"`
	MajorWithin    time.Duration `yaml:"major_within"`
	MinorWithin    time.Duration `yaml:"minor_within"`
	// NoETASeverity is the severity of an at-risk prediction without a
	// breach time (a leak with no known memory limit); "" opens no ticket.
	NoETASeverity Severity `yaml:"no_eta_severity"`
	// AssignmentGroup is the resolver group the tickets go to.
	AssignmentGroup string `yaml:"assignment_group"`
	// SuggestedAction is the first thing to do, shown in the ticket.
	SuggestedAction string `yaml:"suggested_action"`
}

// Routes are the webhook target names per severity (the notify package
// resolves the names). Resolutions and closings go to the ticket's
// severity's targets too.
type Routes struct {
	Critical []string `yaml:"critical"`
	Major    []string `yaml:"major"`
	Minor    []string `yaml:"minor"`
}

// For returns the targets of severity s (a copy; nil for none).
func (r Routes) For(s Severity) []string {
	switch s {
	case SeverityCritical:
		return slices.Clone(r.Critical)
	case SeverityMajor:
		return slices.Clone(r.Major)
	case SeverityMinor:
		return slices.Clone(r.Minor)
	}
	return nil
}

// Material says when a new ETA is worth an update: when the median moves by
// more than the larger of ETAShiftMin and ETAShiftFraction of the time that
// was left to it. Both must be exceeded so that the run-to-run jitter of a
// far ETA (hours on a week) does not page anyone. An ETA appearing or
// disappearing is always material; so are severity and state changes.
type Material struct {
	ETAShiftFraction float64       `yaml:"eta_shift_fraction"`
	ETAShiftMin      time.Duration `yaml:"eta_shift_min"`
}

// SLAPolicy holds the SLA targets per severity.
type SLAPolicy struct {
	Critical SLATarget `yaml:"critical"`
	Major    SLATarget `yaml:"major"`
	Minor    SLATarget `yaml:"minor"`
}

// SLATarget is the time to respond (reach assigned or in_progress) and the
// time to resolve (reach verified or auto_resolved), counted from the
// opening or the latest reopening.
type SLATarget struct {
	Respond time.Duration `yaml:"respond"`
	Resolve time.Duration `yaml:"resolve"`
}

// For returns the target of severity s (zero for none).
func (p SLAPolicy) For(s Severity) SLATarget {
	switch s {
	case SeverityCritical:
		return p.Critical
	case SeverityMajor:
		return p.Major
	case SeverityMinor:
		return p.Minor
	}
	return SLATarget{}
}

const day = 24 * time.Hour

// DefaultPolicy is the shipped policy:
//
//	kind      critical  major  minor  min confidence  group
//	disk      < 24h     < 72h  < 7d   0.3             storage-ops
//	memleak   < 24h     < 72h  < 7d   0.3             app-ops      (no limit known: minor)
//	monthend  < 24h     < 3d   < 30d  0.5             capacity
//
// Routes: critical → chat + sms, major → chat, minor → email. Hysteresis 3
// runs, reopen window 7 days, auto-close on. ETA updates when it moves by
// more than 20% of the time left and at least 1 h. SLA (respond / resolve):
// critical 30 min / 4 h, major 2 h / 24 h, minor 8 h / 72 h.
func DefaultPolicy() Policy {
	return Policy{
		Kinds: KindPolicies{
			Disk: KindPolicy{Open: true, MinConfidence: 0.3, CriticalWithin: day, MajorWithin: 3 * day, MinorWithin: 7 * day,
				AssignmentGroup: "storage-ops",
				SuggestedAction: "Expand the volume, or free space first: clean up or rotate logs, purge temp and old backup files, archive cold data; then check what is growing."},
			MemLeak: KindPolicy{Open: true, MinConfidence: 0.3, CriticalWithin: day, MajorWithin: 3 * day, MinorWithin: 7 * day,
				NoETASeverity: SeverityMinor, AssignmentGroup: "app-ops",
				SuggestedAction: "Capture a heap profile/dump now, then restart the leaking service in a quiet window (or roll back the release that introduced the leak) before it runs out of memory."},
			MonthEnd: KindPolicy{Open: true, MinConfidence: 0.5, CriticalWithin: day, MajorWithin: 3 * day, MinorWithin: 30 * day,
				AssignmentGroup: "capacity",
				SuggestedAction: "Before the close window: scale out the application and report servers, raise the database connection pool, and reschedule non-essential batch jobs out of the window."},
		},
		Routes:       Routes{Critical: []string{"chat", "sms"}, Major: []string{"chat"}, Minor: []string{"email"}},
		ClearRuns:    3,
		ClearFor:     6 * time.Hour,
		ReopenWindow: 7 * day,
		AutoClose:    true,
		Material:     Material{ETAShiftFraction: 0.2, ETAShiftMin: time.Hour},
		SLA: SLAPolicy{
			Critical: SLATarget{Respond: 30 * time.Minute, Resolve: 4 * time.Hour},
			Major:    SLATarget{Respond: 2 * time.Hour, Resolve: 24 * time.Hour},
			Minor:    SLATarget{Respond: 8 * time.Hour, Resolve: 72 * time.Hour},
		},
	}
}

// Kind returns the policy of kind k (the zero KindPolicy, which opens
// nothing, for an unknown kind).
func (p Policy) Kind(k fleet.Kind) KindPolicy {
	switch k {
	case fleet.KindDisk:
		return p.Kinds.Disk
	case fleet.KindMemLeak:
		return p.Kinds.MemLeak
	case fleet.KindMonthEnd:
		return p.Kinds.MonthEnd
	}
	return KindPolicy{}
}

// Validate reports every inconsistent value at once.
func (p Policy) Validate() error {
	var errs []error
	for _, k := range []struct {
		name string
		kp   KindPolicy
	}{{"disk", p.Kinds.Disk}, {"memleak", p.Kinds.MemLeak}, {"monthend", p.Kinds.MonthEnd}} {
		kp, at := k.kp, "tickets.kinds."+k.name
		if kp.MinConfidence < 0 || kp.MinConfidence > 1 {
			errs = append(errs, fmt.Errorf("%s.min_confidence: %g is not in [0, 1]", at, kp.MinConfidence))
		}
		if kp.CriticalWithin < 0 || kp.MajorWithin < kp.CriticalWithin || kp.MinorWithin < kp.MajorWithin {
			errs = append(errs, fmt.Errorf("%s: need 0 <= critical_within <= major_within <= minor_within (got %s, %s, %s)",
				at, kp.CriticalWithin, kp.MajorWithin, kp.MinorWithin))
		}
		if kp.NoETASeverity.Rank() < 0 {
			errs = append(errs, fmt.Errorf("%s.no_eta_severity: %q is not minor, major, critical or empty", at, kp.NoETASeverity))
		}
		if kp.Open && kp.AssignmentGroup == "" {
			errs = append(errs, fmt.Errorf("%s.assignment_group: required when open is true", at))
		}
	}
	if p.ClearRuns < 1 {
		errs = append(errs, fmt.Errorf("tickets.clear_runs: %d, need at least 1", p.ClearRuns))
	}
	if p.ReopenWindow < 0 {
		errs = append(errs, errors.New("tickets.reopen_window: must not be negative"))
	}
	if p.Material.ETAShiftFraction < 0 || p.Material.ETAShiftMin < 0 {
		errs = append(errs, errors.New("tickets.material: eta_shift_fraction and eta_shift_min must not be negative"))
	}
	for _, s := range []struct {
		name string
		t    SLATarget
	}{{"critical", p.SLA.Critical}, {"major", p.SLA.Major}, {"minor", p.SLA.Minor}} {
		if s.t.Respond <= 0 || s.t.Resolve < s.t.Respond {
			errs = append(errs, fmt.Errorf("tickets.sla.%s: need 0 < respond <= resolve (got %s, %s)", s.name, s.t.Respond, s.t.Resolve))
		}
	}
	return errors.Join(errs...)
}

// SeverityFor is the severity the policy gives prediction p at now, or
// SeverityNone with the reason when p would open no ticket: a failed or
// insufficient-history prediction, not at risk, a kind that opens no
// tickets, confidence under the minimum, or a breach beyond MinorWithin.
func (p Policy) SeverityFor(pred fleet.Prediction, now time.Time) (Severity, string) {
	if why := unusable(pred); why != "" {
		return SeverityNone, why
	}
	if !pred.AtRisk {
		return SeverityNone, "not at risk"
	}
	kp := p.Kind(pred.Kind)
	if !kp.Open {
		return SeverityNone, fmt.Sprintf("kind %s opens no tickets", pred.Kind)
	}
	if pred.Confidence < kp.MinConfidence {
		return SeverityNone, fmt.Sprintf("confidence %.2f under the minimum %.2f", pred.Confidence, kp.MinConfidence)
	}
	if pred.BreachAt == nil {
		if kp.NoETASeverity == SeverityNone {
			return SeverityNone, "no breach time predicted"
		}
		return kp.NoETASeverity, ""
	}
	left := pred.BreachAt.Sub(now)
	switch {
	case left < kp.CriticalWithin:
		return SeverityCritical, ""
	case left < kp.MajorWithin:
		return SeverityMajor, ""
	case left < kp.MinorWithin:
		return SeverityMinor, ""
	}
	return SeverityNone, fmt.Sprintf("breach in %s, beyond %s", left.Round(time.Minute), kp.MinorWithin)
}

// unusable says why a prediction carries no verdict (failed, insufficient
// history), or "" when it does.
func unusable(p fleet.Prediction) string {
	switch {
	case p.Error != "":
		return "prediction failed: " + p.Error
	case p.Status == "error":
		return "prediction failed"
	case p.Status == "insufficient_history":
		return "insufficient history"
	}
	return ""
}
