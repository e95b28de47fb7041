import {
  type IdentityKey,
  type Measures,
  type ModelDayRollup,
  type ModelMeasures,
  type SeatDayRollup,
  type Store,
  type Tenant,
  measureNames,
  modelMeasureNames,
} from '../store/store.js';
import { dayRangeNs } from './days.js';
import { type Contribution, EDIT_TOOLS, type SourceGroup, eventContributions, metricNames, metricRules, perModelMeasures } from './measures.js';
import { SeatResolver } from './seats.js';

/** How far back the previous point of a cumulative series is looked for. */
export const CUMULATIVE_LOOKBACK_NS = 2n * 86_400n * 1_000_000_000n;

const zeroMeasures = (): Measures => Object.fromEntries(measureNames.map((m) => [m, 0])) as Measures;
const zeroModelMeasures = (): ModelMeasures => Object.fromEntries(modelMeasureNames.map((m) => [m, 0])) as ModelMeasures;

interface Tagged {
  sessionKey: string;
  identity: IdentityKey;
  surface: string;
  model: string | null;
  group: SourceGroup;
  c: Contribution;
}

export interface DayResult {
  day: string;
  seats: SeatDayRollup[];
  models: ModelDayRollup[];
}

/**
 * Computes one tenant-day from raw records and replaces its rollups. Running it
 * again gives the same rows, so catch-up re-runs and manual re-runs are safe.
 */
export async function computeDay(store: Store, tenant: Tenant, day: string): Promise<DayResult> {
  const range = dayRangeNs(day, tenant.timezone);
  const [events, metrics, identities] = await Promise.all([
    store.eventTotals(tenant.id, range, EDIT_TOOLS),
    store.metricTotals(tenant.id, range, metricNames, CUMULATIVE_LOOKBACK_NS),
    store.listIdentities(tenant.id),
  ]);
  const seats = new SeatResolver(identities);

  // Records without a session id are grouped per identity and surface instead.
  const sessionKey = (sessionId: string | null, identity: IdentityKey, surface: string) =>
    sessionId ?? `no-session|${surface}|${identity.userEmail}|${identity.userAccountUuid}|${identity.endUserId}|${identity.userId}`;

  const fromMetrics: Tagged[] = [];
  const metricGroups = new Set<string>();
  for (const row of metrics) {
    const rule = metricRules[row.name];
    if (!rule) continue;
    const key = sessionKey(row.sessionId, row.identity, row.surface);
    // The session sent this group's counters, even if this particular point does not count.
    metricGroups.add(`${key}|${rule.group}`);
    const measure = rule.measure(row);
    if (measure === null) continue;
    fromMetrics.push({ sessionKey: key, identity: row.identity, surface: row.surface, model: row.model, group: rule.group, c: { measure, value: row.value } });
  }

  const fromEvents: Tagged[] = [];
  const eventSessions = new Map<string, { identity: IdentityKey; surface: string }>();
  for (const row of events) {
    const key = sessionKey(row.sessionId, row.identity, row.surface);
    if (row.sessionId !== null && !eventSessions.has(key)) eventSessions.set(key, { identity: row.identity, surface: row.surface });
    for (const { group, c } of eventContributions(row)) {
      if (!metricGroups.has(`${key}|${group}`)) {
        fromEvents.push({ sessionKey: key, identity: row.identity, surface: row.surface, model: row.model, group, c });
      }
    }
  }
  // Events-only sessions are counted as distinct session ids.
  for (const [key, s] of eventSessions) {
    if (!metricGroups.has(`${key}|sessions`)) {
      fromEvents.push({ sessionKey: key, identity: s.identity, surface: s.surface, model: null, group: 'sessions', c: { measure: 'sessions', value: 1 } });
    }
  }

  const seatRows = new Map<string, SeatDayRollup>();
  const modelRows = new Map<string, ModelDayRollup>();
  for (const t of [...fromMetrics, ...fromEvents]) {
    const seat = seats.seatOf(t.identity);
    const sk = `${seat}\u0000${t.surface}`;
    let sr = seatRows.get(sk);
    if (!sr) seatRows.set(sk, (sr = { day, seat, surface: t.surface, measures: zeroMeasures() }));
    sr.measures[t.c.measure] += t.c.value;
    if (perModelMeasures.has(t.c.measure)) {
      const model = t.model ?? 'unknown';
      const mk = `${sk}\u0000${model}`;
      let mr = modelRows.get(mk);
      if (!mr) modelRows.set(mk, (mr = { day, seat, surface: t.surface, model, measures: zeroModelMeasures() }));
      mr.measures[t.c.measure as keyof ModelMeasures] += t.c.value;
    }
  }
  const result = { day, seats: [...seatRows.values()], models: [...modelRows.values()] };
  await store.replaceDailyRollups(tenant.id, day, result.seats, result.models);
  return result;
}
