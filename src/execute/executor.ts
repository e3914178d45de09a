/**
 * Carries out a plan's actions through the provider: waves in order, a
 * bounded number at a time, each one journaled before the call, followed to
 * the end of its task, and journaled again with its outcome. Retries of the
 * provider call live here and only here; errors marked not retryable are
 * never retried.
 */
import pLimit, { type LimitFunction } from 'p-limit';
import pRetry from 'p-retry';
import type { Clock } from '../clock/clock.js';
import { formatDuration } from '../clock/duration.js';
import { isVigilError, messageOf, VigilError, ErrorCodes } from '../errors.js';
import { actionKey, type Action } from '../model/actions.js';
import type { Provider, TaskRef } from '../provider.js';
import type { DecisionLog } from '../decisions.js';
import type { Journal } from '../state/journal.js';

export interface ExecutorOptions {
  readonly cluster: string;
  readonly provider: Provider;
  readonly clock: Clock;
  readonly journal: Journal;
  readonly decisions: DecisionLog;
  /** Actions running at once in this cluster. */
  readonly maxParallel: number;
  readonly taskPollMs: number;
  /** A task not finished after this long counts as failed (the platform may still finish it; the next poll sees the truth). */
  readonly taskTimeoutMs: number;
  /** Extra attempts of a provider call that failed with a retryable error. */
  readonly retries: number;
  readonly retryBaseMs: number;
  /**
   * Asked right before every provider call: false stops the action (a
   * replica that lost the cluster's leadership must not act late).
   */
  readonly mayAct?: () => boolean;
  /**
   * Called before each wave with its actions; returns the ones still needed.
   * The world may have changed since the plan was made.
   */
  readonly verify?: (actions: readonly Action[]) => Promise<{ keep: Action[]; drop: { action: Action; reason: string }[] }>;
}

export interface ActionOutcome {
  readonly action: Action;
  readonly ok: boolean;
  /** False when the action never reached the provider (the controller was stopping). */
  readonly attempted: boolean;
  readonly message?: string;
  readonly startedAt: number;
  readonly finishedAt: number;
}

export class Executor {
  private readonly limit: LimitFunction;
  private readonly accepted = new Map<string, Action>();
  private readonly tags = new Map<string, string>();
  private readonly running = new Set<Promise<unknown>>();
  /** Journal intents this executor wrote and has not closed: not orphans, whatever the journal says. */
  private readonly owned = new Set<string>();
  private stopping = false;
  /** Set by abandon(): this executor stands for a process that died; it must not write or act any more. */
  private dead = false;

  constructor(private readonly o: ExecutorOptions) {
    this.limit = pLimit(Math.max(1, o.maxParallel));
  }

  /** Actions accepted and not finished (queued or running): the planner must not plan their subjects again. */
  inflight(): Action[] {
    return [...this.accepted.values()];
  }

  /**
   * Starts the actions in the background; the returned promise settles when
   * all are done. `tag` (a planned-work plan id) goes into every decision
   * about them, so their progress can be followed.
   */
  submit(actions: readonly Action[], tag?: string): Promise<ActionOutcome[]> {
    const fresh = actions.filter((a) => !this.accepted.has(actionKey(a)));
    for (const a of fresh) this.accepted.set(actionKey(a), a);
    if (tag) for (const a of fresh) this.tags.set(actionKey(a), tag);
    const done = this.runWaves(fresh).finally(() => {
      for (const a of fresh) this.tags.delete(actionKey(a));
      this.running.delete(done);
      for (const a of fresh) this.accepted.delete(actionKey(a));
    });
    this.running.add(done);
    return done;
  }

  ownedIntents(): ReadonlySet<string> {
    return this.owned;
  }

  /** For simulated crashes: work in flight stops where it stands, and writes nothing more. */
  abandon(): void {
    this.dead = true;
    this.stopping = true;
  }

  /** No new action starts after this; the ones already started run to their end. */
  stop(): void {
    this.stopping = true;
  }

  async idle(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running]);
  }

  private async runWaves(actions: readonly Action[]): Promise<ActionOutcome[]> {
    const waves = new Map<number, Action[]>();
    for (const a of actions) {
      const w = a.type === 'restart' ? a.wave : 0;
      const list = waves.get(w) ?? [];
      list.push(a);
      waves.set(w, list);
    }
    // Restart orchestration: each restart settles a promise others may wait on (`after:`).
    const finished = new Map<string, Deferred<boolean>>();
    for (const a of actions) if (a.type === 'restart') finished.set(a.vm, deferred<boolean>());
    const outcomes: ActionOutcome[] = [];
    for (const wave of [...waves.keys()].sort((a, b) => a - b)) {
      let batch = waves.get(wave) as Action[];
      if (this.stopping) break;
      if (this.o.verify) {
        const { keep, drop } = await this.o.verify(batch);
        for (const { action, reason } of drop) {
          this.accepted.delete(actionKey(action));
          if (action.type === 'restart') finished.get(action.vm)?.resolve(false);
          this.decide('action-dropped', action, reason);
        }
        batch = keep;
      }
      // A wave starts when the one before it has finished, as vSphere HA and Hyper-V order restarts by priority.
      const results = await Promise.all(
        batch.map(async (a) => {
          if (a.type === 'restart' && a.after?.length) await this.awaitDependencies(a, finished);
          const outcome = await this.limit(() => this.runOne(a));
          if (a.type === 'restart') finished.get(a.vm)?.resolve(outcome.ok);
          return outcome;
        }),
      );
      outcomes.push(...results);
    }
    for (const d of finished.values()) d.resolve(false);
    return outcomes;
  }

  /** Waits (holding no concurrency slot) until the VMs this one restarts after are running, or its timeout. */
  private async awaitDependencies(a: Extract<Action, { type: 'restart' }>, finished: Map<string, Deferred<boolean>>): Promise<void> {
    const deps = (a.after ?? []).map((vm) => ({ vm, done: finished.get(vm)?.promise ?? Promise.resolve(true) }));
    const timeout = a.afterTimeoutMs ?? 0;
    const stopTimer = new AbortController();
    const start = this.o.clock.now();
    const all = Promise.all(deps.map((d) => d.done));
    const timedOut = await Promise.race([
      all.then(() => false),
      this.o.clock.sleep(timeout, stopTimer.signal).then(
        () => true,
        () => false,
      ),
    ]);
    stopTimer.abort();
    const waited = formatDuration(this.o.clock.now() - start);
    if (timedOut) {
      this.decide('orchestration', a, `waited ${waited} for ${deps.map((d) => d.vm).join(', ')} (after:); timeout reached, restarting ${a.vm} anyway`);
      return;
    }
    const results = await all;
    const failed = deps.filter((_, i) => !results[i]).map((d) => d.vm);
    if (failed.length) this.decide('orchestration', a, `${failed.join(', ')} did not come back (after:); restarting ${a.vm} anyway`);
  }

  private async runOne(action: Action): Promise<ActionOutcome> {
    const { clock, journal } = this.o;
    const startedAt = clock.now();
    if (this.stopping) {
      this.decide('action-dropped', action, 'the controller is stopping');
      return { action, ok: false, attempted: false, message: 'stopped', startedAt, finishedAt: startedAt };
    }
    if (this.dead) return { action, ok: false, attempted: false, message: 'abandoned', startedAt, finishedAt: startedAt };
    const id = journal.nextId();
    this.owned.add(id);
    // Durable before the provider hears of it: after a crash, this open intent stops the VM from being planned again.
    try {
      await journal.append({ type: 'intent', id, cluster: this.o.cluster, action, at: startedAt });
    } catch (e) {
      // Not recorded, not done: an action the journal refused is never sent (lost leadership, a full disk).
      this.owned.delete(id);
      this.decide('action-dropped', action, `not started: its intent could not be recorded (${messageOf(e)})`);
      return { action, ok: false, attempted: false, message: messageOf(e), startedAt, finishedAt: clock.now() };
    }
    this.decide('action-started', action, describe(action));
    try {
      const ref = await this.call(action);
      this.assertAlive();
      await journal.append({ type: 'started', id, cluster: this.o.cluster, task: ref, at: clock.now() });
      await this.follow(ref);
      this.assertAlive();
      const finishedAt = clock.now();
      await journal.append({ type: 'outcome', id, cluster: this.o.cluster, ok: true, at: finishedAt });
      this.owned.delete(id);
      this.decide('action-succeeded', action, `${describe(action)} in ${formatDuration(finishedAt - startedAt)}`, { durationMs: finishedAt - startedAt });
      return { action, ok: true, attempted: true, startedAt, finishedAt };
    } catch (e) {
      const finishedAt = clock.now();
      if (this.dead) return { action, ok: false, attempted: true, message: 'abandoned', startedAt, finishedAt };
      const message = messageOf(e);
      await journal.append({ type: 'outcome', id, cluster: this.o.cluster, ok: false, at: finishedAt, message }).catch(() => undefined);
      this.owned.delete(id);
      this.decide('action-failed', action, `${describe(action)} failed: ${message}`, { code: isVigilError(e) ? e.code : undefined });
      return { action, ok: false, attempted: true, message, startedAt, finishedAt };
    }
  }

  private call(action: Action): Promise<TaskRef> {
    const { provider, clock } = this.o;
    const attempt = (): Promise<TaskRef> => {
      if (this.o.mayAct && !this.o.mayAct()) return Promise.reject(new VigilError(ErrorCodes.NOT_LEADER, 'this replica no longer leads the cluster'));
      switch (action.type) {
        case 'restart':
          return provider.restart({ id: action.vmId, name: action.vm }, { id: action.toId, name: action.to });
        case 'migrate':
          return provider.migrate({ id: action.vmId, name: action.vm }, { id: action.toId, name: action.to }, { live: action.live });
        case 'maintenance':
          return provider.setMaintenance({ id: action.hostId, name: action.host }, action.enter);
        case 'poweroff':
          if (!provider.powerOff) return Promise.reject(new VigilError(ErrorCodes.PROVIDER_REFUSED, `the ${provider.kind} provider cannot power off VMs`, { expected: true }));
          return provider.powerOff({ id: action.vmId, name: action.vm });
      }
    };
    return pRetry(attempt, {
      retries: this.o.retries,
      // p-retry's own delay would use real time; the backoff waits on our clock instead (see shouldRetry).
      minTimeout: 0,
      maxTimeout: 0,
      shouldRetry: async ({ error, attemptNumber }) => {
        if (!isVigilError(error) || !error.retryable) return false;
        await clock.sleep(this.o.retryBaseMs * 2 ** (attemptNumber - 1));
        return true;
      },
    });
  }

  private assertAlive(): void {
    if (this.dead) throw new Error('abandoned');
  }

  private async follow(ref: TaskRef): Promise<void> {
    const { provider, clock, taskPollMs, taskTimeoutMs } = this.o;
    const deadline = clock.now() + taskTimeoutMs;
    for (;;) {
      this.assertAlive();
      const state = await provider.task(ref);
      if (state.state === 'success') return;
      if (state.state === 'error') {
        throw new VigilError(ErrorCodes.TASK_FAILED, state.message, { retryable: state.retryable ?? false, details: { code: state.code } });
      }
      if (clock.now() >= deadline) {
        throw new VigilError(ErrorCodes.TASK_TIMEOUT, `task ${ref.id} still ${state.state} after ${formatDuration(taskTimeoutMs)}`);
      }
      await clock.sleep(taskPollMs);
    }
  }

  private decide(kind: 'action-started' | 'action-succeeded' | 'action-failed' | 'action-dropped' | 'orchestration', action: Action, message: string, data: Record<string, unknown> = {}): void {
    if (this.dead) return;
    this.o.decisions.record({
      at: this.o.clock.now(),
      cluster: this.o.cluster,
      kind,
      subject: action.type === 'maintenance' ? action.host : action.vm,
      message,
      data: { action: action.type, ...(action.type === 'restart' || action.type === 'migrate' ? { from: action.from, to: action.to, ...(action.cause ? { cause: action.cause } : {}) } : action.type === 'poweroff' ? { host: action.host } : {}), ...(this.tags.has(actionKey(action)) ? { plan: this.tags.get(actionKey(action)) } : {}), ...data },
    });
  }
}

export function describe(a: Action): string {
  switch (a.type) {
    case 'restart':
      return `restart ${a.vm} on ${a.to} (from ${a.from}, wave ${a.wave})`;
    case 'migrate':
      return `${a.byRestart ? 'restart-migrate' : a.live ? 'live-migrate' : 'migrate'} ${a.vm} ${a.from} -> ${a.to}`;
    case 'maintenance':
      return `${a.enter ? 'enter' : 'exit'} maintenance on ${a.host}`;
    case 'poweroff':
      return `power off ${a.vm} on ${a.host}`;
  }
}

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
