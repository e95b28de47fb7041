import type { Command } from 'commander';
import { createToken, rotateToken, tokenView } from '../ingest/tenancy.js';
import { type TokenScope, tokenScopes } from '../store/store.js';
import { withStore } from './context.js';
import { CliError, printJson, printTable } from './output.js';

function parseScope(scope: string): TokenScope {
  if (!(tokenScopes as readonly string[]).includes(scope)) {
    throw new CliError(`invalid scope "${scope}": use ${tokenScopes.join(', ')}`);
  }
  return scope as TokenScope;
}

export function registerTokenCommands(program: Command): void {
  const tokens = program.command('tokens').description('manage tokens (shown once at creation, stored hashed)');

  tokens
    .command('create')
    .description('issue a token')
    .requiredOption('--tenant <id>', 'tenant the token belongs to')
    .requiredOption('--scope <scope>', 'ingest, read or admin')
    .option('--json', 'print JSON')
    .action(async (opts: { tenant: string; scope: string; json?: boolean }) => {
      const scope = parseScope(opts.scope);
      const created = await withStore(async (store) => {
        if (!(await store.getTenant(opts.tenant)).found) throw new CliError(`no tenant "${opts.tenant}"`);
        return createToken(store, opts.tenant, scope);
      });
      if (opts.json) printJson(created);
      else process.stdout.write(`${created.token}\n(id ${created.id}, tenant ${created.tenant}, scope ${created.scope}; shown once)\n`);
    });

  tokens
    .command('list')
    .description('list a tenant\'s tokens')
    .requiredOption('--tenant <id>', 'tenant')
    .option('--json', 'print JSON')
    .action(async (opts: { tenant: string; json?: boolean }) => {
      const list = await withStore(async (store) => {
        if (!(await store.getTenant(opts.tenant)).found) throw new CliError(`no tenant "${opts.tenant}"`);
        return (await store.listTokens(opts.tenant)).map(tokenView);
      });
      if (opts.json) printJson({ tokens: list });
      else printTable(list, ['id', 'scope', 'prefix', 'createdAt', 'lastUsedAt', 'revokedAt']);
    });

  tokens
    .command('revoke <tokenId>')
    .description('revoke a token (takes effect within TOKEN_CACHE_TTL_MS)')
    .option('--json', 'print JSON')
    .action(async (tokenId: string, opts: { json?: boolean }) => {
      const revoked = await withStore((store) => store.revokeToken(tokenId, new Date()));
      if (!revoked.found) throw new CliError(`no token ${tokenId}`);
      if (opts.json) printJson(tokenView(revoked.value));
      else process.stdout.write(`revoked ${tokenId}\n`);
    });

  tokens
    .command('rotate <tokenId>')
    .description('issue a replacement with the same tenant and scope, and revoke the old token')
    .option('--json', 'print JSON')
    .action(async (tokenId: string, opts: { json?: boolean }) => {
      const created = await withStore(async (store) => {
        const old = await store.getToken(tokenId);
        if (!old.found) throw new CliError(`no token ${tokenId}`);
        if (old.value.revokedAt !== null) throw new CliError(`token ${tokenId} is revoked and cannot be rotated`);
        return rotateToken(store, old.value);
      });
      if (!created) throw new CliError(`no token ${tokenId}`);
      if (opts.json) printJson({ ...created, replaces: tokenId });
      else process.stdout.write(`${created.token}\n(id ${created.id} replaces ${tokenId}; shown once)\n`);
    });
}
