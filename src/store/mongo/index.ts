import type { Logger } from 'pino';
import { createMongoStore, type MongoStore } from './adapter.js';
import { connectMongo, type MongoConnection } from './client.js';
import { toStoreError } from './errors.js';

export { createMongoStore, type MongoStore, type MongoStoreOptions } from './adapter.js';
export { connectMongo, databaseNameOf } from './client.js';

export interface OpenMongoOptions {
  /** MONGODB_URL: a replica set or a mongos; the database comes from its path. */
  url: string;
  /** RETENTION_DAYS. */
  retentionDays: number;
  logger: Logger;
  /** A database other than the one the URL names (the contract tests use one per run). */
  database?: string;
  /** Create or check collections and indexes before returning (default true). */
  migrate?: boolean;
}

/**
 * Connects, checks the server (7.0+, replica set or sharded) and prepares the
 * collections. Rejects with StoreUnavailableError when no server answers, and with a
 * plain error that says what to change when the server cannot be used.
 */
export async function openMongoStore(opts: OpenMongoOptions): Promise<MongoStore> {
  let conn: MongoConnection;
  try {
    conn = await connectMongo(opts.url, opts.database);
  } catch (err) {
    throw toStoreError(err, 'be reached');
  }
  const store = createMongoStore(conn, opts.logger, { retentionDays: opts.retentionDays });
  try {
    if (opts.migrate !== false) await store.migrate();
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  return store;
}
