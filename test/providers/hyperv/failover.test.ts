/**
 * The controller's failover logic with the Hyper-V provider, assembled as
 * `vigil run` assembles it, in real time against the stand-in: a node
 * fails; the cluster fails over the roles it can; the controller restarts
 * (through the provider's `restart`) only what the cluster gave up on, and
 * on standalone hosts everything that ran on the dead host; nothing runs
 * twice.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SystemClock } from '../../../src/clock/clock.js';
import type { VigilConfig } from '../../../src/config/load.js';
import { controllerSchema } from '../../../src/config/schema.js';
import { DecisionLog, type Decision } from '../../../src/decisions.js';
import { silentLogger } from '../../../src/log.js';
import { PolicySet } from '../../../src/policy/policy-set.js';

/** The provider's restart path is under test here; fencing has its own tests (test/fence, the scenarios). */
const NO_FENCE_NEEDED = new PolicySet([{ kind: 'ClusterPolicy', cluster: '*', fencing: 'none' }], []);
import { assembleController, type Controller } from '../../../src/service/assemble.js';
import { builtinPath } from '../../../src/paths.js';
import hypervProvider from '../../../providers/hyperv/index.js';
import { SMALL_CLUSTER, startEstate, until, type Estate } from './standin.js';

async function controllerFor(estate: Estate): Promise<{ controller: Controller; decisions: Decision[] }> {
  const clock = new SystemClock();
  const config: VigilConfig = {
    file: 'vigil.yaml',
    builtin: false,
    baseDir: builtinPath(),
    controller: controllerSchema.parse({ pollInterval: '250ms', detection: { failAfterPolls: 2 }, execution: { taskPollInterval: '100ms', taskTimeout: '20s', retries: 1 } }),
    policiesDir: builtinPath('policies'),
    policiesExplicit: false,
    clusters: [{ config: hypervProvider.configSchema.parse(estate.entry()), module: hypervProvider }],
    warnings: [],
  };
  const log = new DecisionLog();
  const decisions: Decision[] = [];
  log.subscribe((d) => decisions.push(d));
  const controller = await assembleController({ config, clock, logger: silentLogger(), policies: NO_FENCE_NEEDED, decisions: log });
  controller.start();
  return { controller, decisions };
}

describe('controller failover with the hyperv provider (stand-in pwsh, real time)', () => {
  let estate: Estate | undefined;
  let controller: Controller | undefined;
  afterEach(async () => {
    await controller?.close();
    await estate?.close();
    controller = undefined;
    estate = undefined;
  });

  it('cluster: the cluster fails over what it can; Vigil starts the role the cluster gave up on, once', async () => {
    estate = await startEstate(SMALL_CLUSTER);
    estate.sim.setFailoverThreshold('db-01', 0);
    const started = await controllerFor(estate);
    controller = started.controller;
    await until('the first poll', () => (controller?.ready() ? true : undefined));

    estate.sim.failNode('hv1');
    await until('db-01 to run again', () => (estate?.sim.truth().get('db-01') ? true : undefined), 20_000);
    await controller.idle();

    const truth = estate.sim.truth();
    expect(truth.get('web-01')).not.toBe('hv1');
    expect(truth.get('web-01')).toBeTruthy();
    expect(truth.get('db-01')).not.toBe('hv1');
    const log = estate.sim.log();
    expect(log.filter((e) => e.error)).toEqual([]);
    expect(log.filter((e) => e.op === 'cluster-failover').map((e) => e.vm)).toEqual(['web-01']);
    // Vigil's one action: the role the cluster left Failed, started on the node placement chose.
    const actions = started.decisions.filter((d) => d.kind === 'action-succeeded');
    expect(actions.map((d) => d.subject)).toEqual(['db-01']);
    expect(estate.server.calls.get('start-role')).toBe(1);
    expect(log.filter((e) => e.op === 'start' && e.vm === 'db-01')).toHaveLength(1);
    expect(started.decisions.some((d) => d.kind === 'host-health' && d.subject === 'hv1' && /failed/.test(d.message))).toBe(true);
  });

  it('standalone hosts: the dead host\'s running VMs are registered and started on another host, once', async () => {
    estate = await startEstate({
      nodes: [{ name: 'hvs1' }, { name: 'hvs2' }],
      shares: ['\\\\fs1\\vms'],
      vms: [
        { name: 'app-01', host: 'hvs1', cpu: 2, memoryGiB: 4 },
        { name: 'app-02', host: 'hvs1', cpu: 2, memoryGiB: 4 },
        { name: 'idle-01', host: 'hvs1', state: 'Off' },
        { name: 'app-03', host: 'hvs2', cpu: 2, memoryGiB: 4 },
      ],
      timings: { startMs: 80 },
    });
    const started = await controllerFor(estate);
    controller = started.controller;
    await until('the first poll', () => (controller?.ready() ? true : undefined));

    estate.sim.failNode('hvs1');
    await until('app-01 and app-02 to run again', () => (estate?.sim.truth().get('app-01') && estate.sim.truth().get('app-02') ? true : undefined), 20_000);
    await controller.idle();

    const truth = estate.sim.truth();
    expect([truth.get('app-01'), truth.get('app-02'), truth.get('app-03'), truth.get('idle-01')]).toEqual(['hvs2', 'hvs2', 'hvs2', null]);
    const log = estate.sim.log();
    expect(log.filter((e) => e.error)).toEqual([]);
    expect(log.filter((e) => e.op === 'start').map((e) => e.vm).sort()).toEqual(['app-01', 'app-02']);
    expect(estate.server.calls.get('register-vm')).toBe(2);
  });
});
