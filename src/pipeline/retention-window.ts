import type { Tenant } from '../store/store.js';
import { addDays, startOfDayMs, today } from './days.js';

/**
 * Which tenant-days still have their raw records, and so can be recomputed.
 *
 * Retention keeps raw records by whole tenant-days: today and the `retentionDays` days
 * before it, in the tenant's time zone. Recomputing an older day would read what is left
 * of it (nothing, or part of it) and replace its rollups with that, so no computation
 * does: the scheduled jobs leave such days out and manual runs are refused.
 */

export type RetentionOf = Pick<Tenant, 'id' | 'timezone' | 'retentionDays'>;

/** The oldest day whose raw records are all kept (so a recompute of it is exact). */
export function firstRecomputableDay(tenant: RetentionOf, nowMs: number): string {
  return addDays(today(tenant.timezone, nowMs), -tenant.retentionDays);
}

/** Where the retention job cuts: the start of the first kept day. Raw records before it may be gone. */
export function rawCutoff(tenant: RetentionOf, nowMs: number): Date {
  return new Date(startOfDayMs(firstRecomputableDay(tenant, nowMs), tenant.timezone));
}

export type ScheduledJob = 'refresh' | 'finalize';

/**
 * The days a scheduled job computes for one tenant, oldest first, none past retention:
 * - refresh (every PIPELINE_INTERVAL): yesterday and today, so the hours after midnight
 *   still reach yesterday;
 * - finalize (daily): yesterday and the `catchupDays` before it, for late data.
 */
export function scheduledDays(job: ScheduledJob, tenant: RetentionOf, nowMs: number, catchupDays: number): string[] {
  const now = today(tenant.timezone, nowMs);
  const back = job === 'refresh' ? [1, 0] : Array.from({ length: catchupDays + 1 }, (_, i) => catchupDays + 1 - i);
  const first = firstRecomputableDay(tenant, nowMs);
  return back.map((n) => addDays(now, -n)).filter((d) => d >= first);
}

/** Why a manual run from `from` must not run (it reaches past retention), or null. */
export function pastRetentionProblem(tenant: RetentionOf, from: string, nowMs: number): string | null {
  const first = firstRecomputableDay(tenant, nowMs);
  if (from >= first) return null;
  return (
    `cannot recompute ${from}: tenant "${tenant.id}" keeps raw data for ${tenant.retentionDays} day(s) (${tenant.timezone}), ` +
    `so the days before ${first} have lost their raw records and recomputing them would replace their rollups with what is left. ` +
    `Their rollups are kept as they are; the first day that can be recomputed is ${first}.`
  );
}
