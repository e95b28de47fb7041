// The per-seat table on the page: filter, sort, CSV of what is shown, and a sideways-scroll hint.
// Past LARGE_TABLE_ROWS rows only the rows in view (plus a margin) are in the DOM: a 1,000-seat table is
// ~22,000 cells, and re-rendering all of them on every sort click took a fifth of a second.
import { byId, downloadText, esc } from '../dom.js';
import { formatInteger } from '../format.js';
import type { SeatTotals } from './aggregate.js';
import { SEAT_COLUMNS } from './columns.js';
import { bodyHtml, headHtml, rowsCsv, seatCells, visibleRows, type SeatCells, type SortState } from './seat-table.js';

export interface TableLabel {
  readonly tenant: string;
  readonly from: string;
  readonly to: string;
}

const LARGE_TABLE_ROWS = 200;
/** Every body row is this tall (styles.css `--seat-row`), so a row's position is its index times this. */
const ROW_PX = 38;
/** Rows rendered above and below the visible ones, so a fast scroll does not show blank rows. */
const OVERSCAN = 12;

/** Sort order survives range changes, like the range survives page changes. */
let sort: SortState = { key: 'costUsd', direction: 'desc' };

export function seatSectionHtml(seatCount: number, label: TableLabel): string {
  return `<section class="card" aria-labelledby="seats-heading" data-testid="seat-section">
      <div class="card-head">
        <div><h2 id="seats-heading">Seats</h2>
          <p class="muted" data-testid="seat-count" aria-live="polite"></p></div>
        <div class="card-actions">
          <input type="search" class="input" placeholder="Filter seats" aria-label="Filter seats" data-testid="seat-filter">
          <button type="button" class="btn" data-testid="csv-export">Export CSV</button>
        </div>
      </div>
      <p class="hint scroll-hint" data-testid="seat-scroll-hint" hidden>${SEAT_COLUMNS.length} columns: scroll the table
        sideways for the rest <span aria-hidden="true">→</span></p>
      <div class="seat-scroll" data-testid="seat-scroll">
        <div class="table-wrap seat-wrap" data-testid="seat-wrap">
          <div class="grid-table seat-table" role="table" data-testid="seat-table" style="--num-cols: ${SEAT_COLUMNS.length - 1}"
            aria-label="Usage per seat, ${esc(label.from)} to ${esc(label.to)}. Column headers sort." aria-rowcount="${seatCount + 1}">
            <div role="rowgroup" class="grid-head" data-testid="seat-head"></div>
            <div role="rowgroup" class="grid-body" data-testid="seat-rows"></div>
          </div>
        </div>
      </div>
    </section>`;
}

/** Wires the section written by seatSectionHtml; returns its cleanup. */
export function mountSeatTable(section: HTMLElement, seats: readonly SeatTotals[], label: TableLabel): () => void {
  const table = byId(section, 'seat-table');
  const head = byId(section, 'seat-head');
  const body = byId(section, 'seat-rows');
  const wrap = byId(section, 'seat-wrap');
  const scroller = byId(section, 'seat-scroll');
  const hint = byId(section, 'seat-scroll-hint');
  const count = byId(section, 'seat-count');
  const filterInput = byId<HTMLInputElement>(section, 'seat-filter');
  const allRows = seatCells(seats, SEAT_COLUMNS);
  let shown: SeatCells[] = [];
  let windowed = false;
  let slice = { start: -1, end: -1 };
  let filterTimer = 0;
  let frame = 0;

  /** Renders the rows in view of a large table; a no-op while the same rows are already there. */
  const renderSlice = (force: boolean): void => {
    const top = Math.max(0, wrap.scrollTop - body.offsetTop);
    const start = Math.max(0, Math.floor(top / ROW_PX) - OVERSCAN);
    const end = Math.min(shown.length, Math.ceil((top + wrap.clientHeight) / ROW_PX) + OVERSCAN);
    if (!force && start === slice.start && end === slice.end) return;
    slice = { start, end };
    body.style.paddingTop = `${start * ROW_PX}px`;
    body.innerHTML = bodyHtml(SEAT_COLUMNS, shown, start, end);
  };
  const showScrollHint = (): void => {
    const overflows = wrap.scrollWidth > wrap.clientWidth + 1;
    hint.hidden = !overflows;
    scroller.dataset['moreRight'] = String(overflows && wrap.scrollLeft + wrap.clientWidth < wrap.scrollWidth - 1);
  };
  const render = (): void => {
    shown = visibleRows(allRows, SEAT_COLUMNS, sort, filterInput.value);
    head.innerHTML = headHtml(SEAT_COLUMNS, sort);
    windowed = shown.length > LARGE_TABLE_ROWS;
    table.classList.toggle('is-windowed', windowed);
    body.style.height = windowed ? `${shown.length * ROW_PX}px` : '';
    body.style.paddingTop = '';
    if (shown.length === 0) {
      body.innerHTML = `<div role="row" class="grid-empty"><div role="cell">No seat matches “${esc(filterInput.value.trim())}”.</div></div>`;
    } else if (windowed) {
      renderSlice(true);
    } else {
      body.innerHTML = bodyHtml(SEAT_COLUMNS, shown, 0, shown.length);
    }
    table.setAttribute('aria-rowcount', String(shown.length + 1));
    count.textContent =
      shown.length === allRows.length
        ? `${formatInteger(allRows.length)} ${allRows.length === 1 ? 'seat' : 'seats'}`
        : `Showing ${formatInteger(shown.length)} of ${formatInteger(allRows.length)} seats`;
    showScrollHint();
  };

  wrap.addEventListener('scroll', () => {
    if (frame !== 0) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      if (windowed) renderSlice(false);
      showScrollHint();
    });
  }, { passive: true });
  const resized = new ResizeObserver(() => {
    if (windowed) renderSlice(false);
    showScrollHint();
  });
  resized.observe(wrap);
  head.addEventListener('click', (event) => {
    const key = (event.target as Element | null)?.closest<HTMLButtonElement>('button[data-sort]')?.dataset['sort'];
    if (!key) return;
    const numeric = SEAT_COLUMNS.find((c) => c.key === key)?.kind !== 'text';
    sort =
      sort.key === key
        ? { key, direction: sort.direction === 'asc' ? 'desc' : 'asc' }
        : { key, direction: numeric ? 'desc' : 'asc' };
    render();
    head.querySelector<HTMLButtonElement>(`button[data-sort="${key}"]`)?.focus();
  });
  filterInput.addEventListener('input', () => {
    window.clearTimeout(filterTimer);
    filterTimer = window.setTimeout(render, 120);
  });
  byId(section, 'csv-export').addEventListener('click', () => {
    window.clearTimeout(filterTimer);
    render();
    // Every row that passes the filter, in the order shown: also those scrolled out of view.
    downloadText(`usage-${label.tenant.replace(/[^\w.-]+/g, '_')}-${label.from}-to-${label.to}.csv`, rowsCsv(SEAT_COLUMNS, shown), 'text/csv;charset=utf-8');
  });

  render();
  return () => {
    window.clearTimeout(filterTimer);
    cancelAnimationFrame(frame);
    resized.disconnect();
  };
}
