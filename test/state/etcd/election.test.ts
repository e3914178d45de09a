/**
 * Per-cluster leader election against a real 3-member etcd: exactly one
 * leader per cluster, clusters spread over replicas, a silent or
 * disconnected leader fences itself before a standby can take over, and a
 * clean stop hands over at once.
 */
import { describe, expect, it } from 'vitest';
import type { Lease } from 'etcd3';
import { crash, leaderOf, openReplica, until } from './helpers.js';
import { freshPrefix, sharedEtcd } from '../../etcd/shared.js';

const CLUSTERS = ['alpha', 'beta', 'gamma'];

describe('etcd leader election', () => {
  it('elects exactly one leader per cluster and spreads the clusters over the replicas', async () => {
    const endpoints = sharedEtcd();
    const prefix = freshPrefix('spread');
    const replicas = await Promise.all(['r1', 'r2', 'r3'].map((name) => openReplica({ endpoints, prefix, clusters: CLUSTERS, name })));
    for (const r of replicas) r.start();
    await until('a leader for every cluster', () => CLUSTERS.every((c) => leaderOf(replicas, c).length === 1));
    for (const c of CLUSTERS) expect(leaderOf(replicas, c)).toHaveLength(1);
    // Three replicas that start together take one cluster each.
    const counts = replicas.map((r) => CLUSTERS.filter((c) => r.leadership(c)?.isLeader()).length);
    expect(counts.sort()).toEqual([1, 1, 1]);
    // Standbys name the leader, read from etcd.
    for (const c of CLUSTERS) {
      const leader = leaderOf(replicas, c)[0];
      await until(`standbys of ${c} to name ${leader?.replica}`, () =>
        replicas.filter((r) => r !== leader).every((r) => {
          const d = r.leadership(c)?.describe();
          return d?.role === 'standby' && d.leader === leader?.replica;
        }),
      );
      expect(leader?.leadership(c)?.describe()).toEqual({ role: 'leader', leader: leader?.replica });
    }
  });

  it('a leader whose keepalives go unanswered stops acting before a standby can be elected', async () => {
    const endpoints = sharedEtcd();
    const prefix = freshPrefix('silent');
    const a = await openReplica({ endpoints, prefix, clusters: ['c'], name: 'a' });
    a.start(0);
    await until('a to lead', () => a.leadership('c')?.isLeader());
    const b = await openReplica({ endpoints, prefix, clusters: ['c'], name: 'b' });
    b.start(0);
    await until('b to campaign', async () => Object.keys(await b.client.getAll().prefix(b.layout.electionPrefix('c')).strings()).length === 2);
    // A process that stops renewing, with no error anywhere: only its own count of the TTL can stop it.
    const campaign = (a.elections.leadership('c') as unknown as { campaign: { lease: Lease } }).campaign;
    campaign.lease.release();
    const stoppedAt = Date.now();
    let aLostAt: number | undefined;
    let bGainedAt: number | undefined;
    while (Date.now() - stoppedAt < 8_000 && bGainedAt === undefined) {
      const [al, bl] = [a.leadership('c')?.isLeader(), b.leadership('c')?.isLeader()];
      expect(al && bl).toBeFalsy();
      if (!al) aLostAt ??= Date.now();
      if (bl) bGainedAt = Date.now();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(bGainedAt).toBeDefined();
    expect(aLostAt).toBeDefined();
    expect(aLostAt as number).toBeLessThan(bGainedAt as number);
    // The deposed leader's fencing token no longer opens the journal.
    await expect(a.journal.append({ type: 'host-back', cluster: 'c', host: 'h1', at: 1 })).rejects.toMatchObject({ code: 'VIGIL_E_NOT_LEADER' });
    await expect(b.journal.append({ type: 'host-back', cluster: 'c', host: 'h1', at: 2 })).resolves.toBeUndefined();
  });

  it('a leader that loses its connection to etcd fences itself at once; a standby takes over after the TTL', async () => {
    const endpoints = sharedEtcd();
    const prefix = freshPrefix('cut');
    const a = await openReplica({ endpoints, prefix, clusters: ['c'], name: 'a' });
    a.start(0);
    await until('a to lead', () => a.leadership('c')?.isLeader());
    const b = await openReplica({ endpoints, prefix, clusters: ['c'], name: 'b' });
    b.start(0);
    await new Promise((r) => setTimeout(r, 200));
    const cut = Date.now();
    crash(a);
    expect(a.leadership('c')?.isLeader()).toBe(false);
    await until('b to lead', () => b.leadership('c')?.isLeader(), 8_000);
    // Not before the lease could have run out on its own (about 2/3 of the TTL at the earliest, see packages.md).
    expect(Date.now() - cut).toBeGreaterThan(1_000);
  });

  it('a replica that stops cleanly hands its clusters over at once', async () => {
    const endpoints = sharedEtcd();
    const prefix = freshPrefix('stop');
    const a = await openReplica({ endpoints, prefix, clusters: ['c'], name: 'a', ttl: '10s' });
    a.start(0);
    await until('a to lead', () => a.leadership('c')?.isLeader());
    const b = await openReplica({ endpoints, prefix, clusters: ['c'], name: 'b', ttl: '10s' });
    b.start(0);
    await until('b to campaign', async () => Object.keys(await b.client.getAll().prefix(b.layout.electionPrefix('c')).strings()).length === 2);
    const t0 = Date.now();
    await a.close();
    await until('b to lead', () => b.leadership('c')?.isLeader(), 5_000);
    // Far less than the 10 s TTL: resigning deletes the key.
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it('hands an idle cluster to its preferred replica when that one joins later, never a busy one', async () => {
    const endpoints = sharedEtcd();
    const prefix = freshPrefix('handover');
    let busy = true;
    const a = await openReplica({ endpoints, prefix, clusters: ['a', 'b'], name: 'r1', busy: (c) => c === 'b' && busy });
    a.start(0);
    await until('r1 to lead both', () => a.leadership('a')?.isLeader() && a.leadership('b')?.isLeader());
    const b = await openReplica({ endpoints, prefix, clusters: ['a', 'b'], name: 'r2' });
    b.start(0);
    // Clusters and replicas by name: "a" is r1's, "b" is r2's. r1 hands over only after leading for 3 TTL, r2 being up for 2 TTL, and
    // "b" being quiet: while it is busy, nothing moves.
    await new Promise((r) => setTimeout(r, 9_000));
    expect(a.leadership('b')?.isLeader()).toBe(true);
    busy = false;
    await until('r2 to lead b', () => b.leadership('b')?.isLeader(), 8_000);
    expect(a.leadership('a')?.isLeader()).toBe(true);
    expect(a.leadership('b')?.isLeader()).toBe(false);
  }, 30_000);

  it('refuses a second live replica with the same name', async () => {
    const endpoints = sharedEtcd();
    const prefix = freshPrefix('dup');
    await openReplica({ endpoints, prefix, clusters: ['c'], name: 'same' });
    await expect(openReplica({ endpoints, prefix, clusters: ['c'], name: 'same' })).rejects.toThrow(/another live replica is registered in etcd as "same"/);
  }, 15_000);
});
