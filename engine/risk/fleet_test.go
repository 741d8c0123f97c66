package risk

import (
	"math"
	"sort"
	"testing"
	"time"

	"github.com/seed-f1b503aa/foresight/datasets"
	"github.com/seed-f1b503aa/foresight/engine"
)

// fleetSeries is one disk or process of a generated fleet: a value and its
// capacity per sample, and the host's request rate as load.
type fleetSeries struct {
	id          string
	host        string
	measurement string
	times       []time.Time
	value, capv []float64
	load        []float64
}

// collectFleet gathers the disk and process_mem series of a fleet with the
// host's http request rate aligned as load (NaN where missing), keyed by
// the ID of the used series.
func collectFleet(f *datasets.Fleet) map[string]*fleetSeries {
	out := map[string]*fleetSeries{}
	rates := map[string]map[int64]float64{}
	err := f.Each(func(p engine.Point) error {
		var field, capField string
		switch p.Measurement {
		case "disk":
			field, capField = "used", "total"
		case "process_mem":
			field, capField = "used_bytes", "limit_bytes"
		case "http_requests":
			h := p.Tags["host"]
			if rates[h] == nil {
				rates[h] = map[int64]float64{}
			}
			rates[h][p.Time.Unix()] = p.Fields["rate"]
			return nil
		default:
			return nil
		}
		key := engine.SeriesKey{Measurement: p.Measurement, Field: field, Tags: p.Tags}
		id := key.ID()
		s := out[id]
		if s == nil {
			s = &fleetSeries{id: id, host: p.Tags["host"], measurement: p.Measurement}
			out[id] = s
		}
		s.times = append(s.times, p.Time)
		s.value = append(s.value, p.Fields[field])
		s.capv = append(s.capv, p.Fields[capField])
		return nil
	})
	if err != nil {
		panic(err)
	}
	for _, s := range out {
		if r, ok := rates[s.host]; ok && s.measurement == "process_mem" {
			s.load = make([]float64, len(s.times))
			for i, t := range s.times {
				v, ok := r[t.Unix()]
				if !ok {
					v = math.NaN()
				}
				s.load[i] = v
			}
		}
	}
	return out
}

func sortedIDs(m map[string]*fleetSeries) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// TestDemoFleetVerdicts runs both predictors over a small demo fleet and
// checks them against the generator's ground truth.
func TestDemoFleetVerdicts(t *testing.T) {
	for _, seed := range []uint64{1, 2} {
		f, err := datasets.GenerateFleet(datasets.FleetConfig{Hosts: 3, Days: 30, Step: 15 * time.Minute, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		truth := f.GroundTruth()
		fs := collectFleet(f)
		for _, id := range sortedIDs(fs) {
			s, g := fs[id], truth[id]
			if s.measurement == "disk" {
				p, err := PredictDisk(DiskInput{Times: s.times, Used: s.value, Total: s.capv}, DiskOptions{})
				if err != nil {
					t.Fatal(err)
				}
				checkFleetDisk(t, seed, id, g, p)
				continue
			}
			p, err := PredictMemLeak(MemInput{Times: s.times, Memory: s.value, Limit: s.capv, Load: s.load}, MemOptions{})
			if err != nil {
				t.Fatal(err)
			}
			checkFleetMem(t, seed, id, g, p)
		}
	}
}

func checkFleetDisk(t *testing.T, seed uint64, id string, g datasets.GroundTruth, p DiskPrediction) {
	t.Helper()
	week := p.Now.Add(7 * dayDur)
	switch g.Kind {
	case datasets.KindDiskFill, datasets.KindDiskFillAccelerating, datasets.KindDiskGrown, datasets.KindDiskBackup:
		if p.Status != DiskFilling {
			t.Errorf("seed %d %s (%s): status %s (%s), want filling", seed, id, g.Kind, p.Status, p.Reason)
			return
		}
		if g.FillTime != nil && g.FillTime.Sub(p.Now) < 150*dayDur {
			want := g.FillTime.Sub(p.Now).Hours() / 24
			got := etaDays(p.Full.P50, p.Now)
			if math.IsNaN(got) || math.Abs(got-want) > 0.15*want {
				t.Errorf("seed %d %s (%s): full in %.1f days, truth %.1f", seed, id, g.Kind, got, want)
			}
		}
	case datasets.KindDiskStable, datasets.KindDiskShrinking, datasets.KindDiskSawtooth, datasets.KindDiskPurge:
		if g.FillTime == nil && (p.Full.Within(week) || p.Warning.Within(week)) {
			t.Errorf("seed %d %s (%s): false alarm: %s", seed, id, g.Kind, p.Reason)
		}
		want := map[datasets.Kind]DiskStatus{datasets.KindDiskStable: DiskStable, datasets.KindDiskShrinking: DiskShrinking}[g.Kind]
		if want != "" && p.Status != want {
			t.Errorf("seed %d %s (%s): status %s (%s), want %s", seed, id, g.Kind, p.Status, p.Reason, want)
		}
	}
}

func checkFleetMem(t *testing.T, seed uint64, id string, g datasets.GroundTruth, p MemPrediction) {
	t.Helper()
	allowed := map[datasets.Kind][]MemVerdict{
		datasets.KindMemLeak:    {MemLeak},
		datasets.KindWarmup:     {MemWarmupPlateau, MemStable},
		datasets.KindLoadDriven: {MemLoadDriven},
		datasets.KindStable:     {MemStable},
	}[g.Kind]
	ok := false
	for _, v := range allowed {
		ok = ok || p.Verdict == v
	}
	if !ok {
		t.Errorf("seed %d %s (%s): verdict %s (%s), want one of %v", seed, id, g.Kind, p.Verdict, p.Reason, allowed)
		return
	}
	if g.Kind != datasets.KindMemLeak {
		return
	}
	want := *g.LeakRateBytesPerHour
	if r := *p.LeakRateBytesPerHour; math.Abs(r-want) > 0.2*want {
		t.Errorf("seed %d %s: leak rate %.4g B/h, truth %.4g", seed, id, r, want)
	}
	if g.FillTime != nil {
		wantD := g.FillTime.Sub(p.Now).Hours() / 24
		if got := etaDays(p.OOM.P50, p.Now); math.IsNaN(got) || math.Abs(got-wantD) > 0.2*wantD+0.5 {
			t.Errorf("seed %d %s: OOM in %.1f days, truth %.1f", seed, id, got, wantD)
		}
	}
}
