import { expect } from 'chai';
import { type LogSpec, sendLogs } from './support/otel.js';
import { type TestService, startTestService } from './support/service.js';
import { runPipeline, usageTotals, utcDay } from './support/usage.js';

/**
 * Records that arrive after a day was computed are picked up by the next run of that day,
 * which replaces the day with the totals of everything stored: never the old totals plus the
 * new ones. Per-model rows are checked number by number. Costs are binary fractions (exact sums).
 */
describe('pipeline: late data and per-model rows', function () {
  let svc: TestService;
  let ingest: string;
  let admin: string;
  const resource = { 'service.name': 'claude-code' };
  const day = utcDay(-1);
  const at = (hhmm: string) => Date.parse(`${day}T${hhmm}:00Z`);
  const who = { 'user.email': 'lee@example.com', 'user.id': 'install-l' };
  const prompt = (session: string, id: string, time: string): LogSpec => ({
    body: 'claude_code.user_prompt', attributes: { ...who, 'event.name': 'user_prompt', 'session.id': session, 'prompt.id': id }, time: at(time),
  });
  const api = (session: string, model: string, cost: number, input: number, output: number, cacheRead: number, cacheCreation: number, time: string): LogSpec => ({
    body: 'claude_code.api_request',
    attributes: { ...who, 'event.name': 'api_request', 'session.id': session, model, cost_usd: cost, input_tokens: input, output_tokens: output, cache_read_tokens: cacheRead, cache_creation_tokens: cacheCreation },
    time: at(time),
  });
  const first = [
    prompt('s1', 'p1', '09:00'),
    api('s1', 'claude-opus-4-5', 0.5, 100, 20, 1000, 50, '09:01'),
    api('s1', 'claude-haiku-4-5', 0.0625, 10, 5, 0, 0, '09:02'),
  ];
  const late = [
    prompt('s2', 'p2', '22:00'),
    api('s2', 'claude-opus-4-5', 0.25, 50, 10, 0, 8, '22:01'),
  ];

  const seatRow = async () => {
    const { rows } = await usageTotals(svc, admin, day, day, 'seat');
    expect(rows).to.have.length(1);
    const r = rows[0] as Record<string, unknown>;
    return [r['seat'], r['sessions'], r['prompts'], r['apiRequests'], r['costUsd'], r['inputTokens'], r['outputTokens'], r['cacheReadTokens'], r['cacheCreationTokens']];
  };
  const modelRows = async () => (await usageTotals(svc, admin, day, day, 'model')).rows;

  before(async () => {
    svc = await startTestService();
    ingest = await svc.token('late', 'ingest');
    admin = await svc.token('late', 'admin');
  });
  after(async () => svc?.close());

  it('rolls a day up per seat and per model, exactly', async () => {
    expect((await sendLogs('http/json', svc.urls, ingest, resource, first)).ok).to.equal(true);
    await runPipeline(svc, admin, day, day);
    expect(await seatRow()).to.deep.equal(['lee@example.com', 1, 1, 2, 0.5625, 110, 25, 1000, 50]);
    expect(await modelRows()).to.deep.equal([
      { day, model: 'claude-haiku-4-5', costUsd: 0.0625, inputTokens: 10, outputTokens: 5, cacheReadTokens: 0, cacheCreationTokens: 0 },
      { day, model: 'claude-opus-4-5', costUsd: 0.5, inputTokens: 100, outputTokens: 20, cacheReadTokens: 1000, cacheCreationTokens: 50 },
    ]);
  });

  it('a re-run after late records replaces the day with the full totals, not old plus new', async () => {
    expect((await sendLogs('grpc', svc.urls, ingest, resource, late)).ok).to.equal(true);
    // Until the day is recomputed, it reads as computed.
    expect(await seatRow()).to.deep.equal(['lee@example.com', 1, 1, 2, 0.5625, 110, 25, 1000, 50]);

    await runPipeline(svc, admin, day, day);
    const full = ['lee@example.com', 2, 2, 3, 0.8125, 160, 35, 1000, 58];
    expect(await seatRow()).to.deep.equal(full);
    const models = [
      { day, model: 'claude-haiku-4-5', costUsd: 0.0625, inputTokens: 10, outputTokens: 5, cacheReadTokens: 0, cacheCreationTokens: 0 },
      { day, model: 'claude-opus-4-5', costUsd: 0.75, inputTokens: 150, outputTokens: 30, cacheReadTokens: 1000, cacheCreationTokens: 58 },
    ];
    expect(await modelRows()).to.deep.equal(models);

    // And once more with nothing new: the same day.
    await runPipeline(svc, admin, day, day);
    expect(await seatRow()).to.deep.equal(full);
    expect(await modelRows()).to.deep.equal(models);
  });
});
