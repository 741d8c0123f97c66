// Shared pieces of the pages: problem notices, severity dots, bars.
import { h } from './dom.js';
import { SEVERITY_LABEL, label } from './format.js';

// problemNotice shows an RFC 7807 problem (or any error) the way operators
// need it: what failed, the server's detail, the request id to grep for.
export function problemNotice(err, context) {
  const status = err?.status;
  let title = err?.title || 'Error';
  let hint = '';
  if (status === 403) hint = 'Your role does not allow this.';
  else if (status === 429) hint = `Rate limited${err.retryAfter ? `: retry in ${err.retryAfter} s` : ''}.`;
  else if (status === 503) hint = `Unavailable${err.retryAfter ? `; retry in ${err.retryAfter} s` : ''}.`;
  if (status) title = `${title} (${status})`;
  return h('div.notice.problem', { role: 'alert', dataset: { status: status ?? '' } },
    context ? h('span.title', null, context + ':') : null,
    h('span.title', null, title),
    h('span.detail', null, err?.detail || err?.message || String(err)),
    hint ? h('span', null, ' ' + hint) : null,
    err?.requestId ? h('span.rid', null, 'request ' + err.requestId) : null);
}

export function notice(kind, ...children) {
  return h('div.notice', { class: kind, role: kind === 'ok' ? 'status' : 'alert' }, children);
}

export function sevDot(sev, text) {
  return h('span.sev', { class: sev, dataset: { severity: sev } }, text ?? SEVERITY_LABEL[sev] ?? label(sev));
}

export function confidenceBar(c) {
  if (c == null || !Number.isFinite(c)) return '–';
  const pct = Math.round(c * 100);
  return h('span.nowrap', null, h('span.bar', null, h('span', { style: { width: pct + '%' } })), pct + '%');
}

export function tags(entity) {
  return Object.entries(entity || {}).map(([k, v]) => h('span.tag', null, `${k}=${v}`));
}

// clock shows an SLA deadline: time left, met, or breached in red.
export function slaClock(by, breached, doneAt) {
  const left = Date.parse(by) - Date.now();
  if (doneAt) {
    return breached
      ? h('span.bad-text', { dataset: { breached: 'true' } }, 'breached')
      : h('span.good-text', null, 'met');
  }
  if (breached || left < 0) {
    return h('span.bad-text', { dataset: { breached: 'true' } }, `breached ${fmt(-left)} ago`);
  }
  return h('span', { class: left < 3600e3 ? 'warn-text' : null }, `${fmt(left)} left`);
}

function fmt(span) {
  let s = Math.max(0, span) / 1000;
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const hh = Math.floor(s / 3600);
  s -= hh * 3600;
  const m = Math.floor(s / 60);
  if (d > 0) return `${d}d ${hh}h`;
  if (hh > 0) return `${hh}h ${m}m`;
  return `${m}m`;
}
