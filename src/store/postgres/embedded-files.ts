import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { constants as fsc } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** The OS account PostgreSQL runs as when we are root; null when we are not root. */
export interface OsUser {
  uid: number;
  gid: number;
}

export async function postgresOsUser(): Promise<OsUser | null> {
  if (process.getuid?.() !== 0) return null;
  try {
    const [uid, gid] = await Promise.all([
      execFileAsync('id', ['-u', 'postgres']).then((r) => Number.parseInt(r.stdout, 10)),
      execFileAsync('id', ['-g', 'postgres']).then((r) => Number.parseInt(r.stdout, 10)),
    ]);
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error('unparsable id output');
    return { uid, gid };
  } catch {
    throw new Error(
      'running as root, and PostgreSQL refuses to run as root: create a "postgres" OS user ' +
        '(useradd --system postgres), run as a non-root user, or set DATABASE_URL to an external PostgreSQL',
    );
  }
}

/**
 * Makes `pgDir` usable by the server's account: it must own the directory (mode 0700),
 * and be able to walk down to it, which a root-only parent (e.g. /root) forbids.
 */
export async function prepareClusterDir(pgDir: string, user: OsUser | null): Promise<void> {
  await fs.mkdir(pgDir, { recursive: true, mode: 0o700 });
  if (user === null) return;
  await checkReachable(path.dirname(pgDir), user);
  const st = await fs.stat(pgDir);
  if (st.uid !== user.uid) await chownTree(pgDir, user);
  if ((st.mode & 0o077) !== 0) await fs.chmod(pgDir, 0o700);
}

async function checkReachable(dir: string, user: OsUser): Promise<void> {
  for (let d = dir; ; d = path.dirname(d)) {
    const st = await fs.stat(d);
    const bit = st.uid === user.uid ? 0o100 : st.gid === user.gid ? 0o010 : 0o001;
    if ((st.mode & bit) === 0) {
      throw new Error(
        `the postgres OS user cannot enter ${d}, a parent of the embedded database directory: ` +
          `allow it (chmod o+x ${d}) or set DATA_DIR to a directory it can reach`,
      );
    }
    if (path.dirname(d) === d) return;
  }
}

async function chownTree(dir: string, user: OsUser): Promise<void> {
  await fs.chown(dir, user.uid, user.gid);
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) await chownTree(p, user);
    else await fs.lchown(p, user.uid, user.gid);
  }
}

/** True once initdb has finished in `pgDir` (it writes PG_VERSION last of the files we check). */
export async function isInitialised(pgDir: string): Promise<boolean> {
  const found = await Promise.all(['PG_VERSION', 'postgresql.conf'].map((f) => exists(path.join(pgDir, f))));
  return found.every(Boolean);
}

export async function clusterMajorVersion(pgDir: string): Promise<string> {
  return (await fs.readFile(path.join(pgDir, 'PG_VERSION'), 'utf8')).trim();
}

/**
 * A first start that died during initdb leaves files but no PG_VERSION, and initdb
 * refuses a non-empty directory. Such a directory holds no data, but we move it aside
 * rather than delete it, in case someone put something there by hand.
 */
export async function setAsideHalfInitialised(pgDir: string): Promise<string | null> {
  const entries = await fs.readdir(pgDir).catch(() => []);
  if (entries.length === 0) return null;
  const aside = `${pgDir}.incomplete-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  await fs.rename(pgDir, aside);
  return aside;
}

/** The generated superuser password, kept next to the cluster (mode 0600). */
export async function readOrCreatePassword(dataDir: string, clusterExists: boolean): Promise<string> {
  const file = path.join(dataDir, 'postgres-password');
  try {
    const handle = await fs.open(file, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600);
    if (clusterExists) {
      await handle.close();
      await fs.unlink(file);
      throw new Error(
        `the embedded PostgreSQL in ${dataDir} exists but its password file ${file} is missing; ` +
          'restore the file, or move the postgres directory away to start with an empty database',
      );
    }
    const password = randomBytes(24).toString('hex');
    await handle.writeFile(`${password}\n`);
    await handle.close();
    return password;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const password = (await fs.readFile(file, 'utf8')).trim();
    if (password === '') throw new Error(`the password file ${file} is empty`);
    return password;
  }
}

export interface PostmasterInfo {
  pid: number;
  port: number;
  /** "starting", "ready", "stopping" or "standby" (PG 10+). */
  status: string;
}

/** Reads postmaster.pid; null when there is none or it is unreadable (e.g. half written). */
export async function readPostmasterPid(pgDir: string): Promise<PostmasterInfo | null> {
  const text = await fs.readFile(path.join(pgDir, 'postmaster.pid'), 'utf8').catch(() => null);
  if (text === null) return null;
  const lines = text.split('\n');
  const pid = Number.parseInt(lines[0] ?? '', 10);
  const port = Number.parseInt(lines[3] ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port)) return null;
  return { pid, port, status: (lines[7] ?? '').trim() };
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether `pid` is a live PostgreSQL server. A stale postmaster.pid (after a crash or a
 * container restart) can name a pid that now belongs to another process, even ours.
 */
export async function isPostgresProcess(pid: number): Promise<boolean> {
  if (pid === process.pid || !isProcessAlive(pid)) return false;
  const comm = await fs.readFile(`/proc/${pid}/comm`, 'utf8').catch(() => null);
  return comm === null || comm.trim().startsWith('postgres');
}

export function portAnswers(port: number, host = '127.0.0.1', timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * An exclusive file lock (O_EXCL) around "start or attach", so a CLI and a server
 * starting together neither run initdb twice nor start two postmasters.
 * A lock left by a dead process is taken over.
 */
export async function withStartLock<T>(dataDir: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  const file = path.join(dataDir, 'postgres-start.lock');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fs.writeFile(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number.parseInt(await fs.readFile(file, 'utf8').catch(() => ''), 10);
      if (Number.isInteger(holder) && holder > 0 && !isProcessAlive(holder)) {
        await fs.unlink(file).catch(() => undefined);
        continue;
      }
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${file} (held by process ${holder}) to start the embedded PostgreSQL`);
      }
      await sleep(100);
    }
  }
  try {
    return await fn();
  } finally {
    await fs.unlink(file).catch(() => undefined);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(
    () => true,
    () => false,
  );
}
