import type { Signal } from '../../src/otlp/types.js';
import type { PhaseSpec, PhaseStats, WorkerInit, WorkerMessage } from './messages.js';
import { createRng, type Rng } from './rng.js';
import { createSender, type Sender } from './senders.js';
import { type Encoding, SEAT_DIGITS, type Template, logTemplates, materialize, metricTemplates } from './templates.js';

/**
 * A load-generator process (forked by bench-ingest): builds its requests once at init,
 * then runs phases on command and reports what the server acknowledged.
 */

const STEP_NS = 1000n;
const METRIC_INTERVAL_NS = 60_000_000_000n;

interface Built {
  init: WorkerInit;
  rng: Rng;
  logs: Record<Encoding, Template>[];
  large: Record<Encoding, Template>[];
  metrics: Record<Encoding, Template>[];
  seatDigits: Buffer[];
  sessions: Buffer[][];
  nextNs: bigint;
}

const send = (m: WorkerMessage) => process.send?.(m);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function build(init: WorkerInit): Built {
  const rng = createRng(0x5eed + init.workerId * 7919);
  // Log-uniform sizes from 1 to maxBatch: many small exports, some full 512-record batches.
  const sizes = Array.from({ length: init.logTemplates }, (_, i) =>
    Math.max(1, Math.round(init.maxBatch ** (i / Math.max(1, init.logTemplates - 1)))));
  const logs = sizes.map((n) => logTemplates(rng, init.tenantId, n));
  const large = Array.from({ length: 4 }, () => logTemplates(rng, init.tenantId, init.maxBatch));
  const metrics = Array.from({ length: init.metricTemplates }, () => metricTemplates(rng, init.tenantId));
  const seatDigits = Array.from({ length: init.seats }, (_, i) => Buffer.from(String(init.firstSeat + i).padStart(SEAT_DIGITS, '0')));
  const sessions = seatDigits.map(() => Array.from({ length: init.sessionsPerSeat }, () => Buffer.from(rng.uuid())));
  return { init, rng, logs, large, metrics, seatDigits, sessions, nextNs: BigInt(init.firstNs) };
}

interface Request {
  signal: Signal;
  body: Buffer;
  records: number;
}

function nextRequest(b: Built, encoding: Encoding, count: number, largeOnly: boolean): Request {
  const metric = !largeOnly && count % (b.init.logsPerMetricExport + 1) === b.init.logsPerMetricExport;
  const t = (metric ? b.rng.pick(b.metrics) : b.rng.pick(largeOnly ? b.large : b.logs))[encoding];
  const seat = b.rng.int(0, b.seatDigits.length - 1);
  const firstNs = b.nextNs;
  b.nextNs += BigInt(t.records) * STEP_NS;
  const body = materialize(t, {
    seat: b.seatDigits[seat] as Buffer,
    session: b.rng.pick(b.sessions[seat] as Buffer[]),
    firstNs,
    stepNs: STEP_NS,
    intervalNs: METRIC_INTERVAL_NS,
  });
  return { signal: t.signal, body, records: t.records };
}

function emptyStats(worker: number): PhaseStats {
  return {
    worker, attempts: 0, ok: 0, partial: 0, retryable: 0, retryStatuses: {}, errors: 0, firstError: null, abandoned: 0,
    skippedRecords: 0, ackedRecords: 0, ackedLogRecords: 0, ackedPoints: 0, windowRecords: 0, windowLogRecords: 0,
    windowRequests: 0, latenciesMs: [], latencyRecords: [], refusalLatenciesMs: [], recordsPerRequest: 0,
  };
}

async function runPhase(b: Built, spec: PhaseSpec): Promise<PhaseStats> {
  const stats = emptyStats(b.init.workerId);
  const encoding: Encoding = spec.protocol === 'http/json' ? 'json' : 'protobuf';
  const sender: Sender = createSender(spec.protocol, spec.ports, b.init.token, spec.concurrency);
  const measureFrom = spec.startAt + spec.warmupMs;
  const endAt = measureFrom + spec.durationMs;
  const inWindow = (t: number) => t >= measureFrom && t <= endAt;
  let count = 0;

  const exportOne = async (r: Request): Promise<void> => {
    for (;;) {
      const began = performance.now();
      const out = await sender.send(r.signal, r.body);
      const ms = performance.now() - began;
      const now = Date.now();
      stats.attempts++;
      if (out.kind === 'ok') {
        stats.ok++;
        if (out.rejected > 0) stats.partial++;
        const accepted = r.records - out.rejected;
        stats.ackedRecords += accepted;
        if (r.signal === 'logs') stats.ackedLogRecords += accepted;
        else stats.ackedPoints += accepted;
        if (inWindow(now)) {
          stats.windowRecords += accepted;
          if (r.signal === 'logs') stats.windowLogRecords += accepted;
          stats.windowRequests++;
          stats.latenciesMs.push(ms);
          stats.latencyRecords.push(r.records);
        }
        return;
      }
      if (out.kind === 'error') {
        stats.errors++;
        stats.firstError ??= out.message;
        return;
      }
      stats.retryable++;
      stats.retryStatuses[out.status] = (stats.retryStatuses[out.status] ?? 0) + 1;
      if (inWindow(now)) stats.refusalLatenciesMs.push(ms);
      // Exporters add jitter so refused clients do not come back in lockstep.
      const delay = out.delayMs * (0.8 + 0.4 * Math.random());
      if (now + delay > endAt + spec.drainMs) {
        stats.abandoned++;
        return;
      }
      await sleep(delay);
    }
  };

  await sleep(Math.max(0, spec.startAt - Date.now()));
  if (spec.mode === 'closed') {
    await Promise.all(Array.from({ length: spec.concurrency }, async () => {
      while (Date.now() < endAt) await exportOne(nextRequest(b, encoding, count++, spec.largeOnly));
    }));
  } else {
    let outstanding = 0;
    let sent = 0;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const now = Date.now();
        if (now >= endAt) {
          clearInterval(timer);
          resolve();
          return;
        }
        const due = (spec.recordsPerSecond * (now - spec.startAt)) / 1000;
        while (sent < due) {
          if (outstanding >= spec.maxOutstanding) {
            stats.skippedRecords += Math.ceil(due - sent);
            sent = due;
            break;
          }
          const r = nextRequest(b, encoding, count++, spec.largeOnly);
          sent += r.records;
          outstanding++;
          void exportOne(r).finally(() => outstanding--);
        }
      }, 5);
    });
    while (outstanding > 0) await sleep(20);
  }
  sender.close();
  stats.recordsPerRequest = stats.windowRequests === 0 ? 0 : stats.windowRecords / stats.windowRequests;
  return stats;
}

let built: Built | null = null;
process.on('message', (m: WorkerInit | PhaseSpec | { type: 'exit' }) => {
  void (async () => {
    try {
      if (m.type === 'init') {
        built = build(m);
        send({
          type: 'ready',
          logBatchSizes: built.logs.map((t) => t.protobuf.records),
          metricPoints: built.metrics.map((t) => t.protobuf.records),
          logBytes: built.logs.map((t) => t.protobuf.bytes.length),
        });
      } else if (m.type === 'run') {
        if (!built) throw new Error('run before init');
        send({ type: 'result', stats: await runPhase(built, m) });
      } else {
        process.exit(0);
      }
    } catch (e) {
      send({ type: 'failed', message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    }
  })();
});
