import type {
  ExponentialHistogramDataPoint,
  ExportMetricsServiceRequest,
  HistogramDataPoint,
  KeyValue,
  Metric,
  NumberDataPoint,
  SummaryDataPoint,
} from '../otlp/types.js';
import type { Distribution, MetricPointRecord, MetricType, Scope, Temporality } from '../store/records.js';
import { LimitError, attrString, toAttributes } from './attributes.js';
import { pointFacts } from './facts.js';
import { identityOf } from './identity.js';
import { keyProblem } from './key-limits.js';
import { applyPolicy } from './privacy.js';
import {
  type NormalizeOptions,
  type ResourceContext,
  Rejections,
  checkOrganization,
  digest,
  normalizeBlocks,
  timeProblem,
} from './normalize-common.js';

const NO_RECORDED_VALUE = 1;
const temporalities: Record<number, Temporality> = { 0: 'unspecified', 1: 'delta', 2: 'cumulative' };

type AnyPoint = NumberDataPoint | HistogramDataPoint | ExponentialHistogramDataPoint | SummaryDataPoint;

interface Shape {
  type: MetricType;
  temporality: Temporality | null;
  monotonic: boolean | null;
  points: AnyPoint[];
}

function shapeOf(m: Metric): Shape | null {
  const d = m.data;
  switch (d.type) {
    case 'gauge':
      return { type: 'gauge', temporality: null, monotonic: null, points: d.dataPoints };
    case 'sum':
      return { type: 'sum', temporality: temporalities[d.aggregationTemporality] ?? 'unspecified', monotonic: d.isMonotonic, points: d.dataPoints };
    case 'histogram':
      return { type: 'histogram', temporality: temporalities[d.aggregationTemporality] ?? 'unspecified', monotonic: null, points: d.dataPoints };
    case 'exponential_histogram':
      return { type: 'exponential_histogram', temporality: temporalities[d.aggregationTemporality] ?? 'unspecified', monotonic: null, points: d.dataPoints };
    case 'summary':
      return { type: 'summary', temporality: null, monotonic: null, points: d.dataPoints };
    case 'none':
      return null;
  }
}

const num = (v: bigint): number => Number(v);

/** Value or distribution of a point, or the reason it is invalid. */
function valueOf(p: AnyPoint, shape: Shape): Pick<MetricPointRecord, 'value' | 'valueInt' | 'distribution'> | string {
  const empty = (p.flags & NO_RECORDED_VALUE) !== 0;
  if (shape.type === 'gauge' || shape.type === 'sum') {
    const np = p as NumberDataPoint;
    if (np.asInt !== undefined) {
      if (shape.monotonic && shape.temporality === 'delta' && np.asInt < 0n) return 'negative delta on a monotonic sum';
      return { value: Number(np.asInt), valueInt: np.asInt.toString(), distribution: null };
    }
    if (np.asDouble !== undefined) {
      if (shape.monotonic && shape.temporality === 'delta' && np.asDouble < 0) return 'negative delta on a monotonic sum';
      return { value: np.asDouble, valueInt: null, distribution: null };
    }
    return empty ? { value: null, valueInt: null, distribution: null } : 'data point without a value';
  }
  if (shape.type === 'histogram') {
    const hp = p as HistogramDataPoint;
    if (hp.bucketCounts.length > 0 && hp.bucketCounts.length !== hp.explicitBounds.length + 1) {
      return 'histogram bucket_counts must have one more entry than explicit_bounds';
    }
    const dist: Distribution = { count: num(hp.count), sum: hp.sum ?? null, min: hp.min ?? null, max: hp.max ?? null,
      bucketCounts: hp.bucketCounts.map(num), explicitBounds: hp.explicitBounds };
    return { value: null, valueInt: null, distribution: dist };
  }
  if (shape.type === 'exponential_histogram') {
    const ep = p as ExponentialHistogramDataPoint;
    const dist: Distribution = { count: num(ep.count), sum: ep.sum ?? null, min: ep.min ?? null, max: ep.max ?? null,
      scale: ep.scale, zeroCount: num(ep.zeroCount), zeroThreshold: ep.zeroThreshold,
      positive: { offset: ep.positive.offset, bucketCounts: ep.positive.bucketCounts.map(num) },
      negative: { offset: ep.negative.offset, bucketCounts: ep.negative.bucketCounts.map(num) } };
    return { value: null, valueInt: null, distribution: dist };
  }
  const sp = p as SummaryDataPoint;
  return { value: null, valueInt: null,
    distribution: { count: num(sp.count), sum: sp.sum, min: null, max: null, quantiles: sp.quantileValues } };
}

const sortedJson = (attrs: Record<string, unknown>): string =>
  JSON.stringify(Object.keys(attrs).sort().map((k) => [k, attrs[k]]));

function toPoint(p: AnyPoint, m: Metric, shape: Shape, rc: ResourceContext, scope: Scope, opts: NormalizeOptions): MetricPointRecord | string {
  const problem = timeProblem(p.timeUnixNano, opts);
  if (problem) return problem;
  if ((shape.type === 'sum' || shape.type === 'histogram' || shape.type === 'exponential_histogram') && shape.temporality === 'unspecified') {
    return 'aggregation temporality unspecified';
  }
  if (p.startTimeUnixNano > p.timeUnixNano) return 'start time after time';
  const value = valueOf(p, shape);
  if (typeof value === 'string') return value;
  let attributes: MetricPointRecord['attributes'];
  try {
    attributes = applyPolicy(toAttributes(p.attributes as KeyValue[], opts.limits), opts.tenant.policy);
  } catch (e) {
    if (e instanceof LimitError) return e.message;
    throw e;
  }
  const identity = identityOf(attributes, rc.resource);
  const facts = pointFacts(attributes);
  const badKey = keyProblem({ label: 'metric name', value: m.name }, identity, facts.model);
  if (badKey) return badKey;
  checkOrganization(identity.organizationId, opts);
  // The stream identity of the OTLP data model; the start time is kept apart so resets can be seen.
  const seriesKey = digest('s', rc.digest, scope.name, scope.version, m.name, m.unit, shape.type,
    shape.temporality, shape.monotonic, sortedJson(attributes));
  const start = p.startTimeUnixNano;
  return {
    kind: 'point',
    id: digest('p', seriesKey, start, p.timeUnixNano, value.value, value.valueInt, JSON.stringify(value.distribution), p.flags),
    tenantId: opts.tenant.id,
    timeNs: p.timeUnixNano,
    startTimeNs: start === 0n ? null : start,
    surface: rc.surface,
    serviceName: rc.serviceName,
    identity,
    sessionId: attrString(attributes, 'session.id') ?? attrString(rc.resource, 'session.id'),
    attributes,
    resource: rc.resource,
    scope,
    name: m.name,
    description: m.description,
    unit: m.unit,
    type: shape.type,
    temporality: shape.temporality,
    monotonic: shape.monotonic,
    ...value,
    flags: p.flags,
    seriesKey,
    facts,
  };
}

/** Every data point becomes a point record; invalid ones are counted in `rejections`. */
export function normalizeMetrics(req: ExportMetricsServiceRequest, opts: NormalizeOptions, rejections: Rejections): MetricPointRecord[] {
  const blocks = req.resourceMetrics.map((rm) => ({
    resource: rm.resource,
    scopes: rm.scopeMetrics.map((sm) => ({
      scope: sm.scope,
      items: sm.metrics.flatMap((m) => {
        const shape = shapeOf(m);
        return shape === null ? [] : shape.points.map((p) => ({ p, m, shape }));
      }),
    })),
  }));
  return normalizeBlocks(blocks, opts, rejections, ({ p, m, shape }, rc, scope) => {
    const r = toPoint(p, m, shape, rc, scope, opts);
    // Reasons name their metric, shortened: a hostile name must not be repeated into the response.
    return typeof r === 'string' ? `${m.name.length > 80 ? `${m.name.slice(0, 80)}…` : m.name}: ${r}` : r;
  });
}
