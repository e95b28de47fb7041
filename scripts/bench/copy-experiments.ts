import type pg from 'pg';
import type { EventRecord } from '../../src/store/records.js';
import { jsonText } from '../../src/store/json-text.js';
import { eventColumns } from '../../src/store/postgres/rows.js';
import { type CopyMode, prepareBatch, writeGroup } from '../../src/store/postgres/write-batch.js';
import { createSeenCache } from '../../src/store/postgres/seen.js';
import { createPartitionKeeper } from '../../src/store/postgres/partitions.js';
import { openBenchDb, quietLogger } from './bench-db.js';
import { treeCpuSeconds } from './proc-stats.js';
import { fmt, table } from './report.js';
import { dayBatches, emptyExpected } from './rollup-data.js';

/**
 * Evidence for the write path (src/store/postgres/write-batch.ts): PostgreSQL and Node CPU
 * per event row for the schema-2 path (INSERT … SELECT FROM json_to_recordset into json
 * columns, primary key by id and three more indexes) against COPY into the current
 * schema, directly and through the staging table, with requests of one size or grouped.
 *   node --import tsx scripts/bench/copy-experiments.ts [rows per variant] [rows per request]
 */

const ROWS = Number(process.argv[2] ?? 40_000);
const PER_REQUEST = Number(process.argv[3] ?? 86);
const db = await openBenchDb('copy-exp');
const pool = db.store.pool;
const day = Date.UTC(2026, 0, 5);

const variantsCount = 5;
const all: EventRecord[] = [];
for (const b of dayBatches({ tenantId: db.tenantId, dayStartMs: day, events: ROWS * variantsCount, seats: 100, seed: 7 }, 1e9, emptyExpected())) {
  for (const e of b.events) all.push(e);
}
const slice = (i: number) => all.slice(i * ROWS, (i + 1) * ROWS);
const avg = (f: (e: EventRecord) => number) => all.slice(0, 5000).reduce((n, e) => n + f(e), 0) / 5000;
process.stdout.write(`bytes per event (JSON): attributes ${fmt(avg((e) => jsonText(e.attributes).length))}, resource ${fmt(avg((e) => jsonText(e.resource).length))}, ` +
  `scope ${fmt(avg((e) => jsonText(e.scope).length))}\n`);

// Schema 2 as it was: json documents, PK (tenant_id, id, ts), three more indexes.
await pool.query('CREATE TABLE v2_events (LIKE events INCLUDING DEFAULTS)');
for (const c of ['attributes', 'resource', 'scope', 'body']) await pool.query(`ALTER TABLE v2_events ALTER COLUMN ${c} TYPE json USING ${c}::json`);
await pool.query('ALTER TABLE v2_events ADD PRIMARY KEY (tenant_id, id, ts)');
for (const cols of ['tenant_id, ts', 'tenant_id, session_id', 'tenant_id, seat, ts']) await pool.query(`CREATE INDEX ON v2_events (${cols})`);
const v2Types: Record<string, string> = { text: 'text', int8: 'bigint', int4: 'integer', float8: 'double precision', bool: 'boolean', doc: 'json' };
const timeIdx = eventColumns.findIndex(([n]) => n === 'time_ns');
const v2Sql = `INSERT INTO v2_events (tenant_id, ts, ${eventColumns.map(([n]) => n).join(', ')})
SELECT $2, timestamptz '1970-01-01 00:00:00+00' + (r.c${timeIdx} / 1000) * interval '1 microsecond', ${eventColumns.map((_, i) => `r.c${i}`).join(', ')}
FROM json_to_recordset($1::json) AS r(${eventColumns.map(([, k], i) => `c${i} ${v2Types[k]}`).join(', ')}) ON CONFLICT DO NOTHING`;
const v2Json = (rows: EventRecord[]) => JSON.stringify(rows.map((r) => {
  const row: Record<string, unknown> = {};
  eventColumns.forEach(([, kind, get], i) => {
    const v = get(r);
    if (v !== null) row[`c${i}`] = kind === 'doc' ? JSON.parse(v as string) : v;
  });
  return row;
}));

const ctx = { pool, partitions: createPartitionKeeper(pool, quietLogger), seen: createSeenCache(), timeoutMs: 60_000 };
await db.store.ensurePartitionsAhead(new Date(day));

type Run = (client: pg.PoolClient, rows: EventRecord[]) => Promise<number>;
const requests = (rows: EventRecord[], size: number) => Array.from({ length: Math.ceil(rows.length / size) }, (_, i) => rows.slice(i * size, (i + 1) * size));
const v2: Run = async (client, rows) => {
  let nodeMs = 0;
  for (const req of requests(rows, PER_REQUEST)) {
    const t0 = performance.now();
    const json = v2Json(req);
    nodeMs += performance.now() - t0;
    await client.query('BEGIN');
    await client.query({ name: 'v2', text: v2Sql, values: [json, db.tenantId] });
    await client.query('COMMIT');
  }
  return nodeMs;
};
const copy = (mode: CopyMode, perTransaction: number): Run => async (_client, rows) => {
  let nodeMs = 0;
  for (const tx of requests(rows, PER_REQUEST * perTransaction)) {
    const t0 = performance.now();
    const group = requests(tx, PER_REQUEST).map((req) => prepareBatch(ctx.seen, db.tenantId, { events: req, points: [], spans: [] }));
    nodeMs += performance.now() - t0;
    await writeGroup(ctx, group, mode);
  }
  return nodeMs;
};

const variants: [string, Run][] = [
  ['schema 2: json_to_recordset, a transaction per request', v2],
  ['COPY direct, a transaction per request', copy('direct', 1)],
  ['COPY direct, 8 requests per transaction (group commit)', copy('direct', 8)],
  ['COPY staged (ON CONFLICT), a transaction per request', copy('staged', 1)],
  ['COPY staged, 8 requests per transaction', copy('staged', 8)],
];

const results: (string | number)[][] = [];
for (const [i, [name, run]] of variants.entries()) {
  const rows = slice(i);
  const client = await pool.connect();
  await client.query('CHECKPOINT');
  const cpu0 = treeCpuSeconds(db.postmasterPid);
  const t0 = performance.now();
  const nodeMs = await run(client, rows);
  const wall = (performance.now() - t0) / 1000;
  const cpu = treeCpuSeconds(db.postmasterPid) - cpu0;
  client.release();
  results.push([name, rows.length, wall, (cpu / rows.length) * 1e6, (nodeMs * 1000) / rows.length, rows.length / wall]);
}
const sizes = await pool.query<{ relname: string; mb: string }>(
  `SELECT relname, round(pg_total_relation_size(oid) / 1048576.0, 1) AS mb FROM pg_class WHERE relname IN ('v2_events', 'events_p20260105')`);
process.stdout.write(`\n${ROWS} rows per variant, ${PER_REQUEST} rows per request\n`);
process.stdout.write(`${table(['variant', 'rows', 'wall s', 'PG CPU µs/row', 'node µs/row', 'rows/s'], results)}\n`);
process.stdout.write(`sizes (MB, with indexes): ${sizes.rows.map((r) => `${r.relname} ${r.mb}`).join(', ')} (events_p20260105 holds ${variantsCount - 1} variants)\n`);
await db.close({ keep: false });
process.exit(0);
