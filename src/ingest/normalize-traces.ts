import type { ExportTraceServiceRequest, Span } from '../otlp/types.js';
import type { Scope, SpanRecord } from '../store/records.js';
import { remembered } from '../store/json-text.js';
import { LimitError, attrString, toAttributes } from './attributes.js';
import { identityOf } from './identity.js';
import { keyProblem } from './key-limits.js';
import { applyPolicy } from './privacy.js';
import {
  MAX_TIME_NS,
  type NormalizeOptions,
  type ResourceContext,
  Rejections,
  checkOrganization,
  digest,
  normalizeBlocks,
  timeProblem,
} from './normalize-common.js';

function toSpan(s: Span, rc: ResourceContext, scope: Scope, opts: NormalizeOptions): SpanRecord | string {
  if (s.traceId === '' || /^0+$/.test(s.traceId)) return 'span without a valid trace id';
  if (s.spanId === '' || /^0+$/.test(s.spanId)) return 'span without a valid span id';
  const problem = timeProblem(s.startTimeUnixNano, opts);
  if (problem) return problem;
  if (s.endTimeUnixNano < s.startTimeUnixNano || s.endTimeUnixNano > MAX_TIME_NS) return 'span end time before its start or out of range';
  const policy = opts.tenant.policy;
  // tool.output span events carry tool input and output bodies.
  const spanEvents = policy.toolDetails === 'drop' ? s.events.filter((e) => e.name !== 'tool.output') : s.events;
  let attributes: SpanRecord['attributes'];
  let events: SpanRecord['events'];
  let links: SpanRecord['links'];
  try {
    attributes = applyPolicy(toAttributes(s.attributes, opts.limits), policy);
    events = spanEvents.map((e) => ({ timeNs: e.timeUnixNano.toString(), name: e.name, attributes: applyPolicy(toAttributes(e.attributes, opts.limits), policy) }));
    links = s.links.map((l) => ({ traceId: l.traceId, spanId: l.spanId, traceState: l.traceState, attributes: toAttributes(l.attributes, opts.limits) }));
  } catch (e) {
    if (e instanceof LimitError) return e.message;
    throw e;
  }
  const identity = identityOf(attributes, rc.resource);
  const badKey = keyProblem({ label: 'span name', value: s.name }, identity, null);
  if (badKey) return badKey;
  checkOrganization(identity.organizationId, opts);
  return {
    kind: 'span',
    id: digest('t', rc.digest, s.traceId, s.spanId, s.startTimeUnixNano, s.endTimeUnixNano, remembered(attributes)),
    tenantId: opts.tenant.id,
    timeNs: s.startTimeUnixNano,
    surface: rc.surface,
    serviceName: rc.serviceName,
    identity,
    sessionId: attrString(attributes, 'session.id') ?? attrString(rc.resource, 'session.id'),
    attributes,
    resource: rc.resource,
    scope,
    traceId: s.traceId,
    spanId: s.spanId,
    parentSpanId: s.parentSpanId === '' ? null : s.parentSpanId,
    traceState: s.traceState,
    name: s.name,
    spanKind: s.kind,
    endTimeNs: s.endTimeUnixNano,
    statusCode: s.status.code,
    statusMessage: s.status.message,
    events,
    links,
    flags: s.flags,
  };
}

/** Every span becomes a span record; invalid ones are counted in `rejections`. */
export function normalizeTraces(req: ExportTraceServiceRequest, opts: NormalizeOptions, rejections: Rejections): SpanRecord[] {
  const blocks = req.resourceSpans.map((rs) => ({ resource: rs.resource, scopes: rs.scopeSpans.map((ss) => ({ scope: ss.scope, items: ss.spans })) }));
  return normalizeBlocks(blocks, opts, rejections, (s, rc, scope) => toSpan(s, rc, scope, opts));
}
