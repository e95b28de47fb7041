import type { EventTotalsRow } from '../store.js';

/** Event totals of one session (its real `session.id`, or null), before folding. */
export type SessionEventTotals = Omit<EventTotalsRow, 'sessionMetrics'>;

const sums = ['count', 'failures', 'accepts', 'rejects', 'costUsd', 'inputTokens', 'outputTokens', 'cacheReadTokens', 'cacheCreationTokens'] as const;

/**
 * Per-session event totals as the port's rows: each row learns the metric names its
 * session sent (`sent`), and rows of sessions that sent some fold together per
 * identity, surface, model, name and set of names, without their session.
 */
export function foldBySessionMetrics(rows: readonly SessionEventTotals[], sent: ReadonlyMap<string, readonly string[]>): EventTotalsRow[] {
  const out = new Map<string, EventTotalsRow>();
  const none: readonly string[] = [];
  for (const row of rows) {
    const sessionMetrics = (row.sessionId === null ? undefined : sent.get(row.sessionId)) ?? none;
    const sessionId = sessionMetrics.length === 0 ? row.sessionId : null;
    const key = JSON.stringify([row.identity, row.surface, row.model, row.name, sessionMetrics, sessionId]);
    const into = out.get(key);
    if (into === undefined) {
      out.set(key, { ...row, sessionMetrics, sessionId });
      continue;
    }
    for (const f of sums) into[f] += row[f];
  }
  return [...out.values()];
}
