import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/clock/fake-clock.js';
import { parseInventoryText } from '../../../src/inventory/load.js';
import { Lab, LabError } from '../../../providers/sim/lab.js';
import { buildLabServer } from '../../../providers/sim/lab-server.js';
import { applyLabEvent } from '../../../providers/sim/timeline.js';

const INVENTORY = `clusters:
  - name: c
    hosts:
      - {name: h1, cpu: 16, memoryGiB: 128}
      - {name: h2, cpu: 16, memoryGiB: 128}
      - {name: h3, cpu: 16, memoryGiB: 128}
    datastores:
      - {name: shared, capacityGiB: 1000, freeGiB: 500, hosts: [h1, h2, h3], type: nfs}
      - {name: csv, capacityGiB: 1000, freeGiB: 500, hosts: [h1, h2, h3], type: csv, degradedOn: [h3]}
      - {name: local-h1, capacityGiB: 100, freeGiB: 50, hosts: [h1]}
      - {name: local-h2, capacityGiB: 100, freeGiB: 50, hosts: [h2]}
    vms:
      - {name: db, host: h1, cpu: 2, memoryGiB: 8, datastores: [local-h1], replication: {target: h2, every: 5m, lastSync: 2m, datastore: local-h2}}
      - {name: web, host: h1, cpu: 1, memoryGiB: 2, datastores: [shared]}
`;

function makeLab() {
  const clock = new FakeClock(0);
  const lab = new Lab(parseInventoryText(INVENTORY, 'inv.yaml').inventory, clock);
  return { clock, lab };
}
const ds = (lab: Lab, name: string) => lab.snapshot('c').datastores.find((d) => d.name === name);
const replica = (lab: Lab, vm: string) => lab.snapshot('c').vms.find((v) => v.name === vm)?.replication;

describe('the lab: storage', () => {
  it('reports degraded hosts and the type, from the inventory and from faults', () => {
    const { lab } = makeLab();
    expect(ds(lab, 'csv')).toMatchObject({ degradedOn: ['h3'], type: 'csv' });
    expect(ds(lab, 'shared')?.degradedOn).toBeUndefined();
    applyLabEvent(lab, 'degrade-datastore', { name: 'shared', host: 'h2' });
    expect(ds(lab, 'shared')?.degradedOn).toEqual(['h2']);
    // A host that lost it is lost there, not merely degraded.
    lab.failDatastore('shared', 'h2');
    expect(ds(lab, 'shared')).toMatchObject({ inaccessibleOn: ['h2'] });
    expect(ds(lab, 'shared')?.degradedOn).toBeUndefined();
    lab.recoverDatastore('shared', 'h2');
    applyLabEvent(lab, 'undegrade-datastore', { name: 'shared', host: 'h2' });
    expect(ds(lab, 'shared')?.degradedOn).toBeUndefined();
    expect(() => lab.degradeDatastore('local-h1', 'h2')).toThrow(LabError);
  });

  it('a datastore lost with stopVms stops the running VMs there that use it, and only those', () => {
    const { lab } = makeLab();
    applyLabEvent(lab, 'fail-datastore', { name: 'shared', host: 'h2', stopVms: true });
    expect(lab.runningVms().get('web')).toBe('h1');
    applyLabEvent(lab, 'fail-datastore', { name: 'shared', host: 'h1', stopVms: true });
    expect(lab.runningVms().has('web')).toBe(false);
    expect(lab.runningVms().get('db')).toBe('h1');
    expect(lab.log().filter((e) => e.op === 'vm-stopped').map((e) => e.vm)).toEqual(['web']);
  });

  it('fills a datastore at a rate in lab time, never below zero', async () => {
    const { clock, lab } = makeLab();
    applyLabEvent(lab, 'fill-datastore', { name: 'shared', freeGiB: 100, fillGiBPerHour: 10 });
    expect(ds(lab, 'shared')?.freeGiB).toBe(100);
    await clock.advance(3 * 3_600_000);
    expect(ds(lab, 'shared')?.freeGiB).toBe(70);
    await clock.advance(20 * 3_600_000);
    expect(ds(lab, 'shared')?.freeGiB).toBe(0);
    lab.fillDatastore('shared', { freeGiB: 400, fillGiBPerHour: 0 });
    await clock.advance(3_600_000);
    expect(ds(lab, 'shared')?.freeGiB).toBe(400);
    expect(() => lab.fillDatastore('shared', { freeGiB: 2000 })).toThrow(/between 0 and 1000/);
  });

  it('syncs a replica at each interval while both hosts are up, and lets it age otherwise', async () => {
    const { clock, lab } = makeLab();
    expect(replica(lab, 'db')).toEqual({ target: 'h2', lastSyncAt: -120_000, state: 'ok', healthy: true });
    // Its schedule: 5 min after the last sync, 2 min before the start.
    await clock.advance(179_000);
    expect(replica(lab, 'db')?.lastSyncAt).toBe(-120_000);
    await clock.advance(1_000);
    expect(replica(lab, 'db')?.lastSyncAt).toBe(180_000);
    await clock.advance(600_000);
    expect(replica(lab, 'db')?.lastSyncAt).toBe(780_000);
    applyLabEvent(lab, 'suspend-replication', 'db');
    await clock.advance(900_000);
    expect(replica(lab, 'db')).toMatchObject({ lastSyncAt: 780_000, state: 'suspended', healthy: false });
    applyLabEvent(lab, 'resume-replication', 'db');
    expect(replica(lab, 'db')?.lastSyncAt).toBe(780_000);
    // The missed runs are not made up: the next one on the schedule after the resume.
    await clock.advance(120_000);
    expect(replica(lab, 'db')?.lastSyncAt).toBe(780_000);
    await clock.advance(180_000);
    expect(replica(lab, 'db')?.lastSyncAt).toBe(1_980_000);
    lab.failHost('h2');
    await clock.advance(600_000);
    expect(replica(lab, 'db')).toMatchObject({ lastSyncAt: 1_980_000, state: 'error', healthy: false });
  });

  it('starts a VM from its replica on the replica host, with the replica disks, and drops the replica', async () => {
    const { clock, lab } = makeLab();
    await clock.advance(400_000);
    lab.failHost('h1');
    await clock.advance(200_000);
    // Not on a host without the replica: it cannot reach local-h1.
    expect(() => lab.restart('db', 'h3')).toThrow(/cannot reach datastore local-h1/);
    lab.restart('db', 'h2');
    await clock.advance(10_000);
    const db = lab.snapshot('c').vms.find((v) => v.name === 'db');
    expect(db).toMatchObject({ host: 'h2', power: 'on', datastores: ['local-h2'] });
    expect(db?.replication).toBeUndefined();
    const start = lab.log().find((e) => e.op === 'start');
    expect(start).toMatchObject({ vm: 'db', host: 'h2' });
    expect(start?.detail).toMatch(/from its replica, last synced 4\d\ds before/);
    expect(lab.log().some((e) => e.violation)).toBe(false);
  });

  it('serves the storage faults over HTTP', async () => {
    const { lab } = makeLab();
    const app = buildLabServer(lab, new FakeClock(0));
    expect((await app.inject({ method: 'POST', url: '/lab/datastores/shared/fill?freeGiB=30&fillGiBPerHour=1' })).statusCode).toBe(200);
    expect(ds(lab, 'shared')?.freeGiB).toBe(30);
    expect((await app.inject({ method: 'POST', url: '/lab/datastores/shared/fill' })).statusCode).toBe(400);
    expect((await app.inject({ method: 'POST', url: '/lab/datastores/shared/fill?freeGiB=abc' })).statusCode).toBe(400);
    expect((await app.inject({ method: 'POST', url: '/lab/datastores/shared/degrade?host=h1' })).statusCode).toBe(200);
    expect(ds(lab, 'shared')?.degradedOn).toEqual(['h1']);
    expect((await app.inject({ method: 'POST', url: '/lab/datastores/shared/degrade' })).statusCode).toBe(400);
    expect((await app.inject({ method: 'POST', url: '/lab/datastores/shared/undegrade?host=h1' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'POST', url: '/lab/vms/db/suspend-replication' })).statusCode).toBe(200);
    expect(replica(lab, 'db')?.state).toBe('suspended');
    expect((await app.inject({ method: 'POST', url: '/lab/vms/web/suspend-replication' })).statusCode).toBe(409);
    expect((await app.inject({ method: 'POST', url: '/lab/vms/db/resume-replication' })).statusCode).toBe(200);
    const inv = (await app.inject({ method: 'GET', url: '/lab/inventory' })).json();
    const db = inv.clusters[0].vms.find((v: { name: string }) => v.name === 'db');
    expect(db.replication).toMatchObject({ target: 'h2', every: 300_000, datastore: 'local-h2' });
    await app.close();
  });

  it('rejects a replica on the VM\'s own host or on a datastore the target does not mount', () => {
    const bad = INVENTORY.replace('replication: {target: h2, every: 5m, lastSync: 2m, datastore: local-h2}', 'replication: {target: h1, datastore: local-h2}');
    expect(() => parseInventoryText(bad, 'inv.yaml')).toThrow(/must be on another host/);
    const bad2 = INVENTORY.replace('datastore: local-h2}', 'datastore: local-h1}');
    expect(() => parseInventoryText(bad2, 'inv.yaml')).toThrow(/not mounted on the replica host "h2"/);
  });
});
