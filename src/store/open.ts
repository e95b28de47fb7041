import { PostgresBackend } from '@agendajs/postgres-backend';
import type { AgendaBackend } from 'agenda';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { openPostgresStore } from './postgres/index.js';
import type { Store } from './store.js';

export interface OpenedStore {
  store: Store;
  /** An Agenda backend on the same database, so scheduling needs nothing else. */
  schedulerBackend(): AgendaBackend;
  /** Stops what this process started for the store (the embedded PostgreSQL), after store.close(). */
  shutdown(): Promise<void>;
}

/** MONGODB_URL selects MongoDB, DATABASE_URL an external PostgreSQL, neither the embedded PostgreSQL in DATA_DIR. */
export async function openStore(config: Config, logger: Logger): Promise<OpenedStore> {
  if (config.MONGODB_URL) {
    throw new Error('MONGODB_URL is set, but the MongoDB adapter is not part of this build yet; use DATABASE_URL or the embedded PostgreSQL');
  }
  const opened = await openPostgresStore({
    ...(config.DATABASE_URL ? { databaseUrl: config.DATABASE_URL } : {}),
    dataDir: config.DATA_DIR,
    embeddedPort: config.EMBEDDED_PG_PORT,
    logger,
  });
  const url = config.DATABASE_URL ?? opened.embedded?.url ?? '';
  return {
    store: opened.store,
    schedulerBackend: () => new PostgresBackend({ connectionString: url }),
    shutdown: async () => opened.embedded?.stop(),
  };
}
