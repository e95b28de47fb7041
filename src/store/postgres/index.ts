import type { Logger } from 'pino';
import { createPostgresStore, type PostgresStore } from './adapter.js';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from './embedded.js';
import { createPool, type PoolOptions } from './pool.js';

export { createPostgresStore, type PostgresStore } from './adapter.js';
export { startEmbeddedPostgres, type EmbeddedPostgresHandle } from './embedded.js';
export { createPool } from './pool.js';

export interface OpenPostgresOptions {
  /** An external PostgreSQL; without it the bundled server in `dataDir` is started or attached to. */
  databaseUrl?: string;
  dataDir: string;
  embeddedPort: number;
  logger: Logger;
  /** Apply migrations before returning (default true). */
  migrate?: boolean;
  pool?: PoolOptions;
}

export interface OpenedPostgres {
  store: PostgresStore;
  /** The bundled server, when one is used; stop it after closing the store. */
  embedded: EmbeddedPostgresHandle | null;
}

export async function openPostgresStore(opts: OpenPostgresOptions): Promise<OpenedPostgres> {
  const embedded =
    opts.databaseUrl === undefined
      ? await startEmbeddedPostgres({ dataDir: opts.dataDir, port: opts.embeddedPort, logger: opts.logger })
      : null;
  const url = opts.databaseUrl ?? (embedded as EmbeddedPostgresHandle).url;
  const store = createPostgresStore(createPool(url, opts.logger, opts.pool), opts.logger);
  try {
    if (opts.migrate !== false) await store.migrate();
  } catch (err) {
    await store.close().catch(() => undefined);
    await embedded?.stop().catch(() => undefined);
    throw err;
  }
  return { store, embedded };
}
