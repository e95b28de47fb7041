/**
 * OTLP request messages as both decoders (protobuf and JSON) return them.
 * Field names are the proto3 lowerCamelCase names. Absent fields take their
 * proto3 default, so consumers never meet `undefined` where a value is declared.
 * 64-bit integers are bigint; trace and span ids are lowercase hex ("" when absent).
 */

export type AnyValue =
  | { type: 'string'; value: string }
  | { type: 'bool'; value: boolean }
  | { type: 'int'; value: bigint }
  | { type: 'double'; value: number }
  | { type: 'array'; values: AnyValue[] }
  | { type: 'kvlist'; values: KeyValue[] }
  | { type: 'bytes'; value: Uint8Array }
  | { type: 'empty' };

export interface KeyValue {
  key: string;
  value: AnyValue;
}

export interface InstrumentationScope {
  name: string;
  version: string;
  attributes: KeyValue[];
  droppedAttributesCount: number;
}

export interface Resource {
  attributes: KeyValue[];
  droppedAttributesCount: number;
}

// ---- logs ----
export interface LogRecord {
  timeUnixNano: bigint;
  observedTimeUnixNano: bigint;
  severityNumber: number;
  severityText: string;
  body: AnyValue;
  attributes: KeyValue[];
  droppedAttributesCount: number;
  flags: number;
  traceId: string;
  spanId: string;
  eventName: string;
}
export interface ScopeLogs {
  scope: InstrumentationScope;
  logRecords: LogRecord[];
  schemaUrl: string;
}
export interface ResourceLogs {
  resource: Resource;
  scopeLogs: ScopeLogs[];
  schemaUrl: string;
}
export interface ExportLogsServiceRequest {
  resourceLogs: ResourceLogs[];
}

// ---- metrics ----
export interface Exemplar {
  filteredAttributes: KeyValue[];
  timeUnixNano: bigint;
  asDouble?: number;
  asInt?: bigint;
  spanId: string;
  traceId: string;
}
export interface NumberDataPoint {
  attributes: KeyValue[];
  startTimeUnixNano: bigint;
  timeUnixNano: bigint;
  /** Exactly one of asDouble / asInt is set on a valid point. */
  asDouble?: number;
  asInt?: bigint;
  exemplars: Exemplar[];
  flags: number;
}
export interface HistogramDataPoint {
  attributes: KeyValue[];
  startTimeUnixNano: bigint;
  timeUnixNano: bigint;
  count: bigint;
  sum?: number;
  bucketCounts: bigint[];
  explicitBounds: number[];
  exemplars: Exemplar[];
  flags: number;
  min?: number;
  max?: number;
}
export interface ExponentialHistogramBuckets {
  offset: number;
  bucketCounts: bigint[];
}
export interface ExponentialHistogramDataPoint {
  attributes: KeyValue[];
  startTimeUnixNano: bigint;
  timeUnixNano: bigint;
  count: bigint;
  sum?: number;
  scale: number;
  zeroCount: bigint;
  positive: ExponentialHistogramBuckets;
  negative: ExponentialHistogramBuckets;
  flags: number;
  exemplars: Exemplar[];
  min?: number;
  max?: number;
  zeroThreshold: number;
}
export interface SummaryDataPoint {
  attributes: KeyValue[];
  startTimeUnixNano: bigint;
  timeUnixNano: bigint;
  count: bigint;
  sum: number;
  quantileValues: { quantile: number; value: number }[];
  flags: number;
}

/** AggregationTemporality: 0 unspecified, 1 delta, 2 cumulative. */
export type MetricData =
  | { type: 'gauge'; dataPoints: NumberDataPoint[] }
  | { type: 'sum'; dataPoints: NumberDataPoint[]; aggregationTemporality: number; isMonotonic: boolean }
  | { type: 'histogram'; dataPoints: HistogramDataPoint[]; aggregationTemporality: number }
  | { type: 'exponential_histogram'; dataPoints: ExponentialHistogramDataPoint[]; aggregationTemporality: number }
  | { type: 'summary'; dataPoints: SummaryDataPoint[] }
  | { type: 'none' };

export interface Metric {
  name: string;
  description: string;
  unit: string;
  data: MetricData;
  metadata: KeyValue[];
}
export interface ScopeMetrics {
  scope: InstrumentationScope;
  metrics: Metric[];
  schemaUrl: string;
}
export interface ResourceMetrics {
  resource: Resource;
  scopeMetrics: ScopeMetrics[];
  schemaUrl: string;
}
export interface ExportMetricsServiceRequest {
  resourceMetrics: ResourceMetrics[];
}

// ---- traces ----
export interface SpanEvent {
  timeUnixNano: bigint;
  name: string;
  attributes: KeyValue[];
  droppedAttributesCount: number;
}
export interface SpanLink {
  traceId: string;
  spanId: string;
  traceState: string;
  attributes: KeyValue[];
  droppedAttributesCount: number;
  flags: number;
}
export interface Span {
  traceId: string;
  spanId: string;
  traceState: string;
  parentSpanId: string;
  flags: number;
  name: string;
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: KeyValue[];
  droppedAttributesCount: number;
  events: SpanEvent[];
  droppedEventsCount: number;
  links: SpanLink[];
  droppedLinksCount: number;
  status: { message: string; code: number };
}
export interface ScopeSpans {
  scope: InstrumentationScope;
  spans: Span[];
  schemaUrl: string;
}
export interface ResourceSpans {
  resource: Resource;
  scopeSpans: ScopeSpans[];
  schemaUrl: string;
}
export interface ExportTraceServiceRequest {
  resourceSpans: ResourceSpans[];
}

export type Signal = 'logs' | 'metrics' | 'traces';

export interface SignalRequest {
  logs: ExportLogsServiceRequest;
  metrics: ExportMetricsServiceRequest;
  traces: ExportTraceServiceRequest;
}

/** partial_success of an Export*ServiceResponse; `rejected` is 0 on full success. */
export interface ExportResult {
  rejected: number;
  errorMessage: string;
}

/** Thrown by decoders for input that is not a valid message. */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
  constructor(
    message: string,
    /** Path of the offending field, e.g. `resourceLogs[0].scopeLogs[1].logRecords[3].traceId`. */
    readonly field = '',
  ) {
    super(message);
  }
}
