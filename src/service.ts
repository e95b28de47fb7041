import type { Logger } from 'pino';
import type { Config } from './config.js';
import { startApiServer } from './api/server.js';
import { localDashboardUrl, publicEndpoints } from './api/connect-routes.js';
import { Authenticator } from './ingest/auth.js';
import { createExporter } from './ingest/export.js';
import { type FirstStart, firstStart, firstStartBanner } from './ingest/first-start.js';
import { InflightBudget } from './ingest/inflight.js';
import { createOpsMetrics } from './ops/metrics.js';
import { type PipelineScheduler, startPipelineScheduler } from './pipeline/scheduler.js';
import { openStore } from './store/open.js';
import type { Store } from './store/store.js';
import { startGrpcServer } from './transport/grpc.js';
import { closeWithin } from './transport/graceful-close.js';
import { startHttpServer } from './transport/http.js';
import { grpcCredentials, loadTls } from './transport/tls.js';

export interface RunningService {
  ports: { grpc: number; http: number; api: number };
  store: Store;
  /** On the very first start (no tenant at all): tenant `default` and its tokens, also printed once; else null. */
  firstStart: FirstStart | null;
  /** Graceful stop: servers stop accepting and finish what is in flight, then the store closes. */
  stop(): Promise<void>;
}

export interface ServiceOptions {
  /** Where the first-start banner goes (stdout by default). */
  print?: (text: string) => void;
  /** Benchmark only: skip store writes. */
  decodeOnly?: boolean;
}

/** Wires config → store → ingest → servers. */
export async function startService(config: Config, logger: Logger, options: ServiceOptions = {}): Promise<RunningService> {
  const opened = await openStore(config, logger);
  const { store } = opened;
  await store.migrate();
  const inflight = new InflightBudget(config.MAX_INFLIGHT_BYTES);
  const metrics = createOpsMetrics({ inflightBytes: () => inflight.inUse });
  const auth = new Authenticator({
    store,
    logger,
    cacheTtlMs: config.TOKEN_CACHE_TTL_MS,
    failuresPerMinute: config.AUTH_FAILURES_PER_MINUTE,
    retryAfterSeconds: config.RETRY_AFTER_SECONDS,
  });
  auth.start();
  const exporter = createExporter({ store, auth, config, logger, metrics, inflight, decodeOnly: options.decodeOnly ?? false });
  const tls = loadTls(config);

  const ready = () => store.ping().then(() => true, () => false);
  const grpc = await startGrpcServer({ config, exporter, inflight, logger, metrics, credentials: grpcCredentials(tls), ready });
  const http = await startHttpServer({ config, exporter, auth, inflight, logger, metrics, tls });
  const api = await startApiServer({ config, store, auth, logger, metrics, tls, ready });
  const scheduler: PipelineScheduler | null = config.PIPELINE_ENABLED
    ? await startPipelineScheduler({ store, backend: opened.schedulerBackend(), config, logger, metrics })
    : null;

  const first = await firstStart(store, config);
  if (first) {
    const endpoints = publicEndpoints(config, null);
    (options.print ?? ((t) => process.stdout.write(t)))(
      firstStartBanner(first, endpoints.grpc, endpoints.http, localDashboardUrl(config, api.port)),
    );
  }
  // Logged last, once the first-start tenant exists and the scheduler runs: scripts and tests take it as "ready".
  logger.info({ grpc: grpc.port, http: http.port, api: api.port, store: store.kind }, 'ai-usage-receiver listening');

  return {
    ports: { grpc: grpc.port, http: http.port, api: api.port },
    store,
    firstStart: first,
    stop: async () => {
      // SHUTDOWN_TIMEOUT_MS bounds the whole stop: requests and jobs get it less a slice for closing the store.
      const drainMs = Math.max(0, config.SHUTDOWN_TIMEOUT_MS - Math.min(1000, config.SHUTDOWN_TIMEOUT_MS / 5));
      await Promise.all([
        grpc.close(drainMs),
        http.close(drainMs),
        closeWithin(api.app.server, () => api.close(), drainMs),
        scheduler?.drain(drainMs),
      ]);
      await auth.stop();
      await store.close();
      await opened.shutdown();
    },
  };
}
