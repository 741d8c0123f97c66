package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"maps"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/seed-f1b503aa/foresight/config"
	"github.com/seed-f1b503aa/foresight/datasets"
	"github.com/seed-f1b503aa/foresight/engine"
	"github.com/seed-f1b503aa/foresight/engine/fleet"
	"github.com/seed-f1b503aa/foresight/engine/ticket"
	"github.com/seed-f1b503aa/foresight/incident"
	"github.com/seed-f1b503aa/foresight/notify"
	"github.com/seed-f1b503aa/foresight/storage/embedded"
	"github.com/seed-f1b503aa/foresight/storage/state"
)

// end is the demo fleet's (exclusive) end and the tests' "now".
var end = datasets.DefaultEnd

var (
	demoOnce   sync.Once
	demoPoints []engine.Point
	demoErr    error
)

// demo returns the points of a small seeded demo fleet (3 hosts, 40 days
// at 15 minutes, ending at end), generated once per test binary.
func demo(t *testing.T) []engine.Point {
	t.Helper()
	demoOnce.Do(func() {
		f, err := datasets.GenerateFleet(datasets.FleetConfig{Hosts: 3, Days: 40, Step: 15 * time.Minute, Seed: 7, End: end})
		if err != nil {
			demoErr = err
			return
		}
		demoErr = f.Each(func(p engine.Point) error {
			p.Fields = maps.Clone(p.Fields)
			demoPoints = append(demoPoints, p)
			return nil
		})
	})
	if demoErr != nil {
		t.Fatal(demoErr)
	}
	return demoPoints
}

// demoStore is a real embedded store holding the demo fleet.
func demoStore(t *testing.T) *embedded.Store {
	t.Helper()
	s, err := embedded.Open(t.TempDir(), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Backfill(context.Background(), demo(t)); err != nil {
		t.Fatal(err)
	}
	return s
}

func sqliteState(t *testing.T) *state.Store {
	t.Helper()
	return openState(t, state.Config{Driver: state.DriverSQLite, Path: filepath.Join(t.TempDir(), "state.db")})
}

func openState(t *testing.T, cfg state.Config) *state.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := state.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := st.Close(ctx); err != nil {
			t.Errorf("closing the state store: %v", err)
		}
	})
	return st
}

const defaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

func postgresURL() string {
	if u := os.Getenv("FORESIGHT_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return defaultPostgresURL
}

// postgresState opens a state store in a fresh PostgreSQL schema (dropped
// at the end). It skips when PostgreSQL is unreachable, and fails instead
// when CI=true or FORESIGHT_REQUIRE_POSTGRES is set.
func postgresState(t *testing.T) (state.Config, *state.Store) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, postgresURL())
	if err == nil {
		err = conn.Ping(ctx)
	}
	if err != nil {
		if os.Getenv("CI") == "true" || os.Getenv("FORESIGHT_REQUIRE_POSTGRES") != "" {
			t.Fatalf("PostgreSQL at %s is required (CI=true or FORESIGHT_REQUIRE_POSTGRES set) but unreachable: %v", postgresURL(), err)
		}
		t.Skipf("PostgreSQL at %s unreachable (set FORESIGHT_TEST_POSTGRES_URL; required when CI=true): %v", postgresURL(), err)
	}
	defer conn.Close(ctx)
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "foresight_jobs_test_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, postgresURL())
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	cfg := state.Config{Driver: state.DriverPostgres, DSN: postgresURL(), Schema: schema}
	return cfg, openState(t, cfg)
}

// clock is a settable clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// Job specs the tests use. Their schedules are "@every" ones: the real cron
// clock never fires them during a test.
func diskJob(name string) config.JobSpec {
	return config.JobSpec{Name: name, Type: TypePredict, Kinds: []string{"disk"}, Schedule: "@every 15m", Timeout: config.Duration(5 * time.Minute)}
}

func memJob(name string) config.JobSpec {
	return config.JobSpec{Name: name, Type: TypePredict, Kinds: []string{"memleak"}, Schedule: "@every 1h", Timeout: config.Duration(5 * time.Minute)}
}

func cpuForecastJob(name, model string) config.JobSpec {
	return config.JobSpec{Name: name, Type: TypeForecast, Schedule: "@every 30m", Timeout: config.Duration(5 * time.Minute),
		Forecast: config.ForecastJobSpec{Measurement: "cpu", Field: "usage_active", Where: map[string]string{"cpu": "cpu-total"},
			History: config.Duration(14 * 24 * time.Hour), Step: config.Duration(time.Hour), Horizon: 24, Model: model, Levels: []float64{80, 95}}}
}

// jobsConfig is a scheduler configuration with write-back on, no retries.
func jobsConfig(specs ...config.JobSpec) config.JobsConfig {
	return config.JobsConfig{Enabled: true, StaleAfter: 2.5,
		Writeback: config.WritebackConfig{Enabled: true, Predictions: "foresight_prediction", Forecasts: "foresight_forecast"},
		Run:       specs}
}

// newService builds a Service with the given store, state and clock and
// stops it at the end of the test.
func newService(t *testing.T, ms engine.MetricStore, st *state.Store, now *clock, cfg config.JobsConfig, mod func(*Options)) (*Service, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	opts := Options{Store: ms, State: st, Config: cfg, Rules: fleet.DefaultRules(), Now: now.Now, Registry: reg, Recheck: time.Hour}
	if mod != nil {
		mod(&opts)
	}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return s, reg
}

func counter(t *testing.T, c prometheus.Collector) float64 {
	t.Helper()
	return testutil.ToFloat64(c)
}

// runsOf lists a job's recorded runs, newest first.
func runsOf(t *testing.T, st *state.Store, job string) []state.JobRunRecord {
	t.Helper()
	runs, err := st.ListRuns(context.Background(), job, 100)
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

// waitIdle waits until no run of the job is in progress.
func waitIdle(t *testing.T, s *Service, job string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		st, err := s.Get(context.Background(), job)
		if err != nil {
			t.Fatal(err)
		}
		if !st.Running {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s still running after 2 minutes", job)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// newIncidents is the real ticket service on st, with a policy that
// tickets every disk and memory risk within 60 days (as the demo fleet's
// tests do) and no webhook targets.
func newIncidents(t *testing.T, st *state.Store) *incident.Service {
	t.Helper()
	router, err := notify.NewRouter(notify.Config{})
	if err != nil {
		t.Fatal(err)
	}
	policy := ticket.DefaultPolicy()
	policy.Kinds.Disk.MinorWithin = 60 * 24 * time.Hour
	policy.Kinds.MemLeak.MinorWithin = 60 * 24 * time.Hour
	return &incident.Service{Store: st, Policy: policy, Targets: router}
}
