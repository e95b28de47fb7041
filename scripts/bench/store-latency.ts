import type { EventRecord } from '../../src/store/records.js';
import { openBenchDb } from './bench-db.js';
import { percentile } from './report.js';
import { dayBatches, emptyExpected } from './rollup-data.js';

/**
 * writeBatch latency of the PostgreSQL store alone (no receiver, no network), at fixed
 * rates of 86-event batches: tells the database's and the disk's part of export latency
 * from the receiver's. Run by hand:
 *   node --import tsx scripts/bench/store-latency.ts [records/s,records/s,…] [seconds]
 */

const rates = (process.argv[2] ?? '2000,8000').split(',').map(Number);
const seconds = Number(process.argv[3] ?? 20);
const PER_BATCH = 86;
const db = await openBenchDb('store-latency');
const day = new Date();
day.setUTCHours(0, 0, 0, 0);
const need = rates.reduce((n, r) => n + r * seconds, 0) + PER_BATCH;
// Generated as needed, not held: a heap of millions of records would stop the event loop for
// seconds at a time in garbage collection, and that would be measured as database latency.
const source = dayBatches({ tenantId: db.tenantId, dayStartMs: day.getTime(), events: need, seats: 1000, seed: 3 }, PER_BATCH * 20, emptyExpected());
let buffered: EventRecord[] = [];
// Times as a live fleet sends them: now, in order, 1 µs apart (a day's events in random order
// would make every batch move the surfaces' last-seen times and rewrite those rows).
let nextNs = BigInt(Date.now()) * 1_000_000n;
function take(n: number): EventRecord[] {
  while (buffered.length < n) {
    const b = source.next();
    if (b.done) break;
    buffered = buffered.concat(b.value.events);
  }
  const out = buffered.slice(0, n);
  buffered = buffered.slice(n);
  for (const e of out) {
    e.timeNs = nextNs;
    nextNs += 1000n;
  }
  return out;
}
for (const rate of rates) {
  const perSecond = rate / PER_BATCH;
  const latencies: number[] = [];
  const pending: Promise<void>[] = [];
  const began = performance.now();
  for (let i = 0; i < perSecond * seconds; i++) {
    const due = began + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const events = take(PER_BATCH);
    const t0 = performance.now();
    pending.push(db.store.writeBatch(db.tenantId, { events, points: [], spans: [] }).then(() => {
      latencies.push(performance.now() - t0);
    }));
  }
  await Promise.all(pending);
  const over = (ms: number) => latencies.filter((l) => l > ms).length;
  process.stdout.write(`${rate} records/s: p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, ` +
    `max ${Math.max(...latencies).toFixed(0)} ms, over 50 ms: ${over(50)} of ${latencies.length}\n`);
}
await db.close({ keep: false });
process.exit(0);
