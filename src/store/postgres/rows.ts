import { jsonText } from '../json-text.js';
import type { EventRecord, MetricPointRecord, RecordBase, SpanRecord } from '../records.js';

/**
 * How records become table rows. Each table's columns are listed once, with their kind
 * and how to read them off a record; copy-binary.ts turns a list of records into the
 * rows of one binary COPY … FROM STDIN. Each kind is exactly its column's type there:
 * text, bigint (a bigint or a safe integer), integer, double precision, boolean.
 *
 * Documents (attributes, resource, scope, bodies, distributions) are JSON text in `text`
 * columns: PostgreSQL would otherwise parse every document again to validate it, nothing
 * queries them in SQL (the pipeline reads the typed columns), and a query that wants
 * one can still say `attributes::json`.
 */
export type ColumnKind = 'text' | 'int8' | 'int4' | 'float8' | 'bool' | 'doc';
/**
 * `shared`, for documents that are one object for many records (a block's resource and
 * scope): that object, so its encoding can be reused while it repeats.
 */
export type Column<R> = readonly [name: string, kind: ColumnKind, get: (r: R) => unknown, shared?: (r: R) => object];

const INT64_MAX = 2n ** 63n - 1n;

/** OTLP times are uint64; PostgreSQL's bigint stops at 2^63 - 1 (year 2262). */
function int64(ns: bigint, record: RecordBase, field: string): bigint {
  if (ns < 0n || ns > INT64_MAX) throw new RangeError(`record ${record.id}: ${field} ${ns} is outside 0..2^63-1`);
  return ns;
}
const optInt64 = (ns: bigint | null, record: RecordBase, field: string): bigint | null =>
  ns === null ? null : int64(ns, record, field);

const baseColumns: Column<RecordBase>[] = [
  ['id', 'text', (r) => r.id],
  ['time_ns', 'int8', (r) => int64(r.timeNs, r, 'timeNs')],
  ['surface', 'text', (r) => r.surface],
  ['service_name', 'text', (r) => r.serviceName],
  ['seat', 'text', (r) => r.identity.seat],
  ['user_email', 'text', (r) => r.identity.userEmail],
  ['user_account_uuid', 'text', (r) => r.identity.userAccountUuid],
  ['end_user_id', 'text', (r) => r.identity.endUserId],
  ['user_id', 'text', (r) => r.identity.userId],
  ['organization_id', 'text', (r) => r.identity.organizationId],
  ['session_id', 'text', (r) => r.sessionId],
  ['attributes', 'doc', (r) => jsonText(r.attributes)],
  ['resource', 'doc', (r) => jsonText(r.resource), (r) => r.resource],
  ['scope', 'doc', (r) => jsonText(r.scope), (r) => r.scope],
];

export const eventColumns: readonly Column<EventRecord>[] = [
  ...baseColumns,
  ['name', 'text', (e) => e.name],
  ['flags', 'int8', (e) => e.flags],
  ['observed_time_ns', 'int8', (e) => optInt64(e.observedTimeNs, e, 'observedTimeNs')],
  ['prompt_id', 'text', (e) => e.promptId],
  ['severity_number', 'int4', (e) => e.severityNumber],
  ['severity_text', 'text', (e) => e.severityText],
  ['trace_id', 'text', (e) => e.traceId],
  ['span_id', 'text', (e) => e.spanId],
  ['body', 'doc', (e) => (e.body === null ? null : jsonText(e.body))],
  ['model', 'text', (e) => e.facts.model],
  ['cost_usd', 'float8', (e) => e.facts.costUsd],
  ['input_tokens', 'float8', (e) => e.facts.inputTokens],
  ['output_tokens', 'float8', (e) => e.facts.outputTokens],
  ['cache_read_tokens', 'float8', (e) => e.facts.cacheReadTokens],
  ['cache_creation_tokens', 'float8', (e) => e.facts.cacheCreationTokens],
  ['success', 'bool', (e) => e.facts.success],
  ['decision', 'text', (e) => e.facts.decision],
  ['tool_name', 'text', (e) => e.facts.toolName],
];

export const pointColumns: readonly Column<MetricPointRecord>[] = [
  ...baseColumns,
  ['name', 'text', (p) => p.name],
  ['flags', 'int8', (p) => p.flags],
  ['start_time_ns', 'int8', (p) => optInt64(p.startTimeNs, p, 'startTimeNs')],
  ['series_key', 'text', (p) => p.seriesKey],
  ['description', 'text', (p) => p.description],
  ['unit', 'text', (p) => p.unit],
  ['type', 'text', (p) => p.type],
  ['temporality', 'text', (p) => p.temporality],
  ['monotonic', 'bool', (p) => p.monotonic],
  ['value', 'float8', (p) => p.value],
  ['value_int', 'text', (p) => p.valueInt],
  ['distribution', 'doc', (p) => (p.distribution === null ? null : jsonText(p.distribution))],
  ['model', 'text', (p) => p.facts.model],
  ['attr_type', 'text', (p) => p.facts.type],
  ['decision', 'text', (p) => p.facts.decision],
  ['start_type', 'text', (p) => p.facts.startType],
];

export const spanColumns: readonly Column<SpanRecord>[] = [
  ...baseColumns,
  ['name', 'text', (s) => s.name],
  ['flags', 'int8', (s) => s.flags],
  ['trace_id', 'text', (s) => s.traceId],
  ['span_id', 'text', (s) => s.spanId],
  ['parent_span_id', 'text', (s) => s.parentSpanId],
  ['trace_state', 'text', (s) => s.traceState],
  ['kind', 'int4', (s) => s.spanKind],
  ['end_time_ns', 'int8', (s) => int64(s.endTimeNs, s, 'endTimeNs')],
  ['status_code', 'int4', (s) => s.statusCode],
  ['status_message', 'text', (s) => s.statusMessage],
  ['events', 'doc', (s) => jsonText(s.events)],
  ['links', 'doc', (s) => jsonText(s.links)],
  ['model', 'text', (s) => (typeof s.attributes['model'] === 'string' ? s.attributes['model'] : null)],
];
