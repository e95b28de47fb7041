import { Writable } from 'node:stream';
import { PostgresBackend } from '@agendajs/postgres-backend';
import { expect } from 'chai';
import pg from 'pg';
import { pino } from 'pino';
import { loadConfig } from '../src/config.js';
import { createOpsMetrics } from '../src/ops/metrics.js';
import { startPipelineScheduler } from '../src/pipeline/scheduler.js';
import { createPool, createPostgresStore, type PostgresStore } from '../src/store/postgres/index.js';
import { dayOfDate, partitionName, partitionedTables } from '../src/store/postgres/partitions.js';
import { defaultPrivacyPolicy } from '../src/store/store.js';
import { createTestDatabase, testLogger } from './support/postgres.js';
import { makeEvent, makePoint, makeSpan } from './support/records.js';
import { eventually } from './support/usage.js';

const DAY_MS = 86_400_000;

/**
 * PostgreSQL keeps raw records in day partitions. migrate() makes them 7 days ahead at
 * start-up; after that the scheduled pipeline keeps them ahead (Store.maintain), so a
 * process running for weeks does not create them on the ingest path, and another replica
 * finds the ones made ahead instead of creating them. The scheduler runs on Agenda with
 * its clock moved 30 days on, as a process 30 days into its run.
 */
describe('pipeline: day partitions kept ahead by the scheduled jobs (PostgreSQL)', function () {
  this.timeout(120_000);
  let url: string;
  let store: PostgresStore;
  let admin: pg.Pool;
  /** The scheduler's clock: 30 days on. */
  const clock = () => Date.now() + 30 * DAY_MS;

  /** The day partitions of the raw tables, by name. */
  const partitions = async (): Promise<Set<string>> => {
    const { rows } = await admin.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i
       JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
       WHERE p.relname = ANY($1)`,
      [[...partitionedTables]],
    );
    return new Set(rows.map((r) => r.name));
  };
  /** Partition names of every raw table for the days `from` to `to` days after `ms`. */
  const namesAround = (ms: number, from: number, to: number): string[] =>
    partitionedTables.flatMap((t) => Array.from({ length: to - from + 1 }, (_, i) => partitionName(t, dayOfDate(new Date(ms)) + from + i)));

  before(async () => {
    url = await createTestDatabase();
    store = createPostgresStore(createPool(url, testLogger), testLogger);
    await store.migrate();
    await store.createTenant({ id: 't', name: 'T', timezone: 'UTC', retentionDays: 90, allowedOrganizationIds: [], policy: { ...defaultPrivacyPolicy } });
    admin = new pg.Pool({ connectionString: url, max: 2 });
  });
  after(async () => {
    await admin?.end();
    await store?.close();
  });

  it('migrate() makes today and the 7 days after it, and not 30 days on', async () => {
    const made = await partitions();
    for (const name of namesAround(Date.now(), 0, 7)) expect(made, name).to.include(name);
    for (const name of namesAround(clock(), -2, 7)) expect(made, name).to.not.include(name);
  });

  it('the refresh job makes the partitions from its today to 7 days after, for every raw table', async () => {
    const start = clock();
    const scheduler = await startPipelineScheduler({
      store,
      backend: new PostgresBackend({ connectionString: url }),
      // The refresh runs at once and every second; finalize and retention keep far-off schedules.
      config: loadConfig({ DATABASE_URL: url, PIPELINE_INTERVAL: '1 second', PIPELINE_DAILY_CRON: '15 0 1 1 *' }),
      logger: testLogger,
      metrics: createOpsMetrics(),
      timing: { processEveryMs: 200, retentionCron: '45 1 1 1 *' },
      now: clock,
    });
    try {
      await eventually(async () => {
        const made = await partitions();
        for (const name of namesAround(clock(), 0, 7)) expect(made, name).to.include(name);
      }, 60_000);
    } finally {
      await scheduler.drain(10_000);
    }
    // From its today on only: the days behind it are left to the writes of those days (and to retention).
    const made = await partitions();
    for (const name of namesAround(start, -2, -1)) expect(made, name).to.not.include(name);
  });

  it('another replica writing those days finds the partitions made ahead and creates none', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, new Writable({ write: (chunk, _enc, done) => { lines.push(String(chunk)); done(); } }));
    const replica = createPostgresStore(createPool(url, logger), logger);
    const created = () => lines.map((l) => JSON.parse(l) as { msg: string; partition?: string }).filter((l) => l.msg === 'partition ready').map((l) => l.partition);
    const batchAt = (ms: number, tag: string) => {
      const time = new Date(ms);
      return {
        events: [makeEvent({ tenantId: 't', time, promptId: tag })],
        points: [makePoint({ tenantId: 't', time, seriesKey: tag })],
        spans: [makeSpan({ tenantId: 't', time, spanId: `${tag}0000000000000000`.slice(0, 16) })],
      };
    };
    try {
      await replica.writeBatch('t', batchAt(clock() + 3 * DAY_MS, 'ahead'));
      expect(created(), 'no partition created by the write').to.deep.equal([]);
      // A day nobody made ahead is still created on demand, by the write.
      const beyond = clock() + 20 * DAY_MS;
      await replica.writeBatch('t', batchAt(beyond, 'beyond'));
      expect(created().sort()).to.deep.equal(namesAround(beyond, 0, 0).sort());
      const { rows } = await admin.query<{ n: string }>(`SELECT count(*) AS n FROM events WHERE tenant_id = 't'`);
      expect(Number(rows[0]?.n)).to.equal(2);
    } finally {
      await replica.close();
    }
  });
});
