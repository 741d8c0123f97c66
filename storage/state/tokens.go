package state

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Roles of API tokens. For the API they are ordered from least to most
// privileged: viewer < operator < admin. RoleIngest stands apart: it is
// allowed only to write metrics (Telegraf and other writers).
const (
	RoleIngest   = "ingest"
	RoleViewer   = "viewer"
	RoleOperator = "operator"
	RoleAdmin    = "admin"
)

// roleRank orders the roles of the API ladder; RoleIngest is not on it.
var roleRank = map[string]int{RoleViewer: 1, RoleOperator: 2, RoleAdmin: 3}

// Roles returns the valid roles: ingest, then the API roles from least to
// most privileged.
func Roles() []string { return []string{RoleIngest, RoleViewer, RoleOperator, RoleAdmin} }

// ValidRole reports whether r is one of the roles.
func ValidRole(r string) bool { return r == RoleIngest || roleRank[r] > 0 }

// RoleAtLeast reports whether role grants what min needs on the ladder
// viewer < operator < admin. RoleIngest satisfies only RoleIngest, and no
// API role satisfies RoleIngest: whether an API role may also write
// metrics is the caller's decision.
func RoleAtLeast(role, min string) bool {
	if role == RoleIngest || min == RoleIngest {
		return role == min
	}
	r, m := roleRank[role], roleRank[min]
	return r > 0 && m > 0 && r >= m
}

// Token secrets.
const (
	// TokenSecretPrefix starts every secret, so that a leaked one is easy to
	// recognise (secret scanners, logs).
	TokenSecretPrefix = "fst_"
	// TokenPrefixLen is how much of a secret is kept in clear
	// (TokenRecord.Prefix): "fst_" and 8 characters.
	TokenPrefixLen = 12
	// tokenRandomBytes is the entropy of a secret.
	tokenRandomBytes = 32
	// tokenSecretLen is the length of a secret: the prefix and 32 bytes in
	// unpadded base64url.
	tokenSecretLen = len(TokenSecretPrefix) + 43
	// lastUsedEvery bounds the writes of last_used_at: at most one per token
	// per interval, not one per request.
	lastUsedEvery = time.Minute
)

// Errors about tokens. The API answers 401 to the first three alike but
// logs which one it was.
var (
	// ErrTokenInvalid means the secret is malformed or matches no token.
	ErrTokenInvalid = errors.New("state: invalid token")
	// ErrTokenRevoked means the token was revoked.
	ErrTokenRevoked = errors.New("state: token revoked")
	// ErrTokenExpired means the token is past its expiry.
	ErrTokenExpired = errors.New("state: token expired")
	// ErrTokenAlreadyRevoked is RevokeToken's answer for a token revoked
	// before.
	ErrTokenAlreadyRevoked = errors.New("state: token is already revoked")
	// ErrTokenNameTaken means a token that is not revoked has the name.
	ErrTokenNameTaken = errors.New("state: a token that is not revoked already has this name")
	// ErrInvalidArgument means the caller's input is invalid (a bad token
	// name or role, an incomplete audit record); the message says what.
	ErrInvalidArgument = errors.New("state: invalid argument")
)

// TokenRecord is an API token as stored: everything but the secret, of
// which only the SHA-256 is kept. Times are UTC at microsecond precision.
type TokenRecord struct {
	// ID is assigned by CreateToken.
	ID int64
	// Name tells people what the token is for ("telegraf-dc1"); unique
	// among the tokens that are not revoked.
	Name string
	// Role is one of Roles().
	Role string
	// Prefix is the first 12 characters of the secret ("fst_" + 8), shown in
	// lists so people can tell tokens apart.
	Prefix string
	// CreatedAt is when the token was created.
	CreatedAt time.Time
	// CreatedBy is who created it.
	CreatedBy string
	// ExpiresAt is when it stops working; nil: never.
	ExpiresAt *time.Time
	// LastUsedAt is when it was last accepted, to the minute (see
	// LookupToken); nil: never.
	LastUsedAt *time.Time
	// RevokedAt is when it was revoked; nil: not revoked.
	RevokedAt *time.Time
	// RevokedBy is who revoked it.
	RevokedBy string
}

// Active reports whether the token is neither revoked nor expired at now.
func (r TokenRecord) Active(now time.Time) bool {
	return r.RevokedAt == nil && (r.ExpiresAt == nil || now.Before(*r.ExpiresAt))
}

var tokenNameRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// CheckTokenName returns nil if name is a valid token name: 1 to 64
// characters from A-Z, a-z, 0-9, '.', '_' and '-'.
func CheckTokenName(name string) error {
	if !tokenNameRE.MatchString(name) {
		return fmt.Errorf("%w: token name %q: use 1 to 64 characters from A-Z, a-z, 0-9, '.', '_' and '-'",
			ErrInvalidArgument, name)
	}
	return nil
}

// CheckRole returns nil if role is valid, else an error listing the roles.
func CheckRole(role string) error {
	if !ValidRole(role) {
		return fmt.Errorf("%w: unknown role %q (valid roles: %s)", ErrInvalidArgument, role, strings.Join(Roles(), ", "))
	}
	return nil
}

// hashToken is what the store keeps of a secret: its SHA-256, in hex.
//
// A fast hash is the right choice here, unlike for passwords: a secret is
// 256 random bits, so there is nothing to guess and no dictionary to try,
// and a slow hash (bcrypt, argon2) would only add latency to every
// authenticated request. Looking the token up by its hash also means the
// database compares hashes, never secrets, so response times reveal
// nothing useful about a secret.
func hashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// wellFormedSecret reports whether s has the shape of a secret made by
// CreateToken, so malformed input is refused without a query.
func wellFormedSecret(s string) bool {
	if len(s) != tokenSecretLen || !strings.HasPrefix(s, TokenSecretPrefix) {
		return false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s[len(TokenSecretPrefix):])
	return err == nil && len(b) == tokenRandomBytes
}

func newTokenSecret() (string, error) {
	var b [tokenRandomBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("state: token secret: %w", err)
	}
	return TokenSecretPrefix + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

const tokenColumns = "id, name, role, prefix, created_at, created_by, expires_at, last_used_at, revoked_at, revoked_by"

func scanToken(r row) (TokenRecord, error) {
	var t TokenRecord
	var exp, used, rev time.Time
	if err := r.Scan(&t.ID, &t.Name, &t.Role, &t.Prefix, timeScan{&t.CreatedAt}, &t.CreatedBy, timeScan{&exp},
		timeScan{&used}, timeScan{&rev}, &t.RevokedBy); err != nil {
		return TokenRecord{}, err
	}
	t.ExpiresAt, t.LastUsedAt, t.RevokedAt = timePtr(exp), timePtr(used), timePtr(rev)
	return t, nil
}

// timePtr is nil for the zero time, else a pointer to a copy of t.
func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// ptrTime is the zero time for nil.
func ptrTime(p *time.Time) time.Time {
	if p == nil {
		return time.Time{}
	}
	return *p
}

// CreateToken creates a token and returns its secret — the only time it is
// available: the store keeps its SHA-256 alone. The secret is "fst_"
// followed by 32 bytes from crypto/rand in unpadded base64url. name must
// pass CheckTokenName and be unique among the tokens that are not revoked
// (else ErrTokenNameTaken); role must be valid (else ErrInvalidArgument).
// expiresAt nil means never. An expiry already past is not refused — the
// caller may run on its own clock — it makes a token LookupToken refuses.
func (s *Store) CreateToken(ctx context.Context, name, role, createdBy string, expiresAt *time.Time) (secret string, rec TokenRecord, err error) {
	if err := CheckTokenName(name); err != nil {
		return "", TokenRecord{}, err
	}
	if err := CheckRole(role); err != nil {
		return "", TokenRecord{}, err
	}
	now := time.Now()
	if expiresAt != nil {
		e := normTime(*expiresAt)
		expiresAt = &e
	}
	secret, err = newTokenSecret()
	if err != nil {
		return "", TokenRecord{}, err
	}
	rec = TokenRecord{
		Name: name, Role: role, Prefix: secret[:TokenPrefixLen], CreatedAt: normTime(now), CreatedBy: createdBy,
		ExpiresAt: expiresAt,
	}
	// The unique index decides between concurrent creators; this check only
	// makes the usual case's error plain.
	var n int
	if err := s.db.queryRow(ctx, "SELECT COUNT(*) FROM api_tokens WHERE name = ? AND revoked_at IS NULL", name).Scan(&n); err != nil {
		return "", TokenRecord{}, fmt.Errorf("state: create token %q: %w", name, err)
	}
	if n > 0 {
		return "", TokenRecord{}, fmt.Errorf("state: create token %q: %w (revoke it first or choose another name)", name, ErrTokenNameTaken)
	}
	err = s.db.queryRow(ctx, `INSERT INTO api_tokens (name, role, token_hash, prefix, created_at, created_by, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		rec.Name, rec.Role, hashToken(secret), rec.Prefix, s.dialect.timeArg(rec.CreatedAt), rec.CreatedBy,
		s.dialect.timeArg(ptrTime(rec.ExpiresAt))).Scan(&rec.ID)
	if err != nil {
		if isTokenNameViolation(err) {
			return "", TokenRecord{}, fmt.Errorf("state: create token %q: %w (revoke it first or choose another name)", name, ErrTokenNameTaken)
		}
		return "", TokenRecord{}, fmt.Errorf("state: create token %q: %w", name, err)
	}
	return secret, rec, nil
}

// isTokenNameViolation reports whether err is a violation of the unique
// index on the names of tokens that are not revoked.
func isTokenNameViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505" && pgErr.ConstraintName == "api_tokens_active_name_key"
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		return sqErr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE && strings.Contains(sqErr.Error(), "api_tokens.name")
	}
	return false
}

// LookupToken returns the token whose secret this is, as of now (zero:
// the current time). It fails with ErrTokenInvalid when the secret is
// malformed or unknown, ErrTokenRevoked when the token was revoked and
// ErrTokenExpired when now is at or past its expiry; revoked wins over
// expired. With ErrTokenRevoked and ErrTokenExpired the token is returned
// too, so the caller can log which one was refused; with any error the
// request must be refused.
//
// It records the use in last_used_at, but at most once a minute per token:
// the write happens only when the stored value is a minute older than now
// (a conditional UPDATE, so concurrent requests and replicas do not all
// write). A failure of that write is logged, not returned: bookkeeping
// does not decide whether a request is authenticated.
func (s *Store) LookupToken(ctx context.Context, secret string, now time.Time) (TokenRecord, error) {
	if !wellFormedSecret(secret) {
		return TokenRecord{}, ErrTokenInvalid
	}
	if now.IsZero() {
		now = time.Now()
	}
	now = normTime(now)
	rec, err := scanToken(s.db.queryRow(ctx, "SELECT "+tokenColumns+" FROM api_tokens WHERE token_hash = ?", hashToken(secret)))
	if errors.Is(err, ErrNotFound) {
		return TokenRecord{}, ErrTokenInvalid
	}
	if err != nil {
		return TokenRecord{}, fmt.Errorf("state: look up token: %w", err)
	}
	if rec.RevokedAt != nil {
		return rec, fmt.Errorf("state: token %d (%s): %w", rec.ID, rec.Name, ErrTokenRevoked)
	}
	if rec.ExpiresAt != nil && !now.Before(*rec.ExpiresAt) {
		return rec, fmt.Errorf("state: token %d (%s): %w", rec.ID, rec.Name, ErrTokenExpired)
	}
	if rec.LastUsedAt == nil || !now.Before(rec.LastUsedAt.Add(lastUsedEvery)) {
		n, err := s.db.exec(ctx, `UPDATE api_tokens SET last_used_at = ?
			WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= ?)`,
			s.dialect.timeArg(now), rec.ID, s.dialect.timeArg(now.Add(-lastUsedEvery)))
		switch {
		case err != nil:
			s.log.Warn("recording the use of an API token", "token_id", rec.ID, "err", err)
		case n > 0:
			t := now
			rec.LastUsedAt = &t
		}
	}
	return rec, nil
}

// GetToken reads one token; ErrNotFound if there is none with this id.
func (s *Store) GetToken(ctx context.Context, id int64) (TokenRecord, error) {
	rec, err := scanToken(s.db.queryRow(ctx, "SELECT "+tokenColumns+" FROM api_tokens WHERE id = ?", id))
	if err != nil {
		return TokenRecord{}, fmt.Errorf("state: token %d: %w", id, err)
	}
	return rec, nil
}

// ListTokens returns the tokens by id: those not revoked (expired ones
// included), or every token if includeRevoked.
func (s *Store) ListTokens(ctx context.Context, includeRevoked bool) ([]TokenRecord, error) {
	q := "SELECT " + tokenColumns + " FROM api_tokens"
	if !includeRevoked {
		q += " WHERE revoked_at IS NULL"
	}
	r, err := s.db.query(ctx, q+" ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("state: list tokens: %w", err)
	}
	defer r.Close()
	var out []TokenRecord
	for r.Next() {
		t, err := scanToken(r)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, r.Err()
}

// RevokeToken revokes token id at now (zero: the current time), recording
// who did it, and returns the token as stored afterwards. It returns
// ErrNotFound for an unknown id and ErrTokenAlreadyRevoked for a token
// revoked before (which keeps its first revocation).
func (s *Store) RevokeToken(ctx context.Context, id int64, by string, now time.Time) (TokenRecord, error) {
	if now.IsZero() {
		now = time.Now()
	}
	n, err := s.db.exec(ctx, "UPDATE api_tokens SET revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked_at IS NULL",
		s.dialect.timeArg(now), by, id)
	if err != nil {
		return TokenRecord{}, fmt.Errorf("state: revoke token %d: %w", id, err)
	}
	rec, err := s.GetToken(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return TokenRecord{}, fmt.Errorf("state: revoke token %d: no such token: %w", id, ErrNotFound)
	}
	if err != nil {
		return TokenRecord{}, fmt.Errorf("state: revoke: %w", err)
	}
	if n == 0 {
		who := ""
		if rec.RevokedBy != "" {
			who = " by " + rec.RevokedBy
		}
		return rec, fmt.Errorf("state: revoke token %d (%s): %w (at %s%s)", id, rec.Name, ErrTokenAlreadyRevoked,
			ptrTime(rec.RevokedAt).Format(time.RFC3339), who)
	}
	return rec, nil
}

// CountActiveTokens counts the tokens neither revoked nor expired at now
// (zero: the current time).
func (s *Store) CountActiveTokens(ctx context.Context, now time.Time) (int, error) {
	if now.IsZero() {
		now = time.Now()
	}
	var n int
	err := s.db.queryRow(ctx, "SELECT COUNT(*) FROM api_tokens WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)",
		s.dialect.timeArg(now)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("state: count tokens: %w", err)
	}
	return n, nil
}
