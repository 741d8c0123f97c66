#!/usr/bin/env bash
# Fault tests that are not part of `make test`, as `make fault-test` runs
# them:
#   - TestFaultPostgresRestartDuringRun restarts the machine's PostgreSQL
#     cluster (pg_ctlcluster ... restart) while a predict run and its ticket
#     rules are in progress. Restarting the shared PostgreSQL breaks any
#     other test using it at that moment, so run this alone, never beside
#     `make test`.
#   - TestFaultInfluxStoppedDuringIngestAndJobs (its own private influxd,
#     also part of `make test`) and TestDiskFull (the embedded store on a
#     full tmpfs; needs root, skips otherwise), for a complete fault pass.
#
# PostgreSQL: FORESIGHT_TEST_POSTGRES_URL (default
# postgres://postgres@127.0.0.1:5432/test?sslmode=disable); the test uses a
# fresh schema and drops it. pg_ctlcluster needs root or the postgres user.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v pg_ctlcluster >/dev/null || { echo "fault-test.sh: pg_ctlcluster not found (Debian's postgresql-common)" >&2; exit 1; }
versions=(/etc/postgresql/*)
[[ ${#versions[@]} == 1 && -d ${versions[0]} ]] || { echo "fault-test.sh: expected one PostgreSQL version under /etc/postgresql" >&2; exit 1; }

export FORESIGHT_FAULT_PG=1 FORESIGHT_REQUIRE_POSTGRES=1
# The InfluxDB fault test runs when influxd is built (scripts/influxdb.sh start builds it).
go test -count=1 -timeout 20m -v -run 'TestFault' ./cmd/foresight/ "$@"
go test -count=1 -timeout 5m -v -run 'TestDiskFull' ./storage/embedded/ "$@"
