import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { type FakeAnthropic, startFakeAnthropic } from '../scripts/fake-anthropic.js';
import { protoRoot } from '../src/otlp/proto.js';
import { createTenant, createToken } from '../src/ingest/tenancy.js';
import type { TokenScope } from '../src/store/store.js';
import { runClaudeCode } from './support/claude-code.js';
import { type OtlpProtocol, type SendResult, protocols, sendLogs, sendMetrics, sendSpans } from './support/otel.js';
import { type TestService, startTestService } from './support/service.js';
import { eventually, runPipeline, sessionsSeen, utcDay } from './support/usage.js';
import { tablesContaining } from './support/find-text.js';

const run = promisify(execFile);

/**
 * Tenant isolation, table-driven over every API route (src/api/*.ts), the CLI and all three OTLP
 * transports. Two tenants, A and B, each with ingest, read and admin tokens and data sent over every
 * protocol and rolled up by the pipeline. Tokens of A must never see, change or write into B.
 */
describe('tenant isolation', function () {
  this.timeout(120_000);
  let svc: TestService;

  interface Fixture {
    id: string;
    email: string;
    userId: string;
    model: string;
    /** service.name, kept as the surface. */
    service: string;
    prompt: string;
    sessions: string[];
    tokens: Record<TokenScope, { id: string; token: string }>;
  }
  const fixture = (id: string, who: string): Fixture => {
    const tag = randomUUID().slice(0, 8);
    return {
      id, email: `${who}.${tag}@${id}.example`, userId: `install-${who}-${tag}`, model: `claude-${who}-${tag}`,
      service: `${who}-surface-${tag}`, prompt: `${who}-prompt-${tag}`, sessions: [],
      tokens: {} as Fixture['tokens'],
    };
  };
  const A = fixture('iso-alpha', 'ada');
  const B = fixture('iso-bravo', 'bea');
  const from = utcDay(-1);
  const to = utcDay(1);

  /** Everything that identifies a tenant's data: ids, identities, models, surfaces, sessions, prompts, token ids, prefixes and secrets. */
  async function secretsOf(t: Fixture): Promise<string[]> {
    const tokens = await svc.sql<{ id: string; prefix: string }>('SELECT id, prefix FROM tokens WHERE tenant_id = $1', [t.id]);
    return [
      t.id, t.email, t.userId, t.model, t.service, t.prompt, ...t.sessions,
      ...tokens.flatMap((r) => [r.id, r.prefix]),
      ...Object.values(t.tokens).map((x) => x.token),
    ];
  }
  function expectNone(text: string, secrets: string[], what: string): void {
    for (const s of secrets) expect(text.includes(s), `${what} shows "${s}" of the other tenant:\n${text.slice(0, 2000)}`).to.equal(false);
  }

  const occurrences = (needle: string) => tablesContaining(svc, needle);

  async function api(token: string | null, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const res = await fetch(`${svc.urls.api}${path}`, {
      method,
      headers: {
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, text, headers: [...res.headers].map(([k, v]) => `${k}: ${v}`).join('\n') };
  }

  /** A tenant's own identity and surface, so sends made by the tests add no seat or surface to it. */
  const identityOf = (t: Fixture, session: string) => ({ 'session.id': session, 'user.email': t.email, 'user.id': t.userId });

  type Signal = 'logs' | 'metrics' | 'traces';
  const signals: readonly Signal[] = ['logs', 'metrics', 'traces'];
  function send(signal: Signal, protocol: OtlpProtocol, token: string, resource: Record<string, string>, who: Record<string, string>): Promise<SendResult> {
    if (signal === 'logs') return sendLogs(protocol, svc.urls, token, resource, [{ body: 'claude_code.user_prompt', attributes: { ...who, 'event.name': 'user_prompt' } }]);
    if (signal === 'metrics') return sendMetrics(protocol, svc.urls, token, resource, [{ name: 'claude_code.session.count', points: [{ value: 1, attributes: who }] }]);
    return sendSpans(protocol, svc.urls, token, resource, ['claude_code.interaction'], who);
  }

  /** A tenant's data: prompts, API requests, metrics and spans over every protocol, then the pipeline. */
  async function seed(t: Fixture): Promise<void> {
    const resource = { 'service.name': t.service, 'tenant.id': t.id };
    for (const protocol of protocols) {
      const session = randomUUID();
      t.sessions.push(session);
      const who = identityOf(t, session);
      const sent = [
        await sendLogs(protocol, svc.urls, t.tokens.ingest.token, resource, [
          { body: 'claude_code.user_prompt', attributes: { ...who, 'event.name': 'user_prompt', 'prompt.id': randomUUID(), prompt: t.prompt } },
          { body: 'claude_code.api_request', attributes: {
            ...who, 'event.name': 'api_request', model: t.model, cost_usd: 0.25, input_tokens: 100, output_tokens: 10, cache_read_tokens: 0, cache_creation_tokens: 0,
          } },
        ]),
        await sendMetrics(protocol, svc.urls, t.tokens.ingest.token, resource, [{ name: 'claude_code.session.count', points: [{ value: 1, attributes: who }] }]),
        await sendSpans(protocol, svc.urls, t.tokens.ingest.token, resource, ['claude_code.interaction'], who),
      ];
      for (const r of sent) expect(r, `${t.id} over ${protocol}: ${String(r.error)}`).to.deep.equal({ ok: true });
    }
    await runPipeline(svc, t.tokens.admin.token, utcDay(-1), utcDay(0));
  }

  before(async () => {
    svc = await startTestService();
    for (const t of [A, B]) {
      await createTenant(svc.store, { id: t.id }, 90);
      for (const scope of ['ingest', 'read', 'admin'] as const) {
        const created = await createToken(svc.store, t.id, scope);
        t.tokens[scope] = { id: created.id, token: created.token };
      }
    }
    await seed(A);
    await seed(B);
    // The data is where it belongs: 6 events, 3 points and 3 spans per tenant.
    for (const t of [A, B]) {
      const counts = await svc.sql<{ e: string; p: string; s: string }>(
        `SELECT (SELECT count(*) FROM events WHERE tenant_id = $1) AS e, (SELECT count(*) FROM metric_points WHERE tenant_id = $1) AS p,
                (SELECT count(*) FROM spans WHERE tenant_id = $1) AS s`, [t.id]);
      expect(counts[0], t.id).to.deep.equal({ e: '6', p: '3', s: '3' });
    }
  });
  after(async () => svc?.close());

  describe('transports', () => {
    for (const protocol of protocols) {
      for (const signal of signals) {
        it(`refuses ${signal} over ${protocol} from an ingest token of A that claims tenant.id=B, and stores nothing`, async () => {
          const marker = randomUUID();
          const who = identityOf(A, marker);
          const refused = await send(signal, protocol, A.tokens.ingest.token, { 'service.name': A.service, 'tenant.id': B.id }, who);
          expect(refused.ok).to.equal(false);
          expect(refused.error?.code, String(refused.error)).to.equal(protocol === 'grpc' ? grpc.status.PERMISSION_DENIED : 403);
          expect(await occurrences(marker)).to.deep.equal([]);
          // The control: the same request naming its own tenant is stored, and findable by the same search.
          const accepted = await send(signal, protocol, A.tokens.ingest.token, { 'service.name': A.service, 'tenant.id': A.id }, who);
          expect(accepted, String(accepted.error)).to.deep.equal({ ok: true });
          const table = { logs: 'public.events', metrics: 'public.metric_points', traces: 'public.spans' }[signal];
          expect(await occurrences(marker)).to.include(table);
          const tenants = await svc.sql<{ tenant_id: string }>(`SELECT DISTINCT tenant_id FROM ${table} WHERE session_id = $1`, [marker]);
          expect(tenants).to.deep.equal([{ tenant_id: A.id }]);
        });
      }
    }

    /** One request, two resources: A's own (valid) and one claiming B. */
    const mixedLogs = (good: string, bad: string) => {
      const nowNs = String(BigInt(Date.now()) * 1_000_000n);
      const resource = (tenant: string, session: string) => ({
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'claude-code' } }, { key: 'tenant.id', value: { stringValue: tenant } }] },
        scopeLogs: [{ scope: { name: 'com.anthropic.claude_code.events' }, logRecords: [{
          timeUnixNano: nowNs, body: { stringValue: 'claude_code.user_prompt' },
          attributes: [{ key: 'session.id', value: { stringValue: session } }, { key: 'event.name', value: { stringValue: 'user_prompt' } }],
        }] }],
      });
      return { resourceLogs: [resource(A.id, good), resource(B.id, bad)] };
    };
    const Req = protoRoot.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest');

    for (const protocol of protocols) {
      it(`refuses a whole ${protocol} request when one of its resources claims tenant B, storing neither`, async () => {
        const [good, bad] = [randomUUID(), randomUUID()];
        const body = mixedLogs(good, bad);
        let code: number;
        if (protocol === 'grpc') {
          const client = new grpc.Client(svc.urls.grpc.replace('http://', ''), grpc.credentials.createInsecure());
          const md = new grpc.Metadata();
          md.set('authorization', `Bearer ${A.tokens.ingest.token}`);
          code = await new Promise<number>((resolve) =>
            client.makeUnaryRequest('/opentelemetry.proto.collector.logs.v1.LogsService/Export', (b: Buffer) => b, (b: Buffer) => b,
              Buffer.from(Req.encode(Req.fromObject(body)).finish()), md, (err) => resolve(err ? err.code : 0)));
          client.close();
          expect(code).to.equal(grpc.status.PERMISSION_DENIED);
        } else {
          const json = protocol === 'http/json';
          const res = await fetch(`${svc.urls.http}/v1/logs`, {
            method: 'POST',
            headers: { authorization: `Bearer ${A.tokens.ingest.token}`, 'content-type': json ? 'application/json' : 'application/x-protobuf' },
            body: json ? JSON.stringify(body) : new Uint8Array(Req.encode(Req.fromObject(body)).finish()),
          });
          expect(res.status).to.equal(403);
        }
        expect(await occurrences(good)).to.deep.equal([]);
        expect(await occurrences(bad)).to.deep.equal([]);
      });
    }

    for (const scope of ['read', 'admin'] as const) {
      it(`refuses telemetry sent with ${scope === 'admin' ? 'an' : 'a'} ${scope} token (403 / PERMISSION_DENIED) on every protocol`, async () => {
        for (const protocol of protocols) {
          const marker = randomUUID();
          const r = await send('logs', protocol, A.tokens[scope].token, { 'service.name': A.service }, identityOf(A, marker));
          expect(r.ok, protocol).to.equal(false);
          expect(r.error?.code, `${protocol}: ${String(r.error)}`).to.equal(protocol === 'grpc' ? grpc.status.PERMISSION_DENIED : 403);
          expect(await occurrences(marker), protocol).to.deep.equal([]);
        }
      });
    }
  });

  /** Every read route: what A's own data must show there (so an empty answer cannot pass), and a structural check. */
  interface ReadRoute {
    name: string;
    path: string;
    scopes: readonly ('read' | 'admin')[];
    own: (t: Fixture) => string[];
    check?: (text: string, t: Fixture) => void | Promise<void>;
  }
  const range = () => `from=${from}&to=${to}`;
  const dailyRows = (text: string) => (JSON.parse(text) as { tenant: string; rows: Record<string, unknown>[] });
  const csvColumn = (text: string, col: number) => text.trim().split('\n').slice(1).map((l) => l.split(',')[col]);
  const readRoutes: ReadRoute[] = [
    ...(['seat', 'model', 'surface'] as const).map((by): ReadRoute => ({
      name: `GET /api/v1/usage/daily?by=${by}`,
      path: `/api/v1/usage/daily?${range()}&by=${by}`,
      scopes: ['read', 'admin'],
      own: (t) => [t.id, by === 'seat' ? t.email : by === 'model' ? t.model : t.service],
      check: (text, t) => {
        const body = dailyRows(text);
        expect(body.tenant).to.equal(t.id);
        expect([...new Set(body.rows.map((r) => r[by]))]).to.deep.equal([by === 'seat' ? t.email : by === 'model' ? t.model : t.service]);
        // A's 3 prompts and 3 API requests, nothing of B's.
        if (by !== 'model') {
          expect(body.rows.reduce((n, r) => n + Number(r['prompts']), 0)).to.equal(3);
          expect(body.rows.reduce((n, r) => n + Number(r['apiRequests']), 0)).to.equal(3);
        }
      },
    })),
    ...(['seat', 'model', 'surface'] as const).map((by): ReadRoute => ({
      name: `GET /api/v1/usage/daily?by=${by}&format=csv`,
      path: `/api/v1/usage/daily?${range()}&by=${by}&format=csv`,
      scopes: ['read', 'admin'],
      own: (t) => [by === 'seat' ? t.email : by === 'model' ? t.model : t.service],
      check: (text, t) => {
        expect([...new Set(csvColumn(text, 1))]).to.deep.equal([by === 'seat' ? t.email : by === 'model' ? t.model : t.service]);
      },
    })),
    {
      name: 'GET /api/v1/usage/summary',
      path: `/api/v1/usage/summary?${range()}`,
      scopes: ['read', 'admin'],
      own: (t) => [t.id, t.email, t.model],
      check: (text, t) => {
        const body = JSON.parse(text) as { tenant: string; seats: { seat: string }[]; models: { model: string }[]; days: { activeSeats: number }[] };
        expect(body.tenant).to.equal(t.id);
        expect(body.seats.map((s) => s.seat)).to.deep.equal([t.email]);
        expect([...new Set(body.models.map((m) => m.model))]).to.deep.equal([t.model]);
        expect(body.days).to.have.length.greaterThan(0);
        expect(body.days.every((d) => d.activeSeats === 1), 'one active seat a day').to.equal(true);
      },
    },
    {
      name: 'GET /api/v1/connect/status',
      path: '/api/v1/connect/status',
      scopes: ['read', 'admin'],
      own: (t) => [t.id, t.service],
      check: (text, t) => {
        const body = JSON.parse(text) as { tenant: string; seats: number; surfaces: { surface: string }[] };
        expect(body.tenant).to.equal(t.id);
        expect(body.surfaces.map((s) => s.surface)).to.deep.equal([t.service]);
        expect(body.seats, 'seats of this tenant only').to.equal(1);
      },
    },
    {
      name: 'GET /api/v1/connect/setup',
      path: '/api/v1/connect/setup',
      scopes: ['read', 'admin'],
      own: (t) => [t.id],
      check: (text, t) => expect((JSON.parse(text) as { tenant: string }).tenant).to.equal(t.id),
    },
    {
      name: 'GET /api/v1/tenant',
      path: '/api/v1/tenant',
      scopes: ['read', 'admin'],
      own: (t) => [t.id],
      check: (text, t) => expect((JSON.parse(text) as { id: string }).id).to.equal(t.id),
    },
    {
      name: 'GET /api/v1/whoami',
      path: '/api/v1/whoami',
      scopes: ['read', 'admin'],
      own: (t) => [t.id],
      check: (text, t) => expect((JSON.parse(text) as { tenant: string }).tenant).to.equal(t.id),
    },
    {
      name: 'GET /api/v1/tokens',
      path: '/api/v1/tokens',
      scopes: ['admin'],
      own: (t) => [t.tokens.ingest.id, t.tokens.read.id, t.tokens.admin.id],
      check: async (text, t) => {
        const listed = (JSON.parse(text) as { tokens: { id: string; tenant: string }[] }).tokens;
        const inDb = await svc.sql<{ id: string }>('SELECT id FROM tokens WHERE tenant_id = $1', [t.id]);
        expect(listed.map((x) => x.id).sort()).to.deep.equal(inDb.map((r) => r.id).sort());
        expect([...new Set(listed.map((x) => x.tenant))]).to.deep.equal([t.id]);
      },
    },
  ];

  describe('API read routes', () => {
    for (const route of readRoutes) {
      for (const scope of route.scopes) {
        it(`${route.name}: ${scope === 'admin' ? 'an' : 'a'} ${scope} token of A sees A's data and none of B's`, async () => {
          const res = await api(A.tokens[scope].token, 'GET', route.path);
          expect(res.status, res.text).to.equal(200);
          for (const s of route.own(A)) expect(res.text, `A's own ${s}`).to.include(s);
          expectNone(`${res.headers}\n${res.text}`, await secretsOf(B), `${route.name} for A's ${scope} token`);
          await route.check?.(res.text, A);
          // And the other way round: B sees its own data and none of A's.
          const back = await api(B.tokens[scope].token, 'GET', route.path);
          expect(back.status, back.text).to.equal(200);
          for (const s of route.own(B)) expect(back.text, `B's own ${s}`).to.include(s);
          expectNone(`${back.headers}\n${back.text}`, await secretsOf(A), `${route.name} for B's ${scope} token`);
          await route.check?.(back.text, B);
        });
      }
    }

    it('ignores a tenant named in the query or in headers: the token\'s tenant is the only one', async () => {
      const smuggled = { 'x-tenant-id': B.id, 'x-scope-orgid': B.id, tenant: B.id, 'x-tenant': B.id };
      for (const route of readRoutes) {
        const sep = route.path.includes('?') ? '&' : '?';
        const res = await api(A.tokens.admin.token, 'GET', `${route.path}${sep}tenant=${B.id}&tenant_id=${B.id}&tenantId=${B.id}`, undefined, smuggled);
        expect(res.status, `${route.name}: ${res.text}`).to.equal(200);
        for (const s of route.own(A)) expect(res.text, `${route.name}: A's own ${s}`).to.include(s);
        expectNone(res.text, await secretsOf(B), route.name);
      }
      // Bodies are strict: a tenant field is refused (400), never applied.
      const before = await svc.sql('SELECT id FROM tokens WHERE tenant_id = $1', [B.id]);
      for (const [method, path, body] of [
        ['POST', '/api/v1/tokens', { scope: 'admin', tenant: B.id }],
        ['PUT', '/api/v1/tenant/policy', { retentionDays: 7, tenant: B.id }],
        ['POST', '/api/v1/pipeline/runs', { from: utcDay(0), to: utcDay(0), tenant: B.id }],
      ] as const) {
        const res = await api(A.tokens.admin.token, method, path, body);
        expect(res.status, `${method} ${path}: ${res.text}`).to.equal(400);
      }
      expect(await svc.sql('SELECT id FROM tokens WHERE tenant_id = $1', [B.id])).to.deep.equal(before);
      const bTenant = JSON.parse((await api(B.tokens.read.token, 'GET', '/api/v1/tenant')).text) as { retentionDays: number };
      expect(bTenant.retentionDays).to.equal(90);
    });

    it('shows no tenant\'s data on the routes without a token (/healthz, /readyz, /metrics, the dashboard files)', async () => {
      const secrets = [...(await secretsOf(A)), ...(await secretsOf(B))];
      for (const path of ['/healthz', '/readyz', '/metrics', '/', '/app.js', '/app.css']) {
        const res = await api(null, 'GET', path);
        expect(res.status, path).to.be.oneOf([200, 404]);
        expectNone(res.text, secrets, path);
      }
      expect((await api(null, 'GET', '/metrics')).text).to.include('aiu_export_request_duration_seconds');
    });
  });

  /** Every route that needs a token, with what it takes; paths name A's own tokens so only the scope can refuse. */
  interface ScopedRoute { name: string; method: 'GET' | 'POST' | 'PUT' | 'DELETE'; path: () => string; body?: () => unknown; scope: 'read' | 'admin' }
  const scopedRoutes: ScopedRoute[] = [
    ...readRoutes.map((r): ScopedRoute => ({ name: r.name, method: 'GET', path: () => r.path, scope: r.scopes.includes('read') ? 'read' : 'admin' })),
    { name: 'POST /api/v1/tokens', method: 'POST', path: () => '/api/v1/tokens', body: () => ({ scope: 'admin' }), scope: 'admin' },
    { name: 'DELETE /api/v1/tokens/:id', method: 'DELETE', path: () => `/api/v1/tokens/${A.tokens.admin.id}`, scope: 'admin' },
    { name: 'POST /api/v1/tokens/:id/rotate', method: 'POST', path: () => `/api/v1/tokens/${A.tokens.admin.id}/rotate`, scope: 'admin' },
    { name: 'PUT /api/v1/tenant/policy', method: 'PUT', path: () => '/api/v1/tenant/policy', body: () => ({ prompts: 'drop', retentionDays: 3 }), scope: 'admin' },
    { name: 'POST /api/v1/pipeline/runs', method: 'POST', path: () => '/api/v1/pipeline/runs', body: () => ({ from: utcDay(0), to: utcDay(0) }), scope: 'admin' },
  ];

  describe('scopes', () => {
    /** What a refused call must not have changed: A's tokens and policy. */
    const stateOfA = async () => ({
      tokens: await svc.sql('SELECT id, revoked_at FROM tokens WHERE tenant_id = $1 ORDER BY id', [A.id]),
      tenant: await svc.sql('SELECT t::text AS row FROM tenants t WHERE id = $1', [A.id]),
    });

    for (const route of scopedRoutes) {
      const { name } = route;
      it(`${name}: an ingest token gets 403${route.scope === 'admin' ? ', and so does a read token' : ''}, changing nothing`, async () => {
        const before = await stateOfA();
        const refusedScopes: TokenScope[] = route.scope === 'admin' ? ['ingest', 'read'] : ['ingest'];
        for (const scope of refusedScopes) {
          const res = await api(A.tokens[scope].token, route.method, route.path(), route.body?.());
          expect(res.status, `${scope}: ${res.text}`).to.equal(403);
          expect((JSON.parse(res.text) as { error: { code: string } }).error.code).to.equal('permission_denied');
          expectNone(res.text, await secretsOf(A).then((s) => s.filter((x) => x !== A.id)), `${name} refused to ${scope}`);
        }
        expect(await stateOfA()).to.deep.equal(before);
        // The token of the right scope is let in (the control that the route and its arguments are fine).
        if (route.method === 'GET') {
          expect((await api(A.tokens[route.scope].token, route.method, route.path())).status).to.equal(200);
        }
      });
    }

    it('leaves the refused tokens working', async () => {
      expect((await api(A.tokens.read.token, 'GET', '/api/v1/whoami')).status).to.equal(200);
      const r = await send('logs', 'http/json', A.tokens.ingest.token, { 'service.name': A.service }, identityOf(A, randomUUID()));
      expect(r, String(r.error)).to.deep.equal({ ok: true });
    });
  });

  describe('managing another tenant\'s tokens', () => {
    it('answers revoke and rotate of each of B\'s tokens with 404, exactly like an unknown id, and B\'s tokens keep working', async () => {
      const unknown = `tok_${'0'.repeat(16)}`;
      const unknownRevoke = await api(A.tokens.admin.token, 'DELETE', `/api/v1/tokens/${unknown}`);
      const unknownRotate = await api(A.tokens.admin.token, 'POST', `/api/v1/tokens/${unknown}/rotate`);
      expect([unknownRevoke.status, unknownRotate.status]).to.deep.equal([404, 404]);
      for (const scope of ['ingest', 'read', 'admin'] as const) {
        const victim = B.tokens[scope].id;
        const revoke = await api(A.tokens.admin.token, 'DELETE', `/api/v1/tokens/${victim}`);
        const rotate = await api(A.tokens.admin.token, 'POST', `/api/v1/tokens/${victim}/rotate`);
        expect(revoke.status, revoke.text).to.equal(404);
        expect(rotate.status, rotate.text).to.equal(404);
        // Nothing tells B's token apart from one that does not exist.
        expect(revoke.text).to.equal(unknownRevoke.text.replaceAll(unknown, victim));
        expect(rotate.text).to.equal(unknownRotate.text.replaceAll(unknown, victim));
        // A's read and ingest tokens are refused on the scope before any lookup.
        for (const weak of ['ingest', 'read'] as const) {
          expect((await api(A.tokens[weak].token, 'DELETE', `/api/v1/tokens/${victim}`)).status, weak).to.equal(403);
          expect((await api(A.tokens[weak].token, 'POST', `/api/v1/tokens/${victim}/rotate`)).status, weak).to.equal(403);
        }
      }
      const bTokens = await svc.sql<{ id: string; revoked_at: Date | null }>('SELECT id, revoked_at FROM tokens WHERE tenant_id = $1', [B.id]);
      expect(bTokens.map((t) => t.id).sort()).to.deep.equal(Object.values(B.tokens).map((t) => t.id).sort());
      expect(bTokens.every((t) => t.revoked_at === null)).to.equal(true);
      // Past the token cache TTL, B's tokens still work.
      await new Promise((r) => setTimeout(r, svc.config.TOKEN_CACHE_TTL_MS + 100));
      const sent = await send('logs', 'grpc', B.tokens.ingest.token, { 'service.name': B.service, 'tenant.id': B.id }, identityOf(B, randomUUID()));
      expect(sent, String(sent.error)).to.deep.equal({ ok: true });
      expect((await api(B.tokens.read.token, 'GET', '/api/v1/whoami')).status).to.equal(200);
      expect((await api(B.tokens.admin.token, 'GET', '/api/v1/tokens')).status).to.equal(200);
    });
  });

  describe('writes of A stay in A', () => {
    it('POST /api/v1/tokens issues a token of A only', async () => {
      const res = await api(A.tokens.admin.token, 'POST', '/api/v1/tokens', { scope: 'read' });
      expect(res.status, res.text).to.equal(201);
      const created = JSON.parse(res.text) as { id: string; token: string; tenant: string };
      expect(created.tenant).to.equal(A.id);
      const who = JSON.parse((await api(created.token, 'GET', '/api/v1/whoami')).text) as { tenant: string };
      expect(who.tenant).to.equal(A.id);
      const listedByB = (await api(B.tokens.admin.token, 'GET', '/api/v1/tokens')).text;
      expect(listedByB).to.not.include(created.id);
    });

    it('PUT /api/v1/tenant/policy changes A\'s policy only', async () => {
      const res = await api(A.tokens.admin.token, 'PUT', '/api/v1/tenant/policy', { prompts: 'hash', retentionDays: 30 });
      expect(res.status, res.text).to.equal(200);
      expect(JSON.parse(res.text)).to.deep.include({ id: A.id, retentionDays: 30 });
      const b = JSON.parse((await api(B.tokens.read.token, 'GET', '/api/v1/tenant')).text) as { retentionDays: number; policy: Record<string, string> };
      expect(b.retentionDays).to.equal(90);
      expect(b.policy).to.deep.equal({ prompts: 'keep', responses: 'keep', toolDetails: 'keep', emails: 'keep' });
    });

    it('POST /api/v1/pipeline/runs recomputes A\'s days only', async () => {
      // New data for B that B's rollups do not have yet: a run that touched B would show it.
      const who = { ...identityOf(B, randomUUID()), 'event.name': 'user_prompt' };
      const sent = await sendLogs('http/protobuf', svc.urls, B.tokens.ingest.token, { 'service.name': B.service }, [
        { body: 'claude_code.user_prompt', attributes: who }, { body: 'claude_code.user_prompt', attributes: who },
      ]);
      expect(sent, String(sent.error)).to.deep.equal({ ok: true });
      const usageOfB = async () => (await api(B.tokens.read.token, 'GET', `/api/v1/usage/daily?${range()}&by=seat`)).text;
      const beforeRun = await usageOfB();
      const res = await api(A.tokens.admin.token, 'POST', '/api/v1/pipeline/runs', { from: utcDay(-1), to: utcDay(0) });
      expect(res.status, res.text).to.equal(200);
      expect(JSON.parse(res.text)).to.include({ tenant: A.id, days: 2 });
      expect(await usageOfB()).to.equal(beforeRun);
      // The control: B's own run picks the new prompts up.
      const promptsOf = (text: string) => (JSON.parse(text) as { rows: { prompts: number }[] }).rows.reduce((n, r) => n + r.prompts, 0);
      await runPipeline(svc, B.tokens.admin.token, utcDay(-1), utcDay(0));
      const stored = await svc.sql<{ n: string }>(`SELECT count(*) AS n FROM events WHERE tenant_id = $1 AND name = 'user_prompt'`, [B.id]);
      const recomputed = promptsOf(await usageOfB());
      expect(recomputed).to.equal(Number(stored[0]?.n));
      expect(recomputed).to.be.at.least(promptsOf(beforeRun) + 2);
    });
  });

  describe('the CLI with --tenant A', function () {
    // Each command is a process of its own (tsx, then the store): about a second or two apiece.
    this.timeout(300_000);
    const cli = async (...args: string[]) => {
      const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: svc.databaseUrl, LOG_LEVEL: 'warn' };
      delete env['MONGODB_URL'];
      try {
        const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { env });
        return { code: 0, stdout, stderr };
      } catch (e) {
        const err = e as { code: number; stdout: string; stderr: string };
        return { code: err.code, stdout: err.stdout, stderr: err.stderr };
      }
    };
    const commands: { args: string[]; own: (t: Fixture) => string[] }[] = [
      { args: ['tokens', 'list', '--tenant', A.id, '--json'], own: (t) => [t.id, t.tokens.ingest.id, t.tokens.read.id, t.tokens.admin.id] },
      { args: ['tokens', 'list', '--tenant', A.id], own: (t) => [t.tokens.ingest.id, t.tokens.read.id, t.tokens.admin.id] },
      ...(['seat', 'model', 'surface'] as const).flatMap((by) => [
        { args: ['usage', '--tenant', A.id, '--from', from, '--to', to, '--by', by, '--json'], own: (t: Fixture) => [t.id, by === 'seat' ? t.email : by === 'model' ? t.model : t.service] },
        { args: ['usage', '--tenant', A.id, '--from', from, '--to', to, '--by', by], own: (t: Fixture) => [by === 'seat' ? t.email : by === 'model' ? t.model : t.service] },
        { args: ['usage', '--tenant', A.id, '--from', from, '--to', to, '--by', by, '--format', 'csv'], own: (t: Fixture) => [by === 'seat' ? t.email : by === 'model' ? t.model : t.service] },
      ]),
      { args: ['status', '--tenant', A.id, '--json'], own: (t) => [t.id, t.service] },
      { args: ['status', '--tenant', A.id], own: (t) => [t.service] },
      { args: ['pipeline', 'run', '--tenant', A.id, '--from', utcDay(0), '--to', utcDay(0), '--json'], own: (t) => [t.id] },
      { args: ['setup', 'claude-code', '--tenant', A.id, '--json'], own: (t) => [`tenant.id=${t.id}`] },
      { args: ['setup', 'cowork', '--tenant', A.id, '--json'], own: (t) => [t.id] },
    ];

    it('never prints B\'s data (tokens, usage, status, pipeline, setup), only A\'s', async () => {
      const secretsOfB = await secretsOf(B);
      for (const { args, own } of commands) {
        const r = await cli(...args);
        const what = `ai-usage ${args.join(' ')}`;
        expect(r.code, `${what}: ${r.stderr}`).to.equal(0);
        for (const s of own(A)) expect(r.stdout, `${what} shows A's ${s}`).to.include(s);
        expectNone(r.stdout + r.stderr, secretsOfB, what);
      }
      const listed = JSON.parse((await cli('tokens', 'list', '--tenant', A.id, '--json')).stdout) as { tokens: { id: string; tenant: string }[] };
      const inDb = await svc.sql<{ id: string }>('SELECT id FROM tokens WHERE tenant_id = $1', [A.id]);
      expect(listed.tokens.map((t) => t.id).sort()).to.deep.equal(inDb.map((r) => r.id).sort());
      const status = JSON.parse((await cli('status', '--tenant', A.id, '--json')).stdout) as Record<string, unknown>;
      expect(status).to.deep.equal(JSON.parse((await api(A.tokens.read.token, 'GET', '/api/v1/connect/status')).text));
    });

    it('issues setup tokens for A only (setup claude-code --issue)', async () => {
      const r = await cli('setup', 'claude-code', '--tenant', A.id, '--issue', '--json');
      expect(r.code, r.stderr).to.equal(0);
      expectNone(r.stdout, await secretsOf(B), 'setup --issue');
      const env = (JSON.parse(r.stdout) as { env: Record<string, string> }).env;
      const token = /Bearer (\S+)/.exec(env['OTEL_EXPORTER_OTLP_HEADERS'] ?? '')?.[1] as string;
      const owner = await svc.sql<{ tenant_id: string; scope: string }>('SELECT tenant_id, scope FROM tokens WHERE prefix = $1', [token.slice(0, 10)]);
      expect(owner).to.deep.equal([{ tenant_id: A.id, scope: 'ingest' }]);
      // It cannot write into B.
      const refused = await send('logs', 'http/protobuf', token, { 'service.name': 'claude-code', 'tenant.id': B.id }, { 'session.id': randomUUID() });
      expect(refused.error?.code, String(refused.error)).to.equal(403);
    });
  });

  describe('real Claude Code', () => {
    let fake: FakeAnthropic;
    before(async () => {
      fake = await startFakeAnthropic();
    });
    after(async () => fake?.close());

    /** Export requests the server answered with PERMISSION_DENIED / 403, per protocol, from /metrics. */
    async function refusedExports(protocol: OtlpProtocol): Promise<number> {
      const text = (await api(null, 'GET', '/metrics')).text;
      let n = 0;
      for (const m of text.matchAll(/^aiu_export_request_duration_seconds_count\{([^}]*)\} (\d+)/gm)) {
        const labels = m[1] ?? '';
        if (labels.includes(`protocol="${protocol}"`) && /code="(PERMISSION_DENIED|403)"/.test(labels)) n += Number(m[2]);
      }
      return n;
    }
    const runAs = async (protocol: OtlpProtocol, tenantClaim: string) => {
      const seen = new Set(sessionsSeen(fake.requests));
      const result = await runClaudeCode({
        prompt: 'Create hello.py and commit it.',
        anthropicUrl: fake.url,
        otlp: {
          protocol, endpoint: protocol === 'grpc' ? svc.urls.grpc : svc.urls.http, headers: `Authorization=Bearer ${A.tokens.ingest.token}`,
          logUserPrompts: true, traces: true, resourceAttributes: `tenant.id=${tenantClaim}`,
        },
      });
      expect(result.exitCode, result.stderr).to.equal(0);
      const sessions = sessionsSeen(fake.requests).filter((s) => !seen.has(s));
      expect(sessions).to.have.length(1);
      return sessions[0] as string;
    };

    for (const protocol of protocols) {
      it(`refuses everything a Claude Code session with A's ingest token and OTEL_RESOURCE_ATTRIBUTES=tenant.id=B sends over ${protocol}`, async () => {
        const refusedBefore = await refusedExports(protocol);
        const session = await runAs(protocol, B.id);
        // Its exports reached the server and were refused...
        expect(await refusedExports(protocol)).to.be.greaterThan(refusedBefore);
        // ...and not a trace of the session is stored, in any table.
        expect(await occurrences(session)).to.deep.equal([]);
      });
    }

    it('stores the same Claude Code session under A when it names A (the control)', async () => {
      const session = await runAs('grpc', A.id);
      const tenants = await eventually(async () => {
        const rows = await svc.sql<{ tenant_id: string }>(
          `SELECT DISTINCT tenant_id FROM (SELECT tenant_id FROM events WHERE session_id = $1 UNION ALL SELECT tenant_id FROM metric_points WHERE session_id = $1
             UNION ALL SELECT tenant_id FROM spans WHERE session_id = $1) s`, [session]);
        expect(rows).to.have.length.greaterThan(0);
        return rows;
      });
      expect(tenants).to.deep.equal([{ tenant_id: A.id }]);
      expect(await occurrences(session)).to.include.members(['public.events', 'public.metric_points', 'public.spans']);
    });
  });
});
