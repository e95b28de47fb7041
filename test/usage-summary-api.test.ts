import http from 'node:http';
import zlib from 'node:zlib';
import { expect } from 'chai';
import { type Measures, type ModelDayRollup, type SeatDayRollup, measureNames } from '../src/store/store.js';
import { type TestService, startTestService } from './support/service.js';

/**
 * GET /api/v1/usage/summary, the dashboard's one read of a range, over rollups written as the pipeline
 * writes them: per-day totals with distinct active seats, per-seat totals with distinct active days,
 * per-day-and-model sums; the same totals as the per-seat-day route; compressed on the wire.
 */

const measures = (values: Partial<Measures>): Measures =>
  ({ ...Object.fromEntries(measureNames.map((m) => [m, 0])), ...values }) as Measures;
const modelMeasures = (costUsd: number, inputTokens: number) =>
  ({ costUsd, inputTokens, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 });

/** GET with an explicit Accept-Encoding, returning what came over the wire and its decoded body. */
function getRaw(url: string, token: string, acceptEncoding: string | null): Promise<{ status: number; encoding: string | undefined; wire: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (acceptEncoding !== null) headers['accept-encoding'] = acceptEncoding;
    http.get(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const wire = Buffer.concat(chunks);
        const encoding = res.headers['content-encoding'];
        const body = encoding === 'br' ? zlib.brotliDecompressSync(wire) : encoding === 'gzip' ? zlib.gunzipSync(wire) : wire;
        resolve({ status: res.statusCode ?? 0, encoding, wire: wire.length, body: body.toString('utf8') });
      });
      res.on('error', reject);
    }).on('error', reject);
  });
}

describe('usage summary API', function () {
  this.timeout(60_000);
  let svc: TestService;
  let read: string;
  const get = async (path: string, token = read) => {
    const res = await fetch(`${svc.urls.api}${path}`, { headers: { authorization: `Bearer ${token}` } });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  before(async () => {
    svc = await startTestService();
    read = await svc.token('sumco', 'read', 'Europe/Berlin');
    await svc.token('otherco', 'read');
    const seat = (day: string, s: string, surface: string, m: Partial<Measures>): SeatDayRollup => ({ day, seat: s, surface, measures: measures(m) });
    const model = (day: string, s: string, surface: string, name: string, cost: number, input: number): ModelDayRollup =>
      ({ day, seat: s, surface, model: name, measures: modelMeasures(cost, input) });
    // alice on two surfaces on the 1st (one active seat-day, not two); Zed on both days; a day outside the range.
    await svc.store.replaceDailyRollups('sumco', '2026-03-01', [
      seat('2026-03-01', 'alice@example.com', 'claude_code', { costUsd: 1.25, sessions: 2, prompts: 4 }),
      seat('2026-03-01', 'alice@example.com', 'cowork', { costUsd: 0.5, sessions: 1, prompts: 1 }),
      seat('2026-03-01', 'Zed@example.com', 'claude_code', { costUsd: 2, sessions: 1, linesAdded: 10 }),
    ], [
      model('2026-03-01', 'alice@example.com', 'claude_code', 'claude-sonnet-4-5', 1.25, 100),
      model('2026-03-01', 'alice@example.com', 'cowork', 'claude-sonnet-4-5', 0.5, 50),
      model('2026-03-01', 'Zed@example.com', 'claude_code', 'claude-opus-4-1', 2, 300),
    ]);
    await svc.store.replaceDailyRollups('sumco', '2026-03-03', [
      seat('2026-03-03', 'Zed@example.com', 'claude_code', { costUsd: 0.1, sessions: 1, linesAdded: 5 }),
    ], [model('2026-03-03', 'Zed@example.com', 'claude_code', 'claude-opus-4-1', 0.1, 20)]);
    await svc.store.replaceDailyRollups('sumco', '2026-03-09', [
      seat('2026-03-09', 'alice@example.com', 'claude_code', { costUsd: 100, sessions: 9 }),
    ], []);
    await svc.store.replaceDailyRollups('otherco', '2026-03-01', [
      seat('2026-03-01', 'mallory@example.com', 'claude_code', { costUsd: 999 }),
    ], []);
  });
  after(async () => {
    await svc?.close();
  });

  it('folds the range into per-day, per-seat and per-day-and-model totals', async () => {
    const { status, body } = await get('/api/v1/usage/summary?from=2026-03-01&to=2026-03-05');
    expect(status).to.equal(200);
    expect(body['tenant']).to.equal('sumco');
    expect(body['timezone']).to.equal('Europe/Berlin');
    expect([body['from'], body['to']]).to.deep.equal(['2026-03-01', '2026-03-05']);
    const days = body['days'] as Record<string, number | string>[];
    expect(days.map((d) => [d['day'], d['activeSeats'], d['costUsd'], d['sessions'], d['prompts'], d['linesAdded']])).to.deep.equal([
      ['2026-03-01', 2, 3.75, 4, 5, 10],
      ['2026-03-03', 1, 0.1, 1, 0, 5],
    ]);
    const seats = body['seats'] as Record<string, number | string>[];
    // Code-unit order: upper case sorts before lower case, the same on every host.
    expect(seats.map((s) => [s['seat'], s['activeDays'], s['costUsd'], s['sessions']])).to.deep.equal([
      ['Zed@example.com', 2, 2.1, 2],
      ['alice@example.com', 1, 1.75, 3],
    ]);
    for (const s of seats) expect(Object.keys(s).sort()).to.deep.equal(['activeDays', 'seat', ...measureNames].sort());
    const models = body['models'] as Record<string, number | string>[];
    expect(models.map((m) => [m['day'], m['model'], m['costUsd'], m['inputTokens']])).to.deep.equal([
      ['2026-03-01', 'claude-opus-4-1', 2, 300],
      ['2026-03-01', 'claude-sonnet-4-5', 1.75, 150],
      ['2026-03-03', 'claude-opus-4-1', 0.1, 20],
    ]);
  });

  it('agrees with the per-seat-day rows of /usage/daily, which are sorted the same way', async () => {
    const summary = (await get('/api/v1/usage/summary?from=2026-03-01&to=2026-03-31')).body;
    const daily = (await get('/api/v1/usage/daily?from=2026-03-01&to=2026-03-31&by=seat')).body['rows'] as Record<string, number | string>[];
    expect(daily.map((r) => [r['day'], r['seat']])).to.deep.equal([
      ['2026-03-01', 'Zed@example.com'], ['2026-03-01', 'alice@example.com'],
      ['2026-03-03', 'Zed@example.com'], ['2026-03-09', 'alice@example.com'],
    ]);
    for (const seat of summary['seats'] as Record<string, number | string>[]) {
      const mine = daily.filter((r) => r['seat'] === seat['seat']);
      expect(seat['activeDays']).to.equal(mine.length);
      for (const m of measureNames) expect(seat[m], `${String(seat['seat'])} ${m}`).to.be.closeTo(mine.reduce((n, r) => n + Number(r[m]), 0), 1e-9);
    }
  });

  it('is compressed on the wire when the client accepts it', async () => {
    const url = `${svc.urls.api}/api/v1/usage/daily?from=2026-03-01&to=2026-03-31&by=seat`;
    const plain = await getRaw(url, read, null);
    const br = await getRaw(url, read, 'gzip, deflate, br');
    const gzip = await getRaw(url, read, 'gzip');
    expect(plain.encoding).to.equal(undefined);
    expect(br.encoding).to.equal('br');
    expect(gzip.encoding).to.equal('gzip');
    expect(br.body).to.equal(plain.body);
    expect(gzip.body).to.equal(plain.body);
    expect(br.wire).to.be.lessThan(plain.wire / 3);
  });

  it('refuses bad ranges and tokens that may not read', async () => {
    const bad = await get('/api/v1/usage/summary?from=2026-03-05&to=2026-03-01');
    expect(bad.status).to.equal(400);
    expect((bad.body['error'] as { code: string }).code).to.equal('invalid_argument');
    expect((await get('/api/v1/usage/summary?from=2026-03-01')).status).to.equal(400);
    expect((await get('/api/v1/usage/summary?from=2026-03-01&to=2026-03-05', await svc.token('sumco', 'ingest'))).status).to.equal(403);
    expect((await get('/api/v1/usage/summary?from=2026-03-01&to=2026-03-05', 'aiu_nope')).status).to.equal(401);
  });
});
