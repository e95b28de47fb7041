import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { encodeRequestProtobuf } from '../src/otlp/encode.js';
import { responseType } from '../src/otlp/proto.js';
import type { Signal } from '../src/otlp/types.js';
import { type TestService, startTestService } from './support/service.js';

const MAX_STRING = 100;
const MAX_DEPTH = 3;
const MAX_ATTRS = 20;

/**
 * What is stored for each kind of record, field by field, sent once as OTLP/JSON over HTTP
 * and once as protobuf over gRPC (the same request): metric distributions and start
 * times, event times, severity, ids, identities and names, and the documented attribute
 * limits (truncation marker, nesting depth, resource-level rejection).
 */
describe('ingest: what is stored', function () {
  this.timeout(60_000);
  let svc: TestService;
  let token: string;
  let grpcClient: grpc.Client;

  before(async () => {
    svc = await startTestService({ MAX_STRING_LENGTH: String(MAX_STRING), MAX_ATTRIBUTE_DEPTH: String(MAX_DEPTH), MAX_ATTRIBUTES_PER_RECORD: String(MAX_ATTRS) });
    token = await svc.token('stored', 'ingest');
    grpcClient = new grpc.Client(svc.urls.grpc.replace('http://', ''), grpc.credentials.createInsecure());
  });
  after(async () => {
    grpcClient?.close();
    await svc?.close();
  });

  const t0 = BigInt(Date.now() - 60_000) * 1_000_000n + 123_456n;
  const t1 = t0 + 30_000_000_000n + 789n;
  const str = (v: string) => ({ stringValue: v });
  const kv = (key: string, value: unknown) => ({ key, value });
  const session = (s: string) => kv('session.id', str(s));
  const services = { logs: 'logs.v1.LogsService', metrics: 'metrics.v1.MetricsService', traces: 'trace.v1.TraceService' };
  const fields = { logs: 'rejectedLogRecords', metrics: 'rejectedDataPoints', traces: 'rejectedSpans' };

  /** Sends `build(sessionId)` over both transports; returns per transport its session id and partial_success. */
  async function sendBoth(signal: Signal, build: (s: string) => unknown) {
    const out: { via: string; session: string; rejected: string; message: string }[] = [];
    const viaHttp = randomUUID();
    const res = await fetch(`${svc.urls.http}/v1/${signal}`, {
      method: 'POST', body: JSON.stringify(build(viaHttp)), headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    });
    const text = await res.text();
    expect(res.status, text).to.equal(200);
    const partial = ((JSON.parse(text) as { partialSuccess?: Record<string, string> }).partialSuccess ?? {});
    out.push({ via: 'http/json', session: viaHttp, rejected: partial[fields[signal]] ?? '0', message: partial['errorMessage'] ?? '' });

    const viaGrpc = randomUUID();
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${token}`);
    const answer = await new Promise<Buffer>((resolve, reject) =>
      grpcClient.makeUnaryRequest(`/opentelemetry.proto.collector.${services[signal]}/Export`, (b: Buffer) => b, (b: Buffer) => b,
        encodeRequestProtobuf(signal, JSON.stringify(build(viaGrpc))), md, (err, r) => (err ? reject(err) : resolve(r as Buffer))));
    const type = responseType(signal);
    const decoded = type.toObject(type.decode(answer), { longs: String }) as { partialSuccess?: Record<string, string> };
    out.push({ via: 'grpc', session: viaGrpc, rejected: decoded.partialSuccess?.[fields[signal]] ?? '0', message: decoded.partialSuccess?.errorMessage ?? '' });
    return out;
  }

  describe('metric points', () => {
    const request = (s: string) => ({
      resourceMetrics: [{
        resource: { attributes: [kv('service.name', str('claude-code'))] },
        scopeMetrics: [{ scope: { name: 'test' }, metrics: [
          { name: 'latency', unit: 'ms', description: 'request latency', histogram: { aggregationTemporality: 2, dataPoints: [{
            startTimeUnixNano: t0.toString(), timeUnixNano: t1.toString(), count: '6', sum: 21.5, min: 0.5, max: 9,
            bucketCounts: ['1', '2', '3'], explicitBounds: [1, 5], attributes: [session(s)] }] } },
          { name: 'sizes', unit: 'By', exponentialHistogram: { aggregationTemporality: 1, dataPoints: [{
            startTimeUnixNano: t0.toString(), timeUnixNano: t1.toString(), count: '7', sum: 40, scale: 2, zeroCount: '1', zeroThreshold: 0.001,
            positive: { offset: -1, bucketCounts: ['2', '3'] }, negative: { offset: 0, bucketCounts: ['1'] }, attributes: [session(s)] }] } },
          { name: 'rtt', unit: 's', summary: { dataPoints: [{
            startTimeUnixNano: t0.toString(), timeUnixNano: t1.toString(), count: '4', sum: 2,
            quantileValues: [{ quantile: 0.5, value: 0.4 }, { quantile: 0.99, value: 0.9 }], attributes: [session(s)] }] } },
          { name: 'queue', unit: '1', gauge: { dataPoints: [{ timeUnixNano: t1.toString(), asInt: '9007199254740993', attributes: [session(s)] }] } },
        ] }],
      }],
    });

    it('histogram, exponential histogram, summary and gauge: type, temporality, distribution, value and start time', async () => {
      for (const sent of await sendBoth('metrics', request)) {
        expect(sent.rejected, sent.via).to.equal('0');
        const rows = await svc.sql<Record<string, unknown>>(
          `SELECT name, unit, description, type, temporality, monotonic, value, value_int, start_time_ns::text, time_ns::text, distribution::json AS distribution
           FROM metric_points WHERE session_id = $1 ORDER BY name`, [sent.session]);
        const base = { description: '', monotonic: null, value: null, value_int: null, start_time_ns: t0.toString(), time_ns: t1.toString() };
        expect(rows, sent.via).to.deep.equal([
          { ...base, name: 'latency', unit: 'ms', description: 'request latency', type: 'histogram', temporality: 'cumulative',
            distribution: { count: 6, sum: 21.5, min: 0.5, max: 9, bucketCounts: [1, 2, 3], explicitBounds: [1, 5] } },
          { ...base, name: 'queue', unit: '1', type: 'gauge', temporality: null, value: 9007199254740992, value_int: '9007199254740993',
            start_time_ns: null, distribution: null },
          { ...base, name: 'rtt', unit: 's', type: 'summary', temporality: null,
            distribution: { count: 4, sum: 2, min: null, max: null, quantiles: [{ quantile: 0.5, value: 0.4 }, { quantile: 0.99, value: 0.9 }] } },
          { ...base, name: 'sizes', unit: 'By', type: 'exponential_histogram', temporality: 'delta',
            distribution: { count: 7, sum: 40, min: null, max: null, scale: 2, zeroCount: 1, zeroThreshold: 0.001,
              positive: { offset: -1, bucketCounts: [2, 3] }, negative: { offset: 0, bucketCounts: [1] } } },
        ]);
      }
    });
  });

  describe('events', () => {
    const traceId = '5b8efff798038103d269b633813fc60c';
    const spanId = 'eee19b7ec3c1b174';
    const request = (s: string) => ({
      resourceLogs: [{
        resource: { attributes: [kv('service.name', str('cowork')), kv('organization.id', str('org-7')), kv('user.account_uuid', str('acc-42'))] },
        scopeLogs: [{ scope: { name: 'com.anthropic.claude_code.events', version: '1.2.3' }, logRecords: [
          { timeUnixNano: t1.toString(), observedTimeUnixNano: (t1 + 5n).toString(), severityNumber: 13, severityText: 'WARN', traceId: traceId.toUpperCase(), spanId,
            body: str('claude_code.api_error'), attributes: [session(s), kv('prompt.id', str('p-1'))] },
          // Named by event.name (the body is no event name) ...
          { timeUnixNano: t1.toString(), severityNumber: 9, body: str('something happened'), attributes: [session(s), kv('event.name', str('claude_code.tool_result'))] },
          // ... by LogRecord.event_name, and stamped only with its observed time.
          { observedTimeUnixNano: t0.toString(), eventName: 'cowork.file_opened', attributes: [session(s), kv('user.account_uuid', str('acc-record'))] },
        ] }],
      }],
    });

    it('names from the body, event.name and LogRecord.event_name; times, severity, ids and identity', async () => {
      for (const sent of await sendBoth('logs', request)) {
        expect(sent.rejected, sent.via).to.equal('0');
        const rows = await svc.sql<Record<string, unknown>>(
          `SELECT name, time_ns::text, observed_time_ns::text, severity_number, severity_text, trace_id, span_id, surface, seat,
                  user_account_uuid, organization_id, prompt_id, scope::json ->> 'version' AS scope_version
           FROM events WHERE session_id = $1 ORDER BY name`, [sent.session]);
        const common = { surface: 'cowork', organization_id: 'org-7', trace_id: null, span_id: null, severity_text: null, prompt_id: null,
          observed_time_ns: null, scope_version: '1.2.3', user_account_uuid: 'acc-42', seat: 'account:acc-42' };
        expect(rows, sent.via).to.deep.equal([
          { ...common, name: 'api_error', time_ns: t1.toString(), observed_time_ns: (t1 + 5n).toString(), severity_number: 13, severity_text: 'WARN',
            trace_id: traceId, span_id: spanId, prompt_id: 'p-1' },
          { ...common, name: 'cowork.file_opened', time_ns: t0.toString(), observed_time_ns: t0.toString(), severity_number: 0,
            user_account_uuid: 'acc-record', seat: 'account:acc-record' },
          { ...common, name: 'tool_result', time_ns: t1.toString(), severity_number: 9 },
        ]);
      }
    });
  });

  describe('attribute limits', () => {
    /** An AnyValue `levels` kvlists deep around a string. */
    const nested = (levels: number): unknown => (levels === 0 ? str('leaf') : { kvlistValue: { values: [kv('k', nested(levels - 1))] } });
    const record = (s: string, attrs: unknown[], body: unknown = str('claude_code.user_prompt')) =>
      ({ timeUnixNano: t1.toString(), body, attributes: [session(s), ...attrs] });
    const logs = (blocks: { resource: unknown[]; records: unknown[] }[]) => ({
      resourceLogs: blocks.map((b) => ({ resource: { attributes: b.resource }, scopeLogs: [{ logRecords: b.records }] })),
    });

    it(`truncates strings past MAX_STRING_LENGTH (${MAX_STRING}) to that length plus "…[truncated]", in attributes and bodies`, async () => {
      const long = 'a'.repeat(MAX_STRING) + 'b'.repeat(50);
      for (const sent of await sendBoth('logs', (s) => logs([{ resource: [], records: [record(s, [kv('long', str(long)), kv('short', str('ok'))], str(long))] }]))) {
        expect(sent.rejected).to.equal('0');
        const rows = await svc.sql<{ attributes: Record<string, string>; body: string }>(
          'SELECT attributes::json AS attributes, body::json AS body FROM events WHERE session_id = $1', [sent.session]);
        expect(rows).to.have.length(1);
        expect(rows[0]?.attributes['long']).to.equal(`${'a'.repeat(MAX_STRING)}…[truncated]`);
        expect(rows[0]?.attributes['short']).to.equal('ok');
        expect(rows[0]?.body).to.equal(`${'a'.repeat(MAX_STRING)}…[truncated]`);
      }
    });

    it(`rejects a record nested deeper than MAX_ATTRIBUTE_DEPTH (${MAX_DEPTH}) through partial_success and keeps one at the limit`, async () => {
      for (const sent of await sendBoth('logs', (s) => logs([{ resource: [], records: [
        record(s, [kv('deep', nested(MAX_DEPTH)), kv('which', str('at-limit'))]),
        record(s, [kv('deep', nested(MAX_DEPTH + 1)), kv('which', str('too-deep'))]),
      ] }]))) {
        expect([sent.rejected, sent.message]).to.deep.equal(['1', `1 rejected: attribute nesting deeper than ${MAX_DEPTH} (1)`]);
        const rows = await svc.sql<{ which: string }>(`SELECT attributes::json ->> 'which' AS which FROM events WHERE session_id = $1`, [sent.session]);
        expect(rows.map((r) => r.which)).to.deep.equal(['at-limit']);
      }
    });

    it(`rejects every record of a resource over MAX_ATTRIBUTES_PER_RECORD (${MAX_ATTRS}) and keeps the other resources`, async () => {
      const crowded = Array.from({ length: MAX_ATTRS + 1 }, (_, i) => kv(`r${i}`, str('x')));
      for (const sent of await sendBoth('logs', (s) => logs([
        { resource: crowded, records: [record(s, [kv('which', str('crowded-1'))]), record(s, [kv('which', str('crowded-2'))])] },
        { resource: [kv('service.name', str('claude-code'))], records: [record(s, [kv('which', str('fine'))])] },
      ]))) {
        expect([sent.rejected, sent.message]).to.deep.equal(['2', `2 rejected: resource: ${MAX_ATTRS + 1} attributes, more than the limit of ${MAX_ATTRS} (2)`]);
        const rows = await svc.sql<{ which: string }>(`SELECT attributes::json ->> 'which' AS which FROM events WHERE session_id = $1`, [sent.session]);
        expect(rows.map((r) => r.which)).to.deep.equal(['fine']);
      }
    });
  });
});
