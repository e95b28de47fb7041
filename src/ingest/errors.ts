import { status as GrpcStatus } from '@grpc/grpc-js';

/**
 * Every way an export can fail. Transports never pick codes themselves: they
 * look the kind up in `errorTable`, which follows the OTLP retry rules
 * (only UNAVAILABLE, and RESOURCE_EXHAUSTED with RetryInfo, are retried on gRPC;
 * only 429/502/503/504 on HTTP).
 */
export type IngestErrorKind =
  | 'unauthenticated'
  | 'permission_denied'
  | 'invalid_argument'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'method_not_allowed'
  | 'not_found'
  | 'unavailable'
  | 'rate_limited'
  | 'internal';

export interface ErrorMapping {
  grpc: GrpcStatus;
  http: number;
  /** Whether the response tells the client when to retry (RetryInfo / Retry-After). */
  retryable: boolean;
}

export const errorTable: Readonly<Record<IngestErrorKind, ErrorMapping>> = Object.freeze({
  unauthenticated: { grpc: GrpcStatus.UNAUTHENTICATED, http: 401, retryable: false },
  permission_denied: { grpc: GrpcStatus.PERMISSION_DENIED, http: 403, retryable: false },
  invalid_argument: { grpc: GrpcStatus.INVALID_ARGUMENT, http: 400, retryable: false },
  // Non-retryable by the OTLP spec: RESOURCE_EXHAUSTED without RetryInfo.
  payload_too_large: { grpc: GrpcStatus.RESOURCE_EXHAUSTED, http: 413, retryable: false },
  unsupported_media_type: { grpc: GrpcStatus.INVALID_ARGUMENT, http: 415, retryable: false },
  method_not_allowed: { grpc: GrpcStatus.UNIMPLEMENTED, http: 405, retryable: false },
  not_found: { grpc: GrpcStatus.UNIMPLEMENTED, http: 404, retryable: false },
  unavailable: { grpc: GrpcStatus.UNAVAILABLE, http: 503, retryable: true },
  // Retryable only because RetryInfo goes with it.
  rate_limited: { grpc: GrpcStatus.RESOURCE_EXHAUSTED, http: 429, retryable: true },
  internal: { grpc: GrpcStatus.INTERNAL, http: 500, retryable: false },
});

export class IngestError extends Error {
  override readonly name = 'IngestError';
  constructor(
    readonly kind: IngestErrorKind,
    message: string,
    /** Seconds to wait before retrying; only used for retryable kinds. */
    readonly retryAfterSeconds?: number,
    /** Field violations for google.rpc.BadRequest. */
    readonly violations: readonly { field: string; description: string }[] = [],
  ) {
    super(message);
  }

  get mapping(): ErrorMapping {
    return errorTable[this.kind];
  }
}

export const isIngestError = (e: unknown): e is IngestError => e instanceof IngestError;
