import { createHash } from 'node:crypto';
import type { AttrValue, Attributes } from '../store/records.js';
import type { PrivacyPolicy } from '../store/store.js';

/*
 * A tenant's privacy policy is applied during normalization, before anything
 * is stored, so dropped text never reaches the database, its logs or its backups.
 */

/** Where each kind of content travels in Claude Code and Cowork telemetry (events and spans). */
const PROMPT_KEYS = ['prompt', 'prompt_text', 'user_prompt', 'user_system_prompt', 'new_context', 'system_prompt_preview'];
const RESPONSE_KEYS = ['response', 'response.model_output'];
const TOOL_KEYS = ['tool_parameters', 'tool_input', 'tool.input', 'tool.output', 'full_command', 'file_path', 'bash_command'];
/** Raw API bodies carry prompts and responses both. */
const RAW_BODY_EVENTS = new Set(['api_request_body', 'api_response_body']);
const TOOL_EVENTS = new Set(['tool_result', 'tool_decision']);

export const hashValue = (v: string): string => `sha256:${createHash('sha256').update(v).digest('hex')}`;

const keepsEverything = (p: PrivacyPolicy) => p.prompts === 'keep' && p.responses === 'keep' && p.toolDetails === 'keep' && p.emails === 'keep';

function hashed(v: AttrValue): AttrValue {
  return typeof v === 'string' ? hashValue(v) : hashValue(JSON.stringify(v));
}

/**
 * Returns the attributes with the policy applied (the input is not changed).
 * `eventName` is the bare event name for log records, or '' for points and spans.
 */
export function applyPolicy(attrs: Attributes, policy: PrivacyPolicy, eventName = ''): Attributes {
  if (keepsEverything(policy)) return attrs;
  const out: Attributes = { ...attrs };
  if (policy.prompts !== 'keep') {
    for (const k of PROMPT_KEYS) {
      if (!(k in out)) continue;
      if (policy.prompts === 'drop') delete out[k];
      else out[k] = hashed(out[k] as AttrValue);
    }
  }
  if (policy.responses === 'drop') for (const k of RESPONSE_KEYS) delete out[k];
  if ((policy.prompts !== 'keep' || policy.responses !== 'keep') && RAW_BODY_EVENTS.has(eventName)) {
    delete out['body'];
    delete out['body_ref'];
  }
  if (policy.toolDetails === 'drop') {
    for (const k of TOOL_KEYS) delete out[k];
    // Tool error messages quote commands and file contents; the error type stays.
    if (TOOL_EVENTS.has(eventName) || eventName === '') delete out['error'];
  }
  if (policy.emails === 'hash') hashEmails(out);
  return out;
}

/** The resource side: only identities (emails) can live there. */
export function applyPolicyToResource(resource: Attributes, policy: PrivacyPolicy): Attributes {
  if (policy.emails !== 'hash' || !EMAIL_KEYS.some((k) => isEmailAt(resource, k))) return resource;
  const out: Attributes = { ...resource };
  hashEmails(out);
  return out;
}

/**
 * Where emails travel: `user.email` always holds one, and `enduser.id` does whenever a
 * sender without a Claude account is configured as the README says (enduser.id=<email>).
 * An enduser.id that is not an email (an employee number, a login name) is kept as the
 * sender configured it.
 */
const EMAIL_KEYS = ['user.email', 'enduser.id'] as const;
const EMAIL = /^[^\s@]+@[^\s@]+$/;

function isEmailAt(attrs: Attributes, key: (typeof EMAIL_KEYS)[number]): boolean {
  const v = attrs[key];
  return typeof v === 'string' && (key === 'user.email' || EMAIL.test(v));
}

/**
 * Replaces each email with the hash of its lowercased form, in place. The same address
 * hashes the same under either key, so a person stays one seat, and different
 * addresses stay different seats.
 */
function hashEmails(attrs: Attributes): void {
  for (const k of EMAIL_KEYS) if (isEmailAt(attrs, k)) attrs[k] = hashValue((attrs[k] as string).toLowerCase());
}
