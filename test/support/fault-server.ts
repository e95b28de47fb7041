import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { configKeys } from '../../src/config.js';
import { createTenant, createToken } from '../../src/ingest/tenancy.js';
import { openPostgresStore } from '../../src/store/postgres/index.js';
import { freePort, testLogger } from './postgres.js';

/**
 * The service as a child process (`node --import tsx src/main.ts`), so a test can
 * kill -9 it, send it SIGTERM and watch it exit, while the database lives on in
 * the test process.
 */

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface ServerPorts {
  grpc: number;
  http: number;
  api: number;
}

export interface ChildServer {
  child: ChildProcess;
  pid: number;
  ports: ServerPorts;
  urls: { grpc: string; http: string; api: string };
  /** stdout + stderr so far (pino JSON lines). */
  output(): string;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

export async function freePorts(): Promise<ServerPorts> {
  return { grpc: await freePort(), http: await freePort(), api: await freePort() };
}

const live = new Set<ChildProcess>();

/** Starts the server on the given ports (the same ones again after a restart) and waits for /healthz. */
export async function startChildServer(env: Record<string, string>, ports: ServerPorts): Promise<ChildServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: {
      // Only what the test sets: a stray DATA_DIR, MONGODB_URL or TLS_* in the runner's environment must not leak in.
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !configKeys.includes(k))),
      BIND_HOST: '127.0.0.1',
      OTLP_GRPC_PORT: String(ports.grpc),
      OTLP_HTTP_PORT: String(ports.http),
      API_PORT: String(ports.api),
      PIPELINE_ENABLED: 'false',
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal, at: Date.now() });
    }),
  );
  const server: ChildServer = {
    child,
    pid: child.pid as number,
    ports,
    urls: { grpc: `http://127.0.0.1:${ports.grpc}`, http: `http://127.0.0.1:${ports.http}`, api: `http://127.0.0.1:${ports.api}` },
    output: () => out,
    exited,
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`server exited while starting:\n${out}`);
    if (Date.now() > deadline) throw new Error(`server did not become healthy:\n${out}`);
    const ok = await fetch(`${server.urls.api}/healthz`).then((r) => r.ok, () => false);
    if (ok) return server;
    await sleep(100);
  }
}

/** Kills whatever child servers a test left running (after a failed assertion). */
export async function killChildServers(): Promise<void> {
  await Promise.all([...live].map((c) => new Promise<void>((resolve) => {
    c.once('exit', () => resolve());
    c.kill('SIGKILL');
  })));
}

export interface TenantTokens {
  ingest: string;
  read: string;
  admin: string;
}

/** Creates a tenant and one token of each scope directly in the database, before any server runs. */
export async function prepareTenant(databaseUrl: string, tenant: string): Promise<TenantTokens> {
  const { store } = await openPostgresStore({ databaseUrl, dataDir: '.', embeddedPort: 0, logger: testLogger });
  try {
    await createTenant(store, { id: tenant }, 90);
    return {
      ingest: (await createToken(store, tenant, 'ingest')).token,
      read: (await createToken(store, tenant, 'read')).token,
      admin: (await createToken(store, tenant, 'admin')).token,
    };
  } finally {
    await store.close();
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
