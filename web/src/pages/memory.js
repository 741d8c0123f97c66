// A memory-leak prediction: memory history with the garbage-collection
// troughs (the minimum of each trough window of each process lifetime,
// the windows the predictor used), the floor fitted per lifetime, the
// restarts, and the projection of the leak to the limit at the predicted
// out-of-memory time.
import { api } from '../api.js';
import { BYTE_INCRS, cssVar, lineChart } from '../charts.js';
import { h, kv, panel, tile } from '../dom.js';
import { DAY, HOUR, fmtBytes, fmtNum, fmtP, fmtPct, fmtTime, label, ms, what } from '../format.js';
import { confidenceBar } from '../ui.js';
import { forecastPanel } from './forecast.js';
import { dataUrl, etaText, etaTile, sevClass } from './prediction.js';

function median(a) {
  if (!a.length) return null;
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export async function memoryView(ctx, p, d, root, sev) {
  const now = ms(d.now);
  const ev = d.evidence || {};
  const memId = p.series[0];
  const start = now - 14 * DAY;
  const url = dataUrl(memId, start, now, '5m', 'mean');
  const limit = d.limit_bytes;
  const rate = d.leak_rate_bytes_per_hour;
  const oom = d.oom || {};
  const leak = d.verdict === 'leak';

  root.append(h('div.tiles', { id: 'memory-tiles' },
    tile('Verdict', label(d.verdict), `score ${Math.round((d.score ?? 0) * 100)}% · evidence ${Math.round((d.leak_score ?? 0) * 100)}%`,
      leak ? 'sev-major' : 'sev-ok'),
    tile('Floor growth', rate != null ? `${rate >= 0 ? '+' : ''}${fmtBytes(rate)}/h` : '–',
      d.leak_rate_ci95_bytes_per_hour ? `95% CI ${d.leak_rate_ci95_bytes_per_hour.map((v) => fmtBytes(v)).join(' – ')}` : null),
    etaTile('Out of memory (p50)', oom, now, leak ? 'no limit known' : 'no leak', sevClass(sev)),
    tile('Memory now', fmtBytes(d.current_bytes), limit ? `${fmtPct((100 * d.current_bytes) / limit)} of the ${fmtBytes(limit)} limit` : 'no limit known'),
    tile('GC sawtooth', fmtBytes(ev.gc_amplitude_bytes), 'peak − trough, recent p90'),
    tile('Restarts', String((ev.restarts || []).length), `${(ev.segments || []).length} lifetimes, ${ev.troughs ?? 0} troughs`)));

  const chartPanel = panel('Memory, GC troughs and the leak', `${what(p.entity)} on ${p.entity?.host || ''} · last 14 days, 5-minute mean`);
  root.append(chartPanel);
  const samples = (await api(url, { signal: ctx.signal })).data.samples || [];
  const t = samples.map((s) => ms(s.t));
  const v = samples.map((s) => s.v);

  // Troughs: minimum of each trough window, windows counted from the start
  // of each lifetime (segment).
  const win = (ev.trough_window_seconds || 3600) * 1000;
  const segs = (ev.segments || []).map((s) => ({ ...s, a: ms(s.start), b: ms(s.end) }));
  if (!segs.length && t.length) segs.push({ a: t[0], b: t[t.length - 1], class: 'rising', slope_bytes_per_hour: rate || 0 });
  const troughs = new Array(t.length).fill(null);
  const floor = new Array(t.length).fill(null);
  let troughCount = 0;
  for (const s of segs) {
    const idx = [];
    for (let i = 0; i < t.length; i++) if (t[i] >= s.a && t[i] <= s.b && v[i] != null) idx.push(i);
    const pts = [];
    let wStart = s.a;
    let best = -1;
    for (const i of idx) {
      while (t[i] >= wStart + win) {
        if (best >= 0) pts.push(best);
        best = -1;
        wStart += win;
      }
      if (best < 0 || v[i] < v[best]) best = i;
    }
    if (best >= 0) pts.push(best);
    for (const i of pts) troughs[i] = v[i];
    troughCount += pts.length;
    if (s.class === 'short' || pts.length < 3) continue;
    // The floor line: the segment's Theil–Sen slope through the troughs,
    // intercept the median of their residuals.
    const slope = s.slope_bytes_per_hour / HOUR;
    const icpt = median(pts.map((i) => v[i] - slope * (t[i] - s.a)));
    for (const i of idx) floor[i] = icpt + slope * (t[i] - s.a);
  }

  // The projection to out of memory: the floor rises at the leak rate and
  // its peaks (floor + GC amplitude) reach the limit at the OOM median.
  const x = t.map((q) => q / 1000);
  const projFloor = new Array(t.length).fill(null);
  const projPeak = new Array(t.length).fill(null);
  const p50 = ms(oom.p50);
  const p10 = ms(oom.p10);
  const p90 = ms(oom.p90);
  let chartEnd = now;
  const vbands = [];
  if (leak && p50 != null && limit && rate) {
    const gc = ev.gc_amplitude_bytes || 0;
    const at = (q) => limit - gc - (rate * (p50 - q)) / HOUR;
    chartEnd = Math.min(Math.max(p90 ?? p50, now + DAY) + DAY, now + 30 * DAY);
    const extra = [now, Math.min(p50, chartEnd)];
    if (chartEnd > p50) extra.push(chartEnd);
    for (const q of extra) {
      x.push(q / 1000);
      troughs.push(null);
      floor.push(null);
      v.push(null);
      projFloor.push(q > p50 ? null : at(q));
      projPeak.push(q > p50 ? null : at(q) + gc);
    }
    if (p10 != null && p90 != null && p10 <= chartEnd) {
      vbands.push({ from: p10 / 1000, to: Math.min(p90, chartEnd) / 1000, color: cssVar('--c-breach'), label: 'OOM p10–p90', textColor: cssVar('--c-threshold') });
    }
  }
  // x must increase: the projection starts at now, after the last sample.
  const order = x.map((_, i) => i).sort((a, b) => x[a] - x[b]);
  const pick = (arr) => order.map((i) => arr[i]);
  const vlines = [{ x: now / 1000, color: cssVar('--muted'), label: 'now' }];
  for (const r of ev.restarts || []) vlines.push({ x: ms(r) / 1000, color: cssVar('--c-regime'), label: 'restart' });
  const box = h('div.chart', { id: 'chart-memory' });
  chartPanel.body.append(box);
  const fc = cssVar('--c-fc');
  lineChart(box, {
    x: pick(x),
    yFmt: (q) => fmtBytes(q),
    yIncrs: BYTE_INCRS,
    include: limit ? [limit, 0] : [0],
    yMin: 0,
    series: [
      { label: 'memory', values: pick(v), color: cssVar('--c-mem'), width: 1 },
      { label: 'fitted floor', values: pick(floor), color: cssVar('--c-regime'), width: 2 },
      { label: 'projected floor', values: pick(projFloor), color: fc, width: 2, dash: [8, 4], spanGaps: true },
      { label: 'projected peaks', values: pick(projPeak), color: fc, width: 1, dash: [3, 3], spanGaps: true },
      { label: 'GC troughs', values: pick(troughs), color: cssVar('--c-trough'), pointsOnly: true, pointSize: 5 },
    ],
    annotations: {
      hlines: limit ? [{ y: limit, color: cssVar('--c-threshold'), label: `limit ${fmtBytes(limit)}` }] : [],
      vlines,
      vbands,
    },
    info: { name: 'memory', points: samples.length, src: url },
  });
  box.dataset.troughs = String(troughCount);
  chartPanel.body.append(h('div.chart-note', null,
    `Troughs: the minimum of each ${fmtNum(win / HOUR)} h window of each lifetime. Fitted floor: each lifetime's trend through its troughs. ` +
    (leak && p50 ? `Dashed: the floor rising at ${fmtBytes(rate)}/h, and its peaks (+${fmtBytes(ev.gc_amplitude_bytes)} GC sawtooth) reaching the limit at the predicted out-of-memory time.` : '')));

  root.append(h('div.grid2', null,
    panel('What the verdict rests on', null, kv([
      ['Reason', d.reason],
      ['Basis', `${label(ev.basis)} (${ev.troughs} troughs of ${fmtNum((ev.trough_window_seconds || 0) / 3600)} h windows, ${ev.samples} samples, ${ev.outliers_removed} outliers removed)`],
      ['Trend test', `combined Mann–Kendall p=${fmtP(ev.mann_kendall_p)}; rising ${fmtPct(100 * (ev.rising_share ?? 0), 0)} of the lifetime time`],
      ['Load', ev.load_bytes_per_unit != null ? `${fmtBytes(ev.load_bytes_per_unit)} per unit of load, R² ${fmtNum(ev.load_r2, 2)}` : 'no load series'],
      ['Daily cycle', ev.daily_cycle ? `yes, ${fmtBytes(ev.daily_cycle_amplitude_bytes)}` : 'no'],
      ['Out of memory', etaText(oom, now) || '–'],
      ['Score', confidenceBar(d.score)],
    ])),
    panel('Process lifetimes', `${segs.length} between restarts`,
      h('table.data', null,
        h('thead', null, h('tr', null, h('th', null, 'Start'), h('th', null, 'End'), h('th', null, 'Class'), h('th.num', null, 'Troughs'),
          h('th.num', null, 'Slope'), h('th.num', null, 'p'))),
        h('tbody', null, (ev.segments || []).map((s) => h('tr', null,
          h('td.nowrap', null, fmtTime(s.start)), h('td.nowrap', null, fmtTime(s.end)), h('td', null, label(s.class)),
          h('td.num', null, String(s.troughs)),
          h('td.num', null, s.class === 'short' ? '–' : `${fmtBytes(s.slope_bytes_per_hour)}/h`),
          h('td.num', null, s.class === 'short' ? '–' : fmtP(s.p)))))))));

  await forecastPanel(ctx, root, memId, {
    what: 'memory',
    yFmt: (q) => fmtBytes(q),
    yIncrs: BYTE_INCRS,
    yMin: 0,
    threshold: limit || undefined,
    thresholdLabel: limit ? `limit ${fmtBytes(limit)}` : undefined,
  });
}
