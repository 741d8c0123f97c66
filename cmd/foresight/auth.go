package main

import (
	"context"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/seed-f1b503aa/foresight/api"
	"github.com/seed-f1b503aa/foresight/config"
	"github.com/seed-f1b503aa/foresight/storage/state"
)

// apiAuth builds the API's access control from the configuration. With
// auth on and no token yet, it creates an admin token and writes it to
// auth.bootstrap_token_file; the log names the file, never the secret.
func apiAuth(ctx context.Context, cfg config.Config, st *state.Store, log *slog.Logger) (api.AuthOptions, error) {
	opts := api.AuthOptions{
		Enabled:   cfg.Auth.Enabled,
		RateLimit: cfg.Auth.RateLimit,
		Burst:     cfg.Auth.Burst,
		Audit:     api.AuditToState(st),
	}
	if !cfg.Auth.Enabled {
		log.Warn("API access control is off (auth.enabled: false): anyone who reaches the port is an admin; turn it on outside a laptop")
		return opts, nil
	}
	opts.Authenticate = api.TokensFromState(st, time.Now)
	if cfg.Auth.BootstrapTokenFile != "" {
		created, err := bootstrapAdminToken(ctx, st, cfg.Auth.BootstrapTokenFile, time.Now())
		if err != nil {
			return opts, err
		}
		if created {
			log.Warn("no API token existed: an admin token was created; read it from the file, then create named tokens and revoke it",
				"file", cfg.Auth.BootstrapTokenFile)
		}
	}
	return opts, nil
}

// purgeAuditLoop deletes audit records older than retention, at start and
// then hourly, until ctx ends.
func purgeAuditLoop(ctx context.Context, st *state.Store, retention time.Duration, log *slog.Logger) {
	if retention <= 0 {
		return
	}
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		n, err := st.PurgeAPIAudit(ctx, time.Now().Add(-retention))
		if err != nil && ctx.Err() == nil {
			log.Warn("purging old audit records", "err", err)
		} else if n > 0 {
			log.Info("purged old audit records", "deleted", n, "retention", retention)
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}

// redactedConfig is the configuration as admins may read it over the API:
// secrets, tokens, passwords and DSNs replaced, and URLs stripped of
// credentials and query strings (chat robot URLs carry access tokens there).
func redactedConfig(cfg config.Config) any {
	b, err := yaml.Marshal(cfg)
	if err != nil {
		return map[string]any{"error": err.Error()}
	}
	var doc any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return map[string]any{"error": err.Error()}
	}
	return redact(doc, "")
}

func redact(v any, key string) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			t[k] = redact(x, strings.ToLower(k))
		}
		return t
	case []any:
		for i, x := range t {
			t[i] = redact(x, key)
		}
		return t
	case string:
		if t == "" {
			return t
		}
		for _, s := range []string{"secret", "token", "password", "dsn"} {
			if strings.Contains(key, s) && key != "bootstrap_token_file" {
				return "<redacted>"
			}
		}
		if strings.Contains(key, "url") {
			if u, err := url.Parse(t); err == nil && u.Host != "" {
				u.User = nil
				if u.RawQuery != "" {
					u.RawQuery = "<redacted>"
				}
				return u.String()
			}
		}
	}
	return v
}
