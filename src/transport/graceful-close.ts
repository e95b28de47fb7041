import type { Server } from 'node:http';

/**
 * Closes an HTTP(S) server gracefully within a deadline. Node's server.close()
 * closes the connections that are idle at that moment and then waits for the
 * rest; but a keep-alive connection busy at that moment stays open after its
 * response (until HTTP_KEEPALIVE_TIMEOUT_MS, 65 s), and a client that never
 * finishes its request holds the server until the request timeout. So: close
 * connections as soon as they fall idle, and cut what is left at the deadline.
 */
export async function closeWithin(server: Server, close: () => Promise<void>, timeoutMs: number): Promise<void> {
  const idle = setInterval(() => server.closeIdleConnections(), 50);
  const force = setTimeout(() => server.closeAllConnections(), timeoutMs);
  try {
    await close();
  } finally {
    clearInterval(idle);
    clearTimeout(force);
  }
}
