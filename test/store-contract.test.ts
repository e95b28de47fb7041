/**
 * The storage contract, stated once and run against every adapter (see `adapters` at
 * the bottom). An adapter passes when a real database behind it shows the behaviour
 * the port (src/store/store.ts) promises.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { type Document, MongoClient } from 'mongodb';
import pg from 'pg';
import type { RecordBatch } from '../src/store/records.js';
import { createPool, createPostgresStore } from '../src/store/postgres/index.js';
import { OUT_OF_RANGE, timeSeries } from '../src/store/mongo/collections.js';
import { openMongoStore } from '../src/store/mongo/index.js';
import { DAY_LOCKS, dayLockId } from '../src/store/mongo/day-lock.js';
import { dayLockKey } from '../src/store/postgres/day-lock.js';
import { DayLockLostError, StoreConflictError, type IdentityKey, type Measures, type Store, type TokenRecord, defaultPrivacyPolicy, measureNames } from '../src/store/store.js';
import { sharedMongoUrl, mongoSkipReason } from './support/mongo.js';
import { createTestDatabase, testLogger } from './support/postgres.js';
import { identity, makeEvent, makePoint, makeSpan, nsOf } from './support/records.js';

/** What a test may look at behind the port's back; each adapter answers from its own schema. */
export interface StoreInspect {
  /** Ids of the tenant's stored records, each kind sorted. */
  storedIds(tenantId: string): Promise<{ events: string[]; points: string[]; spans: string[] }>;
  /** One stored event's time and contents as read back. */
  storedEvent(tenantId: string, id: string): Promise<{ timeNs: bigint; attributes: unknown; body: unknown } | null>;
  /**
   * Makes the database itself refuse spans with this name, so a batch fails after its
   * events and points were written (or sent) in the same call. Returns the undo.
   * An adapter whose database cannot do this leaves it out and lists `refuseMidBatch` in `lacks`.
   */
  refuseSpansNamed?(name: string): Promise<() => Promise<void>>;
  /**
   * Takes a tenant-day lock from its holder as the database would on its own: PostgreSQL
   * ends the holder's session, MongoDB lets its lease run out (withDayLock in store.ts).
   */
  breakDayLock(tenantId: string, day: string): Promise<void>;
  /** Removes one measure from the stored seat rollups of a tenant-day, as a row written by an older build lacks it. */
  dropMeasure(tenantId: string, day: string, measure: string): Promise<void>;
}

/**
 * What a contract test may need beyond the port, by name. An adapter opts out of a test
 * only by naming in `lacks` the capability its database does not have, and the skip
 * says which; a test whose helper is missing without that fails. No adapter lacks any today.
 */
export const capabilities = {
  refuseMidBatch: 'making the database refuse part of a batch while it is written (StoreInspect.refuseSpansNamed)',
} as const;
export type Capability = keyof typeof capabilities;

export interface StoreFixture {
  /** A store (schema applied) on the fixture's database; call again for a second, independent one. */
  open(): Promise<Store>;
  inspect: StoreInspect;
  /** The capabilities this adapter's database does not have; the tests that need them are skipped, naming them. */
  lacks?: readonly Capability[];
  dispose(): Promise<void>;
}

/**
 * The helper a capability provides; skips the running test, with the capability in its
 * title and the output, when the adapter declares that it lacks it.
 */
function requires<T>(ctx: Mocha.Context, fixture: StoreFixture, capability: Capability, helper: T | undefined): T {
  if (fixture.lacks?.includes(capability)) {
    const why = `SKIPPED: the adapter lacks the capability "${capability}": ${capabilities[capability]}`;
    if (ctx.test !== undefined) ctx.test.title += ` [${why}]`;
    console.log(`    ${ctx.test?.fullTitle() ?? why}`);
    ctx.skip();
  }
  if (helper === undefined) throw new Error(`the adapter neither provides ${capabilities[capability]} nor lists "${capability}" in lacks`);
  return helper;
}

export interface AdapterUnderTest {
  name: string;
  /** Why the suite cannot run here, or null when it can. */
  skipReason(): string | null;
  makeStore(): Promise<StoreFixture>;
}

const sorted = (ids: string[]) => [...ids].sort();
const idsOf = (b: RecordBatch) => ({
  events: sorted(b.events.map((r) => r.id)),
  points: sorted(b.points.map((r) => r.id)),
  spans: sorted(b.spans.map((r) => r.id)),
});
const none = { events: [], points: [], spans: [] };

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

function batchFor(tenantId: string, time: string, tag: string): RecordBatch {
  return {
    events: [0, 1, 2].map((i) => makeEvent({ tenantId, time, promptId: `${tag}-${i}`, attributes: { 'prompt.id': `${tag}-${i}` } })),
    points: [0, 1].map((i) => makePoint({ tenantId, time, value: i + 1, seriesKey: `${tag}-s${i}` })),
    spans: [makeSpan({ tenantId, time, spanId: `${tag}00000000`.slice(0, 16) })],
  };
}

/** States the contract for one adapter; `skipReason` (when not null) is printed instead. */
export function runStoreContract(name: string, makeStore: () => Promise<StoreFixture>, skipReason: string | null = null): void {
  const reason = skipReason;
  if (reason !== null) {
    describe(`store contract: ${name}`, () => {
      it(reason, function () {
        console.log(reason);
        this.skip();
      });
    });
    return;
  }

  describe(`store contract: ${name}`, function () {
    let fixture: StoreFixture;
    let store: Store;
    let n = 0;
    /** A fresh tenant id per test, so tests share one database without seeing each other. */
    const tenant = async (id = `t${++n}`) => {
      await store.createTenant({ id, name: `Tenant ${id}`, timezone: 'UTC', retentionDays: 90, allowedOrganizationIds: [], policy: { ...defaultPrivacyPolicy } });
      return id;
    };

    before(async () => {
      fixture = await makeStore();
      store = await fixture.open();
    });
    after(async () => {
      await store?.close();
      await fixture?.dispose();
    });

    describe('schema', () => {
      it('migrate() is idempotent and ping() resolves once the schema is current', async () => {
        await store.migrate();
        await store.migrate();
        await store.ping();
      });

      it('migrates an empty database from several replicas at once', async () => {
        const fresh = await makeStore();
        const replicas = await Promise.all([fresh.open(), fresh.open(), fresh.open()]);
        try {
          await Promise.all(replicas.map((r) => r.ping()));
          await replicas[0]?.createTenant({ id: 'r', name: 'r', timezone: 'UTC', retentionDays: 1, allowedOrganizationIds: [], policy: { ...defaultPrivacyPolicy } });
          expect((await replicas[2]?.listTenants())?.map((t) => t.id)).to.deep.equal(['r']);
        } finally {
          await Promise.all(replicas.map((r) => r.close()));
          await fresh.dispose();
        }
      });

      it('maintain() readies the coming days: idempotent, safe from several stores at once, and writes of those days go through', async () => {
        const t = await tenant();
        const other = await fixture.open();
        try {
          // As a process weeks into its run: days no migrate() prepared.
          const later = new Date(Date.now() + 40 * 86_400_000);
          await Promise.all([store.maintain(later), other.maintain(later), store.maintain(later)]);
          await other.maintain(later);
          await store.maintain();
          const batch = batchFor(t, new Date(later.getTime() + 3 * 86_400_000).toISOString(), 'ahead');
          await other.writeBatch(t, batch);
          expect(await fixture.inspect.storedIds(t)).to.deep.equal(idsOf(batch));
        } finally {
          await other.close();
        }
      });
    });

    describe('writeBatch', () => {
      it('is durable once it resolves: a new store on the same database reads it back', async () => {
        const t = await tenant();
        const batch = batchFor(t, '2025-03-04T05:06:07.123Z', 'durable');
        await store.writeBatch(t, batch);
        const other = await fixture.open();
        await other.close();
        await store.close();
        store = await fixture.open();
        expect(await fixture.inspect.storedIds(t)).to.deep.equal(idsOf(batch));
      });

      it('tells `hold` the size of the copy it keeps at most once, before it returns, and a size that grows with the batch', async () => {
        const t = await tenant();
        const told = async (batch: RecordBatch) => {
          const calls: number[] = [];
          const written = store.writeBatch(t, batch, (bytes) => calls.push(bytes));
          const before = [...calls];
          await written;
          expect(calls, 'nothing told after returning').to.deep.equal(before);
          expect(calls.length).to.be.at.most(1);
          return calls[0];
        };
        const small = await told(batchFor(t, '2025-03-04T06:00:00Z', 'hold-small'));
        const padded = batchFor(t, '2025-03-04T06:00:01Z', 'hold-big');
        padded.events = padded.events.map((e) => ({ ...e, attributes: { ...e.attributes, pad: 'p'.repeat(100_000) } }));
        const big = await told(padded);
        if (small === undefined) expect(big, 'a store that keeps no copy never tells').to.equal(undefined);
        else expect(big).to.be.greaterThan(small + 100_000 * padded.events.length - 1);
      });

      it('keeps the nanosecond time, attributes and body as written', async () => {
        const t = await tenant();
        const timeNs = nsOf('2025-03-04T05:06:07.123Z') + 456_789n;
        const e = makeEvent({
          tenantId: t,
          timeNs,
          attributes: { s: '4', n: 4, big: '18446744073709551615', ok: true, list: [1, 'two', null], map: { a: { b: 1.5 } } },
          body: { text: 'hello', parts: ['a', 'b'] },
        });
        await store.writeBatch(t, { events: [e], points: [], spans: [] });
        const stored = await fixture.inspect.storedEvent(t, e.id);
        expect(stored).to.deep.equal({ timeNs, attributes: e.attributes, body: e.body });
      });

      it('is safe to repeat: the same batch twice, or a record twice in one batch, is stored once', async () => {
        const t = await tenant();
        const batch = batchFor(t, '2025-03-05T00:00:00Z', 'repeat');
        await store.writeBatch(t, batch);
        await store.writeBatch(t, batch);
        const doubled = { events: [...batch.events, ...batch.events], points: [...batch.points, ...batch.points], spans: [...batch.spans, ...batch.spans] };
        await store.writeBatch(t, doubled);
        expect(await fixture.inspect.storedIds(t)).to.deep.equal(idsOf(batch));

        const more = batchFor(t, '2025-03-05T00:00:01Z', 'more');
        const overlap = { events: [...batch.events, ...more.events], points: more.points, spans: [] };
        await store.writeBatch(t, overlap);
        expect((await fixture.inspect.storedIds(t)).events).to.deep.equal(sorted([...batch.events, ...more.events].map((e) => e.id)));
      });

      it('is all or nothing: a batch with a record that cannot be stored leaves nothing behind', async () => {
        const t = await tenant();
        const batch = batchFor(t, '2025-03-06T00:00:00Z', 'aon');
        // A valid uint64 on the wire, beyond what a signed 64-bit time can hold.
        batch.spans.push(makeSpan({ tenantId: t, time: '2025-03-06T00:00:00Z', spanId: 'ffffffffffffffff', endTimeNs: 2n ** 64n - 1n }));
        await rejection(store.writeBatch(t, batch));
        expect(await fixture.inspect.storedIds(t)).to.deep.equal(none);
      });

      it('is all or nothing when the database refuses part of a batch mid-write', async function () {
        const refuseSpansNamed = requires(this, fixture, 'refuseMidBatch', fixture.inspect.refuseSpansNamed?.bind(fixture.inspect));
        const t = await tenant();
        const batch = batchFor(t, '2025-03-07T00:00:00Z', 'midway');
        batch.spans.push(makeSpan({ tenantId: t, time: '2025-03-07T00:00:00Z', name: 'refused', spanId: 'eeeeeeeeeeeeeeee' }));
        const undo = await refuseSpansNamed('refused');
        try {
          const err = await rejection(store.writeBatch(t, batch));
          expect(String(err)).to.include('refused');
          expect(await fixture.inspect.storedIds(t)).to.deep.equal(none);
        } finally {
          await undo();
        }
        await store.writeBatch(t, batch);
        expect(await fixture.inspect.storedIds(t)).to.deep.equal(idsOf(batch));
      });

      it('stores records of any day, far from today, creating what the day needs on demand', async () => {
        const t = await tenant();
        const days = ['1999-12-31T23:59:59.999Z', '2003-07-01T00:00:00Z', '2099-12-31T12:00:00Z', '2261-06-01T00:00:00Z'];
        const batch: RecordBatch = {
          events: days.map((time) => makeEvent({ tenantId: t, time })),
          points: days.map((time) => makePoint({ tenantId: t, time })),
          spans: days.map((time) => makeSpan({ tenantId: t, time })),
        };
        await store.writeBatch(t, batch);
        expect(await fixture.inspect.storedIds(t)).to.deep.equal(idsOf(batch));
      });

      it('accepts strings the database cannot hold as is (U+0000, lone surrogates), replacing those characters', async () => {
        const t = await tenant();
        const e = makeEvent({
          tenantId: t,
          sessionId: 'sess\u0000ion',
          attributes: { 'nul\u0000key': 'a\u0000b', lone: 'x\ud800y', escaped: 'back\\u0000slash' },
          body: 'body\u0000',
          identity: identity({ userEmail: 'nul\u0000@example.com' }),
        });
        await store.writeBatch(t, { events: [e], points: [], spans: [] });
        const stored = await fixture.inspect.storedEvent(t, e.id);
        expect(stored?.attributes).to.deep.equal({ 'nul\ufffdkey': 'a\ufffdb', lone: 'x\ufffdy', escaped: 'back\\u0000slash' });
        expect(stored?.body).to.equal('body\ufffd');
      });

      it('keeps tenants apart: a record id stored for two tenants is two records', async () => {
        const [a, b] = [await tenant(), await tenant()];
        const e = makeEvent({ tenantId: a, time: '2025-03-08T00:00:00Z', id: 'same-id' });
        await store.writeBatch(a, { events: [e], points: [], spans: [] });
        expect((await fixture.inspect.storedIds(b)).events).to.deep.equal([]);
        await store.writeBatch(b, { events: [{ ...e, tenantId: b }], points: [], spans: [] });
        expect((await fixture.inspect.storedIds(a)).events).to.deep.equal(['same-id']);
        expect((await fixture.inspect.storedIds(b)).events).to.deep.equal(['same-id']);
      });

      it('records identities and surfaces with quotes, backslashes and SQL in them as they were sent', async () => {
        const t = await tenant();
        const who = { userEmail: "o'brien@example.com", userAccountUuid: 'a\\b', endUserId: "x'); DROP TABLE events; --", userId: 'E\'\\\'' };
        const surface = "co'work\\";
        await store.writeBatch(t, { events: [makeEvent({ tenantId: t, surface, identity: identity(who) })], points: [], spans: [] });
        expect(await store.listIdentities(t)).to.deep.equal([who]);
        expect((await store.surfacesSeen(t)).map((s) => s.surface)).to.deep.equal([surface]);
        expect((await fixture.inspect.storedIds(t)).events).to.have.length(1);
      });

      it('records the surfaces and identity tuples that reported in', async () => {
        const t = await tenant();
        const before = new Date(Date.now() - 1000);
        await store.writeBatch(t, {
          events: [
            makeEvent({ tenantId: t, surface: 'cowork', identity: identity({ userEmail: 'bo@example.com', userAccountUuid: null, userId: null }) }),
            makeEvent({ tenantId: t, surface: 'claude_code' }),
          ],
          points: [makePoint({ tenantId: t, surface: 'claude_code' })],
          spans: [],
        });
        const surfaces = await store.surfacesSeen(t);
        expect(surfaces.map((s) => s.surface)).to.deep.equal(['claude_code', 'cowork']);
        for (const s of surfaces) expect(s.lastSeenAt.getTime()).to.be.greaterThanOrEqual(before.getTime());
        const ids = await store.listIdentities(t);
        expect(ids).to.have.deep.members([
          { userEmail: 'ada@example.com', userAccountUuid: 'acc-1', endUserId: null, userId: 'install-1' },
          { userEmail: 'bo@example.com', userAccountUuid: null, endUserId: null, userId: null },
        ]);
        expect(await store.identitiesSeenSince(t, before)).to.have.length(2);
        expect(await store.identitiesSeenSince(t, new Date(Date.now() + 60 * 60_000))).to.deep.equal([]);
      });
    });

    describe('tenants', () => {
      it('creates, reads, lists and updates tenants; a taken id is a conflict', async () => {
        const id = await tenant();
        const got = await store.getTenant(id);
        expect(got.found && got.value.name).to.equal(`Tenant ${id}`);
        expect(await rejection(store.createTenant({ id, name: 'again', timezone: 'UTC', retentionDays: 1, allowedOrganizationIds: [], policy: { ...defaultPrivacyPolicy } }))).to.be.instanceOf(
          StoreConflictError,
        );
        const policy = { prompts: 'drop', responses: 'drop', toolDetails: 'keep', emails: 'hash' } as const;
        const updated = await store.updateTenant(id, { timezone: 'Europe/Paris', allowedOrganizationIds: ['org-a', 'org-b'], policy });
        expect(updated.found && [updated.value.timezone, updated.value.allowedOrganizationIds, updated.value.retentionDays, updated.value.policy]).to.deep.equal([
          'Europe/Paris',
          ['org-a', 'org-b'],
          90,
          policy,
        ]);
        const reread = await store.getTenant(id);
        expect(reread.found && reread.value.policy).to.deep.equal(policy);
        expect((await store.listTenants()).map((x) => x.id)).to.include(id);
        expect(await store.getTenant('no-such-tenant')).to.deep.equal({ found: false });
        expect(await store.updateTenant('no-such-tenant', { name: 'x' })).to.deep.equal({ found: false });
      });
    });

    describe('tokens', () => {
      const token = (tenantId: string, id: string, createdAt = new Date()): Omit<TokenRecord, 'lastUsedAt' | 'revokedAt'> => ({
        id,
        tenantId,
        scope: 'ingest',
        prefix: `aiu_${id.slice(0, 4)}`,
        hash: `hash-of-${tenantId}-${id}`,
        createdAt,
      });

      it('creates tokens, finds them by hash and lists a tenant’s own, newest first', async () => {
        const [a, b] = [await tenant(), await tenant()];
        const t1 = await store.createToken(token(a, `${a}-1`, new Date('2025-01-01T00:00:00Z')));
        await store.createToken(token(a, `${a}-2`, new Date('2025-01-02T00:00:00Z')));
        await store.createToken(token(b, `${b}-1`));
        expect(t1).to.include({ lastUsedAt: null, revokedAt: null, tenantId: a });
        const found = await store.findTokenByHash(t1.hash);
        expect(found.found && found.value.id).to.equal(t1.id);
        expect((await store.getToken(t1.id)).found).to.equal(true);
        expect((await store.listTokens(a)).map((x) => x.id)).to.deep.equal([`${a}-2`, `${a}-1`]);
        expect((await store.listTokens(b)).map((x) => x.id)).to.deep.equal([`${b}-1`]);
        expect(await store.findTokenByHash('no-such-hash')).to.deep.equal({ found: false });
      });

      it('refuses a token for a missing tenant, a taken id or a taken hash', async () => {
        const a = await tenant();
        await store.createToken(token(a, `${a}-1`));
        expect(await rejection(store.createToken(token('no-such-tenant', 'x-1')))).to.be.instanceOf(StoreConflictError);
        expect(await rejection(store.createToken({ ...token(a, `${a}-1`), hash: 'other' }))).to.be.instanceOf(StoreConflictError);
        expect(await rejection(store.createToken({ ...token(a, `${a}-9`), hash: `hash-of-${a}-${a}-1` }))).to.be.instanceOf(StoreConflictError);
      });

      it('revokes idempotently, keeping the first revocation time', async () => {
        const a = await tenant();
        const t = await store.createToken(token(a, `${a}-1`));
        const first = new Date('2025-02-01T00:00:00Z');
        const r1 = await store.revokeToken(t.id, first);
        const r2 = await store.revokeToken(t.id, new Date('2025-02-02T00:00:00Z'));
        expect(r1.found && r1.value.revokedAt?.toISOString()).to.equal(first.toISOString());
        expect(r2.found && r2.value.revokedAt?.toISOString()).to.equal(first.toISOString());
        const byHash = await store.findTokenByHash(t.hash);
        expect(byHash.found && byHash.value.revokedAt?.toISOString()).to.equal(first.toISOString());
        expect(await store.revokeToken('no-such-token', first)).to.deep.equal({ found: false });
      });

      it('rotates atomically: old revoked and new stored together, or neither', async () => {
        const a = await tenant();
        const old = await store.createToken(token(a, `${a}-old`));
        const other = await store.createToken(token(a, `${a}-other`));
        const at = new Date('2025-04-01T00:00:00Z');

        // The replacement's id is taken: nothing may change.
        expect(await rejection(store.rotateToken(old.id, { ...token(a, other.id), hash: 'fresh-hash' }, at))).to.be.instanceOf(Error);
        const still = await store.getToken(old.id);
        expect(still.found && still.value.revokedAt).to.equal(null);
        expect(await store.findTokenByHash('fresh-hash')).to.deep.equal({ found: false });

        const rotated = await store.rotateToken(old.id, token(a, `${a}-new`), at);
        expect(rotated.found && rotated.value.id).to.equal(`${a}-new`);
        const after = await store.getToken(old.id);
        expect(after.found && after.value.revokedAt?.toISOString()).to.equal(at.toISOString());
        expect((await store.findTokenByHash(`hash-of-${a}-${a}-new`)).found).to.equal(true);
        expect(await store.rotateToken('no-such-token', token(a, `${a}-x`), at)).to.deep.equal({ found: false });
        expect((await store.getToken(`${a}-x`)).found).to.equal(false);
      });

      it('records last use in bulk; later times win, unknown ids are ignored', async () => {
        const a = await tenant();
        const [t1, t2] = [await store.createToken(token(a, `${a}-1`)), await store.createToken(token(a, `${a}-2`))];
        const [d1, d2, d3] = ['2025-05-01T00:00:00Z', '2025-05-02T00:00:00Z', '2025-05-03T00:00:00Z'].map((d) => new Date(d)) as [Date, Date, Date];
        await store.touchTokens([
          { id: t1.id, at: d2 },
          { id: t1.id, at: d1 },
          { id: t2.id, at: d1 },
          { id: 'no-such-token', at: d3 },
        ]);
        await store.touchTokens([{ id: t2.id, at: d3 }]);
        await store.touchTokens([{ id: t1.id, at: d1 }]);
        await store.touchTokens([]);
        const used = async (id: string) => {
          const f = await store.getToken(id);
          return f.found ? f.value.lastUsedAt?.toISOString() : 'missing';
        };
        expect(await used(t1.id)).to.equal(d2.toISOString());
        expect(await used(t2.id)).to.equal(d3.toISOString());
      });
    });

    describe('pipeline reads', () => {
      const range = (from: string, to: string) => ({ fromNs: nsOf(from), toNs: nsOf(to) });

      it('eventTotals counts each stored event once, per identity, surface, model and name, and session when it sent no metrics', async () => {
        const t = await tenant();
        const facts = (over: object) => ({ ...makeEvent({ tenantId: t }).facts, ...over });
        const api = (i: number, time: string) =>
          makeEvent({ tenantId: t, time, name: 'api_request', promptId: `p${i}`, facts: facts({ model: 'opus', costUsd: 0.5, inputTokens: 10, outputTokens: 2 }) });
        const decision = (d: string, tool: string) =>
          makeEvent({ tenantId: t, time: '2025-06-01T10:00:00Z', name: 'tool_decision', promptId: `${d}${tool}`, facts: facts({ decision: d, toolName: tool }) });
        const failed = makeEvent({ tenantId: t, time: '2025-06-01T10:00:00Z', name: 'tool_result', facts: facts({ success: false, toolName: 'Bash' }) });
        const batch = {
          events: [api(1, '2025-06-01T10:00:00Z'), api(2, '2025-06-01T23:59:59Z'), api(3, '2025-06-02T00:00:00Z'), decision('accept', 'Edit'), decision('reject', 'Write'), decision('accept', 'Bash'), failed],
          points: [],
          spans: [],
        };
        await store.writeBatch(t, batch);
        await store.writeBatch(t, batch);
        const rows = await store.eventTotals(t, range('2025-06-01T00:00:00Z', '2025-06-02T00:00:00Z'), ['Edit', 'Write'], []);
        const byName = Object.fromEntries(rows.map((r) => [`${r.name}/${r.model ?? ''}`, r]));
        expect(byName['api_request/opus']).to.include({ count: 2, costUsd: 1, inputTokens: 20, outputTokens: 4, sessionId: 'session-1', surface: 'claude_code' });
        expect(byName['tool_decision/']).to.include({ count: 3, accepts: 1, rejects: 1 });
        expect(byName['tool_result/']).to.include({ count: 1, failures: 1 });
      });

      it('metricTotals adds delta values and cumulative increases (resets and baselines included)', async () => {
        const t = await tenant();
        const name = 'claude_code.cost.usage';
        const day = (h: string) => `2025-07-01T${h}Z`;
        const cumulative = (time: string, value: number, start: string, series = 'cum') =>
          makePoint({ tenantId: t, name, time, value, temporality: 'cumulative', seriesKey: series, startTimeNs: nsOf(start) });
        const points = [
          makePoint({ tenantId: t, name, time: day('01:00:00'), value: 2, seriesKey: 'delta' }),
          makePoint({ tenantId: t, name, time: day('02:00:00'), value: 3, seriesKey: 'delta' }),
          makePoint({ tenantId: t, name, time: day('03:00:00'), value: 100, seriesKey: 'delta', flags: 1 }), // NO_RECORDED_VALUE
          makePoint({ tenantId: t, name: 'other.metric', time: day('02:00:00'), value: 50, seriesKey: 'other' }),
          // Started the day before, inside the lookback: its first point counts in full.
          cumulative('2025-06-30T23:00:00Z', 4, '2025-06-30T22:00:00Z'),
          cumulative(day('01:00:00'), 10, '2025-06-30T22:00:00Z'),
          cumulative(day('02:00:00'), 10, '2025-06-30T22:00:00Z'),
          cumulative(day('03:00:00'), 3, '2025-06-30T22:00:00Z'), // reset
          // Started long before the lookback: its first point is only a baseline.
          cumulative(day('01:00:00'), 40, '2025-05-01T00:00:00Z', 'old'),
          cumulative(day('02:00:00'), 45, '2025-05-01T00:00:00Z', 'old'),
        ];
        await store.writeBatch(t, { events: [], points, spans: [] });
        const rows = await store.metricTotals(t, range(day('00:00:00'), '2025-07-02T00:00:00Z'), [name], 24n * 3600n * 1_000_000_000n);
        expect(rows.map((r) => r.name)).to.not.include('other.metric');
        const total = rows.reduce((s, r) => s + r.value, 0);
        // delta 2+3; cum: (10-4) + 0 + 3; old: baseline 40, then +5
        expect(total).to.equal(5 + 9 + 5);
      });

      it('replaceDailyRollups replaces a day; dailyRollups reads days in order', async () => {
        const t = await tenant();
        const zero = Object.fromEntries(
          ['sessions', 'costUsd', 'inputTokens', 'outputTokens', 'cacheReadTokens', 'cacheCreationTokens', 'linesAdded', 'linesRemoved', 'commits', 'pullRequests', 'activeTimeUserSeconds', 'activeTimeCliSeconds', 'editAccepts', 'editRejects', 'prompts', 'apiRequests', 'apiErrors', 'toolCalls', 'toolFailures'].map((k) => [k, 0]),
        ) as never;
        const seat = (day: string, seatName: string, sessions: number) => ({ day, seat: seatName, surface: 'claude_code', measures: { ...(zero as object), sessions } as never });
        const model = (day: string, costUsd: number) => ({
          day,
          seat: 'ada',
          surface: 'claude_code',
          model: 'opus',
          measures: { costUsd, inputTokens: 1, outputTokens: 2, cacheReadTokens: 3, cacheCreationTokens: 4 },
        });
        await store.replaceDailyRollups(t, '2025-08-02', [seat('2025-08-02', 'ada', 1), seat('2025-08-02', 'bo', 1)], [model('2025-08-02', 1)]);
        await store.replaceDailyRollups(t, '2025-08-01', [seat('2025-08-01', 'ada', 5)], []);
        await store.replaceDailyRollups(t, '2025-08-02', [seat('2025-08-02', 'ada', 2)], [model('2025-08-02', 7)]);
        const got = await store.dailyRollups(t, '2025-08-01', '2025-08-31');
        expect(got.seats.map((s) => [s.day, s.seat, s.measures.sessions])).to.deep.equal([
          ['2025-08-01', 'ada', 5],
          ['2025-08-02', 'ada', 2],
        ]);
        expect(got.models.map((m) => [m.day, m.model, m.measures.costUsd])).to.deep.equal([['2025-08-02', 'opus', 7]]);
      });

      it('usageTotals sums a range of rollups per day, per seat and per day and model', async () => {
        const [t, other] = [await tenant(), await tenant()];
        const measures = (sessions: number, costUsd: number) =>
          ({ ...Object.fromEntries(measureNames.map((m) => [m, 0])), sessions, costUsd, prompts: 1 }) as Measures;
        const seat = (day: string, seatName: string, surface: string, sessions: number, costUsd: number) =>
          ({ day, seat: seatName, surface, measures: measures(sessions, costUsd) });
        const model = (day: string, seatName: string, name: string, costUsd: number) =>
          ({ day, seat: seatName, surface: 'claude_code', model: name, measures: { costUsd, inputTokens: 10, outputTokens: 1, cacheReadTokens: 0, cacheCreationTokens: 2 } });
        // ada works on two surfaces on the 1st: one seat-day, two rows.
        await store.replaceDailyRollups(t, '2025-08-01', [seat('2025-08-01', 'ada', 'claude_code', 2, 1.5), seat('2025-08-01', 'ada', 'cowork', 1, 0.25),
          seat('2025-08-01', 'bo', 'claude_code', 1, 2)], [model('2025-08-01', 'ada', 'opus', 1.5), model('2025-08-01', 'bo', 'opus', 2), model('2025-08-01', 'ada', 'haiku', 0.25)]);
        await store.replaceDailyRollups(t, '2025-08-02', [seat('2025-08-02', 'ada', 'claude_code', 3, 4)], [model('2025-08-02', 'ada', 'opus', 4)]);
        await store.replaceDailyRollups(t, '2025-08-03', [seat('2025-08-03', 'bo', 'claude_code', 9, 9)], []);
        await store.replaceDailyRollups(other, '2025-08-01', [seat('2025-08-01', 'ada', 'claude_code', 50, 50)], [model('2025-08-01', 'ada', 'opus', 50)]);
        // A stored row written by an older build, without the measures added since: they count 0.
        await fixture.inspect.dropMeasure(t, '2025-08-02', 'prompts');

        const got = await store.usageTotals(t, '2025-08-01', '2025-08-02');
        const days = got.days.map((d) => [d.day, d.activeSeats, d.measures.sessions, d.measures.costUsd, d.measures.prompts]).sort();
        expect(days).to.deep.equal([['2025-08-01', 2, 4, 3.75, 3], ['2025-08-02', 1, 3, 4, 0]]);
        const seats = got.seats.map((s) => [s.seat, s.activeDays, s.measures.sessions, s.measures.costUsd]).sort();
        expect(seats).to.deep.equal([['ada', 2, 6, 5.75], ['bo', 1, 1, 2]]);
        const models = got.models.map((m) => [m.day, m.model, m.measures.costUsd, m.measures.inputTokens, m.measures.cacheCreationTokens]).sort();
        expect(models).to.deep.equal([['2025-08-01', 'haiku', 0.25, 10, 2], ['2025-08-01', 'opus', 3.5, 20, 4], ['2025-08-02', 'opus', 4, 10, 2]]);
        expect(await store.usageTotals(t, '2026-01-01', '2026-01-31')).to.deep.equal({ days: [], seats: [], models: [] });
      });

      it('deleteRawBefore removes a tenant’s old records only', async () => {
        const [a, b] = [await tenant(), await tenant()];
        const old = batchFor(a, '2024-01-01T00:00:00Z', 'old');
        const recent = batchFor(a, '2025-09-01T00:00:00Z', 'recent');
        const others = batchFor(b, '2024-01-01T00:00:00Z', 'others');
        await store.writeBatch(a, old);
        await store.writeBatch(a, recent);
        await store.writeBatch(b, others);
        const removed = await store.deleteRawBefore(a, new Date('2025-01-01T00:00:00Z'));
        expect(removed).to.equal(6);
        expect(await fixture.inspect.storedIds(a)).to.deep.equal(idsOf(recent));
        expect(await fixture.inspect.storedIds(b)).to.deep.equal(idsOf(others));
        // The emptied day can take records again.
        await store.writeBatch(a, old);
        expect((await fixture.inspect.storedIds(a)).events).to.have.length(6);
      });
    });

    describe('pipeline reads: repeated deliveries, restarts, grouping, tenants', () => {
      // Adapters remove repeated deliveries at different points (PostgreSQL when writing,
      // MongoDB when reading), so every read is checked with records written more than once.
      const range = (from: string, to: string) => ({ fromNs: nsOf(from), toNs: nsOf(to) });
      const dayOf = (d: string) => range(`${d}T00:00:00Z`, `${new Date(Date.parse(`${d}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10)}T00:00:00Z`);
      const lookback = 24n * 3600n * 1_000_000_000n;
      const ada: IdentityKey = { userEmail: 'ada@example.com', userAccountUuid: 'acc-1', endUserId: null, userId: 'install-1' };
      const bo: IdentityKey = { userEmail: 'bo@example.com', userAccountUuid: null, endUserId: null, userId: 'install-2' };
      const asIdentity = (k: IdentityKey) => identity({ ...k, seat: `email:${k.userEmail}` });
      const points = (list: RecordBatch['points']): RecordBatch => ({ events: [], points: list, spans: [] });
      const events = (list: RecordBatch['events']): RecordBatch => ({ events: list, points: [], spans: [] });
      const measures = (sessions: number): Measures => ({ ...(Object.fromEntries(measureNames.map((k) => [k, 0])) as Measures), sessions });
      /** An identity as a tuple, so comparisons do not depend on the order of its fields. */
      const ids = (k: IdentityKey) => [k.userEmail, k.userAccountUuid, k.endUserId, k.userId];
      /** metricTotals rows as comparable strings, zero rows left out (an adapter may or may not return a group that added nothing). */
      const metricKeys = (rows: Awaited<ReturnType<Store['metricTotals']>>) =>
        rows
          .filter((r) => r.value !== 0)
          .map((r) => JSON.stringify([r.sessioned, ids(r.identity), r.surface, r.name, r.model, r.type, r.decision, r.startType, r.value]))
          .sort();

      it('metricTotals counts a point delivered twice once: delta and cumulative, across batches and within one', async () => {
        const t = await tenant();
        const name = 'claude_code.token.usage';
        const at = (h: string) => `2025-07-03T${h}Z`;
        const cumulative = (time: string, value: number, series: string, start: string) =>
          makePoint({ tenantId: t, name, time, value, temporality: 'cumulative', seriesKey: series, startTimeNs: nsOf(start), facts: { model: 'opus', type: 'output', decision: null, startType: null } });
        const delta = (time: string, value: number) =>
          makePoint({ tenantId: t, name, time, value, seriesKey: 'delta', facts: { model: 'opus', type: 'input', decision: null, startType: null } });
        const list = [
          delta(at('01:00:00'), 7),
          delta(at('02:00:00'), 1),
          cumulative(at('01:00:00'), 10, 'cum', at('00:30:00')),
          cumulative(at('02:00:00'), 15, 'cum', at('00:30:00')),
          cumulative(at('03:00:00'), 4, 'cum', at('00:30:00')), // reset
          cumulative(at('04:00:00'), 6, 'cum', at('00:30:00')),
          // Its predecessor is in the lookback, before the range; repeated there too.
          cumulative('2025-07-02T22:00:00Z', 4, 'late', '2025-07-02T20:00:00Z'),
          cumulative(at('01:00:00'), 9, 'late', '2025-07-02T20:00:00Z'),
        ];
        const expected = [
          JSON.stringify([true, ids(ada), 'claude_code', name, 'opus', 'input', null, null, 8]),
          JSON.stringify([true, ids(ada), 'claude_code', name, 'opus', 'output', null, null, 10 + 5 + 4 + 2 + 5]),
        ];
        await store.writeBatch(t, points(list));
        const once = await store.metricTotals(t, dayOf('2025-07-03'), [name], lookback);
        expect(metricKeys(once)).to.deep.equal(expected);

        await store.writeBatch(t, points(list));
        await store.writeBatch(t, points([...list, ...list]));
        await store.writeBatch(t, points([list[0]!, list[0]!, list[3]!, list[6]!, list[6]!]));
        const repeated = await store.metricTotals(t, dayOf('2025-07-03'), [name], lookback);
        expect(metricKeys(repeated)).to.deep.equal(expected);
        expect(repeated.reduce((s, r) => s + r.value, 0)).to.equal(8 + 26);
      });

      it('metricTotals: a new start time on a series is a restart, a lower value a reset, an equal value adds nothing', async () => {
        const t = await tenant();
        const name = 'claude_code.lines_of_code.count';
        const at = (h: string) => `2025-07-04T${h}Z`;
        const p = (time: string, value: number, start: string) =>
          makePoint({ tenantId: t, name, time, value, temporality: 'cumulative', seriesKey: 'proc', startTimeNs: nsOf(at(start)), facts: { model: null, type: 'added', decision: null, startType: null } });
        const list = [
          p(at('01:00:00'), 10, '00:30:00'), // first point of a series started in the lookback: counts in full
          p(at('02:00:00'), 15, '00:30:00'), // +5
          // The process restarted: a new start time, and a value above the old run's last one,
          // which must not be read as an increase over 15.
          p(at('03:00:00'), 20, '02:30:00'), // +20
          p(at('04:00:00'), 26, '02:30:00'), // +6
          p(at('05:00:00'), 2, '02:30:00'), // reset: +2
          p(at('06:00:00'), 2, '02:30:00'), // unchanged: +0
          p(at('07:00:00'), 3, '02:30:00'), // +1
        ];
        await store.writeBatch(t, points(list));
        await store.writeBatch(t, points([...list].reverse()));
        const rows = await store.metricTotals(t, dayOf('2025-07-04'), [name], lookback);
        expect(metricKeys(rows)).to.deep.equal([JSON.stringify([true, ids(ada), 'claude_code', name, null, 'added', null, null, 15 + 26 + 2 + 1])]);
      });

      it('metricTotals groups by identity, surface, metric, model, type, decision, start_type and whether points carried a session', async () => {
        const t = await tenant();
        let k = 0;
        type Over = { sessionId?: string | null; who?: IdentityKey; surface?: string; name?: string; model?: string | null; type?: string | null; decision?: string | null; startType?: string | null };
        const p = (value: number, o: Over = {}) =>
          makePoint({
            tenantId: t,
            time: `2025-07-05T10:${String(k % 60).padStart(2, '0')}:00Z`,
            value,
            seriesKey: `s${k++}`,
            name: o.name ?? 'claude_code.token.usage',
            sessionId: o.sessionId === undefined ? 'session-1' : o.sessionId,
            identity: asIdentity(o.who ?? ada),
            surface: o.surface ?? 'claude_code',
            facts: { model: o.model === undefined ? 'opus' : o.model, type: o.type === undefined ? 'input' : o.type, decision: o.decision ?? null, startType: o.startType ?? null },
          });
        const list = [
          p(1),
          p(2048), // the same group
          p(2, { type: 'output' }),
          p(4, { model: 'sonnet' }),
          p(8, { sessionId: 'session-2' }), // another session of the same group: sessions fold
          p(4096, { sessionId: null }),
          p(16, { who: bo }),
          p(32, { surface: 'cowork' }),
          p(64, { name: 'claude_code.cost.usage', type: null }),
          p(128, { name: 'claude_code.code_edit_tool.decision', model: null, type: null, decision: 'accept' }),
          p(256, { name: 'claude_code.code_edit_tool.decision', model: null, type: null, decision: 'reject' }),
          p(512, { name: 'claude_code.session.count', model: null, type: null, startType: 'fresh' }),
          p(1024, { name: 'claude_code.session.count', model: null, type: null, startType: 'resume' }),
        ];
        await store.writeBatch(t, points(list));
        await store.writeBatch(t, points([...list.slice(3), ...list.slice(0, 6)]));
        const names = ['claude_code.token.usage', 'claude_code.cost.usage', 'claude_code.code_edit_tool.decision', 'claude_code.session.count'];
        const rows = await store.metricTotals(t, dayOf('2025-07-05'), names, lookback);
        const row = (value: number, o: Over = {}) =>
          JSON.stringify([
            o.sessionId !== null,
            ids(o.who ?? ada),
            o.surface ?? 'claude_code',
            o.name ?? 'claude_code.token.usage',
            o.model === undefined ? 'opus' : o.model,
            o.type === undefined ? 'input' : o.type,
            o.decision ?? null,
            o.startType ?? null,
            value,
          ]);
        expect(metricKeys(rows)).to.deep.equal(
          [
            row(1 + 2048 + 8),
            row(2, { type: 'output' }),
            row(4, { model: 'sonnet' }),
            row(4096, { sessionId: null }),
            row(16, { who: bo }),
            row(32, { surface: 'cowork' }),
            row(64, { name: 'claude_code.cost.usage', type: null }),
            row(128, { name: 'claude_code.code_edit_tool.decision', model: null, type: null, decision: 'accept' }),
            row(256, { name: 'claude_code.code_edit_tool.decision', model: null, type: null, decision: 'reject' }),
            row(512, { name: 'claude_code.session.count', model: null, type: null, startType: 'fresh' }),
            row(1024, { name: 'claude_code.session.count', model: null, type: null, startType: 'resume' }),
          ].sort(),
        );
        // Only the metrics asked for.
        expect(metricKeys(await store.metricTotals(t, dayOf('2025-07-05'), ['claude_code.cost.usage'], lookback))).to.deep.equal([
          row(64, { name: 'claude_code.cost.usage', type: null }),
        ]);
      });

      it('eventTotals counts each event once across overlapping batches and within one, per group', async () => {
        const t = await tenant();
        let k = 0;
        type Over = { sessionId?: string; who?: IdentityKey; surface?: string; name?: string; model?: string | null; costUsd?: number | null; success?: boolean | null };
        const e = (o: Over = {}) =>
          makeEvent({
            tenantId: t,
            time: `2025-07-06T09:${String(k % 60).padStart(2, '0')}:00Z`,
            promptId: `p${k++}`,
            name: o.name ?? 'api_request',
            sessionId: o.sessionId ?? 'session-1',
            identity: asIdentity(o.who ?? ada),
            surface: o.surface ?? 'claude_code',
            facts: {
              ...makeEvent({ tenantId: t }).facts,
              model: o.model === undefined ? 'opus' : o.model,
              costUsd: o.costUsd === undefined ? 0.25 : o.costUsd,
              inputTokens: 100,
              outputTokens: 10,
              cacheReadTokens: 1,
              cacheCreationTokens: 2,
              success: o.success ?? null,
            },
          });
        const all = [
          e(),
          e({ costUsd: 0.5 }),
          e({ model: 'sonnet' }),
          e({ sessionId: 'session-2' }),
          e({ who: bo }),
          e({ surface: 'cowork' }),
          e({ name: 'tool_result', model: null, costUsd: null, success: false }),
          e({ name: 'tool_result', model: null, costUsd: null, success: true }),
        ];
        await store.writeBatch(t, events(all.slice(0, 4)));
        await store.writeBatch(t, events([...all.slice(1, 6), all[5]!]));
        await store.writeBatch(t, events([...all, ...all]));
        const rows = await store.eventTotals(t, dayOf('2025-07-06'), ['Edit'], ['claude_code.cost.usage']);
        const key = (r: Awaited<ReturnType<Store['eventTotals']>>[number]) =>
          JSON.stringify([r.sessionId, ids(r.identity), r.surface, r.model, r.name, r.count, r.failures, r.costUsd, r.inputTokens, r.outputTokens, r.cacheReadTokens, r.cacheCreationTokens]);
        const row = (count: number, costUsd: number, o: Over = {}, failures = 0) =>
          JSON.stringify([o.sessionId ?? 'session-1', ids(o.who ?? ada), o.surface ?? 'claude_code', o.model === undefined ? 'opus' : o.model, o.name ?? 'api_request', count, failures, costUsd, 100 * count, 10 * count, count, 2 * count]);
        expect(rows.map(key).sort()).to.deep.equal(
          [
            row(2, 0.75),
            row(1, 0.25, { model: 'sonnet' }),
            row(1, 0.25, { sessionId: 'session-2' }),
            row(1, 0.25, { who: bo }),
            row(1, 0.25, { surface: 'cowork' }),
            row(2, 0, { name: 'tool_result', model: null }, 1),
          ].sort(),
        );
      });

      it('eventTotals folds the events of sessions that sent metrics, by the metric names they sent in the range', async () => {
        const t = await tenant();
        const [cost, tokens, lines] = ['claude_code.cost.usage', 'claude_code.token.usage', 'claude_code.lines_of_code.count'];
        const at = (h: string) => `2025-07-08T${h}Z`;
        let k = 0;
        const e = (sessionId: string | null, who: IdentityKey = ada) =>
          makeEvent({ tenantId: t, time: at('09:00:00'), promptId: `p${k++}`, name: 'api_request', sessionId, identity: asIdentity(who), facts: { ...makeEvent({ tenantId: t }).facts, model: 'opus', costUsd: 1 } });
        const p = (sessionId: string | null, name: string, over: { time?: string; flags?: number; type?: 'gauge' } = {}) =>
          makePoint({ tenantId: t, time: over.time ?? at('09:30:00'), name, sessionId, value: 1, seriesKey: `s${k++}`, flags: over.flags ?? 0, ...(over.type ? { type: over.type } : {}) });
        await store.writeBatch(t, {
          events: [e('s-a'), e('s-a'), e('s-b'), e('s-c', bo), e('s-d'), e('s-e'), e(null)],
          points: [
            p('s-a', cost), p('s-a', tokens), p('s-a', cost),
            p('s-b', tokens), p('s-b', cost),
            p('s-c', cost),
            p('s-d', cost, { time: '2025-07-07T23:00:00Z' }), // the day before: not this day's
            p('s-d', cost, { flags: 1 }), // NO_RECORDED_VALUE
            p('s-d', tokens, { type: 'gauge' }), // not a sum
            p('s-e', lines), // not asked for
            p(null, cost), // no session: speaks for none here
          ],
          spans: [],
        });
        const rows = await store.eventTotals(t, dayOf('2025-07-08'), [], [tokens, cost]);
        const key = (r: Awaited<ReturnType<Store['eventTotals']>>[number]) => JSON.stringify([r.sessionMetrics, r.sessionId, ids(r.identity), r.count, r.costUsd]);
        const sent = [cost, tokens].sort();
        expect(rows.map(key).sort()).to.deep.equal(
          [
            JSON.stringify([sent, null, ids(ada), 3, 3]), // s-a and s-b sent the same two: one row
            JSON.stringify([[cost], null, ids(bo), 1, 1]),
            JSON.stringify([[], 's-d', ids(ada), 1, 1]),
            JSON.stringify([[], 's-e', ids(ada), 1, 1]),
            JSON.stringify([[], null, ids(ada), 1, 1]),
          ].sort(),
        );
      });

      it('keeps tenants apart in every read: totals, rollups, identities and surfaces', async () => {
        const [a, b, empty] = [await tenant(), await tenant(), await tenant()];
        const since = new Date(Date.now() - 1000);
        const time = '2025-07-07T12:00:00Z';
        // The same record ids for both tenants.
        const write = async (tenantId: string, who: IdentityKey, surface: string, value: number) => {
          const facts = { ...makeEvent({ tenantId }).facts, model: 'opus', costUsd: value };
          const e = makeEvent({ tenantId, id: 'shared-event', time, name: 'api_request', identity: asIdentity(who), surface, facts });
          const p = makePoint({ tenantId, id: 'shared-point', time, value, identity: asIdentity(who), surface, facts: { model: 'opus', type: 'input', decision: null, startType: null } });
          await store.writeBatch(tenantId, { events: [e], points: [p], spans: [] });
          await store.writeBatch(tenantId, { events: [e], points: [p], spans: [] });
        };
        await write(a, ada, 'claude_code', 3);
        await write(b, bo, 'cowork', 5);
        const day = dayOf('2025-07-07');
        const names = ['claude_code.token.usage'];
        for (const [tenantId, who, surface, value] of [
          [a, ada, 'claude_code', 3],
          [b, bo, 'cowork', 5],
        ] as const) {
          const ev = await store.eventTotals(tenantId, day, [], names);
          // Each tenant's event is marked by its own tenant's point of the same session id only.
          expect(ev.map((r) => [r.identity, r.surface, r.count, r.costUsd, r.sessionMetrics, r.sessionId])).to.deep.equal([[who, surface, 1, value, names, null]]);
          const mt = await store.metricTotals(tenantId, day, names, lookback);
          expect(mt.map((r) => [r.identity, r.surface, r.value])).to.deep.equal([[who, surface, value]]);
          expect(await store.listIdentities(tenantId)).to.deep.equal([who]);
          expect(await store.identitiesSeenSince(tenantId, since)).to.deep.equal([who]);
          expect((await store.surfacesSeen(tenantId)).map((s) => s.surface)).to.deep.equal([surface]);
        }
        expect(await store.eventTotals(empty, day, [], names)).to.deep.equal([]);
        expect(await store.metricTotals(empty, day, names, lookback)).to.deep.equal([]);
        expect(await store.listIdentities(empty)).to.deep.equal([]);
        expect(await store.identitiesSeenSince(empty, since)).to.deep.equal([]);
        expect(await store.surfacesSeen(empty)).to.deep.equal([]);

        const seat = (seatName: string, sessions: number) => ({ day: '2025-07-07', seat: seatName, surface: 'claude_code', measures: measures(sessions) });
        const model = (seatName: string, costUsd: number) => ({
          day: '2025-07-07',
          seat: seatName,
          surface: 'claude_code',
          model: 'opus',
          measures: { costUsd, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 },
        });
        await store.replaceDailyRollups(a, '2025-07-07', [seat('ada', 1)], [model('ada', 3)]);
        await store.replaceDailyRollups(b, '2025-07-07', [seat('bo', 2)], [model('bo', 5)]);
        const rolled = async (tenantId: string) => {
          const r = await store.dailyRollups(tenantId, '2025-07-01', '2025-07-31');
          return [r.seats.map((s) => [s.seat, s.measures.sessions]), r.models.map((m) => [m.seat, m.measures.costUsd])];
        };
        expect(await rolled(a)).to.deep.equal([[['ada', 1]], [['ada', 3]]]);
        expect(await rolled(b)).to.deep.equal([[['bo', 2]], [['bo', 5]]]);
        expect(await rolled(empty)).to.deep.equal([[], []]);
        // Replacing one tenant's day leaves the other's alone.
        await store.replaceDailyRollups(a, '2025-07-07', [], []);
        expect(await rolled(a)).to.deep.equal([[], []]);
        expect(await rolled(b)).to.deep.equal([[['bo', 2]], [['bo', 5]]]);
      });

      it('deleteRawBefore keeps the rollups of the days it empties', async () => {
        const t = await tenant();
        await store.writeBatch(t, batchFor(t, '2024-02-01T08:00:00Z', 'kept'));
        const seats = [{ day: '2024-02-01', seat: 'ada', surface: 'claude_code', measures: measures(3) }];
        const models = [{ day: '2024-02-01', seat: 'ada', surface: 'claude_code', model: 'opus', measures: { costUsd: 2, inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheCreationTokens: 0 } }];
        await store.replaceDailyRollups(t, '2024-02-01', seats, models);
        expect(await store.deleteRawBefore(t, new Date('2024-03-01T00:00:00Z'))).to.equal(6);
        expect(await fixture.inspect.storedIds(t)).to.deep.equal(none);
        expect(await store.eventTotals(t, dayOf('2024-02-01'), [], [])).to.deep.equal([]);
        const got = await store.dailyRollups(t, '2024-02-01', '2024-02-01');
        expect(got.seats).to.deep.equal(seats);
        expect(got.models).to.deep.equal(models);
      });
    });

    describe('withDayLock: one computation of a tenant-day at a time', () => {
      const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
      /** A promise the test settles when it wants to. */
      const gate = () => {
        let open!: () => void;
        const promise = new Promise<void>((r) => (open = r));
        return { promise, open };
      };
      const zero = () => Object.fromEntries(measureNames.map((m) => [m, 0])) as Measures;
      const seatRow = (day: string, seat: string, prompts: number) => ({ day, seat, surface: 'claude_code', measures: { ...zero(), prompts } });

      it('lets one holder in at a time, across stores on one database; the others wait their turn, none overlap', async () => {
        const t = await tenant();
        const other = await fixture.open();
        try {
          const log: string[] = [];
          let inside = 0;
          let most = 0;
          const held = gate();
          const release = gate();
          const first = store.withDayLock(t, '2025-10-01', async () => {
            log.push('first in');
            held.open();
            await release.promise;
            log.push('first out');
            return 'first';
          });
          await held.promise;
          const waiter = (s: Store, name: string) =>
            s.withDayLock(t, '2025-10-01', async () => {
              most = Math.max(most, ++inside);
              log.push(`${name} in`);
              await sleep(100);
              inside--;
              return name;
            });
          const waiting = [waiter(other, 'other store'), waiter(store, 'same store')];
          await sleep(600);
          expect(log).to.deep.equal(['first in']);
          release.open();
          expect(await Promise.all([first, ...waiting])).to.deep.equal(['first', 'other store', 'same store']);
          expect(log.slice(0, 2)).to.deep.equal(['first in', 'first out']);
          expect(log.slice(2)).to.have.members(['other store in', 'same store in']);
          expect(most).to.equal(1);
        } finally {
          await other.close();
        }
      });

      it('never makes another day or another tenant wait', async () => {
        const [t, u] = [await tenant(), await tenant()];
        const other = await fixture.open();
        const release = gate();
        const held = gate();
        try {
          const first = store.withDayLock(t, '2025-10-02', async () => {
            held.open();
            await release.promise;
          });
          await held.promise;
          const began = Date.now();
          expect(await other.withDayLock(t, '2025-10-03', async () => 'next day')).to.equal('next day');
          expect(await other.withDayLock(u, '2025-10-02', async () => 'other tenant')).to.equal('other tenant');
          expect(Date.now() - began).to.be.lessThan(5_000);
          release.open();
          await first;
        } finally {
          release.open();
          await other.close();
        }
      });

      it('releases the lock when the function rejects, and rejects with its error', async () => {
        const t = await tenant();
        const other = await fixture.open();
        try {
          const err = await rejection(store.withDayLock(t, '2025-10-04', async () => {
            throw new Error('computation failed');
          }));
          expect(String(err)).to.include('computation failed');
          const began = Date.now();
          expect(await other.withDayLock(t, '2025-10-04', async () => 'free')).to.equal('free');
          expect(Date.now() - began).to.be.lessThan(5_000);
        } finally {
          await other.close();
        }
      });

      it('writes through the lock replace the day, as replaceDailyRollups does', async () => {
        const t = await tenant();
        const day = '2025-10-05';
        const model = { day, seat: 'ada', surface: 'claude_code', model: 'opus', measures: { costUsd: 1.5, inputTokens: 10, outputTokens: 2, cacheReadTokens: 0, cacheCreationTokens: 0 } };
        await store.withDayLock(t, day, (lock) => lock.replaceDailyRollups([seatRow(day, 'ada', 1), seatRow(day, 'bo', 2)], [model]));
        await store.withDayLock(t, day, (lock) => lock.replaceDailyRollups([seatRow(day, 'ada', 5)], []));
        const got = await store.dailyRollups(t, day, day);
        expect(got.seats).to.deep.equal([seatRow(day, 'ada', 5)]);
        expect(got.models).to.deep.equal([]);
      });

      it('refuses the write of a holder that lost its lock, so the next holder’s result stands', async () => {
        const t = await tenant();
        const day = '2025-10-06';
        const other = await fixture.open();
        try {
          const held = gate();
          const resume = gate();
          const stale = store.withDayLock(t, day, async (lock) => {
            held.open();
            await resume.promise;
            return lock.replaceDailyRollups([seatRow(day, 'ada', 1)], []).then(() => 'written', (e: unknown) => e);
          });
          await held.promise;
          await fixture.inspect.breakDayLock(t, day);
          // The lock is free again: the next holder gets in while the first still runs.
          await other.withDayLock(t, day, (lock) => lock.replaceDailyRollups([seatRow(day, 'ada', 7)], []));
          resume.open();
          expect(await stale).to.be.instanceOf(DayLockLostError);
          expect((await store.dailyRollups(t, day, day)).seats).to.deep.equal([seatRow(day, 'ada', 7)]);
        } finally {
          await other.close();
        }
      });
    });
  });
}

// ---- adapters ----

function postgresAdapter(): AdapterUnderTest {
  return {
    name: 'PostgreSQL',
    skipReason: () => null,
    async makeStore() {
      const url = await createTestDatabase();
      const admin = new pg.Pool({ connectionString: url, max: 2 });
      const ids = async (table: string, tenantId: string) =>
        (await admin.query<{ id: string }>(`SELECT id FROM ${table} WHERE tenant_id = $1 ORDER BY id COLLATE "C"`, [tenantId])).rows.map((r) => r.id);
      return {
        async open() {
          const store = createPostgresStore(createPool(url, testLogger), testLogger);
          await store.migrate();
          return store;
        },
        inspect: {
          async storedIds(tenantId) {
            return { events: await ids('events', tenantId), points: await ids('metric_points', tenantId), spans: await ids('spans', tenantId) };
          },
          async storedEvent(tenantId, id) {
            const { rows } = await admin.query<{ time_ns: string; attributes: unknown; body: unknown }>(
              'SELECT time_ns, attributes::json AS attributes, body::json AS body FROM events WHERE tenant_id = $1 AND id = $2',
              [tenantId, id],
            );
            return rows[0] ? { timeNs: BigInt(rows[0].time_ns), attributes: rows[0].attributes, body: rows[0].body } : null;
          },
          async refuseSpansNamed(name) {
            await admin.query(`CREATE FUNCTION refuse_span() RETURNS trigger LANGUAGE plpgsql AS $$
              BEGIN RAISE EXCEPTION 'span % refused by the test', NEW.name; END $$`);
            await admin.query(`CREATE TRIGGER refuse_span BEFORE INSERT ON spans FOR EACH ROW
              WHEN (NEW.name = '${name.replaceAll("'", "''")}') EXECUTE FUNCTION refuse_span()`);
            return async () => {
              await admin.query('DROP TRIGGER refuse_span ON spans');
              await admin.query('DROP FUNCTION refuse_span()');
            };
          },
          async dropMeasure(tenantId, day, measure) {
            await admin.query('UPDATE daily_seat_rollups SET measures = measures - $3 WHERE tenant_id = $1 AND day = $2::date', [tenantId, day, measure]);
          },
          async breakDayLock(tenantId, day) {
            // The advisory lock of an int8 key shows in pg_locks as classid (high half) and objid (low half).
            const holder = `FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
              AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND ((classid::bigint << 32) | objid::bigint) = hashtextextended($1, 0)`;
            await admin.query(`SELECT pg_terminate_backend(pid) ${holder}`, [dayLockKey(tenantId, day)]);
            for (let i = 0; (await admin.query(`SELECT 1 ${holder}`, [dayLockKey(tenantId, day)])).rowCount !== 0; i++) {
              if (i > 100) throw new Error('the lock holder did not end');
              await new Promise((r) => setTimeout(r, 50));
            }
          },
        },
        dispose: () => admin.end(),
      };
    },
  };
}

function mongoAdapter(): AdapterUnderTest {
  return {
    name: 'MongoDB',
    // MONGODB_URL, or a mongod binary started as a one-member replica set (test/support/mongo.ts).
    skipReason: () => mongoSkipReason('MongoDB contract suite'),
    async makeStore() {
      const url = await sharedMongoUrl();
      // A database of its own per fixture, dropped at the end, so the suite can use a shared server.
      const database = `aiu_contract_${process.pid}_${randomBytes(4).toString('hex')}`;
      const client = new MongoClient(url, { serverSelectionTimeoutMS: 10_000 });
      await client.connect();
      const db = client.db(database);
      // The largest TTL MongoDB takes (about 68 years): the contract stores records from 1999 on,
      // which a TTL of the usual retention would let the server remove in the middle of a test.
      // Retention is stated through deleteRawBefore.
      const open = () => openMongoStore({ url, database, retentionDays: 24_855, logger: testLogger });
      /** The tenant's records of a kind, each (id, time) once: reads count a repeated delivery's copies as one record (see write-batch.ts). */
      const recordsOf = (tenantId: string, kind: 'event' | 'point' | 'span', match: Document = {}) =>
        db.collection(timeSeries[kind]).aggregate(
          [
            { $match: { 'meta.tenant': tenantId, ...match } },
            { $unionWith: { coll: OUT_OF_RANGE, pipeline: [{ $match: { 'meta.tenant': tenantId, kind, ...match } }] } },
            { $group: { _id: { id: '$id', ns: '$ns' }, doc: { $first: '$$ROOT' } } },
          ],
          { useBigInt64: true },
        );
      const ids = async (tenantId: string, kind: 'event' | 'point' | 'span') =>
        (await recordsOf(tenantId, kind).toArray()).map((r) => (r['_id'] as { id: string }).id).sort();
      return {
        open,
        inspect: {
          async storedIds(tenantId) {
            return { events: await ids(tenantId, 'event'), points: await ids(tenantId, 'point'), spans: await ids(tenantId, 'span') };
          },
          async storedEvent(tenantId, id) {
            const [row] = await recordsOf(tenantId, 'event', { id }).toArray();
            const doc = row?.['doc'] as { ns: bigint; attributes: string; body: string } | undefined;
            return doc ? { timeNs: doc.ns, attributes: JSON.parse(doc.attributes), body: JSON.parse(doc.body) } : null;
          },
          // Time-series collections take no validator, so `spans` is swapped for a regular
          // collection whose validator refuses the name; the undo drops it and lets migrate()
          // create the time-series collection again.
          async refuseSpansNamed(name) {
            await db.collection(timeSeries.span).drop();
            await db.createCollection(timeSeries.span, { validator: { 'meta.name': { $ne: name } } });
            return async () => {
              await db.collection(timeSeries.span).drop();
              await (await open()).close();
            };
          },
          // Expired, and no longer the holder's to renew, as after a lease that ran out unrenewed.
          async dropMeasure(tenantId, day, measure) {
            await db.collection('daily_seat_rollups').updateMany({ tenant: tenantId, day }, { $unset: { [`measures.${measure}`]: '' } });
          },
          async breakDayLock(tenantId, day) {
            await db.collection<{ _id: string }>(DAY_LOCKS).updateOne({ _id: dayLockId(tenantId, day) }, { $set: { expiresAt: new Date(0), owner: 'lease-ran-out' } });
          },
        },
        async dispose() {
          await db.dropDatabase().catch(() => undefined);
          await client.close();
        },
      };
    },
  };
}

/** Every adapter runs the same contract; add new ones here. */
const adapters: AdapterUnderTest[] = [postgresAdapter(), mongoAdapter()];
for (const a of adapters) runStoreContract(a.name, () => a.makeStore(), a.skipReason());
