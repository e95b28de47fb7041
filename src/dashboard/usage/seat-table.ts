// The per-seat table: values computed once per load, then filtered, sorted and rendered as one HTML string.
import { esc } from '../dom.js';
import type { SeatTotals } from './aggregate.js';
import { csvCell, displayCell, type CellValue, type Column } from './columns.js';
import { toCsv } from './csv.js';

export interface SortState {
  readonly key: string;
  readonly direction: 'asc' | 'desc';
}

/** One seat's cells, in column order. */
export type SeatCells = readonly CellValue[];

export function seatCells(seats: readonly SeatTotals[], columns: readonly Column[]): SeatCells[] {
  const rows: SeatCells[] = new Array<SeatCells>(seats.length);
  for (let r = 0; r < seats.length; r++) {
    const seat = seats[r] as SeatTotals;
    const cells: CellValue[] = new Array<CellValue>(columns.length);
    for (let c = 0; c < columns.length; c++) cells[c] = (columns[c] as Column).value(seat);
    rows[r] = cells;
  }
  return rows;
}

/** The rows on screen: those whose seat contains `filter` (case-insensitive), in sort order. */
export function visibleRows(
  rows: readonly SeatCells[],
  columns: readonly Column[],
  sort: SortState,
  filter: string,
): SeatCells[] {
  const seatColumn = Math.max(0, columns.findIndex((c) => c.key === 'seat'));
  const needle = filter.trim().toLowerCase();
  const kept = needle === '' ? [...rows] : rows.filter((r) => String(r[seatColumn] ?? '').toLowerCase().includes(needle));
  const index = Math.max(0, columns.findIndex((c) => c.key === sort.key));
  const sign = sort.direction === 'asc' ? 1 : -1;
  return kept.sort((a, b) => {
    const order = compareCells(a[index] ?? null, b[index] ?? null, sign);
    return order !== 0 ? order : String(a[seatColumn]).localeCompare(String(b[seatColumn]));
  });
}

// Empty cells go last whichever way the column is sorted.
function compareCells(a: CellValue, b: CellValue, sign: number): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
  if (typeof a === 'number' && typeof b === 'number') return (a - b) * sign;
  return String(a).localeCompare(String(b)) * sign;
}

// The table is a CSS grid of ARIA table roles rather than a <table>: rows of fixed height and column widths,
// so a large table can hold only the rows in view (seat-table-view.ts) without the columns shifting.
export function headHtml(columns: readonly Column[], sort: SortState): string {
  const cells = columns.map((c) => {
    const sorted = c.key === sort.key;
    const ariaSort = sorted ? (sort.direction === 'asc' ? 'ascending' : 'descending') : 'none';
    const arrow = sorted ? (sort.direction === 'asc' ? '▲' : '▼') : '';
    return `<div role="columnheader" class="${c.kind === 'text' ? 'col-text' : 'col-num'}" aria-sort="${ariaSort}" data-col="${c.key}">` +
      `<button type="button" class="sort" data-sort="${c.key}" data-testid="seat-sort-${c.key}">${esc(c.label)}<span class="sort-mark" aria-hidden="true">${arrow}</span></button></div>`;
  });
  return `<div role="row" class="grid-row" aria-rowindex="1">${cells.join('')}</div>`;
}

/** Rows `start` to `end` (exclusive); aria-rowindex stays the row's place in the whole table. */
export function bodyHtml(columns: readonly Column[], rows: readonly SeatCells[], start: number, end: number): string {
  const parts: string[] = [];
  for (let r = start; r < end && r < rows.length; r++) {
    const row = rows[r] as SeatCells;
    parts.push(`<div role="row" class="grid-row" aria-rowindex="${r + 2}" data-testid="seat-row" data-seat="${esc(String(row[0] ?? ''))}">`);
    for (let c = 0; c < columns.length; c++) {
      const column = columns[c] as Column;
      const text = esc(displayCell(column, row[c] ?? null));
      parts.push(
        c === 0
          ? `<div role="rowheader" class="col-text" data-col="${column.key}" title="${text}">${text}</div>`
          : `<div role="cell" class="col-num" data-col="${column.key}">${text}</div>`,
      );
    }
    parts.push('</div>');
  }
  return parts.join('');
}

export function rowsCsv(columns: readonly Column[], rows: readonly SeatCells[]): string {
  const textColumns = new Set<number>();
  columns.forEach((c, i) => {
    if (c.kind === 'text') textColumns.add(i);
  });
  return toCsv(
    columns.map((c) => c.label),
    rows.map((row) => columns.map((c, i) => csvCell(c, row[i] ?? null))),
    textColumns,
  );
}
