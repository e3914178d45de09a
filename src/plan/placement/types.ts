/**
 * Placement vocabulary. A filter answers "may this VM go to this host?"
 * with a reason when it may not; a scorer ranks the hosts that remain on a
 * 0..100 scale; the engine sums weighted scores and breaks ties by host
 * name. Filters and scorers are pure and small, one per file.
 *
 * Both work in two steps, as kube-scheduler's PreFilter/Filter do: `prepare`
 * runs once per VM and returns the per-host check, or nothing when the step
 * cannot matter for this VM (no required labels, no anti-affinity group).
 * A plan tests every VM against every host, so the per-host part is kept to
 * a few comparisons.
 */
import type { Host, SnapshotIndex, Vm } from '../../model/inventory.js';
import type { HostHealthState } from '../../health/types.js';
import type { VmRules } from '../../policy/policy-set.js';

/** A host's capacity and what is already placed on it, as the planner counts it. */
export interface HostLoad {
  readonly host: Host;
  /** The host's position in the snapshot (see SnapshotIndex.hostOrdinal). */
  readonly ordinal: number;
  readonly health: HostHealthState;
  /** Logical CPUs times the CPU overcommit ratio. */
  readonly cpuCapacity: number;
  /** Memory times the memory overcommit ratio. */
  readonly memoryCapacityGiB: number;
  usedCpu: number;
  usedMemoryGiB: number;
  vmCount: number;
  /** Anti-affinity groups with a VM on this host. */
  readonly groups: Set<string>;
  /** Affinity groups with VMs on this host, and how many. */
  readonly affinity: Map<string, number>;
  /** A dedicated failover host of the cluster's admission policy. */
  readonly failover: boolean;
}

export interface PlacementRequest {
  readonly vm: Vm;
  readonly rules: VmRules;
  /** The host where the VM's last restart attempt failed: placed elsewhere when possible. */
  readonly lastFailedOn?: string;
  /**
   * The VM starts from its replica: only `host` holds a copy of `datastores`
   * (its other datastores must still be reachable as usual).
   */
  readonly replica?: { readonly host: string; readonly datastores: readonly string[] };
}

/**
 * `restart` places the VMs of failed hosts (dedicated failover hosts are for
 * exactly this); `planned` places live migrations (they must leave the
 * failover hosts empty).
 */
export type PlacementPurpose = 'restart' | 'planned';

export interface PlacementContext {
  readonly index: SnapshotIndex;
  readonly purpose: PlacementPurpose;
  /** The cluster has dedicated failover hosts (so the failover scorer has something to say). */
  readonly hasFailoverHosts?: boolean;
}

/** Why a host was refused, worded for one host and for several ("1 host lacks ...", "3 hosts lack ..."). */
export interface Rejection {
  readonly one: string;
  readonly many: string;
}

export type HostCheck = (load: HostLoad) => Rejection | undefined;
export type HostScore = (load: HostLoad) => number;

export interface PlacementFilter {
  readonly name: string;
  /** The check for this VM, or undefined when this filter refuses no host for it. */
  prepare(req: PlacementRequest, ctx: PlacementContext): HostCheck | undefined;
}

export interface PlacementScorer {
  readonly name: string;
  /** The score for this VM on a host: 0 (worst) to 100 (best); undefined when it would score every host alike. */
  prepare(req: PlacementRequest, ctx: PlacementContext): HostScore | undefined;
}

export interface WeightedScorer {
  readonly scorer: PlacementScorer;
  readonly weight: number;
}

export function rejection(one: string, many: string): Rejection {
  return { one, many };
}
