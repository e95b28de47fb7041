import type { EventTotalsRow, IdentityKey, MeasureName, MetricTotalsRow } from '../store/store.js';
import { type SourceGroup, eventContributions, metricRules } from './measures.js';

/** Where chosen contributions go: one measure's value for a seat, surface and model. */
export type AddContribution = (seat: string, surface: string, model: string | null, measure: MeasureName, value: number) => void;

const groups: readonly SourceGroup[] = [
  'sessions', 'cost', 'tokens', 'lines', 'commits', 'pullRequests', 'activeTime', 'edits', 'prompts', 'apiRequests', 'apiErrors', 'tools',
];
/** A bit per group: what a session or install sent metric points of is one number, not a set of strings. */
const bit = Object.fromEntries(groups.map((g, i) => [g, 1 << i])) as Record<SourceGroup, number>;

/** The groups a set of metric names covers: any metric of a session also makes session.count its source. */
function maskOfNames(names: readonly string[]): number {
  let mask = 0;
  for (const name of names) {
    const rule = metricRules[name];
    if (rule) mask |= bit[rule.group] | bit.sessions;
  }
  return mask;
}

/**
 * The one-source rule: per session and group of measures, metric counters or events,
 * never both.
 * - Metric points that carry `session.id` speak for their session: for each group they
 *   report, that session's events are not used. The store says which metrics each
 *   event row's session sent (EventTotalsRow.sessionMetrics).
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
export function chooseSources(metrics: MetricTotalsRow[], events: EventTotalsRow[], seatOf: (id: IdentityKey) => string, add: AddContribution): void {
  // Groups each install sent session-less metric points of; the key is only built when there are some.
  const byInstall = new Map<string, number>();
  const installOf = (seat: string, surface: string, userId: string | null) => `${seat}\u0000${surface}\u0000${userId ?? ''}`;

  for (const row of metrics) {
    const rule = metricRules[row.name];
    if (!rule) continue;
    const seat = seatOf(row.identity);
    if (!row.sessioned) {
      // The group counts as sent even when this point adds nothing (an unknown `type`, a cumulative repeat).
      const key = installOf(seat, row.surface, row.identity.userId);
      byInstall.set(key, (byInstall.get(key) ?? 0) | bit[rule.group] | bit.sessions);
    }
    const measure = rule.measure(row);
    if (measure !== null) add(seat, row.surface, row.model, measure, row.value);
  }

  const eventSessions = new Map<string, { seat: string; surface: string }>();
  for (const row of events) {
    const seat = seatOf(row.identity);
    const covered = maskOfNames(row.sessionMetrics) |
      (byInstall.size > 0 ? (byInstall.get(installOf(seat, row.surface, row.identity.userId)) ?? 0) : 0);
    eventContributions(row, (group, measure, value) => {
      if ((covered & bit[group]) === 0) add(seat, row.surface, row.model, measure, value);
    });
    if (row.sessionId !== null && (covered & bit.sessions) === 0 && !eventSessions.has(row.sessionId)) {
      eventSessions.set(row.sessionId, { seat, surface: row.surface });
    }
  }
  for (const s of eventSessions.values()) add(s.seat, s.surface, null, 'sessions', 1);
}
