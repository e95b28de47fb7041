import fs from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { openBenchDb } from './bench/bench-db.js';
import { buildServer } from './bench/build-server.js';
import { type OverloadFigures, judgeIngestGoals, roundsOf } from './bench/ingest-goals.js';
import { printIngestReport } from './bench/ingest-report.js';
import { type PhaseContext, type PhaseResult, runPhase, settle } from './bench/phase.js';
import { type ServerProc, type WorkerProc, startServer, startWorker } from './bench/processes.js';
import { machine, median, timestamp } from './bench/report.js';
import type { BenchProtocol } from './bench/senders.js';

/**
 * npm run bench:ingest — durable ingest against the decode-only ceiling, per protocol, in
 * one run; then latency at half the durable gRPC rate, an overload run at ~4× that rate,
 * and a check that the store holds exactly what was acknowledged. See --help.
 */

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '15' },
    warmup: { type: 'string', default: '3' },
    workers: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '3' },
    protocols: { type: 'string', default: 'grpc,http/protobuf,http/json' },
    seats: { type: 'string', default: '2000' },
    'max-batch': { type: 'string', default: '512' },
    'overload-factor': { type: 'string', default: '4' },
    'overload-inflight-mb': { type: 'string' },
    'no-half-rate': { type: 'boolean', default: false },
    'no-overload': { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  process.stdout.write(`usage: npm run bench:ingest -- [--duration s] [--warmup s] [--workers n] [--concurrency n per worker]
  [--protocols grpc,http/protobuf,http/json] [--rounds n (max-rate pairs per protocol, default 3)] [--seats n] [--max-batch n] [--overload-factor x]
  [--overload-inflight-mb n (default: the service's MAX_INFLIGHT_BYTES)] [--no-half-rate] [--no-overload] [--cpu-prof dir (both servers, compiled with esbuild)] [--keep (temp dir)]
environment: BENCH_NODE_FLAGS="--trace-gc …" passes Node flags to the servers (their output goes to the kept logs/)\n`);
  process.exit(0);
}
const num = (s: string | undefined) => Number(s);
const durationMs = num(args.duration) * 1000;
const warmupMs = num(args.warmup) * 1000;
const workerCount = num(args.workers);
const concurrency = num(args.concurrency);
const protocols = (args.protocols ?? '').split(',').map((p) => p.trim()) as BenchProtocol[];
const seats = num(args.seats);

const began = Date.now();
const log = (s: string) => process.stdout.write(`[${((Date.now() - began) / 1000).toFixed(0).padStart(4)} s] ${s}\n`);

const db = await openBenchDb('bench-ingest');
log(`embedded PostgreSQL in ${db.dataDir}`);
const logDir = path.join(db.dataDir, 'logs');
await fs.mkdir(logDir, { recursive: true });
const common = { databaseUrl: db.url, dataDir: db.dataDir };

const workers: WorkerProc[] = await Promise.all(Array.from({ length: workerCount }, (_, i) => startWorker({
  type: 'init', workerId: i, tenantId: db.tenantId, token: db.token,
  firstSeat: i * Math.ceil(seats / workerCount), seats: Math.ceil(seats / workerCount), sessionsPerSeat: 3,
  maxBatch: num(args['max-batch']), logTemplates: 48, metricTemplates: 8,
  // Records go 30 min back from now, 1 µs apart; workers are 5 min apart, so times never collide.
  firstNs: String((BigInt(Date.now()) - 30n * 60_000n + BigInt(i) * 300_000n) * 1_000_000n),
  logsPerMetricExport: 8,
})));
const sizes = workers[0]?.ready.logBatchSizes ?? [];
log(`${workerCount} load workers ready; log batch sizes ${sizes[0]}…${sizes[sizes.length - 1]} ` +
  `(mean ${(sizes.reduce((a, b) => a + b, 0) / sizes.length).toFixed(0)}), metric exports of ` +
  `${workers[0]?.ready.metricPoints.join('/')} points`);

const profiled = args['cpu-prof']
  ? { cpuProfDir: path.resolve(args['cpu-prof']), compiledEntry: await buildServer(process.cwd()) }
  : {};
const durable = await startServer({ ...common, name: 'durable', decodeOnly: false, logFile: path.join(logDir, 'durable.log'), ...profiled });
const ceiling = await startServer({ ...common, name: 'decode-only', decodeOnly: true, logFile: path.join(logDir, 'decode-only.log'), ...profiled });
log(`servers started; RSS at start: durable ${durable.startRssMb.toFixed(0)} MB (pid ${durable.pid}), ` +
  `decode-only ${ceiling.startRssMb.toFixed(0)} MB (pid ${ceiling.pid})`);
const ctx = (server: ServerProc): PhaseContext => ({ server, workers, postmasterPid: db.postmasterPid, pool: db.store.pool });
const phase = { warmupMs, durationMs, drainMs: 30_000, concurrency, maxOutstanding: 256, largeOnly: false };

const results: PhaseResult[] = [];
const run = async (server: ServerProc, input: Parameters<typeof runPhase>[1]) => {
  await settle(ctx(server));
  log(`${input.name} …`);
  const r = await runPhase(ctx(server), input);
  log(`${input.name}: ${Math.round(r.recordsPerSecond)} records/s, p99 ${r.p99Ms.toFixed(1)} ms, ` +
    `server CPU ${r.serverCpuSeconds.toFixed(1)} s, PostgreSQL CPU ${r.postgresCpuSeconds.toFixed(1)} s, peak RSS ${r.serverPeakRssMb.toFixed(0)} MB` +
    (r.retryableRefusals + r.errors > 0 ? `, ${r.retryableRefusals} refusals, ${r.errors} errors ${r.firstError ?? ''}` : ''));
  results.push(r);
  return r;
};

// The machine's speed drifts by ±25 % over minutes (other guests on the host), so each
// protocol is measured in rounds: the durable server and the ceiling back to back, in
// alternating order, and the goals take the median of the rounds' ratios.
const rounds = num(args.rounds);
for (const protocol of protocols) {
  for (let round = 1; round <= rounds; round++) {
    const suffix = rounds > 1 ? ` #${round}` : '';
    const pair: [ServerProc, string][] = [[ceiling, 'decode-only'], [durable, 'durable']];
    if (round % 2 === 0) pair.reverse();
    for (const [server, label] of pair) await run(server, { ...phase, name: `max ${label} ${protocol}${suffix}`, protocol, mode: 'closed' });
  }
}
const grpcRounds = roundsOf(results, 'grpc');
const durableRounds = grpcRounds.length > 0 ? grpcRounds : roundsOf(results, protocols[0] ?? 'grpc');
const sustainable = median(durableRounds.map((r) => r.durable.recordsPerSecond));
if (!args['no-half-rate'] && durableRounds.length > 0) {
  await run(durable, { ...phase, name: 'half-rate durable grpc', protocol: 'grpc', mode: 'open', recordsPerSecond: sustainable / 2 });
}
const servers = [await durable.stop(), await ceiling.stop()];
log(`servers stopped (lifetime CPU ${servers.map((s) => s.cpuSeconds.toFixed(0)).join(' / ')} s)`);

let overload: OverloadFigures | null = null;
if (!args['no-overload'] && sustainable > 0) {
  // The service's own MAX_INFLIGHT_BYTES unless --overload-inflight-mb says otherwise.
  const inflightMb = args['overload-inflight-mb'] === undefined ? loadConfig({}).MAX_INFLIGHT_BYTES / 1048576 : num(args['overload-inflight-mb']);
  const server = await startServer({ ...common, name: 'durable-overload', decodeOnly: false, logFile: path.join(logDir, 'overload.log'),
    env: { MAX_INFLIGHT_BYTES: String(inflightMb * 1024 * 1024), RETRY_AFTER_SECONDS: '1' } });
  log(`overload server RSS at start: ${server.startRssMb.toFixed(0)} MB (pid ${server.pid})`);
  const factor = num(args['overload-factor']);
  const over = await run(server, { ...phase, name: `overload ${factor}x durable grpc`, protocol: 'grpc', mode: 'open',
    recordsPerSecond: sustainable * factor, largeOnly: true, maxOutstanding: 512, drainMs: 20_000 });
  const recovery = await run(server, { ...phase, name: 'recovery durable grpc (after overload)', protocol: 'grpc', mode: 'open',
    recordsPerSecond: sustainable / 2, durationMs: Math.min(durationMs, 10_000), warmupMs: 0 });
  await server.stop();
  // Each phase resets the kernel's high-water mark (VmHWM, which getrusage's maxRSS also reads), so the
  // process's own "lifetime" maximum only covers the last phase: the peak is the larger of the two phases'.
  overload = { inflightMb, startRssMb: server.startRssMb, peakRssMb: Math.max(over.serverPeakRssMb, recovery.serverPeakRssMb) };
}
for (const w of workers) w.exit();

const stored = await db.countRecords();
const storedTotal = stored.events + stored.points + stored.spans;
const acked = results.filter((r) => r.server !== 'decode-only').reduce((n, r) => n + r.ackedRecords, 0);
const uncertain = results.reduce((n, r) => n + r.errors, 0);
const diskMb = await db.diskMb();
const report = {
  machine: machine(),
  startedAt: new Date(began).toISOString(),
  options: { ...args, protocols },
  loadShape: { logBatchSizes: sizes, metricPointsPerExport: workers[0]?.ready.metricPoints, seats, sessionsPerSeat: 3 },
  serverStartRssMb: { durable: durable.startRssMb, decodeOnly: ceiling.startRssMb },
  results,
  overload,
  check: { ackedDurable: acked, stored: storedTotal, storedEvents: stored.events, storedPoints: stored.points, equal: acked === storedTotal, uncertain },
  databaseMb: diskMb,
  goals: judgeIngestGoals(results, overload),
};
printIngestReport(report);
await fs.mkdir('bench-results', { recursive: true });
const file = path.join('bench-results', `ingest-${timestamp()}.json`);
await fs.writeFile(file, JSON.stringify(report, null, 2));
log(`results written to ${file}`);
await db.close({ keep: args.keep });
if (!report.check.equal) {
  process.stderr.write(`\nCHECK FAILED: the store holds ${storedTotal} records, the durable servers acknowledged ${acked}\n`);
  process.exit(1);
}
process.exit(0);
