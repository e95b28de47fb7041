import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ExportFn } from '../ingest/export.js';
import { IngestError } from '../ingest/errors.js';
import { decodeJson } from '../otlp/decode-json.js';
import { decodeProtobuf } from '../otlp/decode-protobuf.js';
import { encodeExportResponse } from '../otlp/encode.js';
import type { Signal } from '../otlp/types.js';
import { decompress } from './decompress.js';
import type { HttpDeps } from './http.js';
import { type BodyFormat, formatOf, sendIngestError } from './http-errors.js';
import { budgetOf, countingStream, openBudget } from './http-inflight.js';

/**
 * The stages of one OTLP/HTTP export: admit (headers only: method, content type,
 * token, declared size, in-flight budget), read the body, then decompress, decode
 * and export. Nothing of the body is read or inflated before the token is good.
 */

export interface Target {
  /** null for paths that are no OTLP endpoint. */
  signal: Signal | null;
  req: FastifyRequest;
  reply: FastifyReply;
}

const busy = (retryAfterSeconds: number) =>
  new IngestError('unavailable', 'server busy: too many bytes in flight, retry later', retryAfterSeconds);

/** onRequest of the export routes: refuses what can be refused from the headers, before any byte of the body is read. */
export async function admit(deps: HttpDeps, target: Target): Promise<FastifyReply | undefined> {
  const { req, reply } = target;
  try {
    if (req.method !== 'POST') {
      void reply.header('allow', 'POST');
      throw new IngestError('method_not_allowed', `method ${req.method} not allowed on ${req.url.split('?')[0]}, use POST`);
    }
    const contentType = req.headers['content-type'];
    if (formatOf(contentType) === null) {
      throw new IngestError('unsupported_media_type',
        `unsupported Content-Type "${(contentType ?? '').slice(0, 100)}": use application/json or application/x-protobuf`);
    }
    // Failures count towards the source's auth-failure limit here, before the body costs anything.
    await deps.auth.authenticate(req.headers.authorization, req.ip, 'ingest');
    const declared = Number(req.headers['content-length'] ?? 0) || 0;
    if (declared > deps.config.MAX_REQUEST_BYTES) {
      throw new IngestError('payload_too_large', `request body larger than ${deps.config.MAX_REQUEST_BYTES} bytes`);
    }
    if (!openBudget(req, reply, deps.inflight).acquire(declared)) throw busy(deps.config.RETRY_AFTER_SECONDS);
    return undefined;
  } catch (e) {
    return refuse(deps, target, e);
  }
}

/** preParsing of the export routes: a body without Content-Length is counted against the budget as it arrives. */
export function countChunkedBody(req: FastifyRequest, payload: NodeJS.ReadableStream, retryAfterSeconds: number): NodeJS.ReadableStream {
  const hold = budgetOf(req);
  if (req.headers['content-length'] !== undefined || hold === undefined) return payload;
  return countingStream(payload, hold, () => busy(retryAfterSeconds));
}

/** The route handler: the request is admitted and its body read. */
export async function exportHandler(deps: HttpDeps, signal: Signal, exportFn: ExportFn<Signal>, req: FastifyRequest, reply: FastifyReply) {
  const format = formatOf(req.headers['content-type']) ?? 'json';
  const protocol = protocolOf(format);
  try {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const body = await decompress(raw, req.headers['content-encoding'], deps.config.MAX_REQUEST_BYTES);
    // The inflated body is held too, while it is decoded.
    if (body !== raw && !(budgetOf(req)?.acquire(body.length - raw.length) ?? true)) throw busy(deps.config.RETRY_AFTER_SECONDS);
    const result = await exportFn({
      authorization: req.headers.authorization,
      source: req.ip,
      protocol,
      decode: () => (format === 'json' ? decodeJson(signal, body.toString('utf8')) : decodeProtobuf(signal, body)),
    });
    observe(deps, signal, protocol, 200, reply);
    return reply
      .code(200)
      .header('content-type', format === 'json' ? 'application/json' : 'application/x-protobuf')
      .send(encodeExportResponse(signal, result, format));
  } catch (e) {
    if (!(e instanceof IngestError)) deps.metrics.receivedRecords.inc({ signal, protocol, outcome: 'failed' });
    return refuse(deps, { signal, req, reply }, e);
  }
}

/** Answers a failed request: one log line, one observation, a google.rpc.Status body in the request's encoding. */
export function refuse(deps: HttpDeps, target: Target, e: unknown): FastifyReply {
  const { signal, req, reply } = target;
  const err = e instanceof IngestError ? e : new IngestError('internal', 'internal error');
  const format: BodyFormat = formatOf(req.headers['content-type']) ?? 'json';
  const protocol = protocolOf(format);
  deps.logger.warn({ signal, protocol, ip: req.ip, method: req.method, url: req.url.split('?')[0]?.slice(0, 200),
    status: err.mapping.http, err: e instanceof IngestError ? e.message : e }, 'export failed');
  if (signal !== null) observe(deps, signal, protocol, err.mapping.http, reply);
  return sendIngestError(reply, err, format);
}

const protocolOf = (format: BodyFormat) => (format === 'protobuf' ? 'http/protobuf' : 'http/json');

function observe(deps: HttpDeps, signal: Signal, protocol: string, code: number, reply: FastifyReply): void {
  deps.metrics.exportRequests.observe({ signal, protocol, code: String(code) }, reply.elapsedTime / 1000);
}
