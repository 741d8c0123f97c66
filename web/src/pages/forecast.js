// The forecast panel of a prediction's series: the last week of history
// and the model's forecast with its 80% and 95% intervals
// (GET /api/v1/series/{id}/forecast).
import { api, enc } from '../api.js';
import { align, cssVar, lineChart } from '../charts.js';
import { h, panel } from '../dom.js';
import { DAY, fmtTime, isoUTC, ms } from '../format.js';
import { problemNotice } from '../ui.js';

export async function forecastPanel(ctx, parent, seriesId, o = {}) {
  const horizon = o.horizon || 168;
  const step = o.step || '1h';
  const p = panel('Forecast', `${o.what || seriesId} · next ${horizon / 24} days at ${step}, 80% and 95% intervals`);
  p.id = 'forecast-panel';
  parent.append(p);
  const fUrl = `/api/v1/series/${enc(seriesId)}/forecast?horizon=${horizon}&step=${step}&history=28d&level=80,95`;
  let f;
  try {
    f = (await api(fUrl, { signal: ctx.signal })).data;
  } catch (e) {
    if (e.name === 'AbortError' || e.status === 401) throw e;
    // Insufficient history and the like belong to this panel, not the page.
    p.body.append(problemNotice(e, 'No forecast'));
    return;
  }
  const end = ms(f.history_end);
  const hUrl = `/api/v1/series/${enc(seriesId)}/data?start=${isoUTC(end - 7 * DAY)}&end=${isoUTC(end)}&step=${step}&agg=mean`;
  const hist = (await api(hUrl, { signal: ctx.signal })).data.samples || [];
  const pts = f.forecast.points || [];
  const sec = (t) => ms(t) / 1000;
  const col = (k) => pts.map((q) => [sec(q.t), q[k]]);
  const { x, cols } = align([
    hist.map((s) => [sec(s.t), s.v]),
    col('mean'), col('hi95'), col('lo95'), col('hi80'), col('lo80'),
  ]);
  const box = h('div.chart', { id: 'chart-forecast' });
  p.body.append(box);
  const fc = cssVar('--c-fc');
  lineChart(box, {
    x,
    yFmt: o.yFmt,
    yIncrs: o.yIncrs,
    include: o.threshold != null ? [o.threshold] : [],
    yMin: o.yMin,
    series: [
      { label: 'history', values: cols[0], color: cssVar('--c-hist') },
      { label: `forecast (${f.forecast.model})`, values: cols[1], color: fc, width: 2 },
      { label: '95% high', values: cols[2], color: 'rgba(0,0,0,0)', width: 0 },
      { label: '95% low', values: cols[3], color: 'rgba(0,0,0,0)', width: 0 },
      { label: '80% high', values: cols[4], color: 'rgba(0,0,0,0)', width: 0 },
      { label: '80% low', values: cols[5], color: 'rgba(0,0,0,0)', width: 0 },
    ],
    bands: [[3, 4, cssVar('--c-band')], [5, 6, cssVar('--c-band-2')]],
    annotations: {
      hlines: o.threshold != null ? [{ y: o.threshold, color: cssVar('--c-threshold'), label: o.thresholdLabel || 'threshold' }] : [],
      vlines: [{ x: end / 1000, color: cssVar('--muted'), label: 'forecast from' }],
    },
    info: { name: 'forecast', points: pts.length + hist.length, src: `${fUrl} ${hUrl}` },
  });
  box.dataset.forecastPoints = String(pts.length);
  p.body.append(h('div.chart-note', null,
    `model ${f.forecast.model} · fitted on ${f.forecast.fit_points} points (${f.forecast.missing} missing) from ${fmtTime(f.history_start)} to ${fmtTime(f.history_end)} · fitted on request, cached a minute`));
}
