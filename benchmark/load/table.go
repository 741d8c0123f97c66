package load

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Table writes the result as a Markdown table, one row per target and a
// last row for all, after a one-line summary of the run. Latencies are in
// milliseconds.
func (r *Result) Table(w io.Writer) error {
	var b strings.Builder
	t := r.Total
	switch r.Mode {
	case ModeOpen:
		fmt.Fprintf(&b, "Open loop: %s req/s offered (at most %d in flight) for %.1f s: %d sent, %d dropped, %d late, %s req/s answered, %s.\n\n",
			trimFloat(r.Rate), r.MaxInFlight, r.Elapsed.Seconds(), t.Requests, t.Dropped, t.Late, trimFloat(t.Throughput), errorSummary(t))
		b.WriteString("| target | requests | errors | dropped | late | req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms |\n")
		b.WriteString("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	default:
		trunc := ""
		if r.Truncated {
			trunc = " (stopped at the sample cap)"
		}
		fmt.Fprintf(&b, "Closed loop: %d clients for %.1f s%s: %d requests, %s req/s, %s.\n\n",
			r.Clients, r.Elapsed.Seconds(), trunc, t.Requests, trimFloat(t.Throughput), errorSummary(t))
		b.WriteString("| target | requests | errors | req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms |\n")
		b.WriteString("|---|---:|---|---:|---:|---:|---:|---:|---:|\n")
	}
	rows := append(slices.Clone(r.Targets), t)
	for i, s := range rows {
		name := strings.ReplaceAll(s.Name, "|", `\|`)
		if i == len(rows)-1 {
			name = "**" + name + "**"
		}
		fmt.Fprintf(&b, "| %s | %d | %s |", name, s.Requests, errorCell(s))
		if r.Mode == ModeOpen {
			fmt.Fprintf(&b, " %d | %d |", s.Dropped, s.Late)
		}
		l := s.Latency
		fmt.Fprintf(&b, " %s | %s | %s | %s | %s | %s |\n", trimFloat(s.Throughput),
			ms(l.P50), ms(l.P90), ms(l.P99), ms(l.P999), ms(l.Max))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// errorCell is "0", or the count, the rate and the classes:
// "100 (10.00%: 500×100)".
func errorCell(s Stats) string {
	if s.Errors() == 0 {
		return "0"
	}
	return fmt.Sprintf("%d (%.2f%%: %s)", s.Errors(), 100*s.ErrorRate(), s.ErrorClasses())
}

func errorSummary(s Stats) string {
	if s.Errors() == 0 {
		return "no errors"
	}
	return fmt.Sprintf("%d errors (%.2f%%: %s)", s.Errors(), 100*s.ErrorRate(), s.ErrorClasses())
}

// ErrorClasses lists the error classes: "transport×3, 500×10, 503×2".
func (s Stats) ErrorClasses() string {
	var parts []string
	if s.TransportErrors > 0 {
		parts = append(parts, fmt.Sprintf("transport×%d", s.TransportErrors))
	}
	codes := make([]int, 0, len(s.ByStatus))
	for c := range s.ByStatus {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	for _, c := range codes {
		parts = append(parts, fmt.Sprintf("%d×%d", c, s.ByStatus[c]))
	}
	return strings.Join(parts, ", ")
}

// ms formats a latency in milliseconds; "-" without one.
func ms(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond))
}

// trimFloat formats rates: one decimal below 100, none above.
func trimFloat(f float64) string {
	if f < 100 {
		return fmt.Sprintf("%.1f", f)
	}
	return fmt.Sprintf("%.0f", f)
}
