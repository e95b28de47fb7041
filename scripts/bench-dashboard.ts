import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import zlib from 'node:zlib';
import { chromium } from 'playwright-core';
import { loadConfig } from '../src/config.js';
import { createToken } from '../src/ingest/tenancy.js';
import { addDays, today } from '../src/pipeline/days.js';
import { usageSummary } from '../src/pipeline/usage-report.js';
import { startService } from '../src/service.js';
import { measureNames, type ModelDayRollup, type Measures, type SeatDayRollup } from '../src/store/store.js';
import { openBenchDb, quietLogger } from './bench/bench-db.js';
import { machine, percentile, table, timestamp } from './bench/report.js';
import { createRng } from './bench/rng.js';

/**
 * npm run bench:dashboard — the Usage page on 1,000 seats × 90 days: rollups seeded with
 * store.replaceDailyRollups on an embedded PostgreSQL, the real service, the built dashboard in
 * Debian's Chromium. Prints the usage API's size (raw and on the wire) and time, the time to a
 * rendered page (charts and table), the JS heap and the DOM size. See --help.
 */

const { values: args } = parseArgs({
  options: {
    seats: { type: 'string', default: '1000' },
    days: { type: 'string', default: '90' },
    runs: { type: 'string', default: '5' },
    'no-build': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  process.stdout.write('usage: npm run bench:dashboard -- [--seats n] [--days n] [--runs n] [--no-build]\n');
  process.exit(0);
}
const CHROMIUM = '/usr/bin/chromium';
const SEATS = Number(args.seats);
const DAYS = Number(args.days);
const RUNS = Math.max(1, Number(args.runs));
const began = Date.now();
const log = (s: string) => process.stdout.write(`[${((Date.now() - began) / 1000).toFixed(0).padStart(4)} s] ${s}\n`);
const median = (xs: readonly number[]) => percentile(xs, 50);
const kb = (bytes: number) => bytes / 1024;

if (!args['no-build']) {
  execFileSync(process.execPath, ['scripts/build-dashboard.mjs'], { stdio: 'inherit' });
}

// ---- seed ----
const db = await openBenchDb('bench-dashboard');
const { store, tenantId } = db;
const lastDay = today('UTC');
const firstDay = addDays(lastDay, -(DAYS - 1));
const rng = createRng(7);
const names = ['alex', 'sam', 'kim', 'lee', 'jordan', 'taylor', 'morgan', 'casey', 'riley', 'jamie'];
// Long, realistic seat labels: the table and its sort work on these.
const seatNames = Array.from({ length: SEATS }, (_, i) =>
  `${rng.pick(names)}.${rng.pick(names)}-${String(i).padStart(4, '0')}@engineering.example-corporation.com`);
const models = ['claude-sonnet-4-5', 'claude-opus-4-1', 'claude-haiku-4-5'];
const measuresOf = (): Measures => {
  const m = Object.fromEntries(measureNames.map((k) => [k, 0])) as Measures;
  m.sessions = rng.int(1, 6);
  m.inputTokens = rng.int(1_000, 400_000);
  m.outputTokens = rng.int(500, 90_000);
  m.cacheReadTokens = rng.int(0, 2_000_000);
  m.cacheCreationTokens = rng.int(0, 200_000);
  m.costUsd = Math.round(rng.next() * 4000) / 100;
  m.linesAdded = rng.int(0, 900);
  m.linesRemoved = rng.int(0, 400);
  m.commits = rng.int(0, 6);
  m.pullRequests = rng.int(0, 2);
  m.activeTimeUserSeconds = rng.int(0, 14_400);
  m.activeTimeCliSeconds = rng.int(0, 7_200);
  m.editAccepts = rng.int(0, 60);
  m.editRejects = rng.int(0, 12);
  m.prompts = rng.int(1, 80);
  m.apiRequests = rng.int(5, 400);
  m.apiErrors = rng.int(0, 3);
  m.toolCalls = rng.int(0, 300);
  m.toolFailures = rng.int(0, 10);
  return m;
};
let t = performance.now();
let seatRows = 0;
for (let d = 0; d < DAYS; d++) {
  const day = addDays(firstDay, d);
  const seats: SeatDayRollup[] = [];
  const byModel: ModelDayRollup[] = [];
  for (const seat of seatNames) {
    // Every seat every day (the worst case); a fifth of them also used Cowork that day.
    const surfaces = rng.chance(0.2) ? ['claude_code', 'cowork'] : ['claude_code'];
    for (const surface of surfaces) {
      const measures = measuresOf();
      seats.push({ day, seat, surface, measures });
      const split = rng.next();
      for (const [i, model] of [models[0] as string, models[1 + (seatRows % 2)] as string].entries()) {
        const share = i === 0 ? split : 1 - split;
        byModel.push({
          day, seat, surface, model,
          measures: {
            costUsd: measures.costUsd * share, inputTokens: Math.round(measures.inputTokens * share),
            outputTokens: Math.round(measures.outputTokens * share), cacheReadTokens: Math.round(measures.cacheReadTokens * share),
            cacheCreationTokens: Math.round(measures.cacheCreationTokens * share),
          },
        });
      }
      seatRows++;
    }
  }
  await store.replaceDailyRollups(tenantId, day, seats, byModel);
}
log(`seeded ${seatRows.toLocaleString('en-US')} seat rollups (${SEATS} seats × ${DAYS} days, some on two surfaces) in ${((performance.now() - t) / 1000).toFixed(1)} s`);
await store.pool.query('ANALYZE daily_seat_rollups; ANALYZE daily_model_rollups');
const admin = (await createToken(store, tenantId, 'admin')).token;

// ---- service ----
const service = await startService(loadConfig({
  BIND_HOST: '127.0.0.1', OTLP_GRPC_PORT: '0', OTLP_HTTP_PORT: '0', API_PORT: '0',
  DATABASE_URL: db.url, PIPELINE_ENABLED: 'false',
}), quietLogger, { print: () => {} });
const base = `http://127.0.0.1:${service.ports.api}`;

// ---- the API, as the page calls it ----
interface Fetched { status: number; ms: number; wireBytes: number; rawBytes: number; encoding: string }
function get(urlPath: string): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.get(`${base}${urlPath}`, {
      headers: { authorization: `Bearer ${admin}`, accept: 'application/json', 'accept-encoding': 'gzip, deflate, br, zstd' },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const ms = performance.now() - t0;
        const wire = Buffer.concat(chunks);
        const encoding = String(res.headers['content-encoding'] ?? 'identity');
        const raw = encoding === 'gzip' ? zlib.gunzipSync(wire)
          : encoding === 'br' ? zlib.brotliDecompressSync(wire)
            : encoding === 'deflate' ? zlib.inflateSync(wire) : wire;
        resolve({ status: res.statusCode ?? 0, ms, wireBytes: wire.length, rawBytes: raw.length, encoding });
      });
    });
    req.on('error', reject);
  });
}

// ---- the page ----
const userDataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'ai-usage-bench-chromium-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: CHROMIUM,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run', '--enable-precise-memory-info'],
  viewport: { width: 1280, height: 900 },
  locale: 'en-US',
  timezoneId: 'UTC',
});
// tsx compiles this file with esbuild's keepNames, which wraps the functions handed to page.evaluate in __name().
await context.addInitScript('globalThis.__name = (f) => f');
await context.addInitScript((token: string) => sessionStorage.setItem('ai-usage.token', token), admin);
const page = context.pages()[0] ?? (await context.newPage());
page.setDefaultTimeout(120_000);
const pageErrors: string[] = [];
page.on('pageerror', (e) => pageErrors.push(e.message));
const cdp = await context.newCDPSession(page);

/** In the page: resolves with performance.now() at the first frame where the rendered range is from…to. */
const renderedAt = (from: string, to: string) => page.evaluate(([f, t2]) => new Promise<number>((resolve) => {
  const done = () => {
    const table = document.querySelector('[data-testid="seat-table"]');
    const charts = document.querySelectorAll('[data-testid^="chart-"] canvas').length;
    return table !== null && (table.getAttribute('aria-label') ?? '').includes(`${f} to ${t2}`) &&
      document.querySelector('[data-testid="seat-row"]') !== null && charts >= 8 &&
      document.querySelector('[data-testid="usage-content"][aria-busy]') === null;
  };
  const check = () => (done() ? requestAnimationFrame(() => resolve(performance.now())) : requestAnimationFrame(check));
  check();
}), [from, to] as const);

interface Resource { name: string; transferSize: number; encodedBodySize: number; decodedBodySize: number; duration: number }
const usageResources = () => page.evaluate(() => performance.getEntriesByType('resource')
  .filter((e) => e.name.includes('/api/v1/usage'))
  .map((e) => {
    const r = e as PerformanceResourceTiming;
    return { name: new URL(r.name).pathname + new URL(r.name).search, transferSize: r.transferSize, encodedBodySize: r.encodedBodySize, decodedBodySize: r.decodedBodySize, duration: r.duration };
  })) as Promise<Resource[]>;

// First load: the default range (last 30 days), from navigation start.
const firstLoads: number[] = [];
const from30 = addDays(lastDay, -29);
for (let i = 0; i < RUNS; i++) {
  await page.goto(`${base}/#/usage`);
  firstLoads.push(await renderedAt(from30, lastDay));
}
log(`first load (30 days): ${firstLoads.map((v) => v.toFixed(0)).join(', ')} ms`);
const resources30 = await usageResources();

// 90 days: click the preset, from the click to the rendered page; 7 days in between so each click refetches.
const loads90: number[] = [];
let resources90: Resource[] = [];
for (let i = 0; i < RUNS; i++) {
  await page.getByTestId('usage-preset-7').click();
  await renderedAt(addDays(lastDay, -6), lastDay);
  await page.evaluate(() => performance.clearResourceTimings());
  const clicked = await page.evaluate(() => {
    (document.querySelector('[data-testid="usage-preset-90"]') as HTMLButtonElement).click();
    return performance.now();
  });
  loads90.push((await renderedAt(firstDay, lastDay)) - clicked);
  resources90 = await usageResources();
}
log(`90 days after the click: ${loads90.map((v) => v.toFixed(0)).join(', ')} ms`);

// Sorting the 1,000-seat table by another column.
const sorts: number[] = [];
for (const key of ['prompts', 'seat', 'inputTokens', 'costUsd', 'commits']) {
  sorts.push(await page.evaluate((k) => new Promise<number>((resolve) => {
    const t0 = performance.now();
    (document.querySelector(`[data-testid="seat-sort-${k}"]`) as HTMLButtonElement).click();
    requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - t0), 0));
  }), key));
}
await cdp.send('HeapProfiler.collectGarbage');
const heap = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number; totalSize: number };
const domNodes = await page.evaluate(() => document.getElementsByTagName('*').length);
const seatRowsShown = await page.evaluate(() => document.querySelectorAll('[data-testid="seat-row"]').length);
const seatCount = await page.getByTestId('seat-count').textContent();
await page.screenshot({ path: 'test-output/bench-dashboard-90-days.png' }).catch(() => undefined);

// The API routes the page used, and the per-seat-day route for comparison, straight from Node.
const apiPaths = [...new Set(resources90.map((r) => r.name))];
const bySeatDay = `/api/v1/usage/daily?${new URLSearchParams({ from: firstDay, to: lastDay, by: 'seat' }).toString()}`;
if (!apiPaths.includes(bySeatDay)) apiPaths.push(bySeatDay);
const apiRows: (string | number)[][] = [];
const apiFigures: Record<string, Fetched & { medianMs: number }> = {};
for (const p of apiPaths) {
  const runs: Fetched[] = [];
  for (let i = 0; i < RUNS; i++) runs.push(await get(p));
  const last = runs[runs.length - 1] as Fetched;
  const ms = median(runs.map((r) => r.ms));
  apiFigures[p] = { ...last, medianMs: ms };
  apiRows.push([p.replace(/from=[\d-]+&to=[\d-]+&?/, '…'), last.status, kb(last.rawBytes), kb(last.wireBytes), last.encoding, ms]);
}

// Where the API's time goes: the store read alone, and the read plus the fold to the summary.
const timed = async (f: () => Promise<unknown>) => {
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await f();
    ms.push(performance.now() - t0);
  }
  return median(ms);
};
const storeReadMs = await timed(() => store.dailyRollups(tenantId, firstDay, lastDay));
const summaryMs = await timed(() => usageSummary(store, tenantId, firstDay, lastDay));
// One of usageTotals' three queries alone (the per-seat totals), for comparison with the whole.
// jsonb_to_record parses each row's measures once (->> per field would parse them 19 times).
const sums = measureNames.map((m) => `sum(m."${m}") AS "${m}"`).join(', ');
const fields = measureNames.map((m) => `"${m}" float8`).join(', ');
const sqlSeatTotalsMs = await timed(() => store.pool.query(
  `SELECT seat, count(DISTINCT day) AS "activeDays", ${sums}
   FROM daily_seat_rollups, jsonb_to_record(measures) AS m(${fields})
   WHERE tenant_id = $1 AND day BETWEEN $2::date AND $3::date GROUP BY seat`, [tenantId, firstDay, lastDay]));

// Two shared cores: say how busy the machine was, since every time below depends on it.
const load = os.loadavg().map((l) => l.toFixed(1)).join(' ');
process.stdout.write(`\n${SEATS} seats × ${DAYS} days (${seatRows.toLocaleString('en-US')} seat-day rollups), ${RUNS} runs each, medians; ` +
  `load average ${load} on ${os.cpus().length} cores\n\n`);
process.stdout.write(`${table(['API route (90 days)', 'status', 'raw KiB', 'wire KiB', 'encoding', 'ms'], apiRows)}\n\n`);
process.stdout.write(`${table(['in the browser', 'transfer KiB', 'decoded KiB', 'ms'], [
  ...resources30.slice(-2).map((r) => [`30 days ${r.name.replace(/from=[\d-]+&to=[\d-]+&?/, '…')}`, kb(r.transferSize), kb(r.decodedBodySize), r.duration]),
  ...resources90.map((r) => [`90 days ${r.name.replace(/from=[\d-]+&to=[\d-]+&?/, '…')}`, kb(r.transferSize), kb(r.decodedBodySize), r.duration]),
])}\n\n`);
process.stdout.write(`${table(['page', 'value'], [
  ['store.dailyRollups, 90 days, in process (ms)', storeReadMs],
  ['usageSummary (store read + fold), 90 days, in process (ms)', summaryMs],
  ['per-seat totals alone, summed in SQL, 90 days (ms)', sqlSeatTotalsMs],
  ['first load, 30 days: navigation to charts + table (ms)', median(firstLoads)],
  ['30 days: usage API bytes on the wire (KiB)', kb(resources30.reduce((s, r) => s + r.transferSize, 0))],
  ['90 days: preset click to charts + table (ms)', median(loads90)],
  ['90 days: usage API bytes on the wire (KiB)', kb(resources90.reduce((s, r) => s + r.transferSize, 0))],
  ['90 days: usage API bytes decoded (KiB)', kb(resources90.reduce((s, r) => s + r.decodedBodySize, 0))],
  ['sort 1,000 seats by a column (ms, median of 5)', median(sorts)],
  ['JS heap used after GC (MiB)', heap.usedSize / 1024 / 1024],
  ['DOM elements', domNodes],
  ['seat rows in the DOM', seatRowsShown],
  ['seat count shown', seatCount ?? ''],
])}\n`);
if (pageErrors.length > 0) process.stdout.write(`page errors: ${pageErrors.join('; ')}\n`);

await fs.mkdir('bench-results', { recursive: true });
const file = path.join('bench-results', `dashboard-${timestamp()}.json`);
await fs.writeFile(file, JSON.stringify({
  machine: machine(), options: args, seatRows, firstLoadMs: firstLoads, load90Ms: loads90, sortMs: sorts,
  heapUsedBytes: heap.usedSize, domNodes, storeReadMs, summaryMs, sqlSeatTotalsMs, loadAverage: os.loadavg(), seatRowsShown, resources30, resources90, api: apiFigures, pageErrors,
}, null, 2));
log(`results written to ${file}`);
await context.close();
await fs.rm(userDataDir, { recursive: true, force: true });
await service.stop();
await db.close({ keep: false });
process.exit(pageErrors.length > 0 ? 1 : 0);
