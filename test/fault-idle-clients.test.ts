import http2 from 'node:http2';
import net from 'node:net';
import { expect } from 'chai';
import { buildBatch, exportBatch, logExporter, storedSeqCounts } from './support/fault-otel.js';
import { type ChildServer, type TenantTokens, freePorts, killChildServers, prepareTenant, sleep, startChildServer } from './support/fault-server.js';
import { type IdleSocket, openFilesLimit, openIdle, spread } from './support/fault-sockets.js';
import { type TestPostgres, startTestPostgres } from './support/postgres.js';

const PER_PORT = 1000;
const HEADERS_TIMEOUT_MS = 3000;
const KEEPALIVE_TIMEOUT_MS = 1500;
const GRPC_IDLE_MS = 2000;
const GRPC_KEEPALIVE_MS = 500;
const PARTIAL = 'POST /v1/logs HTTP/1.1\r\nHost: receiver\r\nContent-Type: application/x-protobuf\r\n';

/** Waits until every socket is closed (by the server), up to a deadline. */
async function allClosed(sockets: IdleSocket[], deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (sockets.some((s) => s.closedAt === null) && Date.now() < deadline) await sleep(50);
}

/**
 * One keep-alive request on a raw socket (Node's own Agent would close it itself, one
 * second before the server's Keep-Alive hint); resolves with the status and the time
 * from the end of the answer to the server closing the connection.
 */
function keepAliveIdle(port: number, request: string): Promise<{ status: number; idleMs: number }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
    let received = '';
    let answeredAt = 0;
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      received += d;
      const head = received.indexOf('\r\n\r\n');
      const length = Number(/content-length: (\d+)/i.exec(received)?.[1] ?? NaN);
      if (answeredAt === 0 && head >= 0 && received.length >= head + 4 + length) answeredAt = Date.now();
    });
    socket.on('end', () => {
      socket.destroy();
      if (answeredAt === 0) return reject(new Error(`closed before a full answer: ${received}`));
      resolve({ status: Number(received.slice(9, 12)), idleMs: Date.now() - answeredAt });
    });
    socket.on('error', reject);
  });
}

/**
 * Slow and idle clients against a child server with short timeouts: two thousand
 * idle connections (silent, or stuck in the middle of their headers) on the
 * OTLP/HTTP and API ports do not stop service; the server cuts them after the
 * header timeout, idle keep-alive connections after the keep-alive timeout, and
 * an idle gRPC connection gets keepalive pings and then GOAWAY. A thousand idle
 * HTTP/2 connections on the gRPC port (to a second server with the default idle
 * settings, so they stay) do not stop gRPC exports either.
 */
describe('fault: slow and idle clients', function () {
  this.timeout(180_000);
  const tenant = 'idle';
  let pgs: TestPostgres;
  let tokens: TenantTokens;
  let server: ChildServer;

  before(async () => {
    // Each idle connection costs a descriptor here and one in the server (a child with the same limits).
    // Below the need the suite fails, saying why: a skipped fault test would read as a passed one.
    const limit = openFilesLimit();
    if (limit < 2 * PER_PORT + 500) {
      throw new Error(`open-files limit ${limit} is below ${2 * PER_PORT + 500} (Node starts at the hard limit, so raise that: ` +
        '`ulimit -n 65536` as root before the tests, as .ci/run does)');
    }
    pgs = await startTestPostgres('fault-idle');
    tokens = await prepareTenant(pgs.handle.url, tenant);
    server = await startChildServer({
      DATABASE_URL: pgs.handle.url,
      HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
      HTTP_KEEPALIVE_TIMEOUT_MS: String(KEEPALIVE_TIMEOUT_MS),
      HTTP_REQUEST_TIMEOUT_MS: '20000',
      GRPC_MAX_CONNECTION_IDLE_MS: String(GRPC_IDLE_MS),
      GRPC_KEEPALIVE_TIME_MS: String(GRPC_KEEPALIVE_MS),
      GRPC_KEEPALIVE_TIMEOUT_MS: '1000',
    }, await freePorts());
  });
  after(async () => {
    await killChildServers();
    await pgs?.destroy();
  });

  it(`keeps serving with ${PER_PORT} idle connections on each HTTP port, and cuts them after HTTP_HEADERS_TIMEOUT_MS`, async () => {
    console.log(`      open-files limit ${openFilesLimit()} (Node raises its soft limit to the hard one at start): ${2 * PER_PORT} idle sockets here and as many in the server fit`);
    const began = Date.now();
    const groups = {
      'http silent': await openIdle(server.ports.http, PER_PORT / 2, null),
      'http partial header': await openIdle(server.ports.http, PER_PORT / 2, PARTIAL),
      'api silent': await openIdle(server.ports.api, PER_PORT / 2, null),
      'api partial header': await openIdle(server.ports.api, PER_PORT / 2, PARTIAL),
    };
    const sockets = Object.values(groups).flat();
    const openedMs = Date.now() - began;

    // Service as usual while they hang on.
    const t0 = Date.now();
    const viaHttp = await exportBatch(logExporter('http/protobuf', server.urls, tokens.ingest, 10_000), buildBatch(['idle-h-0', 'idle-h-1']));
    const httpMs = Date.now() - t0;
    const t1 = Date.now();
    const viaGrpc = await exportBatch(logExporter('grpc', server.urls, tokens.ingest, 10_000), buildBatch(['idle-g-0', 'idle-g-1']));
    const grpcMs = Date.now() - t1;
    const t2 = Date.now();
    const health = await fetch(`${server.urls.api}/healthz`);
    const healthMs = Date.now() - t2;
    const stillOpen = sockets.filter((s) => s.closedAt === null).length;

    await allClosed(sockets, 60_000);
    const report = Object.entries(groups).map(([name, list]) => {
      const s = spread(list.filter((x) => x.closedAt !== null).map((x) => (x.closedAt as number) - x.connectedAt));
      return `${name}: closed ${list.filter((x) => x.closedAt !== null).length}/${list.length} after ${s.min}/${s.median}/${s.max} ms (min/median/max)`;
    });
    console.log(`      ${sockets.length} idle sockets opened in ${openedMs} ms; with them open (${stillOpen}): http/protobuf export ${httpMs} ms, ` +
      `grpc export ${grpcMs} ms, /healthz ${healthMs} ms`);
    console.log(`      HTTP_HEADERS_TIMEOUT_MS ${HEADERS_TIMEOUT_MS}: ${report.join('; ')}`);

    expect(stillOpen, 'idle sockets still open while the requests were served').to.equal(sockets.length);
    expect(viaHttp).to.deep.equal({ ok: true });
    expect(viaGrpc).to.deep.equal({ ok: true });
    expect(health.status).to.equal(200);
    for (const s of sockets) {
      expect(s.closedAt, 'closed by the server').to.not.equal(null);
      expect((s.closedAt as number) - s.connectedAt).to.be.at.least(HEADERS_TIMEOUT_MS);
      expect(s.received).to.match(/^HTTP\/1\.1 408 /);
    }
    const stored = await storedSeqCounts(pgs.handle.url, tenant);
    expect(['idle-h-0', 'idle-h-1', 'idle-g-0', 'idle-g-1'].map((s) => stored.get(s))).to.deep.equal([1, 1, 1, 1]);
    expect((await fetch(`${server.urls.api}/healthz`)).status).to.equal(200);
  });

  it('closes idle keep-alive connections after HTTP_KEEPALIVE_TIMEOUT_MS on both HTTP ports', async () => {
    const body = '{"resourceLogs":[]}';
    const [ingest, api] = await Promise.all([
      keepAliveIdle(server.ports.http, `POST /v1/logs HTTP/1.1\r\nHost: receiver\r\nConnection: keep-alive\r\nContent-Type: application/json\r\n` +
        `Authorization: Bearer ${tokens.ingest}\r\nContent-Length: ${body.length}\r\n\r\n${body}`),
      keepAliveIdle(server.ports.api, 'GET /healthz HTTP/1.1\r\nHost: receiver\r\nConnection: keep-alive\r\n\r\n'),
    ]);
    console.log(`      HTTP_KEEPALIVE_TIMEOUT_MS ${KEEPALIVE_TIMEOUT_MS}: OTLP/HTTP connection closed ${ingest.idleMs} ms after its answer, API ${api.idleMs} ms`);
    expect([ingest.status, api.status]).to.deep.equal([200, 200]);
    // Node closes at the timeout plus a second of its own (clients are told timeout=1 in Keep-Alive and close
    // before); its timer starts when it finishes the answer, a little before the client sees the end.
    expect(ingest.idleMs).to.be.at.least(KEEPALIVE_TIMEOUT_MS - 100);
    expect(api.idleMs).to.be.at.least(KEEPALIVE_TIMEOUT_MS - 100);
  });

  it(`keeps serving gRPC exports with ${PER_PORT} idle HTTP/2 connections open on the gRPC port`, async () => {
    // A server of its own with the default idle and keepalive settings: the suite's server would send
    // GOAWAY to each of them after ${GRPC_IDLE_MS} ms, before a thousand are even open.
    const own = await startChildServer({ DATABASE_URL: pgs.handle.url }, await freePorts());
    const sessions: { session: http2.ClientHttp2Session; closed: boolean; goaway: boolean }[] = [];
    try {
      const began = Date.now();
      for (let i = 0; i < PER_PORT; i += 100) {
        // Connected, and the server's SETTINGS received: the server holds an HTTP/2 session for each; none sends a request.
        sessions.push(...await Promise.all(Array.from({ length: Math.min(100, PER_PORT - i) }, () => new Promise<(typeof sessions)[number]>((resolve, reject) => {
          const session = http2.connect(own.urls.grpc);
          const entry = { session, closed: false, goaway: false };
          // Before the SETTINGS arrive an error fails the test; after, it only ends the session (seen as closed below).
          session.on('error', reject);
          session.on('close', () => (entry.closed = true));
          session.on('goaway', () => (entry.goaway = true));
          session.once('remoteSettings', () => resolve(entry));
        }))));
      }
      const openedMs = Date.now() - began;

      const exporter = logExporter('grpc', own.urls, tokens.ingest, 10_000);
      const t0 = Date.now();
      const viaGrpc = await exportBatch(exporter, buildBatch(['h2idle-0', 'h2idle-1']));
      const grpcMs = Date.now() - t0;
      await exporter.shutdown();
      const health = await fetch(`${own.urls.api}/healthz`);
      const stillOpen = sessions.filter((s) => !s.closed && !s.goaway).length;
      console.log(`      ${sessions.length} idle HTTP/2 connections to the gRPC port opened in ${openedMs} ms; with ${stillOpen} of them open, grpc export ${grpcMs} ms`);

      expect(stillOpen, 'idle HTTP/2 connections still open while the export was served').to.equal(PER_PORT);
      expect(viaGrpc).to.deep.equal({ ok: true });
      expect(health.status).to.equal(200);
      const stored = await storedSeqCounts(pgs.handle.url, tenant);
      expect(['h2idle-0', 'h2idle-1'].map((s) => stored.get(s))).to.deep.equal([1, 1]);
    } finally {
      for (const s of sessions) s.session.destroy();
      own.child.kill('SIGKILL');
      await own.exited;
    }
  });

  it('pings an idle gRPC connection every GRPC_KEEPALIVE_TIME_MS and sends GOAWAY after GRPC_MAX_CONNECTION_IDLE_MS', async () => {
    const connectedAt = Date.now();
    const session = http2.connect(server.urls.grpc);
    let pings = 0;
    session.on('ping', () => pings++);
    session.on('error', () => undefined);
    const goaway = await new Promise<{ code: number; at: number; pings: number } | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), GRPC_IDLE_MS * 5);
      session.once('goaway', (code: number) => {
        clearTimeout(timer);
        resolve({ code, at: Date.now(), pings });
      });
    });
    session.destroy();
    console.log(`      idle gRPC connection: ${goaway?.pings} keepalive pings, then GOAWAY (code ${goaway?.code}) after ${goaway ? goaway.at - connectedAt : NaN} ms ` +
      `(GRPC_KEEPALIVE_TIME_MS ${GRPC_KEEPALIVE_MS}, GRPC_MAX_CONNECTION_IDLE_MS ${GRPC_IDLE_MS})`);
    expect(goaway, 'GOAWAY received').to.not.equal(null);
    expect(goaway?.code).to.equal(http2.constants.NGHTTP2_NO_ERROR);
    expect((goaway?.at ?? 0) - connectedAt).to.be.at.least(GRPC_IDLE_MS - 100);
    expect(goaway?.pings).to.be.at.least(1);
  });
});
