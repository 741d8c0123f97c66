package benchmark

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/seed-f1b503aa/foresight/datasets"
)

// TestScenariosDiskSmall runs a small configuration of the disk benchmark
// (one seed, three hosts) and checks its bookkeeping and the targets there.
func TestScenariosDiskSmall(t *testing.T) {
	rep, err := ScenariosDisk(context.Background(), DiskScenarioOptions{
		Seeds:     []uint64{1},
		Hosts:     3,
		Days:      60,
		Lookback:  30 * 24 * time.Hour,
		CutDays:   []float64{0},
		QuietNows: 3,
	})
	if err != nil {
		t.Fatal(err)
	}
	// 3 hosts: the linear disks are erp-app-01 /opt/erp (accelerating) and
	// rpt-01 /archive (grown): 2 disks × 4 leads.
	var lead, natural, quiet int
	for _, c := range rep.Cases {
		switch c.Type {
		case "lead":
			lead++
			if c.Kind != datasets.KindDiskFillAccelerating && c.Kind != datasets.KindDiskGrown {
				t.Errorf("lead case on %s (%s)", c.Series, c.Kind)
			}
		case "natural":
			natural++
		case "quiet":
			quiet++
		}
		if !(c.ETA10 <= c.ETA50 && c.ETA50 <= c.ETA90) && !math.IsInf(c.ETA50, 1) {
			t.Errorf("%s: quantiles %v %v %v", c.Series, c.ETA10, c.ETA50, c.ETA90)
		}
	}
	if lead != 8 || natural == 0 || quiet == 0 {
		t.Fatalf("%d lead, %d natural, %d quiet cases", lead, natural, quiet)
	}
	if got := rep.Options.LeadDays; got[0] != 14 || got[3] != 1 {
		t.Errorf("lead days %v, want 14, 7, 3, 1", got)
	}
	for _, w := range rep.Leads {
		if w.LeadDays == 3 && (w.Cases != 2 || w.MedianAPE > 10 || w.NoETA != 0) {
			t.Errorf("3-day row %+v", w)
		}
	}
	all := rep.Quiet[len(rep.Quiet)-1]
	if all.Kind != "all" || all.Alarms != 0 || all.PL6 == 0 {
		t.Errorf("false-alarm row %+v: want none of ours and some of predict_linear", all)
	}
	md := rep.Markdown()
	for _, want := range []string{"## Disk exhaustion scenarios", "| 3 | 2 |", "| disk_sawtooth |", "Targets:"} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md)
		}
	}
}

func TestPredictLinear(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var ts []time.Time
	var v []float64
	for i := 0; i <= 48; i++ {
		ts = append(ts, now.Add(-time.Duration(48-i)*time.Hour))
		v = append(v, 100+2*float64(i)) // +48 per day, 196 now
	}
	val, slope, ok := PredictLinear(ts, v, now, 6*time.Hour)
	if !ok || math.Abs(val-196) > 1e-9 || math.Abs(slope-48) > 1e-9 {
		t.Fatalf("predict_linear %v %v %v", val, slope, ok)
	}
	if eta := LinearETA(val, slope, 244); math.Abs(eta-1) > 1e-12 {
		t.Errorf("eta %v, want 1 day", eta)
	}
	if eta := LinearETA(val, -1, 244); !math.IsInf(eta, 1) {
		t.Errorf("falling line: eta %v", eta)
	}
}
