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
  const chunks = [
    ...chunked('events', batch.events, eventColumns),
    ...chunked('metric_points', batch.points, pointColumns),
    ...chunked('spans', batch.spans, spanColumns),
  ];
  const seen = ctx.seen.pending(tenantId, byTable.flatMap(([, records]) => records));

  const startedAt = Date.now();
  const attempt = async () => {
    await ctx.partitions.ensure(days);
    await inTransaction(
      ctx.pool,
      'store the records',
      async (client) => {
        // Each chunk is serialized while the server inserts the one before: on two cores
        // that hides most of the JSON work.
        let json = chunks[0]?.json();
        for (let i = 0; i < chunks.length; i++) {
          const c = chunks[i] as Chunk;
          const sent = client.query(timed({ ...statements[c.table], values: [json, tenantId] }, ctx.timeoutMs));
          try {
            json = chunks[i + 1]?.json();
          } catch (err) {
            await sent.catch(() => undefined);
            throw err;
          }
          await sent;
        }
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

interface Chunk {
  table: PartitionedTable;
  /** The rows as the JSON parameter; throws RangeError for a time PostgreSQL cannot hold. */
  json(): string;
}

function chunked<R>(table: PartitionedTable, records: readonly R[], columns: readonly Column<R>[]): Chunk[] {
  const out: Chunk[] = [];
  for (let i = 0; i < records.length; i += CHUNK_ROWS) {
    const slice = records.slice(i, i + CHUNK_ROWS);
    out.push({ table, json: () => toPgJson(slice.map((r) => toRow(columns, r))) });
  }
  return out;
}
