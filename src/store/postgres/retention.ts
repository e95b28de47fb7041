import type pg from 'pg';
import type { Logger } from 'pino';
import { dayOfDate, factTables, partitionedTables, recordTables, type PartitionedTable, type PartitionKeeper } from './partitions.js';
import { inBackgroundTransaction, withClient } from './pool.js';

/**
 * Deletes a tenant's raw records older than `before`, then drops the day partitions
 * that are entirely older and now empty (no tenant has rows left in them), which is
 * what gives the disk space back. Returns the number of records deleted.
 */
export async function deleteRawBefore(pool: pg.Pool, partitions: PartitionKeeper, logger: Logger, tenantId: string, before: Date): Promise<number> {
  const deleteFrom = async (table: PartitionedTable): Promise<number> => {
    const r = await inBackgroundTransaction(pool, 'delete old records', (query) =>
      query(`DELETE FROM ${table} WHERE tenant_id = $1 AND ts < $2`, [tenantId, before]));
    return r.rowCount ?? 0;
  };
  let deleted = 0;
  for (const table of recordTables) deleted += await deleteFrom(table);
  // A fact row is a copy of a record's columns, not a record of its own: not counted.
  for (const table of factTables) await deleteFrom(table);
  await withClient(pool, 'drop old partitions', async (client) => {
    const dropped = await dropEmptyPartitions(client, dayOfDate(before));
    if (dropped.length > 0) {
      partitions.forget();
      logger.info({ dropped }, 'dropped empty day partitions');
    }
  });
  return deleted;
}

/** Partitions whose whole day is before `beforeDay` and which hold no rows. */
async function dropEmptyPartitions(client: pg.PoolClient, beforeDay: number): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i
     JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
     WHERE p.relname = ANY($1) AND c.relname ~ '_p[0-9]{8}$'`,
    [[...partitionedTables]],
  );
  const dropped: string[] = [];
  for (const { name } of rows) {
    const ymd = name.slice(-8);
    const day = dayOfDate(new Date(`${ymd.slice(0, 4)}-${ymd.slice(4, 6)}-${ymd.slice(6, 8)}T00:00:00Z`));
    if (day + 1 > beforeDay) continue;
    await client.query('BEGIN');
    try {
      await client.query(`SET LOCAL lock_timeout = '2s'`);
      // Locked first, so no write can land between the emptiness check and the drop.
      await client.query(`LOCK TABLE ${name} IN ACCESS EXCLUSIVE MODE`);
      const { rowCount } = await client.query(`SELECT 1 FROM ${name} LIMIT 1`);
      if (rowCount === 0) {
        await client.query(`DROP TABLE ${name}`);
        dropped.push(name);
      }
      await client.query('COMMIT');
    } catch {
      // Busy (lock timeout) or already gone: the next run tries again.
      await client.query('ROLLBACK').catch(() => undefined);
    }
  }
  return dropped;
}
