package ticket

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/seed-f1b503aa/foresight/engine/fleet"
	"github.com/seed-f1b503aa/foresight/engine/risk"
)

// maxTitle is the longest title in runes (chat robots and ticketing systems
// truncate beyond ~120 characters).
const maxTitle = 120

// Title is the one-line title of a prediction: its summary with the first
// letter capitalised, e.g. "Disk /data on db-01 full in 2.4 days (1.9–3.1),
// 83.0% used", cut to 120 characters.
func Title(p fleet.Prediction) string {
	s := strings.TrimSpace(p.Summary)
	if s == "" {
		s = fmt.Sprintf("%s risk on %s", p.Kind, entityText(p.Entity))
	}
	r, n := utf8.DecodeRuneInString(s)
	s = string(unicode.ToUpper(r)) + s[n:]
	if utf8.RuneCountInString(s) > maxTitle {
		rs := []rune(s)
		s = string(rs[:maxTitle-1]) + "…"
	}
	return s
}

// PredictionLink is the API path listing this prediction:
// /api/v1/predictions?kind=…&tag=k:v… (entity tags sorted by key).
func PredictionLink(kind fleet.Kind, entity map[string]string) string {
	q := url.Values{"kind": {string(kind)}}
	for _, k := range slices.Sorted(maps.Keys(entity)) {
		q.Add("tag", k+":"+entity[k])
	}
	return "/api/v1/predictions?" + q.Encode()
}

// ForecastLink is the API path of the forecast of series id ("" for none).
func ForecastLink(series string) string {
	if series == "" {
		return ""
	}
	return "/api/v1/series/" + strings.ReplaceAll(url.QueryEscape(series), "+", "%20") + "/forecast"
}

// fill copies the content of prediction p into t (title, summary, breach,
// values, evidence, links) without touching state, severity or version.
func fill(t Ticket, p fleet.Prediction, kp KindPolicy) Ticket {
	t.PredictionID = p.ID
	t.Series = slices.Clone(p.Series)
	t.Title = Title(p)
	t.Summary = p.Summary
	t.PredictedBreach = Breach{P10: p.BreachP10, P50: p.BreachAt, P90: p.BreachP90}
	t.Confidence = p.Confidence
	t.Link = PredictionLink(p.Kind, p.Entity)
	t.ForecastLink = ""
	if len(p.Series) > 0 {
		t.ForecastLink = ForecastLink(p.Series[0])
	}
	if t.AssignmentGroup == "" { // kept once set: people may reassign
		t.AssignmentGroup = kp.AssignmentGroup
	}
	if kp.SuggestedAction != "" {
		t.SuggestedAction = kp.SuggestedAction
	}
	c := describe(p)
	t.CurrentValue, t.Trend, t.Evidence, t.Highlights = c.current, c.trend, c.evidence, c.highlights
	return t
}

type described struct {
	current, trend string
	evidence       json.RawMessage
	highlights     []string
}

// decodeDetail reads Prediction.Detail into out whether it holds the
// predictor's struct (in process) or decoded JSON (from a store).
func decodeDetail(detail any, out any) bool {
	var b []byte
	switch d := detail.(type) {
	case nil:
		return false
	case json.RawMessage:
		b = d
	case []byte:
		b = d
	default:
		var err error
		if b, err = json.Marshal(d); err != nil {
			return false
		}
	}
	return json.Unmarshal(b, out) == nil
}

func raw(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}

func describe(p fleet.Prediction) described {
	var d described
	switch p.Kind {
	case fleet.KindDisk:
		var x risk.DiskPrediction
		if !decodeDetail(p.Detail, &x) {
			return d
		}
		if x.UsedBytes != nil && x.TotalBytes != nil {
			d.current = fmt.Sprintf("%.1f%% used (%s of %s)", x.UsedPercent, risk.FormatBytes(*x.UsedBytes), risk.FormatBytes(*x.TotalBytes))
		} else {
			d.current = fmt.Sprintf("%.1f%% used", x.UsedPercent)
		}
		switch {
		case x.GrowthBytesPerDay != nil:
			d.trend = fmt.Sprintf("%s/day (%+.2f points/day), %s", risk.FormatBytesSigned(*x.GrowthBytesPerDay), x.GrowthPercentPerDay, string(x.Status))
		default:
			d.trend = fmt.Sprintf("%+.2f points/day, %s", x.GrowthPercentPerDay, string(x.Status))
		}
		e := x.Evidence
		if e.Model != "" {
			d.highlights = append(d.highlights, "model: "+e.Model)
		}
		if e.Points > 0 {
			d.highlights = append(d.highlights, fmt.Sprintf("fit: R² %.2f over %d points, Mann–Kendall p %.2g", e.R2, e.Points, e.MannKendallP))
		}
		if n := len(e.Changepoints); n > 0 {
			d.highlights = append(d.highlights, fmt.Sprintf("%d change point(s), latest %s at %s", n, e.Changepoints[n-1].Kind, fmtTime(&e.Changepoints[n-1].Time)))
		}
		if e.DailyCycle {
			d.highlights = append(d.highlights, "daily cycle: ETA from the daily peaks")
		}
		d.evidence = raw(e)
	case fleet.KindMemLeak:
		var x risk.MemPrediction
		if !decodeDetail(p.Detail, &x) {
			return d
		}
		if x.LimitBytes != nil && *x.LimitBytes > 0 {
			d.current = fmt.Sprintf("%s of %s limit (%.0f%%)", risk.FormatBytes(x.CurrentBytes), risk.FormatBytes(*x.LimitBytes), 100*x.CurrentBytes / *x.LimitBytes)
		} else {
			d.current = risk.FormatBytes(x.CurrentBytes) + " (no limit known)"
		}
		if x.LeakRateBytesPerHour != nil {
			d.trend = fmt.Sprintf("floor %s/h", risk.FormatBytesSigned(*x.LeakRateBytesPerHour))
			if x.LeakRateCI95 != nil {
				d.trend += fmt.Sprintf(" (95%% CI %s/h to %s/h)", risk.FormatBytesSigned(x.LeakRateCI95[0]), risk.FormatBytesSigned(x.LeakRateCI95[1]))
			}
			d.trend += ", " + strings.ReplaceAll(string(x.Verdict), "_", " ")
		}
		e := x.Evidence
		d.highlights = append(d.highlights, fmt.Sprintf("leak score %.2f, rising share %.0f%%, Mann–Kendall p %.2g", x.LeakScore, 100*e.RisingShare, e.MannKendallP))
		if e.Troughs > 0 {
			d.highlights = append(d.highlights, fmt.Sprintf("%d GC troughs (%s), %d restart(s)", e.Troughs, strings.ReplaceAll(e.Basis, "_", " "), len(e.Restarts)))
		}
		if e.LoadR2 != nil {
			d.highlights = append(d.highlights, fmt.Sprintf("load explains %.0f%% of the floor's variance", 100**e.LoadR2))
		}
		d.evidence = raw(e)
	case fleet.KindMonthEnd:
		var x risk.MonthEndPrediction
		if !decodeDetail(p.Detail, &x) {
			return d
		}
		if x.Peak != nil {
			d.current = fmt.Sprintf("predicted peak %.4g (%.4g–%.4g)", x.Peak.P50, x.Peak.P10, x.Peak.P90)
			if x.PeakTime != nil {
				d.current += " at " + fmtTime(&x.PeakTime.P50)
			}
			if x.Breach != nil {
				d.current += fmt.Sprintf(" vs capacity %.4g (probability %.0f%%)", x.Breach.Threshold, 100*x.Breach.Probability)
			}
		}
		tr := x.Evidence.Trend
		if tr.Closes > 0 {
			d.trend = fmt.Sprintf("close uplift %+.3g/month (%+.1f%%/month) over %d closes", tr.UpliftPerMonth, tr.UpliftPercentPerMonth, tr.Closes)
		}
		if w := x.Window; w != nil {
			d.highlights = append(d.highlights, fmt.Sprintf("close window %s (%s): %s to %s", w.Month, strings.ReplaceAll(string(w.Kind), "_", " "), fmtTime(&w.Start), fmtTime(&w.End)))
		}
		if x.Breach != nil && x.Breach.FirstMonth != "" {
			d.highlights = append(d.highlights, fmt.Sprintf("headroom %.4g; first close over capacity: %s", x.Breach.Headroom, x.Breach.FirstMonth))
		}
		d.highlights = append(d.highlights, x.Evidence.Notes...)
		d.evidence = raw(struct {
			Window   *risk.MonthEndWindow  `json:"window,omitempty"`
			Breach   *risk.MonthEndBreach  `json:"breach,omitempty"`
			Evidence risk.MonthEndEvidence `json:"evidence"`
		}{x.Window, x.Breach, x.Evidence})
	}
	return d
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return "?"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func entityText(e map[string]string) string {
	keys := make([]string, 0, len(e))
	for k := range e {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + e[k]
	}
	return strings.Join(parts, ", ")
}

// BreachText describes the predicted breach relative to now: "2026-11-03
// 14:00 UTC (in 2.4 days; P10–P90 2026-11-02 20:00 UTC – 2026-11-04 09:00
// UTC)".
func BreachText(b Breach, now time.Time) string {
	if b.P50 == nil {
		return "no breach time predicted"
	}
	s := fmtTime(b.P50) + " (" + relative(b.P50.Sub(now))
	if b.P10 != nil || b.P90 != nil {
		s += "; P10–P90 " + fmtTime(b.P10) + " – " + fmtTime(b.P90)
	}
	return s + ")"
}

func relative(d time.Duration) string {
	switch {
	case d <= 0:
		return "now: already due"
	case d < 48*time.Hour:
		return fmt.Sprintf("in %.0f h", math.Ceil(d.Hours()-1e-9))
	}
	return fmt.Sprintf("in %.1f days", d.Hours()/24)
}

// Markdown is the body a person acts on, used by the chat formats: what is
// at risk, when it breaks, how it looks now, why we think so, where to look
// and what to do. baseURL (e.g. "https://foresight.example") prefixes the
// API links; "" leaves them as paths. Deterministic for a given ticket and
// now.
func Markdown(t Ticket, policy Policy, baseURL string, now time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### [%s] %s\n\n", strings.ToUpper(string(t.Severity)), mdEscape(t.Title))
	fmt.Fprintf(&b, "- **Ticket:** %s v%d · %s · group %s\n", t.ID, t.Version, t.State, t.AssignmentGroup)
	fmt.Fprintf(&b, "- **Entity:** %s (%s)\n", mdEscape(entityText(t.Entity)), t.Kind)
	fmt.Fprintf(&b, "- **Predicted breach:** %s\n", BreachText(t.PredictedBreach, now))
	if t.CurrentValue != "" {
		fmt.Fprintf(&b, "- **Now:** %s\n", mdEscape(t.CurrentValue))
	}
	if t.Trend != "" {
		fmt.Fprintf(&b, "- **Trend:** %s\n", mdEscape(t.Trend))
	}
	if t.Confidence > 0 {
		fmt.Fprintf(&b, "- **Confidence:** %.0f%%\n", 100*t.Confidence)
	}
	if t.State.Active() {
		s := SLAStatus(t, policy, now)
		fmt.Fprintf(&b, "- **SLA:** respond by %s%s, resolve by %s%s\n", fmtTime(&s.RespondBy), breached(s.RespondBreached),
			fmtTime(&s.ResolveBy), breached(s.ResolveBreached))
	}
	if t.ResolveReason != "" {
		fmt.Fprintf(&b, "- **Resolution:** %s\n", mdEscape(t.ResolveReason))
	}
	if len(t.Highlights) > 0 {
		b.WriteString("\n**Evidence**\n")
		for _, h := range t.Highlights {
			fmt.Fprintf(&b, "- %s\n", mdEscape(h))
		}
	}
	b.WriteString("\n**Links**\n")
	fmt.Fprintf(&b, "- [Prediction](%s)\n", baseURL+t.Link)
	if t.ForecastLink != "" {
		fmt.Fprintf(&b, "- [Forecast](%s)\n", baseURL+t.ForecastLink)
	}
	if t.SuggestedAction != "" {
		fmt.Fprintf(&b, "\n**Suggested action:** %s\n", mdEscape(t.SuggestedAction))
	}
	return b.String()
}

func breached(b bool) string {
	if b {
		return " (**breached**)"
	}
	return ""
}

var mdEscaper = strings.NewReplacer(`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "<", "&lt;", ">", "&gt;")

// mdEscape keeps tag values and predictor texts from being read as Markdown
// (or HTML, which some robots render).
func mdEscape(s string) string { return mdEscaper.Replace(s) }
