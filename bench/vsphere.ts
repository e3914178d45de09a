/**
 * bench/vsphere: the vsphere provider against vcsim (Vigil's harness) with
 * 50 hosts and 1,000 and 5,000 VMs.
 *
 *   vsphere-full-snapshot      a full read (ContainerView + RetrievePropertiesEx);
 *                              target: at most 3 round trips per 1,000 objects
 *   vsphere-incremental-idle   a snapshot of a cluster where nothing changed
 *                              (one WaitForUpdatesEx); target: 1 round trip
 *   vsphere-first-snapshot     the service's first snapshot: login, scope, view,
 *                              full read and update stream set-up (one sample)
 *
 * vcsim answers WaitForUpdatesEx on a 250 ms ticker, so the idle cycle's time
 * is vcsim's floor, not the provider's.
 */
import { performance } from 'node:perf_hooks';
import { SystemClock } from '../src/clock/clock.js';
import { silentLogger } from '../src/log.js';
import vsphereModule, { type VsphereProvider } from '../providers/vsphere/index.js';
import { peakRssMb, round, timeIt, type BenchLine } from './harness.js';
import { startVcsim, type Vcsim } from './vsphere/vcsim.js';

const HOSTS = 50;

async function provider(sim: Vcsim, purpose: 'service' | 'oneshot'): Promise<VsphereProvider> {
  const config = vsphereModule.configSchema.parse({ name: 'bench', provider: 'vsphere', url: sim.url, username: sim.user, password: sim.password, datacenter: 'DC0', cluster: 'DC0_C0', timeout: '120s' });
  return (await vsphereModule.create(config, { clock: new SystemClock(), logger: silentLogger(), baseDir: '.', purpose })) as VsphereProvider;
}

export async function run(): Promise<BenchLine[]> {
  const lines: BenchLine[] = [];
  for (const [vms, fullRuns] of [
    [1_000, 7],
    [5_000, 3],
  ] as const) {
    const sim = await startVcsim({ hosts: HOSTS, vms, startTimeoutMs: 120_000 });
    try {
      // Full reads, on a session that is already up (a one-shot provider reads in full every time).
      const oneshot = await provider(sim, 'oneshot');
      const first = await oneshot.snapshot();
      const objects = first.hosts.length + first.vms.length + first.datastores.length;
      let rt = 0;
      const full = await timeIt(
        async () => {
          const before = oneshot.roundTrips;
          await oneshot.snapshot();
          rt = oneshot.roundTrips - before;
        },
        fullRuns,
        1,
      );
      await oneshot.close();
      lines.push({
        name: 'vsphere-full-snapshot',
        hosts: first.hosts.length,
        vms: first.vms.length,
        objects,
        round_trips: rt,
        round_trips_per_1000_objects: round((rt * 1000) / objects, 2),
        median_ms: round(full.median),
        max_ms: round(Math.max(...full.samples)),
        runs: fullRuns,
        vcsim_build_ms: sim.buildMs,
      });

      // The service: first snapshot, then idle cycles through the update stream.
      const service = await provider(sim, 'service');
      const t0 = performance.now();
      await service.snapshot();
      const firstMs = performance.now() - t0;
      lines.push({ name: 'vsphere-first-snapshot', hosts: first.hosts.length, vms: first.vms.length, round_trips: service.roundTrips, median_ms: round(firstMs), runs: 1 });
      let idleRt = 0;
      const idle = await timeIt(
        async () => {
          const before = service.roundTrips;
          await service.snapshot();
          idleRt = service.roundTrips - before;
        },
        10,
        1,
      );
      lines.push({
        name: 'vsphere-incremental-idle',
        hosts: first.hosts.length,
        vms: first.vms.length,
        round_trips: idleRt,
        full_reads: service.collector.counts.full,
        median_ms: round(idle.median),
        max_ms: round(Math.max(...idle.samples)),
        runs: 10,
        rss_mb: peakRssMb(),
      });
      await service.close();
    } finally {
      await sim.stop();
    }
  }
  return lines;
}
