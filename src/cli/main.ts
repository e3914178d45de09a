/**
 * `vigil`: parse the command line and dispatch. Exit codes: 0 success,
 * 1 failure or invalid input, 2 usage error, 3 partly done.
 */
import { Command, CommanderError, Option } from 'commander';
import { packageVersion } from '../paths.js';
import { CliExit, Exit } from './exit.js';
import { toCliExit } from './common.js';
import { registerRun } from './commands/run.js';
import { registerStatus } from './commands/status.js';
import { registerValidate } from './commands/validate.js';
import { registerLab } from './commands/lab.js';
import { registerDemo } from './commands/demo.js';
import { registerSimulate } from './commands/simulate.js';
import { registerCapacity } from './commands/capacity.js';
import { registerFreeze } from './commands/freeze.js';
import { registerMigrate } from './commands/migrate.js';
import { registerEvacuate } from './commands/evacuate.js';
import { registerRebalance } from './commands/rebalance.js';

export function buildProgram(): Command {
  const program = new Command('vigil')
    .description('High-availability controller for vSphere, Hyper-V and Proxmox VE clusters')
    .version(packageVersion(), '-V, --version')
    .option('--config <file>', 'configuration file (default ./vigil.yaml, else the built-in lab)')
    .option('--json', 'machine-readable output on stdout (logs go to stderr)')
    .addOption(new Option('--log-level <level>', 'log level').choices(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']))
    .showHelpAfterError("(run 'vigil --help' for usage)")
    .exitOverride()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) });
  registerRun(program);
  registerStatus(program);
  registerValidate(program);
  registerSimulate(program);
  registerCapacity(program);
  registerFreeze(program);
  registerMigrate(program);
  registerEvacuate(program);
  registerRebalance(program);
  registerDemo(program);
  registerLab(program);
  for (const c of allCommands(program)) c.exitOverride().showHelpAfterError(`(run 'vigil ${commandPath(c)} --help' for usage)`);
  return program;
}

function allCommands(c: Command): Command[] {
  return c.commands.flatMap((sub) => [sub, ...allCommands(sub)]);
}

function commandPath(c: Command): string {
  const names: string[] = [];
  for (let cur: Command | null = c; cur && cur.parent; cur = cur.parent) names.unshift(cur.name());
  return names.join(' ');
}

export async function main(argv: readonly string[] = process.argv): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
    return Number(process.exitCode ?? Exit.OK);
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return Exit.OK;
      // Commander has already printed the message and the hint.
      return Exit.USAGE;
    }
    const err = toCliExit(e);
    if (err instanceof CliExit) {
      if (err.message) process.stderr.write(`${err.message}\n`);
      return err.code;
    }
    process.stderr.write(`internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    return Exit.FAILURE;
  }
}
