import { readFileSync } from 'node:fs';
import { ServerCredentials } from '@grpc/grpc-js';
import type { Config } from '../config.js';

export interface TlsOptions {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
  requestCert: boolean;
  rejectUnauthorized: boolean;
}

/** TLS settings for both servers, read once at start; null when TLS is off. */
export function loadTls(config: Config): TlsOptions | null {
  if (!config.TLS_CERT_FILE || !config.TLS_KEY_FILE) return null;
  const mtls = Boolean(config.TLS_CLIENT_CA_FILE);
  return {
    cert: readFileSync(config.TLS_CERT_FILE),
    key: readFileSync(config.TLS_KEY_FILE),
    ...(config.TLS_CLIENT_CA_FILE ? { ca: readFileSync(config.TLS_CLIENT_CA_FILE) } : {}),
    requestCert: mtls,
    rejectUnauthorized: mtls,
  };
}

export function grpcCredentials(tls: TlsOptions | null): ServerCredentials {
  if (!tls) return ServerCredentials.createInsecure();
  return ServerCredentials.createSsl(tls.ca ?? null, [{ cert_chain: tls.cert, private_key: tls.key }], tls.requestCert);
}
