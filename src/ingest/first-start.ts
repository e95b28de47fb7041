import type { Config } from '../config.js';
import type { Store } from '../store/store.js';
import { StoreConflictError } from '../store/store.js';
import { type CreatedToken, createTenant, createToken } from './tenancy.js';

export interface FirstStart {
  tenant: string;
  ingest: CreatedToken;
  read: CreatedToken;
}

/**
 * On a store with no tenant at all, creates tenant `default` with an ingest
 * and a read token. Returns null on every later start, so the tokens are
 * shown exactly once. Two replicas starting together race on the tenant id;
 * the loser sees a conflict and shows nothing.
 */
export async function firstStart(store: Store, config: Config): Promise<FirstStart | null> {
  if ((await store.listTenants()).length > 0) return null;
  try {
    await createTenant(store, { id: 'default', name: 'Default' }, config.RETENTION_DAYS);
  } catch (e) {
    if (e instanceof StoreConflictError) return null;
    throw e;
  }
  return {
    tenant: 'default',
    ingest: await createToken(store, 'default', 'ingest'),
    read: await createToken(store, 'default', 'read'),
  };
}

/** The text printed once on first start: what to paste into Claude Code and Cowork. */
export function firstStartBanner(fs: FirstStart, grpcEndpoint: string, httpEndpoint: string, apiUrl: string): string {
  return [
    '',
    '================ ai-usage-receiver: first start ================',
    `Created tenant "${fs.tenant}". These tokens are shown ONCE; store them now.`,
    `  ingest token: ${fs.ingest.token}   (id ${fs.ingest.id})`,
    `  read token:   ${fs.read.token}   (id ${fs.read.id}; sign in to the dashboard at ${apiUrl})`,
    '',
    'Point Claude Code at this receiver (shell, or the "env" block of managed-settings.json):',
    '  export CLAUDE_CODE_ENABLE_TELEMETRY=1',
    '  export OTEL_METRICS_EXPORTER=otlp',
    '  export OTEL_LOGS_EXPORTER=otlp',
    '  export OTEL_EXPORTER_OTLP_PROTOCOL=grpc',
    `  export OTEL_EXPORTER_OTLP_ENDPOINT=${grpcEndpoint}`,
    `  export OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer ${fs.ingest.token}"`,
    '',
    'Claude Cowork (Organization settings > Cowork > Monitoring):',
    `  OTLP endpoint: ${httpEndpoint}`,
    '  OTLP protocol: http/protobuf',
    `  OTLP headers:  Authorization=Bearer ${fs.ingest.token}`,
    '=================================================================',
    '',
  ].join('\n');
}
