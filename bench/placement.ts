/**
 * bench/placement:
 * (a) planning time for 1,000 hosts / 20,000 VMs with 50 hosts failed
 *     (target: under 100 ms median);
 * (b) placement quality on 200 random tight instances (80-90% of memory in
 *     use, 2 hosts failed): VMs placed against an upper bound (total free
 *     memory, each VM fitting some host) and against plain
 *     first-fit-decreasing. Vigil must never place fewer than FFD.
 */
import type { ClusterSnapshot, Host, Vm } from '../src/model/inventory.js';
import type { HostHealth } from '../src/health/types.js';
import { planRecovery } from '../src/plan/restart-plan.js';
import { PolicySet } from '../src/policy/policy-set.js';
import { snapshotFromInventory } from '../src/inventory/load.js';
import { fleet } from './lab-fleet.js';
import { round, rng, timeIt, type BenchLine } from './harness.js';

export async function run(): Promise<BenchLine[]> {
  return [await timing(), quality()];
}

async function timing(): Promise<BenchLine> {
  const inventory = fleet(1_000, 20_000);
  const cluster = inventory.clusters[0];
  if (!cluster) throw new Error('no cluster');
  const snapshot = snapshotFromInventory(cluster, 'bench', 0);
  const failed = new Set(snapshot.hosts.filter((_, i) => i % 20 === 0).map((h) => h.name));
  const health = healthMap(snapshot.hosts, failed);
  const policies = PolicySet.empty();
  let actions = 0;
  const t = await timeIt(() => {
    actions = planRecovery({ snapshot, health, policies, inflight: [], now: 0 }).actions.length;
  }, 20);
  return { name: 'placement-time', hosts: 1_000, vms: 20_000, failed: failed.size, restarts_planned: actions, median_ms: round(t.median), max_ms: round(Math.max(...t.samples)) };
}

function quality(): BenchLine {
  const rand = rng(7);
  let placed = 0;
  let bound = 0;
  let ffd = 0;
  let belowFfd = 0;
  let ms = 0;
  const instances = 200;
  for (let i = 0; i < instances; i++) {
    const { snapshot, health } = tightInstance(rand);
    const t0 = performance.now();
    const plan = planRecovery({ snapshot, health, policies: PolicySet.empty(), inflight: [], now: 0 });
    ms += performance.now() - t0;
    const f = firstFitDecreasing(snapshot, health);
    placed += plan.actions.length;
    ffd += f;
    bound += upperBound(snapshot, health);
    if (plan.actions.length < f) belowFfd += 1;
  }
  return { name: 'placement-quality', instances, below_ffd: belowFfd, placed, bound, ffd, ratio_to_bound: round(placed / bound, 3), median_ms: round(ms / instances, 2) };
}

/** A cluster at 80-90% of memory, two random hosts failed. */
function tightInstance(rand: () => number): { snapshot: ClusterSnapshot; health: Map<string, HostHealth> } {
  const n = 8 + Math.floor(rand() * 17);
  const fill = 0.8 + rand() * 0.1;
  const hosts: Host[] = Array.from({ length: n }, (_, i) => ({ name: `h${String(i).padStart(2, '0')}`, id: `h${i}`, cpu: 64, memoryGiB: [128, 256, 384, 512][Math.floor(rand() * 4)] as number, labels: {}, state: 'connected' }));
  const vms: Vm[] = [];
  const sizes = [2, 4, 8, 8, 16, 16, 24, 32, 48, 64, 96];
  for (const h of hosts) {
    let used = 0;
    for (let tries = 0; tries < 200 && used < h.memoryGiB * fill; tries++) {
      const mem = sizes[Math.floor(rand() * sizes.length)] as number;
      if (used + mem > h.memoryGiB * fill + 8) continue;
      used += mem;
      vms.push({ name: `v${String(vms.length).padStart(4, '0')}`, id: `v${vms.length}`, host: h.name, cpu: 1 + Math.floor(rand() * 4), memoryGiB: mem, power: 'on', datastores: ['shared'], labels: {} });
    }
  }
  const failed = new Set<string>();
  while (failed.size < 2) failed.add(hosts[Math.floor(rand() * n)]?.name as string);
  const snapshot: ClusterSnapshot = { cluster: 'q', provider: 'bench', takenAt: 0, hosts, vms, datastores: [{ name: 'shared', id: 'shared', capacityGiB: null, freeGiB: null, hosts: hosts.map((h) => h.name), accessible: true, inaccessibleOn: [] }] };
  return { snapshot, health: healthMap(hosts, failed) };
}

function healthMap(hosts: readonly Host[], failed: ReadonlySet<string>): Map<string, HostHealth> {
  return new Map(hosts.map((h) => [h.name, { host: h.name, state: failed.has(h.name) ? 'fenced' : 'healthy', since: 0, reason: 'bench' }]));
}

function freeMemory(snapshot: ClusterSnapshot, health: ReadonlyMap<string, HostHealth>): Map<string, number> {
  const free = new Map<string, number>();
  for (const h of snapshot.hosts) if (health.get(h.name)?.state === 'healthy') free.set(h.name, h.memoryGiB);
  for (const v of snapshot.vms) if (free.has(v.host)) free.set(v.host, (free.get(v.host) as number) - v.memoryGiB);
  return free;
}

function toRestart(snapshot: ClusterSnapshot, health: ReadonlyMap<string, HostHealth>): Vm[] {
  return snapshot.vms.filter((v) => health.get(v.host)?.state === 'fenced');
}

/** Plain first-fit-decreasing on memory: largest VM first, first host (by name) with room. */
function firstFitDecreasing(snapshot: ClusterSnapshot, health: ReadonlyMap<string, HostHealth>): number {
  const free = freeMemory(snapshot, health);
  const hosts = [...free.keys()].sort();
  let placed = 0;
  for (const v of toRestart(snapshot, health).sort((a, b) => b.memoryGiB - a.memoryGiB)) {
    const h = hosts.find((x) => (free.get(x) as number) >= v.memoryGiB);
    if (h === undefined) continue;
    free.set(h, (free.get(h) as number) - v.memoryGiB);
    placed += 1;
  }
  return placed;
}

/** No plan can place more: the smallest VMs that each fit some host, while their total fits the total free memory. */
function upperBound(snapshot: ClusterSnapshot, health: ReadonlyMap<string, HostHealth>): number {
  const free = freeMemory(snapshot, health);
  const largest = Math.max(0, ...free.values());
  let total = [...free.values()].reduce((s, x) => s + Math.max(0, x), 0);
  let count = 0;
  for (const v of toRestart(snapshot, health).filter((x) => x.memoryGiB <= largest).sort((a, b) => a.memoryGiB - b.memoryGiB)) {
    if (v.memoryGiB > total) break;
    total -= v.memoryGiB;
    count += 1;
  }
  return count;
}
