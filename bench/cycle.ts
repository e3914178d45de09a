/**
 * bench/cycle: one controller cycle (lab snapshot + detection + restart
 * plan) on 100 hosts / 2,000 VMs and 1,000 hosts / 20,000 VMs with 5% of
 * the hosts failed. Targets: the 1,000-host cycle under 200 ms median,
 * RSS under 300 MB.
 */
import { FakeClock } from '../src/clock/fake-clock.js';
import { EvidenceDetector, DEFAULT_DETECTION } from '../src/health/evidence-detector.js';
import { planRecovery } from '../src/plan/restart-plan.js';
import { PolicySet } from '../src/policy/policy-set.js';
import { Lab } from '../providers/sim/lab.js';
import { fleet } from './lab-fleet.js';
import { peakRssMb, round, timeIt, type BenchLine } from './harness.js';

export async function run(): Promise<BenchLine[]> {
  const lines: BenchLine[] = [];
  for (const [hosts, vms, runs] of [
    [100, 2_000, 30],
    [1_000, 20_000, 15],
  ] as const) {
    const clock = new FakeClock();
    const inventory = fleet(hosts, vms);
    const lab = new Lab(inventory, clock);
    const failed = Math.round(hosts * 0.05);
    for (let i = 0; i < failed; i++) lab.failHost(inventory.clusters[0]?.hosts[i * 20]?.name as string);
    // One observation fails a host, so every cycle measured plans the restarts.
    const detector = new EvidenceDetector({ ...DEFAULT_DETECTION, failAfterPolls: 1, minDownMs: 0 });
    const policies = PolicySet.empty();
    let placed = 0;
    let unplaced = 0;
    const cycle = () => {
      const snapshot = lab.snapshot('bench');
      const view = detector.observe({ now: clock.now(), snapshot });
      const health = new Map([...view.hosts].map(([h, s]) => [h, s.state === 'failed' ? { ...s, state: 'fenced' as const } : s]));
      const plan = planRecovery({ snapshot, health, policies, inflight: [], now: clock.now() });
      placed = plan.actions.length;
      unplaced = plan.unplaced.length;
    };
    const t = await timeIt(cycle, runs);
    lines.push({ name: 'cycle', hosts, vms, failed_hosts: failed, restarts_planned: placed, unplaced, median_ms: round(t.median), max_ms: round(Math.max(...t.samples)), rss_mb: peakRssMb(), runs });
  }
  return lines;
}
