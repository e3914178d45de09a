/** From decisions and status reports to alerts: what fires, how often, and when it resolves. */
import { describe, expect, it } from 'vitest';
import type { Notification } from '../../src/alerts/alert.js';
import { AlertBook } from '../../src/alerts/book.js';
import { FailoverTracker } from '../../src/alerts/failovers.js';
import { DecisionAlerts } from '../../src/alerts/from-decisions.js';
import { StatusAlerts } from '../../src/alerts/from-status.js';
import type { Decision, DecisionKind } from '../../src/decisions.js';
import { cluster, host, report, vm } from './status-fixture.js';
import { T0 } from './helpers.js';

function setup() {
  const sent: Notification[] = [];
  const book = new AlertBook((n) => sent.push(n));
  const failovers = new FailoverTracker();
  const decisions = new DecisionAlerts(book, failovers);
  const status = new StatusAlerts(book, failovers, { staleAfterMs: 3_600_000 });
  let t = T0;
  const d = (kind: string, subject: string, message: string, data?: Record<string, unknown>, c = 'lab'): void => {
    t += 1_000;
    decisions.onDecision({ at: t, cluster: c, kind: kind as DecisionKind, subject, message, ...(data ? { data } : {}) } satisfies Decision);
  };
  const lines = () => sent.map((n) => `${n.status} ${n.alert.severity} ${n.alert.key}${n.alert.resolution ? ` | ${n.alert.resolution}` : ''}`);
  return { sent, book, d, status, lines, now: () => t };
}

const restart = (vmName: string, to: string, from: string) => `restart ${vmName} on ${to} (from ${from}, wave 1)`;

describe('decisions to alerts', () => {
  it('a host failure: host-failed, one failover alert with its tally, restart failures, and the ends of each', () => {
    const { d, lines, book, sent } = setup();
    d('host-health', 'esx-03', 'healthy -> suspect: not responding (1 of 3 polls)', { from: 'healthy', to: 'suspect' });
    expect(lines()).toEqual([]);
    d('host-health', 'esx-03', 'suspect -> failed: not responding on 3 consecutive polls', { from: 'suspect', to: 'failed' });
    d('restart-planned', 'app-01', `${restart('app-01', 'esx-01', 'esx-03')}: host esx-03 failed`, { from: 'esx-03', to: 'esx-01', wave: 1 });
    d('restart-planned', 'db-01', `${restart('db-01', 'esx-02', 'esx-03')}: host esx-03 failed`, { from: 'esx-03', to: 'esx-02', wave: 1 });
    d('action-started', 'app-01', restart('app-01', 'esx-01', 'esx-03'), { action: 'restart' });
    d('action-succeeded', 'app-01', `${restart('app-01', 'esx-01', 'esx-03')} in 4s`, { action: 'restart', durationMs: 4000 });
    d('action-failed', 'db-01', `${restart('db-01', 'esx-02', 'esx-03')} failed: db-01 failed to power on`, { action: 'restart' });
    d('skipped', 'db-01', 'not restarted (was on esx-03): waiting 20s after failed attempt 1 of 3');
    d('restart-planned', 'db-01', `${restart('db-01', 'esx-01', 'esx-03')}: host esx-03 failed; last attempt failed on esx-02`, { from: 'esx-03', to: 'esx-01', wave: 1 });
    expect(book.get('failover', 'lab', 'esx-03')?.details).toMatchObject({ vms: 2, restarted: ['app-01'], pending: ['db-01'], errors: { 'db-01': 'db-01 failed to power on' } });
    d('action-succeeded', 'db-01', `${restart('db-01', 'esx-01', 'esx-03')} in 4s`, { action: 'restart' });
    d('host-health', 'esx-03', 'failed -> healthy: responding again', { from: 'failed', to: 'healthy' });
    expect(lines()).toEqual([
      'firing critical host-failed/lab/esx-03',
      'firing warning failover/lab/esx-03',
      'firing warning restart-failed/lab/db-01',
      `resolved warning restart-failed/lab/db-01 | db-01 restarted: ${restart('db-01', 'esx-01', 'esx-03')} in 4s`,
      'resolved warning failover/lab/esx-03 | 2 of 2 VMs restarted',
      'resolved critical host-failed/lab/esx-03 | esx-03 responds again',
    ]);
    expect(sent[0]?.alert.summary).toBe('Host esx-03 in cluster lab failed (not responding on 3 consecutive polls). Vigil restarts its VMs elsewhere once it is known to be down.');
    expect(sent[1]?.alert.summary).toBe('Failover of esx-03 (cluster lab): restarting 1 VM on other hosts.');
    expect(sent[2]?.alert.summary).toBe('Restart of VM db-01 (from failed host esx-03) in cluster lab failed: db-01 failed to power on. Vigil tries again, on another host if it can; it raises "unplaced" if it gives up.');
    expect(sent[4]?.alert.details).toMatchObject({ restarted: ['app-01', 'db-01'], down: [] });
    expect(book.list()).toEqual([]);
  });

  it('a VM left unplaced is critical and closes the failover as "left down"; the status report resolves it once the VM runs', () => {
    const { d, lines, status, now } = setup();
    d('restart-planned', 'big-01', `${restart('big-01', 'esx-02', 'esx-01')}: host esx-01 failed`, { from: 'esx-01', to: 'esx-02' });
    d('action-failed', 'big-01', `${restart('big-01', 'esx-02', 'esx-01')} failed: no memory`, { action: 'restart' });
    d('unplaced', 'big-01', 'cannot restart (from esx-01, priority medium): gave up after 3 failed restart attempts; a person must act');
    const unplaced = { vm: 'big-01', vmId: 'vm-1', cluster: 'lab', from: 'esx-01', priority: 'medium' as const, reason: 'gave up after 3 failed restart attempts; a person must act' };
    // Still waiting in the report: nothing new.
    status.sweep(report(cluster('lab', { hosts: [host('esx-01', { health: 'failed' }), host('esx-02')], vms: [vm('big-01', 'esx-01', { power: 'off' })], unplaced: [unplaced] })), now() + 1);
    // A person started it by hand.
    status.sweep(report(cluster('lab', { hosts: [host('esx-01', { health: 'failed' }), host('esx-02')], vms: [vm('big-01', 'esx-02')] })), now() + 2);
    expect(lines()).toEqual([
      'firing warning failover/lab/esx-01',
      'firing warning restart-failed/lab/big-01',
      'firing critical unplaced/lab/big-01',
      'resolved warning failover/lab/esx-01 | 0 of 1 VM restarted; 1 left down (big-01): a person must act',
      'firing critical host-failed/lab/esx-01',
      'resolved critical unplaced/lab/big-01 | big-01 runs on esx-02',
      'resolved warning restart-failed/lab/big-01 | big-01 runs on esx-02',
    ]);
  });

  it('fencing: awaiting-fence and fence failures are critical, sent once, and resolved by fenced', () => {
    const { d, lines, sent } = setup();
    d('awaiting-fence', 'db-01', 'waiting for esx-04 to be fenced before restarting db-01', { from: 'esx-04', vm: 'db-01' });
    d('awaiting-fence', 'web-01', 'waiting for esx-04 to be fenced before restarting web-01', { from: 'esx-04', vm: 'web-01' });
    d('alert', 'esx-04', 'fencing esx-04 through redfish failed: BMC unreachable (3 attempts)', { host: 'esx-04' });
    d('alert', 'esx-04', 'fencing esx-04 through redfish failed: BMC unreachable (3 attempts)', { host: 'esx-04' });
    d('fenced', 'esx-04', 'powered off through redfish; PowerState Off confirmed', { host: 'esx-04' });
    expect(lines()).toEqual([
      'firing critical awaiting-fence/lab/esx-04',
      'firing critical fence-failed/lab/esx-04',
      'firing warning fenced/lab/esx-04',
      'resolved critical awaiting-fence/lab/esx-04 | esx-04 fenced: powered off through redfish; PowerState Off confirmed',
      'resolved critical fence-failed/lab/esx-04 | esx-04 fenced: powered off through redfish; PowerState Off confirmed',
    ]);
    expect(sent[0]?.alert.summary).toContain('`vigil fence confirm esx-04`');
    expect(sent[3]?.alert.details).toMatchObject({ vms: ['db-01', 'web-01'] });
  });

  it('freezes, capacity, poll failures and policy reloads fire once while they last and resolve on their counterpart', () => {
    const { d, lines, book } = setup();
    d('frozen', 'lab', '3 of 4 hosts lost at once: the controller more likely lost its view');
    d('frozen', 'lab', '3 of 4 hosts lost at once: the controller more likely lost its view');
    d('alert', 'lab', 'failover capacity below policy: tolerates 0 host failures (policy wants 1, exact)', { tolerates: 0, required: 1 });
    d('alert', 'lab', 'failover capacity below policy: tolerates 0 host failures (policy wants 1, exact); reserve not kept', { tolerates: 0, required: 1 });
    d('poll-failed', 'lab', 'cannot read the cluster: connect ECONNREFUSED; no action on this cluster until it answers');
    d('alert', 'policies', 'the new policies are invalid; keeping the ones in force: a.yaml:3:1: bad', {}, '*');
    d('poll-recovered', 'lab', 'the cluster answers again');
    d('info', 'lab', 'failover capacity meets policy again: tolerates 1 host failure (policy wants 1, exact)');
    d('unfrozen', 'lab', 'unfrozen by an operator');
    d('info', 'policies', 'policies reloaded from /etc/vigil/policies', {}, '*');
    expect(lines()).toEqual([
      'firing critical frozen/lab/lab',
      'firing warning capacity/lab/lab',
      'firing warning poll-failed/lab/lab',
      'firing warning policy/*/policies',
      'resolved warning poll-failed/lab/lab | the cluster answers again',
      'resolved warning capacity/lab/lab | failover capacity meets policy again: tolerates 1 host failure (policy wants 1, exact)',
      'resolved critical frozen/lab/lab | automation resumed: unfrozen by an operator',
      'resolved warning policy/*/policies | policies reloaded from /etc/vigil/policies',
    ]);
    expect(book.list()).toEqual([]);
  });

  it('decisions that are progress, not conditions, send nothing', () => {
    const { d, lines } = setup();
    for (const kind of ['action-started', 'skipped', 'orchestration', 'journal', 'observe-only', 'fencing', 'host-health', 'action-dropped']) d(kind, 'x', 'progress', { from: 'healthy', to: 'suspect' });
    d('action-succeeded', 'x', 'live-migrate x a -> b', { action: 'migrate' });
    expect(lines()).toEqual([]);
  });

  it('a failed migration is a warning until the same operation succeeds', () => {
    const { d, lines } = setup();
    d('action-failed', 'web-02', 'live-migrate web-02 esx-01 -> esx-02 failed: task timed out', { action: 'migrate' });
    d('action-succeeded', 'web-02', 'live-migrate web-02 esx-01 -> esx-03', { action: 'migrate' });
    expect(lines()).toEqual(['firing warning action-failed/lab/migrate:web-02', 'resolved warning action-failed/lab/migrate:web-02 | live-migrate web-02 esx-01 -> esx-03']);
  });

  it('other alerts fire once per distinct text and are resolved after staleAfter without a repeat', () => {
    const { d, lines, status, now } = setup();
    d('alert', 'ds-01', 'datastore ds-01 inaccessible on esx-02');
    d('alert', 'ds-01', 'datastore ds-01 inaccessible on esx-02');
    d('alert', 'ds-01', 'datastore ds-01 inaccessible on esx-03');
    status.sweep(report(cluster('lab')), now() + 3_000_000);
    expect(lines()).toHaveLength(2);
    status.sweep(report(cluster('lab')), now() + 3_600_000);
    expect(lines().slice(2)).toEqual([expect.stringMatching(/^resolved warning controller\/lab\/ds-01: [0-9a-f]{8} \| not reported again since$/), expect.stringMatching(/^resolved warning controller\/lab\/ds-01: /)]);
  });
});

describe('status report to alerts', () => {
  it('raises what the report shows and clears what it stops showing, including the fencing fields when present', () => {
    const { lines, status } = setup();
    const t = T0 + 10_000;
    status.sweep(
      report(
        cluster('lab', {
          frozen: true,
          frozenReason: 'mass failure guard',
          lastError: 'ECONNREFUSED',
          hosts: [host('esx-01'), host('esx-04', { health: 'failed', state: 'notResponding' }), host('esx-05', { health: 'failed', state: 'notResponding' })],
          awaitingFence: [
            { vm: 'db-01', from: 'esx-04', reason: 'fencing failed' },
            { vm: 'app-01', from: 'esx-05', reason: 'no fence agent configured' },
            { vm: 'web-01', from: 'esx-04', reason: 'fencing failed' },
          ],
          fencing: [{ host: 'esx-04', state: 'failed', detail: 'BMC refused the login', attempts: 3 }],
        }),
      ),
      t,
    );
    // The same report again: nothing new.
    status.sweep(report(cluster('lab', { frozen: true, lastError: 'ECONNREFUSED', hosts: [host('esx-01'), host('esx-04', { health: 'failed' }), host('esx-05', { health: 'failed' })], awaitingFence: [{ vm: 'db-01', from: 'esx-04', reason: 'x' }, { vm: 'app-01', from: 'esx-05', reason: 'x' }], fencing: [{ host: 'esx-04', state: 'fencing', detail: 'retrying', attempts: 4 }] })), t + 1);
    // esx-04 has a fence agent at work (fence-failed speaks for it); only esx-05, with none, waits for a person.
    expect(lines()).toEqual(['firing critical frozen/lab/lab', 'firing warning poll-failed/lab/lab', 'firing critical host-failed/lab/esx-04', 'firing critical host-failed/lab/esx-05', 'firing critical awaiting-fence/lab/esx-05', 'firing critical fence-failed/lab/esx-04']);
    status.sweep(report(cluster('lab', { hosts: [host('esx-01'), host('esx-04', { health: 'fenced' }), host('esx-05', { health: 'fenced' })], awaitingFence: [], fencing: [] })), t + 2);
    expect(lines().slice(6)).toEqual([
      'resolved critical frozen/lab/lab | automation is no longer frozen',
      'resolved warning poll-failed/lab/lab | the cluster answers again',
      'firing warning fenced/lab/esx-04',
      'firing warning fenced/lab/esx-05',
      'resolved critical awaiting-fence/lab/esx-05 | no VM of esx-05 waits for fencing any more',
      'resolved critical fence-failed/lab/esx-04 | fencing esx-04 is no longer failing',
    ]);
    // The cluster leaves the config: its alerts end.
    status.sweep(report(), t + 3);
    expect(lines().slice(12)).toEqual([
      'resolved critical host-failed/lab/esx-04 | cluster lab is no longer watched',
      'resolved critical host-failed/lab/esx-05 | cluster lab is no longer watched',
      'resolved warning fenced/lab/esx-04 | cluster lab is no longer watched',
      'resolved warning fenced/lab/esx-05 | cluster lab is no longer watched',
    ]);
  });

  it('leaves fencing alerts alone when the report has no fencing fields (an older controller)', () => {
    const { d, lines, status, now } = setup();
    d('awaiting-fence', 'esx-04', 'waiting for esx-04 to be fenced', { host: 'esx-04' });
    status.sweep(report(cluster('lab', { hosts: [host('esx-04', { health: 'failed' })] })), now() + 1);
    expect(lines()).toEqual(['firing critical awaiting-fence/lab/esx-04', 'firing critical host-failed/lab/esx-04']);
  });
});
