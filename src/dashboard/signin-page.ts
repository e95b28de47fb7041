// Sign in with a read or admin token; the token is checked against /whoami before it is kept.
import { api } from './api.js';
import type { WhoAmI } from './contract.js';
import { byId, esc } from './dom.js';

export function renderSignIn(root: HTMLElement, notice: string | null, onSignedIn: (token: string, who: WhoAmI) => void): void {
  root.innerHTML = `
    <main class="signin" id="main">
      <form class="card signin-card" data-testid="signin-form" novalidate>
        <div class="brand brand-large"><span class="brand-mark" aria-hidden="true"></span>AI Usage</div>
        <h1>Sign in</h1>
        <p class="muted">Paste a <strong>read</strong> or <strong>admin</strong> API token of your organization.
          Ingest tokens only send telemetry and cannot sign in.</p>
        <label class="field">
          <span class="field-label">API token</span>
          <input type="password" name="token" autocomplete="off" spellcheck="false" required
            data-testid="signin-token" placeholder="aiu_…" aria-describedby="signin-error">
        </label>
        <p class="form-error" id="signin-error" role="alert" data-testid="signin-error">${notice ? esc(notice) : ''}</p>
        <button type="submit" class="btn btn-primary btn-block" data-testid="signin-submit">Sign in</button>
        <p class="fine-print">The token stays in this browser tab only and is forgotten when you sign out or close the tab.</p>
      </form>
    </main>`;
  const form = byId<HTMLFormElement>(root, 'signin-form');
  const input = byId<HTMLInputElement>(root, 'signin-token');
  const error = byId(root, 'signin-error');
  const submit = byId<HTMLButtonElement>(root, 'signin-submit');
  input.focus();

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const token = input.value.trim();
    if (token === '') {
      error.textContent = 'Enter a token.';
      input.focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = 'Signing in…';
    error.textContent = '';
    void api.whoami(token).then((result) => {
      submit.disabled = false;
      submit.textContent = 'Sign in';
      if (!result.ok) {
        error.textContent =
          result.code === 'unauthenticated'
            ? 'This token is not valid, or it has been revoked.'
            : result.code === 'forbidden'
              ? 'This token cannot sign in. Use a read or admin token.'
              : result.message;
        input.select();
        return;
      }
      if (result.value.scope === 'ingest') {
        error.textContent = 'This is an ingest token. Sign in with a read or admin token.';
        input.select();
        return;
      }
      onSignedIn(token, result.value);
    });
  });
}
