import { exponentialPoint, histogramPoint, numberPoint, summaryPoint } from './protobuf-metric-points.js';
import { emptyResource, emptyScope, pushKeyValue, resource, scope } from './protobuf-common.js';
import { checkEnd, fieldMask, message, pushMessage, skipUnknown, string, type Reader } from './protobuf-wire.js';
import type { ExportMetricsServiceRequest, Metric, MetricData, ResourceMetrics, ScopeMetrics } from './types.js';

const REQUEST_FIELDS = fieldMask(1);
const CONTAINER_FIELDS = fieldMask(1, 2, 3);
const METRIC_FIELDS = fieldMask(1, 2, 3, 5, 7, 9, 10, 11, 12);
const DATA_FIELDS = fieldMask(1, 2, 3);

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
  const data: MetricData & { type: 'sum' } = {
    type: 'sum',
    dataPoints: [],
    aggregationTemporality: 0,
    isMonotonic: false,
  };
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
