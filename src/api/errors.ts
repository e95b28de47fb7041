import type { FastifyReply } from 'fastify';
import { ZodError } from 'zod';
import { IngestError } from '../ingest/errors.js';
import { StoreUnavailableError } from '../store/store.js';

/** API errors use the same table as ingest, with a JSON body `{"error":{"code","message"}}`. */
export function sendApiError(reply: FastifyReply, e: unknown, retryAfterSeconds: number): FastifyReply {
  const err = asIngestError(e, retryAfterSeconds);
  if (err.mapping.retryable && err.retryAfterSeconds !== undefined) void reply.header('retry-after', String(err.retryAfterSeconds));
  return reply.code(err.mapping.http).send({ error: { code: err.kind, message: err.message } });
}

function asIngestError(e: unknown, retryAfterSeconds: number): IngestError {
  if (e instanceof IngestError) return e;
  if (e instanceof ZodError) {
    const detail = e.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
    return new IngestError('invalid_argument', detail);
  }
  if (e instanceof StoreUnavailableError) return new IngestError('unavailable', 'storage is unavailable, retry later', retryAfterSeconds);
  return new IngestError('internal', 'internal error');
}
