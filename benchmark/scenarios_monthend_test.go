package benchmark

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/seed-f1b503aa/foresight/engine/risk"
)

// TestScenariosMonthEndSmall runs a small configuration of the benchmark
// (one seed, three hosts, a regular and a year-end close, two cuts each)
// and checks its bookkeeping and that it meets the targets there.
func TestScenariosMonthEndSmall(t *testing.T) {
	rep, err := ScenariosMonthEnd(context.Background(), MonthEndScenarioOptions{
		Seeds:    []uint64{1},
		Hosts:    3,
		Groups:   []MonthEndScenarioGroup{{Name: "120-day history", Days: 120, Months: []string{"2026-10", "2026-12"}}},
		LeadDays: []float64{1, 5},
	})
	if err != nil {
		t.Fatal(err)
	}
	// 3 hosts: erp-app-01 (cpu, requests, sessions), db-01 (cpu,
	// connections), rpt-01 (cpu): 6 series × 2 months × 2 cuts.
	if len(rep.Cases) != 24 {
		t.Fatalf("%d cases, want 24", len(rep.Cases))
	}
	for _, c := range rep.Cases {
		if c.Status != risk.MonthEndStatusOK || math.IsNaN(c.NaivePeak) || c.TruePeak <= 0 {
			t.Errorf("case %+v", c)
		}
		wantKind := risk.MonthEndRegular
		if c.Month == "2026-12" {
			wantKind = risk.MonthEndYear
		}
		if c.Kind != wantKind || c.Breach != (c.Month == "2026-12") {
			t.Errorf("%s %s: kind %s breach %v", c.Series, c.Month, c.Kind, c.Breach)
		}
		if !c.Now.Before(c.TrueTime) {
			t.Errorf("cut %s not before the true peak %s", c.Now, c.TrueTime)
		}
	}
	if got := rep.Options.LeadDays; got[0] != 5 || got[1] != 1 {
		t.Errorf("lead days not sorted: %v", got)
	}
	all := rep.Rows[len(rep.Rows)-1]
	if all.Group != "all" || all.Cases != 24 || all.MedianAPE > 8 || all.MedianTimeErrHours > 1 || all.NaiveMedianAPE < all.MedianAPE {
		t.Errorf("overall row %+v", all)
	}
	br := rep.Breaches[len(rep.Breaches)-1]
	if br.Breaches != 6 || br.Warned3d != 6 || br.FalseWarnings != 0 || br.Quiet != 12 {
		t.Errorf("breach row %+v", br)
	}
	md := rep.Markdown()
	for _, want := range []string{"## Month-end close scenarios", "| 120-day history | year_end |", "true breaches", "Targets:"} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md)
		}
	}
}
