import pg from 'pg';
import { type DayLock, DayLockLostError, type ModelDayRollup, type SeatDayRollup, StoreUnavailableError } from '../store.js';
import { sqlState, toStoreError } from './errors.js';
import { timed } from './pool.js';
import { writeDailyRollups } from './rollups.js';

export const DEFAULT_DAY_LOCK_WAIT_MS = 15 * 60_000;

/** The advisory lock of a tenant-day is hashtextextended(this, 0). */
export const dayLockKey = (tenantId: string, day: string): string => `day/${tenantId}/${day}`;

/**
 * Tenant-day locks (Store.withDayLock) as session advisory locks, each on a connection
 * of its own outside the pool. Outside, because a holder keeps its connection for the
 * whole computation while the computation's reads need pool connections: waiting holders
 * inside a pool of 10 could leave no connection for anyone's reads.
 *
 * The lock lives exactly as long as the session: a holder that dies, or whose connection
 * drops, releases it at once. The fenced write runs on that same session, so a holder
 * whose session is gone cannot write, and one whose write commits held the lock until then.
 */
export async function withDayLock<T>(
  pool: pg.Pool,
  tenantId: string,
  day: string,
  fn: (lock: DayLock) => Promise<T>,
  waitMs = DEFAULT_DAY_LOCK_WAIT_MS,
): Promise<T> {
  const key = dayLockKey(tenantId, day);
  const client = new pg.Client(pool.options);
  let broken: unknown = null;
  // Without a listener, a connection that drops while `fn` runs would be an uncaught error.
  client.on('error', (err) => {
    broken ??= err;
  });
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw toStoreError(err, 'lock a tenant-day');
  }
  try {
    await acquire(client, key, waitMs, `${tenantId} ${day}`);
    const lock: DayLock = {
      tenantId,
      day,
      replaceDailyRollups: (seats, models) => fencedReplace(client, () => broken, tenantId, day, seats, models),
    };
    return await fn(lock);
  } finally {
    // Ending the session would release the lock too, but only once the server notices;
    // unlocking first lets the next waiter in before this promise settles.
    if (broken === null) await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [key]).catch(() => undefined);
    await client.end().catch(() => undefined);
  }
}

async function acquire(client: pg.Client, key: string, waitMs: number, what: string): Promise<void> {
  // The pool's lock_timeout and statement_timeout are for short statements; this one waits
  // for another computation of the day, which may take minutes.
  await client.query(`SELECT set_config('lock_timeout', $1, false), set_config('statement_timeout', $1, false)`, [String(waitMs)]);
  try {
    await client.query(timed({ text: 'SELECT pg_advisory_lock(hashtextextended($1, 0))', values: [key] }, waitMs + 5_000));
  } catch (err) {
    const state = sqlState(err);
    if (state === '55P03' || state === '57014') {
      throw new StoreUnavailableError(`tenant-day ${what} stayed locked by another computation for over ${waitMs} ms`, { cause: err });
    }
    throw toStoreError(err, 'lock a tenant-day');
  }
  // Back to the values the session started with (the pool's settings).
  await client.query('RESET lock_timeout; RESET statement_timeout');
}

async function fencedReplace(
  client: pg.Client,
  broken: () => unknown,
  tenantId: string,
  day: string,
  seats: SeatDayRollup[],
  models: ModelDayRollup[],
): Promise<void> {
  const lost = (cause: unknown) => new DayLockLostError(`the lock of tenant-day ${tenantId} ${day} was lost (its session ended); nothing written`, { cause });
  if (broken() !== null) throw lost(broken());
  try {
    await client.query('BEGIN');
    try {
      await writeDailyRollups(client, tenantId, day, seats, models);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  } catch (err) {
    // A session that still answers still holds the lock: the write failed for another reason.
    const alive = broken() === null && (await client.query('SELECT 1').then(() => true, () => false));
    if (!alive) throw lost(err);
    throw toStoreError(err, 'store daily rollups');
  }
}
