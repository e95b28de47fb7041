import type pg from 'pg';

/**
 * A stand-in for a pg.Pool that runs each query a read function sends as
 * EXPLAIN (ANALYZE, BUFFERS) and keeps the plans, so the store's own SQL (not a copy
 * of it) is explained. The read function receives plan rows instead of results and
 * maps them to nonsense, which is ignored.
 */
export interface Explained {
  pool: pg.Pool;
  plans: string[];
  /** The SQL and parameters each plan was made for. */
  queries: { text: string; params: unknown[] }[];
}

export function explainingPool(pool: pg.Pool, settings: readonly string[] = []): Explained {
  const plans: string[] = [];
  const queries: Explained['queries'] = [];
  const connect = async () => {
    const client = await pool.connect();
    // e.g. "SET work_mem = '256MB'", undone by RESET ALL before the connection goes back.
    for (const s of settings) await client.query(s);
    return {
      async query(q: string | pg.QueryConfig, values?: unknown[]) {
        const text = typeof q === 'string' ? q : q.text;
        const params = typeof q === 'string' ? values : (q.values ?? values);
        // Transaction control and settings around the read (BEGIN, SET LOCAL, COMMIT) run as they are.
        if (!/^\s*(SELECT|WITH)\b/i.test(text)) return client.query(text);
        queries.push({ text, params: params ?? [] });
        const r = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS, SETTINGS) ${text}`, params);
        plans.push(r.rows.map((row) => row['QUERY PLAN']).join('\n'));
        return { rows: [], rowCount: 0 };
      },
      on: () => undefined,
      removeListener: () => undefined,
      release: (err?: Error) => {
        if (settings.length === 0 || err) return client.release(err);
        void client.query('RESET ALL').then(() => client.release(), (e: Error) => client.release(e));
      },
    };
  };
  return { pool: { connect } as unknown as pg.Pool, plans, queries };
}
