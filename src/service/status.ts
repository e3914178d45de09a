/**
 * The status report: what `vigil status --json` prints and
 * `GET /api/v1/status` serves (interfaces.md holds the contract fields;
 * the rest are extras).
 */
import type { Action, Unplaced } from '../model/actions.js';
import type { ClusterSnapshot, Vm } from '../model/inventory.js';
import type { HostHealth } from '../health/types.js';
import type { Decision } from '../decisions.js';
import { usesCapacity } from '../plan/placement/capacity-state.js';
import type { CapacityReport } from '../plan/capacity.js';
import type { AwaitingFence } from '../plan/restart-plan.js';
import type { FenceStatus } from '../fence/fencer.js';
import type { PolicySet } from '../policy/policy-set.js';
import { SnapshotIndex } from '../model/inventory.js';
import { assessDatastores, type AccessCondition, type DatastoreFinding, type FreeLevel, type FreeLevels } from '../storage/assess.js';
import type { Forecast } from '../storage/forecast.js';
import { storageProtection, type StorageProtection } from '../storage/protection.js';
import { replicationLags } from '../storage/replication.js';

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
  /** Present when no other host can run it (`unprotected: local storage`), or only from its replica. */
  readonly protection?: { readonly state: 'unprotected' | 'replica'; readonly reason: string };
  readonly replication?: StatusReplication;
}

/** A VM's replica (Proxmox storage replication, Hyper-V Replica) and its age against the RPO. */
export interface StatusReplication {
  readonly target: string;
  /** ISO time of the last completed sync; null when never (or not reported). */
  readonly lastSync: string | null;
  readonly lagSeconds: number | null;
  readonly rpoSeconds?: number;
  readonly overRpo: boolean;
  readonly state: string;
  readonly healthy: boolean;
  readonly health?: string;
  readonly failures?: number;
  readonly lastDurationSeconds?: number;
}

export interface StatusDatastore {
  readonly name: string;
  readonly capacityGiB: number | null;
  readonly freeGiB: number | null;
  readonly hosts: readonly string[];
  readonly accessible: boolean;
  readonly inaccessibleOn: readonly string[];
  /** The fields below are Vigil's storage findings (docs/storage.md); older controllers do not send them. */
  readonly degradedOn?: readonly string[];
  readonly type?: string;
  readonly shared?: boolean;
  /** ok, degraded (some hosts reach it only degraded), lost-on-some, lost (no host reaches it). */
  readonly condition?: AccessCondition;
  readonly freePercent?: number | null;
  /** Free space against the levels: ok, warning, critical, or unknown when capacity figures are missing. */
  readonly level?: FreeLevel;
  readonly levels?: FreeLevels;
  /** Days until full at the fitted rate; null when not filling or too little history. */
  readonly fullInDays?: number | null;
  /** VMs with disks on it. */
  readonly vmCount?: number;
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
  /** For the storage findings: RPOs and acceptDataLoss come from the policies, the free levels and forecasts from the controller. */
  readonly policies?: PolicySet;
  readonly freeLevels?: FreeLevels;
  readonly forecasts?: ReadonlyMap<string, Forecast>;
}

/** The health a host has when no detector has watched it: the manager's word, translated. */
export function healthFromManager(state: string): string {
  return state === 'connected' ? 'healthy' : state === 'maintenance' ? 'maintenance' : state === 'notResponding' ? 'suspect' : 'isolated';
}

export function clusterStatus(i: ClusterStatusInput): ClusterStatus {
  const snap = i.snapshot;
  const storage = storageView(i);
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
    vms: (snap?.vms ?? []).map((v) => {
      const p = storage.protection(v);
      const r = storage.lags.get(v.name);
      return {
        name: v.name,
        host: v.host,
        power: v.power,
        cpu: v.cpu,
        memoryGiB: v.memoryGiB,
        datastores: v.datastores,
        labels: v.labels,
        ...(p ? { protection: { state: p.state, reason: p.reason } } : {}),
        ...(r ? { replication: r } : {}),
      };
    }),
    datastores: (snap?.datastores ?? []).map((d) => {
      const f = storage.findings.get(d.name);
      return {
        name: d.name,
        capacityGiB: d.capacityGiB,
        freeGiB: d.freeGiB,
        hosts: d.hosts,
        accessible: d.accessible,
        inaccessibleOn: d.inaccessibleOn,
        degradedOn: d.degradedOn ?? [],
        ...(d.type ? { type: d.type } : {}),
        ...(f
          ? { shared: f.shared, condition: f.condition, freePercent: f.freePercent, level: f.level, levels: f.levels, fullInDays: f.fullInDays === null ? null : Math.round(f.fullInDays * 10) / 10, vmCount: f.vms }
          : {}),
      };
    }),
    inflight: i.inflight,
    unplaced: i.unplaced,
    awaitingFence: i.awaitingFence ?? [],
    fencing: i.fencing ?? [],
    recent: i.recent,
    ...(i.capacity ? { capacity: i.capacity } : {}),
  };
}

/** Storage findings for the report, from the same pure functions the controller plans with. */
interface StorageView {
  readonly findings: ReadonlyMap<string, DatastoreFinding>;
  readonly protection: (vm: Vm) => StorageProtection | undefined;
  readonly lags: ReadonlyMap<string, StatusReplication>;
}

function storageView(i: ClusterStatusInput): StorageView {
  const snap = i.snapshot;
  if (!snap) return { findings: new Map(), protection: () => undefined, lags: new Map() };
  const now = i.lastPollAt ?? snap.takenAt;
  const findings = new Map(assessDatastores(snap, { ...(i.freeLevels ? { levels: i.freeLevels } : {}), ...(i.forecasts ? { forecasts: i.forecasts } : {}) }).map((f) => [f.name, f]));
  const index = new SnapshotIndex(snap);
  const rules = (vm: Vm) => i.policies?.replicationRules(snap.cluster, vm) ?? { acceptDataLoss: false };
  const lags = new Map<string, StatusReplication>();
  for (const l of replicationLags(snap, now, rules)) {
    const r = l.replication;
    lags.set(l.vm, {
      target: r.target,
      lastSync: r.lastSyncAt === null ? null : new Date(r.lastSyncAt).toISOString(),
      lagSeconds: l.lagMs === null ? null : Math.round(l.lagMs / 1000),
      ...(l.rpoMs !== undefined ? { rpoSeconds: Math.round(l.rpoMs / 1000) } : {}),
      overRpo: l.overRpo,
      state: r.state,
      healthy: r.healthy,
      ...(r.health !== undefined ? { health: r.health } : {}),
      ...(r.failures !== undefined ? { failures: r.failures } : {}),
      ...(r.lastDurationSeconds !== undefined ? { lastDurationSeconds: r.lastDurationSeconds } : {}),
    });
  }
  // As `vigil capacity` counts them: a VM nobody would restart (restart disabled, or the platform's own HA) is not "unprotected".
  const restartable = (vm: Vm) => !vm.managedBy && i.policies?.vmRules(snap.cluster, vm).priority !== 'disabled';
  return { findings, protection: (vm: Vm) => (restartable(vm) ? storageProtection(vm, index, rules(vm).acceptDataLoss) : undefined), lags };
}
