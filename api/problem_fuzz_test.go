package api_test

// Shared fixtures of the API fuzz targets: a real server (api.New) over an
// embedded metric store and a SQLite state store in a temporary directory,
// built once per fuzz target, and the check every answer must pass.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-f1b503aa/foresight/api"
	"github.com/seed-f1b503aa/foresight/engine/fleet"
	"github.com/seed-f1b503aa/foresight/engine/ticket"
	"github.com/seed-f1b503aa/foresight/incident"
	"github.com/seed-f1b503aa/foresight/notify"
	"github.com/seed-f1b503aa/foresight/storage/embedded"
	"github.com/seed-f1b503aa/foresight/storage/state"
)

// fuzzNow is the fixed clock of the fuzzed servers.
var fuzzNow = time.Date(2026, 10, 2, 0, 0, 0, 0, time.UTC)

// fuzzInboundSecret signs the inbound ticket hook of the fuzzed server.
const fuzzInboundSecret = "fuzz-hook-secret"

// lockedBuffer collects the server's log so a failure can show it (the
// recovery middleware logs a handler's panic there).
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 1<<20 {
		l.b.Reset()
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) take() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.b.String()
	l.b.Reset()
	return s
}

// fuzzServer is one server with its stores.
type fuzzServer struct {
	handler http.Handler
	log     *lockedBuffer
	state   *state.Store
	// ticketRowID is an open ticket to move and comment on.
	ticketRowID int64
}

// newFuzzServer builds the server a fuzz target drives. withState adds the
// SQLite state store, the ticket service and one open ticket.
func newFuzzServer(f *testing.F, withState bool) *fuzzServer {
	f.Helper()
	dir := f.TempDir()
	ms, err := embedded.Open(filepath.Join(dir, "tsdb"), embedded.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = ms.Close() })
	fs := &fuzzServer{log: &lockedBuffer{}}
	opts := api.Options{
		Store:          ms,
		Logger:         slog.New(slog.NewTextHandler(fs.log, &slog.HandlerOptions{Level: slog.LevelWarn})),
		RequestTimeout: 10 * time.Second,
		Now:            func() time.Time { return fuzzNow },
		InboundSecret:  fuzzInboundSecret,
	}
	if withState {
		ctx := context.Background()
		st, err := state.Open(ctx, state.Config{Driver: "sqlite", Path: filepath.Join(dir, "state.db")})
		if err != nil {
			f.Fatal(err)
		}
		f.Cleanup(func() { _ = st.Close(context.Background()) })
		router, err := notify.NewRouter(notify.Config{})
		if err != nil {
			f.Fatal(err)
		}
		svc := &incident.Service{Store: st, Policy: ticket.DefaultPolicy(), Targets: router}
		breach := fuzzNow.Add(30 * time.Hour)
		_, err = svc.Process(ctx, fleet.Snapshot{Predictions: []fleet.Prediction{{
			Kind: fleet.KindDisk, ID: "d", Entity: map[string]string{"host": "db-01", "path": "/data"},
			Status: "filling", AtRisk: true, Confidence: 0.9, BreachAt: &breach, Summary: "disk /data on db-01 full in 1.3 days",
		}}}, fuzzNow)
		if err != nil {
			f.Fatal(err)
		}
		recs, err := st.ListTickets(ctx, state.TicketFilter{Limit: 1})
		if err != nil || len(recs) != 1 {
			f.Fatalf("seeded ticket: %v, %d tickets", err, len(recs))
		}
		fs.state, fs.ticketRowID = st, recs[0].ID
		opts.State, opts.Incidents = st, svc
	}
	fs.handler = api.New(opts).Handler()
	return fs
}

// do serves one request in process and checks the answer: never a 5xx
// caused by the input (500, or a panic turned into 500), and every non-2xx
// answer an RFC 7807 problem document. It returns the status and body.
func (fs *fuzzServer) do(t *testing.T, req *http.Request) (int, []byte) {
	t.Helper()
	rec := httptest.NewRecorder()
	fs.handler.ServeHTTP(rec, req)
	body := rec.Body.Bytes()
	if rec.Code == http.StatusInternalServerError {
		t.Fatalf("%s %s: 500 %s\nserver log:\n%s", req.Method, req.URL, clip(body), fs.log.take())
	}
	if rec.Code < 200 || rec.Code > 599 {
		t.Fatalf("%s %s: status %d", req.Method, req.URL, rec.Code)
	}
	if rec.Code >= 300 {
		checkProblem(t, req, rec.Code, rec.Header(), body)
	}
	return rec.Code, body
}

// checkProblem asserts an RFC 7807 document: Content-Type
// application/problem+json and a JSON object with the answer's status, its
// title and a detail.
func checkProblem(t *testing.T, req *http.Request, code int, h http.Header, body []byte) {
	t.Helper()
	mt, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mt != "application/problem+json" {
		t.Fatalf("%s %s: %d with Content-Type %q, want application/problem+json; body %s", req.Method, req.URL, code, h.Get("Content-Type"), clip(body))
	}
	var p struct {
		Type   *string `json:"type"`
		Title  *string `json:"title"`
		Status *int    `json:"status"`
		Detail *string `json:"detail"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("%s %s: %d problem body is not a JSON object (%v): %s", req.Method, req.URL, code, err, clip(body))
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Fatalf("%s %s: trailing data after the problem document: %s", req.Method, req.URL, clip(body))
	}
	switch {
	case p.Status == nil || *p.Status != code:
		t.Fatalf("%s %s: answer %d, problem status %v: %s", req.Method, req.URL, code, p.Status, clip(body))
	case p.Title == nil || *p.Title != http.StatusText(code):
		t.Fatalf("%s %s: problem title %v for %d: %s", req.Method, req.URL, p.Title, code, clip(body))
	case p.Detail == nil || strings.TrimSpace(*p.Detail) == "":
		t.Fatalf("%s %s: problem without a detail: %s", req.Method, req.URL, clip(body))
	case p.Type == nil || *p.Type == "":
		t.Fatalf("%s %s: problem without a type: %s", req.Method, req.URL, clip(body))
	}
}

// checkJSON asserts a 2xx answer is one JSON object and decodes it into v.
func checkJSON(t *testing.T, req *http.Request, body []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("%s %s: 2xx body is not JSON (%v): %s", req.Method, req.URL, err, clip(body))
	}
}

func clip(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "…"
	}
	return string(b)
}

// hostileJSON are bodies no JSON decoder should choke on.
func hostileJSON() []string {
	return []string{
		"",
		"null",
		"[]",
		"\"x\"",
		"{",
		"}",
		"{}{}",
		"{} trailing",
		"{\"a\":1}",
		strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
		"{\"x\":" + strings.Repeat("{\"x\":", 5000) + "1" + strings.Repeat("}", 5001),
		"{\"to\":\"\xff\xfe\",\"actor\":\"\x00\"}",
		"{\"to\":\"\\ud800\",\"actor\":\"\\u0000\"}",
		"\xef\xbb\xbf{}",
		"{\"horizon\":1e999}",
		"{\"horizon\":-0}",
		"{\"horizon\":NaN}",
	}
}
