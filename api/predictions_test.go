package api

import (
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/seed-f1b503aa/foresight/engine/fleet"
)

func TestPredictionsEndpoint(t *testing.T) {
	soon := testNow.Add(48 * time.Hour)
	snap := fleet.Snapshot{ComputedAt: testNow.Add(-time.Minute), Predictions: []fleet.Prediction{
		{Kind: fleet.KindDisk, ID: "d1", Entity: map[string]string{"host": "db-01", "path": "/data"}, Status: "filling", AtRisk: true, BreachAt: &soon},
		{Kind: fleet.KindMemLeak, ID: "m1", Entity: map[string]string{"host": "app-01", "service": "gl"}, Status: "stable"},
		{Kind: fleet.KindDisk, ID: "d2", Entity: map[string]string{"host": "app-01", "path": "/"}, Status: "stable"},
	}}
	var ready bool
	srv := New(Options{Store: nil, Now: func() time.Time { return testNow }, Predictions: func() (fleet.Snapshot, error) {
		if !ready {
			return fleet.Snapshot{}, fleet.ErrNoSnapshot
		}
		return snap, nil
	}})
	get := func(q string) (int, map[string]any) {
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/predictions"+q, nil))
		var body map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		return rec.Code, body
	}
	if code, _ := get(""); code != 503 {
		t.Fatalf("before the first run: %d", code)
	}
	ready = true
	cases := []struct {
		q    string
		code int
		ids  []string
	}{
		{"", 200, []string{"d1", "m1", "d2"}},
		{"?kind=disk", 200, []string{"d1", "d2"}},
		{"?host=app-01", 200, []string{"m1", "d2"}},
		{"?tag=path:/data", 200, []string{"d1"}},
		{"?at_risk=true", 200, []string{"d1"}},
		{"?status=stable&kind=memleak", 200, []string{"m1"}},
		{"?limit=1&offset=1", 200, []string{"m1"}},
		{"?kind=cpu", 400, nil},
		{"?at_risk=maybe", 400, nil},
		{"?tag=nocolon", 400, nil},
	}
	for _, c := range cases {
		code, body := get(c.q)
		if code != c.code {
			t.Errorf("%s: %d %v", c.q, code, body)
			continue
		}
		if code != 200 {
			continue
		}
		preds, _ := body["predictions"].([]any)
		if len(preds) != len(c.ids) {
			t.Errorf("%s: %d predictions, want %v", c.q, len(preds), c.ids)
			continue
		}
		for i, p := range preds {
			if id := p.(map[string]any)["id"]; id != c.ids[i] {
				t.Errorf("%s: [%d] = %v, want %s", c.q, i, id, c.ids[i])
			}
		}
		if body["age_seconds"].(float64) != 60 {
			t.Errorf("age %v", body["age_seconds"])
		}
	}
}
