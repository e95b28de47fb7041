import { at } from './decode-path.js';
import { keyValues, list, message } from './json-common.js';
import {
  arr,
  double,
  hexId,
  int32,
  optionalDouble,
  optionalInt64,
  pick,
  uint32,
  uint64,
  type Json,
} from './json-values.js';
import type {
  Exemplar,
  ExponentialHistogramBuckets,
  ExponentialHistogramDataPoint,
  HistogramDataPoint,
  NumberDataPoint,
  SummaryDataPoint,
} from './types.js';

/** Fields every data point kind shares. */
function pointBase(o: Json) {
  return {
    attributes: keyValues(o['attributes'], 1, 'attributes'),
    startTimeUnixNano: uint64(pick(o, 'startTimeUnixNano', 'start_time_unix_nano'), 'startTimeUnixNano'),
    timeUnixNano: uint64(pick(o, 'timeUnixNano', 'time_unix_nano'), 'timeUnixNano'),
  };
}

/** Sets the `value` oneof (asDouble / asInt) only when present, as the protobuf decoder does. */
function setValue(target: { asDouble?: number; asInt?: bigint }, o: Json): void {
  const asDouble = optionalDouble(pick(o, 'asDouble', 'as_double'), 'asDouble');
  if (asDouble !== undefined) {
    target.asDouble = asDouble;
    return;
  }
  const asInt = optionalInt64(pick(o, 'asInt', 'as_int'), 'asInt');
  if (asInt !== undefined) target.asInt = asInt;
}

/** Sets proto3 `optional` doubles only when present. */
function setOptional(target: { sum?: number; min?: number; max?: number }, o: Json): void {
  for (const key of ['sum', 'min', 'max'] as const) {
    const v = optionalDouble(o[key], key);
    if (v !== undefined) target[key] = v;
  }
}

export function numberPoint(o: Json): NumberDataPoint {
  const p: NumberDataPoint = { ...pointBase(o), exemplars: exemplars(o), flags: uint32(o['flags'], 'flags') };
  setValue(p, o);
  return p;
}

export function histogramPoint(o: Json): HistogramDataPoint {
  const p: HistogramDataPoint = {
    ...pointBase(o),
    count: uint64(o['count'], 'count'),
    bucketCounts: uint64s(pick(o, 'bucketCounts', 'bucket_counts'), 'bucketCounts'),
    explicitBounds: doubles(pick(o, 'explicitBounds', 'explicit_bounds'), 'explicitBounds'),
    exemplars: exemplars(o),
    flags: uint32(o['flags'], 'flags'),
  };
  setOptional(p, o);
  return p;
}

export function exponentialPoint(o: Json): ExponentialHistogramDataPoint {
  const p: ExponentialHistogramDataPoint = {
    ...pointBase(o),
    count: uint64(o['count'], 'count'),
    scale: int32(o['scale'], 'scale'),
    zeroCount: uint64(pick(o, 'zeroCount', 'zero_count'), 'zeroCount'),
    positive: message(o['positive'], 'positive', buckets, emptyBuckets),
    negative: message(o['negative'], 'negative', buckets, emptyBuckets),
    flags: uint32(o['flags'], 'flags'),
    exemplars: exemplars(o),
    zeroThreshold: double(pick(o, 'zeroThreshold', 'zero_threshold'), 'zeroThreshold'),
  };
  setOptional(p, o);
  return p;
}

const emptyBuckets = (): ExponentialHistogramBuckets => ({ offset: 0, bucketCounts: [] });

function buckets(o: Json): ExponentialHistogramBuckets {
  return {
    offset: int32(o['offset'], 'offset'),
    bucketCounts: uint64s(pick(o, 'bucketCounts', 'bucket_counts'), 'bucketCounts'),
  };
}

export function summaryPoint(o: Json): SummaryDataPoint {
  return {
    ...pointBase(o),
    count: uint64(o['count'], 'count'),
    sum: double(o['sum'], 'sum'),
    quantileValues: list(pick(o, 'quantileValues', 'quantile_values'), 'quantileValues', (q) => ({
      quantile: double(q['quantile'], 'quantile'),
      value: double(q['value'], 'value'),
    })),
    flags: uint32(o['flags'], 'flags'),
  };
}

function exemplars(o: Json): Exemplar[] {
  return list(o['exemplars'], 'exemplars', exemplar);
}

function exemplar(o: Json): Exemplar {
  const e: Exemplar = {
    filteredAttributes: keyValues(pick(o, 'filteredAttributes', 'filtered_attributes'), 1, 'filteredAttributes'),
    timeUnixNano: uint64(pick(o, 'timeUnixNano', 'time_unix_nano'), 'timeUnixNano'),
    spanId: hexId(pick(o, 'spanId', 'span_id'), 8, 'spanId'),
    traceId: hexId(pick(o, 'traceId', 'trace_id'), 16, 'traceId'),
  };
  setValue(e, o);
  return e;
}

function uint64s(v: unknown, field: string): bigint[] {
  const items = arr(v, field);
  const out: bigint[] = [];
  for (let i = 0; i < items.length; i++) {
    try {
      out.push(uint64(items[i], ''));
    } catch (err) {
      throw at(err, field, i);
    }
  }
  return out;
}

function doubles(v: unknown, field: string): number[] {
  const items = arr(v, field);
  const out: number[] = [];
  for (let i = 0; i < items.length; i++) {
    try {
      out.push(double(items[i], ''));
    } catch (err) {
      throw at(err, field, i);
    }
  }
  return out;
}
