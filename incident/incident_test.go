package incident

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/seed-f1b503aa/foresight/engine/fleet"
	"github.com/seed-f1b503aa/foresight/engine/ticket"
	"github.com/seed-f1b503aa/foresight/notify"
	"github.com/seed-f1b503aa/foresight/storage/state"
)

// receiver is a real HTTP endpoint that records deliveries; it fails the
// first failFirst requests with 503 to exercise retries.
type receiver struct {
	mu        sync.Mutex
	got       map[string][]map[string]any // path → bodies
	failFirst int
	seen      int
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen++
	if r.seen <= r.failFirst {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	var m map[string]any
	_ = json.Unmarshal(body, &m)
	m["_idempotency_key"] = req.Header.Get("Idempotency-Key")
	r.got[req.URL.Path] = append(r.got[req.URL.Path], m)
	if strings.HasPrefix(req.URL.Path, "/slack") {
		_, _ = w.Write([]byte("ok"))
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (r *receiver) count(path string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got[path])
}

func TestTicketsThroughOutboxToWebhooks(t *testing.T) {
	ctx := context.Background()
	store, err := state.Open(ctx, state.Config{Driver: "sqlite", Path: filepath.Join(t.TempDir(), "state.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close(ctx)
	rec := &receiver{got: map[string][]map[string]any{}, failFirst: 2}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	router, err := notify.NewRouter(notify.Config{Targets: []notify.Target{
		{Name: "chat", Format: notify.FormatSlack, URL: srv.URL + "/slack"},
		{Name: "sms", Format: notify.FormatJSON, URL: srv.URL + "/sms", Secret: "s3cret"},
		{Name: "email", Format: notify.FormatAlertmanager, URL: srv.URL + "/am"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	policy := ticket.DefaultPolicy()
	policy.ClearFor = 0 // the runs here are minutes apart
	svc := &Service{Store: store, Policy: policy, Targets: router, BaseURL: "http://foresight.test"}

	workers := river.NewWorkers()
	river.AddWorker(workers, &DeliveryWorker{Targets: router, Client: srv.Client(), BaseBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
	runner, err := store.NewRunner(state.RunnerConfig{Workers: workers, FetchPollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := runner.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer runner.Stop(ctx)

	now := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { x := now.Add(d); return &x }
	diskAtRisk := fleet.Prediction{Kind: fleet.KindDisk, ID: "disk:disk,host=db-01,path=/data", Entity: map[string]string{"host": "db-01", "path": "/data"},
		Series: []string{"disk,host=db-01,path=/data#used"}, Status: "filling", AtRisk: true, Confidence: 0.9,
		BreachAt: at(20 * time.Hour), BreachP10: at(18 * time.Hour), BreachP90: at(23 * time.Hour), Summary: "disk /data on db-01 full in 20 hours (0.8–1.0)"}
	memCalm := fleet.Prediction{Kind: fleet.KindMemLeak, ID: "memleak:x", Entity: map[string]string{"host": "app-01", "service": "gl"}, Status: "stable", Confidence: 0.9, Summary: "memory of gl on app-01: stable"}
	snap := fleet.Snapshot{ComputedAt: now, Predictions: []fleet.Prediction{diskAtRisk, memCalm}}

	sum, err := svc.Process(ctx, snap, now)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Opened != 1 || sum.Deliveries != 2 { // critical → chat + sms
		t.Fatalf("first run: %+v", sum)
	}
	// the same risk again: updated at most, never a second ticket
	if _, err := svc.Process(ctx, snap, now.Add(15*time.Minute)); err != nil {
		t.Fatal(err)
	}
	recs, err := store.ListTickets(ctx, state.TicketFilter{})
	if err != nil || len(recs) != 1 {
		t.Fatalf("tickets after two runs: %d %v", len(recs), err)
	}
	// the disk is cleaned: clear for three runs → auto-resolved
	cleared := diskAtRisk
	cleared.AtRisk, cleared.Status, cleared.BreachAt, cleared.BreachP10, cleared.BreachP90 = false, "stable", nil, nil, nil
	for i := 1; i <= 3; i++ {
		if _, err := svc.Process(ctx, fleet.Snapshot{Predictions: []fleet.Prediction{cleared, memCalm}}, now.Add(time.Duration(i)*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	tk, err := FromRecord(mustGet(t, store, recs[0].ID))
	if err != nil {
		t.Fatal(err)
	}
	if tk.State != ticket.StateAutoResolved || !strings.Contains(tk.ResolveReason, "3 consecutive") {
		t.Fatalf("after three clear runs: %s %q", tk.State, tk.ResolveReason)
	}
	// a person closes it through the API path
	if _, err := svc.Transition(ctx, recs[0].ID, ticket.StateClosed, "alice", "volume cleaned", now.Add(4*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Transition(ctx, recs[0].ID, ticket.StateInProgress, "alice", "", now.Add(5*time.Hour)); err == nil {
		t.Fatal("closed → in_progress allowed")
	}

	// every event reaches its targets, at least once, despite the 503s
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) && (rec.count("/sms") < 3 || rec.count("/slack") < 3) {
		time.Sleep(50 * time.Millisecond)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var events []string
	keys := map[string]bool{}
	for _, b := range rec.got["/sms"] {
		events = append(events, b["event"].(string))
		k := b["_idempotency_key"].(string)
		if keys[k] {
			t.Errorf("idempotency key %s delivered twice to one target", k)
		}
		keys[k] = true
	}
	sort.Strings(events)
	if strings.Join(events, ",") != "ticket.closed,ticket.opened,ticket.resolved" {
		t.Fatalf("generic JSON events: %v", events)
	}
	if len(rec.got["/slack"]) != 3 {
		t.Fatalf("slack deliveries: %d", len(rec.got["/slack"]))
	}
	history, err := store.TicketHistory(ctx, recs[0].ID)
	if err != nil || len(history) < 4 {
		t.Fatalf("audit history: %d %v", len(history), err)
	}
}

func mustGet(t *testing.T, s *state.Store, id int64) state.TicketRecord {
	t.Helper()
	r, err := s.GetTicket(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestExpiredDeliveriesAreDeadLettered: a delivery older than the maximum
// age is given up without being sent and shows among the dead letters.
func TestExpiredDeliveriesAreDeadLettered(t *testing.T) {
	ctx := context.Background()
	store, err := state.Open(ctx, state.Config{Driver: "sqlite", Path: filepath.Join(t.TempDir(), "state.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close(ctx)
	var mu sync.Mutex
	hits := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[r.URL.Path]++
		mu.Unlock()
		w.WriteHeader(http.StatusBadRequest)
	}))
	defer srv.Close()
	router, err := notify.NewRouter(notify.Config{Targets: []notify.Target{
		{Name: "chat", Format: notify.FormatAlertmanager, URL: srv.URL + "/chat"},
		{Name: "sms", Format: notify.FormatAlertmanager, URL: srv.URL + "/sms"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	svc := &Service{Store: store, Policy: ticket.DefaultPolicy(), Targets: router}
	now := time.Now().UTC()
	breach := now.Add(5 * time.Hour)
	if _, err := svc.Process(ctx, fleet.Snapshot{Predictions: []fleet.Prediction{{Kind: fleet.KindDisk, ID: "d", Entity: map[string]string{"host": "h"},
		Status: "filling", AtRisk: true, Confidence: 0.9, BreachAt: &breach, Summary: "disk on h full in 5 hours"}}}, now); err != nil {
		t.Fatal(err)
	}
	// every delivery is past its maximum age (1 ns) by the time the worker runs
	workers := river.NewWorkers()
	river.AddWorker(workers, &DeliveryWorker{Targets: router, Client: srv.Client(), MaxAge: time.Nanosecond})
	runner, err := store.NewRunner(state.RunnerConfig{Workers: workers, FetchPollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := runner.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer runner.Stop(ctx)
	deadline := time.Now().Add(15 * time.Second)
	var dead []state.DeadLetter
	for time.Now().Before(deadline) {
		if dead, err = store.DeadLetters(ctx, 10); err == nil && len(dead) == 2 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(dead) != 2 {
		t.Fatalf("dead letters: %+v (%v)", dead, err)
	}
	for _, d := range dead {
		if d.Attempts != 1 || len(d.Errors) == 0 || !strings.Contains(d.Errors[len(d.Errors)-1], "maximum age") {
			t.Errorf("dead letter %+v", d)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(hits) != 0 {
		t.Fatalf("expired deliveries were sent: %v", hits)
	}
}
