package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// crashIterations is how often TestCrashKillMidDeliveryAndRestart kills and
// restarts the server: FORESIGHT_CRASH_ITERATIONS, default 3 in `make test`
// (each iteration waits ~25 s for River's leader lease of the killed
// process to expire); `make crash-test` runs 20 in a row.
func crashIterations() int {
	if n, err := strconv.Atoi(os.Getenv("FORESIGHT_CRASH_ITERATIONS")); err == nil && n > 0 {
		return n
	}
	return 3
}

// crashReceiver is a slow loopback webhook receiver: every request takes
// crashDelay, so deliveries are in flight when the server is killed.
type crashReceiver struct {
	mu sync.Mutex
	// started counts requests that reached the handler.
	started int
	// delivered holds the (target path, Idempotency-Key) pairs of requests
	// answered in full (not cut off by the sender's death).
	delivered map[[2]string]int
	// events are the event types seen per pair (empty for formats without one).
	events     map[[2]string]string
	firstStart chan struct{}
}

const crashDelay = 300 * time.Millisecond

func newCrashReceiver() *crashReceiver {
	return &crashReceiver{delivered: map[[2]string]int{}, events: map[[2]string]string{}, firstStart: make(chan struct{})}
}

func (c *crashReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var ev struct {
		Event string `json:"event"`
	}
	_ = json.Unmarshal(body, &ev)
	k := [2]string{strings.TrimPrefix(r.URL.Path, "/"), r.Header.Get("Idempotency-Key")}
	c.mu.Lock()
	c.started++
	if c.started == 1 {
		close(c.firstStart)
	}
	c.mu.Unlock()
	select {
	case <-time.After(crashDelay):
	case <-r.Context().Done():
		return // the sender died mid-request: not delivered
	}
	c.mu.Lock()
	c.delivered[k]++
	if ev.Event != "" {
		c.events[k] = ev.Event
	}
	c.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (c *crashReceiver) snapshot() (map[[2]string]int, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := make(map[[2]string]int, len(c.delivered))
	for k, v := range c.delivered {
		m[k] = v
	}
	return m, c.started
}

// serveProc is a `foresight serve` child process.
type serveProc struct {
	cmd      *exec.Cmd
	out, err syncBuffer
	done     chan error
	base     string
}

func startServeProc(t *testing.T, bin, cfgPath string) *serveProc {
	t.Helper()
	p := &serveProc{done: make(chan error, 1)}
	p.cmd = exec.Command(bin, "serve")
	p.cmd.Env = append(os.Environ(), "FORESIGHT_CONFIG="+cfgPath)
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.err
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() { // a failed iteration must not leave a process behind
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m := upRE.FindStringSubmatch(p.out.String()); m != nil {
			p.base = m[1]
			return p
		}
		select {
		case err := <-p.done:
			p.done <- err
			t.Fatalf("serve exited early: %v\n%s", err, p.err.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("serve did not come up; log:\n%s", p.err.String())
	return nil
}

// waitExit waits for the process to end.
func (p *serveProc) waitExit(t *testing.T, within time.Duration) error {
	t.Helper()
	select {
	case err := <-p.done:
		p.done <- err
		return err
	case <-time.After(within):
		t.Fatalf("serve did not exit within %s; log:\n%s", within, p.err.String())
		return nil
	}
}

type crashTicket struct {
	ID          string `json:"id"`
	Fingerprint string `json:"fingerprint"`
	State       string `json:"state"`
	Version     int    `json:"version"`
}

// crashJob is a webhook delivery job in River's table.
type crashJob struct {
	state, target, key string
	rescued            bool
}

func readDeliveryJobs(db *sql.DB) ([]crashJob, error) {
	rows, err := db.Query(`SELECT state, json(args), json(errors) FROM river_job WHERE kind = 'foresight.webhook_delivery'`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []crashJob
	for rows.Next() {
		var st, args string
		var errs sql.NullString
		if err := rows.Scan(&st, &args, &errs); err != nil {
			return nil, err
		}
		var a struct {
			Target         string `json:"target"`
			IdempotencyKey string `json:"idempotency_key"`
		}
		if err := json.Unmarshal([]byte(args), &a); err != nil {
			return nil, err
		}
		out = append(out, crashJob{state: st, target: a.Target, key: a.IdempotencyKey,
			rescued: strings.Contains(errs.String, "Stuck job rescued")})
	}
	return out, rows.Err()
}

// TestCrashKillMidDeliveryAndRestart kills `foresight serve` with SIGKILL
// while webhook deliveries are in flight, restarts it on the same data and
// checks that every queued delivery still reaches every routed target (the
// interrupted ones are rescued and sent again) and that no ticket is
// duplicated — crashIterations() times, each on fresh directories.
func TestCrashKillMidDeliveryAndRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("kill-and-restart crash test builds the binary and restarts it many times; skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "foresight")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	total := time.Now()
	iterations := crashIterations()
	for i := 1; i <= iterations; i++ {
		start := time.Now()
		var ok bool
		t.Run(fmt.Sprintf("iteration-%02d", i), func(t *testing.T) { ok = crashIteration(t, bin) })
		t.Logf("iteration %d: %s", i, time.Since(start).Round(time.Millisecond))
		if !ok {
			t.Fatalf("iteration %d failed", i)
		}
	}
	t.Logf("%d iterations in %s", iterations, time.Since(total).Round(time.Millisecond))
}

func crashIteration(t *testing.T, bin string) bool {
	recvH := newCrashReceiver()
	recv := httptest.NewServer(recvH)
	defer recv.Close()
	dir := t.TempDir()
	statePath := filepath.Join(dir, "state.db")
	cfg := fmt.Sprintf(`
server: {listen: "127.0.0.1:0"}
store: {backend: embedded, embedded: {dir: %q}}
demo: {preload: true, hosts: 3, days: 40, step: 5m}
log: {level: warn}
state: {driver: sqlite, path: %q, rescue_stuck_after: 2s, job_timeout: 1s}
tickets:
  kinds:
    disk: {minor_within: 2000h}
    memleak: {minor_within: 2000h}
  routes:
    critical: [json, am]
    major: [json, am]
    minor: [json, am]
notify:
  targets:
    - {name: json, format: json, url: %q, secret: s3cret}
    - {name: am, format: alertmanager, url: %q}
`, filepath.Join(dir, "tsdb"), statePath, recv.URL+"/json", recv.URL+"/am")
	cfgPath := filepath.Join(dir, "foresight.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	// 1. first run: killed as soon as a delivery is in flight
	t0 := time.Now()
	p1 := startServeProc(t, bin, cfgPath)
	select {
	case <-recvH.firstStart:
	case <-time.After(60 * time.Second):
		t.Fatalf("no delivery started within 60s; log:\n%s", p1.err.String())
	}
	if err := p1.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = p1.waitExit(t, 10*time.Second)
	tKill := time.Now()
	_, startedAtKill := recvH.snapshot()

	// 2. restart on the same directories
	p2 := startServeProc(t, bin, cfgPath)
	db, err := sql.Open("sqlite", "file:"+statePath+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	// 3. wait until every queued delivery was worked and received
	var (
		tickets []crashTicket
		jobs    []crashJob
		why     string
	)
	deadline := time.Now().Add(45 * time.Second)
	for {
		why = ""
		var list struct {
			Tickets []crashTicket `json:"tickets"`
		}
		getJSON(t, p2.base+"/api/v1/tickets", &list)
		tickets = list.Tickets
		jobs, err = readDeliveryJobs(db)
		got, _ := recvH.snapshot()
		queued := map[[2]string]bool{}
		switch {
		case err != nil:
			why = "reading river_job: " + err.Error()
		case len(tickets) == 0:
			why = "no tickets"
		}
		for _, j := range jobs {
			queued[[2]string{j.target, j.key}] = true
			if why == "" && j.state != "completed" {
				why = fmt.Sprintf("job %s %s is %s", j.target, j.key, j.state)
			}
			if why == "" && got[[2]string{j.target, j.key}] == 0 {
				why = fmt.Sprintf("job %s %s completed but never received", j.target, j.key)
			}
		}
		// every ticket's current version was queued to both targets
		for _, tk := range tickets {
			for _, target := range []string{"json", "am"} {
				if k := [2]string{target, fmt.Sprintf("%s:%d", tk.ID, tk.Version)}; why == "" && !queued[k] {
					why = fmt.Sprintf("ticket %s v%d has no delivery to %s", tk.ID, tk.Version, target)
				}
			}
		}
		if why == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries incomplete 45s after the restart: %s; log:\n%s", why, p2.err.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	tDone := time.Now()
	var dead struct {
		DeadLetters []any `json:"dead_letters"`
	}
	getJSON(t, p2.base+"/api/v1/deliveries/dead", &dead)
	if len(dead.DeadLetters) != 0 {
		t.Errorf("dead letters: %v", dead.DeadLetters)
	}
	rescued := 0
	for _, j := range jobs {
		if j.rescued {
			rescued++
		}
	}
	if rescued == 0 {
		t.Errorf("no delivery was rescued although %d had started when the process was killed", startedAtKill)
	}

	// 4. no duplicate tickets, by the API
	fps := map[string]bool{}
	for _, tk := range tickets {
		if fps[tk.Fingerprint] {
			t.Errorf("two tickets for %s", tk.Fingerprint)
		}
		fps[tk.Fingerprint] = true
	}

	// 5. graceful stop
	if err := p2.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p2.waitExit(t, 30*time.Second); err != nil {
		t.Errorf("serve after SIGTERM: %v; log:\n%s", err, p2.err.String())
	}

	// … and by the database
	rows, err := db.QueryContext(context.Background(),
		`SELECT fingerprint, count(*) FROM tickets WHERE state NOT IN ('closed') GROUP BY fingerprint HAVING count(*) > 1`)
	if err != nil {
		t.Fatal(err)
	}
	var dups []string
	for rows.Next() {
		var fp string
		var n int
		if err := rows.Scan(&fp, &n); err != nil {
			t.Fatal(err)
		}
		dups = append(dups, fmt.Sprintf("%s×%d", fp, n))
	}
	rows.Close()
	if len(dups) > 0 {
		sort.Strings(dups)
		t.Errorf("tickets open twice in the database: %v", dups)
	}
	got, started := recvH.snapshot()
	redelivered := 0
	for _, n := range got {
		if n > 1 {
			redelivered++
		}
	}
	t.Logf("%d tickets, %d delivery jobs (%d rescued), %d requests started (%d before the kill), %d pairs received more than once; killed after %s, all delivered %s after the restart",
		len(tickets), len(jobs), rescued, started, startedAtKill, redelivered,
		tKill.Sub(t0).Round(time.Millisecond), tDone.Sub(tKill).Round(time.Millisecond))
	return !t.Failed()
}
