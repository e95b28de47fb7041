import pg from 'pg';
import type { Logger } from 'pino';
import { isRetryable, isUnavailable, toStoreError } from './errors.js';

export interface PoolOptions {
  max?: number;
  /** How long to wait for a connection; a dead database fails within this. */
  connectTimeoutMs?: number;
  /** Server-side limit for one statement. */
  statementTimeoutMs?: number;
}

/**
 * A pool that fails fast while the database is away and heals by itself when it is
 * back: broken connections are dropped (never handed out again) and new ones are
 * opened on demand.
 */
export function createPool(url: string, logger: Logger, opts: PoolOptions = {}): pg.Pool {
  const statementTimeout = opts.statementTimeoutMs ?? 30_000;
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 5_000,
    idleTimeoutMillis: 30_000,
    statement_timeout: statementTimeout,
    lock_timeout: 10_000,
    idle_in_transaction_session_timeout: 60_000,
    // A server that vanished without closing the socket (host down, network cut) is noticed here.
    query_timeout: statementTimeout + 5_000,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    application_name: 'ai-usage-receiver',
    allowExitOnIdle: true,
  });
  // Idle connections the server closes (restart, failover) report here; the pool drops them.
  pool.on('error', (err) => logger.warn({ err: err.message }, 'idle PostgreSQL connection closed'));
  return pool;
}

/**
 * Runs `fn` on one pooled connection. A connection that failed is destroyed rather
 * than returned; errors come out mapped for the port (StoreUnavailableError for outages).
 */
export async function withClient<T>(
  pool: pg.Pool,
  what: string,
  fn: (client: pg.PoolClient, discard: (why: unknown) => void) => Promise<T>,
): Promise<T> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    throw toStoreError(err, what);
  }
  // A checked-out client has no error listener of the pool's; without ours a dropped
  // connection would be an uncaught exception.
  let broken: unknown = null;
  const onError = (err: unknown) => {
    broken = err;
  };
  client.on('error', onError);
  try {
    return await fn(client, onError);
  } catch (err) {
    if (isUnavailable(err)) broken ??= err;
    throw toStoreError(err, what);
  } finally {
    client.removeListener('error', onError);
    client.release(broken === null ? undefined : (broken as Error));
  }
}

/** Adds node-postgres's per-query client-side timeout, which @types/pg does not declare. */
export const timed = <Q extends pg.QueryConfig>(query: Q, timeoutMs: number | undefined): Q =>
  timeoutMs === undefined ? query : Object.assign(query, { query_timeout: timeoutMs });

/**
 * The limits of background statements over whole tenant-days (the pipeline's scans, retention's
 * deletes). The pool's limits are for ingest and API reads; a day of 10 million events takes
 * longer than those to scan. The pipeline groups a day into some hundred thousand groups per
 * session: with the default 4 MB of work_mem those aggregates spill to disk (bench:rollup).
 */
export const BACKGROUND_LIMITS = { statementTimeoutMs: 30 * 60_000, workMemMb: 256 } as const;

/** A query function whose statements have BACKGROUND_LIMITS, server side and client side. */
// `any` rows by default, as pg's own query() has them.
export type BackgroundQuery = <R extends pg.QueryResultRow = any>(text: string, values?: unknown[]) => Promise<pg.QueryResult<R>>;

/** One transaction of background statements: BACKGROUND_LIMITS instead of the pool's. */
export function inBackgroundTransaction<T>(pool: pg.Pool, what: string, fn: (query: BackgroundQuery) => Promise<T>): Promise<T> {
  const { statementTimeoutMs, workMemMb } = BACKGROUND_LIMITS;
  // The client-side limit stays a little above the server's, so the server's error is the one reported.
  const clientTimeoutMs = statementTimeoutMs + 5_000;
  return inTransaction(pool, what, async (client) => {
    await client.query(timed({ text: `SET LOCAL statement_timeout = ${statementTimeoutMs}; SET LOCAL work_mem = '${workMemMb}MB'` }, clientTimeoutMs));
    return fn((text, values) => client.query(timed({ text, ...(values ? { values } : {}) }, clientTimeoutMs)));
  }, clientTimeoutMs);
}

/**
 * One transaction, run again once on a serialization failure or deadlock.
 * COMMIT has returned before this resolves, so the work is durable
 * (synchronous_commit is left at its default, on). `timeoutMs` bounds BEGIN and
 * COMMIT on the client side (a server that stopped answering); `fn` passes it to its
 * own queries as `query_timeout`.
 */
export async function inTransaction<T>(
  pool: pg.Pool,
  what: string,
  fn: (client: pg.PoolClient) => Promise<T>,
  timeoutMs?: number,
): Promise<T> {
  const q = (text: string) => timed({ text }, timeoutMs);
  return retriedOnce(() =>
    withClient(pool, what, async (client, discard) => {
      await client.query(q('BEGIN'));
      try {
        const result = await fn(client);
        await client.query(q('COMMIT'));
        return result;
      } catch (err) {
        // When the connection is gone, so is the transaction; ROLLBACK would only fail again.
        if (isUnavailable(err)) throw err;
        // A connection whose ROLLBACK failed may still be inside the transaction: never reuse it.
        await client.query(q('ROLLBACK')).catch(discard);
        throw err;
      }
    }),
  );
}

/** Runs a whole transaction `run`, and once more when it failed on a serialization failure or deadlock. */
export async function retriedOnce<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      const cause = (err as { cause?: unknown }).cause ?? err;
      if (attempt < 2 && isRetryable(cause)) continue;
      throw err;
    }
  }
}
