package notify

import (
	"flag"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// fixedNow is the fixed clock of every encoding test.
var fixedNow = time.Date(2026, 11, 20, 8, 0, 5, 0, time.UTC)

func tp(t time.Time) *time.Time { return &t }

// openedEvent is a critical disk ticket, freshly opened.
func openedEvent() Event {
	return Event{
		Type: EventOpened,
		At:   time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC),
		Ticket: TicketView{
			ID:              "TKT-000042",
			Fingerprint:     "disk|host=db-01,path=/data",
			Kind:            "disk",
			Entity:          map[string]string{"host": "db-01", "path": "/data"},
			State:           "assigned",
			Severity:        SeverityCritical,
			Version:         3,
			Title:           "Disk /data on db-01 full in 20 h",
			Summary:         "disk /data on db-01 full in 0.8 days (0.7–1.0), 97.1% used",
			BodyMarkdown:    "Growth 2.4%/day on the regime since 2026-11-02 (linear, backtest MAPE 3.1%).\n\n| p10 | p50 | p90 |\n|---|---|---|\n| 16 h | 20 h | 24 h |",
			BreachAt:        tp(time.Date(2026, 11, 21, 4, 0, 0, 0, time.UTC)),
			BreachP10:       tp(time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)),
			BreachP90:       tp(time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)),
			Link:            "https://foresight.example.internal/api/v1/series/disk%2Chost%3Ddb-01%2Cpath%3D%2Fdata%23used/forecast?horizon=72",
			SuggestedAction: "Expand the /data volume or purge archived logs & old backups before the breach",
			AssignmentGroup: "dba-oncall",
			OpenedAt:        time.Date(2026, 11, 18, 8, 0, 0, 0, time.UTC),
			UpdatedAt:       time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC),
		},
	}
}

// resolvedEvent is the same ticket, auto-resolved after a cleanup.
func resolvedEvent() Event {
	e := openedEvent()
	e.Type = EventResolved
	e.At = time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)
	e.Ticket.State = "auto_resolved"
	e.Ticket.Version = 4
	e.Ticket.Severity = SeverityMajor
	e.Ticket.UpdatedAt = e.At
	e.Ticket.ResolvedAt = tp(e.At)
	e.Ticket.ResolveReason = "risk cleared for 3 consecutive runs (62.0% used after cleanup)"
	e.Ticket.BreachAt, e.Ticket.BreachP10, e.Ticket.BreachP90 = nil, nil, nil
	return e
}

// testTargets are one target per format, pointed at base.
func testTargets(base string) map[Format]Target {
	return map[Format]Target{
		FormatJSON:         {Name: "sms", Format: FormatJSON, URL: base + "/hooks/json", Secret: "whsec-test", Headers: map[string]string{"Authorization": "Bearer relay-token"}},
		FormatAlertmanager: {Name: "am", Format: FormatAlertmanager, URL: base + "/hooks/alertmanager", Secret: "am-secret", ExternalURL: "https://foresight.example.internal"},
		FormatDingTalk:     {Name: "ding", Format: FormatDingTalk, URL: base + "/robot/send?access_token=tok123", Secret: "SEC000test-secret", AtMobiles: []string{"13800000000"}},
		FormatWeCom:        {Name: "wecom", Format: FormatWeCom, URL: base + "/cgi-bin/webhook/send?key=k-123"},
		FormatFeishu:       {Name: "feishu", Format: FormatFeishu, URL: base + "/open-apis/bot/v2/hook/hook-id", Secret: "feishu-test-secret"},
		FormatSlack:        {Name: "slack", Format: FormatSlack, URL: base + "/services/T000/B000/XXXX"},
	}
}
