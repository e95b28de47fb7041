import http from 'node:http';
import net from 'node:net';
import { expect } from 'chai';
import pg from 'pg';
import {
  type Batch, type FaultProtocol, buildBatch, exportBatch, logExporter, requestBytes, storedSeqCounts,
} from './support/fault-otel.js';
import { type ChildServer, type TenantTokens, freePorts, killChildServers, prepareTenant, sleep, startChildServer } from './support/fault-server.js';
import { type TestPostgres, startTestPostgres } from './support/postgres.js';

const SHUTDOWN_TIMEOUT_MS = 5000;
const utcDay = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

/** Resolves true once a TCP connect to the port is refused (the listener is closed). */
async function refused(port: number, deadlineMs: number): Promise<boolean> {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    const result = await new Promise<'refused' | 'accepted'>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve('accepted');
      });
      s.once('error', () => resolve('refused'));
    });
    if (result === 'refused') return true;
    await sleep(50);
  }
  return false;
}

/** A POST whose body arrives in two halves: the second only when the test says so. */
function slowUpload(port: number, token: string, body: Buffer) {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const answered = new Promise<number>((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port, method: 'POST', path: '/v1/logs',
      headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length, authorization: `Bearer ${token}` },
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    const half = Math.floor(body.length / 2);
    req.write(body.subarray(0, half));
    void released.then(() => req.end(body.subarray(half)));
  });
  return { answered, release };
}

/** Server-side statements of the receiver waiting on a lock, by what they do. */
async function waiting(client: pg.Client): Promise<{ inserts: number; rollups: number }> {
  const { rows } = await client.query<{ query: string }>(
    `SELECT query FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()`);
  return {
    inserts: rows.filter((r) => /(INSERT INTO|COPY) events/i.test(r.query)).length,
    rollups: rows.filter((r) => /daily_(seat|model)_rollups/i.test(r.query)).length,
  };
}

/**
 * SIGTERM to a child server with exports, an upload and a pipeline run in flight.
 * The database holds them (a test transaction locks the tables they write), so they
 * are provably still running when the signal arrives; the locks are released after
 * the listeners are seen closed.
 *
 * The Kubernetes side (preStop sleep + SHUTDOWN_TIMEOUT_MS within
 * terminationGracePeriodSeconds) is checked on the rendered manifests in deploy.test.ts
 * ("runs the image start command with 2+ replicas, the package version and a graceful stop").
 */
describe('fault: SIGTERM', function () {
  this.timeout(180_000);
  const tenant = 'sigterm';
  let pgs: TestPostgres;
  let tokens: TenantTokens;

  before(async () => {
    pgs = await startTestPostgres('fault-sigterm');
    tokens = await prepareTenant(pgs.handle.url, tenant);
  });
  after(async () => {
    await killChildServers();
    await pgs?.destroy();
  });

  const start = async (): Promise<ChildServer> =>
    startChildServer({
      DATABASE_URL: pgs.handle.url, SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS), PIPELINE_ENABLED: 'true', LOG_LEVEL: 'info',
    }, await freePorts());

  it('finishes the exports, upload and pipeline run in flight, refuses new connections, and exits 0 within SHUTDOWN_TIMEOUT_MS', async () => {
    const server = await start();
    // Something for the pipeline to roll up, and today's partitions in place.
    const warm = await exportBatch(logExporter('grpc', server.urls, tokens.ingest, 10_000), buildBatch(['warm-0', 'warm-1', 'warm-2']));
    expect(warm).to.deep.equal({ ok: true });

    const locker = new pg.Client(pgs.handle.url);
    await locker.connect();
    const watcher = new pg.Client(pgs.handle.url);
    await watcher.connect();
    try {
      // SHARE blocks INSERT/DELETE, not SELECT: writes wait, reads (token lookups, the pipeline's queries) go on.
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE events, daily_seat_rollups, daily_model_rollups IN SHARE MODE');

      const protocols: FaultProtocol[] = ['grpc', 'http/protobuf', 'grpc', 'http/protobuf'];
      const batches = protocols.map((_, i) => buildBatch(Array.from({ length: 2000 }, (_, k) => `big-${i}-${k}`)));
      const exports = protocols.map((p, i) => exportBatch(logExporter(p, server.urls, tokens.ingest, 30_000), batches[i] as Batch));
      const uploadBatch = buildBatch(Array.from({ length: 500 }, (_, k) => `upload-${k}`));
      const upload = slowUpload(server.ports.http, tokens.ingest, requestBytes(uploadBatch));
      const pipelineRun = fetch(`${server.urls.api}/api/v1/pipeline/runs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ from: utcDay(-1), to: utcDay(0) }),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as { days?: number } }));

      // Every export is inside a COPY (the store writes up to 3 transactions at once, each
      // carrying the batches that queued meanwhile) and the pipeline inside its rollup write.
      let w = { inserts: 0, rollups: 0 };
      for (const deadline = Date.now() + 30_000; ;) {
        w = await waiting(watcher);
        if (w.inserts >= Math.min(protocols.length, 3) && w.rollups >= 1) {
          // The one export a full set of transactions leaves over is queued behind them by now.
          await sleep(1000);
          break;
        }
        if (Date.now() > deadline) throw new Error(`not all in flight: ${JSON.stringify(w)}\n${server.output()}`);
        await sleep(50);
      }

      const termAt = Date.now();
      server.child.kill('SIGTERM');
      const closed = await Promise.all([server.ports.grpc, server.ports.http, server.ports.api].map((p) => refused(p, SHUTDOWN_TIMEOUT_MS)));
      const closedMs = Date.now() - termAt;
      const stillRunning = server.child.exitCode === null;

      upload.release();
      await sleep(500);
      await locker.query('COMMIT');
      const releasedMs = Date.now() - termAt;

      const results = await Promise.all(exports);
      const uploadStatus = await upload.answered;
      const run = await pipelineRun;
      const exit = await server.exited;
      const exitMs = exit.at - termAt;

      const stored = await storedSeqCounts(pgs.handle.url, tenant);
      const inFlightSeqs = [...batches.flatMap((b) => b.seqs), ...uploadBatch.seqs];
      const storedInFlight = inFlightSeqs.filter((s) => stored.get(s) === 1).length;
      const { rows: rollups } = await watcher.query(`SELECT day::text AS day FROM daily_seat_rollups WHERE tenant_id = $1`, [tenant]);
      console.log(`      at SIGTERM: ${w.inserts} inserts and ${w.rollups} rollup writes waiting; listeners closed ${closedMs} ms after SIGTERM, locks released at ${releasedMs} ms, exit code ${exit.code} ` +
        `at ${exitMs} ms (SHUTDOWN_TIMEOUT_MS ${SHUTDOWN_TIMEOUT_MS}); in flight: ${protocols.length} exports of 2000 + an upload of 500 ` +
        `records, stored ${storedInFlight}/${inFlightSeqs.length}; pipeline run ${run.status} (${run.body.days} days)`);

      expect(closed, 'grpc, http and api listeners closed').to.deep.equal([true, true, true]);
      expect(stillRunning, 'the process waited for the work in flight').to.equal(true);
      expect(results).to.deep.equal(protocols.map(() => ({ ok: true })));
      expect(uploadStatus).to.equal(200);
      expect(run).to.deep.include({ status: 200 });
      expect(run.body.days).to.equal(2);
      expect(rollups.map((r) => (r as { day: string }).day)).to.include(utcDay(0));
      expect(storedInFlight).to.equal(inFlightSeqs.length);
      expect(exit).to.deep.include({ code: 0, signal: null });
      expect(exitMs).to.be.lessThan(SHUTDOWN_TIMEOUT_MS);
      expect(server.output()).to.match(/"signal":"SIGTERM".*"msg":"stopping"/);
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
      await locker.end();
      await watcher.end();
    }
  });

  it('does not wait past SHUTDOWN_TIMEOUT_MS for a client that never finishes its request, and still exits 0', async () => {
    const server = await start();
    const body = requestBytes(buildBatch(['stalled-0']));
    // Headers and half a body, then nothing: a client that hung, or one trying to hold the server.
    const stalled = net.connect(server.ports.http, '127.0.0.1');
    let cut = false;
    stalled.on('close', () => (cut = true)).on('error', () => undefined);
    await new Promise<void>((r) => stalled.once('connect', () => r()));
    stalled.write(`POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nAuthorization: Bearer ${tokens.ingest}\r\n` +
      `Content-Length: ${body.length}\r\n\r\n`);
    stalled.write(body.subarray(0, 1));
    await sleep(300);

    const termAt = Date.now();
    server.child.kill('SIGTERM');
    const exit = await server.exited;
    const exitMs = exit.at - termAt;
    stalled.destroy();
    console.log(`      with a stalled upload: exit code ${exit.code} at ${exitMs} ms (SHUTDOWN_TIMEOUT_MS ${SHUTDOWN_TIMEOUT_MS}), connection cut: ${cut}`);
    expect(exit).to.deep.include({ code: 0, signal: null });
    expect(exitMs).to.be.lessThan(SHUTDOWN_TIMEOUT_MS);
    expect((await storedSeqCounts(pgs.handle.url, tenant)).has('stalled-0')).to.equal(false);
  });
});
