/**
 * The plan runner on the lab, in simulated time, through a real executor:
 * phases in order and held after a failure, the parallel limit, stop()
 * holding back what has not started, and power-off actions.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock/fake-clock.js';
import { DecisionLog } from '../../src/decisions.js';
import { Executor } from '../../src/execute/executor.js';
import { PlanRunner, type PlanEvent, type PlanResult } from '../../src/execute/plan-runner.js';
import { parseInventoryText } from '../../src/inventory/load.js';
import type { Action } from '../../src/model/actions.js';
import type { PlannedWork } from '../../src/plan/planned-work.js';
import { PROVIDER_CONTRACT_VERSION, type Provider } from '../../src/provider.js';
import { MemoryJournal } from '../../src/state/journal.js';
import { Lab } from '../../providers/sim/lab.js';
import { InProcessLabApi } from '../../providers/sim/lab-api.js';
import { SimProvider } from '../../providers/sim/index.js';

const INVENTORY = `clusters:
  - name: c
    hosts:
      - {name: h1, cpu: 32, memoryGiB: 256}
      - {name: h2, cpu: 32, memoryGiB: 256}
    datastores:
      - {name: ds, hosts: [h1, h2]}
    vms:
${['a', 'b', 'c', 'd'].map((n) => `      - {name: ${n}, host: h1, cpu: 1, memoryGiB: 8, datastores: [ds]}`).join('\n')}
`;

const migrate = (vm: string): Action => ({ type: 'migrate', cluster: 'c', vm, vmId: vm, from: 'h1', to: 'h2', toId: 'h2', live: true, reason: 'test' });
const maintenance: Action = { type: 'maintenance', cluster: 'c', host: 'h1', hostId: 'h1', enter: true, reason: 'test' };

function plan(phases: Action[][]): PlannedWork {
  const zero = { load: 0, memory: 0, cpu: 0 };
  return { kind: 'evacuate', cluster: 'c', at: 0, title: 'evacuate h1', phases, blocked: [], notes: [], hosts: [], spread: { before: zero, after: zero } };
}

function setup(phases: Action[][], maxParallel = 2, provider?: (p: Provider) => Provider) {
  const clock = new FakeClock(0);
  const lab = new Lab(parseInventoryText(INVENTORY, 'inv.yaml').inventory, clock);
  const sim = new SimProvider('c', 'c', new InProcessLabApi(lab, clock));
  const decisions = new DecisionLog();
  const journal = new MemoryJournal();
  const executor = new Executor({ cluster: 'c', provider: provider ? provider(sim) : sim, clock, journal, decisions, maxParallel: 8, taskPollMs: 500, taskTimeoutMs: 120_000, retries: 0, retryBaseMs: 1_000 });
  const runner = new PlanRunner({ plan: plan(phases), tag: 'p1', submit: (a, tag) => executor.submit(a, tag), decisions, clock, maxParallel });
  const events: PlanEvent[] = [];
  runner.onEvent((e) => events.push(e));
  return { clock, lab, runner, events, journal, decisions };
}

async function finish(clock: FakeClock, done: Promise<PlanResult>): Promise<PlanResult> {
  let result: PlanResult | undefined;
  void done.then((r) => (result = r));
  for (let i = 0; i < 200 && !result; i++) await clock.advance(1_000);
  if (!result) throw new Error('the plan did not finish');
  return result;
}

describe('PlanRunner', () => {
  it('runs the phases in order, at most maxParallel at once, and tells each step', async () => {
    const { clock, lab, runner, events, journal } = setup([[migrate('a'), migrate('b'), migrate('c'), migrate('d')], [maintenance]], 2);
    const result = await finish(clock, runner.run());
    expect(result).toMatchObject({ succeeded: 5, failed: 0, notStarted: 0, stopped: false });
    const starts = events.filter((e) => e.type === 'started');
    expect(starts.map((e) => e.subject)).toEqual(['a', 'b', 'c', 'd', 'h1']);
    // c starts only when a or b has finished; maintenance only when all four have.
    const at = (type: string, subject: string) => events.find((e) => e.type === type && e.subject === subject)?.at as number;
    expect(at('started', 'c')).toBeGreaterThanOrEqual(Math.min(at('succeeded', 'a'), at('succeeded', 'b')));
    expect(at('started', 'h1')).toBeGreaterThanOrEqual(Math.max(...['a', 'b', 'c', 'd'].map((v) => at('succeeded', v))));
    let running = 0;
    let most = 0;
    for (const e of events) {
      running += e.type === 'started' ? 1 : e.type === 'succeeded' ? -1 : 0;
      most = Math.max(most, running);
    }
    expect(most).toBe(2);
    expect(events.at(-1)).toMatchObject({ type: 'done', message: '5 succeeded, 0 failed, 0 not started' });
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(lab.log().map((e) => e.op)).toEqual(['migrate', 'migrate', 'migrate', 'migrate', 'enter-maintenance']);
    // Through the executor, so every action is journaled with its outcome.
    expect(journal.all().filter((r) => r.type === 'outcome' && r.ok)).toHaveLength(5);
  });

  it('holds the next phase when an action fails, and says why', async () => {
    const { clock, lab, runner } = setup([[migrate('a'), migrate('b')], [maintenance]]);
    lab.failMigrations('b', 1);
    const result = await finish(clock, runner.run());
    expect(result).toMatchObject({ succeeded: 1, failed: 1, notStarted: 1 });
    expect(result.moves.map((m) => [m.action.type, m.state, m.message])).toEqual([
      ['migrate', 'succeeded', expect.stringMatching(/^live-migrate a h1 -> h2 in \d+\.\ds$/)],
      ['migrate', 'failed', 'migration of b to h2 failed half-way (injected fault); it still runs on h1'],
      ['maintenance', 'not-started', 'held: 1 action(s) before it failed'],
    ]);
    expect(lab.snapshot('c').hosts.find((h) => h.name === 'h1')?.state).toBe('connected');
  });

  it('stop() starts nothing more; the running action finishes; the rest is not started', async () => {
    const { clock, runner, events } = setup([[migrate('a'), migrate('b'), migrate('c'), migrate('d')], [maintenance]], 1);
    const done = runner.run();
    await clock.advance(1_000);
    expect(runner.moves().map((m) => m.state)).toEqual(['running', 'pending', 'pending', 'pending', 'pending']);
    runner.stop();
    const result = await finish(clock, done);
    expect(result).toMatchObject({ succeeded: 1, failed: 0, notStarted: 4, stopped: true });
    expect(result.moves.map((m) => m.message)).toEqual([expect.stringMatching(/^live-migrate a/), 'not started: the plan was stopped', 'not started: the plan was stopped', 'not started: the plan was stopped', 'held: the plan was stopped']);
    expect(events.find((e) => e.type === 'stopping')?.message).toBe('stopped by the operator: no new action starts; waiting for 1 running');
  });

  it('a VM another action already holds is not started, and says so', async () => {
    const clock = new FakeClock(0);
    const decisions = new DecisionLog();
    const runner = new PlanRunner({ plan: plan([[migrate('a')]]), tag: 'p', submit: () => Promise.resolve([]), decisions, clock, maxParallel: 1 });
    const result = await runner.run();
    expect(result.moves[0]).toMatchObject({ state: 'not-started', message: 'not started: another action on a is in progress' });
  });

  it('powers a VM off through the provider, and refuses where the provider cannot', async () => {
    const off: Action = { type: 'poweroff', cluster: 'c', vm: 'a', vmId: 'a', host: 'h1', reason: 'test' };
    const ok = setup([[off]]);
    expect(await finish(ok.clock, ok.runner.run())).toMatchObject({ succeeded: 1 });
    expect(ok.lab.snapshot('c').vms.find((v) => v.name === 'a')?.power).toBe('off');
    expect(ok.decisions.recent().find((d) => d.kind === 'action-succeeded')).toMatchObject({ subject: 'a', data: { action: 'poweroff', host: 'h1', plan: 'p1' } });
    const without = setup([[off]], 1, (p) => ({ ...withoutPowerOff(p) }));
    const r = await finish(without.clock, without.runner.run());
    expect(r.moves[0]).toMatchObject({ state: 'failed', message: 'the sim provider cannot power off VMs' });
  });
});

function withoutPowerOff(p: Provider): Provider {
  return {
    kind: p.kind,
    contractVersion: PROVIDER_CONTRACT_VERSION,
    capabilities: { ...p.capabilities, powerOff: false },
    snapshot: () => p.snapshot(),
    migrate: (vm, to, o) => p.migrate(vm, to, o),
    restart: (vm, on) => p.restart(vm, on),
    setMaintenance: (h, on) => p.setMaintenance(h, on),
    task: (t) => p.task(t),
    close: () => p.close(),
  };
}
