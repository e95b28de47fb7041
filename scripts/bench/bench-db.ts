import { rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { pino, type Logger } from 'pino';
import { createTenant, createToken } from '../../src/ingest/tenancy.js';
import { createPostgresStore, type PostgresStore } from '../../src/store/postgres/adapter.js';
import { readPostmasterPid } from '../../src/store/postgres/embedded-files.js';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../src/store/postgres/embedded.js';
import { createPool } from '../../src/store/postgres/pool.js';

/** A fresh embedded PostgreSQL in a temp dir, with a tenant and an ingest token, for one benchmark run. */
export interface BenchDb {
  dataDir: string;
  url: string;
  store: PostgresStore;
  tenantId: string;
  token: string;
  /** The postmaster, whose process tree is PostgreSQL's CPU. */
  postmasterPid: number;
  /** Events + points + spans of the tenant. */
  countRecords(): Promise<{ events: number; points: number; spans: number }>;
  diskMb(): Promise<number>;
  close(opts: { keep: boolean }): Promise<void>;
}

export const quietLogger: Logger = pino({ level: process.env['BENCH_LOG_LEVEL'] ?? 'warn' });

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      server.close(() => (typeof a === 'object' && a !== null ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

export async function openBenchDb(label: string, tenantId = 'bench'): Promise<BenchDb> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), `ai-usage-${label}-`));
  // mkdtemp makes it root-only; the postgres OS user must be able to enter it.
  await fs.chmod(dataDir, 0o755);
  const pg: EmbeddedPostgresHandle = await startEmbeddedPostgres({ dataDir, port: await freePort(), logger: quietLogger });
  const store = createPostgresStore(createPool(pg.url, quietLogger, { statementTimeoutMs: 3_600_000 }), quietLogger);
  await store.migrate();
  await createTenant(store, { id: tenantId }, 90);
  const token = (await createToken(store, tenantId, 'ingest')).token;
  // A benchmark that dies half-way must not leave gigabytes behind in /tmp (the server is stopped by its own exit hook).
  let closed = false;
  process.on('exit', () => {
    if (!closed) rmSync(dataDir, { recursive: true, force: true, maxRetries: 5 });
  });
  const postmaster = await readPostmasterPid(path.join(dataDir, 'postgres'));
  if (postmaster === null) throw new Error('no postmaster.pid in the embedded database directory');
  return {
    dataDir,
    url: pg.url,
    store,
    tenantId,
    token,
    postmasterPid: postmaster.pid,
    async countRecords() {
      const { rows } = await store.pool.query<{ events: string; points: string; spans: string }>(
        `SELECT (SELECT count(*) FROM events WHERE tenant_id = $1) AS events,
                (SELECT count(*) FROM metric_points WHERE tenant_id = $1) AS points,
                (SELECT count(*) FROM spans WHERE tenant_id = $1) AS spans`, [tenantId]);
      const r = rows[0] as { events: string; points: string; spans: string };
      return { events: Number(r.events), points: Number(r.points), spans: Number(r.spans) };
    },
    async diskMb() {
      const { rows } = await store.pool.query<{ bytes: string }>('SELECT pg_database_size(current_database()) AS bytes');
      return Number(rows[0]?.bytes ?? 0) / 1024 / 1024;
    },
    async close({ keep }) {
      closed = true;
      await store.close();
      await pg.stop();
      if (!keep) await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** The embedded PostgreSQL of a run kept with --keep, started again for experiments on its data. */
export async function openKeptDb(dataDir: string): Promise<{ pool: pg.Pool; close(): Promise<void> }> {
  const embedded = await startEmbeddedPostgres({ dataDir, port: await freePort(), logger: quietLogger });
  const pool = createPool(embedded.url, quietLogger, { statementTimeoutMs: 3_600_000 });
  return {
    pool,
    async close() {
      await pool.end();
      await embedded.stop();
    },
  };
}
