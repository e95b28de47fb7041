import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
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

  it('keeps one recurring job per name however many replicas schedule it', async () => {
    const [a] = replicas as [TestService, TestService];
    const rows = await a.sql<{ name: string; n: string }>(`SELECT name, count(*) AS n FROM agenda_jobs WHERE type = 'single' GROUP BY name ORDER BY name`);
    expect(rows.map((r) => [r.name, Number(r.n)])).to.deep.equal([
      ['pipeline:finalize-days', 1], ['pipeline:refresh-today', 1], ['pipeline:retention', 1],
    ]);
  });
});
