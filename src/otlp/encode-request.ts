import { decodeJson } from './decode-json.js';
import { requestType } from './proto.js';
import type { AnyValue, KeyValue, Signal, SignalRequest } from './types.js';

/**
 * Request encoders for tests, benchmarks and tools: the decoded shapes of types.ts back to protobuf bytes.
 * Not on the receive path, so clarity wins over speed here.
 */
export function encodeRequest<S extends Signal>(signal: S, request: SignalRequest[S]): Buffer {
  const plain = toProtobufjs(request);
  return Buffer.from(requestType(signal).encode(plain as Record<string, unknown>).finish());
}

/** Converts an OTLP/JSON request text to protobuf bytes (via decodeJson, so it accepts what the receiver accepts). */
export function encodeRequestProtobuf(signal: Signal, jsonText: string): Buffer {
  return encodeRequest(signal, decodeJson(signal, jsonText));
}

const ID_FIELDS = new Set(['traceId', 'spanId', 'parentSpanId']);

/**
 * protobufjs wants ids as bytes, 64-bit values as {low, high} (it has no bigint support), AnyValue as its
 * oneof members and Metric data under the member's name.
 */
function toProtobufjs(v: unknown, key = ''): unknown {
  if (typeof v === 'bigint') return { low: Number(BigInt.asUintN(32, v)), high: Number(BigInt.asUintN(32, v >> 32n)) };
  if (typeof v === 'string') return ID_FIELDS.has(key) ? Buffer.from(v, 'hex') : v;
  if (Array.isArray(v)) return v.map((item) => toProtobufjs(item, key));
  if (v instanceof Uint8Array || typeof v !== 'object' || v === null) return v;
  if (key === 'body' || key === 'value') return anyValue(v as AnyValue);
  const out: Record<string, unknown> = {};
  for (const [k, item] of Object.entries(v)) {
    if (item === undefined) continue;
    if (k === 'data') setMetricData(out, item as { type: string });
    else out[k] = toProtobufjs(item, k);
  }
  return out;
}

function anyValue(v: AnyValue): Record<string, unknown> {
  switch (v.type) {
    case 'string':
      return { stringValue: v.value };
    case 'bool':
      return { boolValue: v.value };
    case 'int':
      return { intValue: toProtobufjs(v.value) };
    case 'double':
      return { doubleValue: v.value };
    case 'bytes':
      return { bytesValue: v.value };
    case 'array':
      return { arrayValue: { values: v.values.map(anyValue) } };
    case 'kvlist':
      return { kvlistValue: { values: v.values.map(keyValue) } };
    case 'empty':
      return {};
  }
}

function keyValue(kv: KeyValue): Record<string, unknown> {
  return { key: kv.key, value: anyValue(kv.value) };
}

const DATA_MEMBER: Record<string, string> = {
  gauge: 'gauge',
  sum: 'sum',
  histogram: 'histogram',
  exponential_histogram: 'exponentialHistogram',
  summary: 'summary',
};

function setMetricData(metric: Record<string, unknown>, data: { type: string }): void {
  const member = DATA_MEMBER[data.type];
  if (member === undefined) return;
  const { type: _type, ...fields } = data;
  metric[member] = toProtobufjs(fields);
}
