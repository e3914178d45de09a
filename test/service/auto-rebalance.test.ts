/**
 * The service's own rebalancing: only where a ClusterPolicy asks for it, at
 * most once per interval, never while the cluster is frozen or a host is
 * unhealthy, and through the controller's executor and journal.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AutoRebalancer } from '../../src/service/auto-rebalance.js';
import { spreadOf } from '../../src/plan/planned-loads.js';
import { PlannedLoads } from '../../src/plan/planned-loads.js';
import { harness, POLICIES, UNBALANCED, type Harness } from './planned-harness.js';

const AUTO = `${POLICIES}---
kind: ClusterPolicy
cluster: lab
rebalance: {auto: true, threshold: 8, interval: 10m, maxMoves: 4}
`;

let h: Harness | undefined;
afterEach(async () => {
  await h?.controller.close();
  h = undefined;
});

function memorySpread(x: Harness): number {
  const loads = new PlannedLoads({ snapshot: x.lab.snapshot('lab'), health: x.controller.clusters[0]?.view().health ?? new Map(), policies: x.controller.policies, inflight: [], now: 0 });
  return spreadOf(loads.loads.filter((l) => loads.takesPlannedVms(l))).memory;
}

async function start(policies: string) {
  h = await harness(UNBALANCED, policies);
  const auto = new AutoRebalancer({ controller: h.controller, clock: h.clock, checkEveryMs: 30_000 });
  h.controller.start();
  auto.start();
  return { h, auto };
}

describe('AutoRebalancer', () => {
  it('evens out a cluster whose policy asks for it, with at most maxMoves moves, then waits an interval', async () => {
    const { h, auto } = await start(AUTO);
    const before = memorySpread(h);
    await h.clock.advance(30_000);
    expect(h.decisions.find((d) => d.message.startsWith('automatic rebalance auto-rebalance-1: rebalance lab: '))).toBeDefined();
    await h.until(() => h?.decisions.some((d) => d.message.startsWith('automatic rebalance auto-rebalance-1 ended')) ?? false);
    const moves = h.lab.log().filter((e) => e.op === 'migrate');
    expect(moves.length).toBeGreaterThan(0);
    expect(moves.length).toBeLessThanOrEqual(4);
    expect(moves.every((e) => !e.error && e.to !== 'h4')).toBe(true);
    expect(memorySpread(h)).toBeLessThan(before);
    expect(h.journal.all().filter((r) => r.type === 'intent')).toHaveLength(moves.length);
    expect(h.decisions.filter((d) => d.kind === 'action-succeeded' && d.data?.plan === 'auto-rebalance-1')).toHaveLength(moves.length);

    // Unbalanced again: nothing until the interval has passed since the last look.
    for (const vm of ['app-1', 'app-2', 'app-3', 'app-4', 'app-5', 'app-6', 'app-7', 'app-8', 'web-1']) {
      const now = h.lab.snapshot('lab').vms.find((v) => v.name === vm);
      if (now && now.host !== 'h1') h.lab.migrate(vm, 'h1', true);
    }
    await h.clock.advance(120_000);
    expect(h.decisions.some((d) => d.message.startsWith('automatic rebalance auto-rebalance-2'))).toBe(false);
    await h.clock.advance(10 * 60_000);
    expect(h.decisions.some((d) => d.message.startsWith('automatic rebalance auto-rebalance-2: '))).toBe(true);
    auto.stop();
  });

  it('does nothing where no policy asks for it', async () => {
    const { h, auto } = await start(POLICIES);
    await h.clock.advance(5 * 60_000);
    expect(auto.tick()).toEqual([]);
    expect(h.lab.log()).toEqual([]);
    auto.stop();
  });

  it('is held while the cluster is frozen, and while a host is unhealthy; says so once', async () => {
    const { h, auto } = await start(AUTO);
    await h.journal.append({ type: 'freeze', cluster: 'lab', reason: 'testing', by: 'operator', at: h.clock.now() });
    await h.clock.advance(5 * 60_000);
    expect(h.decisions.filter((d) => d.message === 'automatic rebalance held: the cluster is frozen')).toHaveLength(1);
    await h.journal.append({ type: 'unfreeze', cluster: 'lab', by: 'operator', at: h.clock.now() });
    h.lab.failHost('h3');
    await h.clock.advance(5 * 60_000);
    expect(h.decisions.some((d) => /^automatic rebalance held: host h3 is (suspect|failed|fenced)$/.test(d.message))).toBe(true);
    expect(h.lab.log().filter((e) => e.op === 'migrate')).toEqual([]);
    auto.stop();
  });
});
