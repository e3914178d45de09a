/**
 * The service's own rebalancing, for the clusters whose ClusterPolicy says
 * `rebalance: {auto: true}` (src/policy/rebalance-rules.ts). Rate-limited:
 * a cluster is looked at no more than once per `interval`, and a plan moves
 * at most `maxMoves` VMs. It acts only when it is plainly safe: this
 * replica leads the cluster, which enforces, is not frozen, has every host
 * healthy or in maintenance (a failed, suspect or recovering host may need
 * the room for restarts soon), and has nothing else in flight. The moves go
 * through the controller's own executor and journal (submitActions), tagged
 * `auto-rebalance-N`.
 */
import type { Clock, TimerHandle } from '../clock/clock.js';
import type { DecisionKind } from '../decisions.js';
import { planActions } from '../plan/planned-work.js';
import { planRebalance } from '../plan/rebalance.js';
import { rebalanceRules } from '../policy/rebalance-rules.js';
import type { Controller } from './assemble.js';
import type { ClusterController } from './cluster-controller.js';

export interface AutoRebalanceOptions {
  readonly controller: Controller;
  readonly clock: Clock;
  /** How often clusters are looked at; each is still rebalanced at most once per its interval. */
  readonly checkEveryMs?: number;
}

export class AutoRebalancer {
  private readonly lastLook = new Map<string, number>();
  private readonly running = new Map<string, Promise<unknown>>();
  private readonly said = new Map<string, string>();
  private timer?: TimerHandle;
  private seq = 0;
  private stopped = false;

  constructor(private readonly o: AutoRebalanceOptions) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Looks at every cluster once; starts a plan where one is due and safe. Returns the tags started. */
  tick(): string[] {
    const started: string[] = [];
    for (const c of this.o.controller.clusters) {
      const tag = this.consider(c);
      if (tag) started.push(tag);
    }
    return started;
  }

  /** Resolves when no automatic plan runs. */
  async idle(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running.values()]);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.o.clock.setTimeout(() => {
      this.tick();
      this.schedule();
    }, this.o.checkEveryMs ?? 30_000);
  }

  private consider(c: ClusterController): string | undefined {
    const { controller, clock } = this.o;
    const rules = rebalanceRules(controller.policies, c.name);
    if (!rules.auto) return undefined;
    const now = clock.now();
    const last = this.lastLook.get(c.name);
    if (last !== undefined && now - last < rules.intervalMs) return undefined;
    if (this.running.has(c.name)) return undefined;
    const st = c.status();
    const view = c.view();
    const hold = !c.leads()
      ? 'this replica does not lead the cluster'
      : st.mode !== 'enforce'
        ? `the cluster is in ${st.mode} mode`
        : c.frozen()
          ? 'the cluster is frozen'
          : !view.snapshot
            ? 'the cluster has not been read yet'
            : [...view.health.values()].find((h) => h.state !== 'healthy' && h.state !== 'maintenance');
    if (hold) {
      this.sayOnce(c, typeof hold === 'string' ? hold : `host ${hold.host} is ${hold.state}`);
      return undefined;
    }
    // Restarts or other planned work under way: look again at the next check, not a whole interval later.
    if (st.inflight.length) return undefined;
    this.lastLook.set(c.name, now);
    const provider = controller.providers.get(c.name);
    const plan = planRebalance(
      { snapshot: view.snapshot as NonNullable<typeof view.snapshot>, health: view.health, policies: controller.policies, inflight: st.inflight, now, ...(provider ? { capabilities: provider.capabilities } : {}) },
      { threshold: rules.threshold, maxMoves: rules.maxMoves },
    );
    const moves = planActions(plan);
    this.said.delete(c.name);
    if (!moves.length) return undefined;
    const tag = `auto-rebalance-${++this.seq}`;
    this.decide(c, 'info', `automatic rebalance ${tag}: ${plan.title}`, { plan: tag });
    const done = c.submitActions(moves, tag).then((outcomes) => {
      const ok = outcomes.filter((o) => o.ok).length;
      this.decide(c, ok === outcomes.length ? 'info' : 'alert', `automatic rebalance ${tag} ended: ${ok} of ${outcomes.length} migration(s) succeeded`, { plan: tag });
    });
    this.running.set(
      c.name,
      done.finally(() => this.running.delete(c.name)),
    );
    return tag;
  }

  /** A hold is said once until it changes, not on every check. */
  private sayOnce(c: ClusterController, why: string): void {
    if (this.said.get(c.name) === why) return;
    this.said.set(c.name, why);
    this.decide(c, 'info', `automatic rebalance held: ${why}`);
  }

  private decide(c: ClusterController, kind: DecisionKind, message: string, data?: Record<string, unknown>): void {
    this.o.controller.decisions.record({ at: this.o.clock.now(), cluster: c.name, kind, subject: c.name, message, ...(data ? { data } : {}) });
  }
}
