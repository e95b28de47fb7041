import type { TestService } from './service.js';

/** The tables of the service's database (every schema, every table) with a row whose text contains `needle`. */
export async function tablesContaining(svc: Pick<TestService, 'sql'>, needle: string): Promise<string[]> {
  const tables = await svc.sql<{ t: string }>(
    `SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) AS t FROM information_schema.tables
     WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_type = 'BASE TABLE'`);
  const found: string[] = [];
  for (const { t } of tables) {
    const rows = await svc.sql<{ n: string }>(`SELECT count(*) AS n FROM ${t} x WHERE x::text LIKE $1`, [`%${needle}%`]);
    if (Number(rows[0]?.n) > 0) found.push(t);
  }
  return found;
}
