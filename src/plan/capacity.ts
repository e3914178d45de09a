/**
 * Failover capacity: how many host failures a cluster survives with every
 * restartable VM placed under its policies, and what is short otherwise.
 * Pure, and built on the restart planner itself, so the answer takes every
 * rule into account (ratios, anti-affinity, labels, datastores, failover
 * hosts).
 *
 * Exact where it is cheap: every combination of k failed hosts is planned,
 * for k = 1, 2, ... while the number of combinations stays within the
 * budget. Beyond it, a stated worst case: the k hosts carrying the most
 * restartable memory fail together (ties by name); this is what usually
 * breaks first, but it is not a proof, and the report says `heuristic`.
 *
 * A VM that no other host can run (its disks are on storage only its own
 * host reaches) is no shortfall of capacity: no amount of room elsewhere
 * brings it back. It is listed apart, as `unprotected`, and left out of the
 * shortfall.
 */
import type { Unplaced } from '../model/actions.js';
import { SnapshotIndex, type ClusterSnapshot, type Vm } from '../model/inventory.js';
import type { HostHealth } from '../health/types.js';
import { isFailoverHost, type PolicySet } from '../policy/policy-set.js';
import { usesCapacity } from './placement/capacity-state.js';
import { planRecovery } from './restart-plan.js';
import { storageProtection } from '../storage/protection.js';

/** A running VM that cannot restart on any other host, whatever the capacity. */
export interface UnprotectedVm {
  readonly vm: string;
  readonly host: string;
  /** "local storage (local-esx-01)", ... */
  readonly reason: string;
}

export interface CapacityOptions {
  /** Plans the exact search may make in all; beyond it, the heuristic. */
  readonly budget?: number;
  /** Stop counting after this many tolerated failures (the answer is then "at least"). */
  readonly maxFailures?: number;
}

export interface CapacityReport {
  readonly cluster: string;
  /** Hosts that could fail now (healthy ones). */
  readonly hosts: number;
  /** Host failures survived with every restartable VM placed. */
  readonly tolerates: number;
  /** True when counting stopped at maxFailures without finding a shortfall. */
  readonly atLeast: boolean;
  /** What policy asks for (admission.tolerateHostFailures). */
  readonly required: number;
  readonly method: 'exact' | 'heuristic';
  readonly plansMade: number;
  /** The first failure set found that leaves VMs down, and why. */
  readonly shortfall?: { readonly failed: readonly string[]; readonly unplaced: readonly Unplaced[]; readonly memoryGiBShort: number };
  readonly reserve: { readonly cpuPercent: number; readonly memoryPercent: number; readonly usedCpuPercent: number; readonly usedMemoryPercent: number; readonly ok: boolean };
  readonly failoverHosts: readonly string[];
  /** Failover hosts that run VMs now (after a failover, or by hand): they no longer stand by. */
  readonly failoverHostsInUse: readonly string[];
  /** Restartable VMs no other host can run (local storage), apart from the shortfall; they do not change `ok`. Absent from older controllers. */
  readonly unprotected?: readonly UnprotectedVm[];
  /** Meets tolerateHostFailures and the reserve. */
  readonly ok: boolean;
}

export function capacityReport(snapshot: ClusterSnapshot, health: ReadonlyMap<string, HostHealth>, policies: PolicySet, options: CapacityOptions = {}): CapacityReport {
  const budget = options.budget ?? 2_000;
  const rules = policies.clusterRules(snapshot.cluster);
  const maxFailures = options.maxFailures ?? Math.max(rules.tolerateHostFailures + 1, 3);
  const stateOf = (host: string) => health.get(host)?.state ?? (snapshot.hosts.find((h) => h.name === host)?.state === 'connected' ? 'healthy' : 'suspect');
  const candidates = snapshot.hosts.filter((h) => stateOf(h.name) === 'healthy' && h.state === 'connected').map((h) => h.name).sort();

  const restartable = (vm: Vm) => vm.power === 'on' && !vm.managedBy && policies.vmRules(snapshot.cluster, vm).priority !== 'disabled';
  const index = new SnapshotIndex(snapshot);
  const unprotected: UnprotectedVm[] = [];
  for (const vm of snapshot.vms) {
    if (!restartable(vm)) continue;
    const p = storageProtection(vm, index, policies.replicationRules(snapshot.cluster, vm).acceptDataLoss);
    if (p?.state === 'unprotected') unprotected.push({ vm: vm.name, host: vm.host, reason: p.reason });
  }
  unprotected.sort((a, b) => (a.vm < b.vm ? -1 : a.vm > b.vm ? 1 : 0));
  const stuck = new Set(unprotected.map((u) => u.vm));
  const loadOf = new Map<string, number>();
  for (const vm of snapshot.vms) if (restartable(vm) && !stuck.has(vm.name)) loadOf.set(vm.host, (loadOf.get(vm.host) ?? 0) + vm.memoryGiB);

  let plansMade = 0;
  let method: 'exact' | 'heuristic' = 'exact';
  let tolerates = 0;
  let shortfall: CapacityReport['shortfall'];
  const trial = (failed: readonly string[]) => {
    plansMade += 1;
    const h = new Map(health);
    for (const f of failed) h.set(f, { host: f, state: 'failed', since: 0, reason: 'what-if' });
    // Capacity is about room, not proof: the failed hosts are taken as fenced.
    return planRecovery({ snapshot, health: h, policies, inflight: [], now: snapshot.takenAt, assumeFenced: true });
  };

  search: for (let k = 1; k <= Math.min(maxFailures, candidates.length); k++) {
    const exact = plansMade + combinations(candidates.length, k) <= budget;
    if (!exact) method = 'heuristic';
    const sets = exact ? subsets(candidates, k) : [worstCase(candidates, loadOf, k)];
    for (const failed of sets) {
      const plan = trial(failed);
      const short = plan.unplaced.filter((u) => !stuck.has(u.vm));
      if (short.length) {
        const vms = new Map(snapshot.vms.map((v) => [v.name, v]));
        shortfall = { failed, unplaced: short, memoryGiBShort: short.reduce((s, u) => s + (vms.get(u.vm)?.memoryGiB ?? 0), 0) };
        break search;
      }
    }
    tolerates = k;
  }
  const atLeast = !shortfall && tolerates === Math.min(maxFailures, candidates.length) && tolerates < candidates.length;

  // Hosts still in service carry both the load and the capacity; failed and maintenance hosts carry neither.
  const inService = new Set(snapshot.hosts.filter((h) => !['failed', 'fenced', 'maintenance'].includes(stateOf(h.name)) && h.state !== 'maintenance').map((h) => h.name));
  let usedCpu = 0;
  let usedMem = 0;
  for (const vm of snapshot.vms) {
    if (!usesCapacity(vm) || !inService.has(vm.host)) continue;
    usedCpu += vm.cpu;
    usedMem += vm.memoryGiB;
  }
  const usable = snapshot.hosts.filter((h) => inService.has(h.name));
  const cpuCap = usable.reduce((s, h) => s + h.cpu * rules.overcommit.cpu, 0);
  const memCap = usable.reduce((s, h) => s + h.memoryGiB * rules.overcommit.memory, 0);
  const usedCpuPercent = cpuCap ? round((100 * usedCpu) / cpuCap) : 100;
  const usedMemoryPercent = memCap ? round((100 * usedMem) / memCap) : 100;
  const reserveOk = usedCpuPercent <= 100 - rules.reservePercent.cpu && usedMemoryPercent <= 100 - rules.reservePercent.memory;
  const failoverHosts = snapshot.hosts.filter((h) => isFailoverHost(rules, h.name)).map((h) => h.name);
  const busy = new Set(snapshot.vms.filter((v) => usesCapacity(v)).map((v) => v.host));
  return {
    cluster: snapshot.cluster,
    hosts: candidates.length,
    tolerates,
    atLeast,
    required: rules.tolerateHostFailures,
    method,
    plansMade,
    ...(shortfall ? { shortfall } : {}),
    reserve: { cpuPercent: rules.reservePercent.cpu, memoryPercent: rules.reservePercent.memory, usedCpuPercent, usedMemoryPercent, ok: reserveOk },
    failoverHosts,
    failoverHostsInUse: failoverHosts.filter((h) => busy.has(h)),
    unprotected,
    ok: tolerates >= rules.tolerateHostFailures && reserveOk,
  };
}

/** One line a person can read: "tolerates 1 host failure (policy: 1); ...". */
export function describeCapacity(r: CapacityReport): string {
  const n = `${r.atLeast ? 'at least ' : ''}${r.tolerates} host failure${r.tolerates === 1 ? '' : 's'}`;
  const parts = [`tolerates ${n} (policy wants ${r.required}, ${r.method})`];
  if (r.shortfall) {
    const first = r.shortfall.unplaced[0];
    parts.push(`if ${r.shortfall.failed.join(' + ')} failed, ${r.shortfall.unplaced.length} VM(s) would stay down (${r.shortfall.memoryGiBShort} GiB)${first ? `, e.g. ${first.vm}: ${first.reason}` : ''}`);
  }
  if (!r.reserve.ok) parts.push(`reserve not kept: memory ${r.reserve.usedMemoryPercent}% used of ${100 - r.reserve.memoryPercent}% allowed, CPU ${r.reserve.usedCpuPercent}% of ${100 - r.reserve.cpuPercent}%`);
  if (r.failoverHostsInUse.length) parts.push(`failover host(s) in use: ${r.failoverHostsInUse.join(', ')}`);
  // Older reports (a controller before this field) have no list.
  const stuck = r.unprotected ?? [];
  if (stuck.length) parts.push(`${stuck.length} VM(s) unprotected: ${stuck.slice(0, 3).map((u) => `${u.vm} on ${u.host}: ${u.reason}`).join('; ')}${stuck.length > 3 ? `; and ${stuck.length - 3} more` : ''}`);
  return parts.join('; ');
}

function worstCase(hosts: readonly string[], load: ReadonlyMap<string, number>, k: number): string[] {
  return [...hosts].sort((a, b) => (load.get(b) ?? 0) - (load.get(a) ?? 0) || (a < b ? -1 : 1)).slice(0, k).sort();
}

function combinations(n: number, k: number): number {
  let c = 1;
  for (let i = 1; i <= k; i++) {
    c = (c * (n - k + i)) / i;
    if (c > 1e12) return Infinity;
  }
  return Math.round(c);
}

function* subsets(items: readonly string[], k: number): Generator<string[]> {
  const idx = Array.from({ length: k }, (_, i) => i);
  for (;;) {
    yield idx.map((i) => items[i] as string);
    let i = k - 1;
    while (i >= 0 && idx[i] === items.length - k + i) i--;
    if (i < 0) return;
    idx[i] = (idx[i] as number) + 1;
    for (let j = i + 1; j < k; j++) idx[j] = (idx[j - 1] as number) + 1;
  }
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}
