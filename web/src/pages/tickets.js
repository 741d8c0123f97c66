// Tickets: the pre-emptive tickets with their state, severity and SLA
// clocks (GET /api/v1/tickets), filtered by state, severity and kind.
import { api } from '../api.js';
import { h, replace } from '../dom.js';
import { fmtRel, fmtTime, label } from '../format.js';
import { problemNotice, sevDot, slaClock } from '../ui.js';

export const OPEN_STATES = ['reported', 'classified', 'assigned', 'in_progress', 'reopened'];
export const ALL_STATES = ['reported', 'classified', 'assigned', 'in_progress', 'verified', 'closed', 'auto_resolved', 'reopened'];

const REFRESH_MS = 30e3;

export async function ticketsPage(ctx) {
  ctx.title('Tickets');
  const st = { state: ctx.query.state ?? 'open', severity: ctx.query.severity || '', kind: ctx.query.kind || '' };
  const stateSel = h('select', { id: 'filter-state', 'aria-label': 'State', onchange: () => { st.state = stateSel.value; refresh(); } },
    h('option', { value: 'open' }, 'Open'), h('option', { value: 'all' }, 'All states'),
    ALL_STATES.map((s) => h('option', { value: s }, label(s))));
  stateSel.value = st.state;
  const sevSel = h('select', { id: 'filter-severity', 'aria-label': 'Severity', onchange: () => { st.severity = sevSel.value; refresh(); } },
    h('option', { value: '' }, 'All severities'), ['critical', 'major', 'minor'].map((s) => h('option', { value: s }, s)));
  sevSel.value = st.severity;
  const kindSel = h('select', { id: 'filter-kind', 'aria-label': 'Kind', onchange: () => { st.kind = kindSel.value; refresh(); } },
    h('option', { value: '' }, 'All kinds'), h('option', { value: 'disk' }, 'Disk'), h('option', { value: 'memleak' }, 'Memory leak'),
    h('option', { value: 'monthend' }, 'Month-end'));
  kindSel.value = st.kind;
  const count = h('span.count', { id: 'tickets-count' });
  const msg = h('div');
  const tbody = h('tbody');
  const table = h('table.data', { id: 'tickets-table' },
    h('thead', null, h('tr', null,
      h('th', null, 'Severity'), h('th', null, 'Ticket'), h('th', null, 'State'), h('th', null, 'Title'), h('th', null, 'Host'),
      h('th', null, 'Predicted breach'), h('th', null, 'Respond by'), h('th', null, 'Resolve by'), h('th', null, 'Group'),
      h('th', null, 'Updated'))),
    tbody);
  ctx.view.append(
    h('div.page-head', null, h('h1', null, 'Tickets'), h('span.sub', null, 'pre-emptive tickets opened by the ticket rules from the predictions')),
    h('div.filters', null, stateSel, sevSel, kindSel, count),
    msg,
    h('section.panel', null, h('div.body.flush.table-wrap', null, table)));

  function query() {
    const q = new URLSearchParams();
    const states = st.state === 'open' ? OPEN_STATES : st.state === 'all' ? [] : [st.state];
    for (const s of states) q.append('state', s);
    if (st.severity) q.append('severity', st.severity);
    if (st.kind) q.append('kind', st.kind);
    q.set('limit', '500');
    return q.toString();
  }

  function row(t) {
    const href = '#/tickets/' + t.row_id;
    const open = OPEN_STATES.includes(t.state);
    const breach = t.predicted_breach?.p50;
    return h('tr.clickable', {
      class: open ? 'sev-' + t.severity : null,
      dataset: { rowId: t.row_id, state: t.state, severity: t.severity },
      onclick: (ev) => {
        if (!ev.target.closest('a')) location.hash = href;
      },
    },
    h('td', null, sevDot(t.severity || 'info', t.severity || '–')),
    h('td.nowrap', null, h('a', { href }, t.id)),
    h('td', null, h('span.badge.state', null, label(t.state))),
    h('td.summary', null, t.title),
    h('td.nowrap', null, t.entity?.host || '–'),
    h('td.nowrap', { title: breach ? fmtTime(breach) : null }, breach ? fmtRel(breach) : '–'),
    h('td.nowrap', { title: fmtTime(t.sla?.respond_by) }, slaClock(t.sla?.respond_by, t.sla?.respond_breached, t.responded_at || t.resolved_at || t.closed_at)),
    h('td.nowrap', { title: fmtTime(t.sla?.resolve_by) }, slaClock(t.sla?.resolve_by, t.sla?.resolve_breached, t.resolved_at || t.closed_at)),
    h('td.nowrap', null, t.assignment_group || '–'),
    h('td.nowrap', { title: fmtTime(t.updated_at) }, fmtRel(t.updated_at)));
  }

  async function reload() {
    ctx.setQuery({ state: st.state === 'open' ? '' : st.state, severity: st.severity, kind: st.kind });
    const r = await api('/api/v1/tickets?' + query(), { signal: ctx.signal });
    const list = r.data.tickets || [];
    table.dataset.count = String(list.length);
    replace(tbody, list.length ? list.map(row) : h('tr', null, h('td.empty', { colspan: 10 }, 'No ticket matches.')));
    count.textContent = `${list.length} ticket${list.length === 1 ? '' : 's'}`;
    msg.replaceChildren();
  }

  function refresh() {
    return reload().catch((e) => {
      if (e.name !== 'AbortError' && e.status !== 401) replace(msg, problemNotice(e, 'Loading the tickets failed'));
    });
  }

  await reload();
  ctx.every(REFRESH_MS, refresh);
}
