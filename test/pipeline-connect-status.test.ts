import { expect } from 'chai';
import { sendLogs } from './support/otel.js';
import { type TestService, startTestService } from './support/service.js';

interface Status {
  tenant: string;
  receiving: boolean;
  seats: number;
  surfaces: { surface: string; lastSeenAt: string }[];
  lastReceivedAt: string | null;
}

/**
 * "Receiving from N seats": GET /api/v1/connect/status counts the distinct seats (linked
 * identities) whose records were received in the last 24 hours, from what ingest recorded
 * (not from rollups, so no pipeline run is needed). The passage of time is made by moving
 * the stored receive times back, as a day without data would leave them.
 */
describe('Connect status: seats of the last 24 hours', function () {
  let svc: TestService;
  const resource = { 'service.name': 'claude-code' };
  const tenant = 'window';
  let read: string;
  let ingest: string;

  const status = async (): Promise<Status> => {
    const res = await fetch(`${svc.urls.api}/api/v1/connect/status`, { headers: { authorization: `Bearer ${read}` } });
    expect(res.status).to.equal(200);
    return (await res.json()) as Status;
  };
  const prompt = (who: Record<string, string>, time?: number) => ({
    body: 'claude_code.user_prompt', attributes: { ...who, 'event.name': 'user_prompt' }, ...(time === undefined ? {} : { time }),
  });
  /** Moves the receive times of the tenant's identities matching `where` back by `hours`. */
  const ageIdentities = (hours: number, where: string) =>
    svc.sql(`UPDATE seat_identities SET last_received_at = last_received_at - make_interval(hours => $2) WHERE tenant_id = $1 AND ${where}`, [tenant, hours]);

  before(async () => {
    svc = await startTestService();
    ingest = await svc.token(tenant, 'ingest');
    read = await svc.token(tenant, 'read');
  });
  after(async () => svc?.close());

  it('counts a seat received from within 24 h and not one last received from more than 24 h ago', async () => {
    const sent = await sendLogs('http/json', svc.urls, ingest, resource, [
      prompt({ 'user.email': 'old@example.com', 'user.id': 'install-old', 'session.id': 'o1' }),
      prompt({ 'user.email': 'new@example.com', 'user.id': 'install-new', 'session.id': 'n1' }),
      // The same install without the email: linked, the same seat.
      prompt({ 'user.id': 'install-new', 'session.id': 'n2' }),
      // Stamped 30 hours ago but received now (a laptop that was offline): received within 24 h.
      prompt({ 'user.id': 'install-late', 'session.id': 'l1' }, Date.now() - 30 * 3600_000),
    ]);
    expect(sent.ok, String(sent.error)).to.equal(true);
    expect((await status()).seats).to.equal(3);

    // A day and an hour without anything from old@example.com.
    await ageIdentities(25, `user_email = 'old@example.com'`);
    const now = await status();
    expect(now.seats, 'old@example.com was last received from 25 h ago').to.equal(2);
    expect(now.receiving).to.equal(true);

    // Just within the window still counts.
    await ageIdentities(23, `user_id = 'install-late'`);
    expect((await status()).seats).to.equal(2);
  });

  it('counts the old seat again when any of its identifiers is received, and none once all are older than 24 h', async () => {
    // A record of old@example.com with an identifier not seen before: the seat is recent again.
    const back = await sendLogs('http/json', svc.urls, ingest, resource, [
      prompt({ 'user.email': 'old@example.com', 'user.account_uuid': 'acc-old', 'session.id': 'o2' }),
    ]);
    expect(back.ok, String(back.error)).to.equal(true);
    expect((await status()).seats).to.equal(3);

    await ageIdentities(48, 'true');
    await svc.sql(`UPDATE surfaces_seen SET last_received_at = last_received_at - interval '48 hours' WHERE tenant_id = $1`, [tenant]);
    const quiet = await status();
    expect(quiet.seats).to.equal(0);
    expect(quiet.receiving).to.equal(false);
    expect(quiet.surfaces.map((s) => s.surface)).to.deep.equal(['claude_code']);
    expect(Date.now() - Date.parse(quiet.lastReceivedAt ?? '')).to.be.greaterThan(47 * 3600_000);
  });
});
