import type { Identity, RecordBatch } from './records.js';

export type TokenScope = 'ingest' | 'read' | 'admin';
export const tokenScopes: readonly TokenScope[] = ['ingest', 'read', 'admin'];

/**
 * What a tenant lets the receiver keep of the content its people type and see,
 * applied before anything is stored (see src/ingest/privacy.ts).
 */
export interface PrivacyPolicy {
  /** User prompt text: keep, store a SHA-256 of it, or drop. */
  prompts: 'keep' | 'hash' | 'drop';
  /** Assistant response text. */
  responses: 'keep' | 'drop';
  /** Tool inputs, parameters and tool error messages. */
  toolDetails: 'keep' | 'drop';
  /** user.email: keep, or replace with a SHA-256. */
  emails: 'keep' | 'hash';
}

export const defaultPrivacyPolicy: Readonly<PrivacyPolicy> = Object.freeze({ prompts: 'keep', responses: 'keep', toolDetails: 'keep', emails: 'keep' });

export interface Tenant {
  id: string;
  name: string;
  /** IANA time zone that decides where a tenant's days begin. */
  timezone: string;
  retentionDays: number;
  /** When non-empty, records whose `organization.id` is not listed are refused. */
  allowedOrganizationIds: string[];
  policy: PrivacyPolicy;
  createdAt: Date;
}

export interface TokenRecord {
  id: string;
  tenantId: string;
  scope: TokenScope;
  /** The first characters of the token, kept to help people recognize it in lists. */
  prefix: string;
  /** sha-256 of the whole token, hex. The token itself is never stored. */
  hash: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** The identifiers of a person as seen together on one record. */
export type IdentityKey = Pick<Identity, 'userEmail' | 'userAccountUuid' | 'endUserId' | 'userId'>;

/** Half-open time range [fromNs, toNs) in nanoseconds since the epoch. */
export interface TimeRange {
  fromNs: bigint;
  toNs: bigint;
}

/**
 * Events of one identity, surface, model and name within a range, reduced to what the
 * pipeline needs, split by what their session sent metric points of. A day of a fleet
 * that sends metrics folds into rows per seat rather than per session.
 */
export interface EventTotalsRow {
  /**
   * The metric names (of those asked for, sorted) that the events' session sent points
   * of in the range, as metricTotals reads them. Empty for events without `session.id`.
   */
  sessionMetrics: readonly string[];
  /**
   * The events' `session.id` when `sessionMetrics` is empty, so sessions known only from
   * events can be counted; null when it is not empty or the events carry none.
   */
  sessionId: string | null;
  identity: IdentityKey;
  surface: string;
  model: string | null;
  name: string;
  count: number;
  /** Events whose `success` is false. */
  failures: number;
  /** tool_decision events of an edit tool with decision accept / reject. */
  accepts: number;
  rejects: number;
  costUsd: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
}

/** What monotonic sum points added within a range, per identity, surface, metric and split attributes. */
export interface MetricTotalsRow {
  /** Whether the points carried `session.id`: points without it speak for their install (see pipeline/sources.ts). */
  sessioned: boolean;
  identity: IdentityKey;
  surface: string;
  name: string;
  model: string | null;
  type: string | null;
  decision: string | null;
  startType: string | null;
  value: number;
}

export const measureNames = [
  'sessions', 'costUsd', 'inputTokens', 'outputTokens', 'cacheReadTokens', 'cacheCreationTokens',
  'linesAdded', 'linesRemoved', 'commits', 'pullRequests', 'activeTimeUserSeconds', 'activeTimeCliSeconds',
  'editAccepts', 'editRejects', 'prompts', 'apiRequests', 'apiErrors', 'toolCalls', 'toolFailures',
] as const;
export type MeasureName = (typeof measureNames)[number];
export type Measures = Record<MeasureName, number>;

export const modelMeasureNames = ['costUsd', 'inputTokens', 'outputTokens', 'cacheReadTokens', 'cacheCreationTokens'] as const;
export type ModelMeasures = Record<(typeof modelMeasureNames)[number], number>;

/** One seat's usage on one surface on one tenant-day. `seat` is the seat's readable label. */
export interface SeatDayRollup {
  day: string;
  seat: string;
  surface: string;
  measures: Measures;
}

/** A range of rollups summed by the store: what the dashboard draws, without reading every seat-day row. */
export interface UsageTotals {
  /** Per day with rollups: the distinct seats that day, and the measures summed over its seats and surfaces. */
  days: { day: string; activeSeats: number; measures: Measures }[];
  /** Per seat with rollups: the distinct days it has, and the measures summed over its days and surfaces. */
  seats: { seat: string; activeDays: number; measures: Measures }[];
  /** Per day and model: the model measures summed over seats and surfaces. */
  models: { day: string; model: string; measures: ModelMeasures }[];
}

/** One seat's usage of one model on one surface on one tenant-day. */
export interface ModelDayRollup {
  day: string;
  seat: string;
  surface: string;
  model: string;
  measures: ModelMeasures;
}

export interface SurfaceSeen {
  surface: string;
  lastSeenAt: Date;
}

/**
 * Days beyond a tenant's retention that raw data must outlive when a store expires it on
 * its own: retention keeps whole tenant-days (today and the `retentionDays` before it), so
 * the oldest kept record is up to retentionDays + 1 day old, plus the zone's offset from UTC.
 */
export const RAW_EXPIRY_MARGIN_DAYS = 2;

/** Result of an operation that may find nothing. */
export type Found<T> = { found: true; value: T } | { found: false };

/**
 * Raised by adapters when the database cannot take a request right now
 * (unreachable, failing over, timing out). Ingest answers it with a retryable status.
 */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Raised when a write names something that must exist first, or must not exist yet. */
export class StoreConflictError extends Error {
  override readonly name = 'StoreConflictError';
}

/**
 * Raised by a write fenced by a tenant-day lock (DayLock.replaceDailyRollups) when the
 * lock is no longer held: its database session ended, or (MongoDB) its lease expired
 * and another computation may have taken the day. Nothing was written.
 */
export class DayLockLostError extends Error {
  override readonly name = 'DayLockLostError';
}

/** A tenant-day lock, held while the function given to Store.withDayLock runs. */
export interface DayLock {
  readonly tenantId: string;
  readonly day: string;
  /**
   * Store.replaceDailyRollups for the locked day, fenced by the lock: it commits only
   * while the lock is still held, else it rejects with DayLockLostError and writes
   * nothing. A computation that lost its lock therefore never overwrites the result
   * of the one that took the day after it.
   */
  replaceDailyRollups(seats: SeatDayRollup[], models: ModelDayRollup[]): Promise<void>;
}

/**
 * The storage port. Every adapter implements all of it, and the contract suite
 * in test/store-contract.test.ts states the same behaviour for each.
 */
export interface Store {
  /** Adapter name, for logs and /readyz. */
  readonly kind: 'postgres' | 'mongo';

  /** Creates or upgrades the schema. Idempotent; safe to run from many replicas at once. */
  migrate(): Promise<void>;

  /** Resolves when the database answers and the schema is current; rejects with StoreUnavailableError otherwise. */
  ping(): Promise<void>;

  /** Releases connections. The store is unusable afterwards. */
  close(): Promise<void>;

  /**
   * Writes one export request's records for a tenant.
   * - Durable when the promise resolves: the records survive a crash from then on.
   * - All or nothing: on rejection none of the batch is visible. (One exception, MongoDB's:
   *   a server lost in the middle of a batch cannot have the part it took deleted again;
   *   the rejection is then retryable, and since reads count a repeated record once, the
   *   client's retry of the whole batch leaves the totals exact.)
   * - Safe to repeat: writing a record whose `id` and time are already stored changes nothing.
   * - Rejects with StoreUnavailableError when the database cannot take it now.
   * - `hold`, when given, is told (once, before this returns) the bytes of the copy the
   *   store keeps of the batch until the promise settles, so the caller can count them
   *   against its memory bound. A store that keeps no copy of its own never calls it.
   */
  writeBatch(tenantId: string, batch: RecordBatch, hold?: (bytes: number) => void): Promise<void>;

  /** Creates a tenant; rejects with StoreConflictError if the id exists. */
  createTenant(tenant: Omit<Tenant, 'createdAt'>): Promise<Tenant>;
  getTenant(id: string): Promise<Found<Tenant>>;
  listTenants(): Promise<Tenant[]>;
  /** Changes the given fields of a tenant; not-found when it does not exist. */
  updateTenant(id: string, patch: Partial<Omit<Tenant, 'id' | 'createdAt'>>): Promise<Found<Tenant>>;

  /** Stores a token record; rejects with StoreConflictError when the tenant does not exist or the id is taken. */
  createToken(token: Omit<TokenRecord, 'lastUsedAt' | 'revokedAt'>): Promise<TokenRecord>;
  /** Looks a token up by its hash, revoked ones included (the caller decides). */
  findTokenByHash(hash: string): Promise<Found<TokenRecord>>;
  getToken(id: string): Promise<Found<TokenRecord>>;
  /** A tenant's tokens, newest first, revoked ones included. */
  listTokens(tenantId: string): Promise<TokenRecord[]>;
  /** Marks a token revoked (idempotent: the first revocation time is kept). */
  revokeToken(id: string, at: Date): Promise<Found<TokenRecord>>;
  /**
   * Revokes `oldId` and stores `replacement` in one transaction, so a rotation
   * never leaves the tenant with both or neither.
   */
  rotateToken(oldId: string, replacement: Omit<TokenRecord, 'lastUsedAt' | 'revokedAt'>, at: Date): Promise<Found<TokenRecord>>;
  /** Records last use for many tokens at once; later times win. */
  touchTokens(uses: { id: string; at: Date }[]): Promise<void>;

  // ---- reads for the pipeline and Connect status ----

  /**
   * Event totals for a range, grouped by identity, surface, model, event name and the
   * set of `metricNames` the event's session sent points of in the range (a point that
   * metricTotals with these names would read: a monotonic sum with a value, recorded,
   * within the range; the lookback does not count), and by session only where that set
   * is empty. Each stored record counts once however often it was written.
   * `editTools` names the tools whose tool_decision events count as edit accepts/rejects.
   */
  eventTotals(tenantId: string, range: TimeRange, editTools: readonly string[], metricNames: readonly string[]): Promise<EventTotalsRow[]>;

  /**
   * What the named monotonic sums added in a range, grouped by identity, surface,
   * metric, model, type, decision, start_type and whether the points carried a session:
   * - delta points: their values, summed;
   * - cumulative points: increases per series (seriesKey and start time), against
   *   the previous point of the series up to `lookbackNs` before the range. The
   *   first point of a series counts in full when the series started within the
   *   lookback (start < time), else it is only a baseline. A value lower than
   *   the previous one is a reset and counts in full. A repeated point adds nothing.
   * Points flagged NO_RECORDED_VALUE add nothing.
   */
  metricTotals(tenantId: string, range: TimeRange, names: readonly string[], lookbackNs: bigint): Promise<MetricTotalsRow[]>;

  /** Every distinct identity tuple the tenant's records carried. */
  listIdentities(tenantId: string): Promise<IdentityKey[]>;
  /** Identity tuples seen on records received at or after `since`. */
  identitiesSeenSince(tenantId: string, since: Date): Promise<IdentityKey[]>;
  /** Surfaces that reported in, with when each was last received. */
  surfacesSeen(tenantId: string): Promise<SurfaceSeen[]>;

  /**
   * Runs `fn` holding the lock of one tenant-day, so one computation of that day runs at
   * a time however many stores (replicas) share the database:
   * - `fn` starts only once the lock is held, and the lock is released when `fn` settles,
   *   whether it resolves or rejects; withDayLock settles as `fn` did.
   * - Another withDayLock of the same tenant and day, from this store or any other on the
   *   same database, waits until the lock is free and then runs. Other tenant-days never wait.
   *   Waits are not served in any promised order.
   * - A computation reads its raw records inside `fn`, so the one that runs later also read
   *   later, and writes its result through `lock.replaceDailyRollups` (fenced, see DayLock).
   * - A holder that dies releases the lock: on PostgreSQL when its session ends, on
   *   MongoDB when its lease runs out (the lease is renewed while `fn` runs).
   * - Not re-entrant: a withDayLock of the same tenant-day inside `fn` waits for itself.
   * - Rejects with StoreUnavailableError when the lock cannot be had within the store's
   *   wait limit (default 15 minutes) or the database is away; `fn` did not run then.
   */
  withDayLock<T>(tenantId: string, day: string, fn: (lock: DayLock) => Promise<T>): Promise<T>;

  /** Replaces every rollup of a tenant-day in one transaction: a re-run replaces a day, never adds to it. */
  replaceDailyRollups(tenantId: string, day: string, seats: SeatDayRollup[], models: ModelDayRollup[]): Promise<void>;
  /** Rollups of days in [fromDay, toDay] (YYYY-MM-DD, inclusive), ordered by day. */
  dailyRollups(tenantId: string, fromDay: string, toDay: string): Promise<{ seats: SeatDayRollup[]; models: ModelDayRollup[] }>;
  /**
   * The rollups of days in [fromDay, toDay] summed by the database: the same totals as
   * adding up dailyRollups of the range (a measure a stored row lacks counts 0), up to
   * floating-point rounding. Rows come in no particular order.
   */
  usageTotals(tenantId: string, fromDay: string, toDay: string): Promise<UsageTotals>;

  /**
   * Deletes raw events, points and spans of the tenant older than `before`; rollups stay. Returns records removed.
   * The pipeline calls it with the start of the oldest tenant-day still within retention
   * (src/pipeline/retention-window.ts); an adapter that also expires raw data by itself
   * (MongoDB's TTL) keeps it at least RAW_EXPIRY_MARGIN_DAYS longer than the retention.
   */
  deleteRawBefore(tenantId: string, before: Date): Promise<number>;

  /**
   * Upkeep for the coming days, so writes of those days find the store ready:
   * - Makes what a write of any day from `now` to a few days after it needs exist
   *   already (PostgreSQL: the day partitions of the raw tables, 7 days ahead), so
   *   writeBatch does not create it on the ingest path; a store that needs nothing
   *   ahead (MongoDB) does nothing.
   * - Idempotent, and safe to run from several stores (replicas) on one database at once.
   * - Changes no stored record; writeBatch still creates what a day needs on demand
   *   (a day further ahead, or one never prepared).
   * The pipeline's scheduled refresh and finalize jobs run it before computing.
   */
  maintain(now?: Date): Promise<void>;
}
