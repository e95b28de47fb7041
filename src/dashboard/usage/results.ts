// Charts and the per-seat table for one loaded range; `destroy` releases the charts.
import { byId, downloadText, esc } from '../dom.js';
import { formatInteger } from '../format.js';
import type { ModelSeries, SeatUsage } from './aggregate.js';
import { mountChart } from './chart.js';
import { chartDefinitions } from './charts.js';
import { SEAT_COLUMNS } from './columns.js';
import { bodyHtml, headHtml, rowsCsv, seatCells, visibleRows, type SeatCells, type SortState } from './seat-table.js';

export interface Results {
  destroy(): void;
}

export interface RangeLabel {
  readonly tenant: string;
  readonly from: string;
  readonly to: string;
}

const LARGE_TABLE_ROWS = 200;

/** Sort order survives range changes, like the range survives page changes. */
let sort: SortState = { key: 'costUsd', direction: 'desc' };

export function mountResults(content: HTMLElement, usage: SeatUsage, models: readonly ModelSeries[], label: RangeLabel): Results {
  const charts = chartDefinitions(usage, models);
  content.insertAdjacentHTML(
    'beforeend',
    `<div class="charts">${charts
      .map(
        (c) => `<figure class="card chart" data-testid="chart-${c.id}">
          <figcaption class="chart-head"><h2 class="chart-title">${esc(c.title)}</h2>
            <span class="chart-headline" data-testid="chart-${c.id}-headline">${esc(c.headline)}</span></figcaption>
          <div class="chart-body">${c.spec.series.length === 0 ? '<p class="muted chart-empty">No data by model in this range.</p>' : ''}</div>
        </figure>`,
      )
      .join('')}</div>
    <section class="card" aria-labelledby="seats-heading" data-testid="seat-section">
      <div class="card-head">
        <div><h2 id="seats-heading">Seats</h2>
          <p class="muted" data-testid="seat-count" aria-live="polite"></p></div>
        <div class="card-actions">
          <input type="search" class="input" placeholder="Filter seats" aria-label="Filter seats" data-testid="seat-filter">
          <button type="button" class="btn" data-testid="csv-export">Export CSV</button>
        </div>
      </div>
      <div class="table-wrap seat-wrap">
        <div class="grid-table seat-table" role="table" data-testid="seat-table" style="--num-cols: ${SEAT_COLUMNS.length - 1}"
          aria-label="Usage per seat, ${esc(label.from)} to ${esc(label.to)}. Column headers sort." aria-rowcount="${usage.seats.length + 1}">
          <div role="rowgroup" class="grid-head" data-testid="seat-head"></div>
          <div role="rowgroup" class="grid-body" data-testid="seat-rows"></div>
        </div>
      </div>
    </section>`,
  );

  const stops = charts.flatMap((c) => {
    const body = byId(content, `chart-${c.id}`).querySelector<HTMLElement>('.chart-body');
    return body && c.spec.series.length > 0 ? [mountChart(body, usage.xs, c.spec)] : [];
  });

  const table = byId(content, 'seat-table');
  const head = byId(content, 'seat-head');
  const body = byId(content, 'seat-rows');
  const count = byId(content, 'seat-count');
  const filterInput = byId<HTMLInputElement>(content, 'seat-filter');
  const allRows = seatCells(usage.seats, SEAT_COLUMNS);
  let shown: SeatCells[] = [];
  let filterTimer = 0;

  const render = (): void => {
    shown = visibleRows(allRows, SEAT_COLUMNS, sort, filterInput.value);
    head.innerHTML = headHtml(SEAT_COLUMNS, sort);
    body.innerHTML =
      shown.length > 0
        ? bodyHtml(SEAT_COLUMNS, shown)
        : `<div role="row" class="grid-empty"><div role="cell">No seat matches “${esc(filterInput.value.trim())}”.</div></div>`;
    table.setAttribute('aria-rowcount', String(shown.length + 1));
    // Large tables lay out only the rows near the viewport; small ones render whole (also in full-page screenshots).
    table.classList.toggle('is-large', shown.length > LARGE_TABLE_ROWS);
    count.textContent =
      shown.length === allRows.length
        ? `${formatInteger(allRows.length)} ${allRows.length === 1 ? 'seat' : 'seats'}`
        : `Showing ${formatInteger(shown.length)} of ${formatInteger(allRows.length)} seats`;
  };

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
  byId(content, 'csv-export').addEventListener('click', () => {
    window.clearTimeout(filterTimer);
    render();
    downloadText(`usage-${label.tenant.replace(/[^\w.-]+/g, '_')}-${label.from}-to-${label.to}.csv`, rowsCsv(SEAT_COLUMNS, shown), 'text/csv;charset=utf-8');
  });

  render();
  return {
    destroy: () => {
      window.clearTimeout(filterTimer);
      for (const stop of stops) stop();
    },
  };
}
