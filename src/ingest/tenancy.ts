import { type PrivacyPolicy, type Store, type Tenant, type TokenRecord, type TokenScope, defaultPrivacyPolicy } from '../store/store.js';
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
    policy: { ...defaultPrivacyPolicy },
  });
}

const policyChoices: { [K in keyof PrivacyPolicy]: readonly PrivacyPolicy[K][] } = {
  prompts: ['keep', 'hash', 'drop'],
  responses: ['keep', 'drop'],
  toolDetails: ['keep', 'drop'],
  emails: ['keep', 'hash'],
};

export interface PolicyChange {
  policy?: Partial<Record<keyof PrivacyPolicy, string>>;
  retentionDays?: number;
}

/** Validates and applies a privacy policy / retention change; throws an Error naming the bad value. */
export async function setPolicy(store: Store, tenantId: string, change: PolicyChange): Promise<Tenant | null> {
  const current = await store.getTenant(tenantId);
  if (!current.found) return null;
  const policy: PrivacyPolicy = { ...current.value.policy };
  for (const [key, value] of Object.entries(change.policy ?? {}) as [keyof PrivacyPolicy, string | undefined][]) {
    if (value === undefined) continue;
    const allowed = policyChoices[key] as readonly string[] | undefined;
    if (!allowed) throw new Error(`unknown policy field "${key}"`);
    if (!allowed.includes(value)) throw new Error(`${key} must be one of ${allowed.join(', ')}, not "${value}"`);
    (policy as unknown as Record<string, string>)[key] = value;
  }
  if (change.retentionDays !== undefined && (!Number.isInteger(change.retentionDays) || change.retentionDays < 1 || change.retentionDays > 3650)) {
    throw new Error('retention days must be an integer from 1 to 3650');
  }
  const updated = await store.updateTenant(tenantId, { policy, ...(change.retentionDays !== undefined ? { retentionDays: change.retentionDays } : {}) });
  return updated.found ? updated.value : null;
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
    policy: t.policy,
    createdAt: t.createdAt.toISOString(),
  };
}
