/** Synthetic lab inventories of a given size, for benchmarks. Seeded: the same every run. */
import type { InventoryFile, InventoryVm } from '../src/inventory/schema.js';
import { rng } from './harness.js';

export function fleet(hosts: number, vms: number, seed = 42): InventoryFile {
  const rand = rng(seed);
  const hostList = Array.from({ length: hosts }, (_, i) => ({
    name: `host-${String(i).padStart(4, '0')}`,
    cpu: 64,
    memoryGiB: 768,
    labels: { rack: `r${i % 8}` },
    state: 'connected' as const,
  }));
  const sizes = [4, 8, 8, 16, 16, 16, 32, 64];
  const vmList = Array.from({ length: vms }, (_, i): InventoryVm => ({
    name: `vm-${String(i).padStart(5, '0')}`,
    host: hostList[i % hosts]?.name as string,
    cpu: 1 + Math.floor(rand() * 8),
    memoryGiB: sizes[Math.floor(rand() * sizes.length)] as number,
    power: rand() < 0.9 ? 'on' : 'off',
    datastores: ['shared'],
    labels: { app: ['web', 'db', 'api', 'batch'][i % 4] as string },
  }));
  return {
    clusters: [
      {
        name: 'bench',
        hosts: hostList,
        datastores: [{ name: 'shared', capacityGiB: 1_000_000, freeGiB: 500_000, hosts: hostList.map((h) => h.name), accessible: true, inaccessibleOn: [], degradedOn: [] }],
        vms: vmList,
      },
    ],
  };
}
