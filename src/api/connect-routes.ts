import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import { connectStatus } from '../pipeline/connect-status.js';
import type { ApiContext } from './server.js';

/** The OTLP endpoints as clients should see them: the configured public URLs, else the host this request used. */
export function publicEndpoints(config: Config, req: FastifyRequest | null): { grpc: string; http: string } {
  const scheme = config.TLS_CERT_FILE ? 'https' : 'http';
  const host = (req?.hostname ?? 'localhost').replace(/:\d+$/, '');
  return {
    grpc: config.PUBLIC_GRPC_URL ?? `${scheme}://${host}:${config.OTLP_GRPC_PORT}`,
    http: config.PUBLIC_HTTP_URL ?? `${scheme}://${host}:${config.OTLP_HTTP_PORT}`,
  };
}

/** The dashboard as the machine running the service reaches it (first-start banner, `serve --json`). */
export const localDashboardUrl = (config: Config, apiPort: number): string =>
  `${config.TLS_CERT_FILE ? 'https' : 'http'}://localhost:${apiPort}/`;

export function registerConnectRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/api/v1/connect/setup', async (req) => {
    const p = await ctx.principal(req, 'read');
    const e = publicEndpoints(ctx.config, req);
    return { tenant: p.tenant.id, grpcEndpoint: e.grpc, httpEndpoint: e.http };
  });
  app.get('/api/v1/connect/status', async (req) => {
    const p = await ctx.principal(req, 'read');
    return connectStatus(ctx.store, p.tenant.id);
  });
}
