import type { EventTotalsRow, IdentityKey, MetricTotalsRow } from '../store/store.js';
import { type Contribution, type SourceGroup, eventContributions, metricRules } from './measures.js';

/** One contribution to a measure, with what it is rolled up by. */
export interface Attributed {
  seat: string;
  surface: string;
  model: string | null;
  c: Contribution;
}

/**
 * The one-source rule: per session and group of measures, metric counters or events,
 * never both.
 * - Metric points that carry `session.id` speak for their session: for each group they
 *   report, that session's events are not used.
 * - Metric points without `session.id` (Claude Code with OTEL_METRICS_INCLUDE_SESSION_ID=false)
 *   cannot be matched to a session. They speak for every session of the same seat,
 *   surface and install (`user.id`, which every Claude Code record carries): for each
 *   group they report, events of that seat, surface and install are not used. The install
 *   keeps another machine of the same person apart, e.g. one that sends events only.
 * - `sessions`: session.count is sent once, when a session starts. So any metric point
 *   of a session (or install, as above) makes session.count its source for the day, and
 *   a session that started the day before counts no new session today, whatever the
 *   temporality. Only sessions with no metrics at all count as their distinct
 *   `session.id`s in events (Cowork, or Claude Code with metrics off).
 * Groups that no metric reports (prompts, API requests and errors, tools) always come
 * from events.
 */
export function chooseSources(metrics: MetricTotalsRow[], events: EventTotalsRow[], seatOf: (id: IdentityKey) => string): Attributed[] {
  /** `source\0group` for every group a session or install sent metric points of. */
  const covered = new Set<string>();
  const sessionOf = (sessionId: string) => `session\u0000${sessionId}`;
  const installOf = (seat: string, surface: string, userId: string | null) => `install\u0000${seat}\u0000${surface}\u0000${userId ?? ''}`;
  const out: Attributed[] = [];

  for (const row of metrics) {
    const rule = metricRules[row.name];
    if (!rule) continue;
    const seat = seatOf(row.identity);
    const source = row.sessionId !== null ? sessionOf(row.sessionId) : installOf(seat, row.surface, row.identity.userId);
    // The group counts as sent even when this point adds nothing (an unknown `type`, a cumulative repeat).
    covered.add(`${source}\u0000${rule.group}`);
    covered.add(`${source}\u0000sessions`);
    const measure = rule.measure(row);
    if (measure !== null) out.push({ seat, surface: row.surface, model: row.model, c: { measure, value: row.value } });
  }

  const isCovered = (row: EventTotalsRow, seat: string, group: SourceGroup) =>
    (row.sessionId !== null && covered.has(`${sessionOf(row.sessionId)}\u0000${group}`)) ||
    covered.has(`${installOf(seat, row.surface, row.identity.userId)}\u0000${group}`);

  const eventSessions = new Map<string, { seat: string; surface: string }>();
  for (const row of events) {
    const seat = seatOf(row.identity);
    for (const { group, c } of eventContributions(row)) {
      if (!isCovered(row, seat, group)) out.push({ seat, surface: row.surface, model: row.model, c });
    }
    if (row.sessionId !== null && !eventSessions.has(row.sessionId) && !isCovered(row, seat, 'sessions')) {
      eventSessions.set(row.sessionId, { seat, surface: row.surface });
    }
  }
  for (const s of eventSessions.values()) out.push({ seat: s.seat, surface: s.surface, model: null, c: { measure: 'sessions', value: 1 } });
  return out;
}
