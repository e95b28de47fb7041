import { type GoalVerdict, INGEST_GOALS, type OverloadFigures, roundsOf } from './ingest-goals.js';
import type { PhaseResult } from './phase.js';
import { fmt, median, table } from './report.js';

export interface IngestReport {
  machine: { cpus: number; cpuModel: string; memoryGb: number; kernel: string; node: string };
  results: PhaseResult[];
  overload: OverloadFigures | null;
  check: { ackedDurable: number; stored: number; storedEvents: number; storedPoints: number; equal: boolean; uncertain: number };
  databaseMb: number;
  goals: GoalVerdict[];
}

const out = (s = '') => process.stdout.write(`${s}\n`);

/** The tables bench-ingest prints. */
export function printIngestReport(r: IngestReport): void {
  const m = r.machine;
  out('("other CPU": everything else on the machine in the window, e.g. the idle server and other jobs: a noise indicator)');
  out(`\nMachine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGb} GB, ${m.kernel}, Node ${m.node} (load generator on the same machine)\n`);
  const max = r.results.filter((x) => x.name.startsWith('max '));
  out(table(
    ['phase', 'records/s', 'log rec/s', 'req/s', 'rec/req', 'p50 ms', 'p99 ms', 'server CPU s', 'PG CPU s', 'gen CPU s', 'other CPU s', 'machine busy %', 'peak RSS MB', 'heap / ext MB', 'refused', 'errors'],
    max.map((x) => [x.name.slice(4), x.recordsPerSecond, x.logRecordsPerSecond, x.requestsPerSecond, x.recordsPerRequest, x.p50Ms, x.p99Ms,
      x.serverCpuSeconds, x.postgresCpuSeconds, x.generatorCpuSeconds,
      x.machineBusySeconds - x.serverCpuSeconds - x.postgresCpuSeconds - x.generatorCpuSeconds, (100 * x.machineBusySeconds) / (x.seconds * r.machine.cpus), x.serverPeakRssMb,
      `${fmt(x.serverPeakHeapMb)} / ${fmt(x.serverPeakExternalMb)}`, x.retryableRefusals, x.errors]),
  ));
  const protocols = [...new Set(max.map((x) => x.protocol))];
  out('');
  out(table(['protocol (median of rounds)', 'durable rec/s', 'ceiling rec/s', 'durable/ceiling', 'each round', 'server CPU µs/rec durable', 'µs/rec ceiling'],
    protocols.map((p) => {
      const rounds = roundsOf(max, p);
      const perRec = (x: PhaseResult) => (x.serverCpuSeconds / (x.recordsPerSecond * x.seconds)) * 1e6;
      return [p, median(rounds.map((x) => x.durable.recordsPerSecond)), median(rounds.map((x) => x.ceiling.recordsPerSecond)),
        median(rounds.map((x) => x.ratio)).toFixed(2), rounds.map((x) => x.ratio.toFixed(2)).join(' / '),
        median(rounds.map((x) => perRec(x.durable))), median(rounds.map((x) => perRec(x.ceiling)))];
    })));
  out('');
  out(table(['phase: p50 / p99 ms by export size (requests)', ...(r.results[0]?.bySize.map((b) => `${b.records} rec`) ?? []),
    'event-loop delay p50 / p99 / max ms'],
  r.results.map((x) => [x.name, ...x.bySize.map((b) => `${fmt(b.p50Ms)} / ${fmt(b.p99Ms)} (${b.requests})`),
    `${fmt(x.eventLoopDelay.p50Ms)} / ${fmt(x.eventLoopDelay.p99Ms)} / ${fmt(x.eventLoopDelay.maxMs)}`])));
  out('');
  out(table(['phase: PostgreSQL during the window', 'autovacuum running', 'receiver conns active', 'their waits', 'checkpoints'],
    r.results.filter((x) => x.server !== 'decode-only').map((x) => [x.name, `${fmt(100 * x.postgres.autovacuumShare)}%`, x.postgres.activeConnections,
      x.postgres.waits.map((w) => `${w.wait} ${fmt(100 * w.share)}%`).join(', '), x.postgres.checkpoints])));
  const others = r.results.filter((x) => !x.name.startsWith('max '));
  if (others.length > 0) {
    out('');
    out(table(['phase', 'target rec/s', 'acked rec/s', 'p50 ms', 'p99 ms', 'peak RSS MB', 'heap / ext MB', 'refused (retried)', 'refusal p50 ms', 'abandoned', 'skipped rec', 'errors'],
      others.map((x) => [x.name, x.targetRecordsPerSecond ?? Number.NaN, x.recordsPerSecond, x.p50Ms, x.p99Ms, x.serverPeakRssMb,
        `${fmt(x.serverPeakHeapMb)} / ${fmt(x.serverPeakExternalMb)}`,
        `${x.retryableRefusals} ${JSON.stringify(x.refusalStatuses)}`, x.refusalP50Ms, x.abandonedRequests, x.skippedRecords, x.errors])));
  }
  if (r.overload) {
    out(`\nOverload server: MAX_INFLIGHT_BYTES ${r.overload.inflightMb} MiB, RETRY_AFTER_SECONDS 1; RSS at start ${fmt(r.overload.startRssMb)} MB, peak RSS over the overload and recovery phases ${fmt(r.overload.peakRssMb)} MB ` +
      `(${r.overload.peakRssMb < INGEST_GOALS.overloadRssMb ? 'under' : 'OVER'} ${INGEST_GOALS.overloadRssMb} MB)`);
  }
  const c = r.check;
  out(`\nCheck: durable servers acknowledged ${c.ackedDurable} records; the store holds ${c.stored} ` +
    `(${c.storedEvents} events + ${c.storedPoints} points): ${c.equal ? 'EQUAL' : 'MISMATCH'}` +
    (c.uncertain > 0 ? ` (${c.uncertain} requests ended in errors, their fate is unknown)` : ''));
  out(`Database size after the run: ${fmt(r.databaseMb)} MB\n`);
  out(table(['goal', 'measured', 'verdict'], r.goals.map((g) => [g.goal, g.measured, g.met ? 'met' : 'NOT MET'])));
  out('');
}
