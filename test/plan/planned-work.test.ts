/**
 * Tables for the planned-work planners: what each refuses, with the words a
 * person reads, and what each plans when it may.
 */
import { describe, expect, it } from 'vitest';
import type { HostHealthState } from '../../src/health/types.js';
import type { Action } from '../../src/model/actions.js';
import type { Host, Vm } from '../../src/model/inventory.js';
import { planEvacuate } from '../../src/plan/evacuate.js';
import { planMigrate } from '../../src/plan/migrate.js';
import { planChanged } from '../../src/plan/plan-check.js';
import { planActions, type PlannedInput } from '../../src/plan/planned-work.js';
import { planRequest, type ClusterView } from '../../src/plan/planned-request.js';
import { planRebalance } from '../../src/plan/rebalance.js';
import { planResume } from '../../src/plan/resume.js';
import { PolicySet } from '../../src/policy/policy-set.js';
import type { ClusterPolicyDoc, VmPolicyDoc } from '../../src/policy/schema.js';
import { healthOf, host, sharedDatastore, snapshot, vm } from '../helpers/build.js';

const clusterPolicy = (over: Partial<ClusterPolicyDoc> = {}): ClusterPolicyDoc => ({ kind: 'ClusterPolicy', cluster: '*', ...over });
const vmPolicy = (name: string, over: Partial<VmPolicyDoc>): VmPolicyDoc => ({ kind: 'VmPolicy', name, cluster: '*', match: {}, ...over });

/** Four hosts of 256 GiB / 32 CPUs (CPU ratio 4: 128 vCPUs); h4 has rack r2 and is the only one on ds-local. */
function input(vms: Vm[], o: { hosts?: Host[]; health?: Record<string, HostHealthState>; cluster?: Partial<ClusterPolicyDoc>; vmPolicies?: VmPolicyDoc[]; inflight?: Action[]; capabilities?: PlannedInput['capabilities'] } = {}): PlannedInput {
  const hosts = o.hosts ?? [host('h1', { labels: { rack: 'r1' } }), host('h2', { labels: { rack: 'r1' } }), host('h3', { labels: { rack: 'r1' } }), host('h4', { labels: { rack: 'r2' } })];
  const snap = snapshot(hosts, vms, [sharedDatastore(hosts), { ...sharedDatastore(hosts.slice(3)), name: 'ds-local', id: 'ds-local' }]);
  const health = healthOf(Object.fromEntries(hosts.map((h) => [h.name, o.health?.[h.name] ?? (h.state === 'maintenance' ? 'maintenance' : 'healthy')])));
  return { snapshot: snap, health, policies: new PolicySet([clusterPolicy(o.cluster)], o.vmPolicies ?? []), inflight: o.inflight ?? [], now: 0, ...(o.capabilities ? { capabilities: o.capabilities } : {}) };
}

const dbPolicy = vmPolicy('db', { match: { names: ['db-*'] }, placement: { antiAffinityGroup: 'db' } });

describe('planMigrate', () => {
  const base = [vm('db-1', 'h1', { memoryGiB: 64 }), vm('db-2', 'h2', { memoryGiB: 64 }), vm('web', 'h1'), vm('big', 'h3', { memoryGiB: 200 })];
  it.each([
    ['an unknown VM', { vm: 'nope', to: 'h2' }, {}, 'no VM "nope" in cluster c'],
    ['an unknown host, with a hint', { vm: 'web', to: 'h5' }, {}, 'no host "h5" in cluster c (did you mean "h1"?)'],
    ['the host it runs on', { vm: 'web', to: 'h1' }, {}, 'cannot migrate web to h1: it already runs there'],
    ['a host in maintenance', { vm: 'web', to: 'h2' }, { health: { h2: 'maintenance' } }, 'cannot migrate web to h2: h2 is in maintenance'],
    ['a failed source', { vm: 'web', to: 'h2' }, { health: { h1: 'failed' } }, 'cannot migrate web to h2: its host h1 is failed; the controller restarts the VMs of failed hosts, nothing can be migrated off them'],
    ['a dedicated failover host', { vm: 'web', to: 'h4' }, { cluster: { admission: { failoverHosts: ['h4'] } } }, 'cannot migrate web to h4: h4 is a dedicated failover host'],
    ['an avoided host', { vm: 'web', to: 'h3' }, { vmPolicies: [vmPolicy('w', { match: { names: ['web'] }, placement: { avoidHosts: ['h3'] } })] }, 'cannot migrate web to h3: h3 is avoided by policy w'],
    ['a host without the required label', { vm: 'web', to: 'h4' }, { vmPolicies: [vmPolicy('w', { match: { names: ['web'] }, placement: { requireHostLabels: { rack: 'r1' } } })] }, 'cannot migrate web to h4: h4 lacks label rack=r1'],
    ['anti-affinity, naming the VM already there', { vm: 'db-1', to: 'h2' }, { vmPolicies: [dbPolicy] }, 'cannot migrate db-1 to h2: h2 breaks anti-affinity group db (db-2 runs there)'],
    ['too little memory', { vm: 'db-1', to: 'h3' }, {}, 'cannot migrate db-1 to h3: h3 lacks 64 GiB free memory'],
    ['every rule it breaks', { vm: 'db-1', to: 'h2' }, { vmPolicies: [dbPolicy], cluster: { overcommit: { memory: 0.4 } } }, 'cannot migrate db-1 to h2: h2 breaks anti-affinity group db; h2 lacks 64 GiB free memory (db-2 runs there)'],
  ] as const)('refuses %s', (_name, req, o, message) => {
    expect(() => planMigrate(input(base, o as never), req)).toThrow(message);
  });

  it('refuses too many vCPUs, a VM busy with another action, and a suspended VM', () => {
    const vms = [vm('cpu', 'h1', { cpu: 100 }), vm('load', 'h2', { cpu: 60 }), vm('busy', 'h1'), vm('sleepy', 'h1', { power: 'suspended' })];
    const inflight: Action[] = [{ type: 'migrate', cluster: 'c', vm: 'busy', vmId: 'busy', from: 'h1', to: 'h3', toId: 'h3', live: true, reason: '' }];
    expect(() => planMigrate(input(vms, { inflight }), { vm: 'cpu', to: 'h2' })).toThrow('h2 lacks 100 free vCPUs');
    expect(() => planMigrate(input(vms, { inflight }), { vm: 'busy', to: 'h2' })).toThrow('an action on it is in progress (migrate)');
    expect(() => planMigrate(input(vms, { inflight }), { vm: 'sleepy', to: 'h2' })).toThrow('it is suspended');
    expect(() => planMigrate(input(vms, { capabilities: { liveMigration: false, maintenanceMode: true, powerOff: true } }), { vm: 'load', to: 'h3' })).toThrow('the test provider cannot live-migrate');
  });

  it('plans a live migration with its reason and the loads before and after; a powered-off VM moves cold', () => {
    const plan = planMigrate(input(base), { vm: 'db-1', to: 'h4' });
    expect(plan.phases).toEqual([[expect.objectContaining({ type: 'migrate', vm: 'db-1', from: 'h1', to: 'h4', live: true, reason: 'requested by an operator; h4 passes every placement rule (192 GiB memory free after)' })]]);
    const h1 = plan.hosts.find((h) => h.host === 'h1');
    expect(h1).toMatchObject({ before: { usedMemoryGiB: 72, vms: 2 }, after: { usedMemoryGiB: 8, vms: 1 } });
    expect(plan.hosts.find((h) => h.host === 'h4')).toMatchObject({ before: { memoryPercent: 0 }, after: { memoryPercent: 25 } });
    const cold = planMigrate(input([vm('off', 'h1', { power: 'off' })]), { vm: 'off', to: 'h2' });
    expect(cold.phases[0]?.[0]).toMatchObject({ live: false });
    expect(cold.title).toBe('migrate (cold, powered off) off from h1 to h2');
  });

  it('notes a soft rule the move makes worse, without refusing', () => {
    const p = vmPolicy('w', { match: { names: ['web'] }, placement: { preferHostLabels: { rack: 'r1' } } });
    expect(planMigrate(input(base, { vmPolicies: [p] }), { vm: 'web', to: 'h4' }).notes).toEqual(['web prefers hosts labelled rack=r1 (policy w); h4 carries fewer of them than h1']);
  });
});

describe('planEvacuate', () => {
  it.each([
    ['an unknown host', 'h9', {}, 'no host "h9" in cluster c'],
    ['a host already in maintenance', 'h2', { hosts: [host('h1'), host('h2', { state: 'maintenance' })] }, "cannot evacuate h2: it is already in maintenance ('vigil evacuate --undo h2' takes it out)"],
    ['a host the manager does not see', 'h2', { hosts: [host('h1'), host('h2', { state: 'notResponding' })], health: { h2: 'suspect' } }, 'cannot evacuate h2: it is notResponding'],
    ['a failed host', 'h2', { health: { h2: 'failed' } }, 'cannot evacuate h2: it is failed'],
  ] as const)('refuses %s', (_name, h, o, message) => {
    expect(() => planEvacuate(input([vm('a', 'h1')], o as never), { host: h })).toThrow(message);
  });

  it('moves every running VM, the largest first, never onto a failover host, then enters maintenance', () => {
    const vms = [vm('small', 'h1', { memoryGiB: 4 }), vm('large', 'h1', { memoryGiB: 100 }), vm('off', 'h1', { power: 'off' }), vm('other', 'h2')];
    const plan = planEvacuate(input(vms, { cluster: { admission: { failoverHosts: ['h4'] } } }), { host: 'h1' });
    expect(plan.refused).toBeUndefined();
    expect(plan.phases.map((p) => p.map((a) => `${a.type} ${a.type === 'maintenance' ? a.host : a.vm}`))).toEqual([['migrate large', 'migrate small'], ['maintenance h1']]);
    expect(planActions(plan).every((a) => a.type !== 'migrate' || (a.to !== 'h4' && a.to !== 'h1'))).toBe(true);
    expect(plan.notes).toContain('1 VM not running stays registered on h1: off (off)');
    expect(plan.hosts.find((h) => h.host === 'h1')).toMatchObject({ role: 'evacuated', after: { usedMemoryGiB: 0, vms: 0 } });
    expect(plan.hosts.find((h) => h.host === 'h4')).toMatchObject({ role: 'failover', after: { usedMemoryGiB: 0 } });
  });

  it('says when a VM can only move by a restart (a Proxmox container): in the action, the title and the progress', () => {
    const vms = [vm('ct-1', 'h1', { restartMigration: true }), vm('vm-1', 'h1')];
    const plan = planEvacuate(input(vms), { host: 'h1' });
    const moves = planActions(plan).filter((a) => a.type === 'migrate');
    expect(moves.map((a) => [a.vm, a.live, a.byRestart ?? false])).toEqual([
      ['ct-1', true, true],
      ['vm-1', true, false],
    ]);
    expect(plan.title).toContain('1 live migration and 1 restart migration (a short outage each)');
    expect(planMigrate(input(vms), { vm: 'ct-1', to: 'h2' }).title).toBe('restart-migrate (a short outage) ct-1 from h1 to h2');
    expect(planMigrate(input([vm('ct-2', 'h1', { restartMigration: true, power: 'off' })]), { vm: 'ct-2', to: 'h2' }).phases[0]?.[0]).not.toHaveProperty('byRestart');
  });

  it('lists what cannot move and refuses the whole plan without --force; with it, powers those off', () => {
    const vms = [vm('db-1', 'h1', { memoryGiB: 64 }), vm('db-2', 'h2'), vm('db-3', 'h3'), vm('db-4', 'h4'), vm('web', 'h1')];
    const i = input(vms, { vmPolicies: [dbPolicy] });
    const plan = planEvacuate(i, { host: 'h1' });
    expect(plan.blocked).toEqual([{ vm: 'db-1', host: 'h1', reason: '3 hosts break anti-affinity group db' }]);
    expect(plan.refused).toBe('1 VM cannot move off h1, so nothing will move: power them off or remove what blocks them, or pass --force to power them off');
    const forced = planEvacuate(i, { host: 'h1', force: true });
    expect(forced.refused).toBeUndefined();
    expect(forced.phases[0]).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'poweroff', vm: 'db-1', host: 'h1', reason: 'cannot move (3 hosts break anti-affinity group db); powered off because of --force' })]));
    expect(forced.phases[1]).toEqual([expect.objectContaining({ type: 'maintenance', host: 'h1', enter: true })]);
    expect(planEvacuate({ ...i, capabilities: { liveMigration: true, maintenanceMode: true, powerOff: false } }, { host: 'h1', force: true }).refused).toBe('the test provider cannot power off VMs, which --force needs');
  });

  it('cannot power off or move a VM with an action in progress, even with --force; a VM of unknown power is blocked', () => {
    const inflight: Action[] = [{ type: 'poweroff', cluster: 'c', vm: 'busy', vmId: 'busy', host: 'h1', reason: '' }];
    const plan = planEvacuate(input([vm('busy', 'h1'), vm('odd', 'h1', { power: 'unknown' })], { inflight }), { host: 'h1', force: true });
    expect(plan.blocked.map((b) => `${b.vm}: ${b.reason}`)).toEqual(['busy: an action on it is in progress', 'odd: its power state is unknown, so it cannot be live-migrated']);
    expect(plan.refused).toBe('busy cannot be powered off while an action on it is in progress; try again once it has finished');
  });

  it('packs when spreading would leave a VM behind', () => {
    // Spreading puts the 60 GiB VM on the roomier host, and then one 50 GiB VM fits nowhere; best fit places all three.
    const hosts = [host('h1'), host('h2', { memoryGiB: 100 }), host('h3', { memoryGiB: 60 })];
    const vms = [vm('a', 'h1', { memoryGiB: 60 }), vm('b', 'h1', { memoryGiB: 50 }), vm('c', 'h1', { memoryGiB: 50 })];
    const plan = planEvacuate({ ...input(vms, { hosts }), snapshot: snapshot(hosts, vms) }, { host: 'h1' });
    expect(plan.blocked).toEqual([]);
    expect(planActions(plan).filter((a) => a.type === 'migrate').map((a) => a.reason)).toEqual([
      'evacuating h1; h3 by best-fit packing (spreading left a VM without a host) (0 GiB memory free after)',
      'evacuating h1; h2 is the only eligible host (50 GiB memory free after)',
      'evacuating h1; h2 is the only eligible host (0 GiB memory free after)',
    ]);
  });
});

describe('planResume', () => {
  it('takes a host in maintenance out of it, and refuses one that is not', () => {
    const i = input([], { hosts: [host('h1'), host('h2', { state: 'maintenance' })] });
    expect(planResume(i, { host: 'h2' }).phases).toEqual([[expect.objectContaining({ type: 'maintenance', host: 'h2', enter: false })]]);
    expect(() => planResume(i, { host: 'h1' })).toThrow('cannot take h1 out of maintenance: it is not in maintenance (the manager reports it connected)');
    expect(() => planResume(i, { host: 'h7' })).toThrow('no host "h7" in cluster c');
  });
});

describe('planRebalance', () => {
  const unbalanced = [vm('a1', 'h1', { memoryGiB: 64 }), vm('a2', 'h1', { memoryGiB: 64 }), vm('a3', 'h1', { memoryGiB: 32 }), vm('a4', 'h1', { memoryGiB: 32 }), vm('b1', 'h2', { memoryGiB: 16 })];

  it('moves nothing when the spread is within the threshold', () => {
    const plan = planRebalance(input([vm('x', 'h1'), vm('y', 'h2'), vm('z', 'h3'), vm('w', 'h4')]), { threshold: 10, maxMoves: 10 });
    expect(planActions(plan)).toEqual([]);
    expect(plan.notes[0]).toBe('the spread of host load is 0 points, within the threshold of 10: nothing moves');
  });

  it('evens out an unbalanced cluster with few moves, each named with its effect', () => {
    const plan = planRebalance(input(unbalanced), { threshold: 10, maxMoves: 10 });
    const moves = planActions(plan);
    expect(moves.length).toBeGreaterThan(0);
    expect(moves.length).toBe(3);
    expect(plan.spread.after.memory).toBeLessThan(plan.spread.before.memory);
    // Four hosts, VMs of 64, 64, 32, 32 and 16 GiB: three moves reach 13/19/25/25%, and no single move does better.
    expect(plan.spread.after.memory).toBe(5.2);
    expect(plan.notes).toEqual(['no further move within policy lowers the spread enough']);
    expect(moves[0]).toMatchObject({ type: 'migrate', vm: 'a1', from: 'h1', live: true });
    expect((moves[0] as { reason: string }).reason).toBe('load h1 75% -> 50%, h3 0% -> 25%; spread 31.7 -> 19.5 points');
    expect(plan.title).toBe('rebalance c: 3 live migrations (spread of host load 31.7 -> 5.2 points)');
  });

  it('stops at the move limit and says so', () => {
    const plan = planRebalance(input(unbalanced), { threshold: 1, maxMoves: 1 });
    expect(planActions(plan)).toHaveLength(1);
    expect(plan.notes).toEqual(['stopped at the limit of 1 move; run again to go on']);
  });

  it('never uses a failover host, an unhealthy host, or a host a VM may not use; keeps preferred labels and affinity', () => {
    const vmPolicies = [
      vmPolicy('pref', { match: { names: ['a1'] }, placement: { preferHostLabels: { rack: 'r1' } } }),
      vmPolicy('aff', { match: { names: ['a2', 'a3'] }, placement: { affinityGroup: 'g' } }),
      vmPolicy('req', { match: { names: ['a4'] }, placement: { requireHostLabels: { rack: 'r1' } } }),
    ];
    const plan = planRebalance(input(unbalanced, { cluster: { admission: { failoverHosts: ['h2'] } }, health: { h3: 'suspect' }, vmPolicies }), { threshold: 1, maxMoves: 10 });
    // h2 is a failover host and h3 suspect: only h1 and h4 (rack r2) take part; a1 prefers r1, a2/a3 keep together, a4 needs r1.
    expect(planActions(plan)).toEqual([]);
  });

  it('is the same plan whatever the order of the snapshot', () => {
    const i = input(unbalanced);
    const shuffled = { ...i, snapshot: { ...i.snapshot, vms: [...i.snapshot.vms].reverse(), hosts: [...i.snapshot.hosts].reverse() } };
    expect(planRebalance(shuffled, { threshold: 5, maxMoves: 10 }).phases).toEqual(planRebalance(i, { threshold: 5, maxMoves: 10 }).phases);
  });
});

describe('planRequest', () => {
  const view = (name: string, vms: Vm[], over: Partial<ClusterView> = {}): ClusterView => {
    const i = input(vms);
    return { name, provider: 'test', snapshot: { ...i.snapshot, cluster: name }, health: i.health, inflight: [], mode: 'enforce', ...over };
  };
  const policies = PolicySet.empty();

  it.each([
    ['an unknown cluster', { kind: 'rebalance', cluster: 'x' }, [view('a', [])], 'unknown cluster "x" (known: a)'],
    ['an unknown VM, with a hint', { kind: 'migrate', vm: 'web-1', to: 'h2' }, [view('a', [vm('web-01', 'h1')])], 'unknown VM "web-1" (did you mean "web-01"?)'],
    ['a VM in two clusters', { kind: 'migrate', vm: 'v', to: 'h2' }, [view('a', [vm('v', 'h1')]), view('b', [vm('v', 'h1')])], 'VM "v" is in clusters a, b: name one with --cluster'],
    ['a frozen cluster', { kind: 'evacuate', host: 'h1' }, [view('a', [], { frozen: 'mass failure' })], "cluster a is frozen (mass failure); planned work waits until 'vigil unfreeze --cluster a'"],
    ['an observing cluster', { kind: 'resume', host: 'h1' }, [view('a', [], { mode: 'observe' })], 'cluster a is in observe mode: Vigil takes no action on it'],
    ['a cluster another replica leads', { kind: 'migrate', vm: 'v', to: 'h2' }, [view('a', [vm('v', 'h1')], { standby: 'vigil-2' })], 'this replica does not lead cluster a (the leader is vigil-2); ask the leader'],
    ['a named cluster that is frozen, for a rebalance', { kind: 'rebalance', cluster: 'a' }, [view('a', [], { frozen: 'by hand' })], 'cluster a is frozen (by hand)'],
    ['an unread cluster', { kind: 'evacuate', host: 'h1' }, [view('a', [], { snapshot: undefined, error: 'timeout' })], 'no host "h1" in the clusters that answered; a could not be read (timeout)'],
  ] as const)('refuses %s', (_name, req, views, message) => {
    expect(() => planRequest(req as never, views, policies, 0)).toThrow(message);
  });

  it('rebalances every cluster, skipping (and saying why) the ones it must not touch; an evacuation says what capacity is left', () => {
    const plans = planRequest({ kind: 'rebalance' }, [view('a', []), view('b', [], { frozen: 'by hand' })], policies, 0);
    expect(plans.map((p) => [p.cluster, p.title])).toEqual([
      ['a', 'rebalance a: nothing to move'],
      ['b', 'rebalance b: skipped'],
    ]);
    const [evac] = planRequest({ kind: 'evacuate', host: 'h1' }, [view('a', [vm('v', 'h1')])], new PolicySet([clusterPolicy({ admission: { tolerateHostFailures: 1 } })]), 0);
    expect(evac?.notes).toContain('with h1 in maintenance the cluster still tolerates at least 1 host failure (policy wants 1)');
  });
});

describe('planChanged', () => {
  it('is silent for the same plan and names the difference otherwise', () => {
    const i = input([vm('a', 'h1'), vm('b', 'h1')]);
    const plan = planEvacuate(i, { host: 'h1' });
    expect(planChanged(plan, planEvacuate(i, { host: 'h1' }))).toBeUndefined();
    expect(planChanged(JSON.parse(JSON.stringify(plan)) as typeof plan, plan)).toBeUndefined();
    const other = planEvacuate(input([vm('a', 'h1'), vm('c', 'h1')]), { host: 'h1' });
    expect(planChanged(plan, other)).toMatch(/^the cluster changed since the plan was made \(no longer: migrate b h1 -> h\d; now also: migrate c h1 -> h\d\)$/);
    expect(planChanged({ phases: [] }, plan)).toMatch(/now also: .*enter maintenance on h1/);
  });
});
