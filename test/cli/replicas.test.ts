/**
 * Three `vigil run` replicas on one config with `state.etcd`, the lab as
 * its own process with its Redfish BMCs, and a real etcd: the leader
 * killed in the middle of a restart wave, the leader paused past its
 * lease, etcd members lost. The lab's own log is the judge: every VM of
 * the failed host started exactly once, never a `violation`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Decision } from '../../src/decisions.js';
import { startEtcdCluster, type EtcdCluster } from '../../bench/takeover/etcd-cluster.js';
import { leaderOf, leadersOf, startLab, startReplica, until, vmsOn, whileFollowing, writeFleetConfig, type Lab, type LabLogEntry, type Replica } from '../../bench/takeover/fleet.js';
import axios from 'axios';
import { ensureBuilt, vigil } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { freshPrefix, sharedEtcd } from '../etcd/shared.js';

const TTL_MS = 2_000;
const POLL_MS = 300;

const procs: { stop(sig?: NodeJS.Signals): Promise<void> }[] = [];
const clusters: EtcdCluster[] = [];
afterEach(async () => {
  await Promise.allSettled(procs.splice(0).map((p) => p.stop('SIGKILL')));
  await Promise.allSettled(clusters.splice(0).map((c) => c.stop()));
});

async function fleet(endpoints: readonly string[], n = 3): Promise<{ lab: Lab; replicas: Replica[]; config: string }> {
  ensureBuilt();
  const dir = tempDir();
  const lab = await startLab(dir);
  procs.push(lab);
  const config = writeFleetConfig(dir, { labUrl: lab.url, endpoints, prefix: freshPrefix('fleet'), ttl: `${TTL_MS / 1000}s`, poll: `${POLL_MS}ms` });
  const replicas = await Promise.all(Array.from({ length: n }, (_, i) => startReplica(config, `vigil-${i + 1}`)));
  procs.push(...replicas);
  await Promise.all(replicas.map((r) => until(`${r.name} to be ready`, async () => (await r.readyz()) === 200, 20_000)));
  return { lab, replicas, config };
}

/** Every VM of the host started once, nothing started twice, no violation, no failed operation. */
function judge(log: readonly LabLogEntry[], expectedStarts: readonly string[]): void {
  expect(log.filter((e) => e.violation)).toEqual([]);
  expect(log.filter((e) => e.error)).toEqual([]);
  expect(log.filter((e) => e.op === 'start').map((e) => e.vm).sort()).toEqual([...expectedStarts].sort());
}

const ACTS = new Set(['action-started', 'fencing', 'fenced']);

describe('replicas on etcd', () => {
  it('a leader killed in the middle of a restart wave: another takes over within TTL plus a poll and finishes the wave, each VM once', async () => {
    const { lab, replicas, config } = await fleet(sharedEtcd());
    await until('a leader', () => leaderOf(replicas));
    await lab.post('/lab/hosts/esx-02/fail');
    const { leader: first } = await whileFollowing(replicas, lab);
    const killedAt = Date.now();
    await first.stop('SIGKILL');
    const rest = replicas.filter((r) => r !== first);
    const next = await until('another replica to lead', () => leaderOf(rest), 15_000);
    await until('the wave to complete', () => lab.started(vmsOn('esx-02')), 30_000);
    judge(await lab.log(), vmsOn('esx-02'));
    // The new leader's own account: when it took over, and that it acted after.
    const decisions = await next.decisions();
    const gained = decisions.find((d) => d.data?.leadership === 'gained' && d.at >= killedAt) as Decision;
    expect(gained).toBeDefined();
    expect(gained.at - killedAt).toBeLessThan(TTL_MS + POLL_MS + 1_500);
    expect(decisions.some((d) => d.kind === 'action-started' && d.at >= gained.at)).toBe(true);
    // Status on a standby names the leader.
    const standby = rest.find((r) => r !== next) as Replica;
    await until('the standby to name the leader', async () => (await standby.status()).clusters[0]?.leader === next.name);
    expect((await standby.status()).clusters[0]?.role).toBe('standby');
    // `vigil status` (here asking the standby, as an operator on its machine would) says who leads.
    const shown = vigil(['status', '--config', config], { env: { VIGIL_LISTEN: standby.url.replace('http://', ''), VIGIL_REPLICA: 'cli' } });
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`Led by ${next.name}; this replica: standby`);
    // The new leader counted its gain.
    const metrics = (await axios.get<string>(`${next.url}/metrics`, { responseType: 'text' })).data;
    expect(metrics).toMatch(/vigil_leadership_changes_total\{cluster="lab",change="gained"\} 1/);
  }, 90_000);

  it('a leader paused past its lease does not act when it resumes', async () => {
    const { lab, replicas } = await fleet(sharedEtcd());
    await until('a leader', () => leaderOf(replicas));
    await lab.post('/lab/hosts/esx-03/fail');
    const { leader: paused } = await whileFollowing(replicas, lab);
    paused.proc.kill('SIGSTOP');
    const rest = replicas.filter((r) => r !== paused);
    await until('another replica to lead', () => leaderOf(rest), 15_000);
    await until('the wave to complete', () => lab.started(vmsOn('esx-03')), 30_000);
    const before = (await lab.log()).length;
    const resumedAt = Date.now();
    paused.proc.kill('SIGCONT');
    // Give it its timers, a few polls and a lease TTL to do anything it still meant to.
    await until('the paused replica to answer again', async () => (await paused.readyz()) !== 0, 10_000);
    await new Promise((r) => setTimeout(r, TTL_MS + 4 * POLL_MS));
    const own = await paused.decisions();
    expect(own.filter((d) => ACTS.has(d.kind) && d.at >= resumedAt)).toEqual([]);
    expect(own.some((d) => d.data?.leadership === 'lost' && d.at >= resumedAt)).toBe(true);
    expect((await paused.status()).clusters[0]?.role).toBe('standby');
    const log = await lab.log();
    expect(log.slice(before).filter((e) => e.op === 'start' || e.op === 'power-off-host')).toEqual([]);
    judge(log, vmsOn('esx-03'));
  }, 90_000);

  it('work goes on with one etcd member lost; with two lost, actions stop and no replica is ready; they resume with quorum', async () => {
    const etcd = await startEtcdCluster(3, { tag: 'loss' });
    clusters.push(etcd);
    const { lab, replicas } = await fleet(etcd.endpoints);
    await until('a leader', () => leaderOf(replicas));
    await etcd.members[0]?.stop();
    await lab.post('/lab/hosts/esx-04/fail');
    await until('the wave to complete with one member down', () => lab.started(vmsOn('esx-04')), 40_000);
    judge(await lab.log(), vmsOn('esx-04'));

    await etcd.members[1]?.stop();
    const lostAt = Date.now();
    for (const r of replicas) await until(`${r.name} to report not ready`, async () => (await r.readyz()) === 503, 15_000);
    // A leader may hold on until its lease runs out by its own count (etcd's last leader can renew it for a moment after losing quorum).
    await until('no replica to lead', async () => (await leadersOf(replicas)).length === 0, 2 * TTL_MS);
    const before = (await lab.log()).length;
    const onEsx05 = await lab.running('esx-05');
    await lab.post('/lab/hosts/esx-05/fail');
    // Long enough to detect the failure several times over; nothing may be fenced or started.
    await new Promise((r) => setTimeout(r, TTL_MS + 4 * POLL_MS));
    expect((await lab.log()).slice(before).filter((e) => e.op !== 'fail-host')).toEqual([]);
    for (const r of replicas) {
      const acted = (await r.decisions()).filter((d) => ACTS.has(d.kind) && d.at >= lostAt + TTL_MS);
      expect(acted).toEqual([]);
    }

    etcd.members[1]?.start();
    await until('a leader again', () => leaderOf(replicas), 20_000);
    await until('the second wave to complete', () => lab.started(onEsx05, before), 40_000);
    const log = await lab.log();
    judge(log.slice(0, before), vmsOn('esx-04'));
    judge(log.slice(before), onEsx05);
    for (const r of replicas) await until(`${r.name} to be ready again`, async () => (await r.readyz()) === 200, 10_000);
  }, 120_000);
});
