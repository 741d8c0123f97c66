package models

import (
	"math"
	"testing"
	"time"

	"gonum.org/v1/gonum/optimize"
)

// gonumNelderMead is nelderMead's search done with gonum's
// optimize.NelderMead: the same initial simplex (supplied as
// InitialVertices), the evaluation limit as Settings.FuncEvaluations, the
// convergence test as a FunctionConverge on the relative improvement, and
// the same single restart from the best point. It returns the best point,
// its value and the number of evaluations.
func gonumNelderMead(f func([]float64) float64, x0, step []float64, maxEval int, ftol float64) ([]float64, float64, int) {
	evals := 0
	g := func(x []float64) float64 {
		evals++
		v := f(x)
		if math.IsNaN(v) {
			return math.Inf(1)
		}
		return v
	}
	run := func(start []float64, budget int) ([]float64, float64) {
		d := len(start)
		verts := make([][]float64, d+1)
		vals := make([]float64, d+1)
		verts[0] = append([]float64(nil), start...)
		vals[0] = g(start)
		for i := 0; i < d; i++ {
			x := append([]float64(nil), start...)
			x[i] += step[i]
			fx := g(x)
			if math.IsInf(fx, 1) {
				x[i] = start[i] - step[i]
				fx = g(x)
			}
			verts[i+1], vals[i+1] = x, fx
		}
		res, err := optimize.Minimize(optimize.Problem{Func: g}, start,
			&optimize.Settings{
				InitValues:      &optimize.Location{F: vals[0]},
				FuncEvaluations: budget,
				Converger:       &optimize.FunctionConverge{Relative: ftol, Iterations: 2 * d},
			},
			&optimize.NelderMead{InitialVertices: verts, InitialValues: vals})
		if err != nil || res == nil {
			return start, vals[0]
		}
		return res.X, res.F
	}
	best, fb := run(x0, maxEval)
	if evals < maxEval {
		if x, fx := run(best, maxEval-evals); fx <= fb {
			best, fb = x, fx
		}
	}
	return best, fb, evals
}

// etsTestProblems returns ETS(A,Ad,A) likelihood problems (period 24) on
// synthetic hourly series of 960 points, the size of the M4 Hourly series.
func etsTestProblems(t testing.TB, k int) []*etsProblem {
	mod := ETSModel{Trend: TrendDamped, Season: SeasonAdditive}
	var out []*etsProblem
	for seed := uint64(1); len(out) < k; seed++ {
		p, _ := prepare(dailyWeekly(960, seed), 1, "ets")
		pr, ok := newETSProblem(p.x, mod, 24)
		if !ok {
			t.Fatal("no problem")
		}
		out = append(out, pr)
	}
	return out
}

// TestNelderMeadAgainstGonum records why ETS keeps its own Nelder–Mead
// (see the comment on nelderMead): on the same problems, from the same
// simplex, with the same budget and tolerance, gonum's optimize.NelderMead
// costs more per evaluation and does not reach better optima. It checks that
// this package's search is at least as good on average.
func TestNelderMeadAgainstGonum(t *testing.T) {
	problems := etsTestProblems(t, 8)
	var ownF, gonF float64
	var ownEvals, gonEvals int
	var ownTime, gonTime time.Duration
	for _, p := range problems {
		budget := etsMaxEvalPerDim * p.dim
		evals := 0
		counted := func(u []float64) float64 { evals++; return p.obj(u) }
		t0 := time.Now()
		_, fo := nelderMead(counted, p.u0, p.step, budget, etsFTol)
		ownTime += time.Since(t0)
		ownEvals += evals
		t0 = time.Now()
		_, fg, ge := gonumNelderMead(p.obj, p.u0, p.step, budget, etsFTol)
		gonTime += time.Since(t0)
		gonEvals += ge
		ownF += fo
		gonF += fg
	}
	k := float64(len(problems))
	t.Logf("own:   mean -2logL %.4f, %d evals, %.2f µs/eval", ownF/k, ownEvals, float64(ownTime.Microseconds())/float64(ownEvals))
	t.Logf("gonum: mean -2logL %.4f, %d evals, %.2f µs/eval", gonF/k, gonEvals, float64(gonTime.Microseconds())/float64(gonEvals))
	if ownF > gonF+0.01*k {
		t.Errorf("own search worse on average: %.4f > %.4f", ownF/k, gonF/k)
	}
}

// BenchmarkNelderMeadETS compares the two searches on one ETS(A,Ad,A)
// likelihood of 960 points; ns/eval is the cost per likelihood evaluation
// including the optimiser's own overhead.
func BenchmarkNelderMeadETS(b *testing.B) {
	p := etsTestProblems(b, 1)[0]
	budget := etsMaxEvalPerDim * p.dim
	b.Run("own", func(b *testing.B) {
		b.ReportAllocs()
		evals := 0
		counted := func(u []float64) float64 { evals++; return p.obj(u) }
		for i := 0; i < b.N; i++ {
			nelderMead(counted, p.u0, p.step, budget, etsFTol)
		}
		b.ReportMetric(float64(evals)/float64(b.N), "evals/op")
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(evals), "ns/eval")
	})
	b.Run("gonum", func(b *testing.B) {
		b.ReportAllocs()
		evals := 0
		for i := 0; i < b.N; i++ {
			_, _, n := gonumNelderMead(p.obj, p.u0, p.step, budget, etsFTol)
			evals += n
		}
		b.ReportMetric(float64(evals)/float64(b.N), "evals/op")
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(evals), "ns/eval")
	})
	// the bare objective, for reference
	b.Run("objective", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			p.obj(p.u0)
		}
	})
}
