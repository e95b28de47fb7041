import type * as grpc from '@grpc/grpc-js';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { PackageDefinition } from '@grpc/proto-loader';

const SERVING = 1;

/** grpc.health.v1.Health: the whole server and each OTLP service report SERVING while the process runs. */
export function addHealthService(server: grpc.Server, definition: PackageDefinition, serviceNames: string[]): void {
  const known = new Set(['', ...serviceNames]);
  const service = definition['grpc.health.v1.Health'] as unknown as grpc.ServiceDefinition;
  server.addService(service, {
    Check: (call: grpc.ServerUnaryCall<{ service: string }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      if (!known.has(call.request.service)) {
        callback({ code: GrpcStatus.NOT_FOUND, details: `unknown service ${call.request.service}` });
        return;
      }
      callback(null, { status: SERVING });
    },
    Watch: (call: grpc.ServerWritableStream<{ service: string }, unknown>) => {
      // Status never changes while the process is up; the stream stays open until the client leaves.
      call.write({ status: known.has(call.request.service) ? SERVING : 3 });
    },
  });
}
