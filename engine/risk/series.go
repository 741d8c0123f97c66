package risk

import (
	"math"
	"sort"
	"time"
)

// dayDur is one day as a time.Duration.
const dayDur = 24 * time.Hour

// obs is one observation: t in days relative to the evaluation time (<= 0),
// v the value, and optional companions (capacity, load) aligned with it.
type obs struct {
	t, v float64
	c    float64 // capacity (disk total, memory limit); NaN if unknown
	l    float64 // load; NaN if unknown
}

// toDays converts an instant to days relative to now.
func toDays(t, now time.Time) float64 { return float64(t.Sub(now)) / float64(dayDur) }

// fromDays converts days relative to now back to an instant (rounded to the
// second, which keeps JSON output readable).
func fromDays(d float64, now time.Time) time.Time {
	return now.Add(time.Duration(d * float64(dayDur))).Round(time.Second)
}

// resolveNow returns now, or when it is zero the latest timestamp whose
// value is finite. ok is false when no value is finite.
func resolveNow(times []time.Time, vals []float64, now time.Time) (time.Time, bool) {
	if !now.IsZero() {
		return now, true
	}
	var last time.Time
	found := false
	for i, t := range times {
		if i < len(vals) && finite(vals[i]) && (!found || t.After(last)) {
			last, found = t, true
		}
	}
	return last, found
}

// collect builds the observations at or before now with a finite value,
// sorted by time (stable). cap and load may be nil (constant capC is then
// used for the capacity, NaN if <= 0).
func collect(times []time.Time, vals, capv []float64, capC float64, load []float64, now time.Time) []obs {
	out := make([]obs, 0, len(times))
	for i, t := range times {
		if t.After(now) || !finite(vals[i]) {
			continue
		}
		o := obs{t: toDays(t, now), v: vals[i], c: math.NaN(), l: math.NaN()}
		if capv != nil && finite(capv[i]) && capv[i] > 0 {
			o.c = capv[i]
		} else if capv == nil && capC > 0 {
			o.c = capC
		}
		if load != nil && finite(load[i]) {
			o.l = load[i]
		}
		out = append(out, o)
	}
	if !sort.SliceIsSorted(out, func(a, b int) bool { return out[a].t < out[b].t }) {
		sort.SliceStable(out, func(a, b int) bool { return out[a].t < out[b].t })
	}
	return out
}

// fillCapacity carries known capacities forward (and the first known one
// backward) over observations where it is unknown.
func fillCapacity(o []obs) {
	first := math.NaN()
	for _, x := range o {
		if finite(x.c) {
			first = x.c
			break
		}
	}
	last := first
	for i := range o {
		if finite(o[i].c) {
			last = o[i].c
		} else {
			o[i].c = last
		}
	}
}

// dropIsolated removes isolated outliers: a value that differs from both
// neighbours by more than 8 noise scales in the same direction while the
// neighbours agree with each other (a single bad reading such as a disk
// reporting 0 bytes, or a one-sample memory spike). Steps (the neighbours
// disagree) and multi-sample excursions are kept. It returns the kept
// observations and the number removed.
func dropIsolated(o []obs) ([]obs, int) {
	n := len(o)
	if n < 5 {
		return o, 0
	}
	v := make([]float64, n)
	for i := range o {
		v[i] = o[i].v
	}
	sigma := diffNoise(v)
	med := medianOf(v)
	thr := math.Max(8*sigma, 1e-9*math.Abs(med))
	if thr == 0 {
		thr = math.SmallestNonzeroFloat64
	}
	keep := make([]bool, n)
	removed := 0
	for i := range o {
		keep[i] = true
		if i == 0 || i == n-1 {
			continue
		}
		d1 := v[i] - v[i-1]
		d2 := v[i] - v[i+1]
		if d1*d2 <= 0 {
			continue
		}
		a := math.Min(math.Abs(d1), math.Abs(d2))
		if a > thr && math.Abs(v[i+1]-v[i-1]) < 0.5*a {
			keep[i] = false
			removed++
		}
	}
	if removed == 0 {
		return o, 0
	}
	out := make([]obs, 0, n-removed)
	for i, x := range o {
		if keep[i] {
			out = append(out, x)
		}
	}
	return out, removed
}

// medianStep returns the median spacing of the observations in days (0 for
// fewer than two distinct times).
func medianStep(o []obs) float64 {
	var gaps []float64
	for i := 1; i < len(o); i++ {
		if d := o[i].t - o[i-1].t; d > 0 {
			gaps = append(gaps, d)
		}
	}
	if len(gaps) == 0 {
		return 0
	}
	return medianInPlace(gaps)
}

// niceBuckets are the bucket widths, in days, that bucketWidth rounds up to.
var niceBuckets = []float64{
	1.0 / 1440, 5.0 / 1440, 10.0 / 1440, 15.0 / 1440, 30.0 / 1440,
	1.0 / 24, 2.0 / 24, 3.0 / 24, 4.0 / 24, 6.0 / 24, 8.0 / 24, 12.0 / 24, 1,
}

// bucketWidth returns the smallest nice width >= max(step, span/maxBuckets)
// and at most one day (in days).
func bucketWidth(step, span float64, maxBuckets int) float64 {
	want := math.Max(step, span/float64(maxBuckets))
	for _, b := range niceBuckets {
		if b >= want*(1-1e-9) {
			return b
		}
	}
	return 1
}

// bucket summarises the observations in (−(k+1)·w, −k·w] (so that bucket
// boundaries fall on multiples of w before now).
type bucket struct {
	t        float64 // mean time of the observations, days
	med      float64 // median value
	min, max float64
	tMax     float64 // time of the maximum
	n        int
}

// bucketIndex returns k for time t (days, <= 0) and width w.
func bucketIndex(t, w float64) int {
	return int(math.Floor(-t/w + 1e-9))
}

// makeBuckets groups sorted observations into buckets of width w aligned
// on now, oldest first. Empty buckets are absent.
func makeBuckets(o []obs, w float64) []bucket {
	var out []bucket
	var vals []float64
	flush := func(ts float64) {
		if len(vals) == 0 {
			return
		}
		b := bucket{t: ts / float64(len(vals)), n: len(vals), min: math.Inf(1), max: math.Inf(-1)}
		for _, v := range vals {
			b.min = math.Min(b.min, v)
		}
		b.med = medianOf(vals)
		out = append(out, b)
		vals = vals[:0]
	}
	cur := math.MinInt
	var ts, bestV, bestT float64
	for _, x := range o {
		k := bucketIndex(x.t, w)
		if k != cur {
			if cur != math.MinInt {
				flush(ts)
				out[len(out)-1].max, out[len(out)-1].tMax = bestV, bestT
			}
			cur, ts, bestV, bestT = k, 0, math.Inf(-1), x.t
		}
		vals = append(vals, x.v)
		ts += x.t
		if x.v > bestV {
			bestV, bestT = x.v, x.t
		}
	}
	if cur != math.MinInt {
		flush(ts)
		out[len(out)-1].max, out[len(out)-1].tMax = bestV, bestT
	}
	return out
}

// window is one daily (or other fixed-length) window (−(k+1)·w, −k·w]
// summarised from buckets.
type window struct {
	k          int
	start, end float64 // days
	max, tMax  float64 // highest bucket maximum and when
	min        float64 // lowest value (the floor)
	minT       float64
	coverage   float64 // fraction of the window's buckets that have data
}

// makeWindows summarises buckets (width bw) into windows of width w (a
// multiple of bw), oldest first; windows with less than minCoverage of
// their buckets present are dropped.
func makeWindows(bs []bucket, bw, w, minCoverage float64) []window {
	per := math.Round(w / bw)
	var out []window
	i := 0
	for i < len(bs) {
		k := bucketIndex(bs[i].t, w)
		win := window{k: k, start: -float64(k+1) * w, end: -float64(k) * w, max: math.Inf(-1), min: math.Inf(1)}
		cnt := 0
		for i < len(bs) && bucketIndex(bs[i].t, w) == k {
			b := bs[i]
			if b.max > win.max {
				win.max, win.tMax = b.max, b.tMax
			}
			if b.min < win.min {
				win.min, win.minT = b.min, b.t
			}
			cnt++
			i++
		}
		win.coverage = float64(cnt) / per
		if win.coverage >= minCoverage {
			out = append(out, win)
		}
	}
	return out
}
