import { readFileSync } from 'node:fs';
import net from 'node:net';

/** A raw TCP client that sends nothing or a partial request header, and what became of it. */
export interface IdleSocket {
  socket: net.Socket;
  connectedAt: number;
  closedAt: number | null;
  /** What the server wrote before closing (a 408, if anything). */
  received: string;
}

/** Opens `count` connections, `batch` at a time so the listen backlog never overflows. */
export async function openIdle(port: number, count: number, partialHeader: string | null, batch = 100): Promise<IdleSocket[]> {
  const all: IdleSocket[] = [];
  for (let i = 0; i < count; i += batch) {
    const chunk = await Promise.all(Array.from({ length: Math.min(batch, count - i) }, () => new Promise<IdleSocket>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      const idle: IdleSocket = { socket, connectedAt: 0, closedAt: null, received: '' };
      socket.setEncoding('utf8');
      socket.on('data', (d: string) => (idle.received += d));
      socket.on('close', () => (idle.closedAt = Date.now()));
      socket.once('error', (e) => (idle.connectedAt === 0 ? reject(e) : undefined));
      socket.once('connect', () => {
        idle.connectedAt = Date.now();
        if (partialHeader !== null) socket.write(partialHeader);
        resolve(idle);
      });
    })));
    all.push(...chunk);
  }
  return all;
}

/** The soft limit on open files of this process (children inherit it). */
export function openFilesLimit(): number {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  const soft = line?.split(/\s{2,}/)[1];
  return soft === undefined || soft === 'unlimited' ? Number.POSITIVE_INFINITY : Number(soft);
}

export function spread(values: number[]): { min: number; median: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { min: sorted[0] ?? NaN, median: sorted[Math.floor(sorted.length / 2)] ?? NaN, max: sorted[sorted.length - 1] ?? NaN };
}
