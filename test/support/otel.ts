import { Metadata, credentials } from '@grpc/grpc-js';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter as GrpcLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as HttpLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter as GrpcMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as HttpMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as GrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as HttpTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

/**
 * Sends telemetry through the real OpenTelemetry JS OTLP exporters (grpc,
 * http/json, http/protobuf) and reports what the exporter concluded. The SDK
 * builds the records exactly as an instrumented app would; we hand them to
 * the exporter ourselves so the test sees the export result.
 */

export type OtlpProtocol = 'grpc' | 'http/json' | 'http/protobuf';
export const protocols: readonly OtlpProtocol[] = ['grpc', 'http/json', 'http/protobuf'];

export interface Endpoints {
  grpc: string;
  http: string;
  /** Trust this CA (https / TLS gRPC), and present a client certificate when given (mTLS). */
  tls?: { ca: Buffer; cert?: Buffer; key?: Buffer };
  /** Compress requests with gzip (OTEL_EXPORTER_OTLP_COMPRESSION=gzip). */
  gzip?: boolean;
}

export interface SendResult {
  ok: boolean;
  error?: Error & { code?: number; data?: string };
}

type AnyExporter = { export(items: unknown, cb: (r: { code: number; error?: Error }) => void): void; shutdown(): Promise<void> };

function exporterFor(signal: 'logs' | 'metrics' | 'traces', protocol: OtlpProtocol, endpoints: Endpoints, token: string | null): AnyExporter {
  const headers: Record<string, string> = token === null ? {} : { Authorization: `Bearer ${token}` };
  if (protocol === 'grpc') {
    const metadata = new Metadata();
    if (token !== null) metadata.set('authorization', `Bearer ${token}`);
    const tls = endpoints.tls;
    const config = {
      url: endpoints.grpc, metadata, timeoutMillis: 10_000,
      ...(endpoints.gzip ? { compression: CompressionAlgorithm.GZIP } : {}),
      ...(tls ? { credentials: credentials.createSsl(tls.ca, tls.key ?? null, tls.cert ?? null) } : {}),
    };
    if (signal === 'logs') return new GrpcLogExporter(config) as unknown as AnyExporter;
    if (signal === 'metrics') return new GrpcMetricExporter(config) as unknown as AnyExporter;
    return new GrpcTraceExporter(config) as unknown as AnyExporter;
  }
  const path = signal === 'traces' ? 'traces' : signal;
  const config = {
    url: `${endpoints.http}/v1/${path}`, headers, timeoutMillis: 10_000,
    ...(endpoints.gzip ? { compression: CompressionAlgorithm.GZIP } : {}),
    ...(endpoints.tls ? { httpAgentOptions: { ca: endpoints.tls.ca, ...(endpoints.tls.cert ? { cert: endpoints.tls.cert, key: endpoints.tls.key } : {}) } } : {}),
  };
  const json = protocol === 'http/json';
  if (signal === 'logs') return (json ? new HttpLogExporter(config) : new ProtoLogExporter(config)) as unknown as AnyExporter;
  if (signal === 'metrics') return (json ? new HttpMetricExporter(config) : new ProtoMetricExporter(config)) as unknown as AnyExporter;
  return (json ? new HttpTraceExporter(config) : new ProtoTraceExporter(config)) as unknown as AnyExporter;
}

async function send(exporter: AnyExporter, items: unknown): Promise<SendResult> {
  try {
    return await new Promise<SendResult>((resolve) =>
      exporter.export(items, (r) => resolve(r.code === 0 ? { ok: true } : { ok: false, error: r.error as SendResult['error'] })),
    );
  } finally {
    await exporter.shutdown();
  }
}

export interface LogSpec {
  body: string;
  attributes: Record<string, string | number | boolean>;
  /** ms since epoch; default now. */
  time?: number;
}

export async function sendLogs(protocol: OtlpProtocol, endpoints: Endpoints, token: string | null, resource: Record<string, string>, logs: LogSpec[]): Promise<SendResult> {
  const memory = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({ resource: resourceFromAttributes(resource), processors: [new SimpleLogRecordProcessor({ exporter: memory })] });
  const logger = provider.getLogger('com.anthropic.claude_code.events', '2.1.330');
  for (const l of logs) {
    logger.emit({ body: l.body, attributes: l.attributes, timestamp: l.time ?? Date.now(), severityNumber: SeverityNumber.UNSPECIFIED });
  }
  await provider.forceFlush();
  const records = memory.getFinishedLogRecords();
  await provider.shutdown();
  return send(exporterFor('logs', protocol, endpoints, token), records);
}

export interface CounterSpec {
  name: string;
  unit?: string;
  points: { value: number; attributes: Record<string, string> }[];
}

export async function sendMetrics(
  protocol: OtlpProtocol, endpoints: Endpoints, token: string | null, resource: Record<string, string>,
  counters: CounterSpec[], temporality: 'delta' | 'cumulative' = 'delta',
): Promise<SendResult> {
  const memory = new InMemoryMetricExporter(temporality === 'delta' ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter: memory, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ resource: resourceFromAttributes(resource), readers: [reader] });
  const meter = provider.getMeter('com.anthropic.claude_code', '2.1.330');
  for (const c of counters) {
    const counter = meter.createCounter(c.name, c.unit ? { unit: c.unit } : {});
    for (const p of c.points) counter.add(p.value, p.attributes);
  }
  const { resourceMetrics } = await reader.collect();
  await provider.shutdown();
  return send(exporterFor('metrics', protocol, endpoints, token), resourceMetrics);
}

export async function sendSpans(protocol: OtlpProtocol, endpoints: Endpoints, token: string | null, resource: Record<string, string>, names: string[], attributes: Record<string, string>): Promise<SendResult> {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ resource: resourceFromAttributes(resource), spanProcessors: [new SimpleSpanProcessor(memory)] });
  const tracer = provider.getTracer('com.anthropic.claude_code.tracing');
  for (const name of names) tracer.startSpan(name, { attributes }).end();
  await provider.forceFlush();
  const spans = memory.getFinishedSpans();
  await provider.shutdown();
  return send(exporterFor('traces', protocol, endpoints, token), spans);
}
