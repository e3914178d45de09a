/**
 * One cluster's control loop. Level-triggered: each reconcile reads the
 * cluster afresh and decides from what it sees, whatever asked for it (the
 * poll timer, a webhook, the CLI). Reconciles of one cluster never overlap;
 * actions run in the background so detection goes on while VMs restart.
 *
 *   snapshot -> detect (pure) -> plan (pure) -> execute (journaled)
 */
import type { Clock, TimerHandle } from '../clock/clock.js';
import type { DecisionKind, DecisionLog } from '../decisions.js';
import { messageOf } from '../errors.js';
import type { FailureDetector, HostHealth } from '../health/types.js';
import type { Logger } from '../log.js';
import type { Action, Unplaced } from '../model/actions.js';
import type { ClusterSnapshot } from '../model/inventory.js';
import type { PolicySet } from '../policy/policy-set.js';
import type { Provider } from '../provider.js';
import { planRecovery, type RecoveryPlan, type RestartAttempts } from '../plan/restart-plan.js';
import { capacityReport, describeCapacity, type CapacityReport } from '../plan/capacity.js';
import { Executor, describe, type ActionOutcome } from '../execute/executor.js';
import type { Journal } from '../state/journal.js';
import { clusterStatus, type ClusterStatus } from './status.js';

export type Mode = 'enforce' | 'observe';

export interface ExecutionSettings {
  readonly maxParallel: number;
  readonly taskTimeoutMs: number;
  readonly taskPollMs: number;
  readonly retries: number;
}

export interface ClusterControllerOptions {
  readonly name: string;
  readonly provider: Provider;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly decisions: DecisionLog;
  readonly policies: () => PolicySet;
  readonly detector: FailureDetector;
  readonly journal: Journal;
  readonly mode: Mode;
  readonly pollIntervalMs: number;
  readonly execution: ExecutionSettings;
  /** How often failover capacity is recomputed (it is also recomputed when a host's health changes). */
  readonly capacityIntervalMs?: number;
}

export class ClusterController {
  readonly name: string;
  private readonly executor: Executor;
  private timer?: TimerHandle;
  private running = false;
  private inProgress?: Promise<void>;
  private again = false;
  private snapshot?: ClusterSnapshot;
  private health: ReadonlyMap<string, HostHealth> = new Map();
  private lastPollAt?: number;
  private lastError?: string;
  private unplaced = new Map<string, Unplaced>();
  private skippedSeen = new Map<string, string>();
  private observed = new Set<string>();
  private completedPolls = 0;
  private readonly attempts = new Map<string, RestartAttempts>();
  private capacity?: CapacityReport;
  private capacityAt?: number;

  constructor(private readonly o: ClusterControllerOptions) {
    this.name = o.name;
    this.executor = new Executor({
      cluster: o.name,
      provider: o.provider,
      clock: o.clock,
      journal: o.journal,
      decisions: o.decisions,
      maxParallel: o.execution.maxParallel,
      taskPollMs: o.execution.taskPollMs,
      taskTimeoutMs: o.execution.taskTimeoutMs,
      retries: o.execution.retries,
      retryBaseMs: Math.min(o.pollIntervalMs, 5_000),
      verify: (actions) => this.verify(actions),
    });
  }

  /** Polls now, then every poll interval. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /** Stops polling and starting actions; actions already started run to their end (see `idle`). */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) this.o.clock.clearTimeout(this.timer);
    this.executor.stop();
    await this.inProgress;
  }

  /** Resolves when no reconcile and no action is running. */
  async idle(): Promise<void> {
    await this.inProgress;
    await this.executor.idle();
  }

  get polls(): number {
    return this.completedPolls;
  }

  /** Asks for a reconcile as soon as possible (webhook, CLI); requests made during one collapse into one more. */
  requestReconcile(): void {
    if (!this.running) return;
    if (this.inProgress) {
      this.again = true;
      return;
    }
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.timer) this.o.clock.clearTimeout(this.timer);
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = undefined;
      void this.reconcile().finally(() => {
        if (!this.running) return;
        if (this.again) {
          this.again = false;
          this.schedule(0);
        } else this.schedule(this.o.pollIntervalMs);
      });
    }, delayMs);
  }

  /** One pass: observe, detect, plan, act. Never throws. */
  reconcile(): Promise<void> {
    if (this.inProgress) {
      this.again = true;
      return this.inProgress;
    }
    this.inProgress = this.reconcileOnce().finally(() => {
      this.inProgress = undefined;
    });
    return this.inProgress;
  }

  private async reconcileOnce(): Promise<void> {
    const { clock, provider } = this.o;
    const now = clock.now();
    let snapshot: ClusterSnapshot;
    try {
      snapshot = await provider.snapshot();
    } catch (e) {
      const message = messageOf(e);
      if (!this.lastError) this.decide('poll-failed', this.name, `cannot read the cluster: ${message}; no action on this cluster until it answers`);
      this.lastError = message;
      return;
    }
    if (this.lastError) this.decide('poll-recovered', this.name, 'the cluster answers again');
    this.lastError = undefined;
    this.snapshot = snapshot;
    this.lastPollAt = now;
    this.completedPolls += 1;

    const view = this.o.detector.observe({ now, snapshot });
    this.health = view.hosts;
    for (const t of view.transitions) {
      // The first sighting of a working host is not news.
      if (t.from === 'unknown' && (t.to === 'healthy' || t.to === 'maintenance')) continue;
      this.decide('host-health', t.host, t.from === t.to ? `still ${t.to}: ${t.reason}` : `${t.from} -> ${t.to}: ${t.reason}`, { from: t.from, to: t.to });
    }

    // A VM seen running on a healthy host needs no more attempts, whoever started it.
    for (const vm of snapshot.vms) if (vm.power === 'on' && this.health.get(vm.host)?.state === 'healthy') this.attempts.delete(vm.name);

    const policies = this.o.policies();
    const plan = planRecovery({ snapshot, health: this.health, policies, inflight: this.executor.inflight(), now, attempts: this.attempts });
    this.report(plan);
    if (plan.actions.length && this.o.mode === 'enforce') void this.executor.submit(plan.actions).then((outcomes) => this.recordAttempts(outcomes));
    if (this.capacityAt === undefined || view.transitions.length > 0 || now - this.capacityAt >= (this.o.capacityIntervalMs ?? 60_000)) this.checkCapacity(snapshot, now);
  }

  private recordAttempts(outcomes: readonly ActionOutcome[]): void {
    for (const o of outcomes) {
      if (o.action.type !== 'restart' || !o.attempted) continue;
      if (o.ok) this.attempts.delete(o.action.vm);
      else {
        const before = this.attempts.get(o.action.vm);
        this.attempts.set(o.action.vm, { count: (before?.count ?? 0) + 1, lastAt: o.finishedAt, lastTarget: o.action.to, ...(o.message ? { lastError: o.message } : {}) });
      }
    }
  }

  private checkCapacity(snapshot: ClusterSnapshot, now: number): void {
    const before = this.capacity;
    const report = capacityReport(snapshot, this.health, this.o.policies());
    this.capacity = report;
    this.capacityAt = now;
    const text = describeCapacity(report);
    if (!report.ok && (!before || before.ok || describeCapacity(before) !== text)) this.decide('alert', this.name, `failover capacity below policy: ${text}`, { tolerates: report.tolerates, required: report.required });
    else if (report.ok && before && !before.ok) this.decide('info', this.name, `failover capacity meets policy again: ${text}`);
  }

  private report(plan: RecoveryPlan): void {
    for (const a of plan.actions) {
      const data = { to: a.to, from: a.from, wave: a.wave, priority: a.priority };
      if (this.o.mode === 'enforce') {
        this.decide('restart-planned', a.vm, `${describe(a)}: ${a.reason}`, data);
        continue;
      }
      // Observe mode re-plans the same thing every poll; say it once per VM and target.
      const key = `${a.vm}->${a.to}`;
      if (this.observed.has(key)) continue;
      this.observed.add(key);
      this.decide('observe-only', a.vm, `would ${describe(a)}: ${a.reason}; observe mode takes no action`, data);
    }
    const nowUnplaced = new Map(plan.unplaced.map((u) => [u.vm, u]));
    for (const u of plan.unplaced) {
      const before = this.unplaced.get(u.vm);
      if (!before || before.reason !== u.reason) this.decide('unplaced', u.vm, `cannot restart (from ${u.from}, priority ${u.priority}): ${u.reason}`);
    }
    this.unplaced = nowUnplaced;
    for (const s of plan.skipped) {
      if (this.skippedSeen.get(s.vm) === s.reason) continue;
      this.skippedSeen.set(s.vm, s.reason);
      this.decide('skipped', s.vm, `not restarted (was on ${s.from}): ${s.reason}`);
    }
  }

  /** Before each wave: drop actions the world no longer needs. */
  private async verify(actions: readonly Action[]): Promise<{ keep: Action[]; drop: { action: Action; reason: string }[] }> {
    let snap: ClusterSnapshot;
    try {
      snap = await this.o.provider.snapshot();
    } catch (e) {
      return { keep: [], drop: actions.map((action) => ({ action, reason: `cannot re-read the cluster before acting: ${messageOf(e)}` })) };
    }
    const vms = new Map(snap.vms.map((v) => [v.name, v]));
    const hosts = new Map(snap.hosts.map((h) => [h.name, h]));
    const keep: Action[] = [];
    const drop: { action: Action; reason: string }[] = [];
    for (const a of actions) {
      if (a.type !== 'restart') {
        keep.push(a);
        continue;
      }
      const vm = vms.get(a.vm);
      const from = hosts.get(a.from);
      if (!vm) drop.push({ action: a, reason: `${a.vm} is gone from the inventory` });
      else if (vm.host !== a.from) drop.push({ action: a, reason: `${a.vm} is now on ${vm.host}` });
      else if (from && from.state !== 'notResponding') drop.push({ action: a, reason: `host ${a.from} is ${from.state} again` });
      else keep.push(a);
    }
    return { keep, drop };
  }

  status(recentLimit = 30): ClusterStatus {
    return clusterStatus({
      name: this.name,
      provider: this.o.provider.kind,
      mode: this.o.mode,
      frozen: false,
      ...(this.snapshot ? { snapshot: this.snapshot } : {}),
      health: this.health,
      ...(this.lastPollAt !== undefined ? { lastPollAt: this.lastPollAt } : {}),
      ...(this.lastError ? { lastError: this.lastError } : {}),
      inflight: this.executor.inflight(),
      unplaced: [...this.unplaced.values()],
      recent: this.o.decisions.recent(recentLimit, this.name),
      ...(this.capacity ? { capacity: this.capacity } : {}),
    });
  }

  private decide(kind: DecisionKind, subject: string, message: string, data?: Record<string, unknown>): void {
    this.o.decisions.record({ at: this.o.clock.now(), cluster: this.name, kind, subject, message, ...(data ? { data } : {}) });
  }
}

