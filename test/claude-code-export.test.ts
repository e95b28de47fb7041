/**
 * What the real Claude Code 2.1.330 exports, observed without our receiver: a throwaway OTLP capture
 * (HTTP JSON + protobuf via fastify/protobufjs, gRPC via @grpc/grpc-js + proto-loader) receives a real
 * session driven by the fake Anthropic API. Findings are written down in test/support/claude-code.ts.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { expect } from 'chai';
import Fastify from 'fastify';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { COMMIT_MESSAGE, FINAL_TEXT, HELLO_CONTENT, HELLO_FILE, startFakeAnthropic, type FakeAnthropic } from '../scripts/fake-anthropic.js';
import { runClaudeCode, type ClaudeCodeRun, type OtlpSettings } from './support/claude-code.js';

const PROTO_DIR = resolve(import.meta.dirname, '../proto');
const SERVICES = {
  logs: { file: 'opentelemetry/proto/collector/logs/v1/logs_service.proto', pkg: 'opentelemetry.proto.collector.logs.v1', service: 'LogsService', request: 'ExportLogsServiceRequest' },
  metrics: { file: 'opentelemetry/proto/collector/metrics/v1/metrics_service.proto', pkg: 'opentelemetry.proto.collector.metrics.v1', service: 'MetricsService', request: 'ExportMetricsServiceRequest' },
  traces: { file: 'opentelemetry/proto/collector/trace/v1/trace_service.proto', pkg: 'opentelemetry.proto.collector.trace.v1', service: 'TraceService', request: 'ExportTraceServiceRequest' },
} as const;
type Signal = keyof typeof SERVICES;
// Same shape from all three decoders: lowerCamelCase fields, int64 as strings (JSON: numbers), enums as numbers.
const DECODE = { longs: String, enums: Number, bytes: String, defaults: false, oneofs: false } as const;

// Decoded OTLP is walked structurally (any) below: the capture is a throwaway, not the receiver's decoder.
interface Received {
  signal: Signal;
  headers: Record<string, unknown>;
  body: any;
}
interface Capture {
  endpoint: string;
  received: Received[];
  close(): Promise<void>;
}

async function startHttpCapture(): Promise<Capture> {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => join(PROTO_DIR, target);
  root.loadSync(Object.values(SERVICES).map((s) => s.file));
  const received: Received[] = [];
  const app = Fastify({ bodyLimit: 64 * 1024 * 1024 });
  app.addContentTypeParser('application/x-protobuf', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  for (const signal of Object.keys(SERVICES) as Signal[]) {
    const type = root.lookupType(`${SERVICES[signal].pkg}.${SERVICES[signal].request}`);
    app.post(`/v1/${signal}`, async (req, reply) => {
      const protobufBody = Buffer.isBuffer(req.body);
      const body = protobufBody ? type.toObject(type.decode(req.body as Buffer), DECODE) : req.body;
      received.push({ signal, headers: req.headers, body });
      return protobufBody ? reply.type('application/x-protobuf').send(Buffer.alloc(0)) : {};
    });
  }
  const endpoint = await app.listen({ host: '127.0.0.1', port: 0 });
  return { endpoint, received, close: () => app.close() };
}

async function startGrpcCapture(): Promise<Capture> {
  const definition = protoLoader.loadSync(Object.values(SERVICES).map((s) => s.file), { includeDirs: [PROTO_DIR], keepCase: false, ...DECODE });
  const loaded = grpc.loadPackageDefinition(definition) as any;
  const received: Received[] = [];
  const server = new grpc.Server();
  for (const signal of Object.keys(SERVICES) as Signal[]) {
    const { pkg, service } = SERVICES[signal];
    const ctor = pkg.split('.').reduce((o, k) => o[k], loaded)[service];
    server.addService(ctor.service, {
      Export: (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        received.push({ signal, headers: call.metadata.getMap(), body: call.request });
        callback(null, {});
      },
    });
  }
  const port = await new Promise<number>((ok, fail) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? fail(err) : ok(p))),
  );
  return { endpoint: `http://127.0.0.1:${port}`, received, close: async () => void server.forceShutdown() };
}

type Attrs = Record<string, unknown>;
function anyValue(v: any): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.arrayValue !== undefined) return (v.arrayValue.values ?? []).map(anyValue);
  return v;
}
const attrs = (kvs: any[] | undefined): Attrs => Object.fromEntries((kvs ?? []).map((kv) => [kv.key, anyValue(kv.value)]));

interface Event { body: unknown; attrs: Attrs; resource: Attrs; scope: string }
function events(c: Capture): Event[] {
  return c.received.filter((r) => r.signal === 'logs').flatMap((r) =>
    (r.body.resourceLogs ?? []).flatMap((rl: any) =>
      (rl.scopeLogs ?? []).flatMap((sl: any) =>
        (sl.logRecords ?? []).map((lr: any) => ({ body: anyValue(lr.body), attrs: attrs(lr.attributes), resource: attrs(rl.resource?.attributes), scope: sl.scope?.name })),
      ),
    ),
  );
}
interface Point { metric: string; temporality: number; monotonic: boolean; value: number; attrs: Attrs; resource: Attrs; time: bigint }
function points(c: Capture): Point[] {
  return c.received.filter((r) => r.signal === 'metrics').flatMap((r) =>
    (r.body.resourceMetrics ?? []).flatMap((rm: any) =>
      (rm.scopeMetrics ?? []).flatMap((sm: any) =>
        (sm.metrics ?? []).flatMap((m: any) =>
          (m.sum?.dataPoints ?? []).map((p: any) => ({
            metric: m.name, temporality: m.sum.aggregationTemporality, monotonic: m.sum.isMonotonic,
            value: Number(p.asDouble ?? p.asInt), attrs: attrs(p.attributes), resource: attrs(rm.resource?.attributes), time: BigInt(p.timeUnixNano),
          })),
        ),
      ),
    ),
  );
}

/** Session totals per series: deltas add up; for cumulative series the latest point is the total. */
function total(ps: Point[], metric: string, where: Attrs = {}): number {
  const matching = ps.filter((p) => p.metric === metric && Object.entries(where).every(([k, v]) => p.attrs[k] === v));
  const series = new Map<string, Point[]>();
  for (const p of matching) {
    const key = JSON.stringify(Object.entries(p.attrs).sort());
    series.set(key, [...(series.get(key) ?? []), p]);
  }
  let sum = 0;
  for (const s of series.values()) {
    sum += s[0]?.temporality === 2 ? s.reduce((a, b) => (b.time > a.time ? b : a)).value : s.reduce((a, b) => a + b.value, 0);
  }
  return sum;
}

const PROMPT = 'Create hello.py that prints a greeting, then commit it with git.';
const workDirs: string[] = [];

async function session(capture: Capture, otlp: Omit<OtlpSettings, 'endpoint'>): Promise<{ run: ClaudeCodeRun; fake: FakeAnthropic }> {
  const fake = await startFakeAnthropic();
  try {
    const run = await runClaudeCode({ prompt: PROMPT, anthropicUrl: fake.url, otlp: { ...otlp, endpoint: capture.endpoint }, timeoutMs: 90_000 });
    workDirs.push(run.cwd);
    return { run, fake };
  } finally {
    await fake.close();
  }
}

function assertSession(capture: Capture, run: ClaudeCodeRun, fake: FakeAnthropic, temporality: 1 | 2): void {
  expect(run.exitCode, run.stderr).to.equal(0);
  expect(run.stdout).to.contain(FINAL_TEXT);
  expect(readFileSync(join(run.cwd, HELLO_FILE), 'utf8')).to.equal(HELLO_CONTENT);
  expect(execFileSync('git', ['log', '--format=%s'], { cwd: run.cwd, encoding: 'utf8' }).trim()).to.equal(COMMIT_MESSAGE);

  // With nonessential traffic disabled, the three scripted turns are the only API traffic.
  expect(fake.requests.map((r) => `${r.method} ${r.path} ${r.kind}`)).to.deep.equal(Array(3).fill('POST /v1/messages main'));
  const calls = fake.requests;
  expect(calls.map((r) => r.turn)).to.deep.equal([0, 1, 2]);
  const model = calls[0]?.model;
  expect(model).to.be.a('string');

  const evs = events(capture);
  const named = (name: string): Event[] => evs.filter((e) => e.body === `claude_code.${name}`);
  const sessionId = named('user_prompt')[0]?.attrs['session.id'];
  expect(sessionId).to.match(/^[0-9a-f-]{36}$/);
  expect(calls.map((r) => r.sessionId)).to.deep.equal(Array(3).fill(sessionId));
  for (const e of evs) {
    expect(e.scope).to.equal('com.anthropic.claude_code.events');
    expect(e.attrs['event.name']).to.equal(String(e.body).replace('claude_code.', ''));
    expect(e.attrs['session.id']).to.equal(sessionId);
    expect(e.attrs['user.id']).to.match(/^[0-9a-f]{64}$/);
    expect(e.attrs).to.not.have.any.keys('user.email', 'organization.id', 'user.account_uuid');
    expect(e.resource).to.include({ 'service.name': 'claude-code', 'service.version': '2.1.330' });
  }
  expect(named('user_prompt')).to.have.length(1);
  expect(named('user_prompt')[0]?.attrs['prompt_length']).to.equal(String(PROMPT.length));

  const apiRequests = named('api_request');
  expect(apiRequests).to.have.length(calls.length);
  apiRequests.forEach((e, i) => {
    const usage = calls[i]?.usage;
    expect(e.attrs).to.include({
      model, request_id: `req_fake_${i + 1}`, input_tokens: usage?.input_tokens, output_tokens: usage?.output_tokens,
      cache_read_tokens: usage?.cache_read_input_tokens, cache_creation_tokens: usage?.cache_creation_input_tokens,
    });
    expect(e.attrs['cost_usd']).to.be.a('number').above(0);
  });
  for (const tool of ['Write', 'Bash']) {
    expect(named('tool_result').filter((e) => e.attrs['tool_name'] === tool && e.attrs['success'] === 'true'), tool).to.have.length(1);
  }

  const ps = points(capture);
  for (const p of ps) {
    expect(p.temporality, p.metric).to.equal(temporality);
    expect(p.monotonic, p.metric).to.equal(true);
    expect(p.attrs['session.id'], p.metric).to.equal(sessionId);
  }
  const sum = (k: 'input_tokens' | 'output_tokens' | 'cache_read_input_tokens' | 'cache_creation_input_tokens'): number =>
    calls.reduce((a, r) => a + (r.usage?.[k] ?? 0), 0);
  expect(total(ps, 'claude_code.token.usage', { type: 'input', model })).to.equal(sum('input_tokens'));
  expect(total(ps, 'claude_code.token.usage', { type: 'output', model })).to.equal(sum('output_tokens'));
  expect(total(ps, 'claude_code.token.usage', { type: 'cacheRead', model })).to.equal(sum('cache_read_input_tokens'));
  expect(total(ps, 'claude_code.token.usage', { type: 'cacheCreation', model })).to.equal(sum('cache_creation_input_tokens'));
  const eventCost = apiRequests.reduce((a, e) => a + Number(e.attrs['cost_usd']), 0);
  expect(total(ps, 'claude_code.cost.usage', { model })).to.be.closeTo(eventCost, 1e-9);
  // Claude Code counts the lines of the written content as split on '\n'.
  expect(total(ps, 'claude_code.lines_of_code.count', { type: 'added' })).to.equal(HELLO_CONTENT.split('\n').length);
  expect(total(ps, 'claude_code.commit.count')).to.equal(1);
  expect(total(ps, 'claude_code.session.count', { start_type: 'fresh' })).to.equal(1);
}

describe('real Claude Code 2.1.330 OTLP export (throwaway capture, no receiver)', function () {
  this.timeout(180_000);
  after(async () => {
    await Promise.all(workDirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('delivers events and delta metrics over http/json', async () => {
    const capture = await startHttpCapture();
    try {
      const { run, fake } = await session(capture, { protocol: 'http/json' });
      assertSession(capture, run, fake, 1);
      expect(capture.received.every((r) => r.headers['content-type'] === 'application/json')).to.equal(true);
      const prompt = events(capture).find((e) => e.body === 'claude_code.user_prompt');
      expect(prompt?.attrs['prompt']).to.equal('<REDACTED>');
    } finally {
      await capture.close();
    }
  });

  it('delivers cumulative metrics and copies OTEL_RESOURCE_ATTRIBUTES onto points over http/protobuf', async () => {
    const capture = await startHttpCapture();
    try {
      const { run, fake } = await session(capture, { protocol: 'http/protobuf', temporality: 'cumulative', resourceAttributes: 'tenant.id=acme,enduser.id=dev@example.com' });
      assertSession(capture, run, fake, 2);
      expect(capture.received.every((r) => r.headers['content-type'] === 'application/x-protobuf')).to.equal(true);
      for (const p of points(capture)) {
        expect(p.resource).to.include({ 'tenant.id': 'acme', 'enduser.id': 'dev@example.com' });
        expect(p.attrs).to.include({ 'tenant.id': 'acme', 'enduser.id': 'dev@example.com' });
      }
    } finally {
      await capture.close();
    }
  });

  it('delivers the same over grpc, with static headers as metadata and prompts when OTEL_LOG_USER_PROMPTS=1', async () => {
    const capture = await startGrpcCapture();
    try {
      const { run, fake } = await session(capture, { protocol: 'grpc', headers: 'authorization=Bearer test-token', logUserPrompts: true });
      assertSession(capture, run, fake, 1);
      expect(capture.received.map((r) => r.headers['authorization'])).to.satisfy((hs: unknown[]) => hs.every((h) => h === 'Bearer test-token'));
      const prompt = events(capture).find((e) => e.body === 'claude_code.user_prompt');
      expect(prompt?.attrs['prompt']).to.equal(PROMPT);
    } finally {
      await capture.close();
    }
  });
});
