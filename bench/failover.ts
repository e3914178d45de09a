/**
 * bench/failover: how long a failover takes, in simulated time, on a
 * 16-host lab with 400 VMs (about 22 running on the failed host), with the
 * controller as `vigil run` assembles it: evidence-based detection, fencing
 * through the lab's Redfish BMC (a power-off takes 3 s of lab time), the
 * executor at its default 8 actions at a time.
 *
 * Two ways of learning of the failure:
 *   (a) polling alone, `pollInterval: 10s` and the default detection
 *       (2 polls on which manager and probe agree);
 *   (b) an alarm hint (a webhook) arriving 0.5 s after the failure.
 * The failure lands at a different phase of the poll cycle in each run
 * (evenly spread over one interval), so the figures are medians and maxima
 * over the phases, not one lucky alignment.
 *
 * Reported: failure -> host declared failed, -> fenced, -> first restart
 * issued, -> last VM running. Targets: (a) first restart within two poll
 * intervals plus the fence time; (b) under 5 s plus the fence time.
 */
import { FakeClock } from '../src/clock/fake-clock.js';
import { round, type BenchLine } from './harness.js';
import { failoverRun, FAILOVER_LAB, type FailoverTimes } from './failover/run-once.js';

const PHASES = 10;
const POLL_MS = 10_000;

export async function run(): Promise<BenchLine[]> {
  const lines: BenchLine[] = [];
  for (const mode of ['polling', 'hint'] as const) {
    const runs: FailoverTimes[] = [];
    for (let i = 0; i < PHASES; i++) {
      const phaseMs = Math.round((i * POLL_MS) / PHASES) + 137;
      runs.push(await failoverRun({ clock: new FakeClock(), pollIntervalMs: POLL_MS, phaseMs, hintAfterMs: mode === 'hint' ? 500 : undefined }));
    }
    const pick = (k: keyof FailoverTimes) => runs.map((r) => r[k]);
    const fenceS = med(pick('fenceMs')) / 1000;
    const targetS = mode === 'polling' ? (2 * POLL_MS) / 1000 + fenceS : 5 + fenceS;
    lines.push({
      name: `failover (${mode === 'polling' ? 'a: polling 10s' : 'b: alarm hint'})`,
      hosts: FAILOVER_LAB.hosts,
      vms: FAILOVER_LAB.vms,
      vms_restarted: runs[0]?.restarted ?? 0,
      phases: PHASES,
      detect_s: s(med(pick('failedMs'))),
      fence_s: s(med(pick('fenceMs'))),
      first_restart_s: s(med(pick('firstRestartMs'))),
      first_restart_max_s: s(Math.max(...pick('firstRestartMs'))),
      last_running_s: s(med(pick('lastRunningMs'))),
      last_running_max_s: s(Math.max(...pick('lastRunningMs'))),
      target_first_restart_s: round(targetS),
      meets_target: Math.max(...pick('firstRestartMs')) / 1000 <= targetS,
      double_starts: runs.reduce((n, r) => n + r.violations, 0),
      // Simulated time: the median of the phases is the figure; wall time is not what is measured.
      median_ms: med(pick('firstRestartMs')),
    });
  }
  return lines;
}

function med(xs: readonly number[]): number {
  const v = [...xs].sort((a, b) => a - b);
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? (v[m] as number) : ((v[m - 1] as number) + (v[m] as number)) / 2;
}

const s = (ms: number) => round(ms / 1000);
