/**
 * The normalized records that ingest produces and every store adapter keeps.
 * Plain data only: adapters map these to their own schema.
 */

/** An attribute value as it arrived: strings stay strings ("4"), ints beyond 2^53 become decimal strings. */
export type AttrValue = string | number | boolean | null | AttrValue[] | { [key: string]: AttrValue };
export type Attributes = Record<string, AttrValue>;

/** Who is behind a record. `seat` is the most readable identifier present, prefixed by its kind. */
export interface Identity {
  seat: string | null;
  userEmail: string | null;
  userAccountUuid: string | null;
  endUserId: string | null;
  userId: string | null;
  organizationId: string | null;
}

export interface Scope {
  name: string;
  version: string;
  attributes: Attributes;
}

/** Fields every record carries. Times are nanoseconds since the epoch. */
export interface RecordBase {
  /** Content hash of the record: the same record delivered twice has the same id. */
  id: string;
  tenantId: string;
  timeNs: bigint;
  /** `service.name` mapped to a surface: claude_code, claude_code_desktop, cowork, claude_desktop, or the raw name. */
  surface: string;
  serviceName: string | null;
  identity: Identity;
  sessionId: string | null;
  attributes: Attributes;
  resource: Attributes;
  scope: Scope;
}

/**
 * What the pipeline reads from an event, pulled out of the attributes at
 * ingest (whatever their wire type) so stores can keep them in typed columns
 * and roll a day up without parsing attribute documents.
 */
export interface EventFacts {
  model: string | null;
  costUsd: number | null;
  inputTokens: number | null;
  outputTokens: number | null;
  cacheReadTokens: number | null;
  cacheCreationTokens: number | null;
  /** tool_result `success`. */
  success: boolean | null;
  /** tool_decision `decision` (accept / reject). */
  decision: string | null;
  toolName: string | null;
}

/** The point attributes the pipeline splits measures by. */
export interface PointFacts {
  model: string | null;
  /** `type`: input/output/cacheRead/cacheCreation, added/removed, user/cli. */
  type: string | null;
  decision: string | null;
  startType: string | null;
}

/** One OTLP log record. */
export interface EventRecord extends RecordBase {
  kind: 'event';
  observedTimeNs: bigint | null;
  /** Bare event name, e.g. `user_prompt`; empty when the record is not a named event. */
  name: string;
  promptId: string | null;
  severityNumber: number;
  severityText: string | null;
  body: AttrValue;
  traceId: string | null;
  spanId: string | null;
  flags: number;
  facts: EventFacts;
}

export type MetricType = 'gauge' | 'sum' | 'histogram' | 'exponential_histogram' | 'summary';
export type Temporality = 'unspecified' | 'delta' | 'cumulative';

/** Histogram, exponential histogram and summary contents. */
export interface Distribution {
  count: number;
  sum: number | null;
  min: number | null;
  max: number | null;
  bucketCounts?: number[];
  explicitBounds?: number[];
  scale?: number;
  zeroCount?: number;
  zeroThreshold?: number;
  positive?: { offset: number; bucketCounts: number[] };
  negative?: { offset: number; bucketCounts: number[] };
  quantiles?: { quantile: number; value: number }[];
}

/** One metric data point. */
export interface MetricPointRecord extends RecordBase {
  kind: 'point';
  startTimeNs: bigint | null;
  name: string;
  description: string;
  unit: string;
  type: MetricType;
  /** `null` for gauges and summaries, which have no temporality. */
  temporality: Temporality | null;
  monotonic: boolean | null;
  /** NumberDataPoint value as a double (as_int converted); null for distributions. */
  value: number | null;
  /** as_int exactly, as a decimal string, when the point carried an integer. */
  valueInt: string | null;
  distribution: Distribution | null;
  flags: number;
  /** Hash of the stream identity (resource, scope, name, unit, type, temporality, monotonic, point attributes). */
  seriesKey: string;
  facts: PointFacts;
}

/** One span. */
export interface SpanRecord extends RecordBase {
  kind: 'span';
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  traceState: string;
  name: string;
  spanKind: number;
  endTimeNs: bigint;
  statusCode: number;
  statusMessage: string;
  events: { timeNs: string; name: string; attributes: Attributes }[];
  links: { traceId: string; spanId: string; traceState: string; attributes: Attributes }[];
  flags: number;
}

export type TelemetryRecord = EventRecord | MetricPointRecord | SpanRecord;

/** What one export request writes; all of it is committed together or not at all. */
export interface RecordBatch {
  events: EventRecord[];
  points: MetricPointRecord[];
  spans: SpanRecord[];
}

export const emptyBatch = (): RecordBatch => ({ events: [], points: [], spans: [] });
export const batchSize = (b: RecordBatch): number => b.events.length + b.points.length + b.spans.length;
