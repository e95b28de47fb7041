// The Connect status card: green while data arrives, a clear waiting state before the first record.
import type { ConnectStatus } from '../contract.js';
import { esc } from '../dom.js';
import { formatAgo, formatDateTime, plural } from '../format.js';
import { surfaceName } from './surfaces.js';

export const POLL_SECONDS = 5;

export type StatusState = 'receiving' | 'idle' | 'waiting';

export function statusState(status: ConnectStatus): StatusState {
  if (status.receiving) return 'receiving';
  return status.lastReceivedAt === null ? 'waiting' : 'idle';
}

/** The one-line summary, also announced to screen readers when it changes. */
export function statusTitle(status: ConnectStatus): string {
  switch (statusState(status)) {
    case 'receiving':
      return `Receiving from ${plural(status.seats, 'seat', 'seats')}`;
    case 'idle':
      return 'No data recently';
    case 'waiting':
      return 'Waiting for the first data…';
  }
}

export function statusHtml(status: ConnectStatus, now: number): string {
  const state = statusState(status);
  const last = status.lastReceivedAt;
  const detail =
    state === 'waiting'
      ? `Nothing has arrived for tenant <code>${esc(status.tenant)}</code> yet. This page checks every ${POLL_SECONDS} seconds.`
      : `Last data ${timeAgo(last ?? '', now)}${state === 'idle' ? ` from ${plural(status.seats, 'seat', 'seats')}` : ''} · checked every ${POLL_SECONDS} seconds`;
  return `
    <div class="status status-${state}" data-testid="connect-status" data-state="${state}" data-seats="${status.seats}">
      <span class="status-dot" aria-hidden="true"></span>
      <div class="status-body">
        <p class="status-title" data-testid="connect-status-text">${esc(statusTitle(status))}</p>
        <p class="status-detail">${detail}</p>
      </div>
    </div>
    ${state === 'waiting' ? waitingSteps() : surfacesList(status, now)}`;
}

function surfacesList(status: ConnectStatus, now: number): string {
  if (status.surfaces.length === 0) return '';
  const items = [...status.surfaces]
    .sort((a, b) => b.lastSeenAt.localeCompare(a.lastSeenAt))
    .map(
      (s) =>
        `<li class="surface" data-testid="connect-surface" data-surface="${esc(s.surface)}">` +
        `<span class="surface-name" data-testid="connect-surface-name">${esc(surfaceName(s.surface))}</span>` +
        `<span class="surface-seen">last seen ${timeAgo(s.lastSeenAt, now)}</span></li>`,
    )
    .join('');
  return `<h3 class="subhead">Surfaces reporting</h3><ul class="surfaces" data-testid="connect-surfaces">${items}</ul>`;
}

function waitingSteps(): string {
  return `<ol class="steps" data-testid="connect-waiting-steps">
      <li>Issue an <strong>ingest</strong> token (Tokens, below) — or ask an admin for one.</li>
      <li>Copy the Claude Code managed settings or the Cowork Monitoring fields from Setup.</li>
      <li>Start a new Claude Code or Cowork session. Events arrive within seconds, metrics within a minute.</li>
    </ol>`;
}

function timeAgo(iso: string, now: number): string {
  if (iso === '') return 'at an unknown time';
  return `<time datetime="${esc(iso)}" title="${esc(formatDateTime(iso))}">${esc(formatAgo(iso, now))}</time>`;
}
