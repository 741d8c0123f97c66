package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// delivery is one request the receiver got.
type delivery struct {
	Path, Query string
	Header      http.Header
	Body        []byte
	SigOK       bool
}

// receiver is a real HTTP server on loopback that plays each platform: it
// records every delivery, verifies signatures by recomputing them the way
// the platform documents, and answers like the platform. Scripted answers
// (failures, slowness) are consumed first, one per request, per path.
type receiver struct {
	t       *testing.T
	srv     *httptest.Server
	secrets map[string]string // path prefix → secret

	mu     sync.Mutex
	got    []delivery
	script map[string][]func(w http.ResponseWriter, r *http.Request)
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{t: t, script: map[string][]func(http.ResponseWriter, *http.Request){}, secrets: map[string]string{
		"/hooks/json": "whsec-test", "/hooks/alertmanager": "am-secret",
		"/robot/send": "SEC000test-secret", "/open-apis/": "feishu-test-secret",
	}}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

// then queues scripted answers for path.
func (rc *receiver) then(path string, fs ...func(http.ResponseWriter, *http.Request)) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.script[path] = append(rc.script[path], fs...)
}

func (rc *receiver) deliveries() []delivery {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]delivery(nil), rc.got...)
}

func status(code int, hdr ...string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(hdr); i += 2 {
			w.Header().Set(hdr[i], hdr[i+1])
		}
		w.WriteHeader(code)
		io.WriteString(w, http.StatusText(code))
	}
}

func body200(s string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, s) }
}

// slow answers after two seconds, or gives up when the client does.
func slow(w http.ResponseWriter, r *http.Request) {
	select {
	case <-time.After(2 * time.Second):
		io.WriteString(w, "late")
	case <-r.Context().Done():
	}
}

func hmacHex(key, msg string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

func hmacB64(key, msg string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	d := delivery{Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body}
	now := time.Now()
	fresh := func(sec int64) bool { return now.Sub(time.Unix(sec, 0)).Abs() < 5*time.Minute }

	// Recompute each platform's signature independently.
	switch p := r.URL.Path; {
	case p == "/hooks/json" || p == "/hooks/alertmanager":
		ts := r.Header.Get("X-Foresight-Timestamp")
		sec, _ := strconv.ParseInt(ts, 10, 64)
		want := "sha256=" + hmacHex(rc.secrets[p], ts+"."+string(body))
		d.SigOK = fresh(sec) && hmac.Equal([]byte(want), []byte(r.Header.Get("X-Foresight-Signature")))
	case p == "/robot/send":
		q := r.URL.Query()
		ms, _ := strconv.ParseInt(q.Get("timestamp"), 10, 64)
		s := rc.secrets[p]
		d.SigOK = q.Get("access_token") == "tok123" && fresh(ms/1000) && q.Get("sign") == hmacB64(s, q.Get("timestamp")+"\n"+s)
	case strings.HasPrefix(p, "/open-apis/"):
		var m struct{ Timestamp, Sign string }
		_ = json.Unmarshal(body, &m)
		sec, _ := strconv.ParseInt(m.Timestamp, 10, 64)
		d.SigOK = fresh(sec) && m.Sign == hmacB64(m.Timestamp+"\n"+rc.secrets["/open-apis/"], "")
	default:
		d.SigOK = true // unsigned platforms
	}

	rc.mu.Lock()
	rc.got = append(rc.got, d)
	var scripted func(http.ResponseWriter, *http.Request)
	if q := rc.script[r.URL.Path]; len(q) > 0 {
		scripted, rc.script[r.URL.Path] = q[0], q[1:]
	}
	rc.mu.Unlock()
	if scripted != nil {
		scripted(w, r)
		return
	}

	// The platforms' own answers.
	switch p := r.URL.Path; {
	case p == "/robot/send":
		if !d.SigOK {
			io.WriteString(w, `{"errcode":310000,"errmsg":"sign not match"}`)
			return
		}
		io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
	case p == "/cgi-bin/webhook/send":
		io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
	case strings.HasPrefix(p, "/open-apis/"):
		if !d.SigOK {
			io.WriteString(w, `{"code":19021,"msg":"sign match fail or timestamp is not within one hour from current time","data":{}}`)
			return
		}
		io.WriteString(w, `{"code":0,"msg":"success","data":{}}`)
	case strings.HasPrefix(p, "/services/"):
		io.WriteString(w, "ok")
	default:
		if !d.SigOK {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}
}

func TestDeliverEveryFormat(t *testing.T) {
	rc := newReceiver(t)
	targets := testTargets(rc.srv.URL)
	client := rc.srv.Client()
	for _, f := range Formats {
		for _, e := range []Event{openedEvent(), resolvedEvent()} {
			req, err := Encode(f, e, targets[f], time.Now())
			if err != nil {
				t.Fatal(err)
			}
			res := Deliver(context.Background(), client, req)
			if !res.OK() || res.Error() != nil || res.Status/100 != 2 {
				t.Fatalf("%s %s: %+v", f, e.Type, res)
			}
		}
	}
	got := rc.deliveries()
	if len(got) != 2*len(Formats) {
		t.Fatalf("%d deliveries, want %d", len(got), 2*len(Formats))
	}
	for i, d := range got {
		f, e := Formats[i/2], []Event{openedEvent(), resolvedEvent()}[i%2]
		if !d.SigOK {
			t.Errorf("%s: signature not verified by the receiver", f)
		}
		if d.Header.Get("Idempotency-Key") != IdempotencyKey(e) || d.Header.Get("X-Foresight-Event") != e.Type {
			t.Errorf("%s: headers %v", f, d.Header)
		}
		if !strings.HasPrefix(d.Header.Get("Content-Type"), "application/json") {
			t.Errorf("%s: content type %q", f, d.Header.Get("Content-Type"))
		}
		m := decode(t, d.Body)
		switch f {
		case FormatJSON:
			if m["event"] != e.Type || m["idempotency_key"] != IdempotencyKey(e) || m["schema_version"] != 1.0 ||
				d.Header.Get("Authorization") != "Bearer relay-token" {
				t.Errorf("json delivery %s", d.Body)
			}
		case FormatAlertmanager:
			wantStatus := map[string]string{EventOpened: "firing", EventResolved: "resolved"}[e.Type]
			if m["version"] != "4" || m["status"] != wantStatus {
				t.Errorf("alertmanager delivery %s", d.Body)
			}
		case FormatDingTalk:
			if m["msgtype"] != "markdown" || !strings.Contains(d.Query, "access_token=tok123&timestamp=") {
				t.Errorf("dingtalk delivery %s ? %s", d.Body, d.Query)
			}
		case FormatWeCom:
			if m["msgtype"] != "markdown" || d.Query != "key=k-123" {
				t.Errorf("wecom delivery %s", d.Body)
			}
		case FormatFeishu:
			if m["msg_type"] != "interactive" || m["sign"] == "" {
				t.Errorf("feishu delivery %s", d.Body)
			}
		case FormatSlack:
			if !strings.Contains(m["text"].(string), "Disk /data on db-01") {
				t.Errorf("slack delivery %s", d.Body)
			}
		}
	}
}

func TestDeliverWrongSecretIsPermanent(t *testing.T) {
	rc := newReceiver(t)
	for _, f := range []Format{FormatJSON, FormatAlertmanager, FormatDingTalk, FormatFeishu} {
		tg := testTargets(rc.srv.URL)[f]
		tg.Secret += "x"
		req, _ := Encode(f, openedEvent(), tg, time.Now())
		res := Deliver(context.Background(), rc.srv.Client(), req)
		if res.OK() || res.Retryable || !IsPermanent(res.Error()) {
			t.Errorf("%s with a wrong secret: %+v", f, res)
		}
	}
	// A stale timestamp is refused too (replay protection).
	tg := testTargets(rc.srv.URL)[FormatJSON]
	req, _ := Encode(FormatJSON, openedEvent(), tg, time.Now().Add(-time.Hour))
	if res := Deliver(context.Background(), rc.srv.Client(), req); res.Status != http.StatusUnauthorized {
		t.Errorf("replayed delivery: %+v", res)
	}
}

func TestDeliverClassification(t *testing.T) {
	rc := newReceiver(t)
	targets := testTargets(rc.srv.URL)
	date := time.Now().Add(30 * time.Second).UTC().Format(http.TimeFormat)
	cases := []struct {
		name       string
		format     Format
		answer     func(http.ResponseWriter, *http.Request)
		ok         bool
		retryable  bool
		retryAfter time.Duration // exact, or -1 for "about 30 s"
	}{
		{"500", FormatJSON, status(500), false, true, 0},
		{"503 Retry-After", FormatJSON, status(503, "Retry-After", "120"), false, true, 2 * time.Minute},
		{"429 Retry-After seconds", FormatJSON, status(429, "Retry-After", "7"), false, true, 7 * time.Second},
		{"429 Retry-After date", FormatAlertmanager, status(429, "Retry-After", date), false, true, -1},
		{"429 Retry-After garbage", FormatJSON, status(429, "Retry-After", "soon"), false, true, 0},
		{"408", FormatJSON, status(408), false, true, 0},
		{"400", FormatJSON, status(400), false, false, 0},
		{"404", FormatAlertmanager, status(404), false, false, 0},
		{"413", FormatJSON, status(413), false, false, 0},
		{"204", FormatJSON, status(204), true, false, 0},
		{"dingtalk ok", FormatDingTalk, body200(`{"errcode":0,"errmsg":"ok"}`), true, false, 0},
		{"dingtalk too fast", FormatDingTalk, body200(`{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}`), false, true, 0},
		{"dingtalk busy", FormatDingTalk, body200(`{"errcode":-1,"errmsg":"system busy"}`), false, true, 0},
		{"dingtalk keywords", FormatDingTalk, body200(`{"errcode":310000,"errmsg":"keywords not in content"}`), false, false, 0},
		{"dingtalk token", FormatDingTalk, body200(`{"errcode":300001,"errmsg":"token is not exist"}`), false, false, 0},
		{"dingtalk html", FormatDingTalk, body200(`<html>proxy</html>`), false, false, 0},
		{"wecom freq", FormatWeCom, body200(`{"errcode":45009,"errmsg":"api freq out of limit"}`), false, true, 0},
		{"wecom bad key", FormatWeCom, body200(`{"errcode":93000,"errmsg":"invalid webhook url"}`), false, false, 0},
		{"feishu freq", FormatFeishu, body200(`{"code":11232,"msg":"frequency limited"}`), false, true, 0},
		{"feishu too many", FormatFeishu, body200(`{"code":9499,"msg":"too many request"}`), false, true, 0},
		{"feishu keyword", FormatFeishu, body200(`{"code":19024,"msg":"Key Words Not Found"}`), false, false, 0},
		{"feishu legacy ok", FormatFeishu, body200(`{"StatusCode":0,"StatusMessage":"success"}`), true, false, 0},
		{"slack no_text", FormatSlack, body200(`no_text`), false, false, 0},
		{"slack 429", FormatSlack, status(429, "Retry-After", "3"), false, true, 3 * time.Second},
		{"slack 404", FormatSlack, status(404), false, false, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tg := targets[c.format]
			path := strings.SplitN(strings.TrimPrefix(tg.URL, rc.srv.URL), "?", 2)[0]
			rc.then(path, c.answer)
			req, _ := Encode(c.format, openedEvent(), tg, time.Now())
			res := Deliver(context.Background(), rc.srv.Client(), req)
			if res.OK() != c.ok || (!c.ok && res.Retryable != c.retryable) {
				t.Fatalf("ok %v retryable %v, want %v %v: %v", res.OK(), res.Retryable, c.ok, c.retryable, res.Err)
			}
			switch {
			case c.retryAfter == -1:
				if res.RetryAfter < 25*time.Second || res.RetryAfter > 31*time.Second {
					t.Errorf("RetryAfter %s, want about 30s", res.RetryAfter)
				}
			case res.RetryAfter != c.retryAfter:
				t.Errorf("RetryAfter %s, want %s", res.RetryAfter, c.retryAfter)
			}
			err := res.Error()
			var perm *PermanentError
			var retry *RetryableError
			switch {
			case c.ok:
				if err != nil {
					t.Errorf("Error() = %v on success", err)
				}
			case c.retryable:
				if !errors.As(err, &retry) || IsPermanent(err) || retry.RetryAfter != res.RetryAfter {
					t.Errorf("Error() = %#v, want *RetryableError", err)
				}
			default:
				if !errors.As(err, &perm) || perm.Status != res.Status || !errors.Is(err, res.Err) {
					t.Errorf("Error() = %#v, want *PermanentError", err)
				}
			}
		})
	}
}

func TestDeliverTimeout(t *testing.T) {
	rc := newReceiver(t)
	tg := testTargets(rc.srv.URL)[FormatJSON]
	tg.Timeout = 150 * time.Millisecond
	rc.then("/hooks/json", slow)
	req, _ := Encode(FormatJSON, openedEvent(), tg, time.Now())
	if req.Timeout != 150*time.Millisecond {
		t.Fatalf("request timeout %s", req.Timeout)
	}
	start := time.Now()
	res := Deliver(context.Background(), rc.srv.Client(), req)
	if took := time.Since(start); took > time.Second {
		t.Fatalf("the per-target timeout did not fire: took %s", took)
	}
	if res.OK() || !res.Retryable || res.Status != 0 || !strings.Contains(res.Err.Error(), "no answer within 150ms") {
		t.Fatalf("slow receiver: %+v", res)
	}
	if len(rc.deliveries()) != 1 {
		t.Fatal("the slow receiver did not see the request")
	}
}

func TestDeliverNetworkErrors(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	req, _ := Encode(FormatJSON, openedEvent(), Target{Name: "x", URL: url + "/h", Secret: "s", Timeout: time.Second}, time.Now())
	res := Deliver(context.Background(), nil, req)
	if res.OK() || !res.Retryable || IsPermanent(res.Error()) {
		t.Fatalf("connection refused: %+v", res)
	}

	bad := Request{Method: "POST", URL: "http://[::1", Timeout: time.Second}
	if res := Deliver(context.Background(), nil, bad); res.Retryable || !IsPermanent(res.Error()) {
		t.Fatalf("malformed URL: %+v", res)
	}

	// A TLS server whose certificate the default client does not trust.
	tlsSrv := httptest.NewTLSServer(http.NotFoundHandler())
	defer tlsSrv.Close()
	req.URL = tlsSrv.URL
	if res := Deliver(context.Background(), &http.Client{}, req); res.Retryable || !IsPermanent(res.Error()) {
		t.Fatalf("untrusted certificate: %+v", res)
	}
}

// TestRetryUntilDelivered plays the worker's loop: encode, deliver, back
// off, until the receiver accepts; every attempt carries the same
// idempotency key and a fresh valid signature.
func TestRetryUntilDelivered(t *testing.T) {
	rc := newReceiver(t)
	tg := testTargets(rc.srv.URL)[FormatJSON]
	rc.then("/hooks/json", status(503), status(429, "Retry-After", "0"), status(502))
	rnd := rand.New(rand.NewPCG(1, 2))
	first := time.Now()
	var attempts int
	for attempt := 1; ; attempt++ {
		if attempt > 10 || Expired(first, time.Now(), 5*time.Second) {
			t.Fatal("not delivered")
		}
		req, err := Encode(FormatJSON, openedEvent(), tg, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		attempts++
		res := Deliver(context.Background(), rc.srv.Client(), req)
		err = res.Error()
		if err == nil {
			break
		}
		if IsPermanent(err) {
			t.Fatalf("permanent: %v", err)
		}
		time.Sleep(RetryDelay(res, attempt, time.Millisecond, 20*time.Millisecond, rnd))
	}
	got := rc.deliveries()
	if attempts != 4 || len(got) != 4 {
		t.Fatalf("%d attempts, %d deliveries, want 4", attempts, len(got))
	}
	for _, d := range got {
		if d.Header.Get("Idempotency-Key") != "TKT-000042:3" || !d.SigOK {
			t.Errorf("attempt headers %v sig %v", d.Header, d.SigOK)
		}
	}
}

func TestBackoff(t *testing.T) {
	base, max := 100*time.Millisecond, 10*time.Second
	seq := func(seed uint64) []time.Duration {
		rnd := rand.New(rand.NewPCG(seed, 7))
		var out []time.Duration
		for a := 1; a <= 12; a++ {
			out = append(out, Backoff(a, base, max, rnd))
		}
		return out
	}
	a, b := seq(42), seq(42)
	for i := range a {
		if a[i] != b[i] {
			t.Fatal("the same seed must give the same delays")
		}
	}
	// Pinned: the first delays of seed 42 (catches an accidental change of the formula).
	if got := fmt.Sprint(a[:4]); got != "[71.82611ms 102.778478ms 236.354384ms 776.798112ms]" {
		t.Errorf("seed 42 delays %s", got)
	}

	for attempt := 1; attempt <= 70; attempt++ {
		ceiling := max
		if attempt <= 7 {
			ceiling = base << (attempt - 1) // 100ms, 200ms, … 6.4s
		}
		rnd := rand.New(rand.NewPCG(uint64(attempt), 1))
		var hi time.Duration
		for range 400 {
			d := Backoff(attempt, base, max, rnd)
			if d < 0 || d > ceiling {
				t.Fatalf("attempt %d: %s outside [0, %s]", attempt, d, ceiling)
			}
			hi = maxDur(hi, d)
		}
		if hi < ceiling*8/10 { // full jitter spreads over the whole range
			t.Errorf("attempt %d: max of 400 draws %s, ceiling %s", attempt, hi, ceiling)
		}
	}
	if Backoff(0, base, max, rand.New(rand.NewPCG(1, 1))) > base {
		t.Error("attempt 0 counts as 1")
	}
	if Backoff(1000, time.Hour, 24*time.Hour, nil) > 24*time.Hour {
		t.Error("huge attempt must not overflow past max")
	}
	if Backoff(3, 0, max, nil) != 0 {
		t.Error("zero base gives no wait")
	}
	if d := RetryDelay(Result{RetryAfter: time.Minute}, 1, base, max, nil); d != time.Minute {
		t.Errorf("Retry-After must win over a shorter backoff: %s", d)
	}
}

func maxDur(a, b time.Duration) time.Duration {
	if a > b {
		return a
	}
	return b
}

func TestExpired(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	if Expired(t0, t0.Add(23*time.Hour), 24*time.Hour) || !Expired(t0, t0.Add(24*time.Hour), 24*time.Hour) {
		t.Error("max age boundary")
	}
	if Expired(t0, t0.Add(1000*time.Hour), 0) {
		t.Error("max age 0 never expires")
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"": 0, "0": 0, "-5": 0, " 12 ": 12 * time.Second, "x": 0,
		"Fri, 20 Nov 2026 08:01:00 GMT": time.Minute, "Fri, 20 Nov 2026 07:00:00 GMT": 0,
		"99999999999999999999": 0, "9223372036854775807": time.Duration(1<<63 - 1),
	} {
		if got := parseRetryAfter(v, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", v, got, want)
		}
	}
}
