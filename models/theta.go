package models

import (
	"fmt"
	"math"
)

// Theta is the standard Theta method of Assimakopoulos & Nikolopoulos (2000)
// in the form shown by Hyndman & Billah (2003) to be simple exponential
// smoothing with drift (as in the R function forecast::thetaf):
//
//	ŷ[T+h] = ℓ_T + (b/2)·((h-1) + (1-(1-α)^T)/α),
//
// where ℓ_T and α come from SES, i.e. ETS(A,N,N) fitted by maximum likelihood,
// and b is the least-squares slope of the series on time (the θ=0 line).
//
// Seasonality: when Period m >= 2, the series has more than 2m observations
// and the autocorrelation at lag m is significant at the 90% level,
// |r_m| > 1.645·√((1+2Σ_{k<m} r_k²)/n), the series is divided by classical
// multiplicative seasonal indices before the method is applied and forecasts
// and interval bounds are multiplied by them afterwards. For series that are
// not strictly positive an additive decomposition is used instead.
//
// Prediction intervals are those of the SES state space model around the
// Theta mean: ŷ ± z·σ·√(1 + (h-1)α²), computed on the seasonally adjusted
// scale and then reseasonalised like the mean. (forecast::thetaf instead adds
// the adjusted-scale half-width to the reseasonalised mean; the two agree for
// non-seasonal series.)
//
// Needs at least 7 observations (the ETS(A,N,N) minimum). Fit is O(n·m) for
// the seasonality test plus the cost of one SES fit.
type Theta struct {
	// Period is the seasonal period m (<= 1: no seasonal adjustment).
	Period int

	p         prepared
	ses       ETS
	drift     float64 // b/2 in scaled units
	alpha     float64
	seasonal  []float64
	mult      bool
	n         int
	isFitted  bool
	sesParams ETSResult
}

// Name returns "theta".
func (th *Theta) Name() string { return "theta" }

// Seasonal reports whether the last Fit applied seasonal adjustment.
func (th *Theta) Seasonal() bool { return th.seasonal != nil }

// Fit fits the Theta method to y.
func (th *Theta) Fit(y []float64) error {
	th.isFitted = false
	_, need := etsNeed(ETSModel{}, 1)
	p, err := prepare(y, need, "theta")
	if err != nil {
		return err
	}
	x := p.x
	n := len(x)
	m := th.Period
	th.seasonal = nil
	adj := x
	if m >= 2 && n > 2*m && seasonalTest(x, m) {
		positive := true
		for _, v := range x {
			if v <= 0 {
				positive = false
				break
			}
		}
		s := classicalSeasonal(x, m, positive)
		if s != nil {
			th.seasonal, th.mult = s, positive
			adj = make([]float64, n)
			for t, v := range x {
				if positive {
					adj[t] = v / s[t%m]
				} else {
					adj[t] = v - s[t%m]
				}
			}
		}
	}
	ann := ETSModel{Error: ErrorAdditive, Trend: TrendNone, Season: SeasonNone}
	th.ses = ETS{Model: &ann}
	if err := th.ses.Fit(adj); err != nil {
		return fmt.Errorf("theta: %w", err)
	}
	res, _ := th.ses.Result()
	_, b := lineFit(adj)
	// ses.Fit scaled adj again; adj already has max |.| <= ~1 so its own
	// scale is recorded by the ETS and undone by its Forecast.
	th.drift = b / 2
	th.alpha = math.Max(res.Params.Alpha, 1e-10)
	th.n = n
	th.p = p
	th.sesParams = res
	th.isFitted = true
	return nil
}

// Forecast returns h Theta forecasts with intervals.
func (th *Theta) Forecast(h int, levels []float64) (Forecast, error) {
	if !th.isFitted {
		return Forecast{}, fmt.Errorf("theta: %w", ErrNotFitted)
	}
	if err := checkHorizon(h, "theta"); err != nil {
		return Forecast{}, err
	}
	levels, err := checkLevels(levels)
	if err != nil {
		return Forecast{}, fmt.Errorf("theta: %w", err)
	}
	hh := h + th.p.trail
	base, err := th.ses.Forecast(hh, levels)
	if err != nil {
		return Forecast{}, fmt.Errorf("theta: %w", err)
	}
	a := th.alpha
	n := float64(th.n)
	shift := (1 - math.Pow(1-a, n)) / a
	sigma := math.Sqrt(th.sesParams.Sigma2)
	mean := make([]float64, hh)
	sd := make([]float64, hh)
	for i := 0; i < hh; i++ {
		mean[i] = base.Mean[i] + th.drift*(float64(i)+shift)
		sd[i] = sigma * math.Sqrt(1+float64(i)*a*a)
	}
	ivs := normalIntervals(mean, sd, levels)
	if th.seasonal != nil {
		m := len(th.seasonal)
		for i := 0; i < hh; i++ {
			s := th.seasonal[(th.n+i)%m]
			apply := func(v float64) float64 {
				if th.mult {
					return v * s
				}
				return v + s
			}
			mean[i] = apply(mean[i])
			for k := range ivs {
				ivs[k].Lo[i] = apply(ivs[k].Lo[i])
				ivs[k].Hi[i] = apply(ivs[k].Hi[i])
			}
		}
	}
	f := Forecast{Mean: mean, Intervals: ivs, Model: "theta", Params: map[string]float64{
		"alpha":  a,
		"drift":  th.drift * 2 * th.p.scale,
		"sigma2": th.sesParams.Sigma2 * th.p.scale * th.p.scale,
	}}
	if th.seasonal != nil {
		f.Model = "theta(seasonal)"
		f.Params["period"] = float64(len(th.seasonal))
	}
	f.unscale(th.p.scale, th.p.trail)
	return f, nil
}

// seasonalTest is the 90% autocorrelation test of forecast::thetaf:
// |r_m| > 1.645·√((1+2Σ_{k=1}^{m-1} r_k²)/n).
func seasonalTest(x []float64, m int) bool {
	r := acfStandard(x, m)
	if r == nil {
		return false
	}
	var s float64
	for k := 1; k < m; k++ {
		s += r[k] * r[k]
	}
	stat := math.Sqrt((1 + 2*s) / float64(len(x)))
	return math.Abs(r[m])/stat > zQuantile(0.9)
}

// acfStandard returns the usual (biased) sample autocorrelations r[0..L],
// r_k = Σ(x_t-x̄)(x_{t+k}-x̄)/Σ(x_t-x̄)², or nil for a constant series.
// Complexity O(n·L).
func acfStandard(x []float64, L int) []float64 {
	n := len(x)
	var mean float64
	for _, v := range x {
		mean += v
	}
	mean /= float64(n)
	var c0 float64
	for _, v := range x {
		c0 += (v - mean) * (v - mean)
	}
	if c0 <= 1e-300 {
		return nil
	}
	r := make([]float64, L+1)
	for k := 0; k <= L && k < n; k++ {
		var c float64
		for t := 0; t+k < n; t++ {
			c += (x[t] - mean) * (x[t+k] - mean)
		}
		r[k] = c / c0
	}
	return r
}
