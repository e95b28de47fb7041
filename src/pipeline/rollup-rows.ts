import { type Measures, type ModelDayRollup, type ModelMeasures, type SeatDayRollup, measureNames, modelMeasureNames } from '../store/store.js';
import { perModelMeasures } from './measures.js';
import type { Attributed } from './sources.js';

const zeroMeasures = (): Measures => Object.fromEntries(measureNames.map((m) => [m, 0])) as Measures;
const zeroModelMeasures = (): ModelMeasures => Object.fromEntries(modelMeasureNames.map((m) => [m, 0])) as ModelMeasures;

/** Sums contributions into one row per seat and surface, and one per seat, surface and model (model unknown when none was sent). */
export function rollUp(day: string, contributions: Iterable<Attributed>): { seats: SeatDayRollup[]; models: ModelDayRollup[] } {
  const seatRows = new Map<string, SeatDayRollup>();
  const modelRows = new Map<string, ModelDayRollup>();
  for (const t of contributions) {
    const sk = `${t.seat}\u0000${t.surface}`;
    let sr = seatRows.get(sk);
    if (!sr) seatRows.set(sk, (sr = { day, seat: t.seat, surface: t.surface, measures: zeroMeasures() }));
    sr.measures[t.c.measure] += t.c.value;
    if (perModelMeasures.has(t.c.measure)) {
      const model = t.model ?? 'unknown';
      const mk = `${sk}\u0000${model}`;
      let mr = modelRows.get(mk);
      if (!mr) modelRows.set(mk, (mr = { day, seat: t.seat, surface: t.surface, model, measures: zeroModelMeasures() }));
      mr.measures[t.c.measure as keyof ModelMeasures] += t.c.value;
    }
  }
  return { seats: [...seatRows.values()], models: [...modelRows.values()] };
}
