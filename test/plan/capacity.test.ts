import { describe, expect, it } from 'vitest';
import { capacityReport, describeCapacity } from '../../src/plan/capacity.js';
import { PolicySet } from '../../src/policy/policy-set.js';
import type { ClusterPolicyDoc } from '../../src/policy/schema.js';
import { healthOf, host, snapshot, vm } from '../helpers/build.js';

const policy = (admission: ClusterPolicyDoc['admission']) => new PolicySet([{ kind: 'ClusterPolicy', cluster: '*', admission }], []);

describe('capacityReport', () => {
  const hosts = [host('a', { memoryGiB: 100 }), host('b', { memoryGiB: 100 }), host('c', { memoryGiB: 100 })];
  const healthy = healthOf({ a: 'healthy', b: 'healthy', c: 'healthy' });

  it('counts the failures survived, exactly, and names the first shortfall', () => {
    const s = snapshot(hosts, [vm('a1', 'a', { memoryGiB: 40 }), vm('b1', 'b', { memoryGiB: 40 }), vm('c1', 'c', { memoryGiB: 40 })]);
    const r = capacityReport(s, healthy, policy({ tolerateHostFailures: 1 }));
    expect(r).toMatchObject({ tolerates: 1, required: 1, method: 'exact', ok: true, atLeast: false });
    expect(r.shortfall?.failed).toEqual(['a', 'b']);
    expect(r.shortfall?.unplaced.map((u) => u.vm)).toEqual(['b1']);
    expect(r.plansMade).toBe(3 + 1);
  });

  it('is below policy when one failure already strands a VM', () => {
    const s = snapshot(hosts, [vm('a1', 'a', { memoryGiB: 90 }), vm('b1', 'b', { memoryGiB: 90 }), vm('c1', 'c', { memoryGiB: 20 })]);
    const r = capacityReport(s, healthy, policy({ tolerateHostFailures: 1 }));
    expect(r).toMatchObject({ tolerates: 0, ok: false });
    expect(describeCapacity(r)).toMatch(/^tolerates 0 host failures \(policy wants 1, exact\); if a failed, 1 VM\(s\) would stay down \(90 GiB\)/);
  });

  it('says "at least" when it stops counting without a shortfall', () => {
    const s = snapshot([...hosts, host('d'), host('e')], [vm('a1', 'a', { memoryGiB: 1 })]);
    const r = capacityReport(s, healthOf({ a: 'healthy', b: 'healthy', c: 'healthy', d: 'healthy', e: 'healthy' }), PolicySet.empty(), { maxFailures: 2 });
    expect(r).toMatchObject({ tolerates: 2, atLeast: true, ok: true });
  });

  it('falls back to the worst-case heuristic beyond its budget, and says so', () => {
    const many = Array.from({ length: 12 }, (_, i) => host(`h${String(i).padStart(2, '0')}`, { memoryGiB: 100 }));
    const s = snapshot(many, many.map((h, i) => vm(`v${i}`, h.name, { memoryGiB: 30 })));
    const r = capacityReport(s, new Map(), PolicySet.empty(), { budget: 20, maxFailures: 3 });
    expect(r.method).toBe('heuristic');
    expect(r.plansMade).toBeLessThanOrEqual(12 + 2);
  });

  it('checks the reserve against memory in use', () => {
    const s = snapshot(hosts, [vm('a1', 'a', { memoryGiB: 90 }), vm('b1', 'b', { memoryGiB: 90 }), vm('c1', 'c', { memoryGiB: 90 })]);
    const r = capacityReport(s, healthy, policy({ reservePercent: { memory: 20 } }));
    expect(r.reserve).toEqual({ cpuPercent: 0, memoryPercent: 20, usedCpuPercent: 1.6, usedMemoryPercent: 90, ok: false });
    expect(r.ok).toBe(false);
  });

  it('reports failover hosts that are no longer empty', () => {
    const s = snapshot(hosts, [vm('c1', 'c', { memoryGiB: 10 })]);
    const r = capacityReport(s, healthy, policy({ failoverHosts: ['c'] }));
    expect(r.failoverHosts).toEqual(['c']);
    expect(r.failoverHostsInUse).toEqual(['c']);
  });
});
