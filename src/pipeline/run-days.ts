import type { Store, Tenant } from '../store/store.js';
import { computeDay } from './compute-day.js';
import { daysBetween } from './days.js';

/** Recomputes every day of a range now, in order, and returns how many days were computed. */
export async function runDays(store: Store, tenant: Tenant, from: string, to: string): Promise<number> {
  const days = daysBetween(from, to);
  for (const day of days) await computeDay(store, tenant, day);
  return days.length;
}
