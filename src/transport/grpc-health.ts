import type * as grpc from '@grpc/grpc-js';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { PackageDefinition } from '@grpc/proto-loader';

/** grpc.health.v1.HealthCheckResponse.ServingStatus. */
const SERVING = 1;
const NOT_SERVING = 2;
const SERVICE_UNKNOWN = 3;
/** How often a Watch stream re-checks, and how long one store check answers every Check meanwhile. */
const RECHECK_MS = 2000;

export interface Health {
  /** The server is stopping: report NOT_SERVING from now on and end the Watch streams. */
  stopping(): void;
}

/**
 * grpc.health.v1.Health for the whole server ('') and each OTLP service: SERVING while
 * the store answers and the server is not stopping, NOT_SERVING otherwise (exports would
 * only get UNAVAILABLE). Store checks are shared for RECHECK_MS, so frequent probes cost one ping.
 */
export function addHealthService(server: grpc.Server, definition: PackageDefinition, serviceNames: string[], ready: () => Promise<boolean>): Health {
  const known = new Set(['', ...serviceNames]);
  let stopping = false;
  let last: { at: number; ready: Promise<boolean> } | null = null;
  const watchers = new Set<() => void>();
  const status = async (): Promise<number> => {
    if (stopping) return NOT_SERVING;
    if (last === null || Date.now() - last.at >= RECHECK_MS) last = { at: Date.now(), ready: ready().catch(() => false) };
    return (await last.ready) && !stopping ? SERVING : NOT_SERVING;
  };

  const service = definition['grpc.health.v1.Health'] as unknown as grpc.ServiceDefinition;
  server.addService(service, {
    Check: (call: grpc.ServerUnaryCall<{ service: string }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      if (!known.has(call.request.service)) {
        callback({ code: GrpcStatus.NOT_FOUND, details: `unknown service ${call.request.service}` });
        return;
      }
      void status().then((s) => callback(null, { status: s }));
    },
    Watch: (call: grpc.ServerWritableStream<{ service: string }, unknown>) => {
      if (!known.has(call.request.service)) {
        call.write({ status: SERVICE_UNKNOWN });
        return;
      }
      // The protocol sends the status at once and again whenever it changes, until the client leaves.
      let sent = -1;
      const timer = setInterval(() => push(), RECHECK_MS);
      timer.unref();
      const stop = () => {
        clearInterval(timer);
        watchers.delete(push);
      };
      const push = () => void status().then((s) => {
        if (call.cancelled) return stop();
        if (s !== sent) call.write({ status: (sent = s) });
        // A stopping server ends its watches, or a graceful shutdown would wait on them until forced.
        if (stopping) {
          stop();
          call.end();
        }
      });
      watchers.add(push);
      call.on('cancelled', stop);
      call.on('close', stop);
      push();
    },
  });
  return {
    stopping: () => {
      stopping = true;
      for (const push of [...watchers]) push();
    },
  };
}
