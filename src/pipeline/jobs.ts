import type { Store, Tenant } from '../store/store.js';
import { addDays } from './days.js';
import { type ScheduledJob, firstRecomputableDay, rawCutoff, scheduledDays } from './retention-window.js';

/** One tenant-day a scheduled run computes. */
export interface DayRun {
  tenant: Tenant;
  day: string;
}

/** Every tenant-day a scheduled run computes, tenant by tenant, oldest day first. */
export function scheduledRuns(job: ScheduledJob, tenants: readonly Tenant[], nowMs: number, catchupDays: number): DayRun[] {
  return tenants.flatMap((tenant) => scheduledDays(job, tenant, nowMs, catchupDays).map((day) => ({ tenant, day })));
}

/**
 * Deletes a tenant's raw records of the days past its retention (rollups stay). It
 * holds the lock of the day that is leaving retention while it deletes, so a computation
 * of that day that began before the day left either finishes first (and read the whole
 * day) or runs after, sees the day past retention and refuses (compute-day.ts).
 * Returns the records removed.
 */
export async function applyRetention(store: Store, tenant: Tenant, nowMs: number): Promise<number> {
  const leaving = addDays(firstRecomputableDay(tenant, nowMs), -1);
  return store.withDayLock(tenant.id, leaving, () => store.deleteRawBefore(tenant.id, rawCutoff(tenant, nowMs)));
}
