import { remembered } from '../store/json-text.js';
import type { ExportLogsServiceRequest, LogRecord } from '../otlp/types.js';
import type { EventRecord, Scope } from '../store/records.js';
import { LimitError, attrString, toAttrValue, toAttributes } from './attributes.js';
import { eventFacts } from './facts.js';
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

const EVENT_PREFIX = 'claude_code.';
const bare = (name: string): string => (name.startsWith(EVENT_PREFIX) ? name.slice(EVENT_PREFIX.length) : name);

/** Claude Code names events in the body (`claude_code.user_prompt`); others use `event.name` or LogRecord.event_name. */
function eventName(body: EventRecord['body'], attrs: EventRecord['attributes'], lr: LogRecord): string {
  if (typeof body === 'string' && body.startsWith(EVENT_PREFIX)) return bare(body);
  return bare(attrString(attrs, 'event.name') ?? lr.eventName);
}

function toEvent(lr: LogRecord, rc: ResourceContext, scope: Scope, opts: NormalizeOptions): EventRecord | string {
  // A log record may carry only the time it was observed.
  const timeNs = lr.timeUnixNano !== 0n ? lr.timeUnixNano : lr.observedTimeUnixNano;
  const problem = timeProblem(timeNs, opts);
  if (problem) return problem;
  let attributes: EventRecord['attributes'];
  let body: EventRecord['body'];
  try {
    attributes = toAttributes(lr.attributes, opts.limits);
    body = toAttrValue(lr.body, opts.limits);
  } catch (e) {
    if (e instanceof LimitError) return e.message;
    throw e;
  }
  const name = eventName(body, attributes, lr);
  attributes = applyPolicy(attributes, opts.tenant.policy, name);
  const identity = identityOf(attributes, rc.resource);
  const facts = eventFacts(attributes);
  const badKey = keyProblem({ label: 'event name', value: name }, identity, facts.model);
  if (badKey) return badKey;
  checkOrganization(identity.organizationId, opts);
  const attrsJson = remembered(attributes);
  const bodyJson = remembered(body);
  return {
    kind: 'event',
    id: digest('e', rc.digest, scope.name, scope.version, timeNs, lr.observedTimeUnixNano, lr.severityNumber,
      lr.severityText, bodyJson, attrsJson, lr.traceId, lr.spanId, lr.eventName, lr.flags),
    tenantId: opts.tenant.id,
    timeNs,
    observedTimeNs: lr.observedTimeUnixNano === 0n || lr.observedTimeUnixNano > MAX_TIME_NS ? null : lr.observedTimeUnixNano,
    surface: rc.surface,
    serviceName: rc.serviceName,
    identity,
    sessionId: attrString(attributes, 'session.id') ?? attrString(rc.resource, 'session.id'),
    promptId: attrString(attributes, 'prompt.id'),
    name,
    severityNumber: lr.severityNumber,
    severityText: lr.severityText === '' ? null : lr.severityText,
    body,
    attributes,
    resource: rc.resource,
    scope,
    traceId: lr.traceId === '' ? null : lr.traceId,
    spanId: lr.spanId === '' ? null : lr.spanId,
    flags: lr.flags,
    facts,
  };
}

/** Every log record becomes an event; the ones that cannot be kept are counted in `rejections`. */
export function normalizeLogs(req: ExportLogsServiceRequest, opts: NormalizeOptions, rejections: Rejections): EventRecord[] {
  const blocks = req.resourceLogs.map((rl) => ({ resource: rl.resource, scopes: rl.scopeLogs.map((sl) => ({ scope: sl.scope, items: sl.logRecords })) }));
  return normalizeBlocks(blocks, opts, rejections, (lr, rc, scope) => toEvent(lr, rc, scope, opts));
}
