/**
 * The normalized inventory every provider translates into. One shape for
 * vSphere, Hyper-V, Proxmox and the lab: names are what operators see, `id`
 * is the provider's stable key (a moid, a VMID, a cluster-group GUID).
 *
 * Unknown is kept apart from zero or off: a figure the provider did not
 * report is `null`, a power state it could not read is `unknown`.
 */
export type HostState = 'connected' | 'disconnected' | 'notResponding' | 'maintenance';
export const HOST_STATES: readonly HostState[] = ['connected', 'disconnected', 'notResponding', 'maintenance'];

export type PowerState = 'on' | 'off' | 'suspended' | 'unknown';
export const POWER_STATES: readonly PowerState[] = ['on', 'off', 'suspended', 'unknown'];

export type Labels = Readonly<Record<string, string>>;

export interface Host {
  readonly name: string;
  readonly id: string;
  /** Logical CPUs. */
  readonly cpu: number;
  readonly memoryGiB: number;
  readonly labels: Labels;
  /** The hypervisor manager's word for the host. */
  readonly state: HostState;
  /** Management address (name or IP) the controller can probe, when the provider knows it. */
  readonly address?: string;
}

export interface Vm {
  readonly name: string;
  readonly id: string;
  /** Name of the host the manager last placed it on. */
  readonly host: string;
  /** Virtual CPUs. */
  readonly cpu: number;
  readonly memoryGiB: number;
  /**
   * The manager's view. For a VM on a host that stopped responding this is
   * the last state the manager knew, as vCenter reports it; the truth may
   * differ, which is why restarts wait for evidence and fencing.
   */
  readonly power: PowerState;
  readonly datastores: readonly string[];
  readonly labels: Labels;
  /** Set when the platform's own HA recovers this VM (Proxmox HA, a Hyper-V cluster role). */
  readonly managedBy?: string;
  /**
   * Set when the platform cannot move it while it runs except by restarting
   * it on the target (Proxmox containers: restart migration, a short outage).
   * Plans say so, so nobody schedules it as a live migration.
   */
  readonly restartMigration?: true;
  /** Asynchronous replication of this VM (Proxmox storage replication, Hyper-V Replica), when the platform has it. */
  readonly replication?: VmReplication;
}

export interface VmReplication {
  /** Host that holds the replica. */
  readonly target: string;
  /** Clock time (ms) of the last successful sync; null when never or unknown. */
  readonly lastSyncAt: number | null;
  /** The platform's word for the replication state (e.g. "Replicating", "Suspended", "ok"). */
  readonly state: string;
  readonly healthy: boolean;
  /** The platform's own health word, where it has one (Hyper-V Replica: Normal, Warning, Critical). */
  readonly health?: string;
  /** Consecutive failed syncs, where the platform counts them (Proxmox `fail_count`). */
  readonly failures?: number;
  /** How long the last sync took, in seconds, where the platform says (Proxmox `duration`). */
  readonly lastDurationSeconds?: number;
}

export interface Datastore {
  readonly name: string;
  readonly id: string;
  /** null when the provider did not report it. */
  readonly capacityGiB: number | null;
  readonly freeGiB: number | null;
  /** Hosts that mount it; shared when more than one. */
  readonly hosts: readonly string[];
  /** False when no host can reach it. */
  readonly accessible: boolean;
  /** Hosts that mount it but have lost access to it. */
  readonly inaccessibleOn: readonly string[];
  /** Hosts that reach it only in a degraded way (a CSV in redirected access, a storage reported inactive on a node). */
  readonly degradedOn?: readonly string[];
  /** The storage technology when known (vmfs, nfs, vsan, csv, smb, rbd, lvm, zfs, dir, ...). */
  readonly type?: string;
}

export interface ClusterSnapshot {
  readonly cluster: string;
  readonly provider: string;
  /** Clock time the snapshot was taken. */
  readonly takenAt: number;
  readonly hosts: readonly Host[];
  readonly vms: readonly Vm[];
  readonly datastores: readonly Datastore[];
}

/** Lookups over one snapshot, built once per cycle. */
export class SnapshotIndex {
  readonly hostsByName = new Map<string, Host>();
  /** Position of each host in the snapshot: placement checks index arrays by it instead of hashing names. */
  readonly hostOrdinal = new Map<string, number>();
  readonly datastoresByName = new Map<string, Datastore>();
  /** Per datastore list, 1 for each host ordinal that reaches every datastore in it; memoized, as most VMs share a few lists. */
  private readonly reachCache = new Map<string, Uint8Array>();
  /** The same, without the hosts that reach one of them only degraded. */
  private readonly usableCache = new Map<string, Uint8Array>();
  private vmMaps?: { byName: Map<string, Vm>; byHost: Map<string, Vm[]> };

  constructor(readonly snapshot: ClusterSnapshot) {
    snapshot.hosts.forEach((h, i) => {
      this.hostsByName.set(h.name, h);
      this.hostOrdinal.set(h.name, i);
    });
    for (const d of snapshot.datastores) this.datastoresByName.set(d.name, d);
  }

  /** VM lookups, built on first use: the planner does not need them, and a large cluster's maps are not free. */
  get vmsByName(): ReadonlyMap<string, Vm> {
    return this.vms().byName;
  }

  get vmsByHost(): ReadonlyMap<string, readonly Vm[]> {
    return this.vms().byHost;
  }

  private vms(): { byName: Map<string, Vm>; byHost: Map<string, Vm[]> } {
    if (this.vmMaps) return this.vmMaps;
    const byName = new Map<string, Vm>();
    const byHost = new Map<string, Vm[]>(this.snapshot.hosts.map((h) => [h.name, []]));
    for (const v of this.snapshot.vms) {
      byName.set(v.name, v);
      let list = byHost.get(v.host);
      if (!list) {
        list = [];
        byHost.set(v.host, list);
      }
      list.push(v);
    }
    this.vmMaps = { byName, byHost };
    return this.vmMaps;
  }

  /** True when `host` mounts `datastore` and still reaches it. */
  reaches(host: string, datastore: string): boolean {
    return this.reachesAll(host, [datastore]);
  }

  /** True when `host` reaches every one of `datastores`. */
  reachesAll(host: string, datastores: readonly string[]): boolean {
    const ordinal = this.hostOrdinal.get(host);
    return ordinal !== undefined && this.reachableByOrdinal(datastores)[ordinal] === 1;
  }

  /** True when `host` reaches `datastore` only in a degraded way (redirected access, inactive on that node). */
  degradedOn(host: string, datastore: string): boolean {
    return this.datastoresByName.get(datastore)?.degradedOn?.includes(host) ?? false;
  }

  /**
   * Indexed by host ordinal: 1 where the host reaches every one of
   * `datastores` and none of them only degraded. Placement uses this: a VM
   * is never moved onto a host whose path to its disks is itself impaired.
   */
  usableByOrdinal(datastores: readonly string[]): Uint8Array {
    const key = datastores.length === 1 ? (datastores[0] as string) : datastores.join('\u0000');
    let map = this.usableCache.get(key);
    if (!map) {
      map = this.reachableByOrdinal(datastores);
      for (const name of datastores) {
        const degraded = this.datastoresByName.get(name)?.degradedOn;
        if (!degraded?.length) continue;
        if (map === this.reachCache.get(key)) map = Uint8Array.from(map);
        for (const h of degraded) {
          const i = this.hostOrdinal.get(h);
          if (i !== undefined) map[i] = 0;
        }
      }
      this.usableCache.set(key, map);
    }
    return map;
  }

  /** Indexed by host ordinal: 1 where the host reaches every one of `datastores`. */
  reachableByOrdinal(datastores: readonly string[]): Uint8Array {
    const key = datastores.length === 1 ? (datastores[0] as string) : datastores.join('\u0000');
    let map = this.reachCache.get(key);
    if (!map) {
      map = new Uint8Array(this.snapshot.hosts.length).fill(1);
      for (const name of datastores) {
        const d = this.datastoresByName.get(name);
        const reach = new Uint8Array(map.length);
        if (d && d.accessible) {
          const lost = new Set(d.inaccessibleOn);
          for (const h of d.hosts) {
            const i = this.hostOrdinal.get(h);
            if (i !== undefined && !lost.has(h)) reach[i] = 1;
          }
        }
        for (let i = 0; i < map.length; i++) map[i] = (map[i] as number) & (reach[i] as number);
      }
      this.reachCache.set(key, map);
    }
    return map;
  }
}
