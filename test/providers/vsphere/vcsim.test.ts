/**
 * The vsphere provider against VMware's vSphere simulator (vcsim) in Vigil's
 * harness: inventory, the update stream, operations, sessions, credentials,
 * TLS, and the faults the harness injects. Each test starts its own small
 * simulator on loopback ports it picks.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, VigilError, isVigilError } from '../../../src/errors.js';
import type { ClusterSnapshot, Host } from '../../../src/model/inventory.js';
import type { TaskRef, TaskState } from '../../../src/provider.js';
import { startVcsim, type Vcsim, type VcsimOptions } from '../../../bench/vsphere/vcsim.js';
import type { VsphereProvider } from '../../../providers/vsphere/index.js';
import { eventually, providerFor } from './helpers.js';

async function withSim(o: VcsimOptions, fn: (sim: Vcsim) => Promise<void>): Promise<void> {
  const sim = await startVcsim(o);
  try {
    await fn(sim);
  } finally {
    await sim.stop();
  }
}

async function follow(p: VsphereProvider, ref: TaskRef): Promise<TaskState> {
  return eventually(`task ${ref.id}`, async () => {
    const s = await p.task(ref);
    return s.state === 'success' || s.state === 'error' ? s : undefined;
  });
}

async function rejection(p: Promise<unknown>): Promise<VigilError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  if (!isVigilError(e)) throw new Error(`expected a VigilError, got ${String(e)}`);
  return e;
}

function everything(e: VigilError): string {
  return `${e.message}\n${e.stack ?? ''}\n${JSON.stringify(e)}\n${JSON.stringify(e.details)}`;
}

describe('vsphere provider on vcsim', () => {
  it('reads the simulator inventory as it is', async () => {
    await withSim({ hosts: 3, vms: 6, datastores: 2 }, async (sim) => {
      const p = await providerFor(sim, {}, 'oneshot');
      try {
        const snap = await p.snapshot();
        const st = await sim.state();
        expect(snap.hosts.map((h) => ({ name: h.name, id: h.id, state: h.state, address: h.address }))).toEqual(st.hosts.map((h) => ({ name: h.name, id: h.moid, state: 'connected', address: h.name })));
        for (const h of snap.hosts) expect(h).toMatchObject({ cpu: 2, memoryGiB: 4 });
        const vms = [...snap.vms].sort((a, b) => a.id.localeCompare(b.id));
        const expected = [...st.vms].sort((a, b) => a.instanceUuid.localeCompare(b.instanceUuid));
        expect(vms.map((v) => ({ id: v.id, name: v.name, host: v.host, power: v.power, datastores: v.datastores }))).toEqual(
          expected.map((v) => ({ id: v.instanceUuid, name: v.name, host: v.host, power: 'on', datastores: ['LocalDS_0'] })),
        );
        expect(snap.datastores.map((d) => ({ name: d.name, id: d.id, hosts: d.hosts, accessible: d.accessible, inaccessibleOn: d.inaccessibleOn, type: d.type }))).toEqual(
          st.datastores.map((d) => ({ name: d.name, id: d.moid, hosts: Object.keys(d.mounts).sort(), accessible: true, inaccessibleOn: [], type: 'vmfs' })),
        );
        const ds0 = st.datastores[0];
        expect(snap.datastores[0]?.capacityGiB).toBeCloseTo((ds0?.capacity ?? 0) / 2 ** 30, 1);
        // One-shot reads (vigil status) set up no update stream.
        expect(p.transport.calls.get('CreateFilter')).toBeUndefined();
      } finally {
        await p.close();
      }
    });
  });

  it('follows failures through WaitForUpdatesEx, one round trip per quiet cycle', async () => {
    await withSim({ hosts: 3, vms: 6 }, async (sim) => {
      const p = await providerFor(sim);
      try {
        await p.snapshot();
        expect(p.collector.counts.full).toBe(1);
        await sim.calls(true);
        const before = p.roundTrips;
        const quiet = await p.snapshot();
        expect(p.roundTrips - before).toBe(1);
        expect(await sim.calls()).toEqual({ WaitForUpdatesEx: 1 });

        const h1 = quiet.hosts.find((h) => h.name === 'DC0_C0_H1');
        const onH1 = quiet.vms.filter((v) => v.host === 'DC0_C0_H1').map((v) => v.name);
        await sim.control('/hosts/fail', { name: 'DC0_C0_H1' });
        const failed = await eventually('H1 not responding', async () => {
          const s = await p.snapshot();
          return s.hosts.find((h) => h.id === h1?.id)?.state === 'notResponding' ? s : undefined;
        });
        // vCenter keeps the last power state it knew for the VMs of a host it lost.
        expect(failed.vms.filter((v) => onH1.includes(v.name)).map((v) => v.power)).toEqual(onH1.map(() => 'on'));

        await sim.control('/datastores/fail', { name: 'LocalDS_0', host: 'DC0_C0_H2' });
        const partly = await eventually('LocalDS_0 lost on H2', async () => {
          const s = await p.snapshot();
          return s.datastores[0]?.inaccessibleOn.length ? s : undefined;
        });
        expect(partly.datastores[0]).toMatchObject({ accessible: true, inaccessibleOn: ['DC0_C0_H2'] });
        await sim.control('/datastores/fail', { name: 'LocalDS_0' });
        const all = await eventually('LocalDS_0 lost everywhere', async () => {
          const s = await p.snapshot();
          return s.datastores[0]?.accessible === false ? s : undefined;
        });
        expect(all.datastores[0]?.inaccessibleOn).toEqual(['DC0_C0_H0', 'DC0_C0_H1', 'DC0_C0_H2']);

        await sim.control('/vms/set', { name: 'DC0_C0_RP0_VM0', power: 'poweredOff' });
        await eventually('VM0 off', async () => ((await p.snapshot()).vms.find((v) => v.name === 'DC0_C0_RP0_VM0')?.power === 'off' ? true : undefined));
        await sim.control('/hosts/recover', { name: 'DC0_C0_H1' });
        await eventually('H1 back', async () => ((await p.snapshot()).hosts.find((h) => h.name === 'DC0_C0_H1')?.state === 'connected' ? true : undefined));
        expect(p.collector.counts.full, 'every change came through the update stream').toBe(1);
      } finally {
        await p.close();
      }
    });
  });

  it('a second watcher in its own session sees maintenance mode come and go', async () => {
    await withSim({ hosts: 3, vms: 0 }, async (sim) => {
      const actor = await providerFor(sim);
      const watcher = await providerFor(sim);
      try {
        await watcher.snapshot();
        const host = (await actor.snapshot()).hosts[2] as { id: string; name: string };
        expect(await follow(actor, await actor.setMaintenance(host, true))).toEqual({ state: 'success' });
        await eventually('maintenance seen', async () => ((await watcher.snapshot()).hosts.find((h) => h.id === host.id)?.state === 'maintenance' ? true : undefined));
        expect(await follow(actor, await actor.setMaintenance(host, false))).toEqual({ state: 'success' });
        await eventually('maintenance over', async () => ((await watcher.snapshot()).hosts.find((h) => h.id === host.id)?.state === 'connected' ? true : undefined));
        expect(watcher.collector.counts.full).toBe(1);
      } finally {
        await actor.close();
        await watcher.close();
      }
    });
  });

  it('restarts a dead host’s VM on another host, once, and a repeated call does not register it twice', async () => {
    await withSim({ hosts: 3, vms: 6 }, async (sim) => {
      const p = await providerFor(sim);
      try {
        const snap = await p.snapshot();
        const vm = snap.vms.find((v) => v.host === 'DC0_C0_H0') as { id: string; name: string };
        const target = snap.hosts.find((h) => h.name === 'DC0_C0_H2') as { id: string; name: string };
        const oldMoid = (await sim.state()).vms.find((v) => v.instanceUuid === vm.id)?.moid;
        await sim.control('/hosts/fail', { name: 'DC0_C0_H0' });

        const ref = await p.restart(vm, target);
        expect(ref.op).toBe('restart');
        expect(await follow(p, ref)).toEqual({ state: 'success' });
        expect((await p.task(ref)).state, 'a finished restart stays finished').toBe('success');

        const after = await p.snapshot();
        expect(after.vms.filter((v) => v.id === vm.id)).toEqual([expect.objectContaining({ name: vm.name, host: 'DC0_C0_H2', power: 'on' })]);
        const st = await sim.state();
        const regs = st.vms.filter((v) => v.instanceUuid === vm.id);
        expect(regs).toHaveLength(1);
        expect(regs[0]).toMatchObject({ host: 'DC0_C0_H2', powerState: 'poweredOn', reallyRunning: true });
        expect(regs[0]?.moid, 'RegisterVM gives the VM a new moid').not.toBe(oldMoid);
        expect(st.log.filter((e) => e.vm === vm.name).map((e) => e.op)).toEqual(['unregister', 'register', 'start']);
        expect(st.errors).toEqual([]);

        // A controller that crashed after the restart and runs it again.
        const again = await p.restart(vm, target);
        expect(await follow(p, again)).toEqual({ state: 'success' });
        expect((await sim.state()).log.filter((e) => e.vm === vm.name).map((e) => e.op)).toEqual(['unregister', 'register', 'start']);

        const unknown = await rejection(p.restart({ id: 'no-such-uuid', name: 'ghost' }, target));
        expect(unknown.code).toBe(ErrorCodes.UNKNOWN_VM);
      } finally {
        await p.close();
      }
    });
  });

  it('a restart whose registration failed can be called again and registers the VM it unregistered', async () => {
    await withSim({ hosts: 3, vms: 3 }, async (sim) => {
      const p = await providerFor(sim);
      try {
        const snap = await p.snapshot();
        const vm = snap.vms.find((v) => v.host === 'DC0_C0_H0') as { id: string; name: string };
        const target = snap.hosts.find((h) => h.name === 'DC0_C0_H1') as { id: string; name: string };
        await sim.control('/hosts/fail', { name: 'DC0_C0_H0' });
        await sim.control('/faults/inject', { method: 'RegisterVM_Task', fault: 'HostCommunication', count: 1 });
        const failed = await follow(p, await p.restart(vm, target));
        expect(failed).toMatchObject({ state: 'error', code: 'HostCommunication', retryable: true });
        expect(failed.state === 'error' && failed.message).toContain('is not registered in vCenter now');
        expect((await sim.state()).vms.filter((v) => v.instanceUuid === vm.id)).toEqual([]);
        expect(await follow(p, await p.restart(vm, target))).toEqual({ state: 'success' });
        expect((await sim.state()).vms.filter((v) => v.instanceUuid === vm.id)).toEqual([expect.objectContaining({ host: 'DC0_C0_H1', powerState: 'poweredOn' })]);
      } finally {
        await p.close();
      }
    });
  });

  it('a restart meets the VMFS lock while a partitioned host still runs the VM', async () => {
    await withSim({ hosts: 3, vms: 3 }, async (sim) => {
      const p = await providerFor(sim);
      try {
        const snap = await p.snapshot();
        const vm = snap.vms.find((v) => v.host === 'DC0_C0_H0') as { id: string; name: string };
        const target = snap.hosts.find((h) => h.name === 'DC0_C0_H1') as { id: string; name: string };
        await sim.control('/hosts/fail', { name: 'DC0_C0_H0', mode: 'partition' });
        const state = await follow(p, await p.restart(vm, target));
        expect(state).toMatchObject({ state: 'error', code: 'FileLocked', retryable: false });
        const st = await sim.state();
        expect(st.errors, 'nothing ran twice').toEqual([]);
        expect(st.vms.filter((v) => v.instanceUuid === vm.id)).toEqual([expect.objectContaining({ host: 'DC0_C0_H1', powerState: 'poweredOff' })]);
      } finally {
        await p.close();
      }
    });
  });

  it('migration is refused into maintenance and out of a lost host, as task errors with the fault type', async () => {
    await withSim({ hosts: 3, vms: 3 }, async (sim) => {
      const p = await providerFor(sim);
      try {
        const snap = await p.snapshot();
        const [h0, h1, h2] = snap.hosts as unknown as [Host, Host, Host];
        const vm0 = snap.vms.find((v) => v.host === h0.name) as { id: string; name: string };
        expect(await follow(p, await p.setMaintenance(h2, true))).toEqual({ state: 'success' });
        expect(await follow(p, await p.migrate(vm0, h2, { live: true }))).toMatchObject({ state: 'error', code: 'InvalidHostState' });
        await sim.control('/hosts/fail', { name: h0.name });
        expect(await follow(p, await p.migrate(vm0, h1, { live: true }))).toMatchObject({ state: 'error', code: 'InvalidHostConnectionState' });
        const noHost = await rejection(p.migrate(vm0, { id: 'host-9999', name: 'nowhere' }, { live: true }));
        expect(noHost).toMatchObject({ code: ErrorCodes.UNKNOWN_HOST, expected: true });
        const noTask = await rejection(p.task({ id: 'task-99999', op: 'migrate' }));
        expect(noTask.code).toBe(ErrorCodes.UNKNOWN_TASK);
      } finally {
        await p.close();
      }
    });
  });

  it('logs in again, once, when the session expired, including when vcsim reports it inside missingSet', async () => {
    await withSim({ hosts: 3, vms: 3 }, async (sim) => {
      const p = await providerFor(sim);
      try {
        const snap = await p.snapshot();
        const vm = snap.vms[0] as { id: string; name: string };
        const ref = await p.migrate(vm, snap.hosts.find((h) => h.name !== snap.vms[0]?.host) as { id: string; name: string }, { live: true });
        await sim.calls(true);
        expect(await sim.control('/sessions/expire')).toMatchObject({ expired: 1 });
        // Task info is read with RetrievePropertiesEx: vcsim answers 200 with NotAuthenticated in missingSet.
        expect(await p.task(ref)).toEqual({ state: 'success' });
        expect((await sim.calls()).Login).toBe(1);
        expect(await sim.control('/sessions/expire')).toMatchObject({ expired: 1 });
        const again = await p.snapshot();
        expect(again.vms.length).toBe(snap.vms.length);
        expect((await sim.calls()).Login).toBe(2);
      } finally {
        await p.close();
      }
    });
  });

  it('logs in again after vCenter expired an idle session on its own', async () => {
    await withSim({ hosts: 2, vms: 2, sessionIdleTimeout: '500ms' }, async (sim) => {
      const p = await providerFor(sim);
      try {
        await p.snapshot();
        // vcsim checks idle sessions every timeout interval: gone after at most twice the timeout.
        await new Promise((r) => setTimeout(r, 1_300));
        expect((await p.snapshot()).vms).toHaveLength(2);
        expect((await sim.calls()).Login).toBe(2);
      } finally {
        await p.close();
      }
    });
  });

  it('powers a VM off, and overlapping snapshots share one read of the update stream', async () => {
    await withSim({ hosts: 2, vms: 2 }, async (sim) => {
      const p = await providerFor(sim);
      try {
        const snap = await p.snapshot();
        const vm = snap.vms[0] as { id: string; name: string };
        expect(await follow(p, await p.powerOff(vm))).toEqual({ state: 'success' });
        await sim.calls(true);
        const [a, b] = await Promise.all([p.snapshot(), p.snapshot()]);
        expect(a.vms.find((v) => v.id === vm.id)?.power).toBe('off');
        expect(b.vms).toEqual(a.vms);
        expect((await sim.calls()).WaitForUpdatesEx).toBe(1);
      } finally {
        await p.close();
      }
    });
  });

  it('reads the cluster in full again once fullReadInterval has passed', async () => {
    await withSim({ hosts: 2, vms: 2 }, async (sim) => {
      const p = await providerFor(sim, { fullReadInterval: '1s' });
      try {
        await p.snapshot();
        await p.snapshot();
        expect(p.collector.counts).toEqual({ full: 1, incremental: 1 });
        await new Promise((r) => setTimeout(r, 1_100));
        await p.snapshot();
        expect(p.collector.counts.full).toBe(2);
      } finally {
        await p.close();
      }
    });
  });

  it('the harness answers MigrateVM_Task as vCenter does (simulated: vcsim lacks it)', async () => {
    await withSim({ hosts: 3, vms: 3 }, async (sim) => {
      const p = await providerFor(sim);
      try {
        const st = await sim.state();
        const vm = st.vms[0] as { moid: string; instanceUuid: string; host: string };
        const to = st.hosts.find((h) => h.name !== vm.host) as { moid: string; name: string };
        const res = await p.session.call('MigrateVM_Task', { type: 'VirtualMachine', value: vm.moid }, `<host type="HostSystem">${to.moid}</host><priority>defaultPriority</priority>`);
        const task = JSON.stringify(res.body).match(/"#text":"(task-\d+)"/)?.[1] as string;
        expect(await follow(p, { id: task, op: 'migrate' })).toEqual({ state: 'success' });
        expect((await p.snapshot()).vms.find((v) => v.id === vm.instanceUuid)?.host).toBe(to.name);
        expect((await sim.state()).hosts.find((h) => h.name === to.name)?.vms, 'HostSystem.vm follows the VM').toBe(2);
      } finally {
        await p.close();
      }
    });
  });

  it('a wrong password is a clear, expected error that never shows the password', async () => {
    await withSim({ hosts: 1, vms: 0 }, async (sim) => {
      const p = await providerFor(sim, { password: 'Wr0ng-S3cret-4711' });
      try {
        const e = await rejection(p.snapshot());
        expect(e).toMatchObject({ code: ErrorCodes.PROVIDER_REFUSED, expected: true, retryable: false });
        expect(e.message).toContain('incorrect user name or password');
        expect(e.message).toContain('vigil');
        expect(everything(e)).not.toContain('Wr0ng-S3cret-4711');
        expect((await sim.calls()).Login).toBe(1);
      } finally {
        await p.close();
      }
    });
  });

  it('refuses a self-signed certificate unless it is trusted by CA file, thumbprint or insecure', async () => {
    await withSim({ hosts: 1, vms: 1, tls: true }, async (sim) => {
      expect(sim.url).toMatch(/^https:/);
      const refused = await providerFor(sim);
      const e = await rejection(refused.snapshot());
      expect(e).toMatchObject({ code: ErrorCodes.PROVIDER_UNAVAILABLE, expected: true, retryable: false });
      expect(e.message).toMatch(/not trusted.*caFile.*thumbprint/);
      expect(everything(e)).not.toContain(sim.password);

      const wrongPin = await providerFor(sim, { thumbprint: '00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33' });
      const pinErr = await rejection(wrongPin.snapshot());
      expect(pinErr.message).toContain('does not match the pinned thumbprint');
      expect(await sim.calls(), 'nothing, least of all the password, was sent to an untrusted server').toEqual({});

      for (const over of [{ caFile: sim.caFile }, { thumbprint: sim.thumbprint }, { thumbprint: sim.thumbprintSha256?.replace(/:/g, '').toLowerCase() }]) {
        const p = await providerFor(sim, over, 'oneshot');
        expect((await p.snapshot()).hosts).toHaveLength(1);
        await p.close();
      }

      const lines: string[] = [];
      const logger = pino({ level: 'warn' }, { write: (s: string) => lines.push(s) });
      const insecure = await providerFor(sim, { insecure: true }, 'oneshot', logger);
      expect((await insecure.snapshot()).hosts).toHaveLength(1);
      await insecure.close();
      expect(lines.join('')).toContain('TLS verification of vCenter is OFF');
    });
  });

  it('turns injected SOAP faults, 503 pages and slow answers into typed errors naming the call', async () => {
    await withSim({ hosts: 3, vms: 3 }, async (sim) => {
      const p = await providerFor(sim, { timeout: '400ms' });
      try {
        const snap = await p.snapshot();
        const vm = snap.vms[0] as { id: string; name: string; host: string };
        const to = snap.hosts.find((h) => h.name !== vm.host) as { id: string; name: string };

        await sim.control('/faults/inject', { method: 'RelocateVM_Task', fault: 'TaskInProgress', count: 1, message: 'another task is in progress' });
        const busy = await rejection(p.migrate(vm, to, { live: true }));
        expect(busy).toMatchObject({ code: ErrorCodes.PROVIDER_REFUSED, retryable: true, details: { fault: 'TaskInProgress', call: 'RelocateVM_Task' } });
        expect(busy.message).toContain('RelocateVM_Task');

        await sim.control('/unavailable', { count: 1 });
        const down = await rejection(p.snapshot());
        expect(down).toMatchObject({ code: ErrorCodes.PROVIDER_UNAVAILABLE, retryable: true });
        expect(down.message).toMatch(/WaitForUpdatesEx: answered with an HTML page \(HTTP 503: 503 Service Unavailable\)/);
        expect((await p.snapshot()).vms).toHaveLength(3);

        await sim.control('/latency', { method: 'WaitForUpdatesEx', ms: 1500 });
        const slow = await rejection(p.snapshot());
        expect(slow).toMatchObject({ code: ErrorCodes.PROVIDER_UNAVAILABLE, retryable: true, details: { problem: 'timeout' } });
        expect(slow.message).toContain('WaitForUpdatesEx: no answer within 0.4s');
        await sim.control('/faults/clear');
        const fulls = p.collector.counts.full;
        expect((await p.snapshot()).vms).toHaveLength(3);
        expect(p.collector.counts.full, 'after a lost answer only a full read is trusted').toBe(fulls + 1);
      } finally {
        await p.close();
      }
    });
  });

  it('reads labels from custom attributes', async () => {
    await withSim({ hosts: 2, vms: 2 }, async (sim) => {
      const p = await providerFor(sim, {}, 'oneshot');
      try {
        const st = await sim.state();
        const sc = await p.session.serviceContent();
        const cfm = sc.customFieldsManager as { type: string; value: string };
        const def = await p.session.call('AddCustomFieldDef', cfm, '<name>tier</name>');
        const key = JSON.stringify(def.body).match(/"key":"(\d+)"/)?.[1] as string;
        const vm = st.vms[0] as { moid: string; instanceUuid: string };
        const host = st.hosts[1] as { moid: string; name: string };
        await p.session.call('SetField', cfm, `<entity type="VirtualMachine">${vm.moid}</entity><key>${key}</key><value>gold</value>`);
        await p.session.call('SetField', cfm, `<entity type="HostSystem">${host.moid}</entity><key>${key}</key><value>rack-1</value>`);
        const snap: ClusterSnapshot = await p.snapshot();
        expect(snap.vms.find((v) => v.id === vm.instanceUuid)?.labels).toEqual({ tier: 'gold' });
        expect(snap.hosts.find((h) => h.id === host.moid)?.labels).toEqual({ tier: 'rack-1' });
        expect(snap.vms.find((v) => v.id !== vm.instanceUuid)?.labels).toEqual({});
      } finally {
        await p.close();
      }
    });
  });

  it('says clearly when the datacenter or cluster does not exist', async () => {
    await withSim({ hosts: 1, vms: 0 }, async (sim) => {
      for (const [over, text] of [
        [{ datacenter: 'DC9' }, 'vCenter has no datacenter "DC9"'],
        [{ cluster: 'nope' }, 'datacenter "DC0" has no cluster "nope"'],
      ] as const) {
        const p = await providerFor(sim, over, 'oneshot');
        const e = await rejection(p.snapshot());
        expect(e).toMatchObject({ code: ErrorCodes.UNKNOWN_CLUSTER, expected: true });
        expect(e.message).toContain(text);
        await p.close();
      }
      const whole = await providerFor(sim, { datacenter: undefined, cluster: undefined }, 'oneshot');
      expect((await whole.snapshot()).hosts.map((h) => h.name)).toEqual(['DC0_C0_H0']);
      await whole.close();
    });
  });
});
