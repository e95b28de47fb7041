import * as grpc from '@grpc/grpc-js';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter as GrpcLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, type ReadableLogRecord, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import pg from 'pg';
import { protoRoot } from '../../src/otlp/proto.js';

/**
 * Uniquely numbered Claude Code prompt events for the fault tests. A batch is built
 * once and kept: resending it sends the very same records (same timestamps, same
 * observed time), as an exporter's retry would, so the receiver's ids match and a
 * repeated delivery is stored once.
 */

export const resource = { 'service.name': 'claude-code' };
export type FaultProtocol = 'grpc' | 'http/protobuf';

export interface Batch {
  seqs: string[];
  records: ReadableLogRecord[];
}

export function buildBatch(seqs: string[], email = 'fault@example.com'): Batch {
  const memory = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({ resource: resourceFromAttributes(resource), processors: [new SimpleLogRecordProcessor({ exporter: memory })] });
  const logger = provider.getLogger('com.anthropic.claude_code.events', '2.1.330');
  const now = Date.now();
  for (const seq of seqs) logger.emit(promptRecord(seq, email, now));
  const records = memory.getFinishedLogRecords();
  void provider.shutdown();
  return { seqs, records };
}

/** One prompt event; `seq` is the record's number. */
export function promptRecord(seq: string, email: string, time = Date.now()) {
  return {
    body: 'claude_code.user_prompt',
    attributes: { seq, 'event.name': 'user_prompt', 'session.id': `session-${seq.split('-')[0] ?? 'x'}`, 'user.email': email, prompt_length: 42 },
    timestamp: time,
    observedTimestamp: time,
    severityNumber: SeverityNumber.UNSPECIFIED,
  };
}

export interface LogExporter {
  export(records: ReadableLogRecord[], cb: (r: { code: number; error?: Error }) => void): void;
  shutdown(): Promise<void>;
}

/** A real OTLP log exporter; http/protobuf retries 429/502/503/504 and network errors itself within timeoutMillis. */
export function logExporter(protocol: FaultProtocol, urls: { grpc: string; http: string }, token: string, timeoutMillis: number): LogExporter {
  if (protocol === 'grpc') {
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${token}`);
    return new GrpcLogExporter({ url: urls.grpc, metadata, timeoutMillis }) as unknown as LogExporter;
  }
  return new ProtoLogExporter({ url: `${urls.http}/v1/logs`, headers: { Authorization: `Bearer ${token}` }, timeoutMillis }) as unknown as LogExporter;
}

export type ExportOutcome = { ok: true } | { ok: false; error: string };

export function exportBatch(exporter: LogExporter, batch: Batch): Promise<ExportOutcome> {
  return new Promise((resolve) =>
    exporter.export(batch.records, (r) => resolve(r.code === 0 ? { ok: true } : { ok: false, error: String(r.error?.message ?? r.error) })),
  );
}

/** The OTLP protobuf request the exporters send for these records. */
export function requestBytes(batch: Batch): Buffer {
  const bytes = ProtobufLogsSerializer.serializeRequest(batch.records);
  if (!bytes) throw new Error('serializer returned nothing');
  return Buffer.from(bytes);
}

/** What one raw request was answered: HTTP status or gRPC code, and the retry delay the server asked for. */
export interface RawAnswer {
  ok: boolean;
  /** HTTP status, or gRPC status code name. */
  status: string;
  /** Seconds from Retry-After or RetryInfo, if given. */
  retryAfter: number | null;
  startedAt: number;
  endedAt: number;
}

export async function postRaw(httpUrl: string, token: string, body: Buffer): Promise<RawAnswer> {
  const startedAt = Date.now();
  try {
    const res = await fetch(`${httpUrl}/v1/logs`, {
      method: 'POST', body: new Uint8Array(body), headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${token}` },
    });
    await res.arrayBuffer();
    const ra = res.headers.get('retry-after');
    return { ok: res.status === 200, status: String(res.status), retryAfter: ra === null ? null : Number(ra), startedAt, endedAt: Date.now() };
  } catch (e) {
    return { ok: false, status: `network: ${(e as { cause?: { code?: string } }).cause?.code ?? String(e)}`, retryAfter: null, startedAt, endedAt: Date.now() };
  }
}

/** A raw unary LogsService/Export call on a client the caller keeps (one HTTP/2 connection, as an exporter has). */
export function grpcRaw(client: grpc.Client, token: string, body: Buffer): Promise<RawAnswer> {
  const startedAt = Date.now();
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${token}`);
  return new Promise((resolve) =>
    client.makeUnaryRequest('/opentelemetry.proto.collector.logs.v1.LogsService/Export', (b: Buffer) => b, (b: Buffer) => b, body, md,
      { deadline: Date.now() + 15_000 }, (err) => {
        const endedAt = Date.now();
        if (!err) return resolve({ ok: true, status: 'OK', retryAfter: null, startedAt, endedAt });
        resolve({ ok: false, status: grpc.status[err.code] ?? String(err.code), retryAfter: retryInfoSeconds(err), startedAt, endedAt });
      }));
}

function retryInfoSeconds(err: grpc.ServiceError): number | null {
  const details = err.metadata?.get('grpc-status-details-bin')[0];
  if (!Buffer.isBuffer(details)) return null;
  const status = protoRoot.lookupType('google.rpc.Status').decode(details) as unknown as { details: { typeUrl?: string; type_url?: string; value: Uint8Array }[] };
  const info = status.details.find((d) => (d.typeUrl ?? d.type_url) === 'type.googleapis.com/google.rpc.RetryInfo');
  if (!info) return null;
  const decoded = protoRoot.lookupType('google.rpc.RetryInfo').decode(info.value) as unknown as { retryDelay?: { seconds?: number | { toNumber(): number } } };
  const s = decoded.retryDelay?.seconds ?? 0;
  return typeof s === 'number' ? s : s.toNumber();
}

/** How many times each seq is stored for the tenant. */
export async function storedSeqCounts(databaseUrl: string, tenant: string): Promise<Map<string, number>> {
  const client = new pg.Client(databaseUrl);
  await client.connect();
  try {
    const { rows } = await client.query<{ seq: string; n: string }>(
      `SELECT attributes::json->>'seq' AS seq, count(*) AS n FROM events WHERE tenant_id = $1 GROUP BY 1`, [tenant]);
    return new Map(rows.map((r) => [r.seq, Number(r.n)]));
  } finally {
    await client.end();
  }
}

export interface Figures {
  sent: number;
  acked: number;
  stored: number;
  lost: number;
  duplicates: number;
}

/** Compares what was acknowledged with what is stored. */
export function figures(sent: Iterable<string>, acked: Iterable<string>, stored: Map<string, number>): Figures & { lostSeqs: string[] } {
  const ackedSet = new Set(acked);
  const lostSeqs = [...ackedSet].filter((s) => !stored.has(s));
  return {
    sent: new Set(sent).size,
    acked: ackedSet.size,
    stored: stored.size,
    lost: lostSeqs.length,
    duplicates: [...stored.values()].filter((n) => n > 1).length,
    lostSeqs,
  };
}

const utcDay = (offsetDays: number) => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);

/** Runs the pipeline over yesterday and today (UTC) through the API and returns the rollup's prompts. */
export async function rollupPrompts(apiUrl: string, adminToken: string): Promise<number> {
  const from = utcDay(-1);
  const to = utcDay(0);
  const headers = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
  const run = await fetch(`${apiUrl}/api/v1/pipeline/runs`, { method: 'POST', headers, body: JSON.stringify({ from, to }) });
  if (run.status !== 200) throw new Error(`pipeline run answered ${run.status}: ${await run.text()}`);
  const res = await fetch(`${apiUrl}/api/v1/usage/daily?from=${from}&to=${to}&by=seat`, { headers });
  if (res.status !== 200) throw new Error(`usage answered ${res.status}: ${await res.text()}`);
  const body = (await res.json()) as { rows: { prompts?: number }[] };
  return body.rows.reduce((n, r) => n + (r.prompts ?? 0), 0);
}
