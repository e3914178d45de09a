/** `vigil freeze` / `vigil unfreeze` / `vigil fence confirm`: a person's hand on the controller. */
import type { Command } from 'commander';
import { createInterface } from 'node:readline/promises';
import { globals, loadCliConfig, printJson, println } from '../common.js';
import { changeState } from '../service-client.js';
import { CliExit, Exit, usageError } from '../exit.js';

export function registerFreeze(program: Command): void {
  program
    .command('freeze')
    .description('stop automatic actions (restarts, fencing) on one cluster or all, until unfreeze')
    .option('--cluster <name>', 'only this cluster (default: every cluster)')
    .option('--reason <text>', 'shown in status and the log', 'frozen by an operator')
    .action(async (opts: { cluster?: string; reason: string }, cmd: Command) => {
      const g = globals(cmd);
      const config = await loadCliConfig(g);
      const cluster = opts.cluster ?? '*';
      const r = await changeState(config, '/api/v1/freeze', { cluster, reason: opts.reason, by: operator() }, (at) => ({ type: 'freeze', cluster, reason: opts.reason, by: operator(), at }));
      if (g.json) printJson(r.answer ?? { frozen: cluster, via: r.via });
      else println(`frozen: ${opts.cluster ?? 'every cluster'} (${opts.reason}); 'vigil unfreeze' resumes${r.via === 'journal' ? ' (no controller is running: recorded in the journal for the next start)' : ''}`);
    });

  program
    .command('unfreeze')
    .description('resume automatic actions on a frozen cluster (or all)')
    .option('--cluster <name>', 'only this cluster (default: every frozen cluster)')
    .action(async (opts: { cluster?: string }, cmd: Command) => {
      const g = globals(cmd);
      const config = await loadCliConfig(g);
      const cluster = opts.cluster ?? '*';
      const r = await changeState(config, '/api/v1/unfreeze', { cluster, by: operator() }, (at) => ({ type: 'unfreeze', cluster, by: operator(), at }));
      const unfrozen = (r.answer as { unfrozen?: string[] } | undefined)?.unfrozen ?? [cluster];
      if (g.json) printJson(r.answer ?? { unfrozen, via: r.via });
      else println(unfrozen.length ? `unfrozen: ${unfrozen.join(', ')}${r.via === 'journal' ? ' (recorded in the journal for the next start)' : ''}` : 'nothing was frozen');
    });

  const fence = program.command('fence').description('fencing: proof that a host is off');
  fence
    .command('confirm <host>')
    .description("an operator's word that a host is powered off, which releases its VMs for restart elsewhere")
    .option('--cluster <name>', 'the cluster of the host, when the name is in several')
    .option('--yes', 'do not ask')
    .action(async (host: string, opts: { cluster?: string; yes?: boolean }, cmd: Command) => {
      const g = globals(cmd);
      const config = await loadCliConfig(g);
      if (!opts.yes) {
        if (!process.stdin.isTTY) throw usageError('confirming a fence releases VMs to run elsewhere: pass --yes when stdin is not a terminal', 'fence confirm');
        const rl = createInterface({ input: process.stdin, output: process.stderr });
        const answer = await rl.question(`Is ${host} powered off, or cut off from its storage, for certain? Its VMs will be started on other hosts. Type the host name to confirm: `);
        rl.close();
        if (answer.trim() !== host) throw new CliExit(Exit.FAILURE, 'not confirmed; nothing changed');
      }
      const cluster = opts.cluster ?? (config.clusters.length === 1 ? config.clusters[0]?.config.name : undefined);
      const r = await changeState(config, '/api/v1/fence/confirm', { host, ...(opts.cluster ? { cluster: opts.cluster } : {}), by: operator() }, (at) => {
        if (!cluster) throw usageError('no controller is running and the config has several clusters: name the host\'s cluster with --cluster', 'fence confirm');
        return { type: 'fence-confirmed', cluster, host, by: operator(), at };
      });
      if (g.json) printJson(r.answer ?? { confirmed: host, via: r.via });
      else println(`confirmed: ${host} is off; its VMs will be restarted elsewhere ${r.via === 'service' ? 'on the next reconcile' : 'once a controller runs (recorded in the journal; it is dropped if the manager sees the host)'}`);
    });
}

function operator(): string {
  return process.env.SUDO_USER ?? process.env.USER ?? process.env.LOGNAME ?? 'operator';
}
