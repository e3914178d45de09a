import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/clock/fake-clock.js';
import { parseInventoryText } from '../../../src/inventory/load.js';
import { Lab, LabError } from '../../../providers/sim/lab.js';

const INVENTORY = `clusters:
  - name: c
    hosts:
      - {name: h1, cpu: 16, memoryGiB: 128}
      - {name: h2, cpu: 16, memoryGiB: 128}
      - {name: h3, cpu: 16, memoryGiB: 128}
    datastores:
      - {name: shared, capacityGiB: 1000, freeGiB: 500, hosts: [h1, h2, h3]}
      - {name: local-h1, capacityGiB: 100, freeGiB: 50, hosts: [h1]}
    vms:
      - {name: small, host: h1, cpu: 1, memoryGiB: 4, datastores: [shared]}
      - {name: big, host: h1, cpu: 4, memoryGiB: 64, datastores: [shared]}
      - {name: local, host: h1, cpu: 1, memoryGiB: 2, datastores: [local-h1]}
      - {name: off, host: h2, cpu: 1, memoryGiB: 2, power: off, datastores: [shared]}
`;

function makeLab() {
  const clock = new FakeClock(0);
  const lab = new Lab(parseInventoryText(INVENTORY, 'inv.yaml').inventory, clock);
  return { clock, lab };
}

const vmIn = (lab: Lab, name: string) => lab.snapshot('c').vms.find((v) => v.name === name);
const hostIn = (lab: Lab, name: string) => lab.snapshot('c').hosts.find((h) => h.name === name);

describe('the lab', () => {
  it('runs a live migration as a task whose length grows with memory', async () => {
    const { clock, lab } = makeLab();
    const small = lab.migrate('small', 'h2', true);
    const big = lab.migrate('big', 'h2', true);
    expect(big.endsAt - big.submittedAt).toBeGreaterThan(small.endsAt - small.submittedAt);
    expect(big.endsAt - big.submittedAt).toBe(2_000 + 64_000);
    await clock.advance(10_000);
    expect(lab.task(small.id).state).toBe('success');
    expect(lab.task(big.id).state).toBe('running');
    expect(vmIn(lab, 'small')?.host).toBe('h2');
    expect(vmIn(lab, 'big')?.host).toBe('h1');
    await clock.advance(60_000);
    expect(vmIn(lab, 'big')?.host).toBe('h2');
    expect(lab.log().map((e) => e.op)).toEqual(['migrate', 'migrate']);
  });

  it('refuses what the platform would refuse, with a status and a reason', () => {
    const { lab } = makeLab();
    const refusal = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return e instanceof LabError ? [e.status, e.code] : e;
      }
      return 'no error';
    };
    expect(refusal(() => lab.migrate('nope', 'h2', true))).toEqual([404, 'unknown-vm']);
    expect(refusal(() => lab.migrate('small', 'h9', true))).toEqual([404, 'unknown-host']);
    expect(refusal(() => lab.migrate('local', 'h2', true))).toEqual([409, 'datastore-unreachable']);
    expect(refusal(() => lab.migrate('off', 'h1', true))).toEqual([409, 'not-running']);
    lab.migrate('small', 'h2', true);
    expect(refusal(() => lab.migrate('small', 'h3', true))).toEqual([409, 'task-in-progress']);
  });

  it('fails a host: VMs stop, the manager reports not responding with their last known power', () => {
    const { lab } = makeLab();
    lab.failHost('h1');
    expect(hostIn(lab, 'h1')?.state).toBe('notResponding');
    expect(vmIn(lab, 'small')?.power).toBe('on');
    expect(lab.runningVms().has('small')).toBe(false);
    expect(lab.probe('h1')).toBe(false);
  });

  it('restarts a failed host VM elsewhere, and records a start while it still runs as an error', async () => {
    const { clock, lab } = makeLab();
    lab.failHost('h1');
    const t = lab.restart('small', 'h2');
    await clock.advance(10_000);
    expect(lab.task(t.id).state).toBe('success');
    expect(lab.runningVms().get('small')).toBe('h2');
    const twice = lab.restart('small', 'h3');
    await clock.advance(10_000);
    expect(lab.task(twice.id)).toMatchObject({ state: 'error', error: 'small is already running on h2: starting it on h3 would run it twice' });
    expect(lab.log().filter((e) => e.error)).toMatchObject([{ op: 'start', vm: 'small', host: 'h3', violation: true }]);
  });

  it('partition: the manager loses the host but its VMs keep running, so a restart would run them twice', async () => {
    const { clock, lab } = makeLab();
    lab.partitionHost('h1');
    expect(hostIn(lab, 'h1')?.state).toBe('notResponding');
    expect(lab.runningVms().get('small')).toBe('h1');
    lab.restart('small', 'h2');
    await clock.advance(10_000);
    expect(lab.log().filter((e) => e.violation)).toHaveLength(1);
  });

  it('fencing through the BMC stops a partitioned host VMs for real, then a restart is safe', async () => {
    const { clock, lab } = makeLab();
    lab.partitionHost('h1');
    expect(lab.bmcPowerState('h1')).toBe('On');
    lab.bmcReset('h1', 'ForceOff');
    expect(lab.bmcPowerState('h1')).toBe('PoweringOff');
    expect(lab.runningVms().get('small'), 'the power drops a moment after the BMC is asked').toBe('h1');
    await clock.advance(3_000);
    expect(lab.bmcPowerState('h1')).toBe('Off');
    expect(lab.runningVms().has('small')).toBe(false);
    lab.restart('small', 'h2');
    await clock.advance(10_000);
    expect(lab.log().filter((e) => e.error)).toEqual([]);
    expect(lab.log().map((e) => e.op)).toEqual(['partition-host', 'power-off-host', 'start']);
    expect(lab.log()[1]?.t).toBe(3_000);
    expect(() => lab.bmcReset('h1', 'Explode')).toThrow(/unsupported ResetType/);
  });

  it('isolation: the manager still sees the host, only the probe fails', () => {
    const { lab } = makeLab();
    lab.isolateHost('h1');
    expect(hostIn(lab, 'h1')?.state).toBe('connected');
    expect(lab.probe('h1')).toBe(false);
    expect(lab.runningVms().get('small')).toBe('h1');
  });

  it('recover: the host is back, VMs that died with it stay off', () => {
    const { lab } = makeLab();
    lab.failHost('h1');
    lab.recoverHost('h1');
    expect(hostIn(lab, 'h1')?.state).toBe('connected');
    expect(vmIn(lab, 'small')?.power).toBe('off');
  });

  it('loses a datastore on one host, or everywhere', () => {
    const { lab } = makeLab();
    lab.failDatastore('shared', 'h2');
    expect(lab.snapshot('c').datastores.find((d) => d.name === 'shared')).toMatchObject({ accessible: true, inaccessibleOn: ['h2'] });
    expect(() => lab.restart('off', 'h2')).toThrow(/cannot reach datastore shared/);
    lab.failDatastore('shared');
    expect(lab.snapshot('c').datastores.find((d) => d.name === 'shared')).toMatchObject({ accessible: false });
    lab.recoverDatastore('shared');
    expect(lab.snapshot('c').datastores.find((d) => d.name === 'shared')).toMatchObject({ accessible: true, inaccessibleOn: [] });
  });

  it('maintenance waits for no VM to be running, and fails the task otherwise', async () => {
    const { clock, lab } = makeLab();
    const bad = lab.setMaintenance('h1', true);
    const good = lab.setMaintenance('h3', true);
    await clock.advance(5_000);
    expect(lab.task(bad.id)).toMatchObject({ state: 'error' });
    expect(lab.task(good.id).state).toBe('success');
    expect(hostIn(lab, 'h3')?.state).toBe('maintenance');
    expect(() => lab.migrate('small', 'h3', true)).toThrow(/maintenance/);
  });

  it('injects API errors and latency', () => {
    const { lab } = makeLab();
    lab.setApiFaults({ failNext: 2, latencyMs: 300 });
    expect(() => lab.apiGate()).toThrow(/injected/);
    expect(() => lab.apiGate()).toThrow(/injected/);
    expect(lab.apiGate()).toBe(300);
  });

  it('a host failing mid-migration fails the migration', async () => {
    const { clock, lab } = makeLab();
    const t = lab.migrate('big', 'h2', true);
    await clock.advance(5_000);
    lab.failHost('h1');
    await clock.advance(70_000);
    expect(lab.task(t.id)).toMatchObject({ state: 'error' });
    expect(vmIn(lab, 'big')?.host).toBe('h1');
  });
});

describe('the lab: a migration that fails half-way', () => {
  it('ends in error at half its length; the VM keeps running where it was; the next one succeeds', async () => {
    const { clock, lab } = makeLab();
    lab.failMigrations('big', 1);
    const t = lab.migrate('big', 'h2', true);
    expect(t.endsAt - t.submittedAt).toBe(33_000);
    await clock.advance(32_999);
    expect(lab.task(t.id).state).toBe('running');
    await clock.advance(1);
    expect(lab.task(t.id)).toMatchObject({ state: 'error', error: 'migration of big to h2 failed half-way (injected fault); it still runs on h1' });
    expect(vmIn(lab, 'big')).toMatchObject({ host: 'h1', power: 'on' });
    expect(lab.runningVms().get('big')).toBe('h1');
    const again = lab.migrate('big', 'h2', true);
    await clock.advance(66_000);
    expect(lab.task(again.id).state).toBe('success');
    expect(lab.log().filter((e) => e.op === 'migrate').map((e) => [e.vm, e.to, e.error ?? 'ok'])).toEqual([
      ['big', 'h2', 'migration of big to h2 failed half-way (injected fault); it still runs on h1'],
      ['big', 'h2', 'ok'],
    ]);
  });

  it('is a timeline event', async () => {
    const { applyLabEvent } = await import('../../../providers/sim/timeline.js');
    const { clock, lab } = makeLab();
    applyLabEvent(lab, 'fail-migration', { vm: 'small', count: 2 });
    for (const _ of [1, 2]) {
      const t = lab.migrate('small', 'h3', true);
      await clock.advance(10_000);
      expect(lab.task(t.id).state).toBe('error');
    }
    expect(lab.log()[0]).toMatchObject({ op: 'fail-migrations', vm: 'small', detail: 'next 2 migration(s) will fail half-way' });
  });
});
