import pg from 'pg';
import type { RecordBase } from '../records.js';

/**
 * Who and which surfaces reported in: seat_identities and surfaces_seen.
 *
 * Every request of a tenant touches the same few rows here, and an upsert holds its
 * row lock until COMMIT, so writing them every time would queue all of a tenant's
 * requests behind each other. What this process wrote (and saw committed) is
 * remembered, and a row is only written again when its first-seen time moves back, its
 * last-seen time moves on by more than `refreshMs`, or it was last written more than
 * `refreshMs` ago (so last_received_at is at most that much behind).
 */
export interface SeenWindow {
  firstMs: number;
  lastMs: number;
}

interface Stored extends SeenWindow {
  writtenAtMs: number;
}

export interface SeenUpdates {
  surfaces: { key: string; surface: string; window: SeenWindow }[];
  identities: { key: string; ids: (string | null)[]; window: SeenWindow }[];
}

export interface SeenCache {
  /** What a batch would change, given what is already known to be stored. */
  pending(tenantId: string, records: Iterable<RecordBase>): SeenUpdates;
  /** Call after COMMIT; `writtenAtMs` is when the transaction began. */
  remember(updates: SeenUpdates, writtenAtMs: number): void;
}

const MAX_ENTRIES = 100_000;

/** One part of a cache key: length-prefixed, so no two tuples share a key whatever they hold ("-" is null). */
const part = (v: string | null): string => (v === null ? '-' : `${v.length}:${v}`);

export function createSeenCache(refreshMs = 30_000): SeenCache {
  const stored = new Map<string, Stored>();
  const stale = (key: string, w: SeenWindow, now: number): boolean => {
    const s = stored.get(key);
    return s === undefined || w.firstMs < s.firstMs || w.lastMs > s.lastMs + refreshMs || now > s.writtenAtMs + refreshMs;
  };
  return {
    pending(tenantId, records) {
      const surfaces = new Map<string, { surface: string; window: SeenWindow }>();
      const identities = new Map<string, { ids: (string | null)[]; window: SeenWindow }>();
      const tenant = part(tenantId);
      // Records of a batch mostly come from one session: a record that repeats the one before
      // widens the same entries without building their keys again.
      let prev: RecordBase['identity'] | null = null;
      let prevSurface: string | null = null;
      let surfaceWindow: SeenWindow | null = null;
      let identityWindow: SeenWindow | null = null;
      for (const r of records) {
        const ms = Number(r.timeNs / 1_000_000n);
        if (r.surface !== prevSurface || surfaceWindow === null) {
          prevSurface = r.surface;
          surfaceWindow = widen(surfaces, `s${tenant}${part(r.surface)}`, ms, () => ({ surface: r.surface }));
        } else stretch(surfaceWindow, ms);
        const id = r.identity;
        if (id.userEmail === null && id.userAccountUuid === null && id.endUserId === null && id.userId === null) continue;
        if (identityWindow !== null && prev !== null && id.userEmail === prev.userEmail && id.userAccountUuid === prev.userAccountUuid &&
          id.endUserId === prev.endUserId && id.userId === prev.userId) {
          stretch(identityWindow, ms);
          continue;
        }
        prev = id;
        const key = `i${tenant}${part(id.userEmail)}${part(id.userAccountUuid)}${part(id.endUserId)}${part(id.userId)}`;
        identityWindow = widen(identities, key, ms, () => ({ ids: [id.userEmail, id.userAccountUuid, id.endUserId, id.userId] }));
      }
      // A fixed order keeps concurrent transactions from locking the same rows in opposite orders.
      const now = Date.now();
      const sorted = <T>(m: Map<string, T & { window: SeenWindow }>) =>
        [...m].filter(([k, v]) => stale(k, v.window, now)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, v]) => ({ key, ...v }));
      return { surfaces: sorted(surfaces), identities: sorted(identities) };
    },
    remember(updates, writtenAtMs) {
      if (stored.size > MAX_ENTRIES) stored.clear();
      for (const u of [...updates.surfaces, ...updates.identities]) {
        const s = stored.get(u.key);
        stored.set(u.key, {
          firstMs: Math.min(s?.firstMs ?? Infinity, u.window.firstMs),
          lastMs: Math.max(s?.lastMs ?? -Infinity, u.window.lastMs),
          writtenAtMs,
        });
      }
    },
  };
}

/**
 * The updates of several batches (of any tenants) as one set per tenant, tenants and
 * rows in a fixed order, for one transaction.
 */
export function mergeSeen(parts: readonly { tenantId: string; updates: SeenUpdates }[]): [string, SeenUpdates][] {
  const byTenant = new Map<string, { surfaces: Map<string, SeenUpdates['surfaces'][number]>; identities: Map<string, SeenUpdates['identities'][number]> }>();
  const merge = <T extends { key: string; window: SeenWindow }>(into: Map<string, T>, items: readonly T[]) => {
    for (const item of items) {
      const e = into.get(item.key);
      if (e === undefined) into.set(item.key, { ...item, window: { ...item.window } });
      else {
        e.window.firstMs = Math.min(e.window.firstMs, item.window.firstMs);
        e.window.lastMs = Math.max(e.window.lastMs, item.window.lastMs);
      }
    }
  };
  for (const { tenantId, updates } of parts) {
    let t = byTenant.get(tenantId);
    if (t === undefined) byTenant.set(tenantId, (t = { surfaces: new Map(), identities: new Map() }));
    merge(t.surfaces, updates.surfaces);
    merge(t.identities, updates.identities);
  }
  const ordered = <T>(m: Map<string, T>): T[] => [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
  return [...byTenant]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([tenantId, t]) => [tenantId, { surfaces: ordered(t.surfaces), identities: ordered(t.identities) }]);
}

/** The window of `key` in `m` (made when new), widened to `ms`. */
function widen<T>(m: Map<string, T & { window: SeenWindow }>, key: string, ms: number, make: () => T): SeenWindow {
  const e = m.get(key);
  if (e !== undefined) {
    stretch(e.window, ms);
    return e.window;
  }
  const window = { firstMs: ms, lastMs: ms };
  m.set(key, { ...make(), window });
  return window;
}

function stretch(w: SeenWindow, ms: number): void {
  if (ms < w.firstMs) w.firstMs = ms;
  if (ms > w.lastMs) w.lastMs = ms;
}

const toIso = (ms: number) => new Date(ms).toISOString();
/** PostgreSQL text cannot hold U+0000. */
const noNul = (s: string | null) => (s !== null && s.includes('\0') ? s.replaceAll('\0', '\uFFFD') : s);

/** A SQL literal: the upserts travel inside one simple Query (one-trip.ts), which has no parameters. */
const literal = (v: string | null): string => (v === null ? 'NULL' : pg.escapeLiteral(noNul(v) as string));
const array = (values: readonly (string | null)[], type: string): string => `ARRAY[${values.map(literal).join(',')}]::${type}[]`;

const upsertSurfaces = (tenant: string, surfaces: string, first: string, last: string) => `
INSERT INTO surfaces_seen AS s (tenant_id, surface, first_seen, last_seen, last_received_at)
SELECT ${tenant}, x.surface, x.first_seen, x.last_seen, now()
FROM unnest(${surfaces}, ${first}, ${last}) AS x(surface, first_seen, last_seen)
ON CONFLICT (tenant_id, surface) DO UPDATE
SET first_seen = LEAST(s.first_seen, EXCLUDED.first_seen),
    last_seen = GREATEST(s.last_seen, EXCLUDED.last_seen),
    last_received_at = GREATEST(s.last_received_at, EXCLUDED.last_received_at)`;

const upsertIdentities = (tenant: string, ids: string[], first: string, last: string) => `
INSERT INTO seat_identities AS s
  (tenant_id, user_email, user_account_uuid, end_user_id, user_id, first_seen, last_seen, last_received_at)
SELECT ${tenant}, x.e, x.a, x.u, x.i, x.f, x.l, now()
FROM unnest(${ids.join(', ')}, ${first}, ${last}) AS x(e, a, u, i, f, l)
ON CONFLICT ON CONSTRAINT seat_identities_key DO UPDATE
SET first_seen = LEAST(s.first_seen, EXCLUDED.first_seen),
    last_seen = GREATEST(s.last_seen, EXCLUDED.last_seen),
    last_received_at = GREATEST(s.last_received_at, EXCLUDED.last_received_at)`;

/** The upserts of one tenant's updates, as statements of a write transaction. */
export function seenStatements(tenantId: string, u: SeenUpdates): string[] {
  const tenant = literal(tenantId);
  const times = (items: readonly { window: SeenWindow }[]) =>
    [array(items.map((x) => toIso(x.window.firstMs)), 'timestamptz'), array(items.map((x) => toIso(x.window.lastMs)), 'timestamptz')] as const;
  const out: string[] = [];
  if (u.surfaces.length > 0) {
    out.push(upsertSurfaces(tenant, array(u.surfaces.map((s) => s.surface), 'text'), ...times(u.surfaces)));
  }
  if (u.identities.length > 0) {
    const ids = [0, 1, 2, 3].map((i) => array(u.identities.map((x) => x.ids[i] ?? null), 'text'));
    out.push(upsertIdentities(tenant, ids, ...times(u.identities)));
  }
  return out;
}
