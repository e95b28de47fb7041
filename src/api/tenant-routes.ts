import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { IngestError } from '../ingest/errors.js';
import { setPolicy, tenantView } from '../ingest/tenancy.js';
import type { ApiContext } from './server.js';

const policyBody = z.object({
  prompts: z.enum(['keep', 'hash', 'drop']).optional(),
  responses: z.enum(['keep', 'drop']).optional(),
  toolDetails: z.enum(['keep', 'drop']).optional(),
  emails: z.enum(['keep', 'hash']).optional(),
  retentionDays: z.number().int().min(1).max(3650).optional(),
}).strict();

/** The token's own tenant: its settings, and (admin) its privacy policy and retention. */
export function registerTenantRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/api/v1/tenant', async (req) => {
    const p = await ctx.principal(req, 'read');
    return tenantView(p.tenant);
  });

  app.put('/api/v1/tenant/policy', async (req) => {
    const p = await ctx.principal(req, 'admin');
    const { retentionDays, ...policy } = policyBody.parse(req.body ?? {});
    const updated = await setPolicy(ctx.store, p.tenant.id, { policy, ...(retentionDays !== undefined ? { retentionDays } : {}) });
    ctx.auth.invalidate();
    if (!updated) throw new IngestError('not_found', `no tenant ${p.tenant.id}`);
    return tenantView(updated);
  });
}
