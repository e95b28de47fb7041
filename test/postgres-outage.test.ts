/**
 * The PostgreSQL adapter across a database outage, on a real server of its own:
 * while the server is away every call rejects with StoreUnavailableError (so ingest
 * answers "retry later"), and once it is back the same store works again.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { createPool, createPostgresStore, startEmbeddedPostgres, type PostgresStore } from '../src/store/postgres/index.js';
import { isProcessAlive, readPostmasterPid, sleep } from '../src/store/postgres/embedded-files.js';
import { StoreUnavailableError, defaultPrivacyPolicy } from '../src/store/store.js';
import { freePort, startTestPostgres, tempDataDir, testLogger, type TestPostgres } from './support/postgres.js';
import { makeEvent, makePoint } from './support/records.js';

const batchOf = (tenantId: string, tag: string) => ({
  events: [makeEvent({ tenantId, promptId: tag })],
  points: [makePoint({ tenantId, seriesKey: tag })],
  spans: [],
});

async function rejection(p: Promise<unknown>): Promise<{ err: unknown; ms: number }> {
  const began = Date.now();
  try {
    await p;
  } catch (err) {
    return { err, ms: Date.now() - began };
  }
  throw new Error('expected a rejection');
}

async function storedEvents(store: PostgresStore, tenantId: string): Promise<string[]> {
  const { rows } = await store.pool.query<{ prompt_id: string }>('SELECT prompt_id FROM events WHERE tenant_id = $1 ORDER BY prompt_id', [tenantId]);
  return rows.map((r) => r.prompt_id);
}

describe('PostgreSQL adapter: database outage', function () {
  let server: TestPostgres;
  let store: PostgresStore;
  const tenant = 'outage';

  before(async () => {
    server = await startTestPostgres('outage');
    store = createPostgresStore(createPool(server.handle.url, testLogger, { connectTimeoutMs: 2000 }), testLogger);
    await store.migrate();
    await store.createTenant({ id: tenant, name: 'Outage', timezone: 'UTC', retentionDays: 30, allowedOrganizationIds: [], policy: { ...defaultPrivacyPolicy } });
  });
  after(async () => {
    await store?.close();
    await server?.destroy();
  });

  it('rejects with StoreUnavailableError while the server is stopped, and heals when it is back', async function () {
    // Bounds the whole outage: the calls below must fail fast, not wait for a TCP timeout.
    this.timeout(30_000);
    await store.writeBatch(tenant, batchOf(tenant, 'a-before'));

    await server.handle.stop();
    const write = await rejection(store.writeBatch(tenant, batchOf(tenant, 'b-during')));
    expect(write.err).to.be.instanceOf(StoreUnavailableError);
    const ping = await rejection(store.ping());
    expect(ping.err).to.be.instanceOf(StoreUnavailableError);
    const lookup = await rejection(store.findTokenByHash('whatever'));
    expect(lookup.err).to.be.instanceOf(StoreUnavailableError);
    console.log(`      (writeBatch rejected after ${write.ms} ms, ping after ${ping.ms} ms, token lookup after ${lookup.ms} ms)`);

    const began = Date.now();
    server.handle = await startEmbeddedPostgres({ dataDir: server.dataDir, port: server.port, logger: testLogger });
    console.log(`      (restarted in ${Date.now() - began} ms)`);
    await store.ping();
    await store.writeBatch(tenant, batchOf(tenant, 'c-after'));
    expect(await storedEvents(store, tenant)).to.deep.equal(['a-before', 'c-after']);
  });

  it('keeps every acknowledged write through a crash of the server, which the watcher restarts', async function () {
    this.timeout(60_000);
    const acked: string[] = [];
    for (let i = 0; i < 20; i++) {
      const tag = `crash-${String(i).padStart(2, '0')}`;
      await store.writeBatch(tenant, batchOf(tenant, tag));
      acked.push(tag);
    }
    const pid = (await readPostmasterPid(path.join(server.dataDir, 'postgres')))?.pid;
    expect(pid).to.be.a('number');
    // Immediate shutdown: no checkpoint, the next start replays the WAL (a crash, as far as data goes).
    process.kill(pid as number, 'SIGQUIT');
    // The postmaster exits after its backends: until then a write sent in one message can still commit on the dying server.
    while (isProcessAlive(pid as number)) await sleep(20);

    let unavailable = 0;
    for (let attempt = 0; ; attempt++) {
      try {
        await store.writeBatch(tenant, batchOf(tenant, 'crash-zz'));
        break;
      } catch (err) {
        expect(err).to.be.instanceOf(StoreUnavailableError);
        unavailable++;
        if (attempt > 100) throw err;
        await sleep(250);
      }
    }
    console.log(`      (${unavailable} writes were refused as unavailable until the watcher restarted the server)`);
    const stored = await storedEvents(store, tenant);
    expect(stored).to.include.members([...acked, 'crash-zz']);
  });

  it('fails fast when the server stops answering without closing connections, and carries on when it answers again', async function () {
    this.timeout(60_000);
    const quick = createPostgresStore(createPool(server.handle.url, testLogger, { connectTimeoutMs: 2000 }), testLogger, { writeTimeoutMs: 3000 });
    try {
      await quick.writeBatch(tenant, batchOf(tenant, 'd-before-freeze'));
      const postmaster = (await readPostmasterPid(path.join(server.dataDir, 'postgres')))?.pid as number;
      const children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(postmaster)], { encoding: 'utf8' })
        .split('\n')
        .map((l) => Number.parseInt(l, 10))
        .filter(Number.isInteger);
      const frozen = [postmaster, ...children];
      // Like a host that vanished from the network: sockets stay open, nothing answers.
      for (const pid of frozen) process.kill(pid, 'SIGSTOP');
      let during: { err: unknown; ms: number };
      try {
        during = await rejection(quick.writeBatch(tenant, batchOf(tenant, 'e-during-freeze')));
      } finally {
        for (const pid of frozen) process.kill(pid, 'SIGCONT');
      }
      expect(during.err).to.be.instanceOf(StoreUnavailableError);
      console.log(`      (writeBatch to a frozen server rejected after ${during.ms} ms)`);
      await quick.writeBatch(tenant, batchOf(tenant, 'f-after-freeze'));
      expect(await storedEvents(quick, tenant)).to.include.members(['d-before-freeze', 'f-after-freeze']);
    } finally {
      await quick.close();
    }
  });
});

/** Runs a short script in a separate Node process that starts or attaches to the embedded PostgreSQL in `dataDir`, then exits. */
function otherProcess(dataDir: string, port: number): { owned: boolean; url: string } {
  const embedded = path.resolve(import.meta.dirname, '../src/store/postgres/embedded.ts');
  const script = `
    import { startEmbeddedPostgres } from ${JSON.stringify(embedded)};
    import { pino } from 'pino';
    const h = await startEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir)}, port: ${port}, logger: pino({ level: 'silent' }) });
    console.log(JSON.stringify({ owned: h.owned, url: h.url }));
    process.exit(0); // no stop(): the exit itself must do the right thing`;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop() as string) as { owned: boolean; url: string };
}

describe('embedded PostgreSQL shared by the server and the CLI (one DATA_DIR)', function () {
  this.timeout(60_000);

  it('lets another process attach and exit without stopping the server it did not start', async () => {
    const server = await startTestPostgres('shared-dir');
    const store = createPostgresStore(createPool(server.handle.url, testLogger), testLogger);
    try {
      await store.migrate();
      const other = otherProcess(server.dataDir, server.port);
      expect(other).to.deep.equal({ owned: false, url: server.handle.url });
      await store.ping();
    } finally {
      await store.close();
      await server.destroy();
    }
  });

  it('stops the server on exit when the exiting process started it', async () => {
    const server = await startTestPostgres('exit-stops');
    await server.handle.stop();
    const other = otherProcess(server.dataDir, server.port);
    expect(other.owned).to.equal(true);
    const pgDir = path.join(server.dataDir, 'postgres');
    // The exit sent the fast-shutdown signal; the server finishes it on its own.
    for (let i = 0; i < 100 && (await readPostmasterPid(pgDir)) !== null; i++) await sleep(100);
    expect(await readPostmasterPid(pgDir)).to.equal(null);
    await server.destroy();
  });

  it('starts the server again in a process that was attached when the one that started it stops it', async () => {
    const server = await startTestPostgres('takeover');
    const attached = await startEmbeddedPostgres({ dataDir: server.dataDir, port: server.port, logger: testLogger, watchIntervalMs: 200 });
    const store = createPostgresStore(createPool(attached.url, testLogger, { connectTimeoutMs: 2000 }), testLogger);
    try {
      expect(attached.owned).to.equal(false);
      await store.migrate();
      await server.handle.stop();
      for (let i = 0; i < 100 && !attached.owned; i++) await sleep(100);
      expect(attached.owned).to.equal(true);
      await store.writeBatch('takeover', batchOf('takeover', 'after-takeover'));
    } finally {
      await store.close();
      server.handle = attached;
      await server.destroy();
    }
  });

  it('starts normally over a stale postmaster.pid whose pid now belongs to another process', async () => {
    const server = await startTestPostgres('stale-pid');
    try {
      await server.handle.stop();
      const pgDir = path.join(server.dataDir, 'postgres');
      // As after a crash and a container restart: the recorded pid is alive, but is not PostgreSQL.
      await fs.writeFile(path.join(pgDir, 'postmaster.pid'), `${process.pid}\n${pgDir}\n0\n${server.port}\n\n127.0.0.1\n0 0\nready   \n`);
      server.handle = await startEmbeddedPostgres({ dataDir: server.dataDir, port: server.port, logger: testLogger, startTimeoutMs: 20_000 });
      expect(server.handle.owned).to.equal(true);
    } finally {
      await server.destroy();
    }
  });

  it('recovers from a first start that died during initdb (a data directory without PG_VERSION)', async () => {
    const dataDir = await tempDataDir('half-init');
    try {
      const pgDir = path.join(dataDir, 'postgres');
      await fs.mkdir(path.join(pgDir, 'base'), { recursive: true });
      await fs.writeFile(path.join(pgDir, 'postgresql.conf'), '# left by an interrupted initdb\n');
      const handle = await startEmbeddedPostgres({ dataDir, port: await freePort(), logger: testLogger });
      const owned = handle.owned;
      await handle.stop();
      expect(owned).to.equal(true);
      const entries = await fs.readdir(dataDir);
      expect(entries.filter((e) => e.startsWith('postgres.incomplete-'))).to.have.length(1);
      expect(await fs.readdir(pgDir)).to.include('PG_VERSION');
    } finally {
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });
});
