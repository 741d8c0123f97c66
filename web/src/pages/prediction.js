// One prediction: its evidence (GET /api/v1/predictions/{id}), the
// history of its series (GET /api/v1/series/{id}/data) drawn with what the
// predictor found, and a forecast. Disk here; memory leaks in memory.js,
// month-end closes in monthend.js.
import { api, enc } from '../api.js';
import { BYTE_INCRS, align, cssVar, lineChart } from '../charts.js';
import { h, kv, panel, tile } from '../dom.js';
import {
  DAY, fmtBytes, fmtDays, fmtDaysNum, fmtNum, fmtP, fmtPct, fmtTime, isoUTC, label, ms, severity, what,
} from '../format.js';
import { confidenceBar, sevDot, tags } from '../ui.js';
import { forecastPanel } from './forecast.js';
import { OPEN_STATES } from './tickets.js';
import { memoryView } from './memory.js';
import { monthEndView } from './monthend.js';

export async function predictionPage(ctx) {
  const id = ctx.params[0];
  const url = '/api/v1/predictions/' + enc(id);
  const r = await api(url, { signal: ctx.signal });
  const p = r.data.prediction;
  const computedAt = r.data.computed_at;
  const tk = await openTicket(ctx, p);
  // An open ticket's severity follows the configured policy; without one,
  // the time to breach grades the prediction.
  const sev = tk?.severity || severity(p, computedAt);
  ctx.title(p.summary || id);
  ctx.view.dataset.kind = p.kind;
  ctx.view.append(
    h('div.crumbs', null, h('a', { href: '#/risk' }, 'Risk'), ' › ',
      h('a', { href: '#/risk?kind=' + p.kind }, kindName(p.kind)), ' › ', p.entity?.host || ''),
    h('div.page-head', null,
      sevDot(sev),
      h('h1', { id: 'prediction-summary' }, p.summary || id),
      h('span.badge.state', null, label(p.status)),
      tk ? h('a.badge.warn', { href: '#/tickets/' + tk.row_id, id: 'prediction-ticket', title: tk.title }, `ticket ${tk.id} · ${label(tk.state)}`) : null),
    h('div', { style: { marginBottom: '10px' } }, tags(p.entity),
      h('span.muted', null, ` computed ${fmtTime(computedAt)}`)),
  );
  if (p.error) ctx.view.append(h('div.notice.problem', null, h('span.title', null, 'Predictor failed:'), p.error));
  const body = h('div', { id: 'prediction-body' });
  ctx.view.append(body);
  const detail = p.detail || {};
  if (p.kind === 'disk') await diskView(ctx, p, detail, body, sev);
  else if (p.kind === 'memleak') await memoryView(ctx, p, detail, body, sev);
  else if (p.kind === 'monthend') await monthEndView(ctx, p, detail, body, sev);
  ctx.view.append(h('section.panel', null, h('details.raw', null,
    h('summary', null, 'Evidence as the API returns it (JSON)'),
    h('pre', null, JSON.stringify(p, null, 2)))));
}

// openTicket finds the open ticket of a prediction (null when none, or
// when tickets are not enabled on this server).
async function openTicket(ctx, p) {
  const q = new URLSearchParams({ kind: p.kind, limit: '200' });
  if (p.entity?.host) q.append('tag', 'host:' + p.entity.host);
  for (const s of OPEN_STATES) q.append('state', s);
  try {
    const r = await api('/api/v1/tickets?' + q, { signal: ctx.signal });
    return (r.data.tickets || []).find((t) => t.prediction_id === p.id) || null;
  } catch (e) {
    if (e.name === 'AbortError' || e.status === 401) throw e;
    return null;
  }
}

export function kindName(k) {
  return { disk: 'Disk', memleak: 'Memory leak', monthend: 'Month-end' }[k] || k;
}

export function dataUrl(id, start, end, step, agg) {
  return `/api/v1/series/${enc(id)}/data?start=${isoUTC(start)}&end=${isoUTC(end)}&step=${step}&agg=${agg}`;
}

// etaText: "2026-12-14 05:24 (in 18.1 days, 18.0–18.1)".
export function etaText(eta, now) {
  const p50 = ms(eta?.p50);
  if (p50 == null) return null;
  const lo = ms(eta.p10);
  const hi = ms(eta.p90);
  return `${fmtTime(p50)} (in ${fmtDays(p50 - now)}, ${lo == null ? '?' : fmtDaysNum(lo - now)}–${hi == null ? '?' : fmtDaysNum(hi - now)} d)`;
}

// etaTile shows an ETA: "in 18.1 days", its date and p10–p90 spread.
export function etaTile(name, eta, now, none, cls) {
  if (eta?.reached) return tile(name, 'now', 'already reached', cls);
  const p50 = ms(eta?.p50);
  if (p50 == null) return tile(name, '–', none);
  const lo = ms(eta.p10);
  const hi = ms(eta.p90);
  return tile(name, `in ${fmtDays(p50 - now)}`,
    `${fmtTime(p50).slice(5)} (p10–p90 ${lo == null ? '?' : fmtDaysNum(lo - now)}–${hi == null ? '?' : fmtDaysNum(hi - now)})`, cls);
}

// projectTo returns the point of the straight line from (t0, y0) to
// (t1, y1) at t (for a breach beyond the chart's end).
function projectTo(t0, y0, t1, y1, t) {
  return y0 + ((y1 - y0) * (t - t0)) / (t1 - t0);
}

const CHANGE = { level_shift: 'level shift', slope_change: 'slope change', capacity_change: 'resize' };

async function diskView(ctx, p, d, root, sev) {
  const now = ms(d.now);
  const ev = d.evidence || {};
  const bytes = d.unit === 'bytes';
  const usedId = p.series[0];
  const totalId = bytes ? p.series[1] : null;
  const start = now - 30 * DAY;
  const urls = [dataUrl(usedId, start, now, '1h', 'max')];
  if (totalId) urls.push(dataUrl(totalId, start, now, '1h', 'max'));

  const full = d.full || {};
  const warn = d.warning || {};
  root.append(h('div.tiles', { id: 'disk-tiles' },
    tile('Used', fmtPct(d.used_percent), bytes ? `${fmtBytes(d.used_bytes)} of ${fmtBytes(d.total_bytes)}` : null,
      d.used_percent >= (d.warn_percent || 90) ? 'sev-critical' : null),
    tile('Growth', bytes && d.growth_bytes_per_day != null ? `${sign(d.growth_bytes_per_day)}${fmtBytes(d.growth_bytes_per_day)}/d` : `${sign(d.growth_percent_per_day)}${fmtNum(d.growth_percent_per_day, 3)} pp/d`,
      `${sign(d.growth_percent_per_day)}${fmtNum(d.growth_percent_per_day, 3)} pp of capacity a day`),
    etaTile('Full (p50)', full, now, `not within ${fmtNum(d.horizon_days)} days`, sevClass(sev)),
    etaTile(`Warning ${fmtNum(d.warn_percent)}%`, warn, now, 'not predicted'),
    tile('Confidence', `${Math.round((d.confidence ?? p.confidence) * 100)}%`, d.reason ? label(d.status) : null),
    tile('Fit', `${ev.fit || '–'}`, ev.r2 != null ? `R² ${ev.r2.toFixed(4)} · ${label(ev.basis)}` : null)));

  const chartPanel = panel('Usage, threshold and predicted breach', `${what(p.entity)} on ${p.entity?.host || ''} · last 30 days, hourly max`);
  root.append(chartPanel);
  const [used, total] = await Promise.all(urls.map((u) => api(u, { signal: ctx.signal }).then((r) => r.data.samples || [])));
  const sec = (t) => ms(t) / 1000;
  let pct;
  if (bytes) {
    const totals = new Map((total || []).map((s) => [s.t, s.v]));
    pct = used.map((s) => {
      const tot = totals.get(s.t) ?? d.total_bytes;
      return [sec(s.t), tot ? (100 * s.v) / tot : null];
    });
  } else {
    pct = used.map((s) => [sec(s.t), s.v]);
  }

  // The projection: straight from the latest level to 100% at the p10,
  // p50 and p90 of the predicted full time, cut at the chart's end.
  const lists = [pct];
  const p10 = ms(full.p10);
  const p50 = ms(full.p50);
  const p90 = ms(full.p90);
  let chartEnd = now;
  const proj = [[], [], []];
  if (p50 != null && !full.reached && d.status === 'filling') {
    chartEnd = Math.min(Math.max(p90 ?? p50, now + DAY) + 2 * DAY, now + 60 * DAY);
    [p10, p50, p90].forEach((eta, i) => {
      if (eta == null) return;
      proj[i].push([now / 1000, d.used_percent]);
      if (eta <= chartEnd) proj[i].push([eta / 1000, 100]);
      else proj[i].push([chartEnd / 1000, projectTo(now, d.used_percent, eta, 100, chartEnd)]);
    });
  }
  lists.push(...proj);
  const { x, cols } = align(lists);
  const vlines = [{ x: now / 1000, color: cssVar('--muted'), label: 'now' }];
  if (ev.regime_start) vlines.push({ x: sec(ev.regime_start), color: cssVar('--c-regime'), label: 'regime start', dash: [2, 3], width: 1.5 });
  for (const c of ev.changepoints || []) {
    if (ev.regime_start && Math.abs(ms(c.time) - ms(ev.regime_start)) < 3600e3) continue;
    if (ms(c.time) < start) continue;
    vlines.push({ x: sec(c.time), color: cssVar('--c-regime'), label: CHANGE[c.kind] || label(c.kind) });
  }
  const vbands = [];
  if (p10 != null && p90 != null && p10 <= chartEnd) {
    vbands.push({ from: p10 / 1000, to: Math.min(p90, chartEnd) / 1000, color: cssVar('--c-breach'), label: 'full p10–p90', textColor: cssVar('--c-threshold') });
  }
  const box = h('div.chart', { id: 'chart-history' });
  chartPanel.body.append(box);
  const fc = cssVar('--c-fc');
  lineChart(box, {
    x,
    yFmt: (v) => fmtPct(v, 0),
    include: [100, d.warn_percent],
    yMin: 0,
    series: [
      { label: 'used %', values: cols[0], color: cssVar('--c-hist') },
      { label: 'to full p10', values: cols[1], color: fc, width: 1, dash: [3, 3], spanGaps: true },
      { label: 'to full p50', values: cols[2], color: fc, width: 2, dash: [8, 4], spanGaps: true },
      { label: 'to full p90', values: cols[3], color: fc, width: 1, dash: [3, 3], spanGaps: true },
    ],
    annotations: {
      hlines: [
        { y: 100, color: cssVar('--c-threshold'), label: 'full 100%' },
        { y: d.warn_percent, color: cssVar('--c-warn'), label: `warning ${fmtNum(d.warn_percent)}%` },
      ],
      vlines,
      vbands,
    },
    info: { name: 'history', points: used.length + (total ? total.length : 0), src: urls.join(' ') },
  });
  const beyond = p50 != null && p50 > chartEnd ? ` The median full time, ${fmtTime(p50)}, is beyond the chart: the dashed lines are cut at its end.` : '';
  chartPanel.body.append(h('div.chart-note', null,
    `${ev.model || ''}. Dashed: straight lines from now to 100% at the p10, p50 and p90 of the predicted full time.` + beyond));

  root.append(h('div.grid2', null,
    panel('What the prediction rests on', null, kv([
      ['Reason', d.reason],
      ['Model', ev.model],
      ['Regime since', ev.regime_start ? fmtTime(ev.regime_start) : null],
      ['Growth 95% CI', ev.slope_ci95_per_day ? ev.slope_ci95_per_day.map((v) => bytes ? fmtBytes(v) : fmtNum(v, 3)).join(' – ') + ' per day' : null],
      ['Trend test', `Mann–Kendall p=${fmtP(ev.mann_kendall_p)}, τ=${fmtNum(ev.mann_kendall_tau, 3)}`],
      ['Fit', ev.r2 != null ? `${ev.fit}, R² ${ev.r2.toFixed(4)}, residual sd ${bytes ? fmtBytes(ev.residual_sd) : fmtNum(ev.residual_sd)}` : null],
      ['Backtest MAE', ev.backtest_mae ? Object.entries(ev.backtest_mae).map(([k, v]) => `${k} ${bytes ? fmtBytes(v) : fmtNum(v)}`).join(' · ') : null],
      ['Daily cycle', ev.daily_cycle ? `yes, range ${bytes ? fmtBytes(ev.daily_cycle_range) : fmtNum(ev.daily_cycle_range)}` : 'no'],
      ['Points', `${ev.points} in the regime fit, ${ev.samples} samples, ${ev.outliers_removed} outliers removed`],
      ['Confidence', confidenceBar(d.confidence)],
    ])),
    panel('Changepoints', `${(ev.changepoints || []).length} found`,
      (ev.changepoints || []).length
        ? h('table.data', null, h('thead', null, h('tr', null, h('th', null, 'Time'), h('th', null, 'Kind'), h('th.num', null, 'Before'), h('th.num', null, 'After'))),
          h('tbody', null, ev.changepoints.map((c) => h('tr', null, h('td.nowrap', null, fmtTime(c.time)), h('td', null, CHANGE[c.kind] || label(c.kind)),
            h('td.num', null, changeVal(c, c.before, bytes)), h('td.num', null, changeVal(c, c.after, bytes))))))
        : h('div.muted', null, 'No level shift, slope change or resize in the history.'))));

  await forecastPanel(ctx, root, usedId, {
    what: 'used',
    yFmt: bytes ? (v) => fmtBytes(v) : (v) => fmtPct(v, 0),
    yIncrs: bytes ? BYTE_INCRS : undefined,
    yMin: 0,
    threshold: bytes ? d.total_bytes : 100,
    thresholdLabel: bytes ? `capacity ${fmtBytes(d.total_bytes)}` : 'full 100%',
  });
}

function changeVal(c, v, bytes) {
  if (c.kind === 'slope_change') return (bytes ? fmtBytes(v) : fmtNum(v, 3)) + '/d';
  return bytes ? fmtBytes(v) : fmtNum(v);
}

function sign(v) {
  return v > 0 ? '+' : '';
}

export function sevClass(sev) {
  return { critical: 'sev-critical', major: 'sev-major', minor: 'sev-minor', ok: 'sev-ok' }[sev] || null;
}
