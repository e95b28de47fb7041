import http from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { grpcServiceNames, protoRoot, responseType } from '../../src/otlp/proto.js';
import type { Signal } from '../../src/otlp/types.js';

/** One export attempt's outcome, as an OTLP exporter sees it. */
export type Outcome =
  | { kind: 'ok'; rejected: number }
  /** UNAVAILABLE / RESOURCE_EXHAUSTED or 503 / 429: retry after the delay the server asked for. */
  | { kind: 'retry'; delayMs: number; status: string }
  | { kind: 'error'; message: string };

export type BenchProtocol = 'grpc' | 'http/protobuf' | 'http/json';

export interface Sender {
  send(signal: Signal, body: Buffer): Promise<Outcome>;
  close(): void;
}

const DEFAULT_RETRY_MS = 1000;
const TIMEOUT_MS = 120_000;
const REJECTED_FIELD: Record<Signal, string> = { logs: 'rejectedLogRecords', metrics: 'rejectedDataPoints', traces: 'rejectedSpans' };

function rejectedIn(signal: Signal, body: Buffer, json: boolean): number {
  if (body.length === 0) return 0;
  const parsed = json
    ? (JSON.parse(body.toString('utf8')) as { partialSuccess?: Record<string, unknown> })
    : (responseType(signal).toObject(responseType(signal).decode(body), { longs: Number }) as { partialSuccess?: Record<string, unknown> });
  return Number(parsed.partialSuccess?.[REJECTED_FIELD[signal]] ?? 0);
}

const StatusType = protoRoot.lookupType('google.rpc.Status');
const RetryInfoType = protoRoot.lookupType('google.rpc.RetryInfo');

/** The RetryInfo delay in a grpc-status-details-bin trailer, if there is one. */
function retryDelayMs(metadata: grpc.Metadata | undefined): number {
  const bin = metadata?.get('grpc-status-details-bin')[0];
  if (!Buffer.isBuffer(bin)) return DEFAULT_RETRY_MS;
  const status = StatusType.toObject(StatusType.decode(bin), { longs: Number }) as { details?: { type_url: string; value: Uint8Array }[] };
  for (const d of status.details ?? []) {
    if (!d.type_url.endsWith('google.rpc.RetryInfo')) continue;
    const info = RetryInfoType.toObject(RetryInfoType.decode(d.value), { longs: Number }) as { retryDelay?: { seconds?: number; nanos?: number } };
    return (info.retryDelay?.seconds ?? 0) * 1000 + (info.retryDelay?.nanos ?? 0) / 1e6;
  }
  return DEFAULT_RETRY_MS;
}

/**
 * gRPC with raw bytes, over `connections` separate HTTP/2 connections (a local subchannel
 * pool each, as separate Claude Code processes would have), used round robin.
 */
export function grpcSender(port: number, token: string, connections: number): Sender {
  const clients = Array.from({ length: connections }, () =>
    new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }));
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  let next = 0;
  return {
    send(signal, body) {
      const client = clients[next++ % clients.length] as grpc.Client;
      return new Promise((resolve) => {
        client.makeUnaryRequest(`/${grpcServiceNames[signal]}/Export`, (b: Buffer) => b, (b: Buffer) => b, body, metadata,
          { deadline: Date.now() + TIMEOUT_MS }, (err, response) => {
            if (!err) return resolve({ kind: 'ok', rejected: rejectedIn(signal, response ?? Buffer.alloc(0), false) });
            if (err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.RESOURCE_EXHAUSTED) {
              return resolve({ kind: 'retry', delayMs: retryDelayMs(err.metadata), status: grpc.status[err.code] });
            }
            resolve({ kind: 'error', message: `${grpc.status[err.code]}: ${err.details}` });
          });
      });
    },
    close: () => clients.forEach((c) => c.close()),
  };
}

const PATHS: Record<Signal, string> = { logs: '/v1/logs', metrics: '/v1/metrics', traces: '/v1/traces' };

/** OTLP/HTTP over keep-alive connections, at most `connections` at once. */
export function httpSender(port: number, token: string, connections: number, json: boolean): Sender {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const contentType = json ? 'application/json' : 'application/x-protobuf';
  return {
    send(signal, body) {
      return new Promise((resolve) => {
        const req = http.request({
          host: '127.0.0.1', port, path: PATHS[signal], method: 'POST', agent, timeout: TIMEOUT_MS,
          headers: { 'content-type': contentType, 'content-length': body.length, authorization: `Bearer ${token}` },
        }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const payload = Buffer.concat(chunks);
            const code = res.statusCode ?? 0;
            if (code === 200) return resolve({ kind: 'ok', rejected: rejectedIn(signal, payload, json) });
            if (code === 503 || code === 429) {
              const after = Number(res.headers['retry-after']);
              return resolve({ kind: 'retry', delayMs: Number.isFinite(after) ? after * 1000 : DEFAULT_RETRY_MS, status: String(code) });
            }
            resolve({ kind: 'error', message: `HTTP ${code}: ${payload.toString('utf8').slice(0, 200)}` });
          });
          res.on('error', (e) => resolve({ kind: 'error', message: e.message }));
        });
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', (e) => resolve({ kind: 'error', message: e.message }));
        req.end(body);
      });
    },
    close: () => agent.destroy(),
  };
}

export function createSender(protocol: BenchProtocol, ports: { grpc: number; http: number }, token: string, connections: number): Sender {
  if (protocol === 'grpc') return grpcSender(ports.grpc, token, connections);
  return httpSender(ports.http, token, connections, protocol === 'http/json');
}
