import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { IngestError } from '../ingest/errors.js';
import { createToken, rotateToken, tokenView } from '../ingest/tenancy.js';
import { tokenScopes } from '../store/store.js';
import type { ApiContext } from './server.js';

const createBody = z.object({ scope: z.enum(tokenScopes as ['ingest', 'read', 'admin']) }).strict();
const idParams = z.object({ id: z.string().min(1).max(64) });

/** whoami and token administration; a token only ever sees and manages its own tenant's tokens. */
export function registerTokenRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/api/v1/whoami', async (req) => {
    const p = await ctx.principal(req, 'read');
    return { tenant: p.tenant.id, scope: p.token.scope, tokenId: p.token.id, timezone: p.tenant.timezone };
  });

  app.get('/api/v1/tokens', async (req) => {
    const p = await ctx.principal(req, 'admin');
    return { tokens: (await ctx.store.listTokens(p.tenant.id)).map(tokenView) };
  });

  app.post('/api/v1/tokens', async (req, reply) => {
    const p = await ctx.principal(req, 'admin');
    const body = createBody.parse(req.body ?? {});
    return reply.code(201).send(await createToken(ctx.store, p.tenant.id, body.scope));
  });

  /** Another tenant's token id answers 404, exactly like an unknown one. */
  const ownToken = async (tenantId: string, id: string) => {
    const t = await ctx.store.getToken(id);
    if (!t.found || t.value.tenantId !== tenantId) throw new IngestError('not_found', `no token ${id}`);
    return t.value;
  };

  app.delete('/api/v1/tokens/:id', async (req) => {
    const p = await ctx.principal(req, 'admin');
    const { id } = idParams.parse(req.params);
    await ownToken(p.tenant.id, id);
    const revoked = await ctx.store.revokeToken(id, new Date());
    ctx.auth.invalidate();
    if (!revoked.found) throw new IngestError('not_found', `no token ${id}`);
    return tokenView(revoked.value);
  });

  app.post('/api/v1/tokens/:id/rotate', async (req, reply) => {
    const p = await ctx.principal(req, 'admin');
    const { id } = idParams.parse(req.params);
    const old = await ownToken(p.tenant.id, id);
    if (old.revokedAt !== null) throw new IngestError('invalid_argument', `token ${id} is revoked and cannot be rotated`);
    const created = await rotateToken(ctx.store, old);
    ctx.auth.invalidate();
    if (!created) throw new IngestError('not_found', `no token ${id}`);
    return reply.code(201).send(created);
  });
}
