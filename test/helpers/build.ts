/** Small builders for hand-written test clusters. */
import type { ClusterSnapshot, Datastore, Host, Vm } from '../../src/model/inventory.js';
import type { HostHealth, HostHealthState } from '../../src/health/types.js';

export function host(name: string, over: Partial<Host> = {}): Host {
  return { name, id: name, cpu: 32, memoryGiB: 256, labels: {}, state: 'connected', ...over };
}

export function vm(name: string, hostName: string, over: Partial<Vm> = {}): Vm {
  return { name, id: name, host: hostName, cpu: 2, memoryGiB: 8, power: 'on', datastores: ['ds'], labels: {}, ...over };
}

export function sharedDatastore(hosts: readonly Host[], over: Partial<Datastore> = {}): Datastore {
  return { name: 'ds', id: 'ds', capacityGiB: 10_000, freeGiB: 5_000, hosts: hosts.map((h) => h.name), accessible: true, inaccessibleOn: [], ...over };
}

export function snapshot(hosts: Host[], vms: Vm[], datastores?: Datastore[]): ClusterSnapshot {
  return { cluster: 'c', provider: 'test', takenAt: 0, hosts, vms, datastores: datastores ?? [sharedDatastore(hosts)] };
}

export function healthOf(states: Record<string, HostHealthState>): Map<string, HostHealth> {
  return new Map(Object.entries(states).map(([h, state]) => [h, { host: h, state, since: 0, reason: 'test' }]));
}
