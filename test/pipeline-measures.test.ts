import { expect } from 'chai';
import { type CounterSpec, type LogSpec, sendLogs, sendMetrics } from './support/otel.js';
import { type TestService, startTestService } from './support/service.js';
import { runPipeline, usageTotals, utcDay } from './support/usage.js';

/**
 * The measures the other pipeline suites leave at zero, each with an exact non-zero value,
 * sent through the real OpenTelemetry exporters and counted by the real service and pipeline:
 * sessions without `agents_view`, pull requests, API errors (events only), active time,
 * and edit decisions from the metric and from tool_decision events (edit tools only).
 * Values are binary fractions, so sums are exact.
 */
describe('pipeline: every measure, exactly', function () {
  let svc: TestService;
  const resource = { 'service.name': 'claude-code' };
  const day = utcDay(0);
  const zero = {
    sessions: 0, costUsd: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0, linesAdded: 0, linesRemoved: 0,
    commits: 0, pullRequests: 0, activeTimeUserSeconds: 0, activeTimeCliSeconds: 0, editAccepts: 0, editRejects: 0, prompts: 0,
    apiRequests: 0, apiErrors: 0, toolCalls: 0, toolFailures: 0,
  };

  before(async () => {
    svc = await startTestService();
  });
  after(async () => svc?.close());

  it('counts sessions, pull requests, API errors, active time and edit decisions from their sources', async () => {
    const ingest = await svc.token('measures', 'ingest');
    const admin = await svc.token('measures', 'admin');
    // Ana sends metrics (with session.id) and events; Bo sends events only (metrics off).
    const ana = { 'user.email': 'ana@example.com', 'user.id': 'install-a' };
    const bo = { 'user.email': 'bo@example.com', 'user.id': 'install-b' };
    const point = (session: string, value: number, attributes: Record<string, string> = {}) =>
      ({ value, attributes: { ...ana, 'session.id': session, ...attributes } });
    const counter = (name: string, points: CounterSpec['points']): CounterSpec => ({ name, points });

    const m = await sendMetrics('grpc', svc.urls, ingest, resource, [
      counter('claude_code.session.count', [
        point('a1', 1, { start_type: 'fresh' }),
        point('a2', 1, { start_type: 'resume' }),
        // The `claude agents` dashboard process: not a conversation, not a session.
        point('a-view', 1, { start_type: 'agents_view' }),
      ]),
      counter('claude_code.pull_request.count', [point('a1', 2)]),
      counter('claude_code.commit.count', [point('a1', 1)]),
      counter('claude_code.active_time.total', [
        point('a1', 30.25, { type: 'user' }), point('a1', 120.5, { type: 'cli' }),
        point('a2', 2, { type: 'user' }), point('a2', 4, { type: 'cli' }),
      ]),
      counter('claude_code.code_edit_tool.decision', [
        point('a1', 3, { tool_name: 'Edit', decision: 'accept', language: 'TypeScript' }),
        point('a1', 1, { tool_name: 'Edit', decision: 'reject', language: 'TypeScript' }),
        point('a1', 1, { tool_name: 'NotebookEdit', decision: 'reject', language: 'Python' }),
      ]),
    ]);
    expect(m.ok, String(m.error)).to.equal(true);

    const ev = (who: Record<string, string>, session: string, name: string, attrs: Record<string, string | number> = {}): LogSpec => ({
      body: `claude_code.${name}`, attributes: { ...who, 'session.id': session, 'event.name': name, ...attrs },
    });
    const decision = (who: Record<string, string>, session: string, tool: string, d: 'accept' | 'reject') =>
      ev(who, session, 'tool_decision', { tool_name: tool, decision: d, source: d === 'accept' ? 'user_temporary' : 'user_reject' });
    // Each error its own request: records with the same content are one record delivered twice.
    let request = 0;
    const apiError = (who: Record<string, string>, session: string) =>
      ev(who, session, 'api_error', { model: 'opus', error: 'Overloaded', status_code: 529, duration_ms: 1200, attempt: 11, request_id: `req_${++request}` });
    const e = await sendLogs('http/json', svc.urls, ingest, resource, [
      // a1 sent the edit metric: its tool_decision events are that metric's decisions again.
      decision(ana, 'a1', 'Edit', 'reject'),
      decision(ana, 'a1', 'Write', 'accept'),
      // a2 sent metrics, but not the edit metric: its edit decisions come from its events.
      decision(ana, 'a2', 'Write', 'reject'),
      decision(ana, 'a2', 'Bash', 'reject'),
      // No metric reports API errors: they come from events whatever the session sent.
      apiError(ana, 'a1'), apiError(ana, 'a1'), apiError(ana, 'a2'),
      // Bo: events only, one session.
      decision(bo, 'b1', 'NotebookEdit', 'accept'),
      decision(bo, 'b1', 'Edit', 'accept'),
      decision(bo, 'b1', 'Write', 'reject'),
      decision(bo, 'b1', 'Edit', 'reject'),
      // Not edit tools: neither accepts nor rejects.
      decision(bo, 'b1', 'Bash', 'accept'),
      decision(bo, 'b1', 'Bash', 'reject'),
      decision(bo, 'b1', 'Read', 'reject'),
      apiError(bo, 'b1'),
    ]);
    expect(e.ok, String(e.error)).to.equal(true);

    await runPipeline(svc, admin, day, day);
    const { rows } = await usageTotals(svc, admin, day, day, 'seat');
    expect(rows).to.deep.equal([
      {
        day, seat: 'ana@example.com', ...zero,
        // a1 (fresh) and a2 (resume); the agents_view session counts none.
        sessions: 2,
        pullRequests: 2,
        commits: 1,
        activeTimeUserSeconds: 32.25,
        activeTimeCliSeconds: 124.5,
        // a1 from the metric (3 accepts; Edit and NotebookEdit rejects), a2's Write reject from its event; Bash left out.
        editAccepts: 3,
        editRejects: 3,
        apiErrors: 3,
      },
      {
        day, seat: 'bo@example.com', ...zero,
        sessions: 1,
        // NotebookEdit and Edit accepted, Write and Edit rejected; Bash and Read left out.
        editAccepts: 2,
        editRejects: 2,
        apiErrors: 1,
      },
    ]);

    // The same day by surface: one row, the two seats added up.
    const bySurface = await usageTotals(svc, admin, day, day, 'surface');
    expect(bySurface.rows).to.deep.equal([{
      day, surface: 'claude_code', ...zero, sessions: 3, pullRequests: 2, commits: 1, activeTimeUserSeconds: 32.25, activeTimeCliSeconds: 124.5,
      editAccepts: 5, editRejects: 5, apiErrors: 4,
    }]);
  });

  it('counts the agents_view dashboard as no session even when it is the only session.count of the day', async () => {
    const ingest = await svc.token('agents-view', 'ingest');
    const admin = await svc.token('agents-view', 'admin');
    const cy = { 'user.email': 'cy@example.com', 'user.id': 'install-c' };
    expect((await sendMetrics('http/protobuf', svc.urls, ingest, resource, [
      { name: 'claude_code.session.count', points: [{ value: 1, attributes: { ...cy, 'session.id': 'c-view', start_type: 'agents_view' } }] },
      { name: 'claude_code.active_time.total', points: [{ value: 8, attributes: { ...cy, 'session.id': 'c-view', type: 'user' } }] },
    ])).ok).to.equal(true);
    // Its events carry its session.id: they must not bring the session back in.
    expect((await sendLogs('http/json', svc.urls, ingest, resource, [
      { body: 'claude_code.api_error', attributes: { ...cy, 'session.id': 'c-view', 'event.name': 'api_error', model: 'opus', error: 'timeout' } },
    ])).ok).to.equal(true);
    await runPipeline(svc, admin, day, day);
    const { rows } = await usageTotals(svc, admin, day, day, 'seat');
    expect(rows).to.deep.equal([{ day, seat: 'cy@example.com', ...zero, activeTimeUserSeconds: 8, apiErrors: 1 }]);
  });
});
