import { createServer, type Server } from 'node:http';
import { expect } from 'chai';
import { type FakeAnthropic, HELLO_CONTENT, startFakeAnthropic } from '../scripts/fake-anthropic.js';
import { runClaudeCode } from './support/claude-code.js';
import { type TestService, startTestService } from './support/service.js';
import { type Totals, apiUsage, runPipeline, sessionsSeen, usageTotals, utcDay } from './support/usage.js';

/**
 * The real Claude Code, driven by the fake Anthropic API through Write and
 * Bash `git commit`, exporting to the receiver; the rollup must equal what the
 * client itself reported.
 */
describe('pipeline: real Claude Code sessions roll up exactly', function () {
  this.timeout(180_000);
  let svc: TestService;
  let fake: FakeAnthropic;
  const tenants: Record<string, { ingest: string; read: string; admin: string }> = {};

  before(async () => {
    svc = await startTestService();
    fake = await startFakeAnthropic();
    for (const t of ['cc-grpc', 'cc-json', 'cc-cumulative', 'cc-twice', 'cc-cowork']) {
      tenants[t] = { ingest: await svc.token(t, 'ingest'), read: await svc.token(t, 'read'), admin: await svc.token(t, 'admin') };
    }
  });
  after(async () => {
    await fake?.close();
    await svc?.close();
  });

  // Claude Code counts the pieces between newlines, so a file ending in a newline counts one more.
  const linesInHello = HELLO_CONTENT.split('\n').length;

  async function session(tenant: string, protocol: 'grpc' | 'http/json' | 'http/protobuf', endpoint: string, extra: {
    temporality?: 'delta' | 'cumulative'; resourceAttributes?: string; extraEnv?: Record<string, string>;
  } = {}): Promise<string> {
    const before = sessionsSeen(fake.requests);
    const run = await runClaudeCode({
      prompt: 'Create hello.py and commit it.',
      anthropicUrl: fake.url,
      otlp: { protocol, endpoint, headers: `Authorization=Bearer ${tenants[tenant]?.ingest}`, ...(extra.temporality ? { temporality: extra.temporality } : {}),
        ...(extra.resourceAttributes ? { resourceAttributes: extra.resourceAttributes } : {}) },
      ...(extra.extraEnv ? { extraEnv: extra.extraEnv } : {}),
    });
    expect(run.exitCode, run.stderr).to.equal(0);
    expect(run.stderr).to.not.match(/OTEL diag error/);
    const id = sessionsSeen(fake.requests).find((s) => !before.includes(s));
    expect(id, 'the fake API saw the session').to.be.a('string');
    return id as string;
  }

  /** What the client reported, from the raw records it sent: api_request events and cost.usage points. */
  async function clientReported(sessionId: string) {
    const [ev] = await svc.sql<{ cost: number; n: string }>(
      `SELECT coalesce(sum(cost_usd), 0) AS cost, count(*) AS n FROM events WHERE session_id = $1 AND name = 'api_request'`, [sessionId]);
    return { eventCost: Number(ev?.cost), apiRequestEvents: Number(ev?.n) };
  }

  async function rolledUp(tenant: string): Promise<Totals> {
    const t = tenants[tenant]!;
    await runPipeline(svc, t.admin, utcDay(-1), utcDay(0));
    return (await usageTotals(svc, t.read, utcDay(-1), utcDay(0))).totals;
  }

  function expectSession(totals: Totals, sessionIds: string[], reported: { eventCost: number }) {
    const truth = sessionIds.map((s) => apiUsage(fake.requests, s));
    const sum = (k: keyof (typeof truth)[number]) => truth.reduce((n, t) => n + t[k], 0);
    expect(totals['sessions']).to.equal(sessionIds.length);
    expect(totals['apiRequests']).to.equal(sum('apiRequests'));
    expect(totals['inputTokens']).to.equal(sum('inputTokens'));
    expect(totals['outputTokens']).to.equal(sum('outputTokens'));
    expect(totals['cacheReadTokens']).to.equal(sum('cacheReadTokens'));
    expect(totals['cacheCreationTokens']).to.equal(sum('cacheCreationTokens'));
    expect(totals['costUsd']).to.be.closeTo(reported.eventCost, 1e-9);
    expect(totals['costUsd']).to.be.greaterThan(0);
    expect(totals['prompts']).to.equal(sessionIds.length);
    expect(totals['toolCalls']).to.equal(2 * sessionIds.length);
    expect(totals['toolFailures']).to.equal(0);
  }

  it('over gRPC (delta): cost, tokens, lines, commits, sessions, edits and tools', async () => {
    const id = await session('cc-grpc', 'grpc', svc.urls.grpc);
    const reported = await clientReported(id);
    const [metricCost] = await svc.sql<{ cost: number }>(`SELECT sum(value) AS cost FROM metric_points WHERE session_id = $1 AND name = 'claude_code.cost.usage'`, [id]);
    expect(Number(metricCost?.cost)).to.be.closeTo(reported.eventCost, 1e-9);
    const totals = await rolledUp('cc-grpc');
    expectSession(totals, [id], reported);
    expect(totals['linesAdded']).to.equal(linesInHello);
    expect(totals['linesRemoved']).to.equal(0);
    expect(totals['commits']).to.equal(1);
    expect(totals['editAccepts']).to.equal(1);
    expect(totals['editRejects']).to.equal(0);
    expect(totals['activeTimeCliSeconds']).to.be.greaterThan(0);
  });

  it('over http/json: events and metric points land and roll up the same way', async () => {
    const id = await session('cc-json', 'http/json', svc.urls.http);
    const totals = await rolledUp('cc-json');
    expectSession(totals, [id], await clientReported(id));
    expect(totals['commits']).to.equal(1);
    expect(totals['linesAdded']).to.equal(linesInHello);
  });

  it('with cumulative temporality and a client restart in the middle, counts each run once', async () => {
    const attrs = 'enduser.id=dev@example.com';
    const first = await session('cc-cumulative', 'grpc', svc.urls.grpc, { temporality: 'cumulative', resourceAttributes: attrs });
    const second = await session('cc-cumulative', 'grpc', svc.urls.grpc, { temporality: 'cumulative', resourceAttributes: attrs });
    const reported = await clientReported(first);
    const reported2 = await clientReported(second);
    const { totals, rows } = await (async () => {
      await runPipeline(svc, tenants['cc-cumulative']!.admin, utcDay(-1), utcDay(0));
      return usageTotals(svc, tenants['cc-cumulative']!.read, utcDay(-1), utcDay(0));
    })();
    expectSession(totals, [first, second], { eventCost: reported.eventCost + reported2.eventCost });
    expect(totals['commits']).to.equal(2);
    expect(totals['linesAdded']).to.equal(2 * linesInHello);
    expect(new Set(rows.map((r) => r['seat']))).to.deep.equal(new Set(['enduser:dev@example.com']));
  });

  it('counts batches delivered twice once', async () => {
    const proxy = await duplicatingProxy(svc.urls.http);
    try {
      const id = await session('cc-twice', 'http/protobuf', proxy.url);
      expect(proxy.forwarded()).to.be.greaterThan(0);
      const totals = await rolledUp('cc-twice');
      expectSession(totals, [id], await clientReported(id));
      expect(totals['commits']).to.equal(1);
    } finally {
      await proxy.close();
    }
  });

  it('takes events-only sessions (service.name=cowork, no metrics) from events', async () => {
    const id = await session('cc-cowork', 'http/json', svc.urls.http, {
      resourceAttributes: 'service.name=cowork', extraEnv: { OTEL_METRICS_EXPORTER: 'none' },
    });
    const [points] = await svc.sql<{ n: string }>('SELECT count(*) AS n FROM metric_points WHERE session_id = $1', [id]);
    expect(Number(points?.n)).to.equal(0);
    const { totals, rows } = await (async () => {
      await runPipeline(svc, tenants['cc-cowork']!.admin, utcDay(-1), utcDay(0));
      return usageTotals(svc, tenants['cc-cowork']!.read, utcDay(-1), utcDay(0), 'surface');
    })();
    expect(rows.map((r) => r['surface'])).to.include('cowork');
    expectSession(totals, [id], await clientReported(id));
    expect(totals['editAccepts']).to.equal(1);
    expect(totals['commits']).to.equal(0);
  });

  it('a re-run of the days does not change them', async () => {
    const t = tenants['cc-grpc']!;
    const before = await usageTotals(svc, t.read, utcDay(-1), utcDay(0));
    await runPipeline(svc, t.admin, utcDay(-1), utcDay(0));
    await runPipeline(svc, t.admin, utcDay(-1), utcDay(0));
    const after = await usageTotals(svc, t.read, utcDay(-1), utcDay(0));
    expect(after.rows).to.deep.equal(before.rows);
  });
});

/** Forwards every OTLP/HTTP request to the receiver twice, as a client retrying after a lost response would. */
async function duplicatingProxy(target: string): Promise<{ url: string; forwarded(): number; close(): Promise<void> }> {
  let count = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'content-length') headers[k] = v;
      let last: Response | null = null;
      for (let i = 0; i < 2; i++) {
        last = await fetch(`${target}${req.url}`, { method: 'POST', headers, body: new Uint8Array(body) });
        count++;
      }
      res.writeHead(last?.status ?? 502, { 'content-type': last?.headers.get('content-type') ?? 'text/plain' });
      res.end(Buffer.from(await (last as Response).arrayBuffer()));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, forwarded: () => count, close: () => new Promise((r) => server.close(() => r())) };
}
