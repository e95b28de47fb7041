import type { EventRecord, MetricPointRecord, RecordBase, SpanRecord } from '../records.js';

/**
 * Records become JSON rows that one `json_to_recordset` statement inserts, so a
 * statement has two parameters whatever the number of rows and the serializing is
 * done by JSON.stringify. Column names here match the tables'.
 */

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function int64(ns: bigint, record: RecordBase, field: string): string {
  if (ns < INT64_MIN || ns > INT64_MAX) {
    throw new RangeError(`record ${record.id}: ${field} ${ns} does not fit a signed 64-bit integer`);
  }
  return ns.toString();
}

const optInt64 = (ns: bigint | null, record: RecordBase, field: string): string | null =>
  ns === null ? null : int64(ns, record, field);

/** Microseconds since the epoch, floored: `ts` and the day of the partition agree on midnight. */
function tsMicros(ns: bigint): string {
  const q = ns / 1000n;
  return (ns < 0n && q * 1000n !== ns ? q - 1n : q).toString();
}

function common(r: RecordBase) {
  return {
    id: r.id,
    ts_us: tsMicros(r.timeNs),
    time_ns: int64(r.timeNs, r, 'timeNs'),
    surface: r.surface,
    service_name: r.serviceName,
    seat: r.identity.seat,
    user_email: r.identity.userEmail,
    user_account_uuid: r.identity.userAccountUuid,
    end_user_id: r.identity.endUserId,
    user_id: r.identity.userId,
    organization_id: r.identity.organizationId,
    session_id: r.sessionId,
    attributes: r.attributes,
    resource: r.resource,
    scope: r.scope,
  };
}

/** SQL column list and json_to_recordset types of `common`, in the same order. */
export const commonColumns: readonly (readonly [string, string])[] = [
  ['id', 'text'],
  ['time_ns', 'bigint'],
  ['surface', 'text'],
  ['service_name', 'text'],
  ['seat', 'text'],
  ['user_email', 'text'],
  ['user_account_uuid', 'text'],
  ['end_user_id', 'text'],
  ['user_id', 'text'],
  ['organization_id', 'text'],
  ['session_id', 'text'],
  ['name', 'text'],
  ['flags', 'bigint'],
  ['attributes', 'jsonb'],
  ['resource', 'jsonb'],
  ['scope', 'jsonb'],
];

/** PostgreSQL's float8 takes 'NaN' and '±Infinity' as text; JSON has no way to say them. */
const float8 = (v: number | null): number | string | null => (v === null || Number.isFinite(v) ? v : String(v));

export const eventRow = (e: EventRecord) =>
  // Object.assign, not spread: spreading a wide object and adding more keys is ~20x slower in V8.
  Object.assign(common(e), {
    name: e.name,
    flags: e.flags,
    observed_time_ns: optInt64(e.observedTimeNs, e, 'observedTimeNs'),
    prompt_id: e.promptId,
    severity_number: e.severityNumber,
    severity_text: e.severityText,
    trace_id: e.traceId,
    span_id: e.spanId,
    body: e.body,
    model: e.facts.model,
    cost_usd: float8(e.facts.costUsd),
    input_tokens: float8(e.facts.inputTokens),
    output_tokens: float8(e.facts.outputTokens),
    cache_read_tokens: float8(e.facts.cacheReadTokens),
    cache_creation_tokens: float8(e.facts.cacheCreationTokens),
    success: e.facts.success,
    decision: e.facts.decision,
    tool_name: e.facts.toolName,
  });

export const eventColumns = [
  ['observed_time_ns', 'bigint'],
  ['prompt_id', 'text'],
  ['severity_number', 'integer'],
  ['severity_text', 'text'],
  ['trace_id', 'text'],
  ['span_id', 'text'],
  ['body', 'jsonb'],
  ['model', 'text'],
  ['cost_usd', 'double precision'],
  ['input_tokens', 'double precision'],
  ['output_tokens', 'double precision'],
  ['cache_read_tokens', 'double precision'],
  ['cache_creation_tokens', 'double precision'],
  ['success', 'boolean'],
  ['decision', 'text'],
  ['tool_name', 'text'],
] as const;

export const pointRow = (p: MetricPointRecord) =>
  // Object.assign, not spread: spreading a wide object and adding more keys is ~20x slower in V8.
  Object.assign(common(p), {
    name: p.name,
    flags: p.flags,
    start_time_ns: optInt64(p.startTimeNs, p, 'startTimeNs'),
    series_key: p.seriesKey,
    description: p.description,
    unit: p.unit,
    type: p.type,
    temporality: p.temporality,
    monotonic: p.monotonic,
    value: float8(p.value),
    value_int: p.valueInt,
    distribution: p.distribution,
    model: p.facts.model,
    attr_type: p.facts.type,
    decision: p.facts.decision,
    start_type: p.facts.startType,
  });

export const pointColumns = [
  ['start_time_ns', 'bigint'],
  ['series_key', 'text'],
  ['description', 'text'],
  ['unit', 'text'],
  ['type', 'text'],
  ['temporality', 'text'],
  ['monotonic', 'boolean'],
  ['value', 'double precision'],
  ['value_int', 'text'],
  ['distribution', 'jsonb'],
  ['model', 'text'],
  ['attr_type', 'text'],
  ['decision', 'text'],
  ['start_type', 'text'],
] as const;

export const spanRow = (s: SpanRecord) =>
  // Object.assign, not spread: spreading a wide object and adding more keys is ~20x slower in V8.
  Object.assign(common(s), {
    name: s.name,
    flags: s.flags,
    trace_id: s.traceId,
    span_id: s.spanId,
    parent_span_id: s.parentSpanId,
    trace_state: s.traceState,
    kind: s.spanKind,
    end_time_ns: int64(s.endTimeNs, s, 'endTimeNs'),
    status_code: s.statusCode,
    status_message: s.statusMessage,
    events: s.events,
    links: s.links,
    model: typeof s.attributes['model'] === 'string' ? s.attributes['model'] : null,
  });

export const spanColumns = [
  ['trace_id', 'text'],
  ['span_id', 'text'],
  ['parent_span_id', 'text'],
  ['trace_state', 'text'],
  ['kind', 'integer'],
  ['end_time_ns', 'bigint'],
  ['status_code', 'integer'],
  ['status_message', 'text'],
  ['events', 'jsonb'],
  ['links', 'jsonb'],
  ['model', 'text'],
] as const;

/**
 * PostgreSQL text and jsonb cannot hold U+0000, and its JSON parser refuses unpaired
 * surrogates. JSON.stringify writes both as \\u escapes, so they are replaced in the
 * JSON text by U+FFFD, rather than failing the whole batch. An escape is only one when
 * an even number of backslashes precedes it.
 */
const badEscape = /(?<!\\)((?:\\\\)*)\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})/g;

export function toPgJson(rows: unknown[]): string {
  const json = JSON.stringify(rows);
  return json.includes('\\u') ? json.replace(badEscape, '$1\\ufffd') : json;
}
