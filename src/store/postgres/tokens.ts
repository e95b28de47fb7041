import type pg from 'pg';
import { StoreConflictError, type Found, type TokenRecord, type TokenScope } from '../store.js';
import { sqlState } from './errors.js';
import { inTransaction, withClient } from './pool.js';

interface TokenRow {
  id: string;
  tenant_id: string;
  scope: TokenScope;
  prefix: string;
  hash: string;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

type NewToken = Omit<TokenRecord, 'lastUsedAt' | 'revokedAt'>;

const fromRow = (r: TokenRow): TokenRecord => ({
  id: r.id,
  tenantId: r.tenant_id,
  scope: r.scope,
  prefix: r.prefix,
  hash: r.hash,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
});

const found = (rows: TokenRow[]): Found<TokenRecord> => (rows[0] ? { found: true, value: fromRow(rows[0]) } : { found: false });

async function insert(client: pg.PoolClient, t: NewToken): Promise<TokenRecord> {
  try {
    const { rows } = await client.query<TokenRow>(
      `INSERT INTO tokens (id, tenant_id, scope, prefix, hash, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
      [t.id, t.tenantId, t.scope, t.prefix, t.hash, t.createdAt],
    );
    return fromRow(rows[0] as TokenRow);
  } catch (err) {
    if (sqlState(err) === '23503') throw new StoreConflictError(`tenant ${t.tenantId} does not exist`);
    if (sqlState(err) === '23505') throw new StoreConflictError(`a token with id ${t.id} or the same hash already exists`);
    throw err;
  }
}

export async function createToken(pool: pg.Pool, t: NewToken): Promise<TokenRecord> {
  return withClient(pool, 'create a token', (client) => insert(client, t));
}

export async function findTokenByHash(pool: pg.Pool, hash: string): Promise<Found<TokenRecord>> {
  return withClient(pool, 'look a token up', async (client) =>
    found((await client.query<TokenRow>({ name: 'token-by-hash', text: 'SELECT * FROM tokens WHERE hash = $1', values: [hash] })).rows),
  );
}

export async function getToken(pool: pg.Pool, id: string): Promise<Found<TokenRecord>> {
  return withClient(pool, 'read a token', async (client) =>
    found((await client.query<TokenRow>('SELECT * FROM tokens WHERE id = $1', [id])).rows),
  );
}

export async function listTokens(pool: pg.Pool, tenantId: string): Promise<TokenRecord[]> {
  return withClient(pool, 'list tokens', async (client) =>
    (
      await client.query<TokenRow>('SELECT * FROM tokens WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC', [tenantId])
    ).rows.map(fromRow),
  );
}

const revokeSql = 'UPDATE tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1 RETURNING *';

export async function revokeToken(pool: pg.Pool, id: string, at: Date): Promise<Found<TokenRecord>> {
  return withClient(pool, 'revoke a token', async (client) => found((await client.query<TokenRow>(revokeSql, [id, at])).rows));
}

/** Revokes `oldId` and stores the replacement together; found holds the replacement. */
export async function rotateToken(pool: pg.Pool, oldId: string, replacement: NewToken, at: Date): Promise<Found<TokenRecord>> {
  return inTransaction(pool, 'rotate a token', async (client) => {
    const old = (await client.query<TokenRow>(revokeSql, [oldId, at])).rows[0];
    if (old === undefined) return { found: false };
    if (old.tenant_id !== replacement.tenantId) {
      throw new StoreConflictError(`token ${oldId} belongs to tenant ${old.tenant_id}, not ${replacement.tenantId}`);
    }
    return { found: true, value: await insert(client, replacement) };
  });
}

/** One statement for all uses; GREATEST keeps the later time when uses arrive out of order. */
export async function touchTokens(pool: pg.Pool, uses: { id: string; at: Date }[]): Promise<void> {
  const latest = new Map<string, Date>();
  for (const u of uses) {
    const seen = latest.get(u.id);
    if (seen === undefined || u.at > seen) latest.set(u.id, u.at);
  }
  if (latest.size === 0) return;
  const ids = [...latest.keys()].sort();
  await withClient(pool, 'record token use', async (client) => {
    await client.query({
      name: 'touch-tokens',
      text: `UPDATE tokens t SET last_used_at = GREATEST(t.last_used_at, u.at)
             FROM unnest($1::text[], $2::timestamptz[]) AS u(id, at)
             WHERE t.id = u.id AND (t.last_used_at IS NULL OR t.last_used_at < u.at)`,
      values: [ids, ids.map((id) => latest.get(id))],
    });
  });
}
