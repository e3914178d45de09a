/**
 * The process under load for bench/webhooks: the service's HTTP app with
 * the webhook receivers, and a real controller on the built-in lab behind
 * them (real time, poll every 5 s), listening on loopback. Hints are
 * handed over as the service will: record, then requestReconcile().
 *
 * Talks to its parent over IPC: sends {type: 'ready', port}; answers
 * 'measure' with its memory, polls and counters; exits on 'exit'.
 * Limits come as JSON in argv[2].
 */
import { monitorEventLoopDelay, performance, type EventLoopUtilization } from 'node:perf_hooks';
import { SystemClock } from '../../src/clock/clock.js';
import type { VigilConfig } from '../../src/config/load.js';
import { controllerSchema } from '../../src/config/schema.js';
import { silentLogger } from '../../src/log.js';
import { builtinPath } from '../../src/paths.js';
import { PolicySet } from '../../src/policy/policy-set.js';
import { assembleController } from '../../src/service/assemble.js';
import { buildServiceHttp } from '../../src/service/http.js';
import { registerHooks, resolverFromInventory, type HookLimits } from '../../src/service/hooks/index.js';
import simProvider from '../../providers/sim/index.js';
import { BENCH_SECRET, BENCH_TOKEN } from './load.js';

export interface Measurement {
  readonly type: 'measurement';
  readonly rssMb: number;
  readonly heapUsedMb: number;
  readonly peakRssMb: number;
  readonly polls: number;
  readonly hintsDelivered: number;
  readonly stats: ReturnType<ReturnType<typeof registerHooks>['stats']>;
  /** Since the previous measurement: how busy the event loop was (0..1), and its worst delays. */
  readonly eventLoopUtilization: number;
  readonly loopDelayP99Ms: number;
  readonly loopDelayMaxMs: number;
  /** CPU time this process used since the previous measurement (ms). */
  readonly cpuMs: number;
}

const limits = JSON.parse(process.argv[2] ?? '{}') as Partial<HookLimits>;
const clock = new SystemClock();
const config: VigilConfig = {
  file: builtinPath('examples/lab.yaml'),
  builtin: false,
  baseDir: builtinPath('examples'),
  controller: controllerSchema.parse({ pollInterval: '5s' }),
  policiesDir: builtinPath('policies'),
  policiesExplicit: false,
  clusters: [{ config: simProvider.configSchema.parse({ name: 'lab', provider: 'sim', inventory: builtinPath('examples/lab.yaml') }), module: simProvider }],
  warnings: [],
};
const controller = await assembleController({ config, clock, logger: silentLogger(), policies: PolicySet.empty() });
const lab = controller.cluster('lab');
if (!lab) throw new Error('no lab cluster');
let hintsDelivered = 0;
const app = buildServiceHttp(controller);
const hooks = registerHooks(app, {
  auth: { tokens: [BENCH_TOKEN], hmacSecrets: [BENCH_SECRET] },
  resolve: resolverFromInventory(() => controller.clusters.map((c) => ({ name: c.name, hosts: c.status().hosts.map((h) => h.name) })), { cacheMs: 1_000, now: () => clock.now() }),
  onHint: (cluster) => {
    hintsDelivered += 1;
    controller.cluster(cluster)?.requestReconcile();
  },
  clock,
  logger: silentLogger(),
  limits,
});
controller.start();
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
process.send?.({ type: 'ready', port: typeof address === 'object' && address ? address.port : 0 });

const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
let eluMark: EventLoopUtilization = performance.eventLoopUtilization();
let cpuMark = process.cpuUsage();

process.on('message', (m: unknown) => {
  if (m === 'measure') {
    const elu = performance.eventLoopUtilization(eluMark);
    const cpu = process.cpuUsage(cpuMark);
    const delayP99 = loopDelay.percentile(99) / 1e6;
    const delayMax = loopDelay.max / 1e6;
    (globalThis as { gc?: () => void }).gc?.();
    const mem = process.memoryUsage();
    const out: Measurement = {
      type: 'measurement',
      rssMb: mem.rss / 2 ** 20,
      heapUsedMb: mem.heapUsed / 2 ** 20,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
      polls: lab.polls,
      hintsDelivered,
      stats: hooks.stats(),
      eventLoopUtilization: elu.utilization,
      loopDelayP99Ms: delayP99,
      loopDelayMaxMs: delayMax,
      cpuMs: (cpu.user + cpu.system) / 1000,
    };
    loopDelay.reset();
    eluMark = performance.eventLoopUtilization();
    cpuMark = process.cpuUsage();
    process.send?.(out);
  } else if (m === 'exit') {
    void Promise.allSettled([app.close(), controller.close()]).then(() => process.exit(0));
  }
});
