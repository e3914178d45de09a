/** `vigil evacuate HOST`: live-migrate every VM off a host, then put it into maintenance; `--undo` takes it out again. */
import type { Command } from 'commander';
import { usageError } from '../exit.js';
import { runPlanned, withPlannedFlags, type PlannedFlags } from '../planned/command.js';

export function registerEvacuate(program: Command): void {
  withPlannedFlags(
    program
      .command('evacuate <host>')
      .description('maintenance: live-migrate every running VM off the host, then put it into maintenance (--undo: out of maintenance)')
      .option('--force', 'power off the VMs that cannot move, so the host can still enter maintenance')
      .option('--undo', 'take the host out of maintenance (its VMs are not moved back)')
      .option('--cluster <name>', 'the cluster of the host, when its name is in several'),
  ).action(async (host: string, opts: PlannedFlags & { force?: boolean; undo?: boolean; cluster?: string }, cmd: Command) => {
    if (opts.undo && opts.force) throw usageError('--force and --undo do not go together', 'evacuate');
    const cluster = opts.cluster ? { cluster: opts.cluster } : {};
    await runPlanned(cmd, 'evacuate', opts.undo ? { kind: 'resume', host, ...cluster } : { kind: 'evacuate', host, ...(opts.force ? { force: true } : {}), ...cluster }, opts);
  });
}
