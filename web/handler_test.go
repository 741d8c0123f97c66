package web

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The embedded build is complete: index.html names a script and a
// stylesheet that are there, and the handler serves them with their types.
func TestHandlerServesTheBuild(t *testing.T) {
	h := Handler()
	get := func(p string) (*http.Response, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", p, nil))
		b, _ := io.ReadAll(rec.Result().Body)
		return rec.Result(), string(b)
	}
	resp, index := get("/")
	if resp.StatusCode != 200 || !strings.Contains(index, `<div id="app">`) {
		t.Fatalf("/: %d %q", resp.StatusCode, index)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
	assets, err := fs.Glob(dist, "dist/assets/*")
	if err != nil || len(assets) != 2 {
		t.Fatalf("assets %v %v: want one script and one stylesheet (run `make web`)", assets, err)
	}
	for _, a := range assets {
		name := strings.TrimPrefix(a, "dist/")
		if !strings.Contains(index, `"`+name+`"`) {
			t.Errorf("index.html does not reference %s", name)
		}
		resp, body := get("/" + name)
		want := "text/javascript"
		if strings.HasSuffix(name, ".css") {
			want = "text/css"
		}
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), want) || len(body) < 1000 {
			t.Errorf("%s: %d %s, %d bytes", name, resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
		}
	}
	// A console route answers with the app; a missing asset is a 404.
	if resp, body := get("/tickets"); resp.StatusCode != 200 || body != index {
		t.Errorf("/tickets: %d", resp.StatusCode)
	}
	if resp, _ := get("/assets/app-MISSING.js"); resp.StatusCode != 404 {
		t.Errorf("missing asset: %d", resp.StatusCode)
	}
	// No source map is shipped.
	if maps, _ := fs.Glob(dist, "dist/assets/*.map"); len(maps) > 0 {
		t.Errorf("source maps in dist: %v", maps)
	}
}
