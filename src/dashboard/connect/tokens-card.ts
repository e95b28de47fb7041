// Token management for admins: issue, list, revoke and rotate, each new secret shown exactly once.
import { api } from '../api.js';
import type { IssuedToken, Scope, TokenInfo } from '../contract.js';
import { byId } from '../dom.js';
import type { Cleanup, PageContext } from '../page.js';
import { forgetIngestToken, rememberIngestToken, saveSignInToken } from '../session.js';
import { onceHtml, tokenRowsHtml, tokensShellHtml, type PendingAction } from './tokens-view.js';

export interface TokensCard {
  /**
   * Lists the tokens again in the background (last use changes as data arrives) and redraws them,
   * unless the admin is in the middle of something there: a confirmation, a request, or focus in the list.
   */
  refresh(): void;
  stop: Cleanup;
}

export function mountTokens(slot: HTMLElement, context: PageContext, onIngestTokenChanged: () => void): TokensCard {
  slot.innerHTML = tokensShellHtml();
  const form = byId<HTMLFormElement>(slot, 'token-issue-form');
  const scope = byId<HTMLSelectElement>(slot, 'token-scope');
  const issueButton = byId<HTMLButtonElement>(slot, 'token-issue');
  const error = byId(slot, 'token-error');
  const onceSlot = byId(slot, 'token-once-slot');
  const rows = byId(slot, 'token-rows');
  let tokens: TokenInfo[] = [];
  let pending: PendingAction = null;
  let busy = false;
  let stopped = false;
  let refreshing = false;
  let drawn = '';

  /** Redraws the list; a background refresh that would draw the same leaves the DOM alone. */
  const renderRows = (onlyIfChanged = false): void => {
    const html = tokenRowsHtml(tokens, context.auth.tokenId, pending, Date.now());
    if (onlyIfChanged && html === drawn) return;
    drawn = html;
    rows.innerHTML = html;
  };
  const reload = async (): Promise<void> => {
    const result = await api.listTokens(context.auth.token);
    if (stopped) return;
    if (result.ok) {
      tokens = result.value.tokens;
      renderRows();
    } else {
      error.textContent = `Could not list tokens: ${result.message}`;
    }
  };
  const interacting = (): boolean => busy || pending !== null || rows.contains(document.activeElement);
  const refresh = (): void => {
    if (stopped || refreshing || interacting()) return;
    refreshing = true;
    void api.listTokens(context.auth.token).then((result) => {
      refreshing = false;
      // The admin may have started something while the list was on its way: leave the rows alone then.
      if (stopped || !result.ok || interacting()) return;
      tokens = result.value.tokens;
      renderRows(true);
    });
  };
  const onFocus = (): void => {
    if (document.visibilityState === 'visible') refresh();
  };
  window.addEventListener('focus', onFocus);
  document.addEventListener('visibilitychange', onFocus);
  const showOnce = (issued: IssuedToken, verb: 'issued' | 'rotated'): void => {
    rememberIngestToken(issued);
    if (issued.scope === 'ingest') onIngestTokenChanged();
    onceSlot.innerHTML = onceHtml(issued, verb);
    byId(onceSlot, 'token-once-copy').focus();
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (busy) return;
    busy = true;
    issueButton.disabled = true;
    error.textContent = '';
    void api.issueToken(context.auth.token, scope.value as Scope).then(async (result) => {
      busy = false;
      issueButton.disabled = false;
      if (!result.ok) {
        error.textContent = `Could not issue a token: ${result.message}`;
        return;
      }
      showOnce(result.value, 'issued');
      await reload();
    });
  });

  onceSlot.addEventListener('click', (event) => {
    if ((event.target as Element | null)?.closest('[data-testid="token-once-dismiss"]')) {
      onceSlot.innerHTML = '';
      issueButton.focus();
    }
  });

  rows.addEventListener('click', (event) => {
    const button = (event.target as Element | null)?.closest<HTMLButtonElement>('button[data-action]');
    if (!button || busy) return;
    const id = button.dataset['id'] ?? '';
    const action = button.dataset['action'];
    if (action === 'revoke' || action === 'rotate') pending = { id, action };
    else if (action === 'cancel') pending = null;
    else if (action === 'confirm-revoke') return void run(() => revoke(id));
    else if (action === 'confirm-rotate') return void run(() => rotate(id));
    renderRows();
    rows.querySelector<HTMLButtonElement>('[data-testid="token-confirm"]')?.focus();
  });

  const run = async (work: () => Promise<void>): Promise<void> => {
    busy = true;
    error.textContent = '';
    await work();
    busy = false;
    pending = null;
    if (!stopped) await reload();
  };
  const revoke = async (id: string): Promise<void> => {
    const result = await api.revokeToken(context.auth.token, id);
    if (!result.ok) {
      error.textContent = `Could not revoke the token: ${result.message}`;
      return;
    }
    forgetIngestToken(id);
    onIngestTokenChanged();
  };
  const rotate = async (id: string): Promise<void> => {
    const result = await api.rotateToken(context.auth.token, id);
    if (!result.ok) {
      error.textContent = `Could not rotate the token: ${result.message}`;
      return;
    }
    forgetIngestToken(id);
    if (id === context.auth.tokenId) {
      // The old sign-in token no longer works: carry on with the new one.
      context.auth.token = result.value.token;
      context.auth.tokenId = result.value.id;
      saveSignInToken(result.value.token);
    }
    showOnce(result.value, 'rotated');
  };

  void reload();
  return {
    refresh,
    stop: () => {
      stopped = true;
      window.removeEventListener('focus', onFocus);
      document.removeEventListener('visibilitychange', onFocus);
    },
  };
}
