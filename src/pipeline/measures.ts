import type { EventTotalsRow, MeasureName, MetricTotalsRow } from '../store/store.js';

/**
 * What each measure counts. Every measure belongs to one source group; per
 * session and group, metric counters win when the session sent any of the
 * group's metrics, and events are used otherwise (Cowork sends events only).
 * The two are never added together.
 */

export type SourceGroup =
  | 'sessions' | 'cost' | 'tokens' | 'lines' | 'commits' | 'pullRequests' | 'activeTime' | 'edits'
  | 'prompts' | 'apiRequests' | 'apiErrors' | 'tools';

/**
 * The tools whose tool_decision events count as edit accepts/rejects: exactly the
 * `tool_name` values claude_code.code_edit_tool.decision reports (Edit, Write,
 * NotebookEdit, per the reference and the issue), so a session counted from events
 * counts what one counted from that metric would. MultiEdit is left out: the
 * metric does not report it, so counting it from events would make the two sources
 * disagree, and the reference names no such tool.
 */
export const EDIT_TOOLS = ['Edit', 'Write', 'NotebookEdit'] as const;

interface MetricRule {
  group: SourceGroup;
  /** Measure for a point, or null when the point does not count (e.g. an unknown `type`). */
  measure: (row: MetricTotalsRow) => MeasureName | null;
}

const byAttr = (attr: 'type' | 'decision', map: Record<string, MeasureName>) => (row: MetricTotalsRow) =>
  map[row[attr] ?? ''] ?? null;

export const metricRules: Readonly<Record<string, MetricRule>> = {
  'claude_code.session.count': {
    group: 'sessions',
    // agents_view is the `claude agents` dashboard process, not a conversation.
    measure: (row) => (row.startType === 'agents_view' ? null : 'sessions'),
  },
  'claude_code.cost.usage': { group: 'cost', measure: () => 'costUsd' },
  'claude_code.token.usage': {
    group: 'tokens',
    measure: byAttr('type', { input: 'inputTokens', output: 'outputTokens', cacheRead: 'cacheReadTokens', cacheCreation: 'cacheCreationTokens' }),
  },
  'claude_code.lines_of_code.count': { group: 'lines', measure: byAttr('type', { added: 'linesAdded', removed: 'linesRemoved' }) },
  'claude_code.commit.count': { group: 'commits', measure: () => 'commits' },
  'claude_code.pull_request.count': { group: 'pullRequests', measure: () => 'pullRequests' },
  'claude_code.active_time.total': {
    group: 'activeTime',
    measure: byAttr('type', { user: 'activeTimeUserSeconds', cli: 'activeTimeCliSeconds' }),
  },
  'claude_code.code_edit_tool.decision': { group: 'edits', measure: byAttr('decision', { accept: 'editAccepts', reject: 'editRejects' }) },
};

export const metricNames: readonly string[] = Object.keys(metricRules);

/** Calls `add` for each non-zero contribution of one event totals row, with its source group. */
export function eventContributions(row: EventTotalsRow, add: (group: SourceGroup, measure: MeasureName, value: number) => void): void {
  const put = (group: SourceGroup, measure: MeasureName, value: number) => {
    if (value !== 0) add(group, measure, value);
  };
  switch (row.name) {
    case 'user_prompt':
      put('prompts', 'prompts', row.count);
      break;
    case 'api_request':
      put('apiRequests', 'apiRequests', row.count);
      put('cost', 'costUsd', row.costUsd);
      put('tokens', 'inputTokens', row.inputTokens);
      put('tokens', 'outputTokens', row.outputTokens);
      put('tokens', 'cacheReadTokens', row.cacheReadTokens);
      put('tokens', 'cacheCreationTokens', row.cacheCreationTokens);
      break;
    case 'api_error':
      put('apiErrors', 'apiErrors', row.count);
      break;
    case 'tool_result':
      put('tools', 'toolCalls', row.count);
      put('tools', 'toolFailures', row.failures);
      break;
    case 'tool_decision':
      put('edits', 'editAccepts', row.accepts);
      put('edits', 'editRejects', row.rejects);
      break;
  }
}

export const perModelMeasures: ReadonlySet<MeasureName> = new Set(['costUsd', 'inputTokens', 'outputTokens', 'cacheReadTokens', 'cacheCreationTokens']);
