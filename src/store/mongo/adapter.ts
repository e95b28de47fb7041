import type { Db, MongoClient } from 'mongodb';
import type { Logger } from 'pino';
import { RAW_EXPIRY_MARGIN_DAYS, type Store } from '../store.js';
import { checkServer, type MongoConnection } from './client.js';
import { applyTtl, checkSchema, ensureSchema, ttlSecondsOf } from './collections.js';
import { type MongoDayLockOptions, defaultDayLockOptions, ensureDayLockIndexes, withDayLock } from './day-lock.js';
import { guarded } from './errors.js';
import * as reads from './reads.js';
import { deleteRawBefore } from './retention.js';
import * as rollups from './rollups.js';
import * as tenants from './tenants.js';
import * as tokens from './tokens.js';
import { writeBatch } from './write-batch.js';

export interface MongoStoreOptions {
  /** RETENTION_DAYS: the raw collections' TTL is at least this (see ttlDays below). */
  retentionDays: number;
  /** How long a majority may take to acknowledge a batch (default 10 s). */
  writeTimeoutMs?: number;
  /** Lease, wait and poll times of withDayLock (see day-lock.ts). */
  dayLock?: Partial<MongoDayLockOptions>;
}

export interface MongoStore extends Store {
  readonly kind: 'mongo';
  /** The database, for the other MongoDB-specific parts (the Agenda backend). */
  readonly db: Db;
  readonly client: MongoClient;
}

/** The storage port on MongoDB. The store owns the client and closes it on close(). */
export function createMongoStore(conn: MongoConnection, logger: Logger, opts: MongoStoreOptions): MongoStore {
  const { client, db } = conn;
  const log = logger.child({ component: 'mongo-store' });
  const timeoutMs = opts.writeTimeoutMs ?? 10_000;

  /**
   * The TTL of the raw collections: the longest retention any tenant has (and at least
   * RETENTION_DAYS), so TTL never removes what a tenant still keeps; tenants with a
   * shorter retention are trimmed by deleteRawBefore. Plus RAW_EXPIRY_MARGIN_DAYS: the
   * pipeline keeps whole tenant-days, so TTL must not cut into the oldest one.
   */
  const ttlSeconds = async () => ttlSecondsOf(Math.max(opts.retentionDays, (await tenants.longestRetentionDays(db)) ?? 0) + RAW_EXPIRY_MARGIN_DAYS);
  /** After a tenant's retention changed; the tenant change itself stands even if this fails (the next start retries). */
  const refreshTtl = async () => {
    try {
      await applyTtl(db, await ttlSeconds());
    } catch (err) {
      log.error({ err }, 'could not update the raw collections’ TTL to the tenants’ retention');
    }
  };
  let closed: Promise<void> | undefined;

  return {
    kind: 'mongo',
    db,
    client,
    migrate: () =>
      guarded('prepare its collections', async () => {
        await checkServer(db);
        await ensureSchema(db, await ttlSeconds(), log);
        await ensureDayLockIndexes(db);
      }),
    ping: () => guarded('answer', () => checkSchema(db)),
    // Nothing to prepare ahead: time-series collections make their buckets as records arrive,
    // and no day needs a collection or index of its own.
    maintain: async () => undefined,
    close() {
      closed ??= client.close();
      return closed;
    },
    writeBatch: (tenantId, batch) => guarded('store the records', () => writeBatch({ db, logger: log, timeoutMs }, tenantId, batch)),
    createTenant: (t) =>
      guarded('create a tenant', async () => {
        const created = await tenants.createTenant(db, t);
        await refreshTtl();
        return created;
      }),
    getTenant: (id) => guarded('read a tenant', () => tenants.getTenant(db, id)),
    listTenants: () => guarded('list tenants', () => tenants.listTenants(db)),
    updateTenant: (id, patch) =>
      guarded('update a tenant', async () => {
        const updated = await tenants.updateTenant(db, id, patch);
        if (updated.found && patch.retentionDays !== undefined) await refreshTtl();
        return updated;
      }),
    createToken: (t) => guarded('create a token', () => tokens.createToken(db, t)),
    findTokenByHash: (hash) => guarded('look a token up', () => tokens.findTokenByHash(db, hash)),
    getToken: (id) => guarded('read a token', () => tokens.getToken(db, id)),
    listTokens: (tenantId) => guarded('list tokens', () => tokens.listTokens(db, tenantId)),
    revokeToken: (id, at) => guarded('revoke a token', () => tokens.revokeToken(db, id, at)),
    rotateToken: (oldId, replacement, at) => guarded('rotate a token', () => tokens.rotateToken(db, oldId, replacement, at)),
    touchTokens: (uses) => guarded('record token use', () => tokens.touchTokens(db, uses)),
    eventTotals: (tenantId, range, editTools, metricNames) => guarded('read event totals', () => reads.eventTotals(db, tenantId, range, editTools, metricNames)),
    metricTotals: (tenantId, range, names, lookbackNs) =>
      guarded('read metric totals', () => reads.metricTotals(db, tenantId, range, names, lookbackNs)),
    listIdentities: (tenantId) => guarded('list identities', () => reads.listIdentities(db, tenantId)),
    identitiesSeenSince: (tenantId, since) => guarded('list identities', () => reads.listIdentities(db, tenantId, since)),
    surfacesSeen: (tenantId) => guarded('list surfaces', () => reads.surfacesSeen(db, tenantId)),
    withDayLock: (tenantId, day, fn) => withDayLock(db, tenantId, day, fn, { ...defaultDayLockOptions, ...opts.dayLock }),
    replaceDailyRollups: (tenantId, day, seats, models) =>
      guarded('store daily rollups', () => rollups.replaceDailyRollups(db, tenantId, day, seats, models)),
    dailyRollups: (tenantId, fromDay, toDay) => guarded('read daily rollups', () => rollups.dailyRollups(db, tenantId, fromDay, toDay)),
    usageTotals: (tenantId, fromDay, toDay) => guarded('read usage totals', () => rollups.usageTotals(db, tenantId, fromDay, toDay)),
    deleteRawBefore: (tenantId, before) => guarded('delete old records', () => deleteRawBefore(db, log, tenantId, before)),
  };
}
