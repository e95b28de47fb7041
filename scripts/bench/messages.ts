import type { BenchProtocol } from './senders.js';

/** Messages between bench-ingest and its load-generator processes. */

export interface WorkerInit {
  type: 'init';
  workerId: number;
  tenantId: string;
  token: string;
  /** Seats [firstSeat, firstSeat + seats) belong to this worker; each has `sessionsPerSeat` sessions. */
  firstSeat: number;
  seats: number;
  sessionsPerSeat: number;
  /** Log batch sizes run from 1 to this, log-uniformly. */
  maxBatch: number;
  logTemplates: number;
  metricTemplates: number;
  /** Time of the worker's first record; records are 1 µs apart. */
  firstNs: string;
  /** One metric export per this many log exports (Claude Code: logs every 5 s, metrics every 60 s). */
  logsPerMetricExport: number;
}

export interface PhaseSpec {
  type: 'run';
  name: string;
  protocol: BenchProtocol;
  ports: { grpc: number; http: number };
  /** closed: `concurrency` clients each waiting for their answer; open: sends at `recordsPerSecond` whatever the answers. */
  mode: 'closed' | 'open';
  concurrency: number;
  recordsPerSecond: number;
  /** Open mode: requests outstanding at most (new ones are skipped past it). */
  maxOutstanding: number;
  /** Only the largest log batches (overload). */
  largeOnly: boolean;
  /** Epoch ms: warm-up begins; measuring begins at startAt + warmupMs and ends durationMs later. */
  startAt: number;
  warmupMs: number;
  durationMs: number;
  /** After the end, how long outstanding requests may keep retrying before they are abandoned. */
  drainMs: number;
}

export interface PhaseStats {
  worker: number;
  /** Export attempts, and their outcomes. */
  attempts: number;
  ok: number;
  partial: number;
  retryable: number;
  retryStatuses: Record<string, number>;
  errors: number;
  firstError: string | null;
  /** Requests given up after drainMs (never acknowledged). */
  abandoned: number;
  /** Open mode: records not sent because maxOutstanding was reached. */
  skippedRecords: number;
  /** Records the server acknowledged (OK, minus partial rejects), warm-up and drain included. */
  ackedRecords: number;
  ackedLogRecords: number;
  ackedPoints: number;
  /** The same, only for answers within the measuring window. */
  windowRecords: number;
  windowLogRecords: number;
  windowRequests: number;
  /** Export latency (ms) of acknowledged attempts answered within the window. */
  latenciesMs: number[];
  /** Records in the request of each latenciesMs entry. */
  latencyRecords: number[];
  /** Latency (ms) of attempts answered with a retryable status within the window. */
  refusalLatenciesMs: number[];
  /** Acknowledged requests by batch size, to report the load's shape. */
  recordsPerRequest: number;
}

export type WorkerMessage =
  | { type: 'ready'; logBatchSizes: number[]; metricPoints: number[]; logBytes: number[] }
  | { type: 'result'; stats: PhaseStats }
  | { type: 'failed'; message: string };
