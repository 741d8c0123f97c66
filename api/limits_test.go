package api

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/seed-f1b503aa/foresight/engine"
)

// TestLimits: every size limit answers a clear 4xx problem naming the
// limit, before any work is done.
func TestLimits(t *testing.T) {
	ts, _ := newTestServer(t, 1<<20)
	manySeries := `{"horizon":1,"series":[` + strings.Repeat(`{"start":"2026-01-01T00:00:00Z","values":[1,2,3]},`, maxForecastSeries) + `{"values":[1]}]}`
	bigSeries := `{"horizon":1,"step":"1m","series":[{"start":"2026-01-01T00:00:00Z","values":[` + strings.Repeat("1,", maxSeriesPoints) + `1]}]}`
	id := url.PathEscape("cpu,host=a#usage")
	for _, c := range []struct {
		name, method, path, body string
		status                   int
		detail                   string
	}{
		{"points per series", "POST", "/api/v1/forecast", bigSeries, 400, fmt.Sprintf("the limit is %d", maxSeriesPoints)},
		{"body size", "POST", "/api/v1/forecast", `{"horizon":1,"series":[{"values":[` + strings.Repeat("1,", 600000) + `1]}]}`, 413, ""},
		{"series per request", "POST", "/api/v1/forecast", manySeries, 400, fmt.Sprintf("give 1 to %d series", maxForecastSeries)},
		{"horizon", "GET", "/api/v1/series/" + id + "/forecast?horizon=" + fmt.Sprint(engine.MaxHorizon+1), "", 400, "horizon"},
		{"points per fit", "GET", "/api/v1/series/" + id + "/forecast?history=400d&step=1m", "", 400, fmt.Sprintf("more than %d points", engine.MaxFitPoints)},
		{"series page", "GET", "/api/v1/series?limit=10001", "", 400, "limit"},
		{"windows per read", "GET", "/api/v1/series/" + id + "/data?start=-400d&step=1m", "", 400, "more than 100000 windows"},
		{"write body", "POST", "/api/v2/write", strings.Repeat("m v=1 1\n", 200000), 413, ""},
	} {
		resp, b := do(t, c.method, ts.URL+c.path, strings.NewReader(c.body), nil)
		if resp.StatusCode != c.status || resp.Header.Get("Content-Type") != problemContentType || !strings.Contains(string(b), c.detail) {
			t.Errorf("%s: %d %s %.300s", c.name, resp.StatusCode, resp.Header.Get("Content-Type"), b)
		}
	}
}
