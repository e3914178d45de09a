import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock/fake-clock.js';
import { DecisionLog } from '../../src/decisions.js';
import { ErrorCodes, VigilError } from '../../src/errors.js';
import { Executor } from '../../src/execute/executor.js';
import type { RestartAction } from '../../src/model/actions.js';
import { PROVIDER_CONTRACT_VERSION, type Provider, type TaskRef, type TaskState } from '../../src/provider.js';
import { MemoryJournal } from '../../src/state/journal.js';

/** A provider whose restarts take `durationMs` and whose calls fail as scripted. */
function scriptedProvider(clock: FakeClock, opts: { durationMs?: number; failCalls?: Record<string, VigilError[]>; taskError?: Set<string> } = {}) {
  const calls: { vm: string; at: number }[] = [];
  const tasks = new Map<string, { vm: string; end: number }>();
  let running = 0;
  let maxRunning = 0;
  const provider: Provider = {
    kind: 'scripted',
    contractVersion: PROVIDER_CONTRACT_VERSION,
    capabilities: { liveMigration: true, restartElsewhere: true, maintenanceMode: true, storageHealth: false, events: false, powerOff: false },
    snapshot: () => Promise.reject(new Error('unused')),
    migrate: () => Promise.reject(new Error('unused')),
    setMaintenance: () => Promise.reject(new Error('unused')),
    restart: async (vm) => {
      calls.push({ vm: vm.name, at: clock.now() });
      const failure = opts.failCalls?.[vm.name]?.shift();
      if (failure) throw failure;
      running += 1;
      maxRunning = Math.max(maxRunning, running);
      const id = `t-${calls.length}`;
      tasks.set(id, { vm: vm.name, end: clock.now() + (opts.durationMs ?? 3_000) });
      return { id, op: 'restart' };
    },
    task: async (ref: TaskRef): Promise<TaskState> => {
      const t = tasks.get(ref.id);
      if (!t) throw new Error('unknown task');
      if (clock.now() < t.end) return { state: 'running' };
      if (!tasks.has(`${ref.id}:done`)) {
        tasks.set(`${ref.id}:done`, t);
        running -= 1;
      }
      return opts.taskError?.has(t.vm) ? { state: 'error', message: `${t.vm} would not boot` } : { state: 'success' };
    },
    close: async () => undefined,
  };
  return { provider, calls, maxRunning: () => maxRunning };
}

const restart = (vm: string, wave: number): RestartAction => ({ type: 'restart', cluster: 'c', vm, vmId: vm, from: 'a', to: 'b', toId: 'b', priority: 'medium', wave, reason: 'test' });

function executor(clock: FakeClock, provider: Provider, over: Partial<ConstructorParameters<typeof Executor>[0]> = {}) {
  const decisions = new DecisionLog();
  const journal = new MemoryJournal();
  const ex = new Executor({ cluster: 'c', provider, clock, journal, decisions, maxParallel: 2, taskPollMs: 500, taskTimeoutMs: 60_000, retries: 2, retryBaseMs: 1_000, ...over });
  return { ex, decisions, journal };
}

describe('Executor', () => {
  it('runs waves in order, each after the one before has finished, at most maxParallel at once', async () => {
    const clock = new FakeClock(0);
    const p = scriptedProvider(clock);
    const { ex } = executor(clock, p.provider);
    const done = ex.submit([restart('w1-a', 1), restart('w1-b', 1), restart('w1-c', 1), restart('w2-a', 2)]);
    expect(ex.inflight().map((a) => (a as RestartAction).vm).sort()).toEqual(['w1-a', 'w1-b', 'w1-c', 'w2-a']);
    await clock.advance(60_000);
    const outcomes = await done;
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(p.maxRunning()).toBe(2);
    const starts = new Map(p.calls.map((c) => [c.vm, c.at]));
    expect(starts.get('w1-c')).toBeGreaterThanOrEqual(3_000);
    expect(starts.get('w2-a')).toBeGreaterThan(starts.get('w1-c') as number);
    expect(ex.inflight()).toEqual([]);
  });

  it('retries a retryable provider error with backoff on the clock, and not a refusal', async () => {
    const clock = new FakeClock(0);
    const busy = new VigilError(ErrorCodes.PROVIDER_UNAVAILABLE, 'busy', { retryable: true });
    const refused = new VigilError(ErrorCodes.PROVIDER_REFUSED, 'no', { expected: true });
    const p = scriptedProvider(clock, { failCalls: { flaky: [busy, busy], refused: [refused] } });
    const { ex, decisions } = executor(clock, p.provider);
    const done = ex.submit([restart('flaky', 1), restart('refused', 1)]);
    await clock.advance(60_000);
    const outcomes = await done;
    expect(outcomes.find((o) => o.action.type === 'restart' && o.action.vm === 'flaky')?.ok).toBe(true);
    expect(p.calls.filter((c) => c.vm === 'flaky').map((c) => c.at)).toEqual([0, 1_000, 3_000]);
    expect(p.calls.filter((c) => c.vm === 'refused')).toHaveLength(1);
    expect(decisions.recent().filter((d) => d.kind === 'action-failed').map((d) => d.subject)).toEqual(['refused']);
  });

  it('journals the intent before the call and the outcome after it', async () => {
    const clock = new FakeClock(0);
    const p = scriptedProvider(clock, { taskError: new Set(['bad']) });
    const { ex, journal } = executor(clock, p.provider);
    const done = ex.submit([restart('good', 1), restart('bad', 1)]);
    await clock.advance(100);
    expect([...journal.state().open.values()].map((o) => (o.intent.action as RestartAction).vm).sort()).toEqual(['bad', 'good']);
    expect([...journal.state().open.values()].every((o) => o.task !== undefined)).toBe(true);
    await clock.advance(60_000);
    const outcomes = await done;
    expect(journal.state().open.size).toBe(0);
    expect(journal.state().attempts.get('c/bad')).toMatchObject({ count: 1, lastTarget: 'b', lastError: 'bad would not boot' });
    expect(journal.all().map((r) => r.type)).toEqual(['intent', 'intent', 'started', 'started', 'outcome', 'outcome']);
    expect(outcomes.map((o) => [(o.action as RestartAction).vm, o.ok, o.message])).toEqual([
      ['good', true, undefined],
      ['bad', false, 'bad would not boot'],
    ]);
  });

  it('gives up on a task that never finishes', async () => {
    const clock = new FakeClock(0);
    const p = scriptedProvider(clock, { durationMs: 10 * 60_000 });
    const { ex } = executor(clock, p.provider, { taskTimeoutMs: 30_000 });
    const done = ex.submit([restart('slow', 1)]);
    await clock.advance(40_000);
    const [outcome] = await done;
    expect(outcome).toMatchObject({ ok: false, message: 'task t-1 still running after 30s' });
  });

  it('drops actions the world no longer needs before a wave starts', async () => {
    const clock = new FakeClock(0);
    const p = scriptedProvider(clock);
    const { ex, decisions } = executor(clock, p.provider, {
      verify: async (actions) => ({ keep: actions.filter((a) => (a as RestartAction).vm !== 'moved'), drop: actions.filter((a) => (a as RestartAction).vm === 'moved').map((action) => ({ action, reason: 'moved is now on c' })) }),
    });
    const done = ex.submit([restart('moved', 1), restart('stays', 1)]);
    await clock.advance(10_000);
    await done;
    expect(p.calls.map((c) => c.vm)).toEqual(['stays']);
    expect(decisions.recent().find((d) => d.kind === 'action-dropped')).toMatchObject({ subject: 'moved', message: 'moved is now on c' });
  });

  it('starts a VM after the ones it waits for, or when its timeout passes', async () => {
    const clock = new FakeClock(0);
    const p = scriptedProvider(clock, { durationMs: 5_000 });
    const { ex, decisions } = executor(clock, p.provider, { maxParallel: 4 });
    const app: RestartAction = { ...restart('app', 1), after: ['db'], afterTimeoutMs: 60_000 };
    const late: RestartAction = { ...restart('late', 1), after: ['later-wave'], afterTimeoutMs: 20_000 };
    const done = ex.submit([restart('db', 1), app, late, restart('later-wave', 2)]);
    await clock.advance(120_000);
    await done;
    const at = new Map(p.calls.map((c) => [c.vm, c.at]));
    expect(at.get('db')).toBe(0);
    expect(at.get('app')).toBeGreaterThanOrEqual(5_000);
    expect(at.get('late')).toBe(20_000);
    expect(at.get('later-wave')).toBeGreaterThan(20_000);
    expect(decisions.recent().filter((d) => d.kind === 'orchestration').map((d) => d.message)).toEqual(['waited 20s for later-wave (after:); timeout reached, restarting late anyway']);
  });

  it('starts nothing new once stopped', async () => {
    const clock = new FakeClock(0);
    const p = scriptedProvider(clock);
    const { ex } = executor(clock, p.provider, { maxParallel: 1 });
    const done = ex.submit([restart('first', 1), restart('second', 1)]);
    await clock.advance(100);
    ex.stop();
    await clock.advance(60_000);
    const outcomes = await done;
    expect(p.calls.map((c) => c.vm)).toEqual(['first']);
    expect(outcomes.map((o) => o.ok)).toEqual([true, false]);
  });
});
