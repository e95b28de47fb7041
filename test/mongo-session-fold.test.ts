import { expect } from 'chai';
import { type SessionEventTotals, foldBySessionMetrics } from '../src/store/mongo/session-fold.js';

/**
 * The MongoDB adapter's last step of eventTotals, which runs in the service: a pure
 * function, tested here on its own because the adapter's contract suite needs a MongoDB
 * server (store-contract.test.ts runs it when there is one).
 */
describe('MongoDB adapter: folding per-session event totals into the port’s rows', () => {
  const ada = { userEmail: 'ada@example.com', userAccountUuid: 'acc-1', endUserId: null, userId: 'install-1' };
  const bo = { ...ada, userEmail: 'bo@example.com', userAccountUuid: 'acc-2' };
  const row = (sessionId: string | null, count: number, over: Partial<SessionEventTotals> = {}): SessionEventTotals => ({
    sessionId, identity: ada, surface: 'claude_code', model: 'opus', name: 'api_request',
    count, failures: 0, accepts: 0, rejects: 0, costUsd: count / 4, inputTokens: 10 * count, outputTokens: count, cacheReadTokens: 0, cacheCreationTokens: 0,
    ...over,
  });
  const sent = new Map<string, readonly string[]>([
    ['s-a', ['claude_code.cost.usage', 'claude_code.token.usage']],
    ['s-b', ['claude_code.cost.usage', 'claude_code.token.usage']],
    ['s-c', ['claude_code.cost.usage']],
  ]);
  const sorted = (rows: unknown[][]) => rows.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  const brief = (rows: ReturnType<typeof foldBySessionMetrics>) =>
    sorted(rows.map((r) => [r.identity.userEmail, r.model, r.sessionMetrics.join('+'), r.sessionId, r.count, r.costUsd, r.inputTokens]));

  it('folds sessions that sent the same metrics into one row and keeps session.id only for sessions without metrics', () => {
    const input = [
      row('s-a', 2), row('s-b', 3), // the same two metrics: one row
      row('s-c', 1), // another set
      row('s-a', 4, { model: 'sonnet' }), // another model stays apart
      row('s-b', 1, { identity: bo }), // another identity stays apart
      row('s-x', 5), row('s-y', 6), // no metrics: a row each, with their session
      row(null, 7), // no session at all
    ];
    const copy = structuredClone(input);
    expect(brief(foldBySessionMetrics(input, sent))).to.deep.equal(sorted([
      ['ada@example.com', 'opus', '', null, 7, 1.75, 70],
      ['ada@example.com', 'opus', '', 's-x', 5, 1.25, 50],
      ['ada@example.com', 'opus', '', 's-y', 6, 1.5, 60],
      ['ada@example.com', 'opus', 'claude_code.cost.usage', null, 1, 0.25, 10],
      ['ada@example.com', 'opus', 'claude_code.cost.usage+claude_code.token.usage', null, 5, 1.25, 50],
      ['ada@example.com', 'sonnet', 'claude_code.cost.usage+claude_code.token.usage', null, 4, 1, 40],
      ['bo@example.com', 'opus', 'claude_code.cost.usage+claude_code.token.usage', null, 1, 0.25, 10],
    ]));
    expect(input, 'the input rows are left as they were').to.deep.equal(copy);
  });

  it('gives the same rows whatever the order of its input', () => {
    const input = [row('s-a', 2), row('s-x', 5), row('s-b', 3), row('s-c', 1), row(null, 7)];
    expect(brief(foldBySessionMetrics([...input].reverse(), sent))).to.deep.equal(brief(foldBySessionMetrics(input, sent)));
  });
});
