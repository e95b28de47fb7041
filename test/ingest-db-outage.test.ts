import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { protoRoot } from '../src/otlp/proto.js';
import { startEmbeddedPostgres } from '../src/store/postgres/index.js';
import { type TestPostgres, startTestPostgres, testLogger } from './support/postgres.js';
import { type TestService, startTestService } from './support/service.js';

/** The database stops under a running receiver: retryable answers, nothing acknowledged, recovery without a restart. */
describe('ingest: database stopped', function () {
  this.timeout(90_000);
  let pg: TestPostgres;
  let svc: TestService;
  let token: string;

  before(async () => {
    pg = await startTestPostgres('ingest-outage');
    svc = await startTestService({ DATABASE_URL: pg.handle.url, RETRY_AFTER_SECONDS: '3' });
    token = await svc.token('acme', 'ingest');
  });
  after(async () => {
    await svc?.close();
    await pg?.destroy();
  });

  const body = (session: string) => JSON.stringify({
    resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'claude-code' } }] },
      scopeLogs: [{ logRecords: [{ timeUnixNano: String(BigInt(Date.now()) * 1_000_000n), body: { stringValue: 'claude_code.user_prompt' },
        attributes: [{ key: 'session.id', value: { stringValue: session } }] }] }] }],
  });
  const post = (session: string) =>
    fetch(`${svc.urls.http}/v1/logs`, { method: 'POST', body: body(session), headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` } });
  const grpcExport = (session: string) => {
    const Req = protoRoot.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest');
    const bytes = Buffer.from(Req.encode(Req.fromObject(JSON.parse(body(session)) as object)).finish());
    const client = new grpc.Client(svc.urls.grpc.replace('http://', ''), grpc.credentials.createInsecure());
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${token}`);
    return new Promise<grpc.ServiceError | null>((resolve) =>
      client.makeUnaryRequest('/opentelemetry.proto.collector.logs.v1.LogsService/Export', (b: Buffer) => b, (b: Buffer) => b, bytes, md, (err) => {
        client.close();
        resolve(err);
      }));
  };
  /** grpc.health.v1 Check of the whole server. */
  const health = () => {
    const Check = protoRoot.lookupType('grpc.health.v1.HealthCheckRequest');
    const Resp = protoRoot.lookupType('grpc.health.v1.HealthCheckResponse');
    const client = new grpc.Client(svc.urls.grpc.replace('http://', ''), grpc.credentials.createInsecure());
    return new Promise<number>((resolve, reject) =>
      client.makeUnaryRequest('/grpc.health.v1.Health/Check', (b: Buffer) => b, (b: Buffer) => b,
        Buffer.from(Check.encode(Check.fromObject({ service: '' })).finish()), new grpc.Metadata(), (err, res) => {
          client.close();
          if (err) reject(err);
          else resolve((Resp.decode(res as Buffer) as unknown as { status: number }).status);
        }));
  };
  /** Polls health until it reports `want` (1 SERVING, 2 NOT_SERVING); the last status seen. */
  const healthBecomes = async (want: number) => {
    let seen = -1;
    for (let i = 0; i < 50 && seen !== want; i++) {
      seen = await health();
      if (seen !== want) await new Promise((r) => setTimeout(r, 200));
    }
    return seen;
  };
  const stored = async (session: string) =>
    Number((await svc.sql<{ n: string }>('SELECT count(*) AS n FROM events WHERE session_id = $1', [session]))[0]?.n);

  it('answers 503 + Retry-After and UNAVAILABLE + RetryInfo while the database is down, and recovers by itself', async () => {
    const before = randomUUID();
    expect((await post(before)).status).to.equal(200);
    expect(await health(), 'gRPC health with the database up').to.equal(1);

    await pg.handle.stop();
    expect(await healthBecomes(2), 'gRPC health with the database down').to.equal(2);
    const during = randomUUID();
    const res = await post(during);
    expect(res.status).to.equal(503);
    expect(res.headers.get('retry-after')).to.equal('3');
    const status = (await res.json()) as { code: number; message: string; details: { '@type': string; retryDelay: string }[] };
    expect(status.code).to.equal(14);
    expect(status.details[0]).to.deep.equal({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '3s' });

    const err = await grpcExport(during);
    expect(err?.code).to.equal(grpc.status.UNAVAILABLE);
    const details = err?.metadata.get('grpc-status-details-bin')[0] as Buffer;
    const decoded = protoRoot.lookupType('google.rpc.Status').decode(details) as unknown as { details: { type_url?: string; typeUrl?: string }[] };
    expect(decoded.details.map((d) => d.typeUrl ?? d.type_url)).to.deep.equal(['type.googleapis.com/google.rpc.RetryInfo']);

    pg.handle = await startEmbeddedPostgres({ dataDir: pg.dataDir, port: pg.port, logger: testLogger });
    const after = randomUUID();
    let answered = 0;
    for (let i = 0; i < 50; i++) {
      answered = (await post(after)).status;
      if (answered === 200) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(answered).to.equal(200);
    expect(await healthBecomes(1), 'gRPC health once the database is back').to.equal(1);
    await svc.sql('SELECT 1');
    expect(await stored(before)).to.equal(1);
    expect(await stored(during)).to.equal(0);
    expect(await stored(after)).to.equal(1);
  });
});
