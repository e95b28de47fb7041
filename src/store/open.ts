import type { AgendaBackend } from 'agenda';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Store } from './store.js';

export interface OpenedStore {
  store: Store;
  /** An Agenda backend on the same database, so scheduling needs nothing else. */
  schedulerBackend(): AgendaBackend;
  /** Stops what this process started for the store (the embedded PostgreSQL), after store.close(). */
  shutdown(): Promise<void>;
}

/**
 * MONGODB_URL selects MongoDB, DATABASE_URL an external PostgreSQL, neither the embedded
 * PostgreSQL in DATA_DIR. Only the chosen adapter is loaded: the MongoDB driver alone
 * allocates a 17 MB serialization buffer when it is imported.
 */
export async function openStore(config: Config, logger: Logger): Promise<OpenedStore> {
  if (config.MONGODB_URL) {
    const [{ openMongoStore }, { MongoBackend }] = await Promise.all([import('./mongo/index.js'), import('@agendajs/mongo-backend')]);
    const store = await openMongoStore({ url: config.MONGODB_URL, retentionDays: config.RETENTION_DAYS, logger });
    return {
      store,
      // Agenda shares the store's client (it does not close it: the store does); jobs go to `agendaJobs`.
      schedulerBackend: () => new MongoBackend({ mongo: store.db }),
      shutdown: async () => undefined,
    };
  }
  const [{ openPostgresStore }, { PostgresBackend }] = await Promise.all([import('./postgres/index.js'), import('@agendajs/postgres-backend')]);
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
