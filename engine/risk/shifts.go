package risk

import (
	"math"
	"sort"
)

// levelShift is a persistent jump in level between points at-1 and at.
type levelShift struct {
	at    int     // index of the first point after the jump
	t     float64 // time of the jump: midway between the two points (days)
	delta float64 // level after minus level before, projected to t
}

// sideRate is the Theil–Sen slope (per day) of the points [lo, hi), using
// buf as scratch; ok is false without two distinct times.
func sideRate(t, v []float64, lo, hi int, buf *[]float64) (float64, bool) {
	s := (*buf)[:0]
	for a := lo; a < hi; a++ {
		for b := a + 1; b < hi; b++ {
			if dt := t[b] - t[a]; dt != 0 {
				s = append(s, (v[b]-v[a])/dt)
			}
		}
	}
	*buf = s
	if len(s) == 0 {
		return 0, false
	}
	return medianInPlace(s), true
}

// findLevelShifts finds jumps in the level of the ordered series (t, v).
// For each boundary k it projects the up to win points before k forward
// with the rate of the up to rateWin points before k, and the up to win
// points after k backward with the rate of the up to rateWin points after
// k, to the midpoint between t[k-1] and t[k]; the medians of the two
// projections differ by delta. A boundary is a shift when |delta| > thr,
// with at least two points before and minPost after. Each side uses its own
// rate, so a change of slope alone (the kink of an accelerating disk) is
// not a level shift, and the medians ignore one-point excursions (spikes).
//
// Shifts are accepted greedily, largest first; each is placed at the
// largest single jump of its sign within win points, and becomes a barrier
// that later windows do not cross (so a big cleanup does not make its
// neighbourhood look shifted too).
func findLevelShifts(t, v []float64, win, rateWin, minPost int, thr float64) []levelShift {
	n := len(v)
	if n < 3 {
		return nil
	}
	barrier := make([]bool, n+1) // barrier[k]: a shift between k-1 and k
	barrier[0], barrier[n] = true, true
	segLo := func(k int) int { // first index of k-1's segment
		for b := k - 1; b > 0; b-- {
			if barrier[b] {
				return b
			}
		}
		return 0
	}
	segHi := func(k int) int { // end (exclusive) of k's segment
		for b := k + 1; b < n; b++ {
			if barrier[b] {
				return b
			}
		}
		return n
	}
	delta := make([]float64, n)
	proj := make([]float64, 0, win)
	var buf []float64
	eval := func(k int) float64 {
		sl, sh := segLo(k), segHi(k)
		lo, hi := max(sl, k-win), min(sh, k+win)
		if k-lo < 2 || hi-k < minPost {
			return 0
		}
		rPre, _ := sideRate(t, v, max(sl, k-rateWin), k, &buf)
		rPost, ok := sideRate(t, v, k, min(sh, k+rateWin), &buf)
		if !ok {
			rPost = rPre
		}
		tm := (t[k-1] + t[k]) / 2
		proj = proj[:0]
		for j := lo; j < k; j++ {
			proj = append(proj, v[j]+rPre*(tm-t[j]))
		}
		pre := medianInPlace(proj)
		proj = proj[:0]
		for j := k; j < hi; j++ {
			proj = append(proj, v[j]-rPost*(t[j]-tm))
		}
		return medianInPlace(proj) - pre
	}
	for k := 1; k < n; k++ {
		delta[k] = eval(k)
	}
	var out []levelShift
	for iter := 0; iter < 256; iter++ {
		best := -1
		for k := 1; k < n; k++ {
			if !barrier[k] && math.Abs(delta[k]) > thr && (best < 0 || math.Abs(delta[k]) > math.Abs(delta[best])) {
				best = k
			}
		}
		if best < 0 {
			break
		}
		d := delta[best]
		// place it at the largest jump of its sign nearby, inside its
		// segment; a jump spread over two steps counts (an event inside a
		// bucket splits between two medians)
		at, jump := best, 0.0
		lo, hi := segLo(best), segHi(best)
		for k := max(lo+1, best-win+1); k < min(hi, best+win); k++ {
			j := v[k] - v[k-1]
			if k+1 < hi {
				if j2 := v[k+1] - v[k-1]; math.Abs(j2) > math.Abs(j) && j2*d > 0 {
					j = j2
				}
			}
			if d < 0 {
				j = -j
			}
			if j > jump && !barrier[k] {
				at, jump = k, j
			}
		}
		// a level shift is abrupt: drifts and wandering noise that add up
		// to a large delta over several points are not shifts
		if jump < math.Max(0.5*math.Abs(d), thr) {
			delta[best] = 0
			continue
		}
		barrier[at] = true
		delta[best], delta[at] = 0, 0
		out = append(out, levelShift{at: at, t: (t[at-1] + t[at]) / 2, delta: d})
		for k := max(1, at-rateWin); k < min(n, at+rateWin+1); k++ {
			if !barrier[k] {
				delta[k] = eval(k)
			}
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].at < out[b].at })
	return out
}

// hingeFit is the best continuous two-piece linear fit
// y = a + b·t + c·max(0, t-τ) with τ at a data point.
type hingeFit struct {
	idx        int     // index of the kink
	tau        float64 // time of the kink (days)
	sse0, sse1 float64 // residual sums of squares of the line and the hinge (standardised y)
}

// bestHinge searches τ over the points idx in [minPre, n-minPost] whose
// remaining span t[n-1]-t[idx] is at least minPostSpan days, and returns the
// least-squares best. ok is false when no candidate exists.
func bestHinge(t, y []float64, minPre, minPost int, minPostSpan float64) (hingeFit, bool) {
	n := len(t)
	if n < minPre+minPost+1 || n < 5 {
		return hingeFit{}, false
	}
	// standardise for numerical stability
	var mt, my float64
	for i := range t {
		mt += t[i]
		my += y[i]
	}
	mt /= float64(n)
	my /= float64(n)
	var st, sy float64
	for i := range t {
		st += (t[i] - mt) * (t[i] - mt)
		sy += (y[i] - my) * (y[i] - my)
	}
	st = math.Sqrt(st / float64(n))
	sy = math.Sqrt(sy / float64(n))
	if st == 0 || sy == 0 {
		return hingeFit{}, false
	}
	x := make([]float64, n)
	z := make([]float64, n)
	var S1, S2, Sy, Sty, Syy float64
	for i := range t {
		x[i] = (t[i] - mt) / st
		z[i] = (y[i] - my) / sy
		S1 += x[i]
		S2 += x[i] * x[i]
		Sy += z[i]
		Sty += x[i] * z[i]
		Syy += z[i] * z[i]
	}
	fn := float64(n)
	// plain line
	den := fn*S2 - S1*S1
	b0 := (fn*Sty - S1*Sy) / den
	a0 := (Sy - b0*S1) / fn
	sse0 := Syy - a0*Sy - b0*Sty
	// suffix sums
	T1 := make([]float64, n+1)
	T2 := make([]float64, n+1)
	TY := make([]float64, n+1)
	YY := make([]float64, n+1)
	for i := n - 1; i >= 0; i-- {
		T1[i] = T1[i+1] + x[i]
		T2[i] = T2[i+1] + x[i]*x[i]
		TY[i] = TY[i+1] + x[i]*z[i]
		YY[i] = YY[i+1] + z[i]
	}
	best := hingeFit{sse0: sse0, sse1: math.Inf(1), idx: -1}
	for k := minPre; k <= n-minPost-1; k++ {
		if t[n-1]-t[k] < minPostSpan {
			break
		}
		tau := x[k]
		m := float64(n - k)
		Sh := T1[k] - m*tau
		Shh := T2[k] - 2*tau*T1[k] + m*tau*tau
		Sth := T2[k] - tau*T1[k]
		Shy := TY[k] - tau*YY[k]
		A := [9]float64{fn, S1, Sh, S1, S2, Sth, Sh, Sth, Shh}
		B := [3]float64{Sy, Sty, Shy}
		beta, ok := solve3(A, B)
		if !ok {
			continue
		}
		sse := Syy - beta[0]*B[0] - beta[1]*B[1] - beta[2]*B[2]
		if sse < best.sse1 {
			best.sse1 = sse
			best.idx = k
			best.tau = t[k]
		}
	}
	if best.idx < 0 {
		return hingeFit{}, false
	}
	return best, true
}

// solve3 solves a 3×3 linear system by Cramer's rule.
func solve3(a [9]float64, b [3]float64) ([3]float64, bool) {
	det := a[0]*(a[4]*a[8]-a[5]*a[7]) - a[1]*(a[3]*a[8]-a[5]*a[6]) + a[2]*(a[3]*a[7]-a[4]*a[6])
	if math.Abs(det) < 1e-12 {
		return [3]float64{}, false
	}
	var x [3]float64
	for c := 0; c < 3; c++ {
		m := a
		m[c], m[3+c], m[6+c] = b[0], b[1], b[2]
		x[c] = (m[0]*(m[4]*m[8]-m[5]*m[7]) - m[1]*(m[3]*m[8]-m[5]*m[6]) + m[2]*(m[3]*m[7]-m[4]*m[6])) / det
	}
	return x, true
}
