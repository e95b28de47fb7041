import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { IngestError } from '../ingest/errors.js';
import { rangeProblem, usageSummary } from '../pipeline/usage-report.js';
import type { ApiContext } from './server.js';

const summaryQuery = z.object({ from: z.string(), to: z.string() });

/**
 * GET /api/v1/usage/summary: the dashboard's one read of a range — per-day totals, per-seat totals
 * and per-day-and-model cost and tokens. Its size grows with seats + days, not seats × days.
 */
export function registerUsageSummaryRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/api/v1/usage/summary', async (req) => {
    const p = await ctx.principal(req, 'read');
    const q = summaryQuery.parse(req.query);
    const problem = rangeProblem(q.from, q.to);
    if (problem) throw new IngestError('invalid_argument', problem);
    return { ...(await usageSummary(ctx.store, p.tenant.id, q.from, q.to)), timezone: p.tenant.timezone };
  });
}
