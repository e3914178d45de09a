/** Storage alerts: datastore lost (one host / everywhere), degraded, replication over the RPO, and free space on the controller's levels. */
import { describe, expect, it } from 'vitest';
import type { Notification } from '../../src/alerts/alert.js';
import { AlertBook } from '../../src/alerts/book.js';
import { FailoverTracker } from '../../src/alerts/failovers.js';
import { StatusAlerts } from '../../src/alerts/from-status.js';
import { DecisionAlerts } from '../../src/alerts/from-decisions.js';
import { alertsConfigSchema } from '../../src/alerts/config.js';
import { startAlerts } from '../../src/alerts/start.js';
import { FakeClock } from '../../src/clock/fake-clock.js';
import { DecisionLog } from '../../src/decisions.js';
import { silentLogger } from '../../src/log.js';
import type { StatusDatastore, StatusReplication, StatusReport } from '../../src/service/status.js';
import { cluster, datastore, report, vm } from './status-fixture.js';
import { T0 } from './helpers.js';

function setup() {
  const sent: Notification[] = [];
  const book = new AlertBook((n) => sent.push(n));
  const status = new StatusAlerts(book, new FailoverTracker(), { staleAfterMs: 3_600_000 });
  let t = T0;
  const sweep = (r: StatusReport) => status.sweep(r, (t += 1_000));
  const lines = () => sent.map((n) => `${n.status} ${n.alert.severity} ${n.alert.key}${n.alert.resolution ? ` | ${n.alert.resolution}` : ''}`);
  return { sent, sweep, lines };
}

const ds = (name: string, over: Partial<StatusDatastore>): StatusDatastore => ({ ...datastore(name, 1000, 500), hosts: ['esx-01', 'esx-02', 'esx-03'], condition: 'ok', degradedOn: [], ...over });
const replica = (over: Partial<StatusReplication>): StatusReplication => ({ target: 'pve-02', lastSync: '2026-01-01T00:00:00.000Z', lagSeconds: 60, rpoSeconds: 900, overRpo: false, state: 'ok', healthy: true, ...over });

describe('storage alerts from the status report', () => {
  it('a datastore lost on one host is critical while running VMs there use it, and resolves when the host reaches it again', () => {
    const { sweep, lines, sent } = setup();
    const vms = [vm('db-01', 'esx-01', { datastores: ['ds-01'] }), vm('web-01', 'esx-02', { datastores: ['ds-01'] })];
    sweep(report(cluster('lab', { vms, datastores: [ds('ds-01', { condition: 'lost-on-some', inaccessibleOn: ['esx-01'] })] })));
    expect(sent[0]?.alert.summary).toBe('Datastore ds-01 (cluster lab) is lost on esx-01 while other hosts still reach it; 1 running VM(s) there use it (db-01): Vigil moves them as storage.onLoss says. Check the host\'s paths to it (HBA, multipath, network).');
    // The VM moved away: still lost on esx-01, but no VM is hurt: a warning now.
    sweep(report(cluster('lab', { vms: [vm('db-01', 'esx-02', { datastores: ['ds-01'] }), vms[1]!], datastores: [ds('ds-01', { condition: 'lost-on-some', inaccessibleOn: ['esx-01'] })] })));
    sweep(report(cluster('lab', { vms, datastores: [ds('ds-01', {})] })));
    expect(lines()).toEqual(['firing critical datastore-lost/lab/ds-01', 'firing warning datastore-lost/lab/ds-01', 'resolved warning datastore-lost/lab/ds-01 | ds-01 is reachable again from every host that mounts it']);
  });

  it('a datastore lost everywhere is critical and says nothing moves; degraded hosts are a warning of their own', () => {
    const { sweep, lines, sent } = setup();
    const vms = [vm('db-01', 'esx-01', { datastores: ['ds-01'] })];
    sweep(report(cluster('lab', { vms, datastores: [ds('ds-01', { condition: 'lost', accessible: false }), ds('csv-01', { condition: 'degraded', type: 'csv', degradedOn: ['esx-03'] })] })));
    expect(sent.map((n) => n.alert.summary)).toEqual([
      'Datastore ds-01 (cluster lab) is lost on every host that mounts it; 1 VM(s) use it (db-01). There is no host to move them to, so Vigil moves nothing: restore the storage (array, fabric, NFS export).',
      'Datastore csv-01 (cluster lab) is reached only degraded on esx-03 (CSV in redirected access). Vigil moves no VM onto that host for it; check their storage paths.',
    ]);
    // The same again: nothing new. Then both recover.
    sweep(report(cluster('lab', { vms, datastores: [ds('ds-01', { condition: 'lost', accessible: false }), ds('csv-01', { condition: 'degraded', type: 'csv', degradedOn: ['esx-03'] })] })));
    sweep(report(cluster('lab', { vms, datastores: [ds('ds-01', {}), ds('csv-01', { type: 'csv' })] })));
    expect(lines()).toEqual([
      'firing critical datastore-lost/lab/ds-01',
      'firing warning datastore-degraded/lab/csv-01',
      'resolved critical datastore-lost/lab/ds-01 | ds-01 is reachable again from every host that mounts it',
      'resolved warning datastore-degraded/lab/csv-01 | csv-01 is no longer degraded on any host',
    ]);
  });

  it('a report without storage findings (an older controller) leaves storage alerts alone; a datastore that leaves the report resolves', () => {
    const { sweep, lines } = setup();
    sweep(report(cluster('lab', { datastores: [ds('ds-01', { condition: 'lost', accessible: false })] })));
    sweep(report(cluster('lab', { datastores: [datastore('ds-01', 1000, 500)] })));
    expect(lines()).toEqual(['firing critical datastore-lost/lab/ds-01']);
    sweep(report(cluster('lab', { datastores: [ds('ds-02', {})] })));
    expect(lines().slice(1)).toEqual(['resolved critical datastore-lost/lab/ds-01 | ds-01 is no longer reported']);
  });

  it('rpo: fires while a replica is older than its RPO, resolves when it catches up or the replica goes', () => {
    const { sweep, lines, sent } = setup();
    const over = (r: Partial<StatusReplication>) => report(cluster('lab', { vms: [vm('db-01', 'pve-01', { replication: replica({ overRpo: true, lagSeconds: 1_500, state: 'error', healthy: false, failures: 3, ...r }) })] }));
    sweep(over({}));
    expect(sent[0]?.alert.summary).toBe('Replica of VM db-01 (cluster lab) on pve-02 is 25 min old, over its RPO of 15 min (replication error, unhealthy, 3 failed sync(s)). A failover to it would lose more writes than the policy allows; check the replication job.');
    sweep(over({ lagSeconds: 1_800 }));
    sweep(report(cluster('lab', { vms: [vm('db-01', 'pve-01', { replication: replica({ lagSeconds: 30 }) })] })));
    sweep(over({ lagSeconds: null }));
    sweep(report(cluster('lab', { vms: [vm('db-01', 'pve-01')] })));
    expect(lines()).toEqual([
      'firing warning rpo/lab/db-01',
      'resolved warning rpo/lab/db-01 | replica of db-01 is within its RPO again (30s old)',
      'firing warning rpo/lab/db-01',
      'resolved warning rpo/lab/db-01 | db-01 no longer reports a replica',
    ]);
  });
});

describe('storage decisions', () => {
  it('a failed storage-loss migration says Vigil tries again; a planned one says it does not', () => {
    const sent: Notification[] = [];
    const alerts = new DecisionAlerts(new AlertBook((n) => sent.push(n)), new FailoverTracker());
    alerts.onDecision({ at: T0, cluster: 'lab', kind: 'action-failed', subject: 'db-01', message: 'live-migrate db-01 esx-01 -> esx-02 failed: timed out', data: { action: 'migrate', cause: 'storage-loss' } });
    alerts.onDecision({ at: T0, cluster: 'lab', kind: 'action-failed', subject: 'web-01', message: 'live-migrate web-01 esx-01 -> esx-02 failed: timed out', data: { action: 'migrate' } });
    expect(sent.map((n) => n.alert.summary)).toEqual([
      'live-migrate db-01 esx-01 -> esx-02 failed: timed out (cluster lab). Check db-01; Vigil tries again after a backoff while the storage loss lasts, then leaves it to a person.',
      'live-migrate web-01 esx-01 -> esx-02 failed: timed out (cluster lab). Check web-01; Vigil does not repeat a planned operation by itself.',
    ]);
  });
});

describe('datastore free space on the levels the controller reports', () => {
  it('uses a cluster policy\'s levels from the report instead of the alerts section, with the forecast', async () => {
    const clock = new FakeClock(T0);
    const store = (free: number): StatusDatastore => ({ ...datastore('ds-01', 1000, free), levels: { warningPercent: 20, criticalPercent: 10, source: 'policy' }, fullInDays: 3.2 });
    let stores = [store(190)];
    const alerts = startAlerts({ decisions: new DecisionLog(), status: () => report(cluster('lab', { datastores: stores })), clock, logger: silentLogger(), config: alertsConfigSchema.parse({ evaluateEvery: '10s', thresholds: { datastoreFree: { for: '0s' } } }) });
    await clock.advance(10_000);
    // 19% free: over the alerts section's 15%, under the policy's 20%.
    expect(alerts.active().map((a) => [a.severity, a.summary])).toEqual([['warning', 'Datastore ds-01 (cluster lab) has 19% free (190 of 1000 GiB), at or under the 20% level (cluster policy); full in ~3 days. Free space or grow it before VMs on it stop.']]);
    stores = [store(90)];
    await clock.advance(10_000);
    expect(alerts.active().map((a) => a.severity)).toEqual(['critical']);
    // A level turned off in the alerts section travels as a negative level: never reached.
    stores = [{ ...datastore('ds-01', 1000, 10), levels: { warningPercent: -1, criticalPercent: -1, source: 'alerts' } }];
    await clock.advance(10_000);
    expect(alerts.active()).toEqual([]);
    await alerts.stop();
  });
});
