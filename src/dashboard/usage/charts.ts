// The Usage page's charts: what each one plots, and its headline figure.
import { formatCompact, formatFixed1, formatInteger, formatUsd } from '../format.js';
import { acceptanceRate, type ModelSeries, type SeatUsage } from './aggregate.js';
import type { ChartSpec } from './chart.js';

export interface ChartDefinition {
  readonly id: string;
  readonly title: string;
  /** A short figure for the chart's header, e.g. the range total. */
  readonly headline: string;
  readonly spec: ChartSpec;
}

export const PALETTE = ['#2f6fdb', '#0f9d8f', '#d98a1c', '#7c5cc4', '#d2508a', '#5a9a2c', '#1f93b8', '#7a8494'];
const GREEN = '#2f9e5b';
const RED = '#d2553f';

const usdAxis = (v: number): string => (v >= 1000 ? `$${formatCompact(v)}` : formatUsd(v).replace(/\.00$/, ''));
const usdLegend = (v: number): string => formatUsd(v);
const count = (v: number): string =>
  Math.abs(v) < 10_000 && Number.isInteger(v) ? formatInteger(v) : formatCompact(v);
const color = (i: number): string => PALETTE[i % PALETTE.length] ?? '#2f6fdb';

export function chartDefinitions(usage: SeatUsage, models: readonly ModelSeries[]): ChartDefinition[] {
  const { daily, totals } = usage;
  const rate = new Array<number | null>(usage.days.length);
  for (let i = 0; i < rate.length; i++) {
    const r = acceptanceRate(daily.editAccepts[i] ?? 0, daily.editRejects[i] ?? 0);
    rate[i] = r === null ? null : r * 100;
  }
  const overallRate = acceptanceRate(totals.editAccepts, totals.editRejects);
  const totalTokens = totals.inputTokens + totals.outputTokens + totals.cacheReadTokens + totals.cacheCreationTokens;
  const peakSeats = usage.activeSeats.reduce((max, v) => Math.max(max, v), 0);
  const modelTokens = models.reduce((sum, m) => sum + m.totalTokens, 0);
  const modelCost = models.reduce((sum, m) => sum + m.totalCost, 0);

  return [
    {
      id: 'cost',
      title: 'Daily cost',
      headline: `${formatUsd(totals.costUsd)} total`,
      spec: { kind: 'bars', format: usdLegend, axisFormat: usdAxis, series: [{ label: 'Cost', color: PALETTE[0] ?? '', values: daily.costUsd }] },
    },
    {
      id: 'tokens',
      title: 'Tokens by type',
      headline: `${formatCompact(totalTokens)} total`,
      spec: {
        kind: 'lines',
        format: count,
        integer: true,
        series: [
          { label: 'Input', color: color(0), values: daily.inputTokens },
          { label: 'Output', color: color(1), values: daily.outputTokens },
          { label: 'Cache read', color: color(2), values: daily.cacheReadTokens },
          { label: 'Cache creation', color: color(3), values: daily.cacheCreationTokens },
        ],
      },
    },
    {
      id: 'model-cost',
      title: 'Cost by model',
      headline: `${formatUsd(modelCost)} across ${models.length} ${models.length === 1 ? 'model' : 'models'}`,
      spec: { kind: 'lines', format: usdLegend, axisFormat: usdAxis, series: models.map((m, i) => ({ label: m.model, color: color(i), values: m.cost })) },
    },
    {
      id: 'model-tokens',
      title: 'Tokens by model',
      headline: `${formatCompact(modelTokens)} total`,
      spec: { kind: 'lines', format: count, integer: true, series: models.map((m, i) => ({ label: m.model, color: color(i), values: m.tokens })) },
    },
    {
      id: 'active-seats',
      title: 'Active seats per day',
      headline: `peak ${formatInteger(peakSeats)}`,
      spec: { kind: 'bars', format: count, integer: true, series: [{ label: 'Active seats', color: color(1), values: usage.activeSeats }] },
    },
    {
      id: 'lines',
      title: 'Lines of code',
      headline: `+${formatInteger(totals.linesAdded)} / −${formatInteger(totals.linesRemoved)}`,
      spec: {
        kind: 'lines',
        format: count,
        integer: true,
        series: [
          { label: 'Added', color: GREEN, values: daily.linesAdded },
          { label: 'Removed', color: RED, values: daily.linesRemoved },
        ],
      },
    },
    {
      id: 'commits-prs',
      title: 'Commits and pull requests',
      headline: `${formatInteger(totals.commits)} commits · ${formatInteger(totals.pullRequests)} PRs`,
      spec: {
        kind: 'lines',
        format: count,
        integer: true,
        series: [
          { label: 'Commits', color: color(0), values: daily.commits },
          { label: 'Pull requests', color: color(3), values: daily.pullRequests },
        ],
      },
    },
    {
      id: 'acceptance',
      title: 'Edit acceptance rate',
      headline: overallRate === null ? 'no edit decisions' : `${formatFixed1(overallRate * 100)}% overall`,
      spec: {
        kind: 'lines',
        format: (v) => `${formatFixed1(v)}%`,
        axisFormat: (v) => `${Math.round(v)}%`,
        yRange: [0, 100],
        series: [{ label: 'Accepted', color: color(1), values: rate }],
      },
    },
  ];
}
