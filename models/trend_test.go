package models

import (
	"errors"
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

func TestMannKendallByHand(t *testing.T) {
	// y = 1 3 2 5 4 4 7. Signs of y_j - y_i per i: +6, +4-1, +4, +1-2, 0+1,
	// +1, so S = 14. One tie of size 2: VarS = (7·6·19 - 2·1·9)/18 = 780/18.
	mk, err := MannKendall([]float64{1, 3, nan, 2, 5, 4, 4, 7})
	if err != nil {
		t.Fatal(err)
	}
	varS := 780.0 / 18
	z := 13 / math.Sqrt(varS)
	if mk.N != 7 || mk.S != 14 {
		t.Fatalf("N=%d S=%v", mk.N, mk.S)
	}
	assertClose(t, "VarS", mk.VarS, varS, 1e-12)
	assertClose(t, "Z", mk.Z, z, 1e-12)
	assertClose(t, "P", mk.P, math.Erfc(z/math.Sqrt2), 1e-12)
	assertClose(t, "Tau", mk.Tau, 14.0/21, 1e-12)

	tests := []struct {
		name string
		y    []float64
		s, z float64
		p    float64
	}{
		// strictly decreasing, n=4: S=-6, VarS = 4·3·13/18 = 26/3
		{"decreasing", []float64{4, 3, 2, 1}, -6, -5 / math.Sqrt(26.0/3), math.NaN()},
		{"all tied", []float64{2, 2, 2, 2}, 0, 0, 1},
		{"no trend", []float64{1, 2, 2, 1}, 0, 0, 1},
	}
	for _, tc := range tests {
		mk, err := MannKendall(tc.y)
		if err != nil {
			t.Fatal(err)
		}
		if mk.S != tc.s {
			t.Fatalf("%s: S = %v, want %v", tc.name, mk.S, tc.s)
		}
		assertClose(t, tc.name+" Z", mk.Z, tc.z, 1e-12)
		if !math.IsNaN(tc.p) {
			assertClose(t, tc.name+" P", mk.P, tc.p, 1e-12)
		}
	}
	if _, err := MannKendall([]float64{1, nan, 2}); !errors.Is(err, ErrInsufficientHistory) {
		t.Fatalf("short: %v", err)
	}
}

// TestMannKendallMatchesBruteForce compares the O(n log n) S and tie terms
// with the O(n²) definition on data with many ties.
func TestMannKendallMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 3))
	for _, n := range []int{3, 10, 101, 1000} {
		y := make([]float64, n)
		for i := range y {
			y[i] = math.Round(r.NormFloat64()*3) + 0.01*float64(i%5)
		}
		var s float64
		for i := 0; i < n; i++ {
			for j := i + 1; j < n; j++ {
				switch {
				case y[j] > y[i]:
					s++
				case y[j] < y[i]:
					s--
				}
			}
		}
		counts := map[float64]float64{}
		for _, v := range y {
			counts[v]++
		}
		fn := float64(n)
		v := fn * (fn - 1) * (2*fn + 5)
		for _, c := range counts {
			v -= c * (c - 1) * (2*c + 5)
		}
		mk, err := MannKendall(y)
		if err != nil {
			t.Fatal(err)
		}
		if mk.S != s {
			t.Fatalf("n=%d: S %v, brute force %v", n, mk.S, s)
		}
		assertClose(t, "VarS", mk.VarS, v/18, 1e-12)
	}
}

func TestTheilSen(t *testing.T) {
	tests := []struct {
		name         string
		x, y         []float64
		slope, icept float64
	}{
		// slopes: six 1s, 12.25, 16, 23.5, 46 -> median 1; residuals
		// 0,0,0,0,45 -> intercept 0 (least squares would give 10.6).
		{"outlier", []float64{1, 2, 3, 4, 5}, []float64{1, 2, 3, 4, 50}, 1, 0},
		// odd number of slopes (3): 2, 3, 4 -> 3; y - 3x = 0, -1, 1 -> 0
		{"three points", []float64{0, 1, 2}, []float64{0, 2, 6}, 3, 0},
		// tied x pairs are skipped: slopes (1,2)=2, (1,3)=2, (2,3) skipped
		{"tied x", []float64{0, 1, 1}, []float64{1, 3, 3}, 2, 1},
		{"with NaN", []float64{1, 2, nan, 4}, []float64{2, 4, 100, 8}, 2, 0},
	}
	for _, tc := range tests {
		s, b, err := TheilSen(tc.x, tc.y)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		assertClose(t, tc.name+" slope", s, tc.slope, 1e-12)
		assertClose(t, tc.name+" intercept", b, tc.icept, 1e-12)
	}
	if _, _, err := TheilSen([]float64{1, 2}, []float64{1}); !errors.Is(err, ErrLengthMismatch) {
		t.Fatalf("mismatch: %v", err)
	}
	var ih *InsufficientHistoryError
	if _, _, err := TheilSen([]float64{3, 3, 3}, []float64{1, 2, 3}); !errors.As(err, &ih) || ih.Need != 2 {
		t.Fatalf("constant x: %v", err)
	}
}

// TestTheilSenLarge exercises the bracketed selection (more than 2²¹ pairs)
// against a full sort, and the deterministic thinning above TheilSenMaxN.
func TestTheilSenLarge(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	n := 2100
	x := make([]float64, n)
	y := make([]float64, n)
	for i := range x {
		x[i] = float64(i) + 0.5*r.Float64()
		y[i] = 3 - 0.02*x[i] + r.NormFloat64()
		if i%10 == 0 {
			y[i] += 50
		}
	}
	all := make([]float64, 0, n*(n-1)/2)
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			all = append(all, (y[j]-y[i])/(x[j]-x[i]))
		}
	}
	sort.Float64s(all)
	m := len(all)
	want := all[m/2]
	if m%2 == 0 {
		want = (all[m/2-1] + all[m/2]) / 2
	}
	s, _, err := TheilSen(x, y)
	if err != nil {
		t.Fatal(err)
	}
	if s != want {
		t.Fatalf("slope %v, full sort %v", s, want)
	}
	if math.Abs(s+0.02) > 0.002 {
		t.Fatalf("slope %v far from -0.02", s)
	}

	flat := make([]float64, n)
	if s, b, err := TheilSen(x, flat); err != nil || s != 0 || b != 0 {
		t.Fatalf("constant y: %v %v %v", s, b, err)
	}

	big := 5200
	bx := make([]float64, big)
	by := make([]float64, big)
	for i := range bx {
		bx[i] = float64(i)
		by[i] = 1 + 0.5*bx[i] + r.NormFloat64()
	}
	s1, b1, err := TheilSen(bx, by)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(s1-0.5) > 1e-3 || math.Abs(b1-1) > 0.2 {
		t.Fatalf("thinned estimate %v %v", s1, b1)
	}
}
