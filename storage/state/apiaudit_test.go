package state_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/seed-f1b503aa/foresight/storage/state"
)

func TestAPIAuditAppendList(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := open(t, b.config(t))

		recs := []state.APIAuditRecord{
			{At: t0, Actor: "alice", TokenID: 3, Role: "operator", Action: "ticket.transition", Method: "POST",
				Route: "/api/v1/tickets/:id/transition", Target: "ticket 42", Status: 200, Outcome: state.AuditOK,
				RequestID: "req-1", RemoteAddr: "10.0.0.5:51234", Detail: "reported → assigned"},
			{At: t0.Add(time.Minute), Actor: "grafana", TokenID: 4, Role: "viewer", Action: "job.trigger", Method: "POST",
				Route: "/api/v1/jobs/:name/run", Target: "job disk", Status: 403, Outcome: state.AuditDenied,
				RequestID: "req-2", RemoteAddr: "10.0.0.6:40000", Detail: "needs operator"},
			{At: t0.Add(2 * time.Minute), Actor: "anonymous", Action: "metrics.write", Method: "POST", Route: "/api/v2/write",
				Status: 503, Outcome: state.AuditError, RequestID: "req-3", Detail: "store unavailable"},
			// Same instant as the previous one: the later appended lists first.
			{At: t0.Add(2 * time.Minute), Actor: "alice", TokenID: 3, Role: "admin", Action: "token.create", Method: "POST",
				Route: "/api/v1/tokens", Target: "token 7", Status: 201, Outcome: state.AuditOK, RequestID: "req-4"},
			{At: t0.Add(time.Hour), Actor: "system", Action: "ticket.transition", Target: "ticket 43", Outcome: state.AuditOK},
		}
		for i := range recs {
			if err := s.AppendAPIAudit(ctx, &recs[i]); err != nil {
				t.Fatal(err)
			}
			if recs[i].ID == 0 {
				t.Fatalf("record %d: no id", i)
			}
		}
		show := func(rs []state.APIAuditRecord) string {
			var b strings.Builder
			for _, r := range rs {
				fmt.Fprintf(&b, "%+v\n", r)
			}
			return b.String()
		}
		pick := func(is ...int) []state.APIAuditRecord {
			var out []state.APIAuditRecord
			for _, i := range is {
				r := recs[i]
				r.At = r.At.Truncate(time.Microsecond)
				out = append(out, r)
			}
			return out
		}
		for _, c := range []struct {
			name string
			f    state.APIAuditFilter
			want []state.APIAuditRecord
		}{
			{"all, newest first", state.APIAuditFilter{}, pick(4, 3, 2, 1, 0)},
			{"since (inclusive)", state.APIAuditFilter{Since: t0.Add(time.Minute)}, pick(4, 3, 2, 1)},
			{"until (exclusive)", state.APIAuditFilter{Until: t0.Add(2 * time.Minute)}, pick(1, 0)},
			{"window", state.APIAuditFilter{Since: t0.Add(time.Second), Until: t0.Add(time.Hour)}, pick(3, 2, 1)},
			{"actor", state.APIAuditFilter{Actor: "alice"}, pick(3, 0)},
			{"action", state.APIAuditFilter{Action: "ticket.transition"}, pick(4, 0)},
			{"outcome", state.APIAuditFilter{Outcome: state.AuditDenied}, pick(1)},
			{"actor and action", state.APIAuditFilter{Actor: "alice", Action: "token.create"}, pick(3)},
			{"no match", state.APIAuditFilter{Actor: "mallory"}, nil},
			{"limit", state.APIAuditFilter{Limit: 2}, pick(4, 3)},
			{"limit and offset", state.APIAuditFilter{Limit: 2, Offset: 2}, pick(2, 1)},
			{"offset past the end", state.APIAuditFilter{Offset: 10}, nil},
		} {
			got, err := s.ListAPIAudit(ctx, c.f)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if show(got) != show(c.want) {
				t.Errorf("%s:\n got\n%s want\n%s", c.name, show(got), show(c.want))
			}
		}
		if _, err := s.ListAPIAudit(ctx, state.APIAuditFilter{Since: t0, Until: t0}); !errors.Is(err, state.ErrInvalidArgument) {
			t.Errorf("until not after since: %v", err)
		}

		// At defaults to now.
		before := time.Now().UTC().Truncate(time.Microsecond)
		now := state.APIAuditRecord{Actor: "system", Action: "token.revoke", Target: "token 7", Outcome: state.AuditOK}
		if err := s.AppendAPIAudit(ctx, &now); err != nil {
			t.Fatal(err)
		}
		if now.At.Before(before) || now.At.After(time.Now()) || now.At.Location() != time.UTC {
			t.Errorf("default At %v, want now in UTC", now.At)
		}
		latest, err := s.ListAPIAudit(ctx, state.APIAuditFilter{Limit: 1})
		if err != nil || show(latest) != show([]state.APIAuditRecord{now}) {
			t.Errorf("latest = %s, %v; want %+v", show(latest), err, now)
		}

		// Incomplete records are refused.
		for _, bad := range []state.APIAuditRecord{
			{Action: "ticket.transition", Outcome: state.AuditOK},
			{Actor: "alice", Outcome: state.AuditOK},
			{Actor: "alice", Action: "ticket.transition"},
			{Actor: "alice", Action: "ticket.transition", Outcome: "success"},
		} {
			if err := s.AppendAPIAudit(ctx, &bad); !errors.Is(err, state.ErrInvalidArgument) || bad.ID != 0 {
				t.Errorf("AppendAPIAudit(%+v) = %v, want ErrInvalidArgument", bad, err)
			}
		}
	})
}

func TestAPIAuditRedactsSecrets(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := open(t, b.config(t))
		secret, tok, err := s.CreateToken(ctx, "leaky", state.RoleAdmin, "alice", nil)
		if err != nil {
			t.Fatal(err)
		}
		rec := state.APIAuditRecord{At: t0, Actor: "alice", Action: "token.create", Outcome: state.AuditOK,
			Target: "token " + secret, Detail: "created " + secret + ", prefix " + tok.Prefix + "; " + strings.Repeat("é", 600)}
		if err := s.AppendAPIAudit(ctx, &rec); err != nil {
			t.Fatal(err)
		}
		got, err := s.ListAPIAudit(ctx, state.APIAuditFilter{})
		if err != nil || len(got) != 1 {
			t.Fatalf("ListAPIAudit = %+v, %v", got, err)
		}
		if got[0].Target != "token "+tok.Prefix+"…" {
			t.Errorf("Target %q, want the secret cut to its prefix", got[0].Target)
		}
		wantDetail := "created " + tok.Prefix + "…, prefix " + tok.Prefix + "; "
		if !strings.HasPrefix(got[0].Detail, wantDetail) || strings.Contains(got[0].Detail, secret[12:]) {
			t.Errorf("Detail %q, want it to start %q", got[0].Detail, wantDetail)
		}
		// Cut to 1 KiB on a character boundary.
		if n := len(got[0].Detail); n > 1024 || n < 1023 || !strings.HasSuffix(got[0].Detail, "é") {
			t.Errorf("Detail is %d bytes ending %q; want 1023–1024 ending in a whole é", n, got[0].Detail[n-2:])
		}
		if got[0].Detail != rec.Detail || got[0].Target != rec.Target {
			t.Error("AppendAPIAudit did not leave the stored Target and Detail in the record")
		}
	})
}

func TestAPIAuditPurge(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := open(t, b.config(t))
		for i := range 5 {
			rec := state.APIAuditRecord{At: t0.Add(time.Duration(i) * 24 * time.Hour), Actor: "alice",
				Action: "ticket.transition", Outcome: state.AuditOK, Target: fmt.Sprint("ticket ", i)}
			if err := s.AppendAPIAudit(ctx, &rec); err != nil {
				t.Fatal(err)
			}
		}
		// The ticket audit log is a different table: untouched by the purge.
		tk := ticket("fp", "disk_full", "minor", `{}`, t0)
		insert(t, s, &tk)
		err := s.InTx(ctx, func(tx *state.Tx) error {
			return tx.AppendAudit(ctx, &state.AuditRecord{TicketID: tk.ID, Version: 1, At: t0, Actor: "engine", Action: "open"})
		})
		if err != nil {
			t.Fatal(err)
		}
		n, err := s.PurgeAPIAudit(ctx, t0.Add(2*24*time.Hour))
		if err != nil || n != 2 {
			t.Errorf("PurgeAPIAudit = %d, %v; want 2", n, err)
		}
		left, err := s.ListAPIAudit(ctx, state.APIAuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var targets []string
		for _, r := range left {
			targets = append(targets, r.Target)
		}
		if got := strings.Join(targets, ","); got != "ticket 4,ticket 3,ticket 2" {
			t.Errorf("left after purge: %s", got)
		}
		if n, err := s.PurgeAPIAudit(ctx, t0.Add(2*24*time.Hour)); err != nil || n != 0 {
			t.Errorf("second purge = %d, %v; want 0", n, err)
		}
		if _, err := s.PurgeAPIAudit(ctx, time.Time{}); err == nil {
			t.Error("PurgeAPIAudit accepted a zero cutoff")
		}
		if hist, err := s.TicketHistory(ctx, tk.ID); err != nil || len(hist) != 1 {
			t.Errorf("ticket history after the API audit purge = %+v, %v", hist, err)
		}
	})
}
