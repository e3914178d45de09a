/** The Hyper-V provider against the shared provider contract, through node-powershell and the stand-in pwsh. */
import { providerContract } from '../contract.js';
import { SMALL_CLUSTER, startEstate } from './standin.js';

providerContract('hyperv (cluster, stand-in pwsh)', async () => {
  const estate = await startEstate(SMALL_CLUSTER);
  const provider = await estate.provider();
  return {
    provider,
    migratable: { vm: { id: estate.sim.vmId('web-01'), name: 'web-01' }, to: { id: 'hv3', name: 'hv3' } },
    maintenanceHost: { id: 'hv3', name: 'hv3' },
    wait: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 50))),
    close: () => estate.close(),
  };
});

providerContract('hyperv (standalone hosts on SMB, stand-in pwsh)', async () => {
  const estate = await startEstate({
    nodes: [{ name: 'hvs1' }, { name: 'hvs2' }],
    shares: ['\\\\fs1\\vms'],
    vms: [
      { name: 'app-01', host: 'hvs1', cpu: 2, memoryGiB: 4 },
      { name: 'app-02', host: 'hvs2', cpu: 2, memoryGiB: 4 },
    ],
    timings: { liveMigrationMs: 100, startMs: 80 },
  });
  const provider = await estate.provider();
  return {
    provider,
    migratable: { vm: { id: estate.sim.vmId('app-01'), name: 'app-01' }, to: { id: 'hvs2', name: 'hvs2' } },
    wait: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 50))),
    close: () => estate.close(),
  };
});
