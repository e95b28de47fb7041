import { createHash } from 'node:crypto';
import type { EventRecord, Identity, MetricPointRecord, RecordBase, SpanRecord } from '../../src/store/records.js';

/**
 * Small factories for normalized records, for store tests. Every record gets a
 * content-derived id unless one is given, so two calls with the same fields make
 * the same record (as ingest does for a repeated delivery).
 */

export const NS_PER_MS = 1_000_000n;
export const nsOf = (d: Date | string): bigint => BigInt(new Date(d).getTime()) * NS_PER_MS;

export const identity = (over: Partial<Identity> = {}): Identity => ({
  seat: 'email:ada@example.com',
  userEmail: 'ada@example.com',
  userAccountUuid: 'acc-1',
  endUserId: null,
  userId: 'install-1',
  organizationId: 'org-1',
  ...over,
});

type BaseInput = Partial<Omit<RecordBase, 'timeNs'>> & { tenantId: string; time?: Date | string; timeNs?: bigint };

function base(input: BaseInput): Omit<RecordBase, 'id'> {
  return {
    tenantId: input.tenantId,
    timeNs: input.timeNs ?? nsOf(input.time ?? new Date()),
    surface: input.surface ?? 'claude_code',
    serviceName: input.serviceName ?? 'claude-code',
    identity: input.identity ?? identity(),
    sessionId: input.sessionId === undefined ? 'session-1' : input.sessionId,
    attributes: input.attributes ?? {},
    resource: input.resource ?? { 'service.name': 'claude-code' },
    scope: input.scope ?? { name: 'com.anthropic.claude_code', version: '2.1.330', attributes: {} },
  };
}

const idOf = (kind: string, r: object): string =>
  createHash('sha256')
    .update(kind)
    .update(JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)))
    .digest('hex')
    .slice(0, 32);

export function makeEvent(input: BaseInput & Partial<Omit<EventRecord, keyof RecordBase | 'kind'>>): EventRecord {
  const { time: _t, ...over } = input;
  const e: EventRecord = {
    ...base(input),
    kind: 'event',
    observedTimeNs: null,
    name: 'user_prompt',
    promptId: 'prompt-1',
    severityNumber: 9,
    severityText: 'INFO',
    body: 'claude_code.user_prompt',
    traceId: null,
    spanId: null,
    flags: 0,
    facts: {
      model: null,
      costUsd: null,
      inputTokens: null,
      outputTokens: null,
      cacheReadTokens: null,
      cacheCreationTokens: null,
      success: null,
      decision: null,
      toolName: null,
    },
    ...over,
    id: '',
  };
  e.id = input.id ?? idOf('event', { ...e, id: undefined });
  return e;
}

export function makePoint(input: BaseInput & Partial<Omit<MetricPointRecord, keyof RecordBase | 'kind'>>): MetricPointRecord {
  const { time: _t, ...over } = input;
  const p: MetricPointRecord = {
    ...base(input),
    kind: 'point',
    startTimeNs: null,
    name: 'claude_code.token.usage',
    description: 'Number of tokens used',
    unit: 'tokens',
    type: 'sum',
    temporality: 'delta',
    monotonic: true,
    value: 1,
    valueInt: null,
    distribution: null,
    flags: 0,
    seriesKey: 'series-1',
    facts: { model: null, type: null, decision: null, startType: null },
    ...over,
    id: '',
  };
  p.id = input.id ?? idOf('point', { ...p, id: undefined });
  return p;
}

export function makeSpan(input: BaseInput & Partial<Omit<SpanRecord, keyof RecordBase | 'kind'>>): SpanRecord {
  const { time: _t, ...over } = input;
  const b = base(input);
  const s: SpanRecord = {
    ...b,
    kind: 'span',
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    parentSpanId: null,
    traceState: '',
    name: 'claude_code.interaction',
    spanKind: 1,
    endTimeNs: b.timeNs + 1_000_000n,
    statusCode: 0,
    statusMessage: '',
    events: [],
    links: [],
    flags: 0,
    ...over,
    id: '',
  };
  s.id = input.id ?? idOf('span', { ...s, id: undefined });
  return s;
}
