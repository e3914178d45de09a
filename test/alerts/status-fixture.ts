/** Small status reports for the alert tests. */
import type { ClusterStatus, StatusDatastore, StatusHost, StatusReport, StatusVm } from '../../src/service/status.js';

export function host(name: string, over: Partial<StatusHost> & Record<string, unknown> = {}): StatusHost {
  return { name, state: 'connected', health: 'healthy', cpu: 32, memoryGiB: 256, vms: 0, usedCpu: 0, usedMemoryGiB: 0, labels: {}, ...over };
}

export function vm(name: string, hostName: string, over: Partial<StatusVm> = {}): StatusVm {
  return { name, host: hostName, power: 'on', cpu: 2, memoryGiB: 8, datastores: [], labels: {}, ...over };
}

export function datastore(name: string, capacityGiB: number | null, freeGiB: number | null): StatusDatastore {
  return { name, capacityGiB, freeGiB, hosts: [], accessible: true, inaccessibleOn: [] };
}

export function cluster(name: string, over: Partial<ClusterStatus> & Record<string, unknown> = {}): ClusterStatus {
  // Cast: some tests build a report of an older controller, without awaitingFence and fencing.
  return { name, provider: 'sim', mode: 'enforce', frozen: false, lastPoll: '2026-01-01T00:00:00.000Z', hosts: [], vms: [], datastores: [], inflight: [], unplaced: [], recent: [], ...over } as unknown as ClusterStatus;
}

export function report(...clusters: ClusterStatus[]): StatusReport {
  return { generatedAt: '2026-01-01T00:00:00.000Z', source: 'service', clusters };
}
