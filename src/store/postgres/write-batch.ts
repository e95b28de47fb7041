import type pg from 'pg';
import type { RecordBase, RecordBatch } from '../records.js';
import { batchSize } from '../records.js';
import { sqlState } from './errors.js';
import { dayOfNs, type PartitionKeeper, type PartitionedTable } from './partitions.js';
import { inTransaction, timed } from './pool.js';
import { eventColumns, pointColumns, spanColumns, toPgJson, toRow, type Column } from './rows.js';
import { writeSeen, type SeenCache } from './seen.js';

/** Rows per INSERT: large enough to amortize the round trip, small enough to keep one JSON parameter modest. */
const CHUNK_ROWS = 2000;

/**
 * INSERT … SELECT FROM json_to_recordset: two parameters (rows, tenant) for any number
 * of rows. `ts`, the partition key, is derived from time_ns (always ≥ 0, so integer
 * division floors, as partitions.ts does).
 */
function insertSql<R>(table: PartitionedTable, columns: readonly Column<R>[]): string {
  const names = columns.map(([n]) => n).join(', ');
  const fields = columns.map(([, t], i) => `c${i} ${t}`).join(', ');
  const timeNs = columns.findIndex(([n]) => n === 'time_ns');
  return `INSERT INTO ${table} (tenant_id, ts, ${names})
SELECT $2, timestamptz '1970-01-01 00:00:00+00' + (r.c${timeNs} / 1000) * interval '1 microsecond', ${columns.map((_, i) => `r.c${i}`).join(', ')}
FROM json_to_recordset($1::json) AS r(${fields})
ON CONFLICT DO NOTHING`;
}

const statements: Record<PartitionedTable, { name: string; text: string }> = {
  events: { name: 'insert-events', text: insertSql('events', eventColumns) },
  metric_points: { name: 'insert-metric-points', text: insertSql('metric_points', pointColumns) },
  spans: { name: 'insert-spans', text: insertSql('spans', spanColumns) },
};

export interface WriteContext {
  pool: pg.Pool;
  partitions: PartitionKeeper;
  seen: SeenCache;
  /**
   * Client-side bound for each statement of a write. An OTLP exporter gives up after
   * about 10 s anyway, so waiting longer on a server that stopped answering helps no one.
   */
  timeoutMs: number;
}

/**
 * Writes one batch in one transaction: every row, or (on any failure) none. Rows already
 * stored are skipped by the primary key, so a retried request changes nothing.
 */
export async function writeBatch(ctx: WriteContext, tenantId: string, batch: RecordBatch): Promise<void> {
  if (batchSize(batch) === 0) return;
  const byTable: [PartitionedTable, RecordBase[]][] = [
    ['events', batch.events],
    ['metric_points', batch.points],
    ['spans', batch.spans],
  ];
  const days = new Map<PartitionedTable, Set<number>>();
  for (const [table, records] of byTable) {
    const set = new Set<number>();
    for (const r of records) {
      if (r.tenantId !== tenantId) throw new Error(`record ${r.id} belongs to tenant ${r.tenantId}, not ${tenantId}`);
      set.add(dayOfNs(r.timeNs));
    }
    if (set.size > 0) days.set(table, set);
  }
  // Serialized before a connection is taken, so a bad record costs no database time.
  const chunks = [
    ...toChunks('events', batch.events.map((r) => toRow(eventColumns, r))),
    ...toChunks('metric_points', batch.points.map((r) => toRow(pointColumns, r))),
    ...toChunks('spans', batch.spans.map((r) => toRow(spanColumns, r))),
  ];
  const seen = ctx.seen.pending(tenantId, byTable.flatMap(([, records]) => records));

  const startedAt = Date.now();
  const attempt = async () => {
    await ctx.partitions.ensure(days);
    await inTransaction(
      ctx.pool,
      'store the records',
      async (client) => {
        for (const c of chunks) await client.query(timed({ ...statements[c.table], values: [c.json, tenantId] }, ctx.timeoutMs));
        await writeSeen(client, tenantId, seen, ctx.timeoutMs);
      },
      ctx.timeoutMs,
    );
  };
  try {
    await attempt();
  } catch (err) {
    // A partition we remembered was dropped meanwhile (retention): create it again, once.
    const cause = (err as { cause?: unknown }).cause ?? err;
    if (sqlState(cause) !== '23514' || !String((cause as Error).message).includes('no partition')) throw err;
    ctx.partitions.forget();
    await attempt();
  }
  ctx.seen.remember(seen, startedAt);
}

function toChunks(table: PartitionedTable, rows: object[]): { table: PartitionedTable; json: string }[] {
  const out: { table: PartitionedTable; json: string }[] = [];
  for (let i = 0; i < rows.length; i += CHUNK_ROWS) out.push({ table, json: toPgJson(rows.slice(i, i + CHUNK_ROWS)) });
  return out;
}
