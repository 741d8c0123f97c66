package anomaly

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/seed-f1b503aa/foresight/engine"
)

// daily returns n hourly values 50 + 20·sin(2πt/24) + N(0, sd²) (seeded).
func daily(n int, sd float64, seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, 11))
	v := make([]float64, n)
	for i := range v {
		v[i] = 50 + 20*math.Sin(2*math.Pi*float64(i)/24) + sd*r.NormFloat64()
	}
	return v
}

// samePoint compares two points, NaN equal to NaN.
func samePoint(a, b Point) bool {
	eq := func(x, y float64) bool { return x == y || (math.IsNaN(x) && math.IsNaN(y)) }
	return eq(a.Value, b.Value) && eq(a.Expected, b.Expected) && eq(a.Lo, b.Lo) && eq(a.Hi, b.Hi) &&
		eq(a.Scale, b.Scale) && eq(a.Z, b.Z) && a.Score == b.Score && a.Anomaly == b.Anomaly &&
		a.WarmingUp == b.WarmingUp && a.Missing == b.Missing && a.LevelShift == b.LevelShift
}

// flagged counts anomalies among points [from, to).
func flagged(p []Point, from, to int) int {
	n := 0
	for _, x := range p[from:to] {
		if x.Anomaly {
			n++
		}
	}
	return n
}

// eventful is a daily series with gaps, spikes and a level shift.
func eventful() []float64 {
	v := daily(24*40, 1, 5)
	for i := 300; i < 330; i++ {
		v[i] = math.NaN()
	}
	v[100], v[101] = math.NaN(), math.Inf(1)
	v[400] += 12
	v[555] -= 9
	for i := 700; i < len(v); i++ {
		v[i] += 25
	}
	return v
}

func TestScoresAreCausal(t *testing.T) {
	v := eventful()
	full, err := ScoreValues(v, Options{Season: 24})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []int{1, 30, 47, 48, 49, 301, 401, 702, 703, 800, len(v)} {
		prefix, err := ScoreValues(v[:k], Options{Season: 24})
		if err != nil {
			t.Fatal(err)
		}
		for i := range prefix {
			if !samePoint(prefix[i], full[i]) {
				t.Fatalf("prefix %d: point %d differs: %+v vs %+v", k, i, prefix[i], full[i])
			}
		}
	}
	// Changing the future does not change the past.
	w := append([]float64(nil), v...)
	for i := 500; i < len(w); i++ {
		w[i] = -w[i]
	}
	other, _ := ScoreValues(w, Options{Season: 24})
	for i := 0; i < 500; i++ {
		if !samePoint(other[i], full[i]) {
			t.Fatalf("point %d changed when only later values changed", i)
		}
	}

	// The same through timestamps and resampling.
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var smp []engine.Sample
	for i, x := range v {
		smp = append(smp, engine.Sample{Time: start.Add(time.Duration(i) * time.Hour), Value: x})
	}
	_, gFull, err := ScoreSamples(smp, time.Hour, Options{Season: 24})
	if err != nil {
		t.Fatal(err)
	}
	_, gPrefix, err := ScoreSamples(smp[:600], time.Hour, Options{Season: 24})
	if err != nil {
		t.Fatal(err)
	}
	for i := range gPrefix {
		if !samePoint(gPrefix[i], gFull[i]) {
			t.Fatalf("resampled prefix: point %d differs", i)
		}
	}
}

func TestScoresOfNormalPoints(t *testing.T) {
	tests := []struct {
		name   string
		season int
		values []float64
	}{
		{"daily season", 24, daily(24*60, 1, 1)},
		{"daily season, other seed", 24, daily(24*60, 3, 2)},
		{"no season", 0, func() []float64 {
			v := daily(1000, 1, 3)
			for i := range v {
				v[i] -= 20 * math.Sin(2*math.Pi*float64(i)/24)
			}
			return v
		}()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ScoreValues(tc.values, Options{Season: tc.season})
			if err != nil {
				t.Fatal(err)
			}
			warm := p[0:1][0].WarmingUp
			if !warm {
				t.Fatal("first point not warming up")
			}
			from := 0
			for from < len(p) && p[from].WarmingUp {
				if p[from].Score != 0 || p[from].Anomaly {
					t.Fatalf("warm-up point %d scored %v", from, p[from].Score)
				}
				from++
			}
			wantWarm := 2 * tc.season
			if tc.season == 0 {
				wantWarm = 24
			}
			if from != wantWarm {
				t.Errorf("warm-up lasted %d points, want %d", from, wantWarm)
			}
			sum := 0.0
			for _, x := range p[from:] {
				sum += x.Score
			}
			mean := sum / float64(len(p)-from)
			rate := float64(flagged(p, from, len(p))) / float64(len(p)-from)
			t.Logf("mean score %.3f, flagged %.2f%%", mean, 100*rate)
			if mean < 0.4 || mean > 0.6 || rate > 0.025 {
				t.Errorf("normal points: mean score %.3f (want about 0.5), flagged %.2f%% (want about 1%%)", mean, 100*rate)
			}
		})
	}
}

func TestSpikesScoreHigh(t *testing.T) {
	v := daily(24*30, 1, 7)
	spikes := map[int]float64{100: 8, 250: -7, 333: 10, 500: 6, 501: 6, 650: -9}
	for i, d := range spikes {
		v[i] += d
	}
	p, err := ScoreValues(v, Options{Season: 24})
	if err != nil {
		t.Fatal(err)
	}
	for i := range spikes {
		if !p[i].Anomaly || (p[i].Value-p[i].Expected)*spikes[i] <= 0 {
			t.Errorf("spike at %d: %+v", i, p[i])
		}
		// large isolated spikes once the scale rests on ten days
		if i > 240 && i != 501 && math.Abs(spikes[i]) >= 7 && p[i].Score < 0.999 {
			t.Errorf("spike of %+.0f SD at %d scored only %.5f", spikes[i], i, p[i].Score)
		}
		if p[i].Value >= p[i].Lo && p[i].Value <= p[i].Hi {
			t.Errorf("spike at %d inside its band [%.1f, %.1f]", i, p[i].Lo, p[i].Hi)
		}
	}
	// The points after a spike are judged against an undisturbed baseline.
	for _, i := range []int{102, 252, 335, 503, 652} {
		if p[i].Anomaly || math.Abs(p[i].Expected-(50+20*math.Sin(2*math.Pi*float64(i)/24))) > 1.5 {
			t.Errorf("point %d after a spike: %+v", i, p[i])
		}
	}
	if n := flagged(p, 48, len(p)); n > len(spikes)+10 {
		t.Errorf("%d points flagged for %d spikes", n, len(spikes))
	}
}

func TestLevelShiftAdapts(t *testing.T) {
	for _, shift := range []float64{25, -15, 6} {
		v := daily(24*40, 1, 9)
		at := 500
		for i := at; i < len(v); i++ {
			v[i] += shift
		}
		p, err := ScoreValues(v, Options{Season: 24})
		if err != nil {
			t.Fatal(err)
		}
		if !p[at].Anomaly || p[at].Score < 0.999 {
			t.Errorf("shift %+.0f: onset not flagged: %+v", shift, p[at])
		}
		shifted := false
		for _, x := range p[at : at+10] {
			shifted = shifted || x.LevelShift
		}
		if !shifted {
			t.Errorf("shift %+.0f: no level shift declared", shift)
		}
		after := at + 24
		rate := float64(flagged(p, after, len(p))) / float64(len(p)-after)
		exp := 50 + 20*math.Sin(2*math.Pi*float64(after)/24) + shift
		t.Logf("shift %+.0f: flagged %d of the first 24 after, %.2f%% later; expected %.1f vs %.1f one day after",
			shift, flagged(p, at, after), 100*rate, p[after].Expected, exp)
		if rate > 0.025 || math.Abs(p[after].Expected-exp) > 2 {
			t.Errorf("shift %+.0f: did not adapt (flagged %.2f%% after a day, expected %.1f want %.1f)", shift, 100*rate, p[after].Expected, exp)
		}
		if n := flagged(p, at, after); n > 8 {
			t.Errorf("shift %+.0f: %d of the 24 points after the shift flagged", shift, n)
		}
	}
}

func TestMissingValues(t *testing.T) {
	v := daily(24*30, 1, 13)
	// half of the first two days missing: warm-up waits for data
	for i := 0; i < 48; i += 2 {
		v[i] = math.NaN()
	}
	for i := 200; i < 260; i++ { // a gap of two and a half days
		v[i] = math.NaN()
	}
	v[400] = math.Inf(-1)
	p, err := ScoreValues(v, Options{Season: 24})
	if err != nil {
		t.Fatal(err)
	}
	if !p[47].WarmingUp || p[48].WarmingUp {
		t.Errorf("warm-up: point 47 %v, 48 %v", p[47].WarmingUp, p[48].WarmingUp)
	}
	for _, i := range []int{0, 200, 230, 259, 400} {
		x := p[i]
		if !x.Missing || x.Score != 0 || x.Anomaly || !math.IsNaN(x.Value) {
			t.Errorf("missing point %d: %+v", i, x)
		}
	}
	if !math.IsNaN(p[400].Value) {
		t.Error("-Inf not reported as missing")
	}
	if n := flagged(p, 260, 300); n > 2 {
		t.Errorf("%d of 40 points after the gap flagged", n)
	}
	// All missing: warm-up never ends, nothing is flagged.
	all := make([]float64, 100)
	for i := range all {
		all[i] = math.NaN()
	}
	q, _ := ScoreValues(all, Options{Season: 24})
	for _, x := range q {
		if !x.WarmingUp || !x.Missing || x.Score != 0 {
			t.Fatalf("all-missing series: %+v", x)
		}
	}
	// JSON writes NaN as null.
	b, err := json.Marshal(q[0])
	if err != nil || !strings.Contains(string(b), `"expected":null`) || !strings.Contains(string(b), `"value":null`) {
		t.Errorf("JSON %s, %v", b, err)
	}
}

func TestIrregularTimestamps(t *testing.T) {
	// 10-minute samples with jitter (±1 min) and holes, scored on an
	// hourly grid.
	r := rand.New(rand.NewPCG(21, 1))
	start := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	spike := start.Add(300 * time.Hour)
	var smp []engine.Sample
	for m := 0; m < 24*25*60; m += 10 {
		if r.Float64() < 0.2 {
			continue
		}
		t0 := start.Add(time.Duration(m)*time.Minute + time.Duration(r.IntN(120)-60)*time.Second)
		h := float64(m) / 60
		v := 50 + 20*math.Sin(2*math.Pi*h/24) + 2*r.NormFloat64()
		if t0.Truncate(time.Hour).Equal(spike) {
			v += 15
		}
		smp = append(smp, engine.Sample{Time: t0, Value: v})
	}
	r.Shuffle(len(smp), func(i, j int) { smp[i], smp[j] = smp[j], smp[i] })
	grid, p, err := ScoreSamples(smp, time.Hour, Options{Season: 24})
	if err != nil {
		t.Fatal(err)
	}
	if !grid.Start.Equal(start.Add(-time.Hour)) || grid.Step != time.Hour {
		t.Fatalf("grid %+v", grid)
	}
	i := int(spike.Sub(grid.Start) / time.Hour)
	if !p[i].Anomaly {
		t.Errorf("spike bucket %s: %+v", grid.At(i), p[i])
	}
	if n := flagged(p, 0, len(p)); n > 15 {
		t.Errorf("%d of %d buckets flagged", n, len(p))
	}
	// step inferred from the samples
	g2, _, err := ScoreSamples(smp, 0, Options{Season: 144})
	if err != nil || g2.Step != 10*time.Minute {
		t.Errorf("inferred step %v, %v", g2.Step, err)
	}
}

func TestOptionErrors(t *testing.T) {
	for _, o := range []Options{
		{Season: -1}, {Threshold: 1}, {Threshold: -0.5}, {Warmup: 2}, {Cycles: -1},
		{LevelAlpha: 2}, {ScaleAlpha: -1}, {ShiftRun: -3}, {ShiftZ: -1}, {Clip: math.NaN()},
	} {
		if _, err := NewDetector(o); !errors.Is(err, ErrOptions) {
			t.Errorf("%+v: error %v", o, err)
		}
	}
	if _, _, err := ScoreSamples(nil, 0, Options{}); err == nil {
		t.Error("no samples accepted")
	}
}
