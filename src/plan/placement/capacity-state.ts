/**
 * What every host has committed, as the planner counts it: VMs powered on
 * (or of unknown power, counted to be safe) on hosts that are still alive,
 * plus restarts and migrations in flight towards a host. Updated as the
 * plan places VMs so each placement sees the ones before it.
 */
import type { ClusterSnapshot, Vm } from '../../model/inventory.js';
import type { Action } from '../../model/actions.js';
import type { HostHealth } from '../../health/types.js';
import { isFailoverHost, type ClusterRules, type VmRules } from '../../policy/policy-set.js';
import type { HostLoad } from './types.js';

/** Health states whose VMs no longer use their host (they are down, or about to restart elsewhere). */
const DOWN = new Set(['failed', 'fenced']);

export function usesCapacity(vm: Vm): boolean {
  return vm.power === 'on' || vm.power === 'unknown';
}

export class CapacityState {
  readonly loads: HostLoad[];
  private readonly byName = new Map<string, HostLoad>();

  constructor(
    snapshot: ClusterSnapshot,
    health: ReadonlyMap<string, HostHealth>,
    cluster: ClusterRules,
    rulesOf: (vm: Vm) => VmRules,
    inflight: readonly Action[] = [],
  ) {
    this.loads = snapshot.hosts
      .map((host, ordinal) => ({ host, ordinal }))
      .sort((a, b) => (a.host.name < b.host.name ? -1 : a.host.name > b.host.name ? 1 : 0))
      .map(({ host, ordinal }) => ({
        host,
        ordinal,
        health: health.get(host.name)?.state ?? (host.state === 'maintenance' ? 'maintenance' : host.state === 'connected' ? 'healthy' : 'suspect'),
        cpuCapacity: host.cpu * cluster.overcommit.cpu,
        memoryCapacityGiB: host.memoryGiB * cluster.overcommit.memory,
        usedCpu: 0,
        usedMemoryGiB: 0,
        vmCount: 0,
        groups: new Set<string>(),
        affinity: new Map<string, number>(),
        failover: isFailoverHost(cluster, host.name),
      }));
    for (const l of this.loads) this.byName.set(l.host.name, l);
    const moving = new Map<string, Extract<Action, { type: 'restart' | 'migrate' }>>();
    for (const a of inflight) if (a.type === 'restart' || a.type === 'migrate') moving.set(a.vm, a);
    for (const vm of snapshot.vms) {
      const load = this.byName.get(vm.host);
      if (!load || DOWN.has(load.health) || !usesCapacity(vm)) continue;
      this.add(load, vm, rulesOf(vm));
    }
    // Only when something is in flight: a map of every VM is not free on a large cluster.
    const vmsByName = moving.size ? new Map(snapshot.vms.map((v) => [v.name, v])) : new Map<string, Vm>();
    for (const a of moving.values()) {
      const vm = vmsByName.get(a.vm);
      const target = this.byName.get(a.to);
      // A migration already counts on its source; reserve the target too until it lands.
      if (vm && target && vm.host !== a.to) this.add(target, vm, rulesOf(vm));
    }
  }

  get(host: string): HostLoad | undefined {
    return this.byName.get(host);
  }

  commit(host: HostLoad, vm: Vm, rules: VmRules): void {
    this.add(host, vm, rules);
  }

  private add(load: HostLoad, vm: Vm, rules: VmRules): void {
    load.usedCpu += vm.cpu;
    load.usedMemoryGiB += vm.memoryGiB;
    load.vmCount += 1;
    if (rules.antiAffinityGroup) load.groups.add(rules.antiAffinityGroup);
    if (rules.affinityGroup) load.affinity.set(rules.affinityGroup, (load.affinity.get(rules.affinityGroup) ?? 0) + 1);
  }
}
