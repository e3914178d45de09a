/**
 * Committed capacity for planned work, where VMs can also leave a host.
 * Built on CapacityState (what restart placement counts: running VMs,
 * in-flight restarts and migrations reserving their target), plus the
 * members of each host, so that taking a VM off a host frees its
 * anti-affinity and affinity groups there as well as its memory and CPU.
 */
import { SnapshotIndex, type Vm } from '../model/inventory.js';
import type { VmRules } from '../policy/policy-set.js';
import { CapacityState, usesCapacity } from './placement/capacity-state.js';
import { DEFAULT_FILTERS } from './placement/engine.js';
import type { HostCheck, HostLoad, PlacementContext, Rejection } from './placement/types.js';
import type { HostLoadChange, LoadFigures, PlannedInput, Spread } from './planned-work.js';

/** Health states whose VMs no longer use their host (as CapacityState counts them). */
const DOWN = new Set(['failed', 'fenced']);

export class PlannedLoads {
  readonly capacity: CapacityState;
  readonly index: SnapshotIndex;
  readonly ctx: PlacementContext;
  private readonly members = new Map<string, Map<string, Vm>>();
  private readonly rules = new Map<string, VmRules>();
  private readonly checks = new Map<string, HostCheck[]>();

  constructor(readonly input: PlannedInput) {
    const { snapshot, policies, health, inflight } = input;
    this.capacity = new CapacityState(snapshot, health, policies.clusterRules(snapshot.cluster), (vm) => this.rulesOf(vm), inflight);
    this.index = new SnapshotIndex(snapshot);
    this.ctx = { index: this.index, purpose: 'planned' };
    for (const l of this.capacity.loads) this.members.set(l.host.name, new Map());
    for (const vm of snapshot.vms) {
      const load = this.capacity.get(vm.host);
      if (load && !DOWN.has(load.health) && usesCapacity(vm)) this.members.get(vm.host)?.set(vm.name, vm);
    }
    const byName = new Map(snapshot.vms.map((v) => [v.name, v]));
    for (const a of inflight) {
      if (a.type !== 'restart' && a.type !== 'migrate') continue;
      const vm = byName.get(a.vm);
      if (vm && vm.host !== a.to) this.members.get(a.to)?.set(vm.name, vm);
    }
  }

  get loads(): readonly HostLoad[] {
    return this.capacity.loads;
  }

  load(host: string): HostLoad | undefined {
    return this.capacity.get(host);
  }

  rulesOf(vm: Vm): VmRules {
    let r = this.rules.get(vm.name);
    if (!r) {
      r = this.input.policies.vmRules(this.input.snapshot.cluster, vm);
      this.rules.set(vm.name, r);
    }
    return r;
  }

  /** May take planned VMs at all: healthy, connected, and not a dedicated failover host. */
  takesPlannedVms(load: HostLoad): boolean {
    return load.health === 'healthy' && load.host.state === 'connected' && !load.failover;
  }

  /** Every filter that refuses `vm` on `load` now, in filter order (empty: it may go there). */
  refusals(vm: Vm, load: HostLoad): Rejection[] {
    let checks = this.checks.get(vm.name);
    if (!checks) {
      checks = [];
      for (const f of DEFAULT_FILTERS) {
        const c = f.prepare({ vm, rules: this.rulesOf(vm) }, this.ctx);
        if (c) checks.push(c);
      }
      this.checks.set(vm.name, checks);
    }
    const out: Rejection[] = [];
    for (const c of checks) {
      const r = c(load);
      if (r) out.push(r);
    }
    return out;
  }

  /** The first refusal only: the cheap question "may it go there?". */
  refuses(vm: Vm, load: HostLoad): boolean {
    if (!this.checks.has(vm.name)) return this.refusals(vm, load).length > 0;
    for (const c of this.checks.get(vm.name) as HostCheck[]) if (c(load)) return true;
    return false;
  }

  move(vm: Vm, from: HostLoad, to: HostLoad): void {
    this.release(vm, from);
    this.place(vm, to);
  }

  place(vm: Vm, to: HostLoad): void {
    this.capacity.commit(to, vm, this.rulesOf(vm));
    this.members.get(to.host.name)?.set(vm.name, vm);
  }

  /** Takes a VM's use off a host; its groups there are recounted from the VMs that remain. */
  release(vm: Vm, from: HostLoad): void {
    const members = this.members.get(from.host.name);
    if (!members?.delete(vm.name)) return;
    from.usedCpu -= vm.cpu;
    from.usedMemoryGiB -= vm.memoryGiB;
    from.vmCount -= 1;
    from.groups.clear();
    from.affinity.clear();
    for (const m of members.values()) {
      const r = this.rulesOf(m);
      if (r.antiAffinityGroup) from.groups.add(r.antiAffinityGroup);
      if (r.affinityGroup) from.affinity.set(r.affinityGroup, (from.affinity.get(r.affinityGroup) ?? 0) + 1);
    }
  }

  /** VMs counted on a host now (running there, or arriving by an action in flight). */
  membersOf(host: string): readonly Vm[] {
    return [...(this.members.get(host)?.values() ?? [])];
  }

  figures(load: HostLoad): LoadFigures {
    return {
      memoryPercent: percent(load.usedMemoryGiB, load.memoryCapacityGiB),
      cpuPercent: percent(load.usedCpu, load.cpuCapacity),
      usedMemoryGiB: round(load.usedMemoryGiB),
      usedCpu: load.usedCpu,
      vms: load.vmCount,
    };
  }
}

/** Population standard deviation of host load, memory use and CPU use over `loads`, in percentage points. */
export function spreadOf(loads: readonly HostLoad[]): Spread {
  return { load: round(100 * stdev(loads.map(hostLoad))), memory: round(100 * stdev(loads.map(memoryUse))), cpu: round(100 * stdev(loads.map(cpuUse))) };
}

/** A host's load: the larger of its memory and CPU use, as the balance scorer measures a host. */
export function hostLoad(l: HostLoad): number {
  return Math.max(memoryUse(l), cpuUse(l));
}

export function memoryUse(l: HostLoad): number {
  return l.memoryCapacityGiB > 0 ? l.usedMemoryGiB / l.memoryCapacityGiB : 0;
}

export function cpuUse(l: HostLoad): number {
  return l.cpuCapacity > 0 ? l.usedCpu / l.cpuCapacity : 0;
}

function stdev(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  return Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length);
}

function percent(used: number, cap: number): number {
  return cap > 0 ? round((100 * used) / cap) : 0;
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

/** Each host's load before and after a plan, in host-name order. */
export function hostChanges(before: PlannedLoads, after: PlannedLoads, roles: ReadonlyMap<string, NonNullable<HostLoadChange['role']>> = new Map()): HostLoadChange[] {
  return before.loads.map((b) => {
    const a = after.load(b.host.name) ?? b;
    const role = roles.get(b.host.name) ?? (b.failover ? 'failover' : undefined);
    const state = b.health === 'healthy' && b.host.state !== 'connected' ? b.host.state : b.health;
    return { host: b.host.name, state, ...(role ? { role } : {}), before: before.figures(b), after: after.figures(a) };
  });
}

/** The spread before and after, over the hosts that take planned VMs once the plan is done (minus `leaving`). */
export function spreadChange(before: PlannedLoads, after: PlannedLoads, leaving: ReadonlySet<string> = new Set()): { before: Spread; after: Spread } {
  const names = after.loads.filter((l) => after.takesPlannedVms(l) && !leaving.has(l.host.name)).map((l) => l.host.name);
  const pick = (p: PlannedLoads) => names.map((n) => p.load(n) as HostLoad);
  return { before: spreadOf(pick(before)), after: spreadOf(pick(after)) };
}
