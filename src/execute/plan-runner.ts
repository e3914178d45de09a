/**
 * Carries out a planned-work plan (src/plan/planned-work.ts) through an
 * executor: phase by phase, a phase starting only when every action of the
 * one before succeeded; at most `maxParallel` actions at once; each action
 * submitted on its own, so that `stop()` holds back the ones not yet
 * started while the running ones finish. The executor journals, calls the
 * provider and follows the task; the runner only decides what to hand it
 * next, and tells every step as an event.
 *
 * The same runner serves the CLI acting alone (its own executor) and the
 * running service (the controller's executor, through submitActions).
 */
import type { Clock } from '../clock/clock.js';
import type { Decision, DecisionLog } from '../decisions.js';
import type { Action } from '../model/actions.js';
import type { PlannedWork } from '../plan/planned-work.js';
import { describe, type ActionOutcome } from './executor.js';

export type MoveState = 'pending' | 'running' | 'succeeded' | 'failed' | 'not-started';

export interface MoveRecord {
  readonly action: Action;
  state: MoveState;
  message?: string;
  startedAt?: number;
  finishedAt?: number;
}

export type PlanEventType = 'started' | 'succeeded' | 'failed' | 'not-started' | 'stopping' | 'done';

export interface PlanEvent {
  /** Counts from 1, so a follower can ask for the events after the last one it saw. */
  readonly seq: number;
  readonly at: number;
  readonly type: PlanEventType;
  /** The VM or host the event is about. */
  readonly subject?: string;
  readonly action?: Action;
  readonly message: string;
}

export interface PlanResult {
  readonly cluster: string;
  readonly kind: PlannedWork['kind'];
  readonly title: string;
  readonly moves: readonly MoveRecord[];
  /** True when stop() was called before the plan ended. */
  readonly stopped: boolean;
  readonly succeeded: number;
  readonly failed: number;
  readonly notStarted: number;
}

export interface PlanRunnerOptions {
  readonly plan: PlannedWork;
  /** Names the plan in every decision about its actions. */
  readonly tag: string;
  readonly submit: (actions: readonly Action[], tag: string) => Promise<ActionOutcome[]>;
  /** Where the executor records its decisions: the runner hears each action start there. */
  readonly decisions: DecisionLog;
  readonly clock: Clock;
  readonly maxParallel: number;
}

export type PlanListener = (e: PlanEvent) => void;

export class PlanRunner {
  private readonly records: MoveRecord[];
  private readonly events: PlanEvent[] = [];
  private readonly listeners = new Set<PlanListener>();
  private stopping = false;
  private finished?: PlanResult;

  constructor(private readonly o: PlanRunnerOptions) {
    this.records = o.plan.phases.flat().map((action) => ({ action, state: 'pending' }));
  }

  onEvent(listener: PlanListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Events after `since` (their seq), in order. */
  eventsSince(since = 0): PlanEvent[] {
    return this.events.filter((e) => e.seq > since);
  }

  get result(): PlanResult | undefined {
    return this.finished;
  }

  get stopped(): boolean {
    return this.stopping;
  }

  /** Every action's state now. */
  moves(): readonly MoveRecord[] {
    return this.records.map((r) => ({ ...r }));
  }

  /** No action starts after this; running ones finish. */
  stop(reason = 'stopped by the operator'): void {
    if (this.stopping || this.finished) return;
    this.stopping = true;
    const running = this.records.filter((r) => r.state === 'running').length;
    this.emit({ type: 'stopping', message: `${reason}: no new action starts${running ? `; waiting for ${running} running` : ''}` });
  }

  async run(): Promise<PlanResult> {
    const unsubscribe = this.o.decisions.subscribe((d) => this.heard(d));
    try {
      let phaseStart = 0;
      for (const phase of this.o.plan.phases) {
        const records = this.records.slice(phaseStart, phaseStart + phase.length);
        phaseStart += phase.length;
        if (this.stopping) break;
        const queue = [...records];
        const worker = async (): Promise<void> => {
          for (let r = queue.shift(); r && !this.stopping; r = queue.shift()) await this.runOne(r);
        };
        await Promise.all(Array.from({ length: Math.max(1, Math.min(this.o.maxParallel, queue.length)) }, worker));
        const unfinished = records.filter((r) => r.state !== 'succeeded');
        if (unfinished.length) {
          const failed = unfinished.filter((r) => r.state === 'failed').length;
          const why = failed ? `${failed} action(s) before it failed` : this.stopping ? 'the plan was stopped' : `${unfinished.length} action(s) before it did not run`;
          for (const r of this.records.slice(phaseStart)) this.notStarted(r, `held: ${why}`);
          break;
        }
      }
      for (const r of this.records) if (r.state === 'pending') this.notStarted(r, this.stopping ? 'not started: the plan was stopped' : 'not started');
    } finally {
      unsubscribe();
    }
    const count = (s: MoveState) => this.records.filter((r) => r.state === s).length;
    const result: PlanResult = {
      cluster: this.o.plan.cluster,
      kind: this.o.plan.kind,
      title: this.o.plan.title,
      moves: this.moves(),
      stopped: this.stopping,
      succeeded: count('succeeded'),
      failed: count('failed'),
      notStarted: count('not-started'),
    };
    this.finished = result;
    this.emit({ type: 'done', message: `${result.succeeded} succeeded, ${result.failed} failed, ${result.notStarted} not started` });
    return result;
  }

  private async runOne(r: MoveRecord): Promise<void> {
    const { action } = r;
    let outcomes: ActionOutcome[];
    try {
      outcomes = await this.o.submit([action], this.o.tag);
    } catch (e) {
      this.settle(r, 'failed', (e as Error).message);
      return;
    }
    const outcome = outcomes[0];
    if (!outcome) this.settle(r, 'not-started', `not started: another action on ${subjectOf(action)} is in progress`);
    else if (outcome.ok) this.settle(r, 'succeeded', `${describe(action)} in ${seconds(outcome.finishedAt - (r.startedAt ?? outcome.startedAt))}`, outcome.finishedAt);
    else if (!outcome.attempted) this.settle(r, 'not-started', `not started: ${outcome.message ?? 'dropped'}`);
    else this.settle(r, 'failed', outcome.message ?? 'failed', outcome.finishedAt);
  }

  /** The executor says an action of this plan reached the provider. */
  private heard(d: Decision): void {
    if (d.data?.plan !== this.o.tag || d.kind !== 'action-started') return;
    const r = this.records.find((x) => x.state === 'pending' && subjectOf(x.action) === d.subject && x.action.type === d.data?.action);
    if (!r) return;
    r.state = 'running';
    r.startedAt = d.at;
    this.emit({ type: 'started', subject: d.subject, action: r.action, message: describe(r.action) });
  }

  private settle(r: MoveRecord, state: 'succeeded' | 'failed' | 'not-started', message: string, at = this.o.clock.now()): void {
    r.state = state;
    r.message = message;
    r.finishedAt = at;
    const text = state === 'failed' ? `${describe(r.action)} failed: ${message}` : state === 'not-started' ? `${describe(r.action)}: ${message}` : message;
    this.emit({ type: state, subject: subjectOf(r.action), action: r.action, message: text });
  }

  private notStarted(r: MoveRecord, message: string): void {
    if (r.state === 'pending') this.settle(r, 'not-started', message);
  }

  private emit(e: Omit<PlanEvent, 'seq' | 'at'>): void {
    const event: PlanEvent = { seq: this.events.length + 1, at: this.o.clock.now(), ...e };
    this.events.push(event);
    for (const l of this.listeners) l(event);
  }
}

export function subjectOf(a: Action): string {
  return a.type === 'maintenance' ? a.host : a.vm;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}
