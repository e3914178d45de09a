/** `vigil rebalance`: even out memory and CPU use with live migrations, within every policy. */
import type { Command } from 'commander';
import { usageError } from '../exit.js';
import { runPlanned, withPlannedFlags, type PlannedFlags } from '../planned/command.js';

export function registerRebalance(program: Command): void {
  withPlannedFlags(
    program
      .command('rebalance')
      .description('even out memory and CPU use across hosts with live migrations, within policy (nothing moves below the threshold)')
      .option('--cluster <name>', 'only this cluster (default: every cluster)')
      .option('--threshold <points>', "spread of host load (standard deviation of each host's larger of memory and CPU use, in percentage points) above which anything moves (default: the ClusterPolicy's rebalance.threshold, else 10)")
      .option('--max-moves <n>', "migrations at most (default: the ClusterPolicy's rebalance.maxMoves, else 10)"),
  ).action(async (opts: PlannedFlags & { cluster?: string; threshold?: string; maxMoves?: string }, cmd: Command) => {
    const threshold = opts.threshold === undefined ? undefined : Number(opts.threshold);
    if (threshold !== undefined && !(threshold >= 0 && threshold <= 100)) throw usageError('--threshold must be a number of percentage points from 0 to 100', 'rebalance');
    const maxMoves = opts.maxMoves === undefined ? undefined : Number(opts.maxMoves);
    if (maxMoves !== undefined && !(Number.isInteger(maxMoves) && maxMoves >= 1 && maxMoves <= 1000)) throw usageError('--max-moves must be a whole number from 1 to 1000', 'rebalance');
    await runPlanned(cmd, 'rebalance', { kind: 'rebalance', ...(opts.cluster ? { cluster: opts.cluster } : {}), ...(threshold !== undefined ? { threshold } : {}), ...(maxMoves !== undefined ? { maxMoves } : {}) }, opts);
  });
}
