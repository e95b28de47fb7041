import type { FastifyInstance } from 'fastify';
import type { ApiContext } from './server.js';

/** /healthz: the process is up. /readyz: the store answers and its schema is current. /metrics: Prometheus. */
export function registerOpsRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const ready = await ctx.ready().catch(() => false);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', store: ctx.store.kind });
  });
  app.get('/metrics', async (_req, reply) =>
    reply.header('content-type', ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics()),
  );
}
