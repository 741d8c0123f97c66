package notify

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Message size limits of the chat platforms (bytes of UTF-8 unless noted).
const (
	dingTalkMaxText   = 18000 // the robot accepts 20,000 bytes per message
	weComMaxContent   = 4096  // WeCom rejects markdown content over 4096 bytes
	feishuMaxText     = 20000 // Feishu caps the request body at 30 KB
	slackMaxHeader    = 150   // characters in a header block
	slackMaxSection   = 3000  // characters in a section block's text
	slackMaxFieldText = 2000  // characters in a section field
)

// truncateBytes cuts s to at most n bytes at a rune boundary, marking the cut with "…".
func truncateBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "…"
	cut := n - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}

// truncateRunes cuts s to at most n characters, marking the cut with "…".
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func entityString(m map[string]string) string {
	keys := slices.Sorted(maps.Keys(m))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, ", ")
}

// eventVerb is the short human word for an event type ("opened", …).
func eventVerb(t string) string {
	return strings.TrimPrefix(t, "ticket.")
}

func humanTime(t *time.Time, loc *time.Location) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.In(loc).Format("2006-01-02 15:04 MST")
}

// breachLine is "2026-11-30 14:00 UTC (p10 … – p90 …)" or "" without a breach time.
func breachLine(t TicketView, loc *time.Location) string {
	s := humanTime(t.BreachAt, loc)
	if s == "" {
		return ""
	}
	lo, hi := humanTime(t.BreachP10, loc), humanTime(t.BreachP90, loc)
	if lo != "" && hi != "" {
		s += " (p10 " + lo + " – p90 " + hi + ")"
	}
	return s
}

func severityLabel(e Event) string {
	if IsResolving(e) {
		return "RESOLVED"
	}
	return strings.ToUpper(e.Ticket.Severity)
}

// headline is "[CRITICAL] <title>" or "[RESOLVED] <title>".
func headline(e Event) string {
	title := e.Ticket.Title
	if title == "" {
		title = e.Ticket.Summary
	}
	return "[" + severityLabel(e) + "] " + title
}

// markdownBody renders the ticket as the Markdown subset DingTalk, WeCom
// and Feishu's lark_md share: bold, links, line breaks and headings.
// It has no headline (each format places that itself).
// sep ends each field line ("\n", or "\n\n" for DingTalk, whose renderer
// ignores single line breaks).
func markdownBody(e Event, loc *time.Location, sep string) string {
	t := e.Ticket
	var b strings.Builder
	line := func(label, v string) {
		if v != "" {
			fmt.Fprintf(&b, "**%s:** %s%s", label, v, sep)
		}
	}
	line("Event", eventVerb(e.Type)+" · state "+t.State+" · v"+strconv.Itoa(t.Version))
	line("Severity", t.Severity)
	line("Entity", entityString(t.Entity))
	line("Predicted breach", breachLine(t, loc))
	line("Summary", t.Summary)
	line("Suggested action", t.SuggestedAction)
	line("Assignment group", t.AssignmentGroup)
	line("Resolved", t.ResolveReason)
	line("Ticket", t.ID)
	if t.Link != "" {
		fmt.Fprintf(&b, "[Open forecast](%s)%s", t.Link, sep)
	}
	if t.BodyMarkdown != "" {
		b.WriteString("\n")
		b.WriteString(t.BodyMarkdown)
		b.WriteString("\n")
	}
	return b.String()
}

// DingTalkPayload is a DingTalk custom robot markdown message.
type DingTalkPayload struct {
	MsgType  string           `json:"msgtype"`
	Markdown DingTalkMarkdown `json:"markdown"`
	At       *DingTalkAt      `json:"at,omitempty"`
}

// DingTalkMarkdown is the markdown part of DingTalkPayload.
type DingTalkMarkdown struct {
	Title string `json:"title"`
	Text  string `json:"text"`
}

// DingTalkAt lists the people the robot mentions.
type DingTalkAt struct {
	AtMobiles []string `json:"atMobiles,omitempty"`
	IsAtAll   bool     `json:"isAtAll"`
}

func dingTalkPayload(e Event, target Target) DingTalkPayload {
	text := "### " + headline(e) + "\n\n" + markdownBody(e, target.location(), "\n\n")
	var at *DingTalkAt
	if len(target.AtMobiles) > 0 {
		// A mention only notifies when the number also appears in the text.
		mentions := make([]string, len(target.AtMobiles))
		for i, m := range target.AtMobiles {
			mentions[i] = "@" + m
		}
		at = &DingTalkAt{AtMobiles: slices.Clone(target.AtMobiles)}
		text = truncateBytes(text, dingTalkMaxText-200) + "\n\n" + strings.Join(mentions, " ")
	}
	return DingTalkPayload{
		MsgType:  "markdown",
		Markdown: DingTalkMarkdown{Title: truncateRunes(headline(e), 64), Text: truncateBytes(text, dingTalkMaxText)},
		At:       at,
	}
}

// WeComPayload is a WeCom group robot markdown message.
type WeComPayload struct {
	MsgType  string        `json:"msgtype"`
	Markdown WeComMarkdown `json:"markdown"`
}

// WeComMarkdown is the markdown part of WeComPayload.
type WeComMarkdown struct {
	Content string `json:"content"`
}

func weComPayload(e Event, target Target) WeComPayload {
	color := "warning"
	switch {
	case IsResolving(e):
		color = "info"
	case e.Ticket.Severity == SeverityMinor || e.Ticket.Severity == SeverityInfo:
		color = "comment"
	}
	content := `### <font color="` + color + `">` + headline(e) + "</font>\n" + markdownBody(e, target.location(), "\n")
	return WeComPayload{MsgType: "markdown", Markdown: WeComMarkdown{Content: truncateBytes(content, weComMaxContent)}}
}

// FeishuPayload is a Feishu/Lark custom bot interactive-card message; with
// a secret, Timestamp (Unix seconds, as a string) and Sign are set.
type FeishuPayload struct {
	Timestamp string     `json:"timestamp,omitempty"`
	Sign      string     `json:"sign,omitempty"`
	MsgType   string     `json:"msg_type"`
	Card      FeishuCard `json:"card"`
}

// FeishuCard is the interactive card of FeishuPayload.
type FeishuCard struct {
	Config   map[string]bool `json:"config"`
	Header   FeishuHeader    `json:"header"`
	Elements []any           `json:"elements"`
}

// FeishuHeader is a card header: a plain-text title and a colour template.
type FeishuHeader struct {
	Title    FeishuText `json:"title"`
	Template string     `json:"template"`
}

// FeishuText is a Feishu text object (tag plain_text or lark_md).
type FeishuText struct {
	Tag     string `json:"tag"`
	Content string `json:"content"`
}

func feishuPayload(e Event, target Target, now time.Time) FeishuPayload {
	template := map[string]string{SeverityCritical: "red", SeverityMajor: "orange", SeverityMinor: "yellow"}[e.Ticket.Severity]
	if template == "" {
		template = "blue"
	}
	if IsResolving(e) {
		template = "green"
	}
	elements := []any{
		map[string]any{"tag": "div", "text": FeishuText{Tag: "lark_md", Content: truncateBytes(markdownBody(e, target.location(), "\n"), feishuMaxText)}},
	}
	if e.Ticket.Link != "" {
		elements = append(elements, map[string]any{
			"tag": "action",
			"actions": []any{map[string]any{
				"tag": "button", "type": "primary", "url": e.Ticket.Link,
				"text": FeishuText{Tag: "plain_text", Content: "Open forecast"},
			}},
		})
	}
	p := FeishuPayload{
		MsgType: "interactive",
		Card: FeishuCard{
			Config:   map[string]bool{"wide_screen_mode": true},
			Header:   FeishuHeader{Title: FeishuText{Tag: "plain_text", Content: truncateRunes(headline(e), 100)}, Template: template},
			Elements: elements,
		},
	}
	if target.Secret != "" {
		ts := now.Unix()
		p.Timestamp = strconv.FormatInt(ts, 10)
		p.Sign = FeishuSign(target.Secret, ts)
	}
	return p
}

// SlackPayload is a Slack incoming-webhook message: fallback text, Block
// Kit blocks (header and section) and one attachment coloured by severity
// whose blocks hold the ticket's fields.
type SlackPayload struct {
	Text        string            `json:"text"`
	Blocks      []any             `json:"blocks"`
	Attachments []SlackAttachment `json:"attachments"`
}

// SlackAttachment is the colour-barred attachment of SlackPayload.
type SlackAttachment struct {
	Color    string `json:"color"`
	Fallback string `json:"fallback"`
	Blocks   []any  `json:"blocks"`
}

// SeverityColor is the hex colour of a severity in chat attachments;
// resolving events are green.
func SeverityColor(e Event) string {
	if IsResolving(e) {
		return "#2EB886"
	}
	switch e.Ticket.Severity {
	case SeverityCritical:
		return "#D00000"
	case SeverityMajor:
		return "#FF8C00"
	case SeverityMinor:
		return "#F2C744"
	}
	return "#439FE0"
}

// slackEscape escapes the three characters Slack's mrkdwn reserves.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func slackPayload(e Event, target Target) SlackPayload {
	t := e.Ticket
	loc := target.location()
	head := headline(e)
	mrk := func(s string) map[string]any { return map[string]any{"type": "mrkdwn", "text": s} }

	var fields []any
	add := func(label, v string) {
		if v != "" && len(fields) < 10 { // a section takes at most 10 fields
			fields = append(fields, mrk(truncateRunes("*"+label+"*\n"+slackEscape(v), slackMaxFieldText)))
		}
	}
	add("Severity", t.Severity)
	add("State", t.State)
	add("Entity", entityString(t.Entity))
	add("Predicted breach", breachLine(t, loc))
	add("Assignment group", t.AssignmentGroup)
	add("Ticket", t.ID+" v"+strconv.Itoa(t.Version))
	add("Suggested action", t.SuggestedAction)
	add("Resolved", t.ResolveReason)

	text := "*" + eventVerb(e.Type) + "* · " + slackEscape(t.Summary)
	if t.Link != "" {
		text += "\n<" + t.Link + "|Open forecast>"
	}
	blocks := []any{
		map[string]any{"type": "header", "text": map[string]any{"type": "plain_text", "text": truncateRunes(head, slackMaxHeader)}},
		map[string]any{"type": "section", "text": mrk(truncateRunes(text, slackMaxSection))},
	}
	var attBlocks []any
	if len(fields) > 0 {
		attBlocks = append(attBlocks, map[string]any{"type": "section", "fields": fields})
	}
	attBlocks = append(attBlocks, map[string]any{"type": "context", "elements": []any{mrk("Foresight · " + slackEscape(IdempotencyKey(e)))}})
	return SlackPayload{
		Text:        slackEscape(head),
		Blocks:      blocks,
		Attachments: []SlackAttachment{{Color: SeverityColor(e), Fallback: head, Blocks: attBlocks}},
	}
}
