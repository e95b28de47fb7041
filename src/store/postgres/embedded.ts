import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';
import {
  isInitialised,
  isPostgresProcess,
  portAnswers,
  readOrCreatePassword,
  readPostmasterPid,
  sleep,
  withStartLock,
} from './embedded-files.js';
import { launchCluster, socketPath, stopInstance, type Launched } from './embedded-launch.js';

export interface EmbeddedOptions {
  /** DATA_DIR; the cluster lives in `${dataDir}/postgres`. */
  dataDir: string;
  port: number;
  logger: Logger;
  /** Database the service uses, created on first start. */
  database?: string;
  /** Limit for initdb, for the server to become ready, and for waiting on another process's start. */
  startTimeoutMs?: number;
  /** How often to check that the server is still there (and start it again when it is not). */
  watchIntervalMs?: number;
}

export interface EmbeddedPostgresHandle {
  /** Connection string for the service's database. */
  url: string;
  /** Whether this process started the server (and so stops it), or attached to one another process runs. */
  readonly owned: boolean;
  /** Stops the server if this process started it; otherwise only stops watching it. */
  stop(): Promise<void>;
}

export const DEFAULT_DATABASE = 'ai_usage';

/**
 * Starts the bundled PostgreSQL in DATA_DIR, or attaches to the one already running
 * there (the server and the CLI share a DATA_DIR). Only the process that started the
 * server stops it. If the server goes away while we run (the other process stopped
 * it, or it crashed), the watcher starts it again, so an attached server keeps its database.
 */
export async function startEmbeddedPostgres(opts: EmbeddedOptions): Promise<EmbeddedPostgresHandle> {
  const dataDir = path.resolve(opts.dataDir);
  const pgDir = path.join(dataDir, 'postgres');
  const database = opts.database ?? DEFAULT_DATABASE;
  const timeoutMs = opts.startTimeoutMs ?? 60_000;
  const logger = opts.logger.child({ component: 'embedded-postgres' });
  await fs.mkdir(dataDir, { recursive: true });
  // Under the lock: a second process must not read the file before the first has written it.
  const password = await withStartLock(dataDir, timeoutMs, async () => readOrCreatePassword(dataDir, await isInitialised(pgDir)));

  let launched: Launched | null = null;
  let port = opts.port;
  let stopping = false;

  const startOrAttach = async (): Promise<void> => {
    const began = Date.now();
    await withStartLock(dataDir, timeoutMs, async () => {
      const running = await waitForRunning(pgDir, timeoutMs);
      if (running !== null) {
        port = running;
        launched = null;
        logger.info({ pgDir, port }, 'attached to the embedded PostgreSQL another process runs');
        return;
      }
      launched = await launchCluster({ pgDir, port: opts.port, password, logger, timeoutMs });
      port = opts.port;
      logger.info({ pgDir, port, ms: Date.now() - began }, 'embedded PostgreSQL started');
    });
    await ensureDatabase(urlFor(port, password, 'postgres'), database);
  };

  await startOrAttach();

  // One restart at a time: a start can take longer than the watch interval.
  let restarting: Promise<void> | null = null;
  const watcher = setInterval(() => {
    if (stopping || restarting !== null) return;
    restarting = (async () => {
      if (await isAlive(pgDir, launched)) return;
      logger.warn({ pgDir }, 'embedded PostgreSQL is gone; starting it again');
      await startOrAttach();
    })()
      .catch((err: unknown) => logger.error({ err }, 'could not start the embedded PostgreSQL again'))
      .finally(() => {
        restarting = null;
      });
  }, opts.watchIntervalMs ?? 2000);
  watcher.unref();

  return {
    get url() {
      return urlFor(port, password, database, pgDir);
    },
    get owned() {
      return launched !== null;
    },
    async stop() {
      stopping = true;
      clearInterval(watcher);
      await restarting;
      const current: Launched | null = launched;
      launched = null;
      if (current === null) return;
      logger.info({ pgDir }, 'stopping embedded PostgreSQL');
      await stopInstance(current);
    },
  };
}

/** The port of a ready server already running on `pgDir`, waiting while one is starting; null when none runs. */
async function waitForRunning(pgDir: string, timeoutMs: number): Promise<number | null> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = await readPostmasterPid(pgDir);
    if (info === null || !(await isPostgresProcess(info.pid))) return null;
    if (info.status === 'ready' && (await portAnswers(info.port))) return info.port;
    if (Date.now() > deadline) {
      throw new Error(
        `a PostgreSQL (pid ${info.pid}, status "${info.status || 'unknown'}") holds ${pgDir} but does not answer on ` +
          `port ${info.port}; stop it or wait for it to finish`,
      );
    }
    await sleep(200);
  }
}

async function isAlive(pgDir: string, launched: Launched | null): Promise<boolean> {
  if (launched !== null) return launched.child.exitCode === null && launched.child.signalCode === null;
  const info = await readPostmasterPid(pgDir);
  return info !== null && (await isPostgresProcess(info.pid));
}

/**
 * The server's Unix socket when it has one (a cluster started by an older build listens on
 * TCP only), else loopback TCP.
 */
function urlFor(port: number, password: string, database: string, pgDir?: string): string {
  const host = pgDir !== undefined && existsSync(socketPath(pgDir, port)) ? encodeURIComponent(pgDir) : '127.0.0.1';
  return `postgres://postgres:${encodeURIComponent(password)}@${host}:${port}/${encodeURIComponent(database)}`;
}

async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) {
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`).catch((err: { code?: string }) => {
        if (err.code !== '42P04') throw err; // created meanwhile by another process
      });
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}
