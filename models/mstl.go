package models

import (
	"fmt"
	"math"
	"sort"
)

// MSTL decomposes a series with several seasonal periods (Bandara, Hyndman &
// Bergmeir 2021, "MSTL: A Seasonal-Trend Decomposition Algorithm for Time
// Series with Multiple Seasonal Patterns"), as in R's forecast::mstl:
//
//	y = T + S_1 + … + S_k + R.
//
// Periods are sorted increasingly and those with 2p >= n are dropped. Starting
// from deseas = y, each of Iterations sweeps visits the periods in order,
// adds the current estimate of S_i back to deseas, re-estimates it with STL
// (period p_i, SeasonalWindows[i]) and subtracts it again. The trend is that
// of the last STL fit and R = deseas - T.
//
// Defaults: SeasonalWindows 11, 15, 19, 23, 27, 31, … (7 + 4i); Iterations 2
// (1 for a single period). Robust passes Robust to every STL fit. Missing
// values are handled as in STL. Complexity O(Iterations·Σ cost(STL)).
type MSTL struct {
	Periods         []int
	SeasonalWindows []int
	Iterations      int
	Robust          bool
}

// usablePeriods returns the sorted periods with 2 <= p < n/2 and their
// windows.
func (m MSTL) usablePeriods(n int) (periods, windows []int) {
	type pw struct{ p, w int }
	var ps []pw
	for i, p := range m.Periods {
		w := 0
		if i < len(m.SeasonalWindows) {
			w = m.SeasonalWindows[i]
		}
		ps = append(ps, pw{p, w})
	}
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].p < ps[j].p })
	seen := map[int]bool{}
	for _, v := range ps {
		if v.p < 2 || 2*v.p >= n || seen[v.p] {
			continue
		}
		seen[v.p] = true
		periods = append(periods, v.p)
		windows = append(windows, v.w)
	}
	for i := range windows {
		if windows[i] <= 0 {
			windows[i] = 7 + 4*(i+1)
		}
	}
	return periods, windows
}

// Decompose runs MSTL on y. It returns an *InsufficientHistoryError when no
// period has more than two full cycles of data (Need = 2·min(period)+1), and
// ErrInvalidPeriod when Periods is empty.
func (m MSTL) Decompose(y []float64) (Decomposition, error) {
	if len(m.Periods) == 0 {
		return Decomposition{}, fmt.Errorf("mstl: %w: no periods", ErrInvalidPeriod)
	}
	x, lead, _ := Clean(y)
	d, err := m.decompose(x)
	if err != nil {
		return Decomposition{}, err
	}
	n := len(y)
	out := Decomposition{Periods: d.Periods}
	out.Trend = embed(d.Trend, n, lead)
	out.Remainder = embed(d.Remainder, n, lead)
	out.Weights = embed(d.Weights, n, lead)
	for _, s := range d.Seasonal {
		out.Seasonal = append(out.Seasonal, embed(s, n, lead))
	}
	return out, nil
}

// decompose works on a complete series and returns unpadded components.
func (m MSTL) decompose(x []float64) (Decomposition, error) {
	n := len(x)
	periods, windows := m.usablePeriods(n)
	if len(periods) == 0 {
		minP := math.MaxInt
		for _, p := range m.Periods {
			if p >= 2 && p < minP {
				minP = p
			}
		}
		if minP == math.MaxInt {
			return Decomposition{}, fmt.Errorf("mstl: %w: no period >= 2", ErrInvalidPeriod)
		}
		return Decomposition{}, &InsufficientHistoryError{Need: 2*minP + 1, Have: n, Model: "mstl"}
	}
	iter := m.Iterations
	if iter <= 0 {
		iter = 2
	}
	if len(periods) == 1 {
		iter = 1
	}
	seas := make([][]float64, len(periods))
	for i := range seas {
		seas[i] = make([]float64, n)
	}
	deseas := append([]float64(nil), x...)
	var trend, rw []float64
	for it := 0; it < iter; it++ {
		for i, p := range periods {
			for t := range deseas {
				deseas[t] += seas[i][t]
			}
			s := STL{Period: p, SeasonalWindow: windows[i], Robust: m.Robust}
			season, tr, w := s.run(deseas)
			seas[i] = season
			trend, rw = tr, w
			for t := range deseas {
				deseas[t] -= season[t]
			}
		}
	}
	rem := make([]float64, n)
	for t := range rem {
		rem[t] = deseas[t] - trend[t]
	}
	return Decomposition{Periods: periods, Trend: trend, Seasonal: seas, Remainder: rem, Weights: rw}, nil
}

// AdjustedModel selects the model MSTLForecaster fits to the seasonally
// adjusted series.
type AdjustedModel int

// Models of the seasonally adjusted series.
const (
	// AdjustedETS is ETS with automatic selection among the non-seasonal
	// models (the default).
	AdjustedETS AdjustedModel = iota
	// AdjustedDamped is the damped trend ETS(A,Ad,N).
	AdjustedDamped
	// AdjustedTheta is the Theta method (SES with drift, no seasonal
	// adjustment of its own): one parameter, so the cheapest to fit.
	AdjustedTheta
)

// MSTLForecaster forecasts by decomposition (as R's forecast::stlf/mstlf):
// each seasonal component of MSTL is forecast by the seasonal naive method
// (its last cycle repeated) and the seasonally adjusted series y - Σ S_i
// (trend plus remainder) by a non-seasonal model chosen by Adjusted: ETS with
// automatic selection among the non-seasonal models (default), the damped
// trend ETS(A,Ad,N), or Theta. Forecasts are the sum of both parts.
//
// With Log the series is modelled on the log scale (Box–Cox λ = 0): y is
// replaced by log y before decomposing, and point forecasts and interval
// bounds are transformed back with exp, so seasonal patterns whose amplitude
// grows with the level (multiplicative seasonality) are captured and
// forecasts stay positive. The back-transformed point forecast is the median
// of the forecast distribution, not its mean. Log needs strictly positive
// data (Fit returns ErrNonPositive otherwise).
//
// Prediction intervals are those of the adjusted-series model shifted by the
// seasonal forecasts (as in forecast::stlf). They ignore two effects of the
// decomposition: the seasonal smoothers absorb part of the noise, so the
// adjusted series understates it, and the last cycle of each seasonal
// component, repeated into the future, carries estimation error. With
// WidenSeasonal both are accounted for, to first order, from the linear
// weights of the cycle-subseries LOESS smoother of each period p (robustness
// weights, jumps and the low-pass step ignored): with H = Σ_p h_p, h_p the
// average self-weight of the smoother, and E = Σ_p e_p, e_p the average sum of
// squared weights of its fit at the last point of a subseries, the noise
// variance is estimated as σ² = s²/(1-H) from the one-step residual variance
// s² of the adjusted-series model, and each half-width w becomes
// √(w²/(1-H) + z²σ²E). On simulated data with daily and weekly cycles this
// brings the empirical coverage close to nominal where the plain intervals
// cover about 85% at the 95% level.
//
// Periods with 2p >= n are dropped; if none remains Fit returns an
// *InsufficientHistoryError. Seed is passed to the ETS model.
type MSTLForecaster struct {
	MSTL
	// Adjusted selects the model of the seasonally adjusted series.
	Adjusted AdjustedModel
	// Damped selects ETS(A,Ad,N) for the adjusted series, like Adjusted =
	// AdjustedDamped (kept for compatibility).
	Damped bool
	// Log models log(y) (see above).
	Log bool
	// WidenSeasonal widens the intervals for the decomposition's seasonal
	// estimation error (see above).
	WidenSeasonal bool
	// Seed seeds any simulation in the adjusted-series model.
	Seed uint64

	p        prepared
	dec      Decomposition
	adj      Forecaster // *ETS or *Theta, fitted to the adjusted series
	inflate  float64    // 1/(1-H)
	extraVar float64    // σ²E in scaled units
	isFitted bool
}

// Name returns "mstl".
func (f *MSTLForecaster) Name() string { return "mstl" }

// Decomposition returns the decomposition of the last Fit (scaled back to
// data units, or to log units with Log, over the usable span of the input,
// without padding).
func (f *MSTLForecaster) Decomposition() Decomposition {
	if !f.isFitted {
		return Decomposition{}
	}
	sc := f.p.scale
	mul := func(v []float64) []float64 {
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = x * sc
		}
		return out
	}
	d := Decomposition{Periods: f.dec.Periods, Trend: mul(f.dec.Trend), Remainder: mul(f.dec.Remainder),
		Weights: append([]float64(nil), f.dec.Weights...)}
	for _, s := range f.dec.Seasonal {
		d.Seasonal = append(d.Seasonal, mul(s))
	}
	return d
}

func (f *MSTLForecaster) adjustedModel() AdjustedModel {
	if f.Damped {
		return AdjustedDamped
	}
	return f.Adjusted
}

// Fit decomposes y and fits the adjusted-series model.
func (f *MSTLForecaster) Fit(y []float64) error {
	f.isFitted = false
	if len(f.Periods) == 0 {
		return fmt.Errorf("mstl: %w: no periods", ErrInvalidPeriod)
	}
	if f.Log {
		z := make([]float64, len(y))
		for i, v := range y {
			switch {
			case !isFinite(v):
				z[i] = math.NaN()
			case v <= 0:
				return fmt.Errorf("mstl: log scale: %w", ErrNonPositive)
			default:
				z[i] = math.Log(v)
			}
		}
		y = z
	}
	p, err := prepare(y, 1, "mstl")
	if err != nil {
		return err
	}
	dec, err := f.MSTL.decompose(p.x)
	if err != nil {
		return err
	}
	n := len(p.x)
	adj := make([]float64, n)
	for t := range adj {
		adj[t] = dec.Trend[t] + dec.Remainder[t]
	}
	var model Forecaster
	var s2 float64 // one-step residual variance of the adjusted model (units of adj)
	var nparam int
	switch f.adjustedModel() {
	case AdjustedTheta:
		th := &Theta{}
		if err := th.Fit(adj); err != nil {
			return fmt.Errorf("mstl: adjusted series: %w", err)
		}
		model = th
		s2 = th.sesParams.Sigma2 * th.p.scale * th.p.scale
	default:
		e := &ETS{Seed: f.Seed}
		if f.adjustedModel() == AdjustedDamped {
			e.Model = &ETSModel{Error: ErrorAdditive, Trend: TrendDamped}
		} else {
			var cands []ETSModel
			for _, c := range DefaultETSModels() {
				if c.Season == SeasonNone {
					cands = append(cands, c)
				}
			}
			e.Candidates = cands
		}
		if err := e.Fit(adj); err != nil {
			return fmt.Errorf("mstl: adjusted series: %w", err)
		}
		model = e
		r, _ := e.Result()
		// r.Fitted is in the units of adj (ETS undoes its own scaling)
		var ss float64
		for t, v := range adj {
			d := v - r.Fitted[t]
			ss += d * d
		}
		nparam = r.NParam
		df := n - (nparam - 1)
		if df < 1 {
			df = n
		}
		s2 = ss / float64(df)
	}
	f.inflate, f.extraVar = 1, 0
	if f.WidenSeasonal {
		_, windows := f.MSTL.usablePeriods(n)
		var H, E float64
		for i, per := range dec.Periods {
			h, ev := subseriesInfluence(n, per, STL{Period: per, SeasonalWindow: windows[i]}.params(n).ns)
			H += h
			E += ev
		}
		H = math.Min(H, 0.9)
		f.inflate = 1 / (1 - H)
		f.extraVar = s2 * f.inflate * E
	}
	f.p, f.dec, f.adj = p, dec, model
	f.isFitted = true
	return nil
}

// Forecast returns h forecasts with intervals.
func (f *MSTLForecaster) Forecast(h int, levels []float64) (Forecast, error) {
	if !f.isFitted {
		return Forecast{}, fmt.Errorf("mstl: %w", ErrNotFitted)
	}
	if err := checkHorizon(h, "mstl"); err != nil {
		return Forecast{}, err
	}
	levels, err := checkLevels(levels)
	if err != nil {
		return Forecast{}, fmt.Errorf("mstl: %w", err)
	}
	hh := h + f.p.trail
	base, err := f.adj.Forecast(hh, levels)
	if err != nil {
		return Forecast{}, fmt.Errorf("mstl: %w", err)
	}
	n := len(f.p.x)
	seas := make([]float64, hh)
	for i, per := range f.dec.Periods {
		s := f.dec.Seasonal[i]
		for j := 1; j <= hh; j++ {
			k := (j - 1) / per
			seas[j-1] += s[n+j-per*(k+1)-1]
		}
	}
	mean := base.Mean
	for j := range mean {
		mean[j] += seas[j]
	}
	for k, iv := range base.Intervals {
		z := zQuantile(iv.Level)
		for j := range mean {
			lo, hi := iv.Lo[j]+seas[j], iv.Hi[j]+seas[j]
			if f.WidenSeasonal {
				dlo := mean[j] - lo
				dhi := hi - mean[j]
				add := z * z * f.extraVar
				lo = mean[j] - math.Sqrt(f.inflate*dlo*dlo+add)
				hi = mean[j] + math.Sqrt(f.inflate*dhi*dhi+add)
			}
			base.Intervals[k].Lo[j], base.Intervals[k].Hi[j] = lo, hi
		}
	}
	params := copyParams(base.Params)
	// The adjusted-series parameters are in the internal units of p.x.
	sc := f.p.scale
	for _, k := range []string{"l0", "b0", "drift"} {
		if v, ok := params[k]; ok {
			params[k] = v * sc
		}
	}
	additive := true
	if e, ok := f.adj.(*ETS); ok {
		if r, ok := e.Result(); ok && r.Model.Error != ErrorAdditive {
			additive = false
		}
	}
	if _, ok := params["sigma2"]; ok && additive {
		params["sigma2"] *= sc * sc
	}
	delete(params, "aicc")
	for i, per := range f.dec.Periods {
		params[fmt.Sprintf("period%d", i+1)] = float64(per)
	}
	name := "mstl+" + base.Model
	if f.Log {
		name = "mstl(log)+" + base.Model
	}
	out := Forecast{Mean: mean, Intervals: base.Intervals, Model: name, Params: params}
	// base is in the units of p.x (ETS undid its own scaling); undo ours.
	out.unscale(f.p.scale, f.p.trail)
	if f.Log {
		expAll(out.Mean)
		for _, iv := range out.Intervals {
			expAll(iv.Lo)
			expAll(iv.Hi)
		}
	}
	return out, nil
}

func expAll(v []float64) {
	for i, x := range v {
		v[i] = math.Exp(x)
	}
}

// subseriesInfluence returns, for the degree-0 cycle-subseries LOESS smoother
// of STL (span ns, no jumps, no robustness weights) applied to n points with
// period p, the average self-weight h over all points and the average sum of
// squared weights e of the fit at the last point of each subseries.
// Complexity O(n·min(ns, n/p)).
func subseriesInfluence(n, p, ns int) (h, e float64) {
	var sumH, sumE float64
	for j := 1; j <= p; j++ {
		k := (n-j)/p + 1
		if k < 1 {
			continue
		}
		y := make([]float64, k)
		w := make([]float64, k)
		nsh := (ns + 1) / 2
		for i := 1; i <= k; i++ {
			nleft, nright := 1, k
			if ns < k {
				switch {
				case i < nsh:
					nleft, nright = 1, ns
				case i >= k-nsh+1:
					nleft, nright = k-ns+1, k
				default:
					nleft, nright = i-nsh+1, ns+i-nsh
				}
			}
			for l := range w {
				w[l] = 0
			}
			if _, ok := stlEst(y, ns, 0, float64(i), nleft, nright, w, false, nil); !ok {
				continue
			}
			sumH += w[i-1]
			if i == k {
				for _, v := range w[nleft-1 : nright] {
					sumE += v * v
				}
			}
		}
	}
	return sumH / float64(n), sumE / float64(p)
}
