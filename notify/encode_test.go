package notify

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// renderRequest is the golden form of a request: method and URL, the
// headers (sorted), a blank line and the body indented.
func renderRequest(t *testing.T, r Request) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteString(r.Method + " " + r.URL + "\n")
	keys := make([]string, 0, len(r.Headers))
	for k := range r.Headers {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		b.WriteString(k + ": " + strings.Join(r.Headers[k], ", ") + "\n")
	}
	b.WriteString("\n")
	if err := json.Indent(&b, r.Body, "", "  "); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, r.Body)
	}
	b.WriteString("\n")
	return b.Bytes()
}

func TestEncodeGolden(t *testing.T) {
	targets := testTargets("https://hooks.example.internal")
	events := map[string]Event{"opened": openedEvent(), "resolved": resolvedEvent()}
	for _, f := range Formats {
		for name, e := range events {
			t.Run(string(f)+"_"+name, func(t *testing.T) {
				req, err := Encode(f, e, targets[f], fixedNow)
				if err != nil {
					t.Fatal(err)
				}
				got := renderRequest(t, req)
				path := filepath.Join("testdata", string(f)+"_"+name+".golden")
				if *update {
					if err := os.WriteFile(path, got, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test ./notify/ -run TestEncodeGolden -update)", err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s differs from the encoding:\n%s", path, got)
				}
				// Deterministic: the same inputs give the same bytes.
				again, _ := Encode(f, e, targets[f], fixedNow)
				if !bytes.Equal(again.Body, req.Body) || again.URL != req.URL {
					t.Error("encoding is not deterministic")
				}
				if req.Headers.Get(HeaderIdempotencyKey) != IdempotencyKey(e) || req.IdempotencyKey != IdempotencyKey(e) {
					t.Errorf("idempotency key header %q", req.Headers.Get(HeaderIdempotencyKey))
				}
				if req.Headers.Get(HeaderEvent) != e.Type {
					t.Errorf("event header %q", req.Headers.Get(HeaderEvent))
				}
			})
		}
	}
}

func TestIdempotencyKey(t *testing.T) {
	e := openedEvent()
	if k := IdempotencyKey(e); k != "TKT-000042:3" {
		t.Fatalf("key %q", k)
	}
	e.Ticket.Version++
	if IdempotencyKey(e) == "TKT-000042:3" {
		t.Fatal("a new version must give a new key")
	}
}

func decode(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	return m
}

func TestGenericFields(t *testing.T) {
	tg := testTargets("https://h.example")[FormatJSON]
	req, err := Encode(FormatJSON, openedEvent(), tg, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	m := decode(t, req.Body)
	for k, want := range map[string]any{
		"schema_version": 1.0, "event": "ticket.opened", "version": 3.0,
		"idempotency_key": "TKT-000042:3", "sent_at": "2026-11-20T08:00:05Z", "event_at": "2026-11-20T08:00:00Z",
	} {
		if m[k] != want {
			t.Errorf("%s = %v, want %v", k, m[k], want)
		}
	}
	tk := m["ticket"].(map[string]any)
	for _, k := range []string{"id", "fingerprint", "kind", "entity", "state", "severity", "version", "title", "summary",
		"body_markdown", "breach_at", "breach_p10", "breach_p90", "link", "suggested_action", "assignment_group",
		"opened_at", "updated_at", "resolved_at", "resolve_reason"} {
		if _, ok := tk[k]; !ok {
			t.Errorf("ticket.%s missing", k)
		}
	}
	if tk["resolved_at"] != nil || tk["breach_at"] != "2026-11-21T04:00:00Z" {
		t.Errorf("times: resolved_at %v breach_at %v", tk["resolved_at"], tk["breach_at"])
	}
	// "&" and "<" are not HTML-escaped.
	if !bytes.Contains(req.Body, []byte("logs & old backups")) {
		t.Error("body HTML-escapes '&'")
	}
	ts := req.Headers.Get(HeaderTimestamp)
	if ts != "1795161605" {
		t.Errorf("timestamp header %q", ts)
	}
	if err := Verify(tg.Secret, ts, req.Headers.Get(HeaderSignature), req.Body, fixedNow, time.Minute); err != nil {
		t.Errorf("signature does not verify: %v", err)
	}
	if req.Headers.Get("Authorization") != "Bearer relay-token" {
		t.Error("target header missing")
	}
}

func TestAlertmanagerFields(t *testing.T) {
	tg := testTargets("https://h.example")[FormatAlertmanager]
	req, err := Encode(FormatAlertmanager, openedEvent(), tg, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	var p AlertmanagerPayload
	if err := json.Unmarshal(req.Body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Version != "4" || p.Status != "firing" || p.Receiver != "am" || p.ExternalURL != "https://foresight.example.internal" || len(p.Alerts) != 1 {
		t.Fatalf("payload %+v", p)
	}
	a := p.Alerts[0]
	wantLabels := map[string]string{"alertname": "ForesightDiskFull", "severity": "critical", "kind": "disk",
		"fingerprint": "disk|host=db-01,path=/data", "host": "db-01", "path": "/data"}
	for k, v := range wantLabels {
		if a.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, a.Labels[k], v)
		}
	}
	if a.Annotations["summary"] == "" || a.Annotations["description"] == "" || a.Annotations["suggested_action"] == "" ||
		a.Annotations["breach_at"] != "2026-11-21T04:00:00Z" {
		t.Errorf("annotations %v", a.Annotations)
	}
	if !bytes.Contains(req.Body, []byte(`"endsAt":"0001-01-01T00:00:00Z"`)) {
		t.Error("firing alert must carry the zero endsAt")
	}
	if a.StartsAt != openedEvent().Ticket.OpenedAt || a.Status != "firing" {
		t.Errorf("startsAt %v status %s", a.StartsAt, a.Status)
	}
	if len(a.Fingerprint) != 16 || a.Fingerprint != AlertFingerprint("disk|host=db-01,path=/data") || a.Fingerprint == AlertFingerprint("disk|host=db-02,path=/data") {
		t.Errorf("fingerprint %q", a.Fingerprint)
	}
	if p.GroupKey != `{}:{alertname="ForesightDiskFull", fingerprint="disk|host=db-01,path=/data"}` {
		t.Errorf("groupKey %s", p.GroupKey)
	}
	if req.Headers.Get(HeaderSignature) == "" {
		t.Error("alertmanager target with a secret must be signed")
	}

	// Resolved and closed end the alert.
	for _, typ := range []string{EventResolved, EventClosed} {
		e := resolvedEvent()
		e.Type = typ
		req, _ := Encode(FormatAlertmanager, e, tg, fixedNow)
		var p AlertmanagerPayload
		_ = json.Unmarshal(req.Body, &p)
		if p.Status != "resolved" || p.Alerts[0].Status != "resolved" || !p.Alerts[0].EndsAt.Equal(*e.Ticket.ResolvedAt) {
			t.Errorf("%s: status %s endsAt %v", typ, p.Status, p.Alerts[0].EndsAt)
		}
		if p.Alerts[0].Fingerprint != a.Fingerprint {
			t.Error("fingerprint changed between firing and resolved")
		}
	}
	for kind, want := range map[string]string{"memleak": "ForesightMemoryLeak", "monthend": "ForesightMonthEndBreach", "cert-expiry": "ForesightCertExpiry"} {
		if got := AlertName(kind); got != want {
			t.Errorf("AlertName(%s) = %s, want %s", kind, got, want)
		}
	}
}

func TestAlertmanagerEntityLabels(t *testing.T) {
	e := openedEvent()
	e.Ticket.Entity = map[string]string{"severity": "x", "k8s.pod-name": "p", "9lives": "c"}
	req, _ := Encode(FormatAlertmanager, e, Target{Name: "am", URL: "http://h"}, fixedNow)
	var p AlertmanagerPayload
	_ = json.Unmarshal(req.Body, &p)
	l := p.Alerts[0].Labels
	if l["severity"] != "critical" || l["entity_severity"] != "x" || l["k8s_pod_name"] != "p" || l["_lives"] != "c" {
		t.Errorf("labels %v", l)
	}
	if req.Headers.Get(HeaderSignature) != "" {
		t.Error("no secret: no signature")
	}
}

func TestChatFields(t *testing.T) {
	targets := testTargets("https://h.example")
	e := openedEvent()

	req, _ := Encode(FormatDingTalk, e, targets[FormatDingTalk], fixedNow)
	m := decode(t, req.Body)
	md := m["markdown"].(map[string]any)
	if m["msgtype"] != "markdown" || !strings.HasPrefix(md["title"].(string), "[CRITICAL]") ||
		!strings.Contains(md["text"].(string), "@13800000000") || !strings.Contains(md["text"].(string), "db-01") {
		t.Errorf("dingtalk %s", req.Body)
	}
	if at := m["at"].(map[string]any); at["atMobiles"].([]any)[0] != "13800000000" {
		t.Errorf("dingtalk at %v", at)
	}
	if !strings.Contains(req.URL, "access_token=tok123&timestamp=1795161605000&sign=") {
		t.Errorf("dingtalk URL %s", req.URL)
	}
	unsigned := targets[FormatDingTalk]
	unsigned.Secret = ""
	if r, _ := Encode(FormatDingTalk, e, unsigned, fixedNow); r.URL != unsigned.URL {
		t.Errorf("unsigned dingtalk URL changed: %s", r.URL)
	}

	req, _ = Encode(FormatWeCom, e, targets[FormatWeCom], fixedNow)
	m = decode(t, req.Body)
	if m["msgtype"] != "markdown" || !strings.Contains(m["markdown"].(map[string]any)["content"].(string), `<font color="warning">[CRITICAL]`) {
		t.Errorf("wecom %s", req.Body)
	}

	req, _ = Encode(FormatFeishu, e, targets[FormatFeishu], fixedNow)
	m = decode(t, req.Body)
	if m["msg_type"] != "interactive" || m["timestamp"] != "1795161605" || m["sign"] != FeishuSign("feishu-test-secret", 1795161605) {
		t.Errorf("feishu %s", req.Body)
	}
	if tmpl := m["card"].(map[string]any)["header"].(map[string]any)["template"]; tmpl != "red" {
		t.Errorf("feishu template %v", tmpl)
	}
	unsigned = targets[FormatFeishu]
	unsigned.Secret = ""
	r, _ := Encode(FormatFeishu, e, unsigned, fixedNow)
	if m := decode(t, r.Body); m["sign"] != nil || m["timestamp"] != nil {
		t.Errorf("unsigned feishu carries a signature: %s", r.Body)
	}

	req, _ = Encode(FormatSlack, e, targets[FormatSlack], fixedNow)
	var s SlackPayload
	if err := json.Unmarshal(req.Body, &s); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.Text, "[CRITICAL]") || len(s.Blocks) != 2 || len(s.Attachments) != 1 || s.Attachments[0].Color != "#D00000" {
		t.Errorf("slack %s", req.Body)
	}
	if b := s.Blocks[0].(map[string]any); b["type"] != "header" {
		t.Errorf("slack first block %v", b)
	}
	if f := s.Attachments[0].Blocks[0].(map[string]any); f["type"] != "section" || len(f["fields"].([]any)) < 5 {
		t.Errorf("slack fields %v", f)
	}
	if !bytes.Contains(req.Body, []byte("logs &amp; old backups")) {
		t.Error("slack mrkdwn must escape '&'")
	}
	res, _ := Encode(FormatSlack, resolvedEvent(), targets[FormatSlack], fixedNow)
	_ = json.Unmarshal(res.Body, &s)
	if s.Attachments[0].Color != "#2EB886" || !strings.HasPrefix(s.Text, "[RESOLVED]") {
		t.Errorf("slack resolved %s", res.Body)
	}
}

func TestChatLimits(t *testing.T) {
	e := openedEvent()
	e.Ticket.BodyMarkdown = strings.Repeat("磁盘使用率持续上升。", 2000) // 60 KB of three-byte runes
	tg := testTargets("https://h.example")
	for _, f := range []Format{FormatWeCom, FormatDingTalk, FormatFeishu, FormatSlack} {
		req, err := Encode(f, e, tg[f], fixedNow)
		if err != nil {
			t.Fatal(err)
		}
		if !utf8.Valid(req.Body) {
			t.Errorf("%s: invalid UTF-8 after truncation", f)
		}
		if len(req.Body) > 30000 {
			t.Errorf("%s: body of %d bytes", f, len(req.Body))
		}
	}
	req, _ := Encode(FormatWeCom, e, tg[FormatWeCom], fixedNow)
	var w WeComPayload
	_ = json.Unmarshal(req.Body, &w)
	if n := len(w.Markdown.Content); n > 4096 || n < 4000 {
		t.Errorf("wecom content %d bytes, want at most 4096 and close to it", n)
	}
	if !strings.HasSuffix(w.Markdown.Content, "…") {
		t.Error("truncation not marked")
	}
	d, _ := Encode(FormatDingTalk, e, tg[FormatDingTalk], fixedNow)
	var dp DingTalkPayload
	_ = json.Unmarshal(d.Body, &dp)
	if !strings.HasSuffix(dp.Markdown.Text, "@13800000000") {
		t.Error("dingtalk mention lost in truncation")
	}
}

func TestEncodeErrors(t *testing.T) {
	tg := Target{Name: "x", URL: "http://h", Secret: "s"}
	if _, err := Encode("teams", openedEvent(), tg, fixedNow); err == nil || !strings.Contains(err.Error(), `unknown format "teams"`) {
		t.Errorf("unknown format: %v", err)
	}
	e := openedEvent()
	e.Ticket.ID = ""
	if _, err := Encode(FormatJSON, e, tg, fixedNow); err == nil {
		t.Error("event without ticket id accepted")
	}
	e = openedEvent()
	e.Type = ""
	if _, err := Encode(FormatJSON, e, tg, fixedNow); err == nil {
		t.Error("event without type accepted")
	}
}

func TestTimeZone(t *testing.T) {
	tg := Target{Name: "w", Format: FormatWeCom, URL: "http://h", TimeZone: "Asia/Shanghai"}
	req, _ := Encode(FormatWeCom, openedEvent(), tg, fixedNow)
	if !bytes.Contains(req.Body, []byte("2026-11-21 12:00 CST")) {
		t.Errorf("breach time not in the target's zone: %s", req.Body)
	}
}
