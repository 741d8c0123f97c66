package models

import "math"

// nelderMead minimises f from x0 with the Nelder–Mead simplex method
// (reflection 1, expansion 2, contraction ½, shrink ½; Lagarias et al. 1998).
// step gives the initial simplex edge along each coordinate. f may return
// +Inf for infeasible points; x0 must be feasible. A run stops when the
// spread of function values over the simplex is at most ftol·(|f_best|+1e-10),
// or when the evaluations are used up; the search then restarts once from the
// best point with a fresh simplex, which guards against a simplex that has
// collapsed early, and returns the better result. At most maxEval evaluations
// are made in all. The result is deterministic. Cost: O(maxEval·(cost(f) +
// d)).
//
// Why not gonum.org/v1/gonum/optimize.NelderMead (it builds, and was tried
// as a drop-in: same initial simplex, evaluation limit, relative tolerance
// and restart; see gonumNelderMead, TestNelderMeadAgainstGonum and
// BenchmarkNelderMeadETS in optim_test.go). Measured on the ETS(A,Ad,A)
// likelihood of 960-point hourly series: gonum's Minimize runs the method,
// the evaluations and the bookkeeping on separate goroutines that hand every
// evaluation over channels, which added about 2.5 µs to each evaluation
// (5.7 µs against 3.2 µs, the objective itself costing 3.2 µs), so a whole fit
// took about 25% longer (1.42 ms against 1.13 ms) although gonum stopped after
// fewer evaluations, and it stopped at slightly worse optima (mean
// −2·log-likelihood 0.25 higher over eight series). On short series, where
// one evaluation costs well under a microsecond, the overhead dominates.
// Minimize also starts goroutines on every call, which this package
// otherwise avoids. So ETS keeps this implementation.
func nelderMead(f func([]float64) float64, x0, step []float64, maxEval int, ftol float64) ([]float64, float64) {
	best := append([]float64(nil), x0...)
	fb := f(best)
	if math.IsNaN(fb) {
		fb = math.Inf(1)
	}
	evals := 1
	for restart := 0; restart < 2 && evals < maxEval; restart++ {
		x, fx, used := nmRun(f, best, step, maxEval-evals, ftol)
		evals += used
		if fx <= fb {
			best, fb = x, fx
		}
	}
	return best, fb
}

func nmRun(f func([]float64) float64, x0, step []float64, maxEval int, ftol float64) ([]float64, float64, int) {
	d := len(x0)
	type vertex struct {
		x []float64
		f float64
	}
	evals := 0
	eval := func(x []float64) float64 {
		evals++
		v := f(x)
		if math.IsNaN(v) {
			return math.Inf(1)
		}
		return v
	}
	s := make([]vertex, d+1)
	s[0] = vertex{append([]float64(nil), x0...), eval(x0)}
	for i := 0; i < d; i++ {
		x := append([]float64(nil), x0...)
		x[i] += step[i]
		fx := eval(x)
		if math.IsInf(fx, 1) {
			x[i] = x0[i] - step[i]
			fx = eval(x)
		}
		s[i+1] = vertex{x, fx}
	}
	c := make([]float64, d)
	xr := make([]float64, d)
	xe := make([]float64, d)
	xc := make([]float64, d)
	// stable insertion sort by value: d+1 is small, and sort.SliceStable
	// would allocate on every iteration
	order := func() {
		for i := 1; i < len(s); i++ {
			for j := i; j > 0 && s[j].f < s[j-1].f; j-- {
				s[j], s[j-1] = s[j-1], s[j]
			}
		}
	}
	for evals < maxEval {
		order()
		fbest, fworst := s[0].f, s[d].f
		if !math.IsInf(fworst, 1) && fworst-fbest <= ftol*(math.Abs(fbest)+1e-10) {
			break
		}
		for j := range c {
			c[j] = 0
		}
		for i := 0; i < d; i++ {
			for j := range c {
				c[j] += s[i].x[j]
			}
		}
		for j := range c {
			c[j] /= float64(d)
		}
		w := s[d].x
		for j := range xr {
			xr[j] = c[j] + (c[j] - w[j])
		}
		fr := eval(xr)
		switch {
		case fr < s[0].f:
			for j := range xe {
				xe[j] = c[j] + 2*(c[j]-w[j])
			}
			fe := eval(xe)
			if fe < fr {
				copy(s[d].x, xe)
				s[d].f = fe
			} else {
				copy(s[d].x, xr)
				s[d].f = fr
			}
		case fr < s[d-1].f:
			copy(s[d].x, xr)
			s[d].f = fr
		default:
			var fc float64
			if fr < s[d].f {
				for j := range xc {
					xc[j] = c[j] + 0.5*(xr[j]-c[j])
				}
				fc = eval(xc)
				if fc <= fr {
					copy(s[d].x, xc)
					s[d].f = fc
					continue
				}
			} else {
				for j := range xc {
					xc[j] = c[j] + 0.5*(w[j]-c[j])
				}
				fc = eval(xc)
				if fc < s[d].f {
					copy(s[d].x, xc)
					s[d].f = fc
					continue
				}
			}
			for i := 1; i <= d; i++ {
				for j := range s[i].x {
					s[i].x[j] = s[0].x[j] + 0.5*(s[i].x[j]-s[0].x[j])
				}
				s[i].f = eval(s[i].x)
			}
		}
	}
	order()
	return s[0].x, s[0].f, evals
}
