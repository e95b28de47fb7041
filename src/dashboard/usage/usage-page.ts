// The Usage page: a date range, headline figures, charts, and the per-seat table with CSV export.
import { api } from '../api.js';
import { isDay, lastDays } from '../days.js';
import { byId, esc } from '../dom.js';
import { formatDay, plural } from '../format.js';
import type { Cleanup, PageContext } from '../page.js';
import { aggregateModels, seatUsage } from './aggregate.js';
import { kpisHtml } from './kpis.js';
import { mountResults, type Results } from './results.js';

/** The range survives moving between pages, not reloads; it is in days of the zone it was picked in. */
let remembered: { readonly from: string; readonly to: string; readonly timeZone: string } | null = null;

export function mountUsage(root: HTMLElement, context: PageContext): Cleanup {
  const timeZone = context.whoami.timezone;
  let range = remembered?.timeZone === timeZone ? remembered : { ...lastDays(30, timeZone), timeZone };
  const setRange = (next: { from: string; to: string }): void => {
    range = { ...next, timeZone };
    remembered = range;
  };
  root.innerHTML = `
    <div class="page-head">
      <h1>Usage</h1>
      <p class="muted" data-testid="usage-zone">Daily usage of tenant <code>${esc(context.whoami.tenant)}</code>.
        Days begin at midnight <strong>${esc(timeZone)}</strong>, the tenant's time zone.</p>
    </div>
    <form class="card toolbar" data-testid="usage-range-form" novalidate>
      <label class="field field-inline"><span class="field-label">From</span>
        <input type="date" name="from" required data-testid="usage-from"></label>
      <label class="field field-inline"><span class="field-label">To</span>
        <input type="date" name="to" required data-testid="usage-to"></label>
      <button type="submit" class="btn btn-primary" data-testid="usage-apply">Apply</button>
      <div class="presets" role="group" aria-label="Quick ranges">
        ${[7, 30, 90].map((n) => `<button type="button" class="btn btn-small btn-ghost" data-days="${n}" data-testid="usage-preset-${n}">Last ${n} days</button>`).join('')}
      </div>
      ${context.isAdmin ? `<button type="button" class="btn btn-small toolbar-end" data-testid="usage-recompute"
        title="Recompute the daily rollups for this range from the stored records">Recompute</button>` : ''}
      <p class="toolbar-message" role="status" data-testid="usage-message"></p>
    </form>
    <div data-testid="usage-content"></div>`;

  const form = byId<HTMLFormElement>(root, 'usage-range-form');
  const fromInput = byId<HTMLInputElement>(root, 'usage-from');
  const toInput = byId<HTMLInputElement>(root, 'usage-to');
  const message = byId(root, 'usage-message');
  const content = byId(root, 'usage-content');
  let loading: AbortController | null = null;
  let results: Results | null = null;

  const say = (text: string, tone: 'info' | 'error' = 'info'): void => {
    message.textContent = text;
    message.dataset['tone'] = tone;
  };
  const clearResults = (): void => {
    results?.destroy();
    results = null;
  };
  const load = async (): Promise<void> => {
    loading?.abort();
    const controller = new AbortController();
    loading = controller;
    fromInput.value = range.from;
    toInput.value = range.to;
    for (const preset of form.querySelectorAll<HTMLButtonElement>('button[data-days]')) {
      const days = lastDays(Number(preset.dataset['days']), timeZone);
      preset.setAttribute('aria-pressed', String(days.from === range.from && days.to === range.to));
    }
    content.setAttribute('aria-busy', 'true');
    content.classList.add('is-loading');
    if (!results) content.innerHTML = `<div class="card state" data-testid="usage-loading"><p class="muted">Loading usage…</p></div>`;
    const { from, to } = range;
    const summary = await api.usageSummary(context.auth.token, from, to, controller.signal);
    if (controller.signal.aborted) return;
    loading = null;
    content.removeAttribute('aria-busy');
    content.classList.remove('is-loading');
    clearResults();
    if (!summary.ok) {
      content.innerHTML = `<div class="card state state-error" data-testid="usage-error" role="alert">
          <h2>Could not load usage</h2><p data-testid="usage-error-message">${esc(summary.message)}</p>
          <button type="button" class="btn btn-primary" data-testid="usage-retry">Retry</button></div>`;
      return;
    }
    const { days, seats, models } = summary.value;
    if (days.length === 0 && seats.length === 0 && models.length === 0) {
      content.innerHTML = `<div class="card state" data-testid="usage-empty">
          <h2>No usage in this range</h2>
          <p class="muted">Nothing was rolled up between ${esc(formatDay(from))} and ${esc(formatDay(to))}.
            The pipeline refreshes today and yesterday through the day and finalizes each day after it ends${
              context.isAdmin ? '; use Recompute to roll up these days now' : ''}.</p></div>`;
      return;
    }
    const usage = seatUsage(days, seats, from, to);
    const modelSeries = aggregateModels(models, usage.days);
    content.innerHTML = kpisHtml(usage);
    results = mountResults(content, usage, modelSeries, { tenant: context.whoami.tenant, from, to });
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const from = fromInput.value;
    const to = toInput.value;
    if (!isDay(from) || !isDay(to)) return say('Enter both dates.', 'error');
    if (from > to) return say('The start date is after the end date.', 'error');
    say('');
    setRange({ from, to });
    void load();
  });
  form.addEventListener('click', (event) => {
    const button = (event.target as Element | null)?.closest<HTMLButtonElement>('button');
    if (!button) return;
    const days = Number(button.dataset['days']);
    if (days > 0) {
      say('');
      setRange(lastDays(days, timeZone));
      void load();
    } else if (button.dataset['testid'] === 'usage-recompute') {
      void recompute(button);
    }
  });
  content.addEventListener('click', (event) => {
    if ((event.target as Element | null)?.closest('[data-testid="usage-retry"]')) void load();
  });

  const recompute = async (button: HTMLButtonElement): Promise<void> => {
    button.disabled = true;
    say('Recomputing…');
    const { from, to } = range;
    const result = await api.runPipeline(context.auth.token, from, to);
    button.disabled = false;
    if (!result.ok) {
      say(`Recompute failed: ${result.message}`, 'error');
      return;
    }
    say(`Recomputed ${plural(result.value.days, 'day', 'days')}.`);
    await load();
  };

  void load();
  return () => {
    loading?.abort();
    clearResults();
  };
}
