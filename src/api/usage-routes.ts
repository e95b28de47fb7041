import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { IngestError } from '../ingest/errors.js';
import { timedPipelineRun } from '../ops/metrics.js';
import { rangeProblem, usageByValues, usageCsv, usageReport } from '../pipeline/usage-report.js';
import { daysBetween } from '../pipeline/days.js';
import { runDays } from '../pipeline/run-days.js';
import { pastRetentionProblem } from '../pipeline/retention-window.js';
import type { ApiContext } from './server.js';

const usageQuery = z.object({
  from: z.string(),
  to: z.string(),
  by: z.enum(usageByValues as ['seat', 'model', 'surface']).default('seat'),
  format: z.enum(['json', 'csv']).default('json'),
});
const runBody = z.object({ from: z.string(), to: z.string() }).strict();
/** Recomputing is work done inside the request; keep one request's share bounded. */
const MAX_RUN_DAYS = 92;

export function registerUsageRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/api/v1/usage/daily', async (req, reply) => {
    const p = await ctx.principal(req, 'read');
    const q = usageQuery.parse(req.query);
    const problem = rangeProblem(q.from, q.to);
    if (problem) throw new IngestError('invalid_argument', problem);
    const report = await usageReport(ctx.store, p.tenant.id, q.from, q.to, q.by);
    if (q.format === 'csv') {
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="usage-${p.tenant.id}-${q.by}-${q.from}-${q.to}.csv"`)
        .send(usageCsv(report));
    }
    return { tenant: report.tenant, from: report.from, to: report.to, rows: report.rows };
  });

  app.post('/api/v1/pipeline/runs', async (req) => {
    const p = await ctx.principal(req, 'admin');
    const body = runBody.parse(req.body ?? {});
    const problem = rangeProblem(body.from, body.to, MAX_RUN_DAYS);
    if (problem) throw new IngestError('invalid_argument', problem);
    const started = Date.now();
    // Days past the tenant's retention are refused whole, before any runs: 400 naming the first day that can.
    const past = pastRetentionProblem(p.tenant, body.from, started);
    if (past) throw new IngestError('invalid_argument', past);
    // Day by day, so each tenant-day is one observation of the pipeline metrics, as the scheduler's are.
    let days = 0;
    for (const day of daysBetween(body.from, body.to)) {
      const run = await timedPipelineRun(ctx.metrics, 'api', () => runDays(ctx.store, p.tenant, day, day));
      if (run.kind === 'past-retention') throw new IngestError('invalid_argument', run.message);
      days += run.days;
    }
    return { tenant: p.tenant.id, from: body.from, to: body.to, days, durationMs: Date.now() - started };
  });
}
