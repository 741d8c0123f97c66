package api

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-f1b503aa/foresight/engine/ticket"
	"github.com/seed-f1b503aa/foresight/incident"
	"github.com/seed-f1b503aa/foresight/notify"
	"github.com/seed-f1b503aa/foresight/storage/embedded"
	"github.com/seed-f1b503aa/foresight/storage/state"
)

// syncBuffer is a log sink safe for concurrent handlers.
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

type authFixture struct {
	ts     *httptest.Server
	srv    *Server
	st     *state.Store
	tokens map[Role]string
	logs   *syncBuffer
}

// newAuthServer serves a real embedded store and a real SQLite state
// database with auth on, and one token per role.
func newAuthServer(t *testing.T, rateLimit float64) *authFixture {
	t.Helper()
	ctx := context.Background()
	store, err := embedded.Open(t.TempDir(), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	st, err := state.Open(ctx, state.Config{Driver: "sqlite", Path: filepath.Join(t.TempDir(), "s.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close(ctx) })
	router, err := notify.NewRouter(notify.Config{})
	if err != nil {
		t.Fatal(err)
	}
	f := &authFixture{st: st, tokens: map[Role]string{}, logs: &syncBuffer{}}
	for _, r := range Roles() {
		secret, _, err := st.CreateToken(ctx, "t-"+string(r), string(r), "test", nil)
		if err != nil {
			t.Fatal(err)
		}
		f.tokens[r] = secret
	}
	now := func() time.Time { return testNow }
	log := slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f.srv = New(Options{
		Store: store, State: st, Logger: log, Now: now, InboundSecret: "hook-secret",
		Incidents: &incident.Service{Store: st, Policy: ticket.DefaultPolicy(), Targets: router},
		Auth: AuthOptions{Enabled: true, Authenticate: TokensFromState(st, now), RateLimit: rateLimit,
			Audit: AuditToState(st)},
	})
	f.ts = httptest.NewServer(f.srv.Handler())
	t.Cleanup(f.ts.Close)
	return f
}

// concretePath fills a route's parameters with harmless values.
func concretePath(p string) string {
	r := strings.NewReplacer(":id", "999999", ":name", "disk", "*path", "index.html")
	return r.Replace(p)
}

// TestRoleMatrix calls every route with every role (and with no token):
// a role below the route's is refused with 403, no token with 401, and a
// role at or above it gets past access control (whatever the handler then
// answers). Every refused mutation is in the audit log as denied.
func TestRoleMatrix(t *testing.T) {
	f := newAuthServer(t, 0)
	ctx := context.Background()
	callers := append([]Role{RoleNone}, Roles()...)
	deniedMutations := 0
	for _, rt := range f.srv.Routes() {
		for _, caller := range callers {
			hdr := map[string]string{}
			if caller != RoleNone {
				hdr["Authorization"] = "Bearer " + f.tokens[caller]
			}
			body := strings.NewReader("{}")
			resp, b := do(t, rt.Method, f.ts.URL+concretePath(rt.Path), body, hdr)
			code := resp.StatusCode
			switch {
			case rt.Role == RoleNone:
				if code == http.StatusUnauthorized && rt.Path != "/api/v1/hooks/tickets" || code == http.StatusForbidden {
					t.Errorf("%s %s open route, caller %q: %d %s", rt.Method, rt.Path, caller, code, b)
				}
			case caller == RoleNone:
				if code != http.StatusUnauthorized {
					t.Errorf("%s %s without a token: %d, want 401", rt.Method, rt.Path, code)
				}
			case !caller.Allows(rt.Role):
				if code != http.StatusForbidden {
					t.Errorf("%s %s as %s (needs %s): %d, want 403: %s", rt.Method, rt.Path, caller, rt.Role, code, b)
				}
				if rt.Action != "" {
					deniedMutations++
				}
			default:
				if code == http.StatusUnauthorized || code == http.StatusForbidden {
					t.Errorf("%s %s as %s (needs %s): %d %s", rt.Method, rt.Path, caller, rt.Role, code, b)
				}
			}
		}
	}
	// Every mutation is denied to a lesser role: count the pairs.
	want := 0
	for _, rt := range f.srv.Routes() {
		if rt.Role == RoleNone {
			continue
		}
		// POST /api/v1/forecast computes and changes nothing; writes are
		// counted in metrics instead (README).
		if rt.Action == "" && rt.Method != http.MethodGet && rt.Method != http.MethodHead && rt.Role != RoleIngest && rt.Path != "/api/v1/forecast" {
			t.Errorf("%s %s mutates but has no audit action", rt.Method, rt.Path)
		}
		for _, r := range Roles() {
			if !r.Allows(rt.Role) && rt.Action != "" {
				want++
			}
		}
	}
	if deniedMutations != want || want < 10 {
		t.Fatalf("denied mutations %d, want %d", deniedMutations, want)
	}
	recs, err := f.st.ListAPIAudit(ctx, state.APIAuditFilter{Outcome: "denied", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	// Denied with a token (403) plus denied without one (401), per mutating route.
	mutating := 0
	for _, rt := range f.srv.Routes() {
		if rt.Action != "" && rt.Role != RoleNone {
			mutating++
		}
	}
	hook := 0
	for _, r := range recs {
		if r.Action == "ticket.hook" {
			hook++ // unsigned calls to the inbound hook, refused with 401
		}
	}
	if hook != len(callers) || len(recs)-hook != want+mutating {
		t.Fatalf("%d denied audit records, want %d", len(recs), want+mutating)
	}
	for _, r := range recs {
		if r.Status != 401 && r.Status != 403 || r.Action == "" || r.Route == "" {
			t.Fatalf("audit record %+v", r)
		}
	}
}

// TestRolesAreOrdered pins the role relation itself.
func TestRolesAreOrdered(t *testing.T) {
	allow := map[Role][]Role{
		RoleIngest:   {RoleIngest},
		RoleViewer:   {RoleViewer},
		RoleOperator: {RoleViewer, RoleOperator},
		RoleAdmin:    {RoleIngest, RoleViewer, RoleOperator, RoleAdmin},
	}
	for _, r := range Roles() {
		var got []Role
		for _, need := range Roles() {
			if r.Allows(need) {
				got = append(got, need)
			}
		}
		if !equalRoles(got, allow[r]) {
			t.Errorf("%s allows %v, want %v", r, got, allow[r])
		}
		if !r.Allows(RoleNone) {
			t.Errorf("%s must pass open routes", r)
		}
	}
	if _, err := ParseRole("root"); err == nil || !strings.Contains(err.Error(), "ingest, viewer, operator or admin") {
		t.Fatal(err)
	}
}

func equalRoles(a, b []Role) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestTokenSchemesAndRevocation(t *testing.T) {
	f := newAuthServer(t, 0)
	v := f.tokens[RoleViewer]
	for name, hdr := range map[string]map[string]string{
		"bearer": {"Authorization": "Bearer " + v},
		"token":  {"Authorization": "Token " + v},
		"basic":  {"Authorization": "Basic " + b64("telegraf:"+v)},
	} {
		resp, b := do(t, "GET", f.ts.URL+"/api/v1/whoami", nil, hdr)
		var who struct {
			Name string `json:"name"`
			Role string `json:"role"`
		}
		if err := json.Unmarshal(b, &who); err != nil || resp.StatusCode != 200 || who.Name != "t-viewer" || who.Role != "viewer" {
			t.Errorf("%s: %d %s", name, resp.StatusCode, b)
		}
	}
	// v1 writers send the token as p=.
	resp, b := do(t, "POST", f.ts.URL+"/write?db=x&p="+f.tokens[RoleIngest], strings.NewReader("m v=1 1700000000000000000\n"), nil)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("v1 write with p=: %d %s", resp.StatusCode, b)
	}
	resp, _ = do(t, "GET", f.ts.URL+"/api/v1/whoami", nil, map[string]string{"Authorization": "Bearer fst_not-a-token"})
	if resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "invalid_token") {
		t.Fatalf("bad token: %d %v", resp.StatusCode, resp.Header)
	}

	// An admin creates an operator token through the API, uses it, revokes it.
	admin := map[string]string{"Authorization": "Bearer " + f.tokens[RoleAdmin]}
	resp, b = do(t, "POST", f.ts.URL+"/api/v1/tokens", strings.NewReader(`{"name":"night-shift","role":"operator","expires_in":"400d"}`), admin)
	var created struct {
		Secret string `json:"secret"`
		Token  struct {
			ID        int64      `json:"id"`
			Prefix    string     `json:"prefix"`
			ExpiresAt *time.Time `json:"expires_at"`
		} `json:"token"`
	}
	if err := json.Unmarshal(b, &created); err != nil || resp.StatusCode != 201 || !strings.HasPrefix(created.Secret, created.Token.Prefix) ||
		created.Token.ExpiresAt == nil || !created.Token.ExpiresAt.Equal(testNow.Add(400*24*time.Hour)) {
		t.Fatalf("create: %d %s", resp.StatusCode, b)
	}
	op := map[string]string{"Authorization": "Bearer " + created.Secret}
	if resp, b := do(t, "GET", f.ts.URL+"/api/v1/whoami", nil, op); resp.StatusCode != 200 || !strings.Contains(string(b), "night-shift") {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	resp, b = do(t, "GET", f.ts.URL+"/api/v1/tokens", nil, admin)
	if resp.StatusCode != 200 || strings.Contains(string(b), created.Secret) || !strings.Contains(string(b), created.Token.Prefix) {
		t.Fatalf("list shows the secret or misses the prefix: %s", b)
	}
	for _, c := range []struct {
		body string
		want string
	}{
		{`{"name":"x","role":"root"}`, "ingest, viewer, operator or admin"},
		{`{"name":"x","role":"viewer","expires_in":"soon"}`, "expires_in"},
		{`{"name":"x","role":"viewer","extra":1}`, "unknown field"},
	} {
		resp, b := do(t, "POST", f.ts.URL+"/api/v1/tokens", strings.NewReader(c.body), admin)
		if resp.StatusCode != 400 || !strings.Contains(string(b), c.want) {
			t.Errorf("%s: %d %s", c.body, resp.StatusCode, b)
		}
	}
	id := itoa(created.Token.ID)
	if resp, b := do(t, "DELETE", f.ts.URL+"/api/v1/tokens/"+id, nil, admin); resp.StatusCode != 200 {
		t.Fatalf("revoke: %d %s", resp.StatusCode, b)
	}
	if resp, _ := do(t, "GET", f.ts.URL+"/api/v1/whoami", nil, op); resp.StatusCode != 401 {
		t.Fatalf("revoked token still accepted: %d", resp.StatusCode)
	}

	// The audit log has the creation and the revocation, by the admin.
	resp, b = do(t, "GET", f.ts.URL+"/api/v1/audit?actor=t-admin", nil, admin)
	var audit struct {
		Audit []struct {
			Action  string `json:"action"`
			Outcome string `json:"outcome"`
			Target  string `json:"target"`
			Status  int    `json:"status"`
		} `json:"audit"`
	}
	if err := json.Unmarshal(b, &audit); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	var got []string
	for _, a := range audit.Audit {
		got = append(got, a.Action+" "+a.Outcome+" "+a.Target)
	}
	sort.Strings(got)
	wantSubs := []string{"token.create error ", "token.create error token x", "token.create error token x",
		"token.create ok token " + id + " (night-shift, operator)", "token.revoke ok token " + id}
	if len(got) != len(wantSubs) {
		t.Fatalf("audit %q", got)
	}
	for i := range got {
		if got[i] != wantSubs[i] {
			t.Fatalf("audit %q, want %q", got, wantSubs)
		}
	}

	// No secret ever reached the log.
	logs := f.logs.String()
	for _, s := range append(mapValues(f.tokens), created.Secret) {
		if strings.Contains(logs, s) {
			t.Fatalf("a token secret is in the log output")
		}
	}
	if !strings.Contains(logs, "token refused") {
		t.Fatal("the refused token should be logged (without the secret)")
	}
}

func TestRateLimitPerToken(t *testing.T) {
	f := newAuthServer(t, 1) // 1 request/s, burst 2; the clock stands still
	v := map[string]string{"Authorization": "Bearer " + f.tokens[RoleViewer]}
	o := map[string]string{"Authorization": "Bearer " + f.tokens[RoleOperator]}
	var codes []int
	for i := 0; i < 4; i++ {
		resp, _ := do(t, "GET", f.ts.URL+"/api/v1/whoami", nil, v)
		codes = append(codes, resp.StatusCode)
		if resp.StatusCode == 429 && resp.Header.Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
	}
	if codes[0] != 200 || codes[1] != 200 || codes[2] != 429 || codes[3] != 429 {
		t.Fatalf("codes %v", codes)
	}
	// Another token has its own bucket.
	if resp, _ := do(t, "GET", f.ts.URL+"/api/v1/whoami", nil, o); resp.StatusCode != 200 {
		t.Fatalf("operator: %d", resp.StatusCode)
	}
	// Probes are never limited.
	for i := 0; i < 5; i++ {
		if resp, _ := do(t, "GET", f.ts.URL+"/healthz", nil, nil); resp.StatusCode != 200 {
			t.Fatalf("healthz: %d", resp.StatusCode)
		}
	}
}

func TestCommentsAreAuditedAndCarryTheActor(t *testing.T) {
	f := newAuthServer(t, 0)
	ctx := context.Background()
	id := seedTicket(t, f.st)
	op := map[string]string{"Authorization": "Bearer " + f.tokens[RoleOperator]}
	resp, b := do(t, "POST", f.ts.URL+"/api/v1/tickets/"+itoa(id)+"/comments", strings.NewReader(`{"text":"cleanup scheduled for 22:00","actor":"alice"}`), op)
	if resp.StatusCode != 201 || !strings.Contains(string(b), `"actor":"alice via t-operator"`) {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	resp, b = do(t, "POST", f.ts.URL+"/api/v1/tickets/"+itoa(id)+"/comments", strings.NewReader(`{"text":"  "}`), op)
	if resp.StatusCode != 400 {
		t.Fatalf("empty comment: %d %s", resp.StatusCode, b)
	}
	resp, b = do(t, "POST", f.ts.URL+"/api/v1/tickets/"+itoa(id)+"/transition", strings.NewReader(`{"to":"classified"}`), op)
	if resp.StatusCode != 200 {
		t.Fatalf("transition: %d %s", resp.StatusCode, b)
	}
	var tv struct {
		State   string   `json:"state"`
		Allowed []string `json:"allowed_transitions"`
	}
	if err := json.Unmarshal(b, &tv); err != nil || tv.State != "classified" || strings.Join(tv.Allowed, ",") != joinStates(ticket.Allowed(ticket.StateClassified)) || len(tv.Allowed) == 0 {
		t.Fatalf("allowed transitions: %s", b)
	}
	resp, b = do(t, "GET", f.ts.URL+"/api/v1/tickets/"+itoa(id)+"/comments", nil, op)
	var cs struct {
		Comments []struct {
			Actor, Text string
		} `json:"comments"`
	}
	if err := json.Unmarshal(b, &cs); err != nil || resp.StatusCode != 200 || len(cs.Comments) != 1 || cs.Comments[0].Text != "cleanup scheduled for 22:00" {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	h, err := f.st.TicketHistory(ctx, id)
	if err != nil || h[len(h)-1].Actor != "t-operator" || h[len(h)-1].Action != "transition" {
		t.Fatalf("%v %+v", err, h)
	}
	recs, err := f.st.ListAPIAudit(ctx, state.APIAuditFilter{Actor: "t-operator", Limit: 10})
	if err != nil || len(recs) != 3 {
		t.Fatalf("%v %d", err, len(recs))
	}
	if recs[0].Action != "ticket.transition" || recs[0].Outcome != "ok" || recs[0].Target != "ticket "+itoa(id) || recs[0].Detail != "to classified" ||
		recs[1].Outcome != "error" || recs[1].Status != 400 || recs[2].Action != "ticket.comment" || recs[2].Route != "/api/v1/tickets/:id/comments" {
		t.Fatalf("audit %+v", recs)
	}
}

func joinStates(st []ticket.State) string {
	out := make([]string, len(st))
	for i, s := range st {
		out[i] = string(s)
	}
	return strings.Join(out, ",")
}
