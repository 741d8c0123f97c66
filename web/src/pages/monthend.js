// A month-end close prediction: past closes overlaid (the load through the
// last business days of past months, aligned on business-day offset and
// time of day in the calendar's time zone), the coming close's predicted
// profile with its p10–p90 band and the baseline, and the peaks of past
// and coming closes by month.
import { api } from '../api.js';
import { cssVar, lineChart } from '../charts.js';
import { h, kv, panel, tile } from '../dom.js';
import { DAY, fmtNum, fmtP, fmtPct, fmtTime, label, ms, what } from '../format.js';
import { notice } from '../ui.js';
import { forecastPanel } from './forecast.js';
import { dataUrl, sevClass } from './prediction.js';

// localClock returns a function mapping an instant to its civil date and
// hour of day in time zone tz.
function localClock(tz) {
  let f;
  try {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
    });
  } catch {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone: 'UTC', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
    });
  }
  return (t) => {
    const o = {};
    for (const part of f.formatToParts(new Date(t))) o[part.type] = part.value;
    return { date: `${o.year}-${o.month}-${o.day}`, hours: (Number(o.hour) % 24) + Number(o.minute) / 60 };
  };
}

function weekday(date) {
  return new Date(date + 'T12:00:00Z').getUTCDay();
}

// businessDays guesses the business days of a past close window from its
// start (00:00 of the first) and end (24:00 of the last): the first and
// last day, and the weekdays between them (the window's days are not in
// the evidence of past closes; make-up workdays count when the weekdays
// alone are too few).
function businessDays(start, end, n, clock) {
  const days = [];
  for (let t = start + 12 * 3600e3; t < end; t += DAY) {
    const d = clock(t).date;
    if (!days.includes(d)) days.push(d);
  }
  if (days.length <= n) return days;
  const first = days[0];
  const last = days[days.length - 1];
  const inner = days.slice(1, -1);
  let biz = [first, ...inner.filter((d) => weekday(d) !== 0 && weekday(d) !== 6), last];
  if (biz.length > n) biz = [first, ...biz.slice(biz.length - n + 1)];
  if (biz.length < n) biz = days.slice(days.length - n);
  return biz;
}

function stepName(s) {
  if (s % 3600 === 0) return `${s / 3600}h`;
  if (s % 60 === 0) return `${s / 60}m`;
  return `${s}s`;
}

const pad2 = (n) => String(n).padStart(2, '0');

export async function monthEndView(ctx, p, d, root, sev) {
  const now = ms(d.now);
  const ev = d.evidence || {};
  const tz = d.time_zone || 'UTC';
  const clock = localClock(tz);
  const n = d.close_days || 3;
  const stepS = d.step_seconds || 900;
  const step = stepName(stepS);
  const perDay = Math.round(86400 / stepS);
  const id = p.series[0];
  const unit = d.unit ? ` ${d.unit}` : '';
  const fmt = (v) => (v == null ? '–' : fmtNum(v) + unit);
  const w = d.window;
  const br = d.breach;
  const closes = ev.closes || [];

  if (d.status !== 'ok') root.append(notice('warn', h('span.title', null, 'Insufficient history:'), d.reason || ''));

  root.append(h('div.tiles', { id: 'monthend-tiles' },
    w ? tile('Coming close', w.month, `${label(w.kind)} · ${w.days.map((x) => x.slice(5)).join(', ')}`) : null,
    d.peak ? tile('Predicted peak', fmt(d.peak.p50), `p10–p90 ${fmtNum(d.peak.p10)}–${fmtNum(d.peak.p90)}`, br?.likely ? 'sev-critical' : null) : null,
    d.peak_time ? tile('Peak time', fmtTime(d.peak_time.p50).slice(5), `p10–p90 ${fmtTime(d.peak_time.p10).slice(5)} – ${fmtTime(d.peak_time.p90).slice(11)}`) : null,
    br ? tile('Capacity', fmt(br.threshold), `P(breach) ${fmtPct(100 * br.probability)}, headroom ${fmtNum(br.headroom, 3)}`,
      br.likely ? sevClass(sev) || 'sev-major' : 'sev-ok') : null,
    w?.observed_peak != null ? tile('Observed so far', fmt(w.observed_peak), 'the window has begun') : null,
    tile('Past closes', `${closes.filter((c) => c.used).length} of ${closes.length}`, ev.uplift ? `uplift ${fmtNum(ev.uplift.applied)} applied` : null)));

  // ---- past closes overlaid with the coming one --------------------------
  const overlay = panel('Past closes and the coming close', `${what(p.entity)} on ${p.entity?.host || ''} · by business day and time of day (${tz}), ${step} mean`);
  root.append(overlay);
  const jobs = closes.map((c) => ({ c, url: dataUrl(id, ms(c.start), ms(c.end), step, 'mean'), days: businessDays(ms(c.start), ms(c.end), n, clock) }));
  let current = null;
  if (w && ms(w.start) < now) current = { url: dataUrl(id, ms(w.start), now, step, 'mean'), days: w.days };
  const all = current ? [...jobs, current] : jobs;
  const results = await Promise.all(all.map((j) => api(j.url, { signal: ctx.signal }).then((r) => r.data.samples || [])));
  const slots = n * perDay;
  const x = Array.from({ length: slots }, (_, k) => (k * stepS) / 3600);
  const place = (samples, days) => {
    const col = new Array(slots).fill(null);
    for (const s of samples) {
      if (s.v == null) continue;
      const lc = clock(ms(s.t));
      const di = days.indexOf(lc.date);
      if (di < 0) continue;
      const k = di * perDay + Math.floor((lc.hours * 3600) / stepS + 1e-6);
      if (k >= 0 && k < slots) col[k] = s.v;
    }
    return col;
  };
  const palette = ['--c3', '--c1', '--c6', '--c2', '--c5', '--c4'].map(cssVar);
  const series = [];
  jobs.forEach((j, i) => {
    series.push({
      label: j.c.month + (j.c.kind !== 'regular' ? ` ${label(j.c.kind)}` : '') + (j.c.used ? '' : ' (not used)'),
      values: place(results[i], j.days),
      color: palette[(jobs.length - 1 - i) % palette.length],
      width: 1,
      dash: j.c.used ? null : [2, 3],
    });
  });
  if (current) {
    series.push({ label: `${w.month} so far`, values: place(results[results.length - 1], current.days), color: cssVar('--text'), width: 2 });
  }
  const bands = [];
  if (w && d.profile?.length) {
    const cols = { p10: new Array(slots).fill(null), p50: new Array(slots).fill(null), p90: new Array(slots).fill(null), baseline: new Array(slots).fill(null) };
    for (const q of d.profile) {
      const lc = clock(ms(q.time));
      const di = w.days.indexOf(lc.date);
      if (di < 0) continue;
      const k = di * perDay + Math.floor((lc.hours * 3600) / stepS + 1e-6);
      if (k < 0 || k >= slots) continue;
      for (const key of Object.keys(cols)) cols[key][k] = q[key];
    }
    const fc = cssVar('--c-fc');
    series.push({ label: `${w.month} predicted p50`, values: cols.p50, color: fc, width: 2.5 });
    series.push({ label: 'p90', values: cols.p90, color: 'rgba(0,0,0,0)', width: 0 });
    series.push({ label: 'p10', values: cols.p10, color: 'rgba(0,0,0,0)', width: 0 });
    series.push({ label: 'baseline (no close)', values: cols.baseline, color: cssVar('--muted'), width: 1, dash: [5, 4] });
    const hi = series.length - 2; // 1-based index of p90 in the chart
    bands.push([hi, hi + 1, cssVar('--c-band-2')]);
  }
  const dayName = (day) => {
    const off = n - 1 - day;
    return off === 0 ? 'last BD' : `BD−${off}`;
  };
  const xLabel = (v) => {
    const day = Math.floor(v / 24 + 1e-9);
    const hr = v - day * 24;
    return `${dayName(day)} ${pad2(Math.floor(hr + 1e-9))}:${pad2(Math.round((hr % 1) * 60) % 60)}`;
  };
  const vlines = [];
  if (current) {
    const lc = clock(now);
    const di = w.days.indexOf(lc.date);
    if (di >= 0) vlines.push({ x: di * 24 + lc.hours, color: cssVar('--muted'), label: 'now' });
  }
  for (let day = 1; day < n; day++) vlines.push({ x: day * 24, color: cssVar('--grid'), dash: [1, 0] });
  const box = h('div.chart', { id: 'chart-closes' });
  overlay.body.append(box);
  lineChart(box, {
    x,
    time: false,
    xLabel: 'time',
    xValue: xLabel,
    xIncrs: [1, 2, 3, 6, 12, 24],
    xSpace: 44,
    xValues: (u, splits) => splits.map((v) => {
      const day = Math.floor(v / 24 + 1e-9);
      const hr = v - day * 24;
      return hr < 1e-9 ? dayName(day) : `${pad2(Math.floor(hr))}:00`;
    }),
    yFmt: (v) => fmtNum(v, 3),
    include: br ? [br.threshold] : [],
    series,
    bands,
    annotations: {
      hlines: br ? [{ y: br.threshold, color: cssVar('--c-threshold'), label: `capacity ${fmtNum(br.threshold)}` }] : [],
      vlines,
    },
    info: { name: 'closes', points: results.reduce((a, r) => a + r.length, 0), src: all.map((j) => j.url).join(' ') },
  });
  box.dataset.closes = String(jobs.length);
  overlay.body.append(h('div.chart-note', null,
    `Each line is one past close: its last ${n} business days (BD−${n - 1} … last BD), hour by hour in ${tz}. ` +
    (w ? `The band is the predicted p10–p90 of the ${w.month} close${current ? ' from now on' : ''}; dashed grey, the load of a day without close.` : '')));

  // ---- peaks by month ------------------------------------------------------
  const months = [];
  const observed = [];
  const p50 = [];
  const p10 = [];
  const p90 = [];
  for (const c of closes) {
    months.push(c.month);
    observed.push(c.peak);
    p50.push(null);
    p10.push(null);
    p90.push(null);
  }
  if (w && d.peak) {
    months.push(w.month);
    observed.push(null); // the window's peak so far is no close peak yet
    p50.push(d.peak.p50);
    p10.push(d.peak.p10);
    p90.push(d.peak.p90);
  }
  for (const o of d.outlook || []) {
    months.push(o.month);
    observed.push(null);
    p50.push(o.peak.p50);
    p10.push(o.peak.p10);
    p90.push(o.peak.p90);
  }
  const kinds = Object.fromEntries([...closes.map((c) => [c.month, c.kind]), ...(w ? [[w.month, w.kind]] : []), ...(d.outlook || []).map((o) => [o.month, o.kind])]);
  const peaks = panel('Close peaks by month', 'observed peaks of past closes; predicted p50 and p10–p90 of the coming ones');
  root.append(h('div.grid2', null, peaks,
    panel('Coming closes', null, h('table.data', { id: 'outlook-table' },
      h('thead', null, h('tr', null, h('th', null, 'Month'), h('th', null, 'Kind'), h('th.num', null, 'Peak p50'), h('th.num', null, 'p10–p90'),
        br ? h('th.num', null, 'P(breach)') : null)),
      h('tbody', null,
        w && d.peak ? h('tr', null, h('td', null, h('strong', null, w.month)), h('td', null, label(w.kind)), h('td.num', null, fmtNum(d.peak.p50)),
          h('td.num', null, `${fmtNum(d.peak.p10)}–${fmtNum(d.peak.p90)}`), br ? h('td.num', { class: br.likely ? 'bad-text' : null }, fmtPct(100 * br.probability)) : null) : null,
        (d.outlook || []).map((o) => h('tr', null, h('td', null, o.month), h('td', null, label(o.kind)), h('td.num', null, fmtNum(o.peak.p50)),
          h('td.num', null, `${fmtNum(o.peak.p10)}–${fmtNum(o.peak.p90)}`),
          br ? h('td.num', { class: (o.breach_probability ?? 0) >= 0.5 ? 'bad-text' : null }, o.breach_probability == null ? '–' : fmtPct(100 * o.breach_probability)) : null)))))));
  if (months.length) {
    const pbox = h('div.chart', { id: 'chart-peaks' });
    peaks.body.append(pbox);
    const fc = cssVar('--c-fc');
    lineChart(pbox, {
      x: months.map((_, i) => i),
      time: false,
      xLabel: 'month',
      xValue: (v) => `${months[Math.round(v)] ?? ''} ${label(kinds[months[Math.round(v)]] || '')}`,
      xIncrs: [1],
      xSpace: 36,
      xValues: (u, splits) => splits.map((v) => (Number.isInteger(v) ? months[v] ?? '' : '')),
      yFmt: (v) => fmtNum(v, 3),
      include: br ? [br.threshold] : [],
      height: 260,
      series: [
        { label: 'observed peak', values: observed, color: cssVar('--c-hist'), width: 1.5, spanGaps: false },
        { label: 'predicted p50', values: p50, color: fc, width: 2 },
        { label: 'p90', values: p90, color: 'rgba(0,0,0,0)', width: 0 },
        { label: 'p10', values: p10, color: 'rgba(0,0,0,0)', width: 0 },
      ],
      bands: [[3, 4, cssVar('--c-band-2')]],
      annotations: { hlines: br ? [{ y: br.threshold, color: cssVar('--c-threshold'), label: 'capacity' }] : [] },
      info: { name: 'peaks', points: months.length },
    });
  }

  root.append(h('div.grid2', null,
    panel('Past closes', `${closes.length} in the history`, h('table.data', { id: 'closes-table' },
      h('thead', null, h('tr', null, h('th', null, 'Month'), h('th', null, 'Kind'), h('th', { title: `business days in ${tz}` }, 'Days'), h('th.num', null, 'Peak'),
        h('th', null, 'Peak time'), h('th.num', null, 'Uplift'), h('th', null, 'Used'))),
      h('tbody', null, closes.map((c, i) => h('tr', null, h('td.nowrap', null, c.month), h('td.nowrap', null, label(c.kind)),
        h('td.nowrap', null, jobs[i].days.map((x) => x.slice(5)).join(' · ')), h('td.num', null, fmtNum(c.peak)),
        h('td.nowrap', null, fmtTime(c.peak_time)), h('td.num', null, c.uplift == null ? '–' : fmtNum(c.uplift)),
        h('td', null, c.used ? 'yes' : `no: ${c.why || ''}`)))))),
    panel('How the close is modelled', null, kv([
      ['Calendar', `${d.calendar} (${tz}), close = last ${n} business days`],
      ['Baseline', ev.baseline ? `${ev.baseline.method}; peak ${fmtNum(ev.baseline.peak)} at ${ev.baseline.peak_time_of_day}, noise ${fmtNum(ev.baseline.noise)}` : null],
      ['Uplift', ev.uplift ? `regular ${fmtNum(ev.uplift.regular)}, applied ${fmtNum(ev.uplift.applied)}; quarter ×${fmtNum(ev.uplift.quarter_factor, 3)} (${ev.uplift.quarter_source}), year ×${fmtNum(ev.uplift.year_factor, 3)} (${ev.uplift.year_source}); dispersion ${fmtPct(100 * ev.uplift.dispersion)}` : null],
      ['By business day', ev.uplift?.by_offset ? ev.uplift.by_offset.map((o) => `${o.offset === 0 ? 'last BD' : 'BD−' + o.offset}: ${fmtPct(100 * o.share, 0)} at ${o.peak_time_of_day}`).join(' · ') : null],
      ['Trend', ev.trend ? `${ev.trend.uplift_per_month >= 0 ? '+' : ''}${fmtNum(ev.trend.uplift_per_month, 3)} per month (${fmtNum(ev.trend.uplift_percent_per_month, 3)}%), ${ev.trend.closes} closes, ${ev.trend.applied ? 'applied' : 'not applied'}${ev.trend.mann_kendall_p != null ? `, Mann–Kendall p=${fmtP(ev.trend.mann_kendall_p)}` : ''}` : null],
      ['Notes', ev.notes?.length ? h('ul', { style: { margin: 0, paddingLeft: '18px' } }, ev.notes.map((t) => h('li', null, t))) : null],
    ]))));

  await forecastPanel(ctx, root, id, {
    what: what(p.entity),
    yFmt: (v) => fmtNum(v, 3),
    threshold: br?.threshold,
    thresholdLabel: br ? `capacity ${fmtNum(br.threshold)}` : undefined,
  });
}
