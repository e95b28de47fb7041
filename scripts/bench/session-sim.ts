import type { Rng } from './rng.js';

/**
 * A Claude Code session as the 2.1.328 capture shows it (test/fixtures/claude-code-2.1.328),
 * simulated: per prompt a user_prompt, then tool loops (api_request → tool_decision →
 * tool_result), then a final api_request and assistant_response; rare api_errors.
 * Attribute sets follow the capture and the documented event catalogue.
 */

export type Scalar = string | number | boolean;
export type PlainAttrs = Record<string, Scalar>;

export const CLAUDE_CODE_VERSION = '2.1.328';
export const EVENTS_SCOPE = 'com.anthropic.claude_code.events';
export const METRICS_SCOPE = 'com.anthropic.claude_code';

/** Keys sent as doubleValue; every other number is an intValue (as Claude Code ≥ 2.1.122 does). */
export const DOUBLE_KEYS: ReadonlySet<string> = new Set(['cost_usd']);

export interface Seat {
  email: string;
  userId: string;
  accountUuid: string;
  accountId: string;
  organizationId: string;
}

export interface SimEvent {
  name: string;
  /** Milliseconds from the session start. */
  offsetMs: number;
  promptId: string;
  attrs: PlainAttrs;
}

export function resourceAttrs(tenantId: string): PlainAttrs {
  return {
    'tenant.id': tenantId,
    'host.arch': 'amd64',
    'os.type': 'linux',
    'os.version': '6.18.44-fc-v769',
    'service.name': 'claude-code',
    'service.version': CLAUDE_CODE_VERSION,
  };
}

/** The attributes on every event and data point of a session (OTEL_RESOURCE_ATTRIBUTES keys included). */
export function standardAttrs(tenantId: string, seat: Seat, sessionId: string): PlainAttrs {
  return {
    'tenant.id': tenantId,
    'user.id': seat.userId,
    'session.id': sessionId,
    'organization.id': seat.organizationId,
    'user.email': seat.email,
    'user.account_uuid': seat.accountUuid,
    'user.account_id': seat.accountId,
    'anthropic.provider': 'firstParty',
    'anthropic.custom_base_url': false,
    'terminal.type': 'vscode',
  };
}

const MODELS = [['claude-opus-5-5', 6], ['claude-sonnet-5', 3], ['claude-haiku-4-5', 1]] as const;
const PRICE_PER_MTOK: Record<string, [number, number]> = {
  'claude-opus-5-5': [5, 25],
  'claude-sonnet-5': [3, 15],
  'claude-haiku-4-5': [1, 5],
};
const TOOLS = [['Bash', 30], ['Read', 25], ['Edit', 18], ['Grep', 10], ['Write', 5], ['Glob', 5], ['WebFetch', 4], ['NotebookEdit', 1], ['mcp_tool', 2]] as const;
export const EDIT_TOOL_NAMES: ReadonlySet<string> = new Set(['Edit', 'Write', 'NotebookEdit']);

/** One prompt's events, appended to `out`; returns the offset after the last one. */
export function simulatePrompt(rng: Rng, startMs: number, out: SimEvent[]): number {
  let t = startMs;
  const promptId = rng.uuid();
  const push = (name: string, attrs: PlainAttrs, gapMs: number) => {
    t += gapMs;
    out.push({ name, offsetMs: t, promptId, attrs });
  };
  const text = rng.int(8, 2000);
  push('user_prompt', { prompt_length: String(text), prompt: '<REDACTED>', 'message.uuid': rng.uuid() }, 0);
  const model = rng.weighted(MODELS);
  const apiRequest = () => {
    const requestId = `req_${rng.hex(24)}`;
    if (rng.chance(0.01)) {
      push('api_error', {
        model, error: 'Overloaded', status_code: 529, duration_ms: rng.int(200, 30_000), attempt: rng.int(1, 11),
        request_id: requestId, speed: 'normal', query_source: 'repl_main_thread', effort: 'medium',
      }, rng.int(200, 3000));
    }
    const input = rng.int(50, 4000);
    const output = rng.int(5, 3000);
    const cacheRead = rng.int(0, 60_000);
    const cacheCreation = rng.int(0, 8000);
    const [pin, pout] = PRICE_PER_MTOK[model] as [number, number];
    const micros = Math.round(input * pin + output * pout + cacheRead * pin * 0.1 + cacheCreation * pin * 1.25);
    push('api_request', {
      model, input_tokens: input, output_tokens: output, cache_read_tokens: cacheRead, cache_creation_tokens: cacheCreation,
      cache_creation_5m_tokens: cacheCreation, cache_creation_1h_tokens: 0, cost_usd: micros / 1e6, cost_usd_micros: micros,
      duration_ms: rng.int(400, 40_000), ttft_ms: rng.int(150, 3000), request_id: requestId, speed: 'normal',
      query_source: 'repl_main_thread', effort: 'medium',
    }, rng.int(500, 15_000));
    return requestId;
  };
  const loops = rng.int(0, 8);
  for (let i = 0; i < loops; i++) {
    const requestId = apiRequest();
    if (rng.chance(0.3)) {
      push('assistant_response', { response_length: rng.int(20, 3000), response: '<REDACTED>', request_id: requestId,
        'message.uuid': rng.uuid(), model, query_source: 'repl_main_thread' }, rng.int(5, 50));
    }
    const tool = rng.weighted(TOOLS);
    const toolUseId = `toolu_${rng.hex(24)}`;
    const accept = rng.chance(0.95);
    const source = accept ? rng.weighted([['config', 6], ['user_temporary', 3], ['user_permanent', 1]] as const) : 'user_reject';
    push('tool_decision', { tool_name: tool, tool_use_id: toolUseId, decision: accept ? 'accept' : 'reject', tool_source: 'builtin', source },
      rng.int(5, 4000));
    if (!accept) continue;
    const ok = rng.chance(0.92);
    push('tool_result', {
      tool_name: tool, tool_use_id: toolUseId, success: ok ? 'true' : 'false', duration_ms: rng.int(3, 20_000),
      ...(ok ? {} : { error_type: rng.pick(['ShellError', 'Error:ENOENT', 'Error:EACCES']) }),
      decision_type: 'accept', decision_source: source, tool_input_size_bytes: rng.int(20, 4000),
      tool_result_size_bytes: rng.int(0, 40_000),
    }, rng.int(50, 20_000));
  }
  const requestId = apiRequest();
  push('assistant_response', { response_length: rng.int(20, 3000), response: '<REDACTED>', request_id: requestId,
    'message.uuid': rng.uuid(), model, query_source: 'repl_main_thread' }, rng.int(5, 50));
  return t;
}

/** Events of a session until at least `count` exist, prompts 20 s to 4 min apart; trimmed to `count`. */
export function simulateSession(rng: Rng, count: number): SimEvent[] {
  const out: SimEvent[] = [];
  let t = 0;
  while (out.length < count) t = simulatePrompt(rng, out.length === 0 ? 0 : t + rng.int(20_000, 240_000), out);
  out.length = count;
  return out;
}

/** Full event attributes as Claude Code sends them: standard set, event.*, prompt.id, then the event's own. */
export function eventAttrs(standard: PlainAttrs, e: SimEvent, sequence: number, timeMs: number): PlainAttrs {
  return {
    ...standard,
    'event.name': e.name,
    'event.timestamp': new Date(timeMs).toISOString(),
    'event.sequence': sequence,
    'prompt.id': e.promptId,
    ...e.attrs,
  };
}
