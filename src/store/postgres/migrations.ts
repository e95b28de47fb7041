import type pg from 'pg';
import type { Logger } from 'pino';
import { StoreUnavailableError } from '../store.js';
import { sqlState } from './errors.js';
import { withClient } from './pool.js';
import { latestVersion, migrations } from './schema.js';

/** pg_advisory_lock key shared by every replica ("aiusage" in ASCII). */
const MIGRATION_LOCK = 0x61697573616765n;

/**
 * Applies the migrations this build knows and the database lacks, each in its own
 * transaction. Replicas starting together queue on a session advisory lock, so each
 * migration runs once; the lock goes with the session if a replica dies mid-way.
 */
export async function migrate(pool: pg.Pool, logger: Logger): Promise<void> {
  await withClient(pool, 'apply migrations', async (client) => {
    // Waiting behind another replica's migration must not hit the statement timeout.
    await client.query('SET statement_timeout = 0');
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK.toString()]);
    try {
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
      const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
      const applied = new Set(rows.map((r) => r.version));
      const newest = Math.max(0, ...applied);
      if (newest > latestVersion) {
        throw new Error(
          `the database schema is at version ${newest}, newer than this build knows (${latestVersion}); run a newer build`,
        );
      }
      for (const m of migrations) {
        if (applied.has(m.version)) continue;
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw err;
        }
        logger.info({ version: m.version, name: m.name }, 'applied schema migration');
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK.toString()]).catch(() => undefined);
      await client.query('RESET statement_timeout').catch(() => undefined);
    }
  });
}

/** Rejects with StoreUnavailableError unless the schema is at the version this build needs. */
export async function checkSchema(pool: pg.Pool): Promise<void> {
  await withClient(pool, 'answer', async (client) => {
    const version = await client
      .query<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations')
      .then((r) => r.rows[0]?.v ?? 0)
      .catch((err: unknown) => {
        if (sqlState(err) === '42P01') return 0;
        throw err;
      });
    if (version < latestVersion) {
      throw new StoreUnavailableError(`the database schema is at version ${version}, this build needs ${latestVersion}: migrations have not run`);
    }
  });
}
