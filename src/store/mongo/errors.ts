import {
  type WriteError,
  MongoBulkWriteError,
  MongoError,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoOperationTimeoutError,
  MongoServerClosedError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
  MongoWriteConcernError,
} from 'mongodb';
import { StoreConflictError, StoreUnavailableError } from '../store.js';

/**
 * Server error codes that mean "not now" rather than "not this request"
 * (src/mongo/base/error_codes.yml in the server's source).
 */
const unavailableCodes = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  24, // LockTimeout
  50, // MaxTimeMSExpired: our own bound on an operation; the server is overloaded
  64, // WriteConcernTimeout: a majority did not acknowledge in wtimeoutMS
  89, // NetworkTimeout
  91, // ShutdownInProgress
  100, // UnsatisfiableWriteConcern: not enough voting members up for a majority
  112, // WriteConflict (after the driver's own retries)
  133, // FailedToSatisfyReadPreference
  134, // ReadConcernMajorityNotAvailableYet
  189, // PrimarySteppedDown
  202, // NetworkInterfaceExceededTimeLimit
  251, // NoSuchTransaction: the transaction was aborted under us (failover)
  262, // ExceededTimeLimit
  9001, // SocketException
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
]);

/** Labels the driver and server put on errors that succeed when simply tried again later. */
const unavailableLabels = ['RetryableWriteError', 'TransientTransactionError', 'UnknownTransactionCommitResult', 'SystemOverloadedError', 'RetryableError'];

const errorClasses = [
  MongoServerSelectionError, // no suitable server (unreachable, no primary) within serverSelectionTimeoutMS
  MongoNetworkError, // includes MongoNetworkTimeoutError
  MongoWriteConcernError,
  MongoOperationTimeoutError,
  MongoNotConnectedError,
  MongoTopologyClosedError,
  MongoServerClosedError,
];

const codeOf = (e: unknown): number | undefined => {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
};

/** True when the error says the database cannot take work right now (as opposed to a bad request). */
export function isUnavailable(err: unknown): boolean {
  if (err instanceof StoreUnavailableError) return true;
  // Before the error's own code: the driver copies the first write error's code to the
  // bulk error, and a refused document must decide whichever write error came first.
  if (err instanceof MongoBulkWriteError) {
    const writeErrors = writeErrorsOf(err);
    // A document the server refused (validation, duplicate key, …) would be refused again.
    if (writeErrors.some((w) => !unavailableCodes.has(w.code))) return false;
    if (writeErrors.length > 0) return true;
    // A write concern error means the primary applied the writes but a majority has not
    // confirmed them (timeout, failover, too few members): not durable yet, so not acked.
    if (err.err !== undefined || err.result?.getWriteConcernError() !== undefined) return true;
  }
  if (errorClasses.some((c) => err instanceof c)) return true;
  if (err instanceof MongoError && unavailableLabels.some((l) => err.hasErrorLabel(l))) return true;
  const code = codeOf(err);
  if (code !== undefined && unavailableCodes.has(code)) return true;
  // The driver reports a failed bulk write (insertMany) as a MongoBulkWriteError even when
  // the connection failed; the original error is kept as its errorResponse.
  const wrapped = (err as { errorResponse?: unknown } | null)?.errorResponse;
  if (wrapped instanceof Error && wrapped !== err && isUnavailable(wrapped)) return true;
  const cause = (err as { cause?: unknown } | null)?.cause;
  return cause !== undefined && cause !== err && isUnavailable(cause);
}

/** A bulk write's per-document errors, whether the driver reports one or several. */
export function writeErrorsOf(err: MongoBulkWriteError): WriteError[] {
  const w: WriteError | readonly WriteError[] | undefined = err.writeErrors;
  if (w === undefined) return [];
  return isList(w) ? [...w] : [w];
}

const isList = (w: WriteError | readonly WriteError[]): w is readonly WriteError[] => Array.isArray(w);

export const DUPLICATE_KEY = 11000;

/** A unique index refused the write. */
export function isDuplicateKey(err: unknown): boolean {
  if (codeOf(err) === DUPLICATE_KEY) return true;
  return err instanceof MongoBulkWriteError && writeErrorsOf(err).length > 0 && writeErrorsOf(err).every((w) => w.code === DUPLICATE_KEY);
}

/** The error a port method rejects with: StoreUnavailableError for outages, the error itself otherwise. */
export function toStoreError(err: unknown, what: string): unknown {
  if (err instanceof StoreUnavailableError || err instanceof StoreConflictError) return err;
  if (isUnavailable(err)) {
    const detail = (err as Error | null)?.message || String(err);
    return new StoreUnavailableError(`MongoDB cannot ${what} now: ${detail}`, { cause: err });
  }
  return err;
}

/** Runs one port operation, rejecting with the port's errors. */
export async function guarded<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toStoreError(err, what);
  }
}
