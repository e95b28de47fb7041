import type { ClientSession, Db } from 'mongodb';
import { StoreConflictError, type Found, type TokenRecord, type TokenScope } from '../store.js';
import { regular } from './collections.js';
import { isDuplicateKey } from './errors.js';
import { inTransaction } from './transaction.js';

interface TokenDoc {
  _id: string;
  tenantId: string;
  scope: TokenScope;
  prefix: string;
  hash: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

type NewToken = Omit<TokenRecord, 'lastUsedAt' | 'revokedAt'>;

const tokens = (db: Db) => db.collection<TokenDoc>(regular.tokens);

const fromDoc = (d: TokenDoc): TokenRecord => ({
  id: d._id,
  tenantId: d.tenantId,
  scope: d.scope,
  prefix: d.prefix,
  hash: d.hash,
  createdAt: d.createdAt,
  lastUsedAt: d.lastUsedAt ?? null,
  revokedAt: d.revokedAt ?? null,
});

const found = (d: TokenDoc | null): Found<TokenRecord> => (d === null ? { found: false } : { found: true, value: fromDoc(d) });

/** Tokens name their tenant; MongoDB has no foreign keys, so it is checked first (tenants are never deleted). */
async function insert(db: Db, t: NewToken, session?: ClientSession): Promise<TokenRecord> {
  const tenant = await db
    .collection<{ _id: string }>(regular.tenants)
    .findOne({ _id: t.tenantId }, { projection: { _id: 1 }, ...(session ? { session } : {}) });
  if (tenant === null) throw new StoreConflictError(`tenant ${t.tenantId} does not exist`);
  const doc: TokenDoc = { _id: t.id, tenantId: t.tenantId, scope: t.scope, prefix: t.prefix, hash: t.hash, createdAt: t.createdAt, lastUsedAt: null, revokedAt: null };
  try {
    await tokens(db).insertOne(doc, session ? { session } : {});
  } catch (err) {
    if (isDuplicateKey(err)) throw new StoreConflictError(`a token with id ${t.id} or the same hash already exists`);
    throw err;
  }
  return fromDoc(doc);
}

export const createToken = (db: Db, t: NewToken): Promise<TokenRecord> => insert(db, t);

export async function findTokenByHash(db: Db, hash: string): Promise<Found<TokenRecord>> {
  return found(await tokens(db).findOne({ hash }));
}

export async function getToken(db: Db, id: string): Promise<Found<TokenRecord>> {
  return found(await tokens(db).findOne({ _id: id }));
}

export async function listTokens(db: Db, tenantId: string): Promise<TokenRecord[]> {
  return (await tokens(db).find({ tenantId }).sort({ createdAt: -1, _id: -1 }).toArray()).map(fromDoc);
}

/** Sets revokedAt unless it is set already, in one atomic update; returns the token after it. */
function revoke(db: Db, id: string, at: Date, session?: ClientSession): Promise<TokenDoc | null> {
  return tokens(db).findOneAndUpdate({ _id: id }, [{ $set: { revokedAt: { $ifNull: ['$revokedAt', at] } } }], {
    returnDocument: 'after',
    ...(session ? { session } : {}),
  });
}

export async function revokeToken(db: Db, id: string, at: Date): Promise<Found<TokenRecord>> {
  return found(await revoke(db, id, at));
}

/** Revokes `oldId` and stores the replacement in one transaction; found holds the replacement. */
export async function rotateToken(db: Db, oldId: string, replacement: NewToken, at: Date): Promise<Found<TokenRecord>> {
  return inTransaction(db, async (session): Promise<Found<TokenRecord>> => {
    const old = await revoke(db, oldId, at, session);
    if (old === null) return { found: false };
    if (old.tenantId !== replacement.tenantId) {
      throw new StoreConflictError(`token ${oldId} belongs to tenant ${old.tenantId}, not ${replacement.tenantId}`);
    }
    return { found: true, value: await insert(db, replacement, session) };
  });
}

/** One unordered bulk write for all uses; $max keeps the later time when uses arrive out of order. */
export async function touchTokens(db: Db, uses: { id: string; at: Date }[]): Promise<void> {
  const latest = new Map<string, Date>();
  for (const u of uses) {
    const seen = latest.get(u.id);
    if (seen === undefined || u.at > seen) latest.set(u.id, u.at);
  }
  if (latest.size === 0) return;
  await tokens(db).bulkWrite(
    [...latest].map(([id, at]) => ({ updateOne: { filter: { _id: id }, update: { $max: { lastUsedAt: at } } } })),
    { ordered: false },
  );
}
