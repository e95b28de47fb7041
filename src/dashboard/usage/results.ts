// Charts and the per-seat table for one loaded range; `destroy` releases the charts and the table's listeners.
import { byId, esc } from '../dom.js';
import type { ModelSeries, SeatUsage } from './aggregate.js';
import { mountChart } from './chart.js';
import { chartDefinitions } from './charts.js';
import { mountSeatTable, seatSectionHtml, type TableLabel } from './seat-table-view.js';

export interface Results {
  destroy(): void;
}

export type RangeLabel = TableLabel;

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
    ${seatSectionHtml(usage.seats.length, label)}`,
  );

  const stops = charts.flatMap((c) => {
    const body = byId(content, `chart-${c.id}`).querySelector<HTMLElement>('.chart-body');
    return body && c.spec.series.length > 0 ? [mountChart(body, usage.xs, c.spec)] : [];
  });

  const stopTable = mountSeatTable(byId(content, 'seat-section'), usage.seats, label);
  return {
    destroy: () => {
      stopTable();
      for (const stop of stops) stop();
    },
  };
}
