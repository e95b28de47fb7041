import { PostgresBackend } from '@agendajs/postgres-backend';
import { expect } from 'chai';
import { createTenant } from '../src/ingest/tenancy.js';
import { computeDay } from '../src/pipeline/compute-day.js';
import { type PipelineScheduler, startPipelineScheduler } from '../src/pipeline/scheduler.js';
import { createOpsMetrics } from '../src/ops/metrics.js';
import type { Config } from '../src/config.js';
import type { Tenant } from '../src/store/store.js';
import { testLogger } from './support/postgres.js';
import { makeEvent } from './support/records.js';
import { type TestService, startTestService } from './support/service.js';
import { eventually, usageTotals, utcDay } from './support/usage.js';

/**
 * Retention removes raw records of the days past a tenant's retention and keeps their
 * rollups; nothing recomputes those days afterwards (which would replace their rollups
 * with what is left of the raw data): not the scheduled jobs, not the API.
 * The jobs run through Agenda on the service's database.
 */
describe('pipeline: retention, and the days past it', function () {
  this.timeout(120_000);
  let svc: TestService;
  let tenant: Tenant;
  let admin: string;
  const old = utcDay(-3);
  const older = utcDay(-2);
  const yesterday = utcDay(-1);
  const today = utcDay(0);

  const prompts = (day: string, time: string, n: number, tag: string) =>
    Array.from({ length: n }, (_, i) => makeEvent({ tenantId: tenant.id, time: `${day}T${time}Z`, name: 'user_prompt', sessionId: `${tag}-session`, promptId: `${tag}-${i}` }));
  const rawCount = async (day: string) =>
    Number((await svc.sql<{ n: string }>(`SELECT count(*) AS n FROM events WHERE tenant_id = $1 AND ts >= $2::date AND ts < $2::date + 1`, [tenant.id, day]))[0]?.n);
  const promptsOf = async (day: string) => (await usageTotals(svc, admin, day, day)).totals['prompts'] ?? 0;

  /** Runs the scheduler until `done` holds, then drains it, as a replica would at SIGTERM. */
  async function withScheduler(config: Partial<Config>, retentionCron: string, done: () => Promise<void>): Promise<void> {
    const scheduler: PipelineScheduler = await startPipelineScheduler({
      store: svc.store,
      backend: new PostgresBackend({ connectionString: svc.databaseUrl }),
      config: { ...svc.config, PIPELINE_CATCHUP_DAYS: 3, ...config },
      logger: testLogger,
      metrics: createOpsMetrics(),
      timing: { processEveryMs: 300, retentionCron },
    });
    try {
      await eventually(done, 60_000);
    } finally {
      await scheduler.drain(10_000);
    }
  }
  const finishedAt = async (job: string) =>
    (await svc.sql<{ at: Date | null }>('SELECT max(last_finished_at) AS at FROM agenda_jobs WHERE name = $1', [job]))[0]?.at ?? null;

  before(async () => {
    svc = await startTestService();
    tenant = await createTenant(svc.store, { id: 'brief', retentionDays: 1 }, 90);
    admin = await svc.token('brief', 'admin');
    // Two old days, computed back when they were within retention.
    await svc.store.writeBatch(tenant.id, { events: [...prompts(old, '10:00:00', 3, 'old'), ...prompts(older, '10:00:00', 4, 'older')], points: [], spans: [] });
    for (const day of [old, older]) await computeDay(svc.store, tenant, day, { now: () => Date.parse(`${day}T12:00:00Z`) });
    // Yesterday early and late: a retention of "now minus 24 h" would cut into it.
    await svc.store.writeBatch(tenant.id, { events: [...prompts(yesterday, '00:00:01', 1, 'early'), ...prompts(yesterday, '23:59:59', 1, 'late')], points: [], spans: [] });
  });
  after(async () => svc?.close());

  it('the retention job removes the raw records of days past retention, whole days only, and keeps their rollups', async () => {
    expect([await promptsOf(old), await promptsOf(older)]).to.deep.equal([3, 4]);
    expect([await rawCount(old), await rawCount(older), await rawCount(yesterday)]).to.deep.equal([3, 4, 2]);
    // Only the retention job runs often; the other jobs keep their production schedules.
    await withScheduler({ PIPELINE_DAILY_CRON: '15 0 1 1 *', PIPELINE_INTERVAL: '1 year' }, '* * * * * *', async () => {
      expect(await rawCount(old)).to.equal(0);
      expect(await rawCount(older)).to.equal(0);
    });
    expect(await rawCount(yesterday), 'yesterday is within retention, all of it').to.equal(2);
    expect([await promptsOf(old), await promptsOf(older)]).to.deep.equal([3, 4]);
  });

  it('the finalize job leaves days past retention alone, even when late data for them arrived', async () => {
    // A late delivery for a day already past retention: recomputing would make the day 1 prompt.
    await svc.store.writeBatch(tenant.id, { events: prompts(old, '11:00:00', 1, 'straggler'), points: [], spans: [] });
    const began = new Date();
    await withScheduler({ PIPELINE_DAILY_CRON: '* * * * * *', PIPELINE_INTERVAL: '1 year' }, '45 1 * * *', async () => {
      const at = await finishedAt('pipeline:finalize-days');
      expect(at !== null && at.getTime() >= began.getTime(), 'a finalize run finished').to.equal(true);
    });
    // It ran: yesterday (its only day within retention) is rolled up now.
    expect(await promptsOf(yesterday)).to.equal(2);
    expect([await promptsOf(old), await promptsOf(older)]).to.deep.equal([3, 4]);
  });

  it('the API refuses a run reaching past retention with 400 naming the first day it can run, and changes nothing', async () => {
    const run = (from: string, to: string) =>
      fetch(`${svc.urls.api}/api/v1/pipeline/runs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ from, to }),
      });
    const refused = await run(old, today);
    expect(refused.status).to.equal(400);
    const body = (await refused.json()) as { error: { code: string; message: string } };
    expect(body.error.code).to.equal('invalid_argument');
    expect(body.error.message).to.include(`cannot recompute ${old}`);
    expect(body.error.message).to.include(`the first day that can be recomputed is ${yesterday}`);
    expect([await promptsOf(old), await promptsOf(older), await promptsOf(yesterday)]).to.deep.equal([3, 4, 2]);

    const ok = await run(yesterday, today);
    expect(ok.status, await ok.clone().text()).to.equal(200);
    expect(((await ok.json()) as { days: number }).days).to.equal(2);
  });

  it('a day whose raw records are all gone keeps its rollups even once it is within a raised retention', async () => {
    const raised = await svc.store.updateTenant(tenant.id, { retentionDays: 30 });
    expect(raised.found).to.equal(true);
    // The API sees the new retention once its token cache (TOKEN_CACHE_TTL_MS) has let the old tenant go.
    await eventually(async () => {
      const res = await fetch(`${svc.urls.api}/api/v1/pipeline/runs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ from: older, to: older }),
      });
      expect(res.status, await res.clone().text()).to.equal(200);
    });
    expect(await rawCount(older)).to.equal(0);
    expect(await promptsOf(older)).to.equal(4);
  });
});
