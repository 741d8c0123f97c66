package benchmark

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/seed-f1b503aa/foresight/datasets"
	"github.com/seed-f1b503aa/foresight/engine/risk"
)

// TestScenariosMemLeakSmall runs a small configuration of the memory-leak
// benchmark (one seed, three hosts, two "now" points) and checks its
// bookkeeping and the targets there.
func TestScenariosMemLeakSmall(t *testing.T) {
	rep, err := ScenariosMemLeak(context.Background(), MemLeakScenarioOptions{
		Seeds:    []uint64{1},
		Hosts:    3,
		Days:     40,
		NowDays:  []float64{0, 7},
		MaxDelay: 7 * 24 * time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	// erp-app (leak), session-cache, postgres, pgbouncer, report-engine,
	// bi-cache, etl-worker (leak): 7 processes × 2 "now" points.
	if len(rep.Cases) != 14 {
		t.Fatalf("%d cases, want 14", len(rep.Cases))
	}
	ours := rep.Confusion[0]
	if ours.Method != "foresight" || ours.TP != 4 || ours.FP != 0 || ours.F1 < 0.95 {
		t.Errorf("confusion %+v", ours)
	}
	for _, c := range rep.Cases {
		if (c.Kind == datasets.KindWarmup || c.Kind == datasets.KindLoadDriven) && c.Verdict == risk.MemLeak {
			t.Errorf("%s (%s): leak verdict", c.Series, c.Kind)
		}
	}
	if len(rep.Detections) != 2 {
		t.Fatalf("%d detections, want 2", len(rep.Detections))
	}
	for _, d := range rep.Detections {
		if math.IsInf(d.Delay, 1) || d.Delay < 24 {
			t.Errorf("%s: detected after %v h", d.Series, d.Delay)
		}
	}
	if rep.OOMCases == 0 || rep.OOMMedianAPE > 15 || rep.RateMedianAPE > 10 {
		t.Errorf("OOM %d cases, median %.1f%%; rate median %.1f%%", rep.OOMCases, rep.OOMMedianAPE, rep.RateMedianAPE)
	}
	md := rep.Markdown()
	for _, want := range []string{"## Memory-leak scenarios", "| foresight | 4 | 0 | 0 | 10 |", "| memleak | 4 | 4 |", "detection delay", "Targets:"} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md)
		}
	}
}
