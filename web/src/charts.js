// Charts: uPlot with the console's theme, value bands, and annotations
// (threshold lines, breach windows, regime boundaries) drawn on the canvas.
import uPlot from 'uplot';
import { h } from './dom.js';

export function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

// BYTE_INCRS are axis steps that read well in binary units (…, 512 MiB,
// 1 GiB, 2 GiB, 5 GiB, 10 GiB, 20 GiB, …).
export const BYTE_INCRS = [];
for (let u = 1; u <= 1024 ** 5; u *= 1024) {
  for (const m of [1, 2, 5, 10, 20, 50, 100, 200, 500]) BYTE_INCRS.push(u * m);
}

function isWall() {
  return document.body.classList.contains('wall');
}

// annotations draws vertical bands {from, to, color, label}, vertical
// lines {x, color, label, dash} and horizontal lines {y, color, label,
// dash} inside the plot area.
function annotationsPlugin(ann) {
  return {
    hooks: {
      draw: [
        (u) => {
          const { ctx } = u;
          const { left, top, width, height } = u.bbox;
          const px = uPlot.pxRatio || 1;
          const fontPx = (isWall() ? 13 : 11) * px;
          ctx.save();
          ctx.beginPath();
          ctx.rect(left, top, width, height);
          ctx.clip();
          ctx.font = `${fontPx}px ${cssVar('--font') || 'sans-serif'}`;
          ctx.textBaseline = 'top';
          const bg = cssVar('--panel');
          const label = (text, x, y, color, align = 'left') => {
            if (!text) return;
            // A backdrop keeps the text readable over lines and bands.
            const w = ctx.measureText(text).width;
            const x0 = align === 'right' ? x - w : x;
            const base = ctx.textBaseline;
            const y0 = base === 'bottom' ? y - fontPx : y;
            ctx.globalAlpha = 0.75;
            ctx.fillStyle = bg;
            ctx.fillRect(x0 - 2 * px, y0 - 1 * px, w + 4 * px, fontPx + 3 * px);
            ctx.globalAlpha = 1;
            ctx.fillStyle = color;
            ctx.textAlign = align;
            ctx.fillText(text, x, y);
          };
          for (const b of ann.vbands || []) {
            if (b.from == null || b.to == null) continue;
            const x0 = u.valToPos(b.from, 'x', true);
            const x1 = u.valToPos(b.to, 'x', true);
            ctx.fillStyle = b.color;
            ctx.fillRect(Math.min(x0, x1), top, Math.max(Math.abs(x1 - x0), 2 * px), height);
            if (b.label) {
              // Right of the band, or left of it when it would leave the plot.
              const w = ctx.measureText(b.label).width;
              const right = Math.max(x0, x1) + 4 * px;
              const y = top + height - fontPx - 6 * px;
              if (right + w <= left + width) label(b.label, right, y, b.textColor || cssVar('--muted'));
              else label(b.label, Math.min(x0, x1) - 4 * px, y, b.textColor || cssVar('--muted'), 'right');
            }
          }
          let stagger = 0;
          for (const l of ann.vlines || []) {
            if (l.x == null) continue;
            const x = Math.round(u.valToPos(l.x, 'x', true)) + 0.5;
            ctx.strokeStyle = l.color;
            ctx.lineWidth = (l.width || 1) * px;
            ctx.setLineDash((l.dash || [4, 4]).map((d) => d * px));
            ctx.beginPath();
            ctx.moveTo(x, top);
            ctx.lineTo(x, top + height);
            ctx.stroke();
            if (l.label) {
              const w = ctx.measureText(l.label).width;
              const y = top + (18 + 14 * (stagger % 3)) * px;
              if (x + 4 * px + w <= left + width) label(l.label, x + 4 * px, y, l.color);
              else label(l.label, x - 4 * px, y, l.color, 'right');
              stagger++;
            }
          }
          for (const l of ann.hlines || []) {
            if (l.y == null) continue;
            const y = Math.round(u.valToPos(l.y, 'y', true)) + 0.5;
            ctx.strokeStyle = l.color;
            ctx.lineWidth = (l.width || 1.5) * px;
            ctx.setLineDash((l.dash || [6, 4]).map((d) => d * px));
            ctx.beginPath();
            ctx.moveTo(left, y);
            ctx.lineTo(left + width, y);
            ctx.stroke();
            ctx.textBaseline = 'bottom';
            label(l.label, left + 6 * px, y - 2 * px, l.color);
            ctx.textBaseline = 'top';
          }
          ctx.restore();
        },
      ],
    },
  };
}

// lineChart draws series over a shared x array into container.
//   x: numbers (Unix seconds when time is true)
//   series: [{label, values, color, width, dash, fill, spanGaps, pointsOnly, pointSize, band}]
//   bands: [[upperIndex, lowerIndex, fill]] (1-based series indices)
//   yFmt: value formatter; yMin/yMax: fixed bounds; include: values the
//   y range must show (thresholds)
//   annotations: {vbands, vlines, hlines}
//   xValues/xIncrs/xLabel: axis for a non-time x
//   info: data attributes for tests and tools (series, points, src)
export function lineChart(container, o) {
  const wall = isWall();
  const height = o.height || (wall ? 420 : 300);
  const yFmt = o.yFmt || ((v) => String(v));
  const axisFont = `${wall ? 15 : 11}px ${cssVar('--font') || 'sans-serif'}`;
  const axisColor = cssVar('--axis');
  const grid = { stroke: cssVar('--grid'), width: 1 };
  const ticks = { stroke: cssVar('--grid'), width: 1, size: 4 };
  const include = (o.include || []).filter((v) => v != null && Number.isFinite(v));
  const yRange = (u, min, max) => {
    let lo = min;
    let hi = max;
    for (const v of include) {
      lo = lo == null ? v : Math.min(lo, v);
      hi = hi == null ? v : Math.max(hi, v);
    }
    if (lo == null || hi == null) return [0, 1];
    if (o.yMin != null) lo = o.yMin;
    if (o.yMax != null) hi = Math.max(hi, o.yMax);
    if (lo === hi) {
      const d = Math.abs(lo) * 0.1 || 1;
      return [lo - d, hi + d];
    }
    const pad = (hi - lo) * 0.06;
    return [o.yMin != null ? lo : lo - pad, hi + pad];
  };
  const series = [
    o.time === false ? { label: o.xLabel || 'x', value: (u, v) => (v == null ? '–' : o.xValue ? o.xValue(v) : String(v)) } : {},
  ];
  for (const s of o.series) {
    const color = s.color || cssVar('--c-hist');
    const spec = {
      label: s.label,
      stroke: color,
      width: s.width ?? 1.5,
      spanGaps: !!s.spanGaps,
      points: s.pointsOnly ? { show: true, size: s.pointSize || 4, fill: color, stroke: color, width: 0 } : { show: false },
      value: (u, v) => (v == null ? '–' : yFmt(v)),
    };
    if (s.dash) spec.dash = s.dash;
    if (s.fill) spec.fill = s.fill;
    if (s.pointsOnly) spec.paths = () => null;
    if (s.show === false) spec.show = false;
    series.push(spec);
  }
  const axes = [
    {
      stroke: axisColor, grid, ticks, font: axisFont,
      ...(o.xValues ? { values: o.xValues } : {}),
      ...(o.xIncrs ? { incrs: o.xIncrs } : {}),
      ...(o.xSpace ? { space: o.xSpace } : {}),
    },
    {
      stroke: axisColor, grid, ticks, font: axisFont, size: wall ? 96 : 72,
      values: (u, splits) => splits.map((v) => yFmt(v)),
      ...(o.yIncrs ? { incrs: o.yIncrs } : {}),
    },
  ];
  const opts = {
    width: Math.max(container.clientWidth, 300),
    height,
    scales: { x: { time: o.time !== false }, y: { range: yRange } },
    axes,
    series,
    bands: (o.bands || []).map(([hi, lo, fill]) => ({ series: [hi, lo], fill })),
    legend: { live: true },
    cursor: { drag: { x: true, y: false, setScale: true }, points: { size: 6 } },
    plugins: [annotationsPlugin(o.annotations || {})],
  };
  const data = [o.x, ...o.series.map((s) => s.values)];
  const u = new uPlot(opts, data, container);
  const info = o.info || {};
  container.dataset.series = String(o.series.length);
  container.dataset.points = String(info.points ?? o.x.length);
  if (info.src) container.dataset.src = info.src;
  if (info.name) container.dataset.chart = info.name;
  let last = container.clientWidth;
  const ro = new ResizeObserver(() => {
    const w = container.clientWidth;
    if (w > 0 && w !== last) {
      last = w;
      u.setSize({ width: w, height });
    }
  });
  ro.observe(container);
  return u;
}

// chartPanel makes a panel with a chart area and a note line.
export function chartBox(name) {
  const box = h('div.chart', { dataset: { chart: name } });
  return box;
}

// align merges several (t, v) lists onto one sorted x array: each series
// gets its values at its own times and null elsewhere.
export function align(lists) {
  const xs = new Set();
  for (const l of lists) for (const [t] of l) xs.add(t);
  const x = [...xs].sort((a, b) => a - b);
  const index = new Map(x.map((t, i) => [t, i]));
  const cols = lists.map((l) => {
    const col = new Array(x.length).fill(null);
    for (const [t, v] of l) col[index.get(t)] = v == null || Number.isNaN(v) ? null : v;
    return col;
  });
  return { x, cols };
}
