package risk

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

// gcSaw is a garbage-collector sawtooth of the given amplitude and period
// (days): 0 right after a collection, amp just before the next.
func gcSaw(d, amp, period float64) float64 {
	x := d/period + 0.37
	return amp * (x - math.Floor(x))
}

// ageSince returns the time (days) since the last restart at or before d.
func ageSince(d float64, restarts []float64, first float64) float64 {
	last := first
	for _, r := range restarts {
		if r <= d {
			last = r
		}
	}
	return d - last
}

// activity is a business-hours load profile: ~0.1 at night and weekends,
// ~1 from 09:00 to 18:00 UTC on weekdays.
func activity(d float64, end time.Time) float64 {
	t := end.Add(time.Duration(d * float64(dayDur)))
	if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return 0.1
	}
	h := hourOfDay(d, end)
	sig := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	return 0.1 + 0.9*sig((h-9)/0.4)*(1-sig((h-18)/0.5))
}

func TestPredictMemLeakScenarios(t *testing.T) {
	step := 5 * time.Minute
	n28 := 28 * 24 * 12
	ts := grid(testNow, step, n28)
	const limit = 16 * gib
	restarts := []float64{-23.3, -17.1, -11.6, -5.2}
	leakPerDay := 0.9 * gib
	leakMem := func(d float64) float64 {
		return 4*gib + leakPerDay*ageSince(d, restarts, -30) + gcSaw(d, 1*gib, 0.026)
	}

	type tc struct {
		name  string
		in    func() MemInput
		opt   MemOptions
		check func(t *testing.T, p MemPrediction)
	}
	cases := []tc{
		{
			name: "leak under a GC sawtooth with restarts",
			in: func() MemInput {
				return MemInput{Times: ts, Memory: synth(ts, testNow, leakMem, 0.05*gib, 0.9, 21), LimitBytes: limit}
			},
			check: func(t *testing.T, p MemPrediction) {
				if p.Verdict != MemLeak {
					t.Fatalf("verdict %s (%s), want leak", p.Verdict, p.Reason)
				}
				want := leakPerDay / 24
				if r := *p.LeakRateBytesPerHour; math.Abs(r-want) > 0.2*want {
					t.Errorf("leak rate %.4g B/h, want %.4g ± 20%%", r, want)
				}
				if len(p.Evidence.Restarts) != len(restarts) {
					t.Errorf("restarts %v, want %d", p.Evidence.Restarts, len(restarts))
				}
				for i, r := range p.Evidence.Restarts {
					if i < len(restarts) && math.Abs(toDays(r, testNow)-restarts[i]) > 0.01 {
						t.Errorf("restart %d at %s, want %.2f days", i, r, restarts[i])
					}
				}
				// peaks reach 16 GiB when 4 + 0.9·age + 1 = 16: age 12.2 days;
				// the process is 5.2 days old
				wantOOM := (limit-5*gib)/leakPerDay - 5.2
				got := etaDays(p.OOM.P50, p.Now)
				if math.IsNaN(got) || math.Abs(got-wantOOM) > 0.15*wantOOM {
					t.Errorf("OOM in %.2f days, want %.2f ± 15%%", got, wantOOM)
				}
				p10, p90 := etaDays(p.OOM.P10, p.Now), etaDays(p.OOM.P90, p.Now)
				if !(p10 <= got && got <= p90) {
					t.Errorf("OOM quantiles %.2f %.2f %.2f not ordered", p10, got, p90)
				}
				if p.Score < 0.5 || p.LeakScore < 0.5 {
					t.Errorf("score %.2f leak score %.2f, want >= 0.5", p.Score, p.LeakScore)
				}
			},
		},
		{
			name: "slow leak without restart, load given but unrelated",
			in: func() MemInput {
				f := func(d float64) float64 { return 6*gib + 0.07*gib*(d+40) + gcSaw(d, 1*gib, 0.02) }
				load := make([]float64, len(ts))
				for i, tt := range ts {
					load[i] = 100 * activity(toDays(tt, testNow), testNow)
				}
				return MemInput{Times: ts, Memory: synth(ts, testNow, f, 0.06*gib, 0.9, 22), LimitBytes: limit, Load: load}
			},
			check: func(t *testing.T, p MemPrediction) {
				if p.Verdict != MemLeak {
					t.Fatalf("verdict %s (%s), want leak", p.Verdict, p.Reason)
				}
				want := 0.07 * gib / 24
				if r := *p.LeakRateBytesPerHour; math.Abs(r-want) > 0.2*want {
					t.Errorf("leak rate %.4g B/h, want %.4g ± 20%%", r, want)
				}
				if p.Evidence.Basis != "load_adjusted_troughs" {
					t.Errorf("basis %q", p.Evidence.Basis)
				}
				wantOOM := (limit - 1*gib - (6*gib + 0.07*gib*40)) / (0.07 * gib)
				if got := etaDays(p.OOM.P50, p.Now); math.IsNaN(got) || math.Abs(got-wantOOM) > 0.2*wantOOM {
					t.Errorf("OOM in %.2f days, want %.2f ± 20%%", got, wantOOM)
				}
			},
		},
		{
			name: "warm-up plateau after restarts",
			in: func() MemInput {
				rs := []float64{-20.4, -8.1}
				f := func(d float64) float64 {
					age := ageSince(d, rs, -40) * 24
					return 0.2*gib + 5*gib*(1-math.Exp(-age/8)) + gcSaw(d, 0.05*gib, 0.02)
				}
				return MemInput{Times: ts, Memory: synth(ts, testNow, f, 0.03*gib, 0.9, 23), LimitBytes: 8 * gib}
			},
			check: func(t *testing.T, p MemPrediction) {
				if p.Verdict != MemWarmupPlateau {
					t.Fatalf("verdict %s (%s), want warmup_plateau", p.Verdict, p.Reason)
				}
				if len(p.Evidence.Restarts) != 2 || p.OOM.Set() {
					t.Errorf("restarts %v OOM %+v", p.Evidence.Restarts, p.OOM)
				}
			},
		},
		{
			name: "warm-up of a slow cache (postgres buffers) since the last restart",
			in: func() MemInput {
				rs := []float64{-9.5}
				f := func(d float64) float64 {
					age := ageSince(d, rs, -60) * 24
					return 2*gib + 40*gib*(1-math.Exp(-age/36)) + gcSaw(d, 0.3*gib, 0.02)
				}
				return MemInput{Times: ts, Memory: synth(ts, testNow, f, 0.25*gib, 0.9, 24), LimitBytes: 64 * gib}
			},
			check: func(t *testing.T, p MemPrediction) {
				if p.Verdict != MemWarmupPlateau {
					t.Fatalf("verdict %s (%s), want warmup_plateau", p.Verdict, p.Reason)
				}
			},
		},
		{
			name: "load-driven with a load series",
			in: func() MemInput {
				load := make([]float64, len(ts))
				for i, tt := range ts {
					load[i] = 150 * activity(toDays(tt, testNow), testNow)
				}
				f := func(d float64) float64 { return 4*gib + 3*gib*activity(d, testNow) + gcSaw(d, 0.6*gib, 0.02) }
				return MemInput{Times: ts, Memory: synth(ts, testNow, f, 0.06*gib, 0.9, 25), LimitBytes: limit, Load: load}
			},
			check: func(t *testing.T, p MemPrediction) {
				if p.Verdict != MemLoadDriven {
					t.Fatalf("verdict %s (%s), want load_driven", p.Verdict, p.Reason)
				}
				if p.Evidence.LoadR2 == nil || *p.Evidence.LoadR2 < 0.5 {
					t.Errorf("load R² %v", p.Evidence.LoadR2)
				}
				if b := *p.Evidence.LoadBytesPerUnit; math.Abs(b-3*gib/150) > 0.2*3*gib/150 {
					t.Errorf("load effect %.4g B/unit, want %.4g", b, 3*gib/150)
				}
			},
		},
		{
			name: "load-driven without a load series",
			in: func() MemInput {
				f := func(d float64) float64 { return 4*gib + 3*gib*activity(d, testNow) + gcSaw(d, 0.6*gib, 0.02) }
				return MemInput{Times: ts, Memory: synth(ts, testNow, f, 0.06*gib, 0.9, 26), LimitBytes: limit}
			},
			check: func(t *testing.T, p MemPrediction) {
				if p.Verdict != MemLoadDriven || !p.Evidence.DailyCycle {
					t.Fatalf("verdict %s daily cycle %v (%s), want load_driven", p.Verdict, p.Evidence.DailyCycle, p.Reason)
				}
			},
		},
		{
			name: "stable",
			in: func() MemInput {
				f := func(d float64) float64 { return 5*gib + gcSaw(d, 0.8*gib, 0.02) }
				return MemInput{Times: ts, Memory: synth(ts, testNow, f, 0.06*gib, 0.9, 27), LimitBytes: limit}
			},
			check: func(t *testing.T, p MemPrediction) {
				if p.Verdict != MemStable || p.OOM.Set() {
					t.Fatalf("verdict %s (%s), want stable", p.Verdict, p.Reason)
				}
				if r := *p.LeakRateBytesPerHour; math.Abs(r) > 2e6 {
					t.Errorf("rate %.3g B/h, want ~0", r)
				}
			},
		},
		{
			name: "short history",
			in: func() MemInput {
				ts := grid(testNow, time.Minute, 6*60)
				return MemInput{Times: ts, Memory: synth(ts, testNow, leakMem, 0.05*gib, 0.9, 28), LimitBytes: limit}
			},
			check: func(t *testing.T, p MemPrediction) {
				if p.Verdict != MemInsufficientHistory || p.LeakRateBytesPerHour != nil || p.Score != 0 {
					t.Fatalf("verdict %s (%s), want insufficient_history", p.Verdict, p.Reason)
				}
				if !strings.Contains(p.Reason, "need at least 24.0 hours") {
					t.Errorf("reason %q does not state the minimum", p.Reason)
				}
			},
		},
		{
			name: "restarted an hour ago after a leak: judged on the earlier lifetimes",
			in: func() MemInput {
				rs := append(append([]float64(nil), restarts...), -1.0/24)
				f := func(d float64) float64 {
					return 4*gib + leakPerDay*ageSince(d, rs, -30) + gcSaw(d, 1*gib, 0.026)
				}
				return MemInput{Times: ts, Memory: synth(ts, testNow, f, 0.05*gib, 0.9, 29), LimitBytes: limit}
			},
			check: func(t *testing.T, p MemPrediction) {
				if p.Verdict != MemLeak {
					t.Fatalf("verdict %s (%s), want leak", p.Verdict, p.Reason)
				}
				// fresh process: ~12 days to OOM
				want := (limit - 5*gib) / leakPerDay
				if got := etaDays(p.OOM.P50, p.Now); math.IsNaN(got) || math.Abs(got-want) > 0.2*want {
					t.Errorf("OOM in %.2f days, want %.2f", got, want)
				}
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := c.in()
			p, err := PredictMemLeak(in, c.opt)
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, p)
			if t.Failed() {
				b, _ := json.MarshalIndent(p, "", "  ")
				t.Logf("prediction: %s", b)
			}
			q, _ := PredictMemLeak(in, c.opt)
			a, _ := json.Marshal(p)
			b, _ := json.Marshal(q)
			if string(a) != string(b) {
				t.Errorf("not deterministic")
			}
		})
	}
}

func TestPredictMemLeakInvalid(t *testing.T) {
	ts := grid(testNow, time.Hour, 3)
	for name, in := range map[string]MemInput{
		"no memory":      {Times: ts},
		"mismatch":       {Times: ts, Memory: []float64{1, 2}},
		"limit mismatch": {Times: ts, Memory: []float64{1, 2, 3}, Limit: []float64{1}},
		"load mismatch":  {Times: ts, Memory: []float64{1, 2, 3}, Load: []float64{1}},
		"negative limit": {Times: ts, Memory: []float64{1, 2, 3}, LimitBytes: -1},
	} {
		if _, err := PredictMemLeak(in, MemOptions{}); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("%s: err %v, want ErrInvalidInput", name, err)
		}
	}
}
