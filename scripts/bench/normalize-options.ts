import type { NormalizeOptions } from '../../src/ingest/normalize-common.js';
import { defaultPrivacyPolicy } from '../../src/store/store.js';

/** Normalize options for a tenant with the default policy and limits, for the bench scripts that normalize in their own process. */
export function benchNormalizeOptions(tenantId: string): NormalizeOptions {
  return {
    tenant: { id: tenantId, name: tenantId, timezone: 'UTC', retentionDays: 90, allowedOrganizationIds: [], policy: { ...defaultPrivacyPolicy }, createdAt: new Date() },
    limits: { maxDepth: 8, maxAttributes: 256, maxStringLength: 65536 },
    nowNs: BigInt(Date.now()) * 1_000_000n,
    maxFutureSkewNs: 3600n * 1_000_000_000n,
    maxAgeNs: 90n * 86_400n * 1_000_000_000n,
  };
}
