// Package risk holds Foresight's risk predictors: pure functions over
// timestamped samples ([]time.Time plus []float64, NaN = missing) that
// answer with honest uncertainty and checkable evidence. They are
// deterministic (interval simulations use an explicit seed), do no I/O and
// keep no state.
//
//   - PredictDisk: when a volume fills up (status filling, stable, shrinking
//     or insufficient_history; full and warning-level ETAs as p10/p50/p90).
//   - PredictMemLeak: whether a process leaks memory rather than warming up
//     or following load, how fast, and when it runs out of memory.
//   - PredictMonthEnd: the month-end close load peak.
//
// Every predictor copes with missing data, irregular sampling and outliers,
// and returns an insufficient_history answer stating the minimum it needs
// rather than a confident number from too little data. Too little data is
// never an error; malformed input is (ErrInvalidInput for the disk and
// memory predictors).
//
// The disk and memory predictors build on models.MannKendall and Theil–Sen
// slopes with Sen's rank confidence interval; both correct their tests for
// autocorrelated residuals (an effective sample size from the lag-1
// autocorrelation), since metric series are rarely independent from one
// sample to the next.
package risk
