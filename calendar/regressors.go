package calendar

import (
	"strconv"
	"time"
)

// Regressors returns calendar design columns for a regression forecast, one
// value per time (evaluated in the calendar's time zone), so a model can
// learn what a business calendar does to load:
//
//   - business_day: 1 on business days (make-up workdays included);
//   - holiday: 1 on public holidays;
//   - close_day_k for k = 0..closeDays-1: 1 on the business day k days
//     before the month's last business day (0 = the last one);
//   - close_afternoon: 1 from 13:00 to 20:00 local time on close days,
//     where the close peak sits;
//   - quarter_close, year_close: 1 on close days of quarter-end and
//     year-end months (fiscal year end from the calendar).
//
// Times outside the calendar's covered years get zeros for the holiday
// column (the calendar does not know them). Complexity O(len(times)).
func (c *Calendar) Regressors(times []time.Time, closeDays int) (cols [][]float64, names []string) {
	n := len(times)
	col := func(name string) []float64 {
		v := make([]float64, n)
		cols = append(cols, v)
		names = append(names, name)
		return v
	}
	business, holiday := col("business_day"), col("holiday")
	closeK := make([][]float64, max(closeDays, 0))
	for k := range closeK {
		closeK[k] = col("close_day_" + strconv.Itoa(k))
	}
	afternoon, quarter, year := col("close_afternoon"), col("quarter_close"), col("year_close")
	for i, t := range times {
		d := c.DateOf(t)
		if c.IsBusinessDay(d) {
			business[i] = 1
		}
		if _, ok := c.IsHoliday(d); ok {
			holiday[i] = 1
		}
		k := c.BusinessDaysBeforeMonthEnd(d)
		if k < 0 || k >= len(closeK) {
			continue
		}
		closeK[k][i] = 1
		if h := t.In(c.Location()).Hour(); h >= 13 && h < 20 {
			afternoon[i] = 1
		}
		if c.IsQuarterEnd(d.Month) {
			quarter[i] = 1
		}
		if c.IsYearEnd(d.Month) {
			year[i] = 1
		}
	}
	return cols, names
}
