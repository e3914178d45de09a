/**
 * The Hyper-V provider's translation and operations against the stand-in:
 * what the snapshot reports (nodes, roles, CSVs, replication), hostile VM
 * names travelling as data, the cluster's own failover and the cases where
 * Vigil must act, down-proofs, drains, and standalone hosts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCodes, isVigilError } from '../../../src/errors.js';
import type { TaskRef, TaskState } from '../../../src/provider.js';
import type { HyperVProvider } from '../../../providers/hyperv/provider.js';
import { scriptCommand } from '../../../providers/hyperv/scripts.js';
import { SMALL_CLUSTER, startEstate, until, type Estate } from './standin.js';

async function follow(p: HyperVProvider, ref: TaskRef): Promise<TaskState> {
  return until(`task ${ref.id}`, async () => {
    const s = await p.task(ref);
    return s.state === 'running' || s.state === 'queued' ? undefined : s;
  });
}

const HOSTILE = [
  "it's o'clock",
  'say "hi"',
  '$(Remove-Item C:\\ -Recurse)',
  'a; Stop-Computer -Force',
  'back`tick`n',
  'line\nbreak',
  'caf\u00e9-\u6570\u636e-\ud83d\ude00',
  '$env:PATH ${x} @{a=1}',
  '<#vigil:snapshot#> # not a comment',
];

describe('hyperv provider (stand-in pwsh)', () => {
  let estate: Estate;
  afterEach(async () => {
    await estate?.close();
  });

  it('translates nodes, roles, CSVs and replication into the model', async () => {
    estate = await startEstate(SMALL_CLUSTER);
    estate.sim.setCsvState('Cluster Disk 1', 'hv2', 'FileSystemRedirected');
    estate.sim.setCsvState('Cluster Disk 2', 'hv3', 'Unavailable');
    const p = await estate.provider();
    const s = await p.snapshot();
    expect(s.provider).toBe('hyperv');
    expect(s.hosts.map((h) => [h.name, h.state, h.cpu, h.memoryGiB])).toEqual([
      ['hv1', 'connected', 32, 256],
      ['hv2', 'connected', 32, 256],
      ['hv3', 'connected', 32, 256],
    ]);
    const vm = (n: string) => s.vms.find((v) => v.name === n);
    expect(vm('web-01')).toMatchObject({ host: 'hv1', power: 'on', cpu: 2, memoryGiB: 4, datastores: ['Cluster Disk 1'], managedBy: 'hyperv-cluster', labels: { 'hyperv.priority': 'medium', 'hyperv.antiAffinityClass': 'web' } });
    expect(vm('batch-01')).toMatchObject({ host: 'hv2', power: 'off', managedBy: 'hyperv-cluster' });
    expect(vm('db-01')).toMatchObject({ host: 'hv1', datastores: ['Cluster Disk 2'], labels: { 'hyperv.priority': 'high' } });
    expect(vm('db-01')?.replication).toMatchObject({ target: 'dr-hv1.example', state: 'Replicating', healthy: true, health: 'Normal' });
    expect(vm('db-01')?.replication?.lastSyncAt).toBeGreaterThan(Date.now() - 120_000);
    expect(vm('web-01')?.replication).toBeUndefined();
    const ds = (n: string) => s.datastores.find((d) => d.name === n);
    expect(ds('Cluster Disk 1')).toMatchObject({ type: 'csv', capacityGiB: 2048, freeGiB: 1024, accessible: true, hosts: ['hv1', 'hv2', 'hv3'], inaccessibleOn: [], degradedOn: ['hv2'] });
    expect(ds('Cluster Disk 2')).toMatchObject({ type: 'csv', accessible: true, inaccessibleOn: ['hv3'], degradedOn: [] });
  });

  it('hostile VM names travel as data: they come back unchanged and can be migrated', async () => {
    estate = await startEstate({ ...SMALL_CLUSTER, vms: HOSTILE.map((name, i) => ({ name, host: `hv${(i % 2) + 1}`, memoryGiB: 2 })) });
    const p = await estate.provider();
    const s = await p.snapshot();
    expect(s.vms.map((v) => v.name).sort()).toEqual([...HOSTILE].sort());
    for (const name of HOSTILE) {
      const command = scriptCommand('migrate', { group: name });
      expect(command.split('\n')).toHaveLength(1);
      if (name.length > 3) expect(command).not.toContain(name);
    }
    for (const name of [HOSTILE[1], HOSTILE[2], HOSTILE[5], HOSTILE[6]] as string[]) {
      const id = estate.sim.vmId(name);
      expect(await follow(p, await p.migrate({ id, name }, { id: 'hv3', name: 'hv3' }, { live: true }))).toEqual({ state: 'success' });
      expect(estate.sim.groupState(name).owner).toBe('hv3');
    }
    const after = await p.snapshot();
    expect(after.vms.filter((v) => v.host === 'hv3').map((v) => v.name).sort()).toEqual([HOSTILE[1], HOSTILE[2], HOSTILE[5], HOSTILE[6]].sort());
  });

  it('leaves failover to the cluster, and reports a role the cluster gave up on as Vigil\'s to restart', async () => {
    estate = await startEstate(SMALL_CLUSTER);
    estate.sim.setFailoverThreshold('db-01', 0);
    const p = await estate.provider();
    await p.snapshot();
    estate.sim.failNode('hv1');
    await until('the cluster to act', () => (estate.sim.groupState('web-01').owner !== 'hv1' && estate.sim.groupState('db-01').state === 'Failed' ? true : undefined));
    const s = await p.snapshot();
    expect(s.hosts.find((h) => h.name === 'hv1')?.state).toBe('notResponding');
    const web = s.vms.find((v) => v.name === 'web-01');
    expect(web?.managedBy).toBe('hyperv-cluster');
    expect(web?.host).not.toBe('hv1');
    const db = s.vms.find((v) => v.name === 'db-01');
    // The cluster's record of a VM on a dead node: its role (Failed, meant to be online), start memory, and what Vigil saw before.
    expect(db).toMatchObject({ host: 'hv1', power: 'on', memoryGiB: 32, cpu: 8, datastores: ['Cluster Disk 2'] });
    expect(db?.managedBy).toBeUndefined();
    // The provider times what the cluster did on its own.
    expect(p.failoverEvents.map((e) => [e.kind, e.vm, e.from])).toEqual([
      ['cluster-gave-up', 'db-01', 'hv1'],
      ['cluster-restarted', 'web-01', 'hv1'],
    ]);
    expect(p.failoverEvents.every((e) => e.withinMs >= 0)).toBe(true);
    expect(await p.hostDownProof({ id: 'hv1', name: 'hv1' })).toMatchObject({ proven: true });
    expect(await p.hostDownProof({ id: 'hv2', name: 'hv2' })).toMatchObject({ proven: false });

    const ref = await p.restart({ id: db?.id as string, name: 'db-01' }, { id: 'hv3', name: 'hv3' });
    expect(await follow(p, ref)).toEqual({ state: 'success' });
    expect(estate.sim.groupState('db-01')).toEqual({ owner: 'hv3', state: 'Online' });
    expect((await p.snapshot()).vms.find((v) => v.name === 'db-01')).toMatchObject({ host: 'hv3', power: 'on', managedBy: 'hyperv-cluster' });
    expect(estate.sim.log().filter((e) => e.error)).toEqual([]);
  });

  it('refuses to start a role that is already online', async () => {
    estate = await startEstate(SMALL_CLUSTER);
    const p = await estate.provider();
    await p.snapshot();
    const err = await p.restart({ id: estate.sim.vmId('web-01'), name: 'web-01' }, { id: 'hv3', name: 'hv3' }).catch((e: unknown) => e);
    expect(isVigilError(err) && err.code).toBe(ErrorCodes.PROVIDER_REFUSED);
    expect(isVigilError(err) && err.expected).toBe(true);
    expect(String((err as Error).message)).toContain('already online on hv1');
  });

  it('an isolated node is no proof of being down; a node that cannot be reached but is Up stays connected', async () => {
    estate = await startEstate(SMALL_CLUSTER);
    const p = await estate.provider();
    estate.sim.isolateNode('hv2');
    estate.sim.setReachable('hv3', false);
    const s = await p.snapshot();
    expect(s.hosts.map((h) => h.state)).toEqual(['connected', 'notResponding', 'connected']);
    expect(await p.hostDownProof({ id: 'hv2', name: 'hv2' })).toMatchObject({ proven: false });
    expect((await p.hostDownProof({ id: 'hv2', name: 'hv2' })).evidence).toContain('Isolated');
    // web-02 lives on the isolated node: the cluster still records it online.
    expect(s.vms.find((v) => v.name === 'web-02')).toMatchObject({ host: 'hv2', power: 'on', managedBy: 'hyperv-cluster' });
  });

  it('drains a node with Suspend-ClusterNode and follows the drain to its end', async () => {
    estate = await startEstate(SMALL_CLUSTER);
    const p = await estate.provider();
    await p.snapshot();
    expect(await follow(p, await p.setMaintenance({ id: 'hv1', name: 'hv1' }, true))).toEqual({ state: 'success' });
    const s = await p.snapshot();
    expect(s.hosts.find((h) => h.name === 'hv1')?.state).toBe('maintenance');
    expect(s.vms.filter((v) => v.host === 'hv1')).toEqual([]);
    expect(await follow(p, await p.setMaintenance({ id: 'hv1', name: 'hv1' }, false))).toEqual({ state: 'success' });
    expect(estate.sim.nodeState('hv1').state).toBe('Up');
    expect(estate.sim.log().filter((e) => e.error)).toEqual([]);
  });

  it('unknown names are coded, expected errors', async () => {
    estate = await startEstate(SMALL_CLUSTER);
    const p = await estate.provider();
    await p.snapshot();
    const unknownHost = await p.setMaintenance({ id: 'hv9', name: 'hv9' }, true).catch((e: unknown) => e);
    expect(isVigilError(unknownHost) && [unknownHost.code, unknownHost.expected]).toEqual([ErrorCodes.UNKNOWN_HOST, true]);
    const unknownTarget = await p.migrate({ id: estate.sim.vmId('web-01'), name: 'web-01' }, { id: 'hv9', name: 'hv9' }, { live: true }).catch((e: unknown) => e);
    expect(isVigilError(unknownTarget) && unknownTarget.code).toBe(ErrorCodes.UNKNOWN_HOST);
    const unknownTask = await p.task({ id: 'hyperv-migrate-999', op: 'migrate' }).catch((e: unknown) => e);
    expect(isVigilError(unknownTask) && unknownTask.code).toBe(ErrorCodes.UNKNOWN_TASK);
  });

  it('a migration the platform fails ends the task with the platform\'s reason', async () => {
    estate = await startEstate(SMALL_CLUSTER);
    const p = await estate.provider();
    await p.snapshot();
    const ref = await p.migrate({ id: estate.sim.vmId('web-01'), name: 'web-01' }, { id: 'hv3', name: 'hv3' }, { live: true });
    estate.sim.failNode('hv3');
    const end = await follow(p, ref);
    expect(end).toMatchObject({ state: 'error', retryable: false });
    expect((end as { message: string }).message).toContain("node 'hv3' is not in the Up state");
  });
});

describe('hyperv standalone hosts (stand-in pwsh)', () => {
  let estate: Estate;
  afterEach(async () => {
    await estate?.close();
  });
  const STANDALONE = {
    nodes: [{ name: 'hvs1' }, { name: 'hvs2' }, { name: 'hvs3' }],
    shares: ['\\\\fs1\\vms'],
    vms: [
      { name: 'app-01', host: 'hvs1', cpu: 2, memoryGiB: 4 },
      { name: 'app-02', host: 'hvs1', cpu: 2, memoryGiB: 6, state: 'Off' as const },
      { name: 'local-01', host: 'hvs2', path: 'D:\\Hyper-V\\local-01' },
    ],
    timings: { startMs: 60, liveMigrationMs: 80 },
  };

  it('reports shares as smb datastores, local files as the host\'s own, and no maintenance mode', async () => {
    estate = await startEstate(STANDALONE);
    estate.sim.setShareReachable('\\\\fs1\\vms', 'hvs3', false);
    const p = await estate.provider();
    const s = await p.snapshot();
    expect(p.capabilities.maintenanceMode).toBe(false);
    expect(s.datastores.find((d) => d.name === '\\\\fs1\\vms')).toMatchObject({ type: 'smb', accessible: true, inaccessibleOn: ['hvs3'], capacityGiB: null });
    expect(s.vms.find((v) => v.name === 'local-01')?.datastores).toEqual(['local:hvs2']);
    expect(s.vms.find((v) => v.name === 'app-01')).toMatchObject({ datastores: ['\\\\fs1\\vms'], power: 'on' });
    expect(s.vms.find((v) => v.name === 'app-01')?.managedBy).toBeUndefined();
    const err = await p.setMaintenance({ id: 'hvs1', name: 'hvs1' }, true).catch((e: unknown) => e);
    expect(isVigilError(err) && [err.code, err.expected]).toEqual([ErrorCodes.PROVIDER_REFUSED, true]);
    expect(await p.hostDownProof({ id: 'hvs1', name: 'hvs1' })).toMatchObject({ proven: false });
  });

  it('keeps a dead host\'s VMs as last seen, and restarts one on another host from the share (Import-VM -Register)', async () => {
    estate = await startEstate(STANDALONE);
    const p = await estate.provider();
    await p.snapshot();
    estate.sim.failNode('hvs1');
    const s = await p.snapshot();
    expect(s.hosts.find((h) => h.name === 'hvs1')?.state).toBe('notResponding');
    const app = s.vms.find((v) => v.name === 'app-01');
    expect(app).toMatchObject({ host: 'hvs1', power: 'on', memoryGiB: 4 });
    expect(s.vms.find((v) => v.name === 'app-02')).toMatchObject({ host: 'hvs1', power: 'off' });

    // hvs3 cannot read the share: a refusal a person can act on.
    estate.sim.setShareReachable('\\\\fs1\\vms', 'hvs3', false);
    const refused = await p.restart({ id: app?.id as string, name: 'app-01' }, { id: 'hvs3', name: 'hvs3' }).catch((e: unknown) => e);
    expect(isVigilError(refused) && [refused.code, refused.expected]).toEqual([ErrorCodes.PROVIDER_REFUSED, true]);

    const ref = await p.restart({ id: app?.id as string, name: 'app-01' }, { id: 'hvs2', name: 'hvs2' });
    expect(await follow(p, ref)).toEqual({ state: 'success' });
    expect(estate.sim.truth().get('app-01')).toBe('hvs2');
    expect((await p.snapshot()).vms.find((v) => v.name === 'app-01')).toMatchObject({ host: 'hvs2', power: 'on' });
    // The old host comes back with a stale registration; the VM is reported where it runs.
    estate.sim.recoverNode('hvs1');
    expect((await p.snapshot()).vms.filter((v) => v.name === 'app-01').map((v) => [v.host, v.power])).toEqual([['hvs2', 'on']]);
    expect(estate.sim.log().filter((e) => e.error)).toEqual([]);
  });
});
