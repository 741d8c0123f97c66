package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seed-f1b503aa/foresight/config"
	"github.com/seed-f1b503aa/foresight/notify"
)

// ticketPath builds /api/v1/tickets/{id}/{action} from a fuzzed id; an
// empty id means the seeded ticket.
func ticketPath(srv *fuzzServer, id, action string) string {
	if id == "" {
		id = strconv.FormatInt(srv.ticketRowID, 10)
	}
	return "/api/v1/tickets/" + url.PathEscape(id) + "/" + action
}

// ticketBodies are seeds shared by the ticket targets.
var ticketBodies = []string{
	`{"to":"assigned","actor":"alice","reason":"on it"}`,
	`{"to":"acknowledged","actor":"alice"}`,
	`{"to":"in_progress","actor":"bob","reason":"` + strings.Repeat("r", 70000) + `"}`,
	`{"to":"resolved","actor":"alice","reason":"fixed"}`,
	`{"to":"closed","actor":"alice"}`,
	`{"to":"reported","actor":"alice"}`,
	`{"to":"nowhere","actor":"a"}`,
	`{"to":"in_progress"}`,
	`{"to":"ASSIGNED","actor":" "}`,
	`{"to":"assigned","actor":"alice","extra":1}`,
	`{"to":1,"actor":["a"]}`,
	`{"text":"disk grows 4 GB a day","actor":"alice"}`,
	`{"text":"","actor":"alice"}`,
	`{"text":"` + strings.Repeat("x", 10001) + `","actor":"alice"}`,
	`{"text":"\u0000\ud800\uffff","actor":"\u202e"}`,
	`{"fingerprint":"disk:host=db-01,path=/data","to":"in_progress","actor":"itsm:bob","reason":"CHG0042"}`,
	`{"ticket_id":"TKT-0","to":"verified"}`,
	`{"row_id":-1,"to":"assigned"}`,
	`{"row_id":9223372036854775807,"to":"assigned","actor":"x"}`,
	`{"row_id":1e400,"to":"assigned"}`,
}

// FuzzTransitionRequest posts arbitrary bodies (and row ids) to POST
// /api/v1/tickets/{id}/transition: no 500, no panic, problems for every
// refusal, the moved ticket for a success.
func FuzzTransitionRequest(f *testing.F) {
	for _, s := range ticketBodies {
		f.Add([]byte(s), "")
	}
	for _, s := range hostileJSON() {
		f.Add([]byte(s), "")
	}
	for _, id := range []string{"0", "-1", "999999", "9223372036854775808", "1e3", "abc", "%00", "1/2", " 1", "١"} {
		f.Add([]byte(`{"to":"assigned","actor":"alice"}`), id)
	}
	srv := newFuzzServer(f, true)
	f.Fuzz(func(t *testing.T, body []byte, id string) {
		req := httptest.NewRequest(http.MethodPost, ticketPath(srv, id, "transition"), bytes.NewReader(body))
		code, out := srv.do(t, req)
		if code/100 == 2 {
			var v struct {
				RowID *int64 `json:"row_id"`
				State string `json:"state"`
			}
			checkJSON(t, req, out, &v)
			if code != http.StatusOK || v.RowID == nil || *v.RowID != srv.ticketRowID || v.State == "" {
				t.Fatalf("%d %s", code, clip(out))
			}
		}
	})
}

// FuzzCommentRequest posts arbitrary bodies to POST
// /api/v1/tickets/{id}/comments.
func FuzzCommentRequest(f *testing.F) {
	for _, s := range ticketBodies {
		f.Add([]byte(s), "")
	}
	for _, s := range hostileJSON() {
		f.Add([]byte(s), "")
	}
	f.Add([]byte(`{"text":"note","actor":"alice"}`), "424242")
	srv := newFuzzServer(f, true)
	f.Fuzz(func(t *testing.T, body []byte, id string) {
		req := httptest.NewRequest(http.MethodPost, ticketPath(srv, id, "comments"), bytes.NewReader(body))
		code, out := srv.do(t, req)
		if code/100 == 2 {
			var v struct {
				RowID *int64 `json:"row_id"`
				Text  string `json:"text"`
			}
			checkJSON(t, req, out, &v)
			if code != http.StatusCreated || v.RowID == nil || *v.RowID != srv.ticketRowID || v.Text == "" || len(v.Text) > 10000 {
				t.Fatalf("%d %s", code, clip(out))
			}
		}
	})
}

// FuzzInboundHook posts arbitrary bodies, signed with the server's inbound
// secret (or not), to POST /api/v1/hooks/tickets.
func FuzzInboundHook(f *testing.F) {
	for _, s := range ticketBodies {
		f.Add([]byte(s), true)
	}
	for _, s := range hostileJSON() {
		f.Add([]byte(s), true)
	}
	f.Add([]byte(`{"row_id":1,"to":"assigned"}`), false)
	srv := newFuzzServer(f, true)
	ts := strconv.FormatInt(fuzzNow.Unix(), 10)
	f.Fuzz(func(t *testing.T, body []byte, sign bool) {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/hooks/tickets", bytes.NewReader(body))
		if sign {
			req.Header.Set("X-Foresight-Timestamp", ts)
			req.Header.Set("X-Foresight-Signature", notify.Sign(fuzzInboundSecret, ts, body))
		}
		code, out := srv.do(t, req)
		// Unsigned: 401, or 413 first for a body over the 64 KiB the hook reads.
		if !sign && code != http.StatusUnauthorized && !(code == http.StatusRequestEntityTooLarge && len(body) > 64<<10) {
			t.Fatalf("unsigned hook answered %d: %s", code, clip(out))
		}
		if sign && len(body) > 64<<10 && code != http.StatusRequestEntityTooLarge {
			t.Fatalf("a %d-byte hook body answered %d: %s", len(body), code, clip(out))
		}
		if code/100 == 2 {
			var v struct {
				RowID *int64 `json:"row_id"`
			}
			checkJSON(t, req, out, &v)
			if v.RowID == nil {
				t.Fatalf("%d %s", code, clip(out))
			}
		}
	})
}

// wholeDays matches an expires_in of whole days.
var wholeDays = regexp.MustCompile(`^\+?0*([1-9][0-9]*)d$`)

// FuzzCreateToken posts arbitrary bodies to POST /api/v1/tokens (auth off:
// the anonymous caller is an admin). A created token expires exactly when
// asked, never after a duration that wrapped around.
func FuzzCreateToken(f *testing.F) {
	for _, s := range []string{
		`{"name":"grafana","role":"viewer","expires_in":"365d"}`,
		`{"name":"telegraf","role":"ingest"}`,
		`{"name":"ops","role":"operator","expires_in":"12h"}`,
		`{"name":"x","role":"root"}`,
		`{"name":"","role":"viewer"}`,
		`{"name":"y","role":"admin","expires_in":"-1d"}`,
		`{"name":"y","role":"admin","expires_in":"99999999999999999999d"}`,
		`{"name":"y","role":"admin","expires_in":"106751d"}`,
		`{"name":"y","role":"admin","expires_in":"213504d"}`, // wrapped to 25 minutes
		`{"name":"y","role":"admin","expires_in":"300000d"}`, // wrapped to the year 2263
		`{"name":"y","role":"admin","expires_in":"36525d"}`,
		`{"name":"y","role":"admin","expires_in":"9223372036854775807ns"}`,
		`{"name":"y","role":"admin","expires_in":"0"}`,
		`{"name":"` + strings.Repeat("n", 20000) + `","role":"viewer"}`,
		`{"name":"\u0000","role":"viewer"}`,
		`{"name":"z","role":"viewer","secret":"mine"}`,
	} {
		f.Add([]byte(s))
	}
	for _, s := range hostileJSON() {
		f.Add([]byte(s))
	}
	srv := newFuzzServer(f, true)
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/tokens", bytes.NewReader(body))
		code, out := srv.do(t, req)
		if code/100 == 2 {
			var v struct {
				Secret string `json:"secret"`
				Token  struct {
					ExpiresAt *time.Time `json:"expires_at"`
				} `json:"token"`
			}
			checkJSON(t, req, out, &v)
			if code != http.StatusCreated || !strings.HasPrefix(v.Secret, "fst_") {
				t.Fatalf("%d %s", code, clip(out))
			}
			// A lifetime is positive and at most 100 years: never one
			// wrapped around into the past or the near future.
			exp := v.Token.ExpiresAt
			if exp != nil && (!exp.After(fuzzNow) || exp.After(fuzzNow.Add(config.MaxDuration))) {
				t.Fatalf("token expires at %s, created at %s: %s", exp, fuzzNow, clip(body))
			}
			// A whole number of days is that many days exactly.
			var in struct {
				ExpiresIn string `json:"expires_in"`
			}
			if json.Unmarshal(body, &in) == nil {
				if m := wholeDays.FindStringSubmatch(strings.TrimSpace(in.ExpiresIn)); m != nil {
					n, err := strconv.ParseInt(m[1], 10, 64)
					if err != nil || n > 36525 || exp == nil || !exp.Equal(fuzzNow.Add(time.Duration(n)*24*time.Hour)) {
						t.Fatalf("expires_in %q made a token expiring at %v (created %s)", in.ExpiresIn, exp, fuzzNow)
					}
				}
			}
		}
	})
}
