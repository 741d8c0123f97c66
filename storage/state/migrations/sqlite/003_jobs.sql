-- The latest successful snapshot of each scheduled predict job (SQLite), so
-- that a restarted server (or another process on the same database) serves
-- the last predictions at once.
--
-- Times are TEXT in the fixed-width UTC form 2006-01-02T15:04:05.000000Z, as
-- in 001; payload_json is the fleet snapshot as JSON.

CREATE TABLE job_snapshots (
    job          TEXT    PRIMARY KEY,
    run_id       INTEGER NOT NULL,
    computed_at  TEXT    NOT NULL,
    payload_json TEXT    NOT NULL,
    -- version is 1 on insert and grows by one on every replacement.
    version      INTEGER NOT NULL DEFAULT 1,
    updated_at   TEXT    NOT NULL
);

