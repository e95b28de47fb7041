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
 * The store sums it (usageTotals); this orders the rows and rounds away float noise.
 */
export async function usageSummary(store: Store, tenantId: string, from: string, to: string): Promise<UsageSummary> {
  const totals = await store.usageTotals(tenantId, from, to);
  const dayRows = totals.days.map((d) => ({ day: d.day, activeSeats: d.activeSeats, ...d.measures })).sort((a, b) => byCodeUnits(a.day, b.day));
  const seatRows = totals.seats.map((s) => ({ seat: s.seat, activeDays: s.activeDays, ...s.measures })).sort((a, b) => byCodeUnits(a.seat, b.seat));
  const modelRows = totals.models
    .map((m) => ({ day: m.day, model: m.model, ...m.measures }))
    .sort((a, b) => byCodeUnits(a.day, b.day) || byCodeUnits(a.model, b.model));
  for (const row of dayRows) tidyMeasures(row, measureNames);
  for (const row of seatRows) tidyMeasures(row, measureNames);
  for (const row of modelRows) tidyMeasures(row, modelMeasureNames);
  return { tenant: tenantId, from, to, days: dayRows, seats: seatRows, models: modelRows };
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
