import type { Db, Document } from 'mongodb';
import type { EventTotalsRow, IdentityKey, MetricTotalsRow, SurfaceSeen, TimeRange } from '../store.js';
import { regular, timeSeries } from './collections.js';
import { keyOf, nsValue, oncePerRecord, orNull, rawRecords, toNumber, whoFields } from './raw-stages.js';
import { foldBySessionMetrics, type SessionEventTotals } from './session-fold.js';

/**
 * The pipeline's reads, as aggregations with the semantics of the PostgreSQL adapter's
 * SQL (src/store/postgres/reads.ts). Each starts with the tenant's records in the range
 * and collapses repeated deliveries into one record (oncePerRecord) before counting.
 */

const aggregateOptions = { allowDiskUse: true, maxTimeMS: 10 * 60_000 };

const who = ['sessionId', 'userEmail', 'userAccountUuid', 'endUserId', 'userId', 'surface'] as const;

interface WhoKey {
  sessionId: string | null;
  userEmail: string | null;
  userAccountUuid: string | null;
  endUserId: string | null;
  userId: string | null;
  surface: string;
}

const identityOf = (k: Omit<WhoKey, 'sessionId' | 'surface'>): IdentityKey => ({
  userEmail: k.userEmail ?? null,
  userAccountUuid: k.userAccountUuid ?? null,
  endUserId: k.endUserId ?? null,
  userId: k.userId ?? null,
});

const countWhere = (condition: Document): Document => ({ $sum: { $cond: [condition, 1, 0] } });

interface EventGroup {
  _id: WhoKey & { model: string | null; name: string };
  count: unknown;
  failures: unknown;
  accepts: unknown;
  rejects: unknown;
  costUsd: unknown;
  inputTokens: unknown;
  outputTokens: unknown;
  cacheReadTokens: unknown;
  cacheCreationTokens: unknown;
}

/** The points metricTotals reads, before repeated deliveries collapse. */
const readPoints = (names: readonly string[]): Document => ({
  'meta.name': { $in: [...names] },
  type: 'sum',
  monotonic: true,
  value: { $ne: null },
  flags: { $bitsAllClear: 1 },
});

/** The metric names each session sent points of in the range. */
async function sessionMetrics(db: Db, tenantId: string, range: TimeRange, names: readonly string[]): Promise<Map<string, string[]>> {
  const pipeline: Document[] = [
    ...rawRecords('point', tenantId, range.fromNs, range.toNs, { ...readPoints(names), sessionId: { $ne: null } }),
    { $group: { _id: '$sessionId', names: { $addToSet: '$meta.name' } } },
  ];
  const rows = await db.collection(timeSeries.point).aggregate<{ _id: string; names: string[] }>(pipeline, aggregateOptions).toArray();
  return new Map(rows.map((r) => [r._id, r.names.sort()]));
}

/**
 * Grouped per session here, then folded by what each session sent (session-fold.ts):
 * the same rows as the PostgreSQL adapter, which does the folding in its SQL.
 */
export async function eventTotals(db: Db, tenantId: string, range: TimeRange, editTools: readonly string[], metricNames: readonly string[]): Promise<EventTotalsRow[]> {
  const [perSession, sent] = await Promise.all([eventTotalsPerSession(db, tenantId, range, editTools), sessionMetrics(db, tenantId, range, metricNames)]);
  return foldBySessionMetrics(perSession, sent);
}

async function eventTotalsPerSession(db: Db, tenantId: string, range: TimeRange, editTools: readonly string[]): Promise<SessionEventTotals[]> {
  // $literal: a tool name starting with "$" must not be read as a field path.
  const editDecision = (decision: string) => ({
    $and: [{ $eq: ['$name', 'tool_decision'] }, { $in: ['$toolName', { $literal: [...editTools] }] }, { $eq: ['$decision', decision] }],
  });
  const pipeline: Document[] = [
    ...rawRecords('event', tenantId, range.fromNs, range.toNs),
    {
      $project: {
        _id: 0,
        id: 1,
        ns: 1,
        ...whoFields,
        model: orNull('$model'),
        success: orNull('$success'),
        decision: orNull('$decision'),
        toolName: orNull('$toolName'),
        costUsd: 1,
        inputTokens: 1,
        outputTokens: 1,
        cacheReadTokens: 1,
        cacheCreationTokens: 1,
      },
    },
    ...oncePerRecord,
    {
      $group: {
        _id: keyOf([...who, 'model', 'name']),
        count: { $sum: 1 },
        failures: countWhere({ $eq: ['$success', false] }),
        accepts: countWhere(editDecision('accept')),
        rejects: countWhere(editDecision('reject')),
        // $sum skips nulls and is 0 over none, as coalesce(sum(x), 0) is.
        costUsd: { $sum: '$costUsd' },
        inputTokens: { $sum: '$inputTokens' },
        outputTokens: { $sum: '$outputTokens' },
        cacheReadTokens: { $sum: '$cacheReadTokens' },
        cacheCreationTokens: { $sum: '$cacheCreationTokens' },
      },
    },
  ];
  const rows = await db.collection(timeSeries.event).aggregate<EventGroup>(pipeline, aggregateOptions).toArray();
  return rows.map((r): SessionEventTotals => ({
    sessionId: r._id.sessionId ?? null,
    identity: identityOf(r._id),
    surface: r._id.surface,
    model: r._id.model ?? null,
    name: r._id.name,
    count: toNumber(r.count),
    failures: toNumber(r.failures),
    accepts: toNumber(r.accepts),
    rejects: toNumber(r.rejects),
    costUsd: toNumber(r.costUsd),
    inputTokens: toNumber(r.inputTokens),
    outputTokens: toNumber(r.outputTokens),
    cacheReadTokens: toNumber(r.cacheReadTokens),
    cacheCreationTokens: toNumber(r.cacheCreationTokens),
  }));
}

interface MetricGroup {
  _id: Omit<WhoKey, 'sessionId'> & { sessioned: boolean; name: string; model: string | null; type: string | null; decision: string | null; startType: string | null };
  value: unknown;
}

/**
 * Delta points add their value. Cumulative points add their increase over the previous
 * point of the same series (seriesKey + start time, ordered by time then id), looking
 * back `lookbackNs` before the range for it; a drop is a reset and adds the new value;
 * a first point adds its value only when its series started within the lookback (and
 * before the point), else it is a baseline. Points flagged NO_RECORDED_VALUE (flags
 * bit 0) are left out before anything else, as are repeated deliveries.
 */
export async function metricTotals(db: Db, tenantId: string, range: TimeRange, names: readonly string[], lookbackNs: bigint): Promise<MetricTotalsRow[]> {
  const lookFrom = range.fromNs - lookbackNs;
  const firstPointCounts = {
    $and: [{ $ne: ['$startNs', null] }, { $gte: ['$startNs', nsValue(lookFrom)] }, { $lt: ['$startNs', '$ns'] }],
  };
  const increase = {
    $switch: {
      branches: [
        { case: { $eq: ['$temporality', 'delta'] }, then: '$value' },
        // Sums always carry a temporality; "unspecified" adds nothing.
        { case: { $ne: ['$temporality', 'cumulative'] }, then: 0 },
        { case: { $eq: ['$prev', null] }, then: { $cond: [firstPointCounts, '$value', 0] } },
        { case: { $gte: ['$value', '$prev'] }, then: { $subtract: ['$value', '$prev'] } },
      ],
      default: '$value', // a reset: the counter started again from zero
    },
  };
  const split = [...who.filter((f) => f !== 'sessionId'), 'name', 'model', 'type', 'decision', 'startType'] as const;
  const pipeline: Document[] = [
    ...rawRecords('point', tenantId, lookFrom, range.toNs, readPoints(names)),
    {
      $project: {
        _id: 0,
        id: 1,
        ns: 1,
        ...whoFields,
        model: orNull('$model'),
        type: orNull('$attrType'),
        decision: orNull('$decision'),
        startType: orNull('$startType'),
        seriesKey: 1,
        startNs: orNull('$startNs'),
        temporality: orNull('$temporality'),
        value: 1,
      },
    },
    ...oncePerRecord,
    {
      $setWindowFields: {
        partitionBy: { seriesKey: '$seriesKey', startNs: '$startNs' },
        sortBy: { ns: 1, id: 1 },
        output: { prev: { $shift: { output: '$value', by: -1, default: null } } },
      },
    },
    // Points of the lookback only served as previous points.
    { $match: { ns: { $gte: nsValue(range.fromNs) } } },
    { $group: { _id: { ...keyOf(split), sessioned: { $ne: ['$sessionId', null] } }, value: { $sum: increase } } },
  ];
  const rows = await db.collection(timeSeries.point).aggregate<MetricGroup>(pipeline, aggregateOptions).toArray();
  return rows.map((r) => ({
    sessioned: r._id.sessioned,
    identity: identityOf(r._id),
    surface: r._id.surface,
    name: r._id.name,
    model: r._id.model ?? null,
    type: r._id.type ?? null,
    decision: r._id.decision ?? null,
    startType: r._id.startType ?? null,
    value: toNumber(r.value),
  }));
}

interface IdentityDoc extends IdentityKey {
  firstSeen: Date;
}

export async function listIdentities(db: Db, tenantId: string, since?: Date): Promise<IdentityKey[]> {
  const filter = since === undefined ? { tenant: tenantId } : { tenant: tenantId, lastReceivedAt: { $gte: since } };
  const docs = await db
    .collection<IdentityDoc>(regular.seatIdentities)
    .find(filter)
    .sort({ firstSeen: 1, userEmail: 1, userAccountUuid: 1, endUserId: 1, userId: 1 })
    .toArray();
  return docs.map(identityOf);
}

export async function surfacesSeen(db: Db, tenantId: string): Promise<SurfaceSeen[]> {
  const docs = await db
    .collection<{ surface: string; lastReceivedAt: Date }>(regular.surfacesSeen)
    .find({ tenant: tenantId })
    .sort({ surface: 1 })
    .toArray();
  return docs.map((d) => ({ surface: d.surface, lastSeenAt: d.lastReceivedAt }));
}
