// HTML for the Tokens card (admins): issue form, the shown-once panel, and the token list.
import type { IssuedToken, Scope, TokenInfo } from '../contract.js';
import { copyButton, esc } from '../dom.js';
import { formatAgo, formatDateTime } from '../format.js';

const SCOPES: readonly { value: Scope; label: string }[] = [
  { value: 'ingest', label: 'Ingest — sends telemetry (Claude Code, Cowork)' },
  { value: 'read', label: 'Read — signs in here, reads usage' },
  { value: 'admin', label: 'Admin — also manages tokens' },
];

/** What a row's action cell shows: the buttons, or an inline confirmation for one action. */
export type PendingAction = { readonly id: string; readonly action: 'revoke' | 'rotate' } | null;

export function tokensShellHtml(): string {
  return `
    <form class="inline-form" data-testid="token-issue-form">
      <label class="field field-inline">
        <span class="field-label">Scope</span>
        <select name="scope" data-testid="token-scope">
          ${SCOPES.map((s) => `<option value="${s.value}">${esc(s.label)}</option>`).join('')}
        </select>
      </label>
      <button type="submit" class="btn btn-primary" data-testid="token-issue">Issue token</button>
    </form>
    <p class="form-error" role="alert" data-testid="token-error"></p>
    <div data-testid="token-once-slot"></div>
    <div class="table-wrap"><table class="table tokens-table" data-testid="token-table">
      <caption class="visually-hidden">API tokens of this tenant</caption>
      <thead><tr><th scope="col">Scope</th><th scope="col">Token</th><th scope="col">Created</th>
        <th scope="col">Last used</th><th scope="col">Status</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
      <tbody data-testid="token-rows"><tr><td colspan="6" class="muted">Loading tokens…</td></tr></tbody>
    </table></div>`;
}

export function onceHtml(issued: IssuedToken, verb: 'issued' | 'rotated'): string {
  const fills = issued.scope === 'ingest' ? ' It is now filled into the setup snippets above for this session.' : '';
  return `<div class="once" data-testid="token-once" role="status">
      <p class="once-title"><strong>New ${esc(issued.scope)} token ${verb}.</strong>
        Copy it now — <strong>you won't see it again</strong>.${fills}</p>
      <div class="once-row">
        <code class="once-token" id="token-once-value" data-testid="token-once-value">${esc(issued.token)}</code>
        ${copyButton('token-once-value', 'token-once-copy')}
      </div>
      <button type="button" class="btn btn-small btn-ghost" data-testid="token-once-dismiss">I have saved it</button>
    </div>`;
}

export function tokenRowsHtml(tokens: readonly TokenInfo[], ownTokenId: string, pending: PendingAction, now: number): string {
  if (tokens.length === 0) return `<tr><td colspan="6" class="muted">No tokens yet.</td></tr>`;
  return sortTokens(tokens)
    .map((t) => {
      const revoked = t.revokedAt !== null;
      const own = t.id === ownTokenId ? ' <span class="badge badge-muted" data-testid="token-this-session">this session</span>' : '';
      return `<tr data-testid="token-row" data-token-id="${esc(t.id)}" data-scope="${esc(t.scope)}"
          data-status="${revoked ? 'revoked' : 'active'}"${revoked ? ' class="is-revoked"' : ''}>
        <td><span class="badge badge-${esc(t.scope)}">${esc(t.scope)}</span></td>
        <td><code>${esc(t.prefix)}…</code>${own}</td>
        <td>${when(t.createdAt, now)}</td>
        <td data-testid="token-last-used">${t.lastUsedAt === null ? '<span class="muted">never</span>' : when(t.lastUsedAt, now)}</td>
        <td data-testid="token-status">${statusBadge(t.revokedAt)}</td>
        <td class="actions">${revoked ? '' : actionsHtml(t, t.id === ownTokenId, pending)}</td>
      </tr>`;
    })
    .join('');
}

function statusBadge(revokedAt: string | null): string {
  if (revokedAt === null) return '<span class="badge badge-ok">active</span>';
  return `<span class="badge badge-revoked" title="Revoked ${esc(formatDateTime(revokedAt))}">revoked</span>`;
}

function actionsHtml(token: TokenInfo, own: boolean, pending: PendingAction): string {
  const id = esc(token.id);
  if (pending?.id !== token.id) {
    return `<button type="button" class="btn btn-small" data-action="rotate" data-id="${id}" data-testid="token-rotate">Rotate</button>
      <button type="button" class="btn btn-small btn-danger-quiet" data-action="revoke" data-id="${id}" data-testid="token-revoke">Revoke</button>`;
  }
  const warning =
    pending.action === 'revoke'
      ? own
        ? 'Revoke the token you signed in with? You will be signed out.'
        : 'Revoke? Everything using it stops working.'
      : own
        ? 'Rotate the token you signed in with? This tab switches to the new one.'
        : 'Rotate? The old token stops working.';
  const label = pending.action === 'revoke' ? 'Revoke' : 'Rotate';
  return `<span class="confirm" role="group" aria-label="Confirm ${label.toLowerCase()}">
      <span class="confirm-text">${esc(warning)}</span>
      <button type="button" class="btn btn-small ${pending.action === 'revoke' ? 'btn-danger' : 'btn-primary'}"
        data-action="confirm-${pending.action}" data-id="${id}" data-testid="token-confirm">${label}</button>
      <button type="button" class="btn btn-small btn-ghost" data-action="cancel" data-testid="token-cancel">Cancel</button>
    </span>`;
}

function sortTokens(tokens: readonly TokenInfo[]): TokenInfo[] {
  return [...tokens].sort((a, b) => {
    const revoked = Number(a.revokedAt !== null) - Number(b.revokedAt !== null);
    return revoked !== 0 ? revoked : b.createdAt.localeCompare(a.createdAt);
  });
}

function when(iso: string, now: number): string {
  return `<time datetime="${esc(iso)}" title="${esc(formatDateTime(iso))}">${esc(formatAgo(iso, now))}</time>`;
}
