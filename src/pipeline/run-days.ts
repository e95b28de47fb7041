import type { Store, Tenant } from '../store/store.js';
import { PastRetentionError, computeDay } from './compute-day.js';
import { daysBetween } from './days.js';
import { firstRecomputableDay, pastRetentionProblem } from './retention-window.js';

/**
 * What a manual run (API, CLI) did. A range reaching past the tenant's retention is
 * refused whole, before anything runs: a user who asked for days that cannot be
 * recomputed gets told which day is the first that can, rather than a partial run.
 */
export type RunDaysResult =
  | { kind: 'done'; days: number; keptDays: string[] }
  | { kind: 'past-retention'; firstDay: string; message: string };

/** Recomputes every day of a range now, in order. */
export async function runDays(store: Store, tenant: Tenant, from: string, to: string, now: () => number = Date.now): Promise<RunDaysResult> {
  const problem = pastRetentionProblem(tenant, from, now());
  if (problem !== null) return { kind: 'past-retention', firstDay: firstRecomputableDay(tenant, now()), message: problem };
  const days = daysBetween(from, to);
  const keptDays: string[] = [];
  for (const day of days) {
    try {
      if ((await computeDay(store, tenant, day, { now })).outcome === 'kept') keptDays.push(day);
    } catch (e) {
      // The first day left retention while the run went on (a run across the tenant's midnight).
      if (e instanceof PastRetentionError) return { kind: 'past-retention', firstDay: e.firstDay, message: e.message };
      throw e;
    }
  }
  return { kind: 'done', days: days.length, keptDays };
}
