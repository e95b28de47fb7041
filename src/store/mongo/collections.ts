import { type Db, type IndexDescription, MongoServerError } from 'mongodb';
import type { Logger } from 'pino';
import { StoreUnavailableError } from '../store.js';
import type { RecordKind } from './documents.js';

/** The time-series collection of each kind of record. */
export const timeSeries: Record<RecordKind, string> = { event: 'events', point: 'metric_points', span: 'spans' };

/**
 * Records stamped in 2038 or later go to this regular collection instead (field `kind`
 * says which). A time-series collection holding a single measurement outside
 * 1970-01-01..2038-01-19 stops applying its TTL (SERVER-79864) and loses query
 * optimizations, so one client with a wrong clock must not land there. Ingest refuses such times
 * anyway (MAX_FUTURE_SKEW_SECONDS); this keeps the port's "records of any day" true.
 */
export const OUT_OF_RANGE = 'out_of_range_records';
export const TIME_SERIES_END_MS = Date.UTC(2038, 0, 1);

export const regular = {
  tenants: 'tenants',
  tokens: 'tokens',
  seatIdentities: 'seat_identities',
  surfacesSeen: 'surfaces_seen',
  seatRollups: 'daily_seat_rollups',
  modelRollups: 'daily_model_rollups',
  schemaInfo: 'schema_info',
} as const;

/** Raised when the collections' layout this build needs changes. */
export const SCHEMA_VERSION = 1;

/**
 * Buckets of up to a day, rounded to the hour. The meta value of a bucket is one
 * tenant's surface and event or metric name. A small tenant sends a given name every
 * few minutes (metrics are exported each 60 s, events per prompt), which is what
 * `minutes` is for: its buckets fill over hours instead of holding one measurement
 * each. A large tenant closes buckets at the 1000-measurement cap long before the span
 * ends, whatever the granularity. A bucket is removed by TTL once its newest record
 * expires, so raw data outlives the TTL (the longest retention + RAW_EXPIRY_MARGIN_DAYS)
 * by at most a day.
 */
const timeseriesOptions = { timeField: 'time', metaField: 'meta', granularity: 'minutes' } as const;

/** Secondary indexes for the pipeline's reads (tenant + time range, per seat, per session). */
const rawIndexes: IndexDescription[] = [
  { key: { 'meta.tenant': 1, time: 1 }, name: 'tenant_time' },
  { key: { 'meta.tenant': 1, seat: 1, time: 1 }, name: 'tenant_seat_time' },
  { key: { 'meta.tenant': 1, sessionId: 1 }, name: 'tenant_session' },
];

const indexes: Record<string, IndexDescription[]> = {
  events: rawIndexes,
  metric_points: [...rawIndexes, { key: { 'meta.tenant': 1, 'meta.name': 1, time: 1 }, name: 'tenant_name_time' }],
  spans: rawIndexes,
  [OUT_OF_RANGE]: [
    { key: { 'meta.tenant': 1, kind: 1, time: 1 }, name: 'tenant_kind_time' },
    { key: { batch: 1 }, name: 'batch' },
  ],
  [regular.tokens]: [
    { key: { hash: 1 }, name: 'hash_unique', unique: true },
    { key: { tenantId: 1, createdAt: -1, _id: -1 }, name: 'tenant_created' },
  ],
  [regular.seatIdentities]: [
    { key: { tenant: 1, userEmail: 1, userAccountUuid: 1, endUserId: 1, userId: 1 }, name: 'identity_unique', unique: true },
    { key: { tenant: 1, lastReceivedAt: 1 }, name: 'tenant_received' },
  ],
  [regular.surfacesSeen]: [{ key: { tenant: 1, surface: 1 }, name: 'tenant_surface_unique', unique: true }],
  [regular.seatRollups]: [{ key: { tenant: 1, day: 1, seat: 1, surface: 1 }, name: 'tenant_day_seat_surface_unique', unique: true }],
  [regular.modelRollups]: [
    { key: { tenant: 1, day: 1, seat: 1, surface: 1, model: 1 }, name: 'tenant_day_seat_surface_model_unique', unique: true },
  ],
};

const TTL_INDEX = 'ttl_time';
/** expireAfterSeconds is a 32-bit integer: about 68 years. */
const MAX_TTL_SECONDS = 2_147_483_647;

export const ttlSecondsOf = (days: number): number => Math.min(MAX_TTL_SECONDS, Math.max(1, Math.round(days * 86_400)));

const codeOf = (err: unknown): number | undefined => (err instanceof MongoServerError && typeof err.code === 'number' ? err.code : undefined);

async function ensureTimeSeries(db: Db, name: string, ttlSeconds: number): Promise<void> {
  const describe = async () => (await db.listCollections({ name }, { nameOnly: false }).toArray())[0];
  let info = await describe();
  if (info === undefined) {
    try {
      await db.createCollection(name, { timeseries: { ...timeseriesOptions }, expireAfterSeconds: ttlSeconds });
    } catch (err) {
      if (codeOf(err) !== 48) throw err; // NamespaceExists: another replica created it first
    }
    info = await describe();
  }
  const ts = (info?.options?.['timeseries'] ?? {}) as { timeField?: unknown; metaField?: unknown };
  if (info?.type !== 'timeseries' || ts.timeField !== 'time' || ts.metaField !== 'meta') {
    throw new Error(
      `collection ${db.databaseName}.${name} exists but is not the time-series collection ai-usage-receiver needs ` +
        '(timeField "time", metaField "meta"); drop or rename it, or point MONGODB_URL at another database',
    );
  }
  if (info.options?.['expireAfterSeconds'] !== ttlSeconds) await db.command({ collMod: name, expireAfterSeconds: ttlSeconds });
}

async function ensureTtlIndex(db: Db, ttlSeconds: number): Promise<void> {
  const coll = db.collection(OUT_OF_RANGE);
  const listed = await coll.listIndexes().toArray().catch((err: unknown) => {
    if (codeOf(err) === 26) return []; // NamespaceNotFound: the collection does not exist yet
    throw err;
  });
  const existing = listed.find((i) => i['name'] === TTL_INDEX);
  if (existing === undefined) {
    await coll.createIndexes([{ key: { time: 1 }, name: TTL_INDEX, expireAfterSeconds: ttlSeconds }]);
  } else if (existing['expireAfterSeconds'] !== ttlSeconds) {
    await db.command({ collMod: OUT_OF_RANGE, index: { name: TTL_INDEX, expireAfterSeconds: ttlSeconds } });
  }
}

/** Brings the raw collections' TTL to `ttlSeconds` (collMod only where it differs). */
export async function applyTtl(db: Db, ttlSeconds: number): Promise<void> {
  for (const name of Object.values(timeSeries)) await ensureTimeSeries(db, name, ttlSeconds);
  await ensureTtlIndex(db, ttlSeconds);
}

/**
 * Creates what is missing and leaves the rest: safe to run from many replicas at once
 * (a collection or index created by another replica in the meantime is not an error;
 * identical index requests are no-ops).
 */
export async function ensureSchema(db: Db, ttlSeconds: number, logger: Logger): Promise<void> {
  const stored = await db.collection<{ _id: string; version: number }>(regular.schemaInfo).findOne({ _id: 'schema' });
  if (stored !== null && stored.version > SCHEMA_VERSION) {
    throw new Error(`the MongoDB collections are at schema version ${stored.version}, newer than this build knows (${SCHEMA_VERSION}); run a newer build`);
  }
  for (let attempt = 1; ; attempt++) {
    try {
      await applyTtl(db, ttlSeconds);
      for (const [name, specs] of Object.entries(indexes)) await db.collection(name).createIndexes(specs);
      break;
    } catch (err) {
      // Replicas starting together can still trip over each other's catalog changes once.
      const race = [48, 112, 276, 11000].includes(codeOf(err) ?? 0);
      if (!race || attempt >= 3) throw err;
      logger.debug({ err }, 'schema change raced another replica; trying again');
    }
  }
  await db
    .collection<{ _id: string; version: number }>(regular.schemaInfo)
    .updateOne({ _id: 'schema' }, { $max: { version: SCHEMA_VERSION } }, { upsert: true })
    .catch((err: unknown) => {
      if (codeOf(err) !== 11000) throw err; // the same upsert from another replica won
    });
}

/** Rejects with StoreUnavailableError unless the collections are at the version this build needs. */
export async function checkSchema(db: Db): Promise<void> {
  await db.command({ ping: 1 });
  const stored = await db.collection<{ _id: string; version: number }>(regular.schemaInfo).findOne({ _id: 'schema' });
  const version = stored?.version ?? 0;
  if (version < SCHEMA_VERSION) {
    throw new StoreUnavailableError(`the MongoDB collections are at schema version ${version}, this build needs ${SCHEMA_VERSION}: migrate() has not run`);
  }
}
