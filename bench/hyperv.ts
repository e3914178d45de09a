/**
 * bench/hyperv: snapshot of a simulated 16-node / 800-VM Failover Cluster
 * through node-powershell and the stand-in pwsh (test/pwsh-standin).
 * Figures: round trips (PowerShell invocations) per snapshot, target 1;
 * the whole snapshot's median, and the median time the provider spends
 * turning the answer into the model (JSON, validation, mapping). The
 * stand-in answers from memory, so the whole-snapshot time measures
 * Vigil's side and the protocol, not a real cluster's cmdlets.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { SystemClock } from '../src/clock/clock.js';
import { silentLogger } from '../src/log.js';
import { builtinPath } from '../src/paths.js';
import hypervProvider from '../providers/hyperv/index.js';
import type { HyperVProvider } from '../providers/hyperv/provider.js';
import { SimHyperV } from '../test/pwsh-standin/sim-hyperv.js';
import { StandinServer } from '../test/pwsh-standin/server.js';
import { benchCluster } from './hyperv/estate.js';
import { median, round, type BenchLine } from './harness.js';

function standin(): string {
  const path = builtinPath('.peers', 'pwsh-standin', 'main.js');
  if (!existsSync(path)) {
    const r = spawnSync('bash', ['.ci/setup.d/hyperv-standin.sh'], { cwd: builtinPath(), stdio: 'inherit' });
    if (r.status !== 0 || !existsSync(path)) throw new Error('cannot build the stand-in pwsh (.ci/setup.d/hyperv-standin.sh)');
  }
  return path;
}

export async function run(): Promise<BenchLine[]> {
  const nodes = 16;
  const vms = 800;
  const runs = 30;
  const sim = new SimHyperV(benchCluster(nodes, vms));
  const server = new StandinServer(sim);
  await server.listen();
  const config = hypervProvider.configSchema.parse({
    name: 'bench',
    provider: 'hyperv',
    cluster: 'HVBENCH',
    powershell: { executable: process.execPath, arguments: [standin()], environment: { VIGIL_STANDIN_URL: server.url }, invocationTimeout: '30s' },
  });
  const provider = (await hypervProvider.create(config, { clock: new SystemClock(), logger: silentLogger(), baseDir: builtinPath() })) as HyperVProvider;
  try {
    let answerBytes = 0;
    let seenVms = 0;
    for (let i = 0; i < 3; i++) await provider.snapshot();
    const total: number[] = [];
    const parse: number[] = [];
    const trips: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const s = await provider.snapshot();
      total.push(performance.now() - t0);
      parse.push(provider.stats.parseMs);
      trips.push(provider.stats.roundTrips);
      seenVms = s.vms.length;
    }
    answerBytes = sim.run('snapshot', { mode: 'cluster', seeds: ['HVBENCH'] }, 0).stdout?.length ?? 0;
    const common = { nodes, vms: seenVms, round_trips: Math.max(...trips), runs };
    return [
      { name: 'hyperv-snapshot', median_ms: round(median(total)), ...common, answer_kb: round(answerBytes / 1024) },
      { name: 'hyperv-parse', median_ms: round(median(parse), 2), ...common, max_ms: round(Math.max(...parse), 2) },
    ];
  } finally {
    await provider.close();
    await server.close();
  }
}
