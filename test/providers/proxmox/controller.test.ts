/**
 * The controller, assembled as `vigil run` assembles it, on the Proxmox
 * test setup in real time: a node fails in the stand-in, the controller
 * declares it failed after two polls and restarts its guests elsewhere
 * through the provider (direct recovery over a real sshd), leaves the HA
 * guest to Proxmox HA, reports the local-disk guest as unplaceable, and no
 * guest ever runs twice. Also `vigil status` through the built CLI.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { SystemClock } from '../../../src/clock/clock.js';
import type { VigilConfig } from '../../../src/config/load.js';
import { controllerSchema } from '../../../src/config/schema.js';
import { DecisionLog, type Decision } from '../../../src/decisions.js';
import { silentLogger } from '../../../src/log.js';
import { PolicySet } from '../../../src/policy/policy-set.js';

/** The provider's restart path is under test here; fencing has its own tests (test/fence, the scenarios). */
const NO_FENCE_NEEDED = new PolicySet([{ kind: 'ClusterPolicy', cluster: '*', fencing: 'none' }], []);
import { assembleController, type Controller } from '../../../src/service/assemble.js';
import proxmoxProvider from '../../../providers/proxmox/index.js';
import { freePort, vigilProcess, waitFor } from '../../helpers/cli.js';
import { startHarness, type Harness } from '../../pve-standin/harness.js';

let h: Harness | undefined;
let controller: Controller | undefined;
afterEach(async () => {
  await controller?.close();
  await h?.close();
  controller = undefined;
  h = undefined;
});

/** Runs the CLI without blocking this process, which serves the stand-in the CLI talks to. */
async function vigilAsync(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = vigilProcess(args, { env });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  return { code, stdout, stderr };
}

describe('controller failover on the Proxmox test setup', () => {
  it('restarts a failed node\'s guests elsewhere, each once, and leaves HA guests to Proxmox', async () => {
    h = await startHarness({ sshd: true });
    const cluster = proxmoxProvider.configSchema.parse(h.entry());
    const config: VigilConfig = {
      file: join(h.dir, 'vigil.yaml'),
      builtin: false,
      baseDir: h.dir,
      controller: controllerSchema.parse({ pollInterval: '300ms', detection: { failAfterPolls: 2 }, execution: { taskPollInterval: '100ms', taskTimeout: '20s', retries: 2 } }),
      policiesDir: join(h.dir, 'policies'),
      policiesExplicit: false,
      clusters: [{ config: cluster, module: proxmoxProvider }],
      warnings: [],
    };
    const decisions = new DecisionLog();
    const seen: Decision[] = [];
    decisions.subscribe((d) => seen.push(d));
    controller = await assembleController({ config, clock: new SystemClock(), logger: silentLogger(), policies: NO_FENCE_NEEDED, decisions });
    controller.start();
    await waitFor('the first poll', async () => (controller?.ready() ? true : undefined));

    const pve = h.pve;
    pve.failNode('pve2');
    await waitFor(
      'cache-01 to run again on another node',
      async () => (seen.some((d) => d.kind === 'action-succeeded' && d.subject === 'cache-01') ? true : undefined),
      20_000,
    );
    await waitFor('db-01 recovered by Proxmox HA', async () => (pve.log().some((e) => e.op === 'ha-recover' && e.vmid === 101) && pve.runtime.get(101)?.running ? true : undefined), 20_000);
    await controller.stop();

    const rt = pve.runtime.get(102);
    expect(rt?.running).toBe(true);
    expect(rt?.on).not.toBe('pve2');
    expect(pve.tree.find(102)?.node).toBe(rt?.on);
    expect(seen.find((d) => d.kind === 'host-health' && d.subject === 'pve2' && (d.data as { to?: string }).to === 'failed')).toBeDefined();
    expect(seen.some((d) => d.kind === 'skipped' && d.subject === 'db-01' && /pve-ha/.test(d.message))).toBe(true);
    expect(seen.some((d) => d.kind === 'unplaced' && d.subject === 'legacy-01')).toBe(true);
    // Nothing ran twice, and each guest was started once.
    expect(pve.errors()).toEqual([]);
    const starts = pve.log().filter((e) => e.op === 'start');
    expect(starts.map((e) => e.vmid).sort()).toEqual([101, 102]);
    expect(seen.filter((d) => d.kind === 'action-started').map((d) => d.subject)).toEqual(['cache-01']);
  }, 60_000);

  it('vigil status --config shows the cluster through the provider', async () => {
    h = await startHarness();
    const dir = h.dir;
    const apiPort = await freePort();
    writeFileSync(join(dir, 'vigil.yaml'), stringify({ controller: { listen: `127.0.0.1:${apiPort}` }, clusters: [{ ...h.entry(), caFile: 'pve-ssl.pem', tokenSecret: '${env:PVE_TOKEN}' }] }));
    const env = { PVE_TOKEN: h.entry().tokenSecret as string };
    const r = await vigilAsync(['status', '--config', join(dir, 'vigil.yaml'), '--json'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const c = JSON.parse(r.stdout).clusters[0];
    expect(c).toMatchObject({ name: 'pve', provider: 'proxmox' });
    expect(c.hosts.map((x: { name: string; state: string }) => `${x.name}:${x.state}`)).toEqual(['pve1:connected', 'pve2:connected', 'pve3:connected']);
    expect(c.vms.find((v: { name: string }) => v.name === 'db-01')).toMatchObject({ host: 'pve2', power: 'on', cpu: 4, memoryGiB: 16, datastores: ['ceph'] });
    expect(c.datastores.find((d: { name: string }) => d.name === 'ceph')).toMatchObject({ capacityGiB: 4096, freeGiB: 3072, hosts: ['pve1', 'pve2', 'pve3'], accessible: true });
    expect(r.stdout).not.toContain(h.entry().tokenSecret as string);

    const table = await vigilAsync(['status', '--config', join(dir, 'vigil.yaml')], env);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('cache-01');
  }, 60_000);
});
