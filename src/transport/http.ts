import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { ExportFn, Exporter } from '../ingest/export.js';
import type { InflightBudget } from '../ingest/inflight.js';
import { IngestError } from '../ingest/errors.js';
import type { OpsMetrics } from '../ops/metrics.js';
import { decodeJson } from '../otlp/decode-json.js';
import { decodeProtobuf } from '../otlp/decode-protobuf.js';
import { encodeExportResponse } from '../otlp/encode.js';
import type { Signal } from '../otlp/types.js';
import { decompress } from './decompress.js';
import { closeWithin } from './graceful-close.js';
import { nodeServerOptions } from './http-options.js';
import { type BodyFormat, formatOf, sendIngestError } from './http-errors.js';
import type { TlsOptions } from './tls.js';

const paths: Record<string, Signal> = { '/v1/logs': 'logs', '/v1/metrics': 'metrics', '/v1/traces': 'traces' };

export interface HttpDeps {
  config: Config;
  exporter: Exporter;
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
    return503OnClosing: true,
  });
  app.server.headersTimeout = config.HTTP_HEADERS_TIMEOUT_MS;

  // Bodies stay raw: the content type is checked and the body decompressed and decoded in the handler.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  // Refuse before the body is read when the process already holds too much.
  app.addHook('onRequest', async (req, reply) => {
    const length = Number(req.headers['content-length'] ?? 0) || 0;
    if (!deps.inflight.tryAcquire(length)) {
      const err = new IngestError('unavailable', 'server busy: too many bytes in flight, retry later', config.RETRY_AFTER_SECONDS);
      return sendIngestError(reply, err, formatOf(req.headers['content-type']) ?? 'json');
    }
    (req as FastifyRequest & { inflightBytes?: number }).inflightBytes = length;
  });
  // While stopping, each answer tells its client to open a new connection (to another replica).
  let closing = false;
  app.addHook('onSend', async (_req, reply) => {
    if (closing) void reply.header('connection', 'close');
  });
  app.addHook('onResponse', async (req) => {
    deps.inflight.release((req as FastifyRequest & { inflightBytes?: number }).inflightBytes ?? 0);
  });

  for (const [path, signal] of Object.entries(paths)) {
    app.route({
      method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'],
      url: path,
      handler: (req, reply) => handle(signal, deps.exporter[signal] as ExportFn<Signal>, req, reply, deps),
    });
  }
  app.setNotFoundHandler((req, reply) =>
    sendIngestError(reply, new IngestError('not_found', `no such endpoint: ${req.method} ${req.url.split('?')[0]}`),
      formatOf(req.headers['content-type']) ?? 'json'),
  );
  app.setErrorHandler((error: { code?: string; statusCode?: number; message: string }, req, reply) => {
    const format = formatOf(req.headers['content-type']) ?? 'json';
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return sendIngestError(reply, new IngestError('payload_too_large', `request body larger than ${config.MAX_REQUEST_BYTES} bytes`), format);
    }
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      return sendIngestError(reply, new IngestError('invalid_argument', error.message), format);
    }
    deps.logger.error({ err: error, url: req.url }, 'unexpected HTTP error');
    return sendIngestError(reply, new IngestError('internal', 'internal error'), format);
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

async function handle(signal: Signal, exportFn: ExportFn<Signal>, req: FastifyRequest, reply: FastifyReply, deps: HttpDeps) {
  const started = process.hrtime.bigint();
  const contentType = req.headers['content-type'];
  const format: BodyFormat | null = formatOf(contentType);
  const protocol = format === 'protobuf' ? 'http/protobuf' : 'http/json';
  try {
    if (req.method !== 'POST') {
      void reply.header('allow', 'POST');
      throw new IngestError('method_not_allowed', `method ${req.method} not allowed on ${req.url}, use POST`);
    }
    if (format === null) {
      throw new IngestError('unsupported_media_type',
        `unsupported Content-Type "${contentType ?? ''}": use application/json or application/x-protobuf`);
    }
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const body = await decompress(raw, req.headers['content-encoding'], deps.config.MAX_REQUEST_BYTES);
    const result = await exportFn({
      authorization: req.headers.authorization,
      source: req.ip,
      protocol,
      decode: () => (format === 'json' ? decodeJson(signal, body.toString('utf8')) : decodeProtobuf(signal, body)),
    });
    observe(deps, signal, protocol, 200, started);
    return reply
      .code(200)
      .header('content-type', format === 'json' ? 'application/json' : 'application/x-protobuf')
      .send(encodeExportResponse(signal, result, format));
  } catch (e) {
    const err = e instanceof IngestError ? e : new IngestError('internal', 'internal error');
    if (!(e instanceof IngestError)) {
      deps.metrics.receivedRecords.inc({ signal, protocol, outcome: 'failed' });
    }
    deps.logger.warn({ signal, protocol, ip: req.ip, status: err.mapping.http, err: e instanceof IngestError ? e.message : e }, 'export failed');
    observe(deps, signal, protocol, err.mapping.http, started);
    return sendIngestError(reply, err, format ?? 'json');
  }
}

function observe(deps: HttpDeps, signal: Signal, protocol: string, code: number, started: bigint): void {
  deps.metrics.exportRequests.observe({ signal, protocol, code: String(code) }, Number(process.hrtime.bigint() - started) / 1e9);
}
