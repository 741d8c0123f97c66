package fleet

import (
	"fmt"
	"strings"
	"time"

	"github.com/seed-f1b503aa/foresight/engine/risk"
)

// atRiskWithin is how soon a predicted failure must be to count as at risk.
const atRiskWithin = 30 * 24 * time.Hour

// days formats a duration in days with one decimal ("2.4 days").
func days(d time.Duration) string {
	x := d.Hours() / 24
	if x < 1 {
		return fmt.Sprintf("%.0f hours", d.Hours())
	}
	return fmt.Sprintf("%.1f days", x)
}

// span formats the p10–p90 spread of an ETA relative to now ("1.9–3.1").
func span(now time.Time, lo, hi *time.Time) string {
	f := func(t *time.Time) string {
		if t == nil {
			return "?"
		}
		return fmt.Sprintf("%.1f", t.Sub(now).Hours()/24)
	}
	return f(lo) + "–" + f(hi)
}

func where(entity map[string]string) string {
	host := entity["host"]
	var rest []string
	for _, k := range []string{"path", "service", "process_name", "metric"} {
		if v, ok := entity[k]; ok {
			rest = append(rest, v)
		}
	}
	s := strings.Join(rest, " ")
	if host != "" {
		if s != "" {
			return s + " on " + host
		}
		return host
	}
	return s
}

func diskPrediction(id string, entity map[string]string, series []string, p risk.DiskPrediction) Prediction {
	out := Prediction{Kind: KindDisk, ID: id, Entity: entity, Series: series, Status: string(p.Status), Confidence: p.Confidence, Detail: p}
	out.BreachAt, out.BreachP10, out.BreachP90 = p.Full.P50, p.Full.P10, p.Full.P90
	w := "disk " + where(entity)
	switch {
	case p.Status == risk.DiskFilling && p.Full.Reached:
		out.AtRisk = true
		out.Summary = w + " is full"
	case p.Status == risk.DiskFilling && p.Full.P50 != nil:
		out.AtRisk = p.Full.P50.Sub(p.Now) <= atRiskWithin
		out.Summary = fmt.Sprintf("%s full in %s (%s), %.1f%% used", w, days(p.Full.P50.Sub(p.Now)), span(p.Now, p.Full.P10, p.Full.P90), p.UsedPercent)
	case p.Status == risk.DiskFilling:
		out.Summary = fmt.Sprintf("%s growing, not full within %.0f days, %.1f%% used", w, p.HorizonDays, p.UsedPercent)
	case p.Status == risk.DiskInsufficientHistory:
		out.Summary = w + ": insufficient history (" + p.Reason + ")"
	default:
		out.Summary = fmt.Sprintf("%s %s, %.1f%% used", w, p.Status, p.UsedPercent)
	}
	return out
}

func memPrediction(id string, entity map[string]string, series []string, p risk.MemPrediction) Prediction {
	out := Prediction{Kind: KindMemLeak, ID: id, Entity: entity, Series: series, Status: string(p.Verdict), Confidence: p.Score, Detail: p}
	out.BreachAt, out.BreachP10, out.BreachP90 = p.OOM.P50, p.OOM.P10, p.OOM.P90
	w := "memory of " + where(entity)
	switch p.Verdict {
	case risk.MemLeak:
		rate := ""
		if p.LeakRateBytesPerHour != nil {
			rate = ", leaking " + risk.FormatBytes(*p.LeakRateBytesPerHour) + "/h"
		}
		if p.OOM.P50 != nil {
			out.AtRisk = p.OOM.P50.Sub(p.Now) <= atRiskWithin
			out.Summary = fmt.Sprintf("%s out of memory in %s (%s)%s", w, days(p.OOM.P50.Sub(p.Now)), span(p.Now, p.OOM.P10, p.OOM.P90), rate)
		} else {
			out.AtRisk = true
			out.Summary = w + ": leak" + rate
		}
	case risk.MemInsufficientHistory:
		out.Summary = w + ": insufficient history (" + p.Reason + ")"
	default:
		out.Summary = fmt.Sprintf("%s: %s", w, strings.ReplaceAll(string(p.Verdict), "_", " "))
	}
	return out
}

func monthEndPrediction(id string, entity map[string]string, series []string, p risk.MonthEndPrediction) Prediction {
	out := Prediction{Kind: KindMonthEnd, ID: id, Entity: entity, Series: series, Status: p.Status, Detail: p}
	w := "month-end load " + where(entity)
	if p.Status != risk.MonthEndStatusOK {
		out.Summary = w + ": insufficient history (" + p.Reason + ")"
		return out
	}
	if p.Breach != nil && p.Breach.Likely && p.Breach.FirstTime != nil {
		out.Status = "breach"
		out.AtRisk = true
		out.BreachAt = p.Breach.FirstTime
		out.BreachP10 = p.Breach.EarliestTime
		out.Confidence = p.Breach.Probability
		out.Summary = fmt.Sprintf("%s exceeds %g in %s (probability %.0f%%)", w, p.Breach.Threshold, days(p.Breach.FirstTime.Sub(p.Now)), 100*p.Breach.Probability)
		return out
	}
	if p.Peak != nil && p.PeakTime != nil && p.Window != nil {
		out.Summary = fmt.Sprintf("%s peaks at %.4g (%.4g–%.4g) on %s, %s close", w, p.Peak.P50, p.Peak.P10, p.Peak.P90,
			p.PeakTime.P50.Format("2006-01-02 15:04 MST"), p.Window.Kind)
		if p.Breach != nil {
			out.Confidence = 1 - p.Breach.Probability
		}
	}
	return out
}
