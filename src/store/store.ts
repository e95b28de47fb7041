import type { RecordBatch } from './records.js';

export type TokenScope = 'ingest' | 'read' | 'admin';
export const tokenScopes: readonly TokenScope[] = ['ingest', 'read', 'admin'];

export interface Tenant {
  id: string;
  name: string;
  /** IANA time zone that decides where a tenant's days begin. */
  timezone: string;
  retentionDays: number;
  /** When non-empty, records whose `organization.id` is not listed are refused. */
  allowedOrganizationIds: string[];
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
   * - All or nothing: on rejection none of the batch is visible.
   * - Safe to repeat: writing a record whose `id` and time are already stored changes nothing.
   * - Rejects with StoreUnavailableError when the database cannot take it now.
   */
  writeBatch(tenantId: string, batch: RecordBatch): Promise<void>;

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
}
