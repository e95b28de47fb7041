import { randomBytes, randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { MAX_IDENTIFIER_BYTES } from '../src/ingest/key-limits.js';
import { MAX_MESSAGE_LENGTH } from '../src/otlp/encode.js';
import { requestType, responseType } from '../src/otlp/proto.js';
import type { Signal } from '../src/otlp/types.js';
import { type TestService, startTestService } from './support/service.js';

/**
 * Values a real sender never sends but a broken or hostile one may: enum names that are
 * Object.prototype keys, names and identifiers far too long for an indexed column, and
 * requests with thousands of distinct rejection reasons. Each gets a clear answer (400, or
 * 200 with partial_success), never a 500, and the rest of the request is stored.
 */
describe('ingest: hostile values', function () {
  this.timeout(120_000);
  let svc: TestService;
  let token: string;

  before(async () => {
    svc = await startTestService();
    token = await svc.token('hostile', 'ingest');
  });
  after(async () => svc?.close());

  const nowNs = () => (BigInt(Date.now()) * 1_000_000n).toString();
  /** 100 KB of random text: incompressible, so PostgreSQL cannot squeeze it into an index entry. */
  const huge = () => randomBytes(75_000).toString('base64');
  const hex = (bytes: number) => randomBytes(bytes).toString('hex');
  const kvs = (attrs: Record<string, string>) => Object.entries(attrs).map(([key, v]) => ({ key, value: { stringValue: v } }));

  async function post(signal: Signal, body: unknown) {
    const res = await fetch(`${svc.urls.http}/v1/${signal}`, {
      method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    });
    const text = await res.text();
    return { status: res.status, text, json: JSON.parse(text) as Record<string, unknown> };
  }

  const tables: Record<Signal, string> = { logs: 'events', metrics: 'metric_points', traces: 'spans' };
  const stored = async (signal: Signal, session: string) =>
    Number((await svc.sql<{ n: string }>(`SELECT count(*) AS n FROM ${tables[signal]} WHERE session_id = $1`, [session]))[0]?.n);

  describe('enum names that are Object.prototype keys', () => {
    const cases: { signal: Signal; label: string; body: (session: string) => unknown }[] = [
      { signal: 'logs', label: '"severityNumber":"toString"', body: (s) => logs([{ resource: {}, records: [logRecord(s, {}, { severityNumber: 'toString' })] }]) },
      { signal: 'logs', label: '"severityNumber":"__proto__"', body: (s) => logs([{ resource: {}, records: [logRecord(s, {}, { severityNumber: '__proto__' })] }]) },
      { signal: 'traces', label: '"kind":"constructor"', body: (s) => traces([{ resource: {}, spans: [span(s, 'x', {}, { kind: 'constructor' })] }]) },
      { signal: 'traces', label: '"status":{"code":"valueOf"}', body: (s) => traces([{ resource: {}, spans: [span(s, 'x', {}, { status: { code: 'valueOf' } })] }]) },
      { signal: 'metrics', label: '"aggregationTemporality":"__proto__"', body: (s) => metrics([{ resource: {}, metrics: [sum('m', s, {}, { aggregationTemporality: '__proto__' })] }]) },
    ];
    for (const c of cases) {
      it(`answers ${c.label} with 400 and a message, and stores nothing`, async () => {
        const session = randomUUID();
        const res = await post(c.signal, c.body(session));
        expect(res.status, res.text).to.equal(400);
        expect(res.json['message']).to.match(/unknown enum value/);
        expect(await stored(c.signal, session)).to.equal(0);
      });
    }

    it('keeps a service named "constructor" and an attribute named "__proto__" as sent', async () => {
      const session = randomUUID();
      const res = await post('logs', logs([{ resource: { 'service.name': 'constructor' }, records: [logRecord(session, { ['__proto__']: 'kept' })] }]));
      expect(res.status, res.text).to.equal(200);
      const rows = await svc.sql<{ surface: string; attributes: Record<string, unknown> }>(
        'SELECT surface, attributes::json AS attributes FROM events WHERE session_id = $1', [session]);
      expect(rows.map((r) => r.surface)).to.deep.equal(['constructor']);
      expect(Object.getOwnPropertyDescriptor(rows[0]?.attributes, '__proto__')?.value).to.equal('kept');
    });
  });

  describe(`names and identifiers longer than ${MAX_IDENTIFIER_BYTES} bytes`, () => {
    const tooLong = (what: string) => new RegExp(`${what.replace('.', '\\.')} longer than ${MAX_IDENTIFIER_BYTES} bytes`);
    const cases: { what: string; via?: string; signal: Signal; rejected: number; body: (ok: string, bad: string, v: string) => unknown }[] = [
      { what: 'metric name', signal: 'metrics', rejected: 1,
        body: (ok, bad, v) => metrics([{ resource: {}, metrics: [sum('claude_code.session.count', ok), sum(v, bad)] }]) },
      { what: 'event name', signal: 'logs', rejected: 1,
        via: 'event.name', body: (ok, bad, v) => logs([{ resource: {}, records: [logRecord(ok), logRecord(bad, { 'event.name': v }, { body: {} })] }]) },
      { what: 'event name', signal: 'logs', rejected: 1,
        via: 'LogRecord.event_name', body: (ok, bad, v) => logs([{ resource: {}, records: [logRecord(ok), logRecord(bad, {}, { body: {}, eventName: v })] }]) },
      { what: 'span name', signal: 'traces', rejected: 1,
        body: (ok, bad, v) => traces([{ resource: {}, spans: [span(ok, 'claude_code.interaction'), span(bad, v)] }]) },
      { what: 'scope: name', signal: 'logs', rejected: 1,
        body: (ok, bad, v) => logs([{ resource: {}, records: [logRecord(ok)] }, { resource: {}, scope: v, records: [logRecord(bad)] }]) },
      { what: 'resource: service.name', signal: 'traces', rejected: 2,
        body: (ok, bad, v) => traces([{ resource: { 'service.name': v }, spans: [span(bad, 'a'), span(bad, 'b')] }, { resource: {}, spans: [span(ok, 'c')] }]) },
      ...['user.email', 'user.account_uuid', 'enduser.id', 'user.id', 'organization.id'].flatMap((key) => [
        { what: key, signal: 'logs' as const, rejected: 1,
          body: (ok: string, bad: string, v: string) => logs([{ resource: {}, records: [logRecord(ok), logRecord(bad, { [key]: v })] }]) },
        { what: key, signal: 'metrics' as const, rejected: 1,
          body: (ok: string, bad: string, v: string) => metrics([{ resource: {}, metrics: [sum('claude_code.cost.usage', ok), sum('claude_code.cost.usage', bad, { [key]: v })] }]) },
      ]),
      // On the resource, an identity value applies to each of its records.
      { what: 'user.email', signal: 'traces', rejected: 1,
        body: (ok, bad, v) => traces([{ resource: { 'user.email': v }, spans: [span(bad, 'a')] }, { resource: {}, spans: [span(ok, 'b')] }]) },
      { what: 'model', signal: 'logs', rejected: 1,
        body: (ok, bad, v) => logs([{ resource: {}, records: [logRecord(ok, { model: 'claude-opus-5-5' }), logRecord(bad, { model: v })] }]) },
      { what: 'model', signal: 'metrics', rejected: 1,
        body: (ok, bad, v) => metrics([{ resource: {}, metrics: [sum('claude_code.token.usage', ok), sum('claude_code.token.usage', bad, { model: v })] }]) },
    ];

    for (const c of cases) {
      it(`a 100 KB ${c.what} (${c.signal}${c.via ? `, from ${c.via}` : ''}): 200 with partial_success naming it, and the rest of the request stored`, async () => {
        const ok = randomUUID();
        const bad = randomUUID();
        const res = await post(c.signal, c.body(ok, bad, huge()));
        expect(res.status, res.text.slice(0, 500)).to.equal(200);
        const partial = res.json['partialSuccess'] as Record<string, string>;
        const field = { logs: 'rejectedLogRecords', metrics: 'rejectedDataPoints', traces: 'rejectedSpans' }[c.signal];
        expect(partial[field]).to.equal(String(c.rejected));
        expect(partial['errorMessage']).to.match(tooLong(c.what));
        expect(res.text.length, 'the value is not echoed back').to.be.below(2000);
        expect(await stored(c.signal, ok)).to.equal(1);
        expect(await stored(c.signal, bad)).to.equal(0);
      });
    }

    it(`accepts identifiers of exactly ${MAX_IDENTIFIER_BYTES} bytes, multi-byte characters counted in bytes`, async () => {
      const session = randomUUID();
      const atLimit = 'é'.repeat(MAX_IDENTIFIER_BYTES / 2);
      const overLimit = `${atLimit}x`;
      const res = await post('logs', logs([{ resource: { 'service.name': atLimit }, records: [logRecord(session, { 'user.email': atLimit }), logRecord(session, { 'user.id': overLimit })] }]));
      expect(res.status, res.text).to.equal(200);
      expect((res.json['partialSuccess'] as Record<string, string>)['errorMessage']).to.match(tooLong('user.id'));
      const rows = await svc.sql<{ surface: string; user_email: string }>('SELECT surface, user_email FROM events WHERE session_id = $1', [session]);
      expect(rows).to.deep.equal([{ surface: atLimit, user_email: atLimit }]);
    });
  });

  describe('thousands of distinct rejection reasons', () => {
    /** 3,000 metrics, each with its own name and a zero timestamp, plus one good point. */
    const request = (session: string) => metrics([{ resource: {}, metrics: [
      sum('claude_code.session.count', session),
      ...Array.from({ length: 3000 }, (_, i) => sum(`bad.metric.${i}`, session, {}, {}, '0')),
    ] }]);
    const check = (rejected: string, message: string) => {
      expect(rejected).to.equal('3000');
      expect(message.length).to.be.at.most(MAX_MESSAGE_LENGTH);
      expect(message).to.match(/^3000 rejected: bad\.metric\.0: timestamp is zero \(1\); /);
      expect(message).to.match(/; … \d+ more reasons$/);
    };

    it('over HTTP: error_message stays within 1 KiB and ends in "… N more reasons"', async () => {
      const session = randomUUID();
      const res = await post('metrics', request(session));
      expect(res.status).to.equal(200);
      const partial = res.json['partialSuccess'] as { rejectedDataPoints: string; errorMessage: string };
      check(partial.rejectedDataPoints, partial.errorMessage);
      expect(await stored('metrics', session)).to.equal(1);
    });

    it('over gRPC: the same bound', async () => {
      const session = randomUUID();
      const Req = requestType('metrics');
      const bytes = Buffer.from(Req.encode(Req.fromObject(request(session))).finish());
      const client = new grpc.Client(svc.urls.grpc.replace('http://', ''), grpc.credentials.createInsecure());
      const md = new grpc.Metadata();
      md.set('authorization', `Bearer ${token}`);
      const answer = await new Promise<Buffer>((resolve, reject) =>
        client.makeUnaryRequest('/opentelemetry.proto.collector.metrics.v1.MetricsService/Export', (b: Buffer) => b, (b: Buffer) => b, bytes, md,
          (err, res) => (err ? reject(err) : resolve(res as Buffer))));
      client.close();
      const Res = responseType('metrics');
      const decoded = Res.toObject(Res.decode(answer), { longs: String }) as { partialSuccess: { rejectedDataPoints: string; errorMessage: string } };
      check(decoded.partialSuccess.rejectedDataPoints, decoded.partialSuccess.errorMessage);
      expect(await stored('metrics', session)).to.equal(1);
    });
  });

  // --- request builders (OTLP/JSON) ---

  function logRecord(session: string, attrs: Record<string, string> = {}, extra: Record<string, unknown> = {}) {
    return { timeUnixNano: nowNs(), body: { stringValue: 'claude_code.user_prompt' }, attributes: kvs({ 'session.id': session, ...attrs }), ...extra };
  }
  function logs(blocks: { resource: Record<string, string>; scope?: string; records: unknown[] }[]) {
    return { resourceLogs: blocks.map((b) => ({ resource: { attributes: kvs(b.resource) }, scopeLogs: [{ scope: { name: b.scope ?? 'com.anthropic.claude_code.events' }, logRecords: b.records }] })) };
  }
  function span(session: string, name: string, attrs: Record<string, string> = {}, extra: Record<string, unknown> = {}) {
    const start = BigInt(nowNs());
    return { traceId: hex(16), spanId: hex(8), name, kind: 1, startTimeUnixNano: start.toString(), endTimeUnixNano: (start + 1_000_000n).toString(),
      attributes: kvs({ 'session.id': session, ...attrs }), ...extra };
  }
  function traces(blocks: { resource: Record<string, string>; spans: unknown[] }[]) {
    return { resourceSpans: blocks.map((b) => ({ resource: { attributes: kvs(b.resource) }, scopeSpans: [{ scope: { name: 'com.anthropic.claude_code.tracing' }, spans: b.spans }] })) };
  }
  function sum(name: string, session: string, attrs: Record<string, string> = {}, extra: Record<string, unknown> = {}, time = nowNs()) {
    return { name, unit: '1', sum: { aggregationTemporality: 1, isMonotonic: true, ...extra,
      dataPoints: [{ timeUnixNano: time, asDouble: 1, attributes: kvs({ 'session.id': session, ...attrs }) }] } };
  }
  function metrics(blocks: { resource: Record<string, string>; metrics: unknown[] }[]) {
    return { resourceMetrics: blocks.map((b) => ({ resource: { attributes: kvs(b.resource) }, scopeMetrics: [{ scope: { name: 'com.anthropic.claude_code' }, metrics: b.metrics }] })) };
  }
});
