/**
 * Runs the real Claude Code CLI (@anthropic-ai/claude-code 2.1.330, node_modules/.bin/claude) as a telemetry
 * source: offline against the fake Messages API (scripts/fake-anthropic.ts), exporting OTLP to a local endpoint.
 * A default 3-turn session (Write hello.py, Bash git commit, final text) takes about 1 s of wall time.
 *
 * Environment, as found by running 2.1.330:
 * - Nothing needs seeding: with -p there is no onboarding or trust dialog; a temp HOME keeps ~/.claude* out of /root.
 * - The env is built from scratch (not inherited) so no OTEL_* / ANTHROPIC_* / CLAUDE_* of the test process leaks in.
 * - Without CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 it tries api.anthropic.com (bootstrap, fast-mode status,
 *   MCP registry, first-party event logging -> ~/.claude/telemetry/1p_failed_events.*) and HEADs
 *   $ANTHROPIC_BASE_URL/api/hello. With it, none of that happens and OTel export is unaffected; DISABLE_TELEMETRY=1
 *   and DISABLE_ERROR_REPORTING=1 do not disable OTel export either.
 * - The only API calls in a default run are 3 streamed `POST /v1/messages?beta=true`, model `claude-opus-5-5`
 *   (no count_tokens, no model listing, no title/summary side requests in -p mode). Each carries the header
 *   x-claude-code-session-id = the telemetry session.id. `--model sonnet` -> claude-sonnet-5-5, `haiku` ->
 *   claude-haiku-5-5; a full id such as claude-sonnet-4-5 is sent as is (and its points carry no `effort`).
 * - A run shorter than OTEL_METRIC_EXPORT_INTERVAL exports once, at shutdown; CLAUDE_CODE_OTEL_SHUTDOWN_TIMEOUT_MS
 *   bounds that final flush (default 2000 ms, we give 10000).
 *
 * What it exports (identical content over http/json, http/protobuf and grpc):
 * - Resource: service.name=claude-code, service.version=2.1.330, host.arch, os.type, os.version, plus
 *   OTEL_RESOURCE_ATTRIBUTES keys (which are also copied onto every data point and log record).
 * - Standard attributes on every data point and event: user.id (64 hex chars, the install id), session.id (uuid),
 *   anthropic.provider=firstParty, anthropic.custom_base_url=true (bool), terminal.type=non-interactive.
 *   With an API key there is no user.email, user.account_uuid, user.account_id or organization.id.
 * - Metrics, scope com.anthropic.claude_code: every one is a monotonic Sum of asDouble points, temporality DELTA (1)
 *   by default or CUMULATIVE (2) with OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=cumulative.
 *   session.count (unit "", start_type=fresh), lines_of_code.count (type=added|removed, model; a removed=0 point is
 *   sent too), commit.count (no extra attrs), cost.usage (USD; model, query_source=main, effort=medium),
 *   token.usage (tokens; model, query_source, effort, type=input|output|cacheRead|cacheCreation),
 *   code_edit_tool.decision (decision=accept, source=config, tool_name=Write, language=Python),
 *   active_time.total (s; type=cli, recorded only at shutdown). No pull_request.count in this session.
 *   Delta: a series appears only in intervals where it changed; start = previous export (or first record).
 *   Cumulative: every export repeats every series with its running total and a fixed start time; the shutdown
 *   flush repeats the last interval's values.
 * - Events, scope com.anthropic.claude_code.events: log records with body {stringValue:"claude_code.<name>"}, no
 *   severity, no trace ids, attributes event.name=<name>, event.timestamp (ISO), event.sequence (int, per session).
 *   Order: managed_settings_resolved, plugin_loaded x4 (builtin plugins), user_prompt (prompt_length as a string,
 *   prompt and prompt_text "<REDACTED>" unless OTEL_LOG_USER_PROMPTS=1, message.uuid, prompt.id), then per API call
 *   api_request (model, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens,
 *   cache_creation_5m_tokens, cache_creation_1h_tokens, cost_usd double, cost_usd_micros, duration_ms, ttft_ms,
 *   request_id = the response's request-id header, speed=normal, query_source=sdk, effort) and assistant_response
 *   (response_length, response "<REDACTED>", model, request_id, message.uuid, query_source=sdk), and per tool
 *   tool_decision (decision=accept, source=config, tool_name, tool_use_id, tool_source=builtin, permission_mode)
 *   and tool_result (tool_name, tool_use_id, success "true", duration_ms, tool_input_size_bytes and
 *   tool_result_size_bytes as strings). All events after user_prompt carry prompt.id.
 * - Value types are mixed: duration_ms is an int on api_request but a string on tool_result; prompt_length, success
 *   and the *_size_bytes are strings; token counts are ints; cost_usd is a double. In OTLP/JSON, intValue attributes
 *   are JSON numbers while timeUnixNano/startTimeUnixNano are strings; counts are asDouble (e.g. 11, 1).
 * - HTTP exporters send Content-Length and user-agent OTel-OTLP-Exporter-JavaScript/0.208.0; gRPC metadata has
 *   user-agent "OTel-OTLP-Exporter-JavaScript/0.208.0 grpc-node-js/1.14.4" plus OTEL_EXPORTER_OTLP_HEADERS entries.
 * - With `traces: true` (CLAUDE_CODE_ENHANCED_TELEMETRY_BETA=1, OTEL_TRACES_EXPORTER=otlp), scope
 *   com.anthropic.claude_code.tracing exports claude_code.interaction, .llm_request (x3), .tool,
 *   .tool.blocked_on_user, .tool.execution (x2 each), and events from user_prompt on carry traceId/spanId, flags=1.
 * - A rejected or unreachable export (404, ECONNREFUSED, gRPC UNAVAILABLE) still exits 0 without delay; the error
 *   shows on stderr as `[3P telemetry] OTEL diag error: {...}` thanks to CLAUDE_CODE_OTEL_DIAG_STDERR=1.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLAUDE_BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../node_modules/.bin/claude');
export const FAKE_API_KEY = 'sk-ant-fake-00000000000000000000000000000000';

export interface OtlpSettings {
  protocol: 'grpc' | 'http/json' | 'http/protobuf';
  /** Base endpoint, e.g. http://127.0.0.1:4318 (the exporters append /v1/<signal> for HTTP). */
  endpoint: string;
  /** OTEL_EXPORTER_OTLP_HEADERS syntax: `key=value,key2=value2`. */
  headers?: string;
  temporality?: 'delta' | 'cumulative';
  logUserPrompts?: boolean;
  resourceAttributes?: string;
  /** Also export the beta traces. */
  traces?: boolean;
}

export interface RunClaudeCodeOptions {
  prompt: string;
  otlp: OtlpSettings;
  anthropicUrl: string;
  /** Working directory; a fresh empty temp dir (no git repo) when omitted. */
  cwd?: string;
  timeoutMs?: number;
  extraEnv?: Record<string, string>;
  /** Extra CLI arguments, e.g. ['--model', 'claude-sonnet-4-5'] or ['--debug-file', path]. */
  extraArgs?: string[];
}

export interface ClaudeCodeRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  cwd: string;
}

export function claudeCodeEnv(opts: RunClaudeCodeOptions, home: string): Record<string, string> {
  const { otlp } = opts;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: home,
    TMPDIR: tmpdir(),
    LANG: 'C.UTF-8',
    ANTHROPIC_BASE_URL: opts.anthropicUrl,
    ANTHROPIC_API_KEY: FAKE_API_KEY,
    // Skips bootstrap/MCP-registry/first-party event traffic to api.anthropic.com; OTel export is unaffected.
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_ERROR_REPORTING: '1',
    CLAUDE_CODE_ENABLE_TELEMETRY: '1',
    OTEL_METRICS_EXPORTER: 'otlp',
    OTEL_LOGS_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_PROTOCOL: otlp.protocol,
    OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint,
    OTEL_METRIC_EXPORT_INTERVAL: '1000',
    OTEL_LOGS_EXPORT_INTERVAL: '1000',
    OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: otlp.temporality ?? 'delta',
    CLAUDE_CODE_OTEL_SHUTDOWN_TIMEOUT_MS: '10000',
    CLAUDE_CODE_OTEL_DIAG_STDERR: '1',
  };
  if (existsSync('/bin/bash')) env.SHELL = '/bin/bash';
  if (otlp.headers) env.OTEL_EXPORTER_OTLP_HEADERS = otlp.headers;
  if (otlp.logUserPrompts) env.OTEL_LOG_USER_PROMPTS = '1';
  if (otlp.resourceAttributes) env.OTEL_RESOURCE_ATTRIBUTES = otlp.resourceAttributes;
  if (otlp.traces) {
    env.CLAUDE_CODE_ENHANCED_TELEMETRY_BETA = '1';
    env.OTEL_TRACES_EXPORTER = 'otlp';
    env.OTEL_TRACES_EXPORT_INTERVAL = '1000';
  }
  return { ...env, ...opts.extraEnv };
}

/** Runs one `claude -p` session to completion. Rejects on timeout; a non-zero exit is reported, not thrown. */
export async function runClaudeCode(opts: RunClaudeCodeOptions): Promise<ClaudeCodeRun> {
  const home = await mkdtemp(join(tmpdir(), 'cc-home-'));
  const cwd = opts.cwd ?? (await mkdtemp(join(tmpdir(), 'cc-work-')));
  const args = ['-p', opts.prompt, '--allowedTools', 'Write', 'Bash', ...(opts.extraArgs ?? [])];
  try {
    return await new Promise<ClaudeCodeRun>((resolvePromise, reject) => {
      // stdin is /dev/null: with -p and an open pipe, Claude Code would wait for piped input.
      const child = spawn(CLAUDE_BIN, args, { cwd, env: claudeCodeEnv(opts, home), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`claude timed out after ${opts.timeoutMs ?? 60_000} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
      }, opts.timeoutMs ?? 60_000);
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolvePromise({ exitCode: code ?? (signal ? 128 : -1), stdout, stderr, cwd });
      });
    });
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}
