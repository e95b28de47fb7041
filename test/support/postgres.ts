import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { pino, type Logger } from 'pino';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../src/store/postgres/embedded.js';

/**
 * One real PostgreSQL (the bundled embedded one) per mocha process, in a temp dir on
 * a free port; each suite gets a database of its own from createTestDatabase().
 * Stopped and removed after the last test.
 */

export const testLogger: Logger = pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' });

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** A temp DATA_DIR the postgres OS user can enter (mkdtemp makes it 0700, root's). */
export async function tempDataDir(label: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `ai-usage-${label}-`));
  await fs.chmod(dir, 0o755);
  return dir;
}

export interface TestPostgres {
  dataDir: string;
  port: number;
  /** Replace it when a test starts the server again, so destroy() stops that one. */
  handle: EmbeddedPostgresHandle;
  /** Database `postgres` on the server, for CREATE DATABASE and the like. */
  adminUrl: string;
  /** Stops the server and deletes its directory. */
  destroy(): Promise<void>;
}

/** A PostgreSQL of its own, for tests that stop and start the server. */
export async function startTestPostgres(label = 'pg'): Promise<TestPostgres> {
  const dataDir = await tempDataDir(label);
  const port = await freePort();
  const handle = await startEmbeddedPostgres({ dataDir, port, logger: testLogger });
  const server: TestPostgres = {
    dataDir,
    port,
    handle,
    adminUrl: withDatabase(handle.url, 'postgres'),
    async destroy() {
      // The test may have replaced the handle (stopped and started the server again).
      await server.handle.stop();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
  return server;
}

export const withDatabase = (url: string, database: string): string => {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
};

let shared: Promise<TestPostgres> | undefined;
let databases = 0;
export let sharedStartupMs: number | undefined;

/** A new, empty database on the process's shared test server. */
export async function createTestDatabase(): Promise<string> {
  shared ??= (async () => {
    const began = Date.now();
    const server = await startTestPostgres('shared');
    sharedStartupMs = Date.now() - began;
    return server;
  })();
  const server = await shared;
  const name = `test_${process.pid}_${++databases}`;
  const client = new pg.Client(server.adminUrl);
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  return withDatabase(server.handle.url, name);
}

// Mocha's root-level `after`, registered when a spec file first imports this module.
if (typeof after === 'function') {
  after(async function () {
    this.timeout(60_000);
    if (shared !== undefined) await (await shared).destroy();
  });
}
