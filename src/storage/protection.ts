/**
 * Failover readiness of a VM as far as storage goes: can any host other
 * than its own run it? Only a host that reaches every datastore of the VM,
 * and none of them only degraded, can (the same rule placement uses). A VM
 * whose disks only its own host reaches is "unprotected: local storage":
 * if that host fails, the VM stays down until it is back, unless it has a
 * replica elsewhere and a policy accepts the data loss of restarting from it.
 *
 * A VM whose datastores the provider did not report (an empty list) is not
 * called unprotected: unknown is not local.
 */
import { SnapshotIndex, type ClusterSnapshot, type Vm } from '../model/inventory.js';

export interface StorageProtection {
  /** `unprotected`: no other host can run it; `replica`: only from its replica, losing the writes since the last sync. */
  readonly state: 'unprotected' | 'replica';
  /** "local storage (local-esx-01)", "no other host reaches datastore ds-02". */
  readonly reason: string;
  /** The datastores no other host can use. */
  readonly datastores: readonly string[];
  /** The replica's host, when the VM can fail over to it. */
  readonly replicaHost?: string;
}

/**
 * Why no other host can run `vm`, or undefined when one can. `acceptsDataLoss`
 * says whether policy lets it fail over to its replica.
 */
export function storageProtection(vm: Vm, index: SnapshotIndex, acceptsDataLoss = false): StorageProtection | undefined {
  if (vm.datastores.length === 0) return undefined;
  const usable = index.usableByOrdinal(vm.datastores);
  const own = index.hostOrdinal.get(vm.host);
  for (let i = 0; i < usable.length; i++) if (usable[i] === 1 && i !== own) return undefined;
  // Which of its datastores no other host can use, and why (from each datastore's own host list: local ones have one).
  const elsewhere = (ds: string, allowDegraded: boolean): boolean => {
    const d = index.datastoresByName.get(ds);
    if (!d?.accessible) return false;
    return d.hosts.some((h) => h !== vm.host && index.hostOrdinal.has(h) && !d.inaccessibleOn.includes(h) && (allowDegraded || !(d.degradedOn ?? []).includes(h)));
  };
  const blocking = vm.datastores.filter((ds) => !elsewhere(ds, false));
  const list = blocking.length ? blocking : [...vm.datastores];
  const local = list.every((ds) => {
    const d = index.datastoresByName.get(ds);
    return d !== undefined && d.hosts.length <= 1;
  });
  const first = list[0] as string;
  const degradedElsewhere = elsewhere(first, true);
  const reason = local
    ? `local storage (${list.join(', ')})`
    : blocking.length === 0
      ? `no other host reaches all of its datastores (${list.join(', ')}) together`
      : degradedElsewhere
        ? `the other hosts reach datastore ${first} only degraded`
        : `no other host reaches datastore ${first}${list.length > 1 ? ` (nor ${list.slice(1).join(', ')})` : ''}`;
  const replica = vm.replication;
  if (replica && acceptsDataLoss && replica.target !== vm.host && index.hostsByName.has(replica.target)) {
    return { state: 'replica', reason: `${reason}; fails over to its replica on ${replica.target}, losing the writes since its last replication`, datastores: list, replicaHost: replica.target };
  }
  const hint = replica ? `; it has a replica on ${replica.target}, used only when a policy sets acceptDataLoss: true` : '';
  return { state: 'unprotected', reason: `${reason}${hint}`, datastores: list };
}

/** Every VM of the snapshot that no other host can run, by name. */
export function unprotectedVms(snapshot: ClusterSnapshot, acceptsDataLoss: (vm: Vm) => boolean = () => false, index = new SnapshotIndex(snapshot)): Map<string, StorageProtection> {
  const out = new Map<string, StorageProtection>();
  for (const vm of snapshot.vms) {
    const p = storageProtection(vm, index, acceptsDataLoss(vm));
    if (p) out.set(vm.name, p);
  }
  return out;
}
