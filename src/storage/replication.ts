/**
 * Replication lag (RPO) per VM: how old its replica is, against the RPO
 * its policy sets. Pure. A replica that never completed a sync has no age:
 * its lag is unknown, and with an RPO set that counts as over it.
 */
import type { ClusterSnapshot, Vm, VmReplication } from '../model/inventory.js';

export interface ReplicaLag {
  readonly vm: string;
  readonly host: string;
  readonly replication: VmReplication;
  /** now - lastSyncAt; null when the replica never synced (or the platform does not say). */
  readonly lagMs: number | null;
  readonly rpoMs?: number;
  /** An RPO is set and the replica is older (or its age unknown). */
  readonly overRpo: boolean;
  /** The VmPolicy that set the RPO, if one did. */
  readonly policy?: string;
}

export function replicationLags(snapshot: ClusterSnapshot, now: number, rulesOf: (vm: Vm) => { readonly rpoMs?: number; readonly policy?: string }): ReplicaLag[] {
  const out: ReplicaLag[] = [];
  for (const vm of snapshot.vms) {
    const r = vm.replication;
    if (!r) continue;
    const { rpoMs, policy } = rulesOf(vm);
    const lagMs = r.lastSyncAt === null ? null : Math.max(0, now - r.lastSyncAt);
    out.push({
      vm: vm.name,
      host: vm.host,
      replication: r,
      lagMs,
      ...(rpoMs !== undefined ? { rpoMs } : {}),
      overRpo: rpoMs !== undefined && (lagMs === null || lagMs > rpoMs),
      ...(policy ? { policy } : {}),
    });
  }
  return out;
}
