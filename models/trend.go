package models

import (
	"fmt"
	"math"
	"sort"
)

// TheilSenMaxN is the largest number of points TheilSen uses exactly; larger
// inputs are thinned to TheilSenMaxN evenly spaced points (indices
// round(i·(n-1)/(TheilSenMaxN-1))), which keeps the result deterministic.
const TheilSenMaxN = 5000

// TheilSen returns the Theil–Sen estimate of the line y = intercept +
// slope·x: slope is the median of the pairwise slopes (y_j-y_i)/(x_j-x_i) over
// all pairs with x_i != x_j (the mean of the two middle values for an even
// count), and intercept is median(y_i - slope·x_i). Pairs with a NaN or ±Inf
// in x or y are skipped. The estimator tolerates up to ~29% of arbitrarily
// bad points.
//
// Errors: ErrLengthMismatch if len(x) != len(y); an *InsufficientHistoryError
// (Need 2) when fewer than two usable points with distinct x exist.
//
// Complexity: O(n²) time for n <= TheilSenMaxN. Memory stays O(n + 2²¹):
// above 2²¹ pairs the median is located from a deterministic sample of
// slopes, and only the slopes in a narrow bracket around it are kept.
func TheilSen(x, y []float64) (slope, intercept float64, err error) {
	if len(x) != len(y) {
		return 0, 0, fmt.Errorf("theil-sen: %w: len(x)=%d len(y)=%d", ErrLengthMismatch, len(x), len(y))
	}
	var xs, ys []float64
	for i := range x {
		if isFinite(x[i]) && isFinite(y[i]) {
			xs = append(xs, x[i])
			ys = append(ys, y[i])
		}
	}
	if n := len(xs); n > TheilSenMaxN {
		tx := make([]float64, TheilSenMaxN)
		ty := make([]float64, TheilSenMaxN)
		for i := range tx {
			j := int(math.Round(float64(i) * float64(n-1) / float64(TheilSenMaxN-1)))
			tx[i], ty[i] = xs[j], ys[j]
		}
		xs, ys = tx, ty
	}
	n := len(xs)
	// pairs with distinct x: all pairs minus those within groups of equal x
	sx := append([]float64(nil), xs...)
	sort.Float64s(sx)
	npairs := n * (n - 1) / 2
	for i := 0; i < n; {
		j := i
		for j < n && sx[j] == sx[i] {
			j++
		}
		npairs -= (j - i) * (j - i - 1) / 2
		i = j
	}
	if npairs == 0 {
		return 0, 0, &InsufficientHistoryError{Need: 2, Have: n, Model: "theil-sen"}
	}
	slope = medianPairSlope(xs, ys, npairs)
	res := make([]float64, n)
	for i := range xs {
		res[i] = ys[i] - slope*xs[i]
	}
	return slope, median(res), nil
}

const maxStoredSlopes = 1 << 21

// medianPairSlope returns the median of the npairs pairwise slopes.
func medianPairSlope(x, y []float64, npairs int) float64 {
	n := len(x)
	k1 := (npairs - 1) / 2 // lower middle rank (0-based)
	k2 := npairs / 2       // upper middle rank
	if npairs <= maxStoredSlopes {
		s := make([]float64, 0, npairs)
		for i := 0; i < n; i++ {
			for j := i + 1; j < n; j++ {
				if x[j] != x[i] {
					s = append(s, (y[j]-y[i])/(x[j]-x[i]))
				}
			}
		}
		return midOrder(s, k1, k2)
	}
	// Deterministic sample: every stride-th pair.
	const sampleSize = 1 << 16
	stride := npairs/sampleSize + 1
	sample := make([]float64, 0, sampleSize+1)
	c := 0
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			if x[j] == x[i] {
				continue
			}
			if c%stride == 0 {
				sample = append(sample, (y[j]-y[i])/(x[j]-x[i]))
			}
			c++
		}
	}
	sort.Float64s(sample)
	// A ±0.5% rank bracket is ~5 standard errors of the sample median.
	for _, frac := range []float64{0.005, 0.05} {
		lo := quantile7(sample, math.Max(0, 0.5-frac))
		hi := quantile7(sample, math.Min(1, 0.5+frac))
		below, inCount := 0, 0
		var in []float64
		for i := 0; i < n; i++ {
			for j := i + 1; j < n; j++ {
				if x[j] == x[i] {
					continue
				}
				s := (y[j] - y[i]) / (x[j] - x[i])
				switch {
				case s < lo:
					below++
				case s <= hi:
					inCount++
					if len(in) < maxStoredSlopes {
						in = append(in, s)
					}
				}
			}
		}
		if k1 >= below && k2 < below+inCount {
			if lo == hi { // heavily tied slopes
				return lo
			}
			if inCount == len(in) {
				return midOrder(in, k1-below, k2-below)
			}
		}
	}
	// Unreachable in practice (the 5% bracket holds the median for any
	// reasonable data); fall back to the sample median.
	return quantile7(sample, 0.5)
}

// midOrder returns the mean of the k1-th and k2-th smallest values of s
// (k2 == k1 or k1+1). s is reordered.
func midOrder(s []float64, k1, k2 int) float64 {
	a := selectKth(s, k1)
	if k2 == k1 {
		return a
	}
	// the k1+1-th smallest is the minimum of the part right of k1
	b := math.Inf(1)
	for _, v := range s[k1+1:] {
		if v < b {
			b = v
		}
	}
	return (a + b) / 2
}

// SelectKth partially sorts s so that s[k] is the k-th smallest value
// (0-based) and returns it; see selectKth. It panics when k is out of range.
func SelectKth(s []float64, k int) float64 { return selectKth(s, k) }

// selectKth partially sorts s so that s[k] is the k-th smallest value (0-based)
// with no larger value before it and no smaller after it, and returns s[k].
// Median-of-three quickselect with a fallback to sorting after too many
// unbalanced rounds; O(len(s)) expected.
func selectKth(s []float64, k int) float64 {
	lo, hi := 0, len(s)-1
	rounds := 0
	for lo < hi {
		rounds++
		if rounds > 64 {
			sort.Float64s(s[lo : hi+1])
			return s[k]
		}
		mid := lo + (hi-lo)/2
		if s[mid] < s[lo] {
			s[mid], s[lo] = s[lo], s[mid]
		}
		if s[hi] < s[lo] {
			s[hi], s[lo] = s[lo], s[hi]
		}
		if s[hi] < s[mid] {
			s[hi], s[mid] = s[mid], s[hi]
		}
		pivot := s[mid]
		i, j := lo, hi
		for i <= j {
			for s[i] < pivot {
				i++
			}
			for s[j] > pivot {
				j--
			}
			if i <= j {
				s[i], s[j] = s[j], s[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return s[k]
		}
	}
	return s[k]
}

// MannKendallResult is the outcome of the Mann–Kendall trend test.
//
// N is the number of non-missing observations. S = Σ_{i<j} sign(y_j - y_i).
// VarS = [N(N-1)(2N+5) - Σ_g t_g(t_g-1)(2t_g+5)]/18 where t_g are the sizes of
// groups of tied values. Z is the continuity-corrected normal score
// (S-1)/√VarS for S > 0, (S+1)/√VarS for S < 0 and 0 for S = 0; P is the
// two-sided p-value 2(1-Φ(|Z|)). Tau is Kendall's τ_a = S/(N(N-1)/2).
type MannKendallResult struct {
	N    int
	S    float64
	VarS float64
	Z    float64
	P    float64
	Tau  float64
}

// MannKendall performs the Mann–Kendall test for a monotonic trend in y (time
// order = index order; NaN and ±Inf are dropped, keeping the order of the
// rest). A positive Z indicates an increasing trend. A series whose values are
// all tied gives VarS = 0, Z = 0 and P = 1.
//
// It returns an *InsufficientHistoryError (Need 3) for fewer than three
// observations. S is computed by counting inversions with a merge sort, so
// the cost is O(n log n) time and O(n) memory.
func MannKendall(y []float64) (MannKendallResult, error) {
	var v []float64
	for _, x := range y {
		if isFinite(x) {
			v = append(v, x)
		}
	}
	n := len(v)
	if n < 3 {
		return MannKendallResult{}, &InsufficientHistoryError{Need: 3, Have: n, Model: "mann-kendall"}
	}
	work := append([]float64(nil), v...)
	tmp := make([]float64, n)
	disc := countInversions(work, tmp) // pairs i<j with y_i > y_j
	// work is now sorted: count ties.
	var tiedPairs, tieTerm float64
	for i := 0; i < n; {
		j := i
		for j < n && work[j] == work[i] {
			j++
		}
		t := float64(j - i)
		if t > 1 {
			tiedPairs += t * (t - 1) / 2
			tieTerm += t * (t - 1) * (2*t + 5)
		}
		i = j
	}
	fn := float64(n)
	total := fn * (fn - 1) / 2
	conc := total - float64(disc) - tiedPairs
	S := conc - float64(disc)
	varS := (fn*(fn-1)*(2*fn+5) - tieTerm) / 18
	r := MannKendallResult{N: n, S: S, VarS: varS, Tau: S / total, P: 1}
	if varS > 0 {
		switch {
		case S > 0:
			r.Z = (S - 1) / math.Sqrt(varS)
		case S < 0:
			r.Z = (S + 1) / math.Sqrt(varS)
		}
		r.P = math.Erfc(math.Abs(r.Z) / math.Sqrt2)
	}
	return r, nil
}

// countInversions sorts a ascending (using tmp as scratch) and returns the
// number of pairs i<j with a[i] > a[j] (strict; ties are not inversions).
func countInversions(a, tmp []float64) int64 {
	n := len(a)
	if n < 2 {
		return 0
	}
	var inv int64
	// bottom-up merge sort
	src, dst := a, tmp
	for width := 1; width < n; width *= 2 {
		for lo := 0; lo < n; lo += 2 * width {
			mid := min(lo+width, n)
			hi := min(lo+2*width, n)
			i, j, k := lo, mid, lo
			for i < mid && j < hi {
				if src[i] <= src[j] {
					dst[k] = src[i]
					i++
				} else {
					dst[k] = src[j]
					inv += int64(mid - i)
					j++
				}
				k++
			}
			k += copy(dst[k:], src[i:mid])
			copy(dst[k:], src[j:hi])
		}
		src, dst = dst, src
	}
	if &src[0] != &a[0] {
		copy(a, src)
	}
	return inv
}
