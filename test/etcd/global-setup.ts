/**
 * Vitest global setup: one 3-member etcd cluster on loopback for every
 * test file that needs it (`inject('etcd')`), stopped at the end. Each test
 * works under its own key prefix, so files share it safely. Tests that stop
 * members start a cluster of their own (cluster.ts). Without etcd
 * installed, the endpoints are empty and those tests fail saying so.
 */
import type { TestProject } from 'vitest/node';
import { etcdBinary, startEtcdCluster, type EtcdCluster } from '../../bench/takeover/etcd-cluster.js';

declare module 'vitest' {
  export interface ProvidedContext {
    etcd: { endpoints: string[]; error?: string };
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let cluster: EtcdCluster | undefined;
  try {
    etcdBinary();
    cluster = await startEtcdCluster(3, { tag: 'shared' });
    project.provide('etcd', { endpoints: cluster.endpoints });
  } catch (e) {
    project.provide('etcd', { endpoints: [], error: (e as Error).message });
  }
  return async () => {
    await cluster?.stop();
  };
}
