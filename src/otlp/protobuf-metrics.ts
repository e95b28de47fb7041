import { emptyResource, emptyScope, pushKeyValue, resource, scope } from './protobuf-common.js';
import {
  checkEnd,
  fieldMask,
  fixed64,
  id,
  message,
  packedDouble,
  packedFixed64,
  packedUint64,
  pushMessage,
  sfixed64,
  skipUnknown,
  string,
  type Reader,
} from './protobuf-wire.js';
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

const REQUEST_FIELDS = fieldMask(1);
const CONTAINER_FIELDS = fieldMask(1, 2, 3);
const METRIC_FIELDS = fieldMask(1, 2, 3, 5, 7, 9, 10, 11, 12);
const DATA_FIELDS = fieldMask(1, 2, 3);
const NUMBER_POINT_FIELDS = fieldMask(2, 3, 4, 5, 6, 7, 8);
const HISTOGRAM_POINT_FIELDS = fieldMask(2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
const EXP_POINT_FIELDS = fieldMask(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14);
const BUCKETS_FIELDS = fieldMask(1, 2);
const SUMMARY_POINT_FIELDS = fieldMask(2, 3, 4, 5, 6, 7, 8);
const QUANTILE_FIELDS = fieldMask(1, 2);
const EXEMPLAR_FIELDS = fieldMask(2, 3, 4, 5, 6, 7);

export function metricsRequest(r: Reader, end: number): ExportMetricsServiceRequest {
  const resourceMetrics: ResourceMetrics[] = [];
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 10) pushMessage(r, end, resourceMetrics, 'resourceMetrics', decodeResourceMetrics);
    else skipUnknown(r, tag, REQUEST_FIELDS);
  }
  checkEnd(r, end);
  return { resourceMetrics };
}

function decodeResourceMetrics(r: Reader, end: number): ResourceMetrics {
  const out: ResourceMetrics = { resource: emptyResource(), scopeMetrics: [], schemaUrl: '' };
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 10) out.resource = message(r, end, 'resource', resource);
    else if (tag === 18) pushMessage(r, end, out.scopeMetrics, 'scopeMetrics', decodeScopeMetrics);
    else if (tag === 26) out.schemaUrl = string(r);
    else skipUnknown(r, tag, CONTAINER_FIELDS);
  }
  checkEnd(r, end);
  return out;
}

function decodeScopeMetrics(r: Reader, end: number): ScopeMetrics {
  const out: ScopeMetrics = { scope: emptyScope(), metrics: [], schemaUrl: '' };
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 10) out.scope = message(r, end, 'scope', scope);
    else if (tag === 18) pushMessage(r, end, out.metrics, 'metrics', metric);
    else if (tag === 26) out.schemaUrl = string(r);
    else skipUnknown(r, tag, CONTAINER_FIELDS);
  }
  checkEnd(r, end);
  return out;
}

function metric(r: Reader, end: number): Metric {
  const m: Metric = { name: '', description: '', unit: '', data: { type: 'none' }, metadata: [] };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 10: // 1 name
        m.name = string(r);
        break;
      case 18: // 2 description
        m.description = string(r);
        break;
      case 26: // 3 unit
        m.unit = string(r);
        break;
      case 42: // 5 gauge
        m.data = message(r, end, 'gauge', gauge);
        break;
      case 58: // 7 sum
        m.data = message(r, end, 'sum', sum);
        break;
      case 74: // 9 histogram
        m.data = message(r, end, 'histogram', histogram);
        break;
      case 82: // 10 exponential_histogram
        m.data = message(r, end, 'exponentialHistogram', exponentialHistogram);
        break;
      case 90: // 11 summary
        m.data = message(r, end, 'summary', summary);
        break;
      case 98: // 12 metadata
        pushKeyValue(r, end, 1, m.metadata, 'metadata');
        break;
      default:
        skipUnknown(r, tag, METRIC_FIELDS);
    }
  }
  checkEnd(r, end);
  return m;
}

function gauge(r: Reader, end: number): MetricData {
  const data: MetricData & { type: 'gauge' } = { type: 'gauge', dataPoints: [] };
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 10) pushMessage(r, end, data.dataPoints, 'dataPoints', numberPoint);
    else skipUnknown(r, tag, DATA_FIELDS);
  }
  checkEnd(r, end);
  return data;
}

function sum(r: Reader, end: number): MetricData {
  const data: MetricData & { type: 'sum' } = { type: 'sum', dataPoints: [], aggregationTemporality: 0, isMonotonic: false };
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 10) pushMessage(r, end, data.dataPoints, 'dataPoints', numberPoint);
    else if (tag === 16) data.aggregationTemporality = r.int32();
    else if (tag === 24) data.isMonotonic = r.bool();
    else skipUnknown(r, tag, DATA_FIELDS);
  }
  checkEnd(r, end);
  return data;
}

function histogram(r: Reader, end: number): MetricData {
  const data: MetricData & { type: 'histogram' } = { type: 'histogram', dataPoints: [], aggregationTemporality: 0 };
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 10) pushMessage(r, end, data.dataPoints, 'dataPoints', histogramPoint);
    else if (tag === 16) data.aggregationTemporality = r.int32();
    else skipUnknown(r, tag, DATA_FIELDS);
  }
  checkEnd(r, end);
  return data;
}

function exponentialHistogram(r: Reader, end: number): MetricData {
  const data: MetricData & { type: 'exponential_histogram' } = {
    type: 'exponential_histogram',
    dataPoints: [],
    aggregationTemporality: 0,
  };
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 10) pushMessage(r, end, data.dataPoints, 'dataPoints', exponentialPoint);
    else if (tag === 16) data.aggregationTemporality = r.int32();
    else skipUnknown(r, tag, DATA_FIELDS);
  }
  checkEnd(r, end);
  return data;
}

function summary(r: Reader, end: number): MetricData {
  const data: MetricData & { type: 'summary' } = { type: 'summary', dataPoints: [] };
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 10) pushMessage(r, end, data.dataPoints, 'dataPoints', summaryPoint);
    else skipUnknown(r, tag, DATA_FIELDS);
  }
  checkEnd(r, end);
  return data;
}

function numberPoint(r: Reader, end: number): NumberDataPoint {
  const p: NumberDataPoint = { attributes: [], startTimeUnixNano: 0n, timeUnixNano: 0n, exemplars: [], flags: 0 };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 58: // 7 attributes
        pushKeyValue(r, end, 1, p.attributes, 'attributes');
        break;
      case 17: // 2 start_time_unix_nano
        p.startTimeUnixNano = fixed64(r);
        break;
      case 25: // 3 time_unix_nano
        p.timeUnixNano = fixed64(r);
        break;
      case 33: // 4 as_double (oneof: the last one on the wire wins)
        p.asDouble = r.double();
        if (p.asInt !== undefined) delete p.asInt;
        break;
      case 49: // 6 as_int
        p.asInt = sfixed64(r);
        if (p.asDouble !== undefined) delete p.asDouble;
        break;
      case 42: // 5 exemplars
        pushMessage(r, end, p.exemplars, 'exemplars', exemplar);
        break;
      case 64: // 8 flags
        p.flags = r.uint32();
        break;
      default:
        skipUnknown(r, tag, NUMBER_POINT_FIELDS);
    }
  }
  checkEnd(r, end);
  return p;
}

function histogramPoint(r: Reader, end: number): HistogramDataPoint {
  const p: HistogramDataPoint = {
    attributes: [],
    startTimeUnixNano: 0n,
    timeUnixNano: 0n,
    count: 0n,
    bucketCounts: [],
    explicitBounds: [],
    exemplars: [],
    flags: 0,
  };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 74: // 9 attributes
        pushKeyValue(r, end, 1, p.attributes, 'attributes');
        break;
      case 17: // 2 start_time_unix_nano
        p.startTimeUnixNano = fixed64(r);
        break;
      case 25: // 3 time_unix_nano
        p.timeUnixNano = fixed64(r);
        break;
      case 33: // 4 count
        p.count = fixed64(r);
        break;
      case 41: // 5 sum
        p.sum = r.double();
        break;
      case 49: // 6 bucket_counts, unpacked
      case 50: // 6 bucket_counts, packed
        packedFixed64(r, end, tag === 50, p.bucketCounts);
        break;
      case 57: // 7 explicit_bounds, unpacked
      case 58: // 7 explicit_bounds, packed
        packedDouble(r, end, tag === 58, p.explicitBounds);
        break;
      case 66: // 8 exemplars
        pushMessage(r, end, p.exemplars, 'exemplars', exemplar);
        break;
      case 80: // 10 flags
        p.flags = r.uint32();
        break;
      case 89: // 11 min
        p.min = r.double();
        break;
      case 97: // 12 max
        p.max = r.double();
        break;
      default:
        skipUnknown(r, tag, HISTOGRAM_POINT_FIELDS);
    }
  }
  checkEnd(r, end);
  return p;
}

function exponentialPoint(r: Reader, end: number): ExponentialHistogramDataPoint {
  const p: ExponentialHistogramDataPoint = {
    attributes: [],
    startTimeUnixNano: 0n,
    timeUnixNano: 0n,
    count: 0n,
    scale: 0,
    zeroCount: 0n,
    positive: { offset: 0, bucketCounts: [] },
    negative: { offset: 0, bucketCounts: [] },
    flags: 0,
    exemplars: [],
    zeroThreshold: 0,
  };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 10: // 1 attributes
        pushKeyValue(r, end, 1, p.attributes, 'attributes');
        break;
      case 17: // 2 start_time_unix_nano
        p.startTimeUnixNano = fixed64(r);
        break;
      case 25: // 3 time_unix_nano
        p.timeUnixNano = fixed64(r);
        break;
      case 33: // 4 count
        p.count = fixed64(r);
        break;
      case 41: // 5 sum
        p.sum = r.double();
        break;
      case 48: // 6 scale (sint32)
        p.scale = r.sint32();
        break;
      case 57: // 7 zero_count
        p.zeroCount = fixed64(r);
        break;
      case 66: // 8 positive
        p.positive = message(r, end, 'positive', buckets);
        break;
      case 74: // 9 negative
        p.negative = message(r, end, 'negative', buckets);
        break;
      case 80: // 10 flags
        p.flags = r.uint32();
        break;
      case 90: // 11 exemplars
        pushMessage(r, end, p.exemplars, 'exemplars', exemplar);
        break;
      case 97: // 12 min
        p.min = r.double();
        break;
      case 105: // 13 max
        p.max = r.double();
        break;
      case 113: // 14 zero_threshold
        p.zeroThreshold = r.double();
        break;
      default:
        skipUnknown(r, tag, EXP_POINT_FIELDS);
    }
  }
  checkEnd(r, end);
  return p;
}

function buckets(r: Reader, end: number): ExponentialHistogramBuckets {
  const b: ExponentialHistogramBuckets = { offset: 0, bucketCounts: [] };
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 8) b.offset = r.sint32();
    else if (tag === 16 || tag === 18) packedUint64(r, end, tag === 18, b.bucketCounts);
    else skipUnknown(r, tag, BUCKETS_FIELDS);
  }
  checkEnd(r, end);
  return b;
}

function summaryPoint(r: Reader, end: number): SummaryDataPoint {
  const p: SummaryDataPoint = {
    attributes: [],
    startTimeUnixNano: 0n,
    timeUnixNano: 0n,
    count: 0n,
    sum: 0,
    quantileValues: [],
    flags: 0,
  };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 58: // 7 attributes
        pushKeyValue(r, end, 1, p.attributes, 'attributes');
        break;
      case 17: // 2 start_time_unix_nano
        p.startTimeUnixNano = fixed64(r);
        break;
      case 25: // 3 time_unix_nano
        p.timeUnixNano = fixed64(r);
        break;
      case 33: // 4 count
        p.count = fixed64(r);
        break;
      case 41: // 5 sum
        p.sum = r.double();
        break;
      case 50: // 6 quantile_values
        pushMessage(r, end, p.quantileValues, 'quantileValues', quantile);
        break;
      case 64: // 8 flags
        p.flags = r.uint32();
        break;
      default:
        skipUnknown(r, tag, SUMMARY_POINT_FIELDS);
    }
  }
  checkEnd(r, end);
  return p;
}

function quantile(r: Reader, end: number): SummaryDataPoint['quantileValues'][number] {
  const q = { quantile: 0, value: 0 };
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 9) q.quantile = r.double();
    else if (tag === 17) q.value = r.double();
    else skipUnknown(r, tag, QUANTILE_FIELDS);
  }
  checkEnd(r, end);
  return q;
}

function exemplar(r: Reader, end: number): Exemplar {
  const e: Exemplar = { filteredAttributes: [], timeUnixNano: 0n, spanId: '', traceId: '' };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 58: // 7 filtered_attributes
        pushKeyValue(r, end, 1, e.filteredAttributes, 'filteredAttributes');
        break;
      case 17: // 2 time_unix_nano
        e.timeUnixNano = fixed64(r);
        break;
      case 25: // 3 as_double
        e.asDouble = r.double();
        if (e.asInt !== undefined) delete e.asInt;
        break;
      case 49: // 6 as_int
        e.asInt = sfixed64(r);
        if (e.asDouble !== undefined) delete e.asDouble;
        break;
      case 34: // 4 span_id
        e.spanId = id(r, end, 8, 'spanId');
        break;
      case 42: // 5 trace_id
        e.traceId = id(r, end, 16, 'traceId');
        break;
      default:
        skipUnknown(r, tag, EXEMPLAR_FIELDS);
    }
  }
  checkEnd(r, end);
  return e;
}
