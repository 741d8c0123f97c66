-- API tokens with roles, and the audit log of mutating API calls (SQLite).
--
-- Times are TEXT in the fixed-width UTC form 2006-01-02T15:04:05.000000Z, as
-- in 001, so that text order is time order.

-- Only the SHA-256 of a token's secret is stored (hex), never the secret.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT    NOT NULL,
    role         TEXT    NOT NULL,
    token_hash   TEXT    NOT NULL,
    prefix       TEXT    NOT NULL,
    created_at   TEXT    NOT NULL,
    created_by   TEXT    NOT NULL DEFAULT '',
    expires_at   TEXT,
    last_used_at TEXT,
    revoked_at   TEXT,
    revoked_by   TEXT    NOT NULL DEFAULT ''
);

CREATE UNIQUE INDEX api_tokens_hash_key ON api_tokens (token_hash);
-- A name is unique among the tokens that are not revoked.
CREATE UNIQUE INDEX api_tokens_active_name_key ON api_tokens (name) WHERE revoked_at IS NULL;

-- Distinct from audit_log, which records ticket changes.
CREATE TABLE api_audit (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    token_id    INTEGER,
    role        TEXT    NOT NULL DEFAULT '',
    action      TEXT    NOT NULL,
    method      TEXT    NOT NULL DEFAULT '',
    route       TEXT    NOT NULL DEFAULT '',
    target      TEXT    NOT NULL DEFAULT '',
    status      INTEGER NOT NULL DEFAULT 0,
    outcome     TEXT    NOT NULL,
    request_id  TEXT    NOT NULL DEFAULT '',
    remote_addr TEXT    NOT NULL DEFAULT '',
    detail      TEXT    NOT NULL DEFAULT ''
);

CREATE INDEX api_audit_at_idx ON api_audit (at, id);
CREATE INDEX api_audit_actor_at_idx ON api_audit (actor, at, id);
CREATE INDEX api_audit_action_at_idx ON api_audit (action, at, id);
