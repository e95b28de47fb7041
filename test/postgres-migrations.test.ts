/**
 * Upgrading a database made by an earlier build: schema version 2 (json documents,
 * primary keys by id, three more indexes per table) with records in it, migrated by
 * this build's migrate(). Nothing stored may be lost or changed, the pipeline's narrow
 * tables get the stored records, and the database must end up exactly as a fresh one.
 */
import { expect } from 'chai';
import pg from 'pg';
import { createPool, createPostgresStore } from '../src/store/postgres/index.js';
import { migrations } from '../src/store/postgres/schema.js';
import { defaultPrivacyPolicy } from '../src/store/store.js';
import { createTestDatabase, testLogger } from './support/postgres.js';
import { makeEvent } from './support/records.js';

const indexesOf = async (c: pg.Client, table: string) =>
  (await c.query<{ indexdef: string }>(`SELECT indexdef FROM pg_indexes WHERE tablename = $1 ORDER BY indexname`, [table])).rows.map((r) =>
    r.indexdef.replace(/ ON public\.\w+ /, ' ON t ').replace(/INDEX \w+ ON/, 'INDEX ON'));
const columnTypes = async (c: pg.Client, table: string) =>
  Object.fromEntries((await c.query<{ column_name: string; data_type: string }>(
    `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $1`, [table])).rows.map((r) => [r.column_name, r.data_type]));

describe('PostgreSQL schema migrations', function () {
  this.timeout(60_000);

  it('upgrades a version-2 database with records in it to the current schema, keeping every record as it was', async () => {
    const oldUrl = await createTestDatabase();
    const freshUrl = await createTestDatabase();
    const old = new pg.Client({ connectionString: oldUrl });
    const fresh = new pg.Client({ connectionString: freshUrl });
    await old.connect();
    await fresh.connect();
    try {
      // What an earlier build left: migrations 1 and 2, a day partition, and an event in the json columns.
      await old.query(`CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
      for (const m of migrations.filter((x) => x.version <= 2)) {
        await old.query(m.sql);
        await old.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      }
      await old.query(`INSERT INTO tenants (id, name, timezone, retention_days) VALUES ('t', 'T', 'UTC', 90)`);
      await old.query(`CREATE TABLE events_p20260105 PARTITION OF events FOR VALUES FROM ('2026-01-05 00:00:00+00') TO ('2026-01-06 00:00:00+00')`);
      const attributes = { 'session.id': 's-1', n: 4, s: '4', nested: { list: [1, 'two', null] }, text: 'tab\there "quoted" \\ back' };
      await old.query(`INSERT INTO events (tenant_id, id, ts, time_ns, surface, name, flags, attributes, resource, scope, severity_number, body, session_id)
        VALUES ('t', 'e1', '2026-01-05 10:00:00.123456+00', 1767607200123456789, 'claude_code', 'user_prompt', 0, $1, '{"service.name":"claude-code"}', '{"name":"s","version":"1","attributes":{}}', 9, '"claude_code.user_prompt"', 's-1')`,
      [JSON.stringify(attributes)]);

      const upgraded = createPostgresStore(createPool(oldUrl, testLogger), testLogger);
      const created = createPostgresStore(createPool(freshUrl, testLogger), testLogger);
      try {
        await upgraded.migrate();
        await created.migrate();
        await upgraded.ping();

        const { rows } = await old.query(`SELECT id, time_ns::text, ts, attributes::json AS attributes, resource::json AS resource, body::json AS body FROM events`);
        expect(rows).to.have.length(1);
        expect(rows[0]).to.deep.include({ id: 'e1', time_ns: '1767607200123456789', attributes, resource: { 'service.name': 'claude-code' }, body: 'claude_code.user_prompt' });

        for (const table of ['events', 'metric_points', 'spans', 'event_facts', 'point_facts']) {
          expect(await columnTypes(old, table), `${table} columns`).to.deep.equal(await columnTypes(fresh, table));
          expect(await indexesOf(old, table), `${table} indexes`).to.deep.equal(await indexesOf(fresh, table));
        }
        for (const partition of ['events_p20260105', 'event_facts_p20260105']) {
          const options = await old.query<{ reloptions: string[] | null }>(`SELECT reloptions FROM pg_class WHERE relname = $1`, [partition]);
          expect(options.rows[0]?.reloptions, partition).to.deep.equal(['autovacuum_vacuum_insert_threshold=-1']);
        }
        // Version 4 copied the stored event into the pipeline's narrow table, in the same day partition.
        const facts = await old.query(`SELECT tableoid::regclass::text AS partition, tenant_id, time_ns::text, session_id, name, surface FROM event_facts`);
        expect(facts.rows).to.deep.equal([
          { partition: 'event_facts_p20260105', tenant_id: 't', time_ns: '1767607200123456789', session_id: 's-1', name: 'user_prompt', surface: 'claude_code' },
        ]);

        // And the upgraded database takes new writes, and a repeat of the old record changes nothing.
        const tenant = (await upgraded.getTenant('t')) as { found: true; value: { id: string } };
        expect(tenant.found).to.equal(true);
        await upgraded.updateTenant('t', { policy: { ...defaultPrivacyPolicy } });
        const e = makeEvent({ tenantId: 't', time: '2026-01-05T11:00:00Z', sessionId: 's-2' });
        await upgraded.writeBatch('t', { events: [e, e], points: [], spans: [] });
        expect((await old.query(`SELECT count(*)::int AS n FROM events`)).rows[0]?.n).to.equal(2);
        expect((await old.query(`SELECT count(*)::int AS n FROM event_facts`)).rows[0]?.n).to.equal(2);
      } finally {
        await upgraded.close();
        await created.close();
      }
    } finally {
      await old.end();
      await fresh.end();
    }
  });
});
