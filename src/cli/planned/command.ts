/**
 * What `migrate`, `evacuate` and `rebalance` share: show the plan, ask
 * (or refuse to act without a terminal, unless --yes), carry it out through
 * the one actor of this config, show progress, and end with a summary and
 * the exit code: 0 all done, 1 refused or nothing done, 3 partly done.
 * Ctrl-C stops starting new actions and lets the running ones finish; a
 * second Ctrl-C leaves at once (the running ones still finish on the
 * platform, and their journal records are settled by the next controller).
 */
import type { Command } from 'commander';
import { createInterface } from 'node:readline/promises';
import type { PlanResult } from '../../execute/plan-runner.js';
import { planActions, type PlannedWork } from '../../plan/planned-work.js';
import type { PlanRequest } from '../../plan/planned-request.js';
import { globals, loadCliConfig, printJson, println, toCliExit } from '../common.js';
import { CliExit, Exit, usageError } from '../exit.js';
import { connectActor, type PlannedActor, type RunHandle } from './actor.js';
import { liveProgress, plainProgress, type Progress } from './progress.js';
import { renderPlan, renderResult } from './render.js';

export interface PlannedFlags {
  readonly dryRun?: boolean;
  readonly yes?: boolean;
  readonly maxParallel?: string;
}

export function withPlannedFlags(c: Command): Command {
  return c
    .option('--dry-run', 'show the plan; change nothing')
    .option('--yes', 'carry out the plan without asking')
    .option('--max-parallel <n>', 'actions at once (default: controller.execution.maxParallel)');
}

export async function runPlanned(cmd: Command, name: string, req: PlanRequest, flags: PlannedFlags): Promise<void> {
  const g = globals(cmd);
  const config = await loadCliConfig(g);
  const maxParallel = flags.maxParallel === undefined ? config.controller.execution.maxParallel : Number(flags.maxParallel);
  if (!Number.isInteger(maxParallel) || maxParallel < 1 || maxParallel > 256) throw usageError('--max-parallel must be a whole number from 1 to 256', name);
  const actor = await connectActor(config, g);
  try {
    process.exitCode = await plannedFlow(actor, name, req, flags, maxParallel, !!g.json);
  } finally {
    await actor.close();
  }
}

async function plannedFlow(actor: PlannedActor, name: string, req: PlanRequest, flags: PlannedFlags, maxParallel: number, json: boolean): Promise<number> {
  let plans: PlannedWork[];
  try {
    plans = await actor.plan(req);
  } catch (e) {
    throw toCliExit(e);
  }
  if (!json) {
    for (const p of plans) println(`${renderPlan(p, actor.via)}\n`);
  }
  const refused = plans.find((p) => p.refused);
  if (refused) {
    if (json) printJson({ dryRun: !!flags.dryRun, plans });
    throw new CliExit(Exit.FAILURE, `error: ${refused.refused}`);
  }
  const runnable = plans.filter((p) => planActions(p).length > 0);
  if (!runnable.length || flags.dryRun) {
    if (json) printJson({ dryRun: !!flags.dryRun, plans });
    else println(runnable.length ? 'Dry run: nothing changed.' : 'Nothing to do.');
    return Exit.OK;
  }
  const count = runnable.reduce((s, p) => s + planActions(p).length, 0);
  if (!flags.yes) {
    if (!process.stdin.isTTY) throw usageError('stdin is not a terminal, so there is no one to ask: pass --yes to carry out the plan, or --dry-run to only show it', name);
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    // Ctrl-C at the question is a no.
    const asking = new AbortController();
    rl.once('SIGINT', () => asking.abort());
    const answer = await rl.question(`Carry out ${count} action(s) on ${runnable.map((p) => p.cluster).join(', ')}? [y/N] `, { signal: asking.signal }).catch(() => '');
    rl.close();
    if (!/^y(es)?$/i.test(answer.trim())) throw new CliExit(Exit.FAILURE, 'cancelled; nothing changed');
  }

  const results: PlanResult[] = [];
  let handle: RunHandle | undefined;
  let interrupts = 0;
  const write = (line: string) => (json ? process.stderr : process.stdout).write(`${line}\n`);
  const onSigint = (): void => {
    interrupts += 1;
    if (interrupts === 1) {
      write('Stopping: no new action starts; waiting for the running ones to finish (Ctrl-C again to leave now).');
      void handle?.stop().catch((e: unknown) => write(`could not stop the plan: ${(e as Error).message}`));
      return;
    }
    write('Leaving now: actions already started run on to their end on the platform.');
    process.exit(Exit.PARTIAL);
  };
  process.on('SIGINT', onSigint);
  try {
    for (const plan of runnable) {
      if (interrupts) break;
      const progress: Progress = !json && process.stdout.isTTY ? liveProgress(process.stdout, plan) : plainProgress(write);
      try {
        handle = await actor.run(req, plan, maxParallel, (e) => progress.event(e));
        if (interrupts) await handle.stop();
        results.push(await handle.done);
      } catch (e) {
        throw toCliExit(e);
      } finally {
        progress.close();
      }
    }
  } finally {
    process.off('SIGINT', onSigint);
  }

  if (json) printJson({ dryRun: false, plans, results });
  else for (const r of results) println(`\n${renderResult(r)}`);
  const succeeded = results.reduce((s, r) => s + r.succeeded, 0);
  const unfinished = results.reduce((s, r) => s + r.failed + r.notStarted, 0) + (count - results.reduce((s, r) => s + r.moves.length, 0));
  if (!unfinished) return Exit.OK;
  return succeeded ? Exit.PARTIAL : Exit.FAILURE;
}
