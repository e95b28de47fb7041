import { gzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import fc from 'fast-check';
import { decodeJson } from '../src/otlp/decode-json.js';
import { decodeProtobuf } from '../src/otlp/decode-protobuf.js';
import { encodeRequestProtobuf } from '../src/otlp/encode-request.js';
import { DecodeError, type Signal } from '../src/otlp/types.js';
import { captureText } from './support/capture.js';
import { type TestService, startTestService } from './support/service.js';

/**
 * Property-based fuzzing of the decoders, the HTTP shim and the gRPC services.
 * CI runs a bounded number of cases; `npm run fuzz` sets FUZZ_RUNS higher.
 */
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 150);
const signals: Signal[] = ['logs', 'metrics', 'traces'];
const captures = { logs: captureText('logs'), metrics: captureText('metrics'), traces: captureText('traces') };
const captureProto = Object.fromEntries(signals.map((s) => [s, encodeRequestProtobuf(s, captures[s])])) as Record<Signal, Buffer>;

/** A decoder may only succeed or throw DecodeError: anything else is a crash waiting to happen. */
function decodesOrRefuses(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch (e) {
    if (e instanceof DecodeError) return true;
    throw e;
  }
}

const nowNs = () => BigInt(Date.now()) * 1_000_000n;

/** An AnyValue of bounded but possibly deep nesting, with hostile leaves. */
const anyValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.string({ maxLength: 40 }).map((s) => ({ stringValue: s })),
    fc.constantFrom('NaN', 'Infinity', '-Infinity', 1e308, -0).map((d) => ({ doubleValue: d })),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((i) => ({ intValue: i.toString() })),
    fc.boolean().map((b) => ({ boolValue: b })),
    fc.base64String({ maxLength: 24 }).map((b) => ({ bytesValue: b })),
    fc.array(tie('value'), { maxLength: 4 }).map((values) => ({ arrayValue: { values } })),
    fc.array(fc.record({ key: fc.string({ maxLength: 8 }), value: tie('value') }), { maxLength: 4 }).map((values) => ({ kvlistValue: { values } })),
  ),
})).value;

const timestamp = fc.oneof(
  fc.constant('0'), fc.constant('-5'), fc.constant('18446744073709551615'),
  fc.constant(String(nowNs() + 10n ** 18n)), fc.constant(String(nowNs())), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String),
);

const hostileLogs = fc.record({
  attributes: fc.array(fc.record({ key: fc.string({ maxLength: 12 }), value: anyValue }), { maxLength: 6 }),
  extraAttributes: fc.nat({ max: 400 }),
  body: anyValue,
  time: timestamp,
  traceId: fc.oneof(fc.constant(''), fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 32, maxLength: 32 }), fc.string({ maxLength: 40 })),
  longString: fc.nat({ max: 200_000 }),
}).map((r) => ({
  resourceLogs: [{
    resource: { attributes: [{ key: 'service.name', value: { stringValue: 'claude-code' } }] },
    scopeLogs: [{ logRecords: [{
      timeUnixNano: r.time, body: r.body, traceId: r.traceId,
      attributes: [
        ...r.attributes,
        ...Array.from({ length: r.extraAttributes }, (_, i) => ({ key: `k${i}`, value: { intValue: String(i) } })),
        { key: 'long', value: { stringValue: 'x'.repeat(r.longString) } },
        { key: 'session.id', value: { stringValue: 'fuzz' } },
      ],
    }] }],
  }],
}));

describe('fuzzing', function () {
  this.timeout(300_000);

  describe('decoders', () => {
    for (const signal of signals) {
      it(`${signal}: random text and bytes are decoded or refused with DecodeError`, () => {
        fc.assert(fc.property(fc.string({ maxLength: 300 }), (s) => decodesOrRefuses(() => decodeJson(signal, s))), { numRuns: RUNS });
        fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => decodesOrRefuses(() => decodeProtobuf(signal, b))), { numRuns: RUNS });
      });

      it(`${signal}: mutated real requests are decoded or refused with DecodeError`, () => {
        const proto = captureProto[signal];
        const json = captures[signal];
        fc.assert(fc.property(fc.array(fc.tuple(fc.nat({ max: proto.length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), (flips) => {
          const b = Buffer.from(proto);
          for (const [i, v] of flips) b[i] = v;
          return decodesOrRefuses(() => decodeProtobuf(signal, b));
        }), { numRuns: RUNS });
        fc.assert(fc.property(fc.nat({ max: proto.length }), (cut) => decodesOrRefuses(() => decodeProtobuf(signal, proto.subarray(0, cut)))), { numRuns: RUNS });
        fc.assert(fc.property(fc.nat({ max: json.length - 1 }), fc.string({ minLength: 1, maxLength: 3 }), (i, s) =>
          decodesOrRefuses(() => decodeJson(signal, json.slice(0, i) + s + json.slice(i + 1)))), { numRuns: RUNS });
      });
    }

    it('refuses nesting deeper than the limit instead of overflowing the stack', () => {
      const deep = (n: number) => '{"arrayValue":{"values":['.repeat(n) + '{"stringValue":"x"}' + ']}}'.repeat(n);
      const text = (n: number) => `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"1","body":${deep(n)}}]}]}]}`;
      expect(() => decodeJson('logs', text(10))).to.not.throw();
      expect(() => decodeJson('logs', text(100_000))).to.throw(DecodeError);
    });
  });

  describe('HTTP shim and gRPC services', () => {
    let svc: TestService;
    let token: string;
    const httpStatuses = new Set([200, 400, 401, 403, 404, 405, 413, 415, 429, 503]);
    const grpcCodes = new Set([grpc.status.OK, grpc.status.INVALID_ARGUMENT, grpc.status.UNAUTHENTICATED, grpc.status.PERMISSION_DENIED,
      grpc.status.RESOURCE_EXHAUSTED, grpc.status.UNAVAILABLE]);
    let unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);

    before(async () => {
      svc = await startTestService({ MAX_REQUEST_BYTES: String(1024 * 1024), AUTH_FAILURES_PER_MINUTE: '100000' });
      token = await svc.token('fuzz', 'ingest');
      process.on('unhandledRejection', onUnhandled);
    });
    after(async () => {
      process.off('unhandledRejection', onUnhandled);
      await svc?.close();
    });
    beforeEach(() => {
      unhandled = [];
    });
    afterEach(() => expect(unhandled).to.deep.equal([]));

    /** Records of the fuzz tenant in all three tables: a refused request must add to none of them. */
    const stored = async () => Number((await svc.sql<{ n: string }>(
      `SELECT (SELECT count(*) FROM events WHERE tenant_id = 'fuzz') + (SELECT count(*) FROM metric_points WHERE tenant_id = 'fuzz')
        + (SELECT count(*) FROM spans WHERE tenant_id = 'fuzz') AS n`))[0]?.n);
    // 8 MiB of spaces in 8 KiB: inflates past MAX_REQUEST_BYTES (1 MiB here).
    const gzipBomb = gzipSync(Buffer.alloc(8 * 1024 * 1024, 0x20));
    /** A small request of each signal that is accepted as it is (the capture names another tenant and an old day). */
    const fresh = (signal: Signal): Buffer => {
      const now = nowNs().toString();
      const attributes = [{ key: 'session.id', value: { stringValue: 'fuzz-grpc' } }];
      const resource = { attributes: [{ key: 'service.name', value: { stringValue: 'claude-code' } }] };
      const bodies: Record<Signal, unknown> = {
        logs: { resourceLogs: [{ resource, scopeLogs: [{ logRecords: [{ timeUnixNano: now, body: { stringValue: 'claude_code.user_prompt' }, attributes }] }] }] },
        metrics: { resourceMetrics: [{ resource, scopeMetrics: [{ metrics: [{ name: 'claude_code.session.count', sum: { aggregationTemporality: 1, isMonotonic: true,
          dataPoints: [{ timeUnixNano: now, asDouble: 1, attributes }] } }] }] }] },
        traces: { resourceSpans: [{ resource, scopeSpans: [{ spans: [{ traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', name: 'x',
          startTimeUnixNano: now, endTimeUnixNano: now, attributes }] }] }] },
      };
      return encodeRequestProtobuf(signal, JSON.stringify(bodies[signal]));
    };

    it('answers random requests with documented statuses only, and stores nothing for what it refused', async () => {
      const request = fc.record({
        path: fc.constantFrom('/v1/logs', '/v1/metrics', '/v1/traces', '/v1/x', '/'),
        method: fc.constantFrom('POST', 'POST', 'POST', 'PUT', 'GET'),
        contentType: fc.constantFrom('application/json', 'application/x-protobuf', 'application/json; charset=utf-8', 'text/plain', ''),
        encoding: fc.constantFrom('', 'gzip', 'deflate', 'br'),
        auth: fc.constantFrom(`Bearer ${token}`, 'Bearer nope', '', 'Basic abc'),
        body: fc.oneof(fc.uint8Array({ maxLength: 2000 }).map((b) => Buffer.from(b)), fc.string({ maxLength: 500 }).map((s) => Buffer.from(s)),
          fc.constant(captureProto.logs), fc.constant(Buffer.from(captures.logs)), fc.constant(captureProto.metrics), fc.constant(Buffer.from(captures.traces))),
        bomb: fc.boolean(),
      });
      await fc.assert(fc.asyncProperty(request, async (r) => {
        const before = await stored();
        // Encoded as declared half the time (else the body is mislabelled), or replaced by the gzip bomb.
        const body = r.encoding === 'gzip' && r.bomb ? gzipBomb : r.encoding === 'gzip' && r.body.length % 2 === 0 ? gzipSync(r.body) : r.body;
        const headers: Record<string, string> = {};
        if (r.contentType) headers['content-type'] = r.contentType;
        if (r.encoding) headers['content-encoding'] = r.encoding;
        if (r.auth) headers['authorization'] = r.auth;
        const res = await fetch(`${svc.urls.http}${r.path}`, { method: r.method, headers, body: r.method === 'GET' ? null : new Uint8Array(body) });
        await res.arrayBuffer();
        expect(httpStatuses.has(res.status), `status ${res.status}`).to.equal(true);
        if (res.status !== 200) expect(await stored()).to.equal(before);
        if (body === gzipBomb) expect(res.status).to.be.oneOf([401, 405, 404, 413, 415]);
      }), { numRuns: RUNS });
      expect((await fetch(`${svc.urls.api}/healthz`)).status).to.equal(200);
    });

    it('takes hostile records (deep nesting, many attributes, long strings, odd numbers and times) without crashing, rejecting over-limit ones through partial_success', async () => {
      await fc.assert(fc.asyncProperty(hostileLogs, async (req) => {
        const res = await fetch(`${svc.urls.http}/v1/logs`, {
          method: 'POST', body: JSON.stringify(req), headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        });
        const text = await res.text();
        expect([200, 400, 413], text).to.include(res.status);
        if (res.status === 200) {
          const body = JSON.parse(text) as { partialSuccess?: { rejectedLogRecords: string } };
          const attrs = req.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.attributes.length;
          if (attrs > 256) expect(body.partialSuccess?.rejectedLogRecords).to.equal('1');
        }
      }), { numRuns: Math.max(20, Math.floor(RUNS / 3)) });
    });

    it('answers random gRPC payloads with documented codes only, and stores nothing for what it refused', async () => {
      const client = new grpc.Client(svc.urls.grpc.replace('http://', ''), grpc.credentials.createInsecure());
      try {
        await fc.assert(fc.asyncProperty(
          fc.constantFrom(...signals), fc.oneof(fc.uint8Array({ maxLength: 1000 }).map((b) => Buffer.from(b)), fc.constant(captureProto.metrics),
            fc.tuple(fc.constantFrom(...signals), fc.nat(), fc.integer({ min: 0, max: 255 })).map(([s, i, v]) => {
              const b = fresh(s);
              b[i % b.length] = v;
              return b;
            })), fc.boolean(),
          async (signal, bytes, authed) => {
            const before = await stored();
            const service = { logs: 'logs.v1.LogsService', metrics: 'metrics.v1.MetricsService', traces: 'trace.v1.TraceService' }[signal];
            const md = new grpc.Metadata();
            if (authed) md.set('authorization', `Bearer ${token}`);
            const code = await new Promise<number>((resolve) =>
              client.makeUnaryRequest(`/opentelemetry.proto.collector.${service}/Export`, (b: Buffer) => b, (b: Buffer) => b, bytes, md,
                (err) => resolve(err ? err.code : 0)));
            expect(grpcCodes.has(code), `code ${code}`).to.equal(true);
            if (code !== grpc.status.OK) expect(await stored()).to.equal(before);
          }), { numRuns: RUNS });
        // The check can see a write: an intact request, sent after all that, is stored.
        const before = await stored();
        const md = new grpc.Metadata();
        md.set('authorization', `Bearer ${token}`);
        const code = await new Promise<number>((resolve) => client.makeUnaryRequest('/opentelemetry.proto.collector.logs.v1.LogsService/Export',
          (b: Buffer) => b, (b: Buffer) => b, fresh('logs'), md, (err) => resolve(err ? err.code : 0)));
        expect(code).to.equal(grpc.status.OK);
        expect(await stored()).to.equal(before + 1);
      } finally {
        client.close();
      }
    });
  });
});
