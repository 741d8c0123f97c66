// Package benchmark measures foresight's forecasting and prediction code
// against reference data: the M4 Hourly competition series with the
// competition's measures (RunM4, run by "foresight bench m4"), and scenario
// benchmarks on the demo fleet's ground truth. Runs are deterministic (fixed
// seeds) and bounded in time; reports render as Markdown tables.
package benchmark
