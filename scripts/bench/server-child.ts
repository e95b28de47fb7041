import { monitorEventLoopDelay } from 'node:perf_hooks';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { startService } from '../../src/service.js';

/**
 * The receiver in a process of its own (forked by bench-ingest), so its CPU and memory
 * are measured apart from the load generator. BENCH_DECODE_ONLY=1 starts the decode-only
 * ceiling; everything else comes from the environment like a real start.
 */

export type ServerMessage =
  | { type: 'ready'; ports: { grpc: number; http: number; api: number } }
  | { type: 'stopped'; cpuSeconds: number; maxRssMb: number }
  /** Event-loop delay since the last reset, ms: how long ready work waited behind synchronous work. */
  | { type: 'eventLoopDelay'; p50Ms: number; p99Ms: number; maxMs: number };

const send = (m: ServerMessage) => process.send?.(m);

const config = loadConfig(process.env);
const logger = createLogger(config.LOG_LEVEL);
const service = await startService(config, logger, {
  decodeOnly: process.env['BENCH_DECODE_ONLY'] === '1',
  print: () => undefined,
});
send({ type: 'ready', ports: service.ports });

const delay = monitorEventLoopDelay({ resolution: 5 });
delay.enable();

process.on('message', (m: { type: string }) => {
  if (m.type === 'resetEventLoopDelay') {
    delay.reset();
    return;
  }
  if (m.type === 'readEventLoopDelay') {
    send({ type: 'eventLoopDelay', p50Ms: delay.percentile(50) / 1e6, p99Ms: delay.percentile(99) / 1e6, maxMs: delay.max / 1e6 });
    return;
  }
  if (m.type !== 'stop') return;
  void service.stop().finally(() => {
    const cpu = process.cpuUsage();
    // resourceUsage().maxRSS is in kilobytes.
    send({ type: 'stopped', cpuSeconds: (cpu.user + cpu.system) / 1e6, maxRssMb: process.resourceUsage().maxRSS / 1024 });
    // Let the IPC message go out before exiting (exit also writes a --cpu-prof profile).
    setTimeout(() => process.exit(0), 100);
  });
});
