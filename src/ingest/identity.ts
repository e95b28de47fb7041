import type { Attributes, Identity } from '../store/records.js';
import { attrString } from './attributes.js';

const surfaces: Record<string, string> = {
  'claude-code': 'claude_code',
  'claude-code-desktop': 'claude_code_desktop',
  cowork: 'cowork',
  'claude-cowork': 'cowork',
  'claude-desktop': 'claude_desktop',
};

/** Maps `service.name` to a surface id; unknown services keep their own name. */
export function surfaceOf(serviceName: string | null): string {
  if (!serviceName) return 'unknown';
  // Own keys only: a service named "constructor" must not map to Object.prototype's.
  return Object.hasOwn(surfaces, serviceName) ? (surfaces[serviceName] as string) : serviceName;
}

/** Human-readable names of the known surfaces. */
export const surfaceLabels: Readonly<Record<string, string>> = Object.freeze({
  claude_code: 'Claude Code',
  claude_code_desktop: 'Claude Code (Desktop)',
  cowork: 'Claude Cowork',
  claude_desktop: 'Claude Desktop',
});

/** Record attributes win over resource attributes: Claude Code puts identity on each record. */
function pick(attrs: Attributes, resource: Attributes, key: string): string | null {
  return attrString(attrs, key) ?? attrString(resource, key);
}

/**
 * The person behind a record. The seat is the most readable identifier present,
 * prefixed with its kind so identifiers of different kinds never collide.
 */
export function identityOf(attrs: Attributes, resource: Attributes): Identity {
  const userEmail = pick(attrs, resource, 'user.email');
  const userAccountUuid = pick(attrs, resource, 'user.account_uuid');
  const endUserId = pick(attrs, resource, 'enduser.id');
  const userId = pick(attrs, resource, 'user.id');
  const seat = userEmail
    ? `email:${userEmail.toLowerCase()}`
    : userAccountUuid
      ? `account:${userAccountUuid}`
      : endUserId
        ? `enduser:${endUserId}`
        : userId
          ? `user:${userId}`
          : null;
  return {
    seat,
    userEmail,
    userAccountUuid,
    endUserId,
    userId,
    organizationId: pick(attrs, resource, 'organization.id'),
  };
}
