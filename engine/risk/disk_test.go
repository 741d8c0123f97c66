package risk

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// days returns the ETA quantile in days after now (NaN when nil).
func etaDays(t *time.Time, now time.Time) float64 {
	if t == nil {
		return math.NaN()
	}
	return t.Sub(now).Hours() / 24
}

// trueCross scans f forward from d = 0 in one-minute steps and returns the
// first time (days) at which f(d) >= level, or NaN within limit days.
func trueCross(f func(d float64) float64, level, limit float64) float64 {
	for d := 0.0; d <= limit; d += 1.0 / 1440 {
		if f(d) >= level {
			return d
		}
	}
	return math.NaN()
}

// checkETA asserts that the full ETA is within tol (fraction) of want days
// and that p10 <= p50 <= p90 bracket want.
func checkETA(t *testing.T, p DiskPrediction, want, tol float64) {
	t.Helper()
	if p.Status != DiskFilling {
		t.Fatalf("status %s (%s), want filling", p.Status, p.Reason)
	}
	p10, p50, p90 := etaDays(p.Full.P10, p.Now), etaDays(p.Full.P50, p.Now), etaDays(p.Full.P90, p.Now)
	if math.IsNaN(p50) || math.Abs(p50-want) > tol*want {
		t.Errorf("full ETA p50 %.3f days, want %.3f ± %.0f%%", p50, want, 100*tol)
	}
	if !(p10 <= p50 && p50 <= p90) {
		t.Errorf("quantiles not ordered: p10 %.3f p50 %.3f p90 %.3f", p10, p50, p90)
	}
	if !(p10 <= want && want <= p90) {
		t.Errorf("p10–p90 [%.3f, %.3f] does not bracket the truth %.3f", p10, p90, want)
	}
}

func hasChange(p DiskPrediction, kind string) []Changepoint {
	var out []Changepoint
	for _, c := range p.Evidence.Changepoints {
		if c.Kind == kind {
			out = append(out, c)
		}
	}
	return out
}

func TestPredictDiskScenarios(t *testing.T) {
	const T = 500 * gib
	step5 := 5 * time.Minute
	n30 := 30 * 24 * 12 // 30 days of 5-minute samples
	ts30 := grid(testNow, step5, n30)

	type tc struct {
		name  string
		in    func() DiskInput
		opt   DiskOptions
		check func(t *testing.T, p DiskPrediction)
	}
	cases := []tc{
		{
			name: "linear fill",
			in: func() DiskInput {
				// 300 GiB now, +10 GiB/day on 500 GiB: full in 20 days, 90% in 15
				f := func(d float64) float64 { return 300*gib + 10*gib*d }
				return DiskInput{Times: ts30, Used: synth(ts30, testNow, f, 0.3*gib, 0.97, 1), TotalBytes: T}
			},
			check: func(t *testing.T, p DiskPrediction) {
				checkETA(t, p, 20, 0.03)
				if w := etaDays(p.Warning.P50, p.Now); math.Abs(w-15) > 0.45 {
					t.Errorf("warning ETA %.2f days, want 15", w)
				}
				if g := *p.GrowthBytesPerDay / gib; math.Abs(g-10) > 0.2 {
					t.Errorf("growth %.3f GiB/day, want 10", g)
				}
				if p.Evidence.Fit != fitLinear || p.Evidence.Basis != "level" || !strings.Contains(p.Evidence.Model, "theil-sen linear") {
					t.Errorf("model %q basis %q", p.Evidence.Model, p.Evidence.Basis)
				}
				if p.Confidence < 0.7 {
					t.Errorf("confidence %.2f, want >= 0.7", p.Confidence)
				}
				if p.Evidence.MannKendallP > 1e-6 || p.Evidence.Points < 100 {
					t.Errorf("evidence %+v", p.Evidence)
				}
			},
		},
		{
			name: "sawtooth log volume with rising peaks",
			in: func() DiskInput {
				// 30 GiB log volume rotated at midnight; 5 GiB written per day
				// over a floor creeping +0.2 GiB/day (15 GiB now).
				f := func(d float64) float64 { return 15*gib + 0.2*gib*d + 5*gib*hourOfDay(d, testNow)/24 }
				return DiskInput{Times: ts30, Used: synth(ts30, testNow, f, 0.02*gib, 0.9, 2), TotalBytes: 30 * gib}
			},
			check: func(t *testing.T, p DiskPrediction) {
				f := func(d float64) float64 { return 15*gib + 0.2*gib*d + 5*gib*hourOfDay(d, testNow)/24 }
				want := trueCross(f, 30*gib, 200)
				checkETA(t, p, want, 0.05)
				if !p.Evidence.DailyCycle || p.Evidence.Basis != "daily_peaks" {
					t.Errorf("daily cycle %v basis %q, want the peak envelope", p.Evidence.DailyCycle, p.Evidence.Basis)
				}
				if len(hasChange(p, ChangeLevelShift)) != 0 {
					t.Errorf("rotations taken as level shifts: %+v", p.Evidence.Changepoints)
				}
			},
		},
		{
			name: "nightly backup spikes without alarm",
			in: func() DiskInput {
				// flat 60% of 1 TiB plus a dump growing to +8% 01:00-02:00
				f := func(d float64) float64 {
					h := hourOfDay(d, testNow)
					v := 0.6 * 1024 * gib
					if h >= 1 && h < 2 {
						v += 0.08 * 1024 * gib * (h - 1)
					}
					return v
				}
				return DiskInput{Times: ts30, Used: synth(ts30, testNow, f, 0.2*gib, 0.97, 3), TotalBytes: 1024 * gib}
			},
			opt: DiskOptions{Now: testNow.Add(-4*time.Hour - 25*time.Minute)}, // just after the spike (01:35)
			check: func(t *testing.T, p DiskPrediction) {
				if p.Status != DiskStable || p.Full.Set() || p.Warning.Set() {
					t.Fatalf("status %s full %+v (%s), want stable without ETA", p.Status, p.Full, p.Reason)
				}
				if !p.Evidence.DailyCycle {
					t.Errorf("nightly spike not seen as a daily cycle")
				}
			},
		},
		{
			name: "cleanup then regrowth uses only the new regime",
			in: func() DiskInput {
				// +5 GiB/day, then 8 days ago a cleanup of 120 GiB, then +8 GiB/day
				f := func(d float64) float64 {
					if d < -8 {
						return 350*gib + 5*gib*(d+8)
					}
					return 230*gib + 8*gib*(d+8)
				}
				return DiskInput{Times: ts30, Used: synth(ts30, testNow, f, 0.3*gib, 0.97, 4), TotalBytes: T}
			},
			check: func(t *testing.T, p DiskPrediction) {
				// now 294 GiB, 206 GiB left at 8 GiB/day
				checkETA(t, p, 206.0/8, 0.04)
				ls := hasChange(p, ChangeLevelShift)
				if len(ls) != 1 || math.Abs(ls[0].Time.Sub(testNow.Add(-8*dayDur)).Hours()) > 1 || ls[0].After-ls[0].Before > -100*gib {
					t.Fatalf("level shifts %+v, want one drop of ~120 GiB 8 days ago", ls)
				}
				if math.Abs(p.Evidence.RegimeStart.Sub(ls[0].Time).Hours()) > 1 {
					t.Errorf("regime starts %s, want at the cleanup %s", p.Evidence.RegimeStart, ls[0].Time)
				}
				if g := *p.GrowthBytesPerDay / gib; math.Abs(g-8) > 0.25 {
					t.Errorf("growth %.3f GiB/day, want 8 (the new regime)", g)
				}
			},
		},
		{
			name: "acceleration after a change",
			in: func() DiskInput {
				// 1 GiB/day until 10 days ago, 10 GiB/day since
				f := func(d float64) float64 {
					if d < -10 {
						return 200*gib + 1*gib*(d+10)
					}
					return 200*gib + 10*gib*(d+10)
				}
				ts := grid(testNow, step5, 50*24*12)
				return DiskInput{Times: ts, Used: synth(ts, testNow, f, 0.3*gib, 0.97, 5), TotalBytes: T}
			},
			check: func(t *testing.T, p DiskPrediction) {
				checkETA(t, p, 200.0/10, 0.04)
				sc := hasChange(p, ChangeSlope)
				if len(sc) == 0 || math.Abs(sc[len(sc)-1].Time.Sub(testNow.Add(-10*dayDur)).Hours()) > 24 {
					t.Fatalf("slope changes %+v, want one ~10 days ago", sc)
				}
				last := sc[len(sc)-1]
				if last.After < 5*last.Before {
					t.Errorf("slope change %+v: want ~10× faster after", last)
				}
			},
		},
		{
			name: "steadily accelerating growth: a convex model",
			in: func() DiskInput {
				// rate rising from 1 to 7 GiB/day over 40 days (quadratic)
				ts := grid(testNow, 15*time.Minute, 40*24*4)
				return DiskInput{Times: ts, Used: synth(ts, testNow, quadLevel, 0.2*gib, 0.97, 16), TotalBytes: T}
			},
			check: func(t *testing.T, p DiskPrediction) {
				want := trueCross(quadLevel, T, 200)
				checkETA(t, p, want, 0.1)
				if g := *p.GrowthBytesPerDay / gib; math.Abs(g-7) > 0.7 {
					t.Errorf("growth now %.2f GiB/day, want 7", g)
				}
			},
		},
		{
			name: "volume grown online: ETA against the new total",
			in: func() DiskInput {
				// 200 GiB grown to 400 GiB 20 days ago; +2 GiB/day, 250 GiB now
				f := func(d float64) float64 { return 250*gib + 2*gib*d }
				total := make([]float64, n30)
				for i, tt := range ts30 {
					total[i] = 200 * gib
					if toDays(tt, testNow) >= -20 {
						total[i] = 400 * gib
					}
				}
				return DiskInput{Times: ts30, Used: synth(ts30, testNow, f, 0.1*gib, 0.97, 6), Total: total}
			},
			check: func(t *testing.T, p DiskPrediction) {
				checkETA(t, p, 75, 0.04)
				if *p.TotalBytes != 400*gib || math.Abs(p.UsedPercent-62.5) > 0.3 {
					t.Errorf("total %v used %.2f%%, want 400 GiB, 62.5%%", *p.TotalBytes, p.UsedPercent)
				}
				cc := hasChange(p, ChangeCapacity)
				if len(cc) != 1 || cc[0].Before != 200*gib || cc[0].After != 400*gib {
					t.Errorf("capacity changes %+v", cc)
				}
			},
		},
		{
			name: "volume grown online, percent input: the resize starts a regime",
			in: func() DiskInput {
				f := func(d float64) float64 {
					u := 250*gib + 2*gib*d
					if d < -20 {
						return 100 * u / (200 * gib)
					}
					return 100 * u / (400 * gib)
				}
				return DiskInput{Times: ts30, UsedPercent: synth(ts30, testNow, f, 0.02, 0.97, 7)}
			},
			check: func(t *testing.T, p DiskPrediction) {
				checkETA(t, p, 75, 0.05)
				if p.UsedBytes != nil || p.GrowthBytesPerDay != nil || p.Unit != percentUnit {
					t.Errorf("percent input reported bytes: %+v", p)
				}
				if math.Abs(p.GrowthPercentPerDay-0.5) > 0.02 {
					t.Errorf("growth %.3f pp/day, want 0.5", p.GrowthPercentPerDay)
				}
				if math.Abs(p.Evidence.RegimeStart.Sub(testNow.Add(-20*dayDur)).Hours()) > 1 {
					t.Errorf("regime start %s, want the resize 20 days ago", p.Evidence.RegimeStart)
				}
			},
		},
		{
			name: "monthly purge: projects purges continuing",
			in: func() DiskInput {
				// +1.5 GiB/day; every 30 days a purge removes 38 GiB (the
				// last 5 hours ago); the cycle peaks creep up 7 GiB a month
				ts := grid(testNow, 15*time.Minute, 90*24*4)
				return DiskInput{Times: ts, Used: synth(ts, testNow, purgeLevel, 0.1*gib, 0.97, 15), TotalBytes: 300 * gib}
			},
			check: func(t *testing.T, p DiskPrediction) {
				want := trueCross(purgeLevel, 300*gib, 200)
				checkETA(t, p, want, 0.05)
				if p.Evidence.Fit != fitPeriodic || len(hasChange(p, ChangeLevelShift)) != 3 {
					t.Errorf("fit %q changepoints %+v, want periodic purges", p.Evidence.Fit, p.Evidence.Changepoints)
				}
				if net := *p.GrowthBytesPerDay / gib; math.Abs(net-7.0/30) > 0.05 {
					t.Errorf("net growth %.3f GiB/day, want %.3f", net, 7.0/30)
				}
			},
		},
		{
			name: "flat disk",
			in: func() DiskInput {
				return DiskInput{Times: ts30, Used: synth(ts30, testNow, func(float64) float64 { return 400 * gib }, 0.2*gib, 0.97, 8), TotalBytes: T}
			},
			check: func(t *testing.T, p DiskPrediction) {
				if p.Status != DiskStable || p.Full.Set() {
					t.Fatalf("status %s full %+v, want stable", p.Status, p.Full)
				}
			},
		},
		{
			name: "noisy but stable disk",
			in: func() DiskInput {
				// wandering noise of 2% of the volume around 85%
				return DiskInput{Times: ts30, Used: synth(ts30, testNow, func(float64) float64 { return 0.85 * T }, 0.02*T, 0.995, 9), TotalBytes: T}
			},
			check: func(t *testing.T, p DiskPrediction) {
				if p.Status == DiskFilling && p.Full.Within(p.Now.Add(7*dayDur)) {
					t.Fatalf("false alarm: %s", p.Reason)
				}
				if p.Status != DiskStable {
					t.Errorf("status %s (%s), want stable", p.Status, p.Reason)
				}
			},
		},
		{
			name: "shrinking disk",
			in: func() DiskInput {
				f := func(d float64) float64 { return 300*gib - 0.5*gib*d }
				return DiskInput{Times: ts30, Used: synth(ts30, testNow, f, 0.2*gib, 0.97, 10), TotalBytes: T}
			},
			check: func(t *testing.T, p DiskPrediction) {
				if p.Status != DiskShrinking || p.Full.Set() {
					t.Fatalf("status %s full %+v, want shrinking without ETA", p.Status, p.Full)
				}
				if g := *p.GrowthBytesPerDay / gib; math.Abs(g+0.5) > 0.05 {
					t.Errorf("growth %.3f GiB/day, want -0.5", g)
				}
			},
		},
		{
			name: "short history",
			in: func() DiskInput {
				ts := grid(testNow, step5, 10*12) // 10 hours
				f := func(d float64) float64 { return 300*gib + 50*gib*d }
				return DiskInput{Times: ts, Used: synth(ts, testNow, f, 0.1*gib, 0.9, 11), TotalBytes: T}
			},
			check: func(t *testing.T, p DiskPrediction) {
				if p.Status != DiskInsufficientHistory || p.Full.Set() || p.Confidence != 0 {
					t.Fatalf("status %s full %+v confidence %v, want insufficient_history", p.Status, p.Full, p.Confidence)
				}
				if !strings.Contains(p.Reason, "need at least 24.0 hours") {
					t.Errorf("reason %q does not state the minimum", p.Reason)
				}
			},
		},
		{
			name: "short regime after a cleanup",
			in: func() DiskInput {
				f := func(d float64) float64 {
					if d < -0.5 {
						return 400*gib + 5*gib*d
					}
					return 200*gib + 5*gib*d
				}
				return DiskInput{Times: ts30, Used: synth(ts30, testNow, f, 0.2*gib, 0.97, 12), TotalBytes: T}
			},
			check: func(t *testing.T, p DiskPrediction) {
				if p.Status != DiskInsufficientHistory || !strings.Contains(p.Reason, "need at least") {
					t.Fatalf("status %s (%s), want insufficient_history after the cleanup", p.Status, p.Reason)
				}
			},
		},
		{
			name: "gaps, NaN, zero readings and irregular sampling",
			in: func() DiskInput {
				r := rand.New(rand.NewPCG(13, 1))
				var ts []time.Time
				for t := testNow.Add(-30 * dayDur); !t.After(testNow); {
					if r.Float64() < 0.002 { // a gap of up to 12 h
						t = t.Add(time.Duration(r.Float64() * 12 * float64(time.Hour)))
					}
					ts = append(ts, t)
					t = t.Add(time.Duration((2 + 6*r.Float64()) * float64(time.Minute)))
				}
				ts[len(ts)-1] = testNow
				f := func(d float64) float64 { return 300*gib + 10*gib*d }
				used := synth(ts, testNow, f, 0.3*gib, 0.97, 14)
				for i := range used {
					switch u := r.Float64(); {
					case u < 0.02:
						used[i] = math.NaN()
					case u < 0.025:
						used[i] = 0 // agent reported an empty disk
					}
				}
				used[len(used)-1] = f(0)
				// shuffle a little: the input need not be sorted
				for i := 0; i+1 < len(ts); i += 97 {
					ts[i], ts[i+1] = ts[i+1], ts[i]
					used[i], used[i+1] = used[i+1], used[i]
				}
				return DiskInput{Times: ts, Used: used, TotalBytes: T}
			},
			check: func(t *testing.T, p DiskPrediction) {
				checkETA(t, p, 20, 0.03)
				if p.Evidence.OutliersRemoved == 0 {
					t.Errorf("zero readings not removed")
				}
				if len(hasChange(p, ChangeLevelShift)) != 0 {
					t.Errorf("gaps or zeros taken as level shifts: %+v", p.Evidence.Changepoints)
				}
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := c.in()
			p, err := PredictDisk(in, c.opt)
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, p)
			if t.Failed() {
				b, _ := json.MarshalIndent(p, "", "  ")
				t.Logf("prediction: %s", b)
			}
			// deterministic
			q, _ := PredictDisk(in, c.opt)
			a, _ := json.Marshal(p)
			b, _ := json.Marshal(q)
			if string(a) != string(b) {
				t.Errorf("not deterministic")
			}
		})
	}
}

func TestPredictDiskInvalid(t *testing.T) {
	ts := grid(testNow, time.Hour, 3)
	for name, in := range map[string]DiskInput{
		"no values":        {Times: ts},
		"no total":         {Times: ts, Used: []float64{1, 2, 3}},
		"length mismatch":  {Times: ts, Used: []float64{1, 2}, TotalBytes: 10},
		"total mismatch":   {Times: ts, Used: []float64{1, 2, 3}, Total: []float64{1}},
		"percent mismatch": {Times: ts, UsedPercent: []float64{1}},
	} {
		if _, err := PredictDisk(in, DiskOptions{}); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("%s: err %v, want ErrInvalidInput", name, err)
		}
	}
	if _, err := PredictDisk(DiskInput{Times: ts, UsedPercent: []float64{1, 2, 3}}, DiskOptions{WarnPercent: 120}); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("warn 120%%: err %v", err)
	}
	p, err := PredictDisk(DiskInput{Times: ts, UsedPercent: []float64{math.NaN(), math.NaN(), math.NaN()}}, DiskOptions{})
	if err != nil || p.Status != DiskInsufficientHistory {
		t.Errorf("all missing: %v %+v", err, p)
	}
}

// purgeLevel is a volume growing 1.5 GiB/day with a 38 GiB purge every 30
// days, the last one 5 hours before testNow (250 GiB now).
func purgeLevel(d float64) float64 {
	last := -5.0 / 24
	k := math.Floor((d - last) / 30) // purges after the last past one
	return 250*gib + 1.5*gib*(d-last) - 1.5*gib*(-last) - 38*gib*(k)
}

// quadLevel grows at 7 GiB/day now, 0.15 GiB/day² faster each day.
func quadLevel(d float64) float64 { return 300*gib + 7*gib*d + 0.075*gib*d*d }

func TestPredictEdgeCases(t *testing.T) {
	ts := grid(testNow, 10*time.Minute, 6*24*6)
	t.Run("constant disk", func(t *testing.T) {
		p, err := PredictDisk(DiskInput{Times: ts, Used: constant(len(ts), 100*gib), TotalBytes: 200 * gib}, DiskOptions{})
		if err != nil || p.Status != DiskStable || p.Full.Set() || p.Warning.Set() {
			t.Fatalf("%v %+v", err, p)
		}
	})
	t.Run("full and flat", func(t *testing.T) {
		p, err := PredictDisk(DiskInput{Times: ts, UsedPercent: constant(len(ts), 100)}, DiskOptions{})
		if err != nil || p.Status != DiskStable || !p.Full.Reached || !p.Warning.Reached || !p.Full.P50.Equal(p.Now) {
			t.Fatalf("%v %+v", err, p)
		}
	})
	t.Run("filling past the warning level", func(t *testing.T) {
		f := func(d float64) float64 { return 95 + 0.5*d }
		p, err := PredictDisk(DiskInput{Times: ts, UsedPercent: synth(ts, testNow, f, 0.01, 0.5, 31)}, DiskOptions{})
		if err != nil || p.Status != DiskFilling || !p.Warning.Reached || p.Full.Reached {
			t.Fatalf("%v %+v", err, p)
		}
		if d := etaDays(p.Full.P50, p.Now); math.Abs(d-10) > 0.5 {
			t.Errorf("full in %.2f days, want 10", d)
		}
	})
	t.Run("samples after now are ignored", func(t *testing.T) {
		f := func(d float64) float64 { return 100*gib + 5*gib*d }
		used := synth(ts, testNow, f, 0.05*gib, 0.5, 32)
		now := testNow.Add(-2 * dayDur)
		p, err := PredictDisk(DiskInput{Times: ts, Used: used, TotalBytes: 200 * gib}, DiskOptions{Now: now})
		if err != nil || !p.Now.Equal(now) || math.Abs(*p.UsedBytes-f(-2)) > 0.5*gib {
			t.Fatalf("%v now %s used %v", err, p.Now, p.UsedBytes)
		}
	})
	t.Run("constant memory", func(t *testing.T) {
		p, err := PredictMemLeak(MemInput{Times: ts, Memory: constant(len(ts), 2*gib), LimitBytes: 4 * gib}, MemOptions{})
		if err != nil || p.Verdict != MemStable || p.OOM.Set() {
			t.Fatalf("%v %+v", err, p)
		}
	})
	t.Run("memory without a limit", func(t *testing.T) {
		f := func(d float64) float64 { return 2*gib + 0.2*gib*(d+6) + gcSaw(d, 0.2*gib, 0.02) }
		p, err := PredictMemLeak(MemInput{Times: ts, Memory: synth(ts, testNow, f, 0.01*gib, 0.5, 33)}, MemOptions{})
		if err != nil || p.Verdict != MemLeak || p.OOM.Set() || p.LimitBytes != nil || !strings.Contains(p.Reason, "no limit known") {
			t.Fatalf("%v %+v", err, p)
		}
	})
}
