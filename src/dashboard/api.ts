// The one place that talks to the server. Every call returns a tagged result; nothing throws.
import type {
  ConnectSetup,
  ConnectStatus,
  IssuedToken,
  PipelineRun,
  Scope,
  TenantInfo,
  TokenInfo,
  UsageSummary,
  WhoAmI,
} from './contract.js';

export type ApiErrorCode =
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'invalid_argument'
  | 'unavailable'
  | 'network'
  | 'aborted'
  | 'unknown';

export type ApiResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly status: number; readonly code: ApiErrorCode; readonly message: string };

type Method = 'GET' | 'POST' | 'DELETE';

const KNOWN_CODES = new Set<string>(['unauthenticated', 'forbidden', 'not_found', 'invalid_argument', 'unavailable']);

/**
 * Called whenever the server answers 401, with the token that was refused, so the app can return to sign-in.
 * The token tells a stale answer apart: a request sent just before the admin rotated their own token.
 */
let onUnauthenticated: (message: string, token: string) => void = () => {};

export function setUnauthenticatedHandler(handler: (message: string, token: string) => void): void {
  onUnauthenticated = handler;
}

async function call<T>(
  token: string,
  method: Method,
  path: string,
  body?: unknown,
  signal?: AbortSignal,
): Promise<ApiResult<T>> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? null : JSON.stringify(body),
      signal: signal ?? null,
      cache: 'no-store',
    });
  } catch (error) {
    if (signal?.aborted) return { ok: false, status: 0, code: 'aborted', message: 'Request cancelled.' };
    return { ok: false, status: 0, code: 'network', message: `Could not reach the server (${describe(error)}).` };
  }
  let parsed: unknown;
  try {
    parsed = await response.json();
  } catch (error) {
    if (signal?.aborted) return { ok: false, status: 0, code: 'aborted', message: 'Request cancelled.' };
    parsed = undefined;
  }
  if (response.ok && parsed !== undefined) return { ok: true, value: parsed as T };
  const failure = errorOf(response.status, parsed);
  if (failure.code === 'unauthenticated') onUnauthenticated(failure.message, token);
  return failure;
}

function errorOf(status: number, body: unknown): Extract<ApiResult<never>, { ok: false }> {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  const rawCode = typeof error?.code === 'string' ? error.code : '';
  const code: ApiErrorCode = KNOWN_CODES.has(rawCode)
    ? (rawCode as ApiErrorCode)
    : status === 401
      ? 'unauthenticated'
      : 'unknown';
  const message =
    typeof error?.message === 'string' && error.message !== ''
      ? error.message
      : `The server answered ${status}${status >= 500 ? ' (server error)' : ''}.`;
  return { ok: false, status, code, message };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export const api = {
  whoami: (token: string) => call<WhoAmI>(token, 'GET', '/api/v1/whoami'),
  tenant: (token: string) => call<TenantInfo>(token, 'GET', '/api/v1/tenant'),
  connectSetup: (token: string) => call<ConnectSetup>(token, 'GET', '/api/v1/connect/setup'),
  connectStatus: (token: string, signal?: AbortSignal) =>
    call<ConnectStatus>(token, 'GET', '/api/v1/connect/status', undefined, signal),
  listTokens: (token: string) => call<{ tokens: TokenInfo[] }>(token, 'GET', '/api/v1/tokens'),
  issueToken: (token: string, scope: Scope) => call<IssuedToken>(token, 'POST', '/api/v1/tokens', { scope }),
  revokeToken: (token: string, id: string) =>
    call<TokenInfo>(token, 'DELETE', `/api/v1/tokens/${encodeURIComponent(id)}`),
  rotateToken: (token: string, id: string) =>
    call<IssuedToken>(token, 'POST', `/api/v1/tokens/${encodeURIComponent(id)}/rotate`),
  usageSummary: (token: string, from: string, to: string, signal?: AbortSignal) =>
    call<UsageSummary>(token, 'GET', `/api/v1/usage/summary?${new URLSearchParams({ from, to }).toString()}`, undefined, signal),
  runPipeline: (token: string, from: string, to: string) =>
    call<PipelineRun>(token, 'POST', '/api/v1/pipeline/runs', { from, to }),
};
