/**
 * What Vigil asks vCenter for, the local copy of the answers (kept current by
 * full reads and by WaitForUpdatesEx update sets), and its translation into
 * the normalized model.
 *
 * VMs are keyed by `config.instanceUuid`: RegisterVM gives a VM a new moid,
 * its instance UUID stays. Hosts and datastores keep their moids as ids.
 * A property vCenter did not report is unknown: a missing power state is
 * `unknown`, a missing capacity `null`; a host whose connection state is
 * unknown is reported `disconnected`, the state on which Vigil takes no
 * action (the model has no unknown host state).
 */
import type { ClusterSnapshot, Datastore, Host, HostState, Labels, PowerState, Vm } from '../../src/model/inventory.js';
import type { ObjectContent, ObjectUpdate, PropertySets } from './props.js';
import { asArray, child, moRef, text, type MoRef, type XValue } from './xml.js';

export const PROPERTIES: PropertySets = {
  HostSystem: ['name', 'runtime.connectionState', 'runtime.powerState', 'runtime.inMaintenanceMode', 'summary.hardware.numCpuThreads', 'summary.hardware.memorySize', 'customValue'],
  VirtualMachine: [
    'name',
    'config.instanceUuid',
    'config.template',
    'config.hardware.numCPU',
    'config.hardware.memoryMB',
    'runtime.host',
    'runtime.powerState',
    'runtime.connectionState',
    'datastore',
    'summary.config.vmPathName',
    'customValue',
  ],
  Datastore: ['name', 'summary.accessible', 'summary.capacity', 'summary.freeSpace', 'summary.type', 'host'],
  CustomFieldsManager: ['field'],
};

interface CachedObject {
  readonly type: string;
  readonly moid: string;
  readonly props: Map<string, XValue>;
}

const GiB = 2 ** 30;

function key(ref: MoRef): string {
  return `${ref.type}\u0000${ref.value}`;
}

export class InventoryCache {
  private objects = new Map<string, CachedObject>();

  get size(): number {
    return this.objects.size;
  }

  replaceAll(objects: readonly ObjectContent[]): void {
    this.objects = new Map();
    for (const o of objects) this.upsert(o);
  }

  /** Replaces one object's properties with a fresh read of them. */
  upsert(o: ObjectContent): void {
    this.objects.set(key(o.obj), { type: o.obj.type, moid: o.obj.value, props: new Map(o.props) });
  }

  forget(ref: MoRef): void {
    this.objects.delete(key(ref));
  }

  /** Applies WaitForUpdatesEx object updates (full values: the filters never ask for partial updates). */
  apply(updates: readonly ObjectUpdate[]): void {
    for (const u of updates) {
      const k = key(u.obj);
      if (u.kind === 'leave') {
        this.objects.delete(k);
        continue;
      }
      let o = this.objects.get(k);
      if (!o || u.kind === 'enter') {
        o = { type: u.obj.type, moid: u.obj.value, props: u.kind === 'enter' || !o ? new Map<string, XValue>() : o.props };
        this.objects.set(k, o);
      }
      for (const c of u.changes) {
        if (c.op === 'remove' || c.op === 'indirectRemove') {
          o.props.delete(c.name);
          continue;
        }
        o.props.set(c.name, c.val);
        // A change to a parent path replaces what was read under it.
        const prefix = `${c.name}.`;
        for (const p of [...o.props.keys()]) if (p.startsWith(prefix)) o.props.delete(p);
      }
    }
  }

  /** The .vmx path of the VM with this instance UUID, as last seen (for a restart resumed after its VM was unregistered). */
  vmPathById(id: string): { path: string; name: string } | undefined {
    for (const o of this.objects.values()) {
      if (o.type === 'VirtualMachine' && str(o.props, 'config.instanceUuid') === id) {
        const path = str(o.props, 'summary.config.vmPathName');
        if (path) return { path, name: str(o.props, 'name') ?? id };
      }
    }
    return undefined;
  }

  snapshot(cluster: string, provider: string, takenAt: number): ClusterSnapshot {
    const fields = new Map<string, string>();
    const hostsRaw: CachedObject[] = [];
    const vmsRaw: CachedObject[] = [];
    const dsRaw: CachedObject[] = [];
    for (const o of this.objects.values()) {
      if (o.type === 'HostSystem') hostsRaw.push(o);
      else if (o.type === 'VirtualMachine') vmsRaw.push(o);
      else if (o.type === 'Datastore') dsRaw.push(o);
      else if (o.type === 'CustomFieldsManager') {
        for (const f of asArray(child(o.props.get('field'), 'CustomFieldDef'))) {
          const k = text(child(f, 'key'));
          const n = text(child(f, 'name'));
          if (k && n) fields.set(k, n);
        }
      }
    }
    const hostNames = new Map<string, string>();
    const hosts: Host[] = hostsRaw.map((o) => {
      const name = str(o.props, 'name') ?? o.moid;
      hostNames.set(o.moid, name);
      return {
        name,
        id: o.moid,
        cpu: num(o.props, 'summary.hardware.numCpuThreads') ?? 0,
        memoryGiB: round2((num(o.props, 'summary.hardware.memorySize') ?? 0) / GiB),
        labels: labels(o.props.get('customValue'), fields),
        state: hostState(o.props),
        address: name,
      };
    });
    const dsNames = new Map<string, string>();
    for (const o of dsRaw) dsNames.set(o.moid, str(o.props, 'name') ?? o.moid);
    const vms: Vm[] = [];
    for (const o of vmsRaw) {
      const id = str(o.props, 'config.instanceUuid');
      if (!id || str(o.props, 'config.template') === 'true') continue;
      const hostRef = moRef(o.props.get('runtime.host'));
      const host = hostRef ? hostNames.get(hostRef.value) : undefined;
      // A VM on a host outside this cluster (or not placed yet) is not this cluster's to restart.
      if (!host) continue;
      const memoryMB = num(o.props, 'config.hardware.memoryMB');
      vms.push({
        name: str(o.props, 'name') ?? id,
        id,
        host,
        cpu: num(o.props, 'config.hardware.numCPU') ?? 0,
        memoryGiB: memoryMB === undefined ? 0 : round2(memoryMB / 1024),
        power: powerState(str(o.props, 'runtime.powerState')),
        // A datastore outside the snapshot keeps its moid as name: no host reaches it, so placement stays safe.
        datastores: refs(o.props.get('datastore')).map((r) => dsNames.get(r.value) ?? r.value),
        labels: labels(o.props.get('customValue'), fields),
      });
    }
    const datastores: Datastore[] = dsRaw.map((o) => {
      const mountedOn: string[] = [];
      const lostOn: string[] = [];
      for (const m of asArray(child(o.props.get('host'), 'DatastoreHostMount'))) {
        const ref = moRef(child(m, 'key'));
        const host = ref ? hostNames.get(ref.value) : undefined;
        if (!host) continue;
        const info = child(m, 'mountInfo');
        if (text(child(info, 'mounted')) === 'false') continue;
        mountedOn.push(host);
        if (text(child(info, 'accessible')) === 'false') lostOn.push(host);
      }
      const capacity = num(o.props, 'summary.capacity');
      const free = num(o.props, 'summary.freeSpace');
      const type = str(o.props, 'summary.type');
      return {
        name: dsNames.get(o.moid) as string,
        id: o.moid,
        capacityGiB: capacity === undefined ? null : round2(capacity / GiB),
        freeGiB: free === undefined ? null : round2(free / GiB),
        hosts: mountedOn.sort(),
        // Unknown accessibility counts as not accessible: placement must not rely on it.
        accessible: str(o.props, 'summary.accessible') === 'true',
        inaccessibleOn: lostOn.sort(),
        ...(type ? { type: type.toLowerCase() } : {}),
      };
    });
    const byName = <T extends { name: string; id: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
    return { cluster, provider, takenAt, hosts: hosts.sort(byName), vms: vms.sort(byName), datastores: datastores.sort(byName) };
  }
}

function str(props: Map<string, XValue>, path: string): string | undefined {
  const v = props.get(path);
  return v === undefined ? undefined : text(v);
}

function num(props: Map<string, XValue>, path: string): number | undefined {
  const s = str(props, path);
  if (s === undefined || s.trim() === '') return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}

function refs(v: XValue): MoRef[] {
  return asArray(child(v, 'ManagedObjectReference'))
    .map(moRef)
    .filter((r): r is MoRef => r !== undefined);
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function hostState(props: Map<string, XValue>): HostState {
  const cs = str(props, 'runtime.connectionState');
  if (cs === 'connected') return str(props, 'runtime.inMaintenanceMode') === 'true' ? 'maintenance' : 'connected';
  if (cs === 'notResponding') return 'notResponding';
  return 'disconnected';
}

function powerState(s: string | undefined): PowerState {
  switch (s) {
    case 'poweredOn':
      return 'on';
    case 'poweredOff':
      return 'off';
    case 'suspended':
      return 'suspended';
    default:
      return 'unknown';
  }
}

/** Custom attributes (`customValue`) become labels, named by the CustomFieldsManager's field definitions. */
function labels(v: XValue, fields: ReadonlyMap<string, string>): Labels {
  const out: Record<string, string> = {};
  for (const cv of asArray(child(v, 'CustomFieldValue'))) {
    const k = text(child(cv, 'key'));
    const value = text(child(cv, 'value'));
    const name = k ? fields.get(k) : undefined;
    if (name && value !== undefined) out[name] = value;
  }
  return out;
}
