import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { type FakeAnthropic, type Turn, startFakeAnthropic } from '../scripts/fake-anthropic.js';
import { hashValue } from '../src/ingest/privacy.js';
import { runClaudeCode } from './support/claude-code.js';
import { sendLogs, sendMetrics, sendSpans } from './support/otel.js';
import { type TestService, startTestService } from './support/service.js';
import { tablesContaining } from './support/find-text.js';

/**
 * The per-tenant privacy policy applies before anything is stored: with real
 * Claude Code sending its prompts (OTEL_LOG_USER_PROMPTS=1), assistant responses,
 * tool details and content and raw API bodies, dropped text (the prompt, the fake
 * API's answers, the Write and Bash tool input) appears nowhere in the database.
 * The policy can be set by the API and by `ai-usage tenants set-policy`.
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

  const occurrences = (needle: string) => tablesContaining(svc, needle);

  const setPolicy = async (admin: string, policy: Record<string, unknown>) => {
    const res = await fetch(`${svc.urls.api}/api/v1/tenant/policy`, {
      method: 'PUT', body: JSON.stringify(policy), headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    });
    expect(res.status, await res.clone().text()).to.equal(200);
    return (await res.json()) as { policy: Record<string, string> };
  };

  /**
   * What the fake Anthropic API answers in one session, each piece marked with `tag` so it can be searched
   * for: assistant text (before a tool call and the final answer), a Write of a file (path and content) and
   * a Bash command (whose output repeats it). The default script's text is the same in every session.
   */
  const taggedScript = (tag: string): Turn[] => [
    {
      type: 'tool_use', name: 'Write', preamble: `I will write the ${tag}-preamble note.`,
      input: (ctx) => ({ file_path: `${ctx.cwd ?? '.'}/note-${tag}-path.txt`, content: `remember ${tag}-file-content\n` }),
    },
    { type: 'tool_use', name: 'Bash', preamble: 'Now I will print it.', input: { command: `echo ${tag}-bash-command`, description: 'Print a word' } },
    { type: 'text', text: `Done, ${tag}-assistant-response.` },
  ];
  /** The marked texts of a taggedScript session, by what they are. */
  const taggedTexts = (tag: string) => ({
    'assistant response': `${tag}-assistant-response`,
    'assistant text before a tool call': `${tag}-preamble`,
    'Write file content (tool input)': `${tag}-file-content`,
    'Write file path (tool input)': `${tag}-path`,
    'Bash command (tool input and output)': `${tag}-bash-command`,
  });
  /** Everything Claude Code can log: prompts, assistant responses, tool details and content, raw API bodies. */
  const logEverything = {
    OTEL_LOG_ASSISTANT_RESPONSES: '1', OTEL_LOG_TOOL_DETAILS: '1', OTEL_LOG_TOOL_CONTENT: '1', OTEL_LOG_RAW_API_BODIES: '1',
  };

  async function claudeSession(tenant: string, secret: string, opts: { tag?: string } = {}) {
    const ingest = await svc.token(tenant, 'ingest');
    const api = opts.tag === undefined ? fake : await startFakeAnthropic({ script: taggedScript(opts.tag) });
    try {
      const run = await runClaudeCode({
        prompt: `Create hello.py and commit it. Codeword: ${secret}`,
        anthropicUrl: api.url,
        otlp: { protocol: 'grpc', endpoint: svc.urls.grpc, headers: `Authorization=Bearer ${ingest}`, logUserPrompts: true, traces: true,
          resourceAttributes: 'enduser.id=carol@example.com' },
        ...(opts.tag === undefined ? {} : { extraEnv: logEverything }),
      });
      expect(run.exitCode, run.stderr).to.equal(0);
      if (opts.tag !== undefined) expect(api.requests.filter((r) => r.kind === 'main').map((r) => r.turn)).to.deep.equal([0, 1, 2]);
    } finally {
      if (api !== fake) await api.close();
    }
  }

  it('keeps prompts by default (the control: the text does reach the database)', async () => {
    const secret = `keep-${randomUUID()}`;
    await claudeSession('privacy-keep', secret);
    expect(await occurrences(secret)).to.include('public.events');
  });

  it('keeps assistant responses and tool input by default (the control: Claude Code sends them and they are stored)', async () => {
    const tag = `keepall-${randomUUID().slice(0, 8)}`;
    await claudeSession('privacy-keep-all', `keep-${randomUUID()}`, { tag });
    for (const [what, text] of Object.entries(taggedTexts(tag))) {
      expect(await occurrences(text), `${what} (${text})`).to.not.deep.equal([]);
    }
  });

  it('drops prompts, responses and tool details under drop: the text appears nowhere in the database', async () => {
    const admin = await svc.token('privacy-drop', 'admin');
    const view = await setPolicy(admin, { prompts: 'drop', responses: 'drop', toolDetails: 'drop' });
    expect(view.policy).to.include({ prompts: 'drop', responses: 'drop', toolDetails: 'drop', emails: 'keep' });
    const secret = `drop-${randomUUID()}`;
    const tag = `dropall-${randomUUID().slice(0, 8)}`;
    await claudeSession('privacy-drop', secret, { tag });
    expect(await occurrences(secret)).to.deep.equal([]);
    // The fake API's answers: its assistant text, and what its Write and Bash calls carried.
    for (const [what, text] of Object.entries(taggedTexts(tag))) {
      expect(await occurrences(text), `${what} (${text})`).to.deep.equal([]);
    }
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

  describe('ai-usage tenants set-policy', () => {
    /** The CLI as its own process, on the service's database. */
    const cli = async (...args: string[]) => {
      const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: svc.databaseUrl, LOG_LEVEL: 'warn' };
      delete env['MONGODB_URL'];
      try {
        const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { env });
        return { code: 0, stdout, stderr };
      } catch (e) {
        const err = e as { code: number; stdout: string; stderr: string };
        return { code: err.code, stdout: err.stdout, stderr: err.stderr };
      }
    };
    const tenantOf = async (read: string) =>
      (await (await fetch(`${svc.urls.api}/api/v1/tenant`, { headers: { authorization: `Bearer ${read}` } })).json()) as { policy: Record<string, string>; retentionDays: number };
    /** Sends one prompt; waits out the token cache first, so the service has read the tenant's policy again. */
    const sendPrompt = async (ingest: string, prompt: string, email: string) => {
      await new Promise((r) => setTimeout(r, svc.config.TOKEN_CACHE_TTL_MS + 100));
      const session = randomUUID();
      const r = await sendLogs('http/json', svc.urls, ingest, { 'service.name': 'claude-code' }, [
        { body: 'claude_code.user_prompt', attributes: { 'session.id': session, 'event.name': 'user_prompt', 'user.email': email, prompt } },
      ]);
      expect(r, String(r.error)).to.deep.equal({ ok: true });
      const rows = await svc.sql<{ n: string }>('SELECT count(*) AS n FROM events WHERE session_id = $1', [session]);
      expect(Number(rows[0]?.n), 'the prompt event itself is stored').to.equal(1);
    };

    it('sets the policy (--json), which the service stores, shows and applies to new records', async () => {
      const read = await svc.token('privacy-cli', 'read');
      const ingest = await svc.token('privacy-cli', 'ingest');
      // Before: the default policy, and a prompt is stored as sent.
      const keptBefore = `cli-kept-${randomUUID()}`;
      await sendPrompt(ingest, keptBefore, 'gus@example.com');
      expect(await occurrences(keptBefore)).to.include('public.events');

      const set = await cli('tenants', 'set-policy', 'privacy-cli', '--prompts', 'drop', '--responses', 'drop', '--tool-details', 'drop',
        '--emails', 'hash', '--retention-days', '12', '--json');
      expect(set.code, set.stderr).to.equal(0);
      expect(JSON.parse(set.stdout)).to.deep.include({
        id: 'privacy-cli', retentionDays: 12, policy: { prompts: 'drop', responses: 'drop', toolDetails: 'drop', emails: 'hash' },
      });
      // Stored: the API reads it back.
      expect(await tenantOf(read)).to.deep.include({ retentionDays: 12, policy: { prompts: 'drop', responses: 'drop', toolDetails: 'drop', emails: 'hash' } });
      // Applied: a new prompt and email do not reach the database.
      const dropped = `cli-dropped-${randomUUID()}`;
      const email = `hal.${randomUUID().slice(0, 8)}@example.com`;
      await sendPrompt(ingest, dropped, email);
      expect(await occurrences(dropped)).to.deep.equal([]);
      expect(await occurrences(email)).to.deep.equal([]);

      // A partial change keeps the other fields; prompts are stored again from then on.
      const back = await cli('tenants', 'set-policy', 'privacy-cli', '--prompts', 'keep', '--json');
      expect(back.code, back.stderr).to.equal(0);
      expect(JSON.parse(back.stdout)).to.deep.include({ retentionDays: 12, policy: { prompts: 'keep', responses: 'drop', toolDetails: 'drop', emails: 'hash' } });
      const keptAfter = `cli-kept-${randomUUID()}`;
      await sendPrompt(ingest, keptAfter, email);
      expect(await occurrences(keptAfter)).to.include('public.events');
      expect(await occurrences(email)).to.deep.equal([]);

      // Without --json: one line naming every field.
      const text = await cli('tenants', 'set-policy', 'privacy-cli', '--retention-days', '30');
      expect(text.code, text.stderr).to.equal(0);
      expect(text.stdout).to.match(/^privacy-cli: prompts keep, responses drop, tool details drop, emails hash, retention 30 days\n/);
      expect((await tenantOf(read)).retentionDays).to.equal(30);
    });

    it('refuses bad values with an error on stderr and a non-zero exit, changing nothing', async () => {
      const read = await svc.token('privacy-cli-bad', 'read');
      const before = await tenantOf(read);
      for (const [args, message] of [
        [['--prompts', 'shred'], /prompts must be one of keep, hash, drop/],
        [['--responses', 'hash'], /responses must be one of keep, drop/],
        [['--tool-details', 'maybe'], /toolDetails must be one of keep, drop/],
        [['--emails', 'drop'], /emails must be one of keep, hash/],
        [['--retention-days', '0'], /retention days must be an integer from 1 to 3650/],
        [['--retention-days', '3651'], /retention days must be an integer from 1 to 3650/],
        [['--retention-days', 'soon'], /retention days must be an integer from 1 to 3650/],
        [['--prompts', 'drop', '--retention-days', '2.5'], /retention days must be an integer from 1 to 3650/],
      ] as const) {
        const r = await cli('tenants', 'set-policy', 'privacy-cli-bad', ...args, '--json');
        expect(r.code, args.join(' ')).to.not.equal(0);
        expect(r.stderr, args.join(' ')).to.match(/^error: /).and.match(message);
        expect(r.stdout, args.join(' ')).to.equal('');
      }
      const missing = await cli('tenants', 'set-policy', 'no-such-tenant', '--prompts', 'drop', '--json');
      expect(missing.code).to.not.equal(0);
      expect(missing.stderr).to.equal('error: no tenant "no-such-tenant"\n');
      expect(await tenantOf(read)).to.deep.equal(before);
    });
  });
});
