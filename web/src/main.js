// Foresight console: the shell (header, session, theme, wall mode) and the
// hash router (#/risk, #/prediction/<id>, #/tickets, #/tickets/<row_id>,
// #/jobs, #/jobs/<name>, #/login).
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { api, ApiError, can, session, setToken, setUnauthorizedHandler } from './api.js';
import { h, replace } from './dom.js';
import { problemNotice } from './ui.js';
import { loginPage } from './pages/login.js';
import { riskPage } from './pages/risk.js';
import { predictionPage } from './pages/prediction.js';
import { ticketsPage } from './pages/tickets.js';
import { ticketPage } from './pages/ticket.js';
import { jobsPage, jobPage } from './pages/jobs.js';

const routes = [
  { re: /^\/login$/, page: loginPage, name: 'login', open: true },
  { re: /^\/risk$/, page: riskPage, name: 'risk', nav: 'risk' },
  { re: /^\/prediction\/(.+)$/, page: predictionPage, name: 'prediction', nav: 'risk' },
  { re: /^\/tickets$/, page: ticketsPage, name: 'tickets', nav: 'tickets' },
  { re: /^\/tickets\/(\d+)$/, page: ticketPage, name: 'ticket', nav: 'tickets' },
  { re: /^\/jobs$/, page: jobsPage, name: 'jobs', nav: 'jobs' },
  { re: /^\/jobs\/([^/]+)$/, page: jobPage, name: 'job', nav: 'jobs' },
];

const app = document.getElementById('app');
let current = null; // {controller, timers}
let loginMessage = '';

// ---- theme and wall mode -------------------------------------------------

function storedPref(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}
function storePref(key, v) {
  try {
    if (v == null) localStorage.removeItem(key);
    else localStorage.setItem(key, v);
  } catch {
    // ignore
  }
}

function theme() {
  const t = storedPref('foresight.theme');
  if (t === 'light' || t === 'dark') return t;
  return window.matchMedia && window.matchMedia('(prefers-color-scheme: light)').matches ? 'light' : 'dark';
}

function applyTheme() {
  document.documentElement.dataset.theme = theme();
}

function queryFlag(name) {
  const fromSearch = new URLSearchParams(location.search).get(name);
  const hashQuery = location.hash.split('?')[1] || '';
  return fromSearch || new URLSearchParams(hashQuery).get(name);
}

function wall() {
  const k = queryFlag('kiosk') ?? queryFlag('wall');
  if (k === '1' || k === 'true') return true;
  if (k === '0' || k === 'false') return false;
  return storedPref('foresight.wall') === '1';
}

function applyWall() {
  document.body.classList.toggle('wall', wall());
}

// ---- header -----------------------------------------------------------

const header = h('header.topbar');
const view = h('main', { id: 'view' });
app.append(header, view);

function renderHeader(activeNav) {
  const u = session.user;
  const navLink = (id, text) => h('a', { href: '#/' + id, class: activeNav === id ? 'active' : null, id: 'nav-' + id }, text);
  const clock = h('span.clock', { id: 'clock' });
  const tick = () => {
    const d = new Date();
    clock.textContent = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  };
  tick();
  replace(
    header,
    h('a.brand', { href: '#/risk' }, h('span.logo', { 'aria-hidden': 'true' }), 'Foresight'),
    u ? h('nav.nav', null, navLink('risk', 'Risk'), navLink('tickets', 'Tickets'), navLink('jobs', 'Jobs')) : null,
    h('span.spacer'),
    document.body.classList.contains('wall') ? clock : null,
    u
      ? h('span.who', { id: 'who', dataset: { role: u.role, name: u.name } },
        h('span.name', null, u.name),
        h('span', { class: 'badge role-' + u.role, id: 'role' }, u.role))
      : null,
    h('button.ghost', {
      title: 'Switch between the dark and the light theme', id: 'theme-toggle',
      onclick: () => {
        storePref('foresight.theme', theme() === 'dark' ? 'light' : 'dark');
        applyTheme();
        route();
      },
    }, theme() === 'dark' ? 'Light' : 'Dark'),
    h('button.ghost', {
      title: 'Wall display: large type, no navigation, auto-refresh', id: 'wall-toggle',
      onclick: () => {
        storePref('foresight.wall', document.body.classList.contains('wall') ? '0' : '1');
        const url = new URL(location.href);
        url.searchParams.delete('kiosk');
        url.searchParams.delete('wall');
        history.replaceState(null, '', url.pathname + url.search + stripFlags(url.hash));
        applyWall();
        route();
      },
    }, document.body.classList.contains('wall') ? 'Exit wall' : 'Wall'),
    u && u.auth_enabled
      ? h('button.ghost', { id: 'logout', onclick: () => logout('Signed out.') }, 'Sign out')
      : null,
  );
}

function stripFlags(hash) {
  const [path, q] = hash.split('?');
  if (!q) return hash;
  const p = new URLSearchParams(q);
  p.delete('kiosk');
  p.delete('wall');
  const s = p.toString();
  return s ? `${path}?${s}` : path;
}

// ---- session ------------------------------------------------------------

// checkSession asks whoami who we are: with the stored token, or without
// any when none is stored (an API with auth off answers anyway).
async function checkSession() {
  try {
    const r = await api('/api/v1/whoami', { quiet401: true });
    session.user = r.data;
    return null;
  } catch (e) {
    session.user = null;
    if (e instanceof ApiError && e.status === 401) {
      if (session.token) {
        setToken('');
        loginMessage = 'Your token was refused: ' + (e.detail || e.title) + '. Sign in again.';
      }
      return null;
    }
    return e;
  }
}

function logout(message) {
  setToken('');
  session.user = null;
  loginMessage = message || '';
  location.hash = '#/login';
}

setUnauthorizedHandler((err) => {
  if (!session.user || !session.user.auth_enabled) return;
  const next = location.hash.replace(/^#/, '');
  setToken('');
  session.user = null;
  loginMessage = 'Your session ended: ' + (err.detail || err.title) + '. Sign in again.';
  location.hash = '#/login?next=' + encodeURIComponent(next.startsWith('/login') ? '/risk' : next);
});

export async function signedIn(user, next) {
  session.user = user;
  loginMessage = '';
  location.hash = '#' + (next && next.startsWith('/') && !next.startsWith('/login') ? next : '/risk');
}

// ---- router ---------------------------------------------------------------

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/risk';
  const [path, q] = raw.split('?');
  return { path: path || '/risk', query: Object.fromEntries(new URLSearchParams(q || '')) };
}

async function route() {
  if (current) {
    current.controller.abort();
    current.timers.forEach(clearInterval);
  }
  const { path, query } = parseHash();
  let match = null;
  let params = [];
  for (const r of routes) {
    const m = path.match(r.re);
    if (m) {
      match = r;
      params = m.slice(1).map((s) => {
        try {
          return decodeURIComponent(s);
        } catch {
          return s;
        }
      });
      break;
    }
  }
  if (!match) {
    location.replace('#/risk');
    return;
  }
  if (!match.open && !session.user) {
    location.replace('#/login?next=' + encodeURIComponent(path + (Object.keys(query).length ? '?' + new URLSearchParams(query) : '')));
    return;
  }
  const controller = new AbortController();
  const timers = [];
  current = { controller, timers };
  renderHeader(match.nav);
  const pageView = h('div', { id: 'page', dataset: { page: match.name } });
  replace(view, pageView);
  document.title = 'Foresight';
  const ctx = {
    view: pageView,
    params,
    query,
    signal: controller.signal,
    wall: document.body.classList.contains('wall'),
    canOperate: can('operator'),
    user: session.user,
    loginMessage,
    signedIn,
    title(t) {
      document.title = t ? `${t} · Foresight` : 'Foresight';
    },
    // every runs fn every ms until the user leaves the page.
    every(msec, fn) {
      timers.push(setInterval(() => {
        if (!controller.signal.aborted) fn();
      }, msec));
    },
    // setQuery keeps the page's state in the address without re-routing.
    setQuery(q) {
      const s = new URLSearchParams(Object.entries(q).filter(([, v]) => v !== '' && v != null && v !== false)).toString();
      history.replaceState(null, '', location.pathname + location.search + '#' + path + (s ? '?' + s : ''));
    },
  };
  try {
    await match.page(ctx);
    if (!controller.signal.aborted) pageView.dataset.ready = 'true';
  } catch (e) {
    if (e && e.name === 'AbortError') return;
    if (controller.signal.aborted) return;
    if (e instanceof ApiError && e.status === 401) return; // handled: back to login
    if (!(e instanceof ApiError)) console.error(e);
    pageView.prepend(problemNotice(e));
    pageView.dataset.ready = 'true';
    pageView.dataset.error = e instanceof ApiError ? String(e.status) : 'script';
  }
}

// ---- boot --------------------------------------------------------------------

async function boot() {
  applyTheme();
  applyWall();
  if (window.matchMedia) {
    window.matchMedia('(prefers-color-scheme: light)').addEventListener?.('change', () => {
      if (!storedPref('foresight.theme')) {
        applyTheme();
        route();
      }
    });
  }
  renderHeader('');
  const err = await checkSession();
  if (err) {
    loginMessage = err.status === 403
      ? 'This token may not use the console: ' + err.detail
      : 'Cannot check the session: ' + (err.detail || err.title);
    if (session.token && err.status === 403) setToken('');
  }
  window.addEventListener('hashchange', route);
  setInterval(() => {
    const c = document.getElementById('clock');
    if (c) {
      const d = new Date();
      c.textContent = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
    }
  }, 10e3);
  route();
}

boot();
