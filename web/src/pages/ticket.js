// One ticket: its lifecycle with the moves an operator may make
// (POST /api/v1/tickets/{row_id}/transition), SLA clocks, content, work
// notes (GET/POST …/comments) and audit trail (…/history).
import { api, can } from '../api.js';
import { h, kv, panel, replace } from '../dom.js';
import { fmtDays, fmtRel, fmtTime, label, ms } from '../format.js';
import { notice, problemNotice, sevDot, slaClock, tags } from '../ui.js';

// The lifecycle table of engine/ticket (ticket.Allowed), without the move
// to auto_resolved, which only the engine makes.
const NEXT = {
  reported: ['classified', 'assigned'],
  classified: ['assigned'],
  assigned: ['classified', 'in_progress'],
  in_progress: ['assigned', 'verified'],
  verified: ['reopened', 'closed'],
  auto_resolved: ['reopened', 'closed'],
  reopened: ['classified', 'assigned', 'in_progress'],
  closed: [],
};
const MAIN = ['reported', 'classified', 'assigned', 'in_progress', 'verified', 'closed'];
const STATE_LABEL = { in_progress: 'in progress', verified: 'resolved · verified', auto_resolved: 'auto-resolved' };
const stateLabel = (s) => STATE_LABEL[s] || label(s);

function storedActor() {
  try {
    return localStorage.getItem('foresight.actor') || '';
  } catch {
    return '';
  }
}

export async function ticketPage(ctx) {
  const rowId = ctx.params[0];
  const base = '/api/v1/tickets/' + rowId;
  const flash = h('div', { id: 'ticket-flash' });
  // With auth off the API cannot name who acts: the history needs a name.
  const needActor = !ctx.user?.auth_enabled;
  const actorInput = needActor
    ? h('input', { type: 'text', id: 'actor', placeholder: 'Your name (for the history)', value: storedActor() })
    : null;
  const actor = () => {
    if (!actorInput) return undefined;
    const v = actorInput.value.trim();
    try {
      localStorage.setItem('foresight.actor', v);
    } catch {
      // ignore
    }
    return v;
  };
  const content = h('div');
  ctx.view.append(
    h('div.crumbs', null, h('a', { href: '#/tickets' }, 'Tickets'), ' › ', '#' + rowId),
    flash,
    content);

  async function load() {
    const [t, hist, com] = await Promise.all([
      api(base, { signal: ctx.signal }),
      api(base + '/history', { signal: ctx.signal }),
      api(base + '/comments', { signal: ctx.signal }),
    ]);
    render(t.data, hist.data.history || [], com.data.comments || []);
  }

  async function transition(to, reason, buttons) {
    buttons.forEach((b) => { b.disabled = true; });
    flash.replaceChildren();
    try {
      const r = await api(base + '/transition', { method: 'POST', body: { to, reason: reason || undefined, actor: actor() }, signal: ctx.signal });
      await load();
      replace(flash, notice('ok', `Moved to ${stateLabel(r.data.state)} (version ${r.data.version}).`));
    } catch (e) {
      if (e.name === 'AbortError' || e.status === 401) return;
      buttons.forEach((b) => { b.disabled = false; });
      replace(flash, problemNotice(e, `Cannot move to ${stateLabel(to)}`));
    }
  }

  async function comment(text, button) {
    button.disabled = true;
    flash.replaceChildren();
    try {
      await api(base + '/comments', { method: 'POST', body: { text, actor: actor() }, signal: ctx.signal });
      await load();
      replace(flash, notice('ok', 'Work note added.'));
    } catch (e) {
      if (e.name === 'AbortError' || e.status === 401) return;
      button.disabled = false;
      replace(flash, problemNotice(e, 'Cannot add the note'));
    }
  }

  function lifecycle(t, hist) {
    const visited = new Set(hist.map((a) => a.to).concat(hist.map((a) => a.from)).filter(Boolean));
    const steps = [];
    MAIN.forEach((s, i) => {
      if (i) steps.push(h('span.arrow', null, '→'));
      steps.push(h('span.step', { class: s === t.state ? 'current' : visited.has(s) ? 'done' : null, dataset: { state: s } }, stateLabel(s)));
    });
    if (!MAIN.includes(t.state)) {
      steps.push(h('span.arrow', null, '·'), h('span.step.current', { dataset: { state: t.state } }, stateLabel(t.state)));
    }
    return h('div.lifecycle', { id: 'lifecycle', dataset: { state: t.state } }, steps);
  }

  function actions(t) {
    if (!can('operator')) {
      return h('div.muted', { id: 'readonly-note' }, 'Your role (', ctx.user?.role || '?', ') may read tickets; operators move them.');
    }
    const next = NEXT[t.state] || [];
    if (!next.length) return h('div.muted', null, 'Closed is final: a recurrence within the reopen window reopens the ticket by itself.');
    const reason = h('input', { type: 'text', id: 'transition-reason', placeholder: 'Reason (optional, kept in the history)' });
    const buttons = [];
    for (const to of next) {
      buttons.push(h('button', {
        class: to === next[0] ? 'primary' : null,
        dataset: { to },
        id: 'to-' + to,
        onclick: () => transition(to, reason.value.trim(), buttons),
      }, stateLabel(to)));
    }
    return h('div.actions', { id: 'transitions' }, h('span.muted', null, 'Move to'), buttons, reason, actorInput);
  }

  function render(t, hist, comments) {
    ctx.title(`${t.id} ${t.title}`);
    const b = t.predicted_breach || {};
    const opened = ms(t.opened_at);
    const noteBox = can('operator') ? h('textarea', { id: 'comment-text', placeholder: 'Work note: what was done, what is planned…' }) : null;
    const noteBtn = can('operator') ? h('button', {
      id: 'comment-add',
      onclick: () => {
        const text = noteBox.value.trim();
        if (text) comment(text, noteBtn);
      },
    }, 'Add note') : null;
    replace(content,
      h('div.page-head', { id: 'ticket-head', dataset: { rowId: t.row_id, state: t.state, version: t.version } },
        sevDot(t.severity || 'info', t.severity || '–'),
        h('h1', null, `${t.id} · ${t.title}`),
        h('span.badge.state', { id: 'ticket-state' }, stateLabel(t.state)),
        h('span.muted', null, `version ${t.version}`)),
      panel('Lifecycle', null, lifecycle(t, hist), actions(t)),
      h('div.grid2', null,
        panel('SLA', `${t.severity} targets, started ${fmtTime(t.sla_started_at)}`, kv([
          ['Respond by', h('span', { id: 'sla-respond' }, fmtTime(t.sla?.respond_by), ' · ',
            slaClock(t.sla?.respond_by, t.sla?.respond_breached, t.responded_at || t.resolved_at || t.closed_at))],
          ['Resolve by', h('span', { id: 'sla-resolve' }, fmtTime(t.sla?.resolve_by), ' · ',
            slaClock(t.sla?.resolve_by, t.sla?.resolve_breached, t.resolved_at || t.closed_at))],
          ['Responded', t.responded_at ? fmtTime(t.responded_at) : 'not yet'],
          ['Resolved', t.resolved_at ? `${fmtTime(t.resolved_at)}${t.resolve_reason ? ' — ' + t.resolve_reason : ''}` : 'not yet'],
          ['Closed', t.closed_at ? fmtTime(t.closed_at) : null],
          ['Reopened', t.reopens ? `${t.reopens} time(s)` : null],
          ['Opened', `${fmtTime(t.opened_at)} (${fmtRel(opened)})`],
          ['Updated', `${fmtTime(t.updated_at)} (${fmtRel(t.updated_at)})`],
        ])),
        panel('Prediction', null, kv([
          ['Summary', t.summary],
          ['Predicted breach', ms(b.p50) ? `${fmtTime(b.p50)} (${fmtRel(b.p50)}), p10–p90 ${fmtTime(b.p10)} – ${fmtTime(b.p90)}` : '–'],
          ['Window', ms(b.p10) && ms(b.p90) ? fmtDays(ms(b.p90) - ms(b.p10)) + ' wide' : null],
          ['Confidence', t.confidence != null ? `${Math.round(t.confidence * 100)}%` : null],
          ['Current value', t.current_value],
          ['Trend', t.trend],
          ['Entity', tags(t.entity)],
          ['Evidence', t.prediction_id ? h('a', { href: '#/prediction/' + encodeURIComponent(t.prediction_id), id: 'prediction-link' }, 'open the prediction and its charts') : null],
        ]))),
      h('div.grid2', null,
        panel('What to do', t.assignment_group ? `assigned to ${t.assignment_group}` : null, kv([
          ['Suggested action', t.suggested_action],
          ['Highlights', t.highlights?.length ? h('ul', { style: { margin: 0, paddingLeft: '18px' } }, t.highlights.map((x) => h('li', null, x))) : null],
          ['Fingerprint', h('code', null, t.fingerprint)],
        ])),
        panel('Work notes', `${comments.length}`, h('div.comments', { id: 'comments', dataset: { count: comments.length } },
          comments.length ? comments.map((c) => h('div.comment', null,
            h('div.meta', null, `${c.actor} · ${fmtTime(c.at)}`), h('div.text', null, c.text))) : h('div.muted', null, 'No work note yet.')),
        noteBox ? h('div', { style: { marginTop: '8px' } }, noteBox, h('div', { style: { marginTop: '6px' } }, noteBtn)) : null)),
      panel('History', `${hist.length} ${hist.length === 1 ? 'entry' : 'entries'}, oldest first`, h('div.table-wrap', null, h('table.data', { id: 'history-table' },
        h('thead', null, h('tr', null, h('th.num', null, 'v'), h('th', null, 'When'), h('th', null, 'Actor'), h('th', null, 'Action'),
          h('th', null, 'Change'), h('th', null, 'Reason'), h('th', null, 'Details'))),
        h('tbody', null, hist.map((a) => h('tr', null,
          h('td.num', null, String(a.version)), h('td.nowrap', null, fmtTime(a.at)), h('td.nowrap', null, a.actor), h('td', null, label(a.action)),
          h('td.nowrap', null, a.from && a.from !== a.to ? `${stateLabel(a.from)} → ${stateLabel(a.to)}` : stateLabel(a.to)),
          h('td', null, a.reason || ''),
          h('td.mono', null, a.details ? Object.entries(a.details).map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`).join(', ') : ''))))))),
    );
  }

  await load();
}
