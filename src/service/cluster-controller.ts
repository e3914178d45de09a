/**
 * One cluster's control loop. Level-triggered: each reconcile reads the
 * cluster afresh and decides from what it sees, whatever asked for it (the
 * poll timer, an alarm hint, the CLI). Reconciles of one cluster never
 * overlap; actions and fencing run in the background so detection goes on.
 *
 *   snapshot + probes + hints -> detect (pure) -> journal facts -> guard
 *     -> settle intents left open by a crash -> plan (pure)
 *     -> fence what must be proven off -> act (journaled) -> capacity
 *
 * Safety rules kept here: nothing acts on a frozen cluster (fencing
 * included); a VM with an open intent is never planned again until the
 * intent is settled; a failed host's VMs restart only once it is fenced,
 * unless policy says no fence is needed.
 */
import type { Clock, TimerHandle } from '../clock/clock.js';
import { formatDuration } from '../clock/duration.js';
import type { DecisionKind, DecisionLog } from '../decisions.js';
import { ErrorCodes, isVigilError, messageOf } from '../errors.js';
import type { FailureDetector, HostHealth, HostHint } from '../health/types.js';
import { MassFailureGuard, type GuardOptions } from '../health/mass-failure-guard.js';
import type { HostProber } from '../health/probe.js';
import type { Logger } from '../log.js';
import type { Action, Unplaced } from '../model/actions.js';
import type { ClusterSnapshot } from '../model/inventory.js';
import type { PolicySet } from '../policy/policy-set.js';
import type { Provider } from '../provider.js';
import { planRecovery, type AwaitingFence, type RecoveryPlan, type RestartAttempts } from '../plan/restart-plan.js';
import { capacityReport, describeCapacity, type CapacityReport } from '../plan/capacity.js';
import { planStorageResponse, type StorageResponsePlan } from '../plan/storage-response.js';
import { StorageTracker, type StorageObservation } from './storage-tracker.js';
import type { FreeLevels } from '../storage/assess.js';
import { Executor, describe, type ActionOutcome } from '../execute/executor.js';
import { Fencer } from '../fence/fencer.js';
import type { FenceAgent } from '../fence/types.js';
import { key, type Journal, type OpenIntent } from '../state/journal.js';
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
  readonly prober?: HostProber;
  readonly journal: Journal;
  readonly mode: Mode;
  readonly pollIntervalMs: number;
  /** Share of the interval each poll may move by (0 in simulated-time tests). */
  readonly pollJitter?: number;
  readonly execution: ExecutionSettings;
  readonly guard: GuardOptions;
  /** The configured fencing agents for a host. */
  readonly agentsFor?: (host: string) => readonly FenceAgent[];
  /** With an alarm hint, the second look at a host comes this soon. */
  readonly hintFollowUpMs?: number;
  /** How long an intent left open by a crashed run may take to show its effect (default max(2 polls, 15 s)). */
  readonly orphanGraceMs?: number;
  /** How often failover capacity is recomputed (it is also recomputed when a host's health changes). */
  readonly capacityIntervalMs?: number;
  /** Told how long each reconcile took, and whether the cluster answered (metrics). */
  readonly onPoll?: (ms: number, ok: boolean) => void;
  /** Datastore free-space levels where no policy sets them (the alerts section's datastoreFree). */
  readonly freeLevels?: Omit<FreeLevels, 'source'>;
  /**
   * Replicated mode (etcd): whether this replica leads the cluster now. A
   * standby observes but never writes, fences or acts; when absent, this
   * process is the only controller and always leads.
   */
  readonly leadership?: ClusterLeadership;
}

export interface ClusterLeadership {
  isLeader(): boolean;
  /** Which replica leads, for status ("standby: leader is vigil-2"). */
  describe(): { readonly role: 'leader' | 'standby' | 'unknown'; readonly leader?: string };
}

export class ClusterController {
  readonly name: string;
  private readonly executor: Executor;
  private readonly fencer: Fencer;
  private readonly guard: MassFailureGuard;
  private timer?: TimerHandle;
  private followUp?: TimerHandle;
  private running = false;
  private inProgress?: Promise<void>;
  private again = false;
  private snapshot?: ClusterSnapshot;
  private health: ReadonlyMap<string, HostHealth> = new Map();
  private lastPollAt?: number;
  private lastError?: string;
  private unplaced = new Map<string, Unplaced>();
  private awaiting = new Map<string, AwaitingFence>();
  private said = new Map<string, string>();
  private completedPolls = 0;
  private hints: HostHint[] = [];
  private capacity?: CapacityReport;
  private capacityAt?: number;
  private wasFrozen = false;
  private readonly storage: StorageTracker;
  private storageSeen?: StorageObservation;
  /** Failed storage-loss migrations per VM (restarts are counted in the journal). */
  private readonly migrationFailures = new Map<string, RestartAttempts>();
  /** What was last said about each storage condition left alone, so each is said once while it lasts. */
  private storageSaid = new Map<string, string>();
  /** VMs last reported unprotected (local storage), so each is told once. */
  private unprotectedSaid = new Set<string>();
  /** Set by crash(): this controller stands for a process that died. */
  private dead = false;

  constructor(private readonly o: ClusterControllerOptions) {
    this.name = o.name;
    this.guard = new MassFailureGuard(o.guard);
    this.storage = new StorageTracker(o.freeLevels);
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
      mayAct: () => this.leads(),
    });
    this.fencer = new Fencer({
      mayAct: () => this.leads(),
      cluster: o.name,
      clock: o.clock,
      journal: o.journal,
      decisions: o.decisions,
      provider: o.provider,
      agentsFor: o.agentsFor ?? (() => []),
      onFenced: () => this.requestReconcile(),
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
    if (this.followUp) this.o.clock.clearTimeout(this.followUp);
    this.executor.stop();
    this.fencer.stop();
    await this.inProgress;
  }

  /**
   * For crash tests in simulated time: stop every timer and never write to
   * the journal again, as a killed process would not. Work in flight is
   * abandoned where it stands.
   */
  async crash(): Promise<void> {
    this.running = false;
    if (this.timer) this.o.clock.clearTimeout(this.timer);
    if (this.followUp) this.o.clock.clearTimeout(this.followUp);
    this.dead = true;
    this.executor.abandon();
    this.fencer.abandon();
    await Promise.resolve();
  }

  /** Resolves when no reconcile, fencing run or action is running. */
  async idle(): Promise<void> {
    await this.inProgress;
    await this.fencer.idle();
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

  /**
   * Planned work (a migration, an evacuation, a rebalance) handed to this
   * controller so that it runs through the same executor and journal as
   * everything else, and the controller does not undo it. The actions are
   * re-checked before each wave like any other. `tag` names the plan in
   * every decision about its actions.
   */
  submitActions(actions: readonly Action[], tag: string): Promise<ActionOutcome[]> {
    return this.executor.submit(actions, tag);
  }

  /** The cluster as last read, with Vigil's health of each host (for planned work). */
  view(): { snapshot?: ClusterSnapshot; health: ReadonlyMap<string, HostHealth> } {
    return { ...(this.snapshot ? { snapshot: this.snapshot } : {}), health: this.health };
  }

  /**
   * An alarm about a host: look now, and look again shortly so that the
   * second confirmation does not wait a whole poll interval. A hint never
   * fails a host by itself.
   */
  addHint(hint: HostHint): void {
    this.hints = [...this.hints.filter((h) => this.o.clock.now() - h.at < 600_000), hint].slice(-200);
    this.requestReconcile();
    if (this.followUp) this.o.clock.clearTimeout(this.followUp);
    this.followUp = this.o.clock.setTimeout(() => {
      this.followUp = undefined;
      this.requestReconcile();
    }, this.o.hintFollowUpMs ?? 2_000);
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
        } else this.schedule(this.nextInterval());
      });
    }, delayMs);
  }

  /**
   * The poll interval, moved by up to pollJitter of itself. Seeded by the
   * cluster's name and the poll count, so it spreads clusters apart yet is
   * the same on every run.
   */
  private nextInterval(): number {
    const jitter = this.o.pollJitter ?? 0;
    if (!jitter) return this.o.pollIntervalMs;
    let h = 2166136261;
    for (const ch of `${this.name}#${this.completedPolls}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
    const unit = ((h >>> 0) / 4294967295) * 2 - 1;
    return Math.round(this.o.pollIntervalMs * (1 + jitter * unit));
  }

  /** One pass: observe, detect, plan, act. Never throws. */
  reconcile(): Promise<void> {
    if (this.inProgress) {
      this.again = true;
      return this.inProgress;
    }
    const started = this.o.clock.now();
    this.inProgress = this.reconcileOnce()
      .then(() => this.o.onPoll?.(this.o.clock.now() - started, this.lastError === undefined))
      .catch((e: unknown) => {
        // Replicated mode: the leadership went during this pass and the journal refused a write. Not a fault; the replica is a standby now.
        if (isVigilError(e) && e.code === ErrorCodes.NOT_LEADER && this.o.leadership && !this.o.leadership.isLeader()) {
          this.o.logger.info({ err: e.message }, 'reconcile stopped: this replica no longer leads the cluster');
          return;
        }
        this.o.logger.error({ err: e }, 'reconcile failed');
        this.decide('alert', this.name, `internal error during reconcile: ${messageOf(e)}`);
      })
      .finally(() => {
        this.inProgress = undefined;
      });
    return this.inProgress;
  }

  private async reconcileOnce(): Promise<void> {
    const { clock, provider, journal } = this.o;
    const now = clock.now();
    let snapshot: ClusterSnapshot;
    try {
      snapshot = await provider.snapshot();
    } catch (e) {
      if (this.dead) return;
      const message = messageOf(e);
      if (!this.lastError) this.decide('poll-failed', this.name, `cannot read the cluster: ${message}; no action on this cluster until it answers`);
      this.lastError = message;
      return;
    }
    if (this.dead) return;
    if (this.lastError) this.decide('poll-recovered', this.name, 'the cluster answers again');
    this.lastError = undefined;
    this.snapshot = snapshot;
    this.lastPollAt = now;
    this.completedPolls += 1;

    if (!this.leads()) {
      // A standby keeps its view of the cluster current, so that it can take over at once, and does nothing else.
      const probes = this.o.prober ? await this.o.prober.probe(snapshot.hosts) : undefined;
      this.o.detector.observe({ now, snapshot, ...(probes ? { probes } : {}), hints: this.hints });
      this.health = this.o.detector.current();
      this.storageSeen = this.storage.observe(snapshot, now, this.o.policies());
      return;
    }

    // Detect.
    const probes = this.o.prober ? await this.o.prober.probe(snapshot.hosts) : undefined;
    if (this.dead) return;
    const view = this.o.detector.observe({ now, snapshot, ...(probes ? { probes } : {}), hints: this.hints });
    const transitions = [...view.transitions];
    for (const t of view.transitions) {
      // A host back from failure: earlier proofs no longer apply, and its fence failures are moot.
      if ((t.from === 'failed' || t.from === 'fenced') && (t.to === 'recovering' || t.to === 'healthy' || t.to === 'suspect')) {
        const k = key(this.name, t.host);
        if (journal.state().fenced.has(k) || journal.state().confirmed.has(k)) await journal.append({ type: 'host-back', cluster: this.name, host: t.host, at: now });
        this.fencer.forget(t.host);
      }
    }
    // Proofs from the journal: a BMC's (kept across restarts) or an operator's.
    const state = journal.state();
    for (const h of snapshot.hosts) {
      const k = key(this.name, h.name);
      const proof = state.fenced.get(k) ?? state.confirmed.get(k);
      if (!proof) continue;
      if (h.state !== 'notResponding') {
        // The manager sees it: a confirmation that it is off cannot be right.
        await journal.append({ type: 'host-back', cluster: this.name, host: h.name, at: now });
        this.decide('alert', h.name, `a proof that ${h.name} is off was dropped: the manager reports it ${h.state}`);
        continue;
      }
      const current = this.o.detector.current().get(h.name)?.state;
      // A proof that it is off stands while the manager cannot see it: a restarted controller need not wait to re-detect it.
      if (current === 'failed' || current === 'suspect') {
        const why = proof.type === 'fenced' ? `proven off by ${proof.agent}: ${proof.evidence}` : `an operator (${proof.by}) confirmed it is off`;
        const t = this.o.detector.markFenced(h.name, now, why);
        if (t) transitions.push(t);
      }
    }
    this.health = this.o.detector.current();
    for (const t of transitions) {
      // The first sighting of a working host is not news.
      if (t.from === 'unknown' && (t.to === 'healthy' || t.to === 'maintenance')) continue;
      this.decide('host-health', t.host, t.from === t.to ? `still ${t.to}: ${t.reason}` : `${t.from} -> ${t.to}: ${t.reason}`, { from: t.from, to: t.to });
    }

    // Guard. An unfreeze first: the failures a person has just looked at must not freeze the cluster again.
    if (this.wasFrozen && !this.frozen()) {
      this.guard.acknowledge(now);
      this.decide('unfrozen', this.name, 'automation resumed');
    }
    const guard = this.guard.observe(transitions, this.health, now);
    if (guard.trip && !this.frozen()) {
      const reason = `${guard.hosts.length} hosts went down within ${formatDuration(this.o.guard.windowMs)} (${guard.hosts.join(', ')}), more than the limit of ${guard.limit}: the controller may have lost its view`;
      await journal.append({ type: 'freeze', cluster: this.name, reason, by: 'mass-failure guard', at: now });
      this.decide('frozen', this.name, `automation frozen: ${reason}. Nothing will be fenced or restarted until a person runs \`vigil unfreeze --cluster ${this.name}\``);
    }
    const frozen = this.frozen();
    this.wasFrozen = frozen;

    // Intents a previous run left open (a crash, a leader change).
    const orphans = await this.settleOrphans(snapshot, now);
    if (this.dead) return;

    // A VM seen running on a healthy host needs no more attempts, whoever started it.
    const attempts = new Map<string, RestartAttempts>();
    for (const [k, a] of journal.state().attempts) if (k.startsWith(`${this.name}/`)) attempts.set(k.slice(this.name.length + 1), a);
    for (const vm of snapshot.vms) {
      if (attempts.has(vm.name) && vm.power === 'on' && this.health.get(vm.host)?.state === 'healthy') {
        await journal.append({ type: 'attempts-reset', cluster: this.name, vm: vm.name, at: now });
        attempts.delete(vm.name);
      }
    }

    // Plan.
    const policies = this.o.policies();
    const fenceable = new Set(snapshot.hosts.filter((h) => this.fencer.canFence(h.name)).map((h) => h.name));
    const inflight = [...this.executor.inflight(), ...orphans];
    const plan = planRecovery({ snapshot, health: this.health, policies, inflight, now, attempts, fenceable, canRestartElsewhere: this.o.provider.capabilities.restartElsewhere });
    this.report(plan, frozen, fenceable);

    // Storage: what changed, then the response to a loss (pure, like the plan above).
    const seen = this.storage.observe(snapshot, now, policies);
    this.storageSeen = seen;
    for (const e of seen.events) this.decide(e.kind, e.subject, e.message, e.data);
    // A migration that failed during one loss says nothing about the next one.
    for (const vm of this.migrationFailures.keys()) if (!seen.losses.some((l) => l.runningAtLoss.includes(vm))) this.migrationFailures.delete(vm);
    const storagePlan = planStorageResponse({
      snapshot,
      health: this.health,
      policies,
      losses: seen.losses,
      inflight: [...inflight, ...plan.actions],
      now,
      offPolls: seen.offPolls,
      attempts: new Map([...attempts, ...this.migrationFailures]),
    });
    this.reportStorage(storagePlan, frozen);

    // Fence, act.
    if (this.o.mode === 'observe' && !frozen && plan.awaitingFence.length) this.observeFencing(plan, snapshot, policies, inflight, now, attempts, fenceable);
    if (frozen || this.o.mode !== 'enforce') {
      if (frozen && plan.actions.length) this.sayOnce('frozen-actions', `${plan.actions.length} planned action(s) held: the cluster is frozen`);
    } else {
      const toFence = new Set(plan.awaitingFence.map((w) => w.from).filter((h) => fenceable.has(h)));
      for (const host of toFence) {
        const h = snapshot.hosts.find((x) => x.name === host);
        this.fencer.fence({ host, ...(h?.address ? { address: h.address } : {}) });
      }
      if (plan.actions.length) void this.executor.submit(plan.actions);
      if (storagePlan.actions.length) void this.executor.submit(storagePlan.actions).then((outcomes) => this.countMigrations(outcomes));
    }
    if (this.capacityAt === undefined || transitions.length > 0 || now - this.capacityAt >= (this.o.capacityIntervalMs ?? 60_000)) this.checkCapacity(snapshot, now);
  }

  /**
   * Observe mode shows the whole sequence an enforcing controller would
   * follow: the fences it would run, then the restarts it would plan once
   * they succeed.
   */
  private observeFencing(plan: RecoveryPlan, snapshot: ClusterSnapshot, policies: PolicySet, inflight: readonly Action[], now: number, attempts: ReadonlyMap<string, RestartAttempts>, fenceable: ReadonlySet<string>): void {
    const hosts = [...new Set(plan.awaitingFence.map((w) => w.from))];
    for (const host of hosts) {
      const how = fenceable.has(host) ? 'through its fencing agents' : 'once an operator confirms it is off (no fencing agent is configured)';
      this.sayOnce(`would-fence:${host}`, `would fence ${host} ${how}; observe mode takes no action`, 'observe-only', host);
    }
    const asIfFenced = new Map(this.health);
    for (const host of hosts) {
      const h = asIfFenced.get(host);
      if (h) asIfFenced.set(host, { ...h, state: 'fenced' });
    }
    const after = planRecovery({ snapshot, health: asIfFenced, policies, inflight, now, attempts, fenceable, canRestartElsewhere: this.o.provider.capabilities.restartElsewhere });
    this.report({ ...after, unplaced: plan.unplaced, skipped: [], awaitingFence: plan.awaitingFence }, false, fenceable);
  }

  /** Storage-loss actions and what is deliberately left alone; each condition said once while it lasts. */
  private reportStorage(plan: StorageResponsePlan, frozen: boolean): void {
    for (const a of plan.actions) {
      const kind = a.type === 'migrate' ? 'migrate-planned' : 'restart-planned';
      const data = { from: a.from, to: a.to, cause: 'storage-loss', ...(a.type === 'restart' ? { wave: a.wave, priority: a.priority } : {}) };
      if (this.o.mode === 'enforce' && !frozen) this.decide(kind, a.vm, `${describe(a)}: ${a.reason}`, data);
      else this.sayOnce(`would:${a.vm}->${a.to}`, `would ${describe(a)}: ${a.reason}; ${frozen ? 'the cluster is frozen' : 'observe mode takes no action'}`, 'observe-only', a.vm, data);
    }
    const said = new Map<string, string>();
    for (const h of plan.held) {
      const k = `${h.datastore}\u0000${h.host ?? ''}\u0000${h.vm ?? ''}`;
      said.set(k, h.reason);
      if (this.storageSaid.get(k) === h.reason) continue;
      if (h.vm) this.decide('skipped', h.vm, `not moved (on ${h.host ?? '?'}, datastore ${h.datastore}): ${h.reason}`, { datastore: h.datastore, host: h.host, cause: 'storage-loss' });
      // A datastore lost everywhere is told by the storage tracker already, with its VMs.
      else if (h.host) this.decide('storage', h.datastore, h.reason, { datastore: h.datastore, host: h.host });
    }
    this.storageSaid = said;
  }

  /** Failed storage-loss migrations count like failed restarts: backoff, then a person. */
  private countMigrations(outcomes: readonly ActionOutcome[]): void {
    for (const o of outcomes) {
      if (o.action.type !== 'migrate' || !o.attempted) continue;
      if (o.ok) this.migrationFailures.delete(o.action.vm);
      else {
        const before = this.migrationFailures.get(o.action.vm);
        this.migrationFailures.set(o.action.vm, { count: (before?.count ?? 0) + 1, lastAt: o.finishedAt, lastTarget: o.action.to, ...(o.message ? { lastError: o.message } : {}) });
      }
    }
  }

  /** This replica may act on the cluster: the only controller, or the cluster's elected leader. */
  leads(): boolean {
    return !this.o.leadership || this.o.leadership.isLeader();
  }

  /** True when automation is frozen for this cluster (by the guard or a person, or for all clusters). */
  frozen(): boolean {
    const f = this.o.journal.state().frozen;
    return f.has(this.name) || f.has('*');
  }

  /**
   * Settles intents left open by an earlier run, from what the platform
   * shows now. Returns the actions still possibly in flight: their VMs must
   * not be planned again yet.
   */
  private async settleOrphans(snapshot: ClusterSnapshot, now: number): Promise<Action[]> {
    const { journal, provider } = this.o;
    const owned = this.executor.ownedIntents();
    const stillOpen: Action[] = [];
    const vms = new Map(snapshot.vms.map((v) => [v.name, v]));
    // A call may be accepted by the platform just as the controller died; give it time to show.
    const grace = this.o.orphanGraceMs ?? Math.max(2 * this.o.pollIntervalMs, 15_000);
    for (const [id, open] of journal.state().open) {
      if (open.intent.cluster !== this.name || owned.has(id)) continue;
      const a = open.intent.action;
      const settled = await this.settleOne(id, open, vms, now, grace, provider);
      if (settled === 'open') stillOpen.push(a);
    }
    return stillOpen;
  }

  private async settleOne(id: string, open: OpenIntent, vms: ReadonlyMap<string, ClusterSnapshot['vms'][number]>, now: number, grace: number, provider: Provider): Promise<'settled' | 'open'> {
    const { journal } = this.o;
    const a = open.intent.action;
    const close = async (ok: boolean, message: string): Promise<'settled'> => {
      if (this.dead) return 'settled';
      await journal.append({ type: 'outcome', id, cluster: this.name, ok, message, at: now });
      this.decide('journal', a.type === 'maintenance' ? a.host : a.vm, `an action left open by an earlier run (${describe(a)}): ${message}`);
      return 'settled';
    };
    if (a.type === 'restart' || a.type === 'migrate') {
      const vm = vms.get(a.vm);
      if (vm && vm.host === a.to && vm.power === 'on') return close(true, `it took effect: ${a.vm} runs on ${a.to}`);
    }
    if (open.task) {
      try {
        const st = await provider.task(open.task);
        if (st.state === 'success') return close(true, `its task ${open.task.id} succeeded`);
        if (st.state === 'error') return close(false, `its task ${open.task.id} failed: ${st.message}`);
        return 'open';
      } catch (e) {
        if (!(isVigilError(e) && e.code === 'VIGIL_E_UNKNOWN_TASK')) return 'open';
        // The platform forgot the task: fall through to the grace rule.
      }
    }
    if (now - open.intent.at < grace) return 'open';
    return close(false, `no sign it took effect ${formatDuration(now - open.intent.at)} after it was recorded`);
  }

  private report(plan: RecoveryPlan, frozen: boolean, fenceable: ReadonlySet<string> = new Set()): void {
    for (const a of plan.actions) {
      const data = { to: a.to, from: a.from, wave: a.wave, priority: a.priority };
      if (this.o.mode === 'enforce' && !frozen) {
        this.decide('restart-planned', a.vm, `${describe(a)}: ${a.reason}`, data);
        continue;
      }
      // Observe mode and a frozen cluster re-plan the same thing every poll; say it once per VM and target.
      this.sayOnce(`would:${a.vm}->${a.to}`, `would ${describe(a)}: ${a.reason}; ${frozen ? 'the cluster is frozen' : 'observe mode takes no action'}`, 'observe-only', a.vm, data);
    }
    const nowUnplaced = new Map(plan.unplaced.map((u) => [u.vm, u]));
    for (const u of plan.unplaced) {
      const before = this.unplaced.get(u.vm);
      if (!before || before.reason !== u.reason) this.decide('unplaced', u.vm, `cannot restart (from ${u.from}, priority ${u.priority}): ${u.reason}`);
    }
    this.unplaced = nowUnplaced;
    for (const s of plan.skipped) this.sayOnce(`skip:${s.vm}`, `not restarted (was on ${s.from}): ${s.reason}`, 'skipped', s.vm);
    const byHost = new Map<string, AwaitingFence[]>();
    for (const w of plan.awaitingFence) byHost.set(w.from, [...(byHost.get(w.from) ?? []), w]);
    for (const [host, list] of byHost) {
      this.sayOnce(`fence:${host}`, `${list.length} VM(s) of ${host} wait (${list.map((w) => w.vm).join(', ')}): ${list[0]?.reason ?? ''}`, 'awaiting-fence', host, { host, vms: list.map((w) => w.vm), fenceable: fenceable.has(host) });
    }
    this.awaiting = new Map(plan.awaitingFence.map((w) => [w.vm, w]));
  }

  /** Before each wave: drop actions the world no longer needs. */
  private async verify(actions: readonly Action[]): Promise<{ keep: Action[]; drop: { action: Action; reason: string }[] }> {
    if (this.frozen()) return { keep: [], drop: actions.map((action) => ({ action, reason: 'the cluster was frozen' })) };
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
      if (a.type === 'migrate' && a.cause === 'storage-loss') {
        const vm = vms.get(a.vm);
        if (!vm) drop.push({ action: a, reason: `${a.vm} is gone from the inventory` });
        else if (vm.host !== a.from) drop.push({ action: a, reason: `${a.vm} is now on ${vm.host}` });
        else if (vm.power !== 'on') drop.push({ action: a, reason: `${a.vm} is ${vm.power} now, no longer running: a live migration needs a running VM` });
        else if (!snap.datastores.some((d) => vm.datastores.includes(d.name) && (!d.accessible || d.inaccessibleOn.includes(a.from)))) drop.push({ action: a, reason: `${a.from} reaches every datastore of ${a.vm} again` });
        else keep.push(a);
        continue;
      }
      if (a.type === 'restart' && a.cause === 'storage-loss') {
        // The last word before a VM of a live host starts elsewhere: it must still be off where it was.
        const vm = vms.get(a.vm);
        if (!vm) drop.push({ action: a, reason: `${a.vm} is gone from the inventory` });
        else if (vm.host !== a.from) drop.push({ action: a, reason: `${a.vm} is now on ${vm.host}` });
        else if (vm.power !== 'off') drop.push({ action: a, reason: `${a.vm} is ${vm.power} on ${a.from}: a VM the manager does not show off is never restarted elsewhere` });
        else if (hosts.get(a.from)?.state !== 'connected') drop.push({ action: a, reason: `host ${a.from} is ${hosts.get(a.from)?.state ?? 'gone'}: the host-failure rules apply to its VMs now` });
        else keep.push(a);
        continue;
      }
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

  private checkCapacity(snapshot: ClusterSnapshot, now: number): void {
    const before = this.capacity;
    const report = capacityReport(snapshot, this.health, this.o.policies());
    this.capacity = report;
    this.capacityAt = now;
    const text = describeCapacity(report);
    // Alert again only when what is measured changes, not when the example in the text does.
    const changed = !before || before.ok || before.tolerates !== report.tolerates || before.reserve.ok !== report.reserve.ok;
    if (!report.ok && changed) this.decide('alert', this.name, `failover capacity below policy: ${text}`, { tolerates: report.tolerates, required: report.required });
    else if (report.ok && before && !before.ok) this.decide('info', this.name, `failover capacity meets policy again: ${text}`);
    // Told once per VM, when it becomes unprotected (local storage): no capacity brings it back after a host failure.
    const unprotected = new Set<string>();
    for (const u of report.unprotected ?? []) {
      unprotected.add(u.vm);
      if (!this.unprotectedSaid.has(u.vm)) this.decide('storage', u.vm, `unprotected: ${u.reason}; if ${u.host} fails, ${u.vm} stays down until it is back`, { vm: u.vm, host: u.host, condition: 'unprotected' });
    }
    const vms = new Set(snapshot.vms.map((v) => v.name));
    for (const vm of this.unprotectedSaid) if (!unprotected.has(vm) && vms.has(vm)) this.decide('storage', vm, `${vm} is no longer unprotected: another host can run it`, { vm, condition: 'protected' });
    this.unprotectedSaid = unprotected;
  }

  status(recentLimit = 30): ClusterStatus {
    const frozen = this.o.journal.state().frozen;
    const freeze = frozen.get(this.name) ?? frozen.get('*');
    const role = this.o.leadership?.describe();
    return clusterStatus({
      ...(role ? { role: role.role, ...(role.leader ? { leader: role.leader } : {}) } : {}),
      pollIntervalMs: this.o.pollIntervalMs,
      name: this.name,
      provider: this.o.provider.kind,
      mode: this.o.mode,
      frozen: !!freeze,
      ...(freeze ? { frozenReason: `${freeze.reason} (by ${freeze.by})` } : {}),
      ...(this.snapshot ? { snapshot: this.snapshot } : {}),
      health: this.health,
      ...(this.lastPollAt !== undefined ? { lastPollAt: this.lastPollAt } : {}),
      ...(this.lastError ? { lastError: this.lastError } : {}),
      inflight: this.executor.inflight(),
      unplaced: [...this.unplaced.values()],
      awaitingFence: [...this.awaiting.values()],
      fencing: this.fencer.status(),
      recent: this.o.decisions.recent(recentLimit, this.name),
      ...(this.capacity ? { capacity: this.capacity } : {}),
      policies: this.o.policies(),
      ...(this.storageSeen ? { freeLevels: this.storageSeen.levels, forecasts: this.storageSeen.forecasts } : {}),
    });
  }

  /** Records a decision the first time its text changes for this key; for states re-derived every poll. */
  private sayOnce(k: string, message: string, kind: DecisionKind = 'info', subject = this.name, data?: Record<string, unknown>): void {
    if (this.said.get(k) === message) return;
    this.said.set(k, message);
    this.decide(kind, subject, message, data);
  }

  private decide(kind: DecisionKind, subject: string, message: string, data?: Record<string, unknown>): void {
    if (this.dead) return;
    this.o.decisions.record({ at: this.o.clock.now(), cluster: this.name, kind, subject, message, ...(data ? { data } : {}) });
  }
}
