/** The simulated estate bench/hyperv measures: a 16-node Failover Cluster with 800 VM roles on 8 CSVs, some replicated. */
import type { SimSpec } from '../../test/pwsh-standin/sim-hyperv.js';
import { rng } from '../harness.js';

export function benchCluster(nodes = 16, vms = 800): SimSpec {
  const random = rng(8);
  const csvs = Array.from({ length: 8 }, (_, i) => ({ name: `Cluster Disk ${i + 1}`, path: `C:\\ClusterStorage\\Volume${i + 1}`, sizeGiB: 8192, freeGiB: 2048 + i * 100 }));
  return {
    cluster: 'HVBENCH',
    nodes: Array.from({ length: nodes }, (_, i) => ({ name: `hv${String(i + 1).padStart(2, '0')}`, cpu: 64, memoryGiB: 768 })),
    csvs,
    vms: Array.from({ length: vms }, (_, i) => {
      const csv = csvs[i % csvs.length] as (typeof csvs)[number];
      return {
        name: `vm-${String(i + 1).padStart(4, '0')}`,
        host: `hv${String((i % nodes) + 1).padStart(2, '0')}`,
        cpu: 1 + Math.floor(random() * 8),
        memoryGiB: 2 ** Math.floor(random() * 6),
        path: `${csv.path}\\VMs\\vm-${i + 1}`,
        ...(i % 10 === 0 ? { antiAffinity: ['sql'], priority: 3000 } : {}),
        ...(i % 7 === 0 ? { replication: { replicaServer: 'dr-hv01.example', lastReplicationAgoMs: 300_000 } } : {}),
        ...(i % 25 === 0 ? { state: 'Off' as const } : {}),
      };
    }),
  };
}
