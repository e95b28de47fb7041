import type pg from 'pg';
import type { PhaseSpec, PhaseStats } from './messages.js';
import { type PgActivity, samplePgActivity } from './pg-activity.js';
import type { ServerProc, WorkerProc } from './processes.js';
import { cpuSeconds, peakRssMb, resetPeakRss, rssSampler, systemCpuSeconds, treeCpuSeconds } from './proc-stats.js';
import { percentile } from './report.js';

/** One measured phase: the workers load one server; the server, PostgreSQL and the workers are measured apart. */

export interface PhaseContext {
  server: ServerProc;
  workers: WorkerProc[];
  postmasterPid: number;
  /** For sampling pg_stat_activity during the window. */
  pool: pg.Pool;
}

export type PhaseInput = Omit<PhaseSpec, 'type' | 'ports' | 'startAt' | 'recordsPerSecond'> & {
  /** Open mode: the total rate, split evenly over the workers. */
  recordsPerSecond?: number;
};

export interface PhaseResult {
  name: string;
  server: string;
  protocol: string;
  mode: string;
  seconds: number;
  targetRecordsPerSecond: number | null;
  recordsPerSecond: number;
  logRecordsPerSecond: number;
  requestsPerSecond: number;
  recordsPerRequest: number;
  p50Ms: number;
  p99Ms: number;
  /** p50 / p99 by request size: exports of 1–16, 17–128 and 129+ records. */
  bySize: { records: string; requests: number; p50Ms: number; p99Ms: number }[];
  /** PostgreSQL activity within the window. */
  postgres: PgActivity;
  /** The server's event-loop delay within the window (ms). */
  eventLoopDelay: { p50Ms: number; p99Ms: number; maxMs: number };
  /** Peaks within the window: V8 heap in use, and memory outside it (Buffers). */
  serverPeakHeapMb: number;
  serverPeakExternalMb: number;
  /** CPU seconds within the measuring window. */
  serverCpuSeconds: number;
  postgresCpuSeconds: number;
  generatorCpuSeconds: number;
  /** Whole machine, within the window: CPU seconds busy (of cores × seconds available) and waiting on I/O. */
  machineBusySeconds: number;
  machineIowaitSeconds: number;
  /** Peak RSS over the phase (warm-up and drain included). */
  serverPeakRssMb: number;
  attempts: number;
  acknowledgedRequests: number;
  partialRequests: number;
  retryableRefusals: number;
  refusalStatuses: Record<string, number>;
  refusalP50Ms: number;
  errors: number;
  firstError: string | null;
  abandonedRequests: number;
  skippedRecords: number;
  /** All records acknowledged in the phase, warm-up and drain included (what the store must hold). */
  ackedRecords: number;
}

const sleepUntil = (t: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, t - Date.now())));

interface CpuSample {
  server: number;
  postgres: number;
  workers: number;
  machineBusy: number;
  machineIowait: number;
}

function sampleCpu(ctx: PhaseContext): CpuSample {
  return {
    server: cpuSeconds(ctx.server.pid),
    postgres: treeCpuSeconds(ctx.postmasterPid),
    workers: ctx.workers.reduce((s, w) => s + cpuSeconds(w.pid), 0),
    machineBusy: systemCpuSeconds().busy,
    machineIowait: systemCpuSeconds().iowait,
  };
}

/** Waits until the server and PostgreSQL are idle (e.g. autovacuum after a write phase), at most `maxMs`. */
export async function settle(ctx: PhaseContext, maxMs = 20_000): Promise<void> {
  const until = Date.now() + maxMs;
  while (Date.now() < until) {
    const a = sampleCpu(ctx);
    await new Promise((r) => setTimeout(r, 500));
    const b = sampleCpu(ctx);
    if (b.server - a.server + (b.postgres - a.postgres) < 0.05) return;
  }
}

const SIZE_CLASSES = [['1-16', 1, 16], ['17-128', 17, 128], ['129+', 129, Infinity]] as const;

function latencyBySize(stats: PhaseStats[]): PhaseResult['bySize'] {
  return SIZE_CLASSES.map(([records, lo, hi]) => {
    const ms = stats.flatMap((s) => s.latenciesMs.filter((_, i) => (s.latencyRecords[i] ?? 0) >= lo && (s.latencyRecords[i] ?? 0) <= hi));
    return { records, requests: ms.length, p50Ms: percentile(ms, 50), p99Ms: percentile(ms, 99) };
  });
}

export async function runPhase(ctx: PhaseContext, input: PhaseInput): Promise<PhaseResult> {
  const startAt = Date.now() + 300;
  const measureFrom = startAt + input.warmupMs;
  const endAt = measureFrom + input.durationMs;
  const perWorker = (input.recordsPerSecond ?? 0) / ctx.workers.length;
  const spec: PhaseSpec = { ...input, type: 'run', ports: ctx.server.ports, startAt, recordsPerSecond: perWorker };
  resetPeakRss(ctx.server.pid);
  const sampler = rssSampler(ctx.server.pid);
  const window = (async () => {
    await sleepUntil(measureFrom);
    const a = sampleCpu(ctx);
    ctx.server.resetEventLoopDelay();
    const activity = samplePgActivity(ctx.pool);
    await sleepUntil(endAt);
    const b = sampleCpu(ctx);
    const eventLoopDelay = await ctx.server.readEventLoopDelay();
    return {
      eventLoopDelay,
      pgActivity: await activity.stop(),
      server: b.server - a.server, postgres: b.postgres - a.postgres, workers: b.workers - a.workers,
      machineBusy: b.machineBusy - a.machineBusy, machineIowait: b.machineIowait - a.machineIowait,
    };
  })();
  const stats: PhaseStats[] = await Promise.all(ctx.workers.map((w) => w.run(spec)));
  const cpu = await window;
  const peak = Math.max(sampler.stop(), peakRssMb(ctx.server.pid));

  const sum = (f: (s: PhaseStats) => number) => stats.reduce((n, s) => n + f(s), 0);
  const seconds = input.durationMs / 1000;
  const latencies = stats.flatMap((s) => s.latenciesMs);
  const statuses: Record<string, number> = {};
  for (const s of stats) for (const [k, v] of Object.entries(s.retryStatuses)) statuses[k] = (statuses[k] ?? 0) + v;
  return {
    name: input.name,
    server: ctx.server.name,
    protocol: input.protocol,
    mode: input.mode,
    seconds,
    targetRecordsPerSecond: input.mode === 'open' ? (input.recordsPerSecond ?? 0) : null,
    recordsPerSecond: sum((s) => s.windowRecords) / seconds,
    logRecordsPerSecond: sum((s) => s.windowLogRecords) / seconds,
    requestsPerSecond: sum((s) => s.windowRequests) / seconds,
    recordsPerRequest: sum((s) => s.windowRecords) / Math.max(1, sum((s) => s.windowRequests)),
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    bySize: latencyBySize(stats),
    eventLoopDelay: { p50Ms: cpu.eventLoopDelay.p50Ms, p99Ms: cpu.eventLoopDelay.p99Ms, maxMs: cpu.eventLoopDelay.maxMs },
    serverPeakHeapMb: cpu.eventLoopDelay.peakHeapMb,
    serverPeakExternalMb: cpu.eventLoopDelay.peakExternalMb,
    postgres: cpu.pgActivity,
    serverCpuSeconds: cpu.server,
    postgresCpuSeconds: cpu.postgres,
    generatorCpuSeconds: cpu.workers,
    machineBusySeconds: cpu.machineBusy,
    machineIowaitSeconds: cpu.machineIowait,
    serverPeakRssMb: peak,
    attempts: sum((s) => s.attempts),
    acknowledgedRequests: sum((s) => s.ok),
    partialRequests: sum((s) => s.partial),
    retryableRefusals: sum((s) => s.retryable),
    refusalStatuses: statuses,
    refusalP50Ms: percentile(stats.flatMap((s) => s.refusalLatenciesMs), 50),
    errors: sum((s) => s.errors),
    firstError: stats.find((s) => s.firstError !== null)?.firstError ?? null,
    abandonedRequests: sum((s) => s.abandoned),
    skippedRecords: sum((s) => s.skippedRecords),
    ackedRecords: sum((s) => s.ackedRecords),
  };
}
