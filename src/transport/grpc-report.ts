import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { IngestError } from '../ingest/errors.js';
import type { OpsMetrics } from '../ops/metrics.js';
import type { Signal } from '../otlp/types.js';

/**
 * One observation of an export call, and one log line when it failed (never the token):
 * for calls the handler answered and for those ended before it (admission, grpc-js).
 */
export function reportGrpcExport(
  deps: { logger: Logger; metrics: OpsMetrics },
  call: { signal: Signal; peer: string; started: bigint },
  code: grpc.status,
  err: unknown,
): void {
  const name = grpc.status[code] ?? String(code);
  deps.metrics.exportRequests.observe({ signal: call.signal, protocol: 'grpc', code: name }, Number(process.hrtime.bigint() - call.started) / 1e9);
  if (err) {
    deps.logger.warn({ signal: call.signal, protocol: 'grpc', peer: call.peer, code: name, err: err instanceof IngestError ? err.message : err }, 'export failed');
  }
}
