/**
 * `vigil validate`: checks the config and the policies, and with
 * --inventory also that the clusters, VMs, labels, hosts and groups the
 * policies name exist. Every problem as FILE:LINE:COL; exit 1 on errors.
 */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { checkConfig, resolveConfigPath } from '../../config/load.js';
import { formatProblem, hasErrors, ProblemsError, type Problem } from '../../config/problems.js';
import { loadInventoryFile, snapshotFromInventory } from '../../inventory/load.js';
import type { ClusterSnapshot } from '../../model/inventory.js';
import { crossCheckPolicies } from '../../policy/crosscheck.js';
import { loadPolicyDir, type PolicyLoadResult } from '../../policy/load.js';
import { checkConfigPolicies } from '../../policy/resolve.js';
import { globals, printJson, println } from '../common.js';
import { Exit } from '../exit.js';

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check config and policies; each problem as FILE:LINE:COL: message; exit 1 if any error')
    .option('--policies <dir>', 'policy directory to check (default: the one the config names)')
    .option('--inventory <file>', 'also check the inventory, and that what the policies name exists in it')
    .action(async (opts: { policies?: string; inventory?: string }, cmd: Command) => {
      const g = globals(cmd);
      const problems: Problem[] = [];
      const { path, builtin } = resolveConfigPath(g.config);
      const checked = await checkConfig(path, builtin);
      problems.push(...checked.problems);
      let policies: PolicyLoadResult | undefined;
      if (opts.policies) policies = loadPolicyDir(resolve(opts.policies));
      else if (checked.config) policies = checkConfigPolicies(checked.config);
      if (policies) problems.push(...policies.problems);
      let snapshots: ClusterSnapshot[] | undefined;
      if (opts.inventory) {
        try {
          const loaded = loadInventoryFile(resolve(opts.inventory), opts.inventory);
          problems.push(...loaded.warnings);
          snapshots = loaded.inventory.clusters.map((c) => snapshotFromInventory(c, 'inventory', 0));
        } catch (e) {
          if (e instanceof ProblemsError) problems.push(...e.problems);
          else throw e;
        }
      }
      if (policies?.policies) {
        problems.push(
          ...crossCheckPolicies({
            sources: policies.sources,
            policies: policies.policies,
            // Without an inventory the config's clusters are what policies may name.
            ...(snapshots ? { snapshots } : { clusterNames: checked.config?.clusters.map((c) => c.config.name) ?? [] }),
          }),
        );
      }
      const errors = hasErrors(problems);
      if (g.json) printJson({ ok: !errors, problems });
      else {
        for (const p of problems) println(formatProblem(p));
        if (!errors) println(problems.length ? `ok: no errors, ${problems.length} warning(s)` : 'ok: config and policies are valid');
      }
      process.exitCode = errors ? Exit.FAILURE : Exit.OK;
    });
}
