import { type ChildProcess, fork } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { PhaseSpec, PhaseStats, WorkerInit, WorkerMessage } from './messages.js';
import { rssMb } from './proc-stats.js';
import type { ServerMessage } from './server-child.js';

/** Forks the receiver and the load generators, and talks to them over IPC. */

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

/** Resolves with the child's next message of `type`; rejects if it exits or reports a failure first. */
function next<M extends { type: string }, T extends M['type']>(child: ChildProcess, type: T, what: string): Promise<Extract<M, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: M | { type: 'failed'; message: string }) => {
      if (m.type === type) {
        cleanup();
        resolve(m as Extract<M, { type: T }>);
      } else if (m.type === 'failed') {
        cleanup();
        reject(new Error(`${what} failed: ${(m as { message: string }).message}`));
      }
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`${what} exited (code ${code}) before sending "${type}"`));
    };
    const cleanup = () => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

export interface ServerProc {
  name: string;
  pid: number;
  ports: { grpc: number; http: number; api: number };
  /** RSS right after start, before any load. */
  startRssMb: number;
  resetEventLoopDelay(): void;
  readEventLoopDelay(): Promise<{ p50Ms: number; p99Ms: number; maxMs: number; peakHeapMb: number; peakExternalMb: number }>;
  /** Stops gracefully; what the process used over its whole life. */
  stop(): Promise<{ cpuSeconds: number; maxRssMb: number }>;
}

export interface ServerOptions {
  name: string;
  databaseUrl: string;
  dataDir: string;
  decodeOnly: boolean;
  logFile: string;
  env?: Record<string, string>;
  /** Write a V8 CPU profile of the server here when it exits. */
  cpuProfDir?: string;
  /** Run this compiled entry (see build-server.ts) with plain node instead of server-child.ts under tsx. */
  compiledEntry?: string;
}

export async function startServer(o: ServerOptions): Promise<ServerProc> {
  const log = fs.openSync(o.logFile, 'a');
  const child = fork(o.compiledEntry ?? here('./server-child.ts'), [], {
    execArgv: [...(process.env['BENCH_NODE_FLAGS'] ?? '').split(' ').filter(Boolean), ...(o.compiledEntry ? [] : ['--import', 'tsx']), ...(o.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`] : [])],
    env: {
      PATH: process.env['PATH'] ?? '',
      DATABASE_URL: o.databaseUrl,
      DATA_DIR: o.dataDir,
      BIND_HOST: '127.0.0.1',
      OTLP_GRPC_PORT: '0',
      OTLP_HTTP_PORT: '0',
      API_PORT: '0',
      PIPELINE_ENABLED: 'false',
      LOG_LEVEL: 'warn',
      BENCH_DECODE_ONLY: o.decodeOnly ? '1' : '0',
      ...o.env,
    },
    stdio: ['ignore', log, log, 'ipc'],
  });
  const ready = await next<ServerMessage, 'ready'>(child, 'ready', `server ${o.name}`);
  return {
    name: o.name,
    pid: child.pid as number,
    ports: ready.ports,
    startRssMb: rssMb(child.pid as number),
    resetEventLoopDelay: () => child.send({ type: 'resetEventLoopDelay' }),
    async readEventLoopDelay() {
      const reply = next<ServerMessage, 'eventLoopDelay'>(child, 'eventLoopDelay', `server ${o.name}`);
      child.send({ type: 'readEventLoopDelay' });
      const { p50Ms, p99Ms, maxMs, peakHeapMb, peakExternalMb } = await reply;
      return { p50Ms, p99Ms, maxMs, peakHeapMb, peakExternalMb };
    },
    async stop() {
      const stopped = next<ServerMessage, 'stopped'>(child, 'stopped', `server ${o.name}`);
      child.send({ type: 'stop' });
      const s = await stopped;
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
      fs.closeSync(log);
      return { cpuSeconds: s.cpuSeconds, maxRssMb: s.maxRssMb };
    },
  };
}

export interface WorkerProc {
  pid: number;
  ready: Extract<WorkerMessage, { type: 'ready' }>;
  run(spec: PhaseSpec): Promise<PhaseStats>;
  exit(): void;
}

export async function startWorker(init: WorkerInit): Promise<WorkerProc> {
  const child = fork(here('./load-worker.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const what = `load worker ${init.workerId}`;
  const readyP = next<WorkerMessage, 'ready'>(child, 'ready', what);
  child.send(init);
  const ready = await readyP;
  return {
    pid: child.pid as number,
    ready,
    async run(spec) {
      const result = next<WorkerMessage, 'result'>(child, 'result', what);
      child.send(spec);
      return (await result).stats;
    },
    exit: () => child.send({ type: 'exit' }),
  };
}
