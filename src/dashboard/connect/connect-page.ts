// The Connect page: live status, setup snippets, and (for admins) token management.
import { api } from '../api.js';
import type { ConnectSetup } from '../contract.js';
import { byId, esc } from '../dom.js';
import type { Cleanup, PageContext } from '../page.js';
import { ingestToken } from '../session.js';
import type { OtlpProtocol } from '../../api/setup-snippets.js';
import { policyHtml } from './policy-view.js';
import { setupHtml } from './setup-view.js';
import { POLL_SECONDS, statusHtml, statusTitle } from './status-view.js';
import { mountTokens } from './tokens-card.js';

export function mountConnect(root: HTMLElement, context: PageContext): Cleanup {
  root.innerHTML = `
    <div class="page-head">
      <h1>Connect</h1>
      <p class="muted">Point Claude Code and Claude Cowork at this receiver, then watch the data arrive.</p>
    </div>
    <section class="card" aria-labelledby="status-heading">
      <h2 id="status-heading">Status</h2>
      <div data-testid="connect-status-slot"><p class="muted">Checking…</p></div>
      <p class="form-error" data-testid="connect-status-error" role="alert"></p>
      <p class="visually-hidden" aria-live="polite" data-testid="connect-status-live"></p>
    </section>
    <section class="card" aria-labelledby="setup-heading">
      <h2 id="setup-heading">Setup</h2>
      <div data-testid="setup-slot"><p class="muted">Loading…</p></div>
    </section>
    <section class="card" aria-labelledby="policy-heading">
      <h2 id="policy-heading">Privacy and retention</h2>
      <div data-testid="policy-slot"><p class="muted">Loading…</p></div>
    </section>
    ${context.isAdmin ? `<section class="card" id="tokens-card" aria-labelledby="tokens-heading">
      <h2 id="tokens-heading">Tokens</h2>
      <p class="muted">Ingest tokens go into Claude Code and Cowork. Read and admin tokens sign in here and call the API.</p>
      <div data-testid="tokens-slot"></div>
    </section>` : ''}`;

  const setup = mountSetup(byId(root, 'setup-slot'), context);
  void loadPolicy(byId(root, 'policy-slot'), context);
  const tokens = context.isAdmin ? mountTokens(byId(root, 'tokens-slot'), context, setup.refresh) : null;
  // Each status check also refreshes the tokens' "last used": the data it reports arrived with one of them.
  // Not only when the status changes: the receiver records token use a few seconds after the request.
  const stopStatus = pollStatus(root, context, () => tokens?.refresh());
  root.addEventListener('click', (event) => {
    const target = (event.target as Element | null)?.closest<HTMLElement>('[data-scroll-to]');
    const destination = target ? document.getElementById(target.dataset['scrollTo'] ?? '') : null;
    destination?.scrollIntoView({ behavior: 'smooth', block: 'start' });
    destination?.querySelector<HTMLElement>('select, button')?.focus({ preventScroll: true });
  });
  return () => {
    stopStatus();
    tokens?.stop();
  };
}

function pollStatus(root: HTMLElement, context: PageContext, onChecked: () => void): Cleanup {
  const slot = byId(root, 'connect-status-slot');
  const error = byId(root, 'connect-status-error');
  const live = byId(root, 'connect-status-live');
  let stopped = false;
  let timer = 0;
  let inFlight: AbortController | null = null;
  let checks = 0;

  const tick = async (): Promise<void> => {
    inFlight = new AbortController();
    const result = await api.connectStatus(context.auth.token, inFlight.signal);
    inFlight = null;
    if (stopped) return;
    if (result.ok) {
      slot.innerHTML = statusHtml(result.value, Date.now());
      error.textContent = '';
      const title = statusTitle(result.value);
      if (live.textContent !== title) live.textContent = title;
      if (checks++ > 0) onChecked();
    } else if (result.code !== 'aborted') {
      error.textContent = `Could not refresh the status: ${result.message}`;
    }
    timer = window.setTimeout(() => void tick(), POLL_SECONDS * 1000);
  };
  void tick();
  return () => {
    stopped = true;
    window.clearTimeout(timer);
    (inFlight as AbortController | null)?.abort();
  };
}

function mountSetup(slot: HTMLElement, context: PageContext): { refresh: () => void } {
  let setup: ConnectSetup | null = null;
  let protocol: OtlpProtocol = 'grpc';
  const render = (): void => {
    if (!setup) return;
    slot.innerHTML = setupHtml({ setup, protocol, token: ingestToken()?.token ?? null, isAdmin: context.isAdmin });
  };
  const load = async (): Promise<void> => {
    const result = await api.connectSetup(context.auth.token);
    if (result.ok) {
      setup = result.value;
      render();
      return;
    }
    slot.innerHTML = `<div class="state state-error" role="alert"><p>Could not load the setup: ${esc(result.message)}</p>
      <button type="button" class="btn" data-testid="setup-retry">Retry</button></div>`;
  };
  slot.addEventListener('change', (event) => {
    const input = event.target as HTMLInputElement;
    if (input.name !== 'setup-protocol') return;
    protocol = input.value === 'grpc' ? 'grpc' : 'http/protobuf';
    render();
    slot.querySelector<HTMLInputElement>(`input[name="setup-protocol"][value="${protocol}"]`)?.focus();
  });
  slot.addEventListener('click', (event) => {
    if ((event.target as Element | null)?.closest('[data-testid="setup-retry"]')) void load();
  });
  void load();
  return { refresh: render };
}

async function loadPolicy(slot: HTMLElement, context: PageContext): Promise<void> {
  const result = await api.tenant(context.auth.token);
  slot.innerHTML = result.ok
    ? policyHtml(result.value)
    : `<p class="form-error" role="alert">Could not load the policy: ${esc(result.message)}</p>`;
}
