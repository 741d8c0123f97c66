// Jobs: the scheduled predict and forecast jobs (GET /api/v1/jobs) with
// their schedule, next and last run and staleness, their runs
// (GET /api/v1/jobs/{name}/runs), and "Run now" for operators
// (POST /api/v1/jobs/{name}/trigger; 409 while a run is in progress).
import { api, can, enc } from '../api.js';
import { h, kv, panel, replace } from '../dom.js';
import { fmtRel, fmtSpan, fmtTime, ms } from '../format.js';
import { notice, problemNotice } from '../ui.js';

const REFRESH_MS = 30e3;

const fmtDur = (d) => (d < 60e3 ? `${(d / 1000).toFixed(1)} s` : fmtSpan(d));

// The last run arrives as a run record; accept both spellings.
function runOf(r) {
  if (!r) return null;
  const pick = (...k) => k.map((x) => r[x]).find((v) => v !== undefined);
  const started = pick('started_at', 'StartedAt');
  const finished = ms(pick('finished_at', 'FinishedAt')) == null ? null : pick('finished_at', 'FinishedAt');
  return {
    id: pick('id', 'ID'),
    started,
    finished,
    series: pick('series', 'Series', 'predictions'),
    failures: pick('failures', 'Failures') ?? 0,
    error: pick('error', 'Error') || '',
    running: r.running ?? !finished,
    duration: finished ? ms(finished) - ms(started) : null,
  };
}

function runStatus(run, running) {
  if (!run) return h('span.muted', null, 'never run');
  if (running || run.running) return h('span.badge.warn', null, 'running');
  if (run.error) return h('span.badge.bad', { title: run.error }, 'failed');
  if (run.failures) return h('span.badge.warn', null, `${run.failures} failed`);
  return h('span.badge.good', null, 'ok');
}

function triggerButton(ctx, name, flash, after) {
  if (!can('operator')) return null;
  const b = h('button', {
    dataset: { job: name },
    class: 'run-now',
    onclick: async (ev) => {
      ev.stopPropagation();
      b.disabled = true;
      try {
        const r = await api(`/api/v1/jobs/${enc(name)}/trigger`, { method: 'POST', signal: ctx.signal });
        replace(flash, notice('ok', h('span', { id: 'trigger-result', dataset: { job: name, runId: r.data.run_id } },
          `Started ${name}: run ${r.data.run_id}.`)));
      } catch (e) {
        if (e.name === 'AbortError' || e.status === 401) return;
        replace(flash, e.status === 409
          ? notice('warn', h('span', { id: 'trigger-result', dataset: { job: name, status: '409' } }, `${name} is already running: `, e.detail))
          : problemNotice(e, `Cannot run ${name}`));
      } finally {
        b.disabled = false;
      }
      after?.();
    },
  }, 'Run now');
  return b;
}

export async function jobsPage(ctx) {
  ctx.title('Jobs');
  const flash = h('div', { id: 'jobs-flash' });
  const tbody = h('tbody');
  const table = h('table.data', { id: 'jobs-table' },
    h('thead', null, h('tr', null, h('th', null, 'Job'), h('th', null, 'Type'), h('th', null, 'Schedule'), h('th', null, 'Next run'),
      h('th', null, 'Last run'), h('th', null, 'Result'), h('th.num', null, 'Series'), h('th.num', null, 'Duration'),
      h('th', null, 'Last success'), h('th', null, 'Fresh'), can('operator') ? h('th', null, '') : null)),
    tbody);
  ctx.view.append(
    h('div.page-head', null, h('h1', null, 'Jobs'), h('span.sub', null, 'scheduled predict and forecast jobs')),
    flash,
    h('section.panel', null, h('div.body.flush.table-wrap', null, table)));

  async function load() {
    const r = await api('/api/v1/jobs', { signal: ctx.signal });
    const list = r.data.jobs || [];
    table.dataset.count = String(list.length);
    replace(tbody, list.length ? list.map((j) => {
      const run = runOf(j.last_run);
      const href = '#/jobs/' + enc(j.name);
      return h('tr.clickable', {
        dataset: { job: j.name, stale: j.stale ? '1' : '0' },
        onclick: (ev) => {
          if (!ev.target.closest('a,button')) location.hash = href;
        },
      },
      h('td.nowrap', null, h('a', { href }, j.name)),
      h('td', null, j.type, j.kinds?.length ? h('span.muted', null, ` (${j.kinds.join(', ')})`) : null),
      h('td.nowrap', null, h('code', null, j.schedule), h('span.muted', null, ` ${j.tz || 'UTC'}`),
        j.only_in_close_window ? h('span.muted', null, ' · close window only') : null),
      h('td.nowrap', { title: fmtTime(j.next_run) }, j.next_run ? fmtRel(j.next_run) : h('span.muted', null, 'not scheduled')),
      h('td.nowrap', { title: run ? fmtTime(run.started) : null }, run ? fmtRel(run.started) : '–'),
      h('td', null, runStatus(run, j.running)),
      h('td.num', null, run?.series ?? '–'),
      h('td.num', null, run?.duration != null ? fmtDur(run.duration) : '–'),
      h('td.nowrap', { title: fmtTime(j.last_success_at) }, j.last_success_at ? fmtRel(j.last_success_at) : 'never'),
      h('td', null, j.stale ? h('span.badge.bad', null, 'stale') : h('span.badge.good', null, 'fresh')),
      can('operator') ? h('td', null, triggerButton(ctx, j.name, flash, () => load().catch(() => {}))) : null);
    }) : h('tr', null, h('td.empty', { colspan: 11 }, 'No job is configured (jobs.run).')));
  }

  await load();
  ctx.every(REFRESH_MS, () => load().catch((e) => {
    if (e.name !== 'AbortError' && e.status !== 401) replace(flash, problemNotice(e, 'Refresh failed'));
  }));
}

export async function jobPage(ctx) {
  const name = ctx.params[0];
  ctx.title(name);
  const flash = h('div', { id: 'jobs-flash' });
  const info = h('div');
  const runsBody = h('tbody');
  const runsTable = h('table.data', { id: 'runs-table' },
    h('thead', null, h('tr', null, h('th.num', null, 'Run'), h('th', null, 'Started'), h('th', null, 'Finished'), h('th.num', null, 'Duration'),
      h('th.num', null, 'Series'), h('th.num', null, 'Failures'), h('th', null, 'Result'), h('th', null, 'Error'))),
    runsBody);
  ctx.view.append(
    h('div.crumbs', null, h('a', { href: '#/jobs' }, 'Jobs'), ' › ', name),
    flash, info,
    panel('Runs', 'newest first', h('div.table-wrap', null, runsTable)));

  async function load() {
    const [j, runs] = await Promise.all([
      api(`/api/v1/jobs/${enc(name)}`, { signal: ctx.signal }),
      api(`/api/v1/jobs/${enc(name)}/runs?limit=50`, { signal: ctx.signal }),
    ]);
    const job = j.data;
    const last = runOf(job.last_run);
    replace(info,
      h('div.page-head', null, h('h1', null, job.name), h('span.badge.state', null, job.type),
        job.stale ? h('span.badge.bad', null, 'stale') : h('span.badge.good', null, 'fresh'),
        triggerButton(ctx, job.name, flash, () => load().catch(() => {}))),
      panel('Schedule', null, kv([
        ['Schedule', h('span', null, h('code', null, job.schedule), ` in ${job.tz || 'UTC'}`)],
        ['Kinds', job.kinds?.join(', ')],
        ['Close window only', job.only_in_close_window ? 'yes: scheduled runs only in the month-end close window' : null],
        ['Next run', job.next_run ? `${fmtTime(job.next_run)} (${fmtRel(job.next_run)})` : 'not scheduled'],
        ['Last run', last ? `${fmtTime(last.started)} (${fmtRel(last.started)})` : 'never'],
        ['Last success', job.last_success_at ? `${fmtTime(job.last_success_at)} (${fmtRel(job.last_success_at)})` : 'never'],
        ['Running', job.running ? 'yes' : 'no'],
        ['Failures of the last run', job.failures?.length
          ? h('ul', { style: { margin: 0, paddingLeft: '18px' } }, job.failures.map((f) => h('li', null, h('code', null, f.series), ': ', f.reason)))
          : null],
      ])));
    const list = (runs.data.runs || []).map(runOf);
    runsTable.dataset.count = String(list.length);
    replace(runsBody, list.length ? list.map((r) => h('tr', { dataset: { runId: r.id } },
      h('td.num', null, String(r.id)), h('td.nowrap', null, fmtTime(r.started)), h('td.nowrap', null, r.finished ? fmtTime(r.finished) : '–'),
      h('td.num', null, r.duration != null ? fmtDur(r.duration) : '–'), h('td.num', null, r.series ?? '–'), h('td.num', null, String(r.failures)),
      h('td', null, runStatus(r)), h('td', null, r.error))) : h('tr', null, h('td.empty', { colspan: 8 }, 'No run recorded yet.')));
  }

  await load();
  ctx.every(10e3, () => load().catch((e) => {
    if (e.name !== 'AbortError' && e.status !== 401) replace(flash, problemNotice(e, 'Refresh failed'));
  }));
}
