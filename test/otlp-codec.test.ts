import { existsSync, readFileSync } from 'node:fs';
import { expect } from 'chai';
import fc from 'fast-check';
import { stringify as losslessStringify } from 'lossless-json';
import protobuf from 'protobufjs';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import {
  JsonLogsSerializer,
  JsonMetricsSerializer,
  JsonTraceSerializer,
  ProtobufLogsSerializer,
  ProtobufMetricsSerializer,
  ProtobufTraceSerializer,
} from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { decodeJson } from '../src/otlp/decode-json.js';
import { decodeProtobuf } from '../src/otlp/decode-protobuf.js';
import { MAX_MESSAGE_LENGTH, boundedMessage, encodeExportResponse, encodeStatus, encodeStatusDetailsBin } from '../src/otlp/encode.js';
import { encodeRequest, encodeRequestProtobuf } from '../src/otlp/encode-request.js';
import { grpcServiceNames, loadGrpcPackageDefinition, protoDir, protoRoot, requestType, responseType } from '../src/otlp/proto.js';
import {
  DecodeError,
  type AnyValue,
  type ExportLogsServiceRequest,
  type ExportMetricsServiceRequest,
  type ExportTraceServiceRequest,
  type KeyValue,
  type Metric,
  type Signal,
} from '../src/otlp/types.js';
import { captureText } from './support/capture.js';


function attr(list: KeyValue[], key: string): AnyValue | undefined {
  return list.find((kv) => kv.key === key)?.value;
}

function decodeError(fn: () => unknown): DecodeError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(DecodeError);
    return err as DecodeError;
  }
  expect.fail('expected a DecodeError');
}

const writer = () => protobuf.Writer.create();

/** ExportLogsServiceRequest{resource_logs{scope_logs{log_records: record}}} around raw LogRecord bytes. */
function wrapLogRecord(record: Uint8Array): Uint8Array {
  const scopeLogs = writer().uint32(18).bytes(record).finish();
  const resourceLogs = writer().uint32(18).bytes(scopeLogs).finish();
  return writer().uint32(10).bytes(resourceLogs).finish();
}

function wrapSpan(span: Uint8Array): Uint8Array {
  const scopeSpans = writer().uint32(18).bytes(span).finish();
  const resourceSpans = writer().uint32(18).bytes(scopeSpans).finish();
  return writer().uint32(10).bytes(resourceSpans).finish();
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 127) {
    out.push((n & 127) | 128);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

/** The bytes of an AnyValue made of `levels` nested arrayValues around an empty AnyValue, built outside-in. */
function nestedArrayValue(levels: number): Uint8Array {
  const prefixes: number[][] = [];
  let size = 0;
  for (let i = 0; i < levels; i++) {
    const arrayPrefix = [10, ...varint(size)]; // ArrayValue.values
    size += arrayPrefix.length;
    const anyPrefix = [42, ...varint(size)]; // AnyValue.array_value
    size += anyPrefix.length;
    prefixes.push([...anyPrefix, ...arrayPrefix]);
  }
  return Uint8Array.from(prefixes.reverse().flat());
}

const nestedJsonBody = (levels: number): string =>
  '{"arrayValue":{"values":['.repeat(levels) + '{}' + ']}}'.repeat(levels);

describe('otlp codec', () => {
  describe('proto loading', () => {
    it('finds proto/ at the package root and loads the well-known types', () => {
      expect(existsSync(`${protoDir}opentelemetry/proto/common/v1/common.proto`)).to.equal(true);
      expect(protoRoot.lookupType('google.protobuf.Any').fieldsArray.map((f) => f.id)).to.deep.equal([1, 2]);
      expect(protoRoot.lookupType('google.protobuf.Duration').fields['seconds']?.type).to.equal('int64');
    });

    it('builds a gRPC package definition with the exact service paths and health', () => {
      const def = loadGrpcPackageDefinition();
      const logs = def[grpcServiceNames.logs] as Record<string, { path: string; responseStream: boolean }>;
      expect(logs['Export']?.path).to.equal('/opentelemetry.proto.collector.logs.v1.LogsService/Export');
      const metrics = def[grpcServiceNames.metrics] as Record<string, { path: string }>;
      expect(metrics['Export']?.path).to.equal('/opentelemetry.proto.collector.metrics.v1.MetricsService/Export');
      const traces = def[grpcServiceNames.traces] as Record<string, { path: string }>;
      expect(traces['Export']?.path).to.equal('/opentelemetry.proto.collector.trace.v1.TraceService/Export');
      const health = def['grpc.health.v1.Health'] as Record<string, { path: string; responseStream: boolean }>;
      expect(health['Check']?.path).to.equal('/grpc.health.v1.Health/Check');
      expect(health['Watch']?.responseStream).to.equal(true);
    });
  });

  describe('the real Claude Code 2.1.328 capture', () => {
    it('decodes logs JSON', () => {
      const req = decodeJson('logs', captureText('logs'));
      const rl = req.resourceLogs[0]!;
      expect(attr(rl.resource.attributes, 'service.name')).to.deep.equal({ type: 'string', value: 'claude-code' });
      const sl = rl.scopeLogs[0]!;
      expect(sl.scope.name).to.equal('com.anthropic.claude_code.events');
      expect(sl.logRecords).to.have.length(8);
      const first = sl.logRecords[0]!;
      expect(first.timeUnixNano).to.equal(1795315549135000000n);
      expect(first.body).to.deep.equal({ type: 'string', value: 'claude_code.managed_settings_resolved' });
      expect(attr(first.attributes, 'event.sequence')).to.deep.equal({ type: 'int', value: 0n });
      expect(attr(first.attributes, 'managed_settings.sources')).to.deep.equal({ type: 'array', values: [] });
      expect(attr(first.attributes, 'anthropic.custom_base_url')).to.deep.equal({ type: 'bool', value: true });
      expect(first.traceId).to.equal('');
      const apiRequest = sl.logRecords[6]!;
      expect(apiRequest.body).to.deep.equal({ type: 'string', value: 'claude_code.api_request' });
      expect(apiRequest.traceId).to.equal('af2f62da894332c969842dd43be0d60b');
      expect(apiRequest.spanId).to.equal('c36b409d44799401');
      expect(apiRequest.flags).to.equal(1);
      expect(attr(apiRequest.attributes, 'cost_usd')).to.deep.equal({ type: 'double', value: 0.000684 });
      expect(attr(apiRequest.attributes, 'input_tokens')).to.deep.equal({ type: 'int', value: 121n });
    });

    it('decodes metrics JSON', () => {
      const req = decodeJson('metrics', captureText('metrics'));
      const metrics = req.resourceMetrics[0]!.scopeMetrics[0]!.metrics;
      expect(metrics.map((m) => m.name)).to.deep.equal([
        'claude_code.session.count',
        'claude_code.cost.usage',
        'claude_code.token.usage',
        'claude_code.active_time.total',
      ]);
      const cost = metrics[1]!;
      expect(cost.unit).to.equal('USD');
      if (cost.data.type !== 'sum') expect.fail(`expected a sum, got ${cost.data.type}`);
      expect(cost.data.aggregationTemporality).to.equal(1);
      expect(cost.data.isMonotonic).to.equal(true);
      expect(cost.data.dataPoints[0]!.asDouble).to.equal(0.000684);
      expect(cost.data.dataPoints[0]!.asInt).to.equal(undefined);
      const tokens = metrics[2]!.data;
      if (tokens.type !== 'sum') expect.fail('expected a sum');
      expect(tokens.dataPoints.map((p) => [attr(p.attributes, 'type'), p.asDouble])).to.deep.equal([
        [{ type: 'string', value: 'input' }, 121],
        [{ type: 'string', value: 'output' }, 7],
        [{ type: 'string', value: 'cacheRead' }, 50],
        [{ type: 'string', value: 'cacheCreation' }, 10],
      ]);
      expect(tokens.dataPoints[0]!.startTimeUnixNano).to.equal(1795315549356000000n);
      expect(tokens.dataPoints[0]!.timeUnixNano).to.equal(1795315549381000000n);
    });

    it('decodes traces JSON', () => {
      const req = decodeJson('traces', captureText('traces'));
      const [llm, interaction] = req.resourceSpans[0]!.scopeSpans[0]!.spans;
      expect(llm!.name).to.equal('claude_code.llm_request');
      expect(llm!.traceId).to.equal('af2f62da894332c969842dd43be0d60b');
      expect(llm!.spanId).to.equal('9eafc03949a354ff');
      expect(llm!.parentSpanId).to.equal('c36b409d44799401');
      expect(llm!.kind).to.equal(1);
      expect(llm!.flags).to.equal(257);
      expect(llm!.endTimeUnixNano).to.equal(1795315549360039014n);
      expect(llm!.events).to.deep.equal([
        {
          timeUnixNano: 1795315549340529587n,
          name: 'gen_ai.request.attempt',
          attributes: [{ key: 'attempt', value: { type: 'int', value: 1n } }],
          droppedAttributesCount: 0,
        },
      ]);
      expect(llm!.status).to.deep.equal({ message: '', code: 0 });
      expect(interaction!.name).to.equal('claude_code.interaction');
      expect(interaction!.parentSpanId).to.equal('');
    });

    for (const signal of ['logs', 'metrics', 'traces'] as const) {
      it(`${signal}: JSON → protobuf → decodeProtobuf equals decodeJson`, () => {
        const text = captureText(signal);
        const bytes = encodeRequestProtobuf(signal, text);
        expect(decodeProtobuf(signal, bytes)).to.deep.equal(decodeJson(signal, text));
      });

      it(`${signal}: agrees with protobufjs's own decoder on the same bytes`, () => {
        const bytes = encodeRequestProtobuf(signal, captureText(signal));
        const type = requestType(signal);
        const reference = type.toObject(type.decode(bytes), { longs: String, bytes: String, defaults: true });
        const ours = decodeProtobuf(signal, bytes);
        // Compare through a neutral projection: every 64-bit value and id as protobufjs renders it.
        const project = (v: unknown): string =>
          JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
        const refTimes = project(reference).match(/"(?:time|startTime|endTime|observedTime)UnixNano":"\d+"/g);
        const ourTimes = project(ours).match(/"(?:time|startTime|endTime|observedTime)UnixNano":"\d+"/g);
        expect(ourTimes?.sort()).to.deep.equal(refTimes?.sort());
        const refIds = (project(reference).match(/"(?:traceId|spanId|parentSpanId)":"[^"]*"/g) ?? []).map((s) => {
          const [k, v] = s.split('":"');
          return `${k}":"${Buffer.from(v!.slice(0, -1), 'base64').toString('hex')}"`;
        });
        const ourIds = project(ours).match(/"(?:traceId|spanId|parentSpanId)":"[^"]*"/g) ?? [];
        expect(ourIds.sort()).to.deep.equal(refIds.sort());
      });
    }

    it('rejects every truncation of a real protobuf request', () => {
      const bytes = encodeRequestProtobuf('logs', captureText('logs'));
      for (let len = 1; len < bytes.length; len++) {
        decodeError(() => decodeProtobuf('logs', bytes.subarray(0, len)));
      }
    });
  });

  describe('JSON rules', () => {
    const oneRecord = (fields: string): string =>
      `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{${fields}}]}]}]}`;
    const record = (text: string) => decodeJson('logs', text).resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!;

    it('keeps unquoted 64-bit integers exact', () => {
      const r = record(oneRecord('"timeUnixNano":1795315549135000001,"observedTimeUnixNano":18446744073709551615'));
      expect(r.timeUnixNano).to.equal(1795315549135000001n);
      expect(r.observedTimeUnixNano).to.equal(18446744073709551615n);
      const v = record(oneRecord('"body":{"intValue":-9223372036854775808}')).body;
      expect(v).to.deep.equal({ type: 'int', value: -9223372036854775808n });
      expect(record(oneRecord('"body":{"intValue":"1.5e3"}')).body).to.deep.equal({ type: 'int', value: 1500n });
      expect(record(oneRecord('"timeUnixNano":1.795315549135000001e18')).timeUnixNano).to.equal(1795315549135000001n);
      // A string that looks like a bare big number must come through untouched, next to a real one.
      const tricky = record(oneRecord('"severityText":"ratio: 12345678901234567, [9007199254740993]","timeUnixNano":1795315549135000001'));
      expect(tricky.severityText).to.equal('ratio: 12345678901234567, [9007199254740993]');
      expect(tricky.timeUnixNano).to.equal(1795315549135000001n);
    });

    it('rejects non-integers and out-of-range values in integer fields', () => {
      expect(decodeError(() => record(oneRecord('"timeUnixNano":"12.5"'))).field).to.equal(
        'resourceLogs[0].scopeLogs[0].logRecords[0].timeUnixNano',
      );
      decodeError(() => record(oneRecord('"timeUnixNano":18446744073709551616')));
      decodeError(() => record(oneRecord('"timeUnixNano":-1')));
      decodeError(() => record(oneRecord('"flags":4294967296')));
    });

    it('accepts snake_case keys and enum names', () => {
      const logs = decodeJson(
        'logs',
        '{"resource_logs":[{"scope_logs":[{"log_records":[{"time_unix_nano":"5","severity_number":"SEVERITY_NUMBER_INFO","severity_text":"INFO","trace_id":"AF2F62DA894332C969842DD43BE0D60B","dropped_attributes_count":3,"event_name":"e"}]}]}]}',
      );
      const r = logs.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!;
      expect([r.timeUnixNano, r.severityNumber, r.severityText, r.traceId, r.droppedAttributesCount, r.eventName]).to.deep.equal([
        5n,
        9,
        'INFO',
        'af2f62da894332c969842dd43be0d60b',
        3,
        'e',
      ]);
      const traces = decodeJson(
        'traces',
        '{"resourceSpans":[{"scopeSpans":[{"spans":[{"kind":"SPAN_KIND_SERVER","status":{"code":"STATUS_CODE_ERROR","message":"boom"},"parent_span_id":"c36b409d44799401"}]}]}]}',
      );
      const span = traces.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
      expect([span.kind, span.status, span.parentSpanId]).to.deep.equal([2, { code: 2, message: 'boom' }, 'c36b409d44799401']);
      const metrics = decodeJson(
        'metrics',
        '{"resource_metrics":[{"scope_metrics":[{"metrics":[{"name":"m","exponential_histogram":{"aggregation_temporality":"AGGREGATION_TEMPORALITY_DELTA","data_points":[{"zero_count":"2","count":3}]}}]}]}]}',
      );
      const data = metrics.resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!.data;
      if (data.type !== 'exponential_histogram') expect.fail('expected an exponential histogram');
      expect([data.aggregationTemporality, data.dataPoints[0]!.zeroCount, data.dataPoints[0]!.count]).to.deep.equal([1, 2n, 3n]);
      expect(decodeError(() => decodeJson('traces', '{"resourceSpans":[{"scopeSpans":[{"spans":[{"kind":"SPAN_KIND_NOPE"}]}]}]}')).field).to.equal(
        'resourceSpans[0].scopeSpans[0].spans[0].kind',
      );
    });

    it('refuses enum names that are Object.prototype keys with a DecodeError, not a function for a number', () => {
      const cases: [Signal, string, string][] = [
        ['logs', '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityNumber":"toString"}]}]}]}', 'resourceLogs[0].scopeLogs[0].logRecords[0].severityNumber'],
        ['logs', '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severity_number":"__proto__"}]}]}]}', 'resourceLogs[0].scopeLogs[0].logRecords[0].severityNumber'],
        ['traces', '{"resourceSpans":[{"scopeSpans":[{"spans":[{"kind":"constructor"}]}]}]}', 'resourceSpans[0].scopeSpans[0].spans[0].kind'],
        ['traces', '{"resourceSpans":[{"scopeSpans":[{"spans":[{"status":{"code":"hasOwnProperty"}}]}]}]}', 'resourceSpans[0].scopeSpans[0].spans[0].status.code'],
        ['metrics', '{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"m","sum":{"aggregationTemporality":"__proto__"}}]}]}]}',
          'resourceMetrics[0].scopeMetrics[0].metrics[0].sum.aggregationTemporality'],
      ];
      for (const [signal, text, field] of cases) {
        const err = decodeError(() => decodeJson(signal, text));
        expect(err.field, text).to.equal(field);
        expect(err.message).to.match(/unknown enum value/);
      }
    });

    it('ignores unknown keys and accepts NaN/Infinity doubles and base64 bytes', () => {
      const r = record(
        oneRecord('"futureField":{"x":[1,2]},"timeUnixNano":"7","body":{"kvlistValue":{"values":[{"key":"d","value":{"doubleValue":"-Infinity"}},{"key":"b","value":{"bytesValue":"AQID"}},{"key":"n","value":{"doubleValue":"NaN"}}]},"extra":1}'),
      );
      expect(r.timeUnixNano).to.equal(7n);
      expect(r.body).to.deep.equal({
        type: 'kvlist',
        values: [
          { key: 'd', value: { type: 'double', value: -Infinity } },
          { key: 'b', value: { type: 'bytes', value: Uint8Array.from([1, 2, 3]) } },
          { key: 'n', value: { type: 'double', value: NaN } },
        ],
      });
      expect(decodeJson('logs', '{"somethingElse":[]}')).to.deep.equal({ resourceLogs: [] });
    });

    it('names the field path of bad ids', () => {
      const spanWith = (ids: string) => `{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"a"},{${ids}}]}]}]}`;
      const bad = decodeError(() => decodeJson('traces', spanWith('"traceId":"zz2f62da894332c969842dd43be0d60b"')));
      expect(bad.field).to.equal('resourceSpans[0].scopeSpans[0].spans[1].traceId');
      expect(bad.message).to.contain('resourceSpans[0].scopeSpans[0].spans[1].traceId');
      const short = decodeError(() => decodeJson('traces', spanWith('"spanId":"c36b409d447994"')));
      expect(short.field).to.equal('resourceSpans[0].scopeSpans[0].spans[1].spanId');
      expect(short.message).to.match(/16 hex characters/);
    });

    it('rejects invalid JSON, non-object tops and wrong container types', () => {
      expect(decodeError(() => decodeJson('logs', '{"resourceLogs":[')).message).to.match(/malformed JSON/);
      decodeError(() => decodeJson('logs', ''));
      expect(decodeError(() => decodeJson('logs', '[]')).message).to.match(/top level/);
      decodeError(() => decodeJson('logs', '"resourceLogs"'));
      decodeError(() => decodeJson('logs', 'null'));
      expect(decodeError(() => decodeJson('logs', '{"resourceLogs":{}}')).field).to.equal('resourceLogs');
      expect(decodeError(() => decodeJson('logs', '{"resourceLogs":[{"scopeLogs":[5]}]}')).field).to.equal(
        'resourceLogs[0].scopeLogs[0]',
      );
      expect(decodeError(() => decodeJson('logs', oneRecord('"attributes":[{"key":"k","value":{"stringValue":3}}]'))).field).to.equal(
        'resourceLogs[0].scopeLogs[0].logRecords[0].attributes[0].value.stringValue',
      );
      expect(decodeError(() => decodeJson('logs', oneRecord('"body":{"bytesValue":"not base64!"}'))).field).to.match(/body\.bytesValue$/);
    });

    it('limits AnyValue nesting depth', () => {
      expect(record(oneRecord(`"body":${nestedJsonBody(31)}`)).body.type).to.equal('array');
      const deep = decodeError(() => record(oneRecord(`"body":${nestedJsonBody(32)}`)));
      expect(deep.message).to.match(/deeper than 32/);
      expect(deep.field).to.match(/^resourceLogs\[0\]\.scopeLogs\[0\]\.logRecords\[0\]\.body(\.arrayValue\.values\[0\])+$/);
      expect(decodeJson('logs', oneRecord(`"body":${nestedJsonBody(32)}`), { maxDepth: 40 }).resourceLogs).to.have.length(1);
      decodeError(() => decodeJson('logs', oneRecord(`"body":${nestedJsonBody(5)}`), { maxDepth: 4 }));
      // Hostile depth, through JSON.parse and through the lossless fallback (forced by a big-number look-alike in a string).
      decodeError(() => decodeJson('logs', oneRecord(`"body":${nestedJsonBody(200_000)}`)));
      const fallback = `"severityText":"a: 12345678901234567]","timeUnixNano":1795315549135000001,"body":${nestedJsonBody(200_000)}`;
      expect(decodeError(() => decodeJson('logs', oneRecord(fallback))).message).to.match(/JSON nested too deeply/);
    });
  });

  describe('protobuf rules', () => {
    it('ignores unknown fields of every wire type', () => {
      const withUnknown = writer()
        .uint32((1 << 3) | 1).fixed64('1795315549135000001')
        .uint32((100 << 3) | 0).uint64(12345)
        .uint32((101 << 3) | 2).bytes(Uint8Array.from([1, 2, 3]))
        .uint32((102 << 3) | 5).fixed32(7)
        .uint32((103 << 3) | 1).double(1.5)
        .uint32((104 << 3) | 3).uint32((1 << 3) | 0).uint32(1).uint32((104 << 3) | 4) // a group
        .uint32((5 << 3) | 2).bytes(writer().uint32(10).string('hi').uint32((9 << 3) | 0).uint32(1).finish())
        .finish();
      const r = decodeProtobuf('logs', wrapLogRecord(withUnknown)).resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!;
      expect(r.timeUnixNano).to.equal(1795315549135000001n);
      expect(r.body).to.deep.equal({ type: 'string', value: 'hi' });
    });

    it('decodes non-ASCII strings exactly, whatever was decoded before', () => {
      // "Ã©" decodes to two chars whose codes equal the two bytes of "é": a string cache keyed on
      // byte-to-char equality must never hand one out for the other.
      for (let i = 0; i < 20_000; i++) {
        const suffix = i.toString(36);
        const record = writer()
          .uint32(50).fork().uint32(10).string('a').uint32(18).fork().uint32(10).string(`${suffix}Ã©`).ldelim().ldelim()
          .uint32(50).fork().uint32(10).string('b').uint32(18).fork().uint32(10).string(`${suffix}é`).ldelim().ldelim()
          .finish();
        const attrs = decodeProtobuf('logs', wrapLogRecord(record)).resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.attributes;
        if (attrs[1]!.value.type !== 'string' || attrs[1]!.value.value !== `${suffix}é`) {
          expect.fail(`decoded ${JSON.stringify(attrs[1]!.value)} for ${suffix}é`);
        }
      }
    });

    it('accepts packed and unpacked repeated scalars', () => {
      const point = (counts: Uint8Array) => {
        const histogram = writer().uint32(10).bytes(counts).uint32(16).int32(2).finish();
        const metric = writer().uint32(10).string('h').uint32(74).bytes(histogram).finish();
        const scopeMetrics = writer().uint32(18).bytes(metric).finish();
        const resourceMetrics = writer().uint32(18).bytes(scopeMetrics).finish();
        const req = writer().uint32(10).bytes(resourceMetrics).finish();
        return decodeProtobuf('metrics', req).resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!.data;
      };
      const unpacked = writer().uint32(49).fixed64(3).uint32(49).fixed64(4).uint32(57).double(1.5).finish();
      const packed = writer().uint32(50).fork().fixed64(3).fixed64(4).ldelim().uint32(58).fork().double(1.5).ldelim().finish();
      for (const data of [point(unpacked), point(packed)]) {
        if (data.type !== 'histogram') expect.fail('expected a histogram');
        expect(data.aggregationTemporality).to.equal(2);
        expect(data.dataPoints[0]!.bucketCounts).to.deep.equal([3n, 4n]);
        expect(data.dataPoints[0]!.explicitBounds).to.deep.equal([1.5]);
      }
    });

    it('rejects known fields with the wrong wire type', () => {
      const record = writer().uint32((1 << 3) | 0).uint64(5).finish(); // time_unix_nano as a varint
      const err = decodeError(() => decodeProtobuf('logs', wrapLogRecord(record)));
      expect(err.message).to.match(/wrong wire type 0 for field 1/);
      expect(err.field).to.equal('resourceLogs[0].scopeLogs[0].logRecords[0]');
    });

    it('rejects ids of the wrong length, with their path', () => {
      const badTrace = writer().uint32(74).bytes(new Uint8Array(15)).finish();
      const err = decodeError(() => decodeProtobuf('logs', wrapLogRecord(badTrace)));
      expect(err.field).to.equal('resourceLogs[0].scopeLogs[0].logRecords[0].traceId');
      expect(err.message).to.match(/16 bytes/);
      const badParent = writer().uint32(10).bytes(new Uint8Array(16).fill(1)).uint32(34).bytes(new Uint8Array(7)).finish();
      expect(decodeError(() => decodeProtobuf('traces', wrapSpan(badParent))).field).to.equal(
        'resourceSpans[0].scopeSpans[0].spans[0].parentSpanId',
      );
      const good = writer().uint32(10).bytes(new Uint8Array(16).fill(0xab)).uint32(34).bytes(new Uint8Array(0)).finish();
      const span = decodeProtobuf('traces', wrapSpan(good)).resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
      expect([span.traceId, span.parentSpanId]).to.deep.equal(['ab'.repeat(16), '']);
    });

    it('rejects garbage with DecodeError and nothing else', () => {
      decodeError(() => decodeProtobuf('logs', Buffer.from('this is not protobuf')));
      decodeError(() => decodeProtobuf('metrics', Buffer.alloc(11, 0xff)));
      decodeError(() => decodeProtobuf('traces', Uint8Array.from([0x0a, 0x05, 0x01])));
      decodeError(() => decodeProtobuf('logs', Uint8Array.from([0x0f])));
      fc.assert(
        fc.property(fc.constantFrom<Signal>('logs', 'metrics', 'traces'), fc.uint8Array({ maxLength: 200 }), (signal, bytes) => {
          try {
            decodeProtobuf(signal, bytes);
          } catch (err) {
            expect(err).to.be.instanceOf(DecodeError);
          }
        }),
        { numRuns: 3000 },
      );
      expect(decodeProtobuf('logs', new Uint8Array(0))).to.deep.equal({ resourceLogs: [] });
    });

    it('limits AnyValue nesting depth, even against hostile depth', () => {
      const body = (levels: number) => wrapLogRecord(writer().uint32(42).bytes(nestedArrayValue(levels)).finish());
      expect(decodeProtobuf('logs', body(31)).resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.body.type).to.equal('array');
      expect(decodeError(() => decodeProtobuf('logs', body(32))).message).to.match(/deeper than 32/);
      expect(decodeProtobuf('logs', body(32), { maxDepth: 33 }).resourceLogs).to.have.length(1);
      expect(decodeError(() => decodeProtobuf('logs', body(100_000))).message).to.match(/deeper than 32/);
    });
  });

  describe('round trips of generated requests', () => {
    const u32 = fc.integer({ min: 0, max: 0xffffffff });
    const i32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
    const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
    const i64 = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
    const text = fc.string({ unit: 'grapheme', maxLength: 10 });
    const dbl = fc.double().map((d) => (Object.is(d, -0) ? 0 : d));
    const id = (bytes: number) =>
      fc.option(fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => Buffer.from(b).toString('hex')), { nil: '' });
    const { value: anyValue } = fc.letrec<{ value: AnyValue; kv: KeyValue }>((tie) => ({
      value: fc.oneof(
        { maxDepth: 4, depthIdentifier: 'any' },
        fc.constant<AnyValue>({ type: 'empty' }),
        text.map((value): AnyValue => ({ type: 'string', value })),
        fc.boolean().map((value): AnyValue => ({ type: 'bool', value })),
        i64.map((value): AnyValue => ({ type: 'int', value })),
        dbl.map((value): AnyValue => ({ type: 'double', value })),
        fc.uint8Array({ maxLength: 6 }).map((value): AnyValue => ({ type: 'bytes', value })),
        fc.array(tie('value'), { maxLength: 3, depthIdentifier: 'any' }).map((values): AnyValue => ({ type: 'array', values })),
        fc.array(tie('kv'), { maxLength: 3, depthIdentifier: 'any' }).map((values): AnyValue => ({ type: 'kvlist', values })),
      ),
      kv: fc.record({ key: text, value: tie('value') }),
    }));
    const attributes = fc.array(fc.record({ key: text, value: anyValue }), { maxLength: 3 });
    const scope = fc.record({ name: text, version: text, attributes, droppedAttributesCount: u32 });
    const resource = fc.record({ attributes, droppedAttributesCount: u32 });
    const few = <T>(arb: fc.Arbitrary<T>) => fc.array(arb, { maxLength: 2 });

    const logs: fc.Arbitrary<ExportLogsServiceRequest> = fc.record({
      resourceLogs: few(
        fc.record({
          resource,
          schemaUrl: text,
          scopeLogs: few(
            fc.record({
              scope,
              schemaUrl: text,
              logRecords: few(
                fc.record({
                  timeUnixNano: u64,
                  observedTimeUnixNano: u64,
                  severityNumber: i32,
                  severityText: text,
                  body: anyValue,
                  attributes,
                  droppedAttributesCount: u32,
                  flags: u32,
                  traceId: id(16),
                  spanId: id(8),
                  eventName: text,
                }),
              ),
            }),
          ),
        }),
      ),
    });

    const traces: fc.Arbitrary<ExportTraceServiceRequest> = fc.record({
      resourceSpans: few(
        fc.record({
          resource,
          schemaUrl: text,
          scopeSpans: few(
            fc.record({
              scope,
              schemaUrl: text,
              spans: few(
                fc.record({
                  traceId: id(16),
                  spanId: id(8),
                  traceState: text,
                  parentSpanId: id(8),
                  flags: u32,
                  name: text,
                  kind: i32,
                  startTimeUnixNano: u64,
                  endTimeUnixNano: u64,
                  attributes,
                  droppedAttributesCount: u32,
                  events: few(fc.record({ timeUnixNano: u64, name: text, attributes, droppedAttributesCount: u32 })),
                  droppedEventsCount: u32,
                  links: few(
                    fc.record({ traceId: id(16), spanId: id(8), traceState: text, attributes, droppedAttributesCount: u32, flags: u32 }),
                  ),
                  droppedLinksCount: u32,
                  status: fc.record({ message: text, code: i32 }),
                }),
              ),
            }),
          ),
        }),
      ),
    });

    const numberValue = fc.oneof(
      fc.constant({}),
      dbl.map((asDouble) => ({ asDouble })),
      i64.map((asInt) => ({ asInt })),
    );
    const optionalStats = fc.record({ sum: dbl, min: dbl, max: dbl }, { requiredKeys: [] });
    const exemplars = few(
      fc
        .tuple(fc.record({ filteredAttributes: attributes, timeUnixNano: u64, spanId: id(8), traceId: id(16) }), numberValue)
        .map(([e, v]) => ({ ...e, ...v })),
    );
    const pointBase = { attributes, startTimeUnixNano: u64, timeUnixNano: u64 };
    const numberPoint = fc.tuple(fc.record({ ...pointBase, exemplars, flags: u32 }), numberValue).map(([p, v]) => ({ ...p, ...v }));
    const buckets = fc.record({ offset: i32, bucketCounts: fc.array(u64, { maxLength: 4 }) });
    const data: fc.Arbitrary<Metric['data']> = fc.oneof(
      fc.constant({ type: 'none' as const }),
      fc.record({ type: fc.constant('gauge' as const), dataPoints: few(numberPoint) }),
      fc.record({ type: fc.constant('sum' as const), dataPoints: few(numberPoint), aggregationTemporality: i32, isMonotonic: fc.boolean() }),
      fc.record({
        type: fc.constant('histogram' as const),
        aggregationTemporality: i32,
        dataPoints: few(
          fc
            .tuple(
              fc.record({
                ...pointBase,
                count: u64,
                bucketCounts: fc.array(u64, { maxLength: 4 }),
                explicitBounds: fc.array(dbl, { maxLength: 4 }),
                exemplars,
                flags: u32,
              }),
              optionalStats,
            )
            .map(([p, s]) => ({ ...p, ...s })),
        ),
      }),
      fc.record({
        type: fc.constant('exponential_histogram' as const),
        aggregationTemporality: i32,
        dataPoints: few(
          fc
            .tuple(
              fc.record({
                ...pointBase,
                count: u64,
                scale: i32,
                zeroCount: u64,
                positive: buckets,
                negative: buckets,
                flags: u32,
                exemplars,
                zeroThreshold: dbl,
              }),
              optionalStats,
            )
            .map(([p, s]) => ({ ...p, ...s })),
        ),
      }),
      fc.record({
        type: fc.constant('summary' as const),
        dataPoints: few(
          fc.record({
            ...pointBase,
            count: u64,
            sum: dbl,
            quantileValues: few(fc.record({ quantile: dbl, value: dbl })),
            flags: u32,
          }),
        ),
      }),
    );
    const metrics: fc.Arbitrary<ExportMetricsServiceRequest> = fc.record({
      resourceMetrics: few(
        fc.record({
          resource,
          schemaUrl: text,
          scopeMetrics: few(
            fc.record({
              scope,
              schemaUrl: text,
              metrics: few(fc.record({ name: text, description: text, unit: text, data, metadata: attributes })),
            }),
          ),
        }),
      ),
    });

    const requests = { logs, metrics, traces } as const;

    for (const signal of ['logs', 'metrics', 'traces'] as const) {
      it(`${signal}: decodeProtobuf(encodeRequest(x)) equals x`, () => {
        fc.assert(
          fc.property(requests[signal] as fc.Arbitrary<unknown>, (req) => {
            const bytes = encodeRequest(signal, req as never);
            expect(decodeProtobuf(signal, bytes, { maxDepth: 64 })).to.deep.equal(req);
          }),
          { numRuns: 300 },
        );
      });

      it(`${signal}: decodeJson(OTLP/JSON of x) equals x, in every key, id and number style`, () => {
        fc.assert(
          fc.property(
            requests[signal] as fc.Arbitrary<unknown>,
            fc.record({ snake: fc.boolean(), unquoted: fc.boolean(), upperIds: fc.boolean() }),
            (req, style) => {
              expect(decodeJson(signal, toOtlpJson(req, style), { maxDepth: 64 })).to.deep.equal(req);
            },
          ),
          { numRuns: 300 },
        );
      });
    }
  });

  describe('real OpenTelemetry JS SDK serializers', () => {
    const resource = resourceFromAttributes({ 'service.name': 'codec-test', 'tenant.id': 'acme' });

    it('logs: protobuf and JSON from the SDK decode to the same, expected request', () => {
      const exporter = new InMemoryLogRecordExporter();
      const provider = new LoggerProvider({ resource, processors: [new SimpleLogRecordProcessor({ exporter })] });
      provider.getLogger('codec.scope', '1.2.3').emit({
        timestamp: [1795315549, 135000001],
        severityNumber: SeverityNumber.WARN,
        severityText: 'WARN',
        body: 'claude_code.api_request',
        eventName: 'api_request',
        attributes: { input_tokens: 121, cost_usd: 0.000684, ok: true, nested: { list: [1, 'two'] } },
      });
      const records = exporter.getFinishedLogRecords();
      const pb = ProtobufLogsSerializer.serializeRequest(records)!;
      const json = Buffer.from(JsonLogsSerializer.serializeRequest(records)!).toString('utf8');
      const fromPb = decodeProtobuf('logs', pb);
      expect(fromPb).to.deep.equal(decodeJson('logs', json));
      const rl = fromPb.resourceLogs[0]!;
      expect(attr(rl.resource.attributes, 'tenant.id')).to.deep.equal({ type: 'string', value: 'acme' });
      expect(rl.scopeLogs[0]!.scope).to.include({ name: 'codec.scope', version: '1.2.3' });
      const r = rl.scopeLogs[0]!.logRecords[0]!;
      expect([r.timeUnixNano, r.severityNumber, r.severityText, r.eventName]).to.deep.equal([
        1795315549135000001n,
        SeverityNumber.WARN,
        'WARN',
        'api_request',
      ]);
      expect(r.body).to.deep.equal({ type: 'string', value: 'claude_code.api_request' });
      expect(attr(r.attributes, 'input_tokens')).to.deep.equal({ type: 'int', value: 121n });
      expect(attr(r.attributes, 'cost_usd')).to.deep.equal({ type: 'double', value: 0.000684 });
      expect(attr(r.attributes, 'nested')).to.deep.equal({
        type: 'kvlist',
        values: [{ key: 'list', value: { type: 'array', values: [{ type: 'int', value: 1n }, { type: 'string', value: 'two' }] } }],
      });
    });

    it('traces: protobuf and JSON from the SDK decode to the same, expected request', () => {
      const exporter = new InMemorySpanExporter();
      const provider = new BasicTracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor(exporter)] });
      const span = provider.getTracer('codec.tracer').startSpan('claude_code.llm_request', {
        kind: SpanKind.SERVER,
        attributes: { input_tokens: 121 },
        startTime: [1795315549, 336000000],
      });
      span.addEvent('attempt', { n: 1 }, [1795315549, 340529587]);
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
      span.end([1795315549, 360039014]);
      const spans = exporter.getFinishedSpans();
      const pb = ProtobufTraceSerializer.serializeRequest(spans)!;
      const json = Buffer.from(JsonTraceSerializer.serializeRequest(spans)!).toString('utf8');
      const fromPb = decodeProtobuf('traces', pb);
      expect(fromPb).to.deep.equal(decodeJson('traces', json));
      const s = fromPb.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
      expect(s.traceId).to.equal(span.spanContext().traceId);
      expect(s.spanId).to.equal(span.spanContext().spanId);
      expect([s.name, s.kind, s.startTimeUnixNano, s.endTimeUnixNano]).to.deep.equal([
        'claude_code.llm_request',
        2,
        1795315549336000000n,
        1795315549360039014n,
      ]);
      expect(s.status).to.deep.equal({ code: 2, message: 'boom' });
      expect(s.events[0]).to.deep.include({ name: 'attempt', timeUnixNano: 1795315549340529587n });
    });

    it('metrics: protobuf and JSON from the SDK decode to the same, expected request', async () => {
      class CollectingReader extends MetricReader {
        protected override async onForceFlush(): Promise<void> {}
        protected override async onShutdown(): Promise<void> {}
      }
      const reader = new CollectingReader();
      const provider = new MeterProvider({ resource, readers: [reader] });
      const meter = provider.getMeter('codec.meter');
      meter.createCounter('claude_code.token.usage', { unit: 'tokens' }).add(121, { type: 'input' });
      meter.createHistogram('latency').record(3.5);
      const { resourceMetrics } = await reader.collect();
      const pb = ProtobufMetricsSerializer.serializeRequest(resourceMetrics)!;
      const json = Buffer.from(JsonMetricsSerializer.serializeRequest(resourceMetrics)!).toString('utf8');
      const fromPb = decodeProtobuf('metrics', pb);
      expect(fromPb).to.deep.equal(decodeJson('metrics', json));
      const [counter, histogram] = fromPb.resourceMetrics[0]!.scopeMetrics[0]!.metrics;
      expect(counter!.name).to.equal('claude_code.token.usage');
      if (counter!.data.type !== 'sum') expect.fail('expected a sum');
      expect(counter!.data.isMonotonic).to.equal(true);
      expect(counter!.data.aggregationTemporality).to.equal(2);
      expect(counter!.data.dataPoints[0]!.asDouble).to.equal(121);
      expect(attr(counter!.data.dataPoints[0]!.attributes, 'type')).to.deep.equal({ type: 'string', value: 'input' });
      if (histogram!.data.type !== 'histogram') expect.fail('expected a histogram');
      expect(histogram!.data.dataPoints[0]).to.deep.include({ count: 1n, sum: 3.5, min: 3.5, max: 3.5 });
      await provider.shutdown();
    });

    it('the SDK reads our partial-success responses', () => {
      const pb = ProtobufLogsSerializer.deserializeResponse(encodeExportResponse('logs', { rejected: 2, errorMessage: 'two bad' }, 'protobuf'));
      expect(Number(pb.partialSuccess?.rejectedLogRecords)).to.equal(2);
      expect(pb.partialSuccess?.errorMessage).to.equal('two bad');
      const json = JsonTraceSerializer.deserializeResponse(encodeExportResponse('traces', { rejected: 3, errorMessage: 'x' }, 'json'));
      expect(Number(json.partialSuccess?.rejectedSpans)).to.equal(3);
      const ok = ProtobufMetricsSerializer.deserializeResponse(encodeExportResponse('metrics', { rejected: 0, errorMessage: '' }, 'protobuf'));
      expect(ok.partialSuccess ?? null).to.equal(null);
    });
  });

  describe('response encodings', () => {
    it('leaves partial_success unset on full success', () => {
      for (const signal of ['logs', 'metrics', 'traces'] as const) {
        const pb = encodeExportResponse(signal, { rejected: 0, errorMessage: '' }, 'protobuf');
        expect(pb.length).to.equal(0);
        expect(responseType(signal).decode(pb).toJSON()).to.deep.equal({});
        expect(encodeExportResponse(signal, { rejected: 0, errorMessage: '' }, 'json').toString()).to.equal('{}');
      }
    });

    it('sets rejected_* per signal, int64 as a string in JSON', () => {
      const cases = [
        ['logs', 'rejectedLogRecords'],
        ['metrics', 'rejectedDataPoints'],
        ['traces', 'rejectedSpans'],
      ] as const;
      for (const [signal, field] of cases) {
        const result = { rejected: 2, errorMessage: 'two records had no timestamp' };
        expect(encodeExportResponse(signal, result, 'json').toString()).to.equal(
          `{"partialSuccess":{"${field}":"2","errorMessage":"two records had no timestamp"}}`,
        );
        const type = responseType(signal);
        const decoded = type.toObject(type.decode(encodeExportResponse(signal, result, 'protobuf')), { longs: String });
        expect(decoded).to.deep.equal({ partialSuccess: { [field]: '2', errorMessage: 'two records had no timestamp' } });
      }
      const warning = encodeExportResponse('logs', { rejected: 0, errorMessage: 'heads up' }, 'json').toString();
      expect(warning).to.equal('{"partialSuccess":{"errorMessage":"heads up"}}');
    });

    it('bounds the messages it carries to MAX_MESSAGE_LENGTH characters', () => {
      const long = 'x'.repeat(100_000);
      const json = JSON.parse(encodeExportResponse('logs', { rejected: 1, errorMessage: long }, 'json').toString()) as { partialSuccess: { errorMessage: string } };
      expect(json.partialSuccess.errorMessage).to.have.length(MAX_MESSAGE_LENGTH);
      expect(json.partialSuccess.errorMessage.endsWith('…')).to.equal(true);
      const status = JSON.parse(encodeStatus({ code: 3, message: long, violations: [{ field: long, description: long }] }, 'json').toString()) as {
        message: string; details: { fieldViolations: { field: string; description: string }[] }[];
      };
      expect(status.message).to.have.length(MAX_MESSAGE_LENGTH);
      expect(status.details[0]!.fieldViolations[0]!.description).to.have.length(MAX_MESSAGE_LENGTH);
      expect(encodeStatus({ code: 3, message: long }, 'protobuf').length).to.be.below(MAX_MESSAGE_LENGTH + 16);
      expect(boundedMessage('short')).to.equal('short');
    });

    it('encodes google.rpc.Status with RetryInfo and BadRequest', () => {
      const status = {
        code: 14,
        message: 'busy',
        retryDelaySeconds: 1.5,
        violations: [{ field: 'resourceLogs[0].logRecords[1].traceId', description: 'bad id' }],
      };
      const pb = encodeStatus(status, 'protobuf');
      expect(encodeStatusDetailsBin(status).equals(pb)).to.equal(true);
      const Status = protoRoot.lookupType('google.rpc.Status');
      const decoded = Status.toObject(Status.decode(pb), { longs: Number }) as {
        code: number;
        message: string;
        details: { type_url: string; value: Uint8Array }[];
      };
      expect([decoded.code, decoded.message]).to.deep.equal([14, 'busy']);
      expect(decoded.details.map((d) => d.type_url)).to.deep.equal([
        'type.googleapis.com/google.rpc.RetryInfo',
        'type.googleapis.com/google.rpc.BadRequest',
      ]);
      const RetryInfo = protoRoot.lookupType('google.rpc.RetryInfo');
      expect(RetryInfo.toObject(RetryInfo.decode(decoded.details[0]!.value), { longs: Number })).to.deep.equal({
        retryDelay: { seconds: 1, nanos: 500_000_000 },
      });
      const BadRequest = protoRoot.lookupType('google.rpc.BadRequest');
      expect(BadRequest.toObject(BadRequest.decode(decoded.details[1]!.value))).to.deep.equal({ fieldViolations: status.violations });

      expect(encodeStatus({ code: 14, message: 'busy', retryDelaySeconds: 5 }, 'json').toString()).to.equal(
        '{"code":14,"message":"busy","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"5s"}]}',
      );
      expect(JSON.parse(encodeStatus(status, 'json').toString())).to.deep.equal({
        code: 14,
        message: 'busy',
        details: [
          { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '1.500s' },
          { '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: status.violations },
        ],
      });
      expect(encodeStatus({ code: 3, message: 'bad' }, 'json').toString()).to.equal('{"code":3,"message":"bad"}');
      expect(Status.toObject(Status.decode(encodeStatus({ code: 3, message: 'bad' }, 'protobuf')))).to.deep.equal({
        code: 3,
        message: 'bad',
      });
    });
  });
});

/** Test-only OTLP/JSON writer: the shapes of types.ts in any accepted key, id and 64-bit number style. */
function toOtlpJson(req: unknown, style: { snake: boolean; unquoted: boolean; upperIds: boolean }): string {
  const key = (k: string) => (style.snake ? k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`) : k);
  const num = (n: number): unknown => (Number.isNaN(n) ? 'NaN' : n === Infinity ? 'Infinity' : n === -Infinity ? '-Infinity' : n);
  const int = (n: bigint): unknown => (style.unquoted ? n : n.toString());
  const anyValue = (v: AnyValue): unknown => {
    switch (v.type) {
      case 'string':
        return { [key('stringValue')]: v.value };
      case 'bool':
        return { [key('boolValue')]: v.value };
      case 'int':
        return { [key('intValue')]: int(v.value) };
      case 'double':
        return { [key('doubleValue')]: num(v.value) };
      case 'bytes':
        return { [key('bytesValue')]: Buffer.from(v.value).toString('base64') };
      case 'array':
        return { [key('arrayValue')]: { values: v.values.map(anyValue) } };
      case 'kvlist':
        return { [key('kvlistValue')]: { values: v.values.map((kv) => ({ key: kv.key, value: anyValue(kv.value) })) } };
      case 'empty':
        return {};
    }
  };
  const walk = (v: unknown, k: string): unknown => {
    if (typeof v === 'bigint') return int(v);
    if (typeof v === 'number') return num(v);
    if (typeof v === 'string') return style.upperIds && /^(traceId|spanId|parentSpanId)$/.test(k) ? v.toUpperCase() : v;
    if (Array.isArray(v)) return v.map((item) => walk(item, k));
    if (typeof v !== 'object' || v === null) return v;
    if (k === 'body' || k === 'value') return anyValue(v as AnyValue);
    const out: Record<string, unknown> = {};
    for (const [field, item] of Object.entries(v)) {
      if (field === 'data') {
        const { type, ...rest } = item as { type: string };
        if (type !== 'none') out[key(type === 'exponential_histogram' ? 'exponentialHistogram' : type)] = walk(rest, '');
      } else {
        out[key(field)] = walk(item, field);
      }
    }
    return out;
  };
  return losslessStringify(walk(req, '')) as string;
}
