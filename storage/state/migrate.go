package state

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFS embed.FS

// Migration is one embedded schema migration.
type Migration struct {
	// Version is the number the file name starts with (001_init.sql → 1).
	Version int
	// Name is the file name.
	Name string
	// SQL is the file's content.
	SQL string
}

// AppliedMigration is a row of schema_migrations.
type AppliedMigration struct {
	// Version is the migration's version.
	Version int
	// Name is the migration's file name.
	Name string
	// AppliedAt is when it was applied.
	AppliedAt time.Time
}

// Migrations returns the embedded migrations of a driver (DriverSQLite or
// DriverPostgres), in version order.
func Migrations(driver string) ([]Migration, error) {
	dir := "migrations/" + driver
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, fmt.Errorf("state: no migrations for driver %q", driver)
	}
	var out []Migration
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		if !ok {
			return nil, fmt.Errorf("state: migration %s: name must be NNN_description.sql", name)
		}
		v, err := strconv.Atoi(num)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("state: migration %s: bad version", name)
		}
		b, err := migrationFS.ReadFile(path.Join(dir, name))
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: name, SQL: string(b)})
	}
	slices.SortFunc(out, func(a, b Migration) int { return a.Version - b.Version })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("state: two migrations with version %d", out[i].Version)
		}
	}
	return out, nil
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at %s NOT NULL
)`

// migrate applies the pending migrations, each in its own transaction, then
// River's. On PostgreSQL the whole step holds a session advisory lock (one
// per schema) so that replicas starting together take turns; the second
// finds everything applied. On SQLite processes take turns through a file
// lock beside the database, and every transaction is BEGIN IMMEDIATE (it
// takes the write lock) and re-checks that its migration is still pending.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := Migrations(s.cfg.Driver)
	if err != nil {
		return err
	}
	switch s.dialect {
	case dialectPostgres:
		return s.migratePostgres(ctx, ms)
	default:
		return s.migrateSQLite(ctx, ms)
	}
}

func (s *Store) migrateSQLite(ctx context.Context, ms []Migration) error {
	// River's migrator reads the applied versions and then applies the
	// missing ones, each in its own transaction; two processes doing that at
	// once on one file would both try to create River's tables. A file lock
	// beside the database makes the second process wait and then find
	// nothing to do. (With a caller's DSN there is no path to lock beside:
	// start such processes one after the other.)
	if s.cfg.DSN == "" {
		unlock, err := lockFile(ctx, s.cfg.Path+".migrate-lock")
		if err != nil {
			return err
		}
		defer unlock()
	}
	if _, err := s.sqlDB.ExecContext(ctx, fmt.Sprintf(createMigrationsTable, "TEXT")); err != nil {
		return fmt.Errorf("state: create schema_migrations: %w", err)
	}
	for _, m := range ms {
		err := func() error {
			tx, err := s.sqlDB.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback() //nolint:errcheck // no-op after Commit
			return s.applyMigration(ctx, sqlQuerier{q: tx, d: dialectSQLite}, m, func() error { return tx.Commit() })
		}()
		if err != nil {
			return err
		}
	}
	migrator, err := rivermigrate.New(riversqlite.New(s.sqlDB), &rivermigrate.Config{Logger: s.log})
	if err != nil {
		return fmt.Errorf("state: river migrator: %w", err)
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("state: river migrations: %w", err)
	}
	return nil
}

func (s *Store) migratePostgres(ctx context.Context, ms []Migration) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("state: migrations: %w", err)
	}
	defer conn.Release()
	lockKey := "foresight.schema_migrations:" + s.cfg.Schema
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(hashtext($1))", lockKey); err != nil {
		return fmt.Errorf("state: migration lock: %w", err)
	}
	defer func() {
		// A fresh context: the lock must be released even if ctx is done
		// (otherwise the connection goes back to the pool still holding it).
		uctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := conn.Exec(uctx, "SELECT pg_advisory_unlock(hashtext($1))", lockKey); err != nil {
			conn.Conn().Close(uctx) //nolint:errcheck // dropping the session frees the lock
		}
	}()
	if _, err := conn.Exec(ctx, fmt.Sprintf(createMigrationsTable, "TIMESTAMPTZ")); err != nil {
		return fmt.Errorf("state: create schema_migrations: %w", err)
	}
	for _, m := range ms {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			return s.applyMigration(ctx, pgxQuerier{q: tx}, m, func() error { return nil })
		})
		if err != nil {
			return err
		}
	}
	// River's migrations run on the pool while this session still holds the
	// lock, so they are serialised between replicas too.
	migrator, err := rivermigrate.New(riverpgxv5.New(s.pool), &rivermigrate.Config{Logger: s.log, Schema: s.cfg.Schema})
	if err != nil {
		return fmt.Errorf("state: river migrator: %w", err)
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("state: river migrations: %w", err)
	}
	return nil
}

// applyMigration applies m inside the transaction q unless it is recorded
// already, then calls commit.
func (s *Store) applyMigration(ctx context.Context, q querier, m Migration, commit func() error) error {
	var n int
	if err := q.queryRow(ctx, "SELECT COUNT(*) FROM schema_migrations WHERE version = ?", m.Version).Scan(&n); err != nil {
		return fmt.Errorf("state: migration %s: %w", m.Name, err)
	}
	if n > 0 {
		return nil
	}
	if _, err := q.exec(ctx, m.SQL); err != nil {
		return fmt.Errorf("state: migration %s: %w", m.Name, err)
	}
	if _, err := q.exec(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
		m.Version, m.Name, q.dialect().timeArg(time.Now())); err != nil {
		return fmt.Errorf("state: migration %s: %w", m.Name, err)
	}
	if err := commit(); err != nil {
		return fmt.Errorf("state: migration %s: commit: %w", m.Name, err)
	}
	s.log.Info("applied schema migration", "version", m.Version, "name", m.Name)
	return nil
}

// AppliedMigrations lists the rows of schema_migrations in version order.
func (s *Store) AppliedMigrations(ctx context.Context) ([]AppliedMigration, error) {
	r, err := s.db.query(ctx, "SELECT version, name, applied_at FROM schema_migrations ORDER BY version")
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []AppliedMigration
	for r.Next() {
		var a AppliedMigration
		if err := r.Scan(&a.Version, &a.Name, timeScan{&a.AppliedAt}); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, r.Err()
}
