/**
 * The demo's last act: the failed host is repaired and comes back, then
 * another host is evacuated for maintenance through the running
 * controller, as `vigil evacuate HOST` does when a service runs.
 */
import type { Clock } from '../../clock/clock.js';
import { isVigilError } from '../../errors.js';
import type { Lab } from '../../../providers/sim/lab.js';
import { planActions } from '../../plan/planned-work.js';
import type { Controller } from '../../service/assemble.js';
import { PlanService } from '../../service/plan-service.js';
import { println } from '../common.js';

export interface DemoEvacuation {
  readonly controller: Controller;
  readonly lab: Lab;
  readonly clock: Clock;
  /** Lab time as the demo prints it. */
  readonly t: (at: number) => string;
  /** The host that failed earlier in the demo. */
  readonly repaired: string;
}

/** True when a host was evacuated and ended in maintenance. */
export async function demoEvacuation(o: DemoEvacuation): Promise<boolean> {
  const { controller, lab, clock, t, repaired } = o;
  const cluster = controller.clusters[0];
  if (!cluster) return false;
  println('');
  println(`${t(clock.now())}  ${'lab'.padEnd(16)} host ${repaired} is repaired and powered on again (its VMs stay where they were restarted)`);
  lab.recoverHost(repaired);
  const healthy = await until(clock, 120_000, () => cluster.view().health.get(repaired)?.state === 'healthy');
  if (!healthy) return false;
  println(`${t(clock.now())}  ${'host-health'.padEnd(16)} ${repaired}: healthy again`);

  // The host to patch: the first, by name, that can be emptied now.
  const plans = new PlanService({ controller, clock, maxParallel: 4 });
  const hosts = (cluster.view().snapshot?.hosts ?? []).map((h) => h.name).filter((h) => h !== repaired).sort();
  for (const host of hosts) {
    let plan;
    try {
      [plan] = await plans.preview({ kind: 'evacuate', host });
    } catch (e) {
      if (isVigilError(e) && e.expected) continue;
      throw e;
    }
    if (!plan || plan.refused) continue;
    println(`${t(clock.now())}  ${'evacuate'.padEnd(16)} ${host} goes into maintenance for patching ('vigil evacuate ${host}'): ${plan.title}`);
    for (const a of planActions(plan)) if (a.type === 'migrate') println(`${' '.repeat(9)}${'plan'.padEnd(16)} ${a.vm} -> ${a.to}: ${a.reason.replace(/^evacuating [^;]+; /, '')}`);
    const running = await plans.start({ kind: 'evacuate', host }, plan);
    running.runner.onEvent((e) => {
      if (e.type !== 'done') println(`${t(e.at)}  ${e.type.padEnd(16)} ${e.message}`);
    });
    const result = await running.done;
    const state = (await controller.providers.get(cluster.name)?.snapshot())?.hosts.find((h) => h.name === host)?.state;
    println(`${t(clock.now())}  ${'evacuate'.padEnd(16)} ${result.succeeded} of ${result.moves.length} actions succeeded; ${host} is ${state === 'maintenance' ? "in maintenance: placement no longer uses it ('vigil evacuate --undo' brings it back)" : `NOT in maintenance (${state ?? 'unknown'})`}`);
    return state === 'maintenance' && result.failed === 0;
  }
  println(`${t(clock.now())}  ${'evacuate'.padEnd(16)} no host can be emptied now`);
  return false;
}

async function until(clock: Clock, withinMs: number, ok: () => boolean): Promise<boolean> {
  const deadline = clock.now() + withinMs;
  while (clock.now() < deadline) {
    if (ok()) return true;
    await clock.sleep(1_000);
  }
  return ok();
}
