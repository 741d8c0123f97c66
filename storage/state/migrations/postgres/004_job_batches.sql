-- Distributed job runs (PostgreSQL, jobs.distributed): a run's work is
-- split into batches worked by any replica through River. job_batches is
-- the run's bookkeeping (how many batches are still to be recorded, and
-- whether the run was finalized); job_batch_results holds each batch's
-- results once, however often River works the batch.

CREATE TABLE job_batches (
    run_id       BIGINT      PRIMARY KEY,
    job          TEXT        NOT NULL,
    computed_at  TIMESTAMPTZ NOT NULL,
    batches      INTEGER     NOT NULL,
    remaining    INTEGER     NOT NULL,
    series       INTEGER     NOT NULL DEFAULT 0,
    created_at   TIMESTAMPTZ NOT NULL,
    -- set in the transaction that stores the snapshot and the run's end
    finalized_at TIMESTAMPTZ,
    -- set once the ticket rules ran on the finalized snapshot
    after_done_at TIMESTAMPTZ
);

CREATE INDEX job_batches_job_idx ON job_batches (job, created_at);

CREATE TABLE job_batch_results (
    run_id       BIGINT      NOT NULL REFERENCES job_batches (run_id) ON DELETE CASCADE,
    batch        INTEGER     NOT NULL,
    series       INTEGER     NOT NULL,
    failures     INTEGER     NOT NULL,
    -- the batch's predictions (predict jobs) or failures (forecast jobs)
    payload_json JSONB,
    worker       TEXT        NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (run_id, batch)
);
