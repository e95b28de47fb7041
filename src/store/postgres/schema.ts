/**
 * The schema, as an append-only list of migrations: never edit a released one,
 * add the next version instead.
 *
 * Telemetry tables are partitioned by day on `ts` (UTC) with no DEFAULT partition
 * (partitions.ts creates them ahead and on demand). Their primary key (tenant, ts, id)
 * holds the partition key, as PostgreSQL requires, and makes a repeated delivery of a
 * record (same tenant, id and time) a conflict that write-batch.ts skips.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * Columns every telemetry table shares: who, when, where from, and the raw rest as
 * JSON documents (`text` since version 3: see rows.ts).
 */
const commonColumns = `
  tenant_id text NOT NULL,
  id text NOT NULL,
  ts timestamptz NOT NULL,
  time_ns bigint NOT NULL,
  surface text NOT NULL,
  service_name text,
  seat text,
  user_email text,
  user_account_uuid text,
  end_user_id text,
  user_id text,
  organization_id text,
  session_id text,
  name text NOT NULL,
  -- The record's model attribute, as ingest read it (EventFacts / PointFacts).
  model text,
  flags bigint NOT NULL,
  attributes json NOT NULL,
  resource json NOT NULL,
  scope json NOT NULL`;

const readIndexes = (table: string) => `
CREATE INDEX ${table}_tenant_ts_idx ON ${table} (tenant_id, ts);
CREATE INDEX ${table}_tenant_session_idx ON ${table} (tenant_id, session_id);
CREATE INDEX ${table}_tenant_seat_ts_idx ON ${table} (tenant_id, seat, ts);`;

/**
 * Version 4's narrow rows, as selected from an events / metric_points row: one list for
 * its trigger and its backfill. Part of a released migration: never edit.
 */
const v4EventFacts = `tenant_id, ts, time_ns, cost_usd, input_tokens, output_tokens, cache_read_tokens,
  cache_creation_tokens, success, surface, session_id, user_email, user_account_uuid, end_user_id, user_id, name,
  model, decision, tool_name`;
const v4PointFacts = `tenant_id, ts, time_ns, start_time_ns, value, monotonic, (flags & 1) = 0, id, series_key, type,
  temporality, surface, session_id, user_email, user_account_uuid, end_user_id, user_id, name, model, attr_type,
  decision, start_type`;

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'tenants, tokens, telemetry tables, seats, surfaces and daily rollups',
    sql: `
CREATE TABLE tenants (
  id text PRIMARY KEY,
  name text NOT NULL,
  timezone text NOT NULL,
  retention_days integer NOT NULL CHECK (retention_days > 0),
  allowed_organization_ids text[] NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tokens (
  id text PRIMARY KEY,
  tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  scope text NOT NULL CHECK (scope IN ('ingest', 'read', 'admin')),
  prefix text NOT NULL,
  hash text NOT NULL,
  created_at timestamptz NOT NULL,
  last_used_at timestamptz,
  revoked_at timestamptz,
  CONSTRAINT tokens_hash_key UNIQUE (hash)
);
CREATE INDEX tokens_tenant_created_idx ON tokens (tenant_id, created_at DESC, id DESC);

CREATE TABLE events (${commonColumns},
  observed_time_ns bigint,
  prompt_id text,
  severity_number integer NOT NULL,
  severity_text text,
  trace_id text,
  span_id text,
  body json,
  -- EventFacts: the attributes the daily pipeline adds up, already typed.
  cost_usd double precision,
  input_tokens double precision,
  output_tokens double precision,
  cache_read_tokens double precision,
  cache_creation_tokens double precision,
  success boolean,
  decision text,
  tool_name text,
  PRIMARY KEY (tenant_id, id, ts)
) PARTITION BY RANGE (ts);
${readIndexes('events')}

CREATE TABLE metric_points (${commonColumns},
  start_time_ns bigint,
  series_key text NOT NULL,
  description text NOT NULL,
  unit text NOT NULL,
  type text NOT NULL CHECK (type IN ('gauge', 'sum', 'histogram', 'exponential_histogram', 'summary')),
  temporality text CHECK (temporality IN ('unspecified', 'delta', 'cumulative')),
  monotonic boolean,
  value double precision,
  value_int text,
  distribution json,
  -- PointFacts: the attributes measures are split by (attr_type is the \`type\` attribute).
  attr_type text,
  decision text,
  start_type text,
  PRIMARY KEY (tenant_id, id, ts)
) PARTITION BY RANGE (ts);
${readIndexes('metric_points')}
CREATE INDEX metric_points_tenant_name_ts_idx ON metric_points (tenant_id, name, ts);

CREATE TABLE spans (${commonColumns},
  trace_id text NOT NULL,
  span_id text NOT NULL,
  parent_span_id text,
  trace_state text NOT NULL,
  kind integer NOT NULL,
  end_time_ns bigint NOT NULL,
  status_code integer NOT NULL,
  status_message text NOT NULL,
  events json NOT NULL,
  links json NOT NULL,
  PRIMARY KEY (tenant_id, id, ts)
) PARTITION BY RANGE (ts);
${readIndexes('spans')}

-- Identifier tuples seen together on a record; the pipeline links them into seats.
CREATE TABLE seat_identities (
  tenant_id text NOT NULL,
  user_email text,
  user_account_uuid text,
  end_user_id text,
  user_id text,
  -- Record times (earliest, latest) and when a record with this tuple last arrived.
  first_seen timestamptz NOT NULL,
  last_seen timestamptz NOT NULL,
  last_received_at timestamptz NOT NULL,
  CONSTRAINT seat_identities_key UNIQUE NULLS NOT DISTINCT (tenant_id, user_email, user_account_uuid, end_user_id, user_id)
);

-- Which surfaces (Claude Code, Cowork, …) reported in, for the Connect page.
CREATE TABLE surfaces_seen (
  tenant_id text NOT NULL,
  surface text NOT NULL,
  first_seen timestamptz NOT NULL,
  last_seen timestamptz NOT NULL,
  last_received_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, surface)
);

-- Daily usage per tenant-day, seat and surface (and model); measures as a JSON object
-- of name → number, so adding a measure needs no migration.
CREATE TABLE daily_seat_rollups (
  tenant_id text NOT NULL,
  day date NOT NULL,
  seat text NOT NULL,
  surface text NOT NULL,
  measures jsonb NOT NULL,
  computed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, day, seat, surface)
);

CREATE TABLE daily_model_rollups (
  tenant_id text NOT NULL,
  day date NOT NULL,
  seat text NOT NULL,
  surface text NOT NULL,
  model text NOT NULL,
  measures jsonb NOT NULL,
  computed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, day, seat, surface, model)
);
`,
  },
  {
    version: 2,
    name: 'per-tenant privacy policy',
    sql: `ALTER TABLE tenants ADD COLUMN policy jsonb NOT NULL DEFAULT '{}'::jsonb;`,
  },
  {
    version: 3,
    // Rows now arrive by COPY (write-batch.ts). Documents become text: nothing queries them
    // in SQL, and json made the server parse each one again. The key leads with the time,
    // so inserts of current records touch the right-hand pages of one index instead of
    // pages all over an index ordered by a hash, and it serves the tenant + time reads of
    // the pipeline and retention; the other indexes served no query and cost every insert.
    name: 'telemetry documents as text; primary keys by tenant and time; no unused indexes',
    sql: `
ALTER TABLE events ALTER COLUMN attributes TYPE text, ALTER COLUMN resource TYPE text,
  ALTER COLUMN scope TYPE text, ALTER COLUMN body TYPE text;
ALTER TABLE metric_points ALTER COLUMN attributes TYPE text, ALTER COLUMN resource TYPE text,
  ALTER COLUMN scope TYPE text, ALTER COLUMN distribution TYPE text;
ALTER TABLE spans ALTER COLUMN attributes TYPE text, ALTER COLUMN resource TYPE text,
  ALTER COLUMN scope TYPE text, ALTER COLUMN events TYPE text, ALTER COLUMN links TYPE text;
ALTER TABLE events DROP CONSTRAINT events_pkey, ADD PRIMARY KEY (tenant_id, ts, id);
ALTER TABLE metric_points DROP CONSTRAINT metric_points_pkey, ADD PRIMARY KEY (tenant_id, ts, id);
ALTER TABLE spans DROP CONSTRAINT spans_pkey, ADD PRIMARY KEY (tenant_id, ts, id);
DROP INDEX events_tenant_ts_idx, events_tenant_session_idx, events_tenant_seat_ts_idx,
  metric_points_tenant_ts_idx, metric_points_tenant_session_idx, metric_points_tenant_seat_ts_idx,
  spans_tenant_ts_idx, spans_tenant_session_idx, spans_tenant_seat_ts_idx;
-- Partitions made before this version get the options new ones are created with (partitions.ts).
DO $$
DECLARE p regclass;
BEGIN
  FOR p IN SELECT inhrelid::regclass FROM pg_inherits
           WHERE inhparent IN ('events'::regclass, 'metric_points'::regclass, 'spans'::regclass) LOOP
    EXECUTE format('ALTER TABLE %s SET (autovacuum_vacuum_insert_threshold = -1)', p);
  END LOOP;
END $$;
`,
  },
  {
    version: 4,
    // The daily pipeline used to scan the telemetry tables themselves, whose rows carry the
    // JSON documents (about 1.5 KB each): a 10-million-event day meant reading some 30 GB.
    // It now reads narrow copies of the typed columns it adds up (EventFacts / PointFacts),
    // a quarter of the width, which a trigger writes in the same statement as each record.
    // The wide tables stay the record of what arrived and keep their own copy.
    name: 'narrow pipeline tables: event_facts and point_facts',
    sql: `
CREATE TABLE event_facts (
  tenant_id text NOT NULL,
  ts timestamptz NOT NULL,
  time_ns bigint NOT NULL,
  cost_usd double precision,
  input_tokens double precision,
  output_tokens double precision,
  cache_read_tokens double precision,
  cache_creation_tokens double precision,
  success boolean,
  surface text NOT NULL,
  session_id text,
  user_email text,
  user_account_uuid text,
  end_user_id text,
  user_id text,
  name text NOT NULL,
  model text,
  decision text,
  tool_name text
) PARTITION BY RANGE (ts);
CREATE INDEX event_facts_tenant_ts_idx ON event_facts (tenant_id, ts);

CREATE TABLE point_facts (
  tenant_id text NOT NULL,
  ts timestamptz NOT NULL,
  time_ns bigint NOT NULL,
  start_time_ns bigint,
  value double precision,
  monotonic boolean,
  -- The point has a value: flag NO_RECORDED_VALUE (1) clear. A column rather than an
  -- expression on flags, so the planner has statistics for it.
  recorded boolean NOT NULL,
  id text NOT NULL,
  series_key text NOT NULL,
  type text NOT NULL,
  temporality text,
  surface text NOT NULL,
  session_id text,
  user_email text,
  user_account_uuid text,
  end_user_id text,
  user_id text,
  name text NOT NULL,
  model text,
  attr_type text,
  decision text,
  start_type text
) PARTITION BY RANGE (ts);
CREATE INDEX point_facts_tenant_ts_idx ON point_facts (tenant_id, ts);
-- Cumulative points need a window over their series (reads.ts); most clients send delta, so
-- this small index spares that part of the read a scan of the whole day.
CREATE INDEX point_facts_cumulative_idx ON point_facts (tenant_id, ts) WHERE temporality = 'cumulative';

-- A facts partition for every day the wide tables have one, then the rows they hold.
DO $$
DECLARE p record;
BEGIN
  FOR p IN SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound, i.inhparent::regclass::text AS parent
           FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent IN ('events'::regclass, 'metric_points'::regclass) LOOP
    EXECUTE format('CREATE TABLE %I PARTITION OF %I %s WITH (autovacuum_vacuum_insert_threshold = -1)',
      CASE p.parent WHEN 'events' THEN replace(p.name, 'events_p', 'event_facts_p') ELSE replace(p.name, 'metric_points_p', 'point_facts_p') END,
      CASE p.parent WHEN 'events' THEN 'event_facts' ELSE 'point_facts' END,
      p.bound);
  END LOOP;
END $$;
-- Every row that lands in a wide table is copied here by the server itself: one statement
-- trigger per COPY or INSERT, over exactly the rows it added (ON CONFLICT DO NOTHING skips
-- are not in new_rows), so the ingest path sends each record once.
CREATE FUNCTION copy_event_facts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO event_facts SELECT ${v4EventFacts}
    FROM new_rows;
  RETURN NULL;
END $$;
CREATE TRIGGER events_copy_facts AFTER INSERT ON events REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION copy_event_facts();

CREATE FUNCTION copy_point_facts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO point_facts SELECT ${v4PointFacts}
    FROM new_rows;
  RETURN NULL;
END $$;
CREATE TRIGGER metric_points_copy_facts AFTER INSERT ON metric_points REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION copy_point_facts();

INSERT INTO event_facts SELECT ${v4EventFacts}
  FROM events;
INSERT INTO point_facts SELECT ${v4PointFacts}
  FROM metric_points;
`,
  },
];

export const latestVersion = migrations.reduce((max, m) => Math.max(max, m.version), 0);
