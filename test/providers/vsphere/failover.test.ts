/**
 * The controller, assembled as `vigil run` assembles it, with the vsphere
 * provider against vcsim in real time: a host dies, and its running VMs come
 * back on the other hosts through the provider's restart, each exactly once.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SystemClock } from '../../../src/clock/clock.js';
import type { VigilConfig } from '../../../src/config/load.js';
import { controllerSchema } from '../../../src/config/schema.js';
import { DecisionLog, type Decision } from '../../../src/decisions.js';
import { silentLogger } from '../../../src/log.js';
import { PolicySet } from '../../../src/policy/policy-set.js';

/** The provider's restart path is under test here; fencing has its own tests (test/fence, the scenarios). */
const NO_FENCE_NEEDED = new PolicySet([{ kind: 'ClusterPolicy', cluster: '*', fencing: 'none' }], []);
import { assembleController } from '../../../src/service/assemble.js';
import vsphereModule from '../../../providers/vsphere/index.js';
import { startVcsim } from '../../../bench/vsphere/vcsim.js';
import { tempDir } from '../../helpers/tmp.js';
import { CLUSTER, DATACENTER, eventually } from './helpers.js';

describe('controller failover on vcsim', () => {
  it('restarts a failed host’s running VMs on the surviving hosts, none twice', async () => {
    const sim = await startVcsim({ hosts: 3, vms: 9 });
    const dir = tempDir();
    const cluster = vsphereModule.configSchema.parse({ name: 'vc', provider: 'vsphere', url: sim.url, username: sim.user, password: sim.password, datacenter: DATACENTER, cluster: CLUSTER, taskPollInterval: '100ms' });
    const config: VigilConfig = {
      file: join(dir, 'vigil.yaml'),
      builtin: false,
      baseDir: dir,
      controller: controllerSchema.parse({ pollInterval: '300ms', detection: { failAfterPolls: 2 }, execution: { maxParallel: 4, taskPollInterval: '100ms', taskTimeout: '30s', retries: 1 } }),
      policiesDir: join(dir, 'policies'),
      policiesExplicit: false,
      clusters: [{ config: cluster, module: vsphereModule }],
      warnings: [],
    };
    const decisions = new DecisionLog();
    const seen: Decision[] = [];
    decisions.subscribe((d) => seen.push(d));
    const controller = await assembleController({ config, clock: new SystemClock(), logger: silentLogger(), policies: NO_FENCE_NEEDED, decisions });
    try {
      controller.start();
      await eventually('the first poll', async () => (controller.ready() ? true : undefined));
      const before = await sim.state();
      // One VM of the host is off: it must stay off (and stay where it is).
      const offVm = before.vms.find((v) => v.host === 'DC0_C0_H0') as { name: string; instanceUuid: string };
      await sim.control('/vms/set', { name: offVm.name, power: 'poweredOff' });
      const running = before.vms.filter((v) => v.host === 'DC0_C0_H0' && v.name !== offVm.name);
      expect(running.length).toBeGreaterThan(0);

      await sim.control('/hosts/fail', { name: 'DC0_C0_H0' });
      const after = await eventually(
        'every running VM of DC0_C0_H0 running elsewhere',
        async () => {
          const st = await sim.state();
          const back = running.every((r) => st.vms.some((v) => v.instanceUuid === r.instanceUuid && v.host !== 'DC0_C0_H0' && v.powerState === 'poweredOn' && v.reallyRunning));
          return back ? st : undefined;
        },
        30_000,
        200,
      );
      await controller.idle();

      expect(after.errors, 'no VM was started while it ran elsewhere').toEqual([]);
      for (const v of before.vms) expect(after.vms.filter((x) => x.instanceUuid === v.instanceUuid), `${v.name} is registered exactly once`).toHaveLength(1);
      const reallyRunning = after.vms.filter((v) => v.reallyRunning).map((v) => v.instanceUuid);
      expect(new Set(reallyRunning).size).toBe(reallyRunning.length);
      expect(after.vms.find((v) => v.instanceUuid === offVm.instanceUuid)).toMatchObject({ host: 'DC0_C0_H0', powerState: 'poweredOff' });
      const restarted = seen.filter((d) => d.kind === 'action-succeeded' && d.data?.action === 'restart').map((d) => d.subject);
      expect(restarted.sort()).toEqual(running.map((r) => r.name).sort());
      expect(seen.filter((d) => d.kind === 'action-failed')).toEqual([]);
      expect(after.log.filter((e) => e.op === 'register').length).toBe(running.length);
    } finally {
      await controller.close();
      await sim.stop();
    }
  }, 60_000);
});
