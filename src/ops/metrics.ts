import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The service's own Prometheus metrics. Labels never carry tenant or seat
 * ids: their cardinality would grow with the customer base.
 */
export function createOpsMetrics(sources: { inflightBytes: () => number } = { inflightBytes: () => 0 }) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    inflightBytes: new Gauge({
      name: 'aiu_inflight_bytes',
      help: 'Bytes held by export requests being received or written (MAX_INFLIGHT_BYTES bounds them): their messages, and their records\' stored copy until the commit.',
      registers: [registry],
      collect() {
        this.set(sources.inflightBytes());
      },
    }),
    receivedRecords: new Counter({
      name: 'aiu_received_records_total',
      help: 'Telemetry records received, by signal, protocol and outcome (accepted, rejected, failed).',
      labelNames: ['signal', 'protocol', 'outcome'] as const,
      registers: [registry],
    }),
    exportRequests: new Histogram({
      name: 'aiu_export_request_duration_seconds',
      help: 'Duration of OTLP export requests, by signal, protocol and status code.',
      labelNames: ['signal', 'protocol', 'code'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    storeWrites: new Histogram({
      name: 'aiu_store_write_duration_seconds',
      help: 'Latency of committed store writes, by outcome.',
      labelNames: ['outcome'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    pipelineRuns: new Histogram({
      name: 'aiu_pipeline_run_duration_seconds',
      help: 'Duration of pipeline runs (one tenant-day each), by job and outcome.',
      labelNames: ['job', 'outcome'] as const,
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    pipelineFailures: new Counter({
      name: 'aiu_pipeline_failures_total',
      help: 'Pipeline runs that failed, by job.',
      labelNames: ['job'] as const,
      registers: [registry],
    }),
  };
}

export type OpsMetrics = ReturnType<typeof createOpsMetrics>;

/**
 * Runs one pipeline computation under the run-duration histogram and the failure counter, so runs
 * started by the scheduler and by the API (`job="api"`) are counted alike. Rethrows the failure.
 */
export async function timedPipelineRun<T>(metrics: OpsMetrics, job: string, run: () => Promise<T>): Promise<T> {
  const end = metrics.pipelineRuns.startTimer({ job });
  try {
    const result = await run();
    end({ outcome: 'ok' });
    return result;
  } catch (e) {
    end({ outcome: 'error' });
    metrics.pipelineFailures.inc({ job });
    throw e;
  }
}
