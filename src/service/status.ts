/**
 * The status report: what `vigil status --json` prints and
 * `GET /api/v1/status` serves (interfaces.md holds the contract fields;
 * the rest are extras).
 */
import type { Action, Unplaced } from '../model/actions.js';
import type { ClusterSnapshot } from '../model/inventory.js';
import type { HostHealth } from '../health/types.js';
import type { Decision } from '../decisions.js';
import { usesCapacity } from '../plan/placement/capacity-state.js';
import type { CapacityReport } from '../plan/capacity.js';
import type { AwaitingFence } from '../plan/restart-plan.js';
import type { FenceStatus } from '../fence/fencer.js';

export interface StatusHost {
  readonly name: string;
  readonly state: string;
  readonly health: string;
  readonly healthReason?: string;
  readonly cpu: number;
  readonly memoryGiB: number;
  readonly vms: number;
  readonly usedCpu: number;
  readonly usedMemoryGiB: number;
  readonly labels: Readonly<Record<string, string>>;
}

export interface StatusVm {
  readonly name: string;
  readonly host: string;
  readonly power: string;
  readonly cpu: number;
  readonly memoryGiB: number;
  readonly datastores: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
}

export interface StatusDatastore {
  readonly name: string;
  readonly capacityGiB: number | null;
  readonly freeGiB: number | null;
  readonly hosts: readonly string[];
  readonly accessible: boolean;
  readonly inaccessibleOn: readonly string[];
}

export interface ClusterStatus {
  readonly name: string;
  readonly provider: string;
  /** Replicated mode: this replica's role for the cluster, and who leads. */
  readonly role?: 'leader' | 'standby' | 'unknown';
  readonly leader?: string;
  /** How often the cluster is polled (the status page calls data stale after a few of these). */
  readonly pollIntervalMs?: number;
  readonly mode: string;
  readonly frozen: boolean;
  readonly frozenReason?: string;
  readonly lastPoll?: string;
  readonly lastError?: string;
  readonly hosts: readonly StatusHost[];
  readonly vms: readonly StatusVm[];
  readonly datastores: readonly StatusDatastore[];
  readonly inflight: readonly Action[];
  readonly unplaced: readonly Unplaced[];
  /** VMs of failed hosts that wait for their host to be proven off, with what a person can do. */
  readonly awaitingFence: readonly AwaitingFence[];
  /** Hosts being fenced, and fencing runs that failed. */
  readonly fencing: readonly FenceStatus[];
  readonly recent: readonly Decision[];
  /** Failover capacity under the cluster's policies. */
  readonly capacity?: CapacityReport;
}

export interface StatusReport {
  readonly generatedAt: string;
  /** `service` when a running controller answered, `direct` when the CLI asked the providers itself, `inventory` offline. */
  readonly source: 'service' | 'direct' | 'inventory';
  readonly clusters: readonly ClusterStatus[];
}

export interface ClusterStatusInput {
  readonly name: string;
  readonly provider: string;
  readonly role?: 'leader' | 'standby' | 'unknown';
  readonly leader?: string;
  readonly pollIntervalMs?: number;
  readonly mode: string;
  readonly frozen: boolean;
  readonly frozenReason?: string;
  readonly snapshot?: ClusterSnapshot;
  readonly health: ReadonlyMap<string, HostHealth>;
  readonly lastPollAt?: number;
  readonly lastError?: string;
  readonly inflight: readonly Action[];
  readonly unplaced: readonly Unplaced[];
  readonly awaitingFence?: readonly AwaitingFence[];
  readonly fencing?: readonly FenceStatus[];
  readonly recent: readonly Decision[];
  readonly capacity?: CapacityReport;
}

/** The health a host has when no detector has watched it: the manager's word, translated. */
export function healthFromManager(state: string): string {
  return state === 'connected' ? 'healthy' : state === 'maintenance' ? 'maintenance' : state === 'notResponding' ? 'suspect' : 'isolated';
}

export function clusterStatus(i: ClusterStatusInput): ClusterStatus {
  const snap = i.snapshot;
  const usage = new Map<string, { vms: number; cpu: number; mem: number }>();
  for (const vm of snap?.vms ?? []) {
    const u = usage.get(vm.host) ?? { vms: 0, cpu: 0, mem: 0 };
    u.vms += 1;
    if (usesCapacity(vm)) {
      u.cpu += vm.cpu;
      u.mem += vm.memoryGiB;
    }
    usage.set(vm.host, u);
  }
  return {
    name: i.name,
    provider: i.provider,
    ...(i.role ? { role: i.role } : {}),
    ...(i.leader ? { leader: i.leader } : {}),
    ...(i.pollIntervalMs !== undefined ? { pollIntervalMs: i.pollIntervalMs } : {}),
    mode: i.mode,
    frozen: i.frozen,
    ...(i.frozenReason ? { frozenReason: i.frozenReason } : {}),
    ...(i.lastPollAt !== undefined ? { lastPoll: new Date(i.lastPollAt).toISOString() } : {}),
    ...(i.lastError ? { lastError: i.lastError } : {}),
    hosts: (snap?.hosts ?? []).map((h) => {
      const health = i.health.get(h.name);
      const u = usage.get(h.name) ?? { vms: 0, cpu: 0, mem: 0 };
      return {
        name: h.name,
        state: h.state,
        health: health?.state ?? healthFromManager(h.state),
        ...(health?.reason ? { healthReason: health.reason } : {}),
        cpu: h.cpu,
        memoryGiB: h.memoryGiB,
        vms: u.vms,
        usedCpu: u.cpu,
        usedMemoryGiB: u.mem,
        labels: h.labels,
      };
    }),
    vms: (snap?.vms ?? []).map((v) => ({ name: v.name, host: v.host, power: v.power, cpu: v.cpu, memoryGiB: v.memoryGiB, datastores: v.datastores, labels: v.labels })),
    datastores: (snap?.datastores ?? []).map((d) => ({
      name: d.name,
      capacityGiB: d.capacityGiB,
      freeGiB: d.freeGiB,
      hosts: d.hosts,
      accessible: d.accessible,
      inaccessibleOn: d.inaccessibleOn,
    })),
    inflight: i.inflight,
    unplaced: i.unplaced,
    awaitingFence: i.awaitingFence ?? [],
    fencing: i.fencing ?? [],
    recent: i.recent,
    ...(i.capacity ? { capacity: i.capacity } : {}),
  };
}
