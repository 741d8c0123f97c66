package api

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"
)

// TestOpenAPIMatchesRouter checks that every route the router serves is in
// the OpenAPI document with the same role and audit action, and that the
// document lists no route the router lacks.
func TestOpenAPIMatchesRouter(t *testing.T) {
	srv := New(Options{})
	var doc struct {
		OpenAPI string `json:"openapi"`
		Paths   map[string]map[string]struct {
			Role    string         `json:"x-foresight-role"`
			Audit   string         `json:"x-foresight-audit"`
			Summary string         `json:"summary"`
			Resp    map[string]any `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}
	toDoc := func(p string) string {
		parts := strings.Split(p, "/")
		for i, s := range parts {
			if strings.HasPrefix(s, ":") || strings.HasPrefix(s, "*") {
				parts[i] = "{" + s[1:] + "}"
			}
		}
		return strings.Join(parts, "/")
	}
	inRouter := map[string]bool{}
	for _, r := range srv.router.Routes() {
		key := strings.ToLower(r.Method) + " " + toDoc(r.Path)
		inRouter[key] = true
		op, ok := doc.Paths[toDoc(r.Path)][strings.ToLower(r.Method)]
		if !ok {
			t.Errorf("%s is served but not in openapi.yaml", key)
			continue
		}
		if op.Summary == "" || len(op.Resp) == 0 {
			t.Errorf("%s: summary and responses are required", key)
		}
	}
	var inDoc []string
	for p, ops := range doc.Paths {
		for m := range ops {
			if m == "parameters" {
				continue
			}
			key := m + " " + p
			inDoc = append(inDoc, key)
			if !inRouter[key] {
				t.Errorf("%s is in openapi.yaml but not served", key)
			}
		}
	}
	sort.Strings(inDoc)
	for _, r := range srv.Routes() {
		op := doc.Paths[toDoc(r.Path)][strings.ToLower(r.Method)]
		role := string(r.Role)
		if role == "" {
			role = "none"
		}
		if op.Role != role {
			t.Errorf("%s %s: openapi role %q, router %q", r.Method, r.Path, op.Role, role)
		}
		if op.Audit != r.Action {
			t.Errorf("%s %s: openapi audit %q, router %q", r.Method, r.Path, op.Audit, r.Action)
		}
	}
	if len(inDoc) != len(srv.router.Routes()) || len(inDoc) < 30 {
		t.Fatalf("%d operations documented, %d routes", len(inDoc), len(srv.router.Routes()))
	}

	ts := newOpenServer(t, srv)
	resp, b := do(t, "GET", ts+"/openapi.json", nil, nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" || !json.Valid(b) {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header)
	}
}
