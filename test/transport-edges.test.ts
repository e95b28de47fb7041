import http2 from 'node:http2';
import net from 'node:net';
import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { loadConfig } from '../src/config.js';
import { createTenant, createToken } from '../src/ingest/tenancy.js';
import { createLogger } from '../src/log.js';
import { encodeRequestProtobuf } from '../src/otlp/encode-request.js';
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

  it('writes one log line per failed gRPC call, also those grpc-js or the admission check end before the handler', async () => {
    const { svc, token, lines, grpc: address } = await startLogged({ MAX_REQUEST_BYTES: String(64 * 1024), MAX_INFLIGHT_BYTES: String(64 * 1024) });
    const session = http2.connect(`http://${address}`);
    session.on('error', () => undefined);
    const path = '/opentelemetry.proto.collector.logs.v1.LogsService/Export';
    const frame = (bytes: Buffer, compressed: boolean, announced = bytes.length) => {
      const head = Buffer.alloc(5);
      head.writeUInt8(compressed ? 1 : 0, 0);
      head.writeUInt32BE(announced, 1);
      return Buffer.concat([head, bytes]);
    };
    const open = (auth: boolean) => {
      const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', 'grpc-encoding': 'gzip',
        ...(auth ? { authorization: `Bearer ${token}` } : {}) });
      const fields: http2.IncomingHttpHeaders = {};
      stream.on('response', (h) => Object.assign(fields, h));
      stream.on('trailers', (t) => Object.assign(fields, t));
      stream.on('error', () => undefined);
      stream.resume();
      const code = new Promise<string>((resolve) => stream.on('close', () => resolve(grpc.status[Number(fields['grpc-status'])] ?? `none (${String(fields['grpc-status'])})`)));
      return { stream, code };
    };
    const call = (body: Buffer, auth = true) => {
      const c = open(auth);
      c.stream.end(body);
      return c.code;
    };
    try {
      const failures = () => lines.filter((l) => l['msg'] === 'export failed');
      // A call whose message is still arriving holds the whole budget; the next is refused at its headers.
      // Then the holder's message completes: the budget is back before its (successful) answer.
      const held = frame(encodeRequestProtobuf('logs', JSON.stringify({ resourceLogs: [{
        resource: { attributes: [{ key: 'pad', value: { stringValue: 'x'.repeat(30_000) } }] }, scopeLogs: [] }] })), false);
      const holder = open(true);
      holder.stream.write(held.subarray(0, 1000));
      await sleep(200);
      expect(await call(frame(Buffer.alloc(0), false))).to.equal('UNAVAILABLE');
      holder.stream.end(held.subarray(1000));
      expect(await holder.code).to.equal('OK');
      // Ended by grpc-js while it reads the message: corrupt gzip, too large as sent, too large once inflated.
      expect(await call(frame(Buffer.from('not gzip at all'), true))).to.equal('INVALID_ARGUMENT');
      expect(await call(frame(Buffer.alloc(100 * 1024, 0x20), false))).to.equal('RESOURCE_EXHAUSTED');
      expect(await call(frame(gzipSync(Buffer.alloc(1024 * 1024, 0x20)), true))).to.equal('RESOURCE_EXHAUSTED');
      // Ended by the handler (logged there, once), and a call that succeeds (not logged).
      expect(await call(frame(Buffer.alloc(0), false), false)).to.equal('UNAUTHENTICATED');
      expect(await call(frame(gzipSync(Buffer.alloc(0)), true))).to.equal('OK');

      expect(failures().map((l) => l['code'])).to.deep.equal(['UNAVAILABLE', 'INVALID_ARGUMENT', 'RESOURCE_EXHAUSTED', 'RESOURCE_EXHAUSTED', 'UNAUTHENTICATED']);
      const errs = failures().map((l) => String(l['err']));
      expect(errs[0]).to.match(/too many bytes in flight/);
      expect(errs[1]).to.match(/corrupt compressed message/);
      expect(errs[2]).to.equal('message larger than 65536 bytes');
      expect(errs[3]).to.equal('message decompresses to more than 65536 bytes');
      expect(errs[4]).to.match(/bearer token/);
      for (const line of failures()) expect(line).to.include({ signal: 'logs', protocol: 'grpc', level: 40 });
      expect(JSON.stringify(lines)).to.not.include(token);
    } finally {
      session.close();
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
    // How the watch ended: OK when the server ended it itself; an error (UNAVAILABLE, CANCELLED) had the
    // graceful shutdown waited on it until SHUTDOWN_TIMEOUT_MS and then cut it.
    const ended = new Promise<string>((resolve) => {
      stream.on('status', (s: grpc.StatusObject) => resolve(grpc.status[s.code] ?? String(s.code)));
      stream.on('error', (e: grpc.ServiceError) => resolve(grpc.status[e.code] ?? String(e.code)));
    });
    try {
      for (let i = 0; i < 50 && statuses.length === 0; i++) await sleep(50);
      expect(statuses).to.deep.equal([1]);
      await svc.stop();
      expect(await ended, 'the watch ended by the server, not cut by a forced shutdown').to.equal('OK');
      expect(statuses).to.deep.equal([1, 2]);
    } finally {
      client.close();
    }
  });
});
