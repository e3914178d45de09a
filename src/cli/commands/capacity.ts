/** `vigil capacity`: per cluster, how many host failures it tolerates under its policies, and what is short. */
import type { Command } from 'commander';
import type { HostHealth } from '../../health/types.js';
import { capacityReport, describeCapacity } from '../../plan/capacity.js';
import { healthFromManager } from '../../service/status.js';
import { readWhatIfInput } from '../clusters.js';
import { globals, printJson, println } from '../common.js';
import { Exit } from '../exit.js';

export function registerCapacity(program: Command): void {
  program
    .command('capacity')
    .description('per cluster: how many host failures it tolerates under its policies, and what is short')
    .option('--inventory <file>', 'an inventory file instead of the live clusters')
    .option('--policies <dir>', 'policy directory (default: the one the config names)')
    .action(async (opts: { inventory?: string; policies?: string }, cmd: Command) => {
      const g = globals(cmd);
      const { snapshots, policies } = await readWhatIfInput(g, opts);
      const reports = snapshots.map((snapshot) => {
        const health = new Map<string, HostHealth>(snapshot.hosts.map((h) => [h.name, { host: h.name, state: healthFromManager(h.state) as HostHealth['state'], since: 0, reason: '' }]));
        return capacityReport(snapshot, health, policies);
      });
      if (g.json) printJson({ clusters: reports });
      else for (const r of reports) println(`${r.cluster}: ${describeCapacity(r)}${r.ok ? '' : '  << BELOW POLICY'}`);
      process.exitCode = reports.every((r) => r.ok) ? Exit.OK : Exit.FAILURE;
    });
}
