/** Builds vsphere providers against a running vcsim harness. */
import { SystemClock } from '../../../src/clock/clock.js';
import { silentLogger, type Logger } from '../../../src/log.js';
import vsphereModule, { type VsphereProvider } from '../../../providers/vsphere/index.js';
import type { Vcsim } from '../../../bench/vsphere/vcsim.js';

export const DATACENTER = 'DC0';
export const CLUSTER = 'DC0_C0';

export async function providerFor(sim: Vcsim, over: Record<string, unknown> = {}, purpose: 'service' | 'oneshot' = 'service', logger: Logger = silentLogger()): Promise<VsphereProvider> {
  const config = vsphereModule.configSchema.parse({
    name: 'vc',
    provider: 'vsphere',
    url: sim.url,
    username: sim.user,
    password: sim.password,
    datacenter: DATACENTER,
    cluster: CLUSTER,
    taskPollInterval: '50ms',
    timeout: '10s',
    ...over,
  });
  return (await vsphereModule.create(config, { clock: new SystemClock(), logger, baseDir: '.', purpose })) as VsphereProvider;
}

/** Polls `fn` until it returns a value, for at most `timeoutMs`. */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 10_000, stepMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
