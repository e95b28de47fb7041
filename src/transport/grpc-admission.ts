import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { IngestError } from '../ingest/errors.js';
import type { InflightBudget } from '../ingest/inflight.js';
import type { OpsMetrics } from '../ops/metrics.js';
import type { Signal } from '../otlp/types.js';
import { fromGrpcJsStatus, toGrpcError } from './grpc-errors.js';
import { reportGrpcExport } from './grpc-report.js';

/** What a call's message is assumed to take while it arrives; the handler then holds its real size. */
const MIN_RESERVATION = 64 * 1024;

type CallStatus = Parameters<grpc.ServerInterceptingCallInterface['sendStatus']>[0];

export interface AdmissionDeps {
  inflight: InflightBudget;
  logger: Logger;
  metrics: OpsMetrics;
  retryAfterSeconds: number;
  maxRequestBytes: number;
  /** The signal of an export method's path; undefined for other methods (health), which pass untouched. */
  signalOf: (path: string) => Signal | undefined;
}

/**
 * Admission of export calls against the in-flight budget, when their headers arrive, and
 * the answers of calls that end before reaching the handler.
 *
 * grpc-js reads every message off the connection and assembles it before any handler
 * runs, and a client multiplexes many calls on one connection, so the messages still
 * arriving are memory the handler's own check never sees. Each admitted call therefore
 * holds a share of the budget (the recent mean message size, at least 64 KiB) until its
 * message is complete; when that share cannot be had, the call is ended at once with
 * UNAVAILABLE and what the client still sends for it is dropped.
 *
 * grpc-js also ends calls itself while it reads their message: one over
 * `grpc.max_receive_message_length` (as sent or decompressed), one that does not
 * decompress. It does so on the call it built (the `call` this interceptor wraps; no
 * credential interceptors sit between), calling that object's own `sendStatus`, which
 * an interceptor's `sendStatus` hook never sees. That method is therefore wrapped on
 * the instance: a status the handler did not send is turned into its error of the
 * table (`fromGrpcJsStatus`) and logged, one line per call, like the handler's failures.
 */
export function admissionInterceptor(deps: AdmissionDeps): {
  interceptor: grpc.ServerInterceptor;
  /** Feeds the real size of each admitted message into the estimate. */
  observe(bytes: number): void;
} {
  let meanBytes = MIN_RESERVATION;
  const interceptor: grpc.ServerInterceptor = (method, call) => {
    const signal = deps.signalOf(method.path);
    if (signal === undefined) return new grpc.ServerInterceptingCall(call);
    const started = process.hrtime.bigint();
    // Read now: once grpc-js has ended the stream, the socket may be gone.
    const peer = call.getPeer();
    let held = 0;
    let fromHandler = false;
    let ended = false;
    const release = () => {
      deps.inflight.release(held);
      held = 0;
    };

    /** A call ended here or by grpc-js (the handler reports its own). */
    const report = (code: grpc.status, err: string) => reportGrpcExport(deps, { signal, peer, started }, code, err);

    const sendStatus = call.sendStatus.bind(call);
    call.sendStatus = (status: CallStatus) => {
      release();
      const first = !ended;
      ended = true;
      if (fromHandler || !first || status.code === grpc.status.OK) {
        sendStatus(status);
        return;
      }
      const mapped = fromGrpcJsStatus(status.code, status.details, deps.maxRequestBytes);
      if (mapped === null) {
        report(status.code, status.details);
        sendStatus(status);
        return;
      }
      const err = toGrpcError(mapped);
      report(err.code, mapped.message);
      sendStatus({ code: err.code, details: err.details, metadata: err.metadata });
    };

    return new grpc.ServerInterceptingCall(call, {
      start: (next) => next({
        onReceiveMetadata: (metadata, pass) => {
          const share = Math.max(MIN_RESERVATION, Math.round(meanBytes));
          if (deps.inflight.tryAcquire(share)) {
            held = share;
            pass(metadata);
            return;
          }
          // An error of the table already: sent through the wrapper above, which logs it once.
          const err = toGrpcError(new IngestError('unavailable', 'server busy: too many bytes in flight, retry later', deps.retryAfterSeconds));
          call.sendStatus({ code: err.code, details: err.details, metadata: err.metadata });
        },
        // The whole message is in: the handler holds its real size from here.
        onReceiveHalfClose: (pass) => {
          release();
          pass();
        },
        onCancel: () => {
          // Cancelled by the client (or ended by grpc-js): nothing more is answered or logged.
          ended = true;
          release();
        },
      }),
      sendStatus: (status, pass) => {
        fromHandler = true;
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
