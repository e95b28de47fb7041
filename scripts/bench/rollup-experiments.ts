import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type pg from 'pg';
import { CUMULATIVE_LOOKBACK_NS } from '../../src/pipeline/compute-day.js';
import { addDays, dayRangeNs, today } from '../../src/pipeline/days.js';
import { EDIT_TOOLS, metricNames } from '../../src/pipeline/measures.js';
import * as reads from '../../src/store/postgres/reads.js';
import { startEmbeddedPostgres } from '../../src/store/postgres/embedded.js';
import { createPool } from '../../src/store/postgres/pool.js';
import { quietLogger } from './bench-db.js';
import { explainingPool } from './explain.js';
import { table, timestamp } from './report.js';

/**
 * Evidence for pipeline proposals, on a database kept by `bench:rollup -- --keep`:
 * the store's eventTotals / metricTotals SQL with default and larger work_mem, a
 * delta-only metric aggregate (no window function), and both on narrow copies of the
 * day's rows (only the columns the pipeline reads).
 *   node --import tsx scripts/bench/rollup-experiments.ts <DATA_DIR of the kept run> [day]
 */

const [dataDir, dayArg] = process.argv.slice(2);
if (!dataDir) {
  process.stderr.write('usage: rollup-experiments.ts <data dir> [YYYY-MM-DD]\n');
  process.exit(2);
}
const port = await new Promise<number>((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => {
    const a = s.address();
    s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
  });
});
const embedded = await startEmbeddedPostgres({ dataDir, port, logger: quietLogger });
const pool: pg.Pool = createPool(embedded.url, quietLogger, { statementTimeoutMs: 3_600_000 });
const tenantId = 'bench';
const day = dayArg ?? addDays(today('UTC'), -1);
const range = dayRangeNs(day, 'UTC');
const bigMem = ["SET work_mem = '256MB'"];

const out: string[] = [];
const rows: (string | number)[][] = [];
const executionMs = (plan: string) => Number(/Execution Time: ([\d.]+) ms/.exec(plan)?.[1] ?? NaN);
const record = (name: string, plan: string) => {
  rows.push([name, executionMs(plan) / 1000]);
  out.push(`---- ${name} ----\n${plan}\n`);
  process.stdout.write(`${name}: ${(executionMs(plan) / 1000).toFixed(2)} s\n`);
};
async function explain(sql: string, params: unknown[], settings: readonly string[] = []): Promise<string> {
  const client = await pool.connect();
  try {
    for (const s of settings) await client.query(s);
    const r = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS, SETTINGS) ${sql}`, params);
    await client.query('RESET ALL');
    return r.rows.map((x) => x['QUERY PLAN']).join('\n');
  } finally {
    client.release();
  }
}

// The store's own SQL, as it stands, with default and larger work_mem.
for (const [label, settings] of [['work_mem default (4MB)', []], ['work_mem 256MB', bigMem]] as const) {
  const x = explainingPool(pool, settings);
  await reads.eventTotals(x.pool, tenantId, range, EDIT_TOOLS);
  await reads.metricTotals(x.pool, tenantId, range, metricNames, CUMULATIVE_LOOKBACK_NS);
  record(`eventTotals as is, ${label}`, x.plans[0] ?? '');
  record(`metricTotals as is, ${label}`, x.plans[1] ?? '');
}
const captured = explainingPool(pool);
await reads.eventTotals(captured.pool, tenantId, range, EDIT_TOOLS);
await reads.metricTotals(captured.pool, tenantId, range, metricNames, CUMULATIVE_LOOKBACK_NS);
const [eventQuery, metricQuery] = captured.queries;
if (!eventQuery || !metricQuery) throw new Error('queries not captured');

// Delta points need no window: each adds its value. One hash aggregate instead of two sorts.
const split = 'session_id, user_email, user_account_uuid, end_user_id, user_id, surface, name, model, attr_type, decision, start_type';
const deltaSql = (tableName: string) => `
SELECT ${split}, sum(value) AS value FROM ${tableName}
WHERE tenant_id = $1 AND time_ns >= $2 AND time_ns < $3
  AND ts >= timestamptz '1970-01-01 00:00:00+00' + $4::bigint * interval '1 microsecond'
  AND ts < timestamptz '1970-01-01 00:00:00+00' + $5::bigint * interval '1 microsecond'
  AND name = ANY($6) AND type = 'sum' AND monotonic AND value IS NOT NULL AND (flags & 1) = 0 AND temporality = 'delta'
GROUP BY ${split}`;
// The delta query needs the day only (no lookback): ns bounds and the µs bounds of ts, as reads.ts computes them.
const fromUs = (range.fromNs / 1000n).toString();
const toUs = ((range.toNs - 1n) / 1000n + 1n).toString();
record('metric delta-only aggregate, work_mem default', await explain(deltaSql('metric_points'), [tenantId, range.fromNs.toString(), range.toNs.toString(), fromUs, toUs, metricNames]));
record('metric delta-only aggregate, work_mem 256MB', await explain(deltaSql('metric_points'), [tenantId, range.fromNs.toString(), range.toNs.toString(), fromUs, toUs, metricNames], bigMem));

// `(flags & 1) = 0` is an expression without statistics, so the planner guesses 0.5% of rows pass and picks a
// sort-based aggregate for what are millions of rows; expression statistics give it the real figure.
const partitions = await pool.query<{ relname: string }>(`SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
  WHERE i.inhparent = 'metric_points'::regclass`);
for (const t of ['metric_points', ...partitions.rows.map((r) => r.relname)]) {
  await pool.query(`CREATE STATISTICS IF NOT EXISTS ${t}_nrv_stats ON ((flags & 1)) FROM ${t}`);
  await pool.query(`ANALYZE ${t}`);
}
for (const [label, settings] of [['work_mem default (4MB)', []], ['work_mem 256MB', bigMem]] as const) {
  const x = explainingPool(pool, settings);
  await reads.metricTotals(x.pool, tenantId, range, metricNames, CUMULATIVE_LOOKBACK_NS);
  record(`metricTotals as is + statistics on (flags & 1), ${label}`, x.plans[0] ?? '');
}
for (const t of ['metric_points', ...partitions.rows.map((r) => r.relname)]) await pool.query(`DROP STATISTICS IF EXISTS ${t}_nrv_stats`);

// Narrow copies: only what the pipeline reads, to see what the wide rows (JSON documents) cost the scans.
const ts = `ts >= to_timestamp(${Number(range.fromNs / 1_000_000n)} / 1000.0) AND ts < to_timestamp(${Number(range.toNs / 1_000_000n)} / 1000.0)`;
await pool.query('DROP TABLE IF EXISTS events_narrow, metric_points_narrow');
await pool.query(`CREATE TABLE events_narrow AS SELECT tenant_id, ts, time_ns, session_id, user_email, user_account_uuid, end_user_id,
  user_id, surface, model, name, success, tool_name, decision, cost_usd, input_tokens, output_tokens, cache_read_tokens,
  cache_creation_tokens FROM events WHERE tenant_id = '${tenantId}' AND ${ts}`);
await pool.query(`CREATE TABLE metric_points_narrow AS SELECT tenant_id, ts, time_ns, id, session_id, user_email, user_account_uuid,
  end_user_id, user_id, surface, name, model, attr_type, decision, start_type, type, monotonic, temporality, flags, value,
  start_time_ns, series_key FROM metric_points WHERE tenant_id = '${tenantId}' AND ${ts}`);
await pool.query('VACUUM ANALYZE events_narrow, metric_points_narrow');
const sizes = await pool.query<{ relname: string; mb: string }>(`SELECT c.relname, round(pg_relation_size(c.oid) / 1048576.0) AS mb
  FROM pg_class c WHERE c.relname IN ('events_narrow', 'metric_points_narrow') OR c.relname LIKE 'events_p%' OR c.relname LIKE 'metric_points_p%'
  ORDER BY 2 DESC LIMIT 6`);
record('eventTotals SQL on a narrow copy, work_mem 256MB',
  await explain(eventQuery.text.replace('FROM events', 'FROM events_narrow'), eventQuery.params, bigMem));
record('metricTotals SQL on a narrow copy, work_mem 256MB',
  await explain(metricQuery.text.replace('FROM metric_points', 'FROM metric_points_narrow'), metricQuery.params, bigMem));
record('metric delta-only aggregate on a narrow copy, work_mem 256MB',
  await explain(deltaSql('metric_points_narrow'), [tenantId, range.fromNs.toString(), range.toNs.toString(), fromUs, toUs, metricNames], bigMem));
await pool.query('DROP TABLE events_narrow, metric_points_narrow');

process.stdout.write(`\n${table(['experiment', 'execution s'], rows)}\n`);
process.stdout.write(`heap sizes (MB): ${sizes.rows.map((r) => `${r.relname} ${r.mb}`).join(', ')}\n`);
await fs.mkdir('bench-results', { recursive: true });
const file = path.join('bench-results', `rollup-experiments-${timestamp()}.txt`);
await fs.writeFile(file, `${table(['experiment', 'execution s'], rows)}\n\n${out.join('\n')}`);
process.stdout.write(`plans written to ${file}\n`);
await pool.end();
await embedded.stop();
process.exit(0);
