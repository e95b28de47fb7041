import { StoreConflictError, StoreUnavailableError } from '../store.js';

interface PgLikeError {
  code?: string;
  message?: string;
  errors?: unknown[];
}

const networkCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  // A Unix socket whose server has gone (the embedded server stopped or restarting).
  'ENOENT',
]);

const unavailableSqlStates = new Set([
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down, recovery)
  '57014', // query_canceled: our statement_timeout, the server is overloaded
  '55P03', // lock_not_available: lock_timeout
  '40001', // serialization_failure (after our one retry)
  '40P01', // deadlock_detected (after our one retry)
  '25006', // read_only_sql_transaction: a replica that has not been promoted yet
]);

/** Messages node-postgres and pg-pool produce for connections that failed or died. */
const unavailableMessages = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Query read timeout',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
  'Connection ended unexpectedly',
];

/** True when the error says the database cannot take work right now (as opposed to a bad request). */
export function isUnavailable(err: unknown): boolean {
  if (err instanceof StoreUnavailableError) return true;
  if (typeof err !== 'object' || err === null) return false;
  const e = err as PgLikeError;
  if (Array.isArray(e.errors) && e.errors.some(isUnavailable)) return true; // AggregateError from net.connect
  const code = e.code ?? '';
  if (networkCodes.has(code) || unavailableSqlStates.has(code)) return true;
  // Class 08: connection exception; class 53: insufficient resources (too many clients, disk full).
  if (/^(08|53)[0-9A-Z]{3}$/.test(code)) return true;
  const message = e.message ?? '';
  return unavailableMessages.some((m) => message.includes(m));
}

/** Serialization failures and deadlocks succeed when the transaction is simply run again. */
export function isRetryable(err: unknown): boolean {
  const code = (err as PgLikeError | null)?.code;
  return code === '40001' || code === '40P01';
}

/** The error a port method rejects with: StoreUnavailableError for outages, the error itself otherwise. */
export function toStoreError(err: unknown, what: string): unknown {
  if (err instanceof StoreUnavailableError || err instanceof StoreConflictError) return err;
  if (isUnavailable(err)) {
    const e = err as PgLikeError;
    const detail = e.message || e.code || String(err);
    return new StoreUnavailableError(`PostgreSQL cannot ${what} now: ${detail}`, { cause: err });
  }
  return err;
}

export const sqlState = (err: unknown): string | undefined => (err as PgLikeError | null)?.code;
