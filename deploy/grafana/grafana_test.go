package grafana

// Checks of the Grafana dashboard and its provisioning files.
//
// TestDashboardStructure and TestProvisioningFiles read the files only.
// TestDashboardQueriesReturnData runs every query of the dashboard, with
// Grafana's macros filled in the way Grafana fills them, against a real
// InfluxDB 1.8 holding a small demo fleet and the predictions and forecasts
// that Foresight's own jobs wrote back into it. Start a server with
//
//	bash scripts/influxdb.sh start && eval "$(bash scripts/influxdb.sh env)"
//
// Without FORESIGHT_INFLUX_URL that test skips, except when CI=true or
// FORESIGHT_REQUIRE_INFLUX is set: then it fails.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/seed-f1b503aa/foresight/config"
	"github.com/seed-f1b503aa/foresight/datasets"
	"github.com/seed-f1b503aa/foresight/engine"
	"github.com/seed-f1b503aa/foresight/engine/fleet"
	"github.com/seed-f1b503aa/foresight/jobs"
	"github.com/seed-f1b503aa/foresight/storage/influx"
	"github.com/seed-f1b503aa/foresight/storage/state"
)

const (
	dashboardFile  = "dashboards/foresight.json"
	datasourceFile = "provisioning/datasources/foresight.yaml"
	providerFile   = "provisioning/dashboards/foresight.yaml"
	readmeFile     = "README.md"

	dashboardUID = "foresight-overview"
	// dsVariable is the data source template variable every panel and
	// query refers to (no data source ids are written in the dashboard).
	dsVariable = "DS_INFLUXDB"
	dsRefUID   = "${" + dsVariable + "}"
	hostQuery  = `SHOW TAG VALUES FROM "disk" WITH KEY = "host"`
)

// The parts of Grafana's dashboard model the tests look at.
type dsRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type target struct {
	RefID        string `json:"refId"`
	Datasource   *dsRef `json:"datasource"`
	RawQuery     bool   `json:"rawQuery"`
	ResultFormat string `json:"resultFormat"`
	Query        string `json:"query"`
	Alias        string `json:"alias"`
}

type gridPos struct {
	H, W, X, Y int
}

type override struct {
	Matcher struct {
		ID      string `json:"id"`
		Options string `json:"options"`
	} `json:"matcher"`
	Properties []struct {
		ID    string          `json:"id"`
		Value json.RawMessage `json:"value"`
	} `json:"properties"`
}

type thresholdStep struct {
	Color string   `json:"color"`
	Value *float64 `json:"value"`
}

type panel struct {
	ID          int      `json:"id"`
	Type        string   `json:"type"`
	Title       string   `json:"title"`
	GridPos     *gridPos `json:"gridPos"`
	Datasource  *dsRef   `json:"datasource"`
	Targets     []target `json:"targets"`
	TimeFrom    string   `json:"timeFrom"`
	Repeat      string   `json:"repeat"`
	Panels      []panel  `json:"panels"`
	FieldConfig struct {
		Overrides []override `json:"overrides"`
	} `json:"fieldConfig"`
}

type variable struct {
	Name       string `json:"name"`
	Type       string `json:"type"`
	Query      any    `json:"query"`
	Datasource *dsRef `json:"datasource"`
	Multi      bool   `json:"multi"`
	IncludeAll bool   `json:"includeAll"`
	Current    struct {
		Value any `json:"value"`
	} `json:"current"`
}

type dashboard struct {
	UID           string `json:"uid"`
	Title         string `json:"title"`
	SchemaVersion int    `json:"schemaVersion"`
	Time          struct {
		From string `json:"from"`
		To   string `json:"to"`
	} `json:"time"`
	Templating struct {
		List []variable `json:"list"`
	} `json:"templating"`
	Panels []panel `json:"panels"`
}

// loadDashboard decodes the dashboard file, also as generic JSON.
func loadDashboard(t *testing.T) (dashboard, any) {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(b) {
		t.Fatalf("%s is not valid JSON", dashboardFile)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	var raw any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	return d, raw
}

// allPanels lists the panels, those nested in collapsed rows included.
func allPanels(d dashboard) []panel {
	var out []panel
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			out = append(out, p)
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out
}

func findVariable(d dashboard, name string) *variable {
	for i := range d.Templating.List {
		if d.Templating.List[i].Name == name {
			return &d.Templating.List[i]
		}
	}
	return nil
}

// macroRE finds Grafana variable references: $name, ${name} and [[name]].
var macroRE = regexp.MustCompile(`\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]`)

func TestDashboardStructure(t *testing.T) {
	d, raw := loadDashboard(t)
	if d.UID != dashboardUID || d.Title == "" {
		t.Errorf("uid %q title %q, want uid %q and a title", d.UID, d.Title, dashboardUID)
	}
	if d.SchemaVersion < 36 || d.SchemaVersion > 41 {
		t.Errorf("schemaVersion %d: want one of Grafana 9.x–11.x (36–41)", d.SchemaVersion)
	}
	// Forecast points lie in the future: the default range must reach past now.
	if !strings.HasPrefix(d.Time.To, "now+") {
		t.Errorf("time.to %q: the default range must include the forecast horizon (now+…)", d.Time.To)
	}

	// The data source is a template variable of type influxdb, and the
	// host variable lists the hosts of the disk measurement.
	ds := findVariable(d, dsVariable)
	if ds == nil || ds.Type != "datasource" || ds.Query != "influxdb" {
		t.Fatalf("variable %s: %+v, want type datasource with query influxdb", dsVariable, ds)
	}
	host := findVariable(d, "host")
	if host == nil || host.Type != "query" || host.Query != hostQuery || !reflect.DeepEqual(host.Datasource, &dsRef{"influxdb", dsRefUID}) {
		t.Fatalf("variable host: %+v, want a query variable %q on %s", host, hostQuery, dsRefUID)
	}
	if !host.Multi || !host.IncludeAll {
		t.Errorf("variable host: multi %v includeAll %v, want both (the queries match it as a regex)", host.Multi, host.IncludeAll)
	}
	variables := map[string]bool{}
	for _, v := range d.Templating.List {
		variables[v.Name] = true
	}

	// No data source id or name is written anywhere: every "datasource"
	// in the document is the template variable (or Grafana's built-in
	// annotation source).
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				p := path + "." + k
				switch k {
				case "datasourceId", "datasourceUid", "__inputs":
					t.Errorf("%s: hard-coded data source reference", p)
				case "datasource":
					ref, ok := x.(map[string]any)
					builtin := ok && ref["type"] == "grafana" && ref["uid"] == "-- Grafana --"
					if !ok || (!builtin && (ref["type"] != "influxdb" || ref["uid"] != dsRefUID || len(ref) != 2)) {
						t.Errorf("%s = %v, want {type: influxdb, uid: %s}", p, x, dsRefUID)
					}
					continue
				}
				walk(p, x)
			}
		case []any:
			for i, x := range v {
				walk(fmt.Sprintf("%s[%d]", path, i), x)
			}
		}
	}
	walk("", raw)

	panels := allPanels(d)
	ids := map[int]string{}
	var boxes []panel
	measurements := map[string]bool{}
	for _, p := range panels {
		name := fmt.Sprintf("panel %d %q", p.ID, p.Title)
		if p.ID <= 0 || p.Title == "" || p.Type == "" {
			t.Errorf("%s: needs a positive id, a title and a type", name)
		}
		if other, dup := ids[p.ID]; dup {
			t.Errorf("%s: id also used by %q", name, other)
		}
		ids[p.ID] = p.Title
		g := p.GridPos
		if g == nil || g.W <= 0 || g.H <= 0 || g.X < 0 || g.Y < 0 || g.X+g.W > 24 {
			t.Errorf("%s: gridPos %+v must lie within the 24 columns", name, g)
		} else {
			boxes = append(boxes, p)
		}
		if p.Type == "row" {
			if len(p.Targets) > 0 {
				t.Errorf("%s: a row has no queries", name)
			}
			continue
		}
		if !reflect.DeepEqual(p.Datasource, &dsRef{"influxdb", dsRefUID}) {
			t.Errorf("%s: datasource %+v, want {influxdb %s}", name, p.Datasource, dsRefUID)
		}
		if len(p.Targets) == 0 {
			t.Errorf("%s: no query", name)
		}
		if p.Repeat != "" && !variables[p.Repeat] {
			t.Errorf("%s: repeats over unknown variable %q", name, p.Repeat)
		}
		if p.TimeFrom != "" {
			if _, err := parseGrafanaDuration(p.TimeFrom); err != nil {
				t.Errorf("%s: timeFrom: %v", name, err)
			}
		}
		refs := map[string]bool{}
		for _, q := range p.Targets {
			tn := fmt.Sprintf("%s query %s", name, q.RefID)
			if q.RefID == "" || refs[q.RefID] {
				t.Errorf("%s: missing or duplicate refId", tn)
			}
			refs[q.RefID] = true
			if !reflect.DeepEqual(q.Datasource, &dsRef{"influxdb", dsRefUID}) {
				t.Errorf("%s: datasource %+v, want {influxdb %s}", tn, q.Datasource, dsRefUID)
			}
			// InfluxQL as raw text, not the query builder and not Flux.
			if !q.RawQuery || !strings.HasPrefix(q.Query, "SELECT ") || strings.Contains(q.Query, "|>") || strings.Contains(q.Query, "from(bucket") {
				t.Errorf("%s: want a raw InfluxQL SELECT (rawQuery true), got rawQuery=%v %q", tn, q.RawQuery, q.Query)
			}
			if q.ResultFormat != "time_series" && q.ResultFormat != "table" {
				t.Errorf("%s: resultFormat %q", tn, q.ResultFormat)
			}
			if !strings.Contains(q.Query, "$timeFilter") {
				t.Errorf("%s: no $timeFilter: the query would read the whole history", tn)
			}
			for _, m := range macroRE.FindAllStringSubmatch(q.Query, -1) {
				v := m[1] + m[2] + m[3]
				if v == dsVariable {
					t.Errorf("%s: the data source variable has no place in a query", tn)
				} else if v != "timeFilter" && v != "__interval" && !variables[v] {
					t.Errorf("%s: unknown variable %q", tn, v)
				}
			}
			if m := regexp.MustCompile(`FROM "(\w+)"`).FindAllStringSubmatch(q.Query, -1); m != nil {
				for _, x := range m {
					measurements[x[1]] = true
				}
			}
		}
	}
	for i, a := range boxes {
		for _, b := range boxes[i+1:] {
			ga, gb := a.GridPos, b.GridPos
			if ga.X < gb.X+gb.W && gb.X < ga.X+ga.W && ga.Y < gb.Y+gb.H && gb.Y < ga.Y+ga.H {
				t.Errorf("panels %d and %d overlap: %+v %+v", a.ID, b.ID, *ga, *gb)
			}
		}
	}
	for _, m := range []string{"foresight_prediction", "foresight_forecast", "disk", "cpu", "process_mem"} {
		if !measurements[m] {
			t.Errorf("no query reads measurement %s", m)
		}
	}

	// The risk table colours the breach times: red under 24 h, orange
	// under 72 h, yellow under 7 days.
	risk := panelWhere(t, panels, func(p panel) bool {
		return p.Type == "table" && len(p.Targets) == 1 && strings.Contains(p.Targets[0].Query, `FROM "foresight_prediction"`) &&
			!strings.Contains(p.Targets[0].Query, `"kind" =`)
	})
	steps := breachSteps(t, risk)
	colorAt := func(h float64) string {
		c := ""
		for _, s := range steps {
			if s.Value == nil || h >= *s.Value {
				c = s.Color
			}
		}
		return c
	}
	for h, want := range map[float64]string{-5: "red", 0: "red", 23.9: "red", 24: "orange", 71.9: "orange", 72: "yellow", 167.9: "yellow"} {
		if got := colorAt(h); got != want {
			t.Errorf("risk table: a breach in %g h is coloured %q, want %q", h, got, want)
		}
	}
	if c := colorAt(168); c == "red" || c == "orange" || c == "yellow" {
		t.Errorf("risk table: a breach in 7 days or more is coloured %q", c)
	}
	if c := colorAt(math.Inf(-1)); c != "transparent" {
		t.Errorf("risk table: a missing breach time (base step) is coloured %q, want transparent", c)
	}

	// The forecast bands fill between series that the forecast query names.
	fc := panelWhere(t, panels, func(p panel) bool {
		return slices.ContainsFunc(p.Targets, func(q target) bool { return strings.Contains(q.Query, `FROM "foresight_forecast"`) })
	})
	fills := map[string]string{}
	for _, o := range fc.FieldConfig.Overrides {
		for _, pr := range o.Properties {
			if pr.ID == "custom.fillBelowTo" {
				var to string
				if err := json.Unmarshal(pr.Value, &to); err != nil {
					t.Fatal(err)
				}
				fills[o.Matcher.Options] = to
			}
		}
	}
	if !reflect.DeepEqual(fills, map[string]string{"hi80": "lo80", "hi95": "lo95"}) {
		t.Errorf("forecast panel: fillBelowTo %v, want hi80→lo80 and hi95→lo95", fills)
	}
	for _, q := range fc.Targets {
		if strings.Contains(q.Query, "foresight_forecast") {
			for _, col := range []string{"lo80", "hi80", "lo95", "hi95"} {
				if !strings.Contains(q.Query, `AS "`+col+`"`) {
					t.Errorf("forecast query names no series %q (the overrides match it): %s", col, q.Query)
				}
			}
			if q.Alias != "$col" {
				t.Errorf("forecast query alias %q, want $col so that series are named after their columns", q.Alias)
			}
		}
	}
}

func panelWhere(t *testing.T, panels []panel, match func(panel) bool) panel {
	t.Helper()
	var found []panel
	for _, p := range panels {
		if match(p) {
			found = append(found, p)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d panels match, want 1", len(found))
	}
	return found[0]
}

// breachSteps returns the thresholds of the override on the "Breach in"
// column of a prediction table.
func breachSteps(t *testing.T, p panel) []thresholdStep {
	t.Helper()
	for _, o := range p.FieldConfig.Overrides {
		if !strings.Contains(o.Matcher.Options, "Breach in") {
			continue
		}
		for _, pr := range o.Properties {
			if pr.ID == "thresholds" {
				var th struct {
					Mode  string          `json:"mode"`
					Steps []thresholdStep `json:"steps"`
				}
				if err := json.Unmarshal(pr.Value, &th); err != nil {
					t.Fatal(err)
				}
				if th.Mode != "absolute" || len(th.Steps) == 0 || th.Steps[0].Value != nil {
					t.Fatalf("panel %d: breach thresholds %+v", p.ID, th)
				}
				return th.Steps
			}
		}
	}
	t.Fatalf("panel %d: no thresholds on the Breach in column", p.ID)
	return nil
}

func TestProvisioningFiles(t *testing.T) {
	d, _ := loadDashboard(t)
	var ds struct {
		APIVersion  int `yaml:"apiVersion"`
		Datasources []struct {
			Name     string `yaml:"name"`
			UID      string `yaml:"uid"`
			Type     string `yaml:"type"`
			Access   string `yaml:"access"`
			URL      string `yaml:"url"`
			User     string `yaml:"user"`
			JSONData struct {
				Version      string `yaml:"version"`
				DBName       string `yaml:"dbName"`
				HTTPMode     string `yaml:"httpMode"`
				TimeInterval string `yaml:"timeInterval"`
			} `yaml:"jsonData"`
			SecureJSONData map[string]string `yaml:"secureJsonData"`
		} `yaml:"datasources"`
	}
	decodeYAML(t, datasourceFile, &ds)
	if ds.APIVersion != 1 || len(ds.Datasources) != 1 {
		t.Fatalf("%s: apiVersion %d, %d data sources", datasourceFile, ds.APIVersion, len(ds.Datasources))
	}
	src := ds.Datasources[0]
	if src.Type != "influxdb" || src.Access != "proxy" || src.JSONData.Version != "InfluxQL" {
		t.Errorf("data source %+v: want type influxdb, access proxy, InfluxQL", src)
	}
	// The URL and the credentials come from the environment.
	envRef := regexp.MustCompile(`^\$\{[A-Z][A-Z0-9_]*\}$`)
	if !envRef.MatchString(src.URL) {
		t.Errorf("url %q: want an environment variable reference ${...}", src.URL)
	}
	if src.User != "" && !envRef.MatchString(src.User) {
		t.Errorf("user %q: want an environment variable reference", src.User)
	}
	for k, v := range src.SecureJSONData {
		if !envRef.MatchString(v) {
			t.Errorf("secureJsonData.%s: want an environment variable reference, not a literal secret", k)
		}
	}
	// Grafana expands ${VAR} from its environment: the result is a URL.
	expanded := os.Expand(src.URL, func(string) string { return "http://influxdb:8086" })
	if u, err := url.Parse(expanded); err != nil || u.Scheme != "http" || u.Host == "" {
		t.Errorf("url %q expands to %q, not a URL", src.URL, expanded)
	}
	// The database is the one Foresight writes to by default.
	if want := config.Default().Store.InfluxDB.Bucket; src.JSONData.DBName != want {
		t.Errorf("jsonData.dbName %q, want Foresight's default database %q", src.JSONData.DBName, want)
	}
	if _, err := parseGrafanaDuration(src.JSONData.TimeInterval); src.JSONData.TimeInterval != "" && err != nil {
		t.Errorf("jsonData.timeInterval: %v", err)
	}
	// The dashboard's data source variable selects it by default.
	if v := findVariable(d, dsVariable); v == nil || (v.Current.Value != src.Name && v.Current.Value != src.UID) {
		t.Errorf("variable %s selects %v by default, want the provisioned %q", dsVariable, v, src.Name)
	}

	var prov struct {
		APIVersion int `yaml:"apiVersion"`
		Providers  []struct {
			Name    string `yaml:"name"`
			Type    string `yaml:"type"`
			Folder  string `yaml:"folder"`
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	decodeYAML(t, providerFile, &prov)
	if prov.APIVersion != 1 || len(prov.Providers) != 1 {
		t.Fatalf("%s: apiVersion %d, %d providers", providerFile, prov.APIVersion, len(prov.Providers))
	}
	p := prov.Providers[0]
	if p.Type != "file" || !filepath.IsAbs(p.Options.Path) {
		t.Errorf("provider %+v: want type file and an absolute options.path", p)
	}
	// The README's mount instructions use the same paths and variables.
	readme, err := os.ReadFile(readmeFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{p.Options.Path, "/etc/grafana/provisioning/datasources", "/etc/grafana/provisioning/dashboards",
		strings.Trim(src.URL, "${}"), dashboardUID} {
		if !bytes.Contains(readme, []byte(s)) {
			t.Errorf("%s does not mention %s", readmeFile, s)
		}
	}
}

func decodeYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(false)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// parseGrafanaDuration reads Grafana's relative durations: 90s, 15m, 2h, 7d, 1w.
func parseGrafanaDuration(s string) (time.Duration, error) {
	units := map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}
	if len(s) < 2 {
		return 0, fmt.Errorf("duration %q", s)
	}
	u, ok := units[s[len(s)-1]]
	n, err := strconv.Atoi(s[:len(s)-1])
	if !ok || err != nil || n < 0 {
		return 0, fmt.Errorf("duration %q: want a number and one of s m h d w", s)
	}
	return time.Duration(n) * u, nil
}

// relativeTime resolves "now", "now-7d" and "now+2d".
func relativeTime(s string, now time.Time) (time.Time, error) {
	if s == "now" {
		return now, nil
	}
	if len(s) > 4 && strings.HasPrefix(s, "now") && (s[3] == '-' || s[3] == '+') {
		d, err := parseGrafanaDuration(s[4:])
		if err != nil {
			return time.Time{}, err
		}
		if s[3] == '-' {
			d = -d
		}
		return now.Add(d), nil
	}
	return time.Time{}, fmt.Errorf("time %q: want now, now-<duration> or now+<duration>", s)
}

// ---- queries against a real InfluxDB ----

// The demo fleet loaded for the query test: three hosts (erp-app-01,
// db-01, rpt-01, which carry one of each pattern), 75 days at 15 minutes
// (the disk and month-end predictors' step; about 165,000 points), ending
// now. 75 days hold at least two past month-end closes, so the month-end
// predictor answers with real predictions.
const (
	fleetHosts = 3
	fleetDays  = 75
	fleetStep  = 15 * time.Minute
	fleetSeed  = 42
	// queryInterval stands for Grafana's $__interval.
	queryInterval = "1h"
)

// influxURL returns the test server's URL, or skips (fails when InfluxDB
// is required).
func influxURL(t *testing.T) string {
	t.Helper()
	u := strings.TrimRight(os.Getenv("FORESIGHT_INFLUX_URL"), "/")
	if u == "" {
		if os.Getenv("CI") == "true" || os.Getenv("FORESIGHT_REQUIRE_INFLUX") != "" {
			t.Fatal("FORESIGHT_INFLUX_URL is not set but InfluxDB is required (CI=true or FORESIGHT_REQUIRE_INFLUX set); " +
				"run: bash scripts/influxdb.sh start && eval \"$(bash scripts/influxdb.sh env)\"")
		}
		t.Skip("FORESIGHT_INFLUX_URL not set; start a server with: bash scripts/influxdb.sh start && eval \"$(bash scripts/influxdb.sh env)\"")
	}
	return u
}

// influxResult is the answer of the InfluxDB 1.x /query endpoint for one
// statement.
type influxSeries struct {
	Name    string            `json:"name"`
	Tags    map[string]string `json:"tags"`
	Columns []string          `json:"columns"`
	Values  [][]any           `json:"values"`
}

// col returns the index of a column, or -1.
func (s influxSeries) col(name string) int { return slices.Index(s.Columns, name) }

// cell returns a row's value of a column, or of the series' tag of that
// name; nil when there is neither.
func (s influxSeries) cell(row []any, name string) any {
	if i := s.col(name); i >= 0 {
		return row[i]
	}
	if v, ok := s.Tags[name]; ok {
		return v
	}
	return nil
}

// influxQuery runs one InfluxQL statement through GET /query, as Grafana's
// InfluxQL data source does with httpMode GET, with epoch=ms.
func influxQuery(ctx context.Context, base, db, q string) ([]influxSeries, error) {
	v := url.Values{"q": {q}, "epoch": {"ms"}}
	if db != "" {
		v.Set("db", db)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/query?"+v.Encode(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var r struct {
		Error   string `json:"error"`
		Results []struct {
			Error  string         `json:"error"`
			Series []influxSeries `json:"series"`
		} `json:"results"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("%s: %s", resp.Status, body)
	}
	if resp.StatusCode != http.StatusOK || r.Error != "" || len(r.Results) != 1 || r.Results[0].Error != "" {
		return nil, fmt.Errorf("%s: %s", resp.Status, body)
	}
	return r.Results[0].Series, nil
}

func influxStatement(t *testing.T, base, q string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := influxQuery(ctx, base, "", q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// number reads a JSON number cell; ok is false for null.
func number(t *testing.T, v any) (float64, bool) {
	t.Helper()
	if v == nil {
		return 0, false
	}
	n, ok := v.(json.Number)
	if !ok {
		t.Fatalf("cell %v (%T) is not a number", v, v)
	}
	f, err := n.Float64()
	if err != nil {
		t.Fatal(err)
	}
	return f, true
}

// regexEscape escapes a variable value the way Grafana does before putting
// it into an InfluxQL regex (/^$host$/).
func regexEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`\^$*+?.()|[]{}/-`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// hostValue formats the selected hosts like Grafana formats a multi-value
// variable for an InfluxQL regex: one value escaped, several as (a|b).
func hostValue(hosts []string) string {
	esc := make([]string, len(hosts))
	for i, h := range hosts {
		esc[i] = regexEscape(h)
	}
	if len(esc) == 1 {
		return esc[0]
	}
	return "(" + strings.Join(esc, "|") + ")"
}

// interpolate fills in Grafana's macros: $timeFilter as Grafana renders it
// for the panel's time range, $__interval, and $host.
func interpolate(t *testing.T, q string, from, to time.Time, host string) string {
	t.Helper()
	out := macroRE.ReplaceAllStringFunc(q, func(m string) string {
		sm := macroRE.FindStringSubmatch(m)
		switch sm[1] + sm[2] + sm[3] {
		case "timeFilter":
			return fmt.Sprintf("time >= %dms and time <= %dms", from.UnixMilli(), to.UnixMilli())
		case "__interval":
			return queryInterval
		case "host":
			return host
		}
		t.Fatalf("query %q: no value for %s", q, m)
		return m
	})
	return out
}

// loadFleet writes the demo fleet into the store.
func loadFleet(ctx context.Context, t *testing.T, ms engine.MetricStore, end time.Time) *datasets.Fleet {
	t.Helper()
	f, err := datasets.GenerateFleet(datasets.FleetConfig{Hosts: fleetHosts, Days: fleetDays, Step: fleetStep, Seed: fleetSeed, End: end})
	if err != nil {
		t.Fatal(err)
	}
	const batchSize = 20000
	batch := make([]engine.Point, 0, batchSize)
	err = f.Each(func(p engine.Point) error {
		// Each reuses the Fields map of a series: keep a copy.
		p.Fields = maps.Clone(p.Fields)
		batch = append(batch, p)
		if len(batch) < batchSize {
			return nil
		}
		err := ms.Write(ctx, batch)
		batch = batch[:0]
		return err
	})
	if err == nil && len(batch) > 0 {
		err = ms.Write(ctx, batch)
	}
	if err != nil {
		t.Fatalf("loading the demo fleet: %v", err)
	}
	return f
}

// runJobs runs every job of the example configuration once (the predict
// jobs disk, memory, monthend-daily and monthend-close, and the forecast
// job forecast-cpu), writing their results back into ms, and returns the
// served predictions by id.
func runJobs(ctx context.Context, t *testing.T, ms engine.MetricStore) map[string]fleet.Prediction {
	t.Helper()
	st, err := state.Open(ctx, state.Config{Driver: state.DriverSQLite, Path: filepath.Join(t.TempDir(), "state.db")})
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
	cfg := config.Default()
	jc := cfg.Jobs
	if !jc.Writeback.Enabled || jc.Writeback.Predictions != "foresight_prediction" || jc.Writeback.Forecasts != "foresight_forecast" {
		t.Fatalf("the default write-back %+v is not what the dashboard reads", jc.Writeback)
	}
	// A failing store fails the test instead of being retried for seconds.
	jc.StoreRetries = 0
	svc, err := jobs.New(jobs.Options{Store: ms, State: st, Config: jc, Rules: cfg.Predictors})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := svc.Stop(ctx); err != nil {
			t.Errorf("stopping the jobs: %v", err)
		}
	})
	kinds := map[string]bool{}
	forecast := false
	for _, spec := range jc.Run {
		began := time.Now()
		rec, err := svc.RunNow(ctx, spec.Name)
		t.Logf("job %s: %d series, %d failures, %s", spec.Name, rec.Series, rec.Failures, time.Since(began).Round(time.Millisecond))
		if err != nil {
			t.Fatalf("job %s: %v", spec.Name, err)
		}
		if rec.Series == 0 {
			t.Fatalf("job %s found nothing in the demo fleet: %+v", spec.Name, rec)
		}
		if spec.Type == jobs.TypeForecast {
			if spec.Name == "forecast-cpu" && rec.Failures == 0 {
				forecast = true
			}
			continue
		}
		for _, k := range spec.Kinds {
			kinds[k] = true
		}
	}
	if !forecast || !kinds["disk"] || !kinds["memleak"] || !kinds["monthend"] {
		t.Fatalf("the example configuration no longer runs forecast-cpu and the disk, memleak and monthend predictors: %+v", jc.Run)
	}
	served, err := svc.Predictions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]fleet.Prediction{}
	for _, p := range served.Snapshot.Predictions {
		byID[p.ID] = p
	}
	return byID
}

func TestDashboardQueriesReturnData(t *testing.T) {
	base := influxURL(t)
	d, _ := loadDashboard(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// A fresh database, dropped last: the cleanups registered later (the
	// jobs, the store) run before it, so no query is reading it then. A
	// failed test keeps it for inspection, like the other InfluxDB tests
	// (InfluxDB 1.8.10 can crash when a database is dropped under a Flux
	// query that an aborted test left running).
	db := fmt.Sprintf("foresight_grafana_test_%d_%d", os.Getpid(), time.Now().UnixNano())
	influxStatement(t, base, "CREATE DATABASE "+db)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("keeping database %s of the failed test (drop it with: curl -XPOST %s/query --data-urlencode 'q=DROP DATABASE %s')", db, base, db)
			return
		}
		influxStatement(t, base, "DROP DATABASE "+db)
	})
	ms, err := influx.New(influx.Config{URL: base, Bucket: db})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ms.Close() })

	start := time.Now()
	f := loadFleet(ctx, t, ms, time.Now().UTC().Truncate(fleetStep))
	loaded := time.Since(start)
	predictions := runJobs(ctx, t, ms)
	t.Logf("demo fleet: %d series loaded in %s; jobs ran in %s; %d predictions", f.NumSeries(), loaded.Round(time.Millisecond),
		(time.Since(start) - loaded).Round(time.Millisecond), len(predictions))

	writeOlderPredictions(ctx, t, ms, predictions)

	// The host variable lists the fleet's hosts.
	hostVar := findVariable(d, "host")
	if hostVar == nil {
		t.Fatal("no host variable")
	}
	series, err := influxQuery(ctx, base, db, hostVar.Query.(string))
	if err != nil {
		t.Fatalf("host variable: %v", err)
	}
	var hosts []string
	for _, s := range series {
		for _, row := range s.Values {
			hosts = append(hosts, fmt.Sprint(row[1]))
		}
	}
	var fleetHostNames []string
	for _, h := range f.Hosts() {
		fleetHostNames = append(fleetHostNames, h.Name)
	}
	sort.Strings(fleetHostNames)
	if !reflect.DeepEqual(hosts, fleetHostNames) {
		t.Fatalf("host variable values %v, want the fleet's hosts %v", hosts, fleetHostNames)
	}

	sources := f.Series()
	// Every query, for one host and for "All" (a repeated panel gets one
	// host per copy), returns data.
	selections := [][]string{{"db-01"}, hosts}
	for _, sel := range selections {
		for _, p := range allPanels(d) {
			if p.Type == "row" {
				continue
			}
			from, to := panelRange(t, d, p, time.Now())
			copies := [][]string{sel}
			if p.Repeat == "host" {
				copies = nil
				for _, h := range sel {
					copies = append(copies, []string{h})
				}
			}
			for _, hs := range copies {
				for _, q := range p.Targets {
					name := fmt.Sprintf("panel %d %q query %s, host %v", p.ID, p.Title, q.RefID, hs)
					stmt := interpolate(t, q.Query, from, to, hostValue(hs))
					res, err := influxQuery(ctx, base, db, stmt)
					if err != nil {
						t.Errorf("%s: %s: %v", name, stmt, err)
						continue
					}
					if !hasValues(res) {
						t.Errorf("%s returned no data: %s", name, stmt)
						continue
					}
					checkQuery(t, name, q.Query, res, predictions, sources, hs)
				}
			}
		}
	}
}

// writeOlderPredictions writes, 12 hours before the jobs' run, a point of
// another status for every prediction, at risk with a breach in one hour.
// The panels must show the latest run only: a table built on last() per
// field, or grouped by status, would show these (a breach of a volume that
// is now stable, or two rows for one prediction).
func writeOlderPredictions(ctx context.Context, t *testing.T, ms engine.MetricStore, predictions map[string]fleet.Prediction) {
	t.Helper()
	jobOf := map[fleet.Kind]string{fleet.KindDisk: "disk", fleet.KindMemLeak: "memory", fleet.KindMonthEnd: "monthend-daily"}
	at := time.Now().Add(-12 * time.Hour)
	var points []engine.Point
	for id, p := range predictions {
		tags := maps.Clone(p.Entity)
		tags[jobs.TagKind], tags[jobs.TagJob], tags[jobs.TagPredictionID], tags[jobs.TagStatus] = string(p.Kind), jobOf[p.Kind], id, "earlier"
		points = append(points, engine.Point{Measurement: "foresight_prediction", Tags: tags, Time: at,
			Fields: map[string]float64{"at_risk": 1, "confidence": 0.5, "breach_in_hours": 1, "breach_p10_hours": 0.5, "breach_p90_hours": 2}})
	}
	if err := ms.Write(ctx, points); err != nil {
		t.Fatal(err)
	}
}

// panelRange is the time range Grafana gives a panel's queries: the
// dashboard's default range, or the last timeFrom when the panel sets one.
func panelRange(t *testing.T, d dashboard, p panel, now time.Time) (from, to time.Time) {
	t.Helper()
	if p.TimeFrom != "" {
		dur, err := parseGrafanaDuration(p.TimeFrom)
		if err != nil {
			t.Fatal(err)
		}
		return now.Add(-dur), now
	}
	from, err := relativeTime(d.Time.From, now)
	if err == nil {
		to, err = relativeTime(d.Time.To, now)
	}
	if err != nil {
		t.Fatal(err)
	}
	return from, to
}

// hasValues reports whether some series has a non-null value in a column
// other than time.
func hasValues(res []influxSeries) bool {
	for _, s := range res {
		for _, row := range s.Values {
			for i, v := range row {
				if s.Columns[i] != "time" && v != nil {
					return true
				}
			}
		}
	}
	return false
}

var (
	kindRE = regexp.MustCompile(`"kind" = '(\w+)'`)
	// historyRE reads the measurement and the GROUP BY tags of a history query.
	historyRE = regexp.MustCompile(`FROM "(\w+)" .*GROUP BY time\(\$__interval\)((?:, "\w+")*)`)
	tagListRE = regexp.MustCompile(`"(\w+)"`)
)

// checkQuery checks what a query returned against what the jobs wrote.
func checkQuery(t *testing.T, name, query string, res []influxSeries, predictions map[string]fleet.Prediction, sources []engine.SeriesKey, hosts []string) {
	t.Helper()
	hostFiltered := strings.Contains(query, `"host" =~ /^$host$/`)
	kind := ""
	if m := kindRE.FindStringSubmatch(query); m != nil {
		kind = m[1]
	}
	// want lists the predictions the query should see.
	want := func(keep func(fleet.Prediction) bool) map[string]fleet.Prediction {
		out := map[string]fleet.Prediction{}
		for id, p := range predictions {
			if (kind == "" || string(p.Kind) == kind) && (!hostFiltered || slices.Contains(hosts, p.Entity["host"])) && (keep == nil || keep(p)) {
				out[id] = p
			}
		}
		return out
	}
	switch {
	case strings.Contains(query, `FROM "foresight_prediction"`) && !strings.Contains(query, `"full_in"`):
		// a prediction table: one row per prediction, its latest values
		exp := want(nil)
		if len(exp) == 0 {
			t.Fatalf("%s: the jobs wrote no prediction for this table", name)
		}
		if len(res) != len(exp) {
			t.Errorf("%s: %d rows, want one per prediction (%d)", name, len(res), len(exp))
		}
		for _, s := range res {
			id := s.Tags["prediction_id"]
			p, ok := exp[id]
			if !ok {
				t.Errorf("%s: row for unexpected prediction %q", name, id)
				continue
			}
			if len(s.Values) != 1 {
				t.Errorf("%s: prediction %s has %d rows, want 1", name, id, len(s.Values))
				continue
			}
			row := s.Values[0]
			if got := s.cell(row, "status"); got != p.Status {
				t.Errorf("%s: prediction %s status %v, want %s", name, id, got, p.Status)
			}
			if r, _ := number(t, s.cell(row, "at_risk")); (r == 1) != p.AtRisk {
				t.Errorf("%s: prediction %s at_risk %v, want %v", name, id, r, p.AtRisk)
			}
			at, _ := number(t, s.cell(row, "time"))
			computed := time.UnixMilli(int64(at))
			got, has := number(t, s.cell(row, "breach_in_hours"))
			if (p.BreachAt != nil) != has || (has && math.Abs(got-p.BreachAt.Sub(computed).Hours()) > 0.01) {
				t.Errorf("%s: prediction %s breach_in_hours %v (%v), want %v after %s", name, id, got, has, p.BreachAt, computed)
			}
		}
	case strings.Contains(query, `"full_in"`):
		// the disk stat: the volumes whose latest prediction has a full time
		exp := want(func(p fleet.Prediction) bool { return p.BreachAt != nil })
		got := map[string]bool{}
		for _, s := range res {
			got["disk:disk,host="+s.Tags["host"]+",path="+s.Tags["path"]] = true
		}
		if len(got) != len(exp) {
			t.Errorf("%s: %d volumes, want %d", name, len(got), len(exp))
		}
		for id := range exp {
			if !got[id] {
				t.Errorf("%s: no value for %s", name, id)
			}
		}
	case strings.Contains(query, `FROM "foresight_forecast"`):
		// the forecast: bands around the mean, reaching into the future
		future := 0
		for _, s := range res {
			cols := []int{s.col("lo95"), s.col("lo80"), s.col("forecast"), s.col("hi80"), s.col("hi95")}
			for _, row := range s.Values {
				at, _ := number(t, row[s.col("time")])
				vals := make([]float64, len(cols))
				for i, c := range cols {
					if c < 0 {
						t.Fatalf("%s: columns %v lack a band column (forecast, lo80, hi80, lo95, hi95)", name, s.Columns)
					}
					v, ok := number(t, row[c])
					if !ok {
						t.Fatalf("%s: row %v lacks a band value", name, row)
					}
					vals[i] = v
				}
				if !sort.Float64sAreSorted(vals) {
					t.Errorf("%s: lo95 ≤ lo80 ≤ forecast ≤ hi80 ≤ hi95 fails at %s: %v", name, time.UnixMilli(int64(at)), vals)
				}
				if time.UnixMilli(int64(at)).After(time.Now()) {
					future++
				}
			}
		}
		if future == 0 {
			t.Errorf("%s: no forecast point in the future", name)
		}
	default:
		// history: one series per group of the fleet's series
		m := historyRE.FindStringSubmatch(query)
		if m == nil {
			t.Fatalf("%s: cannot tell the measurement and grouping of %s", name, query)
		}
		measurement, groupBy := m[1], tagListRE.FindAllStringSubmatch(m[2], -1)
		exp := map[string]bool{}
		for _, k := range sources {
			if k.Measurement != measurement || (hostFiltered && !slices.Contains(hosts, k.Tags["host"])) {
				continue
			}
			g := ""
			for _, tag := range groupBy {
				g += tag[1] + "=" + k.Tags[tag[1]] + ","
			}
			exp[g] = true
		}
		got := map[string]bool{}
		for _, s := range res {
			g := ""
			for _, tag := range groupBy {
				g += tag[1] + "=" + s.Tags[tag[1]] + ","
			}
			got[g] = true
			if len(s.Values) < 2 {
				t.Errorf("%s: series %v has %d points", name, s.Tags, len(s.Values))
			}
		}
		if !maps.Equal(got, exp) {
			t.Errorf("%s: series %v, want %v", name, slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(exp)))
		}
	}
}
