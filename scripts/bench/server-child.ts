import { monitorEventLoopDelay } from 'node:perf_hooks';
import { writeHeapSnapshot } from 'node:v8';
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
  /**
   * Since the last reset: event-loop delay (ms), how long ready work waited behind synchronous
   * work; and the peaks of the V8 heap and of memory outside it (Buffers), which tell what an RSS is made of.
   */
  | { type: 'eventLoopDelay'; p50Ms: number; p99Ms: number; maxMs: number; peakHeapMb: number; peakExternalMb: number };

const send = (m: ServerMessage) => process.send?.(m);

const config = loadConfig(process.env);
const logger = createLogger(config.LOG_LEVEL);
const service = await startService(config, logger, {
  decodeOnly: process.env['BENCH_DECODE_ONLY'] === '1',
  print: () => undefined,
});
send({ type: 'ready', ports: service.ports });

// kill -USR2 <pid> writes a heap snapshot into the working directory, to see what holds memory in a phase.
process.on('SIGUSR2', () => {
  process.stderr.write(`heap snapshot written to ${writeHeapSnapshot()}\n`);
});

const delay = monitorEventLoopDelay({ resolution: 5 });
delay.enable();
let peakHeap = 0;
let peakExternal = 0;
setInterval(() => {
  const m = process.memoryUsage();
  peakHeap = Math.max(peakHeap, m.heapUsed);
  peakExternal = Math.max(peakExternal, m.external);
}, 100).unref();

process.on('message', (m: { type: string }) => {
  if (m.type === 'resetEventLoopDelay') {
    delay.reset();
    peakHeap = 0;
    peakExternal = 0;
    return;
  }
  if (m.type === 'readEventLoopDelay') {
    send({ type: 'eventLoopDelay', p50Ms: delay.percentile(50) / 1e6, p99Ms: delay.percentile(99) / 1e6, maxMs: delay.max / 1e6,
      peakHeapMb: peakHeap / 1048576, peakExternalMb: peakExternal / 1048576 });
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
