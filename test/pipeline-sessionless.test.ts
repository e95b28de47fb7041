import { expect } from 'chai';
import { type CounterSpec, type LogSpec, sendLogs, sendMetrics } from './support/otel.js';
import { type TestService, startTestService } from './support/service.js';
import { runPipeline, usageTotals, utcDay } from './support/usage.js';

/**
 * Claude Code with OTEL_METRICS_INCLUDE_SESSION_ID=false sends its metric points without
 * `session.id`, while its events keep it. Those points stand for all sessions of their seat,
 * surface and install (`user.id`): for the measure groups they report, that install's events
 * are not counted again; groups no metric reports still come from events; another install of
 * the same person that sends events only is counted from its events.
 * Sent through the real OpenTelemetry exporters; costs are binary fractions, so sums are exact.
 */
describe('pipeline: metric points without session.id', function () {
  let svc: TestService;
  const resource = { 'service.name': 'claude-code' };
  const day = utcDay(0);
  const ana = { 'user.email': 'ana@example.com' };
  const installA = { ...ana, 'user.id': 'install-a' };
  const installB = { ...ana, 'user.id': 'install-b' };

  before(async () => {
    svc = await startTestService();
  });
  after(async () => svc?.close());

  it('counts each measure once: session-less metrics for their groups, events for the rest and for other installs', async () => {
    const ingest = await svc.token('no-session', 'ingest');
    const admin = await svc.token('no-session', 'admin');

    // Install A, metrics without session.id: two sessions, and what its three API requests cost.
    const counter = (name: string, points: [number, Record<string, string>][]): CounterSpec => ({
      name, points: points.map(([value, attributes]) => ({ value, attributes: { ...installA, ...attributes } })),
    });
    const m = await sendMetrics('grpc', svc.urls, ingest, resource, [
      counter('claude_code.session.count', [[2, { start_type: 'fresh' }]]),
      counter('claude_code.cost.usage', [[0.25, { model: 'opus' }], [0.125, { model: 'haiku' }]]),
      counter('claude_code.token.usage', [
        [300, { model: 'opus', type: 'input' }], [40, { model: 'opus', type: 'output' }],
        [2000, { model: 'opus', type: 'cacheRead' }], [100, { model: 'opus', type: 'cacheCreation' }],
        [30, { model: 'haiku', type: 'input' }], [4, { model: 'haiku', type: 'output' }],
      ]),
      counter('claude_code.lines_of_code.count', [[12, { type: 'added' }], [3, { type: 'removed' }]]),
      counter('claude_code.code_edit_tool.decision', [[2, { tool_name: 'Write', decision: 'accept' }]]),
    ]);
    expect(m.ok, String(m.error)).to.equal(true);

    // The same install's events, with session.id: the same requests and edits again, plus prompts and tools.
    const ev = (name: string, attrs: Record<string, string | number>, who = installA): LogSpec => ({
      body: `claude_code.${name}`, attributes: { ...who, 'event.name': name, ...attrs },
    });
    const api = (session: string, model: string, cost: number, input: number, output: number, cacheRead: number, cacheCreation: number, who = installA) =>
      ev('api_request', { 'session.id': session, model, cost_usd: cost, input_tokens: input, output_tokens: output, cache_read_tokens: cacheRead, cache_creation_tokens: cacheCreation }, who);
    const e = await sendLogs('http/json', svc.urls, ingest, resource, [
      ev('user_prompt', { 'session.id': 's1', 'prompt.id': 'p1' }),
      ev('user_prompt', { 'session.id': 's1', 'prompt.id': 'p2' }),
      ev('user_prompt', { 'session.id': 's2', 'prompt.id': 'p3' }),
      api('s1', 'opus', 0.125, 100, 20, 1000, 50),
      api('s1', 'opus', 0.125, 200, 20, 1000, 50),
      api('s2', 'haiku', 0.125, 30, 4, 0, 0),
      ev('tool_result', { 'session.id': 's1', tool_name: 'Write', success: 'true' }),
      ev('tool_result', { 'session.id': 's2', tool_name: 'Bash', success: 'false' }),
      ev('tool_decision', { 'session.id': 's1', tool_name: 'Write', decision: 'accept' }),
      ev('tool_decision', { 'session.id': 's2', tool_name: 'Write', decision: 'accept' }),
      // Install B (the same person on another machine) sends events only.
      ev('user_prompt', { 'session.id': 's3', 'prompt.id': 'p4' }, installB),
      api('s3', 'opus', 0.5, 10, 1, 0, 0, installB),
      ev('tool_decision', { 'session.id': 's3', tool_name: 'Edit', decision: 'accept' }, installB),
    ]);
    expect(e.ok, String(e.error)).to.equal(true);

    // Another seat whose metrics carry session.id: its events of the same groups are left out per session.
    const cy = { 'user.email': 'cy@example.com', 'user.id': 'install-c', 'session.id': 's4' };
    expect((await sendMetrics('http/protobuf', svc.urls, ingest, resource, [
      { name: 'claude_code.session.count', points: [{ value: 1, attributes: { ...cy, start_type: 'fresh' } }] },
      { name: 'claude_code.cost.usage', points: [{ value: 0.5, attributes: { ...cy, model: 'opus' } }] },
    ])).ok).to.equal(true);
    expect((await sendLogs('http/json', svc.urls, ingest, resource, [
      ev('api_request', { model: 'opus', cost_usd: 0.5, input_tokens: 7, output_tokens: 1, cache_read_tokens: 0, cache_creation_tokens: 0 }, cy),
      ev('user_prompt', { 'prompt.id': 'p5' }, cy),
    ])).ok).to.equal(true);

    await runPipeline(svc, admin, day, day);
    const { rows } = await usageTotals(svc, admin, day, day, 'seat');
    const zero = {
      sessions: 0, costUsd: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0, linesAdded: 0, linesRemoved: 0,
      commits: 0, pullRequests: 0, activeTimeUserSeconds: 0, activeTimeCliSeconds: 0, editAccepts: 0, editRejects: 0, prompts: 0,
      apiRequests: 0, apiErrors: 0, toolCalls: 0, toolFailures: 0,
    };
    expect(rows).to.deep.equal([
      {
        day, seat: 'ana@example.com', ...zero,
        // 2 from install A's session.count, 1 for install B's events-only session.
        sessions: 3,
        // Install A from its metrics only (0.375, not 0.75), install B from its events.
        costUsd: 0.875, inputTokens: 340, outputTokens: 45, cacheReadTokens: 2000, cacheCreationTokens: 100,
        linesAdded: 12, linesRemoved: 3,
        // 2 from install A's metric (its 2 tool_decision events not again), 1 from install B's event.
        editAccepts: 3,
        // No metric reports these: all from events, both installs.
        prompts: 4, apiRequests: 4, toolCalls: 2, toolFailures: 1,
      },
      {
        // Its tokens come from its api_request event: its metrics report cost, not tokens.
        day, seat: 'cy@example.com', ...zero, sessions: 1, costUsd: 0.5, inputTokens: 7, outputTokens: 1, prompts: 1, apiRequests: 1,
      },
    ]);

    const byModel = await usageTotals(svc, admin, day, day, 'model');
    expect(byModel.rows).to.deep.equal([
      { day, model: 'haiku', costUsd: 0.125, inputTokens: 30, outputTokens: 4, cacheReadTokens: 0, cacheCreationTokens: 0 },
      { day, model: 'opus', costUsd: 0.25 + 0.5 + 0.5, inputTokens: 300 + 10 + 7, outputTokens: 40 + 1 + 1, cacheReadTokens: 2000, cacheCreationTokens: 100 },
    ]);
  });

  it('counts no new session for a session with metrics but no session.count that day (it began the day before)', async () => {
    const ingest = await svc.token('overnight', 'ingest');
    const admin = await svc.token('overnight', 'admin');
    const dee = { 'user.email': 'dee@example.com', 'user.id': 'install-d', 'session.id': 's5' };
    expect((await sendMetrics('grpc', svc.urls, ingest, resource, [
      { name: 'claude_code.cost.usage', points: [{ value: 0.25, attributes: { ...dee, model: 'opus' } }] },
    ])).ok).to.equal(true);
    expect((await sendLogs('http/json', svc.urls, ingest, resource, [
      { body: 'claude_code.user_prompt', attributes: { ...dee, 'event.name': 'user_prompt', 'prompt.id': 'p6' } },
      // An events-only session of another seat still counts by its session.id.
      { body: 'claude_code.user_prompt', attributes: { 'user.id': 'install-e', 'session.id': 's6', 'event.name': 'user_prompt', 'prompt.id': 'p7' } },
    ])).ok).to.equal(true);
    await runPipeline(svc, admin, day, day);
    const { rows } = await usageTotals(svc, admin, day, day, 'seat');
    expect(rows.map((r) => [r['seat'], r['sessions'], r['prompts'], r['costUsd']])).to.deep.equal([
      ['dee@example.com', 0, 1, 0.25],
      ['user:install-e', 1, 1, 0],
    ]);
  });
});
