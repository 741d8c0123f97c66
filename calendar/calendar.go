// Package calendar is the business calendar of an organisation: which civil
// dates are working days (weekends, public holidays, make-up workdays), in
// which time zone, and when the fiscal quarters and year end. Month-end close
// load is defined in business days counted back from a month's last business
// day, so both the demo data generator (package datasets) and the engine's
// month-end predictor read it from here.
//
// Calendars are loaded from a small YAML file (LoadCalendar, ParseCalendar;
// the format is described on Calendar and in README.md) or taken from
// DefaultCalendar, mainland China 2025-2027.
package calendar

import (
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // calendars name IANA zones; do not depend on the host's zoneinfo

	yaml "go.yaml.in/yaml/v3"
)

// DefaultTimeZone is the IANA time zone a calendar uses when its file names
// none.
const DefaultTimeZone = "Asia/Shanghai"

// Date is a civil date (no time of day, no zone). The zero Date is "no date".
type Date struct {
	Year  int        // e.g. 2026
	Month time.Month // 1-12
	Day   int        // 1-31
}

// NewDate returns the Date y-m-d, normalised like time.Date (so month 13 or
// day 0 roll over).
func NewDate(y int, m time.Month, d int) Date {
	t := time.Date(y, m, d, 12, 0, 0, 0, time.UTC)
	return Date{t.Year(), t.Month(), t.Day()}
}

// ParseDate parses "YYYY-MM-DD".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("%q is not a date (want YYYY-MM-DD)", s)
	}
	return Date{t.Year(), t.Month(), t.Day()}, nil
}

// DateIn returns the civil date of instant t in loc.
func DateIn(t time.Time, loc *time.Location) Date {
	y, m, d := t.In(loc).Date()
	return Date{y, m, d}
}

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// String formats d as YYYY-MM-DD.
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
}

// In returns midnight at the start of d in loc.
func (d Date) In(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// AddDays returns d shifted by n days (n may be negative).
func (d Date) AddDays(n int) Date { return dateFromDays(d.days() + int64(n)) }

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday {
	// 1970-01-01 was a Thursday.
	w := (d.days() + 4) % 7
	if w < 0 {
		w += 7
	}
	return time.Weekday(w)
}

// Compare returns -1, 0 or +1 as d is before, equal to or after e.
func (d Date) Compare(e Date) int {
	a, b := d.days(), e.days()
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Before reports whether d is before e.
func (d Date) Before(e Date) bool { return d.days() < e.days() }

// After reports whether d is after e.
func (d Date) After(e Date) bool { return d.days() > e.days() }

// days returns the number of days since 1970-01-01.
func (d Date) days() int64 { return daysFromCivil(d.Year, d.Month, d.Day) }

// DayNumber returns the number of days from 1970-01-01 to d (negative
// before it) in the proleptic Gregorian calendar: a dense integer key for
// tables indexed by date. DateFromDayNumber inverts it.
func (d Date) DayNumber() int64 { return d.days() }

// DateFromDayNumber returns the date n days after 1970-01-01 (n may be
// negative); it inverts Date.DayNumber.
func DateFromDayNumber(n int64) Date { return dateFromDays(n) }

// MonthIndex returns year×12 + month−1, a dense integer key of d's month
// (consecutive months differ by one).
func (d Date) MonthIndex() int { return d.Year*12 + int(d.Month) - 1 }

// daysFromCivil is the proleptic Gregorian day number (0 = 1970-01-01) of
// y-m-d with m in 1..12.
func daysFromCivil(y int, m time.Month, d int) int64 {
	yy := int64(y)
	if m <= 2 {
		yy--
	}
	era := yy / 400
	if yy < 0 && yy%400 != 0 {
		era--
	}
	yoe := yy - era*400
	mp := (int64(m) + 9) % 12
	doy := (153*mp+2)/5 + int64(d) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// dateFromDays inverts daysFromCivil.
func dateFromDays(z int64) Date {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return Date{int(y), time.Month(m), int(d)}
}

// Calendar is a business calendar: which civil dates are working days in an
// organisation, in the organisation's time zone. A date is a business day
// when it is a make-up workday, or when it is neither a weekend day nor a
// public holiday.
//
// Calendars are loaded from YAML (LoadCalendar, ParseCalendar) or taken from
// DefaultCalendar. A Calendar is immutable after loading and safe for
// concurrent use.
//
// File format (every key optional; an empty file, a document marker "---"
// alone or a null document makes a calendar with only weekends):
//
//	name: cn-default              # free text, shown in reports
//	timezone: Asia/Shanghai       # IANA zone name; default Asia/Shanghai
//	weekend: [saturday, sunday]   # day names (full or 3-letter, any case); default Saturday and Sunday; [] = none
//	fiscal_year_end_month: 12     # 1-12, last month of the fiscal year; default 12
//	covers:                       # the span the holiday lists are complete for
//	  from: 2025-01-01
//	  to: 2027-12-31
//	holidays:                     # public holidays (dates off work)
//	  - date: 2025-10-01          # first day, YYYY-MM-DD
//	    end: 2025-10-08           # optional last day (inclusive) of a range
//	    name: National Day        # optional
//	  - 2025-01-01                # a bare date is also accepted
//	workdays:                     # make-up workdays: weekend dates worked
//	  - {date: 2025-09-28, name: National Day make-up}
//
// Rules checked on load: dates are valid YYYY-MM-DD; a range's end is not
// before its start and spans at most 31 days; no date is listed twice; a
// make-up workday falls on a weekend day and is not also a holiday; when
// covers is given, every listed date lies inside it; unknown keys are
// errors.
type Calendar struct {
	name     string
	tzName   string
	loc      *time.Location
	weekend  [7]bool
	fyEnd    time.Month
	from, to Date
	holidays map[int64]string
	workdays map[int64]string
}

//go:embed default.yaml
var defaultCalendarYAML []byte

var (
	defaultCalOnce sync.Once
	defaultCal     *Calendar
)

// DefaultCalendar returns the built-in calendar (default.yaml in this package):
// mainland China, Asia/Shanghai, Saturday/Sunday weekends, public holidays
// and make-up workdays for 2025-2027, fiscal year ending in December.
func DefaultCalendar() *Calendar {
	defaultCalOnce.Do(func() {
		c, err := ParseCalendar(defaultCalendarYAML, "default.yaml")
		if err != nil {
			panic("calendar: built-in calendar is invalid: " + err.Error())
		}
		defaultCal = c
	})
	return defaultCal
}

// DefaultCalendarYAML returns a copy of the built-in calendar file, as a
// template for writing one's own.
func DefaultCalendarYAML() []byte { return append([]byte(nil), defaultCalendarYAML...) }

// LoadCalendar reads a calendar file (format: see Calendar).
func LoadCalendar(path string) (*Calendar, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("calendar: %w", err)
	}
	return ParseCalendar(data, path)
}

// ReadCalendar reads a calendar from r; source names it in errors.
func ReadCalendar(r io.Reader, source string) (*Calendar, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("calendar %s: %w", source, err)
	}
	return ParseCalendar(data, source)
}

// CalendarError is a problem in a calendar file: the file (Source), the
// 1-based Line (0 if unknown), the offending field as a path such as
// "holidays[3].end", and why.
type CalendarError struct {
	Source string
	Line   int
	Field  string
	Err    error
}

// Error implements error.
func (e *CalendarError) Error() string {
	var b strings.Builder
	b.WriteString("calendar")
	if e.Source != "" {
		b.WriteString(" " + e.Source)
	}
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
	}
	if e.Field != "" {
		b.WriteString(": " + e.Field)
	}
	b.WriteString(": " + e.Err.Error())
	return b.String()
}

// Unwrap returns the underlying reason.
func (e *CalendarError) Unwrap() error { return e.Err }

// ParseCalendar parses a calendar file's content; source names it in errors
// (a path, or "" for none).
func ParseCalendar(data []byte, source string) (*Calendar, error) {
	p := calParser{source: source}
	c, err := p.parse(data)
	if err != nil {
		return nil, err
	}
	return c, nil
}

type calParser struct {
	source string
	// lines is the number of lines of the file, as YAML counts them.
	lines int
}

func (p *calParser) errf(n *yaml.Node, field, format string, args ...any) error {
	line := 0
	if n != nil {
		// The YAML parser places an implicit node (the null after a
		// trailing "key:" or "---") on the line after the last one when
		// the file does not end there: name the last line instead.
		line = min(n.Line, p.lines)
	}
	return &CalendarError{Source: p.source, Line: line, Field: field, Err: fmt.Errorf(format, args...)}
}

// lineCount counts the lines of a YAML text as its parser does: a line
// ends at LF, CR, CR LF, NEL, LS or PS.
func lineCount(b []byte) int {
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

var weekdayNames = map[string]time.Weekday{
	"sunday": time.Sunday, "sun": time.Sunday,
	"monday": time.Monday, "mon": time.Monday,
	"tuesday": time.Tuesday, "tue": time.Tuesday,
	"wednesday": time.Wednesday, "wed": time.Wednesday,
	"thursday": time.Thursday, "thu": time.Thursday,
	"friday": time.Friday, "fri": time.Friday,
	"saturday": time.Saturday, "sat": time.Saturday,
}

type dateEntry struct {
	start, end Date
	name       string
	field      string
	node       *yaml.Node
}

func (p *calParser) parse(data []byte) (*Calendar, error) {
	c := &Calendar{
		tzName:   DefaultTimeZone,
		fyEnd:    time.December,
		holidays: map[int64]string{},
		workdays: map[int64]string{},
	}
	c.weekend[time.Saturday] = true
	c.weekend[time.Sunday] = true

	p.lines = lineCount(data)
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &CalendarError{Source: p.source, Err: fmt.Errorf("not valid YAML: %w", err)}
	}
	if doc.Kind == 0 { // empty file (or only comments)
		return p.finish(c, nil, nil)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		// An empty document ("---" alone) or an explicit null: as an
		// empty file.
		return p.finish(c, nil, nil)
	}
	if root.Kind != yaml.MappingNode {
		return nil, p.errf(root, "", "the top level must be a mapping of keys (name, timezone, weekend, holidays, ...)")
	}
	var holidays, workdays []dateEntry
	seen := map[string]bool{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if seen[k.Value] {
			return nil, p.errf(k, k.Value, "key given twice")
		}
		seen[k.Value] = true
		switch k.Value {
		case "name":
			s, err := p.scalar(v, "name")
			if err != nil {
				return nil, err
			}
			c.name = s
		case "timezone":
			s, err := p.scalar(v, "timezone")
			if err != nil {
				return nil, err
			}
			if s == "" {
				return nil, p.errf(v, "timezone", "empty; give an IANA zone name such as %s or UTC", DefaultTimeZone)
			}
			loc, err := time.LoadLocation(s)
			if err != nil {
				return nil, p.errf(v, "timezone", "unknown IANA time zone %q", s)
			}
			c.tzName, c.loc = s, loc
		case "weekend":
			if v.Kind != yaml.SequenceNode {
				return nil, p.errf(v, "weekend", "must be a list of day names, e.g. [saturday, sunday]")
			}
			c.weekend = [7]bool{}
			for j, d := range v.Content {
				field := fmt.Sprintf("weekend[%d]", j)
				s, err := p.scalar(d, field)
				if err != nil {
					return nil, err
				}
				wd, ok := weekdayNames[strings.ToLower(strings.TrimSpace(s))]
				if !ok {
					return nil, p.errf(d, field, "%q is not a day name (monday..sunday or mon..sun)", s)
				}
				if c.weekend[wd] {
					return nil, p.errf(d, field, "%s listed twice", wd)
				}
				c.weekend[wd] = true
			}
			if len(v.Content) == 7 {
				return nil, p.errf(v, "weekend", "all seven days are weekend days; no day could be a business day")
			}
		case "fiscal_year_end_month":
			s, err := p.scalar(v, "fiscal_year_end_month")
			if err != nil {
				return nil, err
			}
			m, err := strconv.Atoi(s)
			if err != nil || m < 1 || m > 12 {
				return nil, p.errf(v, "fiscal_year_end_month", "%q is not a month number 1-12", s)
			}
			c.fyEnd = time.Month(m)
		case "covers":
			if v.Kind != yaml.MappingNode {
				return nil, p.errf(v, "covers", "must be a mapping with from and to dates")
			}
			for j := 0; j+1 < len(v.Content); j += 2 {
				ck, cv := v.Content[j], v.Content[j+1]
				field := "covers." + ck.Value
				switch ck.Value {
				case "from", "to":
				default:
					return nil, p.errf(ck, field, "unknown key (want from or to)")
				}
				s, err := p.scalar(cv, field)
				if err != nil {
					return nil, err
				}
				d, err := ParseDate(s)
				if err != nil {
					return nil, p.errf(cv, field, "%v", err)
				}
				if ck.Value == "from" {
					c.from = d
				} else {
					c.to = d
				}
			}
			if c.from.IsZero() || c.to.IsZero() {
				return nil, p.errf(v, "covers", "needs both from and to")
			}
			if c.to.Before(c.from) {
				return nil, p.errf(v, "covers", "to %s is before from %s", c.to, c.from)
			}
		case "holidays", "workdays":
			es, err := p.entries(v, k.Value)
			if err != nil {
				return nil, err
			}
			if k.Value == "holidays" {
				holidays = es
			} else {
				workdays = es
			}
		default:
			return nil, p.errf(k, k.Value, "unknown key (known: name, timezone, weekend, fiscal_year_end_month, covers, holidays, workdays)")
		}
	}
	return p.finish(c, holidays, workdays)
}

func (p *calParser) finish(c *Calendar, holidays, workdays []dateEntry) (*Calendar, error) {
	if c.loc == nil {
		loc, err := time.LoadLocation(c.tzName)
		if err != nil {
			return nil, p.errf(nil, "timezone", "cannot load default zone %s: %v", c.tzName, err)
		}
		c.loc = loc
	}
	inCover := func(d Date) bool {
		return c.from.IsZero() || (!d.Before(c.from) && !d.After(c.to))
	}
	where := map[int64]string{}
	for _, e := range holidays {
		for d := e.start; !d.After(e.end); d = d.AddDays(1) {
			if !inCover(d) {
				return nil, p.errf(e.node, e.field, "%s lies outside covers (%s to %s)", d, c.from, c.to)
			}
			if prev, dup := where[d.days()]; dup {
				return nil, p.errf(e.node, e.field, "%s is already listed by %s", d, prev)
			}
			where[d.days()] = e.field
			c.holidays[d.days()] = e.name
		}
	}
	for _, e := range workdays {
		if e.end != e.start {
			return nil, p.errf(e.node, e.field, "make-up workdays are single dates; end is not allowed")
		}
		d := e.start
		if !inCover(d) {
			return nil, p.errf(e.node, e.field, "%s lies outside covers (%s to %s)", d, c.from, c.to)
		}
		if !c.weekend[d.Weekday()] {
			return nil, p.errf(e.node, e.field, "%s is a %s, not a weekend day; only weekend days can be make-up workdays", d, d.Weekday())
		}
		if prev, dup := where[d.days()]; dup {
			return nil, p.errf(e.node, e.field, "%s is already listed by %s", d, prev)
		}
		where[d.days()] = e.field
		c.workdays[d.days()] = e.name
	}
	return c, nil
}

func (p *calParser) scalar(n *yaml.Node, field string) (string, error) {
	if n.Kind != yaml.ScalarNode {
		return "", p.errf(n, field, "must be a single value, not a list or mapping")
	}
	return n.Value, nil
}

func (p *calParser) entries(v *yaml.Node, key string) ([]dateEntry, error) {
	if v.Kind == yaml.ScalarNode && (v.Tag == "!!null" || v.Value == "") {
		return nil, nil
	}
	if v.Kind != yaml.SequenceNode {
		return nil, p.errf(v, key, "must be a list of dates or {date, end, name} entries")
	}
	out := make([]dateEntry, 0, len(v.Content))
	for i, n := range v.Content {
		field := fmt.Sprintf("%s[%d]", key, i)
		e := dateEntry{field: field, node: n}
		switch n.Kind {
		case yaml.ScalarNode:
			d, err := ParseDate(n.Value)
			if err != nil {
				return nil, p.errf(n, field, "%v", err)
			}
			e.start, e.end = d, d
		case yaml.MappingNode:
			for j := 0; j+1 < len(n.Content); j += 2 {
				ek, ev := n.Content[j], n.Content[j+1]
				sub := field + "." + ek.Value
				s, err := p.scalar(ev, sub)
				if err != nil {
					return nil, err
				}
				switch ek.Value {
				case "date", "end":
					d, err := ParseDate(s)
					if err != nil {
						return nil, p.errf(ev, sub, "%v", err)
					}
					if ek.Value == "date" {
						e.start = d
					} else {
						e.end = d
					}
				case "name":
					e.name = s
				default:
					return nil, p.errf(ek, sub, "unknown key (want date, end or name)")
				}
			}
			if e.start.IsZero() {
				return nil, p.errf(n, field+".date", "missing")
			}
			if e.end.IsZero() {
				e.end = e.start
			}
			if e.end.Before(e.start) {
				return nil, p.errf(n, field+".end", "%s is before date %s", e.end, e.start)
			}
			if e.end.days()-e.start.days() >= 31 {
				return nil, p.errf(n, field+".end", "range %s to %s is longer than 31 days", e.start, e.end)
			}
		default:
			return nil, p.errf(n, field, "must be a date or a {date, end, name} mapping")
		}
		out = append(out, e)
	}
	return out, nil
}

// Name returns the calendar's name ("" if the file gave none).
func (c *Calendar) Name() string { return c.name }

// TimeZone returns the IANA name of the calendar's time zone.
func (c *Calendar) TimeZone() string { return c.tzName }

// Location returns the calendar's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// FiscalYearEndMonth returns the last month of the fiscal year (December
// unless the file says otherwise).
func (c *Calendar) FiscalYearEndMonth() time.Month { return c.fyEnd }

// Covers reports whether the holiday lists are declared complete for d. A
// calendar without a covers section covers every date.
func (c *Calendar) Covers(d Date) bool {
	return c.from.IsZero() || (!d.Before(c.from) && !d.After(c.to))
}

// CoverRange returns the covers span; both are zero when none was given.
func (c *Calendar) CoverRange() (from, to Date) { return c.from, c.to }

// DateOf returns the civil date of instant t in the calendar's time zone.
func (c *Calendar) DateOf(t time.Time) Date { return DateIn(t, c.loc) }

// IsWeekend reports whether d falls on one of the calendar's weekend days
// (regardless of make-up workdays).
func (c *Calendar) IsWeekend(d Date) bool { return c.weekend[d.Weekday()] }

// IsHoliday reports whether d is a listed public holiday, and its name.
func (c *Calendar) IsHoliday(d Date) (string, bool) {
	n, ok := c.holidays[d.days()]
	return n, ok
}

// IsMakeUpWorkday reports whether d is a listed make-up workday (a weekend
// date that is worked), and its name.
func (c *Calendar) IsMakeUpWorkday(d Date) (string, bool) {
	n, ok := c.workdays[d.days()]
	return n, ok
}

// IsBusinessDay reports whether d is a working day: a make-up workday, or a
// date that is neither a weekend day nor a public holiday.
func (c *Calendar) IsBusinessDay(d Date) bool {
	k := d.days()
	if _, ok := c.workdays[k]; ok {
		return true
	}
	if _, ok := c.holidays[k]; ok {
		return false
	}
	return !c.weekend[d.Weekday()]
}

// LastBusinessDay returns the last business day of the given month, or the
// zero Date if the month has none.
func (c *Calendar) LastBusinessDay(year int, month time.Month) Date {
	first := NewDate(year, month, 1)
	for d := NewDate(year, month+1, 1).AddDays(-1); !d.Before(first); d = d.AddDays(-1) {
		if c.IsBusinessDay(d) {
			return d
		}
	}
	return Date{}
}

// BusinessDaysBeforeMonthEnd returns how many business days of d's month
// come after d: 0 on the month's last business day, 1 on the business day
// before it, and so on. It returns -1 when d is not a business day.
func (c *Calendar) BusinessDaysBeforeMonthEnd(d Date) int {
	if !c.IsBusinessDay(d) {
		return -1
	}
	n := 0
	last := NewDate(d.Year, d.Month+1, 1).AddDays(-1)
	for e := d.AddDays(1); !e.After(last); e = e.AddDays(1) {
		if c.IsBusinessDay(e) {
			n++
		}
	}
	return n
}

// BusinessDaysInMonth returns the number of business days in the month.
func (c *Calendar) BusinessDaysInMonth(year int, month time.Month) int {
	n := 0
	first := NewDate(year, month, 1)
	last := NewDate(year, month+1, 1).AddDays(-1)
	for d := first; !d.After(last); d = d.AddDays(1) {
		if c.IsBusinessDay(d) {
			n++
		}
	}
	return n
}

// IsYearEnd reports whether month closes the fiscal year.
func (c *Calendar) IsYearEnd(month time.Month) bool { return month == c.fyEnd }

// IsQuarterEnd reports whether month closes a fiscal quarter (the fiscal
// year-end month included).
func (c *Calendar) IsQuarterEnd(month time.Month) bool {
	return (int(month)-int(c.fyEnd)+12)%3 == 0
}

// CloseWindow returns the month-end close window of the given month: its
// last `days` business days, from first to last (inclusive civil dates,
// last being LastBusinessDay). A month with fewer business days gives all
// of them. ok is false when the month has no business day or days < 1.
func (c *Calendar) CloseWindow(year int, month time.Month, days int) (first, last Date, ok bool) {
	last = c.LastBusinessDay(year, month)
	if last.IsZero() || days < 1 {
		return Date{}, Date{}, false
	}
	first = last
	n := 1
	for d := last.AddDays(-1); d.Month == month && n < days; d = d.AddDays(-1) {
		if c.IsBusinessDay(d) {
			first = d
			n++
		}
	}
	return first, last, true
}
