import compress from '@fastify/compress';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Authenticator, Principal } from '../ingest/auth.js';
import { IngestError } from '../ingest/errors.js';
import type { OpsMetrics } from '../ops/metrics.js';
import type { Store, TokenScope } from '../store/store.js';
import { nodeServerOptions } from '../transport/http-options.js';
import type { TlsOptions } from '../transport/tls.js';
import { registerConnectRoutes } from './connect-routes.js';
import { registerDashboardRoutes } from './dashboard-routes.js';
import { sendApiError } from './errors.js';
import { registerOpsRoutes } from './ops-routes.js';
import { registerTenantRoutes } from './tenant-routes.js';
import { registerTokenRoutes } from './token-routes.js';
import { registerUsageRoutes } from './usage-routes.js';
import { registerUsageSummaryRoutes } from './usage-summary-routes.js';

export interface ApiDeps {
  config: Config;
  store: Store;
  auth: Authenticator;
  logger: Logger;
  metrics: OpsMetrics;
  tls: TlsOptions | null;
  /** Reports whether the store is reachable and migrated, for /readyz. */
  ready: () => Promise<boolean>;
}

export interface ApiContext extends ApiDeps {
  /** Authenticates the request's bearer token for a scope; throws an IngestError. */
  principal(req: FastifyRequest, scope: TokenScope): Promise<Principal>;
}

export interface RunningApi {
  port: number;
  app: FastifyInstance;
  close(): Promise<void>;
}

/** The API, the operations endpoints and the dashboard, on API_PORT. */
export async function startApiServer(deps: ApiDeps): Promise<RunningApi> {
  const { config } = deps;
  const app = Fastify({
    logger: false,
    bodyLimit: 1024 * 1024,
    requestTimeout: config.HTTP_REQUEST_TIMEOUT_MS,
    keepAliveTimeout: config.HTTP_KEEPALIVE_TIMEOUT_MS,
    ...nodeServerOptions(config, deps.tls),
    return503OnClosing: true,
  });
  app.server.headersTimeout = config.HTTP_HEADERS_TIMEOUT_MS;
  const ctx: ApiContext = {
    ...deps,
    principal: (req, scope) => deps.auth.authenticate(req.headers.authorization, req.ip, scope),
  };
  app.setErrorHandler((error, req, reply) => {
    const status = (error as { statusCode?: number }).statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      return sendApiError(reply, new IngestError('invalid_argument', (error as Error).message), config.RETRY_AFTER_SECONDS);
    }
    if (!(error instanceof IngestError)) deps.logger.error({ err: error, url: req.url }, 'API request failed');
    return sendApiError(reply, error, config.RETRY_AFTER_SECONDS);
  });
  app.setNotFoundHandler((req, reply) =>
    sendApiError(reply, new IngestError('not_found', `no such endpoint: ${req.method} ${req.url.split('?')[0]}`), config.RETRY_AFTER_SECONDS),
  );

  // Usage JSON and CSV, the dashboard's script and /metrics are text that shrinks 5-20× (gzip, or brotli at
  // the plugin's fast quality 4); small answers (< 1 KiB) go out as they are.
  await app.register(compress, { global: true, encodings: ['br', 'gzip', 'deflate'] });
  registerOpsRoutes(app, ctx);
  registerTokenRoutes(app, ctx);
  registerTenantRoutes(app, ctx);
  registerConnectRoutes(app, ctx);
  registerUsageRoutes(app, ctx);
  registerUsageSummaryRoutes(app, ctx);
  registerDashboardRoutes(app);

  await app.listen({ host: config.BIND_HOST, port: config.API_PORT });
  const address = app.server.address();
  return { port: typeof address === 'object' && address ? address.port : config.API_PORT, app, close: () => app.close() };
}
