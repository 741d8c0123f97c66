// Package notify turns ticket events into webhook deliveries: one encoder
// per payload format, their signatures, routing of events to targets by
// severity, and one delivery attempt with the answer classified as success,
// retryable or permanent failure.
//
// The durable outbox and the retry loop live elsewhere (a River worker);
// this package gives that worker the pieces it calls on every attempt:
//
//	req, err := notify.Encode(target.Format, event, target, time.Now())
//	if err != nil { return river.JobCancel(err) }
//	res := notify.Deliver(ctx, client, req)
//	if err := res.Error(); err != nil {
//		if notify.IsPermanent(err) || notify.Expired(job.CreatedAt, time.Now(), maxAge) {
//			return river.JobCancel(err) // dead letter
//		}
//		return err // River retries; NextRetry may use notify.RetryDelay
//	}
//
// Encode at every attempt rather than once at enqueue time: DingTalk and
// Feishu reject signatures whose timestamp is more than an hour old, and
// the generic signature's timestamp lets receivers refuse replays.
//
// # Headers
//
// Every format sends Content-Type: application/json; charset=utf-8,
// User-Agent: Foresight-Webhook/1, X-Foresight-Event (the event type) and
// Idempotency-Key (the ticket id, ":" and the ticket version — the same on
// every retry of one change; receivers should drop a key they have already
// processed). The target's own headers (e.g. Authorization) are added.
//
// # Generic JSON format ("json"), schema_version 1
//
//	{
//	  "schema_version": 1,                  // bumped only for incompatible changes
//	  "event": "ticket.opened",             // ticket.opened | updated | escalated | resolved | reopened | transitioned | closed
//	  "event_at": "2026-11-20T08:00:00Z",   // when the change happened
//	  "ticket": {
//	    "id": "TKT-000042",
//	    "fingerprint": "disk|host=db-01,path=/data",  // (risk kind, entity); one open ticket per fingerprint
//	    "kind": "disk",                     // disk | memleak | monthend
//	    "entity": {"host": "db-01", "path": "/data"},
//	    "state": "assigned",                // lifecycle state after the change
//	    "severity": "critical",             // info | minor | major | critical
//	    "version": 3,                       // +1 on every change of the ticket
//	    "title": "…", "summary": "…", "body_markdown": "…",
//	    "breach_at": "…", "breach_p10": "…", "breach_p90": "…",  // RFC 3339 UTC or null
//	    "link": "…", "suggested_action": "…", "assignment_group": "…",
//	    "opened_at": "…", "updated_at": "…",
//	    "resolved_at": null, "resolve_reason": ""
//	  },
//	  "version": 3,                         // = ticket.version
//	  "idempotency_key": "TKT-000042:3",    // = Idempotency-Key header
//	  "sent_at": "2026-11-20T08:00:05Z"     // this attempt's send time
//	}
//
// Every key is always present. Times are RFC 3339 in UTC; absent times are
// null. New keys may be added within schema_version 1; receivers must
// ignore keys they do not know.
//
// Signature: X-Foresight-Timestamp is the send time in Unix seconds and
//
//	X-Foresight-Signature: sha256=<lowercase hex of HMAC-SHA256(key = target secret, message = timestamp + "." + raw body)>
//
// A receiver recomputes it over the raw body bytes (before any JSON
// parsing), compares in constant time and rejects timestamps more than a
// few minutes from its clock (Verify does all three). The alertmanager
// format carries the same two headers when its target has a secret.
//
// # Alertmanager format ("alertmanager")
//
// The body Alertmanager's webhook receiver sends (version "4"), one alert
// per ticket: status "resolved" for ticket.resolved and ticket.closed,
// "firing" otherwise; labels alertname (ForesightDiskFull,
// ForesightMemoryLeak, ForesightMonthEndBreach), severity, kind,
// fingerprint and the entity tags; annotations summary (title),
// description (summary), suggested_action, breach_at/p10/p90,
// ticket_id, ticket_state, ticket_version, event, assignment_group, link;
// startsAt = opened_at; endsAt = "0001-01-01T00:00:00Z" while firing;
// fingerprint = AlertFingerprint(ticket fingerprint); groupKey groups by
// alertname and fingerprint.
//
// # Chat robots
//
// DingTalk ("dingtalk"): msgtype markdown; with a secret the URL gets
// &timestamp=<ms>&sign=<urlencode(base64(HMAC-SHA256(key = secret,
// message = timestamp_ms + "\n" + secret)))>. WeCom ("wecom"): msgtype
// markdown, unsigned. Feishu/Lark ("feishu"): msg_type interactive card;
// with a secret the body gets "timestamp" (seconds, string) and "sign" =
// base64(HMAC-SHA256(key = timestamp + "\n" + secret, message = empty)).
// Slack ("slack"): text, header and section blocks, and an attachment
// coloured by severity holding the fields.
package notify
