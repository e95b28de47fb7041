import fs from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';
import type { EventRecord } from '../../src/store/records.js';
import { eventColumns, toPgJson, toRow } from '../../src/store/postgres/rows.js';
import { openBenchDb } from './bench-db.js';
import { treeCpuSeconds } from './proc-stats.js';
import { fmt, table } from './report.js';
import { dayBatches, emptyExpected } from './rollup-data.js';

/**
 * Evidence for store-write proposals: PostgreSQL CPU per event row for the current
 * insert (json_to_recordset into the partitioned table) and for alternatives — COPY,
 * fewer indexes, text instead of json documents. Run by hand:
 *   node --import tsx scripts/bench/insert-experiments.ts [rows per variant]
 */

const ROWS = Number(process.argv[2] ?? 40_000);
const CHUNK = 2000;
const db = await openBenchDb('insert-exp');
const pool = db.store.pool;
const day = Date.UTC(2026, 0, 5);

// Realistic events; each variant gets its own slice (ids must not collide in one table).
const all: EventRecord[] = [];
for (const b of dayBatches({ tenantId: db.tenantId, dayStartMs: day, events: ROWS * 3, seats: 100, seed: 7 }, 1e9, emptyExpected())) for (const e of b.events) all.push(e);
const slice = (i: number) => all.slice(i * ROWS, (i + 1) * ROWS);

const names = ['tenant_id', 'ts', ...eventColumns.map(([n]) => n)];
const jsonCols = new Set(eventColumns.filter(([, t]) => t === 'json').map(([n]) => n));
const recordset = (docType: 'json' | 'text') =>
  eventColumns.map(([, t], i) => `c${i} ${t === 'json' ? docType : t}`).join(', ');
const timeIdx = eventColumns.findIndex(([n]) => n === 'time_ns');
const insertSql = (tableName: string, docType: 'json' | 'text') => `INSERT INTO ${tableName} (${names.join(', ')})
SELECT $2, timestamptz '1970-01-01 00:00:00+00' + (r.c${timeIdx} / 1000) * interval '1 microsecond', ${eventColumns.map((_, i) => `r.c${i}`).join(', ')}
FROM json_to_recordset($1::json) AS r(${recordset(docType)}) ON CONFLICT DO NOTHING`;

const csvCell = (v: unknown, json: boolean): string => {
  if (v === null || v === undefined) return '';
  const s = json ? JSON.stringify(v) : typeof v === 'string' ? v : String(v);
  return `"${s.replaceAll('"', '""')}"`;
};
function toCsv(records: EventRecord[]): string {
  return records.map((r) => {
    const row = toRow(eventColumns, r);
    const ts = new Date(Number(r.timeNs / 1_000_000n)).toISOString();
    return [db.tenantId, ts, ...eventColumns.map(([, t], i) => csvCell(row[`c${i}`], t === 'json'))].join(',');
  }).join('\n');
}

async function createPlain(tableName: string, indexes: boolean, docType: 'json' | 'text'): Promise<void> {
  await pool.query(`CREATE TABLE ${tableName} (LIKE events INCLUDING DEFAULTS)`);
  if (docType === 'text') for (const c of jsonCols) await pool.query(`ALTER TABLE ${tableName} ALTER COLUMN ${c} TYPE text`);
  await pool.query(`ALTER TABLE ${tableName} ADD PRIMARY KEY (tenant_id, id, ts)`);
  if (indexes) {
    await pool.query(`CREATE INDEX ON ${tableName} (tenant_id, ts); CREATE INDEX ON ${tableName} (tenant_id, session_id);
      CREATE INDEX ON ${tableName} (tenant_id, seat, ts)`);
  }
}

interface Variant {
  name: string;
  run: (client: pg.PoolClient, rows: EventRecord[]) => Promise<void>;
}

const viaRecordset = (tableName: string, docType: 'json' | 'text'): Variant['run'] => async (client, rows) => {
  const chunks: string[] = [];
  for (let i = 0; i < rows.length; i += CHUNK) chunks.push(toPgJson(rows.slice(i, i + CHUNK).map((r) => toRow(eventColumns, r))));
  const sql = insertSql(tableName, docType);
  await client.query('BEGIN');
  for (const c of chunks) await client.query(sql, [c, db.tenantId]);
  await client.query('COMMIT');
};
const viaCopy = (tableName: string): Variant['run'] => async (client, rows) => {
  const file = path.join(db.dataDir, `${tableName}.csv`);
  await fs.writeFile(file, toCsv(rows), { mode: 0o644 });
  await client.query(`COPY ${tableName} (${names.join(', ')}) FROM '${file}' WITH (FORMAT csv)`);
};

await createPlain('plain_4idx', true, 'json');
await createPlain('plain_pk', false, 'json');
await createPlain('plain_4idx_text', true, 'text');
await createPlain('plain_pk_copy', false, 'json');
await createPlain('plain_4idx_copy', true, 'json');
await db.store.ensurePartitionsAhead(new Date(day));
const variants: Variant[] = [
  { name: 'events (partitioned, PK + 3 indexes): json_to_recordset, as now', run: viaRecordset('events', 'json') },
  { name: 'plain table, PK + 3 indexes: json_to_recordset', run: viaRecordset('plain_4idx', 'json') },
  { name: 'plain table, PK + 3 indexes, documents as text: json_to_recordset', run: viaRecordset('plain_4idx_text', 'text') },
  { name: 'plain table, PK only: json_to_recordset', run: viaRecordset('plain_pk', 'json') },
  { name: 'plain table, PK + 3 indexes: COPY csv (server-side file)', run: viaCopy('plain_4idx_copy') },
  { name: 'plain table, PK only: COPY csv (server-side file)', run: viaCopy('plain_pk_copy') },
];

const results: (string | number)[][] = [];
for (const [i, v] of variants.entries()) {
  const rows = slice(i % 3);
  const client = await pool.connect();
  await client.query('CHECKPOINT');
  const cpu0 = treeCpuSeconds(db.postmasterPid);
  const t0 = performance.now();
  await v.run(client, rows);
  const wall = (performance.now() - t0) / 1000;
  const cpu = treeCpuSeconds(db.postmasterPid) - cpu0;
  client.release();
  results.push([v.name, rows.length, wall, (cpu / rows.length) * 1e6, rows.length / wall]);
  process.stdout.write(`${v.name}: ${fmt((cpu / rows.length) * 1e6)} µs PostgreSQL CPU per row\n`);
}
const sizes = await pool.query<{ relname: string; mb: string }>(
  `SELECT relname, round(pg_total_relation_size(oid) / 1048576.0, 1) AS mb FROM pg_class
   WHERE relname IN ('plain_4idx', 'plain_pk', 'plain_4idx_text') ORDER BY relname`);
process.stdout.write(`\n${table(['variant', 'rows', 'wall s', 'PG CPU µs/row', 'rows/s'], results)}\n`);
process.stdout.write(`sizes (MB, with indexes): ${sizes.rows.map((r) => `${r.relname} ${r.mb}`).join(', ')}\n`);

// Node-side cost of building each payload.
const sample = slice(0);
let t = performance.now();
for (let i = 0; i < sample.length; i += CHUNK) toPgJson(sample.slice(i, i + CHUNK).map((r) => toRow(eventColumns, r)));
const jsonUs = ((performance.now() - t) * 1000) / sample.length;
t = performance.now();
toCsv(sample);
const csvUs = ((performance.now() - t) * 1000) / sample.length;
process.stdout.write(`node: toRow + toPgJson ${fmt(jsonUs)} µs/row; CSV text ${fmt(csvUs)} µs/row\n`);
await db.close({ keep: false });
process.exit(0);
