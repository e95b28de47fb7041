import type { Logger } from 'pino';
import { type Config, loadConfig } from '../config.js';
import { createLogger } from '../log.js';
import { type OpenedStore, openStore } from '../store/open.js';
import type { Store } from '../store/store.js';

/**
 * Runs a command with the store the server uses (same DATA_DIR or URL). An
 * embedded PostgreSQL the server already runs is attached to, not restarted.
 */
export async function withStore<T>(fn: (store: Store, config: Config, logger: Logger) => Promise<T>): Promise<T> {
  const config = loadConfig();
  // Commands print their own output; only warnings and worse go to stderr.
  const logger = createLogger(config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL, process.stderr as never);
  let opened: OpenedStore | null = null;
  try {
    opened = await openStore(config, logger);
    await opened.store.migrate();
    return await fn(opened.store, config, logger);
  } finally {
    if (opened) {
      await opened.store.close();
      await opened.shutdown();
    }
  }
}
