import { Double, Long, type ObjectId } from 'mongodb';
import { jsonText } from '../json-text.js';
import type { EventRecord, MetricPointRecord, RecordBase, SpanRecord } from '../records.js';

/**
 * How records become documents of the time-series collections.
 *
 * - `time` (the timeField) is the record time as a BSON Date (milliseconds); `ns` keeps
 *   the exact nanoseconds as a 64-bit Long, and every read filters on both.
 * - `meta` (the metaField) is `{ tenant, surface, name }`: a tenant has a few surfaces
 *   and a few dozen event, metric and span names, so buckets stay few and full.
 *   Sessions, seats and prompts are measurements, or every session would get its own
 *   buckets.
 * - `batch` is the writeBatch call that wrote the document, so a batch that failed
 *   half-way can be removed without touching earlier copies of the same records.
 * - Attributes, resource, scope, bodies and distributions are kept as JSON text, as the
 *   PostgreSQL adapter keeps them (src/store/json-text.ts): OpenTelemetry attribute keys hold
 *   dots ("session.id") and may start with "$", which MongoDB field names allow only
 *   with caveats (no dotted query paths, restrictions in time-series buckets), and
 *   nothing queries them; the pipeline reads the typed fields.
 * - Nullable fields are written as null, never left out, so grouping sees one value.
 */
export type RecordKind = 'event' | 'point' | 'span';

const INT64_MAX = 2n ** 63n - 1n;
export const NS_PER_MS = 1_000_000n;

/** OTLP times are uint64; a BSON Long (like PostgreSQL's bigint) stops at 2^63 - 1 (year 2262). */
function int64(ns: bigint, record: RecordBase, field: string): Long {
  if (ns < 0n || ns > INT64_MAX) throw new RangeError(`record ${record.id}: ${field} ${ns} is outside 0..2^63-1`);
  return Long.fromBigInt(ns);
}
const optInt64 = (ns: bigint | null, record: RecordBase, field: string): Long | null => (ns === null ? null : int64(ns, record, field));

const maybeBad = /[\0\ud800-\udfff]/;
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * U+0000 and unpaired surrogates become U+FFFD, as in the PostgreSQL adapter, so both
 * stores keep the same text (BSON strings are UTF-8, which cannot encode a lone surrogate).
 */
export function clean(s: string): string {
  return maybeBad.test(s) ? s.replaceAll('\0', '\ufffd').replace(loneSurrogate, '\ufffd') : s;
}
const optClean = (s: string | null): string | null => (s === null ? null : clean(s));

/** Doubles stay doubles in BSON (a whole number would otherwise become an int32), so a field keeps one type. */
const double = (v: number | null): Double | null => (v === null ? null : new Double(v));

function common(r: RecordBase, tenant: string, name: string, batch: ObjectId) {
  const ns = int64(r.timeNs, r, 'timeNs');
  return {
    time: new Date(Number(r.timeNs / NS_PER_MS)),
    meta: { tenant, surface: clean(r.surface), name: clean(name) },
    id: clean(r.id),
    ns,
    batch,
    seat: optClean(r.identity.seat),
    userEmail: optClean(r.identity.userEmail),
    userAccountUuid: optClean(r.identity.userAccountUuid),
    endUserId: optClean(r.identity.endUserId),
    userId: optClean(r.identity.userId),
    organizationId: optClean(r.identity.organizationId),
    sessionId: optClean(r.sessionId),
    serviceName: optClean(r.serviceName),
  };
}

const documentsOf = (r: RecordBase) => ({
  attributes: jsonText(r.attributes),
  resource: jsonText(r.resource),
  scope: jsonText(r.scope),
});

export function eventDocument(e: EventRecord, tenant: string, batch: ObjectId) {
  const f = e.facts;
  return {
    ...common(e, tenant, e.name, batch),
    model: optClean(f.model),
    costUsd: double(f.costUsd),
    inputTokens: double(f.inputTokens),
    outputTokens: double(f.outputTokens),
    cacheReadTokens: double(f.cacheReadTokens),
    cacheCreationTokens: double(f.cacheCreationTokens),
    success: f.success,
    decision: optClean(f.decision),
    toolName: optClean(f.toolName),
    observedNs: optInt64(e.observedTimeNs, e, 'observedTimeNs'),
    promptId: optClean(e.promptId),
    severityNumber: e.severityNumber,
    severityText: optClean(e.severityText),
    traceId: optClean(e.traceId),
    spanId: optClean(e.spanId),
    flags: e.flags,
    body: jsonText(e.body),
    ...documentsOf(e),
  };
}

export function pointDocument(p: MetricPointRecord, tenant: string, batch: ObjectId) {
  return {
    ...common(p, tenant, p.name, batch),
    startNs: optInt64(p.startTimeNs, p, 'startTimeNs'),
    seriesKey: clean(p.seriesKey),
    description: clean(p.description),
    unit: clean(p.unit),
    type: p.type,
    temporality: p.temporality,
    monotonic: p.monotonic,
    value: double(p.value),
    valueInt: p.valueInt,
    distribution: p.distribution === null ? null : jsonText(p.distribution),
    flags: p.flags,
    model: optClean(p.facts.model),
    attrType: optClean(p.facts.type),
    decision: optClean(p.facts.decision),
    startType: optClean(p.facts.startType),
    ...documentsOf(p),
  };
}

export function spanDocument(s: SpanRecord, tenant: string, batch: ObjectId) {
  const model = s.attributes['model'];
  return {
    ...common(s, tenant, s.name, batch),
    traceId: clean(s.traceId),
    spanId: clean(s.spanId),
    parentSpanId: optClean(s.parentSpanId),
    traceState: clean(s.traceState),
    spanKind: s.spanKind,
    endNs: int64(s.endTimeNs, s, 'endTimeNs'),
    statusCode: s.statusCode,
    statusMessage: clean(s.statusMessage),
    events: jsonText(s.events),
    links: jsonText(s.links),
    flags: s.flags,
    model: typeof model === 'string' ? clean(model) : null,
    ...documentsOf(s),
  };
}

export type RecordDocument = ReturnType<typeof eventDocument> | ReturnType<typeof pointDocument> | ReturnType<typeof spanDocument>;
