import { randomUUID } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import { type DayLock, DayLockLostError, type ModelDayRollup, type SeatDayRollup, StoreUnavailableError } from '../store.js';
import { guarded, isDuplicateKey } from './errors.js';
import { writeDailyRollups } from './rollups.js';
import { inTransaction } from './transaction.js';

/**
 * Tenant-day locks (Store.withDayLock) as lease documents, one per locked tenant-day:
 * `{_id, owner, expiresAt}`. A lock is free when it is missing or its lease has run out;
 * taking it is one conditional upsert, so two replicas cannot both take it (the loser's
 * insert of the same _id fails with a duplicate key). The holder renews the lease while
 * `fn` runs; a holder that dies stops renewing and the lock is free a lease later.
 *
 * A holder that was merely slow (a long GC pause, a partition) may find its lease gone
 * and the day taken. Its write is fenced: the replacement runs in a transaction that
 * first renews the lease on condition that this holder still owns it and it has not run
 * out, so it commits only while the lock is still this holder's. A takeover that races
 * the transaction conflicts with its write of the lock document, and the driver's
 * retry then finds the lock gone.
 *
 * Leases compare against the replicas' own clocks, which must agree to well within
 * `leaseMs` (NTP does: milliseconds against a lease of a minute).
 */

export const DAY_LOCKS = 'day_locks';

export interface MongoDayLockOptions {
  /** How long a lock outlives its holder's last renewal; renewed every third of it. */
  leaseMs: number;
  /** How long withDayLock waits for a held lock before giving up. */
  waitMs: number;
  /** How often a waiter tries again. */
  pollMs: number;
}

export const defaultDayLockOptions: Readonly<MongoDayLockOptions> = Object.freeze({ leaseMs: 60_000, waitMs: 15 * 60_000, pollMs: 250 });

interface LockDoc {
  _id: string;
  owner: string;
  tenant: string;
  day: string;
  expiresAt: Date;
}

/** Days have a fixed form without "|", so the id reads back unambiguously whatever the tenant id. */
export const dayLockId = (tenantId: string, day: string): string => `${day}|${tenantId}`;

const majority = { w: 'majority', journal: true } as const;

/** Idempotent. The TTL only tidies locks of holders that died: an expired lock is free whether or not it is gone yet. */
export async function ensureDayLockIndexes(db: Db): Promise<void> {
  await db.collection(DAY_LOCKS).createIndexes([{ key: { expiresAt: 1 }, name: 'ttl_expires', expireAfterSeconds: 3600 }]);
}

export async function withDayLock<T>(
  db: Db,
  tenantId: string,
  day: string,
  fn: (lock: DayLock) => Promise<T>,
  opts: MongoDayLockOptions = defaultDayLockOptions,
): Promise<T> {
  const locks = db.collection<LockDoc>(DAY_LOCKS);
  const id = dayLockId(tenantId, day);
  const owner = randomUUID();
  await guarded('lock a tenant-day', () => acquire(locks, { id, owner, tenantId, day }, opts));
  const lease = () => new Date(Date.now() + opts.leaseMs);
  // A failed renewal is tried again at the next tick; if the lease runs out meanwhile, the fenced write refuses.
  const renewal = setInterval(() => {
    locks.updateOne({ _id: id, owner }, { $set: { expiresAt: lease() } }).catch(() => undefined);
  }, Math.max(1, Math.floor(opts.leaseMs / 3)));
  renewal.unref();
  try {
    return await fn({
      tenantId,
      day,
      replaceDailyRollups: (seats, models) => guarded('store daily rollups', () => fencedReplace(db, locks, { id, owner, tenantId, day }, opts, seats, models)),
    });
  } finally {
    clearInterval(renewal);
    // Left behind (the database is away), the lock is free once its lease runs out.
    await locks.deleteOne({ _id: id, owner }, { writeConcern: majority }).catch(() => undefined);
  }
}

interface Holder {
  id: string;
  owner: string;
  tenantId: string;
  day: string;
}

async function acquire(locks: Collection<LockDoc>, h: Holder, opts: MongoDayLockOptions): Promise<void> {
  const deadline = Date.now() + opts.waitMs;
  for (;;) {
    const now = Date.now();
    try {
      // Takes a missing or expired lock. A held one matches nothing, so the upsert
      // inserts the same _id and fails with a duplicate key: someone else holds it.
      await locks.updateOne(
        { _id: h.id, expiresAt: { $lte: new Date(now) } },
        { $set: { owner: h.owner, tenant: h.tenantId, day: h.day, expiresAt: new Date(now + opts.leaseMs) } },
        { upsert: true, writeConcern: majority },
      );
      return;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
    if (Date.now() + opts.pollMs > deadline) {
      throw new StoreUnavailableError(`tenant-day ${h.tenantId} ${h.day} stayed locked by another computation for over ${opts.waitMs} ms`);
    }
    await new Promise((r) => setTimeout(r, opts.pollMs));
  }
}

async function fencedReplace(
  db: Db,
  locks: Collection<LockDoc>,
  h: Holder,
  opts: MongoDayLockOptions,
  seats: SeatDayRollup[],
  models: ModelDayRollup[],
): Promise<void> {
  await inTransaction(db, async (session) => {
    const now = Date.now();
    const held = await locks.updateOne(
      { _id: h.id, owner: h.owner, expiresAt: { $gt: new Date(now) } },
      { $set: { expiresAt: new Date(now + opts.leaseMs) } },
      { session },
    );
    if (held.matchedCount !== 1) {
      throw new DayLockLostError(`the lock of tenant-day ${h.tenantId} ${h.day} was lost (its lease ran out); nothing written`);
    }
    await writeDailyRollups(db, session, h.tenantId, h.day, seats, models);
  });
}
