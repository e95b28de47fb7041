import * as grpc from '@grpc/grpc-js';
import { DiagLogLevel, diag } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider, type LogRecordExporter, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { expect } from 'chai';
import { startEmbeddedPostgres } from '../src/store/postgres/index.js';
import {
  type Batch, type RawAnswer, buildBatch, figures, grpcRaw, postRaw, promptRecord, requestBytes, resource, rollupPrompts, storedSeqCounts,
} from './support/fault-otel.js';
import { type ChildServer, type TenantTokens, freePorts, killChildServers, prepareTenant, sleep, startChildServer } from './support/fault-server.js';
import { type TestPostgres, startTestPostgres, testLogger } from './support/postgres.js';

const RETRY_AFTER_SECONDS = 2;

/**
 * The embedded PostgreSQL is stopped under a running receiver and load from real
 * exporters: the SDK's BatchLogRecordProcessor with the http/protobuf exporter
 * (whose own retry honours Retry-After), and raw HTTP and gRPC senders whose every
 * answer the test sees. Nothing may be acknowledged that was not written, and the
 * receiver must come back by itself when the database does.
 */
describe('fault: database stopped under load', function () {
  this.timeout(240_000);
  const tenant = 'dbstop';
  let pgs: TestPostgres;
  let tokens: TenantTokens;
  let server: ChildServer;

  before(async () => {
    pgs = await startTestPostgres('fault-dbstop');
    tokens = await prepareTenant(pgs.handle.url, tenant);
    server = await startChildServer({ DATABASE_URL: pgs.handle.url, RETRY_AFTER_SECONDS: String(RETRY_AFTER_SECONDS) }, await freePorts());
  });
  after(async () => {
    diag.disable();
    await killChildServers();
    await pgs?.destroy();
  });

  it('answers only retryable statuses while the database is down, reconnects by itself, and the retries deliver exactly once', async () => {
    // The exporter's own retries, as it reports them.
    let exporterRetries = 0;
    const note = (m: string) => {
      if (m.startsWith('Scheduling export retry')) exporterRetries++;
    };
    diag.setLogger({ verbose: note, debug: note, info: note, warn: note, error: note }, DiagLogLevel.VERBOSE);

    // SDK path: the normal batch processor over the real http/protobuf exporter, observed.
    const sdkAcked = new Set<string>();
    const sdkFailed: string[] = [];
    const sdkEmitted: string[] = [];
    const real = new ProtoLogExporter({ url: `${server.urls.http}/v1/logs`, headers: { Authorization: `Bearer ${tokens.ingest}` }, timeoutMillis: 60_000 });
    const observed: LogRecordExporter & { forceFlush(): Promise<void> } = {
      export: (records: ReadableLogRecord[], cb) =>
        real.export(records, (r) => {
          const seqs = records.map((l) => String(l.attributes['seq']));
          if (r.code === 0) for (const s of seqs) sdkAcked.add(s);
          else sdkFailed.push(...seqs);
          cb(r);
        }),
      forceFlush: () => real.forceFlush(),
      shutdown: () => real.shutdown(),
    };
    const provider = new LoggerProvider({
      resource: resourceFromAttributes(resource),
      processors: [new BatchLogRecordProcessor({
        exporter: observed, scheduledDelayMillis: 200, maxExportBatchSize: 200, maxQueueSize: 100_000, exportTimeoutMillis: 90_000,
      })],
    });
    const sdkLogger = provider.getLogger('com.anthropic.claude_code.events', '2.1.330');

    // Raw path: one HTTP and one gRPC sender; a refused batch is sent again until it is acknowledged.
    const answers: (RawAnswer & { via: 'http' | 'grpc' })[] = [];
    const rawAcked = new Set<string>();
    const rawSent: string[] = [];
    const grpcClient = new grpc.Client(`127.0.0.1:${server.ports.grpc}`, grpc.credentials.createInsecure());
    let emitting = true;
    let giveUpAt = Number.POSITIVE_INFINITY;
    const rawSender = async (via: 'http' | 'grpc') => {
      const queue: Batch[] = [];
      for (let n = 0; emitting || queue.length > 0; n++) {
        if (Date.now() > giveUpAt) throw new Error(`${via}: ${queue.length} batches still refused a minute after the load stopped`);
        if (emitting) {
          const seqs = Array.from({ length: 50 }, (_, k) => `${via}-${n}-${k}`);
          rawSent.push(...seqs);
          queue.push(buildBatch(seqs));
        }
        const batch = queue[0] as Batch;
        const body = requestBytes(batch);
        const answer = via === 'http' ? await postRaw(server.urls.http, tokens.ingest, body) : await grpcRaw(grpcClient, tokens.ingest, body);
        answers.push({ ...answer, via });
        if (answer.ok) {
          queue.shift();
          for (const s of batch.seqs) rawAcked.add(s);
        } else {
          await sleep(100);
        }
      }
    };
    const emitter = (async () => {
      for (let n = 0; emitting; n++) {
        for (let k = 0; k < 20; k++) {
          const seq = `sdk-${n}-${k}`;
          sdkEmitted.push(seq);
          sdkLogger.emit({ ...promptRecord(seq, 'fault@example.com'), severityNumber: SeverityNumber.UNSPECIFIED });
        }
        await sleep(50);
      }
    })();
    const raw = [rawSender('http'), rawSender('grpc')];

    await sleep(2000);
    await pgs.handle.stop();
    const stoppedAt = Date.now();
    await sleep(4000);
    const restartBegan = Date.now();
    pgs.handle = await startEmbeddedPostgres({ dataDir: pgs.dataDir, port: pgs.port, logger: testLogger });
    const restartedAt = Date.now();
    await sleep(3000);
    emitting = false;
    giveUpAt = Date.now() + 60_000;
    await emitter;
    await Promise.all(raw);
    await provider.forceFlush();
    await provider.shutdown();
    grpcClient.close();
    diag.disable();

    const during = answers.filter((a) => a.startedAt >= stoppedAt && a.endedAt <= restartBegan);
    const refused = answers.filter((a) => !a.ok);
    const firstOkAfter = (via: string) => answers.find((a) => a.via === via && a.ok && a.startedAt >= restartedAt);
    const acked = new Set([...rawAcked, ...sdkAcked]);
    const stored = await storedSeqCounts(pgs.handle.url, tenant);
    const fig = figures([...rawSent, ...sdkEmitted], acked, stored);
    const prompts = await rollupPrompts(server.urls.api, tokens.admin);
    const statusCounts = (list: typeof answers) => Object.entries(
      list.reduce<Record<string, number>>((m, a) => ({ ...m, [`${a.via} ${a.status}`]: (m[`${a.via} ${a.status}`] ?? 0) + 1 }), {}));
    console.log(`      database down ${restartedAt - stoppedAt} ms (restart took ${restartedAt - restartBegan} ms); ` +
      `answers while down: ${JSON.stringify(statusCounts(during))}; all refusals: ${JSON.stringify(statusCounts(refused))}; ` +
      `exporter retries ${exporterRetries}; first 200 after restart: http +${(firstOkAfter('http')?.endedAt ?? NaN) - restartedAt} ms, ` +
      `grpc +${(firstOkAfter('grpc')?.endedAt ?? NaN) - restartedAt} ms`);
    console.log(`      sent ${fig.sent} (raw ${rawSent.length}, SDK ${sdkEmitted.length}), acknowledged ${fig.acked}, stored ${fig.stored}, ` +
      `lost ${fig.lost}, duplicates ${fig.duplicates}, SDK exports failed for ${sdkFailed.length} records, rollup prompts ${prompts}`);

    // While the database was down: only "retry later", with the configured delay, on both transports.
    expect(during.filter((a) => a.via === 'http').length).to.be.greaterThan(0);
    expect(during.filter((a) => a.via === 'grpc').length).to.be.greaterThan(0);
    for (const a of during) expect([a.via, a.status, a.retryAfter]).to.deep.equal([a.via, a.via === 'http' ? '503' : 'UNAVAILABLE', RETRY_AFTER_SECONDS]);
    // And at no time any other refusal (no 500, no dropped connection).
    for (const a of refused) expect([a.status, a.retryAfter]).to.deep.equal([a.via === 'http' ? '503' : 'UNAVAILABLE', RETRY_AFTER_SECONDS]);
    // The same process, reconnected by itself.
    expect(server.child.exitCode).to.equal(null);
    expect(firstOkAfter('http')).to.not.equal(undefined);
    expect(firstOkAfter('grpc')).to.not.equal(undefined);
    // The exporter's own retries were needed, and delivered everything.
    expect(exporterRetries).to.be.greaterThan(0);
    expect(sdkFailed).to.deep.equal([]);
    expect(fig.lostSeqs).to.deep.equal([]);
    expect(fig.duplicates).to.equal(0);
    expect(fig.acked).to.equal(fig.sent);
    expect(fig.stored).to.equal(fig.sent);
    expect(prompts).to.equal(fig.stored);
  });
});
