-- Tickets, their audit trail and the runs of scheduled jobs (SQLite).
--
-- Times are TEXT in the fixed-width UTC form 2006-01-02T15:04:05.000000Z, so
-- that text order is time order; JSON columns are TEXT holding JSON.

CREATE TABLE tickets (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    fingerprint      TEXT    NOT NULL,
    kind             TEXT    NOT NULL,
    entity_json      TEXT    NOT NULL DEFAULT '{}',
    state            TEXT    NOT NULL,
    severity         TEXT    NOT NULL DEFAULT '',
    version          INTEGER NOT NULL DEFAULT 1,
    title            TEXT    NOT NULL DEFAULT '',
    summary          TEXT    NOT NULL DEFAULT '',
    body_json        TEXT,
    breach_at        TEXT,
    opened_at        TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL,
    resolved_at      TEXT,
    closed_at        TEXT,
    clear_streak     INTEGER NOT NULL DEFAULT 0,
    reopens          INTEGER NOT NULL DEFAULT 0,
    resolve_reason   TEXT    NOT NULL DEFAULT '',
    assignment_group TEXT    NOT NULL DEFAULT '',
    respond_by       TEXT,
    resolve_by       TEXT
);

-- At most one ticket that is not closed per fingerprint.
CREATE UNIQUE INDEX tickets_open_fingerprint_key ON tickets (fingerprint) WHERE state NOT IN ('closed');
CREATE INDEX tickets_fingerprint_updated_idx ON tickets (fingerprint, updated_at);
CREATE INDEX tickets_state_idx ON tickets (state);
CREATE INDEX tickets_updated_idx ON tickets (updated_at);

CREATE TABLE audit_log (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id    INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    version      INTEGER NOT NULL,
    at           TEXT    NOT NULL,
    actor        TEXT    NOT NULL,
    action       TEXT    NOT NULL,
    from_state   TEXT    NOT NULL DEFAULT '',
    to_state     TEXT    NOT NULL DEFAULT '',
    reason       TEXT    NOT NULL DEFAULT '',
    details_json TEXT
);

CREATE INDEX audit_log_ticket_idx ON audit_log (ticket_id, at, id);
CREATE INDEX audit_log_at_idx ON audit_log (at, id);

CREATE TABLE job_runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    job         TEXT    NOT NULL,
    started_at  TEXT    NOT NULL,
    finished_at TEXT,
    series      INTEGER NOT NULL DEFAULT 0,
    failures    INTEGER NOT NULL DEFAULT 0,
    error       TEXT    NOT NULL DEFAULT ''
);

CREATE INDEX job_runs_job_started_idx ON job_runs (job, started_at);
CREATE INDEX job_runs_started_idx ON job_runs (started_at);
