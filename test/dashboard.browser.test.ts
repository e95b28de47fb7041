import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { startEmbeddedPostgres } from '../src/store/postgres/index.js';
import { type TestBrowser, launchBrowser, parseCsv, todayIn, addDays } from './support/browser.js';
import { type Endpoints, type LogSpec, sendLogs, sendMetrics } from './support/otel.js';
import { type TestPostgres, freePort, startTestPostgres, testLogger } from './support/postgres.js';
import { type TestService, startTestService } from './support/service.js';
import { eventually } from './support/usage.js';

/**
 * The dashboard in a real Chromium against the real service: sign in (and the tokens that may not), issue an
 * ingest token, check and copy every line of the setup, send telemetry through the real OTel exporters to the
 * endpoints the page shows, watch Connect turn green and the token's last use appear, recompute and read the
 * charts and the seat table, pick ranges, filter and download the CSV, see the error state while the database
 * is away and Retry once it is back, rotate tokens (the admin's own too), revoke, sign in with a read token.
 */

/** Seats as the pipeline labels them, with what each one sends. */
const seats = {
  alice: 'alice@example.com',
  bob: 'bob@example.com',
  carol: 'carol@example.com',
} as const;

/** What Claude Code needs, spelled out here rather than taken from the code under test. */
const expectedEnv = (protocol: string, endpoint: string, token: string): Record<string, string> => ({
  CLAUDE_CODE_ENABLE_TELEMETRY: '1',
  OTEL_METRICS_EXPORTER: 'otlp',
  OTEL_LOGS_EXPORTER: 'otlp',
  OTEL_TRACES_EXPORTER: 'otlp',
  CLAUDE_CODE_ENHANCED_TELEMETRY_BETA: '1',
  OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
  OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
  OTEL_EXPORTER_OTLP_HEADERS: `Authorization=Bearer ${token}`,
  OTEL_RESOURCE_ATTRIBUTES: 'tenant.id=acme',
});

/** Runs the `export …` lines in a real POSIX shell and reads the variables back, so the quoting is proven. */
function shellEnv(lines: string, names: readonly string[]): Record<string, string> {
  const script = `${lines}\n${names.map((n) => `printf '%s\\0' "$${n}"`).join('\n')}\n`;
  const values = execFileSync('/bin/sh', ['-c', script], { encoding: 'utf8' }).split('\0');
  return Object.fromEntries(names.map((n, i) => [n, values[i] ?? '']));
}

const api = async (svc: TestService, token: string, method: string, urlPath: string): Promise<Response> =>
  fetch(`${svc.urls.api}${urlPath}`, { method, headers: { authorization: `Bearer ${token}` } });

const mediumDay = new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeZone: 'UTC' });
const formatDay = (day: string): string => mediumDay.format(new Date(`${day}T00:00:00Z`));

describe('dashboard in a real browser', function () {
  this.timeout(90_000);
  let pg: TestPostgres;
  let svc: TestService;
  let browser: TestBrowser;
  let page: Page;
  let adminToken: string;
  let ingestToken = '';
  let endpoints: Endpoints;
  const started = Date.now();
  const testId = (id: string) => page.getByTestId(id);
  const shot = (name: string) => browser.shot(name);
  const today = todayIn('UTC');

  /** Clicks a copy button and returns what landed on the clipboard. */
  const copied = async (button: string): Promise<string> => {
    await page.evaluate(() => navigator.clipboard.writeText(''));
    await testId(button).click();
    await testId(button).filter({ hasText: 'Copied' }).waitFor();
    return page.evaluate(() => navigator.clipboard.readText());
  };
  const seatRows = () => testId('seat-row').evaluateAll((els) => els.map((e) => e.getAttribute('data-seat')));
  const downloadCsv = async (): Promise<{ name: string; records: string[][] }> => {
    const [download] = await Promise.all([page.waitForEvent('download'), testId('csv-export').click()]);
    const csv = await fs.readFile(await download.path(), 'utf8');
    expect(csv.endsWith('\r\n')).to.equal(true);
    return { name: download.suggestedFilename(), records: parseCsv(csv) };
  };
  const rangeShown = async (): Promise<{ from: string; to: string }> => ({
    from: await testId('usage-from').inputValue(),
    to: await testId('usage-to').inputValue(),
  });

  before(async function () {
    // A PostgreSQL of its own: the error-state test stops it.
    pg = await startTestPostgres('browser');
    // Real ports, not 0: the page shows the OTLP endpoints from the configured ports, and the exporters use them.
    const [grpc, http, apiPort] = [await freePort(), await freePort(), await freePort()];
    svc = await startTestService({
      DATABASE_URL: pg.handle.url, OTLP_GRPC_PORT: String(grpc), OTLP_HTTP_PORT: String(http), API_PORT: String(apiPort),
    });
    adminToken = await svc.token('acme', 'admin');
    browser = await launchBrowser(svc.urls.api);
    page = browser.page;
  });

  after(async () => {
    await browser?.close();
    await svc?.close();
    await pg?.destroy();
    console.log(`      dashboard browser test: ${Date.now() - started} ms`);
  });

  it('refuses a bad token and an ingest token at sign-in, then signs in with an admin token', async () => {
    await page.goto(`${svc.urls.api}/`);
    await testId('signin-token').waitFor();
    await shot('01-signin');

    await testId('signin-token').fill('aiu_not_a_real_token');
    await testId('signin-submit').click();
    await testId('signin-error').filter({ hasText: /not valid/ }).waitFor();
    await shot('02-signin-error');

    // An ingest token is real and active, but only sends telemetry.
    await testId('signin-token').fill(await svc.token('globex', 'ingest'));
    await testId('signin-submit').click();
    await testId('signin-error').filter({ hasText: /cannot sign in|ingest token/ }).waitFor();
    expect(await testId('who-tenant').count()).to.equal(0);
    expect(await page.evaluate(() => sessionStorage.getItem('ai-usage.token'))).to.equal(null);
    await shot('02b-signin-ingest-refused');

    await testId('signin-token').fill(adminToken);
    await testId('signin-submit').click();
    await testId('who-tenant').waitFor();
    expect(await testId('who-tenant').textContent()).to.equal('acme');
    expect(await testId('who-scope').textContent()).to.equal('admin');
  });

  it('shows the waiting state, issues an ingest token once and copies it', async () => {
    await page.locator('[data-testid="connect-status"][data-state="waiting"]').waitFor();
    expect(await testId('connect-status-text').textContent()).to.match(/Waiting for the first data/);
    expect(await testId('setup-tenant').textContent()).to.equal('acme');
    expect(await testId('setup-managed-settings').textContent()).to.contain('<INGEST_TOKEN>');
    await testId('token-rows').locator('[data-testid="token-row"]').first().waitFor();
    // The tenant's privacy policy is shown: the defaults keep everything, 90 days of raw data.
    await testId('policy-prompts').waitFor();
    expect(await testId('policy-prompts').getAttribute('data-value')).to.equal('keep');
    expect(await testId('policy-emails').getAttribute('data-value')).to.equal('keep');
    expect(await testId('policy-retention').getAttribute('data-value')).to.equal('90');
    await shot('03-connect-waiting');

    await testId('token-scope').selectOption('ingest');
    await testId('token-issue').click();
    await testId('token-once-value').waitFor();
    ingestToken = (await testId('token-once-value').textContent()) ?? '';
    expect(ingestToken).to.match(/^aiu_/);
    expect(await copied('token-once-copy')).to.equal(ingestToken);
    await page.locator('[data-testid="token-row"][data-scope="ingest"][data-status="active"]').waitFor();
    await shot('04-token-issued-once');

    await testId('token-once-dismiss').click();
    expect(await testId('token-once').count()).to.equal(0);
    // Not shown again: not after a reload either, and the list shows only the prefix.
    await page.reload();
    await page.locator('[data-testid="token-row"][data-scope="ingest"]').waitFor();
    expect(await testId('token-once').count()).to.equal(0);
    expect(await testId('token-rows').textContent()).not.to.contain(ingestToken);
  });

  it('fills every line of the setup with the token and copies each of them', async () => {
    endpoints = {
      grpc: (await testId('setup-grpc-endpoint').textContent()) ?? '',
      http: (await testId('setup-http-endpoint').textContent()) ?? '',
    };
    expect(endpoints).to.deep.equal({ grpc: svc.urls.grpc, http: svc.urls.http });
    expect(await copied('setup-tenant-copy')).to.equal('acme');
    expect(await copied('setup-grpc-endpoint-copy')).to.equal(svc.urls.grpc);
    expect(await copied('setup-http-endpoint-copy')).to.equal(svc.urls.http);
    for (const [radio, protocol, endpoint] of [['setup-protocol-grpc', 'grpc', svc.urls.grpc], ['setup-protocol-http', 'http/protobuf', svc.urls.http]] as const) {
      await testId(radio).check();
      const want = expectedEnv(protocol, endpoint, ingestToken);
      await testId('setup-managed-settings').filter({ hasText: `"OTEL_EXPORTER_OTLP_PROTOCOL": "${protocol}"` }).waitFor();
      const settings = (await testId('setup-managed-settings').textContent()) ?? '';
      // The whole file: exactly these variables, in this order, nothing else.
      expect(JSON.parse(settings)).to.deep.equal({ env: want });
      expect(Object.keys((JSON.parse(settings) as { env: object }).env)).to.deep.equal(Object.keys(want));
      expect(await copied('setup-managed-settings-copy')).to.equal(settings);
      // Every environment line, and the values a shell reads from them.
      const lines = (await testId('setup-env').textContent()) ?? '';
      expect(lines.split('\n').filter((l) => l !== '').map((l) => l.replace(/^export ([A-Z_]+)=.*$/, '$1'))).to.deep.equal(Object.keys(want));
      expect(shellEnv(lines, Object.keys(want))).to.deep.equal(want);
      expect(await copied('setup-env-copy')).to.equal(lines);
    }
    // Cowork: HTTP only, whichever protocol Claude Code's snippet shows.
    await testId('setup-protocol-grpc').check();
    expect(await testId('setup-cowork-endpoint').textContent()).to.equal(svc.urls.http);
    expect(await testId('setup-cowork-protocol').textContent()).to.equal('http/protobuf');
    expect(await testId('setup-cowork-headers').textContent()).to.equal(`Authorization=Bearer ${ingestToken}`);
    expect(await copied('setup-cowork-endpoint-copy')).to.equal(svc.urls.http);
    expect(await copied('setup-cowork-protocol-copy')).to.equal('http/protobuf');
    expect(await copied('setup-cowork-headers-copy')).to.equal(`Authorization=Bearer ${ingestToken}`);
    await testId('setup-protocol-http').check();
    await shot('05-connect-setup-filled');
  });

  it('turns green when a real OTel exporter sends with that token, and shows when the token was last used', async () => {
    const code = { 'service.name': 'claude-code', 'service.version': '2.1.330' };
    const prompt = (email: string, session: string): LogSpec => ({
      body: 'claude_code.user_prompt',
      // A prompt id of its own, as Claude Code sends: identical records are deduplicated on ingest.
      attributes: { 'event.name': 'user_prompt', 'session.id': session, 'user.email': email, 'prompt.id': randomUUID(), prompt_length: 42 },
    });
    const request = (email: string, session: string, model: string, cost: number, input: number, output: number, cacheRead = 0, cacheCreation = 0): LogSpec => ({
      body: 'claude_code.api_request',
      attributes: {
        'event.name': 'api_request', 'session.id': session, 'user.email': email, 'prompt.id': randomUUID(), model, cost_usd: cost,
        input_tokens: input, output_tokens: output, cache_read_tokens: cacheRead, cache_creation_tokens: cacheCreation, duration_ms: 900,
      },
    });
    expect(await page.locator('[data-testid="token-row"][data-scope="ingest"] [data-testid="token-last-used"]').textContent()).to.equal('never');
    const sentAt = Date.now();
    const a = randomUUID();
    const b = randomUUID();
    const c = randomUUID();
    const results = [
      // alice: Claude Code over gRPC, events only.
      await sendLogs('grpc', endpoints, ingestToken, code, [
        prompt(seats.alice, a), prompt(seats.alice, a), prompt(seats.alice, a),
        request(seats.alice, a, 'claude-sonnet-4-5', 0.5, 1200, 300, 5000, 800),
        request(seats.alice, a, 'claude-sonnet-4-5', 0.75, 800, 450),
      ]),
      // bob: Claude Code over http/json, events plus session, line, commit and edit-decision counters (no cost metric).
      await sendLogs('http/json', endpoints, ingestToken, code, [
        prompt(seats.bob, b), prompt(seats.bob, b),
        request(seats.bob, b, 'claude-opus-4-1', 1.5, 2000, 900),
      ]),
      await sendMetrics('http/json', endpoints, ingestToken, code, [
        { name: 'claude_code.lines_of_code.count', points: [
          { value: 120, attributes: { 'session.id': b, 'user.email': seats.bob, type: 'added' } },
          { value: 30, attributes: { 'session.id': b, 'user.email': seats.bob, type: 'removed' } },
        ] },
        // Sent once at the start of every session that has metrics on; with metrics, it is the session's only count.
        { name: 'claude_code.session.count', points: [{ value: 1, attributes: { 'session.id': b, 'user.email': seats.bob } }] },
        { name: 'claude_code.commit.count', points: [{ value: 2, attributes: { 'session.id': b, 'user.email': seats.bob } }] },
        { name: 'claude_code.code_edit_tool.decision', points: [
          { value: 3, attributes: { 'session.id': b, 'user.email': seats.bob, decision: 'accept', tool_name: 'Edit' } },
          { value: 1, attributes: { 'session.id': b, 'user.email': seats.bob, decision: 'reject', tool_name: 'Edit' } },
        ] },
      ]),
      // carol: Cowork over http/protobuf (Cowork sends events only).
      await sendLogs('http/protobuf', endpoints, ingestToken, { 'service.name': 'cowork' }, [
        { body: 'user_prompt', attributes: { 'event.name': 'user_prompt', 'session.id': c, 'user.email': seats.carol } },
        { body: 'api_request', attributes: { 'event.name': 'api_request', 'session.id': c, 'user.email': seats.carol, model: 'claude-sonnet-4-5', cost_usd: 0.1, input_tokens: 500, output_tokens: 100 } },
      ]),
    ];
    for (const r of results) expect(r.ok, String(r.error)).to.equal(true);

    // The page polls the status on its own; wait for it to notice.
    const receiving = page.locator('[data-testid="connect-status"][data-state="receiving"]');
    await receiving.waitFor({ timeout: 20_000 });
    expect(await receiving.getAttribute('data-seats')).to.equal('3');
    expect(await testId('connect-status-text').textContent()).to.equal('Receiving from 3 seats');
    const surfaces = testId('connect-surface');
    expect(await surfaces.evaluateAll((els) => els.map((e) => e.getAttribute('data-surface')).sort())).to.deep.equal(['claude_code', 'cowork']);
    expect((await testId('connect-surface-name').allTextContents()).sort()).to.deep.equal(['Claude Code', 'Claude Cowork']);
    // The tokens list refreshes with the status: the ingest token's last use appears without a reload.
    const lastUsed = page.locator('[data-testid="token-row"][data-scope="ingest"] [data-testid="token-last-used"]');
    await lastUsed.filter({ hasNotText: 'never' }).waitFor({ timeout: 20_000 });
    const usedAt = Date.parse((await lastUsed.locator('time').getAttribute('datetime')) ?? '');
    expect(usedAt).to.be.within(sentAt - 1000, Date.now());
    await shot('06-connect-receiving');
  });

  it('recomputes and shows the numbers sent in the charts and the seat table', async () => {
    await testId('nav-usage').click();
    await testId('usage-empty').waitFor();
    // Today is rolled up too (the refresh job), not only days that have ended.
    expect(await testId('usage-empty').textContent()).to.match(/refreshes today and yesterday through the day/);
    expect(await testId('usage-zone').textContent()).to.match(/Days begin at midnight\s+UTC/);
    expect(await rangeShown()).to.deep.equal({ from: addDays(today, -29), to: today });
    await shot('07-usage-empty');

    await testId('usage-recompute').click();
    await testId('seat-table').waitFor();
    await testId('usage-message').filter({ hasText: 'Recomputed 30 days' }).waitFor();
    expect(await testId('usage-content').getAttribute('aria-busy')).to.equal(null);

    const cells = async (seat: string) => {
      const row = page.locator(`[data-testid="seat-row"][data-seat="${seat}"]`);
      const get = async (key: string) => row.locator(`[data-col="${key}"]`).textContent();
      return {
        costUsd: await get('costUsd'), prompts: await get('prompts'), apiRequests: await get('apiRequests'),
        inputTokens: await get('inputTokens'), outputTokens: await get('outputTokens'), sessions: await get('sessions'),
        linesAdded: await get('linesAdded'), commits: await get('commits'), acceptanceRate: await get('acceptanceRate'),
      };
    };
    expect(await cells(seats.alice)).to.deep.equal({
      costUsd: '1.25', prompts: '3', apiRequests: '2', inputTokens: '2,000', outputTokens: '750', sessions: '1',
      linesAdded: '0', commits: '0', acceptanceRate: '—',
    });
    expect(await cells(seats.bob)).to.deep.equal({
      costUsd: '1.50', prompts: '2', apiRequests: '1', inputTokens: '2,000', outputTokens: '900', sessions: '1',
      linesAdded: '120', commits: '2', acceptanceRate: '75.0',
    });
    expect(await cells(seats.carol)).to.deep.equal({
      costUsd: '0.10', prompts: '1', apiRequests: '1', inputTokens: '500', outputTokens: '100', sessions: '1',
      linesAdded: '0', commits: '0', acceptanceRate: '—',
    });
    // Sorted by cost, highest first.
    expect(await testId('seat-row').evaluateAll((els) => els.map((e) => e.getAttribute('data-seat')))).to.deep.equal([seats.bob, seats.alice, seats.carol]);

    expect(await testId('kpi-cost').textContent()).to.equal('$2.85');
    expect(await testId('kpi-seats').textContent()).to.equal('3');
    expect(await testId('kpi-sessions').textContent()).to.equal('3');
    expect(await testId('kpi-acceptance').textContent()).to.equal('75.0%');
    expect(await testId('chart-cost-headline').textContent()).to.equal('$2.85 total');
    expect(await testId('chart-model-cost-headline').textContent()).to.equal('$2.85 across 2 models');
    // 1200+300+5000+800 + 800+450 + 2000+900 + 500+100 tokens.
    expect(await testId('chart-tokens-headline').textContent()).to.equal('12.1K total');
    expect(await testId('chart-active-seats-headline').textContent()).to.equal('peak 3');
    expect(await testId('chart-lines-headline').textContent()).to.equal('+120 / −30');
    expect(await testId('chart-commits-prs-headline').textContent()).to.equal('2 commits · 0 PRs');
    expect(await testId('chart-acceptance-headline').textContent()).to.equal('75.0% overall');
    for (const id of ['cost', 'tokens', 'model-cost', 'model-tokens', 'active-seats', 'lines', 'commits-prs', 'acceptance']) {
      expect(await testId(`chart-${id}`).locator('canvas').count(), `chart ${id} drew nothing`).to.equal(1);
    }
    // 22 columns do not fit 1,280 px: the page says so, and the right edge fades until scrolled to the end.
    await testId('seat-scroll-hint').waitFor();
    expect(await testId('seat-scroll').getAttribute('data-more-right')).to.equal('true');
    await testId('seat-wrap').evaluate((el) => el.scrollTo({ left: el.scrollWidth }));
    await page.locator('[data-testid="seat-scroll"][data-more-right="false"]').waitFor();
    await testId('seat-wrap').evaluate((el) => el.scrollTo({ left: 0 }));
    await page.locator('[data-testid="seat-scroll"][data-more-right="true"]').waitFor();
    // The legend of the model charts names both models.
    expect(await testId('chart-model-cost').textContent()).to.contain('claude-opus-4-1').and.contain('claude-sonnet-4-5');
    await shot('08-usage');
    // And on a phone-sized screen, to look at the layout.
    await page.setViewportSize({ width: 400, height: 900 });
    await shot('08b-usage-narrow');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('exports exactly the rows the table shows as CSV', async () => {
    // Sort by prompts first, so the export has to follow what is on screen.
    await testId('seat-sort-prompts').click();
    await page.locator(`[data-testid="seat-row"][aria-rowindex="2"][data-seat="${seats.alice}"]`).waitFor();
    const tableRows = await testId('seat-row').evaluateAll((rows) =>
      rows.map((row) => [...row.querySelectorAll('[data-col]')].map((cell) => cell.textContent ?? '')),
    );
    const headers = await testId('seat-head').locator('[data-col]').allTextContents();

    const { name, records } = await downloadCsv();
    expect(name).to.match(/^usage-acme-\d{4}-\d{2}-\d{2}-to-\d{4}-\d{2}-\d{2}\.csv$/);
    const [head, ...lines] = records;
    expect(head).to.deep.equal(headers.map((h) => h.replace(/[▲▼]$/, '')));
    // Same rows in the same order; the table adds thousands separators and a dash for "no value".
    const shown = tableRows.map((cells) => cells.map((cell) => (cell === '—' ? '' : cell.replace(/,/g, ''))));
    expect(lines).to.deep.equal(shown);
    expect(lines.map((l) => [l[0], l[(head ?? []).indexOf('Prompts')]])).to.deep.equal([[seats.alice, '3'], [seats.bob, '2'], [seats.carol, '1']]);
    await shot('09-usage-sorted-by-prompts');
  });

  it('filters the seats, and the CSV holds only the rows left', async () => {
    await testId('seat-filter').fill('BOB');
    await testId('seat-count').filter({ hasText: 'Showing 1 of 3 seats' }).waitFor();
    expect(await seatRows()).to.deep.equal([seats.bob]);
    const { records } = await downloadCsv();
    expect(records.slice(1).map((r) => r[0])).to.deep.equal([seats.bob]);
    expect(records[1]?.[(records[0] ?? []).indexOf('Cost (USD)')]).to.equal('1.50');
    await shot('12-usage-filtered');

    await testId('seat-filter').fill('nobody-like-this');
    await testId('seat-count').filter({ hasText: 'Showing 0 of 3 seats' }).waitFor();
    expect((await downloadCsv()).records.length).to.equal(1);
    await testId('seat-filter').fill('');
    await testId('seat-count').filter({ hasText: /^3 seats$/ }).waitFor();
  });

  it('switches ranges with the presets and with a custom From and To', async () => {
    const tableRange = () => testId('seat-table').getAttribute('aria-label');
    await testId('usage-preset-7').click();
    await page.locator(`[data-testid="seat-table"][aria-label*="${addDays(today, -6)} to ${today}"]`).waitFor();
    expect(await rangeShown()).to.deep.equal({ from: addDays(today, -6), to: today });
    expect(await testId('usage-preset-7').getAttribute('aria-pressed')).to.equal('true');
    expect(await testId('usage-preset-30').getAttribute('aria-pressed')).to.equal('false');

    await testId('usage-preset-90').click();
    await page.locator(`[data-testid="seat-table"][aria-label*="${addDays(today, -89)} to ${today}"]`).waitFor();
    expect(await rangeShown()).to.deep.equal({ from: addDays(today, -89), to: today });
    expect(await seatRows()).to.have.members(Object.values(seats));

    // A custom range before any data: the empty state names it.
    const from = addDays(today, -60);
    const to = addDays(today, -40);
    await testId('usage-from').fill(from);
    await testId('usage-to').fill(to);
    await testId('usage-apply').click();
    await testId('usage-empty').waitFor();
    expect(await testId('usage-empty').textContent()).to.contain(`between ${formatDay(from)} and ${formatDay(to)}`);
    for (const n of [7, 30, 90]) expect(await testId(`usage-preset-${n}`).getAttribute('aria-pressed')).to.equal('false');
    await shot('13-usage-custom-range-empty');

    // From after To is refused on the page, and nothing is loaded.
    await testId('usage-from').fill(today);
    await testId('usage-to').fill(addDays(today, -1));
    await testId('usage-apply').click();
    await testId('usage-message').filter({ hasText: 'The start date is after the end date.' }).waitFor();
    expect(await testId('usage-empty').count()).to.equal(1);

    // A custom range that holds today: the seats are back, for exactly that range.
    await testId('usage-from').fill(addDays(today, -2));
    await testId('usage-to').fill(today);
    await testId('usage-apply').click();
    await page.locator(`[data-testid="seat-table"][aria-label*="${addDays(today, -2)} to ${today}"]`).waitFor();
    expect(await tableRange()).to.contain(`${addDays(today, -2)} to ${today}`);
    expect(await testId('usage-message').textContent()).to.equal('');
    expect(await testId('kpi-cost').textContent()).to.equal('$2.85');
    await testId('usage-preset-30').click();
    await page.locator(`[data-testid="seat-table"][aria-label*="${addDays(today, -29)} to ${today}"]`).waitFor();
  });

  it('shows an error with Retry while the database is away, and the usage again after Retry', async function () {
    this.timeout(120_000);
    await pg.handle.stop();
    try {
      await testId('usage-preset-7').click();
      await testId('usage-error').waitFor();
      expect(await testId('usage-error-message').textContent()).to.match(/unavailable/i);
      // Still signed in: a 503 is not a reason to leave.
      expect(await testId('who-tenant').textContent()).to.equal('acme');
      await shot('14-usage-error');
    } finally {
      pg.handle = await startEmbeddedPostgres({ dataDir: pg.dataDir, port: pg.port, logger: testLogger });
    }
    await eventually(async () => {
      if ((await fetch(`${svc.urls.api}/readyz`)).status !== 200) throw new Error('not ready yet');
    }, 30_000);
    await testId('usage-retry').click();
    await page.locator(`[data-testid="seat-table"][aria-label*="${addDays(today, -6)} to ${today}"]`).waitFor();
    expect(await testId('usage-error').count()).to.equal(0);
    expect(await seatRows()).to.have.members(Object.values(seats));
  });

  it('rotates the ingest token: the new one is shown once and fills the setup, the old one is refused', async () => {
    await testId('nav-connect').click();
    const active = page.locator('[data-testid="token-row"][data-scope="ingest"][data-status="active"]');
    const oldId = await active.getAttribute('data-token-id');
    const oldToken = ingestToken;
    await active.locator('[data-testid="token-rotate"]').click();
    expect(await active.locator('.confirm-text').textContent()).to.equal('Rotate? The old token stops working.');
    await active.locator('[data-testid="token-confirm"]').click();
    await testId('token-once').filter({ hasText: 'New ingest token rotated.' }).waitFor();
    ingestToken = (await testId('token-once-value').textContent()) ?? '';
    expect(ingestToken).to.match(/^aiu_/).and.not.equal(oldToken);
    await page.locator(`[data-testid="token-row"][data-token-id="${oldId}"][data-status="revoked"]`).waitFor();
    expect(await active.count()).to.equal(1);
    expect(await active.getAttribute('data-token-id')).not.to.equal(oldId);
    expect(await testId('setup-cowork-headers').textContent()).to.equal(`Authorization=Bearer ${ingestToken}`);
    await shot('15-connect-token-rotated');

    const send = (token: string) => sendLogs('http/json', endpoints, token, { 'service.name': 'claude-code' }, [
      { body: 'claude_code.user_prompt', attributes: { 'event.name': 'user_prompt', 'session.id': randomUUID(), 'user.email': seats.alice, 'prompt.id': randomUUID() } },
    ]);
    const refused = await eventually(async () => {
      const r = await send(oldToken);
      if (r.ok) throw new Error('ingest still accepted the rotated-out token');
      return r;
    }, 5_000);
    expect(refused.error?.code).to.equal(401);
    expect((await send(ingestToken)).ok).to.equal(true);
    await testId('token-once-dismiss').click();
  });

  it('rotates the admin token this tab signed in with, and carries on with the new one', async () => {
    const own = page.locator('[data-testid="token-row"]', { has: testId('token-this-session') });
    const oldId = await own.getAttribute('data-token-id');
    expect(await own.getAttribute('data-scope')).to.equal('admin');
    await own.locator('[data-testid="token-rotate"]').click();
    expect(await own.locator('.confirm-text').textContent()).to.contain('This tab switches to the new one');
    await own.locator('[data-testid="token-confirm"]').click();
    await testId('token-once').filter({ hasText: 'New admin token rotated.' }).waitFor();
    const newToken = (await testId('token-once-value').textContent()) ?? '';
    expect(newToken).to.match(/^aiu_/).and.not.equal(adminToken);
    await page.locator(`[data-testid="token-row"][data-token-id="${oldId}"][data-status="revoked"]`).waitFor();
    expect(await own.getAttribute('data-token-id')).not.to.equal(oldId);
    expect(await page.evaluate(() => sessionStorage.getItem('ai-usage.token'))).to.equal(newToken);
    await shot('16-connect-admin-rotated');

    const oldToken = adminToken;
    adminToken = newToken;
    await eventually(async () => {
      if ((await api(svc, oldToken, 'GET', '/api/v1/whoami')).status !== 401) throw new Error('old admin token still works');
    }, 5_000);
    // Still signed in, through a status poll or two and on to another page, and after a reload.
    await page.waitForTimeout(6_000);
    expect(await testId('who-scope').textContent()).to.equal('admin');
    await testId('nav-usage').click();
    await testId('seat-table').waitFor();
    await page.reload();
    await testId('seat-table').waitFor();
    expect(await testId('who-scope').textContent()).to.equal('admin');
    await testId('nav-connect').click();
  });

  it('revokes the ingest token on the page, and ingest with it is refused', async () => {
    const row = page.locator('[data-testid="token-row"][data-scope="ingest"][data-status="active"]');
    const id = await row.getAttribute('data-token-id');
    await row.locator('[data-testid="token-revoke"]').click();
    await row.locator('[data-testid="token-confirm"]').click();
    await page.locator(`[data-testid="token-row"][data-token-id="${id}"][data-status="revoked"]`).waitFor();
    // The snippets forget the revoked token.
    await testId('setup-managed-settings').filter({ hasText: '<INGEST_TOKEN>' }).waitFor();
    await shot('10-connect-token-revoked');

    const refused = await eventually(async () => {
      const r = await sendLogs('http/json', endpoints, ingestToken, { 'service.name': 'claude-code' }, [
        { body: 'claude_code.user_prompt', attributes: { 'session.id': randomUUID(), 'user.email': seats.alice } },
      ]);
      if (r.ok) throw new Error('ingest still accepted the revoked token');
      return r;
    }, 5_000);
    expect(refused.error?.code).to.equal(401);
  });

  it('signs in with a read token: usage and setup, but no Tokens card and no Recompute', async () => {
    await testId('sign-out').click();
    await testId('signin-token').fill(await svc.token('acme', 'read'));
    await testId('signin-submit').click();
    await testId('who-scope').filter({ hasText: 'read' }).waitFor();
    await testId('setup-tenant').waitFor();
    expect(await testId('setup-token-note').textContent()).to.contain('Ask an admin for an ingest token');
    expect(await testId('tokens-slot').count()).to.equal(0);
    expect(await page.locator('#tokens-card').count()).to.equal(0);
    await shot('17-connect-read-token');

    await testId('nav-usage').click();
    await testId('seat-table').waitFor();
    expect(await testId('usage-recompute').count()).to.equal(0);
    expect(await seatRows()).to.have.members(Object.values(seats));
    await shot('18-usage-read-token');
  });

  it('signs out, and a reload shows sign-in', async () => {
    await testId('sign-out').click();
    await testId('signin-token').waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).to.equal(0);
    await page.reload();
    await testId('signin-token').waitFor();
    expect(await testId('who-tenant').count()).to.equal(0);
    await shot('11-signed-out');
    // The (rotated) admin token still works: signing out forgets it, it does not revoke it.
    expect((await api(svc, adminToken, 'GET', '/api/v1/whoami')).status).to.equal(200);
    expect(browser.errors).to.deep.equal([]);
  });
});
