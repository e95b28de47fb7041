import type pg from 'pg';
import type { RecordBase, RecordBatch } from '../records.js';
import { COPY_BINARY_HEADER, COPY_BINARY_TRAILER, copyColumns, copyRows } from './copy-binary.js';
import { sqlState } from './errors.js';
import { dayOfNs, type PartitionKeeper, type PartitionedTable } from './partitions.js';
import { type ScriptStep, inOneTrip } from './one-trip.js';
import { type Column, eventColumns, pointColumns, spanColumns } from './rows.js';
import { type SeenCache, type SeenUpdates, mergeSeen, seenStatements } from './seen.js';

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

/** One writeBatch call, serialized for COPY, ready to be written alone or with others in one transaction. */
export interface PreparedBatch {
  tenantId: string;
  copies: { table: PartitionedTable; data: Buffer }[];
  days: Map<PartitionedTable, Set<number>>;
  seen: SeenUpdates;
  /** Size of the COPY data, to bound what one transaction carries. */
  bytes: number;
}

interface TableSpec {
  table: PartitionedTable;
  columns: readonly Column<never>[];
  pick: (b: RecordBatch) => readonly RecordBase[];
  /** The narrow table a trigger copies each new row into (schema.ts, version 4): it needs the same day partitions. */
  facts?: PartitionedTable;
}

const tables: TableSpec[] = [
  { table: 'events', columns: eventColumns as readonly Column<never>[], pick: (b) => b.events, facts: 'event_facts' },
  { table: 'metric_points', columns: pointColumns as readonly Column<never>[], pick: (b) => b.points, facts: 'point_facts' },
  { table: 'spans', columns: spanColumns as readonly Column<never>[], pick: (b) => b.spans },
];
const columnsOf = new Map(tables.map((t) => [t.table, copyColumns(t.columns)]));

/**
 * Serializes a batch. Throws (RangeError) when a record cannot be stored, before
 * anything is written, so that batch fails alone.
 */
export function prepareBatch(seen: SeenCache, tenantId: string, batch: RecordBatch): PreparedBatch {
  const copies: PreparedBatch['copies'] = [];
  const days = new Map<PartitionedTable, Set<number>>();
  let bytes = 0;
  for (const { table, columns, pick, facts } of tables) {
    const records = pick(batch);
    if (records.length === 0) continue;
    const set = new Set<number>();
    for (const r of records) {
      if (r.tenantId !== tenantId) throw new Error(`record ${r.id} belongs to tenant ${r.tenantId}, not ${tenantId}`);
      set.add(dayOfNs(r.timeNs));
    }
    days.set(table, set);
    if (facts) days.set(facts, set);
    const data = copyRows(columns as readonly Column<RecordBase>[], tenantId, records);
    copies.push({ table, data });
    bytes += data.length;
  }
  return { tenantId, copies, days, seen: seen.pending(tenantId, tables.flatMap((t) => t.pick(batch))), bytes };
}

/**
 * `direct`: COPY straight into the table, the fast path; a record that is already stored
 * makes it fail with a unique violation (23505). `staged`: COPY into a temporary table,
 * then INSERT … ON CONFLICT DO NOTHING, which skips stored records (retried deliveries).
 */
export type CopyMode = 'direct' | 'staged';

/** The statements of a group's transaction: its COPYs, then its seen upserts. */
function groupSteps(group: readonly PreparedBatch[], mode: CopyMode): ScriptStep[] {
  const steps: ScriptStep[] = [];
  for (const { table } of tables) {
    const rows = group.flatMap((b) => b.copies.filter((c) => c.table === table).map((c) => c.data));
    if (rows.length === 0) continue;
    // One COPY for the rows of every batch of the group: each batch's rows are bare, so they follow one another.
    const copy = [COPY_BINARY_HEADER, ...rows, COPY_BINARY_TRAILER];
    const columns = columnsOf.get(table) as string;
    if (mode === 'direct') {
      steps.push({ sql: `COPY ${table} (${columns}) FROM STDIN (FORMAT binary)`, copy });
      continue;
    }
    const stage = `stage_${table}`;
    steps.push(
      { sql: `CREATE TEMP TABLE IF NOT EXISTS ${stage} (LIKE ${table}) ON COMMIT DELETE ROWS` },
      { sql: `COPY ${stage} (${columns}) FROM STDIN (FORMAT binary)`, copy },
      { sql: `INSERT INTO ${table} (${columns}) SELECT ${columns} FROM ${stage} ON CONFLICT DO NOTHING` },
    );
  }
  const seen = mergeSeen(group.map((b) => ({ tenantId: b.tenantId, updates: b.seen })));
  for (const [tenantId, updates] of seen) for (const sql of seenStatements(tenantId, updates)) steps.push({ sql });
  return steps;
}

/**
 * Writes the batches of a group in one transaction, sent in one round trip (one-trip.ts):
 * every row of every batch, or (on any failure) none. The caller decides what a failure
 * means for each batch.
 */
export async function writeGroup(ctx: WriteContext, group: readonly PreparedBatch[], mode: CopyMode): Promise<void> {
  const days = new Map<PartitionedTable, Set<number>>();
  for (const b of group) {
    for (const [table, set] of b.days) {
      const all = days.get(table) ?? new Set<number>();
      for (const d of set) all.add(d);
      days.set(table, all);
    }
  }
  const steps = groupSteps(group, mode);
  const attempt = async () => {
    await ctx.partitions.ensure(days);
    await inOneTrip(ctx.pool, 'store the records', steps, ctx.timeoutMs);
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
}

/** True when a direct COPY failed because a record is already stored. */
export const isDuplicate = (err: unknown): boolean => sqlState((err as { cause?: unknown }).cause ?? err) === '23505' || sqlState(err) === '23505';
