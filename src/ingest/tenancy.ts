import type { Store, Tenant, TokenRecord, TokenScope } from '../store/store.js';
import { issueToken } from './tokens.js';

/** Tenant and token administration shared by the CLI, the API and first start. */

export const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export function validTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export interface NewTenant {
  id: string;
  name?: string;
  timezone?: string;
  retentionDays?: number;
}

/** Validates and creates a tenant; throws an Error with a readable message on bad input. */
export async function createTenant(store: Store, input: NewTenant, defaultRetentionDays: number): Promise<Tenant> {
  if (!TENANT_ID_PATTERN.test(input.id)) {
    throw new Error(`invalid tenant id "${input.id}": use 1-63 lowercase letters, digits, "-" or "_"`);
  }
  const timezone = input.timezone ?? 'UTC';
  if (!validTimezone(timezone)) throw new Error(`unknown time zone "${timezone}": use an IANA name such as Europe/Berlin`);
  return store.createTenant({
    id: input.id,
    name: input.name ?? input.id,
    timezone,
    retentionDays: input.retentionDays ?? defaultRetentionDays,
    allowedOrganizationIds: [],
  });
}

export interface CreatedToken {
  id: string;
  token: string;
  tenant: string;
  scope: TokenScope;
}

export async function createToken(store: Store, tenantId: string, scope: TokenScope): Promise<CreatedToken> {
  const issued = issueToken(tenantId, scope);
  await store.createToken(issued.record);
  return { id: issued.record.id, token: issued.token, tenant: tenantId, scope };
}

/** Issues a replacement with the same tenant and scope and revokes the old token, atomically. */
export async function rotateToken(store: Store, old: TokenRecord): Promise<CreatedToken | null> {
  const issued = issueToken(old.tenantId, old.scope);
  const rotated = await store.rotateToken(old.id, issued.record, new Date());
  if (!rotated.found) return null;
  return { id: issued.record.id, token: issued.token, tenant: old.tenantId, scope: old.scope };
}

/** The public view of a token record: never the hash. */
export function tokenView(t: TokenRecord) {
  return {
    id: t.id,
    tenant: t.tenantId,
    scope: t.scope,
    prefix: t.prefix,
    createdAt: t.createdAt.toISOString(),
    lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
    revokedAt: t.revokedAt?.toISOString() ?? null,
  };
}

export function tenantView(t: Tenant) {
  return {
    id: t.id,
    name: t.name,
    timezone: t.timezone,
    retentionDays: t.retentionDays,
    allowedOrganizationIds: t.allowedOrganizationIds,
    createdAt: t.createdAt.toISOString(),
  };
}
