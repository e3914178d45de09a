/**
 * Reads an inventory file and checks that it is consistent: every name it
 * refers to exists, names are unique, figures add up. Every problem carries
 * its position.
 */
import type { ClusterSnapshot, HostState } from '../model/inventory.js';
import { hasErrors, ProblemsError, type Problem } from '../config/problems.js';
import { checkSchema, parseYamlText, problemAt, readYamlFile, type YamlDocument, type YamlFile } from '../config/yaml-source.js';
import { inventorySchema, type InventoryCluster, type InventoryFile } from './schema.js';

export interface LoadedInventory {
  readonly file: string;
  readonly inventory: InventoryFile;
  readonly warnings: readonly Problem[];
}

export function loadInventoryFile(path: string, displayName = path): LoadedInventory {
  return fromYaml(readYamlFile(path, displayName));
}

export function parseInventoryText(text: string, displayName: string): LoadedInventory {
  return fromYaml(parseYamlText(text, displayName));
}

function fromYaml(yaml: YamlFile): LoadedInventory {
  const { inventory, problems } = checkInventory(yaml);
  if (!inventory || hasErrors(problems)) throw new ProblemsError(problems);
  return { file: yaml.file, inventory, warnings: problems };
}

export function checkInventory(yaml: YamlFile): { inventory?: InventoryFile; problems: Problem[] } {
  const problems: Problem[] = [...yaml.problems];
  const d = yaml.documents[0];
  if (!d) {
    if (!problems.length) problems.push({ file: yaml.file, line: 1, col: 1, message: 'the inventory is empty', severity: 'error' });
    return { problems };
  }
  if (yaml.documents.length > 1) problems.push(problemAt(yaml.documents[1] as YamlDocument, [], 'an inventory is one YAML document', 'error'));
  const checked = checkSchema(d, inventorySchema, d.data);
  if (!checked.ok) return { problems: [...problems, ...checked.problems] };
  problems.push(...crossCheck(d, checked.value));
  return { inventory: checked.value, problems };
}

function crossCheck(d: YamlDocument, inv: InventoryFile): Problem[] {
  const problems: Problem[] = [];
  const seenHost = new Map<string, string>();
  const seenVm = new Set<string>();
  const seenDs = new Set<string>();
  const seenCluster = new Set<string>();
  inv.clusters.forEach((c, ci) => {
    const at = (path: (string | number)[], message: string, severity: 'error' | 'warning' = 'error'): void => {
      problems.push(problemAt(d, ['clusters', ci, ...path], message, severity));
    };
    if (seenCluster.has(c.name)) at(['name'], `cluster "${c.name}" is defined twice`);
    seenCluster.add(c.name);
    const hosts = new Map(c.hosts.map((h) => [h.name, h]));
    c.hosts.forEach((h, hi) => {
      if (seenHost.has(h.name)) at(['hosts', hi, 'name'], `host "${h.name}" is defined twice (host names are unique in a file)`);
      seenHost.set(h.name, c.name);
    });
    const datastores = new Map(c.datastores.map((ds) => [ds.name, ds]));
    c.datastores.forEach((ds, di) => {
      if (seenDs.has(ds.name)) at(['datastores', di, 'name'], `datastore "${ds.name}" is defined twice`);
      seenDs.add(ds.name);
      ds.hosts.forEach((h, i) => {
        if (!hosts.has(h)) at(['datastores', di, 'hosts', i], unknownName('host', h, c));
      });
      ds.inaccessibleOn.forEach((h, i) => {
        if (!ds.hosts.includes(h)) at(['datastores', di, 'inaccessibleOn', i], `host "${h}" does not mount datastore "${ds.name}"`);
      });
      ds.degradedOn.forEach((h, i) => {
        if (!ds.hosts.includes(h)) at(['datastores', di, 'degradedOn', i], `host "${h}" does not mount datastore "${ds.name}"`);
      });
      if (ds.capacityGiB !== null && ds.freeGiB !== null && ds.freeGiB > ds.capacityGiB) {
        at(['datastores', di, 'freeGiB'], `freeGiB (${ds.freeGiB}) is larger than capacityGiB (${ds.capacityGiB})`);
      }
    });
    c.vms.forEach((vm, vi) => {
      if (seenVm.has(vm.name)) at(['vms', vi, 'name'], `VM "${vm.name}" is defined twice`);
      seenVm.add(vm.name);
      if (!hosts.has(vm.host)) at(['vms', vi, 'host'], unknownName('host', vm.host, c));
      if (vm.replication) {
        const r = vm.replication;
        if (!hosts.has(r.target)) at(['vms', vi, 'replication', 'target'], unknownName('host', r.target, c));
        else if (r.target === vm.host) at(['vms', vi, 'replication', 'target'], `the replica of "${vm.name}" must be on another host than ${vm.host}`);
        if (r.datastore !== undefined) {
          const ds = datastores.get(r.datastore);
          if (!ds) at(['vms', vi, 'replication', 'datastore'], unknownName('datastore', r.datastore, c));
          else if (!ds.hosts.includes(r.target)) at(['vms', vi, 'replication', 'datastore'], `datastore "${r.datastore}" is not mounted on the replica host "${r.target}"`);
        }
      }
      vm.datastores.forEach((name, i) => {
        const ds = datastores.get(name);
        if (!ds) at(['vms', vi, 'datastores', i], unknownName('datastore', name, c));
        else if (hosts.has(vm.host) && !ds.hosts.includes(vm.host)) {
          at(['vms', vi, 'datastores', i], `datastore "${name}" is not mounted on host "${vm.host}"`, 'warning');
        }
      });
    });
  });
  return problems;
}

function unknownName(kind: 'host' | 'datastore', name: string, c: InventoryCluster): string {
  const known = kind === 'host' ? c.hosts.map((h) => h.name) : c.datastores.map((d) => d.name);
  return `unknown ${kind} "${name}" in cluster "${c.name}"${known.length ? ` (known: ${known.slice(0, 8).join(', ')}${known.length > 8 ? ', ...' : ''})` : ''}`;
}

/** The manager's view of an inventory cluster, as a provider would report it. */
export function snapshotFromInventory(c: InventoryCluster, provider: string, takenAt: number): ClusterSnapshot {
  return {
    cluster: c.name,
    provider,
    takenAt,
    hosts: c.hosts.map((h) => ({
      name: h.name,
      id: h.id ?? h.name,
      cpu: h.cpu,
      memoryGiB: h.memoryGiB,
      labels: h.labels,
      state: h.state as HostState,
    })),
    vms: c.vms.map((v) => ({
      name: v.name,
      id: v.id ?? v.name,
      host: v.host,
      cpu: v.cpu,
      memoryGiB: v.memoryGiB,
      power: v.power,
      datastores: v.datastores,
      labels: v.labels,
      ...(v.managedBy ? { managedBy: v.managedBy } : {}),
      // Offline, the file's `lastSync` (time before the snapshot) is all there is to go on.
      ...(v.replication ? { replication: { target: v.replication.target, lastSyncAt: takenAt - v.replication.lastSync, state: 'ok', healthy: true } } : {}),
    })),
    datastores: c.datastores.map((d) => ({
      name: d.name,
      id: d.id ?? d.name,
      capacityGiB: d.capacityGiB,
      freeGiB: d.freeGiB,
      hosts: d.hosts,
      accessible: d.accessible,
      inaccessibleOn: d.inaccessibleOn,
      ...(d.degradedOn.length ? { degradedOn: d.degradedOn } : {}),
      ...(d.type ? { type: d.type } : {}),
    })),
  };
}
