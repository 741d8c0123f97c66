package models

import (
	"errors"
	"fmt"
)

// ModelAuto names Auto in New.
const ModelAuto = "auto"

// ModelNames lists the names New accepts: "auto" and the candidates.
func ModelNames() []string { return append([]string{ModelAuto}, AllCandidates()...) }

// New returns an unfitted model by name ("auto", "snaive", "ets", "mstl",
// "theta", "regression") configured for the series y the way Auto
// configures its candidates (for "snaive", the model of the longest usable
// period). When periods is nil they are detected from y
// (DetectPeriods with maximum n/3). Auto combines its best candidates.
// It fails for an unknown name, and with an *InsufficientHistoryError when
// the model cannot apply to a series this short (e.g. mstl needs more than
// two cycles of its longest period).
func New(name string, y []float64, periods []int, seed uint64) (Forecaster, error) {
	x, _, _ := Clean(y)
	n := len(x)
	if periods == nil && name != ModelAuto {
		var err error
		periods, err = DetectPeriods(y, n/3)
		if err != nil && !errors.Is(err, ErrInsufficientHistory) {
			return nil, err
		}
	}
	if name == ModelAuto {
		return &Auto{Periods: periods, Combine: true, Seed: seed}, nil
	}
	known := false
	for _, c := range AllCandidates() {
		known = known || c == name
	}
	if !known {
		return nil, fmt.Errorf("models: unknown model %q (use one of %v)", name, ModelNames())
	}
	a := &Auto{Seed: seed}
	ms := a.members(name, n, periods, positive(x))
	if len(ms) == 0 {
		longest := 0
		for _, p := range periods {
			longest = max(longest, p)
		}
		return nil, &InsufficientHistoryError{Need: 2*longest + 1, Have: n, Model: name}
	}
	return ms[len(ms)-1].mk(), nil
}
