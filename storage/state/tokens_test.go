package state_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/seed-f1b503aa/foresight/storage/state"
)

// rawTokenRows reads every row of api_tokens straight from the database,
// each column printed, to check what is (and is not) stored.
func rawTokenRows(t *testing.T, cfg state.Config) []map[string]string {
	t.Helper()
	ctx := context.Background()
	const q = "SELECT * FROM api_tokens ORDER BY id"
	var out []map[string]string
	if cfg.Driver == state.DriverPostgres {
		conn, err := pgx.Connect(ctx, cfg.DSN)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "SET search_path TO "+cfg.Schema); err != nil {
			t.Fatal(err)
		}
		rows, err := conn.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				t.Fatal(err)
			}
			m := map[string]string{}
			for i, f := range rows.FieldDescriptions() {
				m[f.Name] = fmt.Sprint(vals[i])
			}
			out = append(out, m)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	db, err := sql.Open("sqlite", state.SQLiteDSN(cfg.Path))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for i, c := range cols {
			m[c] = fmt.Sprint(vals[i])
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func ptr(t time.Time) *time.Time { return &t }

// sameToken compares two token records field by field, pointers by value.
func sameToken(t *testing.T, what string, got, want state.TokenRecord) {
	t.Helper()
	show := func(r state.TokenRecord) string {
		p := func(x *time.Time) string {
			if x == nil {
				return "nil"
			}
			return x.Format(time.RFC3339Nano) + "/" + x.Location().String()
		}
		return fmt.Sprintf("{ID:%d Name:%s Role:%s Prefix:%s CreatedAt:%s CreatedBy:%s ExpiresAt:%s LastUsedAt:%s RevokedAt:%s RevokedBy:%s}",
			r.ID, r.Name, r.Role, r.Prefix, p(&r.CreatedAt), r.CreatedBy, p(r.ExpiresAt), p(r.LastUsedAt), p(r.RevokedAt), r.RevokedBy)
	}
	if show(got) != show(want) {
		t.Errorf("%s:\n got  %s\n want %s", what, show(got), show(want))
	}
}

func TestTokensCreateLookup(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		cfg := b.config(t)
		s := open(t, cfg)

		before := time.Now().UTC().Truncate(time.Microsecond)
		secret, rec, err := s.CreateToken(ctx, "telegraf-dc1", state.RoleIngest, "alice", nil)
		after := time.Now()
		if err != nil {
			t.Fatal(err)
		}
		// The secret: "fst_" + 32 random bytes in unpadded base64url.
		if !strings.HasPrefix(secret, "fst_") || len(secret) != 47 {
			t.Fatalf("secret %q: want fst_ and 43 characters", secret)
		}
		raw, err := base64.RawURLEncoding.DecodeString(secret[4:])
		if err != nil || len(raw) != 32 {
			t.Fatalf("secret body decodes to %d bytes, %v", len(raw), err)
		}
		if rec.ID == 0 || rec.Name != "telegraf-dc1" || rec.Role != state.RoleIngest || rec.CreatedBy != "alice" ||
			rec.Prefix != secret[:12] || rec.ExpiresAt != nil || rec.LastUsedAt != nil || rec.RevokedAt != nil {
			t.Errorf("created record %+v", rec)
		}
		if rec.CreatedAt.Before(before) || rec.CreatedAt.After(after) || rec.CreatedAt.Location() != time.UTC ||
			rec.CreatedAt.Nanosecond()%1000 != 0 {
			t.Errorf("CreatedAt %v: want UTC at µs precision between %v and %v", rec.CreatedAt, before, after)
		}
		exp := time.Now().Add(90 * 24 * time.Hour)
		secret2, rec2, err := s.CreateToken(ctx, "grafana", state.RoleViewer, "bob", &exp)
		if err != nil {
			t.Fatal(err)
		}
		if secret2 == secret || rec2.ID == rec.ID || rec2.ExpiresAt == nil || !rec2.ExpiresAt.Equal(exp.Truncate(time.Microsecond)) {
			t.Errorf("second token %+v (expires %v)", rec2, rec2.ExpiresAt)
		}

		// Only the SHA-256 of each secret is stored, nothing of the rest of it.
		rows := rawTokenRows(t, cfg)
		if len(rows) != 2 {
			t.Fatalf("%d stored tokens, want 2", len(rows))
		}
		for i, sec := range []string{secret, secret2} {
			if rows[i]["token_hash"] != sha256Hex(sec) {
				t.Errorf("token_hash %q, want the SHA-256 of the secret %q", rows[i]["token_hash"], sha256Hex(sec))
			}
			if rows[i]["prefix"] != sec[:12] {
				t.Errorf("prefix %q, want %q", rows[i]["prefix"], sec[:12])
			}
			for col, v := range rows[i] {
				if strings.Contains(v, sec[12:20]) {
					t.Errorf("column %s holds part of the secret beyond its prefix: %q", col, v)
				}
			}
		}

		// Lookup: the first use is recorded.
		now := time.Date(2026, 3, 30, 14, 0, 0, 123456789, time.UTC)
		got, err := s.LookupToken(ctx, secret, now)
		if err != nil {
			t.Fatal(err)
		}
		want := rec
		want.LastUsedAt = ptr(now.Truncate(time.Microsecond))
		sameToken(t, "first lookup", got, want)
		// Within a minute: no write.
		got, err = s.LookupToken(ctx, secret, now.Add(59*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		sameToken(t, "lookup 59 s later", got, want)
		list, err := s.ListTokens(ctx, false)
		if err != nil || len(list) != 2 {
			t.Fatalf("ListTokens = %d, %v", len(list), err)
		}
		sameToken(t, "stored after 59 s", list[0], want)
		// A minute later: written again.
		got, err = s.LookupToken(ctx, secret, now.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		want.LastUsedAt = ptr(now.Add(time.Minute).Truncate(time.Microsecond))
		sameToken(t, "lookup a minute later", got, want)
		list, _ = s.ListTokens(ctx, false)
		sameToken(t, "stored after a minute", list[0], want)
		// An earlier clock (another replica's) does not move it back.
		got, err = s.LookupToken(ctx, secret, now)
		if err != nil {
			t.Fatal(err)
		}
		sameToken(t, "lookup with an earlier clock", got, want)

		// Malformed and unknown secrets.
		flipped := []byte(secret)
		if flipped[20] == 'A' {
			flipped[20] = 'B'
		} else {
			flipped[20] = 'A'
		}
		for _, bad := range []string{"", "fst_", "Bearer " + secret, secret + " ", secret[:46], strings.ToUpper(secret[:4]) + secret[4:],
			"fst_" + strings.Repeat("!", 43), string(flipped), "fst_" + base64.RawURLEncoding.EncodeToString(make([]byte, 32))} {
			if _, err := s.LookupToken(ctx, bad, now); !errors.Is(err, state.ErrTokenInvalid) {
				t.Errorf("LookupToken(%q) = %v, want ErrTokenInvalid", bad, err)
			}
		}
		if got, err := s.GetToken(ctx, rec2.ID); err != nil || got.LastUsedAt != nil {
			t.Errorf("the other token: %+v, %v", got, err)
		}
	})
}

func TestTokensExpiryAndRevocation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := open(t, b.config(t))

		exp := time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)
		secret, rec, err := s.CreateToken(ctx, "ci", state.RoleOperator, "alice", &exp)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.LookupToken(ctx, secret, exp.Add(-time.Microsecond)); err != nil {
			t.Errorf("lookup just before expiry: %v", err)
		}
		for _, at := range []time.Time{exp, exp.Add(time.Hour)} {
			got, err := s.LookupToken(ctx, secret, at)
			if !errors.Is(err, state.ErrTokenExpired) || got.ID != rec.ID {
				t.Errorf("lookup at %v = %d, %v; want ErrTokenExpired naming token %d", at, got.ID, err, rec.ID)
			}
		}
		if n, err := s.CountActiveTokens(ctx, exp.Add(-time.Second)); err != nil || n != 1 {
			t.Errorf("CountActiveTokens before expiry = %d, %v; want 1", n, err)
		}
		if n, err := s.CountActiveTokens(ctx, exp); err != nil || n != 0 {
			t.Errorf("CountActiveTokens at expiry = %d, %v; want 0", n, err)
		}
		// A token created with an expiry already past is refused by lookups
		// and not counted as active.
		past := time.Now().Add(-time.Minute)
		oldSecret, old, err := s.CreateToken(ctx, "old", state.RoleViewer, "alice", &past)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.LookupToken(ctx, oldSecret, time.Time{}); !errors.Is(err, state.ErrTokenExpired) {
			t.Errorf("lookup of a token created expired: %v, want ErrTokenExpired", err)
		}
		if n, err := s.CountActiveTokens(ctx, time.Time{}); err != nil || n != 1 {
			t.Errorf("CountActiveTokens now = %d, %v; want 1", n, err)
		}
		if _, err := s.RevokeToken(ctx, old.ID, "alice", time.Time{}); err != nil {
			t.Fatal(err)
		}

		secret2, rec2, err := s.CreateToken(ctx, "deploy", state.RoleAdmin, "alice", nil)
		if err != nil {
			t.Fatal(err)
		}
		// While the first token is valid; nanoseconds to check the truncation.
		now := exp.Add(-30*time.Minute + 987654321)
		if n, err := s.CountActiveTokens(ctx, now); err != nil || n != 2 {
			t.Errorf("CountActiveTokens = %d, %v; want 2", n, err)
		}
		revoked, err := s.RevokeToken(ctx, rec2.ID, "bob", now)
		if err != nil {
			t.Fatal(err)
		}
		want := rec2
		want.RevokedAt, want.RevokedBy = ptr(now.Truncate(time.Microsecond)), "bob"
		sameToken(t, "revoked", revoked, want)
		if got, err := s.LookupToken(ctx, secret2, now); !errors.Is(err, state.ErrTokenRevoked) || got.ID != rec2.ID {
			t.Errorf("lookup of a revoked token = %d, %v; want ErrTokenRevoked", got.ID, err)
		}
		// Revoked wins over expired.
		if _, err := s.RevokeToken(ctx, rec.ID, "bob", now); err != nil {
			t.Fatal(err)
		}
		if _, err := s.LookupToken(ctx, secret, exp.Add(time.Hour)); !errors.Is(err, state.ErrTokenRevoked) {
			t.Errorf("lookup of a revoked, expired token = %v, want ErrTokenRevoked", err)
		}
		// Revoking again keeps the first revocation and says so.
		again, err := s.RevokeToken(ctx, rec2.ID, "carol", now.Add(time.Hour))
		if !errors.Is(err, state.ErrTokenAlreadyRevoked) || !strings.Contains(err.Error(), "already revoked") {
			t.Errorf("second revoke: %v, want ErrTokenAlreadyRevoked", err)
		}
		sameToken(t, "after a second revoke", again, want)
		if _, err := s.RevokeToken(ctx, 987654, "bob", now); !errors.Is(err, state.ErrNotFound) {
			t.Errorf("revoke of an unknown token: %v, want ErrNotFound", err)
		}
		if n, err := s.CountActiveTokens(ctx, now); err != nil || n != 0 {
			t.Errorf("CountActiveTokens after revoking both = %d, %v; want 0", n, err)
		}

		// Lists: revoked tokens only on request, by id.
		if l, err := s.ListTokens(ctx, false); err != nil || len(l) != 0 {
			t.Errorf("ListTokens(false) = %+v, %v; want none", l, err)
		}
		all, err := s.ListTokens(ctx, true)
		if err != nil || len(all) != 3 {
			t.Fatalf("ListTokens(true) = %+v, %v", all, err)
		}
		if all[0].ID != rec.ID || all[1].ID != old.ID || all[2].ID != rec2.ID {
			t.Errorf("ListTokens(true) ids %d, %d, %d; want %d, %d, %d", all[0].ID, all[1].ID, all[2].ID, rec.ID, old.ID, rec2.ID)
		}
		sameToken(t, "listed revoked token", all[2], want)
	})
}

func TestTokensNamesAndRoles(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := open(t, b.config(t))

		for _, name := range []string{"a", strings.Repeat("x", 64), "telegraf-01.prod_eu", "A.B-C_9"} {
			if _, rec, err := s.CreateToken(ctx, name, state.RoleViewer, "", nil); err != nil || rec.Name != name {
				t.Errorf("CreateToken(%q) = %+v, %v", name, rec, err)
			}
		}
		for _, name := range []string{"", strings.Repeat("x", 65), "two words", "slash/y", "naïve", "semi;colon", "tab\t"} {
			_, _, err := s.CreateToken(ctx, name, state.RoleViewer, "", nil)
			if !errors.Is(err, state.ErrInvalidArgument) || !strings.Contains(err.Error(), "A-Z, a-z, 0-9, '.', '_' and '-'") {
				t.Errorf("CreateToken(%q) = %v, want a message naming the allowed characters", name, err)
			}
		}
		for _, role := range []string{"", "root", "Admin", "viewer "} {
			_, _, err := s.CreateToken(ctx, "r", role, "", nil)
			if !errors.Is(err, state.ErrInvalidArgument) || !strings.Contains(err.Error(), "ingest, viewer, operator, admin") {
				t.Errorf("CreateToken(role %q) = %v, want a message listing the roles", role, err)
			}
		}

		// A name is unique among tokens that are not revoked.
		_, first, err := s.CreateToken(ctx, "dup", state.RoleOperator, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.CreateToken(ctx, "dup", state.RoleViewer, "", nil); !errors.Is(err, state.ErrTokenNameTaken) {
			t.Errorf("duplicate name: %v, want ErrTokenNameTaken", err)
		}
		if _, err := s.RevokeToken(ctx, first.ID, "admin", time.Time{}); err != nil {
			t.Fatal(err)
		}
		if _, rec, err := s.CreateToken(ctx, "dup", state.RoleViewer, "", nil); err != nil || rec.ID == first.ID {
			t.Errorf("name of a revoked token reused: %+v, %v", rec, err)
		}
		// Racing creators of one name: exactly one wins.
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Go(func() {
				_, _, errs[i] = s.CreateToken(ctx, "race", state.RoleAdmin, fmt.Sprint("creator-", i), nil)
			})
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, state.ErrTokenNameTaken):
				t.Errorf("racing create: %v", err)
			}
		}
		if won != 1 {
			t.Errorf("%d racing creates succeeded, want 1", won)
		}
		active, err := s.ListTokens(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range active {
			names = append(names, r.Name)
		}
		if got, want := strings.Join(names, ","), "a,"+strings.Repeat("x", 64)+",telegraf-01.prod_eu,A.B-C_9,dup,race"; got != want {
			t.Errorf("active names %s, want %s", got, want)
		}
	})
}

func TestTokenRoles(t *testing.T) {
	for _, r := range []string{"ingest", "viewer", "operator", "admin"} {
		if !state.ValidRole(r) {
			t.Errorf("ValidRole(%q) = false", r)
		}
	}
	for _, r := range []string{"", "root", "ADMIN", "viewer,admin"} {
		if state.ValidRole(r) {
			t.Errorf("ValidRole(%q) = true", r)
		}
	}
	for _, c := range []struct {
		role, min string
		want      bool
	}{
		{"admin", "viewer", true}, {"admin", "operator", true}, {"admin", "admin", true},
		{"operator", "viewer", true}, {"operator", "operator", true}, {"operator", "admin", false},
		{"viewer", "viewer", true}, {"viewer", "operator", false},
		{"ingest", "viewer", false}, {"ingest", "ingest", true}, {"admin", "ingest", false},
		{"root", "viewer", false}, {"viewer", "root", false},
	} {
		if got := state.RoleAtLeast(c.role, c.min); got != c.want {
			t.Errorf("RoleAtLeast(%s, %s) = %v, want %v", c.role, c.min, got, c.want)
		}
	}
}
