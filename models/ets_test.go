package models

import (
	"errors"
	"math"
	"math/cmplx"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestETSFixedByHand checks SES and Holt against the recursions worked out on
// paper.
func TestETSFixedByHand(t *testing.T) {
	ann := ETSModel{Error: ErrorAdditive, Trend: TrendNone, Season: SeasonNone}
	aan := ETSModel{Error: ErrorAdditive, Trend: TrendAdditive, Season: SeasonNone}
	tests := []struct {
		name   string
		model  ETSModel
		params ETSParams
		y      []float64
		fitted []float64
		mean   []float64
		sigma2 float64
		// forecast variance multipliers v_h/σ²
		mult []float64
	}{
		{
			// l: 10 → 11 → 11 → 12; errors 2, 0, 2.
			name: "SES", model: ann,
			params: ETSParams{Alpha: 0.5, Level: 10},
			y:      []float64{12, 11, 13},
			fitted: []float64{10, 11, 11},
			mean:   []float64{12, 12, 12},
			sigma2: 8.0 / 3,
			// 1 + (h-1)α²
			mult: []float64{1, 1.25, 1.5},
		},
		{
			// q = l+b: 2, 3.7, 5.81; errors 1, 1.3, 2.19;
			// l: 2.5, 4.35, 6.905; b = b + βε: 1.2, 1.46, 1.898.
			name: "Holt", model: aan,
			params: ETSParams{Alpha: 0.5, Beta: 0.2, Level: 1, Slope: 1},
			y:      []float64{3, 5, 8},
			fitted: []float64{2, 3.7, 5.81},
			mean:   []float64{8.803, 10.701, 12.599},
			sigma2: (1 + 1.69 + 2.19*2.19) / 3,
			// c_j = α + βj: 1, 1+0.7², 1+0.7²+0.9²
			mult: []float64{1, 1.49, 2.3},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mod := tc.model
			p := tc.params
			e := &ETS{Model: &mod, Params: &p}
			fc, err := FitForecast(e, tc.y, Options{Horizon: len(tc.mean), Levels: []float64{0.95}})
			if err != nil {
				t.Fatal(err)
			}
			r, _ := e.Result()
			for i, v := range tc.fitted {
				assertClose(t, "fitted", r.Fitted[i], v, 1e-12)
			}
			assertClose(t, "sigma2", r.Sigma2, tc.sigma2, 1e-12)
			for i, v := range tc.mean {
				assertClose(t, "mean", fc.Mean[i], v, 1e-12)
				half := z95 * math.Sqrt(tc.sigma2*tc.mult[i])
				assertClose(t, "hi95", fc.Intervals[0].Hi[i], v+half, 1e-12)
			}
		})
	}
}

// TestETSVarianceClosedForms compares the general class-1 variance with the
// closed forms of Hyndman et al. (2008, Table 6.1) / FPP3 Table 8.8.
func TestETSVarianceClosedForms(t *testing.T) {
	const a, b, g, phi, m, s2 = 0.3, 0.05, 0.1, 0.9, 4, 2.0
	closed := map[string]func(h float64) float64{
		"ANN": func(h float64) float64 { return 1 + a*a*(h-1) },
		"AAN": func(h float64) float64 { return 1 + (h-1)*(a*a+a*b*h+b*b*h*(2*h-1)/6) },
		"AAdN": func(h float64) float64 {
			q := 1 - phi
			return 1 + a*a*(h-1) + b*phi*h/(q*q)*(2*a*q+b*phi) -
				b*phi*(1-math.Pow(phi, h))/(q*q*(1-phi*phi))*(2*a*(1-phi*phi)+b*phi*(1+2*phi-math.Pow(phi, h)))
		},
		"ANA": func(h float64) float64 {
			k := math.Floor((h - 1) / m)
			return 1 + a*a*(h-1) + g*k*(2*a+g)
		},
		"AAA": func(h float64) float64 {
			k := math.Floor((h - 1) / m)
			return 1 + (h-1)*(a*a+a*b*h+b*b*h*(2*h-1)/6) + g*k*(2*a+g+b*m*(k+1))
		},
	}
	models := map[string]ETSModel{
		"ANN":  {},
		"AAN":  {Trend: TrendAdditive},
		"AAdN": {Trend: TrendDamped},
		"ANA":  {Season: SeasonAdditive},
		"AAA":  {Trend: TrendAdditive, Season: SeasonAdditive},
	}
	for name, f := range closed {
		mod := models[name]
		core := etsCore{model: mod, m: m, alpha: a, beta: b, gamma: g, phi: 1}
		if mod.Trend == TrendDamped {
			core.phi = phi
		}
		if mod.Season == SeasonNone {
			core.m = 1
		}
		fit := etsFit{core: core, sigma2: s2}
		const h = 13
		sd := fit.analyticSD(make([]float64, h))
		for i := 0; i < h; i++ {
			want := s2 * f(float64(i+1))
			if math.Abs(sd[i]*sd[i]-want) > 1e-12*want {
				t.Fatalf("%s h=%d: var %v, closed form %v", name, i+1, sd[i]*sd[i], want)
			}
		}
	}
}

func TestETSAdmissible(t *testing.T) {
	// Expected values from forecast:::admissible.
	tests := []struct {
		a, b, g, phi float64
		m            int
		want         bool
	}{
		{0.3, 0.05, 0.1, 0.95, 4, true},
		{0.3, 0.05, 0.1, 1, 12, true},
		{0.05, 0.01, 0.94, 0.98, 4, true},
		{0.9, 0.5, 0.09, 0.8, 4, true},
		{0.2, 0.19, 0.7, 1, 4, true},
		{0.5, 0.4, 0.45, 0.98, 24, false},
		{0.01, 0.001, 0.98, 0.8, 24, true},
		{0.6, 0.59, 0.39, 1, 7, false},
	}
	for _, tc := range tests {
		c := etsCore{alpha: tc.a, beta: tc.b, gamma: tc.g, phi: tc.phi, m: tc.m}
		if got := etsAdmissible(&c, true, nil); got != tc.want {
			t.Errorf("%+v: admissible = %v", tc, got)
		}
	}
	// Companion-matrix roots: z² - 1.5z - 1 = (z-2)(z+0.5).
	assertClose(t, "max root", maxRootModulus([]float64{-1, -1.5, 1}), 2, 1e-12)
	assertClose(t, "max root", maxRootModulus([]float64{-0.25, 0, 1}), 0.5, 1e-12)
	for _, p := range [][]float64{{-1, -1.5, 1}, {-0.25, 0, 1}} {
		if got, want := rootsInDisc(append([]float64(nil), p...), 1+1e-10, make([]float64, 3)), maxRootModulus(p) <= 1; got != want {
			t.Errorf("rootsInDisc(%v) = %v", p, got)
		}
	}
}

// TestRootsInDisc compares the Schur–Cohn test with the eigenvalues of the
// companion matrix on random polynomials, with roots placed on both sides of
// the boundary.
func TestRootsInDisc(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 3))
	work := make([]float64, 64)
	decisive := 0
	for trial := 0; trial < 2000; trial++ {
		// a real monic polynomial from random real roots and conjugate
		// pairs, increasing powers
		deg := 1 + r.IntN(25)
		p := []float64{1}
		mul := func(q []float64) {
			out := make([]float64, len(p)+len(q)-1)
			for i, a := range p {
				for j, b := range q {
					out[i+j] += a * b
				}
			}
			p = out
		}
		scale := 0.2 + r.Float64()
		for len(p)-1 < deg {
			rho := scale * (0.3 + 0.8*r.Float64())
			if len(p)-1 <= deg-2 && r.IntN(2) == 0 {
				th := math.Pi * r.Float64()
				mul([]float64{rho * rho, -2 * rho * math.Cos(th), 1})
			} else {
				if r.IntN(2) == 0 {
					rho = -rho
				}
				mul([]float64{-rho, 1})
			}
		}
		mx := maxRootModulus(p)
		if math.Abs(mx-1) < 1e-6 {
			continue // too close to call in floating point
		}
		if got := rootsInDisc(append([]float64(nil), p...), 1, work); got != (mx < 1) {
			t.Fatalf("degree %d: rootsInDisc = %v, max |root| = %v", deg, got, mx)
		}
		decisive++
	}
	if decisive < 1900 {
		t.Fatalf("only %d decisive cases", decisive)
	}
}

// maxRootModulus returns the largest modulus of the roots of the monic
// polynomial Σ coef[k] z^k (coef[len-1] == 1) from the eigenvalues of its
// companion matrix (the reference for rootsInDisc).
func maxRootModulus(coef []float64) float64 {
	d := len(coef) - 1
	a := mat.NewDense(d, d, nil)
	for j := 0; j < d; j++ {
		a.Set(0, j, -coef[d-1-j])
	}
	for i := 1; i < d; i++ {
		a.Set(i, i-1, 1)
	}
	var eig mat.Eigen
	if !eig.Factorize(a, mat.EigenNone) {
		return math.Inf(1)
	}
	mx := 0.0
	for _, v := range eig.Values(nil) {
		mx = math.Max(mx, cmplx.Abs(v))
	}
	return mx
}

// seasonalSeries returns n monthly-like observations with trend and an
// additive (mult=false) or multiplicative season of period m.
func seasonalSeries(n, m int, mult bool, seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, 1))
	y := make([]float64, n)
	for i := range y {
		lvl := 100 + 0.8*float64(i)
		s := math.Sin(2 * math.Pi * float64(i%m) / float64(m))
		if mult {
			y[i] = lvl * (1 + 0.25*s) * (1 + 0.01*r.NormFloat64())
		} else {
			y[i] = lvl + 15*s + r.NormFloat64()
		}
	}
	return y
}

// TestETSSelection checks that automatic selection returns the candidate with
// the smallest AICc and that the chosen model forecasts the signal.
func TestETSSelection(t *testing.T) {
	for _, mult := range []bool{false, true} {
		y := seasonalSeries(144, 12, mult, 7)
		auto := &ETS{Period: 12}
		if err := auto.Fit(y); err != nil {
			t.Fatal(err)
		}
		best, _ := auto.Result()
		for _, c := range DefaultETSModels() {
			c := c
			e := &ETS{Period: 12, Model: &c}
			if err := e.Fit(y); err != nil {
				t.Fatalf("%v: %v", c, err)
			}
			r, _ := e.Result()
			if r.AICc < best.AICc-1e-9 {
				t.Fatalf("%v has AICc %v < selected %v %v", c, r.AICc, best.Model, best.AICc)
			}
		}
		if best.Model.Trend == TrendNone || best.Model.Season == SeasonNone {
			t.Fatalf("mult=%v: selected %v", mult, best.Model)
		}
		fc, err := auto.Forecast(12, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range fc.Mean {
			tt := 144 + i
			lvl := 100 + 0.8*float64(tt)
			s := math.Sin(2 * math.Pi * float64(tt%12) / 12)
			truth := lvl + 15*s
			if mult {
				truth = lvl * (1 + 0.25*s)
			}
			if math.Abs(v-truth) > 0.04*truth {
				t.Fatalf("mult=%v %v: step %d forecast %v, signal %v", mult, best.Model, i+1, v, truth)
			}
		}
	}
}

// TestETSSimulatedIntervals checks the class-3 simulation: determinism for a
// seed, and agreement with the exact one-step interval ŷ(1 ± zσ).
func TestETSSimulatedIntervals(t *testing.T) {
	y := seasonalSeries(96, 12, true, 3)
	mod := ETSModel{Error: ErrorMultiplicative, Trend: TrendNone, Season: SeasonMultiplicative}
	run := func(seed uint64) Forecast {
		e := &ETS{Period: 12, Model: &mod, Seed: seed, Paths: 4000}
		fc, err := FitForecast(e, y, Options{Horizon: 24, Levels: []float64{0.8, 0.95}})
		if err != nil {
			t.Fatal(err)
		}
		return fc
	}
	a, b, c := run(1), run(1), run(2)
	same, differ := true, false
	for i := range a.Mean {
		for k := range a.Intervals {
			same = same && a.Intervals[k].Lo[i] == b.Intervals[k].Lo[i] && a.Intervals[k].Hi[i] == b.Intervals[k].Hi[i]
			differ = differ || a.Intervals[k].Lo[i] != c.Intervals[k].Lo[i]
		}
	}
	if !same || !differ {
		t.Fatalf("seed handling: same=%v differ=%v", same, differ)
	}
	sigma := math.Sqrt(a.Params["sigma2"])
	for k, z := range []float64{z80, z95} {
		half := (a.Intervals[k].Hi[0] - a.Intervals[k].Lo[0]) / 2
		want := z * sigma * a.Mean[0]
		if math.Abs(half-want) > 0.06*want {
			t.Fatalf("one-step half-width %v, exact %v", half, want)
		}
	}
	// widths grow with the horizon within a season
	if a.Intervals[1].Hi[11]-a.Intervals[1].Lo[11] <= a.Intervals[1].Hi[0]-a.Intervals[1].Lo[0] {
		t.Fatal("interval does not widen")
	}
}

func TestETSErrors(t *testing.T) {
	y := seasonalSeries(400, 12, false, 1)
	if err := (&ETS{Period: MaxETSPeriod + 1}).Fit(y); !errors.Is(err, ErrInvalidPeriod) {
		t.Fatalf("long period: %v", err)
	}
	neg := make([]float64, 50)
	for i := range neg {
		neg[i] = float64(i%5) - 1
	}
	mnn := ETSModel{Error: ErrorMultiplicative}
	if err := (&ETS{Model: &mnn}).Fit(neg); !errors.Is(err, ErrNonPositive) {
		t.Fatalf("multiplicative on non-positive data: %v", err)
	}
	auto := &ETS{}
	if err := auto.Fit(neg); err != nil {
		t.Fatal(err)
	}
	if r, _ := auto.Result(); r.Model.multiplicative() {
		t.Fatalf("selected %v for non-positive data", r.Model)
	}
	var ih *InsufficientHistoryError
	if err := (&ETS{}).Fit([]float64{1, 2, 3}); !errors.As(err, &ih) || ih.Need != 6 {
		t.Fatalf("short: %v", err)
	}
	ana := ETSModel{Season: SeasonAdditive}
	if err := (&ETS{Model: &ana, Period: 24}).Fit(y[:40]); !errors.As(err, &ih) || ih.Need != 48 {
		t.Fatalf("short seasonal: %v", err)
	}
}

// TestETSConcentratedInitialStates checks the least-squares initial level and
// slope of the linear models: the concentrated sum of squares equals the
// filter's at the solved states, and no nearby shift does better.
func TestETSConcentratedInitialStates(t *testing.T) {
	y := seasonalSeries(120, 12, false, 5)
	p, _ := prepare(y, 1, "ets")
	for _, mod := range []ETSModel{{}, {Trend: TrendAdditive}, {Trend: TrendDamped},
		{Season: SeasonAdditive}, {Trend: TrendDamped, Season: SeasonAdditive}} {
		m := 1
		if mod.Season != SeasonNone {
			m = 12
		}
		l0, b0, s0, ok := etsInitStates(p.x, mod, m)
		if !ok {
			t.Fatal("init states")
		}
		c := etsCore{model: mod, m: m, alpha: 0.3, beta: 0.05, gamma: 0.1, phi: 0.9, l0: l0, b0: b0, s0: s0}
		if mod.Trend == TrendNone {
			c.beta = 0
		}
		if mod.Trend != TrendDamped {
			c.phi = 1
		}
		if mod.Season == SeasonNone {
			c.gamma = 0
		}
		ws := newETSWork(len(s0))
		sse, dl, db, ok := c.concentrated(p.x, &ws)
		if !ok {
			t.Fatalf("%v: not ok", mod)
		}
		at := func(dl, db float64) float64 {
			cc := c
			cc.l0 += dl
			cc.b0 += db
			st := cc.newState()
			v, _, ok := cc.filter(p.x, &st, nil)
			if !ok {
				t.Fatalf("%v: filter failed", mod)
			}
			return v
		}
		assertClose(t, mod.String()+" sse", sse, at(dl, db), 1e-9)
		for _, d := range [][2]float64{{1e-3, 0}, {-1e-3, 0}, {0, 1e-4}, {0, -1e-4}} {
			if mod.Trend == TrendNone && d[1] != 0 {
				continue
			}
			if v := at(dl+d[0], db+d[1]); v < sse {
				t.Fatalf("%v: shift %v gives %v < %v", mod, d, v, sse)
			}
		}
	}
}
