import { decodeProtobuf } from '../../src/otlp/decode-protobuf.js';
import { Rejections } from '../../src/ingest/normalize-common.js';
import { normalizeLogs } from '../../src/ingest/normalize-logs.js';
import type { EventRecord } from '../../src/store/records.js';
import { openBenchDb } from './bench-db.js';
import { treeCpuSeconds } from './proc-stats.js';
import { fmt, median, table } from './report.js';
import { benchNormalizeOptions } from './normalize-options.js';
import { createRng } from './rng.js';
import { logTemplates, materialize } from './templates.js';

/**
 * The PostgreSQL adapter's write path alone: log records decoded and normalized beforehand
 * (shaped like bench:ingest's), then written with `writeBatch` by concurrent writers in a
 * closed loop. Prints this process's CPU and PostgreSQL's per record, and records/s. No
 * gRPC and no load generator share the machine, so a change to the write path shows with
 * less noise than end to end.
 *   node --import tsx scripts/bench/write-path.ts [records per round] [writers] [rounds]
 */

const RECORDS = Number(process.argv[2] ?? 100_000);
const WRITERS = Number(process.argv[3] ?? 8);
const ROUNDS = Number(process.argv[4] ?? 3);
const db = await openBenchDb('write-path');
const rng = createRng(7);
const sizes = [1, 4, 16, 64, 128, 256, 512];
const templates = sizes.map((n) => logTemplates(rng, db.tenantId, n).protobuf);
const opts = benchNormalizeOptions(db.tenantId);
let ns = (BigInt(Date.now()) - 3_600_000n) * 1_000_000n;
function round(): EventRecord[][] {
  const batches: EventRecord[][] = [];
  for (let i = 0, total = 0; total < RECORDS; i++) {
    const t = templates[i % templates.length]!;
    const body = materialize(t, { seat: Buffer.from(String(i % 1000).padStart(6, '0')), session: Buffer.from(rng.uuid()), firstNs: ns, stepNs: 1000n, intervalNs: 60_000_000_000n });
    ns += BigInt(t.records) * 1000n;
    total += t.records;
    batches.push(normalizeLogs(decodeProtobuf('logs', body), opts, new Rejections()));
  }
  return batches;
}

const rows: (string | number)[][] = [];
for (let r = 0; r <= ROUNDS; r++) {
  const batches = round();
  const records = batches.reduce((n, b) => n + b.length, 0);
  const pg0 = treeCpuSeconds(db.postmasterPid);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: WRITERS }, async () => {
    while (next < batches.length) {
      const events = batches[next++]!;
      await db.store.writeBatch(db.tenantId, { events, points: [], spans: [] });
    }
  }));
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const pg = treeCpuSeconds(db.postmasterPid) - pg0;
  // Round 0 warms up (JIT, partitions, caches).
  if (r > 0) rows.push([r, records, records / wall, ((cpu.user + cpu.system) / records), (pg * 1e6) / records]);
}
process.stdout.write(`${WRITERS} writers, requests of ${sizes.join('/')} log records\n`);
process.stdout.write(`${table(['round', 'records', 'records/s', 'node CPU µs/rec', 'PostgreSQL CPU µs/rec'], rows)}\n`);
process.stdout.write(`(median records/s ${fmt(median(rows.map((x) => x[2] as number)))})\n`);
await db.close({ keep: false });
process.exit(0);
