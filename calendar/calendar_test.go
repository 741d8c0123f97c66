package calendar

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func d(s string) Date {
	x, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return x
}

func TestDefaultCalendarLastBusinessDay(t *testing.T) {
	cal := DefaultCalendar()
	tests := []struct {
		year  int
		month time.Month
		want  string
		why   string
	}{
		{2025, 1, "2025-01-27", "Spring Festival starts on the 28th"},
		{2025, 2, "2025-02-28", "plain Friday"},
		{2025, 4, "2025-04-30", "Labour Day starts May 1"},
		{2025, 5, "2025-05-30", "31st is Saturday and Dragon Boat"},
		{2025, 9, "2025-09-30", "National Day starts Oct 1"},
		{2025, 12, "2025-12-31", "Wednesday"},
		{2026, 1, "2026-01-30", "31st is Saturday"},
		{2026, 2, "2026-02-28", "Saturday make-up workday"},
		{2026, 5, "2026-05-29", "30th/31st are the weekend"},
		{2026, 10, "2026-10-30", "31st is Saturday"},
		{2026, 12, "2026-12-31", "Thursday"},
		{2027, 2, "2027-02-26", "Friday after the make-up Saturday 20th"},
		{2027, 4, "2027-04-30", "Friday"},
	}
	for _, tc := range tests {
		got := cal.LastBusinessDay(tc.year, tc.month)
		if got != d(tc.want) {
			t.Errorf("LastBusinessDay(%d, %s) = %s, want %s (%s)", tc.year, tc.month, got, tc.want, tc.why)
		}
	}
}

func TestDefaultCalendarBusinessDays(t *testing.T) {
	cal := DefaultCalendar()
	tests := []struct {
		date     string
		business bool
		before   int // BusinessDaysBeforeMonthEnd
	}{
		{"2025-01-26", true, 1}, // Sunday make-up; Jan 27 follows
		{"2025-01-27", true, 0}, // last before Spring Festival
		{"2025-01-28", false, -1},
		{"2025-10-01", false, -1},
		{"2025-10-08", false, -1}, // Wednesday inside the holiday
		{"2025-10-09", true, 17},  // after: 10, Sat 11, 13-17, 20-24, 27-31
		{"2025-10-11", true, 15},  // Saturday make-up; 13-17, 20-24, 27-31 follow
		{"2025-10-12", false, -1}, // plain Sunday
		{"2025-09-28", true, 2},   // Sunday make-up; 29, 30 follow
		{"2025-09-30", true, 0},
		{"2026-02-14", true, 5},   // Saturday make-up; 24-27 and Sat 28 follow
		{"2026-02-22", false, -1}, // Sunday inside Spring Festival
		{"2026-02-24", true, 4},   // 25, 26, 27, Sat 28
		{"2026-02-27", true, 1},
		{"2026-02-28", true, 0},
		{"2026-03-02", true, 21},
	}
	for _, tc := range tests {
		dt := d(tc.date)
		if got := cal.IsBusinessDay(dt); got != tc.business {
			t.Errorf("IsBusinessDay(%s) = %v, want %v", tc.date, got, tc.business)
		}
		if got := cal.BusinessDaysBeforeMonthEnd(dt); got != tc.before {
			t.Errorf("BusinessDaysBeforeMonthEnd(%s) = %d, want %d", tc.date, got, tc.before)
		}
	}
}

func TestDefaultCalendarSelfConsistent(t *testing.T) {
	cal := DefaultCalendar()
	if cal.TimeZone() != "Asia/Shanghai" || cal.Name() != "cn-default" {
		t.Fatalf("zone %q name %q", cal.TimeZone(), cal.Name())
	}
	from, to := cal.CoverRange()
	if from != d("2025-01-01") || to != d("2027-12-31") {
		t.Fatalf("covers %s..%s", from, to)
	}
	holidays, makeUps := 0, 0
	for dt := from; !dt.After(to); dt = dt.AddDays(1) {
		_, h := cal.IsHoliday(dt)
		_, w := cal.IsMakeUpWorkday(dt)
		if h {
			holidays++
		}
		if w {
			makeUps++
			if !cal.IsWeekend(dt) {
				t.Errorf("make-up workday %s is a %s", dt, dt.Weekday())
			}
		}
		if h && w {
			t.Errorf("%s is both holiday and workday", dt)
		}
	}
	if holidays < 60 || makeUps < 12 {
		t.Errorf("holidays %d make-up workdays %d: too few for three years", holidays, makeUps)
	}
	for y := 2025; y <= 2027; y++ {
		for m := time.January; m <= time.December; m++ {
			n := cal.BusinessDaysInMonth(y, m)
			if n < 15 || n > 24 {
				t.Errorf("%d-%02d has %d business days", y, m, n)
			}
			last := cal.LastBusinessDay(y, m)
			if cal.BusinessDaysBeforeMonthEnd(last) != 0 {
				t.Errorf("%s: last business day not 0 before month end", last)
			}
		}
	}
	if name, ok := cal.IsHoliday(d("2026-10-03")); !ok || name != "National Day" {
		t.Errorf("2026-10-03: %q %v", name, ok)
	}
}

func TestCalendarQuarterYearEnd(t *testing.T) {
	cal := DefaultCalendar()
	for m := time.January; m <= time.December; m++ {
		wantQ := m%3 == 0
		if cal.IsQuarterEnd(m) != wantQ {
			t.Errorf("IsQuarterEnd(%s) = %v", m, !wantQ)
		}
		if cal.IsYearEnd(m) != (m == time.December) {
			t.Errorf("IsYearEnd(%s) = %v", m, !(m == time.December))
		}
	}
	// A fiscal year ending in January: quarters end in Jan, Apr, Jul, Oct.
	jan, err := ParseCalendar([]byte("fiscal_year_end_month: 1\ntimezone: UTC\n"), "t")
	if err != nil {
		t.Fatal(err)
	}
	for m, want := range map[time.Month]bool{1: true, 4: true, 7: true, 10: true, 3: false, 12: false} {
		if jan.IsQuarterEnd(m) != want {
			t.Errorf("fy-jan IsQuarterEnd(%s) = %v", m, !want)
		}
	}
	if !jan.IsYearEnd(time.January) || jan.IsYearEnd(time.December) {
		t.Error("fy-jan year end")
	}
}

func TestParseCalendarCustom(t *testing.T) {
	src := `
name: gulf
timezone: Asia/Dubai
weekend: [Fri, saturday]
holidays:
  - 2026-06-30
  - {date: 2026-03-30, end: 2026-03-31, name: Eid}
workdays:
  - {date: 2026-06-27, name: make-up}
`
	cal, err := ParseCalendar([]byte(src), "gulf.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		y    int
		m    time.Month
		want string
	}{
		{2026, 6, "2026-06-29"}, // 30th is a holiday
		{2026, 3, "2026-03-29"}, // Sunday is a workday here; 30-31 holidays
		{2026, 7, "2026-07-30"}, // 31st is Friday
	}
	for _, tc := range tests {
		if got := cal.LastBusinessDay(tc.y, tc.m); got != d(tc.want) {
			t.Errorf("LastBusinessDay(%d,%s) = %s, want %s", tc.y, tc.m, got, tc.want)
		}
	}
	if !cal.IsBusinessDay(d("2026-06-27")) {
		t.Error("Saturday make-up not a business day")
	}
	if !cal.Covers(d("1999-01-01")) {
		t.Error("a calendar without covers covers everything")
	}
	// The instant 2026-06-28T21:00Z is already Monday the 29th in Dubai.
	if got := cal.DateOf(time.Date(2026, 6, 28, 21, 0, 0, 0, time.UTC)); got != d("2026-06-29") {
		t.Errorf("DateOf = %s", got)
	}
}

func TestParseCalendarEmpty(t *testing.T) {
	cal, err := ParseCalendar(nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if cal.TimeZone() != DefaultTimeZone || !cal.IsBusinessDay(d("2026-10-01")) || cal.IsBusinessDay(d("2026-10-03")) {
		t.Error("empty calendar: want Shanghai, Sat/Sun weekends only")
	}
}

// TestParseCalendarEmptyDocument: a file holding only a document marker
// (or an empty or null document, or comments) loads like an empty file.
func TestParseCalendarEmptyDocument(t *testing.T) {
	for _, src := range []string{"---", "---\n", "--- # nothing yet\n", "# comment only\n", "---\n...\n", "~\n", "null", "\n\n"} {
		cal, err := ParseCalendar([]byte(src), "empty.yaml")
		if err != nil {
			t.Errorf("%q: %v", src, err)
			continue
		}
		if cal.TimeZone() != DefaultTimeZone || cal.FiscalYearEndMonth() != time.December || !cal.IsBusinessDay(d("2026-10-01")) ||
			!cal.IsWeekend(d("2026-10-03")) || !cal.IsWeekend(d("2026-10-04")) || cal.IsWeekend(d("2026-10-05")) {
			t.Errorf("%q: want the empty-file calendar (Shanghai, Sat/Sun weekends only)", src)
		}
		if _, hol := cal.IsHoliday(d("2026-10-01")); hol {
			t.Errorf("%q: holidays from nowhere", src)
		}
	}
}

// TestParseCalendarErrorLineInsideFile: an error never names a line past
// the end of the file, even for the implicit nodes the YAML parser places
// there (the empty key of "? ").
func TestParseCalendarErrorLineInsideFile(t *testing.T) {
	for src, line := range map[string]int{"? ": 1, "name: x\n? ": 2, "--- []": 1} {
		_, err := ParseCalendar([]byte(src), "f.yaml")
		var ce *CalendarError
		if !errors.As(err, &ce) || ce.Line != line {
			t.Errorf("%q: %v, want an error on line %d", src, err, line)
		}
	}
}

func TestParseCalendarErrors(t *testing.T) {
	tests := []struct {
		name, src string
		line      int
		field     string
		msg       string
	}{
		{"unknown key", "name: x\nholiday: []\n", 2, "holiday", "unknown key"},
		{"bad zone", "timezone: Mars/Olympus\n", 1, "timezone", "unknown IANA time zone"},
		{"bad date", "holidays:\n  - {date: 2026-02-30}\n", 2, "holidays[0].date", "not a date"},
		{"end before date", "holidays:\n  - date: 2026-05-05\n    end: 2026-05-01\n", 2, "holidays[0].end", "before date"},
		{"make-up on weekday", "workdays:\n  - 2026-02-27\n", 2, "workdays[0]", "not a weekend day"},
		{"both lists", "holidays: [2026-02-28]\nworkdays: [2026-02-28]\n", 2, "workdays[0]", "already listed by holidays[0]"},
		{"duplicate holiday", "holidays:\n  - {date: 2026-10-01, end: 2026-10-07}\n  - 2026-10-03\n", 3, "holidays[1]", "already listed"},
		{"outside covers", "covers: {from: 2026-01-01, to: 2026-12-31}\nholidays: [2027-01-01]\n", 2, "holidays[0]", "outside covers"},
		{"bad weekday", "weekend: [saturday, sabbath]\n", 1, "weekend[1]", "not a day name"},
		{"all weekend", "weekend: [mon, tue, wed, thu, fri, sat, sun]\n", 1, "weekend", "all seven days"},
		{"fiscal month", "fiscal_year_end_month: 13\n", 1, "fiscal_year_end_month", "month number"},
		{"not a mapping", "- a\n- b\n", 1, "", "top level must be a mapping"},
		{"bad entry key", "holidays:\n  - {date: 2026-10-01, until: 2026-10-02}\n", 2, "holidays[0].until", "unknown key"},
		{"range too long", "holidays:\n  - {date: 2026-01-01, end: 2026-03-01}\n", 2, "holidays[0].end", "longer than 31 days"},
		{"duplicate key", "name: a\nname: b\n", 2, "name", "given twice"},
		{"yaml syntax", "name: [unclosed\n", 0, "", "not valid YAML"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseCalendar([]byte(tc.src), "test.yaml")
			if err == nil {
				t.Fatal("no error")
			}
			var ce *CalendarError
			if !errors.As(err, &ce) {
				t.Fatalf("error %T %v is not a *CalendarError", err, err)
			}
			if ce.Line != tc.line || ce.Field != tc.field || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("got line %d field %q: %v; want line %d field %q containing %q", ce.Line, ce.Field, err, tc.line, tc.field, tc.msg)
			}
			if !strings.HasPrefix(err.Error(), "calendar test.yaml") {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestDateArithmetic(t *testing.T) {
	for _, s := range []string{"1970-01-01", "2000-02-29", "2026-12-31", "1969-12-31", "2400-03-01", "1600-01-01"} {
		x := d(s)
		if got := dateFromDays(x.days()); got != x {
			t.Errorf("round trip %s -> %s", s, got)
		}
		tm := time.Date(x.Year, x.Month, x.Day, 0, 0, 0, 0, time.UTC)
		if x.Weekday() != tm.Weekday() {
			t.Errorf("%s weekday %s, want %s", s, x.Weekday(), tm.Weekday())
		}
		if x.days() != tm.Unix()/86400 {
			t.Errorf("%s days %d, want %d", s, x.days(), tm.Unix()/86400)
		}
	}
	if got := NewDate(2026, 13, 1); got != d("2027-01-01") {
		t.Errorf("NewDate(2026,13,1) = %s", got)
	}
	if got := NewDate(2026, 3, 0); got != d("2026-02-28") {
		t.Errorf("NewDate(2026,3,0) = %s", got)
	}
	if got := d("2026-12-30").AddDays(3); got != d("2027-01-02") {
		t.Errorf("AddDays = %s", got)
	}
	if !d("2026-01-01").Before(d("2026-01-02")) || d("2026-01-02").Compare(d("2026-01-01")) != 1 {
		t.Error("ordering")
	}
	if _, err := ParseDate("2026-1-5"); err == nil {
		t.Error("ParseDate accepted 2026-1-5")
	}
}

func TestCloseWindow(t *testing.T) {
	cal := DefaultCalendar()
	custom, err := ParseCalendar([]byte("timezone: UTC\nholidays: [2026-06-30]\nworkdays: [2026-05-30]\n"), "t")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		cal         *Calendar
		y           int
		m           time.Month
		days        int
		first, last string
		ok          bool
	}{
		{cal, 2026, 1, 3, "2026-01-28", "2026-01-30", true},  // 31st is Saturday
		{cal, 2026, 2, 3, "2026-02-26", "2026-02-28", true},  // 28th is a make-up Saturday
		{cal, 2026, 9, 3, "2026-09-28", "2026-09-30", true},  // after Mid-Autumn 25-27
		{cal, 2025, 1, 3, "2025-01-24", "2025-01-27", true},  // Sunday 26th is a make-up workday; Spring Festival from 28th
		{cal, 2025, 9, 5, "2025-09-25", "2025-09-30", true},  // Sunday 28th worked
		{cal, 2026, 12, 1, "2026-12-31", "2026-12-31", true}, // one day
		{cal, 2026, 12, 0, "", "", false},
		{custom, 2026, 6, 3, "2026-06-25", "2026-06-29", true}, // 30th off
		{custom, 2026, 5, 2, "2026-05-29", "2026-05-30", true}, // Saturday worked
	}
	for _, tc := range tests {
		first, last, ok := tc.cal.CloseWindow(tc.y, tc.m, tc.days)
		if ok != tc.ok || (ok && (first != d(tc.first) || last != d(tc.last))) {
			t.Errorf("CloseWindow(%d, %s, %d) = %s..%s %v, want %s..%s %v", tc.y, tc.m, tc.days, first, last, ok, tc.first, tc.last, tc.ok)
		}
		if !ok {
			continue
		}
		// every business day of the window is within days of the month end
		n := 0
		for x := first; !x.After(last); x = x.AddDays(1) {
			if b := tc.cal.BusinessDaysBeforeMonthEnd(x); b >= 0 {
				n++
				if b >= tc.days {
					t.Errorf("%s: %d business days before month end, window of %d", x, b, tc.days)
				}
			}
		}
		if n != tc.days {
			t.Errorf("window %s..%s has %d business days, want %d", first, last, n, tc.days)
		}
	}
	// a month with fewer business days than asked gives all of them
	few, _ := ParseCalendar([]byte("timezone: UTC\nholidays: [{date: 2026-02-02, end: 2026-02-26}]\n"), "few")
	first, last, ok := few.CloseWindow(2026, 2, 5)
	if !ok || first != d("2026-02-27") || last != d("2026-02-27") {
		t.Errorf("sparse month: %s..%s %v", first, last, ok)
	}
}

func TestDayNumberAndMonthIndex(t *testing.T) {
	for _, s := range []string{"1970-01-01", "1969-12-31", "2000-02-29", "2026-12-31", "1600-03-01"} {
		x := d(s)
		if back := DateFromDayNumber(x.DayNumber()); back != x {
			t.Errorf("%s -> %d -> %s", s, x.DayNumber(), back)
		}
		want := time.Date(x.Year, x.Month, x.Day, 0, 0, 0, 0, time.UTC).Unix() / 86400
		if x.DayNumber() != want {
			t.Errorf("%s: day number %d, want %d", s, x.DayNumber(), want)
		}
	}
	if got := d("2026-03-15").MonthIndex() - d("2025-12-01").MonthIndex(); got != 3 {
		t.Errorf("month index difference %d", got)
	}
}

func TestRegressors(t *testing.T) {
	c := DefaultCalendar()
	loc := c.Location()
	times := []time.Time{
		time.Date(2026, 9, 30, 17, 0, 0, 0, loc), // last business day of a quarter-end month, afternoon
		time.Date(2026, 9, 29, 9, 0, 0, 0, loc),  // one business day before, morning
		time.Date(2026, 10, 1, 12, 0, 0, 0, loc), // National Day holiday
		time.Date(2026, 10, 14, 10, 0, 0, 0, loc),
	}
	cols, names := c.Regressors(times, 3)
	get := func(name string) []float64 {
		for i, n := range names {
			if n == name {
				return cols[i]
			}
		}
		t.Fatalf("no column %s in %v", name, names)
		return nil
	}
	want := map[string][]float64{
		"business_day":    {1, 1, 0, 1},
		"holiday":         {0, 0, 1, 0},
		"close_day_0":     {1, 0, 0, 0},
		"close_day_1":     {0, 1, 0, 0},
		"close_day_2":     {0, 0, 0, 0},
		"close_afternoon": {1, 0, 0, 0},
		"quarter_close":   {1, 1, 0, 0},
		"year_close":      {0, 0, 0, 0},
	}
	for name, w := range want {
		g := get(name)
		for i := range w {
			if g[i] != w[i] {
				t.Errorf("%s[%d] = %v, want %v", name, i, g[i], w[i])
			}
		}
	}
}
