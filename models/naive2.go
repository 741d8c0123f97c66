package models

import (
	"fmt"
	"math"
)

// Naive2 is the M4 competition's Naive2 benchmark (Makridakis, Spiliotis &
// Assimakopoulos 2020): the naive (random walk) forecast of the seasonally
// adjusted series, re-seasonalised.
//
// Seasonal adjustment is applied when Period m >= 2, the series has at least
// 3m observations and its lag-m autocorrelation is significant at the 90%
// level, |r_m| > 1.645·√((1+2Σ_{k<m} r_k²)/n) (the competition's
// SeasonalityTest). The seasonal indices are those of a classical
// multiplicative decomposition (R's decompose(type = "multiplicative"):
// centred 2×m moving average, mean ratio per phase, normalised to average 1).
// For data that are not strictly positive the multiplicative decomposition
// does not exist and the series is forecast unadjusted.
//
// The forecast is ŷ[T+h] = a[T]·s[(T+h) mod m] with a = y/s the adjusted
// series. Prediction intervals are those of the naive method on the adjusted
// series, a[T] ± z·σ̂·√h with σ̂² the mean squared one-step difference of a
// (FPP3 §5.5), multiplied by the seasonal index like the mean.
//
// Needs two observations. Fit is O(n·m).
type Naive2 struct {
	// Period is the seasonal period m (<= 1: plain naive).
	Period int

	p        prepared
	seasonal []float64 // nil when not adjusted
	last     float64   // last adjusted value (scaled units)
	sigma    float64   // naive residual sd of the adjusted series
	fit      bool
}

// Name returns "naive2".
func (nv *Naive2) Name() string { return "naive2" }

// Seasonal reports whether the last Fit applied seasonal adjustment.
func (nv *Naive2) Seasonal() bool { return nv.seasonal != nil }

// Fit tests for seasonality, adjusts and fits the naive method.
func (nv *Naive2) Fit(y []float64) error {
	nv.fit = false
	p, err := prepare(y, 2, "naive2")
	if err != nil {
		return err
	}
	x := p.x
	n := len(x)
	m := nv.Period
	nv.seasonal = nil
	adj := x
	if m >= 2 && n >= 3*m && seasonalTest(x, m) {
		if s := classicalSeasonal(x, m, true); s != nil && positive(x) {
			nv.seasonal = s
			adj = make([]float64, n)
			for t, v := range x {
				adj[t] = v / s[t%m]
			}
		}
	}
	var sse float64
	for t := 1; t < n; t++ {
		d := adj[t] - adj[t-1]
		sse += d * d
	}
	nv.p = p
	nv.last = adj[n-1]
	nv.sigma = math.Sqrt(sse / float64(n-1))
	nv.fit = true
	return nil
}

func positive(x []float64) bool {
	for _, v := range x {
		if !(v > 0) {
			return false
		}
	}
	return len(x) > 0
}

// Forecast returns h Naive2 forecasts with intervals.
func (nv *Naive2) Forecast(h int, levels []float64) (Forecast, error) {
	if !nv.fit {
		return Forecast{}, fmt.Errorf("naive2: %w", ErrNotFitted)
	}
	if err := checkHorizon(h, "naive2"); err != nil {
		return Forecast{}, err
	}
	levels, err := checkLevels(levels)
	if err != nil {
		return Forecast{}, fmt.Errorf("naive2: %w", err)
	}
	n := len(nv.p.x)
	hh := h + nv.p.trail
	mean := make([]float64, hh)
	sd := make([]float64, hh)
	for i := range mean {
		mean[i] = nv.last
		sd[i] = nv.sigma * math.Sqrt(float64(i+1))
	}
	ivs := normalIntervals(mean, sd, levels)
	if nv.seasonal != nil {
		m := len(nv.seasonal)
		for i := range mean {
			s := nv.seasonal[(n+i)%m]
			mean[i] *= s
			for k := range ivs {
				ivs[k].Lo[i] *= s
				ivs[k].Hi[i] *= s
			}
		}
	}
	f := Forecast{Mean: mean, Intervals: ivs, Model: "naive2",
		Params: map[string]float64{"sigma": nv.sigma * nv.p.scale}}
	if nv.seasonal != nil {
		f.Params["period"] = float64(len(nv.seasonal))
	}
	f.unscale(nv.p.scale, nv.p.trail)
	return f, nil
}
