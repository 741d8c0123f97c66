package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func call(t *testing.T, method, url, token, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestServeWithAuth runs `foresight serve` with access control on: the
// bootstrap admin token is written to its file (0600) and never logged,
// roles are enforced, mutations are audited, the configuration is served
// redacted, and no secret appears anywhere in the output, at debug level.
func TestServeWithAuth(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "admin.token")
	const hookSecret = "hook-secret-5f1e0c"
	const influxToken = "influx:pw-7d2a9b"
	t.Setenv("FORESIGHT_SERVER_LISTEN", "127.0.0.1:0")
	t.Setenv("FORESIGHT_STORE_BACKEND", "embedded")
	t.Setenv("FORESIGHT_STORE_EMBEDDED_DIR", filepath.Join(dir, "tsdb"))
	t.Setenv("FORESIGHT_STORE_INFLUXDB_TOKEN", influxToken)
	t.Setenv("FORESIGHT_SERVER_INBOUND_SECRET", hookSecret)
	t.Setenv("FORESIGHT_DEMO_PRELOAD", "true")
	t.Setenv("FORESIGHT_DEMO_HOSTS", "2")
	t.Setenv("FORESIGHT_DEMO_DAYS", "3")
	t.Setenv("FORESIGHT_DEMO_STEP", "5m")
	t.Setenv("FORESIGHT_AUTH_ENABLED", "true")
	t.Setenv("FORESIGHT_AUTH_BOOTSTRAP_TOKEN_FILE", tokenFile)
	t.Setenv("FORESIGHT_LOG_LEVEL", "debug")
	t.Setenv("FORESIGHT_LOG_FORMAT", "json")
	base, logs := startServeLogs(t)
	waitReady(t, base, 60*time.Second)

	fi, err := os.Stat(tokenFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("bootstrap token file: %v %v", err, fi)
	}
	raw, _ := os.ReadFile(tokenFile)
	admin := strings.TrimSpace(string(raw))
	if !strings.HasPrefix(admin, "fst_") {
		t.Fatalf("token file holds %q…", admin[:min(4, len(admin))])
	}

	if code, _ := call(t, "GET", base+"/api/v1/jobs", "", ""); code != 401 {
		t.Fatalf("no token: %d", code)
	}
	if code, b := call(t, "GET", base+"/api/v1/jobs", admin, ""); code != 200 || !strings.Contains(string(b), `"name":"disk"`) {
		t.Fatalf("jobs as admin: %d %s", code, b)
	}
	code, b := call(t, "POST", base+"/api/v1/tokens", admin, `{"name":"grafana","role":"viewer"}`)
	var created struct {
		Secret string `json:"secret"`
	}
	if err := json.Unmarshal(b, &created); err != nil || code != 201 || created.Secret == "" {
		t.Fatalf("create: %d %s", code, b)
	}
	viewer := created.Secret
	if code, _ := call(t, "POST", base+"/api/v1/jobs/disk/trigger", viewer, ""); code != 403 {
		t.Fatalf("viewer trigger: %d", code)
	}
	if code, _ := call(t, "GET", base+"/api/v1/series?limit=1", viewer, ""); code != 200 {
		t.Fatalf("viewer read: %d", code)
	}
	code, b = call(t, "POST", base+"/api/v1/jobs/disk/trigger", admin, "")
	if code != 202 && code != 409 { // 409: the start-up run may still be going
		t.Fatalf("admin trigger: %d %s", code, b)
	}
	code, b = call(t, "GET", base+"/api/v1/audit", admin, "")
	if code != 200 || !strings.Contains(string(b), `"action":"job.trigger","method":"POST","route":"/api/v1/jobs/:name/trigger","target":"job disk","status":403,"outcome":"denied"`) ||
		!strings.Contains(string(b), `"actor":"grafana"`) || !strings.Contains(string(b), `"action":"token.create"`) {
		t.Fatalf("audit: %d %s", code, b)
	}
	code, b = call(t, "GET", base+"/api/v1/config", admin, "")
	if code != 200 || strings.Contains(string(b), hookSecret) || strings.Contains(string(b), influxToken) || !strings.Contains(string(b), `u003credacted`) {
		t.Fatalf("config: %d %s", code, b)
	}
	if code, _ := call(t, "GET", base+"/api/v1/config", viewer, ""); code != 403 {
		t.Fatalf("viewer config: %d", code)
	}
	// Telegraf-style ingest with a viewer token is refused.
	if code, _ := call(t, "POST", base+"/api/v2/write", viewer, "m v=1\n"); code != 403 {
		t.Fatalf("viewer write: %d", code)
	}

	out := logs()
	for name, secret := range map[string]string{"admin token": admin, "viewer token": viewer, "inbound secret": hookSecret, "influx token": influxToken} {
		if strings.Contains(out, secret) {
			t.Errorf("the %s appears in the server's output", name)
		}
	}
	if !strings.Contains(out, tokenFile) || !strings.Contains(out, "http request") {
		t.Fatalf("expected the token file's path and debug request logs in the output")
	}
}
