// Headline figures over the whole range.
import { esc } from '../dom.js';
import { formatCompact, formatFixed1, formatInteger, formatUsd } from '../format.js';
import { acceptanceRate, type SeatUsage } from './aggregate.js';

export function kpisHtml(usage: SeatUsage): string {
  const t = usage.totals;
  const rate = acceptanceRate(t.editAccepts, t.editRejects);
  const tokens = t.inputTokens + t.outputTokens + t.cacheReadTokens + t.cacheCreationTokens;
  const tiles: [id: string, label: string, value: string][] = [
    // Past $10,000 the exact figure no longer fits a tile: it goes compact there, exact in the tooltip and the charts.
    ['cost', 'Cost', t.costUsd >= 10_000 ? `$${formatCompact(t.costUsd)}` : formatUsd(t.costUsd)],
    ['seats', 'Active seats', formatInteger(usage.seats.length)],
    ['sessions', 'Sessions', formatInteger(t.sessions)],
    ['tokens', 'Tokens', formatCompact(tokens)],
    ['lines-added', 'Lines added', formatInteger(t.linesAdded)],
    ['commits', 'Commits', formatInteger(t.commits)],
    ['prs', 'Pull requests', formatInteger(t.pullRequests)],
    ['acceptance', 'Edit acceptance', rate === null ? '—' : `${formatFixed1(rate * 100)}%`],
  ];
  return `<dl class="kpis" data-testid="usage-kpis">${tiles
    .map(
      ([id, label, value]) =>
        `<div class="kpi"><dt>${esc(label)}</dt><dd data-testid="kpi-${id}"${id === 'cost' ? ` title="${esc(formatUsd(t.costUsd))}"` : ''}>${esc(value)}</dd></div>`,
    )
    .join('')}</dl>`;
}
