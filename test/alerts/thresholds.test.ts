/** Thresholds with hysteresis and hold time, on the fake clock through startAlerts' own evaluation timer. */
import { describe, expect, it } from 'vitest';
import type { Notification } from '../../src/alerts/alert.js';
import { alertsConfigSchema } from '../../src/alerts/config.js';
import { Hysteresis } from '../../src/alerts/hysteresis.js';
import type { Receiver } from '../../src/alerts/receiver.js';
import { startAlerts } from '../../src/alerts/start.js';
import { FakeClock } from '../../src/clock/fake-clock.js';
import { DecisionLog } from '../../src/decisions.js';
import { silentLogger } from '../../src/log.js';
import type { StatusReport } from '../../src/service/status.js';
import { T0 } from './helpers.js';
import { cluster, datastore, host, report } from './status-fixture.js';

describe('hysteresis', () => {
  it('fires after the hold, clears only past the margin, and restarts the hold on a dip or an unknown value', () => {
    const h = new Hysteresis({ direction: 'above', warning: 80, critical: 90, margin: 5, holdMs: 60_000 });
    const steps: [number, number | null][] = [
      [0, 85], // pending
      [30_000, 70], // dip: hold restarts
      [40_000, 85],
      [90_000, 85], // 50s: not yet
      [100_000, null], // unknown: no change, hold restarts
      [110_000, 85],
      [170_000, 85], // 60s: warning
      [180_000, 77], // under 80 but not under 75: still warning
      [190_000, 95],
      [250_000, 95], // critical
      [260_000, 86], // under 90 but not under 85: still critical
      [270_000, null], // unknown: stays critical
      [280_000, 84], // critical clears, warning stays
      [290_000, 74.9], // clear
    ];
    expect(steps.map(([t, v]) => h.observe(v, t).severity)).toEqual([null, null, null, null, null, null, 'warning', 'warning', 'warning', 'critical', 'critical', 'critical', 'warning', null]);
  });

  it('for free space, low is bad and it clears above the level plus the margin', () => {
    const h = new Hysteresis({ direction: 'below', warning: 15, critical: 5, margin: 5, holdMs: 0 });
    expect([20, 15, 18, 21, 4, 9, 11].map((v, i) => h.observe(v, i).severity)).toEqual([null, 'warning', 'warning', null, 'critical', 'critical', 'warning']);
  });

  it('a level set to null is off', () => {
    const h = new Hysteresis({ direction: 'above', warning: null, critical: 90, margin: 5, holdMs: 0 });
    expect([85, 95].map((v, i) => h.observe(v, i).severity)).toEqual([null, 'critical']);
  });
});

function memoryReceiver(): Receiver & { got: Notification[] } {
  const got: Notification[] = [];
  return { name: 'memory', type: 'memory', got, send: async (n) => void got.push(n), close: async () => undefined };
}

describe('threshold alerts on the status report', () => {
  it('host memory: fires after staying over the level for the hold, escalates, steps down and resolves with hysteresis', async () => {
    const clock = new FakeClock(T0);
    const sink = memoryReceiver();
    let used = 100; // of 256 GiB
    const status = (): StatusReport => report(cluster('lab', { hosts: [host('esx-01', { usedMemoryGiB: used, usedCpu: 8 })] }));
    const alerts = startAlerts({
      decisions: new DecisionLog(),
      status,
      clock,
      logger: silentLogger(),
      config: alertsConfigSchema.parse({ evaluateEvery: '10s', thresholds: { hostMemory: { warning: 80, critical: 90, margin: 5, for: '1m' } } }),
      extraReceivers: [{ receiver: sink }],
    });
    const seen = () => sink.got.map((n) => `${(n.at - T0) / 1000}s ${n.status} ${n.alert.severity} ${n.alert.key}`);
    const run = async (pctOf256: number, seconds: number) => {
      used = (pctOf256 / 100) * 256;
      await clock.advance(seconds * 1000);
      await alerts.idle();
    };
    await run(39, 10); // evaluated at 10s
    await run(85, 50); // over 80 from 20s; at 60s only 40s
    expect(seen()).toEqual([]);
    await run(85, 20); // 80s: 60s over -> warning
    await run(77, 30); // back under 80 but not under 75: stays
    await run(95, 70); // over 90 from 120s; critical at 180s
    await run(86, 30); // 190-210s: under 90, not under 85: stays critical
    await run(84, 10); // 220s: steps down to warning
    await run(74, 10); // 230s: resolves
    expect(seen()).toEqual(['80s firing warning host-memory/lab/esx-01', '180s firing critical host-memory/lab/esx-01', '220s firing warning host-memory/lab/esx-01', '230s resolved warning host-memory/lab/esx-01']);
    expect(sink.got[0]?.alert.summary).toBe('Host esx-01 (cluster lab) memory use is 85% (allocated: 217.6 of 256 GiB), at or over the 80% level. Move VMs off it or add memory.');
    expect(sink.got[1]?.reason).toBe('severity-changed');
    expect(sink.got[3]?.alert.resolution).toBe('memory use is 74%, back past the level by the 5-point margin');
    expect(sink.got[3]?.peakSeverity).toBe('critical');
    await alerts.stop();
  });

  it('judges CPU only on a measured figure, never on vCPU allocation; a failed host is not evaluated and its alert ends', async () => {
    const clock = new FakeClock(T0);
    const sink = memoryReceiver();
    let h = host('esx-02', { cpu: 32, usedCpu: 200 });
    const alerts = startAlerts({
      decisions: new DecisionLog(),
      status: () => report(cluster('lab', { hosts: [h] })),
      clock,
      logger: silentLogger(),
      config: alertsConfigSchema.parse({ evaluateEvery: '10s', thresholds: { hostCpu: { for: '0s' } } }),
      extraReceivers: [{ receiver: sink }],
    });
    await clock.advance(10_000);
    // 200 vCPUs on 32 CPUs is 625% allocated: overcommit, not heat. Without a measurement, no alert.
    expect(alerts.active()).toEqual([]);
    h = host('esx-02', { cpu: 32, usedCpu: 200, cpuUsagePercent: 40 });
    await clock.advance(10_000);
    expect(alerts.active()).toEqual([]);
    h = host('esx-02', { cpu: 32, usedCpu: 200, cpuUsagePercent: 97 });
    await clock.advance(10_000);
    expect(alerts.active().map((a) => [a.key, a.severity, a.details.basis])).toEqual([['host-cpu/lab/esx-02', 'critical', 'measured']]);
    h = host('esx-02', { health: 'failed', state: 'notResponding', cpu: 32, usedCpu: 0 });
    await clock.advance(10_000);
    await alerts.idle();
    expect(sink.got.filter((n) => n.alert.kind === 'host-cpu').map((n) => `${n.status} ${n.alert.key} ${n.alert.resolution ?? ''}`)).toEqual(['firing host-cpu/lab/esx-02 ', 'resolved host-cpu/lab/esx-02 esx-02 is failed; its use is not evaluated']);
    await alerts.stop();
  });

  it('datastore free space: unknown capacity never alerts; low space fires after the hold; a datastore that leaves the report resolves', async () => {
    const clock = new FakeClock(T0);
    let stores = [datastore('unknown-cap', null, 1), datastore('unknown-free', 1000, null), datastore('ds-01', 1000, 40)];
    const alerts = startAlerts({
      decisions: new DecisionLog(),
      status: () => report(cluster('lab', { datastores: stores })),
      clock,
      logger: silentLogger(),
      config: alertsConfigSchema.parse({ evaluateEvery: '30s', thresholds: { datastoreFree: { for: '2m' } } }),
    });
    await clock.advance(30_000);
    expect(alerts.active()).toEqual([]);
    await clock.advance(90_000); // 40/1000 = 4% free since 30s; 2m not yet over
    expect(alerts.active()).toEqual([]);
    await clock.advance(30_000);
    expect(alerts.active().map((a) => [a.key, a.severity, a.summary])).toEqual([['datastore-free/lab/ds-01', 'critical', 'Datastore ds-01 (cluster lab) has 4% free (40 of 1000 GiB), at or under the 5% level. Free space or grow it before VMs on it stop.']]);
    stores = [datastore('ds-01', null, null)];
    await clock.advance(30_000);
    expect(alerts.active().map((a) => a.key)).toEqual(['datastore-free/lab/ds-01']); // unknown now: kept, not cleared
    stores = [];
    await clock.advance(30_000);
    expect(alerts.active()).toEqual([]);
    await alerts.stop();
  });

  it('turning a threshold off means it never fires', async () => {
    const clock = new FakeClock(T0);
    const alerts = startAlerts({
      decisions: new DecisionLog(),
      status: () => report(cluster('lab', { hosts: [host('esx-01', { usedMemoryGiB: 256, usedCpu: 64, cpuUsagePercent: 99 })] })),
      clock,
      logger: silentLogger(),
      config: alertsConfigSchema.parse({ evaluateEvery: '1s', thresholds: { hostMemory: { enabled: false }, hostCpu: { for: '0s', critical: null } } }),
    });
    await clock.advance(1_000);
    expect(alerts.active().map((a) => [a.key, a.severity])).toEqual([['host-cpu/lab/esx-01', 'warning']]);
    await alerts.stop();
  });

  it('a status provider that throws is logged and retried on the next evaluation, never thrown', async () => {
    const clock = new FakeClock(T0);
    let fail = true;
    const alerts = startAlerts({
      decisions: new DecisionLog(),
      status: () => {
        if (fail) throw new Error('not ready');
        return report(cluster('lab', { frozen: true }));
      },
      clock,
      logger: silentLogger(),
      config: alertsConfigSchema.parse({ evaluateEvery: '5s' }),
    });
    await clock.advance(5_000);
    fail = false;
    await clock.advance(5_000);
    expect(alerts.active().map((a) => a.key)).toEqual(['frozen/lab/lab']);
    await alerts.stop();
  });
});
