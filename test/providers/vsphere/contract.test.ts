/** The vsphere provider against the shared provider contract, on VMware's vSphere simulator (vcsim). */
import { startVcsim } from '../../../bench/vsphere/vcsim.js';
import { providerContract } from '../contract.js';
import { providerFor } from './helpers.js';

providerContract('vsphere (vcsim)', async () => {
  // Four hosts and three VMs, placed round-robin: the fourth host runs nothing and may enter maintenance.
  const sim = await startVcsim({ hosts: 4, vms: 3 });
  const provider = await providerFor(sim);
  const state = await sim.state();
  const vm = state.vms.find((v) => v.host === 'DC0_C0_H0' && v.powerState === 'poweredOn');
  const to = state.hosts.find((h) => h.name === 'DC0_C0_H1');
  const idle = state.hosts.find((h) => h.name === 'DC0_C0_H3');
  if (!vm || !to || !idle) throw new Error('the vcsim model is not the one this test expects');
  return {
    provider,
    migratable: { vm: { id: vm.instanceUuid, name: vm.name }, to: { id: to.moid, name: to.name } },
    maintenanceHost: { id: idle.moid, name: idle.name },
    wait: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 50))),
    close: async () => {
      await provider.close();
      await sim.stop();
    },
  };
});
