// The per-seat table's columns. Each cell has one value, already rounded, that both the table and the CSV show,
// so the export is exactly what is on screen (the table only adds thousands separators).
import { formatFixed1, formatFixed2, formatInteger, round } from '../format.js';
import { acceptanceRate, type SeatTotals } from './aggregate.js';

export type CellValue = string | number | null;
type Kind = 'text' | 'integer' | 'usd' | 'hours' | 'percent';

export interface Column {
  readonly key: string;
  readonly label: string;
  readonly kind: Kind;
  readonly value: (seat: SeatTotals) => CellValue;
}

const integer = (key: string, label: string, pick: (s: SeatTotals) => number): Column => ({
  key,
  label,
  kind: 'integer',
  value: (s) => round(pick(s), 0),
});
const hours = (key: string, label: string, pick: (s: SeatTotals) => number): Column => ({
  key,
  label,
  kind: 'hours',
  value: (s) => round(pick(s) / 3600, 2),
});

export const SEAT_COLUMNS: readonly Column[] = [
  { key: 'seat', label: 'Seat', kind: 'text', value: (s) => s.seat },
  integer('activeDays', 'Active days', (s) => s.activeDays),
  integer('sessions', 'Sessions', (s) => s.sessions),
  { key: 'costUsd', label: 'Cost (USD)', kind: 'usd', value: (s) => round(s.costUsd, 2) },
  integer('inputTokens', 'Input tokens', (s) => s.inputTokens),
  integer('outputTokens', 'Output tokens', (s) => s.outputTokens),
  integer('cacheReadTokens', 'Cache read tokens', (s) => s.cacheReadTokens),
  integer('cacheCreationTokens', 'Cache creation tokens', (s) => s.cacheCreationTokens),
  integer('linesAdded', 'Lines added', (s) => s.linesAdded),
  integer('linesRemoved', 'Lines removed', (s) => s.linesRemoved),
  integer('commits', 'Commits', (s) => s.commits),
  integer('pullRequests', 'Pull requests', (s) => s.pullRequests),
  hours('activeTimeUserHours', 'Active time, user (h)', (s) => s.activeTimeUserSeconds),
  hours('activeTimeCliHours', 'Active time, CLI (h)', (s) => s.activeTimeCliSeconds),
  integer('editAccepts', 'Edits accepted', (s) => s.editAccepts),
  integer('editRejects', 'Edits rejected', (s) => s.editRejects),
  {
    key: 'acceptanceRate',
    label: 'Acceptance rate (%)',
    kind: 'percent',
    value: (s) => {
      const rate = acceptanceRate(s.editAccepts, s.editRejects);
      return rate === null ? null : round(rate * 100, 1);
    },
  },
  integer('prompts', 'Prompts', (s) => s.prompts),
  integer('apiRequests', 'API requests', (s) => s.apiRequests),
  integer('apiErrors', 'API errors', (s) => s.apiErrors),
  integer('toolCalls', 'Tool calls', (s) => s.toolCalls),
  integer('toolFailures', 'Tool failures', (s) => s.toolFailures),
];

/** The cell as the table shows it. */
export function displayCell(column: Column, value: CellValue): string {
  if (value === null) return '—';
  if (typeof value === 'string') return value;
  switch (column.kind) {
    case 'usd':
    case 'hours':
      return formatFixed2(value);
    case 'percent':
      return formatFixed1(value);
    default:
      return formatInteger(value);
  }
}

/** The same cell in the CSV: the same number, without separators. */
export function csvCell(column: Column, value: CellValue): string {
  if (value === null) return '';
  if (typeof value === 'string') return value;
  switch (column.kind) {
    case 'usd':
    case 'hours':
      return value.toFixed(2);
    case 'percent':
      return value.toFixed(1);
    default:
      return String(value);
  }
}
