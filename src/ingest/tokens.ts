import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { TokenRecord, TokenScope } from '../store/store.js';

/** Every token starts with this, so secret scanners and people can recognize it. */
export const TOKEN_PREFIX = 'aiu_';
const TOKEN_PATTERN = /^aiu_[A-Za-z0-9_-]{43}$/;
/** How much of a token is kept in clear to tell tokens apart in lists. */
const SHOWN_PREFIX_LENGTH = 10;

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

export const looksLikeToken = (value: string): boolean => TOKEN_PATTERN.test(value);

/** Compares two hex digests without leaking where they differ. */
export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

export interface IssuedToken {
  /** The secret, shown once. */
  token: string;
  record: Omit<TokenRecord, 'lastUsedAt' | 'revokedAt'>;
}

/** Makes a new random token (256 bits) and the record to store for it. */
export function issueToken(tenantId: string, scope: TokenScope, now = new Date()): IssuedToken {
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  return {
    token,
    record: {
      id: `tok_${randomBytes(8).toString('hex')}`,
      tenantId,
      scope,
      prefix: token.slice(0, SHOWN_PREFIX_LENGTH),
      hash: hashToken(token),
      createdAt: now,
    },
  };
}

/** Extracts the token from an `Authorization: Bearer <token>` value; null when absent or malformed. */
export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^\s*bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1] ?? null;
}
