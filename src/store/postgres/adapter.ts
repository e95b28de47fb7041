import type pg from 'pg';
import type { Logger } from 'pino';
import type { Store } from '../store.js';
import { withDayLock } from './day-lock.js';
import { checkSchema, migrate } from './migrations.js';
import { createPartitionKeeper, type PartitionKeeper } from './partitions.js';
import * as reads from './reads.js';
import { deleteRawBefore } from './retention.js';
import * as rollups from './rollups.js';
import { createSeenCache } from './seen.js';
import * as tenants from './tenants.js';
import * as tokens from './tokens.js';
import { createWriteQueue } from './write-queue.js';

export interface PostgresStoreOptions {
  /** Daily partitions kept ready ahead of today (and behind it, for late data, at migrate()); maintain() keeps them ahead. */
  partitionDaysAhead?: number;
  partitionDaysBehind?: number;
  /** Client-side limit for each statement of a writeBatch (default 15 s). */
  writeTimeoutMs?: number;
  /** Write transactions at once; batches arriving meanwhile are grouped (default 3). */
  writeConcurrency?: number;
  /** How long withDayLock waits for a tenant-day another computation holds (default 15 min). */
  dayLockWaitMs?: number;
}

export interface PostgresStore extends Store {
  readonly kind: 'postgres';
  /** The pool, for the other PostgreSQL-specific parts (Agenda backend, pipeline reads). */
  readonly pool: pg.Pool;
  /** Creates the partitions from `partitionDaysBehind` days before `now` to `partitionDaysAhead` days after it (migrate() runs it). */
  ensurePartitionsAhead(now?: Date): Promise<void>;
}

/** The storage port on PostgreSQL. The store owns the pool and ends it on close(). */
export function createPostgresStore(pool: pg.Pool, logger: Logger, opts: PostgresStoreOptions = {}): PostgresStore {
  const log = logger.child({ component: 'postgres-store' });
  const partitions: PartitionKeeper = createPartitionKeeper(pool, log);
  const seen = createSeenCache();
  const ahead = opts.partitionDaysAhead ?? 7;
  const behind = opts.partitionDaysBehind ?? 2;
  const ensurePartitionsAhead = (now = new Date()) => partitions.ensureAround(now, behind, ahead);
  let closed: Promise<void> | undefined;
  const writeBatch = createWriteQueue(
    { pool, partitions, seen, timeoutMs: opts.writeTimeoutMs ?? 15_000 },
    { concurrency: opts.writeConcurrency ?? 3, maxGroupBytes: 4 * 1024 * 1024 },
  );

  return {
    kind: 'postgres',
    pool,
    ensurePartitionsAhead,
    async migrate() {
      await migrate(pool, log);
      await ensurePartitionsAhead();
    },
    ping: () => checkSchema(pool),
    // From today on only: the days behind were made at migrate() or by the writes of those
    // days, and retention drops the old ones, which this must not make again every run.
    maintain: (now = new Date()) => partitions.ensureAround(now, 0, ahead),
    close() {
      closed ??= pool.end();
      return closed;
    },
    writeBatch,
    createTenant: (t) => tenants.createTenant(pool, t),
    getTenant: (id) => tenants.getTenant(pool, id),
    listTenants: () => tenants.listTenants(pool),
    updateTenant: (id, patch) => tenants.updateTenant(pool, id, patch),
    createToken: (t) => tokens.createToken(pool, t),
    findTokenByHash: (hash) => tokens.findTokenByHash(pool, hash),
    getToken: (id) => tokens.getToken(pool, id),
    listTokens: (tenantId) => tokens.listTokens(pool, tenantId),
    revokeToken: (id, at) => tokens.revokeToken(pool, id, at),
    rotateToken: (oldId, replacement, at) => tokens.rotateToken(pool, oldId, replacement, at),
    touchTokens: (uses) => tokens.touchTokens(pool, uses),
    eventTotals: (tenantId, range, editTools, metricNames) => reads.eventTotals(pool, tenantId, range, editTools, metricNames),
    metricTotals: (tenantId, range, names, lookbackNs) => reads.metricTotals(pool, tenantId, range, names, lookbackNs),
    listIdentities: (tenantId) => reads.listIdentities(pool, tenantId),
    identitiesSeenSince: (tenantId, since) => reads.listIdentities(pool, tenantId, since),
    surfacesSeen: (tenantId) => reads.surfacesSeen(pool, tenantId),
    withDayLock: (tenantId, day, fn) => withDayLock(pool, tenantId, day, fn, opts.dayLockWaitMs),
    replaceDailyRollups: (tenantId, day, seats, models) => rollups.replaceDailyRollups(pool, tenantId, day, seats, models),
    dailyRollups: (tenantId, fromDay, toDay) => rollups.dailyRollups(pool, tenantId, fromDay, toDay),
    usageTotals: (tenantId, fromDay, toDay) => rollups.usageTotals(pool, tenantId, fromDay, toDay),
    deleteRawBefore: (tenantId, before) => deleteRawBefore(pool, partitions, log, tenantId, before),
  };
}
