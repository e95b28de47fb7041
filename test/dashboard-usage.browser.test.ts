import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { type Measures, measureNames } from '../src/store/store.js';
import { type TestBrowser, addDays, launchBrowser, parseCsv, todayIn } from './support/browser.js';
import { sendLogs } from './support/otel.js';
import { type TestService, startTestService } from './support/service.js';
import { runPipeline } from './support/usage.js';

/**
 * The Usage page of a tenant whose days are not UTC days, in a browser whose zone is UTC: the default
 * range, the presets and the data all follow the tenant's time zone. And a table of 450 seats, of which
 * only the rows in view are in the DOM, while scrolling, sorting and the CSV still cover every seat.
 */

/** A zone whose date differs from UTC's right now: far east while UTC's afternoon, far west while its morning. */
function zoneOffTheUtcDate(): string {
  const zone = ['Pacific/Kiritimati', 'Pacific/Pago_Pago'].find((z) => todayIn(z) !== todayIn('UTC'));
  if (!zone) throw new Error('no candidate zone is on another date than UTC now');
  return zone;
}

const SEEDED = 450;
const seededSeat = (i: number) => `seat-${String(i).padStart(3, '0')}@example.com`;

describe('dashboard usage: tenant time zone and a large seat table, in a real browser', function () {
  this.timeout(90_000);
  const zone = zoneOffTheUtcDate();
  const tenantToday = todayIn(zone);
  const utcToday = todayIn('UTC');
  let svc: TestService;
  let browser: TestBrowser;
  let page: Page;
  let admin: string;
  const testId = (id: string) => page.getByTestId(id);
  const rangeShown = async () => ({ from: await testId('usage-from').inputValue(), to: await testId('usage-to').inputValue() });
  const tableFor = (from: string, to: string) => page.locator(`[data-testid="seat-table"][aria-label*="${from} to ${to}"]`);

  before(async () => {
    svc = await startTestService();
    admin = await svc.token('tz', 'admin', zone);
    const ingest = await svc.token('tz', 'ingest');
    // One real event now: on the tenant's today, which is not UTC's today.
    const sent = await sendLogs('http/json', { grpc: svc.urls.grpc, http: svc.urls.http }, ingest, { 'service.name': 'claude-code' }, [{
      body: 'claude_code.api_request',
      attributes: {
        'event.name': 'api_request', 'session.id': randomUUID(), 'user.email': 'zoe@example.com', 'prompt.id': randomUUID(),
        model: 'claude-sonnet-4-5', cost_usd: 2.5, input_tokens: 100, output_tokens: 10, duration_ms: 500,
      },
    }]);
    expect(sent.ok, String(sent.error)).to.equal(true);
    await runPipeline(svc, admin, tenantToday, tenantToday);
    // 450 seats three days earlier, written as the pipeline writes rollups; seat i cost i + 1 dollars.
    const day = addDays(tenantToday, -3);
    const measures = (i: number): Measures => ({ ...Object.fromEntries(measureNames.map((m) => [m, 0])), sessions: 1, costUsd: i + 1, prompts: 1 } as Measures);
    await svc.store.replaceDailyRollups('tz', day,
      Array.from({ length: SEEDED }, (_, i) => ({ day, seat: seededSeat(i), surface: 'claude_code', measures: measures(i) })),
      Array.from({ length: SEEDED }, (_, i) => ({
        day, seat: seededSeat(i), surface: 'claude_code', model: 'claude-opus-4-1',
        measures: { costUsd: i + 1, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 },
      })));
    browser = await launchBrowser(svc.urls.api, 'UTC');
    page = browser.page;
    await page.goto(`${svc.urls.api}/`);
    await testId('signin-token').fill(admin);
    await testId('signin-submit').click();
    await testId('who-tenant').waitFor();
  });

  after(async () => {
    await browser?.close();
    await svc?.close();
  });

  it(`counts days in the tenant's zone, not the browser's or UTC's`, async () => {
    expect(tenantToday).not.to.equal(utcToday);
    await testId('nav-usage').click();
    await tableFor(addDays(tenantToday, -29), tenantToday).waitFor();
    expect(await rangeShown()).to.deep.equal({ from: addDays(tenantToday, -29), to: tenantToday });
    expect(await testId('usage-zone').textContent()).to.contain(`Days begin at midnight ${zone}`);
    expect(await testId('usage-preset-30').getAttribute('aria-pressed')).to.equal('true');
    expect(await testId('chart-active-seats-headline').textContent()).to.equal(`peak ${SEEDED}`);
    // $1 + … + $450 seeded, $2.50 sent: too wide for its tile exactly, so compact there and exact on hover.
    expect(await testId('kpi-cost').textContent()).to.equal('$101.5K');
    expect(await testId('kpi-cost').getAttribute('title')).to.equal('$101,477.50');
    expect(await testId('chart-cost-headline').textContent()).to.equal('$101,477.50 total');
    await browser.shot('20-usage-tenant-zone');

    await testId('usage-preset-7').click();
    await tableFor(addDays(tenantToday, -6), tenantToday).waitFor();
    expect(await rangeShown()).to.deep.equal({ from: addDays(tenantToday, -6), to: tenantToday });

    // The event sent now is on the tenant's today…
    await testId('usage-from').fill(tenantToday);
    await testId('usage-to').fill(tenantToday);
    await testId('usage-apply').click();
    await tableFor(tenantToday, tenantToday).waitFor();
    expect(await testId('seat-row').evaluateAll((els) => els.map((e) => e.getAttribute('data-seat')))).to.deep.equal(['zoe@example.com']);
    expect(await page.locator('[data-seat="zoe@example.com"] [data-col="costUsd"]').textContent()).to.equal('2.50');
    // …and not on UTC's.
    await testId('usage-from').fill(utcToday);
    await testId('usage-to').fill(utcToday);
    await testId('usage-apply').click();
    await testId('usage-empty').waitFor();
  });

  it('keeps only the rows in view of a 451-seat table in the DOM, and scrolls, sorts and exports all of them', async () => {
    await testId('usage-preset-30').click();
    const table = tableFor(addDays(tenantToday, -29), tenantToday);
    await table.waitFor();
    expect(await testId('seat-count').textContent()).to.equal('451 seats');
    expect(await table.getAttribute('aria-rowcount')).to.equal('452');
    const inDom = () => testId('seat-row').count();
    expect(await inDom()).to.be.within(10, 60);
    // Sorted by cost, highest first: the costliest seeded seat leads.
    await page.locator(`[data-testid="seat-row"][aria-rowindex="2"][data-seat="${seededSeat(SEEDED - 1)}"]`).waitFor();

    await testId('seat-wrap').evaluate((el) => el.scrollTo({ top: el.scrollHeight / 2 }));
    await page.locator('[data-testid="seat-row"][aria-rowindex="227"]').waitFor();
    expect(await inDom()).to.be.within(10, 60);
    // The rows in view sit where their index says, one row height apart, and fill the view.
    const placed = await testId('seat-wrap').evaluate((wrap) => {
      const top = wrap.getBoundingClientRect().top;
      const rows = [...wrap.querySelectorAll<HTMLElement>('[data-testid="seat-row"]')]
        .map((r) => ({ index: Number(r.getAttribute('aria-rowindex')), y: r.getBoundingClientRect().top - top }))
        .filter((r) => r.y >= 0 && r.y < wrap.clientHeight);
      return { rows, clientHeight: wrap.clientHeight };
    });
    expect(placed.rows.length).to.be.at.least(Math.floor(placed.clientHeight / 38) - 2);
    placed.rows.forEach((r, i) => {
      expect(r.index).to.equal((placed.rows[0]?.index ?? 0) + i);
      if (i > 0) expect(r.y - (placed.rows[i - 1]?.y ?? 0)).to.be.closeTo(38, 1);
    });
    await browser.shot('21-usage-large-table-scrolled');

    await testId('seat-wrap').evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
    await page.locator(`[data-testid="seat-row"][aria-rowindex="452"][data-seat="${seededSeat(0)}"]`).waitFor();

    // Sorting by seat redraws the window from the same scroll position, in the new order.
    await testId('seat-sort-seat').click();
    await page.locator('[data-testid="seat-row"][aria-rowindex="452"][data-seat="zoe@example.com"]').waitFor();

    const [download] = await Promise.all([page.waitForEvent('download'), testId('csv-export').click()]);
    const [, ...rows] = parseCsv(await fs.readFile(await download.path(), 'utf8'));
    expect(rows.map((r) => r[0])).to.deep.equal([...Array.from({ length: SEEDED }, (_, i) => seededSeat(i)), 'zoe@example.com']);
    expect(browser.errors).to.deep.equal([]);
  });
});
