import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import * as protoLoader from '@grpc/proto-loader';
import type { Signal } from './types.js';

/**
 * proto/ sits at the package root; this file is src/otlp/proto.ts under tsx and dist/otlp/proto.js
 * once compiled, and both are two levels below the root.
 */
export const protoDir = fileURLToPath(new URL('../../proto/', import.meta.url));

export const collectorProtoFiles = {
  logs: 'opentelemetry/proto/collector/logs/v1/logs_service.proto',
  metrics: 'opentelemetry/proto/collector/metrics/v1/metrics_service.proto',
  traces: 'opentelemetry/proto/collector/trace/v1/trace_service.proto',
} as const satisfies Record<Signal, string>;

export const healthProtoFile = 'grpc/health/v1/health.proto';
const statusProtoFiles = ['google/rpc/status.proto', 'google/rpc/error_details.proto'];

/** Fully-qualified gRPC service names, e.g. for `packageDefinition[...]` lookups. */
export const grpcServiceNames = {
  logs: 'opentelemetry.proto.collector.logs.v1.LogsService',
  metrics: 'opentelemetry.proto.collector.metrics.v1.MetricsService',
  traces: 'opentelemetry.proto.collector.trace.v1.TraceService',
} as const satisfies Record<Signal, string>;
export const grpcHealthServiceName = 'grpc.health.v1.Health';

function loadRoot(): protobuf.Root {
  const root = new protobuf.Root();
  // Imports are written relative to proto/; google/protobuf/* are protobufjs built-ins.
  root.resolvePath = (_origin, target) =>
    target.startsWith('google/protobuf/') ? target : protoDir + target;
  root.loadSync([...Object.values(collectorProtoFiles), healthProtoFile, ...statusProtoFiles], { keepCase: false });
  root.resolveAll();
  return root;
}

/** All protos, loaded once; field names are lowerCamelCase. */
export const protoRoot = loadRoot();

const requestTypeNames = {
  logs: 'opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest',
  metrics: 'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest',
  traces: 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest',
} as const satisfies Record<Signal, string>;
const responseTypeNames = {
  logs: 'opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse',
  metrics: 'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse',
  traces: 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse',
} as const satisfies Record<Signal, string>;

export const requestType = (signal: Signal): protobuf.Type => protoRoot.lookupType(requestTypeNames[signal]);
export const responseType = (signal: Signal): protobuf.Type => protoRoot.lookupType(responseTypeNames[signal]);

/** Enum name → number, for enums the JSON decoder accepts by name. */
export function enumValues(fullName: string): Readonly<Record<string, number>> {
  return protoRoot.lookupEnum(fullName).values;
}

/** Package definition for @grpc/grpc-js: the three collector services and grpc.health.v1.Health. */
export function loadGrpcPackageDefinition(): protoLoader.PackageDefinition {
  return protoLoader.loadSync([...Object.values(collectorProtoFiles), healthProtoFile], {
    keepCase: false,
    longs: String,
    enums: Number,
    defaults: true,
    oneofs: true,
    includeDirs: [protoDir],
  });
}
