/**
 * Proxmox answers -> Vigil's model. Pure apart from `LastKnown`, the
 * manager's last word about guests and nodes while they were reachable:
 * once a node is offline, Proxmox stops reporting its guests' figures
 * (pmxcfs drops a dead node's status data after a few minutes, and the
 * guests then show `status: unknown` without name or size). The model
 * promises "the last state the manager knew" for guests of a host that
 * stopped responding, so that is what we report; when even that was never
 * seen (Vigil started after the node died), the guest's power is
 * `unknown`, never "off".
 *
 * Names: a guest's name in Vigil is its Proxmox name. Proxmox does not
 * require names to be unique; when two guests share one, each becomes
 * `name#vmid` (`#` cannot appear in a Proxmox name, so this never collides).
 * Node-local storages are one datastore per node, `storage@node`; shared
 * storages are one datastore named by their storage id.
 */
import type { ClusterSnapshot, Datastore, Host, HostState, PowerState, Vm, VmReplication } from '../../src/model/inventory.js';
import type { ClusterStatus, HaStatus, NodeStorageStatus, ReplicationJob, ResourceGuest, Resources } from './raw.js';

const GiB = 2 ** 30;

export interface RawCluster {
  readonly resources: Resources;
  readonly status: ClusterStatus;
  readonly ha: HaStatus;
  /** Per-node storage status, read only for nodes where /cluster/resources did not report a storage available. */
  readonly nodeStorage: ReadonlyMap<string, readonly NodeStorageStatus[]>;
  /** Datastore names per guest (from storage content; refreshed slowly). */
  readonly guestDatastores: ReadonlyMap<number, readonly string[]>;
  readonly replication: readonly ReplicationJob[];
}

interface GuestMemory {
  name: string;
  power: PowerState;
  cpu: number;
  memoryGiB: number;
}

/** What the manager last said while it still could; kept by the provider across snapshots. */
export class LastKnown {
  readonly guests = new Map<number, GuestMemory>();
  readonly nodes = new Map<string, { cpu: number; memoryGiB: number }>();
}

export const HA_MANAGER = 'pve-ha';

export function guestKey(g: Pick<ResourceGuest, 'type' | 'vmid'>): string {
  return `${g.type === 'qemu' ? 'vm' : 'ct'}:${g.vmid}`;
}

/** Datastore name of a storage as seen from one node. */
export function datastoreName(storage: string, node: string, shared: boolean): string {
  return shared ? storage : `${storage}@${node}`;
}

export function nodeOnline(raw: Pick<RawCluster, 'resources' | 'status'>, node: string): boolean | undefined {
  const s = raw.status.nodes.get(node);
  if (s?.online !== undefined) return s.online;
  const r = raw.resources.nodes.find((n) => n.node === node)?.status;
  return r === 'online' ? true : r === 'offline' ? false : undefined;
}

/** The lrm entry says "(maintenance mode, ...)" for a node in Proxmox's HA node maintenance. */
export function inMaintenance(ha: HaStatus, node: string): boolean {
  return /\(maintenance mode\b/.test(ha.lrm.get(node) ?? '');
}

/** An HA resource Proxmox HA acts on (an `ignored` one it leaves alone). */
export function haManaged(g: ResourceGuest, ha: HaStatus): boolean {
  const svc = ha.services.get(guestKey(g));
  const requested = svc?.requestState ?? g.hastate;
  if (!svc && !g.hastate) return false;
  return requested !== 'ignored';
}

export function mapSnapshot(cluster: string, takenAt: number, raw: RawCluster, memory: LastKnown): ClusterSnapshot {
  const nodeNames = new Set<string>([...raw.resources.nodes.map((n) => n.node), ...raw.status.nodes.keys()]);
  const hosts: Host[] = [...nodeNames].sort().map((node) => mapHost(node, raw, memory));
  const online = new Map(hosts.map((h) => [h.name, h.state !== 'notResponding']));

  const guests = raw.resources.guests.filter((g) => !g.template && nodeNames.has(g.node));
  const nameCount = new Map<string, number>();
  for (const g of guests) {
    const n = guestName(g, memory);
    nameCount.set(n, (nameCount.get(n) ?? 0) + 1);
  }
  const jobs = new Map(raw.replication.filter((j) => !j.disabled).map((j) => [j.guest, j]));
  const vms: Vm[] = guests
    .map((g) => mapGuest(g, raw, memory, online.get(g.node) === true, nameCount, jobs.get(g.vmid)))
    .sort((a, b) => Number(a.id) - Number(b.id));
  // Forget guests and nodes that are gone from the cluster.
  const present = new Set(raw.resources.guests.map((g) => g.vmid));
  for (const vmid of memory.guests.keys()) if (!present.has(vmid)) memory.guests.delete(vmid);
  for (const node of memory.nodes.keys()) if (!nodeNames.has(node)) memory.nodes.delete(node);
  return { cluster, provider: 'proxmox', takenAt, hosts, vms, datastores: mapDatastores(raw, online) };
}

function mapHost(node: string, raw: RawCluster, memory: LastKnown): Host {
  const r = raw.resources.nodes.find((n) => n.node === node);
  const isOnline = nodeOnline(raw, node);
  let state: HostState = isOnline ? 'connected' : 'notResponding';
  if (isOnline && inMaintenance(raw.ha, node)) state = 'maintenance';
  const known = memory.nodes.get(node);
  const cpu = r?.maxcpu ?? known?.cpu ?? 0;
  const memoryGiB = r?.maxmem !== undefined ? r.maxmem / GiB : (known?.memoryGiB ?? 0);
  if (isOnline && r?.maxcpu !== undefined && r.maxmem !== undefined) memory.nodes.set(node, { cpu, memoryGiB });
  const ip = raw.status.nodes.get(node)?.ip;
  return { name: node, id: node, cpu, memoryGiB, labels: {}, state, ...(ip ? { address: ip } : {}) };
}

function guestName(g: ResourceGuest, memory: LastKnown): string {
  return g.name ?? memory.guests.get(g.vmid)?.name ?? `${g.type === 'qemu' ? 'VM' : 'CT'}-${g.vmid}`;
}

function power(g: ResourceGuest): PowerState {
  switch (g.status) {
    case 'running':
      return 'on';
    case 'paused':
      return 'suspended';
    case 'stopped':
      return g.lock === 'suspended' ? 'suspended' : 'off';
    default:
      return 'unknown';
  }
}

function mapGuest(g: ResourceGuest, raw: RawCluster, memory: LastKnown, nodeIsOnline: boolean, nameCount: Map<string, number>, job: ReplicationJob | undefined): Vm {
  const base = guestName(g, memory);
  const known = memory.guests.get(g.vmid);
  let p = power(g);
  // A node that stopped answering keeps its guests in the state last reported while it answered.
  if (!nodeIsOnline && p === 'unknown' && known) p = known.power;
  const cpu = g.maxcpu ?? known?.cpu ?? 0;
  const memoryGiB = g.maxmem !== undefined ? g.maxmem / GiB : (known?.memoryGiB ?? 0);
  if (nodeIsOnline && g.status !== undefined && g.status !== 'unknown') memory.guests.set(g.vmid, { name: base, power: p, cpu, memoryGiB });

  const labels: Record<string, string> = {};
  for (const t of (g.tags ?? '').split(/[;,\s]+/)) if (t) labels[t] = 'true';
  if (g.pool) labels.pool = g.pool;
  const vm: Vm = {
    name: (nameCount.get(base) ?? 0) > 1 ? `${base}#${g.vmid}` : base,
    id: String(g.vmid),
    host: g.node,
    cpu,
    memoryGiB,
    power: p,
    datastores: [...(raw.guestDatastores.get(g.vmid) ?? [])].sort(),
    labels,
    ...(haManaged(g, raw.ha) ? { managedBy: HA_MANAGER } : {}),
    ...(job ? { replication: mapReplication(job) } : {}),
    // Proxmox moves a running container by stopping it, moving it and starting it again.
    ...(g.type === 'lxc' ? { restartMigration: true as const } : {}),
  };
  return vm;
}

function mapReplication(j: ReplicationJob): VmReplication {
  const failing = (j.failCount ?? 0) > 0 || Boolean(j.error);
  return {
    target: j.target,
    lastSyncAt: j.lastSync ? j.lastSync * 1000 : null,
    state: j.error ? `error: ${j.error}` : failing ? `failing (${j.failCount} attempts)` : j.lastSync ? 'ok' : 'pending',
    healthy: !failing && Boolean(j.lastSync),
    // Only what the node reported: a job whose state was not read has no count, not 0.
    ...(j.failCount !== undefined ? { failures: j.failCount } : {}),
    ...(j.duration !== undefined ? { lastDurationSeconds: j.duration } : {}),
  };
}

function mapDatastores(raw: RawCluster, online: Map<string, boolean>): Datastore[] {
  const byName = new Map<string, { hosts: string[]; lost: string[]; degraded: string[]; capacity: number | null; free: number | null; type?: string }>();
  for (const s of raw.resources.storages) {
    const name = datastoreName(s.storage, s.node, s.shared);
    const detail = raw.nodeStorage.get(s.node)?.find((d) => d.storage === s.storage);
    if (detail?.enabled === false) continue; // configured but disabled on this node: not mounted there
    let d = byName.get(name);
    if (!d) {
      d = { hosts: [], lost: [], degraded: [], capacity: null, free: null, ...(s.plugintype ? { type: s.plugintype } : {}) };
      byName.set(name, d);
    }
    d.hosts.push(s.node);
    const nodeUp = online.get(s.node) === true;
    const available = s.status === 'available' || detail?.active === true;
    if (nodeUp && !available) {
      // Inactive on a node that answers: the storage, not the node, is the problem.
      if (detail?.active === false) d.lost.push(s.node);
      else d.degraded.push(s.node);
    }
    const total = s.maxdisk ?? detail?.total;
    const used = s.disk ?? detail?.used;
    if (available && total !== undefined && (d.capacity === null || nodeUp)) {
      d.capacity = total / GiB;
      d.free = used !== undefined ? Math.max(0, total - used) / GiB : null;
    }
  }
  return [...byName.entries()]
    .map(([name, d]) => ({
      name,
      id: name,
      capacityGiB: d.capacity,
      freeGiB: d.free,
      hosts: d.hosts.sort(),
      accessible: d.hosts.some((h) => !d.lost.includes(h)),
      inaccessibleOn: d.lost.sort(),
      ...(d.degraded.length ? { degradedOn: d.degraded.sort() } : {}),
      ...(d.type ? { type: d.type } : {}),
    }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
