// Entry point: sign-in gate, the app shell, and hash routing between Connect and Usage.
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { api, setUnauthenticatedHandler, type ApiErrorCode } from './api.js';
import type { WhoAmI } from './contract.js';
import { mountConnect } from './connect/connect-page.js';
import { esc, installCopyHandler } from './dom.js';
import type { Cleanup, Page, PageContext } from './page.js';
import { clearSession, saveSignInToken, signInToken } from './session.js';
import { renderSignIn } from './signin-page.js';
import { mountUsage } from './usage/usage-page.js';

interface Route {
  readonly hash: string;
  readonly label: string;
  readonly title: string;
  readonly mount: Page;
}

const ROUTES: readonly Route[] = [
  { hash: '#/connect', label: 'Connect', title: 'Connect', mount: mountConnect },
  { hash: '#/usage', label: 'Usage', title: 'Usage', mount: mountUsage },
];

/** Failures worth a retry button rather than a return to sign-in. */
const TRANSIENT = new Set<ApiErrorCode>(['network', 'unavailable', 'unknown']);

const root = requireRoot();
let signedIn: PageContext | null = null;
let stopPage: Cleanup | null = null;

installCopyHandler(root);
setUnauthenticatedHandler((_message, token) => {
  // A revoked or expired sign-in token: leave the app. Ignore stray answers after sign-out, and answers to
  // requests sent with the token this tab used before rotating it.
  if (signedIn && token === signedIn.auth.token) signOut('Your session ended: the token is no longer valid. Sign in again.');
});
window.addEventListener('hashchange', () => {
  if (signedIn) showRoute(signedIn);
});
void start();

async function start(): Promise<void> {
  const token = signInToken();
  if (token === null) return showSignIn(null);
  root.innerHTML = `<div class="boot" role="status">Loading…</div>`;
  const who = await api.whoami(token);
  if (who.ok && who.value.scope !== 'ingest') return enter(token, who.value);
  if (!who.ok && TRANSIENT.has(who.code)) {
    root.innerHTML = `<div class="boot"><div class="card state state-error" role="alert">
      <h1>Cannot reach the service</h1><p>${esc(who.message)}</p>
      <button type="button" class="btn btn-primary" data-testid="boot-retry">Retry</button></div></div>`;
    root.querySelector('[data-testid="boot-retry"]')?.addEventListener('click', () => void start());
    return;
  }
  clearSession();
  showSignIn(who.ok ? 'Sign in with a read or admin token.' : 'Your session ended. Sign in again.');
}

function showSignIn(notice: string | null): void {
  document.title = 'Sign in · AI Usage';
  renderSignIn(root, notice, (token, who) => {
    saveSignInToken(token);
    enter(token, who);
  });
}

function enter(token: string, whoami: WhoAmI): void {
  signedIn = { auth: { token, tokenId: whoami.tokenId }, whoami, isAdmin: whoami.scope === 'admin' };
  root.innerHTML = `
    <header class="topbar">
      <div class="topbar-inner">
        <div class="brand"><span class="brand-mark" aria-hidden="true"></span>AI Usage</div>
        <nav class="nav" aria-label="Main">
          ${ROUTES.map((r) => `<a href="${r.hash}" class="nav-link" data-testid="nav-${r.label.toLowerCase()}">${esc(r.label)}</a>`).join('')}
        </nav>
        <div class="who">
          <span class="who-tenant" title="Tenant" data-testid="who-tenant">${esc(whoami.tenant)}</span>
          <span class="badge badge-${esc(whoami.scope)}" data-testid="who-scope">${esc(whoami.scope)}</span>
          <button type="button" class="btn btn-ghost btn-small" data-testid="sign-out">Sign out</button>
        </div>
      </div>
    </header>
    <main id="main" class="page" tabindex="-1"></main>`;
  root.querySelector('[data-testid="sign-out"]')?.addEventListener('click', () => signOut(null));
  showRoute(signedIn);
}

function signOut(notice: string | null): void {
  stopPage?.();
  stopPage = null;
  signedIn = null;
  clearSession();
  showSignIn(notice);
}

function showRoute(context: PageContext): void {
  const route = ROUTES.find((r) => r.hash === location.hash);
  if (!route) {
    // Unknown or empty hash: Connect is the landing page. Replacing keeps Back from bouncing.
    history.replaceState(null, '', ROUTES[0]?.hash ?? '#/connect');
    return showRoute(context);
  }
  stopPage?.();
  const main = root.querySelector<HTMLElement>('#main');
  if (!main) return;
  for (const link of root.querySelectorAll<HTMLAnchorElement>('.nav-link')) {
    if (link.getAttribute('href') === route.hash) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  document.title = `${route.title} · AI Usage`;
  main.innerHTML = '';
  stopPage = route.mount(main, context);
}

function requireRoot(): HTMLElement {
  const element = document.getElementById('app');
  if (!element) throw new Error('the page has no #app element');
  return element;
}
