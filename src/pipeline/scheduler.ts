import { Agenda, type AgendaBackend, type Job } from 'agenda';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { OpsMetrics } from '../ops/metrics.js';
import type { Store } from '../store/store.js';
import { PastRetentionError, computeDay } from './compute-day.js';
import { applyRetention, scheduledRuns } from './jobs.js';
import type { ScheduledJob } from './retention-window.js';

export interface PipelineScheduler {
  /** Waits for running jobs to finish (up to timeoutMs), then stops taking new ones. */
  drain(timeoutMs: number): Promise<void>;
}

export interface SchedulerDeps {
  store: Store;
  backend: AgendaBackend;
  config: Config;
  logger: Logger;
  metrics: OpsMetrics;
  /** Agenda's timings, and the retention job's cron (UTC); the defaults are for production, tests shorten them. */
  timing?: { lockLifetimeMs?: number; processEveryMs?: number; retentionCron?: string };
  /**
   * The clock the jobs judge days by (which days to compute, retention, the store's days
   * ahead); Date.now by default. Tests move it to see what a process weeks into its run does.
   * Agenda's own timing (when jobs run) does not read it.
   */
  now?: () => number;
}

const REFRESH = 'pipeline:refresh-today';
const DAILY = 'pipeline:finalize-days';
const RETENTION = 'pipeline:retention';

/**
 * Touches the job every quarter of its lock lifetime while `work` runs. Agenda takes a
 * job whose lock was not touched within its lifetime for dead: it fails the run (which
 * goes on in the background, untracked by drain()) and hands the job to another replica.
 * One tenant-day can outlast the lifetime (a large day, or waiting for the day's lock
 * while another replica computes it), so touching only between days is not enough.
 */
async function keepingJobLocked<T>(job: Job, lockLifetimeMs: number, work: () => Promise<T>): Promise<T> {
  // A failed touch (the job was cancelled, the database is away) is seen by the touch after the day.
  const timer = setInterval(() => void job.touch().catch(() => undefined), Math.max(250, Math.floor(lockLifetimeMs / 4)));
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

/**
 * The daily pipeline on Agenda. Each job is a single recurring job that Agenda locks,
 * so one replica runs a given run; each tenant-day it computes also holds that day's
 * lock (computeDay), so a refresh, a finalize and a manual run of the same day never
 * compute it at once, on any replica. Days past a tenant's retention are left out
 * (src/pipeline/retention-window.ts).
 * - refresh: every PIPELINE_INTERVAL, yesterday and today of each tenant (its time zone);
 * - finalize: PIPELINE_DAILY_CRON (UTC), yesterday and the PIPELINE_CATCHUP_DAYS before it, for late data;
 * - retention: daily, raw records of the days past each tenant's retention (rollups stay).
 * Refresh and finalize first run the store's upkeep for the coming days (Store.maintain:
 * PostgreSQL's day partitions ahead of today), so a process running for weeks keeps them
 * ahead and ingest never has to create one. A failed upkeep is logged and counted; the days
 * are computed anyway, and the next run tries again.
 */
export async function startPipelineScheduler(deps: SchedulerDeps): Promise<PipelineScheduler> {
  const { store, config, logger, metrics } = deps;
  const lockLifetimeMs = deps.timing?.lockLifetimeMs ?? 10 * 60 * 1000;
  const agenda = new Agenda({
    backend: deps.backend,
    processEvery: deps.timing?.processEveryMs ?? 5000,
    defaultLockLifetime: lockLifetimeMs,
    name: 'ai-usage-receiver',
  });

  const now = deps.now ?? Date.now;

  const maintain = async (job: Job) => {
    try {
      await keepingJobLocked(job, lockLifetimeMs, () => store.maintain(new Date(now())));
    } catch (e) {
      metrics.pipelineFailures.inc({ job: job.attrs.name });
      logger.error({ err: e, job: job.attrs.name }, 'store upkeep failed');
    }
  };

  const computeDays = async (job: Job, which: ScheduledJob) => {
    await maintain(job);
    for (const { tenant, day } of scheduledRuns(which, await store.listTenants(), now(), config.PIPELINE_CATCHUP_DAYS)) {
      const end = metrics.pipelineRuns.startTimer({ job: job.attrs.name });
      try {
        await keepingJobLocked(job, lockLifetimeMs, () => computeDay(store, tenant, day, { now }));
        end({ outcome: 'ok' });
      } catch (e) {
        if (e instanceof PastRetentionError) {
          // The day left retention after this run chose it (the tenant's midnight passed meanwhile).
          end({ outcome: 'ok' });
          logger.debug({ tenant: tenant.id, day, job: job.attrs.name }, 'day past retention, not recomputed');
        } else {
          end({ outcome: 'error' });
          metrics.pipelineFailures.inc({ job: job.attrs.name });
          logger.error({ err: e, tenant: tenant.id, day, job: job.attrs.name }, 'pipeline run failed');
        }
      }
      // Throws once Agenda gave the run up, so a run it handed on stops here.
      await job.touch();
    }
  };

  agenda.define(REFRESH, (job: Job) => computeDays(job, 'refresh'));
  agenda.define(DAILY, (job: Job) => computeDays(job, 'finalize'));
  agenda.define(RETENTION, async (job: Job) => {
    for (const tenant of await store.listTenants()) {
      try {
        const removed = await keepingJobLocked(job, lockLifetimeMs, () => applyRetention(store, tenant, now()));
        if (removed > 0) logger.info({ tenant: tenant.id, removed }, 'retention removed raw records');
      } catch (e) {
        metrics.pipelineFailures.inc({ job: RETENTION });
        logger.error({ err: e, tenant: tenant.id }, 'retention failed');
      }
      await job.touch();
    }
  });
  agenda.on('error', (e: Error) => logger.error({ err: e }, 'scheduler error'));

  await agenda.start();
  await agenda.every(config.PIPELINE_INTERVAL, REFRESH);
  await agenda.every(config.PIPELINE_DAILY_CRON, DAILY, undefined, { timezone: 'UTC' });
  await agenda.every(deps.timing?.retentionCron ?? '45 1 * * *', RETENTION, undefined, { timezone: 'UTC' });
  logger.info({ interval: config.PIPELINE_INTERVAL, daily: config.PIPELINE_DAILY_CRON }, 'pipeline scheduled');

  return {
    drain: async (timeoutMs) => {
      const result = await agenda.drain({ timeout: timeoutMs });
      if (result.timedOut) logger.warn({ running: result.running }, 'pipeline jobs still running at shutdown');
    },
  };
}
