import { describe, expect, it } from 'vitest';
import { planRecovery } from '../../src/plan/restart-plan.js';
import { PolicySet } from '../../src/policy/policy-set.js';
import type { ClusterPolicyDoc, VmPolicyDoc } from '../../src/policy/schema.js';
import { healthOf, host, snapshot, vm } from '../helpers/build.js';

const vmPolicy = (name: string, p: Partial<VmPolicyDoc>): VmPolicyDoc => ({ kind: 'VmPolicy', name, cluster: '*', match: {}, ...p });
const clusterPolicy = (p: Partial<ClusterPolicyDoc>): ClusterPolicyDoc => ({ kind: 'ClusterPolicy', cluster: '*', ...p });

describe('planRecovery', () => {
  const hosts = [host('a', { state: 'notResponding' }), host('b', { memoryGiB: 64 }), host('c', { memoryGiB: 64 })];

  it('restarts the running VMs of a failed host, and only those', () => {
    const plan = planRecovery({
      snapshot: snapshot(hosts, [vm('on', 'a'), vm('off', 'a', { power: 'off' }), vm('susp', 'a', { power: 'suspended' }), vm('other', 'b')]),
      health: healthOf({ a: 'fenced', b: 'healthy', c: 'healthy' }),
      policies: PolicySet.empty(),
      inflight: [],
      now: 0,
    });
    expect(plan.actions.map((a) => a.vm)).toEqual(['on']);
    expect(plan.unplaced).toEqual([]);
  });

  it('does nothing while the host is only suspect', () => {
    const plan = planRecovery({ snapshot: snapshot(hosts, [vm('on', 'a')]), health: healthOf({ a: 'suspect', b: 'healthy', c: 'healthy' }), policies: PolicySet.empty(), inflight: [], now: 0 });
    expect(plan.actions).toEqual([]);
  });

  it('orders waves by priority and, within a wave, the largest VMs first', () => {
    const policies = new PolicySet([], [vmPolicy('hi', { match: { names: ['hi-*'] }, restart: { priority: 'highest' } }), vmPolicy('lo', { match: { names: ['lo-*'] }, restart: { priority: 'low' } })]);
    const plan = planRecovery({
      snapshot: snapshot([host('a', { state: 'notResponding' }), host('b')], [vm('lo-1', 'a', { memoryGiB: 64 }), vm('mid-small', 'a', { memoryGiB: 4 }), vm('mid-big', 'a', { memoryGiB: 32 }), vm('hi-1', 'a')]),
      health: healthOf({ a: 'fenced', b: 'healthy' }),
      policies,
      inflight: [],
      now: 0,
    });
    expect(plan.actions.map((a) => [a.vm, a.wave, a.priority])).toEqual([
      ['hi-1', 1, 'highest'],
      ['mid-big', 2, 'medium'],
      ['mid-small', 2, 'medium'],
      ['lo-1', 3, 'low'],
    ]);
  });

  it('never commits memory beyond the ratio and says why a VM stays down', () => {
    const plan = planRecovery({
      snapshot: snapshot(hosts, [vm('big', 'a', { memoryGiB: 48 }), vm('big2', 'a', { memoryGiB: 48 }), vm('big3', 'a', { memoryGiB: 48 }), vm('filler', 'b', { memoryGiB: 16 })]),
      health: healthOf({ a: 'fenced', b: 'healthy', c: 'healthy' }),
      policies: PolicySet.empty(),
      inflight: [],
      now: 0,
    });
    expect(plan.actions.map((a) => `${a.vm}->${a.to}`)).toEqual(['big->c', 'big2->b']);
    expect(plan.unplaced).toEqual([{ vm: 'big3', vmId: 'big3', cluster: 'c', from: 'a', priority: 'medium', reason: '2 hosts lack 48 GiB free memory, 1 host is fenced' }]);
  });

  it('honours the memory overcommit ratio of a ClusterPolicy', () => {
    const policies = new PolicySet([clusterPolicy({ overcommit: { memory: 1.5 } })], []);
    const plan = planRecovery({
      snapshot: snapshot([host('a', { state: 'notResponding' }), host('b', { memoryGiB: 64 })], [vm('v', 'a', { memoryGiB: 90 })]),
      health: healthOf({ a: 'fenced', b: 'healthy' }),
      policies,
      inflight: [],
      now: 0,
    });
    expect(plan.actions.map((a) => a.to)).toEqual(['b']);
  });

  it('keeps anti-affinity groups apart and honours required labels', () => {
    const policies = new PolicySet([], [vmPolicy('db', { match: { names: ['db-*'] }, placement: { antiAffinityGroup: 'db', requireHostLabels: { rack: 'r1' } } })]);
    const plan = planRecovery({
      snapshot: snapshot(
        [host('a', { state: 'notResponding', labels: { rack: 'r1' } }), host('b', { labels: { rack: 'r1' } }), host('c', { labels: { rack: 'r1' } }), host('d', { labels: { rack: 'r2' } })],
        [vm('db-1', 'a'), vm('db-2', 'a'), vm('db-3', 'a')],
      ),
      health: healthOf({ a: 'fenced', b: 'healthy', c: 'healthy', d: 'healthy' }),
      policies,
      inflight: [],
      now: 0,
    });
    expect(plan.actions.map((a) => `${a.vm}->${a.to}`)).toEqual(['db-1->b', 'db-2->c']);
    expect(plan.unplaced[0]?.reason).toBe('2 hosts break anti-affinity group db, 1 host is fenced, 1 host lacks label rack=r1');
  });

  it('restarts nothing from a failed host until it is fenced, unless policy needs no fence', () => {
    const s = snapshot(hosts, [vm('x', 'a'), vm('y', 'a')]);
    const health = healthOf({ a: 'failed', b: 'healthy', c: 'healthy' });
    const required = planRecovery({ snapshot: s, health, policies: PolicySet.empty(), inflight: [], now: 0 });
    expect(required.actions).toEqual([]);
    expect(required.awaitingFence.map((w) => w.vm)).toEqual(['x', 'y']);
    expect(required.awaitingFence[0]?.reason).toBe('host a must be proven off first, and no fencing agent is configured for it: once it is off, run `vigil fence confirm a`');
    const withAgent = planRecovery({ snapshot: s, health, policies: PolicySet.empty(), inflight: [], now: 0, fenceable: new Set(['a']) });
    expect(withAgent.awaitingFence[0]?.reason).toBe('host a must be fenced first');
    const ifConfigured = new PolicySet([clusterPolicy({ fencing: 'ifConfigured' })], [vmPolicy('y-needs-fence', { match: { names: ['y'] }, restart: { fencing: 'required' } })]);
    const mixed = planRecovery({ snapshot: s, health, policies: ifConfigured, inflight: [], now: 0 });
    expect(mixed.actions.map((a) => a.vm)).toEqual(['x']);
    expect(mixed.awaitingFence.map((w) => w.vm)).toEqual(['y']);
    const fencedPlan = planRecovery({ snapshot: s, health: healthOf({ a: 'fenced', b: 'healthy', c: 'healthy' }), policies: PolicySet.empty(), inflight: [], now: 0 });
    expect(fencedPlan.actions.map((a) => a.vm)).toEqual(['x', 'y']);
  });

  it('skips VMs whose restart is disabled or that the platform recovers itself', () => {
    const policies = new PolicySet([], [vmPolicy('off', { match: { names: ['dev-*'] }, restart: { priority: 'disabled' } })]);
    const plan = planRecovery({
      snapshot: snapshot(hosts, [vm('dev-1', 'a'), vm('ha-1', 'a', { managedBy: 'pve-ha' })]),
      health: healthOf({ a: 'fenced', b: 'healthy', c: 'healthy' }),
      policies,
      inflight: [],
      now: 0,
    });
    expect(plan.actions).toEqual([]);
    expect(plan.skipped.map((s) => s.vm)).toEqual(['dev-1', 'ha-1']);
  });

  it('does not plan a VM already in flight, and reserves its target', () => {
    const s = snapshot([host('a', { state: 'notResponding' }), host('b', { memoryGiB: 16 })], [vm('x', 'a', { memoryGiB: 10 }), vm('y', 'a', { memoryGiB: 10 })]);
    const first = planRecovery({ snapshot: s, health: healthOf({ a: 'fenced', b: 'healthy' }), policies: PolicySet.empty(), inflight: [], now: 0 });
    expect(first.actions.map((a) => a.vm)).toEqual(['x']);
    const second = planRecovery({ snapshot: s, health: healthOf({ a: 'fenced', b: 'healthy' }), policies: PolicySet.empty(), inflight: first.actions, now: 1 });
    expect(second.actions).toEqual([]);
    expect(second.unplaced.map((u) => u.vm)).toEqual(['y']);
  });

  it('only places on hosts that reach every datastore of the VM', () => {
    const hs = [host('a', { state: 'notResponding' }), host('b'), host('c')];
    const plan = planRecovery({
      snapshot: snapshot(hs, [vm('v', 'a', { datastores: ['ds-ac'] })], [{ name: 'ds-ac', id: 'ds-ac', capacityGiB: 1, freeGiB: 1, hosts: ['a', 'c'], accessible: true, inaccessibleOn: [] }]),
      health: healthOf({ a: 'fenced', b: 'healthy', c: 'healthy' }),
      policies: PolicySet.empty(),
      inflight: [],
      now: 0,
    });
    expect(plan.actions.map((a) => a.to)).toEqual(['c']);
  });
});
