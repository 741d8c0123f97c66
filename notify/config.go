package notify

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// DefaultTimeout bounds one delivery attempt when a target sets no timeout.
const DefaultTimeout = 10 * time.Second

// MaxTimeout is the largest per-target timeout accepted.
const MaxTimeout = 5 * time.Minute

// Config is the `notify:` section of the configuration file:
//
//	notify:
//	  targets:
//	    - name: chat
//	      format: dingtalk
//	      url: <the robot's webhook URL with its access_token>
//	      secret: SEC...            # the robot's signing secret (optional)
//	      timeout: 5s
//	      at_mobiles: ["13800000000"]
//	    - name: sms
//	      format: json
//	      url: https://sms-gateway.internal/hooks/foresight
//	      secret: change-me         # required for format json
//	      headers: {Authorization: "Bearer ..."}
//	    - name: mail-relay
//	      format: json
//	      url: https://mail-relay.internal/foresight
//	      secret: change-me
//	      min_severity: minor
//	  routes:
//	    critical: [chat, sms]
//	    major: [chat]
//	    minor: [mail-relay]
type Config struct {
	// Targets are the webhook endpoints, each with a payload format.
	Targets []Target `yaml:"targets" json:"targets"`
	// Routes maps a severity (info, minor, major, critical) or "default"
	// (every severity without its own entry) to target names.
	Routes map[string][]string `yaml:"routes" json:"routes"`
}

// RouteDefault is the Routes key used for severities without their own entry.
const RouteDefault = "default"

// Target is one webhook endpoint.
type Target struct {
	// Name identifies the target in routes, logs and the delivery queue.
	Name string `yaml:"name" json:"name"`
	// Format selects the payload encoder.
	Format Format `yaml:"format" json:"format"`
	// URL is the endpoint (http or https). For DingTalk it includes the
	// access_token query parameter; the signature parameters are appended.
	URL string `yaml:"url" json:"url"`
	// Secret signs the deliveries: the HMAC key of X-Foresight-Signature for
	// json and alertmanager, the robot's signing secret for dingtalk and
	// feishu. wecom and slack are not signed (their URL is the secret).
	Secret string `yaml:"secret" json:"-"`
	// Timeout bounds one delivery attempt (default DefaultTimeout).
	Timeout time.Duration `yaml:"timeout" json:"timeout"`
	// Headers are added to every request (e.g. Authorization). They cannot
	// replace the headers Foresight sets itself.
	Headers map[string]string `yaml:"headers" json:"headers,omitempty"`
	// MinSeverity drops events of tickets below this severity even when a
	// route names the target (empty: no floor).
	MinSeverity string `yaml:"min_severity" json:"min_severity,omitempty"`
	// AtMobiles are the phone numbers a DingTalk robot mentions (dingtalk only).
	AtMobiles []string `yaml:"at_mobiles" json:"at_mobiles,omitempty"`
	// ExternalURL is the Alertmanager payload's externalURL (alertmanager only).
	ExternalURL string `yaml:"external_url" json:"external_url,omitempty"`
	// TimeZone is the IANA zone the chat formats show times in (default UTC).
	TimeZone string `yaml:"time_zone" json:"time_zone,omitempty"`
}

// reservedHeaders are set by the encoders and cannot be overridden by a target.
var reservedHeaders = []string{"Content-Type", "Content-Length", "Host", HeaderEvent, HeaderIdempotencyKey, HeaderSignature, HeaderTimestamp}

// Validate checks one target and returns the first problem, naming the field.
func (t Target) Validate() error {
	if strings.TrimSpace(t.Name) == "" {
		return errors.New("name: must not be empty")
	}
	if !slices.Contains(Formats, t.Format) {
		return fmt.Errorf("format: %q is not one of %s", t.Format, formatList())
	}
	u, err := url.Parse(t.URL)
	if t.URL == "" {
		return errors.New("url: must not be empty")
	}
	if err != nil {
		return fmt.Errorf("url: %v", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("url: scheme must be http or https, not %q", u.Scheme)
	}
	if u.Host == "" {
		return errors.New("url: has no host")
	}
	switch t.Format {
	case FormatJSON:
		if t.Secret == "" {
			return errors.New("secret: required for format json (it signs X-Foresight-Signature)")
		}
	case FormatWeCom, FormatSlack:
		if t.Secret != "" {
			return fmt.Errorf("secret: format %s is not signed (the URL is the credential); remove the secret", t.Format)
		}
	}
	if len(t.AtMobiles) > 0 && t.Format != FormatDingTalk {
		return fmt.Errorf("at_mobiles: only for format dingtalk, not %s", t.Format)
	}
	for i, m := range t.AtMobiles {
		if strings.TrimSpace(m) == "" {
			return fmt.Errorf("at_mobiles[%d]: must not be empty", i)
		}
	}
	if t.ExternalURL != "" && t.Format != FormatAlertmanager {
		return fmt.Errorf("external_url: only for format alertmanager, not %s", t.Format)
	}
	if t.Timeout < 0 {
		return fmt.Errorf("timeout: must not be negative, got %s", t.Timeout)
	}
	if t.Timeout > MaxTimeout {
		return fmt.Errorf("timeout: %s is above the maximum %s", t.Timeout, MaxTimeout)
	}
	if t.MinSeverity != "" && SeverityRank(t.MinSeverity) == 0 {
		return fmt.Errorf("min_severity: %q is not one of info, minor, major, critical", t.MinSeverity)
	}
	for k, v := range t.Headers {
		ck := http.CanonicalHeaderKey(k)
		if k == "" || strings.ContainsAny(k, " :\r\n\t") {
			return fmt.Errorf("headers: %q is not a valid header name", k)
		}
		if strings.ContainsAny(v, "\r\n") {
			return fmt.Errorf("headers.%s: value must not contain a line break", k)
		}
		if slices.Contains(reservedHeaders, ck) {
			return fmt.Errorf("headers.%s: set by Foresight, cannot be overridden", k)
		}
	}
	if t.TimeZone != "" {
		if _, err := time.LoadLocation(t.TimeZone); err != nil {
			return fmt.Errorf("time_zone: %v", err)
		}
	}
	return nil
}

// EffectiveTimeout is the target's timeout, or DefaultTimeout when unset.
func (t Target) EffectiveTimeout() time.Duration {
	if t.Timeout <= 0 {
		return DefaultTimeout
	}
	return t.Timeout
}

// location is the target's time zone for human-readable times (UTC by default).
func (t Target) location() *time.Location {
	if t.TimeZone == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(t.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Validate checks every target and route and returns all problems joined,
// each prefixed with its path in the configuration (notify.targets[1].url: …).
func (c Config) Validate() error {
	var errs []error
	seen := map[string]int{}
	for i, t := range c.Targets {
		label := fmt.Sprintf("notify.targets[%d]", i)
		if strings.TrimSpace(t.Name) != "" {
			label = fmt.Sprintf("notify.targets[%d] (%s)", i, t.Name)
		}
		if err := t.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("%s.%w", label, err))
		}
		if j, dup := seen[t.Name]; dup && t.Name != "" {
			errs = append(errs, fmt.Errorf("%s.name: %q is already used by notify.targets[%d]", label, t.Name, j))
		} else {
			seen[t.Name] = i
		}
	}
	keys := make([]string, 0, len(c.Routes))
	for k := range c.Routes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, sev := range keys {
		if sev != RouteDefault && SeverityRank(sev) == 0 {
			errs = append(errs, fmt.Errorf("notify.routes.%s: %q is not a severity (info, minor, major, critical) or %q", sev, sev, RouteDefault))
			continue
		}
		names := c.Routes[sev]
		for i, n := range names {
			if _, ok := seen[n]; !ok {
				errs = append(errs, fmt.Errorf("notify.routes.%s[%d]: no target named %q", sev, i, n))
			}
			if slices.Index(names, n) != i {
				errs = append(errs, fmt.Errorf("notify.routes.%s[%d]: target %q listed twice", sev, i, n))
			}
		}
	}
	return errors.Join(errs...)
}

// Router picks the targets of an event by its ticket's severity. It is
// immutable and safe for concurrent use.
type Router struct {
	targets map[string]Target
	routes  map[string][]string
}

// NewRouter validates cfg and builds its router.
func NewRouter(cfg Config) (*Router, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &Router{targets: map[string]Target{}, routes: map[string][]string{}}
	for _, t := range cfg.Targets {
		t.Headers = cloneMap(t.Headers)
		t.AtMobiles = slices.Clone(t.AtMobiles)
		r.targets[t.Name] = t
	}
	for k, v := range cfg.Routes {
		r.routes[k] = slices.Clone(v)
	}
	return r, nil
}

// Route returns the targets for a ticket of the given severity, in the
// order the route lists them: the route of that severity, or the "default"
// route when it has none, without targets whose min_severity is above it.
// An unknown severity gets the default route and is not filtered by
// min_severity (a notification is never dropped for a bad severity).
func (r *Router) Route(severity string) []Target {
	names, ok := r.routes[severity]
	if !ok {
		names = r.routes[RouteDefault]
	}
	var out []Target
	for _, n := range names {
		t := r.targets[n]
		if rank := SeverityRank(severity); rank > 0 && t.MinSeverity != "" && rank < SeverityRank(t.MinSeverity) {
			continue
		}
		out = append(out, t)
	}
	return out
}

// Target returns the target with the given name (a delivery job stores the
// name and looks the target up when it runs, so rotated secrets apply).
func (r *Router) Target(name string) (Target, bool) {
	t, ok := r.targets[name]
	return t, ok
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
