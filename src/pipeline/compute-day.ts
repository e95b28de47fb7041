import type { ModelDayRollup, SeatDayRollup, Store, Tenant } from '../store/store.js';
import { dayRangeNs } from './days.js';
import { EDIT_TOOLS, metricNames } from './measures.js';
import { firstRecomputableDay, pastRetentionProblem, rawCutoff } from './retention-window.js';
import { dayRollup } from './rollup-rows.js';
import { SeatResolver } from './seats.js';
import { chooseSources } from './sources.js';

/** How far back the previous point of a cumulative series is looked for. */
export const CUMULATIVE_LOOKBACK_NS = 2n * 86_400n * 1_000_000_000n;

/**
 * What a computation of a day did:
 * - replaced: the day's rollups are now `seats` and `models`;
 * - kept: the day has no raw records left at all while it has rollups, which only
 *   happens once raw data is gone (a retention that was raised after it deleted, a
 *   store's own expiry), so its rollups were left as they are (`seats` and `models`).
 */
export interface DayResult {
  day: string;
  outcome: 'replaced' | 'kept';
  seats: SeatDayRollup[];
  models: ModelDayRollup[];
}

/** The day is older than the tenant's retention: its raw records are (partly) gone, so it is not recomputed. */
export class PastRetentionError extends Error {
  override readonly name = 'PastRetentionError';
  constructor(readonly firstDay: string, message: string) {
    super(message);
  }
}

export interface ComputeOptions {
  /** The clock retention is judged by (tests pin it). */
  now?: () => number;
}

/**
 * Computes one tenant-day from raw records and replaces its rollups. Running it again
 * gives the same rows, so catch-up re-runs and manual re-runs are safe.
 *
 * The whole computation holds the tenant-day's lock (Store.withDayLock): one runs at a
 * time however many replicas and jobs ask, each reads inside the lock, so a later one
 * also read later, and the write is fenced by the lock.
 */
export async function computeDay(store: Store, tenant: Tenant, day: string, opts: ComputeOptions = {}): Promise<DayResult> {
  const now = opts.now ?? Date.now;
  return store.withDayLock(tenant.id, day, async (lock) => {
    // Judged inside the lock: the retention job deletes a day only holding that day's lock,
    // so a computation that gets here after it sees the day gone.
    const nowMs = now();
    const problem = pastRetentionProblem(tenant, day, nowMs);
    if (problem !== null) throw new PastRetentionError(firstRecomputableDay(tenant, nowMs), problem);

    const range = dayRangeNs(day, tenant.timezone);
    // Points before the retention cut may be gone; looking back past it would take a series
    // whose earlier points were deleted for one that started in the lookback, and count it whole.
    const kept = range.fromNs - BigInt(rawCutoff(tenant, nowMs).getTime()) * 1_000_000n;
    const lookbackNs = kept < CUMULATIVE_LOOKBACK_NS ? kept : CUMULATIVE_LOOKBACK_NS;
    const [events, metrics, identities] = await Promise.all([
      store.eventTotals(tenant.id, range, EDIT_TOOLS, metricNames),
      store.metricTotals(tenant.id, range, metricNames, lookbackNs),
      store.listIdentities(tenant.id),
    ]);
    if (events.length === 0 && metrics.length === 0) {
      const stored = await store.dailyRollups(tenant.id, day, day);
      if (stored.seats.length > 0 || stored.models.length > 0) return { day, outcome: 'kept', ...stored };
    }
    const seats = new SeatResolver(identities);
    const rollup = dayRollup(day);
    chooseSources(metrics, events, (id) => seats.seatOf(id), rollup.add);
    const rows = rollup.rows();
    await lock.replaceDailyRollups(rows.seats, rows.models);
    return { day, outcome: 'replaced', ...rows };
  });
}
