// Package state is Foresight's SQL state store: tickets, their audit trail,
// the runs of scheduled jobs, and the River job queue that carries webhook
// deliveries (the durable outbox).
//
// Two databases are supported behind one API and one contract test suite:
//
//   - SQLite (the embedded default) through modernc.org/sqlite, pure Go, in
//     WAL mode with a busy timeout and foreign keys on. The database/sql pool
//     is limited to ONE connection: River's SQLite driver runs many small
//     operations concurrently and SQLite allows one writer at a time, so more
//     connections only trade waiting in the pool for SQLITE_BUSY errors (this
//     is what River's riversqlite documentation asks for). A consequence for
//     callers: inside InTx use only the *Tx — a call on the Store from inside
//     the callback would wait for the connection the transaction holds.
//   - PostgreSQL for production and several replicas, through pgx/v5 and a
//     pgxpool. We use pgx natively rather than database/sql over pgx's stdlib
//     adapter because River's PostgreSQL driver (riverpgxv5) takes a
//     *pgxpool.Pool and its transactional insert takes a pgx.Tx: with
//     database/sql there would be no pgx.Tx to hand to River, so the ticket
//     change and its delivery job could not share one transaction. The two
//     dialects still share one code path for every query: a small internal
//     adapter runs the same SQL (written with ? placeholders, rewritten to $n
//     for PostgreSQL) on either a *sql.DB/*sql.Tx or a pgxpool/pgx.Tx.
//
// Open applies the package's own versioned migrations (embedded SQL files,
// one directory per dialect, recorded in schema_migrations) and then River's
// migrations through rivermigrate, so a started Store is ready to use.
package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"modernc.org/sqlite" // also registers the "sqlite" database/sql driver
	sqlite3 "modernc.org/sqlite/lib"
)

// Driver names accepted in Config.Driver.
const (
	// DriverSQLite selects the embedded SQLite database (the default).
	DriverSQLite = "sqlite"
	// DriverPostgres selects PostgreSQL.
	DriverPostgres = "postgres"
)

// Errors returned by the store. Compare with errors.Is.
var (
	// ErrNotFound means the requested row does not exist.
	ErrNotFound = errors.New("state: not found")
	// ErrConflict means an optimistic-concurrency check failed: the ticket's
	// version is no longer the one the caller read.
	ErrConflict = errors.New("state: version conflict")
	// ErrDuplicateOpen means another ticket that is not closed already holds
	// the fingerprint.
	ErrDuplicateOpen = errors.New("state: an open ticket already exists for this fingerprint")
)

// Config selects and configures the database.
type Config struct {
	// Driver is DriverSQLite (default when empty) or DriverPostgres.
	Driver string
	// Path is the SQLite database file (DriverSQLite). The directory must
	// exist. Ignored when DSN is set.
	Path string
	// DSN is the data source: a PostgreSQL URL or key/value string
	// (DriverPostgres, required), or a complete modernc.org/sqlite DSN
	// (DriverSQLite, optional; the caller then owns the pragmas).
	DSN string
	// Schema is the PostgreSQL schema holding every table (Foresight's and
	// River's). It is created if missing and set as the connections'
	// search_path. Empty means the server's default search_path.
	Schema string
	// MaxConns caps the PostgreSQL pool (0: pgxpool's default). SQLite
	// always uses one connection.
	MaxConns int32
	// Logger receives the store's and River's logs; nil discards them.
	Logger *slog.Logger
}

// Store is an open state database. It is safe for concurrent use.
type Store struct {
	cfg     Config
	dialect dialect
	log     *slog.Logger

	sqlDB  *sql.DB       // DriverSQLite
	pool   *pgxpool.Pool // DriverPostgres
	db     querier       // the pool as a querier
	river  riverClient   // insert-only client: InsertTx, listing, retries
	mu     sync.Mutex
	runner []*Runner
	closed bool
}

var schemaNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// Open connects to the database described by cfg, applies pending
// migrations (Foresight's, then River's) and returns the Store. Starting
// several processes at once is safe: on PostgreSQL migrations are serialised
// with an advisory lock, on SQLite by the database's write lock.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Driver == "" {
		cfg.Driver = DriverSQLite
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Store{cfg: cfg, log: log}
	switch cfg.Driver {
	case DriverSQLite:
		if err := s.openSQLite(ctx); err != nil {
			return nil, err
		}
	case DriverPostgres:
		if err := s.openPostgres(ctx); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("state: unknown driver %q (want %q or %q)", cfg.Driver, DriverSQLite, DriverPostgres)
	}
	if err := s.migrate(ctx); err != nil {
		s.closeDB()
		return nil, err
	}
	rc, err := s.newRiverClient(nil)
	if err != nil {
		s.closeDB()
		return nil, err
	}
	s.river = rc
	return s, nil
}

// SQLiteDSN returns the modernc.org/sqlite DSN Open uses for a database
// file: WAL journal, a 10 s busy timeout, foreign keys on, synchronous=NORMAL
// (durable across process crashes in WAL mode) and immediate transactions
// (a transaction takes the write lock when it begins, so two processes
// sharing the file never fail midway on a lock upgrade).
func SQLiteDSN(path string) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode()
}

func (s *Store) openSQLite(ctx context.Context) error {
	dsn := s.cfg.DSN
	if dsn == "" {
		if s.cfg.Path == "" {
			return errors.New("state: sqlite needs Config.Path or Config.DSN")
		}
		dsn = SQLiteDSN(s.cfg.Path)
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return fmt.Errorf("state: open sqlite: %w", err)
	}
	// One connection: see the package documentation.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if err := pingSQLite(ctx, db); err != nil {
		db.Close()
		return fmt.Errorf("state: open sqlite: %w", err)
	}
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		db.Close()
		return fmt.Errorf("state: sqlite journal mode: %w", err)
	}
	if s.cfg.DSN == "" && !strings.EqualFold(mode, "wal") {
		db.Close()
		return fmt.Errorf("state: sqlite journal mode is %q, want wal", mode)
	}
	s.sqlDB = db
	s.dialect = dialectSQLite
	s.db = sqlQuerier{q: db, d: dialectSQLite}
	return nil
}

// pingSQLite opens the connection. Switching a new database file to WAL
// needs an exclusive lock and SQLite reports SQLITE_BUSY at once (without
// the busy timeout) when another process holds a lock meanwhile, as when
// two processes create the database together; so it retries for a while.
func pingSQLite(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := db.PingContext(ctx)
		var sqErr *sqlite.Error
		if err == nil || !errors.As(err, &sqErr) || sqErr.Code()&0xff != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (s *Store) openPostgres(ctx context.Context) error {
	if s.cfg.DSN == "" {
		return errors.New("state: postgres needs Config.DSN")
	}
	pcfg, err := pgxpool.ParseConfig(s.cfg.DSN)
	if err != nil {
		return fmt.Errorf("state: postgres DSN: %w", err)
	}
	if s.cfg.MaxConns > 0 {
		pcfg.MaxConns = s.cfg.MaxConns
	}
	if s.cfg.Schema != "" {
		if !schemaNameRE.MatchString(s.cfg.Schema) {
			return fmt.Errorf("state: invalid schema name %q", s.cfg.Schema)
		}
		if err := ensureSchema(ctx, pcfg.ConnConfig.ConnString(), s.cfg.Schema); err != nil {
			return err
		}
		pcfg.ConnConfig.RuntimeParams["search_path"] = s.cfg.Schema
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return fmt.Errorf("state: connect postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return fmt.Errorf("state: connect postgres: %w", err)
	}
	s.pool = pool
	s.dialect = dialectPostgres
	s.db = pgxQuerier{q: pool}
	return nil
}

// ensureSchema creates the schema if it does not exist. It checks first so
// that a role without CREATE on the database can use a schema made for it.
func ensureSchema(ctx context.Context, connString, schema string) error {
	pool, err := pgxpool.New(ctx, connString)
	if err != nil {
		return fmt.Errorf("state: connect postgres: %w", err)
	}
	defer pool.Close()
	var exists bool
	if err := pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", schema).Scan(&exists); err != nil {
		return fmt.Errorf("state: connect postgres: %w", err)
	}
	if exists {
		return nil
	}
	if _, err := pool.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+quoteIdent(schema)); err != nil {
		return fmt.Errorf("state: create schema %s: %w", schema, err)
	}
	return nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// Driver returns the database driver in use (DriverSQLite or DriverPostgres).
func (s *Store) Driver() string { return s.cfg.Driver }

// Ping checks that the database answers; for readiness probes.
func (s *Store) Ping(ctx context.Context) error {
	if s.pool != nil {
		return s.pool.Ping(ctx)
	}
	return s.sqlDB.PingContext(ctx)
}

// Close stops any Runner still running (letting jobs in progress finish
// until ctx is done) and closes the database.
func (s *Store) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	runners := s.runner
	s.runner = nil
	s.mu.Unlock()
	var errs []error
	for _, r := range runners {
		if err := r.Stop(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if err := s.closeDB(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (s *Store) closeDB() error {
	if s.pool != nil {
		s.pool.Close()
		return nil
	}
	if s.sqlDB != nil {
		return s.sqlDB.Close()
	}
	return nil
}
