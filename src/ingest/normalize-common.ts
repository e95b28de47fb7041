import crypto from 'node:crypto';
import { remembered } from '../store/json-text.js';
import type { InstrumentationScope, Resource } from '../otlp/types.js';
import type { Scope } from '../store/records.js';
import type { Attributes } from '../store/records.js';
import type { Tenant } from '../store/store.js';
import { type AttributeLimits, LimitError, attrString, toAttributes } from './attributes.js';
import { IngestError } from './errors.js';
import { surfaceOf } from './identity.js';
import { tooLong, tooLongReason } from './key-limits.js';
import { applyPolicyToResource } from './privacy.js';

export interface NormalizeOptions {
  tenant: Tenant;
  limits: AttributeLimits;
  nowNs: bigint;
  maxFutureSkewNs: bigint;
  maxAgeNs: bigint;
}

/** partial_success.error_message is kept to about this many characters: the spec makes the server bound its responses. */
export const MAX_REJECTION_MESSAGE = 1024;
/** Distinct reasons remembered per request; further ones are counted under one "other reasons". */
const MAX_REASONS = 200;
const MAX_REASON_LENGTH = 200;

/** Rejected records of one request, counted by reason, for partial_success. */
export class Rejections {
  count = 0;
  private readonly reasons = new Map<string, number>();

  add(reason: string, n = 1): void {
    if (n <= 0) return;
    this.count += n;
    const key = this.reasons.has(reason) || this.reasons.size < MAX_REASONS ? reason : 'other reasons';
    this.reasons.set(key, (this.reasons.get(key) ?? 0) + n);
  }

  /** "N rejected: reason (n); …", at most MAX_REJECTION_MESSAGE characters, ending in "… K more" when reasons were left out. */
  message(): string {
    if (this.count === 0) return '';
    let text = `${this.count} rejected: `;
    let shown = 0;
    // Room for the "; … K more reasons" tail.
    const room = MAX_REJECTION_MESSAGE - 32;
    for (const [reason, n] of this.reasons) {
      const part = `${reason.length > MAX_REASON_LENGTH ? `${reason.slice(0, MAX_REASON_LENGTH)}…` : reason} (${n})`;
      const next = shown === 0 ? part : `; ${part}`;
      if (text.length + next.length > room) break;
      text += next;
      shown++;
    }
    const left = this.reasons.size - shown;
    return left > 0 ? `${text}${shown > 0 ? '; ' : ''}… ${left} more reason${left === 1 ? '' : 's'}` : text;
  }
}

/** What every record of one resource block shares, computed once per block. */
export interface ResourceContext {
  resource: Attributes;
  serviceName: string | null;
  surface: string;
  /** Digest of the resource attributes, mixed into record ids. */
  digest: string;
}

// crypto.hash (Node 20.12+) hashes in one call without a Hash object: half the cost per record id.
const sha256Hex: (data: string) => string = typeof crypto.hash === 'function'
  ? (data) => crypto.hash('sha256', data, 'hex')
  : (data) => crypto.createHash('sha256').update(data).digest('hex');

export const digest = (...parts: (string | number | bigint | boolean | null)[]): string => sha256Hex(parts.join('\u001f')).slice(0, 32);

/**
 * Prepares a resource block. A `tenant.id` that differs from the token's tenant
 * refuses the whole request: the sender is misconfigured or is trying to write
 * into someone else's data. Returns null (with rejections added) when the
 * resource itself breaks a limit.
 */
export function resourceContext(
  resource: Resource,
  opts: NormalizeOptions,
  recordCount: number,
  rejections: Rejections,
): ResourceContext | null {
  let attrs: Attributes;
  try {
    attrs = applyPolicyToResource(toAttributes(resource.attributes, opts.limits), opts.tenant.policy);
  } catch (e) {
    if (!(e instanceof LimitError)) throw e;
    rejections.add(`resource: ${e.message}`, recordCount);
    return null;
  }
  const claimed = attrString(attrs, 'tenant.id');
  if (claimed !== null && claimed !== opts.tenant.id) {
    const shown = claimed.length > 64 ? `${claimed.slice(0, 64)}…` : claimed;
    throw new IngestError('permission_denied', `resource attribute tenant.id="${shown}" does not match the token's tenant`);
  }
  const serviceName = attrString(attrs, 'service.name');
  // service.name is the surface, a key of surfaces_seen and of the rollups (see key-limits.ts).
  if (tooLong(serviceName)) {
    rejections.add(`resource: ${tooLongReason('service.name')}`, recordCount);
    return null;
  }
  return { resource: attrs, serviceName, surface: surfaceOf(serviceName), digest: digest(remembered(attrs)) };
}

export function scopeOf(scope: InstrumentationScope, limits: AttributeLimits): Scope {
  if (tooLong(scope.name)) throw new LimitError(tooLongReason('name'));
  return { name: scope.name, version: scope.version, attributes: toAttributes(scope.attributes, limits) };
}

/** Why a timestamp cannot be accepted, or null when it can. */
export function timeProblem(timeNs: bigint, opts: NormalizeOptions): string | null {
  if (timeNs === 0n) return 'timestamp is zero';
  if (timeNs > opts.nowNs + opts.maxFutureSkewNs) return 'timestamp too far in the future';
  if (timeNs < opts.nowNs - opts.maxAgeNs) return 'timestamp older than the accepted age';
  return null;
}

/** Largest time a signed 64-bit nanosecond column holds (year 2262). */
export const MAX_TIME_NS = 2n ** 63n - 1n;

/** Refuses records of an Anthropic organization the tenant has not pinned. */
export function checkOrganization(orgId: string | null, opts: NormalizeOptions): void {
  const allowed = opts.tenant.allowedOrganizationIds;
  if (orgId !== null && allowed.length > 0 && !allowed.includes(orgId)) {
    throw new IngestError('permission_denied', `organization.id "${orgId}" is not allowed for this tenant`);
  }
}

/** One resource block of a request, whatever the signal: its resource, and its scopes with their items. */
export interface Block<I> {
  resource: Resource;
  scopes: { scope: InstrumentationScope; items: I[] }[];
}

/**
 * Walks the resource and scope blocks of a request and turns each item into a
 * record, or into the reason it was rejected. A resource or scope that breaks
 * a limit rejects all of its items.
 */
export function normalizeBlocks<I, R>(
  blocks: Iterable<Block<I>>,
  opts: NormalizeOptions,
  rejections: Rejections,
  make: (item: I, rc: ResourceContext, scope: Scope) => R | string,
): R[] {
  const out: R[] = [];
  for (const block of blocks) {
    const total = block.scopes.reduce((n, s) => n + s.items.length, 0);
    const rc = resourceContext(block.resource, opts, total, rejections);
    if (rc === null) continue;
    for (const { scope: raw, items } of block.scopes) {
      let scope: Scope;
      try {
        scope = scopeOf(raw, opts.limits);
      } catch (e) {
        if (!(e instanceof LimitError)) throw e;
        rejections.add(`scope: ${e.message}`, items.length);
        continue;
      }
      for (const item of items) {
        const r = make(item, rc, scope);
        if (typeof r === 'string') rejections.add(r);
        else out.push(r);
      }
    }
  }
  return out;
}
