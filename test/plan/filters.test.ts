/** One table per placement filter: what it lets through and the words it refuses with. */
import { describe, expect, it } from 'vitest';
import { SnapshotIndex } from '../../src/model/inventory.js';
import { antiAffinity } from '../../src/plan/placement/filters/anti-affinity.js';
import { cpuCapacity } from '../../src/plan/placement/filters/cpu-capacity.js';
import { datastoresReachable } from '../../src/plan/placement/filters/datastores-reachable.js';
import { hostUsable } from '../../src/plan/placement/filters/host-usable.js';
import { memoryCapacity } from '../../src/plan/placement/filters/memory-capacity.js';
import { requiredLabels } from '../../src/plan/placement/filters/required-labels.js';
import type { HostLoad, PlacementFilter } from '../../src/plan/placement/types.js';
import type { HostHealthState } from '../../src/health/types.js';
import { DEFAULT_VM_RULES, type VmRules } from '../../src/policy/policy-set.js';
import { host, sharedDatastore, snapshot, vm } from '../helpers/build.js';

function load(over: Partial<HostLoad> & { name?: string; health?: HostHealthState } = {}): HostLoad {
  const h = host(over.name ?? 'h1', over.host ?? {});
  return { host: h, ordinal: h.name === 'h2' ? 1 : 0, health: 'healthy', cpuCapacity: 32, memoryCapacityGiB: 256, usedCpu: 0, usedMemoryGiB: 0, vmCount: 0, groups: new Set(), affinity: new Map(), failover: false, ...over };
}

const ctx = { purpose: 'restart' as const, index: new SnapshotIndex(snapshot([host('h1'), host('h2')], [], [sharedDatastore([host('h1')], { name: 'ds' }), { ...sharedDatastore([host('h1'), host('h2')]), name: 'ds-lost', inaccessibleOn: ['h1'] }])) };

function check(filter: PlacementFilter, l: HostLoad, vmOver: Parameters<typeof vm>[2] = {}, rules: Partial<VmRules> = {}) {
  const r = filter.prepare({ vm: vm('v', 'x', vmOver), rules: { ...DEFAULT_VM_RULES, ...rules } }, ctx)?.(l);
  return r?.one;
}

describe('placement filters', () => {
  it.each([
    [load(), undefined],
    [load({ health: 'failed' }), 'is failed'],
    [load({ health: 'suspect' }), 'is suspect'],
    [load({ health: 'maintenance' }), 'is in maintenance'],
    [load({ host: host('h1', { state: 'maintenance' }) }), 'is in maintenance'],
    [load({ host: host('h1', { state: 'disconnected' }) }), 'is disconnected'],
  ])('host-usable %#', (l, want) => expect(check(hostUsable, l)).toBe(want));

  it.each([
    [{ usedMemoryGiB: 248 }, 8, undefined],
    [{ usedMemoryGiB: 249 }, 8, 'lacks 8 GiB free memory'],
    [{ usedMemoryGiB: 0, memoryCapacityGiB: 4 }, 8, 'lacks 8 GiB free memory'],
  ])('memory-capacity %#', (over, mem, want) => expect(check(memoryCapacity, load(over), { memoryGiB: mem })).toBe(want));

  it.each([
    [{ usedCpu: 30 }, 2, undefined],
    [{ usedCpu: 31 }, 2, 'lacks 2 free vCPUs'],
  ])('cpu-capacity %#', (over, cpu, want) => expect(check(cpuCapacity, load(over), { cpu })).toBe(want));

  it.each([
    ['h1', ['ds'], undefined],
    ['h2', ['ds'], 'cannot reach datastore ds'],
    ['h1', ['ds-lost'], 'cannot reach datastore ds-lost'],
    ['h2', ['ds-lost'], undefined],
    ['h1', ['nowhere'], 'cannot reach datastore nowhere'],
  ])('datastores-reachable on %s with %j', (name, ds, want) => expect(check(datastoresReachable, load({ name, host: host(name) }), { datastores: ds })).toBe(want));

  it.each([
    [{ rack: 'r1' }, { rack: 'r1' }, undefined],
    [{ rack: 'r2' }, { rack: 'r1' }, 'lacks label rack=r1'],
    [{}, { rack: 'r1' }, 'lacks label rack=r1'],
    [{ rack: 'r1' }, {}, undefined],
  ])('required-labels host %j need %j', (labels, need, want) =>
    expect(check(requiredLabels, load({ host: host('h1', { labels }) }), {}, { requireHostLabels: need })).toBe(want),
  );

  it.each([
    [['db'], 'db', 'breaks anti-affinity group db'],
    [['web'], 'db', undefined],
    [['db'], undefined, undefined],
  ])('anti-affinity host groups %j, vm group %s', (groups, group, want) =>
    expect(check(antiAffinity, load({ groups: new Set(groups) }), {}, group ? { antiAffinityGroup: group } : {})).toBe(want),
  );
});
