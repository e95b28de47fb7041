import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { startEmbeddedPostgres } from '../src/store/postgres/index.js';
import { type Endpoints, sendLogs, sendMetrics, sendSpans } from './support/otel.js';
import { type TestPostgres, startTestPostgres, testLogger } from './support/postgres.js';
import { type TestService, startTestService } from './support/service.js';
import { eventually, runPipeline, utcDay } from './support/usage.js';

/**
 * The operations surface on API_PORT after real exports through the OTel exporters: /metrics names what
 * the issue asks for, counts what was sent, and carries no tenant, seat, email, session or token in any
 * label; /readyz answers 503 while the database is stopped and 200 once it is back; a pipeline run started
 * from the API is counted, and so is one that fails.
 */

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The Prometheus text format's samples (`name{a="b",…} value`); HELP and TYPE lines are kept apart. */
function parseProm(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1] as string, type[2] as string);
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1] as string] = l[2] as string;
    samples.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return { samples, types };
}

describe('operations endpoints: /metrics and /readyz', function () {
  this.timeout(90_000);
  const tenant = 'opsmetrics-zq7';
  const email = 'seat-zq7@example.com';
  const sessions = [randomUUID(), randomUUID(), randomUUID()];
  let pg: TestPostgres;
  let svc: TestService;
  let ingest: string;
  let admin: string;
  let endpoints: Endpoints;

  const scrape = async () => {
    const res = await fetch(`${svc.urls.api}/metrics`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^text\/plain/);
    const text = await res.text();
    return { text, ...parseProm(text) };
  };
  const value = (samples: Sample[], name: string, labels: Record<string, string>): number | undefined =>
    samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v) &&
      Object.keys(s.labels).length === Object.keys(labels).length)?.value;

  before(async () => {
    pg = await startTestPostgres('ops');
    // Token lookups stay cached through the outage below, so the pipeline run itself meets the stopped database.
    svc = await startTestService({ DATABASE_URL: pg.handle.url, TOKEN_CACHE_TTL_MS: '600000' });
    ingest = await svc.token(tenant, 'ingest');
    admin = await svc.token(tenant, 'admin');
    endpoints = { grpc: svc.urls.grpc, http: svc.urls.http };
  });
  after(async () => {
    await svc?.close();
    await pg?.destroy();
  });

  it('counts what real exporters sent, by signal, protocol and outcome, with no tenant or seat in any label', async () => {
    const code = { 'service.name': 'claude-code' };
    const log = (session: string, time?: number) => ({
      body: 'claude_code.user_prompt', ...(time === undefined ? {} : { time }),
      attributes: { 'event.name': 'user_prompt', 'session.id': session, 'user.email': email, 'prompt.id': randomUUID() },
    });
    const results = [
      await sendLogs('grpc', endpoints, ingest, code, [log(sessions[0] as string), log(sessions[0] as string)]),
      // One record a day in the future: rejected (partial success), the other accepted.
      await sendLogs('http/json', endpoints, ingest, code, [log(sessions[1] as string), log(sessions[1] as string, Date.now() + 86_400_000)]),
      await sendLogs('http/protobuf', endpoints, ingest, code, [log(sessions[2] as string)]),
      await sendMetrics('http/json', endpoints, ingest, code, [{ name: 'claude_code.commit.count', points: [
        { value: 1, attributes: { 'session.id': sessions[1] as string, 'user.email': email } },
        { value: 2, attributes: { 'session.id': sessions[2] as string, 'user.email': email } },
      ] }]),
      await sendSpans('grpc', endpoints, ingest, code, ['claude_code.interaction', 'claude_code.llm_request'], { 'session.id': sessions[0] as string, 'user.email': email }),
    ];
    for (const r of results) expect(r.ok, String(r.error)).to.equal(true);
    // Refused at the door: 401 over HTTP, counted as a request with its status.
    expect((await sendLogs('http/json', endpoints, 'aiu_not_a_token', code, [log(randomUUID())])).ok).to.equal(false);
    await runPipeline(svc, admin, utcDay(), utcDay());

    const { text, samples, types } = await scrape();
    const received = 'aiu_received_records_total';
    expect(types.get(received)).to.equal('counter');
    expect(value(samples, received, { signal: 'logs', protocol: 'grpc', outcome: 'accepted' })).to.equal(2);
    expect(value(samples, received, { signal: 'logs', protocol: 'http/json', outcome: 'accepted' })).to.equal(1);
    expect(value(samples, received, { signal: 'logs', protocol: 'http/json', outcome: 'rejected' })).to.equal(1);
    expect(value(samples, received, { signal: 'logs', protocol: 'http/protobuf', outcome: 'accepted' })).to.equal(1);
    expect(value(samples, received, { signal: 'metrics', protocol: 'http/json', outcome: 'accepted' })).to.equal(2);
    expect(value(samples, received, { signal: 'traces', protocol: 'grpc', outcome: 'accepted' })).to.equal(2);

    const duration = 'aiu_export_request_duration_seconds';
    expect(types.get(duration)).to.equal('histogram');
    expect(value(samples, `${duration}_count`, { signal: 'logs', protocol: 'grpc', code: 'OK' })).to.equal(1);
    expect(value(samples, `${duration}_count`, { signal: 'traces', protocol: 'grpc', code: 'OK' })).to.equal(1);
    expect(value(samples, `${duration}_count`, { signal: 'logs', protocol: 'http/json', code: '200' })).to.equal(1);
    expect(value(samples, `${duration}_count`, { signal: 'logs', protocol: 'http/json', code: '401' })).to.equal(1);
    expect(value(samples, `${duration}_count`, { signal: 'metrics', protocol: 'http/json', code: '200' })).to.equal(1);
    expect(value(samples, `${duration}_bucket`, { signal: 'logs', protocol: 'grpc', code: 'OK', le: '+Inf' })).to.equal(1);
    expect(value(samples, `${duration}_sum`, { signal: 'logs', protocol: 'grpc', code: 'OK' })).to.be.greaterThan(0);

    const writes = 'aiu_store_write_duration_seconds';
    expect(types.get(writes)).to.equal('histogram');
    // One committed write per export request that had records to store.
    expect(value(samples, `${writes}_count`, { outcome: 'ok' })).to.equal(5);
    expect(value(samples, `${writes}_sum`, { outcome: 'ok' })).to.be.greaterThan(0);

    // The run started from the API: one tenant-day, one observation.
    expect(types.get('aiu_pipeline_run_duration_seconds')).to.equal('histogram');
    expect(value(samples, 'aiu_pipeline_run_duration_seconds_count', { job: 'api', outcome: 'ok' })).to.equal(1);
    expect(types.get('aiu_pipeline_failures_total')).to.equal('counter');

    // Nothing tenant-, seat- or session-shaped anywhere: not in our series, not in the default ones.
    for (const secret of [tenant, email, 'zq7', ...sessions, ingest, admin, ingest.slice(4, 12), admin.slice(4, 12)]) {
      expect(text, secret).not.to.contain(secret);
    }
    const allowed: Record<string, RegExp> = {
      signal: /^(logs|metrics|traces)$/, protocol: /^(grpc|http\/json|http\/protobuf)$/,
      outcome: /^(accepted|rejected|failed|ok|error)$/, code: /^([A-Z_]+|\d{3})$/, le: /^([\d.e+-]+|\+Inf)$/, job: /^[\w-]+$/,
    };
    for (const s of samples.filter((x) => x.name.startsWith('aiu_'))) {
      for (const [label, v] of Object.entries(s.labels)) {
        expect(allowed[label], `label ${label} on ${s.name}`).to.not.equal(undefined);
        expect(v, `${s.name}{${label}}`).to.match(allowed[label] as RegExp);
      }
    }
  });

  it('answers /readyz 503 while the database is stopped and 200 when it is back; a failed API run is counted', async function () {
    this.timeout(120_000);
    const ready = async () => {
      const res = await fetch(`${svc.urls.api}/readyz`);
      return { status: res.status, body: (await res.json()) as { status: string; store: string } };
    };
    expect(await ready()).to.deep.equal({ status: 200, body: { status: 'ready', store: 'postgres' } });

    await pg.handle.stop();
    try {
      const down = await eventually(async () => {
        const r = await ready();
        if (r.status !== 503) throw new Error(`readyz answered ${r.status} with the database stopped`);
        return r;
      }, 15_000);
      expect(down.body).to.deep.equal({ status: 'not ready', store: 'postgres' });
      // The process itself is fine, and says so.
      expect((await fetch(`${svc.urls.api}/healthz`)).status).to.equal(200);

      const run = await fetch(`${svc.urls.api}/api/v1/pipeline/runs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ from: utcDay(), to: utcDay() }),
      });
      expect(run.status).to.equal(503);
      const { samples } = await scrape();
      expect(value(samples, 'aiu_pipeline_failures_total', { job: 'api' })).to.equal(1);
      expect(value(samples, 'aiu_pipeline_run_duration_seconds_count', { job: 'api', outcome: 'error' })).to.equal(1);
      expect(value(samples, 'aiu_pipeline_run_duration_seconds_count', { job: 'api', outcome: 'ok' })).to.equal(1);
    } finally {
      pg.handle = await startEmbeddedPostgres({ dataDir: pg.dataDir, port: pg.port, logger: testLogger });
    }
    const back = await eventually(async () => {
      const r = await ready();
      if (r.status !== 200) throw new Error(`readyz still answers ${r.status}`);
      return r;
    }, 30_000);
    expect(back.body).to.deep.equal({ status: 'ready', store: 'postgres' });
  });
});
