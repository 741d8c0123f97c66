// Login: a token, checked with GET /api/v1/whoami and kept in
// localStorage. With auth off the API answers whoami without a token and
// the console skips this page.
import { api, ApiError, session, setToken } from '../api.js';
import { h } from '../dom.js';
import { problemNotice } from '../ui.js';

export async function loginPage(ctx) {
  ctx.title('Sign in');
  const next = ctx.query.next || '/risk';
  if (session.user && !session.user.auth_enabled) {
    ctx.signedIn(session.user, next);
    return;
  }
  const input = h('input', {
    id: 'token', type: 'password', autocomplete: 'off', spellcheck: 'false', placeholder: 'fst_…',
    'aria-label': 'API token',
  });
  const error = h('div', { id: 'login-error' });
  const button = h('button.primary', { type: 'submit', id: 'login-submit' }, 'Sign in');
  const form = h('form', {
    onsubmit: async (ev) => {
      ev.preventDefault();
      const token = input.value.trim();
      error.replaceChildren();
      if (!token) {
        error.append(problemNotice(new ApiError(0, { title: 'Token required', detail: 'paste an API token' })));
        return;
      }
      button.disabled = true;
      try {
        const r = await api('/api/v1/whoami', { token, quiet401: true });
        setToken(token);
        ctx.signedIn(r.data, next);
      } catch (e) {
        if (e.name === 'AbortError') return;
        error.append(problemNotice(e, 'Sign-in failed'));
        input.select();
      } finally {
        button.disabled = false;
      }
    },
  },
  h('div.row', null, h('label', { for: 'token' }, 'API token')),
  h('div.row', null, input),
  error,
  h('div.row', null, button));
  ctx.view.append(h('div.login', null,
    ctx.loginMessage ? h('div.notice.warn', { id: 'login-message' }, ctx.loginMessage) : null,
    h('section.panel', null,
      h('header', null, h('h2', null, 'Sign in to Foresight')),
      h('div.body', null,
        h('p', null, 'Paste an API token. An administrator creates one with ',
          h('code', null, 'foresight token create -name you -role operator'),
          '. Viewers read; operators also work tickets and run jobs.'),
        form))));
  input.focus();
}
