import { emptyResource, emptyScope, keyValues, list, message, resource, schemaUrl, scope } from './json-common.js';
import { at } from './decode-path.js';
import {
  arr,
  bool,
  double,
  enumValue,
  hexId,
  int32,
  obj,
  optionalDouble,
  optionalInt64,
  pick,
  str,
  uint32,
  uint64,
  type Json,
} from './json-values.js';
import { enumValues } from './proto.js';
import type {
  Exemplar,
  ExponentialHistogramBuckets,
  ExponentialHistogramDataPoint,
  ExportMetricsServiceRequest,
  HistogramDataPoint,
  Metric,
  MetricData,
  NumberDataPoint,
  ResourceMetrics,
  ScopeMetrics,
  SummaryDataPoint,
} from './types.js';

const TEMPORALITY = enumValues('opentelemetry.proto.metrics.v1.AggregationTemporality');

export function metricsRequest(o: Json): ExportMetricsServiceRequest {
  return { resourceMetrics: list(pick(o, 'resourceMetrics', 'resource_metrics'), 'resourceMetrics', resourceMetrics) };
}

function resourceMetrics(o: Json): ResourceMetrics {
  return {
    resource: message(o['resource'], 'resource', resource, emptyResource),
    scopeMetrics: list(pick(o, 'scopeMetrics', 'scope_metrics'), 'scopeMetrics', scopeMetrics),
    schemaUrl: schemaUrl(o),
  };
}

function scopeMetrics(o: Json): ScopeMetrics {
  return {
    scope: message(o['scope'], 'scope', scope, emptyScope),
    metrics: list(o['metrics'], 'metrics', metric),
    schemaUrl: schemaUrl(o),
  };
}

const none = (): MetricData => ({ type: 'none' });

function metric(o: Json): Metric {
  let data: MetricData = none();
  let x: unknown;
  // `data` is a oneof: the first member present, in field order, is taken.
  if ((x = o['gauge']) != null) data = message(x, 'gauge', gauge, none);
  else if ((x = o['sum']) != null) data = message(x, 'sum', sum, none);
  else if ((x = o['histogram']) != null) data = message(x, 'histogram', histogram, none);
  else if ((x = pick(o, 'exponentialHistogram', 'exponential_histogram')) != null) {
    data = message(x, 'exponentialHistogram', exponentialHistogram, none);
  } else if ((x = o['summary']) != null) data = message(x, 'summary', summary, none);
  return {
    name: str(o['name'], 'name'),
    description: str(o['description'], 'description'),
    unit: str(o['unit'], 'unit'),
    data,
    metadata: keyValues(o['metadata'], 1, 'metadata'),
  };
}

const dataPoints = <T>(o: Json, decode: (p: Json) => T): T[] =>
  list(pick(o, 'dataPoints', 'data_points'), 'dataPoints', decode);

const temporality = (o: Json): number =>
  enumValue(pick(o, 'aggregationTemporality', 'aggregation_temporality'), TEMPORALITY, 'aggregationTemporality');

function gauge(o: Json): MetricData {
  return { type: 'gauge', dataPoints: dataPoints(o, numberPoint) };
}

function sum(o: Json): MetricData {
  return {
    type: 'sum',
    dataPoints: dataPoints(o, numberPoint),
    aggregationTemporality: temporality(o),
    isMonotonic: bool(pick(o, 'isMonotonic', 'is_monotonic'), 'isMonotonic'),
  };
}

function histogram(o: Json): MetricData {
  return { type: 'histogram', dataPoints: dataPoints(o, histogramPoint), aggregationTemporality: temporality(o) };
}

function exponentialHistogram(o: Json): MetricData {
  return { type: 'exponential_histogram', dataPoints: dataPoints(o, exponentialPoint), aggregationTemporality: temporality(o) };
}

function summary(o: Json): MetricData {
  return { type: 'summary', dataPoints: dataPoints(o, summaryPoint) };
}

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

function numberPoint(o: Json): NumberDataPoint {
  const p: NumberDataPoint = { ...pointBase(o), exemplars: exemplars(o), flags: uint32(o['flags'], 'flags') };
  setValue(p, o);
  return p;
}

function histogramPoint(o: Json): HistogramDataPoint {
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

function exponentialPoint(o: Json): ExponentialHistogramDataPoint {
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
  return { offset: int32(o['offset'], 'offset'), bucketCounts: uint64s(pick(o, 'bucketCounts', 'bucket_counts'), 'bucketCounts') };
}

function summaryPoint(o: Json): SummaryDataPoint {
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
