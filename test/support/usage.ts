import { expect } from 'chai';
import type { RecordedRequest } from '../../scripts/fake-anthropic.js';
import type { TestService } from './service.js';

export type Totals = Record<string, number>;

export const utcDay = (offsetDays = 0): string => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);

/** Calls the usage API and sums the measures of the rows (optionally only those matching a filter). */
export async function usageTotals(
  svc: TestService, readToken: string, from: string, to: string, by: 'seat' | 'model' | 'surface' = 'seat',
  filter: (row: Record<string, unknown>) => boolean = () => true,
): Promise<{ totals: Totals; rows: Record<string, unknown>[] }> {
  const res = await fetch(`${svc.urls.api}/api/v1/usage/daily?from=${from}&to=${to}&by=${by}`, { headers: { authorization: `Bearer ${readToken}` } });
  expect(res.status, await res.clone().text()).to.equal(200);
  const body = (await res.json()) as { rows: Record<string, unknown>[] };
  const totals: Totals = {};
  const rows = body.rows.filter(filter);
  for (const row of rows) {
    for (const [k, v] of Object.entries(row)) if (typeof v === 'number') totals[k] = (totals[k] ?? 0) + v;
  }
  return { totals, rows };
}

/** Runs the pipeline through the API (admin token) for a range of days. */
export async function runPipeline(svc: TestService, adminToken: string, from: string, to: string): Promise<void> {
  const res = await fetch(`${svc.urls.api}/api/v1/pipeline/runs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ from, to }),
  });
  expect(res.status, await res.clone().text()).to.equal(200);
}

/** Token usage the fake API reported for one Claude Code session: the ground truth of what the client used. */
export function apiUsage(requests: RecordedRequest[], sessionId: string) {
  const mine = requests.filter((r) => r.sessionId === sessionId && r.usage !== undefined);
  const sum = (f: (r: RecordedRequest) => number) => mine.reduce((n, r) => n + f(r), 0);
  return {
    apiRequests: mine.length,
    inputTokens: sum((r) => r.usage?.input_tokens ?? 0),
    outputTokens: sum((r) => r.usage?.output_tokens ?? 0),
    cacheReadTokens: sum((r) => r.usage?.cache_read_input_tokens ?? 0),
    cacheCreationTokens: sum((r) => r.usage?.cache_creation_input_tokens ?? 0),
  };
}

/** Session ids the fake API saw, in order of first appearance. */
export function sessionsSeen(requests: RecordedRequest[]): string[] {
  return [...new Set(requests.map((r) => r.sessionId).filter((s): s is string => typeof s === 'string'))];
}

/** Polls until `check` passes or the time is up (Claude Code flushes telemetry at exit, the server commits before it answers). */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
