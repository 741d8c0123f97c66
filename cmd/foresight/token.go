package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/seed-f1b503aa/foresight/config"
	"github.com/seed-f1b503aa/foresight/storage/state"
)

const tokenUsage = `usage:
  foresight token create -name NAME -role ROLE [-expires 90d] [-config FILE]
  foresight token list   [-all] [-json] [-config FILE]
  foresight token revoke [-config FILE] -id N      (or: foresight token revoke N)

Manages the API tokens kept in the state database (state: in the
configuration). Roles, least to most privileged for the API: viewer,
operator, admin; ingest may only write metrics (Telegraf).

create prints the token's secret once, on standard output; only its SHA-256
is stored, so it cannot be shown again. list shows each token's prefix (the
first 12 characters of its secret) to tell tokens apart. A revoked token is
refused at once; its name can then be given to a new token.
`

func cmdToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, tokenUsage)
		return usageError{"token: name a subcommand: create, list or revoke"}
	}
	switch args[0] {
	case "create":
		return cmdTokenCreate(ctx, args[1:], stdout, stderr)
	case "list":
		return cmdTokenList(ctx, args[1:], stdout, stderr)
	case "revoke":
		return cmdTokenRevoke(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, tokenUsage)
		return nil
	}
	fmt.Fprint(stderr, tokenUsage)
	return usageError{fmt.Sprintf("token: unknown subcommand %q (use create, list or revoke)", args[0])}
}

// tokenFlags is a flag set for a token subcommand, with -config.
func tokenFlags(name string, stderr io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("token "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, tokenUsage+"\nFlags of token "+name+":\n"); fs.PrintDefaults() }
	cfgPath := fs.String("config", "", "YAML configuration file (state database settings; env FORESIGHT_CONFIG)")
	return fs, cfgPath
}

// parseInterspersed parses flags that may come before and after the
// positional arguments (`token revoke 7 -config f.yaml`) and returns the
// positional ones.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err.Error()}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if len(rest) < len(args) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

// stateMessage is err's text without the state package's prefix, for
// messages about the caller's input.
func stateMessage(err error) string {
	return strings.TrimPrefix(err.Error(), state.ErrInvalidArgument.Error()+": ")
}

func cmdTokenCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfgPath := tokenFlags("create", stderr)
	name := fs.String("name", "", "the token's name: 1 to 64 characters from A-Z, a-z, 0-9, '.', '_' and '-'")
	role := fs.String("role", "", "the token's role: "+strings.Join(state.Roles(), ", "))
	expires := fs.String("expires", "", `lifetime, e.g. 90d, 12h or 30d12h (default: never expires)`)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("token create: unexpected argument %q (use -name and -role)", pos[0])}
	}
	if *name == "" {
		return usageError{"token create: -name is required"}
	}
	if err := state.CheckTokenName(*name); err != nil {
		return usageError{"token create: -name: " + stateMessage(err)}
	}
	if *role == "" {
		return usageError{"token create: -role is required (valid roles: " + strings.Join(state.Roles(), ", ") + ")"}
	}
	if err := state.CheckRole(*role); err != nil {
		return usageError{"token create: -role: " + stateMessage(err)}
	}
	var expiresAt *time.Time
	if *expires != "" && *expires != "never" {
		d, err := config.ParseDuration(*expires)
		if err != nil {
			return usageError{"token create: -expires: " + err.Error()}
		}
		if d <= 0 {
			return usageError{fmt.Sprintf("token create: -expires %q: must be positive (omit it for a token that never expires)", *expires)}
		}
		t := time.Now().Add(d.D())
		expiresAt = &t
	}
	st, closeState, err := loadState(ctx, *cfgPath, stderr)
	if err != nil {
		return err
	}
	defer closeState()
	secret, rec, err := st.CreateToken(ctx, *name, *role, cliActor(), expiresAt)
	if err != nil {
		if errors.Is(err, state.ErrTokenNameTaken) {
			return fmt.Errorf("token create: a token named %q exists and is not revoked: revoke it ('foresight token revoke ID') or choose another name", *name)
		}
		return fmt.Errorf("token create: %w", err)
	}
	// The secret goes to stdout alone, so that it can be piped into a file
	// or a secret store; the notice goes to stderr. Neither is logged.
	if _, err := fmt.Fprintln(stdout, secret); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "Created token %d %q (role %s, prefix %s, expires %s). This is the only time its secret is shown: store it now, it cannot be shown again.\n",
		rec.ID, rec.Name, rec.Role, rec.Prefix, fmtTokenTime(rec.ExpiresAt))
	return nil
}

// tokenJSON is a token in `token list -json`.
type tokenJSON struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Role       string     `json:"role"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"created_at"`
	CreatedBy  string     `json:"created_by"`
	ExpiresAt  *time.Time `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	RevokedBy  string     `json:"revoked_by,omitempty"`
	Active     bool       `json:"active"`
}

func cmdTokenList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfgPath := tokenFlags("list", stderr)
	all := fs.Bool("all", false, "include revoked tokens")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("token list: unexpected argument %q", pos[0])}
	}
	st, closeState, err := loadState(ctx, *cfgPath, stderr)
	if err != nil {
		return err
	}
	defer closeState()
	toks, err := st.ListTokens(ctx, *all)
	if err != nil {
		return fmt.Errorf("token list: %w", err)
	}
	now := time.Now()
	if *asJSON {
		out := make([]tokenJSON, 0, len(toks))
		for _, t := range toks {
			out = append(out, tokenJSON{ID: t.ID, Name: t.Name, Role: t.Role, Prefix: t.Prefix, CreatedAt: t.CreatedAt,
				CreatedBy: t.CreatedBy, ExpiresAt: t.ExpiresAt, LastUsedAt: t.LastUsedAt, RevokedAt: t.RevokedAt,
				RevokedBy: t.RevokedBy, Active: t.Active(now)})
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if len(toks) == 0 {
		if *all {
			fmt.Fprintln(stdout, "no tokens")
		} else {
			fmt.Fprintln(stdout, "no active tokens (-all includes revoked ones)")
		}
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tROLE\tPREFIX\tCREATED\tEXPIRES\tLAST USED\tREVOKED")
	for _, t := range toks {
		exp := fmtTokenTime(t.ExpiresAt)
		if t.ExpiresAt != nil && !now.Before(*t.ExpiresAt) {
			exp += " (expired)"
		}
		rev := fmtTokenTime(t.RevokedAt)
		if t.RevokedAt == nil {
			rev = "-"
		} else if t.RevokedBy != "" {
			rev += " by " + t.RevokedBy
		}
		used := fmtTokenTime(t.LastUsedAt)
		if t.LastUsedAt == nil {
			used = "never"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Role, t.Prefix,
			t.CreatedAt.UTC().Format(time.RFC3339), exp, used, rev)
	}
	return tw.Flush()
}

func cmdTokenRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfgPath := tokenFlags("revoke", stderr)
	idFlag := fs.Int64("id", 0, "the id of the token to revoke (see 'foresight token list')")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	id := *idFlag
	switch {
	case len(pos) > 1:
		return usageError{"token revoke: give one token id"}
	case len(pos) == 1:
		n, err := strconv.ParseInt(pos[0], 10, 64)
		if err != nil || n <= 0 {
			return usageError{fmt.Sprintf("token revoke: %q is not a token id (a positive number, see 'foresight token list')", pos[0])}
		}
		if id != 0 && id != n {
			return usageError{fmt.Sprintf("token revoke: -id %d and argument %d disagree", id, n)}
		}
		id = n
	case id == 0:
		return usageError{"token revoke: name the token: -id N or 'foresight token revoke N'"}
	}
	if id <= 0 {
		return usageError{fmt.Sprintf("token revoke: -id %d: must be a positive token id", id)}
	}
	st, closeState, err := loadState(ctx, *cfgPath, stderr)
	if err != nil {
		return err
	}
	defer closeState()
	rec, err := st.RevokeToken(ctx, id, cliActor(), time.Now())
	switch {
	case errors.Is(err, state.ErrNotFound):
		return fmt.Errorf("token revoke: no token with id %d", id)
	case errors.Is(err, state.ErrTokenAlreadyRevoked):
		by := ""
		if rec.RevokedBy != "" {
			by = " by " + rec.RevokedBy
		}
		return fmt.Errorf("token revoke: token %d %q is already revoked (at %s%s)", id, rec.Name, fmtTokenTime(rec.RevokedAt), by)
	case err != nil:
		return fmt.Errorf("token revoke: %w", err)
	}
	fmt.Fprintf(stdout, "revoked token %d %q (role %s, prefix %s)\n", rec.ID, rec.Name, rec.Role, rec.Prefix)
	return nil
}

func fmtTokenTime(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

// cliActor names who runs the command, for created_by and revoked_by.
func cliActor() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "cli:" + u.Username
	}
	return "cli"
}

// loadState loads the configuration and opens its state database; the
// returned function closes it.
func loadState(ctx context.Context, cfgPath string, stderr io.Writer) (*state.Store, func(), error) {
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		return nil, nil, err
	}
	log := newLogger(cfg.Log, stderr)
	st, err := openState(ctx, cfg, log)
	if err != nil {
		return nil, nil, err
	}
	return st, func() {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := st.Close(cctx); err != nil {
			log.Warn("closing the state database", "err", err)
		}
	}, nil
}

// openState opens the state database the configuration names, as serve
// does (creating the SQLite file's directory if needed), without starting
// any job worker.
func openState(ctx context.Context, cfg config.Config, log *slog.Logger) (*state.Store, error) {
	sc := state.Config{Driver: cfg.State.Driver, Path: cfg.State.Path, DSN: cfg.State.DSN, Schema: cfg.State.Schema,
		Logger: quieter(log.With("component", "state"), slog.LevelWarn)}
	if sc.Driver == "" || sc.Driver == state.DriverSQLite {
		if err := os.MkdirAll(filepath.Dir(sc.Path), 0o755); err != nil {
			return nil, fmt.Errorf("state.path: %w", err)
		}
	}
	st, err := state.Open(ctx, sc)
	if err != nil {
		return nil, fmt.Errorf("state database: %w", err)
	}
	return st, nil
}

// bootstrapTokenName names the admin token bootstrapAdminToken creates.
const bootstrapTokenName = "bootstrap-admin"

// bootstrapAdminToken gives a fresh installation its first admin token:
// when no active token exists at now, it creates an admin token named
// "bootstrap-admin" and writes its secret to path (parent directories
// created, mode 0600). It refuses to overwrite an existing file. When an
// active token exists it does nothing and returns false. The secret goes
// only to the file, never to a log.
//
// If the file cannot be written, the new token is revoked again (nobody
// could use it) so that the next start can bootstrap anew. Replicas
// bootstrapping together are safe: one creates the token, the others find
// the name taken by an active token and do nothing.
func bootstrapAdminToken(ctx context.Context, st *state.Store, path string, now time.Time) (created bool, err error) {
	if path == "" {
		return false, errors.New("bootstrap token: no file given (auth.bootstrap_token_file)")
	}
	active := func() (bool, error) {
		n, err := st.CountActiveTokens(ctx, now)
		if err != nil {
			return false, fmt.Errorf("bootstrap token: %w", err)
		}
		return n > 0, nil
	}
	if ok, err := active(); err != nil || ok {
		return false, err
	}
	if _, err := os.Lstat(path); err == nil {
		if ok, err := active(); err != nil || ok { // another replica just bootstrapped
			return false, err
		}
		return false, fmt.Errorf("bootstrap token: %s already exists but no active token is left: it is not overwritten; "+
			"move it away and restart, or create a token with 'foresight token create'", path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("bootstrap token: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return false, fmt.Errorf("bootstrap token: %w", err)
	}
	secret, rec, err := st.CreateToken(ctx, bootstrapTokenName, state.RoleAdmin, "bootstrap", nil)
	if errors.Is(err, state.ErrTokenNameTaken) {
		if ok, aerr := active(); aerr != nil || ok {
			return false, aerr
		}
		return false, fmt.Errorf("bootstrap token: an expired token is named %q: revoke it ('foresight token list -all', 'foresight token revoke ID') and restart",
			bootstrapTokenName)
	}
	if err != nil {
		return false, fmt.Errorf("bootstrap token: %w", err)
	}
	if err := writeSecretFile(path, secret); err != nil {
		if _, rerr := st.RevokeToken(context.WithoutCancel(ctx), rec.ID, "bootstrap", time.Time{}); rerr != nil {
			err = errors.Join(err, fmt.Errorf("revoking the unusable token %d: %w", rec.ID, rerr))
		}
		return false, fmt.Errorf("bootstrap token: %w", err)
	}
	return true, nil
}

// writeSecretFile creates path with mode 0600 holding secret and a
// newline; it fails if path exists.
func writeSecretFile(path, secret string) (err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s already exists: it is not overwritten", path)
		}
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			_ = os.Remove(path)
		}
	}()
	if err := f.Chmod(0o600); err != nil { // whatever the umask
		return err
	}
	if _, err := f.WriteString(secret + "\n"); err != nil {
		return err
	}
	return f.Sync()
}
