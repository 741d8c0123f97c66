package notify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Format selects how an event is encoded for a target.
type Format string

// The payload formats.
const (
	// FormatJSON is Foresight's own signed JSON schema (see the package documentation).
	FormatJSON Format = "json"
	// FormatAlertmanager is the Alertmanager webhook payload (version "4").
	FormatAlertmanager Format = "alertmanager"
	// FormatDingTalk is a DingTalk custom robot markdown message, signed when the target has a secret.
	FormatDingTalk Format = "dingtalk"
	// FormatWeCom is a WeCom (WeChat Work) group robot markdown message.
	FormatWeCom Format = "wecom"
	// FormatFeishu is a Feishu/Lark custom bot interactive card, signed when the target has a secret.
	FormatFeishu Format = "feishu"
	// FormatSlack is a Slack incoming-webhook message with blocks and a colour-coded attachment.
	FormatSlack Format = "slack"
)

// Formats lists every format.
var Formats = []Format{FormatJSON, FormatAlertmanager, FormatDingTalk, FormatWeCom, FormatFeishu, FormatSlack}

func formatList() string {
	s := make([]string, len(Formats))
	for i, f := range Formats {
		s[i] = string(f)
	}
	return strings.Join(s, ", ")
}

// Headers set on deliveries.
const (
	// HeaderEvent carries the event type (all formats).
	HeaderEvent = "X-Foresight-Event"
	// HeaderIdempotencyKey carries IdempotencyKey(e) (all formats).
	HeaderIdempotencyKey = "Idempotency-Key"
	// HeaderSignature carries "sha256=" + hex HMAC-SHA256 (json, and alertmanager with a secret).
	HeaderSignature = "X-Foresight-Signature"
	// HeaderTimestamp carries the Unix time in seconds that the signature covers.
	HeaderTimestamp = "X-Foresight-Timestamp"
)

// UserAgent is sent with every delivery.
const UserAgent = "Foresight-Webhook/1"

// SchemaVersion is the version of the generic JSON schema.
const SchemaVersion = 1

// Request is one encoded delivery, ready for Deliver. It is plain data and
// can be logged (without Headers, which may hold credentials).
type Request struct {
	// Method is always POST today.
	Method string
	// URL is the endpoint, with signature parameters for DingTalk.
	URL string
	// Headers are the HTTP headers, the target's own included.
	Headers http.Header
	// Body is the exact bytes sent (and signed).
	Body []byte
	// Format tells Deliver how to read the answer of chat platforms.
	Format Format
	// Timeout bounds the attempt (the target's EffectiveTimeout).
	Timeout time.Duration
	// IdempotencyKey is IdempotencyKey(e), also in the Idempotency-Key header.
	IdempotencyKey string
}

// Encode renders e for target in format f, with now as the send time (it
// goes into signatures and sent_at). Encode at every attempt, not once at
// enqueue time: the chat platforms reject signatures older than an hour.
// It fails only on an unknown format or an event without type or ticket id.
func Encode(f Format, e Event, target Target, now time.Time) (Request, error) {
	if e.Type == "" {
		return Request{}, errors.New("notify: event has no type")
	}
	if e.Ticket.ID == "" {
		return Request{}, errors.New("notify: event ticket has no id")
	}
	now = now.UTC()
	req := Request{
		Method:         http.MethodPost,
		URL:            target.URL,
		Headers:        http.Header{},
		Format:         f,
		Timeout:        target.EffectiveTimeout(),
		IdempotencyKey: IdempotencyKey(e),
	}
	var (
		body any
		err  error
	)
	switch f {
	case FormatJSON:
		body = genericPayload(e, now)
	case FormatAlertmanager:
		body = alertmanagerPayload(e, target, now)
	case FormatDingTalk:
		body = dingTalkPayload(e, target)
		if target.Secret != "" {
			req.URL, err = dingTalkSignedURL(target.URL, target.Secret, now)
		}
	case FormatWeCom:
		body = weComPayload(e, target)
	case FormatFeishu:
		body = feishuPayload(e, target, now)
	case FormatSlack:
		body = slackPayload(e, target)
	default:
		return Request{}, fmt.Errorf("notify: unknown format %q (want one of %s)", f, formatList())
	}
	if err != nil {
		return Request{}, err
	}
	if req.Body, err = marshal(body); err != nil {
		return Request{}, fmt.Errorf("notify: encode %s: %w", f, err)
	}
	for k, v := range target.Headers {
		req.Headers.Set(k, v)
	}
	req.Headers.Set("Content-Type", "application/json; charset=utf-8")
	req.Headers.Set("User-Agent", UserAgent)
	req.Headers.Set(HeaderEvent, e.Type)
	req.Headers.Set(HeaderIdempotencyKey, req.IdempotencyKey)
	if (f == FormatJSON || f == FormatAlertmanager) && target.Secret != "" {
		ts := strconv.FormatInt(now.Unix(), 10)
		req.Headers.Set(HeaderTimestamp, ts)
		req.Headers.Set(HeaderSignature, Sign(target.Secret, ts, req.Body))
	}
	return req, nil
}

// marshal encodes v as compact JSON without HTML escaping (so "<" and "&"
// in titles and URLs reach the chat platforms as written).
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// GenericPayload is the body of the generic JSON format (schema_version 1).
// See the package documentation for the field-by-field schema.
type GenericPayload struct {
	// SchemaVersion is SchemaVersion (1); it changes only for incompatible changes.
	SchemaVersion int `json:"schema_version"`
	// Event is the event type, e.g. "ticket.opened".
	Event string `json:"event"`
	// EventAt is when the change happened.
	EventAt time.Time `json:"event_at"`
	// Ticket is the ticket after the change.
	Ticket GenericTicket `json:"ticket"`
	// Version is the ticket version (= Ticket.Version).
	Version int `json:"version"`
	// IdempotencyKey is "<ticket id>:<version>", as in the Idempotency-Key header.
	IdempotencyKey string `json:"idempotency_key"`
	// SentAt is this attempt's send time.
	SentAt time.Time `json:"sent_at"`
}

// GenericTicket is the ticket object of GenericPayload: a TicketView under
// the same JSON keys, with times in UTC. Every key is always present;
// absent times are null, an absent entity is {}.
type GenericTicket = TicketView

func utcPtr(t *time.Time) *time.Time {
	if t == nil || t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// utcTicket returns t with its times in UTC and the given entity.
func utcTicket(t TicketView, entity map[string]string) GenericTicket {
	t.Entity = entity
	t.BreachAt, t.BreachP10, t.BreachP90 = utcPtr(t.BreachAt), utcPtr(t.BreachP10), utcPtr(t.BreachP90)
	t.OpenedAt, t.UpdatedAt, t.ResolvedAt = t.OpenedAt.UTC(), t.UpdatedAt.UTC(), utcPtr(t.ResolvedAt)
	return t
}

func genericPayload(e Event, now time.Time) GenericPayload {
	t := e.Ticket
	entity := t.Entity
	if entity == nil {
		entity = map[string]string{}
	}
	return GenericPayload{
		SchemaVersion:  SchemaVersion,
		Event:          e.Type,
		EventAt:        e.At.UTC(),
		Ticket:         utcTicket(t, entity),
		Version:        t.Version,
		IdempotencyKey: IdempotencyKey(e),
		SentAt:         now,
	}
}
