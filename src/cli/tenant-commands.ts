import type { Command } from 'commander';
import { createTenant, setPolicy, tenantView } from '../ingest/tenancy.js';
import { StoreConflictError } from '../store/store.js';
import { withStore } from './context.js';
import { CliError, printJson, printTable } from './output.js';

export function registerTenantCommands(program: Command): void {
  const tenants = program.command('tenants').description('manage tenants');

  tenants
    .command('create <id>')
    .description('create a tenant')
    .option('--name <name>', 'display name')
    .option('--timezone <tz>', 'IANA time zone where the tenant\'s days begin', 'UTC')
    .option('--retention-days <days>', 'days of raw data to keep')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { name?: string; timezone: string; retentionDays?: string; json?: boolean }) => {
      const retention = opts.retentionDays === undefined ? undefined : Number(opts.retentionDays);
      if (retention !== undefined && (!Number.isInteger(retention) || retention < 1)) {
        throw new CliError('--retention-days must be a positive integer');
      }
      const tenant = await withStore(async (store, config) => {
        try {
          return await createTenant(store, {
            id, timezone: opts.timezone,
            ...(opts.name ? { name: opts.name } : {}),
            ...(retention !== undefined ? { retentionDays: retention } : {}),
          }, config.RETENTION_DAYS);
        } catch (e) {
          if (e instanceof StoreConflictError) throw new CliError(`tenant "${id}" already exists`);
          if (e instanceof Error && !(e.name === 'StoreUnavailableError')) throw new CliError(e.message);
          throw e;
        }
      });
      if (opts.json) printJson(tenantView(tenant));
      else process.stdout.write(`created tenant ${tenant.id} (time zone ${tenant.timezone})\n`);
    });

  tenants
    .command('set-policy <id>')
    .description('privacy policy, applied before anything is stored, and raw-data retention')
    .option('--prompts <mode>', 'user prompt text: keep, hash or drop')
    .option('--responses <mode>', 'assistant responses: keep or drop')
    .option('--tool-details <mode>', 'tool inputs, parameters and error messages: keep or drop')
    .option('--emails <mode>', 'user emails: keep or hash')
    .option('--retention-days <days>', 'days of raw data to keep (rollups are kept)')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { prompts?: string; responses?: string; toolDetails?: string; emails?: string; retentionDays?: string; json?: boolean }) => {
      const retention = opts.retentionDays === undefined ? undefined : Number(opts.retentionDays);
      const tenant = await withStore(async (store) => {
        try {
          return await setPolicy(store, id, {
            policy: { prompts: opts.prompts, responses: opts.responses, toolDetails: opts.toolDetails, emails: opts.emails },
            ...(retention !== undefined ? { retentionDays: retention } : {}),
          });
        } catch (e) {
          if (e instanceof Error && e.name === 'Error') throw new CliError(e.message);
          throw e;
        }
      });
      if (!tenant) throw new CliError(`no tenant "${id}"`);
      if (opts.json) printJson(tenantView(tenant));
      else {
        const p = tenant.policy;
        process.stdout.write(`${tenant.id}: prompts ${p.prompts}, responses ${p.responses}, tool details ${p.toolDetails}, emails ${p.emails}, retention ${tenant.retentionDays} days\n` +
          'Applies to records received from now on (within TOKEN_CACHE_TTL_MS); stored records are not rewritten.\n');
      }
    });

  tenants
    .command('list')
    .description('list tenants')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const list = (await withStore((store) => store.listTenants())).map(tenantView);
      if (opts.json) printJson({ tenants: list });
      else printTable(list, ['id', 'name', 'timezone', 'retentionDays', 'createdAt']);
    });
}
