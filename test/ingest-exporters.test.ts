import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { type OtlpProtocol, protocols, sendLogs, sendMetrics, sendSpans } from './support/otel.js';
import { type TestService, startTestService } from './support/service.js';

/** Every protocol × signal through the real OpenTelemetry JS exporters, with a right, a wrong and a missing token. */
describe('ingest with the real OpenTelemetry exporters', function () {
  let svc: TestService;
  let token: string;
  const resource = { 'service.name': 'claude-code', 'service.version': '2.1.330' };

  before(async () => {
    svc = await startTestService();
    token = await svc.token('acme', 'ingest');
  });
  after(async () => svc?.close());

  const identity = (session: string) => ({ 'session.id': session, 'user.email': 'Alice@Example.com', 'user.id': 'a1b2c3' });

  for (const protocol of protocols) {
    describe(protocol, () => {
      it('stores log records as events with tenant, seat, session, name and raw attribute values', async () => {
        const session = randomUUID();
        const result = await sendLogs(protocol, svc.urls, token, resource, [
          { body: 'claude_code.user_prompt', attributes: { ...identity(session), 'event.name': 'user_prompt', prompt_length: '4', 'prompt.id': 'p-1' } },
          { body: 'claude_code.api_request', attributes: { ...identity(session), 'event.name': 'api_request', model: 'claude-opus-5-5', cost_usd: 0.25, input_tokens: 1200 } },
        ]);
        expect(result, String(result.error)).to.deep.equal({ ok: true });
        const rows = await svc.sql<{ tenant_id: string; seat: string; name: string; surface: string; prompt_id: string | null; attributes: Record<string, unknown>; cost_usd: number | null; model: string | null }>(
          'SELECT tenant_id, seat, name, surface, prompt_id, attributes::json AS attributes, cost_usd, model FROM events WHERE session_id = $1 ORDER BY name DESC', [session]);
        expect(rows.map((r) => r.name)).to.deep.equal(['user_prompt', 'api_request']);
        for (const r of rows) {
          expect(r.tenant_id).to.equal('acme');
          expect(r.seat).to.equal('email:alice@example.com');
          expect(r.surface).to.equal('claude_code');
        }
        expect(rows[0]?.prompt_id).to.equal('p-1');
        expect(rows[0]?.attributes['prompt_length']).to.equal('4');
        expect(rows[1]?.cost_usd).to.equal(0.25);
        expect(rows[1]?.model).to.equal('claude-opus-5-5');
      });

      it('stores metric data points with name, type, temporality and value', async () => {
        const session = randomUUID();
        const result = await sendMetrics(protocol, svc.urls, token, resource, [
          { name: 'claude_code.token.usage', unit: 'tokens', points: [
            { value: 1200, attributes: { ...identity(session), type: 'input', model: 'claude-opus-5-5' } },
            { value: 80, attributes: { ...identity(session), type: 'output', model: 'claude-opus-5-5' } },
          ] },
        ]);
        expect(result, String(result.error)).to.deep.equal({ ok: true });
        const rows = await svc.sql<{ tenant_id: string; name: string; type: string; temporality: string; monotonic: boolean; value: number; attr_type: string; unit: string; seat: string }>(
          'SELECT tenant_id, name, type, temporality, monotonic, value, attr_type, unit, seat FROM metric_points WHERE session_id = $1 ORDER BY value DESC', [session]);
        expect(rows).to.have.length(2);
        expect(rows.map((r) => [r.value, r.attr_type])).to.deep.equal([[1200, 'input'], [80, 'output']]);
        for (const r of rows) {
          expect(r).to.include({ tenant_id: 'acme', name: 'claude_code.token.usage', type: 'sum', temporality: 'delta', monotonic: true, unit: 'tokens', seat: 'email:alice@example.com' });
        }
      });

      it('stores spans', async () => {
        const session = randomUUID();
        const result = await sendSpans(protocol, svc.urls, token, resource, ['claude_code.interaction', 'claude_code.llm_request'], identity(session));
        expect(result, String(result.error)).to.deep.equal({ ok: true });
        const rows = await svc.sql<{ name: string; tenant_id: string; trace_id: string }>('SELECT name, tenant_id, trace_id FROM spans WHERE session_id = $1 ORDER BY name', [session]);
        expect(rows.map((r) => r.name)).to.deep.equal(['claude_code.interaction', 'claude_code.llm_request']);
        expect(rows[0]?.trace_id).to.match(/^[0-9a-f]{32}$/);
        expect(rows[0]?.tenant_id).to.equal('acme');
      });

      it('accepts gzip-compressed requests', async () => {
        const session = randomUUID();
        const result = await sendLogs(protocol, { ...svc.urls, gzip: true }, token, resource, [
          { body: 'claude_code.user_prompt', attributes: { ...identity(session), long: 'x'.repeat(5000) } },
        ]);
        expect(result, String(result.error)).to.deep.equal({ ok: true });
        expect((await svc.sql('SELECT 1 FROM events WHERE session_id = $1', [session])).length).to.equal(1);
      });

      for (const [label, bad] of [['a wrong token', 'aiu_wrongwrongwrongwrongwrongwrongwrongwrongwro'], ['no token', null]] as const) {
        it(`refuses ${label} on every signal and stores nothing`, async () => {
          const session = randomUUID();
          const logs = await sendLogs(protocol, svc.urls, bad, resource, [{ body: 'claude_code.user_prompt', attributes: identity(session) }]);
          const metrics = await sendMetrics(protocol, svc.urls, bad, resource, [{ name: 'claude_code.commit.count', points: [{ value: 1, attributes: identity(session) }] }]);
          const spans = await sendSpans(protocol, svc.urls, bad, resource, ['claude_code.interaction'], identity(session));
          for (const r of [logs, metrics, spans]) {
            expect(r.ok).to.equal(false);
            expect(unauthenticated(protocol, r.error), String(r.error?.message)).to.equal(true);
          }
          const stored = await svc.sql<{ n: string }>(
            `SELECT (SELECT count(*) FROM events WHERE session_id = $1) + (SELECT count(*) FROM metric_points WHERE session_id = $1)
              + (SELECT count(*) FROM spans WHERE session_id = $1) AS n`, [session]);
          expect(Number(stored[0]?.n)).to.equal(0);
        });
      }
    });
  }

  function unauthenticated(protocol: OtlpProtocol, error: { code?: number; message: string } | undefined): boolean {
    if (!error) return false;
    // gRPC status 16 UNAUTHENTICATED; HTTP 401.
    return protocol === 'grpc' ? error.code === 16 || /UNAUTHENTICATED/.test(error.message) : error.code === 401;
  }
});
