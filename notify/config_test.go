package notify

import (
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

const exampleYAML = `
targets:
  - name: chat
    format: dingtalk
    url: https://robot.example/robot/send?access_token=abc
    secret: SECxyz
    timeout: 5s
    at_mobiles: ["13800000000"]
  - name: sms
    format: json
    url: https://sms.example/hook
    secret: s3cret
    headers: {Authorization: "Bearer t"}
  - name: mail-relay
    format: json
    url: https://mail.example/hook
    secret: s3cret
    min_severity: minor
  - name: am
    format: alertmanager
    url: http://am.example/hook
    min_severity: major
routes:
  critical: [chat, sms, am]
  major: [chat, am]
  minor: [mail-relay]
  default: [mail-relay]
`

func loadConfig(t *testing.T, s string) Config {
	t.Helper()
	var c Config
	if err := yaml.Unmarshal([]byte(s), &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func names(ts []Target) string {
	var s []string
	for _, t := range ts {
		s = append(s, t.Name)
	}
	return strings.Join(s, ",")
}

func TestConfigRoute(t *testing.T) {
	c := loadConfig(t, exampleYAML)
	r, err := NewRouter(c)
	if err != nil {
		t.Fatal(err)
	}
	for sev, want := range map[string]string{
		"critical": "chat,sms,am", "major": "chat,am", "minor": "mail-relay",
		"info":  "", // default route, but mail-relay's min_severity is minor
		"bogus": "mail-relay",
	} {
		if got := names(r.Route(sev)); got != want {
			t.Errorf("Route(%s) = %q, want %q", sev, got, want)
		}
	}
	chat, ok := r.Target("chat")
	if !ok || chat.Timeout != 5*time.Second || chat.EffectiveTimeout() != 5*time.Second || chat.AtMobiles[0] != "13800000000" {
		t.Errorf("chat target %+v", chat)
	}
	if sms, _ := r.Target("sms"); sms.EffectiveTimeout() != DefaultTimeout || sms.Headers["Authorization"] != "Bearer t" {
		t.Errorf("sms target %+v", sms)
	}
	// The router keeps its own copies.
	c.Targets[0].Headers = map[string]string{"X": "y"}
	c.Routes["critical"][0] = "sms"
	if got := names(r.Route("critical")); got != "chat,sms,am" {
		t.Errorf("router shares the config's slices: %s", got)
	}
}

func TestConfigValidationErrors(t *testing.T) {
	base := func() Target { return Target{Name: "t", Format: FormatJSON, URL: "https://h/x", Secret: "s"} }
	cases := []struct {
		mut  func(*Target)
		want string
	}{
		{func(t *Target) { t.Name = " " }, "notify.targets[0].name: must not be empty"},
		{func(t *Target) { t.Format = "dingtlak" }, `notify.targets[0] (t).format: "dingtlak" is not one of json, alertmanager, dingtalk, wecom, feishu, slack`},
		{func(t *Target) { t.URL = "" }, "notify.targets[0] (t).url: must not be empty"},
		{func(t *Target) { t.URL = "ftp://h/x" }, `url: scheme must be http or https, not "ftp"`},
		{func(t *Target) { t.URL = "https:///x" }, "url: has no host"},
		{func(t *Target) { t.Secret = "" }, "secret: required for format json"},
		{func(t *Target) { t.Format = FormatWeCom }, "secret: format wecom is not signed"},
		{func(t *Target) { t.Format = FormatSlack }, "secret: format slack is not signed"},
		{func(t *Target) { t.AtMobiles = []string{"1"} }, "at_mobiles: only for format dingtalk, not json"},
		{func(t *Target) { t.ExternalURL = "http://x" }, "external_url: only for format alertmanager"},
		{func(t *Target) { t.Timeout = -time.Second }, "timeout: must not be negative"},
		{func(t *Target) { t.Timeout = time.Hour }, "timeout: 1h0m0s is above the maximum 5m0s"},
		{func(t *Target) { t.MinSeverity = "warn" }, `min_severity: "warn" is not one of info, minor, major, critical`},
		{func(t *Target) { t.Headers = map[string]string{"idempotency-key": "x"} }, "headers.idempotency-key: set by Foresight, cannot be overridden"},
		{func(t *Target) { t.Headers = map[string]string{"X-A": "a\r\nB: c"} }, "headers.X-A: value must not contain a line break"},
		{func(t *Target) { t.Headers = map[string]string{"Bad Name": "x"} }, `headers: "Bad Name" is not a valid header name`},
		{func(t *Target) { t.TimeZone = "Mars/Olympus" }, "time_zone: unknown time zone Mars/Olympus"},
	}
	for _, c := range cases {
		tg := base()
		c.mut(&tg)
		err := Config{Targets: []Target{tg}}.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("want error containing %q, got %v", c.want, err)
		}
	}
	ok := Config{Targets: []Target{base()}, Routes: map[string][]string{"critical": {"t"}}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid config rejected: %v", err)
	}
}

func TestConfigRouteErrors(t *testing.T) {
	c := loadConfig(t, `
targets:
  - {name: chat, format: wecom, url: "https://w/x"}
  - {name: chat, format: slack, url: "https://s/x"}
routes:
  critical: [chat, smss, chat]
  urgent: [chat]
`)
	_, err := NewRouter(c)
	if err == nil {
		t.Fatal("invalid config accepted")
	}
	for _, want := range []string{
		`notify.targets[1] (chat).name: "chat" is already used by notify.targets[0]`,
		`notify.routes.critical[1]: no target named "smss"`,
		`notify.routes.critical[2]: target "chat" listed twice`,
		`notify.routes.urgent: "urgent" is not a severity`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
