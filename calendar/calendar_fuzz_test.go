package calendar

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzLoadCalendar parses arbitrary bytes as a calendar file. It must never
// panic; a rejected file gives a *CalendarError naming the source and a
// line inside the file (or none); a loaded calendar answers the
// business-day queries and Regressors for a whole year consistently.
func FuzzLoadCalendar(f *testing.F) {
	f.Add(DefaultCalendarYAML())
	for _, s := range []string{
		"",
		"name: x\n",
		"timezone: UTC\nweekend: [fri, sat]\nfiscal_year_end_month: 3\n",
		"timezone: America/New_York\nweekend: []\nholidays: [2026-03-08]\n",
		"covers: {from: 2026-01-01, to: 2026-12-31}\nholidays:\n  - {date: 2026-01-01, end: 2026-01-31, name: long}\nworkdays:\n  - 2026-02-07\n",
		"covers: {from: 0000-01-01, to: 9999-12-31}\nholidays: [0000-02-29, 9999-12-31]\n",
		"holidays: [2026-02-30]\n",
		"holidays:\n  - {date: 2026-01-05, end: 2026-01-01}\n",
		"workdays: [2026-01-05]\n",
		"workdays: [2026-01-03]\nholidays: [2026-01-03]\n",
		"weekend: [sunday, monday, tuesday, wednesday, thursday, friday, saturday]\n",
		"weekend: [sat, sat]\n",
		"timezone: Mars/Olympus\n",
		"timezone: ../../../etc/passwd\n",
		"fiscal_year_end_month: 99999999999999999999\n",
		"name: a\nname: b\n",
		"holidays: &h [2026-01-01]\nworkdays: *h\n",
		"holidays: {date: 2026-01-01}\n",
		"- just\n- a list\n",
		"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
		"name: \"\\x00\\uFFFF\"\ntimezone: UTC\n",
		"name: \xff\xfe\n",
		"\x00",
		"a: &a [*a]\n",
		"covers: {from: 2026-01-01}\n",
		"holidays: ~\nworkdays: ''\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := yamlLines(data)
		c, err := ParseCalendar(data, "fuzz.yaml")
		if err != nil {
			var ce *CalendarError
			if !errors.As(err, &ce) {
				t.Fatalf("error %T %q, want *CalendarError", err, err)
			}
			if ce.Source != "fuzz.yaml" || ce.Err == nil || !strings.HasPrefix(err.Error(), "calendar fuzz.yaml") {
				t.Fatalf("error %q does not name its source", err)
			}
			// Never a line past the end of the file (the YAML parser puts
			// implicit nodes there, e.g. the empty key of "? ").
			if ce.Line < 0 || ce.Line > lines {
				t.Fatalf("error %q names line %d of a %d-line file", err, ce.Line, lines)
			}
			if c != nil {
				t.Fatal("a calendar and an error")
			}
			return
		}
		if c == nil || c.Location() == nil || c.TimeZone() == "" {
			t.Fatalf("calendar %+v without a zone", c)
		}
		checkCalendarYear(t, c)
	})
}

// yamlLines counts the lines of a YAML text as its parser does: a line
// ends at LF, CR, CR LF, NEL, LS or PS.
func yamlLines(b []byte) int {
	n := 1
	for i := 0; i < len(b); i++ {
		switch {
		case b[i] == '\n':
			n++
		case b[i] == '\r':
			if i+1 < len(b) && b[i+1] == '\n' {
				i++
			}
			n++
		case bytes.HasPrefix(b[i:], []byte("\u0085")), bytes.HasPrefix(b[i:], []byte("\u2028")), bytes.HasPrefix(b[i:], []byte("\u2029")):
			n++
		}
	}
	return n
}

// checkCalendarYear asks c every business-day question for one year (the
// first covered year, else 2026) and checks the answers agree.
func checkCalendarYear(t *testing.T, c *Calendar) {
	t.Helper()
	year := 2026
	if from, to := c.CoverRange(); !from.IsZero() {
		year = from.Year
		if to.Before(from) {
			t.Fatalf("covers %s to %s", from, to)
		}
	}
	weekendDays := 0
	for wd := time.Sunday; wd <= time.Saturday; wd++ {
		if c.weekend[wd] {
			weekendDays++
		}
	}
	if weekendDays == 7 {
		t.Fatal("all seven days are weekend days")
	}
	const closeDays = 3
	var times []time.Time
	for m := time.January; m <= time.December; m++ {
		first := NewDate(year, m, 1)
		last := NewDate(year, m+1, 1).AddDays(-1)
		n := c.BusinessDaysInMonth(year, m)
		count := 0
		for d := first; !d.After(last); d = d.AddDays(1) {
			bd := c.IsBusinessDay(d)
			_, hol := c.IsHoliday(d)
			_, mk := c.IsMakeUpWorkday(d)
			if hol && mk {
				t.Fatalf("%s is both a holiday and a make-up workday", d)
			}
			if mk && !c.IsWeekend(d) {
				t.Fatalf("make-up workday %s is not a weekend day", d)
			}
			if want := mk || (!hol && !c.IsWeekend(d)); bd != want {
				t.Fatalf("%s: business day %v, want %v", d, bd, want)
			}
			k := c.BusinessDaysBeforeMonthEnd(d)
			if bd {
				if k < 0 || k >= n || k != n-1-count {
					t.Fatalf("%s: %d business days before month end; %d in month, %d so far", d, k, n, count)
				}
				count++
			} else if k != -1 {
				t.Fatalf("%s is not a business day but has %d days before month end", d, k)
			}
			times = append(times, time.Date(d.Year, d.Month, d.Day, 14, 0, 0, 0, c.Location()))
		}
		if count != n {
			t.Fatalf("%d-%02d: %d business days counted, BusinessDaysInMonth says %d", year, m, count, n)
		}
		lb := c.LastBusinessDay(year, m)
		wFirst, wLast, ok := c.CloseWindow(year, m, closeDays)
		if n == 0 {
			if !lb.IsZero() || ok {
				t.Fatalf("%d-%02d has no business day but last %s, window ok %v", year, m, lb, ok)
			}
			continue
		}
		if lb.IsZero() || lb.Month != m || !c.IsBusinessDay(lb) || c.BusinessDaysBeforeMonthEnd(lb) != 0 {
			t.Fatalf("%d-%02d: last business day %s", year, m, lb)
		}
		if !ok || wLast != lb || wFirst.After(wLast) || wFirst.Month != m || c.BusinessDaysBeforeMonthEnd(wFirst) != min(closeDays, n)-1 {
			t.Fatalf("%d-%02d: close window %s..%s ok %v (last %s, %d business days)", year, m, wFirst, wLast, ok, lb, n)
		}
	}
	cols, names := c.Regressors(times, closeDays)
	if len(cols) != len(names) || len(cols) != 5+closeDays {
		t.Fatalf("%d regressor columns, %d names", len(cols), len(names))
	}
	for j, col := range cols {
		if len(col) != len(times) {
			t.Fatalf("regressor %s has %d values for %d times", names[j], len(col), len(times))
		}
		for i, v := range col {
			if v != 0 && v != 1 {
				t.Fatalf("regressor %s[%d] = %v", names[j], i, v)
			}
		}
	}
	for i, tm := range times {
		d := c.DateOf(tm)
		if bd := c.IsBusinessDay(d); (cols[0][i] == 1) != bd {
			t.Fatalf("business_day at %s (%s) = %v, IsBusinessDay %v", tm, d, cols[0][i], bd)
		}
		if _, hol := c.IsHoliday(d); (cols[1][i] == 1) != hol {
			t.Fatalf("holiday at %s = %v, IsHoliday %v", tm, cols[1][i], hol)
		}
		closeK := 0.0
		for k := range closeDays {
			closeK += cols[2+k][i]
		}
		if k := c.BusinessDaysBeforeMonthEnd(d); (k >= 0 && k < closeDays) != (closeK == 1) || closeK > 1 {
			t.Fatalf("close columns at %s sum to %v, %d business days before month end", tm, closeK, k)
		}
		// 14:00 local is a close afternoon on every close day.
		if cols[2+closeDays][i] != closeK {
			t.Fatalf("close_afternoon at %s = %v, close day %v", tm, cols[2+closeDays][i], closeK)
		}
	}
}
