-- Distributed job runs (jobs.distributed, which needs PostgreSQL; the
-- tables exist on SQLite too so that both dialects share one schema):
-- job_batches is a run's bookkeeping, job_batch_results each batch's
-- results, recorded once. Times are TEXT as in 001.

CREATE TABLE job_batches (
    run_id        INTEGER PRIMARY KEY,
    job           TEXT    NOT NULL,
    computed_at   TEXT    NOT NULL,
    batches       INTEGER NOT NULL,
    remaining     INTEGER NOT NULL,
    series        INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT    NOT NULL,
    finalized_at  TEXT,
    after_done_at TEXT
);

CREATE INDEX job_batches_job_idx ON job_batches (job, created_at);

CREATE TABLE job_batch_results (
    run_id       INTEGER NOT NULL REFERENCES job_batches (run_id) ON DELETE CASCADE,
    batch        INTEGER NOT NULL,
    series       INTEGER NOT NULL,
    failures     INTEGER NOT NULL,
    payload_json TEXT,
    worker       TEXT    NOT NULL DEFAULT '',
    created_at   TEXT    NOT NULL,
    PRIMARY KEY (run_id, batch)
);
