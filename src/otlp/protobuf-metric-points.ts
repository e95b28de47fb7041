import { pushKeyValue } from './protobuf-common.js';
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
  type Reader,
} from './protobuf-wire.js';
import type {
  Exemplar,
  ExponentialHistogramBuckets,
  ExponentialHistogramDataPoint,
  HistogramDataPoint,
  NumberDataPoint,
  SummaryDataPoint,
} from './types.js';

const NUMBER_POINT_FIELDS = fieldMask(2, 3, 4, 5, 6, 7, 8);
const HISTOGRAM_POINT_FIELDS = fieldMask(2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
const EXP_POINT_FIELDS = fieldMask(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14);
const BUCKETS_FIELDS = fieldMask(1, 2);
const SUMMARY_POINT_FIELDS = fieldMask(2, 3, 4, 5, 6, 7, 8);
const QUANTILE_FIELDS = fieldMask(1, 2);
const EXEMPLAR_FIELDS = fieldMask(2, 3, 4, 5, 6, 7);

export function numberPoint(r: Reader, end: number): NumberDataPoint {
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

export function histogramPoint(r: Reader, end: number): HistogramDataPoint {
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

export function exponentialPoint(r: Reader, end: number): ExponentialHistogramDataPoint {
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

export function summaryPoint(r: Reader, end: number): SummaryDataPoint {
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
