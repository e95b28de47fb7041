import { Writable } from 'node:stream';
import { PostgresBackend } from '@agendajs/postgres-backend';
import { expect } from 'chai';
import { pino } from 'pino';
import { createTenant } from '../src/ingest/tenancy.js';
import { createOpsMetrics } from '../src/ops/metrics.js';
import { computeDay } from '../src/pipeline/compute-day.js';
import { startPipelineScheduler } from '../src/pipeline/scheduler.js';
import { createPool, createPostgresStore, type PostgresStore } from '../src/store/postgres/index.js';
import type { Store, Tenant } from '../src/store/store.js';
import { testLogger } from './support/postgres.js';
import { makeEvent } from './support/records.js';
import { type TestService, startTestService } from './support/service.js';
import { eventually, utcDay } from './support/usage.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const gate = () => {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
};

/**
 * One computation of a tenant-day at a time, whoever asks (refresh, finalize, API, CLI,
 * on any replica), reading inside the lock; and a scheduled run whose tenant-day takes
 * longer than Agenda's lock lifetime keeps its Agenda lock.
 */
describe('pipeline: one computation of a tenant-day at a time', function () {
  this.timeout(120_000);
  let svc: TestService;
  /** A second store on the same database: another replica. */
  let replica: PostgresStore;

  const prompt = (tenant: Tenant, id: string, day = utcDay(0)) =>
    makeEvent({ tenantId: tenant.id, time: `${day}T${new Date().toISOString().slice(11, 19)}Z`, name: 'user_prompt', sessionId: 's', promptId: id });
  const prompts = async (store: Store, tenant: Tenant, day = utcDay(0)) =>
    (await store.dailyRollups(tenant.id, day, day)).seats.reduce((n, s) => n + s.measures.prompts, 0);

  before(async () => {
    svc = await startTestService();
    replica = createPostgresStore(createPool(svc.databaseUrl, testLogger), testLogger);
  });
  after(async () => {
    await replica?.close();
    await svc?.close();
  });

  it('a computation waits for the one in progress on another replica, then reads what arrived meanwhile', async () => {
    const tenant = await createTenant(svc.store, { id: 'waits' }, 90);
    await svc.store.writeBatch(tenant.id, { events: [prompt(tenant, 'before')], points: [], spans: [] });
    const held = gate();
    const release = gate();
    const other = replica.withDayLock(tenant.id, utcDay(0), async () => {
      held.open();
      await release.promise;
    });
    await held.promise;
    let finished = false;
    const computing = computeDay(svc.store, tenant, utcDay(0)).then((r) => {
      finished = true;
      return r;
    });
    await sleep(500);
    expect(finished, 'it waits for the day').to.equal(false);
    await svc.store.writeBatch(tenant.id, { events: [prompt(tenant, 'meanwhile')], points: [], spans: [] });
    release.open();
    await other;
    const result = await computing;
    expect(result.outcome).to.equal('replaced');
    expect(await prompts(svc.store, tenant)).to.equal(2);
  });

  it('a scheduled run whose tenant-day outlasts Agenda\'s lock lifetime keeps its lock and finishes the day', async () => {
    const tenant = await createTenant(svc.store, { id: 'slow-day' }, 90);
    await svc.store.writeBatch(tenant.id, { events: [prompt(tenant, 'first')], points: [], spans: [] });
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, new Writable({ write: (chunk, _enc, done) => { lines.push(String(chunk)); done(); } }));
    // The day is held elsewhere for 4 lock lifetimes, so computing it takes that long.
    const lockLifetimeMs = 1500;
    const held = gate();
    const release = gate();
    const other = replica.withDayLock(tenant.id, utcDay(0), async () => {
      held.open();
      await release.promise;
    });
    await held.promise;
    const scheduler = await startPipelineScheduler({
      store: svc.store,
      backend: new PostgresBackend({ connectionString: svc.databaseUrl }),
      config: { ...svc.config, PIPELINE_INTERVAL: '1 second', PIPELINE_DAILY_CRON: '15 0 1 1 *' },
      logger,
      metrics: createOpsMetrics(),
      timing: { lockLifetimeMs, processEveryMs: 300, retentionCron: '45 1 1 1 *' },
    });
    try {
      await sleep(lockLifetimeMs * 4);
      await svc.store.writeBatch(tenant.id, { events: [prompt(tenant, 'while held')], points: [], spans: [] });
      release.open();
      await other;
      await eventually(async () => expect(await prompts(svc.store, tenant)).to.equal(2), 30_000);
    } finally {
      release.open();
      await scheduler.drain(10_000);
    }
    // Agenda cancels a run whose lock went stale ("execution ... canceled") and reports it as a scheduler error.
    expect(lines.join(''), 'no run was given up for dead').to.not.match(/canceled|expired|scheduler error|pipeline run failed/);
    const [job] = await svc.sql<{ fail_count: number | null; fail_reason: string | null }>(
      `SELECT fail_count, fail_reason FROM agenda_jobs WHERE name = 'pipeline:refresh-today'`);
    expect(job, 'the refresh job exists').to.not.equal(undefined);
    expect([job?.fail_count ?? 0, job?.fail_reason ?? null]).to.deep.equal([0, null]);
  });
});
