package web_test

// The console in a real headless Chromium against a real Foresight API:
// an embedded metric store loaded with a small demo fleet, a SQLite state
// database, the scheduled jobs (their predict job runs the fleet
// predictors, and the ticket rules open tickets from its snapshot), and
// auth on with one token per role.
//
// Chromium comes from FORESIGHT_CHROMIUM (or /usr/bin/chromium); without
// one the test skips, unless FORESIGHT_REQUIRE_BROWSER=1 (make test), when
// it fails. Screenshots of every page go to FORESIGHT_SCREENSHOTS (default:
// a temporary directory; `make screenshots` writes web/screenshots/).

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/seed-f1b503aa/foresight/api"
	"github.com/seed-f1b503aa/foresight/config"
	"github.com/seed-f1b503aa/foresight/datasets"
	"github.com/seed-f1b503aa/foresight/engine"
	"github.com/seed-f1b503aa/foresight/engine/fleet"
	"github.com/seed-f1b503aa/foresight/engine/ticket"
	"github.com/seed-f1b503aa/foresight/incident"
	"github.com/seed-f1b503aa/foresight/jobs"
	"github.com/seed-f1b503aa/foresight/notify"
	"github.com/seed-f1b503aa/foresight/storage/embedded"
	"github.com/seed-f1b503aa/foresight/storage/state"
)

// fixture is a running Foresight API over real stores.
type fixture struct {
	url    string
	st     *state.Store
	tokens map[string]string // role → secret
	names  map[string]string // role → token name
	ids    map[string]int64  // role → token id
	// openURL serves the same stores with auth off.
	openURL string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()

	// The demo fleet: 6 hosts (two of each role), 120 days at 5 minutes,
	// ending now, bulk-loaded as `foresight serve` preloads it.
	store, err := embedded.Open(t.TempDir(), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	fl, err := datasets.GenerateFleet(datasets.FleetConfig{Hosts: 6, Days: 120, Step: 5 * time.Minute, Seed: 42, End: now.Truncate(5 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	loader, err := store.NewLoader()
	if err != nil {
		t.Fatal(err)
	}
	batch := make([]engine.Point, 0, 20000)
	flush := func() error {
		err := loader.Add(ctx, batch)
		batch = batch[:0]
		return err
	}
	err = fl.Each(func(p engine.Point) error {
		p.Fields = maps.Clone(p.Fields)
		batch = append(batch, p)
		if len(batch) == cap(batch) {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err == nil {
		err = loader.Commit(ctx)
	}
	_ = loader.Close()
	if err != nil {
		t.Fatal(err)
	}

	st, err := state.Open(ctx, state.Config{Driver: "sqlite", Path: filepath.Join(t.TempDir(), "state.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close(ctx) })
	f := &fixture{st: st, tokens: map[string]string{}, names: map[string]string{}, ids: map[string]int64{}}
	for role, name := range map[string]string{"viewer": "noc-wall", "operator": "oncall-ops", "admin": "platform-admin", "ingest": "telegraf"} {
		secret, rec, err := st.CreateToken(ctx, name, role, "console-test", nil)
		if err != nil {
			t.Fatal(err)
		}
		f.tokens[role], f.names[role], f.ids[role] = secret, name, rec.ID
	}

	// A ticket policy as a site may configure it: three weeks' notice for
	// disks and leaks, so the demo fleet's fills and leaks open tickets.
	policy := ticket.DefaultPolicy()
	policy.Kinds.Disk.MinorWithin = 21 * 24 * time.Hour
	policy.Kinds.MemLeak.MajorWithin = 10 * 24 * time.Hour
	policy.Kinds.MemLeak.MinorWithin = 21 * 24 * time.Hour
	router, err := notify.NewRouter(notify.Config{})
	if err != nil {
		t.Fatal(err)
	}
	incidents := &incident.Service{Store: st, Policy: policy, Targets: router}

	// The jobs: predictions per kind and a forecast, each run once now; the
	// predict runs hand their snapshots to the ticket rules.
	var afterErr error
	var afterMu sync.Mutex
	js, err := jobs.New(jobs.Options{
		Store: store, State: st, Rules: fleet.DefaultRules(),
		Config: config.JobsConfig{Enabled: true, Run: []config.JobSpec{
			{Name: "predict-capacity", Type: jobs.TypePredict, Schedule: "@every 15m", Kinds: []string{"disk", "memleak"}},
			{Name: "predict-monthend", Type: jobs.TypePredict, Schedule: "@every 1h", Kinds: []string{"monthend"}},
			{Name: "forecast-cpu", Type: jobs.TypeForecast, Schedule: "@every 6h", Forecast: config.ForecastJobSpec{
				Measurement: "cpu", Field: "usage_active", History: config.Duration(7 * 24 * time.Hour),
				Step: config.Duration(time.Hour), Horizon: 24, Model: "snaive"}},
		}},
		After: func(ctx context.Context, job string, snap fleet.Snapshot) {
			_, err := incidents.Process(ctx, snap, time.Now())
			afterMu.Lock()
			defer afterMu.Unlock()
			if err != nil && afterErr == nil {
				afterErr = fmt.Errorf("ticket rules after %s: %w", job, err)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"predict-capacity", "predict-monthend", "forecast-cpu"} {
		if _, err := js.RunNow(ctx, name); err != nil {
			t.Fatalf("run %s: %v", name, err)
		}
	}
	afterMu.Lock()
	if afterErr != nil {
		t.Fatal(afterErr)
	}
	afterMu.Unlock()
	if err := js.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = js.Stop(sctx)
	})

	srv := api.New(api.Options{
		Store: store, State: st, Incidents: incidents, Jobs: js,
		Predictions: func() (fleet.Snapshot, error) {
			sv, err := js.Predictions(context.Background())
			return sv.Snapshot, err
		},
		Auth: api.AuthOptions{Enabled: true, Authenticate: api.TokensFromState(st, time.Now), Audit: api.AuditToState(st)},
	})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	f.url = ts.URL
	// The same stores behind a server with auth off (a local demo).
	open := api.New(api.Options{Store: store, State: st, Incidents: incidents, Jobs: js})
	ots := httptest.NewServer(open.Handler())
	t.Cleanup(ots.Close)
	f.openURL = ots.URL
	return f
}

// get calls the API as role and decodes the JSON answer into out.
func (f *fixture) get(t *testing.T, role, path string, out any) {
	t.Helper()
	req, err := http.NewRequest("GET", f.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+f.tokens[role])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

type prediction struct {
	ID        string            `json:"id"`
	Kind      string            `json:"kind"`
	Status    string            `json:"status"`
	AtRisk    bool              `json:"at_risk"`
	Summary   string            `json:"summary"`
	Entity    map[string]string `json:"entity"`
	BreachAt  *time.Time        `json:"breach_at"`
	BreachP10 *time.Time        `json:"breach_p10"`
	BreachP90 *time.Time        `json:"breach_p90"`
}

type predictionList struct {
	ComputedAt  time.Time    `json:"computed_at"`
	Total       int          `json:"total"`
	Predictions []prediction `json:"predictions"`
}

type ticketList struct {
	Tickets []struct {
		RowID int64  `json:"row_id"`
		State string `json:"state"`
	} `json:"tickets"`
}

// chart is what a chart container exposes.
type chart struct {
	Width, Height int
	Series        int
	Points        int
	Src           string
	Forecast      int
	Troughs       int
	Closes        int
}

// browser drives one Chromium tab and records what went wrong in it.
type browser struct {
	t        *testing.T
	ctx      context.Context
	shots    string
	loginOK  atomic.Bool // 401 on whoami is expected while signing in
	any401   atomic.Bool // 401 on any call is expected (a revoked token)
	mu       sync.Mutex
	problems []string
}

func browserPath(t *testing.T) string {
	t.Helper()
	required := os.Getenv("FORESIGHT_REQUIRE_BROWSER") == "1"
	cands := []string{os.Getenv("FORESIGHT_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"}
	for _, c := range cands {
		if c == "" {
			continue
		}
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	if required {
		t.Fatal("no Chromium (FORESIGHT_REQUIRE_BROWSER=1): run `bash scripts/browser.sh install` or set FORESIGHT_CHROMIUM")
	}
	t.Skip("no Chromium: set FORESIGHT_CHROMIUM or run `bash scripts/browser.sh install`")
	return ""
}

func newBrowser(t *testing.T, execPath string) *browser {
	t.Helper()
	shots := os.Getenv("FORESIGHT_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(execPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.Flag("lang", "en-US"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 900),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelA)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	b := &browser{t: t, ctx: ctx, shots: shots}
	if err := chromedp.Do(ctx); err != nil { // start the browser, without a timeout
		t.Fatalf("starting Chromium: %v", err)
	}
	if err := chromedp.Listen(ctx, b.record); err != nil {
		t.Fatal(err)
	}
	// An operator's machine in dark mode: the console follows it.
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}},
	}); err != nil {
		t.Fatal(err)
	}
	return b
}

// record keeps console errors and warnings, uncaught exceptions and failed
// requests. It runs in the tab's event loop: no commands, return fast.
func (b *browser) record(ev any) {
	var p string
	switch e := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning || e.Type == runtime.ConsoleAPICalledTypeAssert {
			var args []string
			for _, a := range e.Args {
				if len(a.Value) > 0 {
					args = append(args, string(a.Value))
				} else {
					args = append(args, a.Description)
				}
			}
			p = fmt.Sprintf("console.%s: %s", e.Type, strings.Join(args, " "))
		}
	case *runtime.EventExceptionThrown:
		d := e.ExceptionDetails
		desc := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			desc += " " + d.Exception.Description
		}
		p = fmt.Sprintf("uncaught exception at %s:%d: %s", d.URL, d.LineNumber, desc)
	case *log.EventEntryAdded:
		if (e.Entry.Level == log.EntryLevelError || e.Entry.Level == log.EntryLevelWarning) &&
			!(b.loginOK.Load() && strings.Contains(e.Entry.URL, "/api/v1/whoami")) &&
			!(b.any401.Load() && strings.Contains(e.Entry.Text, "401")) {
			p = fmt.Sprintf("browser log %s (%s): %s %s", e.Entry.Level, e.Entry.Source, e.Entry.Text, e.Entry.URL)
		}
	case *network.EventLoadingFailed:
		if !e.Canceled {
			p = fmt.Sprintf("request failed: %s %s", e.Type, e.ErrorText)
		}
	case *network.EventResponseReceived:
		u, s := e.Response.URL, e.Response.Status
		switch {
		case s < 400:
		case (s == 401 || s == 403) && b.loginOK.Load() && strings.Contains(u, "/api/v1/whoami"):
		case s == 401 && b.any401.Load():
		case s == 409 && strings.HasSuffix(u, "/trigger"): // "already running" is an answer the page shows
		default:
			p = fmt.Sprintf("HTTP %d for %s", s, u)
		}
	}
	if p != "" {
		b.mu.Lock()
		b.problems = append(b.problems, p)
		b.mu.Unlock()
	}
}

func (b *browser) takeProblems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.problems
	b.problems = nil
	return p
}

// noProblems fails the test with what went wrong in the page since the
// last call.
func (b *browser) noProblems(where string) {
	b.t.Helper()
	for _, p := range b.takeProblems() {
		b.t.Errorf("%s: %s", where, p)
	}
}

func (b *browser) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 45*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("browser: %v (page problems: %q)", err, b.takeProblems())
	}
}

func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 45*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitPage waits until the page named name (and extra attribute
// selectors) has rendered its data.
func (b *browser) waitPage(name, extra string) {
	b.t.Helper()
	b.do(chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#page[data-page=%q][data-ready="true"]%s`, name, extra))))
}

func (b *browser) hash(h string) {
	b.t.Helper()
	q, _ := json.Marshal(h)
	eval[chromedp.Void](b, "location.hash = "+string(q))
}

func (b *browser) screenshot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 45*time.Second)
	defer cancel()
	// Let pending layout (chart resizes) settle: one animation frame.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`new Promise(r => requestAnimationFrame(() => r(true)))`, chromedp.EvalAwaitPromise)); err != nil {
		b.t.Fatal(err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func (b *browser) chart(id string) chart {
	b.t.Helper()
	return eval[chart](b, fmt.Sprintf(`(() => {
		const box = document.getElementById(%q);
		if (!box) return {Width: 0, Height: 0, Series: 0, Points: 0, Src: "", Forecast: 0, Troughs: 0, Closes: 0};
		const c = box.querySelector("canvas");
		const n = (k) => Number(box.dataset[k] || 0);
		return {Width: c ? c.width : 0, Height: c ? c.height : 0, Series: n("series"), Points: n("points"), Src: box.dataset.src || "",
			Forecast: n("forecastPoints"), Troughs: n("troughs"), Closes: n("closes")};
	})()`, id))
}

// checkChart asserts that a chart has a canvas with a size, at least
// minSeries series, and as many points as the API answers at the URLs it
// names.
func (f *fixture) checkChart(t *testing.T, b *browser, id string, minSeries int) chart {
	t.Helper()
	c := b.chart(id)
	if c.Width <= 0 || c.Height <= 0 {
		t.Fatalf("%s: no canvas (%dx%d)", id, c.Width, c.Height)
	}
	if c.Series < minSeries {
		t.Errorf("%s: %d series, want at least %d", id, c.Series, minSeries)
	}
	if c.Src == "" {
		return c
	}
	want := 0
	for _, src := range strings.Fields(c.Src) {
		var body struct {
			Samples  []json.RawMessage `json:"samples"`
			Forecast struct {
				Points []json.RawMessage `json:"points"`
			} `json:"forecast"`
		}
		f.get(t, "operator", src, &body)
		want += len(body.Samples) + len(body.Forecast.Points)
	}
	if want == 0 || c.Points != want {
		t.Errorf("%s: the chart has %d points, the API answers %d at %s", id, c.Points, want, c.Src)
	}
	return c
}

func TestConsole(t *testing.T) {
	execPath := browserPath(t)
	f := newFixture(t)
	b := newBrowser(t, execPath)
	ctx := context.Background()

	var preds predictionList
	f.get(t, "operator", "/api/v1/predictions?detail=false&limit=10000", &preds)
	if len(preds.Predictions) < 10 {
		t.Fatalf("only %d predictions", len(preds.Predictions))
	}
	firstOf := func(ok func(p prediction) bool) prediction {
		for _, p := range preds.Predictions {
			if ok(p) {
				return p
			}
		}
		t.Fatalf("no such prediction among %d", len(preds.Predictions))
		return prediction{}
	}

	// Each step builds on the previous one: stop at the first that fails.
	step := func(name string, fn func(t *testing.T)) {
		t.Helper()
		if !t.Run(name, fn) {
			t.FailNow()
		}
	}

	step("login", func(t *testing.T) {
		b.t = t
		b.loginOK.Store(true)
		b.do(chromedp.Navigate(f.url + "/ui/"))
		b.do(chromedp.WaitVisible(chromedp.ID("token")))
		if th := eval[string](b, `document.documentElement.dataset.theme`); th != "dark" {
			t.Errorf("theme %q, want dark as the system prefers", th)
		}
		b.screenshot("01-login")
		// A bad token is refused with the API's reason.
		b.do(chromedp.SendKeys(chromedp.ID("token"), "fst_not-a-token"), chromedp.Click(chromedp.ID("login-submit")))
		b.do(chromedp.WaitVisible(chromedp.CSS("#login-error .notice")))
		msg := eval[string](b, `document.getElementById("login-error").textContent`)
		if !strings.Contains(msg, "unknown, revoked or expired") || !strings.Contains(msg, "401") {
			t.Errorf("login error %q", msg)
		}
		b.screenshot("02-login-error")
		// A token whose role may not read (Telegraf's) gets the 403's detail.
		eval[chromedp.Void](b, `document.getElementById("token").value = ""`)
		b.do(chromedp.SendKeys(chromedp.ID("token"), f.tokens["ingest"]), chromedp.Click(chromedp.ID("login-submit")))
		b.do(chromedp.WaitVisible(chromedp.CSS(`#login-error .notice[data-status="403"]`)))
		if msg := eval[string](b, `document.getElementById("login-error").textContent`); !strings.Contains(msg, "role ingest may not") {
			t.Errorf("login error for an ingest token %q", msg)
		}
		// The operator's token signs in and lands on the risk overview.
		eval[chromedp.Void](b, `document.getElementById("token").value = ""`)
		b.do(chromedp.SendKeys(chromedp.ID("token"), f.tokens["operator"]), chromedp.Click(chromedp.ID("login-submit")))
		b.waitPage("risk", "")
		b.loginOK.Store(false)
		who := eval[map[string]string](b, `({name: document.getElementById("who").dataset.name, role: document.getElementById("who").dataset.role})`)
		if who["name"] != f.names["operator"] || who["role"] != "operator" {
			t.Errorf("header shows %v", who)
		}
		if stored := eval[string](b, `localStorage.getItem("foresight.token") || ""`); stored != f.tokens["operator"] {
			t.Error("the token is not kept in localStorage")
		}
		b.noProblems("login")
	})

	step("risk", func(t *testing.T) {
		b.t = t
		rows := eval[[]string](b, `[...document.querySelectorAll("#risk-table tbody tr[data-id]")].map(r => r.dataset.id)`)
		if len(rows) != len(preds.Predictions) {
			t.Fatalf("%d rows, the API has %d predictions", len(rows), len(preds.Predictions))
		}
		for i, p := range preds.Predictions {
			if rows[i] != p.ID {
				t.Fatalf("row %d is %s, the API's is %s (urgency order differs)", i, rows[i], p.ID)
			}
		}
		first := preds.Predictions[0]
		cells := eval[[]string](b, `[...document.querySelectorAll("#risk-table tbody tr")[0].cells].map(c => c.textContent.trim())`)
		if len(cells) < 7 || cells[4] != first.Summary {
			t.Fatalf("first row %q, want the summary %q", cells, first.Summary)
		}
		days := func(at *time.Time) string {
			if at == nil {
				return "?"
			}
			return fmt.Sprintf("%.1f", at.Sub(preds.ComputedAt).Hours()/24)
		}
		if first.BreachAt != nil {
			if want := days(first.BreachP10) + "–" + days(first.BreachP90); cells[6] != want {
				t.Errorf("first row's p10–p90 %q, want %q", cells[6], want)
			}
		}
		// The kind filter shows exactly the API's predictions of that kind.
		kinds := eval[[]string](b, `(() => { const s = document.getElementById("filter-kind"); s.value = "memleak"; s.dispatchEvent(new Event("change"));
			return [...document.querySelectorAll("#risk-table tbody tr[data-id]")].map(r => r.dataset.kind); })()`)
		want := 0
		for _, p := range preds.Predictions {
			if p.Kind == "memleak" {
				want++
			}
		}
		if len(kinds) != want || strings.Count(strings.Join(kinds, ","), "memleak") != want {
			t.Errorf("kind filter: %v, want %d memleak rows", kinds, want)
		}
		eval[chromedp.Void](b, `(() => { const s = document.getElementById("filter-kind"); s.value = ""; s.dispatchEvent(new Event("change")); })()`)
		// Refresh asks again with If-None-Match: no job finished, so 304.
		if st := eval[string](b, `document.getElementById("risk-table").dataset.lastStatus`); st != "200" {
			t.Errorf("first answer %s, want 200", st)
		}
		b.do(chromedp.Click(chromedp.ID("risk-refresh")))
		b.do(chromedp.WaitVisible(chromedp.CSS(`#risk-table[data-last-status="304"]`)))
		b.screenshot("03-risk")
		b.noProblems("risk page")
	})

	step("disk", func(t *testing.T) {
		b.t = t
		disk := firstOf(func(p prediction) bool { return p.Kind == "disk" })
		b.do(chromedp.Click(chromedp.CSS(`#risk-table tbody tr[data-kind="disk"] td.summary a`)))
		b.waitPage("prediction", `[data-kind="disk"]`)
		if got := eval[string](b, `document.getElementById("prediction-summary").textContent`); got != disk.Summary {
			t.Errorf("clicked the first disk row, got %q, want %q", got, disk.Summary)
		}
		f.checkChart(t, b, "chart-history", 4)
		fc := f.checkChart(t, b, "chart-forecast", 6)
		if fc.Forecast != 168 {
			t.Errorf("forecast chart has %d forecast points, want the 168 asked for", fc.Forecast)
		}
		b.screenshot("04-disk")
		b.noProblems("disk page")
	})

	step("memory", func(t *testing.T) {
		b.t = t
		leak := firstOf(func(p prediction) bool { return p.Kind == "memleak" && p.Status == "leak" })
		b.hash("#/prediction/" + url.PathEscape(leak.ID))
		b.waitPage("prediction", `[data-kind="memleak"]`)
		c := f.checkChart(t, b, "chart-memory", 5)
		if c.Troughs < 10 {
			t.Errorf("memory chart shows %d GC troughs", c.Troughs)
		}
		f.checkChart(t, b, "chart-forecast", 6)
		b.screenshot("05-memory")
		b.noProblems("memory page")
	})

	step("monthend", func(t *testing.T) {
		b.t = t
		me := firstOf(func(p prediction) bool {
			return p.Kind == "monthend" && p.Status != "insufficient_history" && p.Status != "error"
		})
		b.hash("#/prediction/" + url.PathEscape(me.ID))
		b.waitPage("prediction", `[data-kind="monthend"]`)
		var one struct {
			Prediction struct {
				Detail struct {
					Evidence struct {
						Closes []json.RawMessage `json:"closes"`
					} `json:"evidence"`
				} `json:"detail"`
			} `json:"prediction"`
		}
		f.get(t, "viewer", "/api/v1/predictions/"+url.PathEscape(me.ID), &one)
		closes := len(one.Prediction.Detail.Evidence.Closes)
		c := f.checkChart(t, b, "chart-closes", closes+1)
		if c.Closes != closes || closes < 2 {
			t.Errorf("closes chart overlays %d closes, the evidence has %d", c.Closes, closes)
		}
		if p := b.chart("chart-peaks"); p.Width == 0 || p.Points < closes {
			t.Errorf("peaks chart %+v", p)
		}
		f.checkChart(t, b, "chart-forecast", 6)
		b.screenshot("06-monthend")
		b.noProblems("month-end page")
	})

	var reported int64
	step("tickets", func(t *testing.T) {
		b.t = t
		var open ticketList
		f.get(t, "viewer", "/api/v1/tickets?state=reported&state=classified&state=assigned&state=in_progress&state=reopened&limit=500", &open)
		if len(open.Tickets) == 0 {
			t.Fatal("the ticket rules opened no ticket")
		}
		for _, tk := range open.Tickets {
			if tk.State == "reported" {
				reported = tk.RowID
				break
			}
		}
		b.hash("#/tickets")
		b.waitPage("tickets", "")
		if n := eval[int](b, `document.querySelectorAll("#tickets-table tbody tr[data-row-id]").length`); n != len(open.Tickets) {
			t.Errorf("%d open tickets shown, the API has %d", n, len(open.Tickets))
		}
		b.screenshot("07-tickets")
		b.noProblems("tickets page")
	})

	step("transition", func(t *testing.T) {
		b.t = t
		if reported == 0 {
			t.Fatal("no reported ticket")
		}
		b.hash(fmt.Sprintf("#/tickets/%d", reported))
		b.waitPage("ticket", fmt.Sprintf(` #ticket-head[data-row-id="%d"]`, reported))
		b.do(chromedp.WaitVisible(chromedp.CSS(`#transitions button[data-to="classified"]`)))
		b.screenshot("08-ticket")
		b.do(chromedp.SendKeys(chromedp.ID("transition-reason"), "triaged from the console"),
			chromedp.Click(chromedp.CSS(`#transitions button[data-to="classified"]`)))
		b.do(chromedp.WaitVisible(chromedp.CSS(`#ticket-head[data-state="classified"]`)))
		rec, err := f.st.GetTicket(ctx, reported)
		if err != nil {
			t.Fatal(err)
		}
		tk, err := incident.FromRecord(rec)
		if err != nil {
			t.Fatal(err)
		}
		if tk.State != ticket.StateClassified {
			t.Fatalf("state in the database: %s, want classified", tk.State)
		}
		hist, err := f.st.TicketHistory(ctx, reported)
		if err != nil {
			t.Fatal(err)
		}
		last := hist[len(hist)-1]
		if last.Actor != f.names["operator"] || last.Reason != "triaged from the console" {
			t.Errorf("history records %q %q", last.Actor, last.Reason)
		}
		b.screenshot("09-ticket-classified")
		b.noProblems("ticket page")
	})

	step("jobs", func(t *testing.T) {
		b.t = t
		var list struct {
			Jobs []struct {
				Name string `json:"name"`
			} `json:"jobs"`
		}
		f.get(t, "viewer", "/api/v1/jobs", &list)
		b.hash("#/jobs")
		b.waitPage("jobs", "")
		names := eval[[]string](b, `[...document.querySelectorAll("#jobs-table tbody tr[data-job]")].map(r => r.dataset.job)`)
		if len(names) != len(list.Jobs) || len(names) != 3 {
			t.Fatalf("jobs shown %v, the API has %d", names, len(list.Jobs))
		}
		if n := eval[int](b, `document.querySelectorAll("#jobs-table button.run-now").length`); n != 3 {
			t.Errorf("%d Run now buttons for an operator, want 3", n)
		}
		b.screenshot("10-jobs")
		b.do(chromedp.Click(chromedp.CSS(`#jobs-table button.run-now[data-job="forecast-cpu"]`)))
		b.do(chromedp.WaitVisible(chromedp.ID("trigger-result")))
		res := eval[map[string]string](b, `({...document.getElementById("trigger-result").dataset})`)
		if res["job"] != "forecast-cpu" || res["runId"] == "" && res["status"] != "409" {
			t.Errorf("trigger result %v", res)
		}
		b.hash("#/jobs/predict-capacity")
		b.waitPage("job", "")
		var runs struct {
			Runs []json.RawMessage `json:"runs"`
		}
		f.get(t, "viewer", "/api/v1/jobs/predict-capacity/runs?limit=50", &runs)
		if n := eval[int](b, `document.querySelectorAll("#runs-table tbody tr[data-run-id]").length`); n != len(runs.Runs) || n == 0 {
			t.Errorf("%d runs shown, the API has %d", n, len(runs.Runs))
		}
		b.screenshot("11-job")
		b.noProblems("jobs pages")
	})

	step("viewer", func(t *testing.T) {
		b.t = t
		b.loginOK.Store(true)
		b.do(chromedp.Click(chromedp.ID("logout")))
		b.do(chromedp.WaitVisible(chromedp.ID("token")))
		b.do(chromedp.SendKeys(chromedp.ID("token"), f.tokens["viewer"]), chromedp.Click(chromedp.ID("login-submit")))
		b.waitPage("risk", "")
		b.loginOK.Store(false)
		if role := eval[string](b, `document.getElementById("who").dataset.role`); role != "viewer" {
			t.Errorf("role %q", role)
		}
		b.hash(fmt.Sprintf("#/tickets/%d", reported))
		b.waitPage("ticket", fmt.Sprintf(` #ticket-head[data-row-id="%d"]`, reported))
		if n := eval[int](b, `document.querySelectorAll("#transitions, #transitions button, #comment-add").length`); n != 0 {
			t.Errorf("a viewer sees %d transition or note controls", n)
		}
		if !eval[bool](b, `!!document.getElementById("readonly-note")`) {
			t.Error("no read-only note for a viewer")
		}
		b.screenshot("12-ticket-viewer")
		b.hash("#/jobs")
		b.waitPage("jobs", "")
		if n := eval[int](b, `document.querySelectorAll("button.run-now").length`); n != 0 {
			t.Errorf("a viewer sees %d Run now buttons", n)
		}
		b.noProblems("viewer")
	})

	step("revoked", func(t *testing.T) {
		b.t = t
		// The viewer's token is revoked mid-session: the next call gets 401
		// and the console goes back to the login page, then returns to the
		// page asked for after signing in again.
		b.any401.Store(true)
		if _, err := f.st.RevokeToken(ctx, f.ids["viewer"], "console-test", time.Time{}); err != nil {
			t.Fatal(err)
		}
		b.hash("#/tickets")
		b.do(chromedp.WaitVisible(chromedp.ID("login-message")))
		msg := eval[string](b, `document.getElementById("login-message").textContent`)
		if !strings.Contains(msg, "unknown, revoked or expired") {
			t.Errorf("login message %q", msg)
		}
		if tok := eval[string](b, `localStorage.getItem("foresight.token") || ""`); tok != "" {
			t.Error("the refused token is still stored")
		}
		b.screenshot("13-session-ended")
		b.loginOK.Store(true)
		b.do(chromedp.SendKeys(chromedp.ID("token"), f.tokens["admin"]), chromedp.Click(chromedp.ID("login-submit")))
		b.waitPage("tickets", "")
		b.any401.Store(false)
		b.loginOK.Store(false)
		if role := eval[string](b, `document.getElementById("who").dataset.role`); role != "admin" {
			t.Errorf("role %q after signing in as admin", role)
		}
		b.noProblems("revoked token")
	})

	step("light-and-wall", func(t *testing.T) {
		b.t = t
		eval[chromedp.Void](b, `localStorage.setItem("foresight.theme", "light")`)
		b.hash("#/risk")
		b.do(chromedp.Reload())
		b.waitPage("risk", "")
		if th := eval[string](b, `document.documentElement.dataset.theme`); th != "light" {
			t.Errorf("theme %q", th)
		}
		b.screenshot("14-risk-light")
		disk := firstOf(func(p prediction) bool { return p.Kind == "disk" })
		b.hash("#/prediction/" + url.PathEscape(disk.ID))
		b.waitPage("prediction", `[data-kind="disk"]`)
		b.screenshot("15-disk-light")
		eval[chromedp.Void](b, `localStorage.removeItem("foresight.theme")`)
		b.do(chromedp.Navigate(f.url + "/ui/?kiosk=1#/risk"))
		b.waitPage("risk", "")
		if !eval[bool](b, `document.body.classList.contains("wall") && getComputedStyle(document.querySelector(".nav")).display === "none"`) {
			t.Error("kiosk=1 does not give the wall display")
		}
		b.screenshot("16-risk-wall")
		b.noProblems("light and wall")
	})
	step("auth-off", func(t *testing.T) {
		b.t = t
		// With auth off, whoami answers without a token: no login page.
		eval[chromedp.Void](b, `localStorage.clear()`)
		b.do(chromedp.Navigate(f.openURL + "/ui/"))
		b.waitPage("risk", "")
		who := eval[map[string]string](b, `({...document.getElementById("who").dataset, logout: String(!!document.getElementById("logout"))})`)
		if who["name"] != "anonymous" || who["role"] != "admin" || who["logout"] != "false" {
			t.Errorf("header with auth off: %v", who)
		}
		if n := eval[int](b, `document.querySelectorAll("#risk-table tbody tr[data-id]").length`); n != len(preds.Predictions) {
			t.Errorf("%d rows with auth off, want %d", n, len(preds.Predictions))
		}
		b.noProblems("auth off")
	})
}
