/**
 * Translates the snapshot script's answer into Vigil's model. What it
 * promises:
 * - nodes: Up -> connected, Paused -> maintenance, Down/Joining/Unknown or
 *   an Isolated/Quarantined node -> notResponding (the cluster's word, not a
 *   guess from whether remoting reached the node);
 * - a clustered VM is `managedBy: hyperv-cluster` (the cluster restarts it)
 *   unless its role is Failed, which means the cluster gave up on it;
 * - a VM whose node cannot be read keeps what the cluster records (its
 *   role's state, start memory) and what the last good snapshot saw; a
 *   figure nobody reported is 0 and a state nobody reported is `unknown`;
 * - Cluster Shared Volumes become datastores of type `csv`, a node in
 *   redirected access is in `degradedOn`, an Unavailable or Paused one in
 *   `inaccessibleOn`; standalone hosts' SMB shares are type `smb`; a VM file
 *   on neither is on `local:<host>`, which only that host reaches;
 * - Hyper-V Replica (primary side) becomes `Vm.replication`.
 */
import { z } from 'zod';
import type { ClusterSnapshot, Datastore, Host, HostState, Labels, PowerState, Vm, VmReplication } from '../../src/model/inventory.js';

const str = z.string().nullable().transform((s) => s ?? '');
const num = z.number().nullable();

const rawNode = z.object({ name: z.string().min(1), id: str, state: str, status: str, drainStatus: str });
const rawGroup = z.object({
  name: z.string().min(1),
  id: str,
  owner: str,
  state: str,
  priority: num,
  antiAffinity: z.array(z.string()).nullable().transform((a) => a ?? []),
  failoverThreshold: num,
  failoverPeriodHours: num,
  persistentState: num,
  vmId: z.string().nullable(),
  vmState: z.string().nullable(),
  startMemoryMB: num,
});
const rawCsv = z.object({ name: z.string().min(1), id: str, owner: str, state: str, paths: z.array(z.string()), sizeBytes: num, freeBytes: num });
const rawCsvState = z.object({ name: z.string(), node: z.string(), state: str, fileSystemReason: str, blockReason: str });
const rawCluster = z.object({ name: str, nodes: z.array(rawNode), groups: z.array(rawGroup), csvs: z.array(rawCsv), csvStates: z.array(rawCsvState) });
const rawVm = z.object({
  id: z.string().min(1),
  name: z.string(),
  state: str,
  cpu: z.number(),
  memoryAssignedBytes: z.number(),
  memoryStartupBytes: z.number(),
  dynamicMemory: z.boolean(),
  path: str,
  clustered: z.boolean(),
  disks: z.array(z.string()),
});
const rawReplication = z.object({ vmId: z.string(), state: str, health: str, replicaServer: str, lastReplication: z.string().nullable() });
const rawHostData = z.object({ cpu: z.number(), memoryBytes: z.number(), vms: z.array(rawVm), replication: z.array(rawReplication), shares: z.array(z.object({ path: z.string(), reachable: z.boolean() })) });
const rawHostEntry = z.union([z.object({ ok: z.literal(true), data: rawHostData }), z.object({ ok: z.literal(false), error: str })]);

export const rawSnapshotSchema = z.object({
  mode: z.enum(['cluster', 'standalone']),
  via: z.string().optional(),
  cluster: rawCluster.optional(),
  hosts: z.record(z.string(), rawHostEntry),
});

export type RawSnapshot = z.infer<typeof rawSnapshotSchema>;
type RawVm = z.infer<typeof rawVm>;
type RawGroup = z.infer<typeof rawGroup>;

const GiB = 2 ** 30;

/** What the provider remembers from earlier snapshots, for hosts it cannot read now. */
export interface KnownVm {
  name: string;
  host: string;
  cpu: number;
  memoryGiB: number;
  power: PowerState;
  datastores: readonly string[];
  /** The VM's configuration folder (Get-VM's Path). */
  path: string;
  clustered: boolean;
  group?: string;
}

export interface SnapshotMemory {
  readonly vms: Map<string, KnownVm>;
  readonly hostCapacity: Map<string, { cpu: number; memoryGiB: number }>;
}

export function newMemory(): SnapshotMemory {
  return { vms: new Map(), hostCapacity: new Map() };
}

export interface MapContext {
  /** Vigil's name for the cluster entry. */
  readonly name: string;
  readonly takenAt: number;
  /** Standalone mode: the configured hosts, in order. */
  readonly hosts?: readonly string[];
  readonly sharedStorage?: readonly string[];
}

export interface Mapped {
  readonly snapshot: ClusterSnapshot;
  /** Per VM id: what operations need beyond the model (role name, config path). */
  readonly vms: ReadonlyMap<string, KnownVm>;
  /** Hosts whose data could not be read, with why. */
  readonly unreadable: ReadonlyMap<string, string>;
}

export const MANAGED_BY_CLUSTER = 'hyperv-cluster';

export function mapSnapshot(raw: RawSnapshot, ctx: MapContext, memory: SnapshotMemory): Mapped {
  const unreadable = new Map<string, string>();
  for (const [h, e] of Object.entries(raw.hosts)) if (!e.ok) unreadable.set(h, e.error || 'no answer');
  const data = (h: string) => {
    const e = raw.hosts[h];
    return e?.ok ? e.data : undefined;
  };

  // Hosts.
  const hosts: Host[] = [];
  const hostNames: string[] = raw.mode === 'cluster' ? (raw.cluster?.nodes ?? []).map((n) => n.name) : [...(ctx.hosts ?? Object.keys(raw.hosts))];
  const nodeByName = new Map((raw.cluster?.nodes ?? []).map((n) => [n.name, n]));
  for (const name of hostNames) {
    const d = data(name);
    if (d) memory.hostCapacity.set(name, { cpu: d.cpu, memoryGiB: d.memoryBytes / GiB });
    const cap = memory.hostCapacity.get(name) ?? { cpu: 0, memoryGiB: 0 };
    const node = nodeByName.get(name);
    const state: HostState = node ? nodeState(node.state, node.status) : d ? 'connected' : 'notResponding';
    hosts.push({ name, id: name, cpu: cap.cpu, memoryGiB: round(cap.memoryGiB), labels: {}, state, address: name });
  }
  const readable = new Set(hostNames.filter((h) => data(h)));

  // Datastores: CSVs (cluster), shares (standalone); local ones are added as VMs name them.
  const datastores = new Map<string, Datastore>();
  const prefixes: { prefix: string; datastore: string }[] = [];
  if (raw.cluster) {
    const statesByCsv = new Map<string, { node: string; state: string }[]>();
    for (const s of raw.cluster.csvStates) statesByCsv.set(s.name, [...(statesByCsv.get(s.name) ?? []), s]);
    for (const c of raw.cluster.csvs) {
      const perNode = statesByCsv.get(c.name) ?? [];
      const inaccessibleOn = perNode.filter((s) => /^(unavailable|paused)$/i.test(s.state)).map((s) => s.node);
      const degradedOn = perNode.filter((s) => /redirected/i.test(s.state)).map((s) => s.node);
      const online = /^online$/i.test(c.state);
      datastores.set(c.name, {
        name: c.name,
        id: c.id || c.name,
        type: 'csv',
        capacityGiB: c.sizeBytes ? round(c.sizeBytes / GiB) : null,
        freeGiB: c.freeBytes !== null && c.sizeBytes ? round(c.freeBytes / GiB) : null,
        hosts: [...hostNames],
        accessible: online && hostNames.some((h) => !inaccessibleOn.includes(h)),
        inaccessibleOn: hostNames.filter((h) => inaccessibleOn.includes(h)),
        degradedOn: hostNames.filter((h) => degradedOn.includes(h)),
      });
      for (const p of c.paths) if (p) prefixes.push({ prefix: normPath(p), datastore: c.name });
    }
  }
  for (const share of ctx.sharedStorage ?? []) {
    const lost = hostNames.filter((h) => data(h)?.shares.some((s) => normPath(s.path) === normPath(share) && !s.reachable));
    const seen = hostNames.filter((h) => data(h)?.shares.some((s) => normPath(s.path) === normPath(share) && s.reachable));
    datastores.set(share, { name: share, id: normPath(share), type: 'smb', capacityGiB: null, freeGiB: null, hosts: [...hostNames], accessible: seen.length > 0 || lost.length === 0, inaccessibleOn: lost, degradedOn: [] });
    prefixes.push({ prefix: normPath(share), datastore: share });
  }
  prefixes.sort((a, b) => b.prefix.length - a.prefix.length);
  const datastoresOf = (host: string, paths: readonly string[]): string[] => {
    const out = new Set<string>();
    for (const p of paths) {
      if (!p) continue;
      const n = normPath(p);
      const hit = prefixes.find((x) => n === x.prefix || n.startsWith(`${x.prefix}\\`));
      if (hit) out.add(hit.datastore);
      else {
        const local = `local:${host}`;
        if (!datastores.has(local)) datastores.set(local, { name: local, id: local, type: 'local', capacityGiB: null, freeGiB: null, hosts: [host], accessible: true, inaccessibleOn: [], degradedOn: [] });
        out.add(local);
      }
    }
    return [...out].sort();
  };

  // Live VMs, by id; a VM seen on two hosts (mid-migration, or a stale registration) is taken where it runs.
  const live = new Map<string, { vm: RawVm; host: string }>();
  for (const h of hostNames) {
    for (const vm of data(h)?.vms ?? []) {
      const id = vm.id.toLowerCase();
      const seen = live.get(id);
      if (!seen || (vm.state === 'Running' && seen.vm.state !== 'Running')) live.set(id, { vm, host: h });
    }
  }
  const replication = new Map<string, VmReplication>();
  for (const h of hostNames) {
    for (const r of data(h)?.replication ?? []) {
      const t = r.lastReplication ? Date.parse(r.lastReplication) : NaN;
      // Health is Hyper-V's own verdict (Normal, Warning, Critical); a suspended or failed state is unhealthy whatever it says.
      const healthy = /^normal$/i.test(r.health) && !/^(suspended|error|critical|resynchronizationsuspended)$/i.test(r.state);
      replication.set(r.vmId.toLowerCase(), { target: r.replicaServer, lastSyncAt: Number.isFinite(t) ? t : null, state: r.state, healthy, ...(r.health ? { health: r.health } : {}) });
    }
  }

  const vms: Vm[] = [];
  const known = new Map<string, KnownVm>();
  const emit = (id: string, k: KnownVm, extra: { labels?: Labels; managedBy?: string }) => {
    known.set(id, k);
    memory.vms.set(id, k);
    const r = replication.get(id);
    vms.push({
      name: k.name,
      id,
      host: k.host,
      cpu: k.cpu,
      memoryGiB: round(k.memoryGiB),
      power: k.power,
      datastores: k.datastores,
      labels: extra.labels ?? {},
      ...(extra.managedBy ? { managedBy: extra.managedBy } : {}),
      ...(r ? { replication: r } : {}),
    });
  };
  const fromLive = (l: { vm: RawVm; host: string }, group?: RawGroup): KnownVm => ({
    name: l.vm.name,
    host: group?.owner && hostNames.includes(group.owner) ? group.owner : l.host,
    cpu: l.vm.cpu,
    memoryGiB: Math.max(l.vm.memoryAssignedBytes, l.vm.memoryStartupBytes) / GiB,
    power: vmPower(l.vm.state),
    datastores: datastoresOf(l.host, [l.vm.path, ...l.vm.disks]),
    path: l.vm.path,
    clustered: l.vm.clustered,
    ...(group ? { group: group.name } : {}),
  });

  const placed = new Set<string>();
  for (const g of raw.cluster?.groups ?? []) {
    if (!g.vmId) continue;
    const id = g.vmId.toLowerCase();
    if (placed.has(id)) continue;
    placed.add(id);
    const l = live.get(id);
    const before = memory.vms.get(id);
    const k: KnownVm = l
      ? fromLive(l, g)
      : {
          name: before?.name ?? g.name,
          host: g.owner,
          cpu: before?.cpu ?? 0,
          memoryGiB: g.startMemoryMB ? g.startMemoryMB / 1024 : (before?.memoryGiB ?? 0),
          power: groupPower(g),
          datastores: before?.datastores ?? [],
          path: before?.path ?? '',
          clustered: true,
          group: g.name,
        };
    emit(id, k, { labels: groupLabels(g), ...(/^failed$/i.test(g.state) ? {} : { managedBy: MANAGED_BY_CLUSTER }) });
  }
  for (const [id, l] of live) {
    if (placed.has(id)) continue;
    placed.add(id);
    emit(id, fromLive(l), {});
  }
  // VMs of hosts that cannot be read now, as the last good snapshot saw them.
  for (const [id, k] of memory.vms) {
    if (placed.has(id) || readable.has(k.host) || !hostNames.includes(k.host) || k.clustered) continue;
    placed.add(id);
    emit(id, k, {});
  }
  // Forget VMs that are gone: deleted from a host that answered, or whose cluster role is gone.
  for (const [id, k] of memory.vms) if (!placed.has(id) && (readable.has(k.host) || k.clustered || !hostNames.includes(k.host))) memory.vms.delete(id);
  vms.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

  const snapshot: ClusterSnapshot = {
    cluster: ctx.name,
    provider: 'hyperv',
    takenAt: ctx.takenAt,
    hosts,
    vms,
    datastores: [...datastores.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
  };
  return { snapshot, vms: known, unreadable };
}

function nodeState(state: string, status: string): HostState {
  if (/isolated|quarantined/i.test(status)) return 'notResponding';
  switch (state.toLowerCase()) {
    case 'up':
      return 'connected';
    case 'paused':
      return 'maintenance';
    default:
      return 'notResponding';
  }
}

/** Hyper-V's VM state as Get-VM reports it. */
export function vmPower(state: string): PowerState {
  switch (state.toLowerCase()) {
    case 'running':
    case 'runningcritical':
      return 'on';
    case 'off':
    case 'offcritical':
      return 'off';
    case 'saved':
    case 'paused':
    case 'savedcritical':
    case 'pausedcritical':
      return 'suspended';
    default:
      return 'unknown';
  }
}

/**
 * A role's state when its node cannot be asked about the VM. A Failed role
 * the cluster meant to keep online (PersistentState 1) is reported `on`: it
 * was running when its node failed, which is what a restart needs to know.
 */
export function groupPower(g: Pick<RawGroup, 'state' | 'persistentState'>): PowerState {
  switch (g.state.toLowerCase()) {
    case 'online':
    case 'partialonline':
      return 'on';
    case 'offline':
      return 'off';
    case 'failed':
      return g.persistentState === 1 ? 'on' : 'off';
    default:
      return 'unknown';
  }
}

const PRIORITY_NAMES: Record<number, string> = { 3000: 'high', 2000: 'medium', 1000: 'low', 0: 'noAutoStart' };

function groupLabels(g: RawGroup): Labels {
  const labels: Record<string, string> = {};
  if (g.priority !== null && PRIORITY_NAMES[g.priority]) labels['hyperv.priority'] = PRIORITY_NAMES[g.priority] as string;
  if (g.antiAffinity.length) labels['hyperv.antiAffinityClass'] = [...g.antiAffinity].sort().join(',');
  return labels;
}

function normPath(p: string): string {
  return p.replace(/\//g, '\\').replace(/\\+$/, '').toLowerCase();
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
