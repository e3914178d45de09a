/**
 * Planned work run by the service, so that there is one actor per cluster:
 * the CLI hands its request here when a controller runs, and the actions go
 * through the controller's own executor and journal (so the controller
 * neither undoes them nor acts on the same VMs at once). Plans are made
 * from a fresh snapshot and the controller's judgement of each host; at
 * most one planned-work plan runs per cluster at a time. Plans are kept in
 * memory (the journal holds their actions) and followed by id.
 */
import type { Clock } from '../clock/clock.js';
import { ErrorCodes, VigilError } from '../errors.js';
import { PlanRunner, type MoveRecord, type PlanEvent, type PlanResult } from '../execute/plan-runner.js';
import { planChanged } from '../plan/plan-check.js';
import { planActions, type PlannedWork } from '../plan/planned-work.js';
import { planRequest, type ClusterView, type PlanRequest } from '../plan/planned-request.js';
import type { Controller } from './assemble.js';

export interface PlanServiceOptions {
  readonly controller: Controller;
  readonly clock: Clock;
  /** Actions of one plan at once when the request names no limit (the controller's own limit applies too). */
  readonly maxParallel?: number;
  /** Finished plans kept for following. */
  readonly keep?: number;
}

export interface PlanStatus {
  readonly id: string;
  readonly cluster: string;
  readonly state: 'running' | 'stopping' | 'done';
  readonly createdAt: string;
  readonly plan: PlannedWork;
  readonly moves: readonly MoveRecord[];
  readonly events: readonly PlanEvent[];
  readonly result?: PlanResult;
}

export interface RunningPlan {
  readonly id: string;
  readonly plan: PlannedWork;
  readonly runner: PlanRunner;
  readonly createdAt: number;
  readonly done: Promise<PlanResult>;
}

export class PlanService {
  private readonly plans = new Map<string, RunningPlan>();
  private seq = 0;

  constructor(private readonly o: PlanServiceOptions) {}

  /** The plans the request gives now; nothing runs. */
  async preview(req: PlanRequest): Promise<PlannedWork[]> {
    return planRequest(req, await this.views(req.cluster), this.o.controller.policies, this.o.clock.now());
  }

  /**
   * Plans afresh and starts the plan. With `agreed` (the plan a person was
   * shown), refuses when the fresh plan differs: the person must see it.
   */
  async start(req: PlanRequest, agreed?: { readonly phases: readonly (readonly unknown[])[] }, maxParallel?: number): Promise<RunningPlan> {
    const plans = await this.preview(req);
    if (plans.length !== 1) throw refused(`the request gives ${plans.length} plans; name one cluster`);
    const plan = plans[0] as PlannedWork;
    if (plan.refused) throw refused(plan.refused);
    if (agreed) {
      const changed = planChanged(agreed, plan);
      if (changed) throw refused(`${changed}; run the command again to see the new plan`);
    }
    if (!planActions(plan).length) throw refused(`${plan.title}: nothing to do`);
    const busy = [...this.plans.values()].find((e) => e.plan.cluster === plan.cluster && !e.runner.result);
    if (busy) throw refused(`plan ${busy.id} (${busy.plan.title}) is still running on cluster ${plan.cluster}; wait for it, or stop it`);
    const cluster = this.o.controller.cluster(plan.cluster);
    if (!cluster) throw new VigilError(ErrorCodes.UNKNOWN_CLUSTER, `unknown cluster "${plan.cluster}"`, { expected: true });
    const id = `plan-${this.o.clock.now().toString(36)}-${++this.seq}`;
    const runner = new PlanRunner({
      plan,
      tag: id,
      submit: (actions, tag) => cluster.submitActions(actions, tag),
      decisions: this.o.controller.decisions,
      clock: this.o.clock,
      maxParallel: maxParallel ?? this.o.maxParallel ?? 8,
    });
    const entry: RunningPlan = { id, plan, runner, createdAt: this.o.clock.now(), done: runner.run() };
    this.plans.set(id, entry);
    this.o.controller.decisions.record({ at: this.o.clock.now(), cluster: plan.cluster, kind: 'info', subject: plan.cluster, message: `planned work ${id} started: ${plan.title}`, data: { plan: id } });
    void entry.done.then((r) => {
      this.o.controller.decisions.record({ at: this.o.clock.now(), cluster: plan.cluster, kind: r.failed ? 'alert' : 'info', subject: plan.cluster, message: `planned work ${id} ended: ${r.succeeded} succeeded, ${r.failed} failed, ${r.notStarted} not started`, data: { plan: id } });
      this.prune();
    });
    return entry;
  }

  status(id: string, since = 0): PlanStatus | undefined {
    const e = this.plans.get(id);
    if (!e) return undefined;
    const result = e.runner.result;
    return {
      id,
      cluster: e.plan.cluster,
      state: result ? 'done' : e.runner.stopped ? 'stopping' : 'running',
      createdAt: new Date(e.createdAt).toISOString(),
      plan: e.plan,
      moves: e.runner.moves(),
      events: e.runner.eventsSince(since),
      ...(result ? { result } : {}),
    };
  }

  list(): { id: string; cluster: string; title: string; state: PlanStatus['state']; createdAt: string }[] {
    return [...this.plans.values()].map((e) => ({ id: e.id, cluster: e.plan.cluster, title: e.plan.title, state: e.runner.result ? 'done' : e.runner.stopped ? 'stopping' : 'running', createdAt: new Date(e.createdAt).toISOString() }));
  }

  stop(id: string): PlanStatus | undefined {
    this.plans.get(id)?.runner.stop();
    return this.status(id, Number.MAX_SAFE_INTEGER);
  }

  /** Every plan still running (the service waits for them when it stops). */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.plans.values()].map((e) => e.done));
  }

  private async views(only: string | undefined): Promise<ClusterView[]> {
    const { controller } = this.o;
    const clusters = controller.clusters.filter((c) => only === undefined || c.name === only || !controller.cluster(only));
    return Promise.all(
      clusters.map(async (c): Promise<ClusterView> => {
        const provider = controller.providers.get(c.name);
        // A fresh look, with the controller's judgement of each host made from it: the last poll may be a poll interval old, and the plan is about to act.
        if (c.polls > 0) await c.reconcile();
        const st = c.status();
        const view = c.view();
        const role = st.role;
        const base = {
          name: c.name,
          provider: st.provider,
          health: view.health,
          inflight: st.inflight,
          mode: st.mode === 'observe' ? ('observe' as const) : ('enforce' as const),
          ...(st.frozen ? { frozen: st.frozenReason ?? 'frozen' } : {}),
          ...(!c.leads() || role === 'standby' ? { standby: st.leader ?? '' } : {}),
          ...(provider ? { capabilities: provider.capabilities } : {}),
        };
        if (c.polls === 0 || !view.snapshot) return { ...base, error: 'the controller has not polled it yet; try again in a moment' };
        if (st.lastError) return { ...base, error: st.lastError };
        return { ...base, snapshot: view.snapshot };
      }),
    );
  }

  private prune(): void {
    const done = [...this.plans.values()].filter((e) => e.runner.result).sort((a, b) => a.createdAt - b.createdAt);
    for (const e of done.slice(0, Math.max(0, done.length - (this.o.keep ?? 50)))) this.plans.delete(e.id);
  }
}

function refused(message: string): VigilError {
  return new VigilError(ErrorCodes.PLAN_REFUSED, message, { expected: true });
}
