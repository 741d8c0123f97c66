package api

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seed-f1b503aa/foresight/config"
	"github.com/seed-f1b503aa/foresight/engine/fleet"
	"github.com/seed-f1b503aa/foresight/jobs"
	"github.com/seed-f1b503aa/foresight/storage/embedded"
	"github.com/seed-f1b503aa/foresight/storage/state"
)

// TestJobRoutes runs a real predict job through the API: trigger, runs,
// job status, and the predictions it produced with their freshness and
// ETag.
func TestJobRoutes(t *testing.T) {
	ctx := context.Background()
	store, err := embedded.Open(t.TempDir(), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	st, err := state.Open(ctx, state.Config{Driver: "sqlite", Path: filepath.Join(t.TempDir(), "s.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close(ctx) })

	// 14 days at 15 min of a volume filling from 50% to 85% of 1000 GB.
	var lpb strings.Builder
	n := 14 * 96
	for i := 0; i < n; i++ {
		tm := testNow.Add(-time.Duration(n-i) * 15 * time.Minute)
		fmt.Fprintf(&lpb, "disk,host=db-01,path=/data used=%di,total=1000000000000i %d\n", int64(500e9+35e9*float64(i)/float64(n)*10/10), tm.Unix())
	}
	ts := newOpenServer(t, New(Options{Store: store}))
	if resp, b := do(t, "POST", ts+"/api/v2/write?precision=s", strings.NewReader(lpb.String()), nil); resp.StatusCode != 204 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}

	now := func() time.Time { return testNow }
	svc, err := jobs.New(jobs.Options{Store: store, State: st, Rules: fleet.DefaultRules(), Now: now,
		Config: config.JobsConfig{Run: []config.JobSpec{{Name: "disk", Type: "predict", Kinds: []string{"disk"}, Schedule: "*/15 * * * *"}}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := New(Options{Store: store, State: st, Jobs: svc, Now: now})
	u := newOpenServer(t, srv)

	if resp, b := do(t, "GET", u+"/api/v1/predictions", nil, nil); resp.StatusCode != 503 || !strings.Contains(string(b), "not computed yet") {
		t.Fatalf("before the first run: %d %s", resp.StatusCode, b)
	}
	resp, b := do(t, "POST", u+"/api/v1/jobs/disk/trigger", nil, nil)
	var tr struct {
		Job   string `json:"job"`
		RunID int64  `json:"run_id"`
	}
	if err := json.Unmarshal(b, &tr); err != nil || resp.StatusCode != 202 || tr.Job != "disk" || tr.RunID <= 0 {
		t.Fatalf("trigger: %d %s", resp.StatusCode, b)
	}
	if resp, _ := do(t, "POST", u+"/api/v1/jobs/nope/trigger", nil, nil); resp.StatusCode != 404 {
		t.Fatalf("unknown job: %d", resp.StatusCode)
	}
	// Wait for the run to finish (bounded).
	var runs struct {
		Runs []struct {
			ID      int64  `json:"id"`
			Running bool   `json:"running"`
			Series  int    `json:"series"`
			Error   string `json:"error"`
		} `json:"runs"`
	}
	for i := 0; i < 600; i++ {
		_, b = do(t, "GET", u+"/api/v1/jobs/disk/runs", nil, nil)
		if err := json.Unmarshal(b, &runs); err != nil {
			t.Fatal(err)
		}
		if len(runs.Runs) == 1 && !runs.Runs[0].Running {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(runs.Runs) != 1 || runs.Runs[0].Running || runs.Runs[0].ID != tr.RunID || runs.Runs[0].Series != 1 || runs.Runs[0].Error != "" {
		t.Fatalf("runs %s", b)
	}

	resp, b = do(t, "GET", u+"/api/v1/jobs", nil, nil)
	var list struct {
		Jobs []struct {
			Name    string `json:"name"`
			LastRun struct {
				ID      int64 `json:"id"`
				Running bool  `json:"running"`
			} `json:"last_run"`
		} `json:"jobs"`
	}
	if err := json.Unmarshal(b, &list); err != nil || resp.StatusCode != 200 || len(list.Jobs) != 1 || list.Jobs[0].LastRun.ID != tr.RunID {
		t.Fatalf("jobs: %d %s", resp.StatusCode, b)
	}
	if resp, _ := do(t, "GET", u+"/api/v1/jobs/nope", nil, nil); resp.StatusCode != 404 {
		t.Fatalf("unknown job: %d", resp.StatusCode)
	}

	resp, b = do(t, "GET", u+"/api/v1/predictions?kind=disk", nil, nil)
	var preds struct {
		Stale       bool `json:"stale"`
		Jobs        []jobs.Freshness
		Predictions []fleet.Prediction `json:"predictions"`
	}
	if err := json.Unmarshal(b, &preds); err != nil || resp.StatusCode != 200 || len(preds.Predictions) != 1 || len(preds.Jobs) != 1 || preds.Jobs[0].Job != "disk" {
		t.Fatalf("predictions: %d %s", resp.StatusCode, b)
	}
	p := preds.Predictions[0]
	if p.Kind != fleet.KindDisk || p.Entity["path"] != "/data" || p.Error != "" {
		t.Fatalf("prediction %+v", p)
	}
	etag := resp.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	if resp, _ := do(t, "GET", u+"/api/v1/predictions?kind=disk", nil, map[string]string{"If-None-Match": etag}); resp.StatusCode != 304 {
		t.Fatalf("If-None-Match: %d", resp.StatusCode)
	}
	resp, b = do(t, "GET", u+"/api/v1/predictions/"+strings.ReplaceAll(p.ID, "/", "%2F"), nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"detail"`) {
		t.Fatalf("one prediction: %d %s", resp.StatusCode, b)
	}
	if resp, _ := do(t, "GET", u+"/api/v1/predictions/nope", nil, nil); resp.StatusCode != 404 {
		t.Fatalf("missing prediction: %d", resp.StatusCode)
	}
}
