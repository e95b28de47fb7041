import type { Command } from 'commander';
import { publicEndpoints } from '../api/connect-routes.js';
import { INGEST_TOKEN_PLACEHOLDER, type OtlpProtocol, coworkFields, envLines, managedSettings, telemetryEnv } from '../api/setup-snippets.js';
import { loadConfig } from '../config.js';
import { createToken } from '../ingest/tenancy.js';
import { withStore } from './context.js';
import { CliError, printJson } from './output.js';

interface SetupOptions {
  tenant: string;
  token?: string;
  issue?: boolean;
  protocol: string;
  endpoint?: string;
  format: string;
  json?: boolean;
}

async function tokenFor(opts: SetupOptions): Promise<string> {
  if (opts.token && opts.issue) throw new CliError('use --token or --issue, not both');
  if (opts.token) return opts.token;
  if (!opts.issue) return INGEST_TOKEN_PLACEHOLDER;
  return withStore(async (store) => {
    if (!(await store.getTenant(opts.tenant)).found) throw new CliError(`no tenant "${opts.tenant}"`);
    return (await createToken(store, opts.tenant, 'ingest')).token;
  });
}

const common = (cmd: Command) =>
  cmd
    .requiredOption('--tenant <id>', 'tenant the telemetry belongs to')
    .option('--token <token>', 'ingest token to fill in (default: a placeholder)')
    .option('--issue', 'issue a new ingest token and fill it in')
    .option('--endpoint <url>', 'OTLP endpoint as clients reach it (default: PUBLIC_GRPC_URL / PUBLIC_HTTP_URL or this host)')
    .option('--json', 'print JSON');

export function registerSetupCommands(program: Command): void {
  const setup = program.command('setup').description('print what to paste into Claude Code or Cowork');

  common(setup.command('claude-code'))
    .description('a managed-settings.json (or shell exports) for Claude Code, all three signals')
    .option('--protocol <protocol>', 'grpc or http/protobuf', 'grpc')
    .option('--format <format>', 'managed-settings or env', 'managed-settings')
    .action(async (opts: SetupOptions) => {
      if (opts.protocol !== 'grpc' && opts.protocol !== 'http/protobuf') throw new CliError('--protocol must be grpc or http/protobuf');
      if (opts.format !== 'managed-settings' && opts.format !== 'env') throw new CliError('--format must be managed-settings or env');
      const protocol = opts.protocol as OtlpProtocol;
      const endpoints = publicEndpoints(loadConfig(), null);
      const endpoint = opts.endpoint ?? (protocol === 'grpc' ? endpoints.grpc : endpoints.http);
      const token = await tokenFor(opts);
      if (opts.json) printJson({ tenant: opts.tenant, protocol, endpoint, env: telemetryEnv(protocol, endpoint, token, opts.tenant) });
      else process.stdout.write(opts.format === 'env' ? envLines(protocol, endpoint, token, opts.tenant) : managedSettings(protocol, endpoint, token, opts.tenant));
    });

  common(setup.command('cowork'))
    .description('the three fields of Cowork\'s Monitoring settings (Organization settings > Cowork)')
    .action(async (opts: SetupOptions) => {
      const endpoint = opts.endpoint ?? publicEndpoints(loadConfig(), null).http;
      const fields = coworkFields(endpoint, await tokenFor(opts));
      if (opts.json) printJson({ tenant: opts.tenant, fields: Object.fromEntries(fields.map((f) => [f.key, f.value])) });
      else process.stdout.write(fields.map((f) => `${f.label}: ${f.value}\n`).join(''));
    });
}
