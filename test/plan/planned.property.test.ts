/**
 * Invariants of evacuation and rebalancing over random clusters and
 * policies (fast-check): every move lands where a planned placement may go
 * (healthy connected host, never a dedicated failover host, required
 * labels, avoided hosts, datastores, anti-affinity, memory and CPU within
 * their ratios); no move more than needed; the same plan whatever the order
 * of the input.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HostHealthState } from '../../src/health/types.js';
import type { MigrateAction } from '../../src/model/actions.js';
import type { ClusterSnapshot, Datastore, Host, Vm } from '../../src/model/inventory.js';
import { planEvacuate } from '../../src/plan/evacuate.js';
import { usesCapacity } from '../../src/plan/placement/capacity-state.js';
import { planActions, type PlannedInput } from '../../src/plan/planned-work.js';
import { hostLoad, PlannedLoads } from '../../src/plan/planned-loads.js';
import type { HostLoad } from '../../src/plan/placement/types.js';
import { planRebalance } from '../../src/plan/rebalance.js';
import { isFailoverHost, PolicySet } from '../../src/policy/policy-set.js';
import type { ClusterPolicyDoc, VmPolicyDoc } from '../../src/policy/schema.js';

const healthStates: HostHealthState[] = ['healthy', 'healthy', 'healthy', 'healthy', 'failed', 'suspect', 'maintenance', 'quarantined'];

const arbInput: fc.Arbitrary<PlannedInput> = fc
  .record({
    hostCount: fc.integer({ min: 2, max: 9 }),
    hostSpecs: fc.array(fc.record({ cpu: fc.integer({ min: 8, max: 64 }), mem: fc.integer({ min: 64, max: 512 }), rack: fc.constantFrom('r1', 'r2'), health: fc.constantFrom(...healthStates) }), { minLength: 9, maxLength: 9 }),
    vmSpecs: fc.array(
      fc.record({
        host: fc.nat(),
        cpu: fc.integer({ min: 1, max: 16 }),
        mem: fc.integer({ min: 1, max: 96 }),
        power: fc.constantFrom('on', 'on', 'on', 'on', 'off', 'unknown'),
        app: fc.constantFrom('db', 'web', 'batch', 'misc', 'misc'),
        local: fc.boolean(),
      }),
      { maxLength: 50 },
    ),
    memRatio: fc.constantFrom(1, 1, 1.25),
    cpuRatio: fc.constantFrom(1, 2, 4),
    dbRack: fc.option(fc.constantFrom('r1', 'r2')),
    avoid: fc.option(fc.constantFrom('h0[0-2]', 'h05')),
    preferRack: fc.option(fc.constantFrom('r1', 'r2')),
    failover: fc.option(fc.constantFrom('h00', 'h0[1-2]', 'h08')),
  })
  .map((r) => {
    const hosts: Host[] = r.hostSpecs.slice(0, r.hostCount).map((s, i) => ({
      name: `h${String(i).padStart(2, '0')}`,
      id: `h${i}`,
      cpu: s.cpu,
      memoryGiB: s.mem,
      labels: { rack: s.rack },
      state: s.health === 'failed' || s.health === 'suspect' ? 'notResponding' : s.health === 'maintenance' ? 'maintenance' : 'connected',
    }));
    const health = new Map(hosts.map((h, i) => [h.name, { host: h.name, state: r.hostSpecs[i]?.health ?? 'healthy', since: 0, reason: '' }]));
    const datastores: Datastore[] = [
      { name: 'shared', id: 'shared', capacityGiB: 1000, freeGiB: 500, hosts: hosts.map((h) => h.name), accessible: true, inaccessibleOn: hosts.length > 2 ? [hosts[1]?.name as string] : [] },
      ...hosts.map((h) => ({ name: `local-${h.name}`, id: `local-${h.name}`, capacityGiB: 100, freeGiB: 50, hosts: [h.name], accessible: true, inaccessibleOn: [] })),
    ];
    const vms: Vm[] = r.vmSpecs.map((s, i) => {
      const h = hosts[s.host % hosts.length] as Host;
      return { name: `${s.app}-${i}`, id: `vm${i}`, host: h.name, cpu: s.cpu, memoryGiB: s.mem, power: s.power, datastores: [s.local ? `local-${h.name}` : 'shared'], labels: { app: s.app } };
    });
    const vmPolicies: VmPolicyDoc[] = [
      { kind: 'VmPolicy', name: 'db', cluster: '*', match: { labels: { app: 'db' } }, placement: { antiAffinityGroup: 'db', ...(r.dbRack ? { requireHostLabels: { rack: r.dbRack } } : {}) } },
      { kind: 'VmPolicy', name: 'web', cluster: '*', match: { names: ['web-*'] }, placement: { ...(r.avoid ? { avoidHosts: [r.avoid] } : {}), ...(r.preferRack ? { preferHostLabels: { rack: r.preferRack } } : {}) } },
      { kind: 'VmPolicy', name: 'batch', cluster: '*', match: { labels: { app: 'batch' } }, placement: { affinityGroup: 'batch' } },
    ];
    const clusterPolicies: ClusterPolicyDoc[] = [{ kind: 'ClusterPolicy', cluster: '*', overcommit: { cpu: r.cpuRatio, memory: r.memRatio }, ...(r.failover ? { admission: { failoverHosts: [r.failover] } } : {}) }];
    const snapshot: ClusterSnapshot = { cluster: 'c', provider: 'test', takenAt: 0, hosts, vms, datastores };
    return { snapshot, health, policies: new PolicySet(clusterPolicies, vmPolicies), inflight: [], now: 0 };
  });

const RUNS = { numRuns: 250 };

/** Every rule a planned move must keep, checked on the cluster as it is once the whole plan has run. */
function checkMoves(input: PlannedInput, moves: readonly MigrateAction[]): void {
  const { snapshot, policies, health } = input;
  const rules = policies.clusterRules('c');
  const hosts = new Map(snapshot.hosts.map((h) => [h.name, h]));
  const datastores = new Map(snapshot.datastores.map((d) => [d.name, d]));
  const moved = new Map(moves.map((m) => [m.vm, m.to]));
  const after = snapshot.vms.map((v) => ({ ...v, host: moved.get(v.name) ?? v.host }));
  const down = (h: string) => ['failed', 'fenced'].includes(health.get(h)?.state ?? '');
  const on = (h: string) => after.filter((v) => v.host === h && usesCapacity(v) && !down(h));
  for (const m of moves) {
    const vm = after.find((v) => v.name === m.vm) as Vm;
    const target = hosts.get(m.to) as Host;
    const r = policies.vmRules('c', vm);
    expect(m.to).not.toBe(m.from);
    expect(health.get(m.to)?.state).toBe('healthy');
    expect(target.state).toBe('connected');
    expect(isFailoverHost(rules, m.to)).toBe(false);
    for (const [k, v] of Object.entries(r.requireHostLabels)) expect(target.labels[k]).toBe(v);
    expect(r.avoidHosts.some((g) => g.test(m.to))).toBe(false);
    for (const d of vm.datastores) {
      const ds = datastores.get(d) as Datastore;
      expect(ds.hosts.includes(m.to) && !ds.inaccessibleOn.includes(m.to)).toBe(true);
    }
    const group = r.antiAffinityGroup;
    if (group) expect(on(m.to).filter((x) => x.name !== vm.name && policies.vmRules('c', x).antiAffinityGroup === group)).toEqual([]);
    const mem = on(m.to).reduce((s, x) => s + x.memoryGiB, 0);
    const cpu = on(m.to).reduce((s, x) => s + x.cpu, 0);
    expect(mem).toBeLessThanOrEqual(target.memoryGiB * rules.overcommit.memory + 1e-6);
    expect(cpu).toBeLessThanOrEqual(target.cpu * rules.overcommit.cpu + 1e-6);
  }
}

function shuffled(input: PlannedInput, seed: number): PlannedInput {
  const rot = <T,>(xs: readonly T[]) => (xs.length ? [...xs.slice(seed % xs.length), ...xs.slice(0, seed % xs.length)].reverse() : [...xs]);
  return { ...input, snapshot: { ...input.snapshot, hosts: rot(input.snapshot.hosts), vms: rot(input.snapshot.vms), datastores: rot(input.snapshot.datastores) } };
}

const evacuable = (input: PlannedInput) => input.snapshot.hosts.filter((h) => h.state === 'connected' && !['failed', 'fenced'].includes(input.health.get(h.name)?.state ?? ''));

describe('evacuation invariants', () => {
  it('moves every running VM off the host exactly once or lists it, and every move keeps every rule', () => {
    fc.assert(
      fc.property(arbInput, fc.nat(), fc.boolean(), (input, pick, force) => {
        const candidates = evacuable(input);
        fc.pre(candidates.length > 0);
        const host = (candidates[pick % candidates.length] as Host).name;
        const plan = planEvacuate(input, { host, force });
        const moves = planActions(plan).filter((a): a is MigrateAction => a.type === 'migrate');
        const offs = planActions(plan).filter((a) => a.type === 'poweroff').map((a) => (a as { vm: string }).vm);
        const running = input.snapshot.vms.filter((v) => v.host === host && (v.power === 'on' || v.power === 'unknown')).map((v) => v.name).sort();
        // Each running VM once: moved, or blocked (and powered off under --force).
        expect([...moves.map((m) => m.vm), ...plan.blocked.map((b) => b.vm)].sort()).toEqual(running);
        expect(moves.every((m) => m.from === host)).toBe(true);
        if (force && !plan.refused) expect(offs.sort()).toEqual(plan.blocked.map((b) => b.vm).sort());
        if (!force) expect(offs).toEqual([]);
        expect(!!plan.refused).toBe(plan.blocked.length > 0 && (!force || offs.length === 0));
        // Maintenance comes last, on its own.
        expect(plan.phases.at(-1)).toEqual([expect.objectContaining({ type: 'maintenance', host, enter: true })]);
        checkMoves(input, moves);
      }),
      RUNS,
    );
  });

  it('is the same plan whatever the order of hosts, VMs and datastores', () => {
    fc.assert(
      fc.property(arbInput, fc.nat(), fc.nat(), (input, pick, seed) => {
        const candidates = evacuable(input);
        fc.pre(candidates.length > 0);
        const host = (candidates[pick % candidates.length] as Host).name;
        expect(planEvacuate(shuffled(input, seed), { host, force: true }).phases).toEqual(planEvacuate(input, { host, force: true }).phases);
      }),
      RUNS,
    );
  });
});

describe('rebalance invariants', () => {
  const options = fc.record({ threshold: fc.constantFrom(0, 2, 5, 10, 20), maxMoves: fc.integer({ min: 1, max: 15 }) });

  it('every move keeps every rule; a VM moves at most once; never more moves than allowed; the spread never grows', () => {
    fc.assert(
      fc.property(arbInput, options, (input, o) => {
        const plan = planRebalance(input, o);
        const moves = planActions(plan) as MigrateAction[];
        expect(moves.length).toBeLessThanOrEqual(o.maxMoves);
        expect(new Set(moves.map((m) => m.vm)).size).toBe(moves.length);
        expect(moves.every((m) => m.live && input.snapshot.vms.find((v) => v.name === m.vm)?.power === 'on')).toBe(true);
        checkMoves(input, moves);
        // The spread of host load (the larger of memory and CPU use) only falls; nothing at all moves when it is within the threshold.
        if (moves.length) expect(plan.spread.after.load).toBeLessThanOrEqual(plan.spread.before.load);
        if (plan.spread.before.load <= o.threshold) expect(moves).toEqual([]);
      }),
      RUNS,
    );
  });

  it('needs every move: each one, made in order, lowers the spread of host load', () => {
    fc.assert(
      fc.property(arbInput, options, (input, o) => {
        const moves = planActions(planRebalance(input, o)) as MigrateAction[];
        const loads = new PlannedLoads(input);
        const hosts = loads.loads.filter((l) => loads.takesPlannedVms(l));
        const vms = new Map(input.snapshot.vms.map((v) => [v.name, v]));
        // Unrounded: the variance of host load.
        const variance = () => {
          const xs = hosts.map(hostLoad);
          const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
          return xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length;
        };
        let spread = variance();
        for (const m of moves) {
          loads.move(vms.get(m.vm) as Vm, loads.load(m.from) as HostLoad, loads.load(m.to) as HostLoad);
          const next = variance();
          expect(next).toBeLessThan(spread);
          spread = next;
        }
      }),
      RUNS,
    );
  });

  it('never makes a soft rule worse: preferred labels and affinity groups', () => {
    fc.assert(
      fc.property(arbInput, options, (input, o) => {
        const moves = planActions(planRebalance(input, o)) as MigrateAction[];
        const hosts = new Map(input.snapshot.hosts.map((h) => [h.name, h]));
        for (const m of moves) {
          const vm = input.snapshot.vms.find((v) => v.name === m.vm) as Vm;
          const r = input.policies.vmRules('c', vm);
          const score = (h: string) => Object.entries(r.preferHostLabels).filter(([k, v]) => hosts.get(h)?.labels[k] === v).length;
          expect(score(m.to)).toBeGreaterThanOrEqual(score(m.from));
          if (r.affinityGroup) {
            // Its group on the source (without it) was no larger than on the target when it moved; batch VMs are the only affinity group.
            const peersBefore = input.snapshot.vms.filter((v) => v.name !== vm.name && v.host === m.from && usesCapacity(v) && policies(input, v) === r.affinityGroup).length;
            const earlier = moves.slice(0, moves.indexOf(m));
            const peersAtTarget = input.snapshot.vms.filter((v) => (earlier.find((e) => e.vm === v.name)?.to ?? v.host) === m.to && usesCapacity(v) && policies(input, v) === r.affinityGroup).length;
            const leftEarlier = earlier.filter((e) => e.from === m.from && policies(input, input.snapshot.vms.find((v) => v.name === e.vm) as Vm) === r.affinityGroup).length;
            expect(peersAtTarget).toBeGreaterThanOrEqual(peersBefore - leftEarlier);
          }
        }
      }),
      RUNS,
    );
  });

  it('is the same plan whatever the order of the input', () => {
    fc.assert(
      fc.property(arbInput, options, fc.nat(), (input, o, seed) => {
        expect(planRebalance(shuffled(input, seed), o).phases).toEqual(planRebalance(input, o).phases);
      }),
      RUNS,
    );
  });
});

function policies(input: PlannedInput, v: Vm): string | undefined {
  return input.policies.vmRules('c', v).affinityGroup;
}
