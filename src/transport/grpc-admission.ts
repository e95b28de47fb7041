import * as grpc from '@grpc/grpc-js';
import { IngestError } from '../ingest/errors.js';
import type { InflightBudget } from '../ingest/inflight.js';
import { toGrpcError } from './grpc-errors.js';

/**
 * Refuses an export call as soon as its headers arrive when the in-flight budget is
 * already spent. grpc-js reads every message off the connection and assembles it before
 * any handler runs, so under overload the handler's own check came after the bytes were
 * in memory: calls refused here are ended before their message is assembled, and what
 * the client still sends for them is dropped.
 */
export function admissionInterceptor(inflight: InflightBudget, retryAfterSeconds: number, isExport: (path: string) => boolean): grpc.ServerInterceptor {
  return (method, call) => {
    if (!isExport(method.path)) return new grpc.ServerInterceptingCall(call);
    return new grpc.ServerInterceptingCall(call, {
      start: (next) => next({
        onReceiveMetadata: (metadata, pass) => {
          if (inflight.inUse < inflight.limit) {
            pass(metadata);
            return;
          }
          const err = toGrpcError(new IngestError('unavailable', 'server busy: too many bytes in flight, retry later', retryAfterSeconds));
          call.sendStatus({ code: err.code, details: err.details, metadata: err.metadata });
        },
      }),
    });
  };
}
