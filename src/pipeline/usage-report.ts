import { type Store, measureNames, modelMeasureNames } from '../store/store.js';
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
    const measures = r.measures as Record<string, number>;
    for (const m of names) row[m] = (row[m] as number) + (measures[m] ?? 0);
  }
  const rows = [...out.values()].sort((a, b) => (a.day === b.day ? String(a[by]).localeCompare(String(b[by])) : a.day < b.day ? -1 : 1));
  for (const row of rows) for (const m of names) row[m] = tidy(row[m] as number);
  return { tenant: tenantId, from, to, by, rows };
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
