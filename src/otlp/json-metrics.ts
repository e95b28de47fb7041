import { emptyResource, emptyScope, keyValues, list, message, resource, schemaUrl, scope } from './json-common.js';
import { exponentialPoint, histogramPoint, numberPoint, summaryPoint } from './json-metric-points.js';
import { bool, enumValue, pick, str, type Json } from './json-values.js';
import { enumValues } from './proto.js';
import type { ExportMetricsServiceRequest, Metric, MetricData, ResourceMetrics, ScopeMetrics } from './types.js';

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
  return {
    type: 'exponential_histogram',
    dataPoints: dataPoints(o, exponentialPoint),
    aggregationTemporality: temporality(o),
  };
}

function summary(o: Json): MetricData {
  return { type: 'summary', dataPoints: dataPoints(o, summaryPoint) };
}
