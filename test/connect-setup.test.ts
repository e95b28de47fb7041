import http from 'node:http';
import { expect } from 'chai';
import { type TestService, startTestService } from './support/service.js';

/** The endpoints the Connect page and `setup` hand out: the configured public URLs, else the host the request used. */
describe('connect setup: public endpoints', function () {
  this.timeout(60_000);
  const services: TestService[] = [];
  after(async () => {
    for (const s of services) await s.close();
  });

  /** GET /api/v1/connect/setup with the Host header a browser would send (fetch may not set one). */
  const setup = async (svc: TestService, host: string) => {
    const token = await svc.token('acme', 'read');
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const url = new URL('/api/v1/connect/setup', svc.urls.api);
      http.get(url, { headers: { authorization: `Bearer ${token}`, host } }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      }).on('error', reject);
    });
    expect(status, body).to.equal(200);
    return JSON.parse(body) as { tenant: string; grpcEndpoint: string; httpEndpoint: string };
  };

  it('hands out PUBLIC_GRPC_URL and PUBLIC_HTTP_URL when they are set, whatever host the browser used', async () => {
    const svc = await startTestService({ PUBLIC_GRPC_URL: 'https://otel.example.com', PUBLIC_HTTP_URL: 'https://otel-http.example.com:443' });
    services.push(svc);
    expect(await setup(svc, 'dashboard.internal:8080')).to.deep.equal({
      tenant: 'acme',
      grpcEndpoint: 'https://otel.example.com',
      httpEndpoint: 'https://otel-http.example.com:443',
    });
  });

  it('otherwise names the host of the request, with the OTLP ports', async () => {
    const svc = await startTestService({ OTLP_GRPC_PORT: '0', OTLP_HTTP_PORT: '0' });
    services.push(svc);
    const got = await setup(svc, 'receiver.corp.example:8080');
    expect(got.grpcEndpoint).to.equal(`http://receiver.corp.example:${svc.config.OTLP_GRPC_PORT}`);
    expect(got.httpEndpoint).to.equal(`http://receiver.corp.example:${svc.config.OTLP_HTTP_PORT}`);
  });
});
