import type pg from 'pg';
import {
  measureNames,
  modelMeasureNames,
  type Measures,
  type ModelDayRollup,
  type ModelMeasures,
  type SeatDayRollup,
  type UsageTotals,
} from '../store.js';
import { inTransaction, withClient } from './pool.js';
import { jsonText } from '../json-text.js';

/**
 * Replaces a tenant-day's rollups in one transaction. Replicas computing the same day
 * at once queue on an advisory lock for that tenant-day instead of failing on each
 * other's rows.
 */
export async function replaceDailyRollups(
  pool: pg.Pool,
  tenantId: string,
  day: string,
  seats: SeatDayRollup[],
  models: ModelDayRollup[],
): Promise<void> {
  checkDay(day, seats, models);
  await inTransaction(pool, 'store daily rollups', (client) => writeDailyRollups(client, tenantId, day, seats, models));
}

function checkDay(day: string, seats: SeatDayRollup[], models: ModelDayRollup[]): void {
  const stray = [...seats, ...models].find((r) => r.day !== day);
  if (stray !== undefined) throw new Error(`a rollup of ${stray.day} was given to replace ${day}`);
}

/**
 * The statements of a replacement, inside a transaction the caller opened on `client`
 * (the pool's, or the session holding the tenant-day lock: see day-lock.ts).
 */
export async function writeDailyRollups(
  client: pg.ClientBase,
  tenantId: string,
  day: string,
  seats: SeatDayRollup[],
  models: ModelDayRollup[],
): Promise<void> {
  checkDay(day, seats, models);
  await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`rollup/${tenantId}/${day}`]);
  await client.query('DELETE FROM daily_seat_rollups WHERE tenant_id = $1 AND day = $2', [tenantId, day]);
  await client.query('DELETE FROM daily_model_rollups WHERE tenant_id = $1 AND day = $2', [tenantId, day]);
  if (seats.length > 0) {
    await client.query(
      `INSERT INTO daily_seat_rollups (tenant_id, day, seat, surface, measures)
       SELECT $1, $2::date, r.seat, r.surface, r.measures
       FROM json_to_recordset($3::json) AS r(seat text, surface text, measures jsonb)`,
      [tenantId, day, jsonText(seats.map((s) => ({ seat: s.seat, surface: s.surface, measures: s.measures })))],
    );
  }
  if (models.length > 0) {
    await client.query(
      `INSERT INTO daily_model_rollups (tenant_id, day, seat, surface, model, measures)
       SELECT $1, $2::date, r.seat, r.surface, r.model, r.measures
       FROM json_to_recordset($3::json) AS r(seat text, surface text, model text, measures jsonb)`,
      [tenantId, day, jsonText(models.map((m) => ({ seat: m.seat, surface: m.surface, model: m.model, measures: m.measures })))],
    );
  }
}

/** Measures missing from a stored row (added to the build after it was computed) read as 0. */
function pick<K extends string>(names: readonly K[], stored: Record<string, unknown>): Record<K, number> {
  const out = {} as Record<K, number>;
  for (const n of names) out[n] = typeof stored[n] === 'number' ? stored[n] : 0;
  return out;
}

interface RollupRow {
  day: string;
  seat: string;
  surface: string;
  model?: string;
  measures: Record<string, unknown>;
}

export async function dailyRollups(
  pool: pg.Pool,
  tenantId: string,
  fromDay: string,
  toDay: string,
): Promise<{ seats: SeatDayRollup[]; models: ModelDayRollup[] }> {
  return withClient(pool, 'read daily rollups', async (client) => {
    const where = 'WHERE tenant_id = $1 AND day BETWEEN $2::date AND $3::date';
    const seats = await client.query<RollupRow>(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, seat, surface, measures FROM daily_seat_rollups ${where} ORDER BY day, seat, surface`,
      [tenantId, fromDay, toDay],
    );
    const models = await client.query<RollupRow>(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, seat, surface, model, measures FROM daily_model_rollups ${where}
       ORDER BY day, seat, surface, model`,
      [tenantId, fromDay, toDay],
    );
    return {
      seats: seats.rows.map((r) => ({ day: r.day, seat: r.seat, surface: r.surface, measures: pick(measureNames, r.measures) as Measures })),
      models: models.rows.map((r) => ({
        day: r.day,
        seat: r.seat,
        surface: r.surface,
        model: r.model ?? '',
        measures: pick(modelMeasureNames, r.measures) as ModelMeasures,
      })),
    };
  });
}

// Measure names are constants of this build, never input: safe to write into the SQL.
const recordOf = (names: readonly string[]) => names.map((m) => `"${m}" float8`).join(', ');
const sumsOf = (names: readonly string[]) => names.map((m) => `coalesce(sum(m."${m}"), 0) AS "${m}"`).join(', ');

/**
 * Sums in SQL rather than folding every seat-day row here: a 1,000-seat quarter is ~100k
 * rows whose JSON the client would parse. jsonb_to_record reads each row's measures once.
 */
export async function usageTotals(pool: pg.Pool, tenantId: string, fromDay: string, toDay: string): Promise<UsageTotals> {
  const where = 'WHERE tenant_id = $1 AND day BETWEEN $2::date AND $3::date';
  const seatMeasures = `jsonb_to_record(measures) AS m(${recordOf(measureNames)})`;
  return withClient(pool, 'read usage totals', async (client) => {
    const query = <R extends pg.QueryResultRow>(text: string) => client.query<R>(text, [tenantId, fromDay, toDay]);
    const days = await query<Record<string, number> & { day: string; activeSeats: number }>(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, count(DISTINCT seat)::int AS "activeSeats", ${sumsOf(measureNames)}
       FROM daily_seat_rollups, ${seatMeasures} ${where} GROUP BY day`);
    const seats = await query<Record<string, number> & { seat: string; activeDays: number }>(
      `SELECT seat, count(DISTINCT day)::int AS "activeDays", ${sumsOf(measureNames)}
       FROM daily_seat_rollups, ${seatMeasures} ${where} GROUP BY seat`);
    const models = await query<Record<string, number> & { day: string; model: string }>(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, model, ${sumsOf(modelMeasureNames)}
       FROM daily_model_rollups, jsonb_to_record(measures) AS m(${recordOf(modelMeasureNames)}) ${where} GROUP BY day, model`);
    return {
      days: days.rows.map((r) => ({ day: r.day, activeSeats: r.activeSeats, measures: pick(measureNames, r) as Measures })),
      seats: seats.rows.map((r) => ({ seat: r.seat, activeDays: r.activeDays, measures: pick(measureNames, r) as Measures })),
      models: models.rows.map((r) => ({ day: r.day, model: r.model, measures: pick(modelMeasureNames, r) as ModelMeasures })),
    };
  });
}
