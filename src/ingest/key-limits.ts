import type { Identity } from '../store/records.js';

/**
 * Longest name or identifier a record may carry, in UTF-8 bytes. These values land in
 * indexed columns (metric_points (tenant, name, ts), the unique key of seat_identities
 * over four identity values, surfaces_seen, the rollups' keys with seat, surface and
 * model), and PostgreSQL refuses a B-tree entry over about 2.7 KB: one such value would
 * fail the whole batch. 4 × 512 bytes plus the tenant id fits in the widest of them.
 * Real values are far shorter (OpenTelemetry instrument names are at most 255
 * characters, an email at most 254), so this is fixed rather than a setting.
 */
export const MAX_IDENTIFIER_BYTES = 512;

/** Whether `value` is longer than MAX_IDENTIFIER_BYTES, without encoding short strings. */
export function tooLong(value: string | null): boolean {
  if (value === null) return false;
  // One UTF-16 unit is 1 to 3 UTF-8 bytes (a surrogate pair, two units, is 4).
  if (value.length * 3 <= MAX_IDENTIFIER_BYTES) return false;
  if (value.length > MAX_IDENTIFIER_BYTES) return true;
  return Buffer.byteLength(value, 'utf8') > MAX_IDENTIFIER_BYTES;
}

/** The rejection reason for a record whose `what` is too long. The value itself stays out of the message. */
export const tooLongReason = (what: string): string => `${what} longer than ${MAX_IDENTIFIER_BYTES} bytes`;

/**
 * Why a record's keys cannot be stored, or null when they can: a too-long name or
 * identity value rejects the record (partial_success) instead of being truncated,
 * because a truncated key could merge two seats, surfaces or series into one.
 */
export function keyProblem(name: { label: string; value: string }, identity: Identity, model: string | null): string | null {
  if (tooLong(name.value)) return tooLongReason(name.label);
  const fields: [string, string | null][] = [
    ['user.email', identity.userEmail],
    ['user.account_uuid', identity.userAccountUuid],
    ['enduser.id', identity.endUserId],
    ['user.id', identity.userId],
    ['organization.id', identity.organizationId],
    ['model', model],
  ];
  for (const [label, value] of fields) if (tooLong(value)) return tooLongReason(label);
  return null;
}
