import type pg from 'pg';
import type { EventTotalsRow, IdentityKey, MetricTotalsRow, SurfaceSeen, TimeRange } from '../store.js';
import { inBackgroundTransaction, withClient } from './pool.js';

/**
 * The pipeline's reads, from the narrow event_facts and point_facts (schema.ts, version 4)
 * rather than the wide tables. Filters are on the exact `time_ns`, plus the `ts` range
 * that covers it, which is what lets PostgreSQL skip the partitions of other days.
 */

const floorDiv = (a: bigint, b: bigint): bigint => {
  const q = a / b;
  return a < 0n && q * b !== a ? q - 1n : q;
};

/** [fromNs, toNs) as parameters: the ns bounds and the µs bounds of `ts` (ts = floor(time_ns / 1000)). */
const bounds = (fromNs: bigint, toNs: bigint) => [
  fromNs.toString(),
  toNs.toString(),
  floorDiv(fromNs, 1000n).toString(),
  (floorDiv(toNs - 1n, 1000n) + 1n).toString(),
];

const tsParam = (n: number) => `timestamptz '1970-01-01 00:00:00+00' + $${n}::bigint * interval '1 microsecond'`;

const timeFilter = (first: number) =>
  `time_ns >= $${first} AND time_ns < $${first + 1} AND ts >= ${tsParam(first + 2)} AND ts < ${tsParam(first + 3)}`;

interface IdentityCols {
  user_email: string | null;
  user_account_uuid: string | null;
  end_user_id: string | null;
  user_id: string | null;
}

const identityOf = (r: IdentityCols): IdentityKey => ({
  userEmail: r.user_email,
  userAccountUuid: r.user_account_uuid,
  endUserId: r.end_user_id,
  userId: r.user_id,
});

const identityCols = 'user_email, user_account_uuid, end_user_id, user_id, surface';

/** The points metricTotals reads: of the tenant in $1, named in $6, within the four time bounds from $first. */
const readPoints = (first: number) =>
  `tenant_id = $1 AND ${timeFilter(first)} AND name = ANY($6) AND type = 'sum' AND monotonic AND value IS NOT NULL AND recorded`;

/**
 * - Hash the groups. The planner guesses them as the product of the key columns' distinct
 *   counts (2 to 10 million for a 10M-event day that has 20 to 30 thousand) and would sort
 *   the whole day to group it: 35 to 60 s instead of about 5. A hash table that outgrows
 *   work_mem spills to disk rather than failing, so a day that really has millions of
 *   groups still completes. The window over cumulative points still sorts: it has no
 *   other plan.
 * - No parallel workers: computeDay runs the two reads at once, one per core, and a
 *   parallel plan of eventTotals made each worker aggregate the day's points again for
 *   its own copy of the `sent` hash table.
 */
const PLAN_SETTINGS = 'SET LOCAL enable_sort = off; SET LOCAL max_parallel_workers_per_gather = 0';

/** Names for each bit mask over `names` (bit i = names[i]), sorted, built once per mask. */
function namesOfMask(names: readonly string[]): (mask: number) => readonly string[] {
  const seen = new Map<number, readonly string[]>();
  return (mask) => {
    let out = seen.get(mask);
    if (out === undefined) {
      out = names.filter((_, i) => (mask & (1 << i)) !== 0).sort();
      seen.set(mask, out);
    }
    return out;
  };
}

export async function eventTotals(
  pool: pg.Pool,
  tenantId: string,
  range: TimeRange,
  editTools: readonly string[],
  metricNames: readonly string[],
): Promise<EventTotalsRow[]> {
  if (metricNames.length > 31) throw new Error('eventTotals: at most 31 metric names fit the session mask');
  // Which metrics each session sent is a bit mask here, so the events of a session that
  // sent metrics fold into their seat's rows: a fleet's day is thousands of groups, not
  // the hundreds of thousands of (session, model, name) ones, which are the cost of the
  // aggregation and of moving its rows to the service.
  const sql = `
WITH sent AS (
  SELECT session_id, bit_or(1 << (array_position($6::text[], name) - 1)) AS mask
  FROM point_facts
  WHERE ${readPoints(2)} AND session_id IS NOT NULL
  GROUP BY session_id
)
SELECT ${identityCols}, model, name, coalesce(sent.mask, 0) AS mask,
  CASE WHEN sent.mask IS NULL THEN session_id END AS session_id,
  count(*)::int AS count,
  count(*) FILTER (WHERE success = false)::int AS failures,
  count(*) FILTER (WHERE name = 'tool_decision' AND tool_name = ANY($7) AND decision = 'accept')::int AS accepts,
  count(*) FILTER (WHERE name = 'tool_decision' AND tool_name = ANY($7) AND decision = 'reject')::int AS rejects,
  coalesce(sum(cost_usd), 0) AS cost_usd,
  coalesce(sum(input_tokens), 0) AS input_tokens,
  coalesce(sum(output_tokens), 0) AS output_tokens,
  coalesce(sum(cache_read_tokens), 0) AS cache_read_tokens,
  coalesce(sum(cache_creation_tokens), 0) AS cache_creation_tokens
FROM event_facts LEFT JOIN sent USING (session_id)
WHERE tenant_id = $1 AND ${timeFilter(2)}
GROUP BY ${identityCols}, model, name, sent.mask, CASE WHEN sent.mask IS NULL THEN session_id END`;
  const namesOf = namesOfMask(metricNames);
  return inBackgroundTransaction(pool, 'read event totals', async (query) => {
    await query(PLAN_SETTINGS);
    const { rows } = await query(sql, [tenantId, ...bounds(range.fromNs, range.toNs), [...metricNames], [...editTools]]);
    return rows.map((r) => ({
      sessionMetrics: namesOf(r.mask),
      sessionId: r.session_id,
      identity: identityOf(r),
      surface: r.surface,
      model: r.model,
      name: r.name,
      count: r.count,
      failures: r.failures,
      accepts: r.accepts,
      rejects: r.rejects,
      costUsd: r.cost_usd,
      inputTokens: r.input_tokens,
      outputTokens: r.output_tokens,
      cacheReadTokens: r.cache_read_tokens,
      cacheCreationTokens: r.cache_creation_tokens,
    }));
  });
}

/**
 * Delta points add their value. Cumulative points add their increase over the previous
 * point of the same series (series_key + start time), looking back `lookbackNs` before
 * the range for it; a drop is a reset and adds the new value; a first point adds its
 * value only when its series started within the lookback, else it is a baseline.
 */
export async function metricTotals(
  pool: pg.Pool,
  tenantId: string,
  range: TimeRange,
  names: readonly string[],
  lookbackNs: bigint,
): Promise<MetricTotalsRow[]> {
  const lookFrom = range.fromNs - lookbackNs;
  const split = `${identityCols}, name, model, attr_type, decision, start_type`;
  // Delta points only need a sum; the window that finds each cumulative point's predecessor
  // (a sort of the whole range) runs over the cumulative ones alone, found by their own index.
  const sql = `
WITH pts AS (
  SELECT ${split}, session_id, start_time_ns, time_ns, value,
         lag(value) OVER (PARTITION BY series_key, start_time_ns ORDER BY time_ns, id) AS prev
  FROM point_facts
  WHERE ${readPoints(7)} AND temporality = 'cumulative'
), increases AS (
  SELECT ${split}, session_id,
    CASE
      WHEN prev IS NULL THEN CASE WHEN start_time_ns >= $7 AND start_time_ns < time_ns THEN value ELSE 0 END
      WHEN value >= prev THEN value - prev
      ELSE value
    END AS value
  FROM pts
  WHERE time_ns >= $2
  UNION ALL
  SELECT ${split}, session_id, value
  FROM point_facts
  WHERE ${readPoints(2)} AND temporality = 'delta'
)
SELECT ${split}, session_id IS NOT NULL AS sessioned, sum(value) AS value
FROM increases
GROUP BY ${split}, session_id IS NOT NULL`;
  return inBackgroundTransaction(pool, 'read metric totals', async (query) => {
    await query(PLAN_SETTINGS);
    const { rows } = await query(sql, [tenantId, ...bounds(range.fromNs, range.toNs), [...names], ...bounds(lookFrom, range.toNs)]);
    return rows.map((r) => ({
      sessioned: r.sessioned,
      identity: identityOf(r),
      surface: r.surface,
      name: r.name,
      model: r.model,
      type: r.attr_type,
      decision: r.decision,
      startType: r.start_type,
      value: r.value,
    }));
  });
}

export async function listIdentities(pool: pg.Pool, tenantId: string, since?: Date): Promise<IdentityKey[]> {
  return withClient(pool, 'list identities', async (client) => {
    const { rows } = await client.query<IdentityCols>(
      `SELECT user_email, user_account_uuid, end_user_id, user_id FROM seat_identities
       WHERE tenant_id = $1 AND ($2::timestamptz IS NULL OR last_received_at >= $2)
       ORDER BY first_seen, user_email, user_account_uuid, end_user_id, user_id`,
      [tenantId, since ?? null],
    );
    return rows.map(identityOf);
  });
}

export async function surfacesSeen(pool: pg.Pool, tenantId: string): Promise<SurfaceSeen[]> {
  return withClient(pool, 'list surfaces', async (client) => {
    const { rows } = await client.query<{ surface: string; last_received_at: Date }>(
      'SELECT surface, last_received_at FROM surfaces_seen WHERE tenant_id = $1 ORDER BY surface',
      [tenantId],
    );
    return rows.map((r) => ({ surface: r.surface, lastSeenAt: r.last_received_at }));
  });
}
