package api

import (
	"context"
	"encoding/base64"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/seed-f1b503aa/foresight/engine/fleet"
	"github.com/seed-f1b503aa/foresight/engine/ticket"
	"github.com/seed-f1b503aa/foresight/incident"
	"github.com/seed-f1b503aa/foresight/notify"
	"github.com/seed-f1b503aa/foresight/storage/state"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func mapValues[K comparable, V any](m map[K]V) []V {
	out := make([]V, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// seedTicket opens one disk ticket through the real ticket rules and
// returns its row id.
func seedTicket(t *testing.T, st *state.Store) int64 {
	t.Helper()
	ctx := context.Background()
	router, err := notify.NewRouter(notify.Config{})
	if err != nil {
		t.Fatal(err)
	}
	svc := &incident.Service{Store: st, Policy: ticket.DefaultPolicy(), Targets: router}
	breach := testNow.Add(30 * time.Hour)
	if _, err := svc.Process(ctx, fleet.Snapshot{Predictions: []fleet.Prediction{{Kind: fleet.KindDisk, ID: "d", Entity: map[string]string{"host": "db-01", "path": "/data"},
		Status: "filling", AtRisk: true, Confidence: 0.9, BreachAt: &breach, Summary: "disk /data on db-01 full in 1.3 days"}}}, testNow); err != nil {
		t.Fatal(err)
	}
	recs, err := st.ListTickets(ctx, state.TicketFilter{Limit: 1})
	if err != nil || len(recs) != 1 {
		t.Fatalf("%v %d", err, len(recs))
	}
	return recs[0].ID
}

// newOpenServer serves srv on loopback and returns its URL.
func newOpenServer(t *testing.T, srv *Server) string {
	t.Helper()
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts.URL
}
