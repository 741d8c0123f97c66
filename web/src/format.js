// Formatting of times, durations, bytes and numbers, the same way
// everywhere in the console.

export const HOUR = 3600e3;
export const DAY = 24 * HOUR;

export function ms(t) {
  if (t == null || t === '') return null;
  const v = typeof t === 'number' ? t : Date.parse(t);
  // Go's zero time marks "not set".
  return Number.isNaN(v) || v < -6e13 ? null : v;
}

const pad = (n) => String(n).padStart(2, '0');

// fmtTime: local "2026-11-26 14:05".
export function fmtTime(t) {
  const v = ms(t);
  if (v == null) return '–';
  const d = new Date(v);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function fmtDate(t) {
  const v = ms(t);
  if (v == null) return '–';
  const d = new Date(v);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export function isoUTC(t) {
  const v = ms(t);
  return v == null ? '' : new Date(v).toISOString().replace('.000Z', 'Z');
}

// fmtDays: a time span as the API's summaries write it ("2.4 days",
// "18 hours").
export function fmtDays(span) {
  if (span == null) return '–';
  const d = span / DAY;
  if (Math.abs(d) < 1) return `${Math.round(span / HOUR)} hours`;
  return `${d.toFixed(1)} days`;
}

// fmtDaysNum: a span in days with one decimal ("2.4").
export function fmtDaysNum(span) {
  return span == null ? '?' : (span / DAY).toFixed(1);
}

// fmtSpan: "3d 4h", "2h 10m", "45m", "12s".
export function fmtSpan(span) {
  if (span == null) return '–';
  let s = Math.abs(span) / 1000;
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m`;
  return `${Math.floor(s)}s`;
}

// fmtRel: "in 3h 20m" / "2d 4h ago".
export function fmtRel(t, now = Date.now()) {
  const v = ms(t);
  if (v == null) return '–';
  const d = v - now;
  if (Math.abs(d) < 30e3) return 'now';
  return d > 0 ? `in ${fmtSpan(d)}` : `${fmtSpan(d)} ago`;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
export function fmtBytes(v, digits = 3) {
  if (v == null || !Number.isFinite(v)) return '–';
  let x = Math.abs(v);
  let i = 0;
  while (x >= 1024 && i < UNITS.length - 1) {
    x /= 1024;
    i++;
  }
  const s = x >= 100 || i === 0 ? x.toFixed(0) : String(Number(x.toPrecision(digits)));
  return (v < 0 ? '-' : '') + s + ' ' + UNITS[i];
}

export function fmtNum(v, digits = 4) {
  if (v == null || !Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(2);
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  return String(Number(v.toPrecision(digits)));
}

export function fmtPct(v, digits = 1) {
  if (v == null || !Number.isFinite(v)) return '–';
  return `${v.toFixed(digits)}%`;
}

export function fmtP(p) {
  if (p == null || !Number.isFinite(p)) return '–';
  return p < 1e-4 ? p.toExponential(1) : p.toPrecision(2);
}

export function label(s) {
  return String(s ?? '').replaceAll('_', ' ');
}

// severity of a prediction by its time to breach, as the default ticket
// policy grades it (disk and memory: < 1 d critical, < 3 d major, < 7 d
// minor; month-end: < 30 d minor). Not at risk: ok; failed: error.
export function severity(p, computedAt) {
  if (p.error || p.status === 'error') return 'error';
  if (p.status === 'insufficient_history') return 'info';
  if (!p.at_risk) return 'ok';
  const b = ms(p.breach_at);
  if (b == null) return 'minor';
  const left = b - (ms(computedAt) ?? Date.now());
  const minor = p.kind === 'monthend' ? 30 * DAY : 7 * DAY;
  if (left < DAY) return 'critical';
  if (left < 3 * DAY) return 'major';
  if (left < minor) return 'minor';
  return 'watch';
}

export const SEVERITY_LABEL = {
  critical: 'critical', major: 'major', minor: 'minor', watch: 'watch', ok: 'ok', info: 'no data', error: 'error',
};

// where names the entity as the summaries do: "/data", "erp-app",
// "cpu.usage_active".
export function what(entity) {
  const e = entity || {};
  return ['path', 'service', 'process_name', 'metric'].map((k) => e[k]).filter(Boolean).join(' ') ||
    Object.entries(e).filter(([k]) => k !== 'host').map(([k, v]) => `${k}=${v}`).join(' ');
}
