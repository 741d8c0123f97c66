// Fleet risk overview (the landing page): every prediction of the latest
// runs, most urgent first, as the API sorts them; filters by kind, host
// and text; refreshed every 30 s with If-None-Match (304 when no job
// finished meanwhile).
import { ApiError, api } from '../api.js';
import { h, replace, tile } from '../dom.js';
import { fmtDaysNum, fmtSpan, fmtTime, label, ms, severity, what } from '../format.js';
import { confidenceBar, notice, problemNotice, sevDot } from '../ui.js';
import { OPEN_STATES } from './tickets.js';

const REFRESH_MS = 30e3;
const KINDS = [['', 'All kinds'], ['disk', 'Disk'], ['memleak', 'Memory leak'], ['monthend', 'Month-end']];

export async function riskPage(ctx) {
  ctx.title('Risk');
  const st = {
    kind: ctx.query.kind || '',
    host: ctx.query.host || '',
    text: ctx.query.q || '',
    atRisk: ctx.query.at_risk === '1',
  };
  let data = null;
  let etag = null;
  let tickets = new Map(); // prediction id → open ticket
  let fetchedAt = 0;
  let refreshError = null;

  const banner = h('div', { id: 'risk-banner' });
  const tiles = h('div.tiles', { id: 'risk-tiles' });
  const kindSel = h('select', { id: 'filter-kind', 'aria-label': 'Kind', onchange: () => { st.kind = kindSel.value; update(); } },
    KINDS.map(([v, t]) => h('option', { value: v }, t)));
  kindSel.value = st.kind;
  const hostSel = h('select', { id: 'filter-host', 'aria-label': 'Host', onchange: () => { st.host = hostSel.value; update(); } });
  const search = h('input', {
    id: 'filter-text', type: 'search', placeholder: 'Search: host, path, service, status…', value: st.text,
    oninput: () => { st.text = search.value; update(); },
  });
  const atRisk = h('input', { type: 'checkbox', id: 'filter-at-risk', onchange: () => { st.atRisk = atRisk.checked; update(); } });
  atRisk.checked = st.atRisk;
  const count = h('span.count', { id: 'risk-count' });
  const refreshBtn = h('button.ghost', {
    id: 'risk-refresh', title: 'Ask the API now (answers 304 while no job finished)',
    onclick: async () => {
      refreshBtn.disabled = true;
      try {
        await refresh();
      } catch (e) {
        if (!ctx.signal.aborted) replace(banner, problemNotice(e, 'Refresh failed'));
      } finally {
        refreshBtn.disabled = false;
      }
    },
  }, 'Refresh');
  const tbody = h('tbody');
  const table = h('table.data', { id: 'risk-table' },
    h('thead', null, h('tr', null,
      h('th.tight', null, 'Severity'), h('th.tight.only-desk', null, 'Kind'), h('th.tight', null, 'Host'), h('th.only-desk', null, 'What'),
      h('th', null, 'Prediction'), h('th.num', { title: 'Median time to the predicted breach' }, 'Breach in (d)'),
      h('th.num', { title: 'p10–p90 window of the breach, in days from the computation' }, 'p10–p90 (d)'),
      h('th.tight', null, 'Confidence'), h('th.tight.only-desk', null, 'Status'), h('th.tight', null, 'Ticket'))),
    tbody);

  ctx.view.append(
    h('div.page-head', null, h('h1', null, 'Fleet risk'), h('span.sub', { id: 'risk-computed' })),
    banner,
    tiles,
    h('div.filters', null, kindSel, hostSel, search, h('label.check', null, atRisk, 'At risk only'), count, refreshBtn),
    h('section.panel', null, h('div.body.flush.table-wrap', null, table)),
  );

  async function load() {
    const [r, t] = await Promise.all([
      api('/api/v1/predictions?detail=false&limit=10000', { etag, signal: ctx.signal }),
      // The open tickets, to show which prediction has one (and its
      // severity, which follows the configured ticket policy).
      api('/api/v1/tickets?limit=1000&' + OPEN_STATES.map((s) => 'state=' + s).join('&'), { signal: ctx.signal })
        .catch((e) => (e.name === 'AbortError' || e.status === 401 ? Promise.reject(e) : null)),
    ]);
    if (r.status !== 304) {
      data = r.data;
      etag = r.etag;
      fetchedAt = Date.now();
    }
    table.dataset.lastStatus = String(r.status);
    if (t) tickets = new Map((t.data.tickets || []).map((x) => [x.prediction_id, x]));
    refreshError = null;
  }

  // refresh asks again (If-None-Match: 304 while no job finished). Until
  // the first answer, a 503 (first run in progress) or 429 is shown and
  // retried.
  async function refresh() {
    try {
      await load();
    } catch (e) {
      if (e.name === 'AbortError' || e.status === 401) return;
      if (!(e instanceof ApiError) || ![429, 500, 502, 503, 504, 0].includes(e.status)) {
        if (!data) throw e;
      }
      refreshError = e;
      if (!data) {
        replace(banner, problemNotice(e, `Predictions unavailable, retrying every ${REFRESH_MS / 1000} s`));
        return;
      }
    }
    if (data && !ctx.signal.aborted) update();
  }

  function age() {
    return data ? data.age_seconds * 1000 + (Date.now() - fetchedAt) : 0;
  }

  function renderBanner() {
    const items = [];
    if (refreshError) items.push(problemNotice(refreshError, 'Refresh failed, showing the last answer'));
    if (data.stale) {
      const jobs = (data.jobs || []).filter((j) => j.stale).map((j) => j.job + (j.last_error ? ` (last run failed: ${j.last_error})` : ''));
      items.push(notice('warn', h('span.title', { id: 'stale-banner' }, 'Stale predictions:'),
        `computed ${fmtSpan(age())} ago (${fmtTime(data.computed_at)})`,
        jobs.length ? `; stale jobs: ${jobs.join(', ')}` : '', '. ',
        h('a', { href: '#/jobs' }, 'See the jobs')));
    }
    for (const e of data.errors || []) items.push(notice('warn', h('span.title', null, 'Source failed:'), e));
    replace(banner, items);
  }

  function renderTiles(preds) {
    const counts = { critical: 0, major: 0, minor: 0, watch: 0 };
    let atRiskN = 0;
    for (const p of preds) {
      const s = sevOf(p);
      if (p.at_risk) atRiskN++;
      if (s in counts) counts[s]++;
    }
    const soonest = preds.find((p) => p.at_risk && p.breach_at);
    replace(tiles,
      tile('At risk', String(atRiskN), `of ${data.total} predictions`, atRiskN ? 'sev-major' : 'sev-ok'),
      tile('Critical', String(counts.critical), 'by ticket, else < 1 d', counts.critical ? 'sev-critical' : null),
      tile('Major', String(counts.major), 'by ticket, else < 3 d', counts.major ? 'sev-major' : null),
      tile('Minor', String(counts.minor), 'by ticket, else < 7 d', counts.minor ? 'sev-minor' : null),
      tile('Open tickets', String(tickets.size), 'pre-emptive tickets'),
      tile('Next breach', soonest ? `${fmtDaysNum(ms(soonest.breach_at) - ms(data.computed_at))} d` : '–',
        soonest ? soonest.summary : 'nothing predicted'),
      tile('Computed', `${fmtSpan(age())} ago`, fmtTime(data.computed_at), data.stale ? 'sev-major' : null));
  }

  function hosts() {
    const set = new Set();
    for (const p of data.predictions) if (p.entity?.host) set.add(p.entity.host);
    return [...set].sort();
  }

  function matches(p) {
    // The wall display shows what needs attention.
    if (ctx.wall && !p.at_risk) return false;
    if (st.kind && p.kind !== st.kind) return false;
    if (st.host && p.entity?.host !== st.host) return false;
    if (st.atRisk && !p.at_risk) return false;
    if (st.text) {
      const hay = [p.summary, p.id, p.status, p.kind, ...Object.values(p.entity || {})].join(' ').toLowerCase();
      for (const word of st.text.toLowerCase().split(/\s+/).filter(Boolean)) if (!hay.includes(word)) return false;
    }
    return true;
  }

  function sevOf(p) {
    return tickets.get(p.id)?.severity || severity(p, data.computed_at);
  }

  function row(p) {
    const sev = sevOf(p);
    const tk = tickets.get(p.id);
    const at = ms(data.computed_at);
    const b = ms(p.breach_at);
    const lo = ms(p.breach_p10);
    const hi = ms(p.breach_p90);
    const href = '#/prediction/' + encodeURIComponent(p.id);
    const breachIn = b == null ? '–' : b - at <= 0 ? 'now' : fmtDaysNum(b - at);
    const window = b == null ? '–' : `${lo == null ? '?' : fmtDaysNum(lo - at)}–${hi == null ? '?' : fmtDaysNum(hi - at)}`;
    return h('tr.clickable', {
      class: 'sev-' + sev,
      dataset: { id: p.id, kind: p.kind, severity: sev, atRisk: p.at_risk ? '1' : '0' },
      onclick: (ev) => {
        if (ev.target.closest('a')) return;
        location.hash = href;
      },
    },
    h('td', null, sevDot(sev)),
    h('td.only-desk', null, label(p.kind)),
    h('td.nowrap', null, p.entity?.host || '–'),
    h('td.only-desk', null, what(p.entity)),
    h('td.summary', null, h('a', { href }, p.summary || p.id), p.error ? h('div.muted', null, p.error) : null),
    h('td.num', { title: p.breach_at ? 'median: ' + fmtTime(p.breach_at) : null }, breachIn),
    h('td.num', { title: lo || hi ? `p10 ${fmtTime(p.breach_p10)} – p90 ${fmtTime(p.breach_p90)}` : null }, window),
    h('td', null, confidenceBar(p.confidence)),
    h('td.only-desk', null, label(p.status)),
    h('td.nowrap', null, tk ? h('a.badge.warn', { href: '#/tickets/' + tk.row_id, title: `${tk.id}: ${tk.title}` }, label(tk.state)) : ''));
  }

  function update() {
    ctx.setQuery({ kind: st.kind, host: st.host, q: st.text, at_risk: st.atRisk ? '1' : '' });
    const hs = hosts();
    if (hostSel.options.length !== hs.length + 1) {
      replace(hostSel, h('option', { value: '' }, 'All hosts'), hs.map((x) => h('option', { value: x }, x)));
      hostSel.value = st.host;
    }
    const shown = data.predictions.filter(matches);
    table.dataset.total = String(data.total);
    table.dataset.shown = String(shown.length);
    table.dataset.computedAt = data.computed_at;
    const none = ctx.wall ? `Nothing at risk: all ${data.total} predictions are clear.` : 'No prediction matches.';
    replace(tbody, shown.length ? shown.map(row) : h('tr', null, h('td.empty', { colspan: 10 }, none)));
    count.textContent = `${shown.length} of ${data.total} predictions`;
    document.getElementById('risk-computed').textContent =
      `computed ${fmtTime(data.computed_at)} · refreshes every ${REFRESH_MS / 1000} s`;
    renderBanner();
    renderTiles(data.predictions);
  }

  await refresh();
  ctx.every(REFRESH_MS, () => refresh().catch((e) => {
    if (!ctx.signal.aborted) replace(banner, problemNotice(e, 'Refresh failed'));
  }));
  ctx.every(5e3, () => {
    if (!data) return;
    // keep the age current between refreshes
    const tilesAge = tiles.lastChild?.querySelector('.value');
    if (tilesAge) tilesAge.textContent = `${fmtSpan(age())} ago`;
  });
}
