package nb

import (
	"fmt"
	"math"
	"time"

	"github.com/seed-f1b503aa/foresight/engine/risk"
)

// GiB is 2^30 bytes.
const GiB = float64(1 << 30)

// Bytes formats a byte count as Foresight does ("12.3 GiB").
func Bytes(b float64) string { return risk.FormatBytes(b) }

// When formats an instant in the fleet's time zone, e.g. "Sat 31 Oct 23:45".
func When(t time.Time) string { return t.In(Loc).Format("Mon 02 Jan 15:04") }

// WhenY is When with the year, e.g. "Mon 15 Feb 2027 23:30".
func WhenY(t time.Time) string { return t.In(Loc).Format("Mon 02 Jan 2006 15:04") }

// Date formats an instant's local date, e.g. "Sat 31 Oct".
func Date(t time.Time) string { return t.In(Loc).Format("Mon 02 Jan") }

// Days formats a number of days ("∞" for +Inf, hours below two days).
func Days(d float64) string {
	switch {
	case math.IsInf(d, 1) || math.IsNaN(d):
		return "none"
	case math.Abs(d) < 2:
		return fmt.Sprintf("%.1f h", d*24)
	}
	return fmt.Sprintf("%.1f d", d)
}

// DaysUntil is the number of days from now to t (+Inf for nil).
func DaysUntil(t *time.Time, now time.Time) float64 {
	if t == nil {
		return math.Inf(1)
	}
	return t.Sub(now).Hours() / 24
}

// Pct formats a signed percentage with one decimal.
func Pct(v float64) string { return fmt.Sprintf("%+.1f %%", v) }

// F formats a number with the given decimals.
func F(v float64, dec int) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.*f", dec, v)
}

// P formats a p-value.
func P(p float64) string {
	if p < 1e-3 {
		return fmt.Sprintf("%.1e", p)
	}
	return fmt.Sprintf("%.3f", p)
}
