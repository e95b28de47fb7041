import type { FastifyReply } from 'fastify';
import type { IngestError } from '../ingest/errors.js';
import { encodeStatus } from '../otlp/encode.js';

export type BodyFormat = 'json' | 'protobuf';

/** The OTLP encoding named by a Content-Type header (parameters such as charset ignored); null when neither. */
export function formatOf(contentType: string | undefined): BodyFormat | null {
  const mediaType = (contentType ?? '').split(';', 1)[0]?.trim().toLowerCase();
  if (mediaType === 'application/json') return 'json';
  if (mediaType === 'application/x-protobuf' || mediaType === 'application/protobuf') return 'protobuf';
  return null;
}

/** Answers with the error table's HTTP status and a google.rpc.Status body in the request's encoding. */
export function sendIngestError(reply: FastifyReply, err: IngestError, format: BodyFormat): FastifyReply {
  const retry = err.mapping.retryable && err.retryAfterSeconds !== undefined ? err.retryAfterSeconds : undefined;
  if (retry !== undefined) void reply.header('retry-after', String(retry));
  const body = encodeStatus(
    {
      code: err.mapping.grpc,
      message: err.message,
      ...(retry !== undefined ? { retryDelaySeconds: retry } : {}),
      ...(err.violations.length > 0 ? { violations: [...err.violations] } : {}),
    },
    format,
  );
  return reply
    .code(err.mapping.http)
    .header('content-type', format === 'json' ? 'application/json' : 'application/x-protobuf')
    .send(body);
}
