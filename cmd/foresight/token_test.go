package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seed-f1b503aa/foresight/storage/state"
)

// tokenTestConfig writes a configuration whose state database is a SQLite
// file in a directory that does not exist yet, with debug logging so that
// anything the commands log shows up on stderr.
func tokenTestConfig(t *testing.T) (cfgPath, dbPath string) {
	t.Helper()
	dbPath = filepath.Join(t.TempDir(), "data", "state.db")
	cfgPath = writeTemp(t, "foresight.yaml", fmt.Sprintf("state:\n  driver: sqlite\n  path: %s\nlog:\n  level: debug\n", dbPath))
	return cfgPath, dbPath
}

func openTestState(t *testing.T, dbPath string) *state.Store {
	t.Helper()
	ctx := context.Background()
	if err := os.MkdirAll(filepath.Dir(dbPath), 0o755); err != nil {
		t.Fatal(err)
	}
	st, err := state.Open(ctx, state.Config{Driver: state.DriverSQLite, Path: dbPath})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return st
}

func TestTokenCLI(t *testing.T) {
	cfg, dbPath := tokenTestConfig(t)

	// create prints the secret alone on stdout, a notice on stderr.
	stdout, stderr, err := runCLI(t, "token", "create", "-name", "telegraf", "-role", "ingest", "-config", cfg)
	if err != nil {
		t.Fatalf("create: %v\n%s", err, stderr)
	}
	secret := strings.TrimSuffix(stdout, "\n")
	if !strings.HasPrefix(secret, "fst_") || len(secret) != 47 || strings.Contains(secret, "\n") {
		t.Fatalf("create printed %q, want the secret alone", stdout)
	}
	if !strings.Contains(stderr, "cannot be shown again") || !strings.Contains(stderr, secret[:12]) ||
		strings.Count(stderr, "\n") != 1 || strings.Contains(stderr, secret) {
		t.Errorf("create's notice: %q; want one line with the prefix and not the secret", stderr)
	}
	before := time.Now()
	stdout, stderr, err = runCLI(t, "token", "create", "-config", cfg, "-name", "ops.team-1", "-role", "operator", "-expires", "90d")
	after := time.Now()
	if err != nil {
		t.Fatalf("create -expires: %v\n%s", err, stderr)
	}
	opsSecret := strings.TrimSpace(stdout)
	if strings.Contains(stderr, opsSecret) {
		t.Error("the secret reached stderr")
	}

	// Bad input: clear messages, exit code 2, nothing created.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-name", "x", "-role", "root"}, `unknown role "root" (valid roles: ingest, viewer, operator, admin)`},
		{[]string{"-name", "x"}, "-role is required (valid roles: ingest, viewer, operator, admin)"},
		{[]string{"-name", "two words", "-role", "viewer"}, "use 1 to 64 characters from A-Z, a-z, 0-9, '.', '_' and '-'"},
		{[]string{"-name", strings.Repeat("n", 65), "-role", "viewer"}, "use 1 to 64 characters"},
		{[]string{"-role", "viewer"}, "-name is required"},
		{[]string{"-name", "x", "-role", "viewer", "-expires", "soon"}, "-expires"},
		{[]string{"-name", "x", "-role", "viewer", "-expires", "-1h"}, "must be positive"},
		{[]string{"-name", "x", "-role", "viewer", "extra"}, `unexpected argument "extra"`},
	} {
		_, _, err := runCLI(t, append([]string{"token", "create", "-config", cfg}, c.args...)...)
		if err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), c.want) {
			t.Errorf("create %v: %v (exit %d), want a usage error containing %q", c.args, err, exitCode(err), c.want)
		}
	}
	_, _, err = runCLI(t, "token", "create", "-config", cfg, "-name", "telegraf", "-role", "viewer")
	if err == nil || !strings.Contains(err.Error(), `a token named "telegraf" exists`) {
		t.Errorf("create with a taken name: %v", err)
	}

	// list shows the prefix, never the secret.
	stdout, _, err = runCLI(t, "token", "list", "-config", cfg)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "ID") || !strings.Contains(lines[0], "PREFIX") || !strings.Contains(lines[0], "LAST USED") {
		t.Fatalf("list:\n%s", stdout)
	}
	if f := strings.Fields(lines[1]); len(f) < 8 || f[0] != "1" || f[1] != "telegraf" || f[2] != "ingest" || f[3] != secret[:12] || f[5] != "never" || f[6] != "never" || f[7] != "-" {
		t.Errorf("list row %q", lines[1])
	}
	if strings.Contains(stdout, secret[12:]) || strings.Contains(stdout, opsSecret[12:]) {
		t.Errorf("list shows a secret:\n%s", stdout)
	}
	stdout, _, err = runCLI(t, "token", "list", "-json", "-config", cfg)
	if err != nil {
		t.Fatal(err)
	}
	var listed []struct {
		ID        int64      `json:"id"`
		Name      string     `json:"name"`
		Role      string     `json:"role"`
		Prefix    string     `json:"prefix"`
		CreatedBy string     `json:"created_by"`
		ExpiresAt *time.Time `json:"expires_at"`
		RevokedAt *time.Time `json:"revoked_at"`
		Active    bool       `json:"active"`
	}
	if err := json.Unmarshal([]byte(stdout), &listed); err != nil || len(listed) != 2 {
		t.Fatalf("list -json: %v\n%s", err, stdout)
	}
	if l := listed[0]; l.Name != "telegraf" || l.Role != "ingest" || l.Prefix != secret[:12] || l.ExpiresAt != nil || !l.Active ||
		!strings.HasPrefix(l.CreatedBy, "cli") {
		t.Errorf("list -json [0] = %+v", l)
	}
	ops := listed[1]
	if ops.Name != "ops.team-1" || ops.Role != "operator" || ops.Prefix != opsSecret[:12] || ops.ExpiresAt == nil {
		t.Fatalf("list -json [1] = %+v", ops)
	}
	const days90 = 90 * 24 * time.Hour
	if ops.ExpiresAt.Before(before.Add(days90).Truncate(time.Microsecond)) || ops.ExpiresAt.After(after.Add(days90)) {
		t.Errorf("-expires 90d gave %v, want 90 days after creation (%v–%v)", ops.ExpiresAt, before.Add(days90), after.Add(days90))
	}

	// revoke, by argument (flags after it) or by -id.
	stdout, _, err = runCLI(t, "token", "revoke", "1", "-config", cfg)
	if err != nil || !strings.Contains(stdout, `revoked token 1 "telegraf"`) {
		t.Fatalf("revoke 1: %v %q", err, stdout)
	}
	_, _, err = runCLI(t, "token", "revoke", "-config", cfg, "-id", "1")
	if err == nil || !strings.Contains(err.Error(), "already revoked") {
		t.Errorf("second revoke: %v, want it to say already revoked", err)
	}
	_, _, err = runCLI(t, "token", "revoke", "-config", cfg, "-id", "999")
	if err == nil || !strings.Contains(err.Error(), "no token with id 999") {
		t.Errorf("revoke of an unknown id: %v", err)
	}
	for _, bad := range [][]string{{}, {"abc"}, {"0"}, {"1", "2"}, {"-id", "2", "1"}, {"-id", "-3"}} {
		if _, _, err := runCLI(t, append([]string{"token", "revoke", "-config", cfg}, bad...)...); err == nil || exitCode(err) != 2 {
			t.Errorf("revoke %v: %v (exit %d), want a usage error", bad, err, exitCode(err))
		}
	}
	stdout, _, err = runCLI(t, "token", "list", "-config", cfg)
	if err != nil || strings.Contains(stdout, "telegraf") || !strings.Contains(stdout, "ops.team-1") {
		t.Errorf("list after revoke: %v\n%s", err, stdout)
	}
	stdout, _, err = runCLI(t, "token", "list", "-all", "-config", cfg)
	if err != nil || !strings.Contains(stdout, "telegraf") || !strings.Contains(stdout, " by cli") {
		t.Errorf("list -all after revoke: %v\n%s", err, stdout)
	}

	// The store agrees: the revoked secret is refused, the other accepted.
	st := openTestState(t, dbPath)
	ctx := context.Background()
	if _, err := st.LookupToken(ctx, secret, time.Now()); !errors.Is(err, state.ErrTokenRevoked) {
		t.Errorf("lookup of the revoked token: %v, want ErrTokenRevoked", err)
	}
	if rec, err := st.LookupToken(ctx, opsSecret, time.Now()); err != nil || rec.Name != "ops.team-1" || rec.Role != state.RoleOperator {
		t.Errorf("lookup of the other token = %+v, %v", rec, err)
	}

	// Subcommand errors.
	for _, bad := range [][]string{{"token"}, {"token", "rotate"}, {"token", "list", "extra", "-config", cfg}, {"token", "list", "-bogus"}} {
		if _, _, err := runCLI(t, bad...); err == nil || exitCode(err) != 2 {
			t.Errorf("%v: %v (exit %d), want a usage error", bad, err, exitCode(err))
		}
	}
	if out, _, err := runCLI(t, "token", "help"); err != nil || !strings.Contains(out, "foresight token create") {
		t.Errorf("token help: %v %q", err, out)
	}
}

func TestTokenCLIEmptyList(t *testing.T) {
	cfg, _ := tokenTestConfig(t)
	out, _, err := runCLI(t, "token", "list", "-config", cfg)
	if err != nil || !strings.Contains(out, "no active tokens") {
		t.Errorf("list of none: %v %q", err, out)
	}
	out, _, err = runCLI(t, "token", "list", "-json", "-config", cfg)
	if err != nil || strings.TrimSpace(out) != "[]" {
		t.Errorf("list -json of none: %v %q", err, out)
	}
}

func TestBootstrapAdminToken(t *testing.T) {
	ctx := context.Background()
	st := openTestState(t, filepath.Join(t.TempDir(), "state.db"))
	path := filepath.Join(t.TempDir(), "secrets", "nested", "admin.token")

	created, err := bootstrapAdminToken(ctx, st, path, time.Now())
	if err != nil || !created {
		t.Fatalf("first bootstrap = %v, %v", created, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %v, want 0600", fi.Mode().Perm())
	}
	content, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	secret := strings.TrimSpace(string(content))
	rec, err := st.LookupToken(ctx, secret, time.Now())
	if err != nil || rec.Name != "bootstrap-admin" || rec.Role != state.RoleAdmin || rec.ExpiresAt != nil {
		t.Fatalf("the file's token: %+v, %v; want the bootstrap-admin admin token", rec, err)
	}

	// Tokens exist: nothing happens.
	created, err = bootstrapAdminToken(ctx, st, path, time.Now())
	if err != nil || created {
		t.Errorf("second bootstrap = %v, %v; want false, nil", created, err)
	}
	if again, _ := os.ReadFile(path); string(again) != string(content) {
		t.Error("second bootstrap changed the file")
	}
	if all, err := st.ListTokens(ctx, true); err != nil || len(all) != 1 {
		t.Errorf("tokens after the second bootstrap: %d, %v; want 1", len(all), err)
	}

	// No active token left, but the file is there: refused, naming it.
	if _, err := st.RevokeToken(ctx, rec.ID, "test", time.Now()); err != nil {
		t.Fatal(err)
	}
	created, err = bootstrapAdminToken(ctx, st, path, time.Now())
	if err == nil || created || !strings.Contains(err.Error(), path) {
		t.Errorf("bootstrap over an existing file = %v, %v; want an error naming %s", created, err, path)
	}
	if all, _ := st.ListTokens(ctx, true); len(all) != 1 {
		t.Errorf("a refused bootstrap created a token: %d tokens", len(all))
	}
	// The file moved away: a new admin token (the name of the revoked one is free).
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	created, err = bootstrapAdminToken(ctx, st, path, time.Now())
	if err != nil || !created {
		t.Fatalf("bootstrap after revocation = %v, %v", created, err)
	}
	content2, _ := os.ReadFile(path)
	if rec2, err := st.LookupToken(ctx, strings.TrimSpace(string(content2)), time.Now()); err != nil || rec2.ID == rec.ID || rec2.Role != state.RoleAdmin {
		t.Errorf("new bootstrap token %+v, %v", rec2, err)
	}

	if _, err := bootstrapAdminToken(ctx, st, "", time.Now()); err == nil {
		t.Error("bootstrap with no path succeeded")
	}
}

func TestBootstrapAdminTokenWithOtherTokens(t *testing.T) {
	ctx := context.Background()
	st := openTestState(t, filepath.Join(t.TempDir(), "state.db"))
	dir := t.TempDir()

	// Any active token, whatever its role, means the installation is set up.
	if _, _, err := st.CreateToken(ctx, "grafana", state.RoleViewer, "test", nil); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "a.token")
	if created, err := bootstrapAdminToken(ctx, st, path, time.Now()); err != nil || created {
		t.Errorf("bootstrap beside an active token = %v, %v", created, err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("token file written although a token exists: %v", err)
	}

	// An expired token that still holds the name: a clear error, no file.
	st2 := openTestState(t, filepath.Join(t.TempDir(), "state.db"))
	exp := time.Now().Add(time.Hour)
	if _, _, err := st2.CreateToken(ctx, "bootstrap-admin", state.RoleAdmin, "test", &exp); err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(dir, "b.token")
	created, err := bootstrapAdminToken(ctx, st2, path, exp.Add(time.Hour))
	if err == nil || created || !strings.Contains(err.Error(), "expired") {
		t.Errorf("bootstrap with an expired bootstrap-admin = %v, %v; want an error about the expired token", created, err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("token file written by a failed bootstrap: %v", err)
	}
	if n, err := st2.CountActiveTokens(ctx, time.Now()); err != nil || n != 1 {
		t.Errorf("active tokens = %d, %v", n, err)
	}
}
