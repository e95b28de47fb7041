import pg from 'pg';
import { type Config, loadConfig } from '../../src/config.js';
import { createTenant, createToken } from '../../src/ingest/tenancy.js';
import { type RunningService, startService } from '../../src/service.js';
import type { TokenScope } from '../../src/store/store.js';
import { createTestDatabase, testLogger } from './postgres.js';

export interface TestService extends RunningService {
  config: Config;
  databaseUrl: string;
  /** Base URLs on 127.0.0.1. */
  urls: { grpc: string; http: string; api: string };
  /** Runs SQL against the service's database, for assertions on what was stored. */
  sql<T extends pg.QueryResultRow = Record<string, unknown>>(text: string, values?: unknown[]): Promise<T[]>;
  /** Creates a tenant (if needed) and a token of the scope; returns the secret. */
  token(tenant: string, scope: TokenScope, timezone?: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * The real service, in this process, on free ports, over a fresh database of
 * the shared test PostgreSQL. The scheduler is off: tests run the pipeline
 * themselves so they know exactly when it ran.
 */
export async function startTestService(env: Record<string, string> = {}): Promise<TestService> {
  const databaseUrl = env['DATABASE_URL'] ?? (await createTestDatabase());
  const config = loadConfig({
    BIND_HOST: '127.0.0.1',
    OTLP_GRPC_PORT: '0',
    OTLP_HTTP_PORT: '0',
    API_PORT: '0',
    DATABASE_URL: databaseUrl,
    PIPELINE_ENABLED: 'false',
    TOKEN_CACHE_TTL_MS: '200',
    SHUTDOWN_TIMEOUT_MS: '2000',
    ...env,
  });
  const service = await startService(config, testLogger, { print: () => {} });
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  return {
    ...service,
    config,
    databaseUrl,
    urls: {
      grpc: `http://127.0.0.1:${service.ports.grpc}`,
      http: `http://127.0.0.1:${service.ports.http}`,
      api: `http://127.0.0.1:${service.ports.api}`,
    },
    sql: async (text, values) => (await pool.query(text, values)).rows,
    token: async (tenant, scope, timezone) => {
      if (!(await service.store.getTenant(tenant)).found) {
        await createTenant(service.store, { id: tenant, ...(timezone ? { timezone } : {}) }, 90);
      }
      return (await createToken(service.store, tenant, scope)).token;
    },
    close: async () => {
      await pool.end();
      await service.stop();
    },
  };
}
