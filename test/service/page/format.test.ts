/** The page script's pure helpers, run under Node: words, numbers, unknowns and what counts as a problem. */
import { describe, expect, it } from 'vitest';
import {
  capacityView,
  clusterProblems,
  datastoreView,
  fullIn,
  decisionLabel,
  decisionSeverity,
  formatAgo,
  formatClock,
  formatGiB,
  formatNumber,
  formatSpan,
  healthSeverity,
  hostView,
  listOf,
  managerSeverity,
  overallSummary,
  percent,
  refreshMs,
  timelineRows,
  waitingRows,
  type PageCluster,
} from '../../../src/service/page/assets/status.js';
import type { CapacityReport } from '../../../src/plan/capacity.js';
import type { StatusDatastore, StatusHost } from '../../../src/service/status.js';

const host = (over: Partial<StatusHost> = {}): StatusHost => ({
  name: 'esx-01',
  state: 'connected',
  health: 'healthy',
  cpu: 32,
  memoryGiB: 256,
  vms: 0,
  usedCpu: 0,
  usedMemoryGiB: 0,
  labels: {},
  ...over,
});
const ds = (over: Partial<StatusDatastore> = {}): StatusDatastore => ({ name: 'ds-1', capacityGiB: 1000, freeGiB: 500, hosts: ['esx-01'], accessible: true, inaccessibleOn: [], ...over });
const cap = (over: Partial<CapacityReport> = {}): CapacityReport => ({
  cluster: 'c',
  hosts: 4,
  tolerates: 1,
  atLeast: false,
  required: 1,
  method: 'exact',
  plansMade: 4,
  reserve: { cpuPercent: 0, memoryPercent: 0, usedCpuPercent: 30, usedMemoryPercent: 49.5, ok: true },
  failoverHosts: [],
  failoverHostsInUse: [],
  ok: true,
  ...over,
});
const NOW = Date.parse('2026-01-01T12:00:00Z');
const cluster = (over: Partial<PageCluster> = {}): PageCluster => ({ name: 'lab', lastPoll: new Date(NOW - 1_000).toISOString(), hosts: [host()], ...over });

describe('status page helpers', () => {
  it('never calls an unknown health or manager state fine, and is not fooled by prototype names', () => {
    expect(['healthy', 'maintenance', 'suspect', 'isolated', 'recovering', 'failed', 'fenced', 'quarantined'].map(healthSeverity)).toEqual([
      'ok',
      'info',
      'warn',
      'warn',
      'warn',
      'bad',
      'bad',
      'bad',
    ]);
    expect(healthSeverity('something-new')).toBe('warn');
    expect(healthSeverity('__proto__')).toBe('warn');
    expect(healthSeverity('constructor')).toBe('warn');
    expect(managerSeverity('notResponding')).toBe('bad');
    expect(managerSeverity('toString')).toBe('warn');
  });

  it('formats numbers, GiB and percentages, keeping unknown unknown', () => {
    expect(formatNumber(5120)).toBe('5,120');
    expect(formatNumber(7.46)).toBe('7.5');
    expect(formatNumber(Number.NaN)).toBe('unknown');
    expect(formatGiB(8192)).toBe('8,192 GiB');
    expect(formatGiB(null)).toBe('unknown');
    expect(formatGiB(0)).toBe('0 GiB');
    expect(percent(120, 256)).toBe(47);
    expect(percent(null, 256)).toBeNull();
    expect(percent(10, 0)).toBeNull();
    expect(percent(10, null)).toBeNull();
  });

  it('says how long ago in words, and reads a time ahead (clock skew) as just now', () => {
    expect(formatAgo(-5_000)).toBe('just now');
    expect(formatAgo(1_999)).toBe('just now');
    expect(formatAgo(12_400)).toBe('12 s ago');
    expect(formatAgo(3 * 60_000 + 5_000)).toBe('3 min ago');
    expect(formatAgo(2 * 3_600_000)).toBe('2 h ago');
    expect(formatAgo(2 * 3_600_000 + 5 * 60_000)).toBe('2 h 5 min ago');
    expect(formatAgo(3 * 86_400_000)).toBe('3 d ago');
    expect(formatSpan(5_000)).toBe('5 s');
    expect(formatSpan(90_000)).toBe('1 min 30 s');
    expect(formatSpan(600_000)).toBe('10 min');
  });

  it('shows local clock time, with the date when it is another day', () => {
    const at = new Date(2026, 0, 2, 3, 4, 5).getTime();
    expect(formatClock(at, new Date(2026, 0, 2, 9, 0, 0).getTime())).toBe('03:04:05');
    expect(formatClock(at, new Date(2026, 0, 3, 1, 0, 0).getTime())).toBe('2026-01-02 03:04:05');
    expect(formatClock(Number.NaN, 0)).toBe('unknown');
  });

  it('lists a few names and counts the rest', () => {
    expect(listOf([])).toBe('');
    expect(listOf(['a'])).toBe('a');
    expect(listOf(['a', 'b', 'c'])).toBe('a, b and c');
    expect(listOf(['a', 'b', 'c', 'd'], 2)).toBe('a, b and 2 more');
  });

  it('describes a host: load, VMs by power, and fencing in progress or failed', () => {
    const c = cluster({
      vms: [
        { name: 'a', host: 'esx-01', power: 'on' },
        { name: 'b', host: 'esx-01', power: 'off' },
        { name: 'c', host: 'esx-01', power: 'unknown' },
        { name: 'd', host: 'esx-02', power: 'on' },
      ],
      fencing: [{ host: 'esx-01', state: 'failed', detail: 'BMC refused', attempts: 3 }],
    });
    const v = hostView(host({ health: 'failed', healthReason: 'not responding on 3 polls', state: 'notResponding', vms: 3, usedCpu: 12, usedMemoryGiB: 120 }), c);
    expect(v).toMatchObject({ severity: 'bad', healthSeverity: 'bad', state: 'not responding', vms: '3 (1 off, 1 unknown)', cpu: '12 / 32', memory: '120 / 256 GiB (47%)' });
    expect(v.fencing).toEqual({ severity: 'bad', text: 'fencing failed after 3 attempts: BMC refused' });
    const fencing = hostView(host({ health: 'failed' }), cluster({ fencing: [{ host: 'esx-01', state: 'fencing', detail: 'in progress', attempts: 1 }] }));
    expect(fencing.fencing).toEqual({ severity: 'warn', text: 'fencing in progress (attempt 1)' });
    // A healthy host's reason ("responding") is noise.
    expect(hostView(host({ healthReason: 'responding' }), cluster()).healthReason).toBe('');
  });

  it('lists VMs waiting or moving, the ones that need a person first', () => {
    const rows = waitingRows(
      cluster({
        inflight: [
          { type: 'restart', vm: 'db-03', from: 'esx-03', to: 'esx-04', wave: 1, priority: 'high', reason: 'host failed' },
          { type: 'migrate', vm: 'web-01', from: 'esx-01', to: 'esx-02', live: true, reason: 'evacuation' },
          { type: 'maintenance', host: 'esx-02', enter: true, reason: 'evacuated' },
        ],
        awaitingFence: [{ vm: 'app-03', from: 'esx-03', reason: 'not proven off' }],
        unplaced: [{ vm: 'batch-01', from: 'esx-03', reason: 'no host with 32 GiB free', priority: 'low' }],
      }),
    );
    expect(rows.map((r) => [r.severity, r.status, r.vm])).toEqual([
      ['bad', 'unplaced', 'batch-01'],
      ['warn', 'waiting for fence', 'app-03'],
      ['info', 'restarting', 'db-03'],
      ['info', 'migrating (live)', 'web-01'],
      ['info', 'host entering maintenance', ''],
    ]);
    expect(rows[0]?.reason).toBe('no host with 32 GiB free (priority low)');
    expect(rows[2]?.reason).toBe('wave 1, priority high: host failed');
    expect(waitingRows(cluster())).toEqual([]);
  });

  it('describes datastores: lost where, inaccessible, low, unknown', () => {
    expect(datastoreView(ds())).toMatchObject({ severity: 'ok', status: 'accessible', free: '500 GiB (50%)', freeNote: '', capacity: '1,000 GiB' });
    expect(datastoreView(ds({ inaccessibleOn: ['esx-02', 'esx-03'] }))).toMatchObject({ severity: 'warn', status: 'lost on esx-02 and esx-03' });
    expect(datastoreView(ds({ accessible: false }))).toMatchObject({ severity: 'bad', status: 'inaccessible' });
    expect(datastoreView(ds({ freeGiB: 50 }))).toMatchObject({ freeNote: 'low', free: '50 GiB (5%)' });
    expect(datastoreView(ds({ freeGiB: null, capacityGiB: null }))).toMatchObject({ free: 'unknown', freeNote: 'unknown', capacity: 'unknown' });
    expect(datastoreView(ds({ capacityGiB: null }))).toMatchObject({ free: '500 GiB', freeNote: '' });
    // The controller's level wins over the page's fixed share; degraded hosts and the forecast are shown.
    expect(datastoreView(ds({ freeGiB: 120, level: 'warning', fullInDays: 12.4 }))).toMatchObject({ freeNote: 'low', forecast: 'full in ~12 days' });
    expect(datastoreView(ds({ freeGiB: 50, level: 'ok' }))).toMatchObject({ freeNote: '' });
    expect(datastoreView(ds({ freeGiB: 20, level: 'critical', fullInDays: null }))).toMatchObject({ freeNote: 'critical', forecast: '' });
    expect(datastoreView(ds({ degradedOn: ['esx-03'] }))).toMatchObject({ severity: 'warn', status: 'degraded on esx-03' });
    expect(datastoreView(ds({ inaccessibleOn: ['esx-02'], degradedOn: ['esx-02', 'esx-03'] }))).toMatchObject({ severity: 'warn', status: 'lost on esx-02; degraded on esx-03' });
    expect(fullIn(1.5)).toBe('full in ~36 hours');
    expect(fullIn(1 / 24)).toBe('full in ~1 hour');
  });

  it('puts failover capacity in words: tolerated, wanted, what would stay down', () => {
    expect(capacityView(undefined)).toMatchObject({ severity: 'info', headline: expect.stringMatching(/not computed yet/i) });
    const short = capacityView(
      cap({
        tolerates: 0,
        required: 1,
        ok: false,
        shortfall: { failed: ['esx-01'], unplaced: [{ vm: 'db-03', vmId: 'db-03', cluster: 'c', from: 'esx-03', priority: 'high', reason: 'anti-affinity' }], memoryGiBShort: 64 },
        reserve: { cpuPercent: 10, memoryPercent: 25, usedCpuPercent: 30, usedMemoryPercent: 80, ok: false },
      }),
    );
    expect(short.severity).toBe('bad');
    expect(short.headline).toBe('Tolerates 0 host failures; the policy wants 1.');
    expect(short.shortfall).toBe('If esx-01 failed, 1 VM (64 GiB of memory) could not restart:');
    expect(short.unplaced).toEqual([{ vm: 'db-03', reason: 'anti-affinity' }]);
    expect(short.notes[0]).toBe('Reserve not kept: memory 80% used of 75% allowed; CPU 30% used of 90% allowed.');
    const ok = capacityView(cap({ atLeast: true, tolerates: 3, method: 'heuristic' }));
    expect(ok.severity).toBe('ok');
    expect(ok.headline).toMatch(/^Tolerates at least 3 host failures; the policy wants 1\. \(an estimate/);
  });

  it('puts the timeline newest first and labels host changes by where they went', () => {
    const rows = timelineRows([
      { at: 1, cluster: 'c', kind: 'host-health', subject: 'esx-03', message: 'healthy -> suspect', data: { from: 'healthy', to: 'suspect' } },
      { at: 2, cluster: 'c', kind: 'host-health', subject: 'esx-03', message: 'suspect -> failed', data: { from: 'suspect', to: 'failed' } },
      { at: 2, cluster: 'c', kind: 'restart-planned', subject: 'db-03', message: 'restart db-03' },
      { at: 3, cluster: 'c', kind: 'action-failed', subject: 'db-03', message: 'no' },
    ]);
    expect(rows.map((r) => [r.at, r.kind, r.severity])).toEqual([
      [3, 'failed', 'bad'],
      [2, 'restart planned', 'info'],
      [2, 'host failed', 'bad'],
      [1, 'host suspect', 'warn'],
    ]);
    expect(decisionLabel({ kind: 'awaiting-fence' })).toBe('waiting for fence');
    expect(decisionLabel({ kind: 'something-new' })).toBe('something new');
    expect(decisionSeverity({ kind: 'host-health', data: { to: 'healthy' } })).toBe('ok');
  });

  it('finds what needs a person, worst first, and says when a cluster has not been polled for long', () => {
    expect(clusterProblems(cluster(), NOW)).toEqual([]);
    const problems = clusterProblems(
      cluster({
        frozen: true,
        frozenReason: 'many hosts at once',
        hosts: [host(), host({ name: 'esx-02', health: 'suspect' }), host({ name: 'esx-03', health: 'failed' })],
        awaitingFence: [{ vm: 'a', from: 'esx-03', reason: 'x' }],
        datastores: [ds({ freeGiB: 20 })],
        capacity: cap({ ok: false, tolerates: 0 }),
      }),
      NOW,
    );
    expect(problems.map((p) => `${p.severity} ${p.text}`)).toEqual([
      'bad frozen',
      'bad esx-03 failed',
      'warn esx-02 suspect',
      'warn 1 VM waiting for a fence',
      'warn ds-1 low on space',
      'warn failover capacity short',
    ]);
    expect(clusterProblems(cluster({ lastPoll: new Date(NOW - 90_000).toISOString() }), NOW)).toEqual([{ severity: 'warn', text: 'no poll for 1 min 30 s' }]);
    // With the poll interval known, three missed polls are enough.
    expect(clusterProblems(cluster({ pollIntervalMs: 5_000, lastPoll: new Date(NOW - 20_000).toISOString() }), NOW)).toEqual([{ severity: 'warn', text: 'no poll for 20 s' }]);
    expect(clusterProblems(cluster({ lastPoll: undefined }), NOW)).toEqual([{ severity: 'warn', text: 'not polled yet' }]);
  });

  it('sums the page up in one line and a tab title', () => {
    expect(overallSummary({ clusters: [cluster({ vms: [{ name: 'a', host: 'esx-01', power: 'on' }] })] }, NOW)).toEqual({
      severity: 'ok',
      text: 'All clear: 1 cluster, 1 host, 1 VM.',
      title: 'all clear',
    });
    const two = overallSummary({ clusters: [cluster({ hosts: [host({ health: 'suspect' })] }), cluster({ name: 'prod', frozen: true })] }, NOW);
    expect(two).toEqual({ severity: 'bad', text: '2 problems: prod: frozen; lab: esx-01 suspect.', title: '2 problems' });
    expect(overallSummary({ clusters: [] }, NOW).severity).toBe('warn');
  });

  it('reads the refresh period from the address, within bounds', () => {
    expect(refreshMs('')).toBe(5_000);
    expect(refreshMs('?refresh=2')).toBe(2_000);
    expect(refreshMs('?refresh=0')).toBe(1_000);
    expect(refreshMs('?refresh=99999')).toBe(300_000);
    expect(refreshMs('?refresh=soon')).toBe(5_000);
    expect(refreshMs('?refresh=')).toBe(5_000);
  });
});
