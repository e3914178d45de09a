/** The sim provider against the shared provider contract: in-process, and over HTTP. */
import type { FastifyInstance } from 'fastify';
import { FakeClock } from '../../../src/clock/fake-clock.js';
import { SystemClock } from '../../../src/clock/clock.js';
import { parseInventoryText } from '../../../src/inventory/load.js';
import { silentLogger } from '../../../src/log.js';
import { Lab } from '../../../providers/sim/lab.js';
import { InProcessLabApi } from '../../../providers/sim/lab-api.js';
import { buildLabServer } from '../../../providers/sim/lab-server.js';
import simProvider, { SimProvider } from '../../../providers/sim/index.js';
import { providerContract } from '../contract.js';

const INVENTORY = `clusters:
  - name: c
    hosts:
      - {name: h1, cpu: 16, memoryGiB: 128}
      - {name: h2, cpu: 16, memoryGiB: 128}
      - {name: h3, cpu: 16, memoryGiB: 128}
    datastores:
      - {name: shared, capacityGiB: 1000, freeGiB: 500, hosts: [h1, h2, h3]}
    vms:
      - {name: v1, host: h1, cpu: 2, memoryGiB: 8, datastores: [shared]}
      - {name: v2, host: h2, cpu: 2, memoryGiB: 8, datastores: [shared]}
`;
const inventory = () => parseInventoryText(INVENTORY, 'inv.yaml').inventory;

providerContract('sim (in-process)', async () => {
  const clock = new FakeClock();
  const provider = new SimProvider('c', 'c', new InProcessLabApi(new Lab(inventory(), clock), clock));
  return { provider, migratable: { vm: { id: 'v1', name: 'v1' }, to: { id: 'h3', name: 'h3' } }, maintenanceHost: { id: 'h3', name: 'h3' }, wait: (ms) => clock.advance(ms), close: () => provider.close() };
});

providerContract('sim (over HTTP)', async () => {
  const clock = new SystemClock();
  const lab = new Lab(inventory(), clock, { timings: { migrationBaseMs: 20, migrationGiBPerSecond: 1000, maintenanceMs: 20 } });
  const app: FastifyInstance = buildLabServer(lab, clock);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  const provider = await simProvider.create(simProvider.configSchema.parse({ name: 'c', provider: 'sim', url }), { clock, logger: silentLogger(), baseDir: '.' });
  return {
    provider,
    migratable: { vm: { id: 'v1', name: 'v1' }, to: { id: 'h3', name: 'h3' } },
    maintenanceHost: { id: 'h3', name: 'h3' },
    wait: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 25))),
    close: async () => {
      await provider.close();
      await app.close();
    },
  };
});
