// The REST client: the user's token as a bearer token, RFC 7807 problem
// documents turned into ApiError, If-None-Match support, and one place
// that sends the user back to the login page on 401.

const TOKEN_KEY = 'foresight.token';

export const session = {
  token: readToken(),
  user: null, // {name, role, token_id, auth_enabled}
};

function readToken() {
  try {
    return localStorage.getItem(TOKEN_KEY) || '';
  } catch {
    return '';
  }
}

export function setToken(t) {
  session.token = t || '';
  try {
    if (t) localStorage.setItem(TOKEN_KEY, t);
    else localStorage.removeItem(TOKEN_KEY);
  } catch {
    // private mode: keep it in memory only
  }
}

const RANK = { viewer: 1, operator: 2, admin: 3 };
export function can(role) {
  return (RANK[session.user?.role] || 0) >= RANK[role];
}

export class ApiError extends Error {
  constructor(status, problem, retryAfter) {
    const p = problem && typeof problem === 'object' ? problem : {};
    super(p.detail || p.title || `HTTP ${status}`);
    this.status = status;
    this.title = p.title || (status ? `HTTP ${status}` : 'Network error');
    this.detail = p.detail || '';
    this.requestId = p.request_id || '';
    this.retryAfter = retryAfter || '';
    this.problem = p;
  }
}

let onUnauthorized = () => {};
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

// api calls the API. Options: method, body (JSON), etag (If-None-Match),
// token (instead of the session's), signal, quiet401 (no redirect).
// Answers {status, data, etag}; status 304 carries no data.
export async function api(path, opts = {}) {
  const headers = { Accept: 'application/json' };
  const token = opts.token ?? session.token;
  if (token) headers.Authorization = 'Bearer ' + token;
  if (opts.etag) headers['If-None-Match'] = opts.etag;
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, {
      method: opts.method || 'GET',
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      cache: 'no-store',
      signal: opts.signal,
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, { title: 'Network error', detail: 'cannot reach the Foresight server (' + e.message + ')' });
  }
  if (res.status === 304) return { status: 304, data: null, etag: res.headers.get('ETag') };
  const type = res.headers.get('Content-Type') || '';
  let data = null;
  if (type.includes('json')) {
    try {
      data = await res.json();
    } catch {
      data = null;
    }
  } else {
    await res.text();
  }
  if (!res.ok) {
    const err = new ApiError(res.status, data || { title: res.statusText }, res.headers.get('Retry-After'));
    if (res.status === 401 && !opts.quiet401) onUnauthorized(err);
    throw err;
  }
  return { status: res.status, data, etag: res.headers.get('ETag') };
}

export const enc = encodeURIComponent;
