import type { Config } from '../config.js';
import type { TlsOptions } from './tls.js';

/**
 * Node options for the HTTP servers (OTLP/HTTP and the API). Node enforces the
 * header and request timeouts only when it sweeps its connections, every
 * `connectionsCheckingInterval` (30 s by default): a client sending headers
 * slowly, or nothing at all, would keep its socket up to 30 s past
 * HTTP_HEADERS_TIMEOUT_MS. Sweeping a few times per timeout keeps the limit real.
 */
export function nodeServerOptions(config: Config, tls: TlsOptions | null): { https: TlsOptions & NodeTimeouts } | { http: NodeTimeouts } {
  const timeouts: NodeTimeouts = {
    headersTimeout: config.HTTP_HEADERS_TIMEOUT_MS,
    connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(config.HTTP_HEADERS_TIMEOUT_MS / 4))),
  };
  return tls ? { https: { ...tls, ...timeouts } } : { http: timeouts };
}

interface NodeTimeouts {
  headersTimeout: number;
  connectionsCheckingInterval: number;
}
