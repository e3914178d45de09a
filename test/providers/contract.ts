/**
 * The provider contract, as tests every provider runs against its own peer
 * (the lab, vcsim, a Proxmox or PowerShell stand-in). A provider passes when
 * its snapshots are consistent, its operations run as tasks to their end,
 * and its refusals are coded Vigil errors.
 */
import { describe, expect, it } from 'vitest';
import { isVigilError } from '../../src/errors.js';
import { HOST_STATES, POWER_STATES, type ClusterSnapshot } from '../../src/model/inventory.js';
import { PROVIDER_CONTRACT_VERSION, type HostRef, type Provider, type TaskRef, type TaskState, type VmRef } from '../../src/provider.js';

export interface ContractFixture {
  readonly provider: Provider;
  /** A running VM that can be live-migrated, and a host it may go to. */
  readonly migratable?: { readonly vm: VmRef; readonly to: HostRef };
  /** A host with no running VM that may enter maintenance and leave it again. */
  readonly maintenanceHost?: HostRef;
  /** Lets time pass for tasks to progress (advance a fake clock, or wait in real time). */
  readonly wait: (ms: number) => Promise<void>;
  readonly close: () => Promise<void>;
}

export async function followTask(f: ContractFixture, ref: TaskRef, limitMs = 600_000, stepMs = 500): Promise<TaskState> {
  let state = await f.provider.task(ref);
  for (let waited = 0; (state.state === 'running' || state.state === 'queued') && waited < limitMs; waited += stepMs) {
    await f.wait(stepMs);
    state = await f.provider.task(ref);
  }
  return state;
}

export function checkSnapshotConsistent(s: ClusterSnapshot): void {
  const hosts = new Set(s.hosts.map((h) => h.name));
  expect(hosts.size, 'host names are unique').toBe(s.hosts.length);
  expect(new Set(s.vms.map((v) => v.id)).size, 'VM ids are unique').toBe(s.vms.length);
  const datastores = new Set(s.datastores.map((d) => d.name));
  for (const h of s.hosts) {
    expect(HOST_STATES).toContain(h.state);
    expect(h.cpu).toBeGreaterThan(0);
    expect(h.memoryGiB).toBeGreaterThan(0);
    expect(typeof h.id).toBe('string');
  }
  for (const v of s.vms) {
    expect(hosts.has(v.host), `VM ${v.name} is on a host of the snapshot`).toBe(true);
    expect(POWER_STATES).toContain(v.power);
    expect(v.cpu).toBeGreaterThanOrEqual(0);
    expect(v.memoryGiB).toBeGreaterThanOrEqual(0);
    for (const d of v.datastores) expect(datastores.has(d), `VM ${v.name} datastore ${d} is in the snapshot`).toBe(true);
  }
  for (const d of s.datastores) {
    for (const h of [...d.hosts, ...d.inaccessibleOn, ...(d.degradedOn ?? [])]) expect(hosts.has(h), `datastore ${d.name} host ${h}`).toBe(true);
    if (d.capacityGiB !== null) expect(d.capacityGiB).toBeGreaterThanOrEqual(0);
    if (d.freeGiB !== null) expect(d.freeGiB).toBeGreaterThanOrEqual(0);
  }
}

export function providerContract(name: string, setup: () => Promise<ContractFixture>): void {
  describe(`provider contract: ${name}`, () => {
    it('declares its kind, contract version and capabilities', async () => {
      const f = await setup();
      try {
        expect(f.provider.contractVersion).toBe(PROVIDER_CONTRACT_VERSION);
        expect(typeof f.provider.kind).toBe('string');
        for (const k of ['liveMigration', 'restartElsewhere', 'maintenanceMode', 'storageHealth', 'events', 'powerOff'] as const) expect(typeof f.provider.capabilities[k]).toBe('boolean');
      } finally {
        await f.close();
      }
    });

    it('takes consistent snapshots, cheap to repeat', async () => {
      const f = await setup();
      try {
        const a = await f.provider.snapshot();
        checkSnapshotConsistent(a);
        expect(a.hosts.length).toBeGreaterThan(0);
        const b = await f.provider.snapshot();
        expect({ ...b, takenAt: 0 }).toEqual({ ...a, takenAt: 0 });
      } finally {
        await f.close();
      }
    });

    it('live-migrates a VM as a task followed to its end', async () => {
      const f = await setup();
      try {
        if (!f.provider.capabilities.liveMigration) return;
        expect(f.migratable, 'a provider with liveMigration must name a migratable VM for the contract').toBeDefined();
        const { vm, to } = f.migratable as { vm: VmRef; to: HostRef };
        const ref = await f.provider.migrate(vm, to, { live: true });
        expect(await followTask(f, ref)).toEqual({ state: 'success' });
        const after = await f.provider.snapshot();
        expect(after.vms.find((v) => v.id === vm.id)?.host).toBe(to.name);
        expect((await f.provider.task(ref)).state, 'a finished task stays finished').toBe('success');
      } finally {
        await f.close();
      }
    });

    it('refuses an unknown VM with a coded, expected error', async () => {
      const f = await setup();
      try {
        const host = (await f.provider.snapshot()).hosts[0] as HostRef;
        const err = await f.provider.migrate({ id: 'no-such-vm-4711', name: 'no-such-vm-4711' }, host, { live: true }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(isVigilError(err), `expected a VigilError, got ${String(err)}`).toBe(true);
        expect(isVigilError(err) && err.code.startsWith('VIGIL_E_')).toBe(true);
      } finally {
        await f.close();
      }
    });

    it('puts a host into maintenance and takes it out again', async () => {
      const f = await setup();
      try {
        if (!f.provider.capabilities.maintenanceMode) return;
        expect(f.maintenanceHost, 'a provider with maintenanceMode must name a host for the contract').toBeDefined();
        const host = f.maintenanceHost as HostRef;
        expect(await followTask(f, await f.provider.setMaintenance(host, true))).toEqual({ state: 'success' });
        expect((await f.provider.snapshot()).hosts.find((h) => h.name === host.name)?.state).toBe('maintenance');
        expect(await followTask(f, await f.provider.setMaintenance(host, false))).toEqual({ state: 'success' });
        expect((await f.provider.snapshot()).hosts.find((h) => h.name === host.name)?.state).toBe('connected');
      } finally {
        await f.close();
      }
    });
  });
}
