import http2 from 'node:http2';
import net from 'node:net';
import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import pg from 'pg';
import { sendLogs } from './support/otel.js';
import { type TestService, startTestService } from './support/service.js';

const BUDGET = 256 * 1024;
const REQUEST_TIMEOUT_MS = 1500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A hand-driven HTTP/1.1 client on a raw socket: it can stop mid-body, stall, or hang up. */
class RawClient {
  readonly socket: net.Socket;
  received = '';
  closed = false;
  private readonly connected: Promise<void>;

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.setEncoding('utf8');
    this.socket.on('data', (d: string) => (this.received += d));
    this.socket.on('close', () => (this.closed = true));
    this.socket.on('error', () => undefined);
    this.connected = new Promise((resolve) => this.socket.once('connect', () => resolve()));
  }

  async send(text: string | Buffer): Promise<void> {
    await this.connected;
    await new Promise<void>((resolve) => this.socket.write(text, () => resolve()));
  }

  /** The status of the first response, once it arrived (within `ms`); null if none came. */
  async status(ms = 5000): Promise<number | null> {
    const deadline = Date.now() + ms;
    while (!/^HTTP\/1\.1 \d{3}/.test(this.received) && !this.closed && Date.now() < deadline) await sleep(20);
    const m = /^HTTP\/1\.1 (\d{3})/.exec(this.received);
    return m ? Number(m[1]) : null;
  }

  async untilClosed(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!this.closed && Date.now() < deadline) await sleep(20);
    return this.closed;
  }
}

const head = (token: string | null, extra: string) =>
  'POST /v1/logs HTTP/1.1\r\nHost: receiver\r\nContent-Type: application/json\r\n' +
  (token === null ? '' : `Authorization: Bearer ${token}\r\n`) + extra + '\r\n';

/**
 * The in-flight byte budget (MAX_INFLIGHT_BYTES) is given back however a request ends,
 * and nothing of a body is read before its token is checked. Every check ends with an
 * export bigger than the whole budget: the budget lets a request that size in only when
 * nothing else is held, so its success shows the budget is back at exactly zero.
 */
describe('ingest: in-flight budget and authentication before the body', function () {
  this.timeout(60_000);
  let svc: TestService;
  let token: string;

  before(async () => {
    svc = await startTestService({
      MAX_INFLIGHT_BYTES: String(BUDGET),
      MAX_REQUEST_BYTES: String(16 * 1024 * 1024),
      HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      HTTP_HEADERS_TIMEOUT_MS: '1000',
      AUTH_FAILURES_PER_MINUTE: '1000',
    });
    token = await svc.token('budget', 'ingest');
  });
  after(async () => svc?.close());

  /** An export over the whole budget, through the real exporter; true once it succeeds (retried for a moment while the server notices a closed socket). */
  async function budgetIsFree(protocol: 'http/json' | 'grpc' = 'http/json'): Promise<boolean> {
    const deadline = Date.now() + 3000;
    for (;;) {
      const r = await sendLogs(protocol, svc.urls, token, { 'service.name': 'claude-code' },
        [{ body: 'claude_code.user_prompt', attributes: { 'session.id': 'budget', pad: 'x'.repeat(BUDGET + 50_000) } }]);
      if (r.ok) return true;
      if (Date.now() > deadline) return false;
      await sleep(200);
    }
  }

  /** One plain POST of `bytes` bytes (no retries, unlike the exporters): its status. */
  const postOf = async (bytes: number) => {
    const res = await fetch(`${svc.urls.http}/v1/logs`, {
      method: 'POST', body: `{"resourceLogs":[]${' '.repeat(bytes)}}`, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    });
    await res.arrayBuffer();
    return { status: res.status, retryAfter: res.headers.get('retry-after') };
  };

  it('the check itself: an export over the budget is refused while another request holds part of it', async () => {
    const holder = new RawClient(svc.ports.http);
    await holder.send(head(token, `Content-Length: ${BUDGET / 2}\r\n`));
    await holder.send('{"resourceLogs":[');
    await sleep(200);
    expect(await postOf(BUDGET)).to.deep.equal({ status: 503, retryAfter: '5' });
    holder.socket.destroy();
    expect(await budgetIsFree()).to.equal(true);
  });

  it('gives back the declared size of a request whose client hangs up mid-body', async () => {
    for (let i = 0; i < 3; i++) {
      const client = new RawClient(svc.ports.http);
      await client.send(head(token, `Content-Length: ${8 * 1024 * 1024}\r\n`));
      await client.send(Buffer.alloc(64 * 1024, 0x20));
      await sleep(100);
      client.socket.destroy();
    }
    expect(await budgetIsFree('http/json')).to.equal(true);
    expect(await budgetIsFree('grpc')).to.equal(true);
  });

  it('gives back the declared size of a request that stalls until HTTP_REQUEST_TIMEOUT_MS', async () => {
    const client = new RawClient(svc.ports.http);
    await client.send(head(token, `Content-Length: ${8 * 1024 * 1024}\r\n`));
    await client.send('{"resourceLogs":[');
    expect(await client.untilClosed(REQUEST_TIMEOUT_MS * 4), 'closed by the server').to.equal(true);
    expect(await budgetIsFree()).to.equal(true);
  });

  it('counts a chunked body (no Content-Length) as it is read, and gives it back when the client hangs up', async () => {
    const chunked = new RawClient(svc.ports.http);
    await chunked.send(head(token, 'Transfer-Encoding: chunked\r\n'));
    const chunk = Buffer.alloc(100 * 1024, 0x20);
    for (let i = 0; i < 2; i++) await chunked.send(Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]));
    await sleep(200);
    // 200 KiB held by the chunked upload + 100 KiB more passes the 256 KiB budget.
    expect((await postOf(100 * 1024)).status).to.equal(503);
    chunked.socket.destroy();
    expect(await budgetIsFree()).to.equal(true);
  });

  it('answers a chunked body that grows past the budget while others hold it with 503 + Retry-After', async () => {
    const holder = new RawClient(svc.ports.http);
    await holder.send(head(token, `Content-Length: ${BUDGET / 2}\r\n`));
    await holder.send('{');
    await sleep(100);
    const chunked = new RawClient(svc.ports.http);
    await chunked.send(head(token, 'Transfer-Encoding: chunked\r\n'));
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    for (let i = 0; i < 4 && !chunked.closed && chunked.received === ''; i++) {
      await chunked.send(Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]));
      await sleep(50);
    }
    expect(await chunked.status()).to.equal(503);
    expect(chunked.received).to.match(/retry-after: \d+/i);
    chunked.socket.destroy();
    holder.socket.destroy();
    expect(await budgetIsFree()).to.equal(true);
  });

  it('answers a client without a valid token before reading its body: it holds no budget', async () => {
    const clients = [new RawClient(svc.ports.http), new RawClient(svc.ports.http)];
    await clients[0]!.send(head(null, `Content-Length: ${8 * 1024 * 1024}\r\n`));
    await clients[1]!.send(head('aiu_' + 'q'.repeat(43), 'Transfer-Encoding: chunked\r\n'));
    // The answer comes although not one byte of either body was sent.
    for (const c of clients) {
      expect(await c.status()).to.equal(401);
      expect(c.received).to.match(/"code":16/);
    }
    // While they keep their connections (and their unsent bodies), the whole budget is free.
    expect(await budgetIsFree()).to.equal(true);
    for (const c of clients) c.socket.destroy();
  });

  it('answers corrupt gzip and a gzip bomb with 401 when the token is missing or wrong, 400 / 413 when it is good', async () => {
    const post = (body: Buffer, auth: string | null) => fetch(`${svc.urls.http}/v1/logs`, {
      method: 'POST', body: new Uint8Array(body),
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', ...(auth === null ? {} : { authorization: `Bearer ${auth}` }) },
    }).then(async (res) => ({ status: res.status, body: await res.text() }));
    const corrupt = Buffer.from('this is not gzip at all');
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20));
    for (const auth of [null, 'aiu_' + 'w'.repeat(43)]) {
      for (const body of [corrupt, bomb]) {
        const r = await post(body, auth);
        expect(r.status, r.body).to.equal(401);
        expect(r.body).to.match(/bearer token|unknown or revoked/);
      }
    }
    expect((await post(corrupt, token)).status).to.equal(400);
    const inflated = await post(bomb, token);
    expect(inflated.status).to.equal(413);
    expect(inflated.body).to.match(/decompresses/);
  });

  it('holds budget for gRPC calls whose message is still arriving, refuses new calls at their headers meanwhile, and gives it back when they end', async () => {
    const session = http2.connect(svc.urls.grpc);
    session.on('error', () => undefined);
    const path = '/opentelemetry.proto.collector.logs.v1.LogsService/Export';
    const headers = { ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', authorization: `Bearer ${token}` };
    /** A call: its grpc-status, once the server ended it (null while it is still open). */
    const call = (message: Buffer | null) => {
      const stream = session.request(headers);
      stream.on('error', () => undefined);
      let status: string | null = null;
      stream.on('response', (h) => (status = (h['grpc-status'] as string | undefined) ?? status));
      stream.on('trailers', (t) => (status = (t['grpc-status'] as string | undefined) ?? status));
      stream.resume();
      const frame = Buffer.alloc(5);
      if (message === null) {
        // A 1 MB message announced and barely begun: it stays in the making.
        frame.writeUInt32BE(1_000_000, 1);
        stream.write(Buffer.concat([frame, Buffer.alloc(1000)]));
      } else {
        frame.writeUInt32BE(message.length, 1);
        stream.end(Buffer.concat([frame, message]));
      }
      return { stream, status: () => status };
    };
    try {
      // Each call in the making holds at least 64 KiB: four of them take the 256 KiB budget.
      const stalled = [call(null), call(null), call(null), call(null)];
      await sleep(300);
      const refused = call(Buffer.alloc(0));
      const deadline = Date.now() + 3000;
      while (refused.status() === null && Date.now() < deadline) await sleep(20);
      expect(refused.status(), 'a new call while the budget is held').to.equal('14');
      expect(stalled.filter((c) => c.status() === null).length, 'calls still receiving').to.be.at.least(3);
      for (const c of stalled) c.stream.close(http2.constants.NGHTTP2_CANCEL);
    } finally {
      session.close();
    }
    expect(await budgetIsFree('grpc')).to.equal(true);
  });

  it("counts a request's stored copy until its commit: a write held up in the database makes the next request be refused sooner", async () => {
    /** aiu_inflight_bytes, as Prometheus scrapes it. */
    const inflightBytes = async () => {
      const text = await (await fetch(`${svc.urls.api}/metrics`)).text();
      return Number(/^aiu_inflight_bytes (\d+)$/m.exec(text)?.[1]);
    };
    expect(await inflightBytes()).to.equal(0);
    // ~90 KB of attributes: the message and the COPY rows that wait for their commit hold about that much each.
    const records = ['a', 'b', 'c'].map((c) => ({ body: 'claude_code.user_prompt', attributes: { 'session.id': `copy-${c}`, pad: c.repeat(30_000) } }));
    const locker = new pg.Client(svc.databaseUrl);
    await locker.connect();
    try {
      // SHARE mode blocks the COPY into events, so the write waits before its commit.
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE events IN SHARE MODE');
      const held = sendLogs('grpc', svc.urls, token, { 'service.name': 'claude-code' }, records);
      let bytes = 0;
      for (const deadline = Date.now() + 5000; bytes < 150_000 && Date.now() < deadline; ) {
        await sleep(50);
        bytes = await inflightBytes();
      }
      expect(bytes, 'message and stored copy').to.be.within(180_000, BUDGET);
      // Fits beside the message alone (~90 KB), not beside the message and its copy.
      expect(await postOf(BUDGET - 120_000)).to.deep.equal({ status: 503, retryAfter: '5' });
      await locker.query('COMMIT');
      expect((await held).ok).to.equal(true);
    } finally {
      await locker.end();
    }
    expect(await inflightBytes()).to.equal(0);
    const stored = await svc.sql<{ n: number }>(`SELECT count(*)::int AS n FROM events WHERE session_id LIKE 'copy-%'`);
    expect(stored[0]?.n).to.equal(3);
  });

  describe('with a low auth-failure limit', () => {
    let limited: TestService;
    before(async () => {
      limited = await startTestService({ AUTH_FAILURES_PER_MINUTE: '3' });
    });
    after(async () => limited?.close());

    it('counts unauthenticated compressed uploads as failures and then answers them 429, still without inflating them', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await fetch(`${limited.urls.http}/v1/logs`, {
          method: 'POST', body: new Uint8Array(Buffer.from('not gzip')),
          headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' },
        });
        await res.arrayBuffer();
        statuses.push(res.status);
      }
      expect(statuses).to.deep.equal([401, 401, 401, 429, 429]);
    });
  });
});
