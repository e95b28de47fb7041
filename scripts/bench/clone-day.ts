import type pg from 'pg';

/**
 * Multiplies a loaded day inside PostgreSQL: each copy of the events and points gets new
 * ids and session ids (and series keys), same seats and times. Writing 10 million events
 * through writeBatch takes most of an hour on a 2-core machine; this keeps the data
 * realistic in shape (the pipeline sees `copies` times the sessions per seat) at a
 * fraction of the load time. Copy k of a session is `<session id>:<k>`. The pipeline's narrow
 * tables get their copies from the same triggers as any insert.
 */

const replacements = (copy: number): Record<string, string> => ({
  id: `md5(id || ':${copy}')`,
  session_id: `session_id || ':${copy}'`,
  series_key: `md5(series_key || ':${copy}')`,
});

async function columns(pool: pg.Pool, table: string): Promise<string[]> {
  const { rows } = await pool.query<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position`, [table]);
  return rows.map((r) => r.column_name);
}

/** Adds copies 1 … copies-1 of the tenant's rows in [fromMs, toMs); returns rows added per table. */
export async function cloneDay(pool: pg.Pool, tenantId: string, fromMs: number, toMs: number, copies: number,
  progress: (s: string) => void): Promise<Record<string, number>> {
  const added: Record<string, number> = {};
  // Events and points in parallel: one backend each, so both cores work.
  await Promise.all(['events', 'metric_points'].map(async (table) => {
    const cols = await columns(pool, table);
    for (let k = 1; k < copies; k++) {
      const r = replacements(k);
      const select = cols.map((c) => r[c] ?? c).join(', ');
      const res = await pool.query(
        `INSERT INTO ${table} (${cols.join(', ')}) SELECT ${select} FROM ${table}
         WHERE tenant_id = $1 AND ts >= to_timestamp($2::double precision / 1000) AND ts < to_timestamp($3::double precision / 1000)
           AND position(':' in coalesce(session_id, '')) = 0`,
        [tenantId, fromMs, toMs]);
      added[table] = (added[table] ?? 0) + (res.rowCount ?? 0);
      progress(`  copy ${k} of ${table}: ${res.rowCount} rows`);
    }
  }));
  return added;
}
