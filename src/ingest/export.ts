import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { OpsMetrics } from '../ops/metrics.js';
import { DecodeError, type ExportResult, type Signal, type SignalRequest } from '../otlp/types.js';
import { type RecordBatch, batchSize, emptyBatch } from '../store/records.js';
import { type Store, StoreUnavailableError, type Tenant } from '../store/store.js';
import type { Authenticator } from './auth.js';
import { IngestError } from './errors.js';
import type { InflightBudget } from './inflight.js';
import { type NormalizeOptions, Rejections } from './normalize-common.js';
import { normalizeLogs } from './normalize-logs.js';
import { normalizeMetrics } from './normalize-metrics.js';
import { normalizeTraces } from './normalize-traces.js';

export type Protocol = 'grpc' | 'http/json' | 'http/protobuf';

/** One export request as a transport hands it over. Decoding is deferred until the caller is authenticated. */
export interface ExportCall<S extends Signal> {
  authorization: string | undefined;
  /** Client address, for rate limiting failed authentication. */
  source: string;
  protocol: Protocol;
  decode: () => SignalRequest[S];
}

export type ExportFn<S extends Signal> = (call: ExportCall<S>) => Promise<ExportResult>;

export interface Exporter {
  logs: ExportFn<'logs'>;
  metrics: ExportFn<'metrics'>;
  traces: ExportFn<'traces'>;
}

export interface ExporterDeps {
  store: Store;
  auth: Authenticator;
  config: Config;
  logger: Logger;
  metrics: OpsMetrics;
  /** The transports admit requests against it; a write adds the store's copy of its records until the commit. */
  inflight: InflightBudget;
  /** Benchmark only: authenticate, decode and normalize, but skip the store write. */
  decodeOnly?: boolean;
}

const NS_PER_SECOND = 1_000_000_000n;

type Normalizer<S extends Signal> = (req: SignalRequest[S], opts: NormalizeOptions, rejections: Rejections) => RecordBatch;

const normalizers: { [S in Signal]: Normalizer<S> } = {
  logs: (req, opts, rej) => ({ ...emptyBatch(), events: normalizeLogs(req, opts, rej) }),
  metrics: (req, opts, rej) => ({ ...emptyBatch(), points: normalizeMetrics(req, opts, rej) }),
  traces: (req, opts, rej) => ({ ...emptyBatch(), spans: normalizeTraces(req, opts, rej) }),
};

/**
 * Builds the export function of each signal. gRPC and HTTP both call these:
 * authenticate → decode → normalize → write (committed) → partial_success.
 */
export function createExporter(deps: ExporterDeps): Exporter {
  const { config } = deps;
  const limits = {
    maxDepth: config.MAX_ATTRIBUTE_DEPTH,
    maxAttributes: config.MAX_ATTRIBUTES_PER_RECORD,
    maxStringLength: config.MAX_STRING_LENGTH,
  };

  const run = <S extends Signal>(signal: S): ExportFn<S> => async (call) => {
    const principal = await deps.auth.authenticate(call.authorization, call.source, 'ingest');
    const { accepted, rejections, written } = ingest(signal, call, principal.tenant);
    await written;
    deps.metrics.receivedRecords.inc({ signal, protocol: call.protocol, outcome: 'accepted' }, accepted);
    if (rejections.count > 0) {
      deps.metrics.receivedRecords.inc({ signal, protocol: call.protocol, outcome: 'rejected' }, rejections.count);
    }
    return { rejected: rejections.count, errorMessage: rejections.message() };
  };

  /**
   * Decodes, normalizes and hands the records to the store. Not async on purpose: the
   * decoded request and the records are only referenced from this frame, so they can be
   * collected while the write waits for its commit (the store keeps its own compact copy).
   */
  function ingest<S extends Signal>(signal: S, call: ExportCall<S>, tenant: Tenant): { accepted: number; rejections: Rejections; written: Promise<void> } {
    let request: SignalRequest[S];
    try {
      request = call.decode();
    } catch (e) {
      if (e instanceof DecodeError) {
        throw new IngestError('invalid_argument', `cannot decode ${signal} request: ${e.message}`, undefined,
          [{ field: e.field, description: e.message }]);
      }
      throw e;
    }
    const rejections = new Rejections();
    const opts: NormalizeOptions = {
      tenant,
      limits,
      nowNs: BigInt(Date.now()) * 1_000_000n,
      maxFutureSkewNs: BigInt(config.MAX_FUTURE_SKEW_SECONDS) * NS_PER_SECOND,
      maxAgeNs: BigInt(config.MAX_RECORD_AGE_DAYS) * 86_400n * NS_PER_SECOND,
    };
    const batch = normalizers[signal](request, opts, rejections);
    const accepted = batchSize(batch);
    const written = accepted > 0 && !deps.decodeOnly ? write(tenant.id, batch) : Promise.resolve();
    return { accepted, rejections, written };
  }

  function write(tenantId: string, batch: RecordBatch): Promise<void> {
    const end = deps.metrics.storeWrites.startTimer();
    let held = 0;
    // The stored copy (binary COPY rows: ~1.7× the protobuf it came from) waits for its commit as long
    // as the request does; uncounted, an overload queued twice the bytes MAX_INFLIGHT_BYTES says.
    const hold = (bytes: number) => {
      held += bytes;
      deps.inflight.charge(bytes);
    };
    let pending: Promise<void>;
    try {
      pending = deps.store.writeBatch(tenantId, batch, hold);
    } catch (e) {
      pending = Promise.reject(e);
    }
    return pending.finally(() => deps.inflight.release(held)).then(
      () => {
        end({ outcome: 'ok' });
      },
      (e: unknown) => {
        end({ outcome: 'error' });
        if (e instanceof StoreUnavailableError) {
          throw new IngestError('unavailable', `storage is unavailable, retry later: ${e.message}`, config.RETRY_AFTER_SECONDS);
        }
        throw e;
      },
    );
  }

  return { logs: run('logs'), metrics: run('metrics'), traces: run('traces') };
}
