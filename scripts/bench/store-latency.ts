import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { EventRecord } from '../../src/store/records.js';
import { openBenchDb } from './bench-db.js';
import { treeCpuSeconds } from './proc-stats.js';
import { percentile } from './report.js';
import { dayBatches, emptyExpected } from './rollup-data.js';

/**
 * writeBatch latency of the PostgreSQL store alone (no receiver, no network), at fixed
 * rates of 86-event batches: tells the database's and the disk's part of export latency
 * from the receiver's. Per rate it prints the latencies, PostgreSQL's CPU per record, this
 * process's event-loop delay (a stall here is not the database's), when the slow writes
 * started, and which PostgreSQL processes wrote the data pages. Run by hand:
 *   node --import tsx scripts/bench/store-latency.ts [records/s,records/s,…] [seconds]
 * PG_SET="name=value;…" applies server settings first (ALTER SYSTEM, reloaded), to try one.
 */

const rates = (process.argv[2] ?? '2000,8000').split(',').map(Number);
const seconds = Number(process.argv[3] ?? 20);
const PER_BATCH = 86;
const db = await openBenchDb('store-latency');
for (const setting of (process.env['PG_SET'] ?? '').split(';').filter(Boolean)) await db.store.pool.query(`ALTER SYSTEM SET ${setting}`);
await db.store.pool.query('SELECT pg_reload_conf()');

// A pool generated once and reused with a fresh id and time per use: the generator costs
// about 120 µs per event, which at these rates loaded this process more than the writes
// did, and its stalls were measured as database latency.
const day = new Date();
day.setUTCHours(0, 0, 0, 0);
const pool: EventRecord[] = [];
for (const b of dayBatches({ tenantId: db.tenantId, dayStartMs: day.getTime(), events: 20_000, seats: 1000, seed: 3 }, PER_BATCH * 20, emptyExpected())) {
  pool.push(...b.events);
}
let used = 0;
// Times as a live fleet sends them: now, in order, 1 µs apart (a day's events in random order
// would make every batch move the surfaces' last-seen times and rewrite those rows).
let nextNs = BigInt(Date.now()) * 1_000_000n;
function take(n: number): EventRecord[] {
  const out: EventRecord[] = [];
  for (let i = 0; i < n; i++, used++) {
    const e = pool[used % pool.length] as EventRecord;
    out.push({ ...e, id: `${e.id.slice(0, 20)}${used.toString(16).padStart(12, '0')}`, timeNs: nextNs });
    nextNs += 1000n;
  }
  return out;
}

for (const rate of rates) {
  const perSecond = rate / PER_BATCH;
  const latencies: number[] = [];
  const slow: string[] = [];
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  await db.store.pool.query("SELECT pg_stat_reset_shared('io')");
  const pgCpu = treeCpuSeconds(db.postmasterPid);
  const pending: Promise<void>[] = [];
  const began = performance.now();
  for (let i = 0; i < perSecond * seconds; i++) {
    const due = began + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const events = take(PER_BATCH);
    const t0 = performance.now();
    pending.push(db.store.writeBatch(db.tenantId, { events, points: [], spans: [] }).then(() => {
      const ms = performance.now() - t0;
      latencies.push(ms);
      if (ms > 50) slow.push(`${(t0 - began).toFixed(0)}+${ms.toFixed(0)}`);
    }));
  }
  await Promise.all(pending);
  loop.disable();
  const pgUs = ((treeCpuSeconds(db.postmasterPid) - pgCpu) * 1e6) / (latencies.length * PER_BATCH);
  const writers = await db.store.pool.query<{ backend_type: string; writes: number }>(
    `SELECT backend_type, sum(writes)::int AS writes FROM pg_stat_io WHERE object = 'relation' GROUP BY 1 HAVING sum(writes) > 0 ORDER BY 1`,
  );
  const over = (ms: number) => latencies.filter((l) => l > ms).length;
  process.stdout.write(`${rate} records/s: p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, ` +
    `max ${Math.max(...latencies).toFixed(0)} ms, over 50 ms: ${over(50)} of ${latencies.length}\n` +
    `  PostgreSQL CPU ${pgUs.toFixed(1)} µs/record; this process's event-loop delay p99 ${(loop.percentile(99) / 1e6).toFixed(1)} ms, ` +
    `max ${(loop.max / 1e6).toFixed(0)} ms\n` +
    `  data pages written by: ${writers.rows.map((r) => `${r.backend_type} ${r.writes}`).join(', ')}\n` +
    `  slow writes (ms into the run + ms taken): ${slow.join(' ') || 'none'}\n`);
}
await db.close({ keep: false });
process.exit(0);
