/** `vigil migrate VM --to HOST`: one planned live migration, within every placement rule. */
import type { Command } from 'commander';
import { runPlanned, withPlannedFlags, type PlannedFlags } from '../planned/command.js';

export function registerMigrate(program: Command): void {
  withPlannedFlags(
    program
      .command('migrate <vm>')
      .description('one planned migration (live for a running VM), refused when the target breaks a policy or lacks room')
      .requiredOption('--to <host>', 'the target host')
      .option('--cluster <name>', 'the cluster of the VM, when its name is in several'),
  ).action(async (vm: string, opts: PlannedFlags & { to: string; cluster?: string }, cmd: Command) => {
    await runPlanned(cmd, 'migrate', { kind: 'migrate', vm, to: opts.to, ...(opts.cluster ? { cluster: opts.cluster } : {}) }, opts);
  });
}
