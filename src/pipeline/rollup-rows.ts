import { type MeasureName, type Measures, type ModelDayRollup, type ModelMeasures, type SeatDayRollup, measureNames, modelMeasureNames } from '../store/store.js';
import { perModelMeasures } from './measures.js';
import type { AddContribution } from './sources.js';

const zeroMeasures = (): Measures => Object.fromEntries(measureNames.map((m) => [m, 0])) as Measures;
const zeroModelMeasures = (): ModelMeasures => Object.fromEntries(modelMeasureNames.map((m) => [m, 0])) as ModelMeasures;

export interface DayRollup {
  add: AddContribution;
  /** One row per seat and surface, and one per seat, surface and model (model "unknown" when none was sent). */
  rows(): { seats: SeatDayRollup[]; models: ModelDayRollup[] };
}

/**
 * Sums contributions into a day's rollup rows. Rows are found by nested maps (seat, then
 * surface, then model) rather than by a joined string key: a 10-million-event day adds
 * some million contributions.
 */
export function dayRollup(day: string): DayRollup {
  const seatRows = new Map<string, Map<string, SeatDayRollup>>();
  const modelRows = new Map<SeatDayRollup, Map<string, ModelDayRollup>>();
  const seatRow = (seat: string, surface: string): SeatDayRollup => {
    let bySurface = seatRows.get(seat);
    if (!bySurface) seatRows.set(seat, (bySurface = new Map()));
    let row = bySurface.get(surface);
    if (!row) bySurface.set(surface, (row = { day, seat, surface, measures: zeroMeasures() }));
    return row;
  };
  const modelRow = (sr: SeatDayRollup, model: string): ModelDayRollup => {
    let byModel = modelRows.get(sr);
    if (!byModel) modelRows.set(sr, (byModel = new Map()));
    let row = byModel.get(model);
    if (!row) byModel.set(model, (row = { day, seat: sr.seat, surface: sr.surface, model, measures: zeroModelMeasures() }));
    return row;
  };
  return {
    add(seat: string, surface: string, model: string | null, measure: MeasureName, value: number) {
      const sr = seatRow(seat, surface);
      sr.measures[measure] += value;
      if (perModelMeasures.has(measure)) modelRow(sr, model ?? 'unknown').measures[measure as keyof ModelMeasures] += value;
    },
    rows() {
      const seats = [...seatRows.values()].flatMap((m) => [...m.values()]);
      const models = [...modelRows.values()].flatMap((m) => [...m.values()]);
      return { seats, models };
    },
  };
}
