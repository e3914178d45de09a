/**
 * Leader takeover: three `vigil run` replicas on a 3-member etcd and the
 * lab served as its own process. Ten times: a host fails, the leader is
 * SIGKILLed while it follows one of the restarts, and the time is taken
 * from the kill to the new leader's first action reaching the lab (its
 * decision `action-started` or `fencing`, recorded right before the call).
 * The killed replica is replaced before the next round. Target: median
 * under the lease TTL plus one poll interval.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, type BenchLine } from './harness.js';
import { startEtcdCluster } from './takeover/etcd-cluster.js';
import { leaderOf, startLab, startReplica, until, whileFollowing, writeFleetConfig, type Replica } from './takeover/fleet.js';

const KILLS = 10;
const TTL_MS = 2_000;
const POLL_MS = 500;
const HOSTS = ['esx-01', 'esx-02', 'esx-03', 'esx-04', 'esx-05'];
const ACTS = new Set(['action-started', 'fencing']);

export async function run(): Promise<BenchLine[]> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-takeover-'));
  const etcd = await startEtcdCluster(3, { tag: 'bench' });
  const lab = await startLab(dir);
  const config = writeFleetConfig(dir, { labUrl: lab.url, endpoints: etcd.endpoints, prefix: '/vigil-bench/', ttl: `${TTL_MS / 1000}s`, poll: `${POLL_MS}ms` });
  let next = 1;
  const replicas: Replica[] = [];
  const add = async (): Promise<void> => {
    const r = await startReplica(config, `vigil-${next++}`);
    replicas.push(r);
    await until(`${r.name} to be ready`, async () => (await r.readyz()) === 200, 30_000);
  };
  const firstAction: number[] = [];
  const elected: number[] = [];
  try {
    await Promise.all([add(), add(), add()]);
    for (let k = 0; k < KILLS; k++) {
      // The host with the most VMs: a wave long enough to kill the leader in the middle of it.
      const counts = await Promise.all(HOSTS.map(async (h) => ({ h, n: (await lab.running(h)).length })));
      const host = counts.sort((a, b) => b.n - a.n)[0]?.h as string;
      const vms = await lab.running(host);
      const from = (await lab.log()).length;
      await until('a leader', () => leaderOf(replicas), 30_000);
      await lab.post(`/lab/hosts/${host}/fail`);
      const { leader } = await whileFollowing(replicas, lab, { from, timeoutMs: 30_000 }).catch(async (e: unknown) => {
        // Say what the replicas saw: a round that cannot even start is worth a look.
        const seen = await Promise.all(replicas.map(async (r) => ({ name: r.name, cluster: (await r.status().catch(() => undefined))?.clusters[0] })));
        process.stderr.write(`round ${k + 1} (${host}, ${vms.length} VMs): ${JSON.stringify(seen.map((x) => ({ name: x.name, role: x.cluster?.role, recent: x.cluster?.recent.slice(-10).map((d) => `${d.kind} ${d.subject}: ${d.message}`) })))}\n`);
        throw e;
      });
      const killedAt = Date.now();
      await leader.stop('SIGKILL');
      replicas.splice(replicas.indexOf(leader), 1);
      const { gainedAt, actedAt } = await until(
        'the new leader to act',
        async () => {
          const r = await leaderOf(replicas);
          if (!r) return undefined;
          const ds = await r.decisions();
          const gained = ds.find((d) => d.data?.leadership === 'gained' && d.at >= killedAt);
          const acted = ds.find((d) => ACTS.has(d.kind) && d.at >= killedAt);
          return gained && acted ? { gainedAt: gained.at, actedAt: acted.at } : undefined;
        },
        60_000,
        25,
      );
      elected.push(gainedAt - killedAt);
      firstAction.push(actedAt - killedAt);
      await until(`the wave of ${host} to complete`, () => lab.started(vms, from), 90_000);
      const log = (await lab.log()).slice(from);
      if (log.some((e) => e.violation || e.error)) throw new Error(`the lab reports a violation or an error: ${JSON.stringify(log.filter((e) => e.violation || e.error))}`);
      await lab.post(`/lab/hosts/${host}/recover`);
      await add();
      process.stderr.write(`takeover ${k + 1}/${KILLS}: elected after ${gainedAt - killedAt} ms, first action after ${actedAt - killedAt} ms\n`);
    }
  } finally {
    await Promise.allSettled([...replicas.map((r) => r.stop('SIGKILL')), lab.stop('SIGKILL')]);
    await etcd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return [
    {
      name: 'takeover: leader SIGKILLed mid-wave -> new leader first action',
      median_ms: Math.round(median(firstAction)),
      max_ms: Math.max(...firstAction),
      kills: KILLS,
      ttl_ms: TTL_MS,
      poll_ms: POLL_MS,
      elected_median_ms: Math.round(median(elected)),
      elected_max_ms: Math.max(...elected),
      target_ms: TTL_MS + POLL_MS,
    },
  ];
}
