package state

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect is the SQL flavour of a connection.
type dialect int

const (
	dialectSQLite dialect = iota
	dialectPostgres
)

// sqliteTimeLayout is how times are stored in SQLite: fixed width, UTC,
// microseconds (PostgreSQL's precision), so text order is time order.
const sqliteTimeLayout = "2006-01-02T15:04:05.000000Z"

// rebind rewrites ? placeholders to $1, $2, … for PostgreSQL. The package's
// queries contain no ? other than placeholders.
func (d dialect) rebind(q string) string {
	if d != dialectPostgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// normTime is how the store keeps times: UTC, microsecond precision.
func normTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// timeArg encodes a time for the dialect; the zero time is NULL.
func (d dialect) timeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	t = normTime(t)
	if d == dialectSQLite {
		return t.Format(sqliteTimeLayout)
	}
	return t
}

// jsonArg encodes a JSON document; empty is NULL.
func jsonArg(j json.RawMessage) any {
	if len(j) == 0 {
		return nil
	}
	return string(j)
}

// timeScan scans a time stored by timeArg (time.Time from PostgreSQL, text
// from SQLite); NULL is the zero time.
type timeScan struct{ t *time.Time }

// Scan implements sql.Scanner.
func (ts timeScan) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*ts.t = time.Time{}
	case time.Time:
		*ts.t = normTime(x)
	case string:
		return ts.parse(x)
	case []byte:
		return ts.parse(string(x))
	default:
		return fmt.Errorf("state: cannot scan %T into a time", v)
	}
	return nil
}

func (ts timeScan) parse(s string) error {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("state: bad stored time %q: %w", s, err)
	}
	*ts.t = normTime(t)
	return nil
}

// jsonScan scans a JSON column; NULL is nil.
type jsonScan struct{ j *json.RawMessage }

// Scan implements sql.Scanner.
func (js jsonScan) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*js.j = nil
	case string:
		*js.j = json.RawMessage(x)
	case []byte:
		*js.j = append(json.RawMessage(nil), x...)
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Errorf("state: cannot scan %T into JSON", v)
		}
		*js.j = b
	}
	return nil
}

// rows is the part of *sql.Rows and pgx.Rows the store uses.
type rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// row is a single-row result.
type row interface {
	Scan(dest ...any) error
}

// querier runs SQL written with ? placeholders on any of the four handles
// (sql.DB, sql.Tx, pgxpool.Pool, pgx.Tx).
type querier interface {
	exec(ctx context.Context, q string, args ...any) (int64, error)
	query(ctx context.Context, q string, args ...any) (rows, error)
	queryRow(ctx context.Context, q string, args ...any) row
	dialect() dialect
}

// sqlHandle is what *sql.DB and *sql.Tx have in common.
type sqlHandle interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

type sqlQuerier struct {
	q sqlHandle
	d dialect
}

func (s sqlQuerier) dialect() dialect { return s.d }

func (s sqlQuerier) exec(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := s.q.ExecContext(ctx, s.d.rebind(q), args...)
	if err != nil {
		return 0, mapErr(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	return n, nil
}

func (s sqlQuerier) query(ctx context.Context, q string, args ...any) (rows, error) {
	r, err := s.q.QueryContext(ctx, s.d.rebind(q), args...)
	if err != nil {
		return nil, mapErr(err)
	}
	return sqlRows{r}, nil
}

func (s sqlQuerier) queryRow(ctx context.Context, q string, args ...any) row {
	return mappedRow{s.q.QueryRowContext(ctx, s.d.rebind(q), args...)}
}

type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { _ = r.Rows.Close() }

// pgxHandle is what *pgxpool.Pool, *pgxpool.Conn and pgx.Tx have in common.
type pgxHandle interface {
	Exec(ctx context.Context, sql string, arguments ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

type pgxQuerier struct{ q pgxHandle }

func (p pgxQuerier) dialect() dialect { return dialectPostgres }

func (p pgxQuerier) exec(ctx context.Context, q string, args ...any) (int64, error) {
	tag, err := p.q.Exec(ctx, dialectPostgres.rebind(q), args...)
	if err != nil {
		return 0, mapErr(err)
	}
	return tag.RowsAffected(), nil
}

func (p pgxQuerier) query(ctx context.Context, q string, args ...any) (rows, error) {
	r, err := p.q.Query(ctx, dialectPostgres.rebind(q), args...)
	if err != nil {
		return nil, mapErr(err)
	}
	return r, nil
}

func (p pgxQuerier) queryRow(ctx context.Context, q string, args ...any) row {
	return mappedRow{p.q.QueryRow(ctx, dialectPostgres.rebind(q), args...)}
}

// mappedRow maps "no rows" and constraint errors to the package's errors.
type mappedRow struct{ r row }

func (m mappedRow) Scan(dest ...any) error { return mapErr(m.r.Scan(dest...)) }

// mapErr translates driver errors into ErrNotFound and ErrDuplicateOpen.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) || errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	if isOpenFingerprintViolation(err) {
		return fmt.Errorf("%w (%v)", ErrDuplicateOpen, err)
	}
	return err
}

// isOpenFingerprintViolation reports whether err is a violation of the
// unique index on open tickets' fingerprints.
func isOpenFingerprintViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505" && pgErr.ConstraintName == "tickets_open_fingerprint_key"
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		return sqErr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE && strings.Contains(sqErr.Error(), "tickets.fingerprint")
	}
	return false
}
