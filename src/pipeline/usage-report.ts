import { type Measures, type ModelMeasures, type Store, measureNames, modelMeasureNames } from '../store/store.js';
import { isDay } from './days.js';

export type UsageBy = 'seat' | 'model' | 'surface';
export const usageByValues: readonly UsageBy[] = ['seat', 'model', 'surface'];

export type UsageRow = { day: string } & Record<string, string | number>;

export interface UsageReport {
  tenant: string;
  from: string;
  to: string;
  by: UsageBy;
  rows: UsageRow[];
}

/** Longest range one request may ask for. */
export const MAX_RANGE_DAYS = 400;

/** Checks a from/to pair; returns a readable problem or null. */
export function rangeProblem(from: string, to: string, maxDays = MAX_RANGE_DAYS): string | null {
  if (!isDay(from)) return `from "${from}" is not a date (YYYY-MM-DD)`;
  if (!isDay(to)) return `to "${to}" is not a date (YYYY-MM-DD)`;
  if (from > to) return `from ${from} is after to ${to}`;
  const days = (Date.parse(to) - Date.parse(from)) / 86_400_000 + 1;
  if (days > maxDays) return `range of ${days} days is longer than ${maxDays}`;
  return null;
}

/** Rounds away float noise so a re-run reproduces the same numbers. */
const tidy = (v: number): number => Math.round(v * 1e9) / 1e9;

/**
 * Code-unit order, not localeCompare: the same on every host whatever its ICU data, and an order of
 * magnitude cheaper on the ~100k rows of a 1,000-seat quarter.
 */
const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Daily usage grouped by seat, model or surface, summed over the other dimensions. */
export async function usageReport(store: Store, tenantId: string, from: string, to: string, by: UsageBy): Promise<UsageReport> {
  const { seats, models } = await store.dailyRollups(tenantId, from, to);
  const out = new Map<string, UsageRow>();
  const names: readonly string[] = by === 'model' ? modelMeasureNames : measureNames;
  const source = by === 'model' ? models : seats;
  for (const r of source) {
    const key = by === 'model' ? (r as (typeof models)[number]).model : by === 'seat' ? r.seat : r.surface;
    const k = `${r.day}\u0000${key}`;
    let row = out.get(k);
    if (!row) {
      row = { day: r.day, [by]: key } as UsageRow;
      for (const m of names) row[m] = 0;
      out.set(k, row);
    }
    addMeasures(row, r.measures, names);
  }
  const rows = [...out.values()].sort((a, b) => byCodeUnits(a.day, b.day) || byCodeUnits(String(a[by]), String(b[by])));
  for (const row of rows) tidyMeasures(row, names);
  return { tenant: tenantId, from, to, by, rows };
}

/** What the dashboard shows for a range: totals per day, per seat over the range, and per day and model. */
export interface UsageSummary {
  tenant: string;
  from: string;
  to: string;
  /** Days with usage, in order; `activeSeats` counts distinct seats that day. */
  days: ({ day: string; activeSeats: number } & Measures)[];
  /** Seats with usage in the range, in code-unit order; `activeDays` counts distinct days. */
  seats: ({ seat: string; activeDays: number } & Measures)[];
  /** Per day and model, in order of day then model. */
  models: ({ day: string; model: string } & ModelMeasures)[];
}

/**
 * The range folded to what the page draws, so its size grows with seats + days rather than
 * seats × days (a 1,000-seat quarter is ~1,000 rows here instead of ~90,000 seat-day rows).
 */
export async function usageSummary(store: Store, tenantId: string, from: string, to: string): Promise<UsageSummary> {
  const { seats, models } = await store.dailyRollups(tenantId, from, to);
  const days = new Map<string, UsageSummary['days'][number]>();
  const bySeat = new Map<string, UsageSummary['seats'][number]>();
  // A seat can have one rollup per surface on a day: count each seat-day once.
  const seatDays = new Set<string>();
  for (const r of seats) {
    let day = days.get(r.day);
    if (!day) days.set(r.day, (day = { day: r.day, activeSeats: 0, ...zeros(measureNames) }));
    let seat = bySeat.get(r.seat);
    if (!seat) bySeat.set(r.seat, (seat = { seat: r.seat, activeDays: 0, ...zeros(measureNames) }));
    const seatDay = `${r.day}\u0000${r.seat}`;
    if (!seatDays.has(seatDay)) {
      seatDays.add(seatDay);
      day.activeSeats += 1;
      seat.activeDays += 1;
    }
    addMeasures(day, r.measures, measureNames);
    addMeasures(seat, r.measures, measureNames);
  }
  const byModel = new Map<string, UsageSummary['models'][number]>();
  for (const r of models) {
    const k = `${r.day}\u0000${r.model}`;
    let row = byModel.get(k);
    if (!row) byModel.set(k, (row = { day: r.day, model: r.model, ...zeros(modelMeasureNames) }));
    addMeasures(row, r.measures, modelMeasureNames);
  }
  const dayRows = [...days.values()].sort((a, b) => byCodeUnits(a.day, b.day));
  const seatRows = [...bySeat.values()].sort((a, b) => byCodeUnits(a.seat, b.seat));
  const modelRows = [...byModel.values()].sort((a, b) => byCodeUnits(a.day, b.day) || byCodeUnits(a.model, b.model));
  for (const row of dayRows) tidyMeasures(row, measureNames);
  for (const row of seatRows) tidyMeasures(row, measureNames);
  for (const row of modelRows) tidyMeasures(row, modelMeasureNames);
  return { tenant: tenantId, from, to, days: dayRows, seats: seatRows, models: modelRows };
}

function zeros<K extends string>(names: readonly K[]): Record<K, number> {
  const out = {} as Record<K, number>;
  for (const m of names) out[m] = 0;
  return out;
}

function addMeasures(row: object, measures: object, names: readonly string[]): void {
  const target = row as Record<string, number>;
  const source = measures as Record<string, number | undefined>;
  for (const m of names) target[m] = (target[m] ?? 0) + (source[m] ?? 0);
}

function tidyMeasures(row: object, names: readonly string[]): void {
  const target = row as Record<string, number>;
  for (const m of names) target[m] = tidy(target[m] ?? 0);
}

const csvCell = (v: unknown): string => {
  const s = v === null || v === undefined ? '' : String(v);
  // Quote when needed, and defuse spreadsheet formulas in text cells.
  const safe = /^[=+\-@]/.test(s) && Number.isNaN(Number(s)) ? `'${s}` : s;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
};

export function usageCsv(report: UsageReport): string {
  const names = report.by === 'model' ? modelMeasureNames : measureNames;
  const header = ['day', report.by, ...names];
  const lines = [header.join(',')];
  for (const row of report.rows) lines.push(header.map((h) => csvCell(row[h])).join(','));
  return `${lines.join('\n')}\n`;
}
