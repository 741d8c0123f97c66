package notify

import (
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// AlertmanagerPayload is the Alertmanager webhook body (version "4"), one
// alert per ticket, grouped by alertname and ticket fingerprint. Fields
// mirror Alertmanager's JSON keys.
type AlertmanagerPayload struct {
	Version           string              `json:"version"`
	GroupKey          string              `json:"groupKey"`
	TruncatedAlerts   int                 `json:"truncatedAlerts"`
	Status            string              `json:"status"`
	Receiver          string              `json:"receiver"`
	GroupLabels       map[string]string   `json:"groupLabels"`
	CommonLabels      map[string]string   `json:"commonLabels"`
	CommonAnnotations map[string]string   `json:"commonAnnotations"`
	ExternalURL       string              `json:"externalURL"`
	Alerts            []AlertmanagerAlert `json:"alerts"`
}

// AlertmanagerAlert is one entry of AlertmanagerPayload.Alerts; fields
// mirror Alertmanager's JSON keys. EndsAt is the zero time while firing.
type AlertmanagerAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// AlertName is the Alertmanager alertname of a risk kind: ForesightDiskFull,
// ForesightMemoryLeak, ForesightMonthEndBreach, or "Foresight" + the kind in
// CamelCase for other kinds.
func AlertName(kind string) string {
	switch kind {
	case "disk":
		return "ForesightDiskFull"
	case "memleak":
		return "ForesightMemoryLeak"
	case "monthend":
		return "ForesightMonthEndBreach"
	}
	var b strings.Builder
	b.WriteString("Foresight")
	up := true
	for _, r := range kind {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			up = true
			continue
		}
		if up {
			r = unicode.ToUpper(r)
			up = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// AlertFingerprint is the Alertmanager-style fingerprint of a ticket: the
// 64-bit FNV-1a hash of the ticket fingerprint as 16 lowercase hex digits.
// It is stable across versions, reopenings and restarts.
func AlertFingerprint(ticketFingerprint string) string {
	h := fnv.New64a()
	h.Write([]byte(ticketFingerprint))
	return fmt.Sprintf("%016x", h.Sum64())
}

// labelName turns an entity tag key into a valid Prometheus label name
// ([a-zA-Z_][a-zA-Z0-9_]*).
func labelName(k string) string {
	var b strings.Builder
	for i, r := range k {
		ok := r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (i > 0 && r >= '0' && r <= '9')
		if !ok {
			r = '_'
		}
		b.WriteRune(r)
	}
	if b.Len() == 0 {
		return "_"
	}
	return b.String()
}

func alertmanagerPayload(e Event, target Target, now time.Time) AlertmanagerPayload {
	t := e.Ticket
	alertname := AlertName(t.Kind)
	labels := map[string]string{}
	for k, v := range t.Entity {
		name := labelName(k)
		switch name {
		case "alertname", "severity", "fingerprint", "kind":
			name = "entity_" + name
		}
		labels[name] = v
	}
	labels["alertname"] = alertname
	labels["severity"] = t.Severity
	labels["fingerprint"] = t.Fingerprint
	labels["kind"] = t.Kind

	ann := map[string]string{
		"summary":        t.Title,
		"description":    t.Summary,
		"ticket_id":      t.ID,
		"ticket_state":   t.State,
		"ticket_version": strconv.Itoa(t.Version),
		"event":          e.Type,
	}
	set := func(k, v string) {
		if v != "" {
			ann[k] = v
		}
	}
	set("suggested_action", t.SuggestedAction)
	set("assignment_group", t.AssignmentGroup)
	set("link", t.Link)
	set("resolve_reason", t.ResolveReason)
	for k, p := range map[string]*time.Time{"breach_at": t.BreachAt, "breach_p10": t.BreachP10, "breach_p90": t.BreachP90} {
		if p := utcPtr(p); p != nil {
			ann[k] = p.Format(time.RFC3339)
		}
	}

	status := "firing"
	var endsAt time.Time // zero time while firing, as Alertmanager sends it
	if IsResolving(e) {
		status = "resolved"
		if p := utcPtr(t.ResolvedAt); p != nil {
			endsAt = *p
		} else if !e.At.IsZero() {
			endsAt = e.At.UTC()
		} else {
			endsAt = now
		}
	}
	startsAt := t.OpenedAt.UTC()
	if t.OpenedAt.IsZero() {
		startsAt = e.At.UTC()
	}
	groupLabels := map[string]string{"alertname": alertname, "fingerprint": t.Fingerprint}
	return AlertmanagerPayload{
		Version:           "4",
		GroupKey:          groupKey(groupLabels),
		Status:            status,
		Receiver:          target.Name,
		GroupLabels:       groupLabels,
		CommonLabels:      maps.Clone(labels),
		CommonAnnotations: maps.Clone(ann),
		ExternalURL:       target.ExternalURL,
		Alerts: []AlertmanagerAlert{{
			Status:       status,
			Labels:       labels,
			Annotations:  ann,
			StartsAt:     startsAt,
			EndsAt:       endsAt,
			GeneratorURL: t.Link,
			Fingerprint:  AlertFingerprint(t.Fingerprint),
		}},
	}
}

// groupKey renders group labels the way Alertmanager does for a route
// without matchers: {}:{k1="v1", k2="v2"} with sorted keys.
func groupKey(labels map[string]string) string {
	keys := slices.Sorted(maps.Keys(labels))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + strconv.Quote(labels[k])
	}
	return "{}:{" + strings.Join(parts, ", ") + "}"
}
