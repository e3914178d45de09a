/** What every command shares: global options, config loading, output. */
import type { Command } from 'commander';
import { loadConfig, resolveConfigPath, type VigilConfig } from '../config/load.js';
import { formatProblem, ProblemsError } from '../config/problems.js';
import { createLogger, type Logger } from '../log.js';
import { isVigilError } from '../errors.js';
import { CliExit, Exit } from './exit.js';

export interface GlobalOptions {
  readonly config?: string;
  readonly json?: boolean;
  readonly logLevel?: string;
}

export function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

/** For commands that print results: logs go to stderr, quietly, so stdout stays clean. */
export function cliLogger(g: GlobalOptions, fd: 1 | 2 = 2): Logger {
  return createLogger({ fd, level: g.logLevel ?? (fd === 2 ? 'warn' : 'info') });
}

export async function loadCliConfig(g: GlobalOptions): Promise<VigilConfig> {
  const { path, builtin } = resolveConfigPath(g.config);
  try {
    return await loadConfig(path, builtin);
  } catch (e) {
    throw toCliExit(e);
  }
}

/** Turns expected errors (bad files, unknown names) into exit 1 with their message. */
export function toCliExit(e: unknown): unknown {
  if (e instanceof ProblemsError) return new CliExit(Exit.FAILURE, e.problems.map(formatProblem).join('\n'));
  if (isVigilError(e) && e.expected) return new CliExit(Exit.FAILURE, `error: ${e.message}`);
  return e;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function println(line = ''): void {
  process.stdout.write(`${line}\n`);
}
