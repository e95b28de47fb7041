import type { PhaseResult } from './phase.js';
import { median } from './report.js';

/** The goals of the ingest benchmark on a 2-core machine, load generator included. */
export const INGEST_GOALS = {
  durableGrpcLogRecordsPerSecond: 50_000,
  durableToCeiling: 0.5,
  halfRateP99Ms: 50,
  peakRssMb: 300,
  overloadRssMb: 500,
} as const;

export interface GoalVerdict {
  goal: string;
  measured: string;
  met: boolean;
}

export interface OverloadFigures {
  inflightMb: number;
  startRssMb: number;
  /** Peak RSS of the overload server over the overload and recovery phases. */
  peakRssMb: number;
}

export interface Round {
  durable: PhaseResult;
  ceiling: PhaseResult;
  ratio: number;
}

/**
 * The max-rate rounds of a protocol: in each, the durable server and the decode-only ceiling
 * measured back to back (bench-ingest alternates which goes first), so each round's ratio
 * is taken at one speed of a machine whose speed drifts.
 */
export function roundsOf(results: readonly PhaseResult[], protocol: string): Round[] {
  const max = (server: string) => results.filter((r) => r.name.startsWith('max ') && r.server === server && r.protocol === protocol);
  const ceilings = max('decode-only');
  return max('durable').flatMap((durable, i) => {
    const ceiling = ceilings[i];
    return ceiling ? [{ durable, ceiling, ratio: durable.recordsPerSecond / ceiling.recordsPerSecond }] : [];
  });
}

/** Judges a run against INGEST_GOALS (medians over the rounds); a goal whose phase did not run is left out. */
export function judgeIngestGoals(results: PhaseResult[], overload: OverloadFigures | null): GoalVerdict[] {
  const g = INGEST_GOALS;
  const verdicts: GoalVerdict[] = [];
  const grpcRounds = roundsOf(results, 'grpc');
  if (grpcRounds.length > 0) {
    const logRate = median(grpcRounds.map((r) => r.durable.logRecordsPerSecond));
    verdicts.push({ goal: `durable gRPC log records/s >= ${g.durableGrpcLogRecordsPerSecond.toLocaleString('en-US')}`,
      measured: Math.round(logRate).toLocaleString('en-US'), met: logRate >= g.durableGrpcLogRecordsPerSecond });
  }
  for (const p of ['grpc', 'http/protobuf', 'http/json']) {
    const rounds = roundsOf(results, p);
    if (rounds.length === 0) continue;
    const ratio = median(rounds.map((r) => r.ratio));
    verdicts.push({ goal: `durable/ceiling ${p} >= ${g.durableToCeiling} (median of ${rounds.length} rounds)`, measured: ratio.toFixed(2),
      met: ratio >= g.durableToCeiling });
  }
  const half = results.find((r) => r.name.startsWith('half-rate'));
  if (half) {
    verdicts.push({ goal: `p99 export latency at half the max rate <= ${g.halfRateP99Ms} ms`, measured: `${half.p99Ms.toFixed(1)} ms`,
      met: half.p99Ms <= g.halfRateP99Ms && half.retryableRefusals === 0 && half.errors === 0 });
  }
  // The max-rate phase runs at (or above) the goal rate when the first goal is met; half rate is the other steady state.
  const steady = [...grpcRounds.map((r) => r.durable), half].filter((r): r is PhaseResult => r !== undefined);
  if (steady.length > 0) {
    const peak = Math.max(...steady.map((r) => r.serverPeakRssMb));
    verdicts.push({ goal: `peak RSS at the durable gRPC rates <= ${g.peakRssMb} MB`, measured: `${peak.toFixed(0)} MB`, met: peak <= g.peakRssMb });
  }
  const over = results.find((r) => r.name.startsWith('overload'));
  if (over && overload) {
    verdicts.push({ goal: `overload: under ${g.overloadRssMb} MB and still acknowledging`,
      measured: `peak ${overload.peakRssMb.toFixed(0)} MB, ${Math.round(over.recordsPerSecond).toLocaleString('en-US')} rec/s acked, ${over.retryableRefusals} refused, ${over.errors} errors`,
      met: overload.peakRssMb < g.overloadRssMb && over.recordsPerSecond > 0 && over.errors === 0 });
  }
  const rec = results.find((r) => r.name.startsWith('recovery'));
  if (rec && rec.targetRecordsPerSecond) {
    const share = rec.recordsPerSecond / rec.targetRecordsPerSecond;
    verdicts.push({ goal: 'recovery after overload: the offered half rate acknowledged, nothing refused',
      measured: `${(100 * share).toFixed(0)}% of target, ${rec.retryableRefusals} refused, p99 ${rec.p99Ms.toFixed(1)} ms`,
      met: share >= 0.95 && rec.retryableRefusals === 0 && rec.errors === 0 });
  }
  return verdicts;
}
