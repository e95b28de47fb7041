import type http2 from 'node:http2';
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';

/** The HTTP/2 receive windows the gRPC server offers each call and each connection. */
export const GRPC_STREAM_WINDOW_BYTES = 1024 * 1024;
export const GRPC_CONNECTION_WINDOW_BYTES = 4 * 1024 * 1024;

/** The grpc-js internals this reaches into; checked at run time, since they are not its API. */
interface ServerInternals {
  commonServerOptions?: { settings?: http2.Settings };
  http2Servers?: Map<http2.Http2Server, unknown>;
}

/**
 * grpc-js leaves HTTP/2's receive windows at the protocol's 64 KiB. An export of a few
 * hundred log records is 100–250 KB, so its client had to stop at every 64 KiB and wait
 * for a WINDOW_UPDATE, which the server sends only when its event loop gets to the
 * connection: while it decodes other requests, a large export took several of those
 * waits. (bench:ingest, decode-only: exports of 129+ records p50 86 → 38 ms, p99 230 →
 * 95 ms.) Wider windows do not let a client hold more of the server's memory: grpc-js
 * reads every message off the connection as it arrives anyway, and the admission
 * interceptor bounds the bytes of admitted calls.
 *
 * Call before bindAsync (the stream window is a setting of the servers it creates), and
 * `afterBind` once it has bound (the connection window is set per session).
 */
export function widenFlowControl(server: grpc.Server, logger: Logger): { afterBind(): void } {
  const internals = server as unknown as ServerInternals;
  if (internals.commonServerOptions === undefined || !(internals.http2Servers instanceof Map)) {
    logger.warn('grpc-js no longer exposes its HTTP/2 server options: gRPC keeps the default 64 KiB flow-control windows');
    return { afterBind: () => undefined };
  }
  const options = internals.commonServerOptions;
  options.settings = { ...options.settings, initialWindowSize: GRPC_STREAM_WINDOW_BYTES };
  return {
    afterBind() {
      for (const h2 of internals.http2Servers?.keys() ?? []) {
        h2.on('session', (session: http2.ServerHttp2Session) => session.setLocalWindowSize(GRPC_CONNECTION_WINDOW_BYTES));
      }
    },
  };
}
