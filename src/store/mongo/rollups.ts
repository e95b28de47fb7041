import type { Db } from 'mongodb';
import {
  measureNames,
  modelMeasureNames,
  type Measures,
  type ModelDayRollup,
  type ModelMeasures,
  type SeatDayRollup,
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
 * longer produces are gone. ($merge with whenMatched "replace" was the other way:
 * it cannot remove rows that a re-run no longer produces, and the rows are computed
 * by the shared pipeline code, not by an aggregation of this adapter.)
 * Two replicas replacing the same day at once conflict; the driver runs the loser's
 * transaction again, so the last one wins whole.
 */
export async function replaceDailyRollups(db: Db, tenantId: string, day: string, seats: SeatDayRollup[], models: ModelDayRollup[]): Promise<void> {
  const stray = [...seats, ...models].find((r) => r.day !== day);
  if (stray !== undefined) throw new Error(`a rollup of ${stray.day} was given to replace ${day}`);
  const seatRollups = db.collection<SeatRollupDoc>(regular.seatRollups);
  const modelRollups = db.collection<ModelRollupDoc>(regular.modelRollups);
  await inTransaction(db, async (session) => {
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
  });
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
