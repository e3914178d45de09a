/** The proxmox provider against the shared provider contract, on the Proxmox API stand-in (HTTPS) and a real sshd. */
import { SystemClock } from '../../../src/clock/clock.js';
import { silentLogger } from '../../../src/log.js';
import proxmoxProvider from '../../../providers/proxmox/index.js';
import { NODES, startHarness } from '../../pve-standin/harness.js';
import { providerContract } from '../contract.js';

providerContract('proxmox (API stand-in + sshd)', async () => {
  const h = await startHarness({ sshd: true, nodes: [...NODES, { name: 'pve4', cpu: 8, memoryGiB: 32 }] });
  const provider = await proxmoxProvider.create(proxmoxProvider.configSchema.parse(h.entry()), { clock: new SystemClock(), logger: silentLogger(), baseDir: h.dir });
  return {
    provider,
    migratable: { vm: { id: '100', name: 'web-01' }, to: { id: 'pve3', name: 'pve3' } },
    maintenanceHost: { id: 'pve4', name: 'pve4' },
    wait: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 50))),
    close: async () => {
      await provider.close();
      await h.close();
    },
  };
});
