/**
 * bench/storage: the storage step of one controller cycle on 1,000 hosts /
 * 20,000 VMs (the tracker's observation with forecasts and losses, the
 * storage-loss planner, and the unprotected-VM check the status and
 * capacity use), with 10 hosts each having lost one of 40 shared
 * datastores; and the forecast's accuracy on synthetic free-space series.
 */
import type { ClusterSnapshot, Datastore, Host, Vm } from '../src/model/inventory.js';
import { PolicySet } from '../src/policy/policy-set.js';
import { planStorageResponse } from '../src/plan/storage-response.js';
import { StorageTracker } from '../src/service/storage-tracker.js';
import { unprotectedVms } from '../src/storage/protection.js';
import { FreeSpaceHistory } from '../src/storage/forecast.js';
import type { HostHealth } from '../src/health/types.js';
import { median, peakRssMb, rng, round, timeIt, type BenchLine } from './harness.js';

const HOSTS = 1_000;
const VMS = 20_000;
const SHARED = 40;
const LOSSES = 10;

/** 1,000 hosts in 40 groups of 25, each group mounting one shared datastore; 5% of VMs on a host-local one. */
function estate(now: number, lost: boolean): ClusterSnapshot {
  const rand = rng(7);
  const hosts: Host[] = Array.from({ length: HOSTS }, (_, i) => ({ name: `h${String(i).padStart(4, '0')}`, id: `h${i}`, cpu: 64, memoryGiB: 768, labels: {}, state: 'connected' }));
  const groupOf = (i: number) => i % SHARED;
  const datastores: Datastore[] = [];
  for (let g = 0; g < SHARED; g++) {
    const members = hosts.filter((_, i) => groupOf(i) === g).map((h) => h.name);
    // The first LOSSES groups each have one host that lost their datastore.
    const lostOn = lost && g < LOSSES ? [members[0] as string] : [];
    datastores.push({ name: `ds-${g}`, id: `ds-${g}`, capacityGiB: 100_000, freeGiB: 40_000 - (now / 3_600_000) * 10, hosts: members, accessible: true, inaccessibleOn: lostOn });
  }
  for (const h of hosts) datastores.push({ name: `local-${h.name}`, id: `local-${h.name}`, capacityGiB: 2_000, freeGiB: 1_000, hosts: [h.name], accessible: true, inaccessibleOn: [] });
  const vms: Vm[] = Array.from({ length: VMS }, (_, i) => {
    const hi = i % HOSTS;
    const host = hosts[hi] as Host;
    const local = rand() < 0.05;
    return { name: `vm-${String(i).padStart(5, '0')}`, id: `vm-${i}`, host: host.name, cpu: 2, memoryGiB: 8, power: 'on', datastores: [local ? `local-${host.name}` : `ds-${groupOf(hi)}`], labels: {} };
  });
  return { cluster: 'bench', provider: 'bench', takenAt: now, hosts, vms, datastores };
}

async function planningStep(): Promise<BenchLine[]> {
  const policies = PolicySet.empty();
  const tracker = new StorageTracker();
  const health = new Map<string, HostHealth>();
  // A day of history at a 5-minute poll, so each datastore has a full forecast window.
  let now = 0;
  for (; now < 24 * 3_600_000; now += 300_000) tracker.observe(estate(now, false), now, policies);
  // Two polls of the losses, 60 s apart: past actAfter, so the planner places every migration.
  tracker.observe(estate(now, true), now, policies);
  now += 60_000;
  const snapshot = estate(now, true);
  for (const h of snapshot.hosts) health.set(h.name, { host: h.name, state: 'healthy', since: 0, reason: 'ok' });
  let migrations = 0;
  let held = 0;
  let unprotected = 0;
  let forecasts = 0;
  const observe = await timeIt(() => {
    forecasts = [...tracker.observe(snapshot, now, policies).forecasts.values()].filter((f) => f.fullInDays !== null).length;
  }, 15);
  const seen = tracker.observe(snapshot, now, policies);
  const plan = await timeIt(() => {
    const p = planStorageResponse({ snapshot, health, policies, losses: seen.losses, inflight: [], now, offPolls: seen.offPolls });
    migrations = p.actions.length;
    held = p.held.length;
  }, 15);
  const quiet = estate(now, false);
  const quietSeen = new StorageTracker().observe(quiet, now, policies);
  const planQuiet = await timeIt(() => planStorageResponse({ snapshot: quiet, health, policies, losses: quietSeen.losses, inflight: [], now }), 15);
  const protection = await timeIt(() => {
    unprotected = unprotectedVms(snapshot).size;
  }, 15);
  const base = { hosts: HOSTS, vms: VMS, datastores: snapshot.datastores.length, losses: LOSSES, rss_mb: peakRssMb() };
  return [
    { name: 'storage-observe', ...base, forecasts, median_ms: round(observe.median), max_ms: round(Math.max(...observe.samples)) },
    { name: 'storage-plan', ...base, migrations_planned: migrations, held, median_ms: round(plan.median), max_ms: round(Math.max(...plan.samples)) },
    { name: 'storage-plan-no-loss', ...base, losses: 0, median_ms: round(planQuiet.median), max_ms: round(Math.max(...planQuiet.samples)) },
    { name: 'storage-unprotected', ...base, unprotected_vms: unprotected, median_ms: round(protection.median), max_ms: round(Math.max(...protection.samples)) },
    { name: 'storage-step', ...base, median_ms: round(observe.median + plan.median + protection.median) },
  ];
}

/**
 * Synthetic series: free space falling at a true rate with gaussian-ish
 * noise, sampled every 5 minutes; the forecast after `hours` of history is
 * compared with the true days to full. Also: flat series (noise only) and
 * how often they are wrongly called filling within a year.
 */
function accuracy(): BenchLine[] {
  const lines: BenchLine[] = [];
  const rand = rng(11);
  const noise = (sd: number) => (rand() + rand() + rand() + rand() - 2) * sd * Math.sqrt(3);
  const capacity = 10_000;
  for (const [hours, noiseGiB] of [
    [1, 0],
    [6, 5],
    [24, 5],
    [24, 50],
  ] as const) {
    const errors: number[] = [];
    let none = 0;
    const t0 = performance.now();
    const trials = 200;
    for (let trial = 0; trial < trials; trial++) {
      const ratePerDay = 20 + rand() * 480; // 20..500 GiB a day
      const free0 = 2_000 + rand() * 6_000;
      const h = new FreeSpaceHistory();
      const end = hours * 3_600_000;
      for (let t = 0; t <= end; t += 300_000) h.add(t, Math.max(0, free0 - (ratePerDay * t) / 86_400_000 + noise(noiseGiB)), capacity);
      const f = h.forecast(end);
      const truth = (free0 - (ratePerDay * end) / 86_400_000) / ratePerDay;
      if (f.fullInDays === null) none++;
      else errors.push(Math.abs(f.fullInDays - truth) / truth);
    }
    const ms = (performance.now() - t0) / trials;
    const sorted = [...errors].sort((a, b) => a - b);
    lines.push({
      name: 'forecast-accuracy',
      series: 'linear fill',
      history_hours: hours,
      noise_gib: noiseGiB,
      trials,
      no_forecast: none,
      median_abs_error_pct: round(median(errors) * 100, 2),
      p90_abs_error_pct: round((sorted[Math.floor(sorted.length * 0.9)] ?? 0) * 100, 2),
      median_ms: round(ms, 3),
    });
  }
  for (const noiseGiB of [5, 50]) {
    let filling = 0;
    const trials = 200;
    for (let trial = 0; trial < trials; trial++) {
      const h = new FreeSpaceHistory();
      for (let t = 0; t <= 24 * 3_600_000; t += 300_000) h.add(t, 5_000 + noise(noiseGiB), capacity);
      const f = h.forecast(24 * 3_600_000);
      if (f.fullInDays !== null && f.fullInDays < 365) filling++;
    }
    lines.push({ name: 'forecast-accuracy', series: 'flat (noise only)', history_hours: 24, noise_gib: noiseGiB, trials, called_filling_within_a_year: filling, median_ms: 0 });
  }
  return lines;
}

export async function run(): Promise<BenchLine[]> {
  return [...(await planningStep()), ...accuracy()];
}
