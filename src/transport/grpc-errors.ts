import { Metadata, type ServiceError, status as GrpcStatus } from '@grpc/grpc-js';
import { IngestError } from '../ingest/errors.js';
import { boundedMessage, encodeStatusDetailsBin } from '../otlp/encode.js';

/**
 * Turns any failure into the gRPC error the OTLP spec expects: the code from
 * the error table, a readable message, and google.rpc.Status details
 * (RetryInfo for retryable kinds, BadRequest for decode errors) in the
 * `grpc-status-details-bin` trailer.
 */
export function toGrpcError(e: unknown): ServiceError {
  const err = e instanceof IngestError ? e : new IngestError('internal', 'internal error');
  const code = err.mapping.grpc;
  const metadata = new Metadata();
  metadata.set(
    'grpc-status-details-bin',
    encodeStatusDetailsBin({
      code,
      message: err.message,
      ...(err.mapping.retryable && err.retryAfterSeconds !== undefined ? { retryDelaySeconds: err.retryAfterSeconds } : {}),
      ...(err.violations.length > 0 ? { violations: [...err.violations] } : {}),
    }),
  );
  // grpc-message travels in a trailer; HTTP/2 peers refuse oversized header blocks.
  const details = boundedMessage(err.message);
  return Object.assign(new Error(details), { code, details, metadata }) as ServiceError;
}

export { GrpcStatus };
