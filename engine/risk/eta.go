package risk

import (
	"math"
	"math/rand/v2"
	"sort"
	"time"
)

// ETA is when a level is expected to be reached, as quantiles of the
// crossing time: P10 is the early (pessimistic) end, P50 the median, P90 the
// late end, with P10 <= P50 <= P90. A quantile is nil when the level is not
// reached within the horizon at that quantile (P90 nil and P10 set means
// "possibly, but not surely, within the horizon"); all three are nil when it
// is not expected within the horizon at all. Reached reports that the level
// is already reached at the evaluation time (the three are then equal to it).
type ETA struct {
	P10     *time.Time `json:"p10"`
	P50     *time.Time `json:"p50"`
	P90     *time.Time `json:"p90"`
	Reached bool       `json:"reached,omitempty"`
}

// Set reports whether any quantile of the ETA is known.
func (e ETA) Set() bool { return e.P10 != nil || e.P50 != nil || e.P90 != nil }

// Within reports whether the median crossing time is known and no later than t.
func (e ETA) Within(t time.Time) bool { return e.P50 != nil && !e.P50.After(t) }

// Model kinds of a fitted trend.
const (
	fitLinear      = "linear"
	fitQuadratic   = "quadratic"
	fitExponential = "exponential"
	fitPeriodic    = "periodic_purge"
)

// trendModel is a fitted level curve over t (days relative to now):
// linear a + b·t, quadratic a + b·t + c·t², exponential exp(a + b·t), or
// periodic purge a + b·t - c·(number of purges in (0, t]) with purges at
// next, next+period, ...
type trendModel struct {
	kind         string
	a, b, c      float64
	period, next float64 // periodic purge only (days)
}

// purges returns the number of purges in (0, t] of a periodic model.
func (m trendModel) purges(t float64) float64 {
	if t < m.next {
		return 0
	}
	return math.Floor((t-m.next)/m.period) + 1
}

// at returns the level at t.
func (m trendModel) at(t float64) float64 {
	switch m.kind {
	case fitQuadratic:
		return m.a + m.b*t + m.c*t*t
	case fitExponential:
		return math.Exp(m.a + m.b*t)
	case fitPeriodic:
		return m.a + m.b*t - m.c*m.purges(t)
	}
	return m.a + m.b*t
}

// rate returns dy/dt at t (per day).
func (m trendModel) rate(t float64) float64 {
	switch m.kind {
	case fitQuadratic:
		return m.b + 2*m.c*t
	case fitExponential:
		return m.b * math.Exp(m.a+m.b*t)
	case fitPeriodic:
		return m.b - m.c/m.period
	}
	return m.b
}

// cross returns the earliest t in [0, horizon] with at(t) >= thr (0 when
// already at or above thr at t = 0) and +Inf when the level is not reached
// within the horizon.
func (m trendModel) cross(thr, horizon float64) float64 {
	if m.at(0) >= thr {
		return 0
	}
	var t float64
	switch m.kind {
	case fitQuadratic:
		// c t² + b t + (a - thr) = 0, smallest positive root
		a, b, c := m.c, m.b, m.a-thr
		if math.Abs(a) < 1e-300 {
			if b <= 0 {
				return math.Inf(1)
			}
			t = -c / b
			break
		}
		d := b*b - 4*a*c
		if d < 0 {
			return math.Inf(1)
		}
		sq := math.Sqrt(d)
		// numerically stable roots
		q := -0.5 * (b + math.Copysign(sq, b))
		r1, r2 := q/a, c/q
		t = math.Inf(1)
		for _, r := range []float64{r1, r2} {
			if r > 0 && r < t {
				t = r
			}
		}
	case fitExponential:
		if m.b <= 0 || thr <= 0 {
			return math.Inf(1)
		}
		t = (math.Log(thr) - m.a) / m.b
	case fitPeriodic:
		// within cycle k (between purges k and k+1) the level is
		// a + b·t - c·k; the first cycle whose rise reaches thr
		if m.b <= 0 || m.period <= 0 {
			return math.Inf(1)
		}
		t = math.Inf(1)
		start := 0.0
		for k := 0.0; start <= horizon; k++ {
			end := m.next + k*m.period
			if c := (thr - m.a + m.c*k) / m.b; c >= start && c < end {
				t = c
				break
			}
			start = end
		}
	default:
		if m.b <= 0 {
			return math.Inf(1)
		}
		t = (thr - m.a) / m.b
	}
	if !(t >= 0) || t > horizon {
		return math.Inf(1)
	}
	return t
}

// sampler draws plausible trend models around a fit.
type sampler func(r *rand.Rand) trendModel

// linearSampler draws lines whose slope is normal around b with standard
// deviation seB, pivoting about the data centroid tc (days, <= 0) so that a
// steeper line is also higher now, plus an independent level error seLevel
// at the centroid. seDrift adds a change of slope from now on (the future
// rate differing from the fitted one), which leaves the current level alone.
func linearSampler(m trendModel, seB, tc, seLevel, seDrift float64) sampler {
	return func(r *rand.Rand) trendModel {
		b := m.b + seB*r.NormFloat64()
		a := m.a - tc*(b-m.b) + seLevel*r.NormFloat64()
		return trendModel{kind: m.kind, a: a, b: b + seDrift*r.NormFloat64()}
	}
}

// mvnSampler draws (a, b, c) from a multivariate normal with mean m's
// parameters and covariance cov (3×3 row-major, or 2×2 for two-parameter
// kinds) through its Cholesky factor. A covariance that is not positive
// definite falls back to its diagonal.
func mvnSampler(m trendModel, cov []float64, k int) sampler {
	L := cholesky(cov, k)
	if L == nil {
		L = make([]float64, k*k)
		for i := 0; i < k; i++ {
			L[i*k+i] = math.Sqrt(math.Max(cov[i*k+i], 0))
		}
	}
	mean := []float64{m.a, m.b, m.c}
	return func(r *rand.Rand) trendModel {
		z := make([]float64, k)
		for i := range z {
			z[i] = r.NormFloat64()
		}
		p := make([]float64, 3)
		copy(p, mean)
		for i := 0; i < k; i++ {
			for j := 0; j <= i; j++ {
				p[i] += L[i*k+j] * z[j]
			}
		}
		return trendModel{kind: m.kind, a: p[0], b: p[1], c: p[2]}
	}
}

// cholesky returns the lower-triangular factor of a k×k covariance, or nil.
func cholesky(a []float64, k int) []float64 {
	L := make([]float64, k*k)
	for i := 0; i < k; i++ {
		for j := 0; j <= i; j++ {
			s := a[i*k+j]
			for p := 0; p < j; p++ {
				s -= L[i*k+p] * L[j*k+p]
			}
			if i == j {
				if s <= 0 {
					return nil
				}
				L[i*k+i] = math.Sqrt(s)
			} else {
				L[i*k+j] = s / L[j*k+j]
			}
		}
	}
	return L
}

// etaQuantiles simulates n draws of the crossing time of thr within
// horizon days and returns the 10/50/90% quantiles in days (+Inf = beyond
// the horizon). snap (nil = none) moves a crossing time to the moment it
// can actually happen (the next daily peak of a cyclic series). The p50 is
// the point model's crossing time, clamped into [p10, p90] of the draws.
func etaQuantiles(point trendModel, draw sampler, thr, horizon float64, n int, seed uint64, snap func(float64) float64) (p10, p50, p90 float64) {
	rng := rand.New(rand.NewPCG(seed, 0x5eed_f0e5_1647))
	cross := func(m trendModel) float64 {
		c := m.cross(thr, horizon)
		if snap != nil && c > 0 && !math.IsInf(c, 1) {
			if c = snap(c); c > horizon {
				c = math.Inf(1)
			}
		}
		return c
	}
	ts := make([]float64, n)
	for i := range ts {
		ts[i] = cross(draw(rng))
	}
	sort.Float64s(ts)
	q := func(p float64) float64 { // nearest rank, safe with +Inf
		i := int(math.Ceil(p*float64(n))) - 1
		return ts[min(max(i, 0), n-1)]
	}
	p10, p90 = q(0.1), q(0.9)
	p50 = min(max(cross(point), p10), p90)
	return p10, p50, p90
}

// peakPhase returns the time of day (as a fraction of a day after a
// multiple of one day before now) at which the daily peaks of a cyclic
// series occur, when at least half of them fall within ±1 hour of the most
// common half-hour; ok is false otherwise.
func peakPhase(tMax []float64) (float64, bool) {
	if len(tMax) < 3 {
		return 0, false
	}
	ph := make([]float64, len(tMax))
	var hist [48]int
	for i, t := range tMax {
		ph[i] = t - math.Floor(t)
		hist[min(int(ph[i]*48), 47)]++
	}
	best := 0
	for b := range hist {
		if hist[b] > hist[best] {
			best = b
		}
	}
	center := (float64(best) + 0.5) / 48
	var near []float64
	for _, p := range ph {
		d := p - center
		d -= math.Round(d) // wrap to [-0.5, 0.5]
		if math.Abs(d) <= 1.0/24 {
			near = append(near, center+d)
		}
	}
	if 2*len(near) < len(ph) {
		return 0, false
	}
	m := medianInPlace(near)
	return m - math.Floor(m), true
}

// snapToPhase returns a function moving t (days) to the next instant at the
// given phase of the day.
func snapToPhase(phase float64) func(float64) float64 {
	return func(t float64) float64 {
		return math.Ceil(t-phase-1e-9) + phase
	}
}

// reachedETA is an ETA for a level already reached at now.
func reachedETA(now time.Time) ETA {
	t := now
	return ETA{P10: &t, P50: &t, P90: &t, Reached: true}
}

// makeETA converts quantiles in days to an ETA (nil beyond the horizon).
func makeETA(p10, p50, p90 float64, now time.Time) ETA {
	conv := func(d float64) *time.Time {
		if math.IsInf(d, 0) || math.IsNaN(d) {
			return nil
		}
		t := fromDays(d, now)
		return &t
	}
	e := ETA{P10: conv(p10), P50: conv(p50), P90: conv(p90)}
	e.Reached = p90 == 0
	return e
}
