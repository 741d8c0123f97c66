package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/seed-f1b503aa/foresight/engine/fleet"
	"github.com/seed-f1b503aa/foresight/engine/ticket"
)

func TestDefaultsValid(t *testing.T) {
	c, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Store.Backend != "embedded" || c.Server.Listen != "127.0.0.1:8080" || c.Store.Embedded.Retention.D() != 400*24*time.Hour {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestFileThenEnv(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f.yaml")
	if err := os.WriteFile(p, []byte("store:\n  backend: influxdb\n  influxdb:\n    url: http://a:1\n    timeout: 1d2h\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(p, []string{"FORESIGHT_STORE_INFLUXDB_URL=http://b:2", "FORESIGHT_DEMO_HOSTS=3", "FORESIGHT_DEMO_PRELOAD=true", "OTHER=x"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Store.Backend != "influxdb" || c.Store.InfluxDB.URL != "http://b:2" || c.Demo.Hosts != 3 || !c.Demo.Preload {
		t.Fatalf("got %+v", c)
	}
	if c.Store.InfluxDB.Timeout.D() != 26*time.Hour {
		t.Fatalf("timeout %v", c.Store.InfluxDB.Timeout.D())
	}
	if c.Store.InfluxDB.Bucket != "foresight" {
		t.Fatalf("unset keys keep defaults, bucket=%q", c.Store.InfluxDB.Bucket)
	}
}

func TestErrorsArePrecise(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		file, env, want string
	}{
		{"store:\n  backend: mysql\n", "", `store.backend: "mysql"`},
		{"server:\n  listen: [\n", "", "yaml"},
		{"server:\n  lisen: x\n", "", "field lisen not found"},
		{"store:\n  embedded:\n    retention: forever\n", "", "line 3"},
		{"", "FORESIGHT_DEMO_HOSTS=many", "FORESIGHT_DEMO_HOSTS"},
		{"", "FORESIGHT_LOG_LEVEL=loud", "log.level"},
	}
	for i, c := range cases {
		p := filepath.Join(dir, "c.yaml")
		if err := os.WriteFile(p, []byte(c.file), 0o600); err != nil {
			t.Fatal(err)
		}
		var env []string
		if c.env != "" {
			env = []string{c.env}
		}
		_, err := Load(p, env)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("case %d: error %v, want it to mention %q", i, err, c.want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"90s": 90 * time.Second, "400d": 400 * 24 * time.Hour, "1d12h": 36 * time.Hour, "0s": 0} {
		got, err := ParseDuration(in)
		if err != nil || got.D() != want {
			t.Errorf("%s: %v %v, want %v", in, got.D(), err, want)
		}
	}
	for _, bad := range []string{"x", "1w", "d", "5dd"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestEnvNamesCoverEveryKey(t *testing.T) {
	names := strings.Join(EnvNames(), " ")
	for _, want := range []string{"FORESIGHT_SERVER_LISTEN", "FORESIGHT_STORE_INFLUXDB_TOKEN", "FORESIGHT_STORE_EMBEDDED_RETENTION", "FORESIGHT_LOG_FORMAT"} {
		if !strings.Contains(names, want) {
			t.Errorf("missing %s in %s", want, names)
		}
	}
}

func TestExamplePredictorsAreTheDefaults(t *testing.T) {
	c := Default()
	if !reflect.DeepEqual(c.Predictors, fleet.DefaultRules()) {
		t.Fatalf("example.yaml predictors differ from fleet.DefaultRules():\n%+v\n%+v", c.Predictors, fleet.DefaultRules())
	}
	if len(c.Jobs.Run) != 5 || c.Jobs.Run[0].Name != "disk" || c.Jobs.Run[0].Schedule != "*/15 * * * *" || c.Jobs.Run[4].Forecast.Step.D() != time.Hour {
		t.Fatalf("%+v", c.Jobs.Run)
	}
	got, err := Load("", []string{"FORESIGHT_PREDICTORS_DISK_HISTORY=48h", "FORESIGHT_PREDICTORS_DISK_WARN_PERCENT=80"})
	if err != nil || got.Predictors.Disk.History != 48*time.Hour || got.Predictors.Disk.WarnPercent != 80 {
		t.Fatalf("%v %+v", err, got.Predictors.Disk)
	}
	if _, err := Load("", []string{"FORESIGHT_PREDICTORS_DISK_SOURCES=x"}); err == nil || !strings.Contains(err.Error(), "YAML file") {
		t.Fatalf("list from env: %v", err)
	}
}

func TestExampleTicketPolicyIsTheDefault(t *testing.T) {
	c := Default()
	if !reflect.DeepEqual(c.Tickets, ticket.DefaultPolicy()) {
		t.Fatalf("example.yaml tickets differ from ticket.DefaultPolicy():\n%+v\n%+v", c.Tickets, ticket.DefaultPolicy())
	}
	if c.State.Driver != "sqlite" || c.State.DeliveryMaxAge.D() != 24*time.Hour {
		t.Fatalf("state %+v", c.State)
	}
	if _, err := Load("", []string{"FORESIGHT_STATE_DRIVER=postgres"}); err == nil || !strings.Contains(err.Error(), "state.dsn") {
		t.Fatalf("postgres without dsn: %v", err)
	}
}

func TestJobsValidation(t *testing.T) {
	c := Default()
	c.Jobs.Run = append(c.Jobs.Run, JobSpec{Name: "disk", Type: "predict", Schedule: "@hourly", Kinds: []string{"cpu"}},
		JobSpec{Name: "f", Type: "forecast", Schedule: "@hourly"}, JobSpec{Name: "x", Type: "nope"})
	c.Server.TLSCert = "cert.pem"
	err := c.Validate()
	for _, want := range []string{`jobs.run[5].name: "disk" is used twice`, `jobs.run[5].kinds: kind "cpu"`,
		"jobs.run[6].forecast: measurement and field are required", `jobs.run[7].type: "nope"`, "server.tls_cert and server.tls_key"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in %v", want, err)
		}
	}
}

// TestParseDurationBounds: day counts and Go durations that overflow, or
// exceed 100 years, are refused instead of wrapping around ("213504d"
// used to be 25 minutes, "300000d" about 240 years).
func TestParseDurationBounds(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"36525d":         MaxDuration,
		"-36525d":        -MaxDuration,
		"36524d24h":      MaxDuration,
		"876600h":        MaxDuration,
		"-1d":            -24 * time.Hour,
		"+2d":            48 * time.Hour,
		"1d-12h":         12 * time.Hour,
		"36525d-876600h": 0,
	} {
		got, err := ParseDuration(in)
		if err != nil || got.D() != want {
			t.Errorf("%q: %v %v, want %v", in, got.D(), err, want)
		}
	}
	for _, bad := range []string{"213504d", "300000d", "36526d", "36525d1ns", "-36526d", "876601h", "9223372036854775807d",
		"99999999999999999999d", "2562048h", "9999999999999999999ns", "-9223372036854775808d", "106752d"} {
		got, err := ParseDuration(bad)
		if err == nil {
			t.Errorf("%q parsed as %v", bad, got.D())
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, "longer than 36525d (100 years)") || !strings.Contains(msg, bad) {
			t.Errorf("%q: error %q does not say it is too long", bad, msg)
		}
	}
	// malformed input keeps its own message
	for _, bad := range []string{"1.5d", "d1h", "5x", "1d2", ".h"} {
		if _, err := ParseDuration(bad); err == nil || strings.Contains(err.Error(), "longer than") {
			t.Errorf("%q: %v, want a syntax error", bad, err)
		}
	}
}
