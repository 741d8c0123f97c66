package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for a writer and a poller.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var upRE = regexp.MustCompile(`Foresight is up: (https?://\S+)`)

// startServe runs `foresight serve` in-process with the environment already
// set by the caller and returns its base URL; the server stops at cleanup.
func startServe(t *testing.T) string {
	t.Helper()
	base, _ := startServeLogs(t)
	return base
}

// startServeLogs is startServe that also returns everything the server
// printed (stdout, then the log on stderr).
func startServeLogs(t *testing.T) (string, func() string) {
	t.Helper()
	t.Setenv("FORESIGHT_STATE_PATH", filepath.Join(t.TempDir(), "state.db"))
	base, _, logs := serveIn(t, 30*time.Second)
	return base, logs
}

// serveIn runs `foresight serve` in-process with the environment already
// set by the caller, waits up to within for it to come up, and returns its
// base URL, a function that stops it and waits for it to return (also run
// at cleanup), and one returning everything it printed so far.
func serveIn(t *testing.T, within time.Duration) (string, func(), func() string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, &out, &errOut) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve returned %v; log:\n%s", err, errOut.String())
			}
		case <-time.After(within):
			t.Errorf("serve did not shut down within %s", within)
		}
	}
	t.Cleanup(stop)
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if m := upRE.FindStringSubmatch(out.String()); m != nil {
			return m[1], stop, func() string { return out.String() + errOut.String() }
		}
		select {
		case err := <-done:
			t.Fatalf("serve exited early: %v\n%s", err, errOut.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("serve did not come up; log:\n%s", errOut.String())
	return "", nil, nil
}

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if v != nil {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("%s: %v", url, err)
		}
	}
	return resp.StatusCode
}

type seriesList struct {
	Series []struct {
		ID string `json:"id"`
	} `json:"series"`
	Total int `json:"total"`
}

// waitReady polls /readyz until 200 (the demo preload finished).
func waitReady(t *testing.T, base string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	var last map[string]any
	for time.Now().Before(deadline) {
		last = nil
		if getJSON(t, base+"/readyz", &last) == 200 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("not ready after %s: %v", within, last)
}

func TestServeEmbeddedWithDemoFleet(t *testing.T) {
	t.Setenv("FORESIGHT_SERVER_LISTEN", "127.0.0.1:0")
	t.Setenv("FORESIGHT_STORE_BACKEND", "embedded")
	t.Setenv("FORESIGHT_STORE_EMBEDDED_DIR", t.TempDir())
	t.Setenv("FORESIGHT_DEMO_PRELOAD", "true")
	t.Setenv("FORESIGHT_DEMO_HOSTS", "4")
	t.Setenv("FORESIGHT_DEMO_DAYS", "3")
	t.Setenv("FORESIGHT_DEMO_STEP", "5m")
	t.Setenv("FORESIGHT_LOG_LEVEL", "warn")
	base := startServe(t)
	waitReady(t, base, 60*time.Second)
	var list seriesList
	if code := getJSON(t, base+"/api/v1/series?measurement=disk&field=used&start=-4d", &list); code != 200 {
		t.Fatalf("list: %d", code)
	}
	if list.Total == 0 {
		t.Fatal("no disk series after the demo preload")
	}
	var all seriesList
	getJSON(t, base+"/api/v1/series?start=-4d&limit=10000", &all)
	if all.Total < 4*5 {
		t.Fatalf("only %d series for a 4-host fleet", all.Total)
	}
}

// influxURL returns the test InfluxDB's URL, skipping outside CI when none
// is configured and failing when one is required.
func influxURL(t *testing.T) string {
	u := os.Getenv("FORESIGHT_INFLUX_URL")
	if u == "" {
		if os.Getenv("CI") == "true" || os.Getenv("FORESIGHT_REQUIRE_INFLUX") != "" {
			t.Fatal("FORESIGHT_INFLUX_URL is not set but InfluxDB is required (run through make test)")
		}
		t.Skip("FORESIGHT_INFLUX_URL not set: run `make test` for the InfluxDB tests")
	}
	return u
}

// influxQL runs one InfluxQL statement through the 1.x query endpoint and
// fails the test on an HTTP error or an error inside the JSON answer.
func influxQL(t *testing.T, base, q string) string {
	t.Helper()
	resp, err := http.PostForm(base+"/query", map[string][]string{"q": {q}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	_, _ = body.ReadFrom(resp.Body)
	if resp.StatusCode != 200 || strings.Contains(body.String(), `"error"`) {
		t.Fatalf("%s: %s %s", q, resp.Status, body.String())
	}
	return body.String()
}

// createInfluxDB makes a fresh database and waits until the server lists it.
func createInfluxDB(t *testing.T, base, name string) {
	t.Helper()
	influxQL(t, base, "CREATE DATABASE "+name)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(influxQL(t, base, "SHOW DATABASES"), `"`+name+`"`) {
		if time.Now().After(deadline) {
			t.Fatalf("database %s not listed 10s after CREATE DATABASE", name)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Cleanup(func() {
		resp, err := http.PostForm(base+"/query", map[string][]string{"q": {"DROP DATABASE " + name}})
		if err == nil {
			resp.Body.Close()
		}
	})
}

func TestIngestIntoInfluxThenListThroughServer(t *testing.T) {
	base := influxURL(t)
	db := fmt.Sprintf("foresight_e2e_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9)
	createInfluxDB(t, base, db)
	t.Setenv("FORESIGHT_STORE_BACKEND", "influxdb")
	t.Setenv("FORESIGHT_STORE_INFLUXDB_URL", base)
	t.Setenv("FORESIGHT_STORE_INFLUXDB_BUCKET", db)
	t.Setenv("FORESIGHT_SERVER_LISTEN", "127.0.0.1:0")
	t.Setenv("FORESIGHT_LOG_LEVEL", "warn")
	// No scheduled jobs: their write-back would add foresight_* series to
	// the exact listing checked below.
	t.Setenv("FORESIGHT_JOBS_ENABLED", "false")

	dir := t.TempDir()
	now := time.Now().Truncate(time.Minute)
	var lp strings.Builder
	for i := 0; i < 60; i++ {
		ts := now.Add(-time.Duration(60-i) * time.Minute).Unix()
		fmt.Fprintf(&lp, "disk,host=db-01,path=/data used=%d,total=1000 %d\n", 100+i, ts)
		fmt.Fprintf(&lp, "mem,host=erp-app-01,service=gl used=%d %d\n", 5000+i, ts)
	}
	file := filepath.Join(dir, "fleet.lp")
	if err := os.WriteFile(file, []byte(lp.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"ingest", "-quiet", "-precision", "s", file}, &out, &errOut); err != nil {
		t.Fatalf("ingest: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "120 points written") {
		t.Fatalf("ingest output %q", out.String())
	}
	// a malformed file writes nothing and names the line
	bad := filepath.Join(dir, "bad.lp")
	_ = os.WriteFile(bad, []byte("cpu,host=x usage=1 1\ncpu,host=x usage= 2\n"), 0o600)
	err := run(context.Background(), []string{"ingest", "-quiet", bad}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("bad file: %v", err)
	}

	base2 := startServe(t)
	var list seriesList
	if code := getJSON(t, base2+"/api/v1/series?start=-2h", &list); code != 200 {
		t.Fatalf("list: %d", code)
	}
	var ids []string
	for _, s := range list.Series {
		ids = append(ids, s.ID)
	}
	want := "disk,host=db-01,path=/data#total disk,host=db-01,path=/data#used mem,host=erp-app-01,service=gl#used"
	if strings.Join(ids, " ") != want {
		t.Fatalf("series through the InfluxDB backend:\n got %v\nwant %s", ids, want)
	}
}

func TestIngestEmbeddedFilesThenServe(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("FORESIGHT_STORE_BACKEND", "embedded")
	t.Setenv("FORESIGHT_STORE_EMBEDDED_DIR", filepath.Join(dir, "tsdb"))
	t.Setenv("FORESIGHT_SERVER_LISTEN", "127.0.0.1:0")
	t.Setenv("FORESIGHT_LOG_LEVEL", "warn")
	t.Setenv("FORESIGHT_JOBS_ENABLED", "false") // as above: an exact series listing follows
	now := time.Now().Truncate(time.Minute)
	var lp, csv strings.Builder
	csv.WriteString("series,timestamp,value\n")
	for i := 0; i < 30; i++ {
		ts := now.Add(-time.Duration(30-i) * time.Minute)
		fmt.Fprintf(&lp, "cpu,host=db-01 usage_active=%d %d\n", i, ts.UnixNano())
		fmt.Fprintf(&csv, "\"disk,host=db-01,path=/data#used\",%s,%d\n", ts.Format(time.RFC3339), 1000+i)
	}
	lpFile, csvFile := filepath.Join(dir, "a.lp"), filepath.Join(dir, "b.csv")
	_ = os.WriteFile(lpFile, []byte(lp.String()), 0o600)
	_ = os.WriteFile(csvFile, []byte(csv.String()), 0o600)
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"ingest", "-quiet", lpFile, csvFile}, &out, &errOut); err != nil {
		t.Fatalf("ingest: %v %s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "a.lp: 30 points written") || !strings.Contains(out.String(), "b.csv: 30 points written") {
		t.Fatalf("output %q", out.String())
	}
	// a CSV with a bad row: nothing of it is written, the row is named
	bad := filepath.Join(dir, "bad.csv")
	_ = os.WriteFile(bad, []byte("series,timestamp,value\n\"m#f\",2026-01-01T00:00:00Z,1\n\"m#f\",notatime,2\n"), 0o600)
	if err := run(context.Background(), []string{"ingest", "-quiet", bad}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("bad csv: %v", err)
	}
	base := startServe(t)
	var list seriesList
	getJSON(t, base+"/api/v1/series?start=-2h", &list)
	var ids []string
	for _, s := range list.Series {
		ids = append(ids, s.ID)
	}
	if strings.Join(ids, " ") != "cpu,host=db-01#usage_active disk,host=db-01,path=/data#used" {
		t.Fatalf("series %v", ids)
	}
}

// TestServeOpensTicketsAndDeliversWebhooks runs the server on a small demo
// fleet with webhook targets of every format pointing at a real loopback
// receiver: the first prediction run opens tickets, the API lists them and
// moves one through its lifecycle, and every format receives deliveries.
func TestServeOpensTicketsAndDeliversWebhooks(t *testing.T) {
	var mu sync.Mutex
	got := map[string]int{}
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got[r.URL.Path]++
		mu.Unlock()
		switch r.URL.Path {
		case "/slack":
			_, _ = w.Write([]byte("ok"))
		case "/dingtalk", "/wecom":
			_, _ = w.Write([]byte(`{"errcode":0,"errmsg":"ok"}`))
		case "/feishu":
			_, _ = w.Write([]byte(`{"code":0,"msg":"success"}`))
		default:
			w.WriteHeader(http.StatusOK)
		}
	}))
	defer recv.Close()
	dir := t.TempDir()
	cfg := fmt.Sprintf(`
server: {listen: "127.0.0.1:0"}
store: {backend: embedded, embedded: {dir: %q}}
demo: {preload: true, hosts: 3, days: 40, step: 5m}
log: {level: warn}
state: {driver: sqlite, path: %q}
tickets:
  kinds:
    disk: {minor_within: 2000h}
    memleak: {minor_within: 2000h}
  routes:
    critical: [json, am, slack, dingtalk, wecom, feishu]
    major: [json, am, slack, dingtalk, wecom, feishu]
    minor: [json, am, slack, dingtalk, wecom, feishu]
notify:
  targets:
    - {name: json, format: json, url: %q, secret: s3cret}
    - {name: am, format: alertmanager, url: %q}
    - {name: slack, format: slack, url: %q}
    - {name: dingtalk, format: dingtalk, url: %q, secret: SECabc}
    - {name: wecom, format: wecom, url: %q}
    - {name: feishu, format: feishu, url: %q, secret: fs}
`, filepath.Join(dir, "tsdb"), filepath.Join(dir, "state.db"), recv.URL+"/json", recv.URL+"/am", recv.URL+"/slack",
		recv.URL+"/dingtalk", recv.URL+"/wecom", recv.URL+"/feishu")
	cfgPath := filepath.Join(dir, "foresight.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FORESIGHT_CONFIG", cfgPath)
	base := startServe(t)
	waitReady(t, base, 60*time.Second)

	type tv struct {
		RowID       int64  `json:"row_id"`
		Fingerprint string `json:"fingerprint"`
		State       string `json:"state"`
		Kind        string `json:"kind"`
	}
	var list struct {
		Tickets []tv `json:"tickets"`
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		list.Tickets = nil
		getJSON(t, base+"/api/v1/tickets", &list)
		if len(list.Tickets) > 0 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(list.Tickets) == 0 {
		t.Fatal("no ticket opened from the demo fleet")
	}
	seen := map[string]bool{}
	for _, tk := range list.Tickets {
		if seen[tk.Fingerprint] {
			t.Fatalf("two tickets for %s", tk.Fingerprint)
		}
		seen[tk.Fingerprint] = true
		if tk.State != "reported" {
			t.Errorf("new ticket in state %s", tk.State)
		}
	}
	// one ticket through the lifecycle by API
	id := list.Tickets[0].RowID
	post := func(body string) int {
		resp, err := http.Post(fmt.Sprintf("%s/api/v1/tickets/%d/transition", base, id), "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(`{"to":"assigned","actor":"alice","reason":"on it"}`); code != 200 {
		t.Fatalf("assign: %d", code)
	}
	if code := post(`{"to":"closed","actor":"alice"}`); code != 409 {
		t.Fatalf("assigned → closed: %d, want 409", code)
	}
	var hist struct {
		History []struct {
			Actor string `json:"actor"`
			To    string `json:"to"`
		} `json:"history"`
	}
	getJSON(t, fmt.Sprintf("%s/api/v1/tickets/%d/history", base, id), &hist)
	if n := len(hist.History); n < 2 || hist.History[n-1].Actor != "alice" || hist.History[n-1].To != "assigned" {
		t.Fatalf("history %+v", hist.History)
	}
	// every format receives deliveries
	deadline = time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		missing := []string{}
		for _, p := range []string{"/json", "/am", "/slack", "/dingtalk", "/wecom", "/feishu"} {
			if got[p] == 0 {
				missing = append(missing, p)
			}
		}
		mu.Unlock()
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no delivery to %v", missing)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var runs struct {
		Runs []struct {
			Job         string `json:"job"`
			Predictions int    `json:"predictions"`
		} `json:"runs"`
	}
	getJSON(t, base+"/api/v1/runs?job=disk", &runs) // the default config's disk job
	if len(runs.Runs) == 0 || runs.Runs[0].Predictions == 0 {
		t.Fatalf("runs %+v", runs.Runs)
	}
	var dead struct {
		DeadLetters []any `json:"dead_letters"`
	}
	getJSON(t, base+"/api/v1/deliveries/dead", &dead)
	if len(dead.DeadLetters) != 0 {
		t.Fatalf("dead letters: %v", dead.DeadLetters)
	}
}

// serveUntil runs `foresight serve` in-process with the environment already
// set by the caller and returns its base URL and a function that stops it
// and waits for it to return.
func serveUntil(t *testing.T) (string, func()) {
	t.Helper()
	base, stop, _ := serveIn(t, 30*time.Second)
	return base, stop
}

// TestServeJobsWriteBackAndSurviveRestart: the scheduler's catch-up
// computes predictions soon after start and writes them back to the
// store; a restarted server serves the persisted predictions at once,
// without a new run.
func TestServeJobsWriteBackAndSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("FORESIGHT_SERVER_LISTEN", "127.0.0.1:0")
	t.Setenv("FORESIGHT_STORE_BACKEND", "embedded")
	t.Setenv("FORESIGHT_STORE_EMBEDDED_DIR", filepath.Join(dir, "tsdb"))
	t.Setenv("FORESIGHT_STATE_PATH", filepath.Join(dir, "state.db"))
	t.Setenv("FORESIGHT_DEMO_PRELOAD", "true")
	t.Setenv("FORESIGHT_DEMO_HOSTS", "3")
	t.Setenv("FORESIGHT_DEMO_DAYS", "35")
	t.Setenv("FORESIGHT_DEMO_STEP", "15m")
	t.Setenv("FORESIGHT_LOG_LEVEL", "warn")
	type predictions struct {
		ComputedAt  time.Time `json:"computed_at"`
		Total       int       `json:"total"`
		Predictions []struct {
			ID   string `json:"id"`
			Kind string `json:"kind"`
		} `json:"predictions"`
	}
	base, stop := serveUntil(t)
	waitReady(t, base, 60*time.Second)
	var first predictions
	deadline := time.Now().Add(60 * time.Second)
	for getJSON(t, base+"/api/v1/predictions?kind=disk&limit=10000", &first) != 200 || first.Total == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no disk predictions 60s after the preload")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// written back: a foresight_prediction series per disk prediction
	var list seriesList
	getJSON(t, base+"/api/v1/series?measurement=foresight_prediction&field=at_risk&tag=kind:disk&start=-1h&limit=10000", &list)
	if list.Total != first.Total {
		t.Fatalf("%d foresight_prediction at_risk series of disks, %d disk predictions", list.Total, first.Total)
	}
	var runs struct {
		Runs []struct {
			ID int64 `json:"id"`
		} `json:"runs"`
	}
	getJSON(t, base+"/api/v1/runs?job=disk", &runs)
	if len(runs.Runs) != 1 {
		t.Fatalf("disk runs %+v", runs.Runs)
	}
	stop()

	base, _ = serveUntil(t)
	var again predictions
	if code := getJSON(t, base+"/api/v1/predictions?kind=disk&limit=10000", &again); code != 200 {
		t.Fatalf("predictions right after the restart: %d", code)
	}
	if !again.ComputedAt.Equal(first.ComputedAt) || again.Total != first.Total {
		t.Fatalf("after the restart: computed %s, %d predictions; before: %s, %d", again.ComputedAt, again.Total, first.ComputedAt, first.Total)
	}
	waitReady(t, base, 60*time.Second)
	getJSON(t, base+"/api/v1/runs?job=disk", &runs)
	if len(runs.Runs) != 1 {
		t.Fatalf("the restart ran the up-to-date disk job again: %+v", runs.Runs)
	}
}

// TestServeTLS serves HTTPS when server.tls_cert and server.tls_key are set.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "foresight test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FORESIGHT_SERVER_LISTEN", "127.0.0.1:0")
	t.Setenv("FORESIGHT_SERVER_TLS_CERT", certFile)
	t.Setenv("FORESIGHT_SERVER_TLS_KEY", keyFile)
	t.Setenv("FORESIGHT_STORE_BACKEND", "embedded")
	t.Setenv("FORESIGHT_STORE_EMBEDDED_DIR", filepath.Join(dir, "tsdb"))
	t.Setenv("FORESIGHT_JOBS_ENABLED", "false")
	t.Setenv("FORESIGHT_LOG_LEVEL", "warn")
	base := startServe(t)
	if !strings.HasPrefix(base, "https://127.0.0.1:") {
		t.Fatalf("URL %s, want https://", base)
	}
	pool := x509.NewCertPool()
	pool.AddCert(must(x509.ParseCertificate(der)))
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil {
		t.Fatalf("GET /healthz over TLS: %s", resp.Status)
	}
	// plain HTTP on the same port is refused
	if resp, err := http.Get("http://" + strings.TrimPrefix(base, "https://") + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Fatal("plain HTTP answered 200 on the TLS port")
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
