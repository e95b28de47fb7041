import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, type Page, chromium } from 'playwright-core';

/** Debian's Chromium, driven by playwright-core: the real browser the dashboard tests use. */
export const CHROMIUM = '/usr/bin/chromium';
const root = fileURLToPath(new URL('../..', import.meta.url));
export const shotsDir = path.join(root, 'test-output', 'screenshots');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/** Builds dist/dashboard unless it is newer than everything it is built from. */
export function ensureDashboardBuilt(): void {
  const built = path.join(root, 'dist', 'dashboard', 'index.html');
  const sources = Math.max(
    newestMtime(path.join(root, 'src', 'dashboard')),
    statSync(path.join(root, 'src', 'api', 'setup-snippets.ts')).mtimeMs,
    statSync(path.join(root, 'scripts', 'build-dashboard.mjs')).mtimeMs,
  );
  if (existsSync(built) && statSync(built).mtimeMs >= sources) return;
  execFileSync(process.execPath, [path.join(root, 'scripts', 'build-dashboard.mjs')], { cwd: root, stdio: 'pipe' });
}

export interface TestBrowser {
  context: BrowserContext;
  page: Page;
  /** Uncaught page errors and console errors, other than the browser's own "failed to load" lines. */
  errors: string[];
  /** A full-page screenshot under test-output/screenshots/<name>.png. */
  shot(name: string): Promise<void>;
  close(): Promise<void>;
}

/** Chromium with a fresh profile, the page's clipboard allowed for `origin`, English and the given time zone. */
export async function launchBrowser(origin: string, timezoneId = 'UTC'): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: this test drives Debian's chromium. Install it with \`apt-get install chromium\`.`);
  }
  ensureDashboardBuilt();
  await fs.mkdir(shotsDir, { recursive: true });
  const userDataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'ai-usage-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run',
    ],
    viewport: { width: 1280, height: 900 },
    acceptDownloads: true,
    locale: 'en-US',
    timezoneId,
  });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(15_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // The browser logs every 401/503 answer as a failed resource load; the tests cause those on purpose.
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(`console: ${m.text()}`);
  });
  return {
    context,
    page,
    errors,
    shot: async (name) => {
      // Focus may have scrolled the page; a full-page shot taken scrolled draws the sticky header mid-page.
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: path.join(shotsDir, `${name}.png`), fullPage: true });
    },
    close: async () => {
      await context.close();
      await fs.rm(userDataDir, { recursive: true, force: true });
    },
  };
}

/** RFC 4180 records: CRLF line ends, fields quoted when they hold a comma, quote or line break. */
export function parseCsv(text: string): string[][] {
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

/** Today's date in an IANA time zone, as YYYY-MM-DD. */
export function todayIn(timeZone: string, now = Date.now()): string {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(new Date(now));
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')}`;
}

export const addDays = (day: string, n: number): string =>
  new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
