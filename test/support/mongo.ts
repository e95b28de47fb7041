import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * The MongoDB server the MongoDB tests run against, when there is one:
 * - `MONGODB_URL`: any server of the kind the receiver needs (a replica set or a mongos);
 *   every suite works in a database of its own and drops it;
 * - otherwise a mongod binary, `MONGOMS_SYSTEM_BINARY` or `mongod` on the PATH, which
 *   mongodb-memory-server starts as a one-member replica set (the adapter needs
 *   transactions) in a temp dir, once per mocha process, stopped after the last test.
 *
 * Nothing is ever downloaded: mongodb-memory-server-core has no install script, and its
 * download at run time is switched off here (MONGOMS_RUNTIME_DOWNLOAD=false), so a
 * missing or unusable binary is an error, not a fetch. With neither a URL nor a binary,
 * the MongoDB suites skip and say so in plain words (mongoSkipReason).
 */

export type MongoSource = { kind: 'url'; url: string } | { kind: 'binary'; binary: string };

/** An executable `mongod` in a PATH directory, or null. */
function mongodOnPath(): string | null {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, 'mongod');
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

export function mongoSource(): MongoSource | null {
  const url = process.env['MONGODB_URL'];
  if (url) return { kind: 'url', url };
  const binary = process.env['MONGOMS_SYSTEM_BINARY'] || mongodOnPath();
  return binary ? { kind: 'binary', binary } : null;
}

/** Why `what` cannot run here, in plain words, or null when a server can be had. */
export function mongoSkipReason(what: string): string | null {
  if (mongoSource() !== null) return null;
  return (
    `${what} SKIPPED: no MongoDB server here. MONGODB_URL is not set and no mongod binary was found ` +
    '(MONGOMS_SYSTEM_BINARY, or mongod on the PATH); set one of them to run it.'
  );
}

/** "db version v7.0.14" → "7.0.14", so mongodb-memory-server knows what it starts (no version warning). */
function versionOf(binary: string): string | undefined {
  const out = spawnSync(binary, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  return /db version v?(\d+\.\d+\.\d+)/.exec(out.stdout ?? '')?.[1];
}

interface Running {
  url: string;
  stop(): Promise<void>;
}

/** Starts `binary` through mongodb-memory-server, a replica set or a standalone server; never downloads. */
async function startMongod(binary: string, replicaSet: boolean): Promise<Running> {
  process.env['MONGOMS_RUNTIME_DOWNLOAD'] = 'false';
  const { MongoMemoryReplSet, MongoMemoryServer } = await import('mongodb-memory-server-core');
  const version = versionOf(binary);
  const binaryOpts = { systemBinary: binary, ...(version ? { version } : {}) };
  if (replicaSet) {
    const set = await MongoMemoryReplSet.create({ binary: binaryOpts, replSet: { count: 1, storageEngine: 'wiredTiger' } });
    await set.waitUntilRunning();
    return { url: set.getUri(), stop: async () => void (await set.stop({ doCleanup: true })) };
  }
  const server = await MongoMemoryServer.create({ binary: binaryOpts, instance: { storageEngine: 'wiredTiger' } });
  return { url: server.getUri(), stop: async () => void (await server.stop({ doCleanup: true })) };
}

let shared: Promise<Running> | undefined;

/** The URL of the process's MongoDB server (MONGODB_URL, or the replica set started from the binary). */
export async function sharedMongoUrl(): Promise<string> {
  const source = mongoSource();
  if (source === null) throw new Error(mongoSkipReason('MongoDB') ?? 'no MongoDB server');
  if (source.kind === 'url') return source.url;
  shared ??= startMongod(source.binary, true);
  return (await shared).url;
}

/**
 * A standalone server of its own, for the startup refusal; only from a binary (a
 * MONGODB_URL names one server, which must be a replica set). Null without a binary.
 */
export async function startStandaloneMongod(): Promise<Running | null> {
  const source = mongoSource();
  const binary = source?.kind === 'binary' ? source.binary : process.env['MONGOMS_SYSTEM_BINARY'] || mongodOnPath();
  return binary ? startMongod(binary, false) : null;
}

// Mocha's root-level `after`, registered when a spec file first imports this module.
if (typeof after === 'function') {
  after(async function () {
    this.timeout(60_000);
    // A server that failed to start has failed its suites already; there is nothing to stop.
    const running = await shared?.catch(() => undefined);
    await running?.stop();
  });
}
