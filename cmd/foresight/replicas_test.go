package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/seed-f1b503aa/foresight/config"
	"github.com/seed-f1b503aa/foresight/datasets"
	"github.com/seed-f1b503aa/foresight/engine/fleet"
)

// replicaPostgres returns the test PostgreSQL's URL, skipping when it is
// unreachable unless FORESIGHT_REQUIRE_POSTGRES (or CI) makes that a
// failure.
func replicaPostgres(t *testing.T) string {
	t.Helper()
	u := os.Getenv("FORESIGHT_TEST_POSTGRES_URL")
	if u == "" {
		u = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err == nil {
		err = conn.Ping(ctx)
		conn.Close(ctx)
	}
	if err != nil {
		if os.Getenv("CI") == "true" || os.Getenv("FORESIGHT_REQUIRE_POSTGRES") != "" {
			t.Fatalf("PostgreSQL at %s is required but unreachable: %v", u, err)
		}
		t.Skipf("PostgreSQL at %s unreachable (set FORESIGHT_TEST_POSTGRES_URL; FORESIGHT_REQUIRE_POSTGRES=1 fails instead): %v", u, err)
	}
	return u
}

// TestReplicasSplitDistributedRun starts three `foresight serve` replicas
// on one PostgreSQL state schema and one InfluxDB database with
// jobs.distributed on, triggers a predict run through one of them, SIGKILLs
// a replica while it holds a batch, and checks that the run finishes once,
// with every entity predicted exactly once (the same ids as a
// single-process run), one ticket per fingerprint and one delivery job per
// (target, idempotency key).
func TestReplicasSplitDistributedRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs three servers; skipped with -short")
	}
	pgURL := replicaPostgres(t)
	influx := influxURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// a fresh schema
	var rb [6]byte
	_, _ = rand.Read(rb[:])
	schema := "foresight_replicas_" + hex.EncodeToString(rb[:])
	admin, err := pgx.Connect(ctx, pgURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), pgURL)
		if err != nil {
			t.Errorf("drop schema: %v", err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})

	// the metric store: a demo fleet of 6 hosts, 10 days at 5 minutes
	dir := t.TempDir()
	db := fmt.Sprintf("foresight_replicas_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9)
	createInfluxDB(t, influx, db)
	end := time.Now().UTC().Truncate(time.Minute)
	fl, err := datasets.GenerateFleet(datasets.FleetConfig{Hosts: 6, Days: 10, Step: 5 * time.Minute, Seed: 42, End: end})
	if err != nil {
		t.Fatal(err)
	}
	lp := filepath.Join(dir, "fleet.lp")
	f, err := os.Create(lp)
	if err != nil {
		t.Fatal(err)
	}
	if err := fl.WriteLineProtocol(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	ingestCfg := filepath.Join(dir, "ingest.yaml")
	if err := os.WriteFile(ingestCfg, fmt.Appendf(nil, "store: {backend: influxdb, influxdb: {url: %q, bucket: %q}}\nlog: {level: warn}\n", influx, db), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, []string{"ingest", "-config", ingestCfg, "-quiet", lp}, io.Discard, io.Discard); err != nil {
		t.Fatalf("ingest: %v", err)
	}

	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK)
	}))
	defer recv.Close()

	bin := filepath.Join(t.TempDir(), "foresight")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cfg := fmt.Sprintf(`
server: {listen: "127.0.0.1:0"}
store: {backend: influxdb, influxdb: {url: %q, bucket: %q}}
log: {level: info}
state: {driver: postgres, dsn: %q, schema: %q, rescue_stuck_after: 4s, job_timeout: 2s}
jobs:
  enabled: false
  distributed: {enabled: true, batch_size: 2}
  writeback: {enabled: true}
  run:
    - {name: fleet, type: predict, kinds: [disk, memleak], schedule: "0 0 1 1 *", timeout: 5m}
tickets:
  kinds:
    disk: {minor_within: 2000h}
    memleak: {minor_within: 2000h}
  routes:
    critical: [json]
    major: [json]
    minor: [json]
notify:
  targets:
    - {name: json, format: json, url: %q, secret: s3cret}
`, influx, db, pgURL, schema, recv.URL)
	cfgPath := filepath.Join(dir, "foresight.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	procs := make([]*serveProc, 3)
	for i := range procs {
		procs[i] = startServeProc(t, bin, cfgPath)
	}
	dump := func() string {
		var b strings.Builder
		for i, p := range procs {
			fmt.Fprintf(&b, "--- replica %d (pid %d) ---\n%s\n", i, p.cmd.Process.Pid, p.err.String())
		}
		return b.String()
	}

	pcfg, err := pgx.ParseConfig(pgURL)
	if err != nil {
		t.Fatal(err)
	}
	pcfg.RuntimeParams["search_path"] = schema
	pg, err := pgx.ConnectConfig(ctx, pcfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close(context.Background())

	// trigger through replica 0
	resp, err := http.Post(procs[0].base+"/api/v1/jobs/fleet/trigger", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	var tr struct {
		RunID int64 `json:"run_id"`
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 || json.Unmarshal(body, &tr) != nil || tr.RunID == 0 {
		t.Fatalf("trigger: %s %s", resp.Status, body)
	}

	// kill a replica holding a batch (not River's leader when another one
	// holds a batch too: the leader's rescuer then runs at once)
	pidOf := func(clientID string) int {
		for i, p := range procs {
			if strings.Contains(clientID, fmt.Sprintf("_%d_", p.cmd.Process.Pid)) {
				return i
			}
		}
		return -1
	}
	victim := -1
	deadline := time.Now().Add(30 * time.Second)
	for victim < 0 && time.Now().Before(deadline) {
		var leader string
		_ = pg.QueryRow(ctx, "SELECT leader_id FROM river_leader LIMIT 1").Scan(&leader)
		rows, err := pg.Query(ctx, "SELECT attempted_by[array_length(attempted_by, 1)] FROM river_job WHERE kind = 'foresight.job_batch' AND state = 'running'")
		if err != nil {
			t.Fatal(err)
		}
		var holders []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			holders = append(holders, id)
		}
		rows.Close()
		for _, h := range holders {
			if i := pidOf(h); i >= 0 && (h != leader || victim < 0) {
				victim = i
				if h != leader {
					break
				}
			}
		}
		if victim < 0 {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if victim < 0 {
		t.Fatalf("no replica was seen holding a batch\n%s", dump())
	}
	if err := procs[victim].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = procs[victim].waitExit(t, 10*time.Second)
	t.Logf("killed replica %d at %s", victim, time.Since(t0).Round(time.Millisecond))
	survivors := slices.Delete(slices.Clone(procs), victim, victim+1)

	// the run finishes
	deadline = time.Now().Add(75 * time.Second)
	for {
		var finished bool
		var runErr string
		if err := pg.QueryRow(ctx, "SELECT finished_at IS NOT NULL, error FROM job_runs WHERE id = $1", tr.RunID).Scan(&finished, &runErr); err != nil {
			t.Fatal(err)
		}
		if finished {
			if runErr != "" {
				t.Fatalf("run %d failed: %s", tr.RunID, runErr)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %d did not finish within 75s of the kill\n%s", tr.RunID, dump())
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("run finished at %s", time.Since(t0).Round(time.Millisecond))

	// one run record, finished
	var runs, finishedRuns int
	if err := pg.QueryRow(ctx, "SELECT count(*), count(finished_at) FROM job_runs WHERE job = 'fleet'").Scan(&runs, &finishedRuns); err != nil {
		t.Fatal(err)
	}
	if runs != 1 || finishedRuns != 1 {
		t.Fatalf("job_runs: %d runs, %d finished; want 1 and 1", runs, finishedRuns)
	}
	// every batch recorded once, the run finalized
	var batches, remaining, results int
	var finalized bool
	if err := pg.QueryRow(ctx, `SELECT batches, remaining, finalized_at IS NOT NULL,
		(SELECT count(*) FROM job_batch_results r WHERE r.run_id = b.run_id) FROM job_batches b WHERE run_id = $1`, tr.RunID).
		Scan(&batches, &remaining, &finalized, &results); err != nil {
		t.Fatal(err)
	}
	if batches < 3 || remaining != 0 || !finalized || results != batches {
		t.Fatalf("job_batches: %d batches, %d remaining, finalized %v, %d results", batches, remaining, finalized, results)
	}
	var rescued int
	if err := pg.QueryRow(ctx, "SELECT count(*) FROM river_job WHERE kind = 'foresight.job_batch' AND errors::text LIKE '%Stuck job rescued%'").Scan(&rescued); err != nil {
		t.Fatal(err)
	}
	if rescued == 0 {
		t.Errorf("no batch job was rescued after the kill")
	}
	var retried []string
	if rows, err := pg.Query(ctx, `SELECT id, attempt, errors::text FROM river_job WHERE kind LIKE 'foresight.job_%' AND attempt > 1`); err == nil {
		for rows.Next() {
			var id int64
			var attempt int
			var errs string
			if rows.Scan(&id, &attempt, &errs) == nil {
				retried = append(retried, fmt.Sprintf("job %d attempt %d: %.300s", id, attempt, errs))
			}
		}
		rows.Close()
	}
	if len(retried) > 0 {
		t.Logf("retried run/batch jobs:\n%s", strings.Join(retried, "\n"))
	}

	// the snapshot: every entity exactly once, the same ids as one process
	var payload []byte
	var snapRun int64
	if err := pg.QueryRow(ctx, "SELECT run_id, payload_json FROM job_snapshots WHERE job = 'fleet'").Scan(&snapRun, &payload); err != nil {
		t.Fatal(err)
	}
	var snap fleet.Snapshot
	if err := json.Unmarshal(payload, &snap); err != nil {
		t.Fatal(err)
	}
	if snapRun != tr.RunID {
		t.Fatalf("snapshot of run %d, want %d", snapRun, tr.RunID)
	}
	got := map[string]int{}
	for _, p := range snap.Predictions {
		got[p.ID]++
	}
	for id, n := range got {
		if n != 1 {
			t.Errorf("prediction %s appears %d times", id, n)
		}
	}
	direct, err := openInflux(ctx, config.InfluxConfig{URL: influx, Bucket: db}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ref, err := (&fleet.Runner{Store: direct, Rules: fleet.DefaultRules(), Kinds: []fleet.Kind{fleet.KindDisk, fleet.KindMemLeak}}).Run(ctx, snap.ComputedAt)
	if err != nil {
		t.Fatal(err)
	}
	var want, have []string
	for _, p := range ref.Predictions {
		want = append(want, p.ID+" "+p.Status)
	}
	for _, p := range snap.Predictions {
		have = append(have, p.ID+" "+p.Status)
	}
	slices.Sort(want)
	slices.Sort(have)
	if len(want) == 0 || !slices.Equal(want, have) {
		t.Fatalf("distributed predictions differ from a single-process run:\n got %v\nwant %v", have, want)
	}

	// every surviving replica serves them
	for _, p := range survivors {
		var pr struct {
			Total int `json:"total"`
		}
		wait := time.Now().Add(15 * time.Second)
		for getJSON(t, p.base+"/api/v1/predictions?limit=1000", &pr) != 200 || pr.Total != len(want) {
			if time.Now().After(wait) {
				t.Fatalf("%s serves %d predictions, want %d", p.base, pr.Total, len(want))
			}
			time.Sleep(200 * time.Millisecond)
		}
	}

	// tickets: one per fingerprint; deliveries: one job per (target, key)
	var tickets, fingerprints int
	if err := pg.QueryRow(ctx, "SELECT count(*), count(DISTINCT fingerprint) FROM tickets").Scan(&tickets, &fingerprints); err != nil {
		t.Fatal(err)
	}
	if tickets == 0 || tickets != fingerprints {
		t.Fatalf("%d tickets for %d fingerprints", tickets, fingerprints)
	}
	var deliveries, keys int
	if err := pg.QueryRow(ctx, `SELECT count(*), count(DISTINCT (args->>'target') || '|' || (args->>'idempotency_key'))
		FROM river_job WHERE kind = 'foresight.webhook_delivery'`).Scan(&deliveries, &keys); err != nil {
		t.Fatal(err)
	}
	if deliveries != keys || deliveries != tickets {
		t.Fatalf("%d delivery jobs, %d distinct (target, key), %d tickets; want one opened event per ticket", deliveries, keys, tickets)
	}
	t.Logf("%d predictions in %d batches (%d rescued), %d tickets, %d deliveries; %s in all", len(want), batches, rescued, tickets,
		deliveries, time.Since(t0).Round(time.Millisecond))
}
