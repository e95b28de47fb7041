import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { addDays, startOfDayMs, today } from '../src/pipeline/days.js';
import { sendLogs } from './support/otel.js';
import { createTestDatabase } from './support/postgres.js';
import { type TestService, startTestService } from './support/service.js';
import { eventually, usageTotals, utcDay } from './support/usage.js';

/** Agenda runs the pipeline by itself, on the store's own database, once however many replicas run it. */
describe('pipeline scheduling with Agenda', function () {
  this.timeout(120_000);
  let replicas: TestService[] = [];

  before(async () => {
    const databaseUrl = await createTestDatabase();
    const env = { DATABASE_URL: databaseUrl, PIPELINE_ENABLED: 'true', PIPELINE_INTERVAL: '2 seconds' };
    // Two replicas on one database, like two pods.
    replicas = [await startTestService(env), await startTestService(env)];
  });
  after(async () => {
    for (const r of replicas) await r.close();
  });

  it('keeps today fresh without a manual run', async () => {
    const [a] = replicas as [TestService, TestService];
    const ingest = await a.token('scheduled', 'ingest');
    const read = await a.token('scheduled', 'read');
    const r = await sendLogs('http/json', a.urls, ingest, { 'service.name': 'claude-code' }, [
      { body: 'claude_code.user_prompt', attributes: { 'session.id': randomUUID(), 'user.email': 'sam@example.com' } },
      { body: 'claude_code.user_prompt', attributes: { 'session.id': randomUUID(), 'user.email': 'sam@example.com' } },
    ]);
    expect(r.ok).to.equal(true);
    const totals = await eventually(async () => {
      const t = (await usageTotals(a, read, utcDay(-1), utcDay(0))).totals;
      expect(t['prompts']).to.equal(2);
      return t;
    }, 60_000);
    expect(totals['sessions']).to.equal(2);
  });

  it('refreshes yesterday in the tenant\'s time zone, so a tenant west of UTC gets its yesterday after its own midnight', async () => {
    const [a] = replicas as [TestService, TestService];
    // UTC-11 all year: its days begin at 11:00 UTC.
    const tz = 'Pacific/Pago_Pago';
    const ingest = await a.token('west', 'ingest', tz);
    const read = await a.token('west', 'read');
    const localToday = today(tz);
    const localYesterday = addDays(localToday, -1);
    // 23:00 on its yesterday: a UTC day would put it on the other day whenever UTC is past 11:00.
    const lateYesterday = startOfDayMs(localToday, tz) - 3_600_000;
    const r = await sendLogs('http/json', a.urls, ingest, { 'service.name': 'claude-code' }, [
      { body: 'claude_code.user_prompt', attributes: { 'session.id': randomUUID(), 'user.email': 'wes@example.com' }, time: lateYesterday },
      { body: 'claude_code.user_prompt', attributes: { 'session.id': randomUUID(), 'user.email': 'wes@example.com' }, time: lateYesterday + 60_000 },
      { body: 'claude_code.user_prompt', attributes: { 'session.id': randomUUID(), 'user.email': 'wes@example.com' } },
    ]);
    expect(r.ok, String(r.error)).to.equal(true);
    // No manual run: the refresh (every PIPELINE_INTERVAL) computes both of the tenant's days.
    const days = await eventually(async () => {
      const { rows } = await usageTotals(a, read, localYesterday, localToday);
      const byDay = rows.map((x) => [x['day'], x['prompts']]);
      expect(byDay).to.deep.equal([[localYesterday, 2], [localToday, 1]]);
      return byDay;
    }, 60_000);
    expect(days).to.have.length(2);
  });

  it('keeps one recurring job per name however many replicas schedule it', async () => {
    const [a] = replicas as [TestService, TestService];
    const rows = await a.sql<{ name: string; n: string }>(`SELECT name, count(*) AS n FROM agenda_jobs WHERE type = 'single' GROUP BY name ORDER BY name`);
    expect(rows.map((r) => [r.name, Number(r.n)])).to.deep.equal([
      ['pipeline:finalize-days', 1], ['pipeline:refresh-today', 1], ['pipeline:retention', 1],
    ]);
  });
});
