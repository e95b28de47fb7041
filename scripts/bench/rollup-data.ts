import { createHash } from 'node:crypto';
import { eventFacts, pointFacts } from '../../src/ingest/facts.js';
import { identityOf } from '../../src/ingest/identity.js';
import type { EventRecord, Identity, MetricPointRecord, RecordBatch, Scope } from '../../src/store/records.js';
import { createRng, type Rng } from './rng.js';
import { METRIC_INFO, sessionPoints } from './session-metrics.js';
import {
  CLAUDE_CODE_VERSION, EVENTS_SCOPE, METRICS_SCOPE, type PlainAttrs, type Seat, eventAttrs, resourceAttrs, simulateSession, standardAttrs,
} from './session-sim.js';

/**
 * A day of Claude Code usage as normalized records (what ingest would have stored),
 * built directly rather than through OTLP: events from simulated sessions and the
 * delta counters each session exports every minute. Facts and identities come from
 * the ingest code itself (eventFacts, pointFacts, identityOf).
 */

export interface DayPlan {
  tenantId: string;
  /** UTC midnight of the day, epoch ms. */
  dayStartMs: number;
  events: number;
  seats: number;
  seed: number;
}

/** What the rollup of the day must show, summed while generating. */
export interface Expected {
  events: number;
  points: number;
  sessions: number;
  byEvent: Record<string, number>;
  toolFailures: number;
  /** Sums of the metric counters, by measure name of the pipeline. */
  metrics: Record<string, number>;
}

const DAY_MS = 86_400_000;
const id32 = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 32);

const seatOf = (i: number): Seat => {
  const n = String(i).padStart(6, '0');
  return {
    email: `dev${n}@bench.example`,
    userId: `86660ac2d38f11efd3fb97e7af15991992397b5ad257aa40de702bda24${n}`,
    accountUuid: `5f0c1c4e-2b7a-4d1e-9c3b-000000${n}`,
    accountId: `user_01BWBeN28bench${n}`,
    organizationId: '2a1f0d7e-6f52-4c1a-8b8e-5d3c9e7f1a20',
  };
};

const measureOfPoint = (name: string, a: PlainAttrs): string | null => {
  switch (name) {
    case 'claude_code.session.count': return 'sessions';
    case 'claude_code.cost.usage': return 'costUsd';
    case 'claude_code.token.usage': return `${String(a['type'])}Tokens`;
    case 'claude_code.lines_of_code.count': return a['type'] === 'added' ? 'linesAdded' : 'linesRemoved';
    case 'claude_code.commit.count': return 'commits';
    case 'claude_code.pull_request.count': return 'pullRequests';
    case 'claude_code.code_edit_tool.decision': return a['decision'] === 'accept' ? 'editAccepts' : 'editRejects';
    case 'claude_code.active_time.total': return a['type'] === 'user' ? 'activeTimeUserSeconds' : 'activeTimeCliSeconds';
    default: return null;
  }
}

/** Splits `total` into `parts` random positive counts of at least `min`. */
function split(rng: Rng, total: number, parts: number, min: number): number[] {
  const w = Array.from({ length: parts }, () => 0.2 + rng.next());
  const sum = w.reduce((a, b) => a + b, 0);
  const out = w.map((x) => Math.max(min, Math.floor((x / sum) * total)));
  out[0] = Math.max(min, (out[0] as number) + total - out.reduce((a, b) => a + b, 0));
  return out;
}

/** Batches of about `batchRecords` records, session by session, seat by seat. */
export function* dayBatches(plan: DayPlan, batchRecords: number, expected: Expected): Generator<RecordBatch> {
  const rng = createRng(plan.seed);
  const resource = resourceAttrs(plan.tenantId);
  const eventScope: Scope = { name: EVENTS_SCOPE, version: CLAUDE_CODE_VERSION, attributes: {} };
  const metricScope: Scope = { name: METRICS_SCOPE, version: CLAUDE_CODE_VERSION, attributes: {} };
  const base = { tenantId: plan.tenantId, surface: 'claude_code', serviceName: 'claude-code', resource };
  let batch: RecordBatch = { events: [], points: [], spans: [] };
  const perSeat = split(rng, plan.events, plan.seats, 1);

  for (let s = 0; s < plan.seats; s++) {
    const seat = seatOf(s);
    const seatEvents = perSeat[s] as number;
    const sessionCounts = split(rng, seatEvents, Math.max(1, Math.min(rng.int(5, 11), Math.floor(seatEvents / 20))), 1);
    for (const count of sessionCounts) {
      const sessionId = rng.uuid();
      const standard = standardAttrs(plan.tenantId, seat, sessionId);
      const identity: Identity = identityOf(standard, resource);
      const sim = simulateSession(rng, count);
      // Sessions longer than most of a day are compressed to fit in it.
      const length = sim[sim.length - 1]?.offsetMs ?? 0;
      const scale = length > DAY_MS * 0.9 ? (DAY_MS * 0.9) / length : 1;
      for (const e of sim) e.offsetMs = Math.floor(e.offsetMs * scale);
      const startMs = plan.dayStartMs + Math.floor(rng.next() * (DAY_MS - length * scale - 1000));
      expected.sessions++;
      sim.forEach((e, seq) => {
        const timeMs = startMs + e.offsetMs;
        const attributes = eventAttrs(standard, e, seq, timeMs);
        const timeNs = BigInt(timeMs) * 1_000_000n + BigInt(seq % 1000);
        batch.events.push({
          ...base, kind: 'event', id: id32(`${sessionId}|${seq}`), timeNs, observedTimeNs: timeNs, identity, sessionId,
          attributes, scope: eventScope, name: e.name, promptId: e.promptId, severityNumber: 0, severityText: null,
          body: `claude_code.${e.name}`, traceId: null, spanId: null, flags: 0, facts: eventFacts(attributes),
        } satisfies EventRecord);
        expected.events++;
        expected.byEvent[e.name] = (expected.byEvent[e.name] ?? 0) + 1;
        if (e.name === 'tool_result' && e.attrs['success'] === 'false') expected.toolFailures++;
      });
      const { points } = sessionPoints(rng, sim, 60_000, plan.dayStartMs + DAY_MS - 1 - startMs);
      for (const p of points) {
        const attributes = { ...standard, ...p.attrs };
        const seriesKey = id32(`${sessionId}|${p.metric}|${JSON.stringify(p.attrs)}`);
        const timeNs = BigInt(startMs + p.offsetMs) * 1_000_000n;
        const startTimeNs = BigInt(startMs + p.startOffsetMs) * 1_000_000n;
        batch.points.push({
          ...base, kind: 'point', id: id32(`${seriesKey}|${timeNs}`), timeNs, startTimeNs, identity, sessionId, attributes,
          scope: metricScope, name: p.metric, description: METRIC_INFO[p.metric]?.description ?? '', unit: METRIC_INFO[p.metric]?.unit ?? '',
          type: 'sum', temporality: 'delta', monotonic: true, value: p.value, valueInt: null, distribution: null, flags: 0,
          seriesKey, facts: pointFacts(attributes),
        } satisfies MetricPointRecord);
        expected.points++;
        const m = measureOfPoint(p.metric, p.attrs);
        if (m !== null) expected.metrics[m] = (expected.metrics[m] ?? 0) + p.value;
      }
      if (batch.events.length + batch.points.length >= batchRecords) {
        yield batch;
        batch = { events: [], points: [], spans: [] };
      }
    }
  }
  if (batch.events.length + batch.points.length > 0) yield batch;
}

export const emptyExpected = (): Expected => ({ events: 0, points: 0, sessions: 0, byEvent: {}, toolFailures: 0, metrics: {} });
