// Turns the summary API's per-day, per-seat and per-day-and-model rows into the arrays charts and the table use.
// The server has already folded seats × days away, so this is linear in days + seats + models.
import { MEASURE_KEYS, type DayTotalsRow, type ModelDayRow, type SeatTotalsRow, type UsageMeasures } from '../contract.js';
import { dayToMs, daysBetween } from '../days.js';

export interface SeatTotals extends UsageMeasures {
  readonly seat: string;
  readonly activeDays: number;
}

export type DailyMeasures = { readonly [K in keyof UsageMeasures]: Float64Array };

export interface SeatUsage {
  readonly days: readonly string[];
  /** Unix seconds of each day placed at UTC midnight: uPlot's x axis (see chart.ts). */
  readonly xs: readonly number[];
  readonly daily: DailyMeasures;
  readonly activeSeats: Float64Array;
  readonly seats: readonly SeatTotals[];
  readonly totals: UsageMeasures;
}

export interface ModelSeries {
  readonly model: string;
  readonly cost: Float64Array;
  readonly tokens: Float64Array;
  readonly totalCost: number;
  readonly totalTokens: number;
}

export function emptyMeasures(): UsageMeasures {
  const measures = {} as UsageMeasures;
  for (const key of MEASURE_KEYS) measures[key] = 0;
  return measures;
}

/** Every day of the range (days without usage are zeros), the seats as sent, and the range totals. */
export function seatUsage(dayRows: readonly DayTotalsRow[], seats: readonly SeatTotalsRow[], from: string, to: string): SeatUsage {
  const days = daysBetween(from, to);
  const dayIndex = new Map(days.map((day, i) => [day, i]));
  const daily = {} as { [K in keyof UsageMeasures]: Float64Array };
  for (const key of MEASURE_KEYS) daily[key] = new Float64Array(days.length);
  const activeSeats = new Float64Array(days.length);
  const totals = emptyMeasures();
  for (const row of dayRows) {
    const i = dayIndex.get(row.day);
    if (i === undefined) continue;
    activeSeats[i] = Number(row.activeSeats) || 0;
    for (const key of MEASURE_KEYS) {
      const value = Number(row[key]) || 0;
      daily[key][i] = value;
      totals[key] += value;
    }
  }
  return { days, xs: days.map((day) => dayToMs(day) / 1000), daily, activeSeats, seats, totals };
}

/** Per-model daily cost and tokens, the top `limit - 1` models by cost and the rest as "Other". */
export function aggregateModels(rows: readonly ModelDayRow[], days: readonly string[], limit = 8): ModelSeries[] {
  const dayIndex = new Map(days.map((day, i) => [day, i]));
  const byModel = new Map<string, { cost: Float64Array; tokens: Float64Array; totalCost: number; totalTokens: number }>();
  for (const row of rows) {
    let series = byModel.get(row.model);
    if (!series) {
      series = { cost: new Float64Array(days.length), tokens: new Float64Array(days.length), totalCost: 0, totalTokens: 0 };
      byModel.set(row.model, series);
    }
    const cost = Number(row.costUsd) || 0;
    const tokens =
      (Number(row.inputTokens) || 0) +
      (Number(row.outputTokens) || 0) +
      (Number(row.cacheReadTokens) || 0) +
      (Number(row.cacheCreationTokens) || 0);
    series.totalCost += cost;
    series.totalTokens += tokens;
    const i = dayIndex.get(row.day);
    if (i !== undefined) {
      series.cost[i] = (series.cost[i] ?? 0) + cost;
      series.tokens[i] = (series.tokens[i] ?? 0) + tokens;
    }
  }
  const ranked = [...byModel.entries()]
    .map(([model, s]) => ({ model, ...s }))
    .sort((a, b) => b.totalCost - a.totalCost || b.totalTokens - a.totalTokens || a.model.localeCompare(b.model));
  if (ranked.length <= limit) return ranked;
  const kept = ranked.slice(0, limit - 1);
  const other = { model: 'Other', cost: new Float64Array(days.length), tokens: new Float64Array(days.length), totalCost: 0, totalTokens: 0 };
  for (const series of ranked.slice(limit - 1)) {
    other.totalCost += series.totalCost;
    other.totalTokens += series.totalTokens;
    for (let i = 0; i < days.length; i++) {
      other.cost[i] = (other.cost[i] ?? 0) + (series.cost[i] ?? 0);
      other.tokens[i] = (other.tokens[i] ?? 0) + (series.tokens[i] ?? 0);
    }
  }
  return [...kept, other];
}

/** Accepted share of edit decisions, or null when there were none (so charts show a gap, not 0 %). */
export function acceptanceRate(accepts: number, rejects: number): number | null {
  const decided = accepts + rejects;
  return decided > 0 ? accepts / decided : null;
}
