import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { type FakeAnthropic, startFakeAnthropic } from '../scripts/fake-anthropic.js';
import { hashValue } from '../src/ingest/privacy.js';
import { runClaudeCode } from './support/claude-code.js';
import { sendLogs, sendMetrics, sendSpans } from './support/otel.js';
import { type TestService, startTestService } from './support/service.js';

/**
 * The per-tenant privacy policy applies before anything is stored: with real
 * Claude Code sending its prompts (OTEL_LOG_USER_PROMPTS=1), a dropped prompt
 * appears nowhere in the database.
 */
describe('privacy policy', function () {
  this.timeout(120_000);
  let svc: TestService;
  let fake: FakeAnthropic;

  before(async () => {
    svc = await startTestService();
    fake = await startFakeAnthropic();
  });
  after(async () => {
    await fake?.close();
    await svc?.close();
  });

  /** Every row of every table of the database, as text, that contains `needle`. */
  async function occurrences(needle: string): Promise<string[]> {
    const tables = await svc.sql<{ t: string }>(
      `SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) AS t FROM information_schema.tables
       WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_type = 'BASE TABLE'`);
    const found: string[] = [];
    for (const { t } of tables) {
      const rows = await svc.sql<{ n: string }>(`SELECT count(*) AS n FROM ${t} x WHERE x::text LIKE $1`, [`%${needle}%`]);
      if (Number(rows[0]?.n) > 0) found.push(t);
    }
    return found;
  }

  const setPolicy = async (admin: string, policy: Record<string, unknown>) => {
    const res = await fetch(`${svc.urls.api}/api/v1/tenant/policy`, {
      method: 'PUT', body: JSON.stringify(policy), headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    });
    expect(res.status, await res.clone().text()).to.equal(200);
    return (await res.json()) as { policy: Record<string, string> };
  };

  async function claudeSession(tenant: string, secret: string) {
    const ingest = await svc.token(tenant, 'ingest');
    const run = await runClaudeCode({
      prompt: `Create hello.py and commit it. Codeword: ${secret}`,
      anthropicUrl: fake.url,
      otlp: { protocol: 'grpc', endpoint: svc.urls.grpc, headers: `Authorization=Bearer ${ingest}`, logUserPrompts: true, traces: true,
        resourceAttributes: 'enduser.id=carol@example.com' },
    });
    expect(run.exitCode, run.stderr).to.equal(0);
  }

  it('keeps prompts by default (the control: the text does reach the database)', async () => {
    const secret = `keep-${randomUUID()}`;
    await claudeSession('privacy-keep', secret);
    expect(await occurrences(secret)).to.include('public.events');
  });

  it('drops prompts, responses and tool details under drop: the text appears nowhere in the database', async () => {
    const admin = await svc.token('privacy-drop', 'admin');
    const view = await setPolicy(admin, { prompts: 'drop', responses: 'drop', toolDetails: 'drop' });
    expect(view.policy).to.include({ prompts: 'drop', responses: 'drop', toolDetails: 'drop', emails: 'keep' });
    const secret = `drop-${randomUUID()}`;
    await claudeSession('privacy-drop', secret);
    expect(await occurrences(secret)).to.deep.equal([]);
    // The usage itself is still counted.
    const prompts = await svc.sql<{ n: string }>(`SELECT count(*) AS n FROM events WHERE tenant_id = 'privacy-drop' AND name = 'user_prompt'`);
    expect(Number(prompts[0]?.n)).to.equal(1);
    const tool = await svc.sql<{ attributes: Record<string, unknown> }>(`SELECT attributes::json AS attributes FROM events WHERE tenant_id = 'privacy-drop' AND name = 'tool_result' LIMIT 1`);
    expect(tool[0]?.attributes).to.not.have.any.keys('tool_parameters', 'tool_input');
  });

  it('hashes prompts and emails under hash', async () => {
    const admin = await svc.token('privacy-hash', 'admin');
    await setPolicy(admin, { prompts: 'hash', emails: 'hash' });
    const ingest = await svc.token('privacy-hash', 'ingest');
    const secret = `hash-${randomUUID()}`;
    const r = await sendLogs('http/json', svc.urls, ingest, { 'service.name': 'cowork' }, [
      { body: 'claude_code.user_prompt', attributes: { 'session.id': randomUUID(), 'user.email': 'Dana@Example.com', prompt: secret } },
    ]);
    expect(r.ok).to.equal(true);
    expect(await occurrences(secret)).to.deep.equal([]);
    expect(await occurrences('dana@example.com')).to.deep.equal([]);
    const rows = await svc.sql<{ attributes: Record<string, unknown>; seat: string }>(`SELECT attributes::json AS attributes, seat FROM events WHERE tenant_id = 'privacy-hash'`);
    expect(rows[0]?.attributes['prompt']).to.equal(hashValue(secret));
    expect(rows[0]?.seat).to.equal(`email:${hashValue('dana@example.com')}`);
  });

  it('hashes emails sent as enduser.id (records, resources, seats) under emails: hash, keeping people apart', async () => {
    const admin = await svc.token('privacy-enduser', 'admin');
    await setPolicy(admin, { emails: 'hash' });
    const ingest = await svc.token('privacy-enduser', 'ingest');
    const tag = randomUUID().slice(0, 8);
    const erin = `Erin.${tag}@Example.com`;
    const frank = `frank.${tag}@example.com`;
    const login = `login-${tag}`;
    const session = randomUUID();
    // As the README says for API-key users: enduser.id=<email> on the resource (OTEL_RESOURCE_ATTRIBUTES).
    const sent = [
      await sendLogs('http/json', svc.urls, ingest, { 'service.name': 'claude-code', 'enduser.id': erin }, [
        { body: 'claude_code.user_prompt', attributes: { 'session.id': session } },
      ]),
      await sendMetrics('grpc', svc.urls, ingest, { 'service.name': 'claude-code', 'enduser.id': erin }, [
        { name: 'claude_code.session.count', points: [{ value: 1, attributes: { 'session.id': session } }] },
      ]),
      await sendSpans('http/protobuf', svc.urls, ingest, { 'service.name': 'claude-code' }, ['claude_code.interaction'], { 'session.id': session, 'enduser.id': frank }),
      // On the record; and the same person once by user.email: one seat.
      await sendLogs('grpc', svc.urls, ingest, { 'service.name': 'cowork' }, [
        { body: 'claude_code.user_prompt', attributes: { 'session.id': session, 'enduser.id': frank } },
        { body: 'claude_code.user_prompt', attributes: { 'session.id': session, 'user.email': frank } },
        { body: 'claude_code.user_prompt', attributes: { 'session.id': session, 'enduser.id': login } },
      ]),
    ];
    for (const r of sent) expect(r, String(r.error)).to.deep.equal({ ok: true });
    for (const needle of [erin, erin.toLowerCase(), frank, `rin.${tag}@`, `frank.${tag}@`]) {
      expect(await occurrences(needle), needle).to.deep.equal([]);
    }
    const seats = await svc.sql<{ seat: string; n: string }>(
      `SELECT seat, count(*) AS n FROM (SELECT seat FROM events WHERE session_id = $1 UNION ALL SELECT seat FROM metric_points WHERE session_id = $1
         UNION ALL SELECT seat FROM spans WHERE session_id = $1) s GROUP BY seat ORDER BY seat`, [session]);
    expect(seats).to.deep.equal([
      { seat: `email:${hashValue(frank)}`, n: '1' },
      { seat: `enduser:${hashValue(erin.toLowerCase())}`, n: '2' },
      { seat: `enduser:${hashValue(frank)}`, n: '2' },
      { seat: `enduser:${login}`, n: '1' },
    ].sort((a, b) => (a.seat < b.seat ? -1 : 1)));
    const resource = await svc.sql<{ resource: Record<string, unknown> }>('SELECT resource::json AS resource FROM metric_points WHERE session_id = $1', [session]);
    expect(resource[0]?.resource['enduser.id']).to.equal(hashValue(erin.toLowerCase()));
    const identities = await svc.sql<{ end_user_id: string | null }>(
      `SELECT end_user_id FROM seat_identities WHERE tenant_id = 'privacy-enduser' AND end_user_id IS NOT NULL ORDER BY end_user_id`);
    expect(identities.map((r) => r.end_user_id)).to.have.members([hashValue(erin.toLowerCase()), hashValue(frank), login]);
  });

  it('refuses an invalid policy with 400, and a read token with 403', async () => {
    const admin = await svc.token('privacy-bad', 'admin');
    const read = await svc.token('privacy-bad', 'read');
    const put = (token: string, body: unknown) => fetch(`${svc.urls.api}/api/v1/tenant/policy`, {
      method: 'PUT', body: JSON.stringify(body), headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    });
    expect((await put(admin, { prompts: 'shred' })).status).to.equal(400);
    expect((await put(admin, { colour: 'blue' })).status).to.equal(400);
    expect((await put(read, { prompts: 'drop' })).status).to.equal(403);
    const tenant = (await (await fetch(`${svc.urls.api}/api/v1/tenant`, { headers: { authorization: `Bearer ${read}` } })).json()) as { policy: unknown };
    expect(tenant.policy).to.deep.equal({ prompts: 'keep', responses: 'keep', toolDetails: 'keep', emails: 'keep' });
  });
});
