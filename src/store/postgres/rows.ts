import type { EventRecord, MetricPointRecord, RecordBase, SpanRecord } from '../records.js';

/**
 * How records become table rows. Each table's columns are listed once, with their SQL
 * type and how to read them off a record; write-batch.ts turns a list into one
 * INSERT … SELECT FROM json_to_recordset($1), so a statement has two parameters
 * whatever the number of rows.
 *
 * The JSON sent uses short positional keys (c0, c1, …) and leaves out nulls: parsing
 * that JSON is most of what an insert costs the server, and the column names and
 * nulls were a third of its bytes.
 */
export type Column<R> = readonly [name: string, sqlType: string, get: (r: R) => unknown];

const INT64_MAX = 2n ** 63n - 1n;

/** OTLP times are uint64; PostgreSQL's bigint stops at 2^63 - 1 (year 2262). */
function int64(ns: bigint, record: RecordBase, field: string): string {
  if (ns < 0n || ns > INT64_MAX) throw new RangeError(`record ${record.id}: ${field} ${ns} is outside 0..2^63-1`);
  return ns.toString();
}
const optInt64 = (ns: bigint | null, record: RecordBase, field: string): string | null =>
  ns === null ? null : int64(ns, record, field);

/** PostgreSQL's float8 takes 'NaN' and '±Infinity' as text; JSON has no way to say them. */
const float8 = (v: number | null): number | string | null => (v === null || Number.isFinite(v) ? v : String(v));

/**
 * Attributes, resource, scope, bodies and distributions are stored as `json`, not
 * `jsonb`: converting to jsonb made an insert of 10k Claude Code events take ~1.8x as
 * long, and the pipeline reads the typed columns, not these documents.
 */
const baseColumns: Column<RecordBase>[] = [
  ['id', 'text', (r) => r.id],
  ['time_ns', 'bigint', (r) => int64(r.timeNs, r, 'timeNs')],
  ['surface', 'text', (r) => r.surface],
  ['service_name', 'text', (r) => r.serviceName],
  ['seat', 'text', (r) => r.identity.seat],
  ['user_email', 'text', (r) => r.identity.userEmail],
  ['user_account_uuid', 'text', (r) => r.identity.userAccountUuid],
  ['end_user_id', 'text', (r) => r.identity.endUserId],
  ['user_id', 'text', (r) => r.identity.userId],
  ['organization_id', 'text', (r) => r.identity.organizationId],
  ['session_id', 'text', (r) => r.sessionId],
  ['attributes', 'json', (r) => r.attributes],
  ['resource', 'json', (r) => r.resource],
  ['scope', 'json', (r) => r.scope],
];

export const eventColumns: readonly Column<EventRecord>[] = [
  ...baseColumns,
  ['name', 'text', (e) => e.name],
  ['flags', 'bigint', (e) => e.flags],
  ['observed_time_ns', 'bigint', (e) => optInt64(e.observedTimeNs, e, 'observedTimeNs')],
  ['prompt_id', 'text', (e) => e.promptId],
  ['severity_number', 'integer', (e) => e.severityNumber],
  ['severity_text', 'text', (e) => e.severityText],
  ['trace_id', 'text', (e) => e.traceId],
  ['span_id', 'text', (e) => e.spanId],
  ['body', 'json', (e) => e.body],
  ['model', 'text', (e) => e.facts.model],
  ['cost_usd', 'double precision', (e) => float8(e.facts.costUsd)],
  ['input_tokens', 'double precision', (e) => float8(e.facts.inputTokens)],
  ['output_tokens', 'double precision', (e) => float8(e.facts.outputTokens)],
  ['cache_read_tokens', 'double precision', (e) => float8(e.facts.cacheReadTokens)],
  ['cache_creation_tokens', 'double precision', (e) => float8(e.facts.cacheCreationTokens)],
  ['success', 'boolean', (e) => e.facts.success],
  ['decision', 'text', (e) => e.facts.decision],
  ['tool_name', 'text', (e) => e.facts.toolName],
];

export const pointColumns: readonly Column<MetricPointRecord>[] = [
  ...baseColumns,
  ['name', 'text', (p) => p.name],
  ['flags', 'bigint', (p) => p.flags],
  ['start_time_ns', 'bigint', (p) => optInt64(p.startTimeNs, p, 'startTimeNs')],
  ['series_key', 'text', (p) => p.seriesKey],
  ['description', 'text', (p) => p.description],
  ['unit', 'text', (p) => p.unit],
  ['type', 'text', (p) => p.type],
  ['temporality', 'text', (p) => p.temporality],
  ['monotonic', 'boolean', (p) => p.monotonic],
  ['value', 'double precision', (p) => float8(p.value)],
  ['value_int', 'text', (p) => p.valueInt],
  ['distribution', 'json', (p) => p.distribution],
  ['model', 'text', (p) => p.facts.model],
  ['attr_type', 'text', (p) => p.facts.type],
  ['decision', 'text', (p) => p.facts.decision],
  ['start_type', 'text', (p) => p.facts.startType],
];

export const spanColumns: readonly Column<SpanRecord>[] = [
  ...baseColumns,
  ['name', 'text', (s) => s.name],
  ['flags', 'bigint', (s) => s.flags],
  ['trace_id', 'text', (s) => s.traceId],
  ['span_id', 'text', (s) => s.spanId],
  ['parent_span_id', 'text', (s) => s.parentSpanId],
  ['trace_state', 'text', (s) => s.traceState],
  ['kind', 'integer', (s) => s.spanKind],
  ['end_time_ns', 'bigint', (s) => int64(s.endTimeNs, s, 'endTimeNs')],
  ['status_code', 'integer', (s) => s.statusCode],
  ['status_message', 'text', (s) => s.statusMessage],
  ['events', 'json', (s) => s.events],
  ['links', 'json', (s) => s.links],
  ['model', 'text', (s) => (typeof s.attributes['model'] === 'string' ? s.attributes['model'] : null)],
];

/** The record as `{c0: …, c1: …}` in column order, nulls left out (json_to_recordset reads a missing key as NULL). */
export function toRow<R>(columns: readonly Column<R>[], record: R): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (let i = 0; i < columns.length; i++) {
    const v = (columns[i] as Column<R>)[2](record);
    if (v !== null && v !== undefined) row[`c${i}`] = v;
  }
  return row;
}

/**
 * PostgreSQL text and json values cannot hold U+0000, and its JSON parser refuses
 * unpaired surrogates. JSON.stringify writes both as \\u escapes, so they are replaced
 * in the JSON text by U+FFFD rather than failing the whole batch. An escape is only
 * one when an even number of backslashes precedes it.
 */
const badEscape = /(?<!\\)((?:\\\\)*)\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})/g;

export function toPgJson(rows: unknown[]): string {
  const json = JSON.stringify(rows);
  return json.includes('\\u') ? json.replace(badEscape, '$1\\ufffd') : json;
}
