import type pg from 'pg';
import type { Logger } from 'pino';
import { sqlState } from './errors.js';
import { withClient } from './pool.js';

/** The tables of received records. */
export const recordTables = ['events', 'metric_points', 'spans'] as const;
/** Narrow copies of records' typed columns that the pipeline reads (schema.ts, version 4). */
export const factTables = ['event_facts', 'point_facts'] as const;
export const partitionedTables = [...recordTables, ...factTables] as const;
export type PartitionedTable = (typeof partitionedTables)[number];

const NS_PER_DAY = 86_400_000_000_000n;
const MS_PER_DAY = 86_400_000;

/** UTC day number (days since 1970-01-01) of a time in nanoseconds; floors before the epoch too. */
export function dayOfNs(ns: bigint): number {
  const q = ns / NS_PER_DAY;
  return Number(ns < 0n && q * NS_PER_DAY !== ns ? q - 1n : q);
}

export const dayOfDate = (d: Date): number => Math.floor(d.getTime() / MS_PER_DAY);

const isoDay = (day: number): string => new Date(day * MS_PER_DAY).toISOString().slice(0, 10);

/** e.g. events_p20250131 */
export const partitionName = (table: PartitionedTable, day: number): string => `${table}_p${isoDay(day).replaceAll('-', '')}`;

/**
 * Day partitions are append-only, so the vacuum that inserts alone would trigger finds no
 * dead rows: it only competed with ingest for the disk. Vacuum after retention deletes,
 * ANALYZE and anti-wraparound freezing still run as usual.
 */
export const partitionOptions = 'autovacuum_vacuum_insert_threshold = -1';

export interface PartitionKeeper {
  /** Makes sure each table has a partition for each of the given days. */
  ensure(days: ReadonlyMap<PartitionedTable, ReadonlySet<number>>): Promise<void>;
  /** Partitions from `behind` days ago to `ahead` days from now, for every table. */
  ensureAround(now: Date, behind: number, ahead: number): Promise<void>;
  /** Forgets what it knows, e.g. after a write found a partition missing (retention dropped it). */
  forget(): void;
}

/**
 * Creates daily partitions, remembering the ones known to exist so the write path
 * costs nothing once a day's partition is there. A partition this process does not
 * know yet is looked up in the catalog first, so one another replica made ahead
 * (Store.maintain, run by whichever replica runs the pipeline) is found, not created.
 * CREATE … PARTITION OF locks the parent table briefly, so it runs in its own short
 * transaction with a lock timeout, never inside a write. Another replica creating the
 * same partition at the same moment is not an error.
 */
export function createPartitionKeeper(pool: pg.Pool, logger: Logger): PartitionKeeper {
  const known = new Set<string>();

  const create = async (client: pg.PoolClient, table: PartitionedTable, day: number): Promise<void> => {
    const name = partitionName(table, day);
    if (known.has(name)) return;
    const from = `${isoDay(day)} 00:00:00+00`;
    const to = `${isoDay(day + 1)} 00:00:00+00`;
    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL lock_timeout = '5s'`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${name} PARTITION OF ${table} FOR VALUES FROM ('${from}') TO ('${to}') WITH (${partitionOptions})`,
      );
      await client.query('COMMIT');
      logger.debug({ partition: name }, 'partition ready');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      // 42P07 / 23505: created by someone else between our check and our create.
      // 42P17: a partition under another name already covers the day.
      const state = sqlState(err);
      if (state !== '42P07' && state !== '23505' && state !== '42P17') throw err;
    }
    known.add(name);
  };

  const ensure = async (days: ReadonlyMap<PartitionedTable, ReadonlySet<number>>): Promise<void> => {
    const missing: [PartitionedTable, number][] = [];
    for (const [table, set] of days) for (const day of set) if (!known.has(partitionName(table, day))) missing.push([table, day]);
    if (missing.length === 0) return;
    await withClient(pool, 'create partitions', async (client) => {
      const { rows } = await client.query<{ name: string }>(
        'SELECT name FROM unnest($1::text[]) AS name WHERE to_regclass(name) IS NOT NULL',
        [missing.map(([table, day]) => partitionName(table, day))],
      );
      for (const { name } of rows) known.add(name);
      for (const [table, day] of missing) await create(client, table, day);
    });
  };

  return {
    ensure,
    async ensureAround(now, behind, ahead) {
      const today = dayOfDate(now);
      const days = new Set<number>();
      for (let d = today - behind; d <= today + ahead; d++) days.add(d);
      await ensure(new Map(partitionedTables.map((t) => [t, days])));
    },
    forget() {
      known.clear();
    },
  };
}
