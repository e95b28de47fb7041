import { randomUUID } from 'node:crypto';
import http2 from 'node:http2';
import { deflateSync, gzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { encodeRequestProtobuf } from '../src/otlp/encode-request.js';
import { protoRoot } from '../src/otlp/proto.js';
import { type TestService, startTestService } from './support/service.js';

/**
 * Bad input of every kind gets a clear error with the documented status, and
 * nothing of it is stored. Requests are built by hand so each fault is exact.
 */
describe('ingest: bad input', function () {
  let svc: TestService;
  let token: string;
  let otherTenantToken: string;
  const Status = protoRoot.lookupType('google.rpc.Status');

  before(async () => {
    svc = await startTestService({ MAX_REQUEST_BYTES: String(256 * 1024) });
    token = await svc.token('acme', 'ingest');
    otherTenantToken = await svc.token('globex', 'ingest');
  });
  after(async () => svc?.close());

  const nowNs = () => (BigInt(Date.now()) * 1_000_000n).toString();
  const logsJson = (session: string, overrides: Record<string, unknown> = {}, resourceAttrs: unknown[] = []) => ({
    resourceLogs: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'claude-code' } }, ...resourceAttrs] },
      scopeLogs: [{ scope: { name: 'com.anthropic.claude_code.events' }, logRecords: [{
        timeUnixNano: nowNs(), body: { stringValue: 'claude_code.user_prompt' },
        attributes: [{ key: 'session.id', value: { stringValue: session } }, { key: 'user.id', value: { stringValue: 'u1' } }],
        ...overrides,
      }] }],
    }],
  });

  async function post(path: string, body: Buffer | string, headers: Record<string, string>, method = 'POST') {
    const payload = typeof body === 'string' ? body : new Uint8Array(body);
    const res = await fetch(`${svc.urls.http}${path}`, { method, body: method === 'GET' || method === 'HEAD' ? null : payload, headers });
    const bytes = Buffer.from(await res.arrayBuffer());
    return { status: res.status, headers: res.headers, bytes, text: bytes.toString('utf8') };
  }
  const json = (t = token) => ({ 'content-type': 'application/json', authorization: `Bearer ${t}` });
  const proto = (t = token) => ({ 'content-type': 'application/x-protobuf', authorization: `Bearer ${t}` });
  const storedFor = async (session: string) =>
    Number((await svc.sql<{ n: string }>('SELECT count(*) AS n FROM events WHERE session_id = $1', [session]))[0]?.n);

  const cases: { name: string; status: number; send: (session: string) => ReturnType<typeof post>; message: RegExp }[] = [
    { name: 'malformed JSON', status: 400, message: /decode/, send: () => post('/v1/logs', '{"resourceLogs": [', json()) },
    { name: 'JSON of the wrong shape', status: 400, message: /resourceLogs/, send: () => post('/v1/logs', '{"resourceLogs": 7}', json()) },
    { name: 'malformed protobuf', status: 400, message: /decode/, send: () => post('/v1/logs', Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]), proto()) },
    { name: 'a missing Content-Type', status: 415, message: /Content-Type/, send: (s) => post('/v1/logs', JSON.stringify(logsJson(s)), { authorization: `Bearer ${token}` }) },
    { name: 'a wrong Content-Type', status: 415, message: /Content-Type/, send: (s) => post('/v1/logs', JSON.stringify(logsJson(s)), { ...json(), 'content-type': 'text/plain' }) },
    { name: 'corrupt gzip', status: 400, message: /gzip/, send: () => post('/v1/logs', Buffer.from('not gzip at all'), { ...json(), 'content-encoding': 'gzip' }) },
    { name: 'an unknown Content-Encoding', status: 400, message: /Content-Encoding/, send: (s) => post('/v1/logs', JSON.stringify(logsJson(s)), { ...json(), 'content-encoding': 'br' }) },
    { name: 'a gzip bomb', status: 413, message: /decompresses/, send: () => post('/v1/logs', gzipSync(Buffer.alloc(8 * 1024 * 1024, 0x20)), { ...json(), 'content-encoding': 'gzip' }) },
    { name: 'a body over the limit', status: 413, message: /larger than/, send: () => post('/v1/logs', Buffer.alloc(300 * 1024, 0x20), json()) },
    { name: 'an invalid hex trace id', status: 400, message: /traceId/, send: (s) => post('/v1/logs', JSON.stringify(logsJson(s, { traceId: 'zz-not-hex' })), json()) },
    { name: 'a trace id of the wrong length', status: 400, message: /traceId/, send: (s) => post('/v1/logs', JSON.stringify(logsJson(s, { traceId: 'abcd' })), json()) },
    { name: 'GET on /v1/logs', status: 405, message: /POST/, send: () => post('/v1/logs', '', json(), 'GET') },
    { name: 'an unknown path', status: 404, message: /no such endpoint/, send: (s) => post('/v1/nope', JSON.stringify(logsJson(s)), json()) },
    { name: 'a missing token', status: 401, message: /bearer/, send: (s) => post('/v1/logs', JSON.stringify(logsJson(s)), { 'content-type': 'application/json' }) },
    { name: 'an unknown token', status: 401, message: /unknown or revoked/, send: (s) => post('/v1/logs', JSON.stringify(logsJson(s)), json('aiu_' + 'x'.repeat(43))) },
    { name: 'a read token', status: 403, message: /read token/, send: async (s) => post('/v1/logs', JSON.stringify(logsJson(s)), json(await svc.token('acme', 'read'))) },
    {
      name: 'a tenant mismatch', status: 403, message: /tenant\.id/,
      send: (s) => post('/v1/logs', JSON.stringify(logsJson(s, {}, [{ key: 'tenant.id', value: { stringValue: 'acme' } }])), json(otherTenantToken)),
    },
  ];

  for (const c of cases) {
    it(`answers ${c.name} with ${c.status}, a google.rpc.Status message, and stores nothing`, async () => {
      const session = randomUUID();
      const res = await c.send(session);
      expect(res.status, res.text).to.equal(c.status);
      const isJson = (res.headers.get('content-type') ?? '').startsWith('application/json');
      const status = isJson ? (JSON.parse(res.text) as { message: string }) : (Status.toObject(Status.decode(res.bytes)) as { message: string });
      expect(status.message).to.match(c.message);
      expect(await storedFor(session)).to.equal(0);
    });
  }

  it('answers errors of protobuf requests in protobuf', async () => {
    const res = await post('/v1/logs', Buffer.from([0x0a, 0xff]), proto());
    expect(res.status).to.equal(400);
    expect(res.headers.get('content-type')).to.equal('application/x-protobuf');
    const status = Status.toObject(Status.decode(res.bytes)) as { code: number; message: string };
    expect(status.code).to.equal(3);
    expect(status.message).to.match(/decode/);
  });

  it('rejects records stamped zero or far in the future through partial_success and keeps the rest', async () => {
    const session = randomUUID();
    const body = logsJson(session);
    const records = body.resourceLogs[0]!.scopeLogs[0]!.logRecords;
    const good = records[0]!;
    records.push({ ...good, timeUnixNano: '0' }, { ...good, timeUnixNano: String(BigInt(Date.now() + 30 * 86_400_000) * 1_000_000n) });
    const res = await post('/v1/logs', JSON.stringify(body), json());
    expect(res.status).to.equal(200);
    const parsed = JSON.parse(res.text) as { partialSuccess: { rejectedLogRecords: string; errorMessage: string } };
    expect(parsed.partialSuccess.rejectedLogRecords).to.equal('2');
    expect(parsed.partialSuccess.errorMessage).to.match(/zero/).and.match(/future/);
    expect(await storedFor(session)).to.equal(1);
  });

  it('accepts charset parameters, deflate, and numbers for 64-bit fields without losing nanoseconds', async () => {
    const session = randomUUID();
    const ns = `${BigInt(Date.now()) * 1_000_000n + 123_456_789n % 1_000_000n}`;
    const text = JSON.stringify(logsJson(session)).replace(/"timeUnixNano":"\d+"/, `"timeUnixNano":${ns}`);
    const res = await post('/v1/logs', deflateSync(Buffer.from(text)), { ...json(), 'content-type': 'application/json; charset=utf-8', 'content-encoding': 'deflate' });
    expect(res.status, res.text).to.equal(200);
    expect(JSON.parse(res.text)).to.not.have.property('partialSuccess');
    const rows = await svc.sql<{ time_ns: string }>('SELECT time_ns::text FROM events WHERE session_id = $1', [session]);
    expect(rows.map((r) => r.time_ns)).to.deep.equal([ns]);
  });

  describe('gRPC', () => {
    let client: grpc.Client;
    before(() => {
      client = new grpc.Client(svc.urls.grpc.replace('http://', ''), grpc.credentials.createInsecure());
    });
    after(() => client.close());

    const call = (bytes: Buffer, t: string | null) =>
      new Promise<{ code: number; details: string; retry?: boolean }>((resolve) => {
        const md = new grpc.Metadata();
        if (t) md.set('authorization', `Bearer ${t}`);
        client.makeUnaryRequest('/opentelemetry.proto.collector.logs.v1.LogsService/Export', (b: Buffer) => b, (b: Buffer) => b, bytes, md,
          (err) => resolve(err ? { code: err.code, details: err.details } : { code: 0, details: '' }));
      });
    const Req = protoRoot.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest');

    it('answers a garbled payload with INVALID_ARGUMENT and a message, not INTERNAL', async () => {
      const r = await call(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f]), token);
      expect(r.code).to.equal(grpc.status.INVALID_ARGUMENT);
      expect(r.details).to.match(/decode/);
    });
    it('answers a missing token with UNAUTHENTICATED and a tenant mismatch with PERMISSION_DENIED', async () => {
      const session = randomUUID();
      const ok = Req.encode(Req.fromObject({ resourceLogs: [] })).finish();
      expect((await call(Buffer.from(ok), null)).code).to.equal(grpc.status.UNAUTHENTICATED);
      const mismatch = Buffer.from(Req.encode(Req.fromObject({ resourceLogs: [{ resource: { attributes: [{ key: 'tenant.id', value: { stringValue: 'acme' } }] },
        scopeLogs: [{ logRecords: [{ timeUnixNano: Date.now() * 1e6, body: { stringValue: 'claude_code.x' }, attributes: [{ key: 'session.id', value: { stringValue: session } }] }] }] }] })).finish());
      expect((await call(mismatch, otherTenantToken)).code).to.equal(grpc.status.PERMISSION_DENIED);
      expect(await storedFor(session)).to.equal(0);
    });
    it('answers a message over the size limit with RESOURCE_EXHAUSTED and the error table\'s message', async () => {
      const r = await call(Buffer.alloc(300 * 1024, 0x20), token);
      expect(r.code).to.equal(grpc.status.RESOURCE_EXHAUSTED);
      expect(r.details).to.equal(`message larger than ${256 * 1024} bytes`);
    });
    describe('compressed messages (grpc-encoding gzip)', () => {
      const path = '/opentelemetry.proto.collector.logs.v1.LogsService/Export';
      /** A logs request of one prompt event in `session`; `pad` bytes of one attribute make it compress well. */
      const request = (session: string, pad = 0) => encodeRequestProtobuf('logs', JSON.stringify(logsJson(session, {
        attributes: [{ key: 'session.id', value: { stringValue: session } }, { key: 'pad', value: { stringValue: 'x'.repeat(pad) } }],
      })));
      /** A gRPC message frame: the compressed flag, the length, the bytes. */
      const frame = (bytes: Buffer, compressed: boolean) => {
        const head = Buffer.alloc(5);
        head.writeUInt8(compressed ? 1 : 0, 0);
        head.writeUInt32BE(bytes.length, 1);
        return Buffer.concat([head, bytes]);
      };
      /** One call over node:http2, so the frame is sent exactly as given; its status, message and google.rpc.Status details. */
      type RpcStatus = { code: number; message: string; details?: { type_url?: string }[] };
      const rawCall = (body: Buffer) => new Promise<{ code: number; details: string; status: RpcStatus | null }>((resolve, reject) => {
        const session = http2.connect(svc.urls.grpc);
        session.on('error', reject);
        const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', 'grpc-encoding': 'gzip',
          authorization: `Bearer ${token}` });
        const fields: http2.IncomingHttpHeaders = {};
        let failure: Error | null = null;
        stream.on('response', (h) => Object.assign(fields, h));
        stream.on('trailers', (t) => Object.assign(fields, t));
        stream.on('error', (e) => (failure = e));
        stream.resume();
        stream.on('close', () => {
          session.close();
          if (fields['grpc-status'] === undefined) return reject(failure ?? new Error('no grpc-status'));
          const bin = fields['grpc-status-details-bin'];
          resolve({
            code: Number(fields['grpc-status']),
            details: decodeURIComponent(String(fields['grpc-message'] ?? '')),
            status: typeof bin === 'string' ? Status.toObject(Status.decode(Buffer.from(bin, 'base64'))) as RpcStatus : null,
          });
        });
        stream.end(body);
      });

      it('accepts a gzip-compressed message and stores it (the check below can see a write)', async () => {
        const session = randomUUID();
        const r = await rawCall(frame(gzipSync(request(session)), true));
        expect(r.code, r.details).to.equal(grpc.status.OK);
        expect(await storedFor(session)).to.equal(1);
      });

      const corrupt: { name: string; bytes: (session: string) => Buffer }[] = [
        // The gzip of a request that would be stored, with its CRC-32 trailer broken: only the check catches it.
        { name: 'a broken CRC', bytes: (s) => {
          const gz = gzipSync(request(s));
          gz.writeUInt32LE((gz.readUInt32LE(gz.length - 8) ^ 0xffffffff) >>> 0, gz.length - 8);
          return gz;
        } },
        { name: 'a cut-off stream', bytes: (s) => gzipSync(request(s)).subarray(0, 30) },
        { name: 'bytes that are no gzip', bytes: (s) => request(s) },
      ];
      for (const c of corrupt) {
        it(`answers a message whose gzip has ${c.name} with INVALID_ARGUMENT from the error table, not grpc-js's INTERNAL, and stores nothing`, async () => {
          const session = randomUUID();
          const r = await rawCall(frame(c.bytes(session), true));
          expect(r.code, r.details).to.equal(grpc.status.INVALID_ARGUMENT);
          expect(r.details).to.match(/corrupt compressed message/).and.match(/decompress/);
          expect(r.status?.code).to.equal(grpc.status.INVALID_ARGUMENT);
          expect(r.status?.message).to.equal(r.details);
          expect(await storedFor(session)).to.equal(0);
        });
      }

      it('answers a gzip bomb from a compressing grpc-js client with RESOURCE_EXHAUSTED (no RetryInfo), and stores nothing', async () => {
        const session = randomUUID();
        // 1 MiB of request in about 1 KiB of gzip: past MAX_REQUEST_BYTES (256 KiB here) only once inflated.
        const bytes = request(session, 1024 * 1024);
        expect(gzipSync(bytes).length).to.be.below(256 * 1024);
        const compressing = new grpc.Client(svc.urls.grpc.replace('http://', ''), grpc.credentials.createInsecure(), { 'grpc.default_compression_algorithm': 2 });
        try {
          const err = await new Promise<grpc.ServiceError | null>((resolve) => {
            const md = new grpc.Metadata();
            md.set('authorization', `Bearer ${token}`);
            compressing.makeUnaryRequest(path, (b: Buffer) => b, (b: Buffer) => b, bytes, md, (e) => resolve(e));
          });
          expect(err?.code, err?.details).to.equal(grpc.status.RESOURCE_EXHAUSTED);
          expect(err?.details).to.equal(`message decompresses to more than ${256 * 1024} bytes`);
          const bin = err?.metadata.get('grpc-status-details-bin')[0];
          expect(Buffer.isBuffer(bin), 'google.rpc.Status details').to.equal(true);
          const status = Status.toObject(Status.decode(bin as Buffer)) as RpcStatus;
          expect(status.code).to.equal(grpc.status.RESOURCE_EXHAUSTED);
          expect((status.details ?? []).map((d) => d.type_url)).to.not.include('type.googleapis.com/google.rpc.RetryInfo');
          // The same request, small enough, goes through the same compressing client.
          const small = randomUUID();
          const ok = await new Promise<grpc.ServiceError | null>((resolve) => {
            const md = new grpc.Metadata();
            md.set('authorization', `Bearer ${token}`);
            compressing.makeUnaryRequest(path, (b: Buffer) => b, (b: Buffer) => b, request(small, 1000), md, (e) => resolve(e));
          });
          expect(ok).to.equal(null);
          expect(await storedFor(small)).to.equal(1);
        } finally {
          compressing.close();
        }
        expect(await storedFor(session)).to.equal(0);
      });
    });

    it('serves grpc.health.v1', async () => {
      const Check = protoRoot.lookupType('grpc.health.v1.HealthCheckRequest');
      const Resp = protoRoot.lookupType('grpc.health.v1.HealthCheckResponse');
      const status = await new Promise<number>((resolve, reject) =>
        client.makeUnaryRequest('/grpc.health.v1.Health/Check', (b: Buffer) => b, (b: Buffer) => b,
          Buffer.from(Check.encode(Check.fromObject({ service: '' })).finish()), new grpc.Metadata(),
          (err, res) => (err ? reject(err) : resolve((Resp.decode(res as Buffer) as unknown as { status: number }).status))));
      expect(status).to.equal(1);
    });
  });
});
