package ticket

import (
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/seed-f1b503aa/foresight/engine/fleet"
)

func at(d time.Duration) *time.Time { x := t0.Add(d); return &x }

func pred(kind fleet.Kind, eta *time.Time, conf float64) fleet.Prediction {
	return fleet.Prediction{Kind: kind, ID: string(kind) + ":x", Entity: map[string]string{"host": "db-01"}, Status: "filling",
		AtRisk: true, BreachAt: eta, Confidence: conf, Summary: "s"}
}

func TestSeverityThresholds(t *testing.T) {
	p := DefaultPolicy()
	h := time.Hour
	cases := []struct {
		name string
		pred fleet.Prediction
		want Severity
		why  string
	}{
		{"disk already full", pred(fleet.KindDisk, at(-h), 0.9), SeverityCritical, ""},
		{"disk 23h59", pred(fleet.KindDisk, at(24*h-time.Minute), 0.9), SeverityCritical, ""},
		{"disk 24h", pred(fleet.KindDisk, at(24*h), 0.9), SeverityMajor, ""},
		{"disk 71h", pred(fleet.KindDisk, at(71*h), 0.9), SeverityMajor, ""},
		{"disk 72h", pred(fleet.KindDisk, at(72*h), 0.9), SeverityMinor, ""},
		{"disk 6d23h", pred(fleet.KindDisk, at(7*24*h-h), 0.9), SeverityMinor, ""},
		{"disk 7d", pred(fleet.KindDisk, at(7*24*h), 0.9), SeverityNone, "breach in 168h0m0s, beyond 168h0m0s"},
		{"disk no ETA", pred(fleet.KindDisk, nil, 0.9), SeverityNone, "no breach time predicted"},
		{"leak 10h", pred(fleet.KindMemLeak, at(10*h), 0.9), SeverityCritical, ""},
		{"leak 2d", pred(fleet.KindMemLeak, at(48*h), 0.9), SeverityMajor, ""},
		{"leak without limit", pred(fleet.KindMemLeak, nil, 0.9), SeverityMinor, ""},
		{"monthend 2d", pred(fleet.KindMonthEnd, at(48*h), 0.8), SeverityMajor, ""},
		{"monthend 20d", pred(fleet.KindMonthEnd, at(20*24*h), 0.8), SeverityMinor, ""},
		{"monthend 31d", pred(fleet.KindMonthEnd, at(31*24*h), 0.8), SeverityNone, "beyond"},
		{"low confidence", pred(fleet.KindDisk, at(h), 0.29), SeverityNone, "confidence 0.29 under the minimum 0.30"},
		{"monthend low probability", pred(fleet.KindMonthEnd, at(h), 0.4), SeverityNone, "under the minimum 0.50"},
		{"not at risk", func() fleet.Prediction { x := pred(fleet.KindDisk, at(h), 0.9); x.AtRisk = false; return x }(), SeverityNone, "not at risk"},
		{"error", func() fleet.Prediction { x := pred(fleet.KindDisk, at(h), 0.9); x.Error = "boom"; return x }(), SeverityNone, "prediction failed: boom"},
		{"insufficient history", func() fleet.Prediction {
			x := pred(fleet.KindMemLeak, at(h), 0.9)
			x.Status = "insufficient_history"
			return x
		}(), SeverityNone, "insufficient history"},
		{"unknown kind", pred(fleet.Kind("cpu"), at(h), 0.9), SeverityNone, "kind cpu opens no tickets"},
	}
	for _, c := range cases {
		got, why := p.SeverityFor(c.pred, t0)
		if got != c.want || !strings.Contains(why, c.why) || (c.why == "" && why != "") {
			t.Errorf("%s: got %q (%s), want %q (%s)", c.name, got, why, c.want, c.why)
		}
	}
	off := DefaultPolicy()
	off.Kinds.Disk.Open = false
	if got, why := off.SeverityFor(pred(fleet.KindDisk, at(h), 0.9), t0); got != SeverityNone || why != "kind disk opens no tickets" {
		t.Errorf("disabled kind: %q %s", got, why)
	}
}

func TestPolicyValidate(t *testing.T) {
	if err := DefaultPolicy().Validate(); err != nil {
		t.Fatalf("default policy invalid: %v", err)
	}
	bad := DefaultPolicy()
	bad.ClearRuns = 0
	bad.Kinds.Disk.MajorWithin = time.Hour // below critical_within
	bad.Kinds.MemLeak.MinConfidence = 2
	bad.SLA.Major.Resolve = time.Minute
	err := bad.Validate()
	for _, want := range []string{"tickets.clear_runs", "tickets.kinds.disk: need 0 <= critical_within", "tickets.kinds.memleak.min_confidence", "tickets.sla.major"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want it to mention %q", err, want)
		}
	}
}

func TestPolicyYAML(t *testing.T) {
	src := `
kinds:
  disk: {open: true, min_confidence: 0.6, critical_within: 12h, major_within: 48h, minor_within: 240h, assignment_group: dba}
  memleak: {open: false}
  monthend: {open: true, min_confidence: 0.5, critical_within: 24h, major_within: 72h, minor_within: 720h, assignment_group: capacity}
routes: {critical: [dingtalk, sms], major: [wecom], minor: [mail]}
clear_runs: 5
reopen_window: 72h
auto_close: false
material: {eta_shift_fraction: 0.1, eta_shift_min: 30m}
sla:
  critical: {respond: 15m, resolve: 2h}
  major: {respond: 1h, resolve: 8h}
  minor: {respond: 4h, resolve: 48h}
`
	var p Policy
	if err := yaml.Unmarshal([]byte(src), &p); err != nil {
		t.Fatal(err)
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if p.ClearRuns != 5 || p.ReopenWindow != 72*time.Hour || p.Kinds.Disk.CriticalWithin != 12*time.Hour ||
		p.Kinds.Disk.AssignmentGroup != "dba" || p.Kinds.MemLeak.Open || p.SLA.Critical.Respond != 15*time.Minute ||
		p.Material.ETAShiftMin != 30*time.Minute || strings.Join(p.Routes.For(SeverityCritical), ",") != "dingtalk,sms" {
		t.Fatalf("decoded %+v", p)
	}
	if got, _ := p.SeverityFor(pred(fleet.KindDisk, at(200*time.Hour), 0.7), t0); got != SeverityMinor {
		t.Errorf("custom thresholds: %q", got)
	}
	if r := p.Routes.For(SeverityNone); r != nil {
		t.Errorf("routes for none: %v", r)
	}
}
