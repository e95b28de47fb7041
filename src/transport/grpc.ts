import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { ExportFn, Exporter } from '../ingest/export.js';
import type { InflightBudget } from '../ingest/inflight.js';
import { IngestError } from '../ingest/errors.js';
import type { OpsMetrics } from '../ops/metrics.js';
import { decodeProtobuf } from '../otlp/decode-protobuf.js';
import { encodeExportResponse } from '../otlp/encode.js';
import { loadGrpcPackageDefinition } from '../otlp/proto.js';
import type { Signal } from '../otlp/types.js';
import { toGrpcError } from './grpc-errors.js';
import { reportGrpcExport } from './grpc-report.js';
import { admissionInterceptor } from './grpc-admission.js';
import { addHealthService } from './grpc-health.js';

const services: Record<Signal, string> = {
  logs: 'opentelemetry.proto.collector.logs.v1.LogsService',
  metrics: 'opentelemetry.proto.collector.metrics.v1.MetricsService',
  traces: 'opentelemetry.proto.collector.trace.v1.TraceService',
};

export interface GrpcDeps {
  config: Config;
  exporter: Exporter;
  inflight: InflightBudget;
  logger: Logger;
  metrics: OpsMetrics;
  credentials: grpc.ServerCredentials;
  /** Whether the store answers; grpc.health.v1 reports NOT_SERVING while it does not. */
  ready: () => Promise<boolean>;
}

export interface RunningGrpc {
  port: number;
  /** Stops accepting, lets calls in flight finish, then forces after `timeoutMs`. */
  close(timeoutMs: number): Promise<void>;
}

/**
 * The OTLP gRPC server. Requests arrive as raw bytes (identity deserializer)
 * and are decoded inside the handler, so garbage gets INVALID_ARGUMENT with a
 * message rather than grpc-js's generic INTERNAL. What grpc-js refuses itself,
 * before the handler (messages too large, as sent or decompressed, or that do not
 * decompress), the admission interceptor maps to the error table and logs.
 */
export async function startGrpcServer(deps: GrpcDeps): Promise<RunningGrpc> {
  const { config } = deps;
  const admission = admissionInterceptor({
    inflight: deps.inflight,
    logger: deps.logger,
    metrics: deps.metrics,
    retryAfterSeconds: config.RETRY_AFTER_SECONDS,
    maxRequestBytes: config.MAX_REQUEST_BYTES,
    signalOf: (path) => (Object.keys(services) as Signal[]).find((s) => path.startsWith(`/${services[s]}/`)),
  });
  const server = new grpc.Server({
    'grpc.max_receive_message_length': config.MAX_REQUEST_BYTES,
    'grpc.max_send_message_length': 4 * 1024 * 1024,
    // Clients keep HTTP/2 connections for hours; aging them out spreads load over new replicas.
    'grpc.max_connection_age_ms': config.GRPC_MAX_CONNECTION_AGE_MS,
    'grpc.max_connection_age_grace_ms': config.GRPC_MAX_CONNECTION_AGE_GRACE_MS,
    'grpc.max_connection_idle_ms': config.GRPC_MAX_CONNECTION_IDLE_MS,
    'grpc.keepalive_time_ms': config.GRPC_KEEPALIVE_TIME_MS,
    'grpc.keepalive_timeout_ms': config.GRPC_KEEPALIVE_TIMEOUT_MS,
    'grpc.http2.min_ping_interval_without_data_ms': 10_000,
    // Streams one connection may have open: bounds what a single client can make the server
    // buffer (grpc-js assembles every message it is sent); OTLP exporters send one at a time.
    'grpc.max_concurrent_streams': config.GRPC_MAX_CONCURRENT_STREAMS,
    interceptors: [admission.interceptor],
  });
  const definition = loadGrpcPackageDefinition();
  for (const signal of Object.keys(services) as Signal[]) {
    const service = definition[services[signal]] as grpc.ServiceDefinition;
    const exportMethod = service['Export'];
    if (!exportMethod) throw new Error(`proto definition of ${services[signal]} has no Export method`);
    const raw: grpc.ServiceDefinition = {
      Export: {
        ...exportMethod,
        requestDeserialize: (bytes: Buffer) => bytes,
        responseSerialize: (bytes: Buffer) => bytes,
      },
    };
    server.addService(raw, { Export: handler(signal, deps.exporter[signal] as ExportFn<Signal>, deps, admission.observe) });
  }
  const health = addHealthService(server, definition, Object.values(services), deps.ready);

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${config.BIND_HOST}:${config.OTLP_GRPC_PORT}`, deps.credentials, (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    port,
    close: (timeoutMs) =>
      new Promise<void>((resolve) => {
        health.stopping();
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, timeoutMs);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}

function handler(signal: Signal, exportFn: ExportFn<Signal>, deps: GrpcDeps, observe: (bytes: number) => void): grpc.handleUnaryCall<Buffer, Buffer> {
  return (call, callback) => {
    const started = process.hrtime.bigint();
    const bytes = call.request.length;
    observe(bytes);
    const finish = (code: grpc.status, err: unknown) => reportGrpcExport(deps, { signal, peer: call.getPeer(), started }, code, err);
    if (!deps.inflight.tryAcquire(bytes)) {
      const err = new IngestError('unavailable', 'server busy: too many bytes in flight, retry later', deps.config.RETRY_AFTER_SECONDS);
      finish(err.mapping.grpc, err);
      callback(toGrpcError(err));
      return;
    }
    const authorization = call.metadata.get('authorization')[0];
    exportFn({
      authorization: typeof authorization === 'string' ? authorization : undefined,
      source: peerAddress(call.getPeer()),
      protocol: 'grpc',
      decode: () => decodeProtobuf(signal, call.request),
    })
      .then((result) => {
        finish(grpc.status.OK, null);
        callback(null, encodeExportResponse(signal, result, 'protobuf'));
      })
      .catch((e: unknown) => {
        const err = toGrpcError(e);
        if (!(e instanceof IngestError)) deps.metrics.receivedRecords.inc({ signal, protocol: 'grpc', outcome: 'failed' });
        finish(err.code, e);
        callback(err);
      })
      .finally(() => deps.inflight.release(bytes));
  };
}

/** "ipv4:127.0.0.1:5555" / "[::1]:5555" → the address without the port. */
export function peerAddress(peer: string): string {
  const m = /^(?:ipv[46]:)?\[?([^\]]*?)\]?:\d+$/.exec(peer);
  return m?.[1] ?? peer;
}
