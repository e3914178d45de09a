/** `vigil validate`: checks the config and the policies; every problem as FILE:LINE:COL. */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { checkConfig, resolveConfigPath } from '../../config/load.js';
import { formatProblem, hasErrors, type Problem } from '../../config/problems.js';
import { loadInventoryFile } from '../../inventory/load.js';
import { ProblemsError } from '../../config/problems.js';
import { checkConfigPolicies } from '../../policy/resolve.js';
import { loadPolicyDir } from '../../policy/load.js';
import { globals, printJson, println } from '../common.js';
import { Exit } from '../exit.js';

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check config and policies; each problem as FILE:LINE:COL: message; exit 1 if any')
    .option('--policies <dir>', 'policy directory to check (default: the one the config names)')
    .option('--inventory <file>', 'also check an inventory file')
    .action(async (opts: { policies?: string; inventory?: string }, cmd: Command) => {
      const g = globals(cmd);
      const problems: Problem[] = [];
      const { path, builtin } = resolveConfigPath(g.config);
      const checked = await checkConfig(path, builtin);
      problems.push(...checked.problems);
      if (opts.policies) problems.push(...loadPolicyDir(resolve(opts.policies)).problems);
      else if (checked.config) problems.push(...checkConfigPolicies(checked.config).problems);
      if (opts.inventory) {
        try {
          problems.push(...loadInventoryFile(resolve(opts.inventory), opts.inventory).warnings);
        } catch (e) {
          if (e instanceof ProblemsError) problems.push(...e.problems);
          else throw e;
        }
      }
      const errors = hasErrors(problems);
      if (g.json) printJson({ ok: !errors, problems });
      else {
        for (const p of problems) println(formatProblem(p));
        if (!problems.length) println('ok: config and policies are valid');
      }
      process.exitCode = errors ? Exit.FAILURE : Exit.OK;
    });
}
