import { Agenda, type AgendaBackend, type Job } from 'agenda';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { OpsMetrics } from '../ops/metrics.js';
import type { Store, Tenant } from '../store/store.js';
import { computeDay } from './compute-day.js';
import { addDays, today } from './days.js';

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
}

const REFRESH = 'pipeline:refresh-today';
const DAILY = 'pipeline:finalize-days';
const RETENTION = 'pipeline:retention';

/**
 * The daily pipeline on Agenda. Each job is a single recurring job that Agenda
 * locks, so however many replicas run, one of them computes a given run;
 * computing a day replaces it, so a repeated or overlapping run changes nothing.
 * - refresh: every PIPELINE_INTERVAL, today and yesterday of each tenant (its time zone);
 * - finalize: PIPELINE_DAILY_CRON (UTC), yesterday and the PIPELINE_CATCHUP_DAYS before it, for late data;
 * - retention: daily, raw records older than each tenant's retention (rollups stay).
 */
export async function startPipelineScheduler(deps: SchedulerDeps): Promise<PipelineScheduler> {
  const { store, config, logger, metrics } = deps;
  const agenda = new Agenda({ backend: deps.backend, processEvery: 5000, defaultLockLifetime: 10 * 60 * 1000, name: 'ai-usage-receiver' });

  const computeDays = async (job: Job, days: (t: Tenant) => string[]) => {
    for (const tenant of await store.listTenants()) {
      for (const day of days(tenant)) {
        const end = metrics.pipelineRuns.startTimer({ job: job.attrs.name });
        try {
          await computeDay(store, tenant, day);
          end({ outcome: 'ok' });
        } catch (e) {
          end({ outcome: 'error' });
          metrics.pipelineFailures.inc({ job: job.attrs.name });
          logger.error({ err: e, tenant: tenant.id, day, job: job.attrs.name }, 'pipeline run failed');
        }
        // Long runs keep their lock alive, or Agenda would hand the job to another replica.
        await job.touch();
      }
    }
  };

  agenda.define(REFRESH, async (job: Job) => {
    await computeDays(job, (t) => {
      const d = today(t.timezone);
      return [addDays(d, -1), d];
    });
  });
  agenda.define(DAILY, async (job: Job) => {
    await computeDays(job, (t) => {
      const yesterday = addDays(today(t.timezone), -1);
      return Array.from({ length: config.PIPELINE_CATCHUP_DAYS + 1 }, (_, i) => addDays(yesterday, -i));
    });
  });
  agenda.define(RETENTION, async () => {
    for (const tenant of await store.listTenants()) {
      const before = new Date(Date.now() - tenant.retentionDays * 86_400_000);
      try {
        const removed = await store.deleteRawBefore(tenant.id, before);
        if (removed > 0) logger.info({ tenant: tenant.id, removed, before }, 'retention removed raw records');
      } catch (e) {
        metrics.pipelineFailures.inc({ job: RETENTION });
        logger.error({ err: e, tenant: tenant.id }, 'retention failed');
      }
    }
  });
  agenda.on('error', (e: Error) => logger.error({ err: e }, 'scheduler error'));

  await agenda.start();
  await agenda.every(config.PIPELINE_INTERVAL, REFRESH);
  await agenda.every(config.PIPELINE_DAILY_CRON, DAILY, undefined, { timezone: 'UTC' });
  await agenda.every('45 1 * * *', RETENTION, undefined, { timezone: 'UTC' });
  logger.info({ interval: config.PIPELINE_INTERVAL, daily: config.PIPELINE_DAILY_CRON }, 'pipeline scheduled');

  return {
    drain: async (timeoutMs) => {
      const result = await agenda.drain({ timeout: timeoutMs });
      if (result.timedOut) logger.warn({ running: result.running }, 'pipeline jobs still running at shutdown');
    },
  };
}
