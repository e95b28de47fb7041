import { randomBytes, randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import fc from 'fast-check';
import { decodeJson } from '../src/otlp/decode-json.js';
import { decodeProtobuf } from '../src/otlp/decode-protobuf.js';
import { encodeRequestProtobuf } from '../src/otlp/encode-request.js';
import { responseType } from '../src/otlp/proto.js';
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

/** The record limits of the fuzzed service (the defaults, set explicitly so the oracle below and the server agree). */
const LIMITS = { depth: 8, attributes: 256, string: 65_536, futureSkewSeconds: 3600n, ageDays: 90n };
const TRUNCATED = '…[truncated]';

/** Array and kvlist levels of an AnyValue (JSON form): a value of more than LIMITS.depth levels rejects its record. */
function nesting(v: unknown): number {
  const o = v as { arrayValue?: { values: unknown[] }; kvlistValue?: { values: { value: unknown }[] } };
  if (o.arrayValue) return 1 + Math.max(0, ...o.arrayValue.values.map(nesting));
  if (o.kvlistValue) return 1 + Math.max(0, ...o.kvlistValue.values.map((kv) => nesting(kv.value)));
  return 0;
}

/** Nested arrays (true) and kvlists (false) around a string, outermost last. */
const nest = (kinds: boolean[]): unknown => kinds.reduce<unknown>((inner, isArray) =>
  (isArray ? { arrayValue: { values: [inner] } } : { kvlistValue: { values: [{ key: 'k', value: inner }] } }), { stringValue: 'leaf' });
/** From well inside the depth limit to a few levels past it. */
const deepValue = fc.tuple(fc.nat({ max: LIMITS.depth + 3 }), fc.array(fc.boolean(), { minLength: LIMITS.depth + 3, maxLength: LIMITS.depth + 3 }))
  .map(([n, kinds]) => nest(kinds.slice(0, n)));

/** Record times by what the limits make of them; resolved against the clock when sent. */
const recordTime = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom<string | bigint>('now', 'within the skew', 'two days old') },
  { weight: 2, arbitrary: fc.constantFrom<string | bigint>('zero', 'far future', 'past the skew', 'too old') },
  { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) },
);
function timeOf(t: string | bigint, now: bigint): bigint {
  const s = 1_000_000_000n;
  switch (t) {
    case 'now': return now;
    case 'zero': return 0n;
    case 'far future': return now + 10n ** 18n;
    case 'past the skew': return now + (LIMITS.futureSkewSeconds + 3600n) * s;
    case 'within the skew': return now + (LIMITS.futureSkewSeconds / 2n) * s;
    case 'too old': return now - (LIMITS.ageDays + 1n) * 86_400n * s;
    case 'two days old': return now - 2n * 86_400n * s;
    default: return t as bigint;
  }
}

/** One hostile record, of whatever signal: random and deep attributes, many of them, a long string, an odd time. */
const hostileRecord = fc.record({
  attributes: fc.array(fc.record({ key: fc.string({ maxLength: 12 }).map((k) => `r.${k}`), value: anyValue }), { maxLength: 6 }),
  extraAttributes: fc.nat({ max: 400 }),
  deep: deepValue,
  body: anyValue,
  time: recordTime,
  longString: fc.oneof(fc.nat({ max: 70_000 }), fc.nat({ max: 200_000 }), fc.constantFrom(LIMITS.string, LIMITS.string + 1)),
});
type HostileRecord = typeof hostileRecord extends fc.Arbitrary<infer R> ? R : never;
/** A plain record with some fields set, for the fixed examples every run starts with. */
const plainRecord = (over: Partial<HostileRecord>): HostileRecord =>
  ({ attributes: [], extraAttributes: 0, deep: nest([]), body: { stringValue: 'b' }, time: 'now', longString: 10, ...over });
/** `n` levels of alternating arrays and kvlists, as a record's deep attribute or a log body. */
const levels = (n: number) => nest(Array.from({ length: n }, (_, i) => i % 2 === 0)) as HostileRecord['body'];

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
      svc = await startTestService({
        MAX_REQUEST_BYTES: String(1024 * 1024), AUTH_FAILURES_PER_MINUTE: '100000',
        MAX_ATTRIBUTE_DEPTH: String(LIMITS.depth), MAX_ATTRIBUTES_PER_RECORD: String(LIMITS.attributes), MAX_STRING_LENGTH: String(LIMITS.string),
        MAX_FUTURE_SKEW_SECONDS: String(LIMITS.futureSkewSeconds), MAX_RECORD_AGE_DAYS: String(LIMITS.ageDays),
      });
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

    const tables: Record<Signal, string> = { logs: 'events', metrics: 'metric_points', traces: 'spans' };
    const grpcPaths: Record<Signal, string> = {
      logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
      metrics: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
      traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
    };
    const rejectedField: Record<Signal, string> = { logs: 'rejectedLogRecords', metrics: 'rejectedDataPoints', traces: 'rejectedSpans' };
    type Transport = 'grpc' | 'http/protobuf' | 'http/json';
    /** What one export was answered: accepted (OK / 200) or not, the status, and its partial_success. */
    interface Answer { accepted: boolean; status: string; documented: boolean; rejected: number; message: string }

    /** Sends one request as OTLP/JSON text (http/json) or protobuf bytes (the others). */
    async function send(client: grpc.Client, signal: Signal, transport: Transport, body: Buffer): Promise<Answer> {
      const partial = (p: Record<string, unknown> | undefined) => ({ rejected: Number(p?.[rejectedField[signal]] ?? 0), message: String(p?.['errorMessage'] ?? '') });
      const Res = responseType(signal);
      const decoded = (bytes: Buffer) => (Res.toObject(Res.decode(bytes), { longs: String }) as { partialSuccess?: Record<string, unknown> }).partialSuccess;
      if (transport === 'grpc') {
        const md = new grpc.Metadata();
        md.set('authorization', `Bearer ${token}`);
        const r = await new Promise<{ code: number; bytes: Buffer }>((resolve) => client.makeUnaryRequest(grpcPaths[signal], (b: Buffer) => b, (b: Buffer) => b,
          body, md, (err, res) => resolve(err ? { code: err.code, bytes: Buffer.alloc(0) } : { code: 0, bytes: res as Buffer })));
        return { accepted: r.code === 0, status: grpc.status[r.code] ?? String(r.code), documented: grpcCodes.has(r.code),
          ...(r.code === 0 ? partial(decoded(r.bytes)) : { rejected: 0, message: '' }) };
      }
      const res = await fetch(`${svc.urls.http}/v1/${signal}`, {
        method: 'POST', body: new Uint8Array(body),
        headers: { 'content-type': transport === 'http/json' ? 'application/json' : 'application/x-protobuf', authorization: `Bearer ${token}` },
      });
      const bytes = Buffer.from(await res.arrayBuffer());
      const ok = res.status === 200;
      return { accepted: ok, status: String(res.status), documented: httpStatuses.has(res.status),
        ...(!ok ? { rejected: 0, message: bytes.toString('utf8') }
          : partial(transport === 'http/json' ? (JSON.parse(bytes.toString('utf8')) as { partialSuccess?: Record<string, unknown> }).partialSuccess : decoded(bytes))) };
    }

    /** The stored records of the given sessions: session id → its attributes, parsed. */
    async function storedBySession(signal: Signal, sessions: string[]): Promise<Map<string, Record<string, unknown>[]>> {
      const rows = await svc.sql<{ session_id: string; attributes: string }>(
        `SELECT session_id, attributes FROM ${tables[signal]} WHERE tenant_id = 'fuzz' AND session_id = ANY($1)`, [sessions]);
      const out = new Map<string, Record<string, unknown>[]>();
      for (const r of rows) out.set(r.session_id, [...(out.get(r.session_id) ?? []), JSON.parse(r.attributes) as Record<string, unknown>]);
      return out;
    }

    /** One request of `signal` holding each record (as OTLP/JSON), each with its own session. */
    function requestOf(signal: Signal, records: { session: string; timeNs: bigint; attributes: unknown[]; body: unknown }[]): unknown {
      const resource = { attributes: [{ key: 'service.name', value: { stringValue: 'claude-code' } }] };
      if (signal === 'logs') {
        return { resourceLogs: [{ resource, scopeLogs: [{ logRecords: records.map((r) => ({ timeUnixNano: String(r.timeNs), body: r.body, attributes: r.attributes })) }] }] };
      }
      if (signal === 'metrics') {
        return { resourceMetrics: [{ resource, scopeMetrics: [{ metrics: records.map((r) => ({ name: 'fuzz.hostile', sum: { aggregationTemporality: 1, isMonotonic: true,
          dataPoints: [{ timeUnixNano: String(r.timeNs), asDouble: 1, attributes: r.attributes }] } })) }] }] };
      }
      return { resourceSpans: [{ resource, scopeSpans: [{ spans: records.map((r) => ({
        traceId: `1${randomBytes(15).toString('hex')}0`, spanId: `1${randomBytes(7).toString('hex')}0`, name: 'fuzz.hostile',
        startTimeUnixNano: String(r.timeNs), endTimeUnixNano: String(r.timeNs), attributes: r.attributes })) }] }] };
    }

    it('takes hostile records of all three signals (deep nesting, many attributes, long strings, odd numbers and times): stores exactly those within the limits, long strings truncated, and rejects the rest through partial_success', async () => {
      const client = new grpc.Client(svc.urls.grpc.replace('http://', ''), grpc.credentials.createInsecure());
      const seen = { accepted: 0, rejected: 0, refused: 0, truncated: 0, tooDeep: 0, tooMany: 0, badTime: 0 };
      try {
        await fc.assert(fc.asyncProperty(
          fc.constantFrom(...signals), fc.constantFrom<Transport>('http/json', 'grpc', 'http/protobuf'),
          fc.array(hostileRecord, { minLength: 1, maxLength: 4 }), fc.nat({ max: 9 }),
          async (signal, transport, hostile, poisonDie) => {
            const now = nowNs();
            // Now and then (http/json only: the others are encoded from valid JSON) one value no decoder takes refuses the whole request.
            const poisoned = transport === 'http/json' && poisonDie === 0;
            const records = hostile.map((h: HostileRecord, i) => {
              const session = randomUUID();
              const attributes = [
                ...h.attributes,
                ...Array.from({ length: h.extraAttributes }, (_, k) => ({ key: `k${k}`, value: { intValue: String(k) } })),
                { key: 'long', value: { stringValue: 'x'.repeat(h.longString) } },
                { key: 'deep', value: h.deep },
                { key: 'session.id', value: { stringValue: session } },
                ...(poisoned && i === 0 ? [{ key: 'poison', value: { intValue: 'not a number' } }] : []),
              ];
              const timeNs = timeOf(h.time, now);
              // The reason the server gives, checked in its order: time, then attribute count, then nesting.
              const depth = Math.max(...attributes.map((a) => nesting(a.value)), signal === 'logs' ? nesting(h.body) : 0);
              const reason = timeNs === 0n ? 'timestamp is zero'
                : timeNs > now + LIMITS.futureSkewSeconds * 1_000_000_000n ? 'timestamp too far in the future'
                : timeNs < now - LIMITS.ageDays * 86_400_000_000_000n ? 'timestamp older than the accepted age'
                : attributes.length > LIMITS.attributes ? `${attributes.length} attributes, more than the limit of ${LIMITS.attributes}`
                : depth > LIMITS.depth ? `attribute nesting deeper than ${LIMITS.depth}`
                : null;
              return { session, timeNs, attributes, body: h.body, reason, longString: h.longString };
            });
            const json = JSON.stringify(requestOf(signal, records));
            const body = transport === 'http/json' ? Buffer.from(json) : encodeRequestProtobuf(signal, json);
            const answer = await send(client, signal, transport, body);
            const stored = await storedBySession(signal, records.map((r) => r.session));
            expect(answer.documented, `status ${answer.status}`).to.equal(true);

            if (!answer.accepted) {
              // Refused whole (a poisoned request, 400): none of it stored.
              expect(poisoned, `refused with ${answer.status}: ${answer.message}`).to.equal(true);
              expect(answer.status).to.equal('400');
              expect([...stored.keys()]).to.deep.equal([]);
              seen.refused++;
              return;
            }
            expect(poisoned, 'a poisoned request was accepted').to.equal(false);
            const rejected = records.filter((r) => r.reason !== null);
            expect(answer.rejected, answer.message).to.equal(rejected.length);
            for (const r of rejected) expect(answer.message).to.include(r.reason as string);
            for (const r of records) {
              const rows = stored.get(r.session) ?? [];
              if (r.reason !== null) {
                expect(rows, `rejected (${r.reason}) yet stored`).to.have.length(0);
                if (/nesting/.test(r.reason)) seen.tooDeep++;
                else if (/attributes/.test(r.reason)) seen.tooMany++;
                else seen.badTime++;
                seen.rejected++;
                continue;
              }
              expect(rows, 'accepted but not stored once').to.have.length(1);
              const long = rows[0]?.['long'];
              if (r.longString <= LIMITS.string) expect(long).to.equal('x'.repeat(r.longString));
              else {
                expect(long).to.equal('x'.repeat(LIMITS.string) + TRUNCATED);
                seen.truncated++;
              }
              seen.accepted++;
            }
          }), {
          numRuns: Math.max(30, Math.floor(RUNS / 3)),
          // Each kind at least once, whatever the random cases: right at the limits (kept) and just past them (rejected), a poisoned request.
          examples: [
            ['logs', 'http/json', [plainRecord({ deep: levels(LIMITS.depth) }), plainRecord({ extraAttributes: LIMITS.attributes - 3 }),
              plainRecord({ longString: LIMITS.string }), plainRecord({ body: levels(LIMITS.depth + 1) })], 5],
            ['metrics', 'grpc', [plainRecord({ deep: levels(LIMITS.depth + 1) }), plainRecord({ extraAttributes: LIMITS.attributes - 2 }),
              plainRecord({ time: 'zero' })], 5],
            ['traces', 'http/protobuf', [plainRecord({ longString: LIMITS.string + 1 }), plainRecord({ time: 'far future' }), plainRecord({ time: 'too old' })], 5],
            ['logs', 'http/json', [plainRecord({})], 0],
          ],
        });
      } finally {
        client.close();
      }
      console.log(`      hostile records: ${seen.accepted} stored (${seen.truncated} truncated), ${seen.rejected} rejected ` +
        `(${seen.tooDeep} too deep, ${seen.tooMany} too many attributes, ${seen.badTime} bad time), ${seen.refused} poisoned requests refused`);
      // The property held for every kind, not vacuously.
      expect(Object.values(seen).every((n) => n > 0), JSON.stringify(seen)).to.equal(true);
    });

    /** Byte sequences that are never valid UTF-8 where they stand (each starts a string field here). */
    const INVALID_UTF8 = [[0xff], [0xfe], [0x80], [0xbf], [0xc0, 0xaf], [0xc1, 0xbf], [0xe0, 0x80, 0xaf], [0xed, 0xa0, 0x80],
      [0xf4, 0x90, 0x80, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80]];
    /** Also ones that are invalid only by what follows (cut-off sequences). */
    const CUT_UTF8 = [[0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xc3], [0xed, 0xbf]];
    const HOLE = 24;
    /** `HOLE` bytes that start invalid and go on with invalid, cut-off and random bytes. */
    const invalidUtf8 = fc.tuple(fc.constantFrom(...INVALID_UTF8),
      fc.array(fc.oneof(fc.constantFrom(...INVALID_UTF8, ...CUT_UTF8), fc.integer({ min: 0, max: 255 }).map((b) => [b])), { maxLength: HOLE }))
      .map(([first, rest]) => {
        const bytes = [...first, ...rest.flat()].slice(0, HOLE);
        while (bytes.length < HOLE) bytes.push(0x75);
        return Buffer.from(bytes);
      });
    /** Placeholders of HOLE ASCII bytes, overwritten in the encoded request. */
    const KEY_HOLE = 'K'.repeat(HOLE);
    const VALUE_HOLE = 'V'.repeat(HOLE);
    const OUTSIDE_HOLE = 'O'.repeat(HOLE);
    const overwrite = (buf: Buffer, placeholder: string, bytes: Buffer) => {
      const at = buf.indexOf(placeholder);
      expect(at, `placeholder ${placeholder[0]}`).to.be.at.least(0);
      bytes.copy(buf, at);
    };
    /** What a string of these bytes becomes: invalid sequences replaced by U+FFFD, and U+0000 too (no store keeps it). */
    const decoded = (bytes: Buffer) => bytes.toString('utf8').replaceAll('\u0000', '\uFFFD');

    it('takes invalid UTF-8 inside string fields (protobuf over gRPC and HTTP, and JSON) with documented statuses only, storing what it decoded or nothing', async () => {
      const client = new grpc.Client(svc.urls.grpc.replace('http://', ''), grpc.credentials.createInsecure());
      const seen = { accepted: 0, refused: 0 };
      try {
        await fc.assert(fc.asyncProperty(
          fc.constantFrom(...signals), fc.constantFrom<Transport | 'http/json, between tokens'>('grpc', 'http/protobuf', 'http/json', 'http/json, between tokens'),
          invalidUtf8, invalidUtf8,
          async (signal, transport, keyBytes, valueBytes) => {
            const session = randomUUID();
            const attributes = [{ key: 'session.id', value: { stringValue: session } }, { key: KEY_HOLE, value: { stringValue: VALUE_HOLE } }];
            const json = JSON.stringify(requestOf(signal, [{ session, timeNs: nowNs(), attributes, body: { stringValue: 'claude_code.user_prompt' } }]));
            let body: Buffer;
            let key = keyBytes;
            let value = valueBytes;
            if (transport === 'grpc' || transport === 'http/protobuf') {
              // Length-delimited fields: same-length bytes keep the message well-formed, only the text is broken.
              body = encodeRequestProtobuf(signal, json);
            } else {
              // Inside a JSON string only bytes ≥ 0x80 may go (an ASCII quote or control character would break the JSON itself).
              const jsonSafe = (b: Buffer) => Buffer.from(b.map((x) => (x < 0x80 ? 0x61 + (x % 26) : x)));
              key = jsonSafe(keyBytes);
              value = jsonSafe(valueBytes);
              body = Buffer.from(transport === 'http/json' ? json : `${json.slice(0, -1)} ${OUTSIDE_HOLE}}`);
            }
            if (transport === 'http/json, between tokens') overwrite(body, OUTSIDE_HOLE, keyBytes);
            else {
              overwrite(body, KEY_HOLE, key);
              overwrite(body, VALUE_HOLE, value);
            }
            const answer = await send(client, signal, transport === 'http/json, between tokens' ? 'http/json' : transport, body);
            const rows = (await storedBySession(signal, [session])).get(session) ?? [];
            expect(answer.documented, `status ${answer.status}`).to.equal(true);
            if (transport === 'http/json, between tokens') expect(answer.status, 'invalid bytes outside any string are no JSON').to.equal('400');
            if (!answer.accepted || answer.rejected > 0) {
              expect(rows, `${answer.status}: ${answer.message}`).to.have.length(0);
              seen.refused++;
              return;
            }
            expect(rows).to.have.length(1);
            expect(rows[0]?.[decoded(key)], JSON.stringify(rows[0])).to.equal(decoded(value));
            seen.accepted++;
          }), {
          numRuns: RUNS,
          examples: [
            ['logs', 'http/json, between tokens', Buffer.alloc(HOLE, 0xff), Buffer.alloc(HOLE, 0xff)],
            ['metrics', 'grpc', Buffer.from([0xc0, 0xaf, 0x00, ...Buffer.alloc(HOLE - 3, 0x80)]), Buffer.from([0xed, 0xa0, 0x80, ...Buffer.alloc(HOLE - 3, 0x41)])],
            ['traces', 'http/json', Buffer.from([0xf8, 0x88, 0x80, 0x80, 0x80, ...Buffer.alloc(HOLE - 5, 0xe2)]), Buffer.alloc(HOLE, 0xfe)],
          ],
        });
      } finally {
        client.close();
      }
      expect(seen.accepted, 'some requests accepted: the check can see a write').to.be.above(0);
      expect(seen.refused, 'the requests broken between JSON tokens refused').to.be.above(0);
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
