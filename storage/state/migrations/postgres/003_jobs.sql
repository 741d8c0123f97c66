-- The latest successful snapshot of each scheduled predict job
-- (PostgreSQL), so that a restarted server (or another replica) serves the
-- last predictions at once.

CREATE TABLE job_snapshots (
    job          TEXT        PRIMARY KEY,
    run_id       BIGINT      NOT NULL,
    computed_at  TIMESTAMPTZ NOT NULL,
    payload_json JSONB       NOT NULL,
    -- version is 1 on insert and grows by one on every replacement.
    version      BIGINT      NOT NULL DEFAULT 1,
    updated_at   TIMESTAMPTZ NOT NULL
);

