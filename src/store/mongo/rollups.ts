import type { ClientSession, Db } from 'mongodb';
import {
  measureNames,
  modelMeasureNames,
  type Measures,
  type ModelDayRollup,
  type ModelMeasures,
  type SeatDayRollup,
  type UsageTotals,
} from '../store.js';
import { regular } from './collections.js';
import { inTransaction } from './transaction.js';

interface SeatRollupDoc {
  tenant: string;
  day: string;
  seat: string;
  surface: string;
  measures: Record<string, unknown>;
  computedAt: Date;
}

interface ModelRollupDoc extends SeatRollupDoc {
  model: string;
}

/**
 * Replaces a tenant-day's rollups in one transaction: delete the day, insert the new
 * rows. Readers see the old day or the new one, never a mix, and rows a re-run no
 * longer produces (a seat, surface or model gone from the day) are gone.
 *
 * Why not `$merge` (whenMatched "replace"), which the design card names: it writes
 * document by document and cannot run inside a transaction, so readers would see a day
 * half replaced, and the rows a re-run no longer produces need a separate delete, which
 * either runs first (the day reads as empty meanwhile) or after (stale rows are added to
 * the day meanwhile, and stay if the run dies in between): a re-run could add to a day.
 * The rows are computed by the shared pipeline code (src/pipeline), not by an
 * aggregation of this adapter, so `$merge` would only be `$documents` + `$merge`, an
 * insert without the atomicity. The transaction also lets the day lock's fence
 * (day-lock.ts) commit together with the rows.
 * Two replicas replacing the same day at once conflict; the driver runs the loser's
 * transaction again, so the last one wins whole.
 */
export async function replaceDailyRollups(db: Db, tenantId: string, day: string, seats: SeatDayRollup[], models: ModelDayRollup[]): Promise<void> {
  checkDay(day, seats, models);
  await inTransaction(db, (session) => writeDailyRollups(db, session, tenantId, day, seats, models));
}

function checkDay(day: string, seats: SeatDayRollup[], models: ModelDayRollup[]): void {
  const stray = [...seats, ...models].find((r) => r.day !== day);
  if (stray !== undefined) throw new Error(`a rollup of ${stray.day} was given to replace ${day}`);
}

/** The writes of a replacement, inside the caller's transaction (`session`); see also day-lock.ts. */
export async function writeDailyRollups(
  db: Db,
  session: ClientSession,
  tenantId: string,
  day: string,
  seats: SeatDayRollup[],
  models: ModelDayRollup[],
): Promise<void> {
  checkDay(day, seats, models);
  const seatRollups = db.collection<SeatRollupDoc>(regular.seatRollups);
  const modelRollups = db.collection<ModelRollupDoc>(regular.modelRollups);
  const computedAt = new Date();
  await seatRollups.deleteMany({ tenant: tenantId, day }, { session });
  await modelRollups.deleteMany({ tenant: tenantId, day }, { session });
  if (seats.length > 0) {
    await seatRollups.insertMany(
      seats.map((s) => ({ tenant: tenantId, day, seat: s.seat, surface: s.surface, measures: { ...s.measures }, computedAt })),
      { session },
    );
  }
  if (models.length > 0) {
    await modelRollups.insertMany(
      models.map((m) => ({ tenant: tenantId, day, seat: m.seat, surface: m.surface, model: m.model, measures: { ...m.measures }, computedAt })),
      { session },
    );
  }
}

/** Measures missing from a stored row (added to the build after it was computed) read as 0. */
function pick<K extends string>(names: readonly K[], stored: Record<string, unknown>): Record<K, number> {
  const out = {} as Record<K, number>;
  for (const n of names) out[n] = typeof stored[n] === 'number' ? stored[n] : 0;
  return out;
}

export async function dailyRollups(db: Db, tenantId: string, fromDay: string, toDay: string): Promise<{ seats: SeatDayRollup[]; models: ModelDayRollup[] }> {
  // Days are YYYY-MM-DD strings, so string order is day order.
  const filter = { tenant: tenantId, day: { $gte: fromDay, $lte: toDay } };
  const [seats, models] = await Promise.all([
    db.collection<SeatRollupDoc>(regular.seatRollups).find(filter).sort({ day: 1, seat: 1, surface: 1 }).toArray(),
    db.collection<ModelRollupDoc>(regular.modelRollups).find(filter).sort({ day: 1, seat: 1, surface: 1, model: 1 }).toArray(),
  ]);
  return {
    seats: seats.map((r) => ({ day: r.day, seat: r.seat, surface: r.surface, measures: pick(measureNames, r.measures) as Measures })),
    models: models.map((r) => ({
      day: r.day,
      seat: r.seat,
      surface: r.surface,
      model: r.model,
      measures: pick(modelMeasureNames, r.measures) as ModelMeasures,
    })),
  };
}

/** `$sum` of each measure; `$sum` skips what is missing or not a number, as `pick` reads it as 0. */
const sumsOf = (names: readonly string[]) => Object.fromEntries(names.map((m) => [m, { $sum: `$measures.${m}` }]));

/** Summed by aggregation on the server, so a 1,000-seat quarter does not travel as ~100k documents. */
export async function usageTotals(db: Db, tenantId: string, fromDay: string, toDay: string): Promise<UsageTotals> {
  const match = { $match: { tenant: tenantId, day: { $gte: fromDay, $lte: toDay } } };
  const seatRollups = db.collection<SeatRollupDoc>(regular.seatRollups);
  const [days, seats, models] = await Promise.all([
    seatRollups.aggregate<Record<string, unknown> & { _id: string; seats: string[] }>([
      match, { $group: { _id: '$day', seats: { $addToSet: '$seat' }, ...sumsOf(measureNames) } },
    ]).toArray(),
    seatRollups.aggregate<Record<string, unknown> & { _id: string; days: string[] }>([
      match, { $group: { _id: '$seat', days: { $addToSet: '$day' }, ...sumsOf(measureNames) } },
    ]).toArray(),
    db.collection<ModelRollupDoc>(regular.modelRollups).aggregate<Record<string, unknown> & { _id: { day: string; model: string } }>([
      match, { $group: { _id: { day: '$day', model: '$model' }, ...sumsOf(modelMeasureNames) } },
    ]).toArray(),
  ]);
  return {
    days: days.map((r) => ({ day: r._id, activeSeats: r.seats.length, measures: pick(measureNames, r) as Measures })),
    seats: seats.map((r) => ({ seat: r._id, activeDays: r.days.length, measures: pick(measureNames, r) as Measures })),
    models: models.map((r) => ({ day: r._id.day, model: r._id.model, measures: pick(modelMeasureNames, r) as ModelMeasures })),
  };
}
