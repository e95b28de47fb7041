import type { Logger } from 'pino';
import type { Store, Tenant, TokenRecord, TokenScope } from '../store/store.js';
import { StoreUnavailableError } from '../store/store.js';
import { IngestError } from './errors.js';
import { FailureLimiter } from './failure-limiter.js';
import { bearerToken, hashToken, sameHash } from './tokens.js';

export interface Principal {
  tenant: Tenant;
  token: TokenRecord;
}

type CacheEntry = { expires: number; principal: Principal | null };

export interface AuthenticatorOptions {
  store: Store;
  logger: Logger;
  cacheTtlMs: number;
  failuresPerMinute: number;
  retryAfterSeconds: number;
}

/** Which scopes may do what: admin can read, nothing else implies another scope. */
const grants: Record<TokenScope, readonly TokenScope[]> = {
  ingest: ['ingest'],
  read: ['read'],
  admin: ['admin', 'read'],
};

/**
 * Turns a bearer header into a tenant and token. Lookups are cached for a few
 * seconds (hits and misses), so the hot path rarely touches the store and a
 * revocation takes effect within `cacheTtlMs`. Last-use times are collected
 * and written in the background.
 */
export class Authenticator {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly uses = new Map<string, Date>();
  private readonly limiter: FailureLimiter;
  private flushTimer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: AuthenticatorOptions) {
    this.limiter = new FailureLimiter(opts.failuresPerMinute);
  }

  start(flushEveryMs = 5000): void {
    this.flushTimer = setInterval(() => void this.flushUses(), flushEveryMs);
    this.flushTimer.unref();
  }

  async stop(): Promise<void> {
    if (this.flushTimer) clearInterval(this.flushTimer);
    await this.flushUses();
  }

  /**
   * Resolves the principal for a request or throws an IngestError (401, 403, 429, 503).
   * The token is looked up before the source's failure count is consulted: many clients
   * share one address behind a NAT, and one of them sending bad tokens must not lock out
   * the others. Guessing gains nothing from this (a token carries 256 random bits); the
   * limit turns a flood of failures into cheap 429s, and the negative cache keeps a
   * repeated bad token off the store.
   */
  async authenticate(authorization: string | undefined, source: string, scope: TokenScope): Promise<Principal> {
    const token = bearerToken(authorization);
    if (token === null) {
      throw this.failure(source, 'missing bearer token: send "Authorization: Bearer <token>"');
    }
    const hash = hashToken(token);
    const cached = this.cached(hash);
    const principal = cached === undefined ? await this.lookup(hash) : cached;
    if (principal === null) throw this.failure(source, 'unknown or revoked token');
    return this.authorize(principal, scope);
  }

  /** Counts a failed authentication; the error is 429 once the source is over its allowance, else 401. */
  private failure(source: string, message: string): IngestError {
    const blockedFor = this.limiter.blockedSeconds(source);
    if (blockedFor > 0) {
      return new IngestError('rate_limited', 'too many failed authentication attempts from this address', blockedFor);
    }
    this.limiter.fail(source);
    return new IngestError('unauthenticated', message);
  }

  /** Forgets cached lookups, e.g. right after a revocation made in this process. */
  invalidate(): void {
    this.cache.clear();
  }

  private authorize(principal: Principal, scope: TokenScope): Principal {
    if (!grants[principal.token.scope].includes(scope)) {
      throw new IngestError('permission_denied', `a ${principal.token.scope} token cannot be used for ${scope}`);
    }
    this.uses.set(principal.token.id, new Date());
    return principal;
  }

  /** undefined: not cached; null: cached as invalid. */
  private cached(hash: string): Principal | null | undefined {
    const entry = this.cache.get(hash);
    if (!entry) return undefined;
    if (entry.expires < Date.now()) {
      this.cache.delete(hash);
      return undefined;
    }
    return entry.principal;
  }

  private async lookup(hash: string): Promise<Principal | null> {
    let principal: Principal | null = null;
    try {
      const found = await this.opts.store.findTokenByHash(hash);
      if (found.found && found.value.revokedAt === null && sameHash(found.value.hash, hash)) {
        const tenant = await this.opts.store.getTenant(found.value.tenantId);
        if (tenant.found) principal = { tenant: tenant.value, token: found.value };
      }
    } catch (e) {
      if (e instanceof StoreUnavailableError) {
        throw new IngestError('unavailable', 'the token store is unavailable, retry later', this.opts.retryAfterSeconds);
      }
      throw e;
    }
    // Bounded: a flood of random tokens must not grow memory without limit.
    if (this.cache.size > 50_000) this.cache.clear();
    this.cache.set(hash, { expires: Date.now() + this.opts.cacheTtlMs, principal });
    return principal;
  }

  private async flushUses(): Promise<void> {
    if (this.uses.size === 0) return;
    const uses = [...this.uses].map(([id, at]) => ({ id, at }));
    this.uses.clear();
    try {
      await this.opts.store.touchTokens(uses);
    } catch (e) {
      this.opts.logger.warn({ err: e }, 'could not record token last-use times');
    }
  }
}
