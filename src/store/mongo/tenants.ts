import type { Db } from 'mongodb';
import { StoreConflictError, defaultPrivacyPolicy, type Found, type PrivacyPolicy, type Tenant } from '../store.js';
import { regular } from './collections.js';
import { isDuplicateKey } from './errors.js';

interface TenantDoc {
  _id: string;
  name: string;
  timezone: string;
  retentionDays: number;
  allowedOrganizationIds: string[];
  policy: Partial<PrivacyPolicy>;
  createdAt: Date;
}

const tenants = (db: Db) => db.collection<TenantDoc>(regular.tenants);

const fromDoc = (d: TenantDoc): Tenant => ({
  id: d._id,
  name: d.name,
  timezone: d.timezone,
  retentionDays: d.retentionDays,
  allowedOrganizationIds: d.allowedOrganizationIds ?? [],
  // Fields added to the policy later take their defaults on older documents.
  policy: { ...defaultPrivacyPolicy, ...d.policy },
  createdAt: d.createdAt,
});

const found = (d: TenantDoc | null): Found<Tenant> => (d === null ? { found: false } : { found: true, value: fromDoc(d) });

/** The fields a patch may set, by port name (the document uses the same names). */
const patchable = ['name', 'timezone', 'retentionDays', 'allowedOrganizationIds', 'policy'] as const satisfies readonly (keyof Omit<Tenant, 'id' | 'createdAt'>)[];

export async function createTenant(db: Db, t: Omit<Tenant, 'createdAt'>): Promise<Tenant> {
  const doc: TenantDoc = {
    _id: t.id,
    name: t.name,
    timezone: t.timezone,
    retentionDays: t.retentionDays,
    allowedOrganizationIds: [...t.allowedOrganizationIds],
    policy: { ...t.policy },
    createdAt: new Date(),
  };
  try {
    await tenants(db).insertOne(doc);
  } catch (err) {
    if (isDuplicateKey(err)) throw new StoreConflictError(`tenant ${t.id} already exists`);
    throw err;
  }
  return fromDoc(doc);
}

export async function getTenant(db: Db, id: string): Promise<Found<Tenant>> {
  return found(await tenants(db).findOne({ _id: id }));
}

export async function listTenants(db: Db): Promise<Tenant[]> {
  return (await tenants(db).find().sort({ createdAt: 1, _id: 1 }).toArray()).map(fromDoc);
}

export async function updateTenant(db: Db, id: string, patch: Partial<Omit<Tenant, 'id' | 'createdAt'>>): Promise<Found<Tenant>> {
  const set: Partial<TenantDoc> = {};
  for (const field of patchable) if (patch[field] !== undefined) Object.assign(set, { [field]: patch[field] });
  if (Object.keys(set).length === 0) return getTenant(db, id);
  return found(await tenants(db).findOneAndUpdate({ _id: id }, { $set: set }, { returnDocument: 'after' }));
}

/** The longest retention any tenant asks for, or null when there are no tenants. */
export async function longestRetentionDays(db: Db): Promise<number | null> {
  const [row] = await tenants(db)
    .aggregate<{ days: number | null }>([{ $group: { _id: null, days: { $max: '$retentionDays' } } }])
    .toArray();
  return typeof row?.days === 'number' ? row.days : null;
}
