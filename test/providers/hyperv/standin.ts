/**
 * Test helper: the stand-in `pwsh` (test/pwsh-standin, built into .peers/ by
 * .ci/setup.d/hyperv-standin.sh) serving a simulated Hyper-V estate, and
 * Hyper-V providers wired to it through node-powershell.
 */
import { existsSync, statSync } from 'node:fs';
import { SystemClock, type Clock } from '../../../src/clock/clock.js';
import { silentLogger } from '../../../src/log.js';
import { builtinPath } from '../../../src/paths.js';
import hypervProvider from '../../../providers/hyperv/index.js';
import type { HyperVProvider } from '../../../providers/hyperv/provider.js';
import { SimHyperV, type SimSpec } from '../../pwsh-standin/sim-hyperv.js';
import { StandinServer } from '../../pwsh-standin/server.js';

export function standinPath(): string {
  const built = builtinPath('.peers', 'pwsh-standin', 'main.js');
  const src = builtinPath('test', 'pwsh-standin', 'main.ts');
  if (!existsSync(built)) throw new Error(`the stand-in pwsh is not built (${built}): run \`npm run setup-peers\` (npm test does it for you)`);
  if (statSync(built).mtimeMs < statSync(src).mtimeMs) throw new Error('the stand-in pwsh is older than its source: run `npm run setup-peers`');
  return built;
}

export interface Estate {
  readonly sim: SimHyperV;
  readonly server: StandinServer;
  /** A cluster entry of vigil.yaml (before parsing) that reaches this estate through the stand-in. */
  entry(extra?: Record<string, unknown>): Record<string, unknown>;
  provider(extra?: Record<string, unknown>, clock?: Clock): Promise<HyperVProvider>;
  close(): Promise<void>;
}

export async function startEstate(spec: SimSpec): Promise<Estate> {
  const exe = standinPath();
  const sim = new SimHyperV(spec);
  const server = new StandinServer(sim);
  await server.listen();
  const providers: HyperVProvider[] = [];
  const entry = (extra: Record<string, unknown> = {}): Record<string, unknown> => {
    const { powershell, ...rest } = extra as { powershell?: Record<string, unknown> };
    return {
      name: 'hv',
      provider: 'hyperv',
      ...(spec.cluster ? { cluster: spec.cluster } : { hosts: spec.nodes.map((n) => n.name), sharedStorage: spec.shares ?? [] }),
      powershell: { executable: process.execPath, arguments: [exe], environment: { VIGIL_STANDIN_URL: server.url }, invocationTimeout: '10s', ...powershell },
      ...rest,
    };
  };
  return {
    sim,
    server,
    entry,
    async provider(extra = {}, clock = new SystemClock()) {
      const config = hypervProvider.configSchema.parse(entry(extra));
      const p = (await hypervProvider.create(config, { clock, logger: silentLogger(), baseDir: builtinPath() })) as HyperVProvider;
      providers.push(p);
      return p;
    },
    async close() {
      await Promise.allSettled(providers.map((p) => p.close()));
      await server.close();
    },
  };
}

/** A small cluster: three nodes, two CSVs, four VMs. */
export const SMALL_CLUSTER: SimSpec = {
  cluster: 'HVC01',
  nodes: [{ name: 'hv1' }, { name: 'hv2' }, { name: 'hv3' }],
  csvs: [
    { name: 'Cluster Disk 1', path: 'C:\\ClusterStorage\\Volume1', sizeGiB: 2048, freeGiB: 1024 },
    { name: 'Cluster Disk 2', path: 'C:\\ClusterStorage\\Volume2', sizeGiB: 1024, freeGiB: 512 },
  ],
  vms: [
    { name: 'web-01', host: 'hv1', cpu: 2, memoryGiB: 4, antiAffinity: ['web'] },
    { name: 'web-02', host: 'hv2', cpu: 2, memoryGiB: 4, antiAffinity: ['web'] },
    { name: 'db-01', host: 'hv1', cpu: 8, memoryGiB: 32, priority: 3000, path: 'C:\\ClusterStorage\\Volume2\\VMs\\db-01', replication: { replicaServer: 'dr-hv1.example', lastReplicationAgoMs: 60_000 } },
    { name: 'batch-01', host: 'hv2', cpu: 4, memoryGiB: 8, state: 'Off' },
  ],
  timings: { liveMigrationMs: 150, drainPerRoleMs: 40, startMs: 100, failoverDelayMs: 100 },
};

/** Polls `fn` until it returns a value, within a deadline. */
export async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000, stepMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
