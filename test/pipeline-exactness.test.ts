import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { sendLogs } from './support/otel.js';
import { type TestService, startTestService } from './support/service.js';
import { runPipeline, usageTotals, utcDay } from './support/usage.js';

/** Day boundaries in a tenant's time zone, seat linking, and tenant isolation, through the real exporters and the API. */
describe('pipeline: days, seats and tenants', function () {
  let svc: TestService;
  const resource = { 'service.name': 'claude-code' };

  before(async () => {
    svc = await startTestService();
  });
  after(async () => svc?.close());

  it('puts records on the day of the tenant\'s time zone (Asia/Kolkata, UTC+05:30)', async () => {
    const ingest = await svc.token('india', 'ingest', 'Asia/Kolkata');
    const admin = await svc.token('india', 'admin');
    // D 18:20Z is 23:50 on day D in Kolkata; D 18:40Z is 00:10 on day D+1.
    const d = utcDay(-3);
    const at = (hhmm: string) => Date.parse(`${d}T${hhmm}:00Z`);
    const session = randomUUID();
    const attrs = { 'session.id': session, 'user.email': 'priya@example.com', 'event.name': 'user_prompt' };
    const r = await sendLogs('http/json', svc.urls, ingest, resource, [
      { body: 'claude_code.user_prompt', attributes: attrs, time: at('18:20') },
      { body: 'claude_code.user_prompt', attributes: attrs, time: at('18:40') },
      { body: 'claude_code.user_prompt', attributes: attrs, time: at('18:41') },
    ]);
    expect(r.ok, String(r.error)).to.equal(true);
    const next = new Date(Date.parse(`${d}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    await runPipeline(svc, admin, d, next);
    const { rows } = await usageTotals(svc, admin, d, next);
    expect(rows.map((x) => [x['day'], x['seat'], x['prompts'], x['sessions']])).to.deep.equal([
      [d, 'priya@example.com', 1, 1],
      [next, 'priya@example.com', 2, 1],
    ]);
  });

  it('links identifiers seen together, so records without the email still count for the same seat', async () => {
    const ingest = await svc.token('linking', 'ingest');
    const read = await svc.token('linking', 'admin');
    const s1 = randomUUID();
    const s2 = randomUUID();
    const r = await sendLogs('grpc', svc.urls, ingest, resource, [
      { body: 'claude_code.user_prompt', attributes: { 'session.id': s1, 'user.email': 'bob@example.com', 'user.id': 'install-42' } },
      // A later session from the same install that lacks the email (e.g. before login completed).
      { body: 'claude_code.user_prompt', attributes: { 'session.id': s2, 'user.id': 'install-42' } },
      { body: 'claude_code.user_prompt', attributes: { 'session.id': randomUUID(), 'user.id': 'someone-else' } },
    ]);
    expect(r.ok, String(r.error)).to.equal(true);
    await runPipeline(svc, read, utcDay(0), utcDay(0));
    const { rows } = await usageTotals(svc, read, utcDay(0), utcDay(0));
    const bySeat = Object.fromEntries(rows.map((x) => [x['seat'], [x['prompts'], x['sessions']]]));
    expect(bySeat).to.deep.equal({ 'bob@example.com': [2, 2], 'user:someone-else': [1, 1] });
    const status = (await (await fetch(`${svc.urls.api}/api/v1/connect/status`, { headers: { authorization: `Bearer ${read}` } })).json()) as {
      receiving: boolean; seats: number; surfaces: { surface: string }[];
    };
    expect(status.receiving).to.equal(true);
    expect(status.seats).to.equal(2);
    expect(status.surfaces.map((s) => s.surface)).to.deep.equal(['claude_code']);
  });

  it('never lets one tenant read or manage another tenant\'s data', async () => {
    const a = { ingest: await svc.token('tenant-a', 'ingest'), admin: await svc.token('tenant-a', 'admin') };
    const b = { ingest: await svc.token('tenant-b', 'ingest'), admin: await svc.token('tenant-b', 'admin') };
    for (const [t, email] of [[a, 'a@a.example'], [b, 'b@b.example']] as const) {
      const r = await sendLogs('http/protobuf', svc.urls, t.ingest, resource, [
        { body: 'claude_code.user_prompt', attributes: { 'session.id': randomUUID(), 'user.email': email } },
      ]);
      expect(r.ok).to.equal(true);
    }
    await runPipeline(svc, a.admin, utcDay(0), utcDay(0));
    await runPipeline(svc, b.admin, utcDay(0), utcDay(0));
    const seatsA = (await usageTotals(svc, a.admin, utcDay(0), utcDay(0))).rows.map((x) => x['seat']);
    const seatsB = (await usageTotals(svc, b.admin, utcDay(0), utcDay(0))).rows.map((x) => x['seat']);
    expect(seatsA).to.deep.equal(['a@a.example']);
    expect(seatsB).to.deep.equal(['b@b.example']);

    const api = (path: string, token: string, init: RequestInit = {}) =>
      fetch(`${svc.urls.api}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers ?? {}) } });
    const tokensOfB = (await (await api('/api/v1/tokens', b.admin)).json()) as { tokens: { id: string; tenant: string }[] };
    const tokensOfA = (await (await api('/api/v1/tokens', a.admin)).json()) as { tokens: { id: string; tenant: string }[] };
    expect(new Set(tokensOfA.tokens.map((t) => t.tenant))).to.deep.equal(new Set(['tenant-a']));
    const victim = tokensOfB.tokens[0]?.id as string;
    expect((await api(`/api/v1/tokens/${victim}`, a.admin, { method: 'DELETE' })).status).to.equal(404);
    expect((await api(`/api/v1/tokens/${victim}/rotate`, a.admin, { method: 'POST' })).status).to.equal(404);
    // B's token still works: A could not touch it.
    const still = await sendLogs('http/json', svc.urls, b.ingest, resource, [{ body: 'claude_code.user_prompt', attributes: { 'session.id': randomUUID() } }]);
    expect(still.ok).to.equal(true);
    // Scopes: ingest cannot read, read cannot manage or run the pipeline.
    const readA = await svc.token('tenant-a', 'read');
    expect((await api('/api/v1/usage/daily?from=2026-01-01&to=2026-01-02', a.ingest)).status).to.equal(403);
    expect((await api('/api/v1/tokens', readA)).status).to.equal(403);
    expect((await api('/api/v1/pipeline/runs', readA, { method: 'POST', body: '{"from":"2026-01-01","to":"2026-01-01"}', headers: { 'content-type': 'application/json' } })).status).to.equal(403);
  });

  it('answers bad usage queries with 400 and a message', async () => {
    const read = await svc.token('queries', 'read');
    for (const q of ['from=2026-13-01&to=2026-01-02', 'from=2026-01-05&to=2026-01-01', 'from=2026-01-01&to=2026-01-02&by=planet', 'to=2026-01-02']) {
      const res = await fetch(`${svc.urls.api}/api/v1/usage/daily?${q}`, { headers: { authorization: `Bearer ${read}` } });
      expect(res.status, q).to.equal(400);
      const body = (await res.json()) as { error: { message: string } };
      expect(body.error.message, q).to.be.a('string').and.not.equal('');
    }
  });

  it('exports the same rows as CSV', async () => {
    const admin = await svc.token('linking', 'admin');
    const json = await usageTotals(svc, admin, utcDay(0), utcDay(0));
    const csv = await (await fetch(`${svc.urls.api}/api/v1/usage/daily?from=${utcDay(0)}&to=${utcDay(0)}&by=seat&format=csv`, { headers: { authorization: `Bearer ${admin}` } })).text();
    const lines = csv.trim().split('\n');
    expect(lines[0]?.startsWith('day,seat,sessions,costUsd')).to.equal(true);
    expect(lines.length - 1).to.equal(json.rows.length);
    const header = (lines[0] as string).split(',');
    const promptsCol = header.indexOf('prompts');
    const seats = lines.slice(1).map((l) => l.split(','));
    expect(seats.map((c) => [c[1], Number(c[promptsCol])])).to.deep.equal(json.rows.map((r) => [r['seat'], r['prompts']]));
  });
});
