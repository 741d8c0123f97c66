package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seed-f1b503aa/foresight/engine/fleet"
	"github.com/seed-f1b503aa/foresight/engine/ticket"
	"github.com/seed-f1b503aa/foresight/incident"
	"github.com/seed-f1b503aa/foresight/notify"
	"github.com/seed-f1b503aa/foresight/storage/state"
)

func TestTicketRoutesAndInboundHook(t *testing.T) {
	ctx := context.Background()
	st, err := state.Open(ctx, state.Config{Driver: "sqlite", Path: filepath.Join(t.TempDir(), "s.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(ctx)
	router, err := notify.NewRouter(notify.Config{Targets: []notify.Target{{Name: "chat", Format: notify.FormatSlack, URL: "http://127.0.0.1:9/x"}}})
	if err != nil {
		t.Fatal(err)
	}
	svc := &incident.Service{Store: st, Policy: ticket.DefaultPolicy(), Targets: router}
	breach := testNow.Add(30 * time.Hour)
	_, err = svc.Process(ctx, fleet.Snapshot{Predictions: []fleet.Prediction{{Kind: fleet.KindDisk, ID: "d", Entity: map[string]string{"host": "db-01", "path": "/data"},
		Status: "filling", AtRisk: true, Confidence: 0.9, BreachAt: &breach, Summary: "disk /data on db-01 full in 1.3 days"}}}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	srv := New(Options{Store: nil, State: st, Incidents: svc, InboundSecret: "hook-secret", Now: func() time.Time { return testNow }})
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()

	resp, b := do(t, "GET", ts.URL+"/api/v1/tickets?state=reported&tag=host:db-01", nil, nil)
	var list struct {
		Tickets []struct {
			RowID       int64  `json:"row_id"`
			ID          string `json:"id"`
			Fingerprint string `json:"fingerprint"`
			Severity    string `json:"severity"`
			SLA         struct {
				RespondBy time.Time `json:"respond_by"`
			} `json:"sla"`
		} `json:"tickets"`
	}
	if err := json.Unmarshal(b, &list); err != nil || resp.StatusCode != 200 || len(list.Tickets) != 1 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	tk := list.Tickets[0]
	if tk.Severity != "major" || !tk.SLA.RespondBy.Equal(testNow.Add(2*time.Hour)) {
		t.Fatalf("ticket %+v", tk)
	}
	id := strconv.FormatInt(tk.RowID, 10)
	for _, c := range []struct {
		method, path, body string
		status             int
	}{
		{"GET", "/api/v1/tickets/" + id, "", 200},
		{"GET", "/api/v1/tickets/999", "", 404},
		{"GET", "/api/v1/tickets/abc", "", 400},
		{"GET", "/api/v1/tickets?state=bogus", "", 400},
		{"GET", "/api/v1/tickets?sort=title", "", 400},
		{"POST", "/api/v1/tickets/" + id + "/transition", `{"to":"assigned","actor":"alice"}`, 200},
		{"POST", "/api/v1/tickets/" + id + "/transition", `{"to":"closed","actor":"alice"}`, 409},
		{"POST", "/api/v1/tickets/" + id + "/transition", `{"to":"in_progress"}`, 400},
		{"POST", "/api/v1/tickets/" + id + "/transition", `{"to":"nowhere","actor":"a"}`, 400},
		{"GET", "/api/v1/tickets/" + id + "/history", "", 200},
		{"GET", "/api/v1/deliveries/dead", "", 200},
		{"POST", "/api/v1/deliveries/12345/retry", "", 404},
	} {
		resp, b := do(t, c.method, ts.URL+c.path, strings.NewReader(c.body), nil)
		if resp.StatusCode != c.status {
			t.Errorf("%s %s %s: %d %s", c.method, c.path, c.body, resp.StatusCode, b)
		}
	}
	// the inbound hook: signed like the generic webhook
	hook := func(body string, sign bool, secret string) int {
		h := map[string]string{}
		if sign {
			ts := strconv.FormatInt(testNow.Unix(), 10)
			h["X-Foresight-Timestamp"] = ts
			h["X-Foresight-Signature"] = notify.Sign(secret, ts, []byte(body))
		}
		resp, _ := do(t, "POST", ts.URL+"/api/v1/hooks/tickets", strings.NewReader(body), h)
		return resp.StatusCode
	}
	body := fmt.Sprintf(`{"fingerprint":%q,"to":"in_progress","actor":"itsm:bob","reason":"change CHG0042"}`, tk.Fingerprint)
	if code := hook(body, false, ""); code != 401 {
		t.Errorf("unsigned: %d", code)
	}
	if code := hook(body, true, "wrong"); code != 401 {
		t.Errorf("bad signature: %d", code)
	}
	if code := hook(body, true, "hook-secret"); code != 200 {
		t.Errorf("signed: %d", code)
	}
	if code := hook(`{"fingerprint":"disk:nope","to":"verified"}`, true, "hook-secret"); code != 404 {
		t.Errorf("unknown fingerprint: %d", code)
	}
	if code := hook(fmt.Sprintf(`{"ticket_id":%q,"to":"verified","actor":"itsm:bob"}`, tk.ID), true, "hook-secret"); code != 200 {
		t.Errorf("by ticket id: %d", code)
	}
	resp, b = do(t, "GET", ts.URL+"/api/v1/tickets/"+id+"/history", nil, nil)
	if !strings.Contains(string(b), "itsm:bob") || !strings.Contains(string(b), `"to":"verified"`) {
		t.Fatalf("history %d %s", resp.StatusCode, b)
	}
	// without a secret the hook is off
	off := New(Options{State: st, Incidents: svc})
	rec := httptest.NewRecorder()
	off.Handler().ServeHTTP(rec, httptest.NewRequest("POST", "/api/v1/hooks/tickets", strings.NewReader(body)))
	if rec.Code != http.StatusNotFound {
		t.Fatalf("hook without secret: %d", rec.Code)
	}
}
