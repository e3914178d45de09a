/**
 * For bench/rebalance: random unbalanced clusters, the spread of memory use
 * over a cluster, and the greedy baseline the planner is measured against.
 */
import type { ClusterSnapshot, Host, Vm } from '../../src/model/inventory.js';
import type { HostHealth } from '../../src/health/types.js';

export interface Instance {
  readonly snapshot: ClusterSnapshot;
  readonly health: Map<string, HostHealth>;
}

const SIZES = [2, 4, 8, 8, 16, 16, 24, 32, 48, 64];

/** 6 to 20 hosts of 256 to 512 GiB, each filled to its own random level between 5% and 90%. */
export function unbalancedInstance(rand: () => number): Instance {
  const n = 6 + Math.floor(rand() * 15);
  const hosts: Host[] = Array.from({ length: n }, (_, i) => ({ name: `h${String(i).padStart(2, '0')}`, id: `h${i}`, cpu: 64, memoryGiB: [256, 384, 512][Math.floor(rand() * 3)] as number, labels: {}, state: 'connected' }));
  const vms: Vm[] = [];
  for (const h of hosts) {
    const fill = 0.05 + rand() * 0.85;
    let used = 0;
    for (let tries = 0; tries < 300 && used < h.memoryGiB * fill; tries++) {
      const mem = SIZES[Math.floor(rand() * SIZES.length)] as number;
      if (used + mem > h.memoryGiB * fill + 4) continue;
      used += mem;
      vms.push({ name: `v${String(vms.length).padStart(4, '0')}`, id: `v${vms.length}`, host: h.name, cpu: 1 + Math.floor(rand() * 8), memoryGiB: mem, power: 'on', datastores: ['shared'], labels: {} });
    }
  }
  const snapshot: ClusterSnapshot = { cluster: 'r', provider: 'bench', takenAt: 0, hosts, vms, datastores: [{ name: 'shared', id: 'shared', capacityGiB: null, freeGiB: null, hosts: hosts.map((h) => h.name), accessible: true, inaccessibleOn: [] }] };
  return { snapshot, health: new Map(hosts.map((h) => [h.name, { host: h.name, state: 'healthy', since: 0, reason: 'bench' }])) };
}

/** Standard deviation of memory use (percentage points) with VMs placed as `where` says. */
export function memorySpread(snapshot: ClusterSnapshot, where: ReadonlyMap<string, string> = new Map()): number {
  const used = new Map(snapshot.hosts.map((h) => [h.name, 0]));
  for (const v of snapshot.vms) {
    const h = where.get(v.name) ?? v.host;
    used.set(h, (used.get(h) ?? 0) + v.memoryGiB);
  }
  const use = snapshot.hosts.map((h) => (used.get(h.name) as number) / h.memoryGiB);
  const mean = use.reduce((s, x) => s + x, 0) / use.length;
  return 100 * Math.sqrt(use.reduce((s, x) => s + (x - mean) ** 2, 0) / use.length);
}

/**
 * The greedy baseline: move the largest VM of the fullest host (by memory
 * use) to the emptiest, while one fits there (memory within the host, vCPUs
 * within 4 per CPU) and lowers the spread. Returns where VMs went, in order.
 */
export function greedyBaseline(snapshot: ClusterSnapshot, maxMoves = 200): { moves: number; where: Map<string, string> } {
  const where = new Map<string, string>();
  const hostOf = (v: Vm) => where.get(v.name) ?? v.host;
  const hosts = new Map(snapshot.hosts.map((h) => [h.name, h]));
  const mem = new Map(snapshot.hosts.map((h) => [h.name, 0]));
  const cpu = new Map(snapshot.hosts.map((h) => [h.name, 0]));
  for (const v of snapshot.vms) {
    mem.set(v.host, (mem.get(v.host) as number) + v.memoryGiB);
    cpu.set(v.host, (cpu.get(v.host) as number) + v.cpu);
  }
  const use = (h: string) => (mem.get(h) as number) / (hosts.get(h) as Host).memoryGiB;
  let moves = 0;
  while (moves < maxMoves) {
    const names = [...hosts.keys()];
    const fullest = names.reduce((a, b) => (use(b) > use(a) ? b : a));
    const emptiest = names.reduce((a, b) => (use(b) < use(a) ? b : a));
    const target = hosts.get(emptiest) as Host;
    const spread = memorySpread(snapshot, where);
    const vm = snapshot.vms
      .filter((v) => hostOf(v) === fullest)
      .sort((a, b) => b.memoryGiB - a.memoryGiB || (a.name < b.name ? -1 : 1))
      .find((v) => (mem.get(emptiest) as number) + v.memoryGiB <= target.memoryGiB && (cpu.get(emptiest) as number) + v.cpu <= target.cpu * 4 && memorySpread(snapshot, new Map([...where, [v.name, emptiest]])) < spread - 1e-9);
    if (!vm) break;
    where.set(vm.name, emptiest);
    mem.set(fullest, (mem.get(fullest) as number) - vm.memoryGiB);
    mem.set(emptiest, (mem.get(emptiest) as number) + vm.memoryGiB);
    cpu.set(fullest, (cpu.get(fullest) as number) - vm.cpu);
    cpu.set(emptiest, (cpu.get(emptiest) as number) + vm.cpu);
    moves += 1;
  }
  return { moves, where };
}
