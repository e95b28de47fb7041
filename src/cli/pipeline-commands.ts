import type { Command } from 'commander';
import { connectStatus } from '../pipeline/connect-status.js';
import { runDays } from '../pipeline/run-days.js';
import { type UsageBy, rangeProblem, usageByValues, usageCsv, usageReport } from '../pipeline/usage-report.js';
import type { Store, Tenant } from '../store/store.js';
import { withStore } from './context.js';
import { CliError, printJson, printTable } from './output.js';

async function tenantOf(store: Store, id: string): Promise<Tenant> {
  const t = await store.getTenant(id);
  if (!t.found) throw new CliError(`no tenant "${id}"`);
  return t.value;
}

function checkRange(from: string, to: string): void {
  const problem = rangeProblem(from, to);
  if (problem) throw new CliError(problem);
}

export function registerPipelineCommands(program: Command): void {
  program
    .command('pipeline')
    .description('the daily usage pipeline')
    .command('run')
    .description('recompute the rollups of a range of days now (replaces them)')
    .requiredOption('--tenant <id>', 'tenant')
    .requiredOption('--from <day>', 'first day, YYYY-MM-DD (tenant time zone)')
    .requiredOption('--to <day>', 'last day, inclusive')
    .option('--json', 'print JSON')
    .action(async (opts: { tenant: string; from: string; to: string; json?: boolean }) => {
      checkRange(opts.from, opts.to);
      const started = Date.now();
      const run = await withStore(async (store) => runDays(store, await tenantOf(store, opts.tenant), opts.from, opts.to));
      // Days past the tenant's retention are refused whole, as the API does.
      if (run.kind === 'past-retention') throw new CliError(run.message);
      const result = { tenant: opts.tenant, from: opts.from, to: opts.to, days: run.days, durationMs: Date.now() - started };
      if (opts.json) printJson(result);
      else process.stdout.write(`recomputed ${run.days} day(s) for ${opts.tenant} in ${result.durationMs} ms\n`);
    });

  program
    .command('usage')
    .description('daily usage by seat, model or surface')
    .requiredOption('--tenant <id>', 'tenant')
    .requiredOption('--from <day>', 'first day, YYYY-MM-DD')
    .requiredOption('--to <day>', 'last day, inclusive')
    .option('--by <dimension>', 'seat, model or surface', 'seat')
    .option('--format <format>', 'table, json or csv', 'table')
    .option('--json', 'print JSON (the same object as the API)')
    .action(async (opts: { tenant: string; from: string; to: string; by: string; format: string; json?: boolean }) => {
      checkRange(opts.from, opts.to);
      if (!(usageByValues as readonly string[]).includes(opts.by)) throw new CliError(`--by must be one of ${usageByValues.join(', ')}`);
      const format = opts.json ? 'json' : opts.format;
      if (!['table', 'json', 'csv'].includes(format)) throw new CliError('--format must be table, json or csv');
      const report = await withStore(async (store) => {
        await tenantOf(store, opts.tenant);
        return usageReport(store, opts.tenant, opts.from, opts.to, opts.by as UsageBy);
      });
      if (format === 'json') printJson({ tenant: report.tenant, from: report.from, to: report.to, rows: report.rows });
      else if (format === 'csv') process.stdout.write(usageCsv(report));
      else {
        const columns = report.by === 'model'
          ? ['day', 'model', 'costUsd', 'inputTokens', 'outputTokens', 'cacheReadTokens', 'cacheCreationTokens']
          : ['day', report.by, 'sessions', 'costUsd', 'inputTokens', 'outputTokens', 'linesAdded', 'commits', 'prompts', 'toolCalls'];
        printTable(report.rows, columns);
      }
    });

  program
    .command('status')
    .description('Connect status: is the tenant receiving, from how many seats and surfaces')
    .requiredOption('--tenant <id>', 'tenant')
    .option('--json', 'print JSON')
    .action(async (opts: { tenant: string; json?: boolean }) => {
      const status = await withStore(async (store) => {
        await tenantOf(store, opts.tenant);
        return connectStatus(store, opts.tenant);
      });
      if (opts.json) printJson(status);
      else {
        process.stdout.write(status.receiving ? `Receiving from ${status.seats} seat(s)\n` : 'Waiting for the first data\n');
        printTable(status.surfaces, ['surface', 'lastSeenAt']);
      }
    });
}
