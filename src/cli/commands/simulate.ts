/** `vigil simulate --fail HOST[,HOST...]`: the plan the controller would make if those hosts failed now. Changes nothing. */
import type { Command } from 'commander';
import Table from 'cli-table3';
import type { HostHealth } from '../../health/types.js';
import { planRecovery } from '../../plan/restart-plan.js';
import { healthFromManager } from '../../service/status.js';
import { didYouMean } from '../../config/problems.js';
import { readWhatIfInput } from '../clusters.js';
import { globals, printJson, println } from '../common.js';
import { CliExit, Exit, usageError } from '../exit.js';

export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description('what-if: the plan the controller would make if these hosts failed now; changes nothing')
    .requiredOption('--fail <hosts>', 'comma-separated host names')
    .option('--inventory <file>', 'an inventory file instead of the live clusters')
    .option('--policies <dir>', 'policy directory (default: the one the config names)')
    .action(async (opts: { fail: string; inventory?: string; policies?: string }, cmd: Command) => {
      const g = globals(cmd);
      const failed = opts.fail.split(',').map((h) => h.trim()).filter(Boolean);
      if (!failed.length) throw usageError('--fail needs at least one host name', 'simulate');
      const { snapshots, policies } = await readWhatIfInput(g, opts);
      const known = snapshots.flatMap((s) => s.hosts.map((h) => h.name));
      for (const h of failed) {
        if (!known.includes(h)) {
          const hint = didYouMean(h, known);
          throw new CliExit(Exit.FAILURE, `error: unknown host "${h}"${hint ? ` (did you mean "${hint}"?)` : ''}`);
        }
      }
      const actions = [];
      const unplaced = [];
      const skipped = [];
      for (const snapshot of snapshots) {
        const health = new Map<string, HostHealth>();
        for (const h of snapshot.hosts) {
          const state = failed.includes(h.name) ? 'failed' : healthFromManager(h.state);
          health.set(h.name, { host: h.name, state: state as HostHealth['state'], since: snapshot.takenAt, reason: failed.includes(h.name) ? 'what-if' : 'as the manager reports it' });
        }
        // The plan shown is the one that follows a successful fence of the failed hosts.
        const plan = planRecovery({ snapshot, health, policies, inflight: [], now: snapshot.takenAt, assumeFenced: true });
        actions.push(...plan.actions.map(({ type, vm, cluster, from, to, priority, wave, reason, after }) => ({ type, vm, cluster, from, to, priority, wave, reason, ...(after ? { after } : {}) })));
        unplaced.push(...plan.unplaced.map(({ vm, cluster, from, reason, priority }) => ({ vm, cluster, from, reason, priority })));
        skipped.push(...plan.skipped.map((s) => ({ ...s, cluster: snapshot.cluster })));
      }
      if (g.json) {
        printJson({ failed, actions, unplaced, skipped });
        return;
      }
      println(`What if ${failed.join(', ')} failed now: ${actions.length} VM(s) restart, ${unplaced.length} cannot.`);
      if (actions.length) {
        const t = new Table({ head: ['WAVE', 'VM', 'PRIORITY', 'FROM', 'TO', 'WHY THERE'], style: { head: [], border: [] }, colWidths: [6, null, null, null, null, 60], wordWrap: true });
        for (const a of actions) t.push([String(a.wave), a.vm, a.priority, a.from, a.to, a.reason.split('; ').slice(-1)[0] ?? '']);
        println(t.toString());
      }
      if (unplaced.length) {
        println('Would stay down:');
        const t = new Table({ head: ['VM', 'PRIORITY', 'FROM', 'WHY'], style: { head: [], border: [] }, colWidths: [null, null, null, 70], wordWrap: true });
        for (const u of unplaced) t.push([u.vm, u.priority, u.from, u.reason]);
        println(t.toString());
      }
      for (const s of skipped) println(`not restarted: ${s.vm} (${s.reason})`);
    });
}
