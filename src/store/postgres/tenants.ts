import type pg from 'pg';
import { StoreConflictError, defaultPrivacyPolicy, type Found, type PrivacyPolicy, type Tenant } from '../store.js';
import { sqlState } from './errors.js';
import { withClient } from './pool.js';

interface TenantRow {
  id: string;
  name: string;
  timezone: string;
  retention_days: number;
  allowed_organization_ids: string[];
  policy: Partial<PrivacyPolicy>;
  created_at: Date;
}

const fromRow = (r: TenantRow): Tenant => ({
  id: r.id,
  name: r.name,
  timezone: r.timezone,
  retentionDays: r.retention_days,
  allowedOrganizationIds: r.allowed_organization_ids,
  // Fields added to the policy later take their defaults on older rows.
  policy: { ...defaultPrivacyPolicy, ...r.policy },
  createdAt: r.created_at,
});

const found = (rows: TenantRow[]): Found<Tenant> => (rows[0] ? { found: true, value: fromRow(rows[0]) } : { found: false });

/** Port field → column, for updates. */
const columns = {
  name: 'name',
  timezone: 'timezone',
  retentionDays: 'retention_days',
  allowedOrganizationIds: 'allowed_organization_ids',
  policy: 'policy',
} as const satisfies Record<keyof Omit<Tenant, 'id' | 'createdAt'>, string>;

export async function createTenant(pool: pg.Pool, t: Omit<Tenant, 'createdAt'>): Promise<Tenant> {
  return withClient(pool, 'create a tenant', async (client) => {
    try {
      const { rows } = await client.query<TenantRow>(
        `INSERT INTO tenants (id, name, timezone, retention_days, allowed_organization_ids, policy)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
        [t.id, t.name, t.timezone, t.retentionDays, t.allowedOrganizationIds, JSON.stringify(t.policy)],
      );
      return fromRow(rows[0] as TenantRow);
    } catch (err) {
      if (sqlState(err) === '23505') throw new StoreConflictError(`tenant ${t.id} already exists`);
      throw err;
    }
  });
}

export async function getTenant(pool: pg.Pool, id: string): Promise<Found<Tenant>> {
  return withClient(pool, 'read a tenant', async (client) =>
    found((await client.query<TenantRow>('SELECT * FROM tenants WHERE id = $1', [id])).rows),
  );
}

export async function listTenants(pool: pg.Pool): Promise<Tenant[]> {
  return withClient(pool, 'list tenants', async (client) =>
    (await client.query<TenantRow>('SELECT * FROM tenants ORDER BY created_at, id')).rows.map(fromRow),
  );
}

export async function updateTenant(
  pool: pg.Pool,
  id: string,
  patch: Partial<Omit<Tenant, 'id' | 'createdAt'>>,
): Promise<Found<Tenant>> {
  const sets: string[] = [];
  const values: unknown[] = [id];
  for (const [field, column] of Object.entries(columns) as [keyof typeof columns, string][]) {
    if (patch[field] === undefined) continue;
    values.push(field === 'policy' ? JSON.stringify(patch[field]) : patch[field]);
    sets.push(`${column} = $${values.length}`);
  }
  if (sets.length === 0) return getTenant(pool, id);
  return withClient(pool, 'update a tenant', async (client) =>
    found((await client.query<TenantRow>(`UPDATE tenants SET ${sets.join(', ')} WHERE id = $1 RETURNING *`, values)).rows),
  );
}
