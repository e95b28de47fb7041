import type { Rng } from './rng.js';
import { EDIT_TOOL_NAMES, type PlainAttrs, type SimEvent } from './session-sim.js';

/**
 * The eight claude_code.* counters a session exports as delta sums, one export per
 * interval (OTEL_METRIC_EXPORT_INTERVAL, 60 s by default), derived from the session's
 * events so metric and event totals agree. Only attribute sets that moved in an
 * interval are exported, as the OTel JS SDK does with delta temporality.
 */

export const METRIC_INFO: Readonly<Record<string, { description: string; unit: string }>> = {
  'claude_code.session.count': { description: 'Count of CLI sessions started', unit: '' },
  'claude_code.cost.usage': { description: 'Cost of the Claude Code session', unit: 'USD' },
  'claude_code.token.usage': { description: 'Number of tokens used', unit: 'tokens' },
  'claude_code.lines_of_code.count': { description: "Count of lines of code modified, with the 'type' attribute indicating whether lines were added or removed", unit: '' },
  'claude_code.commit.count': { description: 'Number of git commits created', unit: '' },
  'claude_code.pull_request.count': { description: 'Number of pull requests created', unit: '' },
  'claude_code.code_edit_tool.decision': { description: 'Count of code editing tool permission decisions', unit: '' },
  'claude_code.active_time.total': { description: 'Total active time in seconds', unit: 's' },
};

export interface SimPoint {
  metric: string;
  /** Milliseconds from the session start. */
  startOffsetMs: number;
  offsetMs: number;
  value: number;
  attrs: PlainAttrs;
}

export interface SessionPoints {
  points: SimPoint[];
  /** Export intervals, in order, each with its points (for per-export requests). */
  exports: SimPoint[][];
}

/** `lastOffsetMs` bounds the final export time (e.g. the end of the day). */
export function sessionPoints(rng: Rng, events: readonly SimEvent[], intervalMs: number, lastOffsetMs: number): SessionPoints {
  const buckets = new Map<number, Map<string, SimPoint>>();
  const add = (offsetMs: number, metric: string, attrs: PlainAttrs, value: number) => {
    if (value === 0) return;
    const k = Math.floor(offsetMs / intervalMs);
    let b = buckets.get(k);
    if (!b) buckets.set(k, (b = new Map()));
    const key = `${metric}|${JSON.stringify(attrs)}`;
    const p = b.get(key);
    if (p) p.value += value;
    else {
      const start = k * intervalMs;
      b.set(key, { metric, startOffsetMs: start, offsetMs: Math.min(start + intervalMs, lastOffsetMs), value, attrs });
    }
  };
  let model = 'claude-opus-5-5';
  const first = events[0];
  if (first) add(first.offsetMs, 'claude_code.session.count', { start_type: 'fresh' }, 1);
  for (const e of events) {
    const a = e.attrs;
    if (e.name === 'api_request') {
      model = String(a['model']);
      const split = { model, query_source: 'main', effort: 'medium' };
      add(e.offsetMs, 'claude_code.cost.usage', split, Number(a['cost_usd']));
      add(e.offsetMs, 'claude_code.token.usage', { ...split, type: 'input' }, Number(a['input_tokens']));
      add(e.offsetMs, 'claude_code.token.usage', { ...split, type: 'output' }, Number(a['output_tokens']));
      add(e.offsetMs, 'claude_code.token.usage', { ...split, type: 'cacheRead' }, Number(a['cache_read_tokens']));
      add(e.offsetMs, 'claude_code.token.usage', { ...split, type: 'cacheCreation' }, Number(a['cache_creation_tokens']));
      add(e.offsetMs, 'claude_code.active_time.total', { type: 'cli' }, Math.round(Number(a['duration_ms']) / 100) / 10);
    } else if (e.name === 'user_prompt') {
      add(e.offsetMs, 'claude_code.active_time.total', { type: 'user' }, rng.int(5, 120) / 10);
    } else if (e.name === 'tool_decision' && EDIT_TOOL_NAMES.has(String(a['tool_name']))) {
      add(e.offsetMs, 'claude_code.code_edit_tool.decision',
        { tool_name: String(a['tool_name']), decision: String(a['decision']), source: String(a['source']), language: 'TypeScript' }, 1);
    } else if (e.name === 'tool_result' && a['success'] === 'true') {
      if (EDIT_TOOL_NAMES.has(String(a['tool_name']))) {
        add(e.offsetMs, 'claude_code.lines_of_code.count', { type: 'added', model }, rng.int(1, 80));
        add(e.offsetMs, 'claude_code.lines_of_code.count', { type: 'removed', model }, rng.int(0, 40));
      } else if (a['tool_name'] === 'Bash') {
        if (rng.chance(0.03)) add(e.offsetMs, 'claude_code.commit.count', {}, 1);
        if (rng.chance(0.005)) add(e.offsetMs, 'claude_code.pull_request.count', {}, 1);
      }
    }
  }
  const exports = [...buckets.keys()].sort((x, y) => x - y).map((k) => [...(buckets.get(k) as Map<string, SimPoint>).values()]);
  return { points: exports.flat(), exports };
}
