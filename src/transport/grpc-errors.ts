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

/**
 * What grpc-js answers by itself, before any handler runs, as an error of the table: a message
 * that does not decompress with its grpc-encoding (grpc-js says INTERNAL) is the client's fault,
 * INVALID_ARGUMENT like corrupt Content-Encoding on HTTP; a message over the size limit, as sent
 * or once decompressed, is payload_too_large. null for any other status (passed on as it is).
 */
export function fromGrpcJsStatus(code: GrpcStatus, details: string, maxRequestBytes: number): IngestError | null {
  if (code === GrpcStatus.INTERNAL && /decompress/i.test(details)) {
    return new IngestError('invalid_argument', 'corrupt compressed message: it does not decompress with the grpc-encoding it was sent with');
  }
  if (code === GrpcStatus.RESOURCE_EXHAUSTED && /decompresses to/i.test(details)) {
    return new IngestError('payload_too_large', `message decompresses to more than ${maxRequestBytes} bytes`);
  }
  if (code === GrpcStatus.RESOURCE_EXHAUSTED && /larger than max/i.test(details)) {
    return new IngestError('payload_too_large', `message larger than ${maxRequestBytes} bytes`);
  }
  return null;
}
