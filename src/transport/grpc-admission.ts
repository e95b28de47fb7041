import * as grpc from '@grpc/grpc-js';
import { IngestError } from '../ingest/errors.js';
import type { InflightBudget } from '../ingest/inflight.js';
import { toGrpcError } from './grpc-errors.js';

/** What a call's message is assumed to take while it arrives; the handler then holds its real size. */
const MIN_RESERVATION = 64 * 1024;

/**
 * Admission of export calls against the in-flight budget, when their headers arrive.
 *
 * grpc-js reads every message off the connection and assembles it before any handler
 * runs, and a client multiplexes many calls on one connection, so the messages still
 * arriving are memory the handler's own check never sees. Each admitted call therefore
 * holds a share of the budget (the recent mean message size, at least 64 KiB) until its
 * message is complete; when that share cannot be had, the call is ended at once with
 * UNAVAILABLE and what the client still sends for it is dropped.
 */
export function admissionInterceptor(inflight: InflightBudget, retryAfterSeconds: number, isExport: (path: string) => boolean): {
  interceptor: grpc.ServerInterceptor;
  /** Feeds the real size of each admitted message into the estimate. */
  observe(bytes: number): void;
} {
  let meanBytes = MIN_RESERVATION;
  const interceptor: grpc.ServerInterceptor = (method, call) => {
    if (!isExport(method.path)) return new grpc.ServerInterceptingCall(call);
    let held = 0;
    const release = () => {
      inflight.release(held);
      held = 0;
    };
    return new grpc.ServerInterceptingCall(call, {
      start: (next) => next({
        onReceiveMetadata: (metadata, pass) => {
          const share = Math.max(MIN_RESERVATION, Math.round(meanBytes));
          if (inflight.tryAcquire(share)) {
            held = share;
            pass(metadata);
            return;
          }
          const err = toGrpcError(new IngestError('unavailable', 'server busy: too many bytes in flight, retry later', retryAfterSeconds));
          call.sendStatus({ code: err.code, details: err.details, metadata: err.metadata });
        },
        // The whole message is in: the handler holds its real size from here.
        onReceiveHalfClose: (pass) => {
          release();
          pass();
        },
        onCancel: release,
      }),
      sendStatus: (status, pass) => {
        release();
        pass(status);
      },
    });
  };
  return {
    interceptor,
    observe(bytes) {
      meanBytes += (bytes - meanBytes) / 32;
    },
  };
}
