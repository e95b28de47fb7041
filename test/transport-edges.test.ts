import net from 'node:net';
import { Writable } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { loadConfig } from '../src/config.js';
import { createTenant, createToken } from '../src/ingest/tenancy.js';
import { createLogger } from '../src/log.js';
import { protoRoot } from '../src/otlp/proto.js';
import { type RunningService, startService } from '../src/service.js';
import { createTestDatabase } from './support/postgres.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The service with its log lines collected (pino JSON, parsed). */
async function startLogged(env: Record<string, string>) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const config = loadConfig({
    BIND_HOST: '127.0.0.1', OTLP_GRPC_PORT: '0', OTLP_HTTP_PORT: '0', API_PORT: '0', PIPELINE_ENABLED: 'false',
    DATABASE_URL: await createTestDatabase(), LOG_LEVEL: 'info', ...env,
  });
  const svc: RunningService = await startService(config, createLogger('info', sink), { print: () => {} });
  await createTenant(svc.store, { id: 'edges' }, 90);
  const token = (await createToken(svc.store, 'edges', 'ingest')).token;
  return { svc, token, lines, http: `http://127.0.0.1:${svc.ports.http}`, grpc: `127.0.0.1:${svc.ports.grpc}` };
}

describe('transport edges: failure logs, gRPC health while stopping', function () {
  this.timeout(60_000);

  it('writes one log line per failed HTTP request: 404s, 413s Fastify finds while reading, in-flight 503s', async () => {
    const { svc, token, lines, http } = await startLogged({ MAX_REQUEST_BYTES: String(64 * 1024), MAX_INFLIGHT_BYTES: String(64 * 1024) });
    try {
      const failures = () => lines.filter((l) => l['msg'] === 'export failed').map((l) => l['status']);
      const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };

      await (await fetch(`${http}/v1/nothing-here`, { method: 'POST', body: '{}', headers })).arrayBuffer();
      // A chunked body (no Content-Length): only reading it shows it is too large.
      const chunked = new ReadableStream<Uint8Array>({
        start(c) {
          for (let i = 0; i < 5; i++) c.enqueue(new Uint8Array(32 * 1024).fill(0x20));
          c.close();
        },
      });
      const tooLarge = await fetch(`${http}/v1/logs`, { method: 'POST', body: chunked, headers, duplex: 'half' } as RequestInit);
      await tooLarge.arrayBuffer();
      expect(tooLarge.status).to.equal(413);
      // A request holding half the budget, and one that does not fit beside it.
      const holder = net.connect(svc.ports.http, '127.0.0.1');
      await new Promise((r) => holder.once('connect', r));
      holder.write(`POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer ${token}\r\nContent-Length: 40000\r\n\r\n{`);
      await sleep(200);
      const busy = await fetch(`${http}/v1/logs`, { method: 'POST', body: `{"resourceLogs":[]${' '.repeat(40_000)}}`, headers });
      await busy.arrayBuffer();
      expect(busy.status).to.equal(503);
      holder.destroy();
      await sleep(100);

      expect(failures()).to.deep.equal([404, 413, 503]);
      const lastLine = lines.filter((l) => l['msg'] === 'export failed').at(-1) ?? {};
      expect(lastLine).to.include({ signal: 'logs', protocol: 'http/json', status: 503, level: 40 });
      expect(String(lastLine['err'])).to.match(/too many bytes in flight/);
    } finally {
      await svc.stop();
    }
  });

  it('reports NOT_SERVING to a gRPC health watcher when the server stops, and ends the watch so shutdown need not wait', async () => {
    const { svc, grpc: address } = await startLogged({ SHUTDOWN_TIMEOUT_MS: '10000' });
    const client = new grpc.Client(address, grpc.credentials.createInsecure());
    const Check = protoRoot.lookupType('grpc.health.v1.HealthCheckRequest');
    const Resp = protoRoot.lookupType('grpc.health.v1.HealthCheckResponse');
    const statuses: number[] = [];
    const stream = client.makeServerStreamRequest('/grpc.health.v1.Health/Watch', (b: Buffer) => b, (b: Buffer) => b,
      Buffer.from(Check.encode(Check.fromObject({ service: 'opentelemetry.proto.collector.logs.v1.LogsService' })).finish()));
    stream.on('data', (b: Buffer) => statuses.push((Resp.decode(b) as unknown as { status: number }).status));
    const ended = new Promise<void>((resolve) => {
      stream.on('end', resolve);
      stream.on('error', () => resolve());
    });
    try {
      for (let i = 0; i < 50 && statuses.length === 0; i++) await sleep(50);
      expect(statuses).to.deep.equal([1]);
      const began = Date.now();
      await svc.stop();
      const stopMs = Date.now() - began;
      await ended;
      expect(statuses).to.deep.equal([1, 2]);
      // Far below the 9 s a still-open watch would hold the gRPC server's graceful shutdown.
      expect(stopMs).to.be.below(5000);
    } finally {
      client.close();
    }
  });
});
