package ticket

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/seed-f1b503aa/foresight/engine/fleet"
	"github.com/seed-f1b503aa/foresight/engine/risk"
)

func leakAt(now time.Time) fleet.Prediction {
	oom, lo, hi := now.Add(40*hour), now.Add(30*hour), now.Add(55*hour)
	rate, limit := 50.0*(1<<20), 4.0*(1<<30)
	ci := [2]float64{40 * (1 << 20), 60 * (1 << 20)}
	d := risk.MemPrediction{Verdict: risk.MemLeak, Now: now, Score: 0.8, LeakScore: 0.7, LeakRateBytesPerHour: &rate, LeakRateCI95: &ci,
		OOM: risk.ETA{P10: &lo, P50: &oom, P90: &hi}, CurrentBytes: 3 * (1 << 30), LimitBytes: &limit,
		Evidence: risk.MemEvidence{Troughs: 120, Basis: "troughs", Restarts: []time.Time{now.Add(-5 * dayD)}, RisingShare: 0.9, MannKendallP: 0.001}}
	return fleet.Prediction{Kind: fleet.KindMemLeak, ID: "memleak:procstat,host=app-01,service=gl", Entity: map[string]string{"host": "app-01", "service": "gl"},
		Series: []string{"procstat,host=app-01,service=gl#memory_rss"}, Status: "leak", AtRisk: true, BreachAt: &oom, BreachP10: &lo, BreachP90: &hi,
		Confidence: 0.8, Detail: d, Summary: "memory of gl on app-01 out of memory in 1.7 days (1.2–2.3), leaking 50.0 MiB/h"}
}

func monthEndAt(now time.Time) fleet.Prediction {
	first, early := now.Add(50*hour), now.Add(44*hour)
	w := risk.MonthEndWindow{Month: "2026-11", Kind: risk.MonthEndRegular, Start: now.Add(40 * hour), End: now.Add(112 * hour)}
	d := risk.MonthEndPrediction{Status: risk.MonthEndStatusOK, Now: now, Window: &w,
		Peak:     &risk.MonthEndQuantiles{P10: 820, P50: 910, P90: 1000},
		PeakTime: &risk.MonthEndTimeQuantiles{P50: now.Add(60 * hour)},
		Breach:   &risk.MonthEndBreach{Threshold: 850, Probability: 0.73, Likely: true, Headroom: -60, FirstTime: &first, EarliestTime: &early, FirstMonth: "2026-11"},
		Evidence: risk.MonthEndEvidence{Trend: risk.MonthEndTrend{UpliftPerMonth: 12, UpliftPercentPerMonth: 3.5, Closes: 4}, Notes: []string{"quarter factor is a prior"}}}
	return fleet.Prediction{Kind: fleet.KindMonthEnd, ID: "monthend:erp.sessions", Entity: map[string]string{"host": "erp-01", "metric": "erp.sessions"},
		Series: []string{"erp,host=erp-01#sessions"}, Status: "breach", AtRisk: true, BreachAt: &first, BreachP10: &early, Confidence: 0.73, Detail: d,
		Summary: "month-end load erp.sessions on erp-01 exceeds 850 in 2.1 days (probability 73%)"}
}

func TestContentPerKind(t *testing.T) {
	cases := []struct {
		pred                  fleet.Prediction
		sev                   Severity
		group, current, trend string
		highlights, action    string
	}{
		{diskAt(t0, t0.Add(60*hour), 0.9), SeverityMajor, "storage-ops", "83.0% used (773 GiB of 931 GiB)", "+18.6 GiB/day (+2.00 points/day), filling",
			"fit: R² 0.97 over 240 points, Mann–Kendall p 1e-06", "Expand the volume"},
		{leakAt(t0), SeverityMajor, "app-ops", "3 GiB of 4 GiB limit (75%)", "floor +50 MiB/h (95% CI +40 MiB/h to +60 MiB/h), leak",
			"120 GC troughs (troughs), 1 restart(s)", "restart the leaking service"},
		{monthEndAt(t0), SeverityMajor, "capacity", "predicted peak 910 (820–1000) at 2026-11-04 20:00 UTC vs capacity 850 (probability 73%)",
			"close uplift +12/month (+3.5%/month) over 4 closes", "headroom -60; first close over capacity: 2026-11", "scale out"},
	}
	for _, c := range cases {
		ch := Apply(nil, []fleet.Prediction{c.pred}, DefaultPolicy(), t0)
		if len(ch.Opened) != 1 {
			t.Fatalf("%s: %+v", c.pred.Kind, ch)
		}
		tk := ch.Opened[0].Ticket
		if tk.Severity != c.sev || tk.AssignmentGroup != c.group || tk.CurrentValue != c.current || tk.Trend != c.trend ||
			!strings.Contains(strings.Join(tk.Highlights, "\n"), c.highlights) || !strings.Contains(tk.SuggestedAction, c.action) || !json.Valid(tk.Evidence) {
			t.Errorf("%s:\n sev %s group %s\n current %q\n trend %q\n highlights %q\n action %q", c.pred.Kind, tk.Severity, tk.AssignmentGroup,
				tk.CurrentValue, tk.Trend, tk.Highlights, tk.SuggestedAction)
		}
		// The same prediction read back from JSON (a stored snapshot)
		// gives the same content.
		b, err := json.Marshal(c.pred)
		if err != nil {
			t.Fatal(err)
		}
		var back fleet.Prediction
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		tk2 := Apply(nil, []fleet.Prediction{back}, DefaultPolicy(), t0).Opened[0].Ticket
		if tk2.CurrentValue != tk.CurrentValue || tk2.Trend != tk.Trend || string(tk2.Evidence) != string(tk.Evidence) {
			t.Errorf("%s: content differs after a JSON round trip", c.pred.Kind)
		}
	}
	// Without a usable Detail the ticket still opens with the summary.
	p := diskAt(t0, t0.Add(10*hour), 0.9)
	p.Detail = "garbage"
	tk := Apply(nil, []fleet.Prediction{p}, DefaultPolicy(), t0).Opened[0].Ticket
	if tk.CurrentValue != "" || tk.Evidence != nil || tk.Title == "" || tk.Severity != SeverityCritical {
		t.Errorf("no detail: %+v", tk)
	}
}

func TestMarkdown(t *testing.T) {
	tk := Apply(nil, []fleet.Prediction{diskAt(t0, t0.Add(60*hour), 0.9)}, DefaultPolicy(), t0).Opened[0].Ticket
	md := Markdown(tk, DefaultPolicy(), "https://fs.example", t0.Add(3*hour))
	for _, want := range []string{
		"### [MAJOR] Disk /data on db-01 full in 2.5 days (2.0–3.0), 83.0% used\n",
		"- **Ticket:** " + tk.ID + " v1 · reported · group storage-ops\n",
		"- **Entity:** host=db-01, path=/data (disk)\n",
		"- **Predicted breach:** 2026-11-04 20:00 UTC (in 2.4 days; P10–P90 2026-11-04 08:00 UTC – 2026-11-05 08:00 UTC)\n",
		"- **Now:** 83.0% used (773 GiB of 931 GiB)\n",
		"- **SLA:** respond by 2026-11-02 10:00 UTC (**breached**), resolve by 2026-11-03 08:00 UTC\n",
		"- model: theil-sen linear on level since 2026-10-01T00:00:00Z\n",
		"- [Prediction](https://fs.example/api/v1/predictions?kind=disk&tag=host%3Adb-01&tag=path%3A%2Fdata)\n",
		"- [Forecast](https://fs.example/api/v1/series/disk%2Chost%3Ddb-01%2Cpath%3D%2Fdata%23used/forecast)\n",
		"**Suggested action:** Expand the volume",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if md != Markdown(tk, DefaultPolicy(), "https://fs.example", t0.Add(3*hour)) {
		t.Error("markdown not deterministic")
	}
	// Hostile tag values cannot inject Markdown or HTML.
	tk.Entity = map[string]string{"host": "*x*](http://evil)<script>"}
	tk.Title = "[click](http://evil)"
	md = Markdown(tk, DefaultPolicy(), "", t0)
	if strings.Contains(md, "<script>") || !strings.Contains(md, `host=\*x\*\](http://evil)&lt;script&gt;`) || !strings.Contains(md, `### [MAJOR] \[click\](http://evil)`) {
		t.Errorf("not escaped:\n%s", md)
	}
	// A resolved ticket shows its resolution instead of SLA deadlines.
	tk.State, tk.ResolveReason = StateAutoResolved, "risk cleared for 3 consecutive runs: fine"
	md = Markdown(tk, DefaultPolicy(), "", t0)
	if strings.Contains(md, "**SLA:**") || !strings.Contains(md, "- **Resolution:** risk cleared for 3 consecutive runs: fine\n") {
		t.Errorf("resolved body:\n%s", md)
	}
}

func TestTitleAndBreachText(t *testing.T) {
	long := strings.Repeat("é", 200)
	cases := []struct{ summary, want string }{
		{"disk /data on db-01 full in 2.4 days (1.9–3.1)", "Disk /data on db-01 full in 2.4 days (1.9–3.1)"},
		{"", "Disk risk on host=db-01"},
		{long, "É" + strings.Repeat("é", 118) + "…"},
	}
	for _, c := range cases {
		got := Title(fleet.Prediction{Kind: fleet.KindDisk, Entity: map[string]string{"host": "db-01"}, Summary: c.summary})
		if got != c.want {
			t.Errorf("Title(%.20q) = %q", c.summary, got)
		}
	}
	b := Breach{P50: at(30 * hour)}
	for _, c := range []struct {
		now  time.Time
		want string
	}{
		{t0, "2026-11-03 14:00 UTC (in 30 h)"},
		{t0.Add(31 * hour), "2026-11-03 14:00 UTC (now: already due)"},
		{t0.Add(-3 * dayD), "2026-11-03 14:00 UTC (in 4.2 days)"},
	} {
		if got := BreachText(b, c.now); got != c.want {
			t.Errorf("BreachText at %s = %q, want %q", c.now, got, c.want)
		}
	}
	if got := BreachText(Breach{}, t0); got != "no breach time predicted" {
		t.Error(got)
	}
}
