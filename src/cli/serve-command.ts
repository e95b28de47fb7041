import type { Command } from 'commander';
import type { Logger } from 'pino';
import { localDashboardUrl, publicEndpoints } from '../api/connect-routes.js';
import { type Config, loadConfig } from '../config.js';
import type { FirstStart } from '../ingest/first-start.js';
import { createLogger } from '../log.js';
import { type RunningService, startService } from '../service.js';
import { printJson } from './output.js';

/** What `serve --json` prints once the service listens: one JSON document on stdout. */
export interface ServeInfo {
  ports: RunningService['ports'];
  store: RunningService['store']['kind'];
  endpoints: { grpc: string; http: string; dashboard: string };
  /** On the very first start (no tenant at all): tenant `default` and its ingest and read tokens, shown this once; else null. */
  firstStart: FirstStart | null;
}

export function serveInfo(config: Config, service: RunningService): ServeInfo {
  const endpoints = publicEndpoints(config, null);
  return {
    ports: service.ports,
    store: service.store.kind,
    endpoints: { grpc: endpoints.grpc, http: endpoints.http, dashboard: localDashboardUrl(config, service.ports.api) },
    firstStart: service.firstStart,
  };
}

/** Runs until SIGTERM / SIGINT, then stops gracefully. */
async function serveUntilStopped(service: RunningService): Promise<never> {
  const stop = () => void service.stop().then(() => process.exit(0), () => process.exit(1));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  return new Promise<never>(() => {});
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run the receiver (the same as npm start)')
    .option('--json', 'once listening, print the ports, endpoints and (first start only) the tenant and its tokens as JSON on stdout; logs go to stderr')
    .action(async (opts: { json?: boolean }) => {
      const config = loadConfig();
      if (!opts.json) {
        await serveUntilStopped(await startService(config, createLogger(config.LOG_LEVEL)));
        return;
      }
      // stdout carries the JSON document alone: logs go to stderr, and the first-start tokens
      // come in the document instead of the banner.
      const logger: Logger = createLogger(config.LOG_LEVEL, process.stderr as never);
      const service = await startService(config, logger, { print: () => undefined });
      printJson(serveInfo(config, service));
      await serveUntilStopped(service);
    });
}
