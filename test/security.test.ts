import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { startService } from '../src/service.js';
import { createTenant, createToken } from '../src/ingest/tenancy.js';
import { protoRoot } from '../src/otlp/proto.js';
import { protocols, sendLogs } from './support/otel.js';
import { createTestDatabase } from './support/postgres.js';
import { type TestService, startTestService } from './support/service.js';

/** A throwaway CA, a server certificate for 127.0.0.1, and a client certificate, made with openssl. */
function makeCertificates(dir: string) {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=test-ca', '-keyout', 'ca.key', '-out', 'ca.crt');
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr');
  ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'server.ext', '-out', 'server.crt');
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=laptop-1', '-keyout', 'client.key', '-out', 'client.csr');
  ssl('x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'client.ext', '-out', 'client.crt');
  const read = (f: string) => readFileSync(join(dir, f));
  return { ca: read('ca.crt'), clientCert: read('client.crt'), clientKey: read('client.key') };
}

describe('security', function () {
  this.timeout(120_000);

  describe('TLS and mTLS with the real exporters', () => {
    let dir: string;
    let certs: ReturnType<typeof makeCertificates>;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'aiu-tls-'));
      certs = makeCertificates(dir);
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    for (const mtls of [false, true]) {
      it(mtls ? 'requires a client certificate signed by TLS_CLIENT_CA_FILE (mTLS)' : 'serves TLS on gRPC, HTTP and the API', async () => {
        const svc = await startTestService({
          TLS_CERT_FILE: join(dir, 'server.crt'), TLS_KEY_FILE: join(dir, 'server.key'),
          ...(mtls ? { TLS_CLIENT_CA_FILE: join(dir, 'ca.crt') } : {}),
        });
        try {
          const token = await svc.token('secure', 'ingest');
          const endpoints = {
            grpc: svc.urls.grpc.replace('http:', 'https:'), http: svc.urls.http.replace('http:', 'https:'),
            tls: { ca: certs.ca, ...(mtls ? { cert: certs.clientCert, key: certs.clientKey } : {}) },
          };
          for (const protocol of protocols) {
            const session = randomUUID();
            const ok = await sendLogs(protocol, endpoints, token, { 'service.name': 'claude-code' }, [{ body: 'claude_code.user_prompt', attributes: { 'session.id': session } }]);
            expect(ok.ok, `${protocol}: ${String(ok.error)}`).to.equal(true);
            expect((await svc.sql('SELECT 1 FROM events WHERE session_id = $1', [session])).length).to.equal(1);
            if (mtls) {
              const anonymous = await sendLogs(protocol, { ...endpoints, tls: { ca: certs.ca } }, token, {}, [{ body: 'x', attributes: { 'session.id': session } }]);
              expect(anonymous.ok, `${protocol} without a client certificate`).to.equal(false);
            }
          }
          // Plain HTTP is not served on a TLS port.
          const plain = await fetch(`${svc.urls.http}/v1/logs`, { method: 'POST' }).then(() => 'answered', () => 'refused');
          expect(plain).to.equal('refused');
        } finally {
          await svc.close();
        }
      });
    }
  });

  describe('tokens', () => {
    it('never writes a token to the logs, even on failures', async () => {
      const lines: string[] = [];
      const sink = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
      const config = loadConfig({
        BIND_HOST: '127.0.0.1', OTLP_GRPC_PORT: '0', OTLP_HTTP_PORT: '0', API_PORT: '0', PIPELINE_ENABLED: 'false',
        DATABASE_URL: await createTestDatabase(), LOG_LEVEL: 'trace',
      });
      const printed: string[] = [];
      const svc = await startService(config, createLogger('trace', sink), { print: (t) => printed.push(t) });
      try {
        await createTenant(svc.store, { id: 'logs' }, 90);
        const good = (await createToken(svc.store, 'logs', 'ingest')).token;
        const read = (await createToken(svc.store, 'logs', 'read')).token;
        const bad = `aiu_${'Z'.repeat(43)}`;
        const http = `http://127.0.0.1:${svc.ports.http}`;
        for (const t of [good, bad, read]) {
          await fetch(`${http}/v1/logs`, { method: 'POST', body: '{"resourceLogs":[{}]}', headers: { 'content-type': 'application/json', authorization: `Bearer ${t}` } });
          await fetch(`${http}/v1/logs`, { method: 'POST', body: 'garbage', headers: { 'content-type': 'application/json', authorization: `Bearer ${t}` } });
          await fetch(`http://127.0.0.1:${svc.ports.api}/api/v1/tokens`, { headers: { authorization: `Bearer ${t}` } });
        }
        await sendLogs('grpc', { grpc: `http://127.0.0.1:${svc.ports.grpc}`, http }, bad, {}, [{ body: 'x', attributes: {} }]);
        const log = lines.join('');
        expect(lines.length).to.be.greaterThan(3);
        expect(log).to.include('export failed');
        for (const t of [good, bad, read]) {
          expect(log).to.not.include(t);
          expect(log).to.not.include(t.slice(4, 20));
        }
      } finally {
        await svc.stop();
      }
    });

    it('rate limits repeated authentication failures from one address without slowing valid clients', async () => {
      // The token cache stays short (the harness's 200 ms), so the good token below is looked up again.
      const svc = await startTestService({ AUTH_FAILURES_PER_MINUTE: '5' });
      try {
        const token = await svc.token('limited', 'ingest');
        const fresh = await svc.token('limited', 'ingest');
        const post = (t: string) => fetch(`${svc.urls.http}/v1/logs`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json', authorization: `Bearer ${t}` } });
        expect((await post(token)).status).to.equal(200);
        const statuses: number[] = [];
        for (let i = 0; i < 8; i++) statuses.push((await post(`aiu_${String(i).repeat(43)}`)).status);
        expect(statuses.slice(0, 5)).to.deep.equal([401, 401, 401, 401, 401]);
        expect(statuses.slice(5)).to.deep.equal([429, 429, 429]);
        const limited = await post('aiu_guess');
        expect(limited.status).to.equal(429);
        expect(Number(limited.headers.get('retry-after'))).to.be.within(1, 60);
        // Valid clients at the same (NAT) address keep working once their cache entry expired,
        // and so does one whose token this server has never seen.
        await new Promise((r) => setTimeout(r, svc.config.TOKEN_CACHE_TTL_MS + 100));
        expect((await post(token)).status).to.equal(200);
        expect((await post(fresh)).status).to.equal(200);
        const viaGrpc = await sendLogs('grpc', svc.urls, fresh, { 'service.name': 'claude-code' }, [{ body: 'claude_code.user_prompt', attributes: {} }]);
        expect(viaGrpc, String(viaGrpc.error)).to.deep.equal({ ok: true });
        expect((await post('aiu_guess')).status, 'the address is still limited').to.equal(429);

        const client = new grpc.Client(svc.urls.grpc.replace('http://', ''), grpc.credentials.createInsecure());
        const md = new grpc.Metadata();
        md.set('authorization', 'Bearer aiu_guessing');
        const err = await new Promise<grpc.ServiceError | null>((resolve) =>
          client.makeUnaryRequest('/opentelemetry.proto.collector.logs.v1.LogsService/Export', (b: Buffer) => b, (b: Buffer) => b, Buffer.alloc(0), md, (e) => resolve(e)));
        client.close();
        expect(err?.code).to.equal(grpc.status.RESOURCE_EXHAUSTED);
        const status = protoRoot.lookupType('google.rpc.Status').decode(err?.metadata.get('grpc-status-details-bin')[0] as Buffer) as unknown as { details: { type_url: string }[] };
        expect(status.details.map((d) => d.type_url)).to.deep.equal(['type.googleapis.com/google.rpc.RetryInfo']);
      } finally {
        await svc.close();
      }
    });

    it('stores only a hash of each token', async () => {
      const svc: TestService = await startTestService();
      try {
        const token = await svc.token('hashed', 'admin');
        const rows = await svc.sql<{ row: string }>('SELECT tokens::text AS row FROM tokens');
        expect(rows.length).to.be.greaterThan(0);
        for (const r of rows) expect(r.row).to.not.include(token.slice(4));
      } finally {
        await svc.close();
      }
    });
  });
});
