import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { type BrowserContext, type Page, chromium } from 'playwright-core';
import { type Endpoints, type LogSpec, sendLogs, sendMetrics } from './support/otel.js';
import { freePort } from './support/postgres.js';
import { type TestService, startTestService } from './support/service.js';
import { eventually } from './support/usage.js';

/**
 * The dashboard in a real Chromium against the real service: sign in, issue an
 * ingest token, send telemetry through the real OTel exporters to the endpoints
 * the page shows, watch Connect turn green, recompute and read the charts and
 * the seat table, download the CSV, revoke the token, sign out.
 */

const CHROMIUM = '/usr/bin/chromium';
const root = fileURLToPath(new URL('..', import.meta.url));
const shotsDir = path.join(root, 'test-output', 'screenshots');

/** Seats as the pipeline labels them, with what each one sends. */
const seats = {
  alice: 'alice@example.com',
  bob: 'bob@example.com',
  carol: 'carol@example.com',
} as const;

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/** Builds dist/dashboard unless it is newer than everything it is built from. */
function ensureDashboardBuilt(): void {
  const built = path.join(root, 'dist', 'dashboard', 'index.html');
  const sources = Math.max(
    newestMtime(path.join(root, 'src', 'dashboard')),
    statSync(path.join(root, 'src', 'api', 'setup-snippets.ts')).mtimeMs,
    statSync(path.join(root, 'scripts', 'build-dashboard.mjs')).mtimeMs,
  );
  if (existsSync(built) && statSync(built).mtimeMs >= sources) return;
  execFileSync(process.execPath, [path.join(root, 'scripts', 'build-dashboard.mjs')], { cwd: root, stdio: 'pipe' });
}

/** RFC 4180 records: CRLF line ends, fields quoted when they hold a comma, quote or line break. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  const field = /("(?:[^"]|"")*"|[^",\r\n]*)(,|\r\n)/y;
  let record: string[] = [];
  while (field.lastIndex < text.length) {
    const m = field.exec(text);
    if (!m) throw new Error(`not CSV at offset ${field.lastIndex}: ${text.slice(field.lastIndex, field.lastIndex + 40)}`);
    const raw = m[1] ?? '';
    record.push(raw.startsWith('"') ? raw.slice(1, -1).replace(/""/g, '"') : raw);
    if (m[2] === '\r\n') {
      records.push(record);
      record = [];
    }
  }
  return records;
}

const api = async (svc: TestService, token: string, method: string, urlPath: string): Promise<Response> =>
  fetch(`${svc.urls.api}${urlPath}`, { method, headers: { authorization: `Bearer ${token}` } });

describe('dashboard in a real browser', function () {
  this.timeout(60_000);
  let svc: TestService;
  let context: BrowserContext;
  let page: Page;
  let adminToken: string;
  let ingestToken = '';
  let endpoints: Endpoints;
  const pageErrors: string[] = [];
  const started = Date.now();

  const shot = async (name: string): Promise<void> => {
    // Focus may have scrolled the page; a full-page shot taken scrolled draws the sticky header mid-page.
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(shotsDir, `${name}.png`), fullPage: true });
  };
  const testId = (id: string) => page.getByTestId(id);

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: this test drives Debian's chromium. Install it with \`apt-get install chromium\`.`);
    }
    ensureDashboardBuilt();
    await fs.mkdir(shotsDir, { recursive: true });
    // Real ports, not 0: the page shows the OTLP endpoints from the configured ports, and the exporters use them.
    const [grpc, http, apiPort] = [await freePort(), await freePort(), await freePort()];
    svc = await startTestService({ OTLP_GRPC_PORT: String(grpc), OTLP_HTTP_PORT: String(http), API_PORT: String(apiPort) });
    adminToken = await svc.token('acme', 'admin');
    const userDataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'ai-usage-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--no-first-run',
      ],
      viewport: { width: 1280, height: 900 },
      acceptDownloads: true,
      locale: 'en-US',
      timezoneId: 'UTC',
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      // The browser logs every 401 answer as a failed resource load; those are expected (bad token, revoked).
      if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) pageErrors.push(`console: ${m.text()}`);
    });
  });

  after(async () => {
    await context?.close();
    await svc?.close();
    console.log(`      dashboard browser test: ${Date.now() - started} ms`);
  });

  it('signs in with an admin token, after refusing a bad one', async () => {
    await page.goto(`${svc.urls.api}/`);
    await testId('signin-token').waitFor();
    await shot('01-signin');

    await testId('signin-token').fill('aiu_not_a_real_token');
    await testId('signin-submit').click();
    await testId('signin-error').filter({ hasText: /not valid/ }).waitFor();
    await shot('02-signin-error');

    await testId('signin-token').fill(adminToken);
    await testId('signin-submit').click();
    await testId('who-tenant').waitFor();
    expect(await testId('who-tenant').textContent()).to.equal('acme');
    expect(await testId('who-scope').textContent()).to.equal('admin');
  });

  it('shows the waiting state, issues an ingest token once, and fills it into the setup', async () => {
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
    await page.locator('[data-testid="token-row"][data-scope="ingest"][data-status="active"]').waitFor();
    await shot('04-token-issued-once');

    await testId('token-once-dismiss').click();
    expect(await testId('token-once').count()).to.equal(0);
    // Not shown again: not after a reload either, and the list shows only the prefix.
    await page.reload();
    await page.locator('[data-testid="token-row"][data-scope="ingest"]').waitFor();
    expect(await testId('token-once').count()).to.equal(0);
    expect(await testId('token-rows').textContent()).not.to.contain(ingestToken);

    const settings = (await testId('setup-managed-settings').textContent()) ?? '';
    const env = JSON.parse(settings).env as Record<string, string>;
    expect(env['OTEL_EXPORTER_OTLP_HEADERS']).to.equal(`Authorization=Bearer ${ingestToken}`);
    expect(env['OTEL_RESOURCE_ATTRIBUTES']).to.equal('tenant.id=acme');
    expect(env['OTEL_EXPORTER_OTLP_ENDPOINT']).to.equal(svc.urls.grpc);
    const envLines = (await testId('setup-env').textContent()) ?? '';
    expect(envLines).to.contain(`export OTEL_EXPORTER_OTLP_HEADERS='Authorization=Bearer ${ingestToken}'`);
    expect(envLines).to.contain('export OTEL_RESOURCE_ATTRIBUTES=tenant.id=acme');
    expect(await testId('setup-cowork-headers').textContent()).to.equal(`Authorization=Bearer ${ingestToken}`);
    expect(await testId('setup-cowork-protocol').textContent()).to.equal('http/protobuf');
    endpoints = {
      grpc: (await testId('setup-grpc-endpoint').textContent()) ?? '',
      http: (await testId('setup-http-endpoint').textContent()) ?? '',
    };
    expect(endpoints).to.deep.equal({ grpc: svc.urls.grpc, http: svc.urls.http });
    await testId('setup-protocol-http').check();
    expect(JSON.parse((await testId('setup-managed-settings').textContent()) ?? '').env['OTEL_EXPORTER_OTLP_ENDPOINT']).to.equal(svc.urls.http);
    await shot('05-connect-setup-filled');
  });

  it('turns green when a real OTel exporter sends with that token', async () => {
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
      // bob: Claude Code over http/json, events plus line, commit and edit-decision counters (no cost metric).
      await sendLogs('http/json', endpoints, ingestToken, code, [
        prompt(seats.bob, b), prompt(seats.bob, b),
        request(seats.bob, b, 'claude-opus-4-1', 1.5, 2000, 900),
      ]),
      await sendMetrics('http/json', endpoints, ingestToken, code, [
        { name: 'claude_code.lines_of_code.count', points: [
          { value: 120, attributes: { 'session.id': b, 'user.email': seats.bob, type: 'added' } },
          { value: 30, attributes: { 'session.id': b, 'user.email': seats.bob, type: 'removed' } },
        ] },
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
    await shot('06-connect-receiving');
  });

  it('recomputes and shows the numbers sent in the charts and the seat table', async () => {
    await testId('nav-usage').click();
    await testId('usage-empty').waitFor();
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

    const [download] = await Promise.all([page.waitForEvent('download'), testId('csv-export').click()]);
    expect(download.suggestedFilename()).to.match(/^usage-acme-\d{4}-\d{2}-\d{2}-to-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = await fs.readFile(await download.path(), 'utf8');
    expect(csv.endsWith('\r\n')).to.equal(true);
    const [head, ...lines] = parseCsv(csv);
    expect(head).to.deep.equal(headers.map((h) => h.replace(/[▲▼]$/, '')));
    // Same rows in the same order; the table adds thousands separators and a dash for "no value".
    const shown = tableRows.map((cells) => cells.map((cell) => (cell === '—' ? '' : cell.replace(/,/g, ''))));
    expect(lines).to.deep.equal(shown);
    expect(lines.map((l) => [l[0], l[(head ?? []).indexOf('Prompts')]])).to.deep.equal([[seats.alice, '3'], [seats.bob, '2'], [seats.carol, '1']]);
    await shot('09-usage-sorted-by-prompts');
  });

  it('revokes the ingest token on the page, and ingest with it is refused', async () => {
    await testId('nav-connect').click();
    const row = page.locator('[data-testid="token-row"][data-scope="ingest"]');
    await row.locator('[data-testid="token-revoke"]').click();
    await row.locator('[data-testid="token-confirm"]').click();
    await page.locator('[data-testid="token-row"][data-scope="ingest"][data-status="revoked"]').waitFor();
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

  it('signs out, and a reload shows sign-in', async () => {
    await testId('sign-out').click();
    await testId('signin-token').waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).to.equal(0);
    await page.reload();
    await testId('signin-token').waitFor();
    expect(await testId('who-tenant').count()).to.equal(0);
    await shot('11-signed-out');
    // The admin token still works: signing out forgets it, it does not revoke it.
    expect((await api(svc, adminToken, 'GET', '/api/v1/whoami')).status).to.equal(200);
    expect(pageErrors).to.deep.equal([]);
  });
});
