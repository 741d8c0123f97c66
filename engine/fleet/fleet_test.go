package fleet

import (
	"context"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/seed-f1b503aa/foresight/datasets"
	"github.com/seed-f1b503aa/foresight/engine"
	"github.com/seed-f1b503aa/foresight/storage/embedded"
)

// TestRunOverDemoFleet loads a small demo fleet into a real embedded store
// and checks the fleet run against the generator's ground truth.
func TestRunOverDemoFleet(t *testing.T) {
	end := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	f, err := datasets.GenerateFleet(datasets.FleetConfig{Hosts: 3, Days: 75, Step: 5 * time.Minute, Seed: 7, End: end})
	if err != nil {
		t.Fatal(err)
	}
	store, err := embedded.Open(t.TempDir(), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	loader, err := store.NewLoader()
	if err != nil {
		t.Fatal(err)
	}
	defer loader.Close()
	ctx := context.Background()
	var batch []engine.Point
	err = f.Each(func(p engine.Point) error {
		p.Fields = maps.Clone(p.Fields)
		batch = append(batch, p)
		if len(batch) == 10000 {
			err := loader.Add(ctx, batch)
			batch = batch[:0]
			return err
		}
		return nil
	})
	if err == nil {
		err = loader.Add(ctx, batch)
	}
	if err == nil {
		err = loader.Commit(ctx)
	}
	if err != nil {
		t.Fatal(err)
	}

	r := &Runner{Store: store, Rules: DefaultRules()}
	snap, err := r.Run(ctx, end)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Errors) != 0 {
		t.Fatalf("errors: %v", snap.Errors)
	}
	byKind := map[Kind]int{}
	byID := map[string]Prediction{}
	for _, p := range snap.Predictions {
		byKind[p.Kind]++
		if p.Error != "" {
			t.Errorf("%s: %s", p.ID, p.Error)
		}
		for _, s := range p.Series {
			byID[s] = p
		}
	}
	if byKind[KindDisk] == 0 || byKind[KindMemLeak] == 0 || byKind[KindMonthEnd] == 0 {
		t.Fatalf("predictions by kind: %v", byKind)
	}
	// urgency order: at-risk first, then by breach time
	seenCalm := false
	for _, p := range snap.Predictions {
		if !p.AtRisk {
			seenCalm = true
		} else if seenCalm {
			t.Fatalf("at-risk %s sorted after a calm prediction", p.ID)
		}
	}
	truth := f.GroundTruth()
	checked := 0
	for id, g := range truth {
		p, ok := byID[id]
		if !ok {
			continue
		}
		switch g.Kind {
		case datasets.KindMemLeak:
			checked++
			if p.Kind == KindMemLeak && p.Status != "leak" {
				t.Errorf("%s: a true leak got %q (%s)", id, p.Status, p.Summary)
			}
		case datasets.KindWarmup, datasets.KindLoadDriven:
			checked++
			if p.Kind == KindMemLeak && p.Status == "leak" {
				t.Errorf("%s: %s flagged as a leak (%s)", id, g.Kind, p.Summary)
			}
		case datasets.KindDiskStable:
			checked++
			if p.Kind == KindDisk && p.AtRisk {
				t.Errorf("%s: a stable disk is at risk (%s)", id, p.Summary)
			}
		case datasets.KindMonthEndLoad:
			if p.Kind == KindMonthEnd {
				checked++
				if p.Status == "insufficient_history" || !strings.Contains(p.Summary, "month-end load") {
					t.Errorf("%s: %s %s", id, p.Status, p.Summary)
				}
			}
		}
	}
	if checked < 5 {
		t.Fatalf("only %d predictions matched ground truth", checked)
	}

	// Kinds restricts a run to some predictors: the same answers as the
	// full run for those kinds, none of the others.
	only := &Runner{Store: store, Rules: DefaultRules(), Kinds: []Kind{KindDisk, KindMonthEnd}}
	part, err := only.Run(ctx, end)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, p := range snap.Predictions {
		if p.Kind != KindMemLeak {
			want[p.ID] = p.Summary
		}
	}
	if len(part.Predictions) != len(want) {
		t.Fatalf("disk+monthend run: %d predictions, want %d", len(part.Predictions), len(want))
	}
	for _, p := range part.Predictions {
		if s, ok := want[p.ID]; !ok || s != p.Summary {
			t.Errorf("disk+monthend run: %s %q, full run %q (present %v)", p.ID, p.Summary, s, ok)
		}
	}
}

func TestRulesValidate(t *testing.T) {
	r := DefaultRules()
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	r.Memory.Sources = append(r.Memory.Sources, MemorySource{Measurement: "m", MemoryField: "f", LoadMeasurement: "x"})
	if err := r.Validate(); err == nil || !strings.Contains(err.Error(), "memory.sources[3]") {
		t.Fatalf("%v", err)
	}
	if _, err := ParseKind("cpu"); err == nil {
		t.Fatal("bad kind accepted")
	}
}
