package state_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/seed-f1b503aa/foresight/storage/state"
)

// hostile are values built to escape SQL string literals, comments,
// identifiers and JSON paths.
var hostile = []string{
	`x' OR '1'='1`,
	`x"; DROP TABLE tickets; --`,
	`'); DELETE FROM api_tokens; --`,
	`\' OR 1=1 --`,
	`$.host`,
	`%`,
	`_`,
	"x\x00y",
	`{"host":"db-01"}`,
	`é漢字`,
}

// TestHostileFilterValues: filter values and stored strings never change a
// query: a filter with a hostile value matches exactly the rows holding
// that value, nothing is deleted, and the values round-trip unchanged.
func TestHostileFilterValues(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := open(t, b.config(t))
		at := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
		plain := ticket("plain", "disk", "minor", `{"host":"db-01"}`, at)
		insert(t, s, &plain)
		for i, v := range hostile {
			if v == "x\x00y" && b.name == "postgres" {
				continue // PostgreSQL text cannot hold NUL; refused by the driver, tested below
			}
			ent, _ := json.Marshal(map[string]string{"host": v})
			rec := ticket("fp-"+string(rune('a'+i)), "disk", "minor", string(ent), at)
			rec.Title = v
			insert(t, s, &rec)
		}
		for i, v := range hostile {
			if v == "x\x00y" && b.name == "postgres" {
				continue
			}
			got, err := s.ListTickets(ctx, state.TicketFilter{EntityTags: map[string]string{"host": v}, Limit: 1000})
			if err != nil {
				t.Fatalf("%q: %v", v, err)
			}
			if len(got) != 1 || got[0].Fingerprint != "fp-"+string(rune('a'+i)) || got[0].Title != v {
				t.Fatalf("filter host=%q matched %d tickets", v, len(got))
			}
			got, err = s.ListTickets(ctx, state.TicketFilter{Fingerprint: v, Kinds: []string{v}, States: []string{v}, Severities: []string{v}})
			if err != nil || len(got) != 0 {
				t.Fatalf("hostile fingerprint/kind/state %q: %v %d", v, err, len(got))
			}
			if _, err := s.ListRuns(ctx, v, 10); err != nil {
				t.Fatalf("runs of %q: %v", v, err)
			}
			if _, err := s.ListAPIAudit(ctx, state.APIAuditFilter{Actor: v, Action: v}); err != nil {
				t.Fatalf("audit of %q: %v", v, err)
			}
		}
		for _, sort := range []string{"title; DROP TABLE tickets", "-id,state", "id--"} {
			if _, err := s.ListTickets(ctx, state.TicketFilter{Sort: sort}); err == nil {
				t.Fatalf("sort %q accepted", sort)
			}
		}
		all, err := s.ListTickets(ctx, state.TicketFilter{Limit: 1000})
		want := len(hostile) + 1
		if b.name == "postgres" {
			want--
		}
		if err != nil || len(all) != want {
			t.Fatalf("tickets after the hostile queries: %d, want %d (%v)", len(all), want, err)
		}
		if b.name == "postgres" {
			rec := ticket("nul", "disk", "minor", `{"host":"a"}`, at)
			rec.Title = "x\x00y"
			if err := s.InTx(ctx, func(tx *state.Tx) error { return tx.InsertTicket(ctx, &rec) }); err == nil {
				t.Fatal("a NUL byte was stored in PostgreSQL text")
			}
		}
	})
}
