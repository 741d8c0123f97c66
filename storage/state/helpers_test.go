package state_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/seed-f1b503aa/foresight/storage/state"
)

// defaultPostgresURL is the PostgreSQL the tests use unless
// FORESIGHT_TEST_POSTGRES_URL says otherwise.
const defaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

func postgresURL() string {
	if u := os.Getenv("FORESIGHT_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return defaultPostgresURL
}

// postgresRequired reports whether an unreachable PostgreSQL fails the
// tests rather than skipping them: always in CI.
func postgresRequired() bool {
	return os.Getenv("CI") == "true" || os.Getenv("FORESIGHT_REQUIRE_POSTGRES") != ""
}

var (
	pgOnce sync.Once
	pgErr  error
)

// checkPostgres connects once per test binary.
func checkPostgres() error {
	pgOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, postgresURL())
		if err != nil {
			pgErr = err
			return
		}
		defer conn.Close(ctx)
		pgErr = conn.Ping(ctx)
	})
	return pgErr
}

// backend is one database the contract suite runs on.
type backend struct {
	name string
	// config returns the configuration of a fresh, empty database for t
	// (a temporary file, or a private PostgreSQL schema dropped at the end).
	config func(t *testing.T) state.Config
}

var backends = []backend{
	{name: "sqlite", config: sqliteConfig},
	{name: "postgres", config: postgresConfig},
}

func sqliteConfig(t *testing.T) state.Config {
	return state.Config{Driver: state.DriverSQLite, Path: filepath.Join(t.TempDir(), "state.db")}
}

func postgresConfig(t *testing.T) state.Config {
	t.Helper()
	if err := checkPostgres(); err != nil {
		if postgresRequired() {
			t.Fatalf("PostgreSQL at %s is required (CI=true or FORESIGHT_REQUIRE_POSTGRES set) but unreachable: %v", postgresURL(), err)
		}
		t.Skipf("PostgreSQL at %s unreachable (set FORESIGHT_TEST_POSTGRES_URL; required when CI=true): %v", postgresURL(), err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "foresight_test_" + hex.EncodeToString(b[:])
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, postgresURL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, postgresURL())
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return state.Config{Driver: state.DriverPostgres, DSN: postgresURL(), Schema: schema}
}

// forEachBackend runs fn as a parallel subtest on every backend.
func forEachBackend(t *testing.T, fn func(t *testing.T, b backend)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			fn(t, b)
		})
	}
}

// open opens a store on cfg and closes it when the test ends.
func open(t *testing.T, cfg state.Config) *state.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := state.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("Open(%s): %v", cfg.Driver, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
