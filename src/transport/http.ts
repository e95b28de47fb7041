import Fastify from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Authenticator } from '../ingest/auth.js';
import type { ExportFn, Exporter } from '../ingest/export.js';
import type { InflightBudget } from '../ingest/inflight.js';
import { IngestError } from '../ingest/errors.js';
import type { OpsMetrics } from '../ops/metrics.js';
import type { Signal } from '../otlp/types.js';
import { closeWithin } from './graceful-close.js';
import { nodeServerOptions } from './http-options.js';
import { formatOf, sendIngestError } from './http-errors.js';
import { admit, countChunkedBody, exportHandler, refuse } from './http-export.js';
import type { TlsOptions } from './tls.js';

const paths: Record<string, Signal> = { '/v1/logs': 'logs', '/v1/metrics': 'metrics', '/v1/traces': 'traces' };

export interface HttpDeps {
  config: Config;
  exporter: Exporter;
  /** Checks the token before the body is read, so an unauthenticated client costs no memory and no gunzip. */
  auth: Authenticator;
  inflight: InflightBudget;
  logger: Logger;
  metrics: OpsMetrics;
  tls: TlsOptions | null;
}

export interface RunningHttp {
  port: number;
  /** Stops accepting, lets requests in flight finish, then cuts what is left after `timeoutMs`. */
  close(timeoutMs: number): Promise<void>;
}

/** The OTLP/HTTP shim: POST /v1/{logs,metrics,traces} in JSON or protobuf, gzip or deflate. */
export async function startHttpServer(deps: HttpDeps): Promise<RunningHttp> {
  const { config } = deps;
  const app = Fastify({
    logger: false,
    bodyLimit: config.MAX_REQUEST_BYTES,
    requestTimeout: config.HTTP_REQUEST_TIMEOUT_MS,
    keepAliveTimeout: config.HTTP_KEEPALIVE_TIMEOUT_MS,
    connectionTimeout: config.HTTP_REQUEST_TIMEOUT_MS,
    ...nodeServerOptions(config, deps.tls),
    // Fastify's own 503 has neither a google.rpc.Status body nor Retry-After; the onRequest hook below answers instead.
    return503OnClosing: false,
  });
  app.server.headersTimeout = config.HTTP_HEADERS_TIMEOUT_MS;

  // Bodies stay raw: the content type is checked and the body decompressed and decoded in the handler.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  // While stopping, each answer tells its client to open a new connection (to another replica),
  // and requests that still arrive on open connections are sent there with a retryable 503.
  let closing = false;
  app.addHook('onRequest', async (req, reply) => {
    if (!closing) return;
    const err = new IngestError('unavailable', 'server is shutting down, retry on a new connection', config.RETRY_AFTER_SECONDS);
    return refuse(deps, { signal: paths[req.url.split('?')[0] ?? ''] ?? null, req, reply }, err);
  });
  app.addHook('onSend', async (_req, reply) => {
    if (closing) void reply.header('connection', 'close');
  });

  for (const [path, signal] of Object.entries(paths)) {
    const exportFn = deps.exporter[signal] as ExportFn<Signal>;
    app.route({
      method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'],
      url: path,
      onRequest: (req, reply) => admit(deps, { signal, req, reply }),
      preParsing: async (req, _reply, payload) => countChunkedBody(req, payload, config.RETRY_AFTER_SECONDS),
      handler: (req, reply) => exportHandler(deps, signal, exportFn, req, reply),
    });
  }
  app.setNotFoundHandler((req, reply) =>
    refuse(deps, { signal: null, req, reply }, new IngestError('not_found', `no such endpoint: ${req.method} ${req.url.split('?')[0]}`)),
  );
  // Failures while Fastify reads the body: over the size limit, out of budget, aborted, wrong Content-Length.
  app.setErrorHandler((error: { code?: string; statusCode?: number; message: string }, req, reply) => {
    const target = { signal: paths[req.routeOptions.url ?? ''] ?? null, req, reply };
    // The client went away mid-body: there is nobody to answer, and nothing was stored.
    if (error.code === 'ECONNRESET' || req.raw.destroyed) {
      deps.logger.info({ signal: target.signal, ip: req.ip, url: req.url.split('?')[0]?.slice(0, 200) }, 'export aborted by the client');
      return reply;
    }
    if (error instanceof IngestError) return refuse(deps, target, error);
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return refuse(deps, target, new IngestError('payload_too_large', `request body larger than ${config.MAX_REQUEST_BYTES} bytes`));
    }
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      return refuse(deps, target, new IngestError('invalid_argument', error.message));
    }
    deps.logger.error({ err: error, url: req.url }, 'unexpected HTTP error');
    return sendIngestError(reply, new IngestError('internal', 'internal error'), formatOf(req.headers['content-type']) ?? 'json');
  });

  await app.listen({ host: config.BIND_HOST, port: config.OTLP_HTTP_PORT });
  const address = app.server.address();
  return {
    port: typeof address === 'object' && address ? address.port : config.OTLP_HTTP_PORT,
    close: (timeoutMs) => {
      closing = true;
      return closeWithin(app.server, () => app.close(), timeoutMs);
    },
  };
}
