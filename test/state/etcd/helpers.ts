/** In-process replicas on the suite's real etcd: each with its own client, as separate processes would have. */
import { afterEach } from 'vitest';
import { etcdConfigSchema } from '../../../src/state/etcd/config.js';
import { openEtcdState, type EtcdState, type EtcdStateOptions } from '../../../src/state/etcd/open.js';
import { silentLogger, createLogger } from '../../../src/log.js';

const open: EtcdState[] = [];
afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((s) => s.close()));
});

export interface ReplicaOptions {
  readonly endpoints: string[];
  readonly prefix: string;
  readonly clusters: readonly string[];
  readonly name: string;
  readonly ttl?: string;
  readonly compactAfterRecords?: number;
  readonly busy?: EtcdStateOptions['busy'];
}

export async function openReplica(o: ReplicaOptions): Promise<EtcdState> {
  const config = etcdConfigSchema.parse({ endpoints: o.endpoints, prefix: o.prefix, leaseTtl: o.ttl ?? '2s', replicaName: o.name, requestTimeout: '2s', dialTimeout: '3s' });
  const logger = process.env.VIGIL_TEST_LOG ? createLogger({ level: process.env.VIGIL_TEST_LOG }).child({ replica: o.name }) : silentLogger();
  const s = await openEtcdState({ config, baseDir: process.cwd(), clusters: o.clusters, logger, ...(o.compactAfterRecords ? { compactAfterRecords: o.compactAfterRecords } : {}), ...(o.busy ? { busy: o.busy } : {}) });
  open.push(s);
  return s;
}

/** Closes a replica as a killed process would leave it: no resign, its leases run out on their own. */
export function crash(s: EtcdState): void {
  const i = open.indexOf(s);
  if (i >= 0) open.splice(i, 1);
  s.abandon();
}

export async function until<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function leaderOf(replicas: readonly EtcdState[], cluster: string): EtcdState[] {
  return replicas.filter((r) => r.leadership(cluster)?.isLeader());
}
