/** A controller assembled as `vigil run` does, on an in-process lab, in simulated time: for the planned-work service tests. */
import { join } from 'node:path';
import { FakeClock } from '../../src/clock/fake-clock.js';
import { controllerSchema } from '../../src/config/schema.js';
import type { VigilConfig } from '../../src/config/load.js';
import { DecisionLog, type Decision } from '../../src/decisions.js';
import { silentLogger } from '../../src/log.js';
import { loadPolicyDir } from '../../src/policy/load.js';
import { assembleController, type Controller } from '../../src/service/assemble.js';
import { MemoryJournal } from '../../src/state/journal.js';
import simProvider, { SimProvider } from '../../providers/sim/index.js';
import type { Lab } from '../../providers/sim/lab.js';
import { tempDir } from '../helpers/tmp.js';

export interface Harness {
  readonly clock: FakeClock;
  readonly controller: Controller;
  readonly lab: Lab;
  readonly journal: MemoryJournal;
  readonly decisions: Decision[];
  /** Advances lab time in steps until `done` says so (or fails after `maxMs`). */
  until(done: () => boolean, maxMs?: number): Promise<void>;
}

export async function harness(inventory: string, policies: string): Promise<Harness> {
  const dir = tempDir({ 'inventory.yaml': inventory, 'policies/p.yaml': policies });
  const loaded = loadPolicyDir(join(dir, 'policies'), dir);
  if (!loaded.policies) throw new Error(JSON.stringify(loaded.problems));
  const clock = new FakeClock();
  const settings = controllerSchema.parse({ pollInterval: '5s', pollJitter: 0, detection: { failAfterPolls: 2 }, execution: { maxParallel: 4, taskPollInterval: '1s' } });
  const config: VigilConfig = {
    file: join(dir, 'vigil.yaml'),
    builtin: false,
    baseDir: dir,
    controller: settings,
    policiesDir: join(dir, 'policies'),
    policiesExplicit: true,
    clusters: [{ config: simProvider.configSchema.parse({ name: 'lab', provider: 'sim', inventory: join(dir, 'inventory.yaml'), fencing: { agents: [] } }), module: simProvider }],
    warnings: [],
  };
  const journal = new MemoryJournal();
  const log = new DecisionLog();
  const decisions: Decision[] = [];
  log.subscribe((d) => decisions.push(d));
  const controller = await assembleController({ config, clock, logger: silentLogger(), policies: loaded.policies, decisions: log, journal, purpose: 'oneshot' });
  const provider = controller.providers.get('lab');
  if (!(provider instanceof SimProvider) || !provider.lab) throw new Error('needs the in-process lab');
  const lab = provider.lab;
  return {
    clock,
    controller,
    lab,
    journal,
    decisions,
    async until(done, maxMs = 600_000) {
      const end = clock.now() + maxMs;
      while (!done()) {
        if (clock.now() >= end) throw new Error('timed out in lab time');
        await clock.advance(1_000);
      }
    },
  };
}

/** Host h1 carries ten VMs; h2 and h3 are nearly empty; h4 is the dedicated failover host. */
export const UNBALANCED = `clusters:
  - name: lab
    hosts:
      - {name: h1, cpu: 32, memoryGiB: 256, labels: {rack: r1}}
      - {name: h2, cpu: 32, memoryGiB: 256, labels: {rack: r1}}
      - {name: h3, cpu: 32, memoryGiB: 256, labels: {rack: r2}}
      - {name: h4, cpu: 32, memoryGiB: 256, labels: {rack: r2}}
    datastores:
      - {name: ds, hosts: [h1, h2, h3, h4]}
    vms:
${Array.from({ length: 8 }, (_, i) => `      - {name: app-${i + 1}, host: h1, cpu: 2, memoryGiB: 16, datastores: [ds]}`).join('\n')}
      - {name: db-1, host: h1, cpu: 4, memoryGiB: 32, datastores: [ds]}
      - {name: db-2, host: h2, cpu: 4, memoryGiB: 32, datastores: [ds]}
      - {name: web-1, host: h1, cpu: 2, memoryGiB: 8, datastores: [ds]}
      - {name: web-2, host: h3, cpu: 2, memoryGiB: 8, datastores: [ds]}
`;

export const POLICIES = `kind: ClusterPolicy
admission: {failoverHosts: [h4]}
---
kind: VmPolicy
name: db
match: {names: ["db-*"]}
placement: {antiAffinityGroup: db}
`;
