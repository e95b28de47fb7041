#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config.js';
import { CliError } from './output.js';
import { registerPipelineCommands } from './pipeline-commands.js';
import { registerServeCommand } from './serve-command.js';
import { registerSetupCommands } from './setup-commands.js';
import { registerTenantCommands } from './tenant-commands.js';
import { registerTokenCommands } from './token-commands.js';

const program = new Command('ai-usage')
  .description('ai-usage-receiver: OTLP receiver and usage pipeline for Claude Code and Claude Cowork')
  .showHelpAfterError()
  .exitOverride();

registerServeCommand(program);
registerTenantCommands(program);
registerTokenCommands(program);
registerPipelineCommands(program);
registerSetupCommands(program);

program.parseAsync(process.argv).then(
  () => {
    if (program.args[0] !== 'serve') process.exit(0);
  },
  (e: unknown) => {
    if (e instanceof CommanderError) process.exit(e.exitCode);
    const message = e instanceof CliError || e instanceof ConfigError ? e.message : e instanceof Error ? e.message : String(e);
    process.stderr.write(`error: ${message}\n`);
    process.exit(e instanceof CliError ? e.exitCode : 1);
  },
);
