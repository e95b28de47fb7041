import { type Db, type Document, MongoClient } from 'mongodb';

export interface MongoConnection {
  client: MongoClient;
  db: Db;
}

/** Used when the connection string names no database. */
export const DEFAULT_DATABASE = 'ai_usage_receiver';

/** The database in a connection string's path (`mongodb://h1,h2/<db>?…`), if any. */
export function databaseNameOf(url: string): string | null {
  const m = /^mongodb(?:\+srv)?:\/\/[^/?]*\/([^?]*)/.exec(url);
  const name = m?.[1] ? decodeURIComponent(m[1]) : '';
  return name === '' ? null : name;
}

/**
 * One client for the process (the driver pools connections). Settings that the
 * ingest path depends on:
 * - serverSelectionTimeoutMS 5 s: with no reachable primary a write fails within
 *   5 s (StoreUnavailableError → the exporter retries) instead of the driver's 30 s,
 *   longer than an OTLP client waits;
 * - majority, journaled writes: a record is acknowledged only once a majority of the
 *   replica set has it on disk, so it survives a failover (no rollback);
 * - majority reads: rollups never count records a failover could still roll back.
 */
export async function connectMongo(url: string, database?: string): Promise<MongoConnection> {
  const client = new MongoClient(url, {
    appName: 'ai-usage-receiver',
    serverSelectionTimeoutMS: 5_000,
    connectTimeoutMS: 5_000,
    maxPoolSize: 20,
    retryWrites: true,
    retryReads: true,
    writeConcern: { w: 'majority', journal: true, wtimeoutMS: 10_000 },
    readConcern: { level: 'majority' },
  });
  try {
    await client.connect();
  } catch (err) {
    await client.close().catch(() => undefined);
    throw err;
  }
  return { client, db: client.db(database ?? databaseNameOf(url) ?? DEFAULT_DATABASE) };
}

export const MIN_SERVER_MAJOR = 7;

/**
 * Why the server that sent this `buildInfo` reply cannot be used, or null. Older than
 * 7.0: deletes from time-series collections by any filter (retention per tenant,
 * undoing a failed batch) and secondary indexes on measurements need 7.0.
 */
export function versionRefusal(buildInfo: Document): string | null {
  const version = typeof buildInfo['version'] === 'string' ? buildInfo['version'] : 'unknown';
  // versionArray is [major, minor, patch, build] (build < 0 for release candidates).
  const parts = Array.isArray(buildInfo['versionArray']) ? (buildInfo['versionArray'] as unknown[]) : version.split('.');
  const major = Number(parts[0]);
  if (Number.isInteger(major) && major >= MIN_SERVER_MAJOR) return null;
  return (
    `MongoDB ${version} is too old: ai-usage-receiver needs MongoDB ${MIN_SERVER_MAJOR}.0 or newer ` +
    '(time-series collections with secondary indexes and deletes by any filter). Upgrade the server, or use PostgreSQL (DATABASE_URL).'
  );
}

/**
 * Why the server that sent this `hello` reply cannot be used, or null. Token rotation
 * and the replacement of a day's rollups are multi-document transactions, which need a
 * replica set member (`setName`) or a mongos (`msg: "isdbgrid"`); a standalone server
 * has neither, and a member started with --replSet whose set was never initiated says
 * `isreplicaset: true` without a `setName`.
 */
export function topologyRefusal(hello: Document): string | null {
  if (typeof hello['setName'] === 'string' || hello['msg'] === 'isdbgrid') return null;
  if (hello['isreplicaset'] === true) {
    return (
      'MongoDB was started as a replica set member, but its replica set has no configuration yet: ' +
      'run rs.initiate() once (mongosh), then start ai-usage-receiver again.'
    );
  }
  return (
    'MongoDB is a standalone server: ai-usage-receiver needs a replica set (or a sharded cluster), because token rotation ' +
    'and the replacement of a day’s rollups are multi-document transactions. A single-node replica set is enough: ' +
    'start mongod with --replSet rs0 and run rs.initiate() once.'
  );
}

/**
 * Refuses servers the adapter cannot work on (versionRefusal, topologyRefusal), with a
 * message that says what to change. The version is checked first: servers older than
 * 4.4.2 do not know `hello`.
 */
export async function checkServer(db: Db): Promise<void> {
  const admin = db.admin();
  const tooOld = versionRefusal(await admin.command({ buildInfo: 1 }));
  if (tooOld !== null) throw new Error(tooOld);
  const wrongKind = topologyRefusal(await admin.command({ hello: 1 }));
  if (wrongKind !== null) throw new Error(wrongKind);
}
