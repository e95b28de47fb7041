// The tenant's privacy policy and retention, read-only: set with `ai-usage tenants set-policy` or PUT /api/v1/tenant/policy.
import type { TenantInfo } from '../contract.js';
import { esc } from '../dom.js';

const describe: Record<string, Record<string, string>> = {
  prompts: { keep: 'kept', hash: 'stored as a SHA-256 hash', drop: 'dropped before storage' },
  responses: { keep: 'kept', drop: 'dropped before storage' },
  toolDetails: { keep: 'kept', drop: 'dropped before storage' },
  emails: { keep: 'kept', hash: 'stored as a SHA-256 hash' },
};
const labels: [keyof TenantInfo['policy'], string][] = [
  ['prompts', 'Prompt text'],
  ['responses', 'Assistant responses'],
  ['toolDetails', 'Tool inputs and parameters'],
  ['emails', 'User emails'],
];

export function policyHtml(t: TenantInfo): string {
  const rows = labels
    .map(([key, label]) => `<tr data-testid="policy-${key}" data-value="${esc(t.policy[key])}"><th scope="row">${esc(label)}</th><td>${esc(describe[key]?.[t.policy[key]] ?? t.policy[key])}</td></tr>`)
    .join('');
  return `<table class="policy-table"><tbody>${rows}
    <tr data-testid="policy-retention" data-value="${t.retentionDays}"><th scope="row">Raw data kept</th><td>${t.retentionDays} days (daily usage is kept)</td></tr>
    <tr><th scope="row">Days begin at</th><td>midnight ${esc(t.timezone)}</td></tr></tbody></table>
    <p class="muted">Applied before anything is stored. Change it with <code>ai-usage tenants set-policy ${esc(t.id)}</code>.</p>`;
}
